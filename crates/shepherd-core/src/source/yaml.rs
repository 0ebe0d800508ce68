//! Parses YAML text into located [`Node`] trees, one per document, within hard limits.
//!
//! Built on yaml-rust2's event parser, driven without recursion, so that deep nesting, alias
//! bombs ("billion laughs") and huge inputs end in a clear error rather than a stack
//! overflow, a hang or unbounded memory. Tags are honoured or refused as [`super::tags`]
//! says, never dropped.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::{Marker, Scanner, TScalarStyle, TokenType};

use super::node::{Entry, Node, Value};
use super::tags::{self, TagError};
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
    /// How many tagged nodes have been read.
    tags: usize,
    /// The first tag that cannot be honoured: its rank among the tags, the position of its
    /// node, and why.
    bad_tag: Option<(usize, Location, TagError)>,
}

impl Builder {
    /// Counts a tagged node, keeping the first error of a tag that cannot be honoured.
    fn count_tag(&mut self, error: Option<TagError>, node_location: Location) {
        if let Some(error) = error
            && self.bad_tag.is_none()
        {
            self.bad_tag = Some((self.tags, node_location, error));
        }
        self.tags += 1;
    }

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

/// A YAML stream read to its end.
pub(super) struct Stream {
    pub documents: Vec<Node>,
    /// The first tag that cannot be honoured. It makes the file invalid; the documents are
    /// read all the same (as if the tag were not there) so that the caller can tell what the
    /// file is: a CloudFormation template is full of `!Ref`s, and saying that it is a
    /// template helps more than pointing at its first tag.
    pub tag_error: Option<YamlError>,
}

/// Parses every document of a YAML stream. A tag that cannot be honoured is an error, like
/// invalid syntax.
pub fn parse_documents(text: &str, limits: Limits) -> Result<Vec<Node>, YamlError> {
    let stream = read_stream(text, limits)?;
    match stream.tag_error {
        Some(error) => Err(error),
        None => Ok(stream.documents),
    }
}

/// Parses every document of a YAML stream, keeping a tag error aside (see [`Stream`]).
pub(super) fn read_stream(text: &str, limits: Limits) -> Result<Stream, YamlError> {
    // At the end of a stream that lacks a final line break, the scanner moves to a line
    // after the last one; no position may point past the end of the text.
    let end = end_of(text);
    let clamp = |mut e: YamlError| {
        e.location = e.location.min(end);
        e
    };
    let builder = parse_stream(text, limits, end).map_err(clamp)?;
    let tag_error = builder.bad_tag.map(|(rank, node_location, message)| {
        clamp(YamlError {
            location: tag_location(text, rank).unwrap_or(node_location),
            message,
        })
    });
    Ok(Stream {
        documents: builder.documents,
        tag_error,
    })
}

/// Where the tag of rank `rank` was written. The parser's events carry a node's tag but not
/// its position, which is that of the node's content (`Handler` in `!Ref Handler`); the
/// scanner's tokens have it. Every tag token becomes the tag of exactly one event, in order,
/// so in a stream that parsed, the n-th tag token is the n-th tag. Scanning again costs a
/// second pass, on the error path only.
fn tag_location(text: &str, rank: usize) -> Option<Location> {
    Scanner::new(text.chars())
        .filter(|token| matches!(token.1, TokenType::Tag(..)))
        .nth(rank)
        .map(|token| location(token.0))
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

fn parse_stream(text: &str, limits: Limits, end: Location) -> Result<Builder, YamlError> {
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder {
        limits,
        stack: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        documents: Vec::new(),
        tags: 0,
        bad_tag: None,
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
                let (value, tag_error) = tags::scalar(text, style, tag.as_ref());
                let node = Node {
                    value,
                    location: builder
                        .pending_key_location()
                        .filter(|_| empty_value)
                        .unwrap_or_else(|| location(mark).min(end)),
                };
                if tag.is_some() {
                    builder.count_tag(tag_error, node.location);
                }
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
            Event::SequenceStart(anchor, tag) => {
                if let Some(tag) = &tag {
                    builder.count_tag(tags::collection(tag, false), location(mark));
                }
                builder.open(
                    Frame::Sequence {
                        items: Vec::new(),
                        location: location(mark),
                        anchor,
                    },
                    mark,
                )?;
            }
            Event::MappingStart(anchor, tag) => {
                if let Some(tag) = &tag {
                    builder.count_tag(tags::collection(tag, true), location(mark));
                }
                builder.open(
                    Frame::Mapping {
                        entries: Vec::new(),
                        pending_key: None,
                        location: location(mark),
                        anchor,
                    },
                    mark,
                )?;
            }
            Event::SequenceEnd | Event::MappingEnd => builder.close(mark)?,
        }
    }
    Ok(builder)
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
