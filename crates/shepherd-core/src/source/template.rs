//! Recognising a CloudFormation or SAM template where a spec was expected.
//!
//! Teams moving to shepherd have templates in the same repository, and a template read as a
//! spec yields an error for each of its keys (and, before that, for its first `!Ref`). One
//! error that says what the file is serves them better.

use super::node::{Node, Value};
use crate::diagnostic::Location;
use crate::spec::API_VERSION;

/// Top-level keys that only a template has.
const TEMPLATE_KEYS: &[&str] = &["AWSTemplateFormatVersion", "Transform", "Resources"];

/// Top-level keys of a shepherd document: with one of them, a document is a spec, whatever
/// else it holds, and its mistakes are reported field by field.
const SPEC_KEYS: &[&str] = &["apiVersion", "kind"];

/// Why a template is refused.
pub fn message() -> String {
    format!(
        "this is a CloudFormation/SAM template, not a shepherd spec (apiVersion {API_VERSION}, kind Function); write a spec for each function instead, as described in docs/spec-reference.md"
    )
}

/// The position of the first template key, when `document` is a template.
pub fn recognise(document: &Node) -> Option<Location> {
    let Value::Mapping(entries) = &document.value else {
        return None;
    };
    if entries.iter().any(|e| SPEC_KEYS.contains(&e.key.as_str())) {
        return None;
    }
    entries
        .iter()
        .find(|e| TEMPLATE_KEYS.contains(&e.key.as_str()))
        .map(|e| e.key_location)
}
