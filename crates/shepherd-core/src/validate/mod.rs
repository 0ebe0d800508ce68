//! Validation of spec documents: schema (types, ranges, unknown fields), cross-field rules,
//! and names unique across the whole spec repository. Every error is reported, each with
//! its file, line, column and field path.

mod control;
mod payload;
mod rules;
mod schema_check;
mod suggest;
pub mod targets;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use rules::ENVIRONMENT_LIMIT_BYTES;
pub use schema_check::{Issue, SchemaChecker};
pub use suggest::closest;

use crate::diagnostic::{Diagnostic, FieldPath, Location, PathSegment, Severity};
use crate::source::{LoadedSources, Node, SourceDocument};
use crate::spec::{FunctionDocument, json_schema};

/// A document that passed validation, with where it came from.
#[derive(Debug, Clone)]
pub struct ValidFunction {
    pub file: PathBuf,
    pub node: Node,
    pub document: FunctionDocument,
    /// The folder its local code must stay inside.
    pub root: PathBuf,
}

impl ValidFunction {
    pub fn name(&self) -> &str {
        &self.document.metadata.name
    }

    /// The position of a field, for diagnostics about it.
    pub fn locate(&self, path: &FieldPath) -> Location {
        self.node.locate(path)
    }
}

/// The outcome of validating a set of sources.
#[derive(Debug, Default)]
pub struct Report {
    pub files: usize,
    pub documents: usize,
    pub functions: Vec<ValidFunction>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// True when there is no error: the whole set may be applied.
    pub fn is_valid(&self) -> bool {
        self.errors() == 0
    }

    /// Puts diagnostics in reading order: by file, line and column.
    pub fn sort(&mut self) {
        self.diagnostics
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    }
}

fn checker() -> &'static SchemaChecker {
    static CHECKER: OnceLock<SchemaChecker> = OnceLock::new();
    CHECKER.get_or_init(|| SchemaChecker::new(json_schema()))
}

/// Validates every loaded document; read errors of the sources are carried over.
pub fn validate(loaded: LoadedSources) -> Report {
    let mut report = Report {
        files: loaded.files,
        documents: loaded.documents.len(),
        functions: Vec::new(),
        diagnostics: loaded.diagnostics,
    };
    let mut first_definition: HashMap<(String, String), (PathBuf, Location)> = HashMap::new();
    for document in loaded.documents {
        check_unique_name(&document, &mut first_definition, &mut report.diagnostics);
        if let Some(valid) = validate_document(document, &mut report.diagnostics) {
            report.functions.push(valid);
        }
    }
    report
}

/// Function names are unique within a target: two documents for one function would fight.
/// Here the target is the one the document names (or none); [`targets::select`] checks
/// again once each function's target is resolved.
fn check_unique_name(
    document: &SourceDocument,
    seen: &mut HashMap<(String, String), (PathBuf, Location)>,
    out: &mut Vec<Diagnostic>,
) {
    let metadata = document.node.get("metadata");
    let Some(name_node) = metadata.and_then(|m| m.get("name")) else {
        return;
    };
    let Some(name) = name_node.as_str() else {
        return;
    };
    let target = metadata
        .and_then(|m| m.get("target"))
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    let key = (target.to_owned(), name.to_owned());
    match seen.get(&key) {
        Some((file, location)) => out.push(Diagnostic::error(
            &document.file,
            name_node.location,
            FieldPath::keys(&["metadata", "name"]),
            format!(
                "function \"{name}\" is already defined at {}:{}:{}",
                file.display(),
                location.line,
                location.column
            ),
        )),
        None => {
            seen.insert(key, (document.file.clone(), name_node.location));
        }
    }
}

fn validate_document(document: SourceDocument, out: &mut Vec<Diagnostic>) -> Option<ValidFunction> {
    let SourceDocument { file, node, root } = document;
    let issues = checker().check(&node);
    let mut json = node.to_json();
    for issue in &issues {
        remove_path(&mut json, &issue.path);
    }
    let schema_valid = issues.is_empty();
    out.extend(
        issues
            .iter()
            .map(|i| Diagnostic::error(&file, i.location, i.path.clone(), i.message.clone())),
    );
    // With the faulty fields taken out, the rest of the document may still deserialize, so
    // the cross-field rules can report their errors in the same run.
    let parsed: FunctionDocument = match serde_json::from_value(json) {
        Ok(parsed) => parsed,
        Err(_) if !schema_valid => return None,
        Err(err) => {
            // The schema admits only what the types accept, so this is a gap between the
            // two; report it rather than lose it.
            out.push(Diagnostic::error(
                &file,
                node.location,
                FieldPath::root(),
                err.to_string(),
            ));
            return None;
        }
    };
    let violations: Vec<_> = rules::check(&parsed, file.parent().unwrap_or(Path::new("")), &root)
        .into_iter()
        .chain(control::check(&parsed.spec))
        .filter(|v| !issues.iter().any(|i| related(&i.path, &v.path)))
        .collect();
    if !schema_valid || !violations.is_empty() {
        out.extend(violations.into_iter().map(|v| {
            let location = node.locate(&v.path);
            Diagnostic::error(&file, location, v.path, v.message)
        }));
        return None;
    }
    let mut parsed = parsed;
    if let Some(traffic) = parsed
        .spec
        .rollout
        .as_mut()
        .and_then(|r| r.traffic.as_mut())
        && let Some(payload_file) = &traffic.payload_file
    {
        // Read into the spec once it is valid, so that the desired state carries the event
        // (and its digest changes with the file).
        let spec_dir = file.parent().unwrap_or(Path::new(""));
        match payload::read_payload_file(&root, spec_dir, payload_file) {
            Ok(payload) => traffic.payload = Some(payload),
            Err(message) => {
                let path = FieldPath::keys(&["spec", "rollout", "traffic", "payloadFile"]);
                out.push(Diagnostic::error(&file, node.locate(&path), path, message));
                return None;
            }
        }
    }
    Some(ValidFunction {
        file,
        node,
        document: parsed,
        root,
    })
}

/// Whether one path lies inside the other: a rule about a field the schema already
/// rejected would only repeat (or guess at) the same problem.
fn related(a: &FieldPath, b: &FieldPath) -> bool {
    let (a, b) = (a.segments(), b.segments());
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

fn remove_path(json: &mut serde_json::Value, path: &FieldPath) {
    let Some((last, parents)) = path.segments().split_last() else {
        *json = serde_json::Value::Null;
        return;
    };
    let mut current = json;
    for segment in parents {
        let next = match (segment, current) {
            (PathSegment::Key(key), serde_json::Value::Object(map)) => map.get_mut(key),
            (PathSegment::Index(i), serde_json::Value::Array(items)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(next) => current = next,
            None => return,
        }
    }
    match (last, current) {
        (PathSegment::Key(key), serde_json::Value::Object(map)) => {
            map.remove(key);
        }
        // Removing would shift the indices of later items; null fails deserialization of
        // the list instead, which is the safe outcome.
        (PathSegment::Index(i), serde_json::Value::Array(items)) => {
            if let Some(item) = items.get_mut(*i) {
                *item = serde_json::Value::Null;
            }
        }
        _ => {}
    }
}
