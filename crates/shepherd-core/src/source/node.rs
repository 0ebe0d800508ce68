//! A YAML document as a tree of nodes that remember where they were written.
//!
//! serde_yaml reports only the first error and no positions for valid values, so the loader
//! builds this tree first: the schema checker walks it to report every error with its line
//! and column, and the typed spec is then deserialized from it.

use crate::diagnostic::{FieldPath, Location, PathSegment};

/// A YAML value with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub location: Location,
}

/// The value of a [`Node`], after YAML 1.2 core-schema scalar resolution.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Sequence(Vec<Node>),
    Mapping(Vec<Entry>),
}

/// One `key: value` pair of a mapping. Keys are always strings in a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_location: Location,
    pub value: Node,
}

impl Value {
    /// How the value is named in error messages: `a string "abc"`, `a mapping`.
    pub fn describe(&self) -> String {
        match self {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => format!("a boolean ({b})"),
            Value::Int(i) => format!("an integer ({i})"),
            Value::Float(x) => format!("a number ({x})"),
            Value::String(s) if s.chars().count() > 40 => {
                let short: String = s.chars().take(37).collect();
                format!("a string \"{short}...\"")
            }
            Value::String(s) => format!("a string \"{s}\""),
            Value::Sequence(_) => "a list".to_owned(),
            Value::Mapping(_) => "a mapping".to_owned(),
        }
    }
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|e| &e.value)
    }

    pub fn entry(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Mapping(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The position of the field at `path`: the value's position when it exists, else the
    /// position of the closest enclosing node that does (for a missing field, its mapping).
    pub fn locate(&self, path: &FieldPath) -> Location {
        let mut node = self;
        for segment in path.segments() {
            let next = match (segment, &node.value) {
                (PathSegment::Key(key), Value::Mapping(_)) => node.get(key),
                (PathSegment::Index(i), Value::Sequence(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(child) => node = child,
                None => break,
            }
        }
        node.location
    }

    /// Converts to JSON for typed deserialization with serde.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(x) => serde_json::Number::from_f64(*x)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Sequence(items) => items.iter().map(Node::to_json).collect(),
            Value::Mapping(entries) => serde_json::Value::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Number of nodes in this subtree, itself included.
    pub fn size(&self) -> usize {
        1 + match &self.value {
            Value::Sequence(items) => items.iter().map(Node::size).sum(),
            Value::Mapping(entries) => entries.iter().map(|e| e.value.size()).sum(),
            _ => 0,
        }
    }
}
