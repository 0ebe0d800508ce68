//! End to end: a canary on the local AWS emulator, promoted step by step, then a second
//! release rolled back when its error alarm fires mid-canary (`SetAlarmState`).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::{Emulator, copy_tree, shepherd, stderr, stdout};

/// examples/ with a short canary on nightly-report.
fn canary_repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    support::git_init(dir.path());
    copy_tree(
        &support::repo().join("examples/specs"),
        &dir.path().join("specs"),
    );
    copy_tree(
        &support::repo().join("examples/app"),
        &dir.path().join("app"),
    );
    let spec = dir.path().join("specs/functions/nightly-report.yaml");
    let mut text = std::fs::read_to_string(&spec).unwrap();
    text.push_str(
        "  rollout:\n    steps:\n      - setWeight: 20\n      - pause: {duration: 8s}\n      - setWeight: 50\n      - pause: {duration: 8s}\n",
    );
    std::fs::write(&spec, text).unwrap();
    let specs = dir.path().join("specs");
    (dir, specs)
}

fn change_code(specs: &Path, marker: &str) {
    let file = specs.parent().unwrap().join("app/nightly-report/report.py");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&format!("# {marker}\n"));
    std::fs::write(file, text).unwrap();
}

fn explain(output: &std::process::Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", stdout(output), stderr(output))
}

fn nightly_status(endpoint: &str, specs: &Path) -> serde_json::Value {
    let specs_arg = specs.to_str().unwrap();
    let output = shepherd(
        endpoint,
        &[
            "status",
            "nightly-report",
            "--specs",
            specs_arg,
            "--format",
            "json",
        ],
        specs,
    );
    assert!(output.status.success(), "{}", explain(&output));
    let all: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    all[0].clone()
}

#[test]
fn a_canary_is_promoted_and_a_bad_release_is_rolled_back_by_its_alarm() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let (_dir, specs) = canary_repo();
    let specs_arg = specs.to_str().unwrap();
    let endpoint = emulator.endpoint.clone();

    let create = shepherd(&endpoint, &["apply", specs_arg], &specs);
    assert_eq!(create.status.code(), Some(0), "{}", explain(&create));

    // Release 2 goes through the canary: 20%, pause, 50%, pause, then 100%.
    change_code(&specs, "release 2");
    let canary = shepherd(
        &endpoint,
        &["apply", specs_arg, "--wait", "--alarm-poll", "5s"],
        &specs,
    );
    assert_eq!(canary.status.code(), Some(0), "{}", explain(&canary));
    let progress = stderr(&canary);
    assert!(
        progress.contains("version 1 80.0000%, the new version 20.0000%"),
        "{progress}"
    );
    assert!(
        progress.contains("version 1 50.0000%, version 2 50.0000%"),
        "{progress}"
    );
    assert!(
        progress.contains("point alias live at version 2"),
        "{progress}"
    );
    let status = nightly_status(&endpoint, &specs);
    assert_eq!(status["version"], "2", "{status}");
    assert_eq!(status["record"]["phase"], "Healthy", "{status}");

    // Release 3 starts its canary; its error alarm fires in the middle.
    change_code(&specs, "release 3");
    let apply = {
        let (endpoint, specs) = (endpoint.clone(), specs.clone());
        std::thread::spawn(move || {
            let specs_arg = specs.to_str().unwrap();
            shepherd(
                &endpoint,
                &["apply", specs_arg, "--wait", "--alarm-poll", "5s"],
                &specs,
            )
        })
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = nightly_status(&endpoint, &specs);
        if status["record"]["phase"] == "Progressing" && status["additional"][0] == "3" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the canary of release 3 never started: {status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    emulator.setup(&["set-alarm", "nightly-report-errors", "ALARM"]);
    let rolled = apply.join().unwrap();
    assert_eq!(
        rolled.status.code(),
        Some(1),
        "a rollback fails apply --wait: {}",
        explain(&rolled)
    );
    assert!(
        stdout(&rolled).contains("nightly-report: rolled back: alarm nightly-report-errors fired"),
        "{}",
        explain(&rolled)
    );

    let status = nightly_status(&endpoint, &specs);
    assert_eq!(
        status["version"], "2",
        "back on the stable version: {status}"
    );
    assert_eq!(
        status["additional"],
        serde_json::Value::Null,
        "no weights left: {status}"
    );
    assert_eq!(status["record"]["phase"], "RolledBack", "{status}");

    // The spec still names release 3: it is not rolled out again by itself.
    emulator.setup(&["set-alarm", "nightly-report-errors", "OK"]);
    let plan = shepherd(&endpoint, &["plan", specs_arg], &specs);
    assert_eq!(plan.status.code(), Some(0), "{}", explain(&plan));
    let waited = shepherd(
        &endpoint,
        &["status", "nightly-report", "--specs", specs_arg, "--wait"],
        &specs,
    );
    assert_eq!(
        waited.status.code(),
        Some(1),
        "status --wait reports the rollback: {}",
        explain(&waited)
    );
}
