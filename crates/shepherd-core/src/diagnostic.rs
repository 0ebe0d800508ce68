//! Diagnostics: what validation and lints report, each tied to a file, a line and a field.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How serious a diagnostic is. Errors make a spec invalid; warnings are printed only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// A position in a source file, both 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Location {
    pub line: u32,
    pub column: u32,
}

impl Location {
    pub fn new(line: u32, column: u32) -> Self {
        Self { line, column }
    }
}

/// One segment of a field path such as `spec.eventSources.sqs[0].batchSize`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathSegment {
    Key(String),
    Index(usize),
}

/// A field path inside a document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldPath(Vec<PathSegment>);

impl FieldPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Builds a path from dotted keys, e.g. `FieldPath::keys(&["spec", "memory"])`.
    pub fn keys(keys: &[&str]) -> Self {
        Self(
            keys.iter()
                .map(|k| PathSegment::Key((*k).to_owned()))
                .collect(),
        )
    }

    pub fn key(&self, key: &str) -> Self {
        let mut next = self.clone();
        next.0.push(PathSegment::Key(key.to_owned()));
        next
    }

    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(PathSegment::Index(index));
        next
    }

    pub fn push_key(&mut self, key: &str) {
        self.0.push(PathSegment::Key(key.to_owned()));
    }

    pub fn push_index(&mut self, index: usize) {
        self.0.push(PathSegment::Index(index));
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    pub fn segments(&self) -> &[PathSegment] {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                PathSegment::Key(key) if i == 0 => write!(f, "{key}")?,
                PathSegment::Key(key) => write!(f, ".{key}")?,
                PathSegment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

impl Serialize for FieldPath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A finding about a spec: an error that makes it invalid, or a lint warning.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// `invalid` for validation errors, otherwise the id of the lint that fired.
    pub code: String,
    pub file: PathBuf,
    #[serde(flatten)]
    pub location: Location,
    pub path: FieldPath,
    pub message: String,
}

/// The code of every validation (non-lint) error.
pub const INVALID: &str = "invalid";

impl Diagnostic {
    pub fn error(
        file: &Path,
        location: Location,
        path: FieldPath,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity: Severity::Error,
            code: INVALID.to_owned(),
            file: file.to_owned(),
            location,
            path,
            message: message.into(),
        }
    }

    /// Sort key: by file, then position, so reports read top to bottom.
    pub fn sort_key(&self) -> (&Path, Location) {
        (&self.file, self.location)
    }
}

impl fmt::Display for Diagnostic {
    /// `functions/orders.yaml:14:5: spec.memory: 64 is below the minimum of 128 MB`;
    /// warnings say so and lints name themselves: `... warning: spec.tracing: ... [tracing-disabled]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: ",
            self.file.display(),
            self.location.line,
            self.location.column
        )?;
        if self.severity == Severity::Warning {
            write!(f, "warning: ")?;
        }
        if !self.path.is_root() {
            write!(f, "{}: ", self.path)?;
        }
        write!(f, "{}", self.message)?;
        if self.code != INVALID {
            write!(f, " [{}]", self.code)?;
        }
        Ok(())
    }
}
