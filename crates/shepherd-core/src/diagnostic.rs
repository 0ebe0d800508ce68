//! Diagnostics: what validation and lints report, each tied to a file, a line and a field.

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;
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
    ///
    /// The file, the path and the message repeat text of the spec, which may hold any
    /// character: control characters are printed escaped (see [`escape_control`]), so that
    /// one diagnostic is always one line, and it cannot drive the terminal that shows it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: ",
            escape_control(&self.file.display().to_string()),
            self.location.line,
            self.location.column
        )?;
        if self.severity == Severity::Warning {
            write!(f, "warning: ")?;
        }
        if !self.path.is_root() {
            write!(f, "{}: ", escape_control(&self.path.to_string()))?;
        }
        write!(f, "{}", escape_control(&self.message))?;
        if self.code != INVALID {
            write!(f, " [{}]", escape_control(&self.code))?;
        }
        Ok(())
    }
}

/// `text` with every character that a terminal or a log reader would act on written as an
/// escape: `\n`, `\r`, `\t`, and `\u{1b}` for the others. Those are the control characters
/// (C0, DEL and C1), the Unicode line and paragraph separators, and the bidirectional
/// formatting characters, which can make a line read differently from what it holds.
/// Backslashes are left alone, so a Windows path reads as written. Text without such a
/// character is returned as it is.
///
/// For anything that prints text taken from a spec: diagnostics do it in their `Display`.
pub fn escape_control(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if needs_escape(c) => {
                let _ = write!(escaped, "\\u{{{:x}}}", u32::from(c));
            }
            c => escaped.push(c),
        }
    }
    Cow::Owned(escaped)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Line and paragraph separators, which some viewers break lines at.
            '\u{2028}' | '\u{2029}'
            // Bidirectional embeddings, overrides and isolates, and the invisible marks.
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}' | '\u{200f}' | '\u{61c}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_control_escapes_what_a_terminal_acts_on_and_nothing_else() {
        for clean in [
            "",
            "spec.memory: 64 is below",
            "caf\u{e9} \u{1f600} \u{5d0}",
            r"C:\specs\a.yaml",
        ] {
            assert!(
                matches!(escape_control(clean), Cow::Borrowed(_)),
                "{clean:?}"
            );
        }
        let cases = [
            ("a\nb\r\n\tc", r"a\nb\r\n\tc"),
            ("\0", r"\u{0}"),
            ("\u{1b}[2J", r"\u{1b}[2J"),
            ("\u{7}\u{7f}", r"\u{7}\u{7f}"),
            ("\u{85}\u{9b}", r"\u{85}\u{9b}"),
            ("x\u{2028}y\u{2029}", r"x\u{2028}y\u{2029}"),
            (
                "\u{202a}\u{202e}\u{2066}\u{2069}",
                r"\u{202a}\u{202e}\u{2066}\u{2069}",
            ),
            ("\u{200e}\u{200f}\u{61c}", r"\u{200e}\u{200f}\u{61c}"),
            ("caf\u{e9}\u{1b}", "caf\u{e9}\\u{1b}"),
        ];
        for (text, expected) in cases {
            assert_eq!(escape_control(text), expected, "{text:?}");
        }
    }

    #[test]
    fn display_escapes_file_path_message_and_code() {
        let mut diagnostic = Diagnostic::error(
            Path::new("a\rb.yaml"),
            Location::new(2, 3),
            FieldPath::keys(&["spec", "tags", "k\u{1b}"]),
            "\"x\ny\" is wrong",
        );
        assert_eq!(
            diagnostic.to_string(),
            r#"a\rb.yaml:2:3: spec.tags.k\u{1b}: "x\ny" is wrong"#
        );
        diagnostic.code = "lint\u{2028}".to_owned();
        assert!(diagnostic.to_string().ends_with(r" [lint\u{2028}]"));
    }
}
