//! Property tests: whatever bytes a spec file holds, `check_specs` does not panic, and it
//! either reads functions or says why not, at a real position in the file.

mod common;

use std::path::{Path, PathBuf};

use common::BASE;
use proptest::prelude::*;
use shepherd_core::diagnostic::Location;
use shepherd_core::lint::LintConfig;

const CASES: u32 = 512;

/// Pieces of YAML syntax, so that random inputs reach deep into the parser and the
/// validator instead of failing at the first byte.
const TOKENS: &[&str] = &[
    ":",
    ": ",
    "-",
    "- ",
    "[",
    "]",
    "{",
    "}",
    ",",
    ", ",
    "?",
    "? ",
    "&a ",
    "*a",
    "&b ",
    "*b",
    "<<: *a",
    "---\n",
    "...\n",
    "\n",
    "\n",
    "\n  ",
    "\n    ",
    "  ",
    " ",
    "\t",
    "#",
    "# c\n",
    "!",
    "!!str ",
    "!!int ",
    "!!binary ",
    "!!float ",
    "!!map ",
    "!custom ",
    "!Ref ",
    "Resources: ",
    "Transform: x",
    "'",
    "\"",
    "'x'",
    "\"y\"",
    "|",
    "|-\n",
    ">",
    "\\",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2000:\n",
    "key",
    "a",
    "0",
    "1",
    "-1",
    "1.5",
    "0x1F",
    "1e400",
    ".inf",
    ".nan",
    "~",
    "null",
    "true",
    "yes",
    "é",
    "\u{feff}",
    "\u{2028}",
    "\r\n",
    "\r",
    "30s",
    "5m",
    "1h30m",
    "500ms",
    "99999999999999999999",
    "apiVersion: ",
    "shepherd.dev/v1alpha1",
    "kind: ",
    "Function",
    "metadata:",
    "name: ",
    "spec:",
    "code:",
    "s3: {bucket: b-bb, key: k}",
    "image: i",
    "path: .",
    "handler: h",
    "runtime: ",
    "python3.12",
    "java21",
    "role: arn:aws:iam::123456789012:role/r",
    "memory: ",
    "timeout: ",
    "environment:",
    "secrets:",
    "tags:",
    "alias: {name: live}",
    "rollout:",
    "steps:",
    "setWeight: ",
    "pause: {}",
    "eventSources:",
    "sqs:",
    "queue: arn:aws:sqs:us-east-1:123456789012:q",
    "batchSize: ",
    "alarms:",
    "errors: {}",
    "period: ",
    "vpc:",
    "logging: {format: JSON}",
    "tracing: Active",
];

/// How the messages about a whole file or document begin.
const DOCUMENT_LEVEL: &[&str] = &[
    "invalid YAML: ",
    "empty file: ",
    "binary file ",
    "file is not valid UTF-8",
    "file is larger than ",
    "nesting deeper than ",
    "the file expands to more than ",
    "mapping keys must be plain strings",
    "duplicate key ",
    "alias to an unknown anchor",
    "expected a mapping, found ",
    "missing required field ",
    "unbalanced YAML structure",
    "unsupported YAML tag ",
    "YAML tag ",
    "this is a CloudFormation/SAM template",
];

fn yamlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..80).prop_map(|tokens| tokens.concat())
}

/// The valid base spec with random edits: each replaces a span with a token.
fn mutated_spec() -> impl Strategy<Value = String> {
    let edit = (0..BASE.len(), 0usize..6, prop::sample::select(TOKENS));
    prop::collection::vec(edit, 1..6).prop_map(|edits| {
        let mut text = BASE.to_owned();
        for (at, remove, token) in edits {
            let at = floor_char_boundary(&text, at.min(text.len()));
            let end = floor_char_boundary(&text, (at + remove).min(text.len()));
            text.replace_range(at..end, token);
        }
        text
    })
}

fn floor_char_boundary(text: &str, mut index: usize) -> usize {
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Writes `bytes` as a spec file in `dir`, checks it and verifies the properties.
fn check_bytes(dir: &Path, bytes: &[u8]) -> Result<(), TestCaseError> {
    let file: PathBuf = dir.join("spec.yaml");
    std::fs::write(&file, bytes).expect("write the spec");
    let report = shepherd_core::check_specs(std::slice::from_ref(&file), &LintConfig::default());
    prop_assert!(
        !report.functions.is_empty() || !report.diagnostics.is_empty(),
        "neither a function nor a diagnostic for {:?}",
        String::from_utf8_lossy(bytes)
    );
    // Positions are 1-based and inside the file (a position just past a final newline
    // counts as inside).
    let lines = line_breaks(bytes) + 1;
    for diagnostic in &report.diagnostics {
        let shown = diagnostic.to_string();
        prop_assert!(diagnostic.location.line >= 1, "line 0: {}", shown);
        prop_assert!(diagnostic.location.column >= 1, "column 0: {}", shown);
        prop_assert!(
            diagnostic.location.line as usize <= lines,
            "line past the end of a {}-line file: {} in {:?}",
            lines,
            shown,
            String::from_utf8_lossy(bytes)
        );
        prop_assert!(!diagnostic.message.is_empty(), "empty message: {}", shown);
        // Without a field path, only problems of the file or of a whole document: anything
        // else is a gap between the schema and the types, reported without its field.
        if diagnostic.path.is_root() {
            prop_assert!(
                DOCUMENT_LEVEL
                    .iter()
                    .any(|m| diagnostic.message.starts_with(m)),
                "a field's error reported without its path: {}",
                shown
            );
        }
        prop_assert_eq!(&diagnostic.file, &file);
        // A tag's error points at the tag itself.
        if diagnostic.message.contains("YAML tag \"") {
            let text = String::from_utf8_lossy(bytes);
            // Positions count from after a BOM, which the loader skips.
            let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
            let at = char_at(text, diagnostic.location);
            prop_assert_eq!(at, Some('!'), "{} in {:?}", shown, text);
        }
    }
    // A valid report has no errors; functions and errors may coexist across documents.
    prop_assert_eq!(report.is_valid(), report.errors() == 0);
    Ok(())
}

/// The character at a 1-based line and column, counting line breaks as YAML does.
fn char_at(text: &str, location: Location) -> Option<char> {
    let (mut line, mut column) = (1, 1);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if (line, column) == (location.line, location.column) {
            return Some(c);
        }
        if c == '\n' || (c == '\r' && chars.peek() != Some(&'\n')) {
            line += 1;
            column = 1;
        } else if c != '\r' {
            column += 1;
        }
    }
    None
}

/// Line breaks as YAML counts them: `\n`, `\r\n` or a lone `\r`.
fn line_breaks(bytes: &[u8]) -> usize {
    let lone_cr = bytes
        .windows(2)
        .filter(|w| w[0] == b'\r' && w[1] != b'\n')
        .count()
        + usize::from(bytes.last() == Some(&b'\r'));
    bytes.iter().filter(|&&b| b == b'\n').count() + lone_cr
}

fn config() -> ProptestConfig {
    ProptestConfig {
        // PROPTEST_CASES=20000 searches longer.
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(CASES),
        // Failures are shrunk and printed; no regression files in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().expect("temporary directory");
        check_bytes(dir.path(), &bytes)?;
    }

    #[test]
    fn arbitrary_text(text in ".{0,256}") {
        let dir = tempfile::tempdir().expect("temporary directory");
        check_bytes(dir.path(), text.as_bytes())?;
    }

    #[test]
    fn yaml_like_token_soup(text in yamlish()) {
        let dir = tempfile::tempdir().expect("temporary directory");
        check_bytes(dir.path(), text.as_bytes())?;
    }

    #[test]
    fn mutations_of_a_valid_spec(text in mutated_spec()) {
        let dir = tempfile::tempdir().expect("temporary directory");
        check_bytes(dir.path(), text.as_bytes())?;
    }
}

/// The base spec itself passes the same checks (and is valid), so the mutations above start
/// from something that reads functions.
#[test]
fn the_unmutated_base_reads_one_function() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("spec.yaml");
    std::fs::write(&file, BASE).unwrap();
    let report = shepherd_core::check_specs(&[file], &LintConfig::default());
    assert_eq!(report.functions.len(), 1);
    assert!(report.diagnostics.is_empty());
}
