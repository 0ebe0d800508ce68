//! Finding and reading spec files: what the loader accepts, what it refuses and how it
//! reports it, including hostile inputs (alias bombs, deep nesting, huge, binary and
//! non-UTF-8 files).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{BASE, Scratch, Spec, check_text, render};
use shepherd_core::lint::LintConfig;
use shepherd_core::source::{self, Limits, MAX_FILE_BYTES, Value};
use shepherd_core::validate::Report;

fn check(paths: &[PathBuf]) -> Report {
    shepherd_core::check_specs(paths, &LintConfig::default())
}

/// The rendered diagnostics of one spec text.
fn diagnostics_of(text: impl AsRef<[u8]>) -> Vec<String> {
    let scratch = Scratch::new();
    let file = scratch.write("spec.yaml", text);
    check(&[file]).diagnostics.iter().map(render).collect()
}

/// Runs `f` and fails if it takes longer than `limit` (hostile inputs must end quickly).
fn within<T>(limit: Duration, what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let elapsed = start.elapsed();
    assert!(elapsed < limit, "{what} took {elapsed:?}");
    out
}

#[test]
fn alias_bombs_are_refused() {
    // "Billion laughs": each level refers ten times to the one before.
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        let refs = vec![format!("*a{p}"); 10].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let shown = within(Duration::from_secs(10), "an alias bomb", || {
        diagnostics_of(&text)
    });
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(
        shown[0].ends_with(
            ": the file expands to more than 1000000 YAML nodes (an alias bomb or an oversized file)"
        ),
        "{}",
        shown[0]
    );
    // Reported where the expansion crosses the limit: on the line of a5, whose ten aliases
    // of a4 (111,111 nodes each) pass one million.
    assert!(shown[0].starts_with("6:"), "{}", shown[0]);
}

#[test]
fn aliases_within_the_limit_expand() {
    let text = Spec::base()
        .set("spec.environment", "&env {TABLE: orders}")
        .append("---")
        .append(
            &Spec::base()
                .set("metadata.name", "billing-api")
                .set("spec.environment", "{TABLE: billing}")
                .text(),
        )
        .text();
    assert!(diagnostics_of(&text).is_empty());

    let text = format!("{}  tags: &t {{team: orders}}\n  environment: *t\n", BASE);
    assert_eq!(diagnostics_of(&text), Vec::<String>::new());
}

#[test]
fn an_alias_to_an_anchor_of_another_document_is_an_error() {
    let text = format!("{BASE}  tags: &t {{team: orders}}\n---\n{BASE}  tags: *t\n");
    let shown = diagnostics_of(text);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert!(shown[0].contains("unknown anchor"), "{}", shown[0]);
}

#[test]
fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let depth = 100_000;
    let flow_sequences = "[".repeat(depth);
    let flow_mappings = "{a: ".repeat(depth);
    let block_sequences = format!("{}x\n", "- ".repeat(depth));
    for (what, text) in [
        ("flow sequences", flow_sequences),
        ("flow mappings", flow_mappings),
        ("block sequences", block_sequences),
    ] {
        let shown = within(Duration::from_secs(10), what, || diagnostics_of(&text));
        assert_eq!(shown.len(), 1, "{what}: {shown:?}");
        assert!(
            shown[0].ends_with(": nesting deeper than 64 levels"),
            "{what}: {}",
            shown[0]
        );
    }
}

#[test]
fn nesting_up_to_the_limit_is_read() {
    let limits = Limits::default();
    let text = format!(
        "{}{}",
        "[".repeat(limits.max_depth),
        "]".repeat(limits.max_depth)
    );
    let documents = source::parse_documents(&text, limits).expect("64 levels are fine");
    assert_eq!(documents.len(), 1);
    let text = format!("{}{}", "[".repeat(65), "]".repeat(65));
    let err = source::parse_documents(&text, limits).expect_err("65 levels");
    assert_eq!(err.message, "nesting deeper than 64 levels");
    assert_eq!((err.location.line, err.location.column), (1, 65));
}

#[test]
fn the_node_limit_counts_every_node() {
    let limits = Limits {
        max_depth: 64,
        max_nodes: 10,
    };
    assert!(source::parse_documents("[1, 2, 3, 4, 5, 6, 7, 8]", limits).is_ok());
    let err = source::parse_documents("[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", limits).unwrap_err();
    assert!(
        err.message.contains("more than 10 YAML nodes"),
        "{}",
        err.message
    );
}

#[test]
fn files_over_4_mib_are_refused() {
    let scratch = Scratch::new();
    let limit = usize::try_from(MAX_FILE_BYTES).unwrap();
    assert_eq!(limit, 4 * 1024 * 1024);

    // Exactly 4 MiB: a valid spec padded with a comment is read.
    let mut text = BASE.to_owned();
    let padding = limit - text.len() - 3;
    text.push_str(&format!("# {}\n", "x".repeat(padding)));
    assert_eq!(text.len(), limit);
    let at_limit = scratch.write("at-limit.yaml", &text);
    let report = check(&[at_limit]);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert_eq!(report.functions.len(), 1);

    // One byte more is refused, without being parsed.
    text.push('\n');
    let over = scratch.write("over.yaml", &text);
    let report = within(Duration::from_secs(5), "an oversized file", || {
        check(std::slice::from_ref(&over))
    });
    let shown: Vec<_> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [format!(
            "{}:1:1: file is larger than 4 MiB; split the specs over several files",
            over.display()
        )]
    );
}

#[test]
fn binary_files_are_refused_at_the_first_nul() {
    assert_eq!(
        diagnostics_of(b"apiVersion: shepherd.dev/v1alpha1\nkind: Func\x00tion\n"),
        ["2:11: binary file (contains NUL bytes), not a YAML spec"]
    );
    assert_eq!(
        diagnostics_of(b"\x00\x01\x02"),
        ["1:1: binary file (contains NUL bytes), not a YAML spec"]
    );
    // A PNG header: not UTF-8 and with NULs; NUL wins, so the message says "binary".
    assert_eq!(
        diagnostics_of(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        ["3:1: binary file (contains NUL bytes), not a YAML spec"]
    );
}

#[test]
fn non_utf8_files_are_refused_with_the_position_of_the_first_bad_byte() {
    assert_eq!(
        diagnostics_of(b"apiVersion: shepherd.dev/v1alpha1\nkind: Fun\xe7tion\n"),
        ["2:10: file is not valid UTF-8 text"]
    );
    // Columns count characters, not bytes, before the bad byte.
    assert_eq!(
        diagnostics_of(
            "a: \u{e9}\u{e9}\n"
                .bytes()
                .chain(*b"b: \xff\n")
                .collect::<Vec<u8>>()
        ),
        ["2:4: file is not valid UTF-8 text"]
    );
    assert_eq!(
        diagnostics_of(b"name: caf\xc3"),
        ["1:10: file is not valid UTF-8 text"]
    );
    // UTF-16 (with its BOM) is not UTF-8.
    assert_eq!(
        diagnostics_of(b"\xff\xfea\x00:\x00"),
        ["1:4: binary file (contains NUL bytes), not a YAML spec"]
    );
}

#[test]
fn a_utf8_bom_is_skipped_and_positions_are_unchanged() {
    let with_bom = format!("\u{feff}{}", Spec::base().set("spec.memory", "64").text());
    assert_eq!(
        diagnostics_of(with_bom),
        ["18:11: spec.memory: 64 is below the minimum of 128 MB"]
    );
    let valid = format!("\u{feff}{BASE}");
    assert!(diagnostics_of(valid).is_empty());
}

#[test]
fn empty_files_are_errors() {
    for text in [
        "",
        "\n\n",
        "   \n",
        "# only a comment\n",
        "---\n",
        "---\n...\n---\n",
        "~\n",
        "null\n",
    ] {
        assert_eq!(
            diagnostics_of(text),
            ["1:1: empty file: no YAML document in it"],
            "{text:?}"
        );
    }
}

#[test]
fn several_documents_in_one_file() {
    let second = Spec::base()
        .set("metadata.name", "billing-api")
        .set("spec.memory", "64")
        .text();
    let third = Spec::base().set("metadata.name", "reports").text();
    // Empty documents (a stray `---`, a comment-only document) are skipped.
    let text = format!("---\n{BASE}---\n# nothing here\n---\n{second}---\n{third}...\n");
    let scratch = Scratch::new();
    let file = scratch.write("fleet.yaml", &text);
    let report = check(std::slice::from_ref(&file));
    assert_eq!(report.files, 1);
    assert_eq!(report.documents, 3);
    let names: Vec<_> = report
        .functions
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    assert_eq!(names, ["orders-api", "reports"]);
    let shown: Vec<_> = report.diagnostics.iter().map(render).collect();
    // The second function starts on line 22: positions count from the top of the file.
    assert_eq!(
        shown,
        ["39:11: spec.memory: 64 is below the minimum of 128 MB"]
    );
    assert_eq!(report.functions[1].node.location.line, 41);
}

#[test]
fn yaml_syntax_errors_stop_the_file_with_a_position() {
    let cases: &[(&str, &str)] = &[
        (
            "a: [1, 2\nb: 3\n",
            "2:2: invalid YAML: illegal placement of ':' indicator",
        ),
        (
            "key: \"unterminated\n",
            "1:6: invalid YAML: while scanning a quoted scalar, found unexpected end of stream",
        ),
        (
            "apiVersion: x\n  bad: indent\n",
            "2:6: invalid YAML: mapping values are not allowed in this context",
        ),
        (
            "a:\n\t- tab\n",
            "2:2: invalid YAML: tabs disallowed within this context (block indentation)",
        ),
        (
            "a: 1\n- b\n",
            "2:3: invalid YAML: while parsing a block mapping, did not find expected key",
        ),
        (
            "[1, 2]]\n",
            "1:7: invalid YAML: did not find expected <document start>",
        ),
        (
            "a: *missing\n",
            "1:4: invalid YAML: while parsing node, found unknown anchor",
        ),
        (
            "a: b: c\n",
            "1:5: invalid YAML: mapping values are not allowed in this context",
        ),
        ("a: @x\n", "1:4: invalid YAML: unexpected character: `@'"),
        (
            "{a: 1\n",
            "2:1: invalid YAML: while parsing a flow mapping, did not find expected ',' or '}'",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(diagnostics_of(text), [*expected], "{text:?}");
    }
    // An error in a later document stops the whole file: none of its functions is read.
    let text = format!("{BASE}---\na: [\n");
    let scratch = Scratch::new();
    let file = scratch.write("two.yaml", text);
    let report = check(&[file]);
    assert_eq!(report.documents, 0);
    assert_eq!(report.diagnostics.len(), 1);
}

#[test]
fn duplicate_keys_are_errors() {
    let text = format!("{BASE}  memory: 512\n  timeout: 3s\n  memory: 1024\n");
    assert_eq!(
        diagnostics_of(text),
        ["20:3: duplicate key \"memory\" (first written at line 18)"]
    );
    // In a flow mapping, and nested.
    assert_eq!(
        diagnostics_of("a: {x: 1, y: 2, x: 3}\n"),
        ["1:17: duplicate key \"x\" (first written at line 1)"]
    );
    // The same key in two documents is fine (they are two functions).
    let two = format!(
        "{BASE}---\n{}",
        Spec::base().set("metadata.name", "b").text()
    );
    assert!(diagnostics_of(two).is_empty());
}

#[test]
fn keys_must_be_plain_strings() {
    assert_eq!(
        diagnostics_of("? [a, b]\n: 1\n"),
        ["1:8: mapping keys must be plain strings"]
    );
    // Scalar keys keep their text: `1:` is the key "1".
    let shown = diagnostics_of(format!("{BASE}  1: x\n"));
    assert_eq!(
        shown,
        [
            "18:3: spec.1: unknown field; expected one of alarms, alias, architectures, asyncInvocation, code, description, environment, ephemeralStorage, eventSources, handler, kmsKeyArn, layers, logging, memory, provisionedConcurrency, recursiveLoop, reservedConcurrency, role, rollout, runtime, secrets, snapStart, tags, timeout, tracing, vpc"
        ]
    );
}

#[test]
fn scalars_resolve_as_in_yaml_1_2() {
    let parse = |text: &str| {
        let documents = source::parse_documents(text, Limits::default()).unwrap();
        documents[0].get("v").unwrap().value.clone()
    };
    assert_eq!(parse("v: 512"), Value::Int(512));
    assert_eq!(parse("v: \"512\""), Value::String("512".into()));
    assert_eq!(parse("v: '512'"), Value::String("512".into()));
    assert_eq!(parse("v: !!str 512"), Value::String("512".into()));
    assert_eq!(parse("v: yes"), Value::String("yes".into()));
    assert_eq!(parse("v: off"), Value::String("off".into()));
    assert_eq!(parse("v: true"), Value::Bool(true));
    assert_eq!(parse("v: ~"), Value::Null);
    assert_eq!(parse("v:"), Value::Null);
    assert_eq!(parse("v: 0o17"), Value::Int(15));
    assert_eq!(parse("v: 1e3"), Value::Float(1000.0));
    assert_eq!(
        parse("v: |\n  two\n  lines\n"),
        Value::String("two\nlines\n".into())
    );
}

#[test]
fn an_empty_value_is_reported_at_its_key() {
    // The parser marks an empty value where the next token starts; the loader moves it to
    // its key, so the error does not point at the next line (or past the end of the file).
    let text = format!("{BASE}  timeout:\n  memory: 512\n");
    assert_eq!(
        diagnostics_of(text),
        ["18:3: spec.timeout: expected a duration such as 30s, 5m or 1h30m, found null"]
    );
    let text = format!("{BASE}  memory:\n");
    assert_eq!(
        diagnostics_of(text),
        ["18:3: spec.memory: expected an integer, found null"]
    );
    let text = format!("{BASE}  environment: {{A: }}\n");
    assert_eq!(
        diagnostics_of(text),
        ["18:17: spec.environment.A: expected a string, found null"]
    );
}

#[test]
fn discovery_walks_folders_and_skips_hidden_and_other_files() {
    let scratch = Scratch::new();
    let spec = |name: &str| Spec::base().set("metadata.name", name).text();
    scratch.write("b.yaml", spec("b"));
    scratch.write("a.yml", spec("a"));
    scratch.write("nested/deeper/c.yaml", spec("c"));
    scratch.write("nested/notes.md", "# notes");
    scratch.write("nested/spec.yaml.bak", spec("bak"));
    scratch.write(".hidden.yaml", "not: [valid");
    scratch.write(".git/config.yaml", "not: [valid");
    scratch.write(".github/workflows/ci.yml", "on: push");
    scratch.write("nested/.shepherd.yaml", "lints: {}");
    scratch.write("visible/.secret/e.yaml", "not: [valid");

    let report = check(&[scratch.path().to_owned()]);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    let names: Vec<_> = report.functions.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(report.files, 3);

    let (files, diagnostics) = source::discover(&[scratch.path().to_owned()]);
    assert!(diagnostics.is_empty());
    let relative: Vec<_> = files
        .iter()
        .map(|f| f.strip_prefix(scratch.path()).unwrap().to_owned())
        .collect();
    assert_eq!(
        relative,
        [
            Path::new("a.yml"),
            Path::new("b.yaml"),
            Path::new("nested/deeper/c.yaml")
        ]
    );
}

#[test]
fn a_file_named_explicitly_is_read_whatever_its_name() {
    let scratch = Scratch::new();
    let explicit = scratch.write("orders.spec", BASE);
    let hidden = scratch.write(
        ".orders.yaml",
        Spec::base().set("metadata.name", "b").text(),
    );
    let report = check(&[explicit, hidden]);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert_eq!(report.functions.len(), 2);
}

#[test]
fn a_file_reached_twice_is_read_once() {
    let scratch = Scratch::new();
    let file = scratch.write("fns/orders.yaml", BASE);
    let report = check(&[scratch.path().join("fns"), file.clone(), file]);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert_eq!(report.files, 1);
    assert_eq!(report.functions.len(), 1);
}

#[test]
fn a_missing_path_is_an_error() {
    let scratch = Scratch::new();
    let missing = scratch.path().join("nope");
    let report = check(std::slice::from_ref(&missing));
    let shown: Vec<_> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 1);
    assert!(
        shown[0].starts_with(&format!("{}:1:1: cannot read: ", missing.display())),
        "{}",
        shown[0]
    );
    assert_eq!(report.files, 0);
}

#[cfg(unix)]
#[test]
fn symbolic_links_to_folders_are_not_followed() {
    let scratch = Scratch::new();
    scratch.write("specs/orders.yaml", BASE);
    scratch.write(
        "elsewhere/billing.yaml",
        Spec::base().set("metadata.name", "billing").text(),
    );
    // A cycle, and a link to a folder outside: neither is walked.
    std::os::unix::fs::symlink(
        scratch.path().join("specs"),
        scratch.path().join("specs/loop"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        scratch.path().join("elsewhere"),
        scratch.path().join("specs/linked-folder"),
    )
    .unwrap();
    // A link to a file is read like the file, and only once with its target.
    std::os::unix::fs::symlink(
        scratch.path().join("specs/orders.yaml"),
        scratch.path().join("specs/alias.yaml"),
    )
    .unwrap();
    let report = within(Duration::from_secs(5), "a link cycle", || {
        check(&[scratch.path().join("specs")])
    });
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert_eq!(report.files, 1);
    let names: Vec<_> = report.functions.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["orders-api"]);
}

#[test]
fn diagnostics_are_sorted_by_file_then_position() {
    let scratch = Scratch::new();
    scratch.write(
        "b.yaml",
        Spec::base()
            .set("metadata.name", "b")
            .set("spec.memory", "64")
            .text(),
    );
    scratch.write(
        "a.yaml",
        Spec::base()
            .set("metadata.name", "a")
            .set("spec.timeout", "0")
            .set("spec.runtime", "python")
            .text(),
    );
    let report = check(&[scratch.path().to_owned()]);
    let positions: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.file.file_name().unwrap().to_string_lossy().into_owned(),
                d.location.line,
            )
        })
        .collect();
    assert_eq!(
        positions,
        [
            ("a.yaml".to_owned(), 11),
            ("a.yaml".to_owned(), 18),
            ("b.yaml".to_owned(), 18)
        ]
    );
}

#[test]
fn one_bad_file_does_not_hide_the_others() {
    let scratch = Scratch::new();
    scratch.write("1-binary.yaml", b"\x00");
    scratch.write("2-syntax.yaml", "a: [");
    scratch.write("3-empty.yaml", "");
    scratch.write("4-good.yaml", BASE);
    scratch.write(
        "5-invalid.yaml",
        Spec::base()
            .set("metadata.name", "e")
            .set("spec.memory", "1")
            .text(),
    );
    let report = check(&[scratch.path().to_owned()]);
    assert_eq!(report.files, 5);
    assert_eq!(report.functions.len(), 1);
    let files: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| d.file.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        [
            "1-binary.yaml",
            "2-syntax.yaml",
            "3-empty.yaml",
            "5-invalid.yaml"
        ]
    );
}

#[test]
fn loading_is_the_same_through_every_entry_point() {
    // `source::load` + `validate::validate` + lints is what `check_specs` does.
    let scratch = Scratch::new();
    let file = scratch.write("spec.yaml", Spec::base().remove("spec.tracing").text());
    let loaded = source::load(std::slice::from_ref(&file));
    assert_eq!((loaded.files, loaded.documents.len()), (1, 1));
    let text = fs::read_to_string(&file).unwrap();
    let direct = check_text(&text);
    assert_eq!(direct.diagnostics.len(), 1);
    assert_eq!(direct.diagnostics[0].code, "tracing-disabled");
}

#[test]
fn windows_line_endings_give_the_same_positions() {
    let unix = Spec::base().set("spec.memory", "64").text();
    let windows = unix.replace('\n', "\r\n");
    assert_eq!(diagnostics_of(&windows), diagnostics_of(&unix));
    assert_eq!(
        diagnostics_of(&windows),
        ["18:11: spec.memory: 64 is below the minimum of 128 MB"]
    );
}

#[test]
fn errors_at_the_end_of_a_file_point_inside_it() {
    // Without a final line break the scanner reports the end on a line after the last.
    assert_eq!(
        diagnostics_of("a: 1\nb: [x"),
        ["2:6: invalid YAML: while parsing a flow sequence, expected ',' or ']'"]
    );
    let text = format!("{BASE}  layers:\n    -");
    assert_eq!(
        diagnostics_of(text),
        ["19:6: spec.layers[0]: expected a string, found null"]
    );
}
