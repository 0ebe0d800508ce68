//! `shepherd run` against the local AWS emulator: how fast it reacts to a webhook and to an
//! alarm event. Targets (issue 5):
//!
//! - webhook: from a GitHub push webhook accepted (202) to the reconcile started, at most
//!   100 ms at p99. The controller (the release binary, `--log-format json`,
//!   `SHEPHERD_LOG=info`) follows a git repository made in a temporary folder from
//!   `examples/` (three functions). Each of N commits changes nightly-report's code (a real
//!   deploy: new code, a version, the alias moved) and is announced by a signed webhook.
//!   A webhook does not reconcile by itself: it wakes the source loop, which fetches the
//!   branch (`git fetch`, `git reset`, `git rev-parse`), validates the specs and packages
//!   the code, and then queues every function. So three intervals are reported, each from
//!   the moment the bench has read the 202: to the sync started (the `git fetch` process
//!   starting, from a `git` wrapper first on the controller's PATH that logs when it runs,
//!   which costs the sync a shell start per git command), to the new desired state queued
//!   (log `new desired state`), and to the first function's reconcile started (log
//!   `reconcile started`, span `reconcile` with the commit). Log timestamps and the
//!   bench's clock are the same wall clock.
//! - alarm-event: from an alarm state change event sent to the SQS alarm queue to the alias
//!   back on the stable version, at most 2 s. The controller runs with `--alarm-queue-url`
//!   and an alarm poll of 10 minutes (so that only the event can be what rolls back) on
//!   the same repository, nightly-report with a rollout (`setWeight: 20`, then a one-hour
//!   pause). Each trial commits new code (webhook), waits for the canary, sets the errors
//!   alarm to ALARM (`SetAlarmState`), then sends the EventBridge event (`SendMessage`: the
//!   instant before the call is the start) and polls the alias every 25 ms until it routes
//!   only to the stable version. The breakdown comes from the log: SQS (`trigger
//!   received`), the queue (`reconcile started` with trigger `alarm`), the reconcile.
//!
//! ```text
//! cargo build --release -p shepherd
//! SHEPHERD_MOTO_SERVER=/path/to/moto_server cargo bench -p shepherd-e2e --bench controller
//! ```
//!
//! `SHEPHERD_BENCH_PARTS` picks parts (`webhook,alarm-event`, the default),
//! `SHEPHERD_BENCH_WEBHOOKS` changes the 50 webhooks and `SHEPHERD_BENCH_TRIALS` the 10
//! alarm events. `SHEPHERD_BIN` points at another binary. Run without `--bench` (as
//! `cargo test --all-targets` does), it does nothing.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use common::controller::{
    Controller, GitWrapper, git, git_wrapper, message, signed_ms, since, span_field, timestamp,
};
use common::{Clients, Summary, unix_nanos, verdict, wait_for_alias};
use support::{Emulator, copy_tree, repo};

const NIGHTLY: &str = "nightly-report";
const ALIAS: &str = "live";
const ALARM: &str = "nightly-report-errors";
const ALIAS_POLL: Duration = Duration::from_millis(25);
/// Neither the source poll nor the resync falls in a measurement.
const QUIET: &[&str] = &["--poll-interval", "10m", "--resync-interval", "10m"];
const READY_WITHIN: Duration = Duration::from_secs(120);

fn main() {
    if !common::wanted("controller") {
        return;
    }
    let Some(binary) = common::release_bin() else {
        println!(
            "controller benchmark: skipped: target/release/shepherd is missing (build it with `cargo build --release -p shepherd`)"
        );
        return;
    };
    let parts =
        std::env::var("SHEPHERD_BENCH_PARTS").unwrap_or_else(|_| "webhook,alarm-event".to_owned());
    let wants = |part: &str| parts.split(',').any(|p| p.trim() == part);
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
            .max(1)
    };
    println!("{}", common::machine());
    println!("binary: {}", binary.display());
    let started = Instant::now();
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let alarm_queue = emulator.setup(&["queue", "bench-alarm-events"]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let wrapper = git_wrapper(dir.path());

    if wants("webhook") {
        let count = number("SHEPHERD_BENCH_WEBHOOKS", 50);
        // With the git wrapper (sync start known), then without (no shell in the sync).
        for (round, wrapper) in [("with", Some(&wrapper)), ("without", None)] {
            println!();
            let dir = dir.path().join(format!("webhook-{round}"));
            let repository = spec_repository(&dir, false);
            let controller = Controller::start(
                &binary,
                &emulator.endpoint,
                &repository,
                &dir,
                wrapper,
                QUIET,
                READY_WITHIN,
            );
            webhooks(&controller, &repository, wrapper, count);
            controller.stop();
        }
    }
    if wants("alarm-event") {
        println!();
        let repository = spec_repository(&dir.path().join("alarm"), true);
        let controller = Controller::start(
            &binary,
            &emulator.endpoint,
            &repository,
            &dir.path().join("alarm"),
            None,
            &[
                QUIET,
                &["--alarm-queue-url", &alarm_queue, "--alarm-poll", "10m"],
            ]
            .concat(),
            READY_WITHIN,
        );
        runtime.block_on(alarm_events(
            &controller,
            &emulator.endpoint,
            &alarm_queue,
            &repository,
            number("SHEPHERD_BENCH_TRIALS", 10),
        ));
        controller.stop();
    }
    drop(runtime);
    drop(emulator);
    println!();
    println!(
        "total time {:.0} s; the controllers and the emulator are stopped",
        started.elapsed().as_secs_f64()
    );
}

// The repository and the controller.

/// examples/specs and examples/app in a new git repository; nightly-report with a long
/// canary when `canary`.
fn spec_repository(dir: &Path, canary: bool) -> PathBuf {
    let repository = dir.join("specs-repo");
    copy_tree(&repo().join("examples/specs"), &repository.join("specs"));
    copy_tree(&repo().join("examples/app"), &repository.join("app"));
    if canary {
        let spec = repository.join("specs/functions/nightly-report.yaml");
        let mut text = std::fs::read_to_string(&spec).expect("read the spec");
        text.push_str(
            "  rollout:\n    steps:\n      - setWeight: 20\n      - pause: {duration: 1h}\n",
        );
        std::fs::write(&spec, text).expect("write the spec");
    }
    git(
        &repository,
        &["init", "--quiet", "--initial-branch", "main"],
    );
    git(&repository, &["add", "."]);
    git(&repository, &["commit", "--quiet", "-m", "specs"]);
    repository
}

/// A new commit that changes nightly-report's code; returns its id.
fn commit_code_change(repository: &Path, marker: &str) -> String {
    let file = repository.join("app/nightly-report/report.py");
    let mut text = std::fs::read_to_string(&file).expect("read the code");
    text.push_str(&format!("# {marker}\n"));
    std::fs::write(file, text).expect("write the code");
    git(repository, &["commit", "--quiet", "-am", marker]);
    git(repository, &["rev-parse", "HEAD"])
}

// Webhook to reconcile.

fn webhooks(
    controller: &Controller,
    repository: &Path,
    wrapper: Option<&GitWrapper>,
    count: usize,
) {
    println!(
        "[webhook] {count} signed GitHub push webhooks, each after a commit that changes nightly-report's code (3 functions in the repository), {} the git wrapper:",
        if wrapper.is_some() { "with" } else { "without" }
    );
    let mut to_sync = Vec::new();
    let mut to_queued = Vec::new();
    let mut to_reconcile = Vec::new();
    let mut accepted_to_202 = Vec::new();
    let mut sync_negative = 0;
    for i in 0..count {
        let commit = commit_code_change(repository, &format!("webhook {i}"));
        let (status, answered) = controller.push(&commit, &format!("bench-{i}"));
        assert_eq!(status, 202, "the webhook is accepted");
        let answered = unix_nanos(answered);
        // Until the three functions have been reconciled at this commit.
        let deadline = Instant::now() + Duration::from_secs(60);
        let lines = loop {
            let lines = controller.log_lines();
            let ended = lines
                .iter()
                .filter(|l| message(l) == "reconcile ended" && span_field(l, "commit") == commit)
                .count();
            if ended >= 3 {
                break lines;
            }
            assert!(
                Instant::now() < deadline,
                "webhook {i}: the reconciles of {commit} did not end within 60 s; log: {}",
                controller.log.display()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let find = |what: &str, pick: &dyn Fn(&serde_json::Value) -> bool| {
            lines
                .iter()
                .filter(|l| message(l) == what && pick(l))
                .filter_map(timestamp)
                .min()
                .unwrap_or_else(|| panic!("webhook {i}: no `{what}` for {commit}"))
        };
        let accepted = find("webhook accepted; sync queued", &|l| {
            l["commit"].as_str().is_some_and(|c| c.contains(&commit))
        });
        let queued = find("new desired state", &|l| l["commit"] == commit.as_str());
        let reconcile = find("reconcile started", &|l| span_field(l, "commit") == commit);
        if let Some(wrapper) = wrapper {
            let fetch = wrapper
                .fetches()
                .into_iter()
                .filter(|t| *t >= accepted)
                .min()
                .expect("a git fetch after the webhook");
            if fetch < answered {
                sync_negative += 1;
            }
            to_sync.push(signed_ms(answered, fetch));
        }
        accepted_to_202.push(since(accepted, answered));
        to_queued.push(since(answered, queued));
        to_reconcile.push(since(answered, reconcile));
        std::thread::sleep(Duration::from_millis(150 + (i as u64 * 37) % 200));
    }
    let reconcile = Summary::new(&to_reconcile);
    println!(
        "  handler log `webhook accepted` -> 202 read by the sender: {}",
        Summary::new(&accepted_to_202).line("ms")
    );
    let sync = (!to_sync.is_empty()).then(|| {
        let sync: Vec<Duration> = to_sync
            .iter()
            .map(|ms| Duration::from_secs_f64(ms.max(0.0) / 1e3))
            .collect();
        let sync = Summary::new(&sync);
        println!(
            "  202 -> sync started (`git fetch` starts): {} ({sync_negative} of {count} started before the sender had read the 202, counted as 0; raw min {:.1} ms)",
            sync.line("ms"),
            to_sync.iter().copied().fold(f64::INFINITY, f64::min)
        );
        sync
    });
    println!(
        "  202 -> new desired state queued (fetch, reset, rev-parse, validate, package): {}",
        Summary::new(&to_queued).line("ms")
    );
    println!(
        "  202 -> first function's reconcile started: {}",
        reconcile.line("ms")
    );
    println!(
        "  target (webhook accepted -> reconcile started <= 100 ms at p99), read as the first function's reconcile: p99 {:.0} ms: {}",
        reconcile.percentile(99.0).as_secs_f64() * 1e3,
        verdict(reconcile.percentile(99.0) <= Duration::from_millis(100))
    );
    if let Some(sync) = sync {
        println!(
            "  read as the sync started (the webhook's own work, queued at once): p99 {:.0} ms: {}",
            sync.percentile(99.0).as_secs_f64() * 1e3,
            verdict(sync.percentile(99.0) <= Duration::from_millis(100))
        );
    }
}

// Alarm event to rollback.

async fn alarm_events(
    controller: &Controller,
    endpoint: &str,
    queue: &str,
    repository: &Path,
    trials: usize,
) {
    println!(
        "[alarm-event] {trials} trials: new code (webhook) starts nightly-report's canary (20%, then a 1 h pause); {ALARM} enters ALARM, the event goes to the SQS alarm queue; alarm poll 10 min:"
    );
    let clients = Clients::new(endpoint);
    let observer = clients.cloud();
    let mut latencies = Vec::new();
    let mut from_alarm = Vec::new();
    let mut sqs = Vec::new();
    let mut queued = Vec::new();
    let mut reconcile = Vec::new();
    let mut previous_canary = None;
    for trial in 0..trials {
        clients.set_alarm(ALARM, "OK").await;
        let commit = commit_code_change(repository, &format!("alarm trial {trial}"));
        let (status, _) = controller.push(&commit, &format!("alarm-{trial}"));
        assert_eq!(status, 202, "the webhook is accepted");
        let (stable, canary) = wait_for_alias(
            &observer,
            NIGHTLY,
            ALIAS,
            ALIAS_POLL,
            Duration::from_secs(60),
            |_, additional| {
                additional.is_some_and(|(v, _)| Some(v.as_str()) != previous_canary.as_deref())
            },
        )
        .await
        .expect("the canary starts within 60 s");
        let canary = canary.map(|(v, _)| v);
        previous_canary.clone_from(&canary);
        // Not in step with anything: a different wait each trial.
        tokio::time::sleep(Duration::from_millis(300 + (trial as u64 * 700) % 2000)).await;
        let alarm_set = Instant::now();
        clients.set_alarm(ALARM, "ALARM").await;
        let sent = Instant::now();
        let sent_wall = unix_nanos(SystemTime::now());
        clients.send_alarm_event(queue, ALARM, "ALARM").await;
        let back = wait_for_alias(
            &observer,
            NIGHTLY,
            ALIAS,
            ALIAS_POLL,
            Duration::from_secs(120),
            |version, additional| version == stable && additional.is_none(),
        )
        .await
        .expect("the alias goes back within 120 s");
        let latency = sent.elapsed();
        from_alarm.push(alarm_set.elapsed());
        latencies.push(latency);
        // The breakdown, from the log.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let lines = controller.log_lines();
        let after = |what: &str, pick: &dyn Fn(&serde_json::Value) -> bool| {
            lines
                .iter()
                .filter(|l| message(l) == what && pick(l))
                .filter_map(timestamp)
                .filter(|t| *t >= sent_wall)
                .min()
        };
        let received = after("trigger received", &|l| l["trigger"] == "alarm");
        let started = after("reconcile started", &|l| {
            span_field(l, "trigger") == "alarm"
        });
        let ended = after("reconcile ended", &|l| span_field(l, "trigger") == "alarm");
        if let (Some(received), Some(started), Some(ended)) = (received, started, ended) {
            sqs.push(since(sent_wall, received));
            queued.push(since(received, started));
            reconcile.push(since(started, ended));
        }
        println!(
            "  trial {:2}: canary {} on {stable}; event sent -> alias back on {} after {:.0} ms (alarm set -> back {:.0} ms)",
            trial + 1,
            canary.as_deref().unwrap_or("-"),
            back.0,
            latency.as_secs_f64() * 1e3,
            from_alarm.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
        );
    }
    let summary = Summary::new(&latencies);
    println!(
        "  alarm event sent to SQS -> alias back on the stable version: {}",
        summary.line("ms")
    );
    println!(
        "  SetAlarmState -> alias back: {}",
        Summary::new(&from_alarm).line("ms")
    );
    if !sqs.is_empty() {
        println!(
            "  breakdown ({} trials with every log line): sent -> `trigger received` (SQS long poll) {}; -> `reconcile started` {}; reconcile (observe, plan, UpdateAlias) -> `reconcile ended` {}",
            sqs.len(),
            Summary::new(&sqs).line("ms"),
            Summary::new(&queued).line("ms"),
            Summary::new(&reconcile).line("ms")
        );
    }
    println!(
        "  target (<= 2 s, every trial): max {:.0} ms: {}",
        summary.max().as_secs_f64() * 1e3,
        verdict(summary.max() <= Duration::from_secs(2))
    );
}
