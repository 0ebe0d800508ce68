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
        progress.contains("version 1 80%, the new version 20%"),
        "{progress}"
    );
    assert!(
        progress.contains("version 1 50%, version 2 50%"),
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

/// examples/ with a canary on nightly-report that waits for an operator after 20%.
fn manual_canary_repo() -> (tempfile::TempDir, PathBuf) {
    let (dir, specs) = canary_repo();
    let spec = specs.join("functions/nightly-report.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let (head, _) = text.split_once("  rollout:\n").unwrap();
    let text =
        format!("{head}  rollout:\n    steps:\n      - setWeight: 20\n      - pause: {{}}\n");
    std::fs::write(&spec, text).unwrap();
    (dir, specs)
}

#[test]
fn emergency_commands_work_whatever_else_the_specs_hold() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let (dir, specs) = manual_canary_repo();
    let endpoint = emulator.endpoint.clone();
    let create = shepherd(&endpoint, &["apply", "."], &specs);
    assert_eq!(create.status.code(), Some(0), "{}", explain(&create));
    change_code(&specs, "release 2");
    let start = shepherd(&endpoint, &["apply", "."], &specs);
    assert_eq!(start.status.code(), Some(0), "{}", explain(&start));
    assert_eq!(nightly_status(&endpoint, &specs)["additional"][1], 0.2);
    // `apply --wait` stops at the manual gate and says how to go on.
    let gate = shepherd(&endpoint, &["apply", ".", "--wait"], &specs);
    assert_eq!(gate.status.code(), Some(0), "{}", explain(&gate));
    assert!(
        stderr(&gate).contains(
            "nightly-report: promotion pending: `shepherd promote nightly-report` takes the next step"
        ),
        "{}",
        explain(&gate)
    );
    let status = shepherd(&endpoint, &["status", "nightly-report"], &specs);
    assert!(stdout(&status).contains("Paused"), "{}", explain(&status));
    let resume = shepherd(&endpoint, &["resume", "nightly-report"], &specs);
    assert_eq!(resume.status.code(), Some(1), "{}", explain(&resume));
    assert!(
        stderr(&resume).contains("waits for `shepherd promote`"),
        "{}",
        explain(&resume)
    );

    // Someone commits a broken spec for another function, and orders-api's code folder
    // breaks: neither concerns nightly-report's canary.
    std::fs::write(specs.join("functions/broken.yaml"), "apiVersion: [\n").unwrap();
    let run = |args: &[&str]| shepherd(&endpoint, args, &specs);
    let status = run(&["status", "nightly-report"]);
    assert!(status.status.success(), "{}", explain(&status));
    assert!(
        stdout(&status).contains("Paused, step 2/2: pause until promoted"),
        "{}",
        explain(&status)
    );
    assert!(
        stderr(&status).contains("1 error in the specs"),
        "{}",
        explain(&status)
    );

    // Nothing moves a rollout waiting for promotion: --timeout gives up, with its own code.
    let waited = run(&["status", "nightly-report", "--wait", "--timeout", "2s"]);
    assert_eq!(waited.status.code(), Some(2), "{}", explain(&waited));
    assert!(
        stderr(&waited).contains("timed out after 2s: still in flight: nightly-report"),
        "{}",
        explain(&waited)
    );

    let pause = run(&["pause", "nightly-report"]);
    assert_eq!(
        pause.status.code(),
        Some(1),
        "already paused: {}",
        explain(&pause)
    );
    // With no spec at all: abort needs only the alias and its record.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let empty_arg = empty.to_str().unwrap();
    let promote = run(&["promote", "nightly-report", "--specs", empty_arg]);
    assert_eq!(promote.status.code(), Some(1), "{}", explain(&promote));
    assert!(stderr(&promote).contains("needs nightly-report's valid spec"));
    let abort = run(&["abort", "nightly-report", "--specs", empty_arg]);
    assert_eq!(abort.status.code(), Some(0), "{}", explain(&abort));
    assert_eq!(
        stdout(&abort).trim(),
        "aborted nightly-report: all traffic is back on version 1"
    );
    let status = nightly_status(&endpoint, &specs);
    assert_eq!(status["version"], "1", "{status}");
    assert_eq!(status["additional"], serde_json::Value::Null, "{status}");
    assert_eq!(status["record"]["phase"], "Aborted", "{status}");
}

#[test]
fn a_plain_apply_that_rolls_a_canary_back_exits_1() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let (_dir, specs) = manual_canary_repo();
    let endpoint = emulator.endpoint.clone();
    let create = shepherd(&endpoint, &["apply", "."], &specs);
    assert_eq!(create.status.code(), Some(0), "{}", explain(&create));
    change_code(&specs, "release 2");
    let start = shepherd(&endpoint, &["apply", "."], &specs);
    assert_eq!(
        start.status.code(),
        Some(0),
        "in flight: {}",
        explain(&start)
    );

    emulator.setup(&["set-alarm", "nightly-report-errors", "ALARM"]);
    let rollback = shepherd(&endpoint, &["apply", "."], &specs);
    assert_eq!(rollback.status.code(), Some(1), "{}", explain(&rollback));
    let out = stdout(&rollback);
    assert!(
        out.contains("✗ nightly-report: rolled back: alarm nightly-report-errors fired"),
        "{}",
        explain(&rollback)
    );
    assert!(!out.contains("✓ nightly-report"), "{}", explain(&rollback));
    assert_eq!(
        nightly_status(&endpoint, &specs)["record"]["phase"],
        "RolledBack"
    );

    // The spec still names the rolled-back release: apply keeps saying so.
    let again = shepherd(&endpoint, &["apply", "."], &specs);
    assert_eq!(again.status.code(), Some(1), "{}", explain(&again));
}

#[test]
fn a_canary_whose_own_error_rate_is_too_high_is_rolled_back_on_the_emulator() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let (_dir, specs) = canary_repo();
    let spec = specs.join("functions/nightly-report.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let (head, _) = text.split_once("  rollout:\n").unwrap();
    std::fs::write(
        &spec,
        format!(
            "{head}  rollout:\n    steps:\n      - setWeight: 20\n      - pause: {{duration: 30s}}\n    analysis:\n      maxErrorRate: 5\n      minInvocations: 10\n"
        ),
    )
    .unwrap();
    let endpoint = emulator.endpoint.clone();
    let create = shepherd(&endpoint, &["apply", "."], &specs);
    assert_eq!(create.status.code(), Some(0), "{}", explain(&create));
    change_code(&specs, "release 2");
    let start = shepherd(&endpoint, &["apply", "."], &specs);
    assert_eq!(start.status.code(), Some(0), "{}", explain(&start));
    let status = nightly_status(&endpoint, &specs);
    assert_eq!(status["additional"][0], "2", "{status}");

    // The new version fails half its invocations (the alarm stays OK).
    emulator.setup(&[
        "put-version-metrics",
        "nightly-report",
        "live",
        "2",
        "100",
        "50",
    ]);
    let judged = shepherd(
        &endpoint,
        &["apply", ".", "--wait", "--alarm-poll", "5s"],
        &specs,
    );
    assert_eq!(judged.status.code(), Some(1), "{}", explain(&judged));
    assert!(
        stdout(&judged)
            .contains("rolled back: the new version's error rate is 50.00% over 100 invocations"),
        "{}",
        explain(&judged)
    );
    let status = nightly_status(&endpoint, &specs);
    assert_eq!(
        (status["version"].as_str(), &status["additional"]),
        (Some("1"), &serde_json::Value::Null),
        "{status}"
    );
}
