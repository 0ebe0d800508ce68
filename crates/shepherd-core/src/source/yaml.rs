//! Parses YAML text into located [`Node`] trees, one per document, within hard limits.
//!
//! Built on yaml-rust2's event parser, driven without recursion, so that deep nesting, alias
//! bombs ("billion laughs") and huge inputs end in a clear error rather than a stack
//! overflow, a hang or unbounded memory.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::node::{Entry, Node, Value};
use super::scalar::resolve_plain;
use crate::diagnostic::Location;

/// Bounds on what one file may expand to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of mappings and sequences.
    pub max_depth: usize,
    /// Most nodes one file may hold, counting every node an alias expands to.
    pub max_nodes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 64,
            max_nodes: 1_000_000,
        }
    }
}

/// Why a file could not be read as YAML. Fatal for the file.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub location: Location,
    pub message: String,
}

impl YamlError {
    fn at(mark: Marker, message: impl Into<String>) -> Self {
        Self {
            location: location(mark),
            message: message.into(),
        }
    }
}

fn location(mark: Marker) -> Location {
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    // yaml-rust2 counts lines from 1 but columns from 0.
    Location::new(clamp(mark.line()), clamp(mark.col()).saturating_add(1))
}

/// A collection being built while its events arrive.
enum Frame {
    Sequence {
        items: Vec<Node>,
        location: Location,
        anchor: usize,
    },
    Mapping {
        entries: Vec<Entry>,
        pending_key: Option<(String, Location)>,
        location: Location,
        anchor: usize,
    },
}

struct Builder {
    limits: Limits,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    documents: Vec<Node>,
}

impl Builder {
    fn count(&mut self, n: usize, mark: Marker) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(n);
        if self.nodes > self.limits.max_nodes {
            return Err(YamlError::at(
                mark,
                format!(
                    "the file expands to more than {} YAML nodes (an alias bomb or an oversized file)",
                    self.limits.max_nodes
                ),
            ));
        }
        Ok(())
    }

    fn open(&mut self, frame: Frame, mark: Marker) -> Result<(), YamlError> {
        if self.stack.len() >= self.limits.max_depth {
            return Err(YamlError::at(
                mark,
                format!("nesting deeper than {} levels", self.limits.max_depth),
            ));
        }
        self.count(1, mark)?;
        self.stack.push(frame);
        Ok(())
    }

    /// Attaches a finished node to the collection being built, or ends the document.
    fn complete(&mut self, node: Node, anchor: usize, mark: Marker) -> Result<(), YamlError> {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping {
                entries,
                pending_key,
                ..
            }) => match pending_key.take() {
                Some((key, key_location)) => {
                    if let Some(previous) = entries.iter().find(|e| e.key == key) {
                        return Err(YamlError {
                            location: key_location,
                            message: format!(
                                "duplicate key \"{key}\" (first written at line {})",
                                previous.key_location.line
                            ),
                        });
                    }
                    // A nested mapping or list is reported at its key (`rollout:`), which
                    // is where a reader looks; the parser marks it after the first key.
                    let mut node = node;
                    if matches!(node.value, Value::Mapping(_) | Value::Sequence(_)) {
                        node.location = key_location;
                    }
                    entries.push(Entry {
                        key,
                        key_location,
                        value: node,
                    });
                }
                None => match node.value {
                    Value::String(key) => *pending_key = Some((key, node.location)),
                    Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {
                        // `1: x` or `true: x`: keep the written text as the key.
                        let key = scalar_key_text(&node.value);
                        *pending_key = Some((key, node.location));
                    }
                    Value::Sequence(_) | Value::Mapping(_) => {
                        return Err(YamlError::at(mark, "mapping keys must be plain strings"));
                    }
                },
            },
        }
        Ok(())
    }

    /// Where the key waiting for its value was written, when a mapping is being built.
    fn pending_key_location(&self) -> Option<Location> {
        match self.stack.last() {
            Some(Frame::Mapping {
                pending_key: Some((_, location)),
                ..
            }) => Some(*location),
            _ => None,
        }
    }

    fn close(&mut self, mark: Marker) -> Result<(), YamlError> {
        let (node, anchor) = match self.stack.pop() {
            Some(Frame::Sequence {
                items,
                location,
                anchor,
            }) => (
                Node {
                    value: Value::Sequence(items),
                    location,
                },
                anchor,
            ),
            Some(Frame::Mapping {
                entries,
                location,
                anchor,
                ..
            }) => (
                Node {
                    // The parser marks a block mapping after its first key; its first key
                    // is where the mapping visibly starts.
                    location: entries.first().map_or(location, |e| e.key_location),
                    value: Value::Mapping(entries),
                },
                anchor,
            ),
            None => return Err(YamlError::at(mark, "unbalanced YAML structure")),
        };
        self.complete(node, anchor, mark)
    }
}

fn scalar_key_text(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(x) => x.to_string(),
        _ => String::new(),
    }
}

fn is_str_tag(tag: &Option<Tag>) -> bool {
    tag.as_ref().is_some_and(|t| {
        t.suffix == "str" && (t.handle == "!!" || t.handle == "tag:yaml.org,2002:")
            || t.suffix == "tag:yaml.org,2002:str"
    })
}

/// Parses every document of a YAML stream.
pub fn parse_documents(text: &str, limits: Limits) -> Result<Vec<Node>, YamlError> {
    // At the end of a stream that lacks a final line break, the scanner moves to a line
    // after the last one; no position may point past the end of the text.
    let end = end_of(text);
    parse_stream(text, limits, end).map_err(|mut e| {
        e.location = e.location.min(end);
        e
    })
}

/// The position just after the last character, counting line breaks as YAML does
/// (`\n`, `\r\n` or a lone `\r`).
fn end_of(text: &str) -> Location {
    let (mut line, mut column) = (1u32, 1u32);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n' || (c == '\r' && chars.peek() != Some(&'\n')) {
            line = line.saturating_add(1);
            column = 1;
        } else if c != '\r' {
            column = column.saturating_add(1);
        }
    }
    Location::new(line, column)
}

fn parse_stream(text: &str, limits: Limits, end: Location) -> Result<Vec<Node>, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        documents: Vec::new(),
    };
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            location: location(*e.marker()),
            // The scanner has a nesting limit of its own, which it may reach first while
            // looking ahead in flow collections (`[[[[...`); say what it means.
            message: match e.info() {
                "recursion limit exceeded" => {
                    format!("nesting deeper than {} levels", limits.max_depth)
                }
                info => format!("invalid YAML: {info}"),
            },
        })?;
        match event {
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
            Event::DocumentStart => builder.anchors.clear(),
            Event::Scalar(text, style, anchor, tag) => {
                builder.count(1, mark)?;
                // An empty value (`timeout:`) is marked where the next token starts, often
                // on a later line; its key is where a reader looks.
                let empty_value = style == TScalarStyle::Plain && text.is_empty();
                let value = if style == TScalarStyle::Plain && !is_str_tag(&tag) {
                    resolve_plain(&text)
                } else {
                    Value::String(text)
                };
                let node = Node {
                    value,
                    location: builder
                        .pending_key_location()
                        .filter(|_| empty_value)
                        .unwrap_or_else(|| location(mark).min(end)),
                };
                builder.complete(node, anchor, mark)?;
            }
            Event::Alias(id) => {
                let node = builder
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| YamlError::at(mark, "alias to an unknown anchor"))?;
                builder.count(node.size(), mark)?;
                builder.complete(node, 0, mark)?;
            }
            Event::SequenceStart(anchor, _) => builder.open(
                Frame::Sequence {
                    items: Vec::new(),
                    location: location(mark),
                    anchor,
                },
                mark,
            )?,
            Event::MappingStart(anchor, _) => builder.open(
                Frame::Mapping {
                    entries: Vec::new(),
                    pending_key: None,
                    location: location(mark),
                    anchor,
                },
                mark,
            )?,
            Event::SequenceEnd | Event::MappingEnd => builder.close(mark)?,
        }
    }
    Ok(builder.documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Node>, YamlError> {
        parse_documents(text, Limits::default())
    }

    #[test]
    fn records_lines_and_columns() {
        let docs = parse("a: 1\nb:\n  c: [x, 2.5]\n").unwrap();
        let doc = &docs[0];
        assert_eq!(doc.get("a").unwrap().location, Location::new(1, 4));
        let c = doc.get("b").unwrap().entry("c").unwrap();
        assert_eq!(c.key_location, Location::new(3, 3));
        match &c.value.value {
            Value::Sequence(items) => {
                assert_eq!(items[0].value, Value::String("x".into()));
                assert_eq!(items[1].location, Location::new(3, 10));
            }
            other => panic!("expected a sequence, got {other:?}"),
        }
    }

    #[test]
    fn splits_documents_and_keeps_quoted_strings() {
        let docs = parse("a: '1'\n---\na: 1\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].get("a").unwrap().value, Value::String("1".into()));
        assert_eq!(docs[1].get("a").unwrap().value, Value::Int(1));
        assert_eq!(docs[1].location.line, 3);
    }

    #[test]
    fn expands_aliases() {
        let docs = parse("base: &b {x: 1}\nother: *b\n").unwrap();
        assert_eq!(
            docs[0].get("other").unwrap().get("x").unwrap().value,
            Value::Int(1)
        );
    }

    #[test]
    fn rejects_duplicate_keys() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.location, Location::new(3, 1));
        assert!(
            err.message.contains("duplicate key \"a\""),
            "{}",
            err.message
        );
    }

    #[test]
    fn rejects_alias_bombs() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse(&text).unwrap_err();
        assert!(err.message.contains("alias bomb"), "{}", err.message);
    }

    #[test]
    fn rejects_deep_nesting_without_overflowing_the_stack() {
        let text = "[".repeat(100_000);
        let err = parse(&text).unwrap_err();
        assert!(
            err.message.contains("nesting deeper than 64"),
            "{}",
            err.message
        );
    }

    #[test]
    fn reports_syntax_errors_with_position() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
        assert!(err.location.line >= 1);
    }
}
