//! The broken specs in `examples/broken/`: each one states, in `# expect: ` comment lines,
//! exactly what `shepherd validate` prints about it after `FILE:`, and this test holds the
//! validator to that. The example specs in `examples/specs/` must be clean.
//!
//! Each file directly in `examples/broken/` is validated on its own; each folder in it is
//! validated as a whole (duplicate names span files). The diagnostics are formatted with
//! their `Display` implementation, which is what the CLI prints.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use shepherd_core::lint::LintConfig;

const BROKEN: &str = "examples/broken";
const SPECS: &str = "examples/specs";
const EXPECT: &str = "# expect: ";

/// Runs from the repository root, so that paths (and the paths inside messages, such as
/// "already defined at examples/broken/...") read as they do in the docs.
fn at_root() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::current_dir().ok().as_deref() != Some(root) {
        std::env::set_current_dir(root).expect("enter the repository root");
    }
}

/// The `# expect: ` lines of a file, without the marker. The file need not be UTF-8 (one
/// example is not).
fn expectations(file: &Path) -> Vec<String> {
    let bytes = fs::read(file).unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| line.strip_prefix(EXPECT))
        .map(|e| e.trim_end_matches('\r').to_owned())
        .collect()
}

/// Validates `target` (a file or a folder) and checks each spec file under it against its
/// expectations. Returns one message per mismatch.
fn check_example(target: &Path) -> Vec<String> {
    let files: Vec<PathBuf> = if target.is_dir() {
        shepherd_core::source::discover(&[target.to_owned()]).0
    } else {
        vec![target.to_owned()]
    };
    let report = shepherd_core::check_specs(&[target.to_owned()], &LintConfig::default());

    let mut printed: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    let mut problems = Vec::new();
    for diagnostic in &report.diagnostics {
        let line = diagnostic.to_string();
        let prefix = format!("{}:", diagnostic.file.display());
        match line.strip_prefix(&prefix) {
            Some(rest) if files.contains(&diagnostic.file) => printed
                .entry(diagnostic.file.clone())
                .or_default()
                .push(rest.to_owned()),
            _ => problems.push(format!(
                "{}: a diagnostic names a file that is not one of the example's: {line}",
                target.display()
            )),
        }
    }

    for file in &files {
        let mut expected = expectations(file);
        if expected.is_empty() {
            problems.push(format!(
                "{}: no `{EXPECT}LINE:COLUMN: ...` line; every broken example states what it breaks",
                file.display()
            ));
            continue;
        }
        let mut actual = printed.remove(file).unwrap_or_default();
        expected.sort();
        actual.sort();
        if actual != expected {
            let missing: Vec<_> = expected.iter().filter(|e| !actual.contains(e)).collect();
            let unexpected: Vec<_> = actual.iter().filter(|a| !expected.contains(a)).collect();
            problems.push(format!(
                "{}:\n  expected but not printed: {missing:#?}\n  printed but not expected: {unexpected:#?}",
                file.display()
            ));
        }
    }
    problems
}

/// The examples: files and folders directly in `examples/broken/`, hidden ones skipped.
fn broken_examples() -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(BROKEN)
        .expect("examples/broken exists")
        .map(|entry| Path::new(BROKEN).join(entry.expect("read examples/broken").file_name()))
        .filter(|path| {
            !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    entries
}

#[test]
fn every_broken_example_prints_exactly_its_expected_diagnostics() {
    at_root();
    let examples = broken_examples();
    assert!(
        examples.len() >= 20,
        "only {} broken examples in {BROKEN}",
        examples.len()
    );
    // The defaults apply: no lint configuration in the folder.
    assert!(!Path::new(BROKEN).join(".shepherd.yaml").exists());

    let mut problems = Vec::new();
    let mut files = 0;
    for example in &examples {
        files += if example.is_dir() {
            shepherd_core::source::discover(std::slice::from_ref(example))
                .0
                .len()
        } else {
            1
        };
        problems.extend(check_example(example));
    }
    assert!(
        problems.is_empty(),
        "{} problems in the broken examples:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
    assert!(
        files > examples.len(),
        "the folder examples hold several files"
    );
}

#[test]
fn a_duplicate_name_is_reported_against_the_first_definition_across_files() {
    at_root();
    let folder = Path::new(BROKEN).join("duplicate");
    let report = shepherd_core::check_specs(&[folder], &LintConfig::default());
    let files: Vec<_> = report.diagnostics.iter().map(|d| d.file.clone()).collect();
    assert_eq!(
        files,
        [
            Path::new(BROKEN).join("duplicate/a.yaml"),
            Path::new(BROKEN).join("duplicate/b.yaml"),
        ]
    );
    // On its own, the second file is fine: the error needs both.
    let alone = Path::new(BROKEN).join("duplicate/b.yaml");
    let report = shepherd_core::check_specs(&[alone], &LintConfig::default());
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
}

#[test]
fn a_file_without_expectations_fails_the_check() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("broken.yaml");
    fs::write(
        &file,
        "# This file says nothing about what it breaks.\nkind: Function\n",
    )
    .unwrap();
    let problems = check_example(&file);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("no `# expect: "), "{}", problems[0]);

    // And a wrong expectation is a mismatch, not a pass.
    fs::write(&file, "# expect: 1:1: something else\nkind: Function\n").unwrap();
    let problems = check_example(&file);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("something else"), "{}", problems[0]);
}

#[test]
fn the_example_specs_are_valid_without_warnings() {
    at_root();
    let report = shepherd_core::check_specs(&[PathBuf::from(SPECS)], &LintConfig::default());
    let printed: Vec<_> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert!(printed.is_empty(), "{printed:#?}");
    assert_eq!((report.errors(), report.warnings()), (0, 0));
    assert!(report.is_valid());
    assert_eq!(report.files, 3);
    assert_eq!(report.functions.len(), 3);
    let mut names: Vec<_> = report.functions.iter().map(|f| f.name()).collect();
    names.sort();
    assert_eq!(names, ["invoice-worker", "nightly-report", "orders-api"]);
}
