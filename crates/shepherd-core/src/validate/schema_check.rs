//! Checks a located YAML document against the JSON Schema generated from the spec types,
//! reporting every violation with its position, not just the first.
//!
//! Only the keywords that schemars emits for shepherd's types are interpreted: `$ref`,
//! `anyOf`/`oneOf`, `enum`, `const`, `type`, `properties`, `required`,
//! `additionalProperties`, `items`, `minItems`/`maxItems`, `minimum`/`maximum`, `format`
//! (integer widths), `minLength`/`maxLength` and `pattern`, plus two extensions of ours:
//! `x-expected` (how to describe a valid value) and `x-unit` (the unit of a number).

use std::collections::HashMap;

use regex::Regex;
use serde_json::Value as Json;

use super::suggest::closest;
use crate::diagnostic::{FieldPath, Location};
use crate::source::{Node, Value};

/// One schema violation.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub path: FieldPath,
    pub location: Location,
    pub message: String,
}

/// A compiled schema, ready to check documents.
pub struct SchemaChecker {
    root: Json,
    patterns: HashMap<String, Regex>,
}

impl SchemaChecker {
    /// Compiles every `pattern` of the schema once.
    pub fn new(root: Json) -> Self {
        let mut patterns = HashMap::new();
        collect_patterns(&root, &mut patterns);
        Self { root, patterns }
    }

    /// Every violation in `node`, in document order.
    pub fn check(&self, node: &Node) -> Vec<Issue> {
        let mut issues = Vec::new();
        let mut path = FieldPath::root();
        self.check_node(&self.root, node, &mut path, &mut issues);
        issues
    }

    fn resolve<'a>(&'a self, mut schema: &'a Json) -> &'a Json {
        // schemars only emits local references of the form `#/$defs/Name`.
        while let Some(reference) = schema.get("$ref").and_then(Json::as_str) {
            let name = reference.trim_start_matches("#/$defs/");
            match self.root.get("$defs").and_then(|d| d.get(name)) {
                Some(target) => schema = target,
                None => break,
            }
        }
        schema
    }

    fn check_node(&self, schema: &Json, node: &Node, path: &mut FieldPath, out: &mut Vec<Issue>) {
        let schema = self.resolve(schema);
        let alternatives = schema.get("anyOf").or_else(|| schema.get("oneOf"));
        if let Some(Json::Array(branches)) = alternatives {
            self.check_alternatives(schema, branches, node, path, out);
            return;
        }
        if let Some(Json::Array(allowed)) = schema.get("enum") {
            self.check_enum(allowed, node, path, out);
            return;
        }
        if let Some(expected) = schema.get("const") {
            self.check_enum(std::slice::from_ref(expected), node, path, out);
            return;
        }
        if let Some(types) = schema.get("type")
            && !type_matches(types, &node.value)
        {
            let expected = expectation(schema, types);
            out.push(issue(
                path,
                node.location,
                format!("expected {expected}, found {}", node.value.describe()),
            ));
            return;
        }
        match &node.value {
            Value::Mapping(_) => self.check_object(schema, node, path, out),
            Value::Sequence(items) => self.check_array(schema, items, node.location, path, out),
            Value::Int(i) => check_number(schema, *i as f64, &node.value, node.location, path, out),
            Value::Float(x) => check_number(schema, *x, &node.value, node.location, path, out),
            Value::String(s) => self.check_string(schema, s, node.location, path, out),
            Value::Null | Value::Bool(_) => {}
        }
    }

    fn check_alternatives(
        &self,
        schema: &Json,
        branches: &[Json],
        node: &Node,
        path: &mut FieldPath,
        out: &mut Vec<Issue>,
    ) {
        let resolved: Vec<&Json> = branches.iter().map(|b| self.resolve(b)).collect();
        let values: Option<Vec<Json>> = resolved
            .iter()
            .map(|b| {
                b.get("const")
                    .cloned()
                    .map(|c| vec![c])
                    .or_else(|| b.get("enum").and_then(Json::as_array).cloned())
            })
            .collect::<Option<Vec<_>>>()
            .map(|v| v.into_iter().flatten().collect());
        if let Some(values) = values {
            self.check_enum(&values, node, path, out);
            return;
        }
        let mut best: Option<Vec<Issue>> = None;
        for branch in resolved {
            let mut attempt = Vec::new();
            self.check_node(branch, node, path, &mut attempt);
            if attempt.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|b| attempt.len() < b.len()) {
                best = Some(attempt);
            }
        }
        match best {
            Some(issues) => out.extend(issues),
            None => out.push(issue(
                path,
                node.location,
                format!("{} is not allowed here", node.value.describe()),
            )),
        }
        let _ = schema;
    }

    fn check_enum(&self, allowed: &[Json], node: &Node, path: &FieldPath, out: &mut Vec<Issue>) {
        let value = node.to_json();
        if allowed.contains(&value) {
            return;
        }
        let names: Vec<&str> = allowed.iter().filter_map(Json::as_str).collect();
        let suggestion = node
            .as_str()
            .and_then(|s| closest(s, names.iter().copied()));
        let message = match (&node.value, suggestion) {
            (Value::String(s), Some(suggestion)) => {
                format!("\"{s}\" is not a valid value; did you mean \"{suggestion}\"?")
            }
            (Value::String(s), None) => format!("\"{s}\" is not one of {}", names.join(", ")),
            (other, _) => format!(
                "expected one of {}, found {}",
                names.join(", "),
                other.describe()
            ),
        };
        out.push(issue(path, node.location, message));
    }

    fn check_object(&self, schema: &Json, node: &Node, path: &mut FieldPath, out: &mut Vec<Issue>) {
        let Value::Mapping(entries) = &node.value else {
            return;
        };
        let properties = schema.get("properties").and_then(Json::as_object);
        let additional = schema.get("additionalProperties");
        for entry in entries {
            path.push_key(&entry.key);
            match properties.and_then(|p| p.get(&entry.key)) {
                Some(property) => self.check_node(property, &entry.value, path, out),
                None => match additional {
                    Some(Json::Bool(false)) => {
                        // Sorted: the map's order depends on serde_json features.
                        let mut known = properties
                            .map(|p| p.keys().map(String::as_str).collect::<Vec<_>>())
                            .unwrap_or_default();
                        known.sort_unstable();
                        let message = match closest(&entry.key, known.iter().copied()) {
                            Some(suggestion) => {
                                format!("unknown field; did you mean \"{suggestion}\"?")
                            }
                            None => format!("unknown field; expected one of {}", known.join(", ")),
                        };
                        out.push(issue(path, entry.key_location, message));
                    }
                    Some(extra @ Json::Object(_)) => {
                        self.check_node(extra, &entry.value, path, out)
                    }
                    _ => {}
                },
            }
            path.pop();
        }
        if let Some(Json::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Json::as_str) {
                if node.get(name).is_none() {
                    out.push(issue(
                        path,
                        node.location,
                        format!("missing required field \"{name}\""),
                    ));
                }
            }
        }
    }

    fn check_array(
        &self,
        schema: &Json,
        items: &[Node],
        location: Location,
        path: &mut FieldPath,
        out: &mut Vec<Issue>,
    ) {
        if let Some(max) = schema.get("maxItems").and_then(Json::as_u64)
            && items.len() as u64 > max
        {
            out.push(issue(
                path,
                location,
                format!("has {} items, more than the maximum of {max}", items.len()),
            ));
        }
        if let Some(min) = schema.get("minItems").and_then(Json::as_u64)
            && (items.len() as u64) < min
        {
            let message = if items.is_empty() {
                "must not be empty".to_owned()
            } else {
                format!("has {} items, fewer than the minimum of {min}", items.len())
            };
            out.push(issue(path, location, message));
        }
        if let Some(item_schema) = schema.get("items") {
            for (index, item) in items.iter().enumerate() {
                path.push_index(index);
                self.check_node(item_schema, item, path, out);
                path.pop();
            }
        }
    }

    fn check_string(
        &self,
        schema: &Json,
        text: &str,
        location: Location,
        path: &FieldPath,
        out: &mut Vec<Issue>,
    ) {
        let length = text.chars().count() as u64;
        if let Some(min) = schema.get("minLength").and_then(Json::as_u64)
            && length < min
        {
            let message = if length == 0 {
                "must not be empty".to_owned()
            } else {
                format!("is shorter than the minimum of {min} characters")
            };
            out.push(issue(path, location, message));
            return;
        }
        if let Some(max) = schema.get("maxLength").and_then(Json::as_u64)
            && length > max
        {
            out.push(issue(
                path,
                location,
                format!("is {length} characters long, more than the maximum of {max}"),
            ));
            return;
        }
        if let Some(pattern) = schema.get("pattern").and_then(Json::as_str)
            && let Some(regex) = self.patterns.get(pattern)
            && !regex.is_match(text)
        {
            let expected = schema
                .get("x-expected")
                .and_then(Json::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("a value matching {pattern}"));
            out.push(issue(
                path,
                location,
                format!("expected {expected}, found \"{text}\""),
            ));
        }
    }
}

fn issue(path: &FieldPath, location: Location, message: String) -> Issue {
    Issue {
        path: path.clone(),
        location,
        message,
    }
}

fn collect_patterns(schema: &Json, patterns: &mut HashMap<String, Regex>) {
    match schema {
        Json::Object(map) => {
            if let Some(Json::String(pattern)) = map.get("pattern")
                && let Ok(regex) = Regex::new(pattern)
            {
                patterns.insert(pattern.clone(), regex);
            }
            map.values().for_each(|v| collect_patterns(v, patterns));
        }
        Json::Array(items) => items.iter().for_each(|v| collect_patterns(v, patterns)),
        _ => {}
    }
}

fn type_matches(types: &Json, value: &Value) -> bool {
    let matches = |t: &str| {
        matches!(
            (t, value),
            ("null", Value::Null)
                | ("boolean", Value::Bool(_))
                | ("integer", Value::Int(_))
                | ("number", Value::Int(_) | Value::Float(_))
                | ("string", Value::String(_))
                | ("array", Value::Sequence(_))
                | ("object", Value::Mapping(_))
        )
    };
    match types {
        Json::String(t) => matches(t),
        Json::Array(ts) => ts.iter().filter_map(Json::as_str).any(matches),
        _ => true,
    }
}

fn expectation(schema: &Json, types: &Json) -> String {
    if let Some(expected) = schema.get("x-expected").and_then(Json::as_str) {
        return expected.to_owned();
    }
    let name = |t: &str| match t {
        "boolean" => "a boolean (true or false)",
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        "object" => "a mapping",
        _ => "null",
    };
    match types {
        Json::String(t) => name(t).to_owned(),
        Json::Array(ts) => ts
            .iter()
            .filter_map(Json::as_str)
            .map(name)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "a value".to_owned(),
    }
}

fn check_number(
    schema: &Json,
    number: f64,
    value: &Value,
    location: Location,
    path: &FieldPath,
    out: &mut Vec<Issue>,
) {
    let unit = schema
        .get("x-unit")
        .and_then(Json::as_str)
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    let shown = match value {
        Value::Int(i) => i.to_string(),
        _ => number.to_string(),
    };
    let format_max = match schema.get("format").and_then(Json::as_str) {
        Some("uint8") => Some(f64::from(u8::MAX)),
        Some("uint16") => Some(f64::from(u16::MAX)),
        Some("uint32") => Some(f64::from(u32::MAX)),
        Some("int32") => Some(f64::from(i32::MAX)),
        _ => None,
    };
    let maximum = schema.get("maximum").and_then(Json::as_f64).or(format_max);
    if let Some(min) = schema.get("minimum").and_then(Json::as_f64)
        && number < min
    {
        out.push(issue(
            path,
            location,
            format!("{shown} is below the minimum of {min}{unit}"),
        ));
        return;
    }
    if let Some(max) = maximum
        && number > max
    {
        out.push(issue(
            path,
            location,
            format!("{shown} is above the maximum of {max}{unit}"),
        ));
    }
}
