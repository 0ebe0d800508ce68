//! The spec repository's lint configuration, `.shepherd.yaml` at its root:
//!
//! ```yaml
//! lints:
//!   tracing-disabled: error     # error | warning | off
//!   timeout-at-maximum: off
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use super::{LINTS, Lint, find};
use crate::diagnostic::{Diagnostic, FieldPath};
use crate::source::{Value, parse_file, read_text};
use crate::validate::closest;

/// The name of the config file looked up at the root of a spec directory.
pub const CONFIG_FILE_NAME: &str = ".shepherd.yaml";

/// What a lint does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Off,
}

impl Level {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "error" => Some(Level::Error),
            "warning" => Some(Level::Warning),
            "off" => Some(Level::Off),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Off => "off",
        }
    }
}

/// Lint levels set by a spec repository; lints not mentioned keep their default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LintConfig {
    levels: BTreeMap<&'static str, Level>,
}

impl LintConfig {
    pub fn level(&self, lint: &Lint) -> Level {
        self.levels
            .get(lint.id)
            .copied()
            .unwrap_or(lint.default_level)
    }

    /// Reads a config file; every mistake in it is reported, with its position.
    pub fn load(path: &Path) -> Result<Self, Vec<Diagnostic>> {
        let text = read_text(path).map_err(|d| vec![d])?;
        let documents = parse_file(path, &text).map_err(|d| vec![d])?;
        let mut config = LintConfig::default();
        let mut errors = Vec::new();
        let root = &documents[0].node;
        let Value::Mapping(entries) = &root.value else {
            return Err(vec![Diagnostic::error(
                path,
                root.location,
                FieldPath::root(),
                "expected a mapping with a `lints` key",
            )]);
        };
        for entry in entries {
            if entry.key != "lints" {
                errors.push(Diagnostic::error(
                    path,
                    entry.key_location,
                    FieldPath::keys(&[&entry.key]),
                    "unknown field; expected lints",
                ));
                continue;
            }
            let Value::Mapping(lints) = &entry.value.value else {
                errors.push(Diagnostic::error(
                    path,
                    entry.value.location,
                    FieldPath::keys(&["lints"]),
                    format!(
                        "expected a mapping of lint ids to levels, found {}",
                        entry.value.value.describe()
                    ),
                ));
                continue;
            };
            for lint in lints {
                let field = FieldPath::keys(&["lints", &lint.key]);
                let Some(known) = find(&lint.key) else {
                    let ids = LINTS.iter().map(|l| l.id);
                    let hint = closest(&lint.key, ids)
                        .map(|s| format!("; did you mean \"{s}\"?"))
                        .unwrap_or_default();
                    errors.push(Diagnostic::error(
                        path,
                        lint.key_location,
                        field,
                        format!("unknown lint{hint}"),
                    ));
                    continue;
                };
                match lint.value.as_str().and_then(Level::parse) {
                    Some(level) => {
                        config.levels.insert(known.id, level);
                    }
                    None => errors.push(Diagnostic::error(
                        path,
                        lint.value.location,
                        field,
                        format!(
                            "expected error, warning or off, found {}",
                            lint.value.value.describe()
                        ),
                    )),
                }
            }
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }
}
