//! Helpers shared by the spec-language tests: a valid base spec, targeted edits of it, and
//! running the real entry point (`check_specs`) on the result.

#![allow(dead_code)] // Each test binary uses its own subset.

use std::fs;
use std::path::{Path, PathBuf};

use shepherd_core::diagnostic::{Diagnostic, Severity};
use shepherd_core::lint::LintConfig;
use shepherd_core::validate::Report;

/// A valid Function spec that no lint fires on. Line numbers matter to the tests that
/// assert positions; keep it stable.
pub const BASE: &str = "\
apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata:
  name: orders-api
spec:
  code:
    s3:
      bucket: orders-artifacts
      key: orders/orders-1.0.0.zip
  handler: app.handler
  runtime: python3.12
  role: arn:aws:iam::123456789012:role/orders-api
  tracing: Active
  logging:
    format: JSON
  alarms:
    errors: {}
";

/// A spec being edited: YAML in block style, two spaces per level.
#[derive(Debug, Clone)]
pub struct Spec {
    lines: Vec<String>,
}

impl Spec {
    pub fn base() -> Self {
        Self::parse(BASE)
    }

    pub fn parse(text: &str) -> Self {
        Self {
            lines: text.lines().map(str::to_owned).collect(),
        }
    }

    /// Sets the field at a dotted `path` (`spec.logging.format`) to `value`, raw YAML. A
    /// scalar or flow value is written after the key (`memory: 64`, `vpc: {subnetIds: []}`);
    /// a block (several lines, `KEY: value` or `- item`) becomes an indented block under it. Missing parents are
    /// created as mappings, at the end of their parent.
    pub fn set(mut self, path: &str, value: &str) -> Self {
        let keys: Vec<&str> = path.split('.').collect();
        let (start, end, indent) = self.locate_or_create(&keys);
        let key = keys[keys.len() - 1];
        let pad = " ".repeat(indent);
        let mut replacement = Vec::new();
        if is_block(value) {
            replacement.push(format!("{pad}{key}:"));
            for line in value.lines() {
                replacement.push(format!("{pad}  {line}"));
            }
        } else if value.is_empty() {
            replacement.push(format!("{pad}{key}:"));
        } else {
            replacement.push(format!("{pad}{key}: {value}"));
        }
        self.lines.splice(start..end, replacement);
        self
    }

    /// Removes the field at a dotted `path`, with its nested block. Panics when absent, so
    /// that a test cannot silently edit nothing.
    pub fn remove(mut self, path: &str) -> Self {
        let keys: Vec<&str> = path.split('.').collect();
        let (start, end) = self
            .find(&keys)
            .unwrap_or_else(|| panic!("no field {path} to remove in:\n{}", self.text()));
        self.lines.drain(start..end);
        self
    }

    /// Appends raw text (for example a second document).
    pub fn append(mut self, text: &str) -> Self {
        self.lines.extend(text.lines().map(str::to_owned));
        self
    }

    pub fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }

    /// The line range of the field at `keys` (its key line and nested block).
    fn find(&self, keys: &[&str]) -> Option<(usize, usize)> {
        let (mut start, mut end) = (0, self.lines.len());
        for (depth, key) in keys.iter().enumerate() {
            let line = self.child(start, end, depth * 2, key)?;
            start = line;
            end = self.block_end(line, depth * 2);
        }
        Some((start, end))
    }

    /// Finds the field, creating missing parents; returns its line range (empty when the
    /// field is new) and its indentation.
    fn locate_or_create(&mut self, keys: &[&str]) -> (usize, usize, usize) {
        let (mut start, mut end) = (0, self.lines.len());
        for (depth, key) in keys.iter().enumerate() {
            let indent = depth * 2;
            let is_last = depth == keys.len() - 1;
            match self.child(start, end, indent, key) {
                Some(line) => {
                    if is_last {
                        return (line, self.block_end(line, indent), indent);
                    }
                    let value = self.lines[line].trim_start()[key.len() + 1..].trim();
                    assert!(
                        value.is_empty(),
                        "cannot edit inside the one-line value of {key}: {value}"
                    );
                    start = line;
                    end = self.block_end(line, indent);
                }
                None => {
                    if is_last {
                        return (end, end, indent);
                    }
                    self.lines
                        .insert(end, format!("{}{key}:", " ".repeat(indent)));
                    start = end;
                    end += 1;
                }
            }
        }
        unreachable!("the loop returns at the last key")
    }

    /// The line of `key:` at `indent` within `[start, end)`, skipping `start` itself when it
    /// is the parent's own line.
    fn child(&self, start: usize, end: usize, indent: usize, key: &str) -> Option<usize> {
        let pad = " ".repeat(indent);
        let first = if indent == 0 { start } else { start + 1 };
        (first..end).find(|&i| {
            let line = &self.lines[i];
            line.strip_prefix(&pad)
                .and_then(|rest| rest.strip_prefix(key))
                .is_some_and(|rest| rest.starts_with(':'))
                && !line[indent..].starts_with(' ')
        })
    }

    /// One past the last line of the block that starts at `line` (indented `indent`).
    fn block_end(&self, line: usize, indent: usize) -> usize {
        let mut i = line + 1;
        while i < self.lines.len() {
            let text = &self.lines[i];
            let content = text.trim_start();
            let depth = text.len() - content.len();
            if !content.is_empty() && (depth <= indent || content.starts_with("---")) {
                break;
            }
            i += 1;
        }
        i
    }
}

/// Whether a raw YAML value must go on the lines under its key.
fn is_block(value: &str) -> bool {
    if value.contains('\n') || value.starts_with("- ") {
        return true;
    }
    match value.chars().next() {
        Some('{' | '[') => false,
        // A quoted scalar, or a quoted key of a one-line mapping (`"_X": 1`).
        Some(quote @ ('"' | '\'')) => value[1..]
            .find(quote)
            .is_some_and(|end| value[end + 2..].starts_with(':')),
        _ => value.contains(": "),
    }
}

/// A scratch directory holding spec files.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` at `name` (folders created) and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).expect("create folders");
        }
        fs::write(&path, contents).expect("write file");
        path
    }
}

/// Checks one spec text, written as `spec.yaml` in a fresh folder.
pub fn check_text(text: &str) -> Report {
    check_text_with(text, &LintConfig::default())
}

pub fn check_text_with(text: &str, config: &LintConfig) -> Report {
    let scratch = Scratch::new();
    let file = scratch.write("spec.yaml", text);
    let report = shepherd_core::check_specs(std::slice::from_ref(&file), config);
    for diagnostic in &report.diagnostics {
        assert_eq!(diagnostic.file, file, "a diagnostic names another file");
    }
    report
}

/// A diagnostic as shepherd prints it, without its `FILE:` prefix:
/// `LINE:COLUMN: [warning: ][PATH: ]MESSAGE[ [lint-id]]`.
pub fn render(diagnostic: &Diagnostic) -> String {
    let full = diagnostic.to_string();
    let prefix = format!("{}:", diagnostic.file.display());
    full.strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("{full:?} does not start with {prefix:?}"))
        .to_owned()
}

/// The same without the position: `[warning: ][PATH: ]MESSAGE[ [lint-id]]`.
pub fn render_short(diagnostic: &Diagnostic) -> String {
    let full = render(diagnostic);
    let position = format!(
        "{}:{}: ",
        diagnostic.location.line, diagnostic.location.column
    );
    full.strip_prefix(&position)
        .unwrap_or_else(|| panic!("{full:?} does not start with {position:?}"))
        .to_owned()
}

/// Asserts that `report` holds exactly the diagnostics `expected`, in reading order. An
/// expectation that starts with a digit is matched with its position (`14:5: spec.memory:
/// ...`); any other without it (`spec.memory: ...`).
pub fn assert_diagnostics(context: &str, report: &Report, expected: &[&str]) {
    if let Err(message) = compare_diagnostics(context, report, expected) {
        panic!("{message}");
    }
}

/// [`assert_diagnostics`] as a result, so that a table can report every failing row.
pub fn compare_diagnostics(
    context: &str,
    report: &Report,
    expected: &[&str],
) -> Result<(), String> {
    let actual: Vec<String> = report
        .diagnostics
        .iter()
        .zip(expected.iter().chain(std::iter::repeat(&"")))
        .map(|(d, e)| {
            if e.starts_with(|c: char| c.is_ascii_digit()) {
                render(d)
            } else {
                render_short(d)
            }
        })
        .collect();
    if actual == expected {
        return Ok(());
    }
    Err(format!(
        "{context}\n  actual:   {actual:#?}\n  expected: {expected:#?}"
    ))
}

/// Errors and warnings of a report, counted.
pub fn counts(report: &Report) -> (usize, usize) {
    let errors = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    (errors, report.diagnostics.len() - errors)
}
