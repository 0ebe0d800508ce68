//! The `shepherd` command line as a user runs it: exit codes, text and JSON output of
//! `validate`, lint configuration in `.shepherd.yaml`, and the `schema`, `lints` and
//! `--help` commands.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value as Json;
use shepherd_core::lint::LINTS;

/// The repository root, where the examples and docs live.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// `shepherd ARGS` run in `dir`, with no configuration inherited from the environment.
fn shepherd_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shepherd"))
        .args(args)
        .current_dir(dir)
        .env_remove("SHEPHERD_CONFIG")
        .env_remove("SHEPHERD_LOG")
        .env_remove("SHEPHERD_LOG_FORMAT")
        .output()
        .expect("run shepherd")
}

fn shepherd(args: &[&str]) -> Output {
    shepherd_in(&root(), args)
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited with a code")
}

/// A fresh folder under cargo's scratch directory for integration tests.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("cli-{}-{n}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch folder");
        Self(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A valid spec that no lint fires on, but with tracing as given.
fn spec(name: &str, tracing: Option<&str>) -> String {
    let tracing = tracing
        .map(|t| format!("  tracing: {t}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata:
  name: {name}
spec:
  code:
    s3: {{bucket: example-artifacts, key: {name}.zip}}
  handler: app.handler
  runtime: python3.12
  role: arn:aws:iam::123456789012:role/{name}
{tracing}  logging: {{format: JSON}}
  alarms:
    errors: {{}}
"
    )
}

const TRACING_WARNING: &str =
    "warning: spec.tracing: X-Ray tracing is off; set tracing: Active [tracing-disabled]";

#[test]
fn the_example_specs_are_valid() {
    let output = shepherd(&["validate", "examples/specs"]);
    assert_eq!(code(&output), 0, "{}{}", stdout(&output), stderr(&output));
    assert_eq!(stdout(&output), "valid: 3 functions in 3 files\n");
    assert_eq!(stderr(&output), "");
}

#[test]
fn a_broken_file_exits_1_and_prints_file_line_column() {
    let output = shepherd(&["validate", "examples/broken/memory-out-of-range.yaml"]);
    assert_eq!(code(&output), 1);
    assert_eq!(
        stdout(&output),
        "examples/broken/memory-out-of-range.yaml:15:11: spec.memory: 64 is below the minimum of 128 MB\n\
         invalid: 1 error, 0 warnings in 1 function in 1 file\n"
    );
}

#[test]
fn every_diagnostic_line_starts_with_file_line_column() {
    let output = shepherd(&["validate", "examples/broken"]);
    assert_eq!(code(&output), 1);
    let text = stdout(&output);
    let mut lines: Vec<&str> = text.lines().collect();
    let summary = lines.pop().expect("a summary line");
    assert!(summary.starts_with("invalid: "), "{summary}");
    assert!(lines.len() >= 20, "{text}");
    for line in lines {
        let mut parts = line.splitn(4, ':');
        let file = parts.next().unwrap();
        let line_number = parts.next().unwrap_or_default();
        let column = parts.next().unwrap_or_default();
        assert!(
            file.starts_with("examples/broken/") && Path::new(&root()).join(file).is_file(),
            "{line}"
        );
        assert!(line_number.parse::<u32>().is_ok_and(|n| n >= 1), "{line}");
        assert!(column.parse::<u32>().is_ok_and(|n| n >= 1), "{line}");
        assert!(
            parts.next().is_some_and(|rest| rest.starts_with(' ')),
            "{line}"
        );
    }
}

#[test]
fn json_output_has_the_documented_shape() {
    let output = shepherd(&[
        "validate",
        "--format",
        "json",
        "examples/broken/memory-out-of-range.yaml",
        "examples/broken/empty.yaml",
    ]);
    assert_eq!(code(&output), 1);
    let report: Json = serde_json::from_str(&stdout(&output)).expect("valid JSON");
    assert_eq!(report["valid"], false);
    assert_eq!(report["files"], 2);
    assert_eq!(report["functions"], 1);
    assert_eq!(report["errors"], 2);
    assert_eq!(report["warnings"], 0);
    let diagnostics = report["diagnostics"].as_array().expect("a list");
    assert_eq!(diagnostics.len(), 2);
    for diagnostic in diagnostics {
        // Sorted: whether serde_json keeps insertion order depends on the features other
        // crates of the workspace turn on.
        let mut keys: Vec<_> = diagnostic.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "code", "column", "file", "line", "message", "path", "severity"
            ],
            "{diagnostic}"
        );
    }
    assert_eq!(
        diagnostics[0],
        serde_json::json!({
            "severity": "error",
            "code": "invalid",
            "file": "examples/broken/empty.yaml",
            "line": 1,
            "column": 1,
            "path": "",
            "message": "empty file: no YAML document in it",
        })
    );
    assert_eq!(
        diagnostics[1],
        serde_json::json!({
            "severity": "error",
            "code": "invalid",
            "file": "examples/broken/memory-out-of-range.yaml",
            "line": 15,
            "column": 11,
            "path": "spec.memory",
            "message": "64 is below the minimum of 128 MB",
        })
    );
}

#[test]
fn json_output_of_valid_specs_and_lint_findings() {
    let output = shepherd(&["validate", "examples/specs", "--format", "json"]);
    assert_eq!(code(&output), 0);
    let report: Json = serde_json::from_str(&stdout(&output)).expect("valid JSON");
    assert_eq!(
        report,
        serde_json::json!({
            "valid": true, "files": 3, "functions": 3, "errors": 0, "warnings": 0,
            "diagnostics": [],
        })
    );

    let output = shepherd(&[
        "validate",
        "examples/broken/secret-literal.yaml",
        "--format=json",
    ]);
    assert_eq!(code(&output), 1);
    let report: Json = serde_json::from_str(&stdout(&output)).expect("valid JSON");
    let finding = &report["diagnostics"][0];
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["code"], "secret-in-environment");
    assert_eq!(finding["path"], "spec.environment.DB_PASSWORD");
    assert_eq!(
        finding["message"],
        "DB_PASSWORD holds a literal value; pass secrets by reference in spec.secrets"
    );
}

#[test]
fn warnings_alone_exit_0() {
    let scratch = Scratch::new("warnings");
    scratch.write("functions/orders.yaml", &spec("orders", None));
    let output = shepherd_in(&scratch.0, &["validate", "functions"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    assert_eq!(
        stdout(&output),
        format!(
            "functions/orders.yaml:5:1: {TRACING_WARNING}\nvalid: 1 function in 1 file with 1 warning\n"
        )
    );

    let output = shepherd_in(&scratch.0, &["validate", "functions", "--format", "json"]);
    assert_eq!(code(&output), 0);
    let report: Json = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (report["valid"].clone(), report["warnings"].clone()),
        (true.into(), 1.into())
    );
    assert_eq!(report["diagnostics"][0]["severity"], "warning");
    assert_eq!(report["diagnostics"][0]["code"], "tracing-disabled");
}

#[test]
fn validate_defaults_to_the_current_folder_and_names_files_without_dot_slash() {
    let scratch = Scratch::new("cwd");
    scratch.write("orders.yaml", &spec("orders", None));
    scratch.write(
        ".shepherd.yaml",
        "lints:\n  logs-not-json: off\n  tracing-disabled: error\n",
    );
    let output = shepherd_in(&scratch.0, &["validate"]);
    assert_eq!(code(&output), 1);
    assert_eq!(
        stdout(&output),
        "orders.yaml:5:1: spec.tracing: X-Ray tracing is off; set tracing: Active [tracing-disabled]\n\
         invalid: 1 error, 0 warnings in 1 function in 1 file\n"
    );
}

#[test]
fn shepherd_yaml_raises_a_lint_to_an_error() {
    let scratch = Scratch::new("raise");
    scratch.write("specs/orders.yaml", &spec("orders", Some("PassThrough")));
    scratch.write(
        "specs/.shepherd.yaml",
        "lints:\n  tracing-disabled: error\n",
    );
    let output = shepherd_in(&scratch.0, &["validate", "specs"]);
    assert_eq!(code(&output), 1);
    assert_eq!(
        stdout(&output),
        "specs/orders.yaml:11:12: spec.tracing: X-Ray tracing is off; set tracing: Active [tracing-disabled]\n\
         invalid: 1 error, 0 warnings in 1 function in 1 file\n"
    );
}

#[test]
fn shepherd_yaml_switches_a_lint_off() {
    let scratch = Scratch::new("off");
    scratch.write("specs/orders.yaml", &spec("orders", None));
    scratch.write("specs/.shepherd.yaml", "lints:\n  tracing-disabled: off\n");
    let output = shepherd_in(&scratch.0, &["validate", "specs"]);
    assert_eq!(code(&output), 0);
    assert_eq!(stdout(&output), "valid: 1 function in 1 file\n");

    // A secret is an error by default and can be lowered to a warning.
    scratch.write(
        "specs/orders.yaml",
        &format!(
            "{}  environment:\n    DB_PASSWORD: hunter2\n",
            spec("orders", Some("Active"))
        ),
    );
    scratch.write(
        "specs/.shepherd.yaml",
        "lints:\n  secret-in-environment: warning\n",
    );
    let output = shepherd_in(&scratch.0, &["validate", "specs"]);
    assert_eq!(code(&output), 0, "{}", stdout(&output));
    assert!(
        stdout(&output).contains(": warning: spec.environment.DB_PASSWORD: "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn an_unknown_lint_in_shepherd_yaml_is_reported_with_file_and_line() {
    let scratch = Scratch::new("unknown-lint");
    scratch.write("specs/orders.yaml", &spec("orders", Some("Active")));
    scratch.write(
        "specs/.shepherd.yaml",
        "# lint levels\nlints:\n  timeout-at-maximum: off\n  tracing-disable: error\n",
    );
    let output = shepherd_in(&scratch.0, &["validate", "specs"]);
    assert_eq!(code(&output), 1);
    assert_eq!(
        stdout(&output),
        "specs/.shepherd.yaml:4:3: lints.tracing-disable: unknown lint; did you mean \"tracing-disabled\"?\n\
         invalid: 1 error, 0 warnings in 1 function in 1 file\n"
    );
}

#[test]
fn the_config_file_can_be_named_explicitly() {
    let scratch = Scratch::new("explicit");
    scratch.write("specs/orders.yaml", &spec("orders", None));
    scratch.write("specs/.shepherd.yaml", "lints:\n  tracing-disabled: off\n");
    let strict = scratch.write("strict.yaml", "lints:\n  tracing-disabled: error\n");

    // --config wins over the folder's .shepherd.yaml.
    let output = shepherd_in(
        &scratch.0,
        &["validate", "specs", "--config", "strict.yaml"],
    );
    assert_eq!(code(&output), 1, "{}", stdout(&output));

    // So does SHEPHERD_CONFIG.
    let output = Command::new(env!("CARGO_BIN_EXE_shepherd"))
        .args(["validate", "specs"])
        .current_dir(&scratch.0)
        .env("SHEPHERD_CONFIG", &strict)
        .output()
        .unwrap();
    assert_eq!(code(&output), 1, "{}", stdout(&output));

    // A file given alone does not pick up the folder's config.
    let output = shepherd_in(&scratch.0, &["validate", "specs/orders.yaml"]);
    assert_eq!(code(&output), 0);
    assert!(
        stdout(&output).contains(TRACING_WARNING),
        "{}",
        stdout(&output)
    );

    // A missing config file is an error.
    let output = shepherd_in(&scratch.0, &["validate", "specs", "--config", "nope.yaml"]);
    assert_eq!(code(&output), 1);
    assert!(
        stdout(&output).starts_with("nope.yaml:1:1: cannot read: "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_missing_path_exits_1() {
    let output = shepherd(&["validate", "examples/no-such-folder"]);
    assert_eq!(code(&output), 1);
    assert!(
        stdout(&output).starts_with("examples/no-such-folder:1:1: cannot read: "),
        "{}",
        stdout(&output)
    );
}

#[test]
fn schema_prints_the_committed_json_schema() {
    let output = shepherd(&["schema"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let printed: Json =
        serde_json::from_str(&stdout(&output)).expect("shepherd schema prints JSON");
    let committed_path = root().join("docs/spec.schema.json");
    let committed = fs::read_to_string(&committed_path).unwrap_or_default();
    let committed: Json = serde_json::from_str(&committed).unwrap_or(Json::Null);
    assert!(
        printed == committed,
        "docs/spec.schema.json is out of date with the spec types. Regenerate it from the \
         repository root with:\n\n    cargo run -p shepherd -- schema > docs/spec.schema.json\n"
    );
    assert_eq!(printed["title"], "shepherd Function");
    assert_eq!(
        printed["required"],
        serde_json::json!(["apiVersion", "kind", "metadata", "spec"])
    );
}

#[test]
fn lints_lists_every_lint_with_its_level_and_reason() {
    let output = shepherd(&["lints"]);
    assert_eq!(code(&output), 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), LINTS.len(), "{text}");
    for (line, lint) in lines.iter().zip(LINTS) {
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[0], lint.id, "{line}");
        assert_eq!(words[1], lint.default_level.as_str(), "{line}");
        assert!(line.ends_with(lint.reason), "{line}");
    }
}

#[test]
fn help_and_version_work() {
    let output = shepherd(&["--help"]);
    assert_eq!(code(&output), 0);
    let help = stdout(&output);
    for command in ["validate", "schema", "lints"] {
        assert!(
            help.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing from:\n{help}"
        );
    }

    let output = shepherd(&["validate", "--help"]);
    assert_eq!(code(&output), 0);
    let help = stdout(&output);
    for expected in [
        "--format",
        "--config",
        "FILE:LINE:COLUMN",
        "shepherd validate examples/specs",
    ] {
        assert!(help.contains(expected), "{expected} missing from:\n{help}");
    }

    let output = shepherd(&["--version"]);
    assert_eq!(code(&output), 0);
    assert_eq!(
        stdout(&output),
        format!("shepherd {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        &["frobnicate"][..],
        &["validate", "--format", "yaml"][..],
        &[][..],
    ] {
        let output = shepherd(args);
        assert_eq!(code(&output), 2, "{args:?}");
        assert!(
            stderr(&output).starts_with("error: ") || stderr(&output).contains("Usage: shepherd"),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{args:?}");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    for args in [
        &["schema"][..],
        &["validate", "examples/broken", "--format", "json"],
        &["lints"],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_shepherd"))
            .args(args)
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = [0u8; 1];
        child.stdout.take().unwrap().read_exact(&mut first).unwrap();
        // The pipe is closed here: what is left to print meets a closed pipe.
        let output = child.wait_with_output().unwrap();
        let errors = String::from_utf8_lossy(&output.stderr);
        assert!(!errors.contains("panicked"), "{args:?}: {errors}");
        assert!(
            output.status.success()
                || output.status.code() == Some(141)
                || output.status.code() == Some(1),
            "{args:?}: {:?}",
            output.status
        );
    }
}

#[test]
fn an_unreachable_endpoint_fails_at_once_in_one_line() {
    let started = std::time::Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_shepherd"))
        .args([
            "plan",
            "examples/specs",
            "--endpoint-url",
            "http://127.0.0.1:1",
        ])
        .current_dir(root())
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let errors = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        errors.trim(),
        "error: cannot reach AWS at http://127.0.0.1:1: connection refused (os error 111)"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}
