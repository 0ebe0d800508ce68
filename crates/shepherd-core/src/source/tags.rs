//! Explicit YAML tags. shepherd specs are plain YAML: the loader honours the core schema's
//! tags for strings, numbers, booleans, null, mappings and lists, which only say how a value
//! resolves (`!!str 512` is the string "512"), and refuses every other tag. Ignoring one
//! would change what is deployed without a word: `handler: !Ref Handler` would deploy the
//! text "Handler".

use yaml_rust2::parser::Tag;
use yaml_rust2::scanner::TScalarStyle;

use super::node::Value;
use super::scalar::resolve_plain;

/// The prefix of the YAML core schema's tags, which `!!` stands for.
const CORE: &str = "tag:yaml.org,2002:";

/// Why a tag cannot be honoured; the message of the file's error.
pub type TagError = String;

/// The value of a scalar, resolved as its tag says. When the tag cannot be honoured, the
/// value is resolved as if untagged (so that reading can go on) and the error says why.
pub fn scalar(text: String, style: TScalarStyle, tag: Option<&Tag>) -> (Value, Option<TagError>) {
    let untagged = |text: String| match style {
        TScalarStyle::Plain => resolve_plain(&text),
        _ => Value::String(text),
    };
    let Some(tag) = tag else {
        return (untagged(text), None);
    };
    let resolved = match core_name(tag) {
        Some("str") => return (Value::String(text), None),
        // The tag, not the quotes, decides: `!!int "42"` is the integer 42.
        Some("int") => match resolve_plain(&text) {
            value @ Value::Int(_) => Some(value),
            _ => None,
        },
        Some("float") => match resolve_plain(&text) {
            Value::Int(i) => Some(Value::Float(i as f64)),
            value @ Value::Float(_) => Some(value),
            _ => None,
        },
        Some("bool") => Some(resolve_plain(&text)).filter(|v| matches!(v, Value::Bool(_))),
        Some("null") => Some(resolve_plain(&text)).filter(|v| *v == Value::Null),
        Some("map" | "seq") => None,
        _ => return (untagged(text), Some(unsupported(tag))),
    };
    match resolved {
        Some(value) => (value, None),
        None => {
            let value = untagged(text);
            let error = mismatch(tag, &value);
            (value, Some(error))
        }
    }
}

/// Why the tag of a mapping (`is_mapping`) or a sequence cannot be honoured, if it cannot.
pub fn collection(tag: &Tag, is_mapping: bool) -> Option<TagError> {
    let (fits, shown) = if is_mapping {
        ("map", Value::Mapping(Vec::new()))
    } else {
        ("seq", Value::Sequence(Vec::new()))
    };
    match core_name(tag) {
        Some(name) if name == fits => None,
        Some(name) if is_honoured(name) => Some(mismatch(tag, &shown)),
        _ => Some(unsupported(tag)),
    }
}

/// The core tags that the loader reads; the rest of the core schema (`!!binary`,
/// `!!timestamp`, `!!set`, ...) describes values a spec has no use for.
fn is_honoured(name: &str) -> bool {
    matches!(
        name,
        "str" | "int" | "float" | "bool" | "null" | "map" | "seq"
    )
}

/// The name of a core schema tag: `int` for `!!int`, or for its verbatim form
/// `!<tag:yaml.org,2002:int>`.
fn core_name(tag: &Tag) -> Option<&str> {
    if tag.handle == CORE {
        Some(&tag.suffix)
    } else if tag.handle.is_empty() {
        tag.suffix.strip_prefix(CORE)
    } else {
        None
    }
}

/// The tag as a reader would write it. The parser has already expanded the handle, so a
/// tag of a `%TAG` prefix comes back in its verbatim form.
fn written(tag: &Tag) -> String {
    match core_name(tag) {
        Some(name) => format!("!!{name}"),
        None if tag.handle == "!" => format!("!{}", tag.suffix),
        // `!` alone, the "non-specific" tag, which the parser keeps as the suffix.
        None if tag.handle.is_empty() && tag.suffix == "!" => "!".to_owned(),
        None => format!("!<{}{}>", tag.handle, tag.suffix),
    }
}

fn unsupported(tag: &Tag) -> TagError {
    let shown = written(tag);
    match core_name(tag) {
        Some(_) => format!(
            "unsupported YAML tag \"{shown}\": shepherd reads only the standard tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq"
        ),
        None => format!(
            "unsupported YAML tag \"{shown}\": shepherd specs are plain YAML; CloudFormation intrinsic functions are not evaluated"
        ),
    }
}

fn mismatch(tag: &Tag, value: &Value) -> TagError {
    format!(
        "YAML tag \"{}\" does not match its value, {}",
        written(tag),
        value.describe()
    )
}
