//! End to end: `shepherd run` on a git repository made in a temporary folder, against the
//! local AWS emulator: commits are deployed, signed webhooks sync at once and badly signed
//! ones do nothing, an alarm event on SQS rolls a canary back before the next poll, a
//! SIGTERM mid-rollout and a restart still end the rollout, and /metrics shows it all.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::controller::{Running, push_webhook};
use support::{Emulator, copy_tree, git, repo, shepherd_bin};

const SECRET: &str = "webhook-secret";
const TOKEN: &str = "api-token";

/// A spec repository: examples/specs and examples/app, nightly-report with a canary.
fn spec_repository(dir: &Path) -> PathBuf {
    let repository = dir.join("specs-repo");
    copy_tree(&repo().join("examples/specs"), &repository.join("specs"));
    copy_tree(&repo().join("examples/app"), &repository.join("app"));
    let spec = repository.join("specs/functions/nightly-report.yaml");
    let mut text = std::fs::read_to_string(&spec).unwrap();
    text.push_str(
        "  rollout:\n    steps:\n      - setWeight: 20\n      - pause: {duration: 40s}\n",
    );
    std::fs::write(&spec, text).unwrap();
    git(
        &repository,
        &["init", "--quiet", "--initial-branch", "main"],
    );
    git(&repository, &["add", "."]);
    git(&repository, &["commit", "--quiet", "-m", "specs"]);
    repository
}

fn commit_code_change(repository: &Path, marker: &str) -> String {
    let file = repository.join("app/nightly-report/report.py");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&format!("# {marker}\n"));
    std::fs::write(file, text).unwrap();
    git(repository, &["commit", "--quiet", "-am", marker]);
    git(repository, &["rev-parse", "HEAD"])
}

/// `shepherd run` on the repository, with the webhook secret and API token set, the
/// source poll and resync out of the way, and the alarm queue.
fn start(emulator: &Emulator, repository: &Path, checkout: &Path, alarm_queue: &str) -> Running {
    start_with(
        emulator,
        repository,
        checkout,
        &["--alarm-poll", "60s", "--alarm-queue-url", alarm_queue],
    )
}

/// `shepherd run` on the repository, with the webhook secret and API token set, the
/// source poll and resync out of the way, and `extra`.
fn start_with(emulator: &Emulator, repository: &Path, checkout: &Path, extra: &[&str]) -> Running {
    let source = format!("file://{}", repository.display());
    let mut args = vec![
        "--source",
        &source,
        "--path",
        "specs",
        "--checkout-dir",
        checkout.to_str().unwrap(),
        "--poll-interval",
        "10m",
        "--resync-interval",
        "10m",
    ];
    args.extend_from_slice(extra);
    let env = [
        ("SHEPHERD_GITHUB_WEBHOOK_SECRET", SECRET),
        ("SHEPHERD_API_TOKEN", TOKEN),
    ];
    Running::start(&emulator.endpoint, &args, &env, Duration::from_secs(90))
}

fn nightly(controller: &Running) -> serde_json::Value {
    controller.function("nightly-report")
}

fn push(controller: &Running, commit: &str, secret: &str, delivery: &str) -> u16 {
    push_webhook(controller.port, commit, secret, delivery)
}

fn phase(status: &serde_json::Value) -> &str {
    status["rollout"]["record"]["phase"].as_str().unwrap_or("")
}

#[test]
fn the_controller_deploys_commits_follows_webhooks_and_alarms_and_survives_a_restart() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let alarm_queue = emulator.setup(&["queue", "alarm-events"]);
    let dir = tempfile::tempdir().unwrap();
    let repository = spec_repository(dir.path());
    let checkout = dir.path().join("checkout");
    let first_commit = git(&repository, &["rev-parse", "HEAD"]);

    // The first commit is deployed, and the controller says so.
    let controller = start(&emulator, &repository, &checkout, &alarm_queue);
    let (_, body) = controller.get("/api/v1/functions");
    let functions: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(functions.as_array().unwrap().len(), 3, "{functions}");
    for function in functions.as_array().unwrap() {
        assert_eq!(
            function["lastAppliedCommit"],
            first_commit.as_str(),
            "{function}"
        );
    }

    // A badly signed webhook changes nothing (the poll is 10 minutes away).
    let second_commit = commit_code_change(&repository, "release 2");
    assert_eq!(
        push(&controller, &second_commit, "wrong-secret", "d-1"),
        401
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        nightly(&controller)["lastAttemptedCommit"],
        first_commit.as_str()
    );

    // A signed one syncs at once: release 2 starts its canary.
    assert_eq!(push(&controller, &second_commit, SECRET, "d-2"), 202);
    controller.wait_for("the canary of release 2", Duration::from_secs(30), |c| {
        let status = nightly(c);
        phase(&status) == "Progressing" && status["lastAttemptedCommit"] == second_commit.as_str()
    });
    // The same delivery again does no extra work.
    assert_eq!(push(&controller, &second_commit, SECRET, "d-2"), 200);

    // Its alarm fires; the event on SQS rolls it back long before the 40s pause ends.
    emulator.setup(&["set-alarm", "nightly-report-errors", "ALARM"]);
    emulator.setup(&[
        "send-alarm-event",
        &alarm_queue,
        "nightly-report-errors",
        "ALARM",
    ]);
    let took = controller.wait_for("the rollback", Duration::from_secs(20), |c| {
        phase(&nightly(c)) == "RolledBack"
    });
    assert!(took < Duration::from_secs(20), "rolled back in {took:?}");
    let status = nightly(&controller);
    assert_eq!(status["rollout"]["version"], "1", "{status}");
    assert_eq!(
        status["rollout"]["additional"],
        serde_json::Value::Null,
        "{status}"
    );

    // The CLI reads the same through the controller's API.
    let server = format!("http://127.0.0.1:{}", controller.port);
    let cli = |args: &[&str]| {
        Command::new(shepherd_bin())
            .args(args)
            .args(["--server", &server, "--token", TOKEN])
            .output()
            .unwrap()
    };
    let status = cli(&["status", "nightly-report"]);
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success() && text.contains("RolledBack"),
        "{text}"
    );
    let promote = cli(&["promote", "nightly-report"]);
    assert_eq!(promote.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&promote.stderr).contains("409"),
        "no rollout to promote"
    );

    let expected = [
        "shepherd_reconciles_total{result=\"applied\"",
        "shepherd_aws_calls_total{api=\"UpdateAlias\",outcome=\"ok\"}",
        "shepherd_rollbacks_total{function=\"nightly-report\"} 1",
        "shepherd_rollouts{phase=\"RolledBack\"} 1",
        "shepherd_canary_weight_percent{function=\"nightly-report\"} 0",
        "shepherd_queue_depth",
        "shepherd_reconcile_duration_seconds_bucket",
    ];
    // The AWS call counters are copied into Prometheus every 2 s: give them a few.
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = controller.get("/metrics").1;
        if expected.iter().all(|series| metrics.contains(series)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for series in expected {
        assert!(metrics.contains(series), "missing {series} in:\n{metrics}");
    }
    assert!(
        metrics.contains(&format!(
            "shepherd_last_synced_commit_info{{commit=\"{second_commit}\"}} 1"
        )),
        "{metrics}"
    );

    // Release 3 (the alarm back to OK) starts a canary; SIGTERM in the middle of it.
    emulator.setup(&["set-alarm", "nightly-report-errors", "OK"]);
    let third_commit = commit_code_change(&repository, "release 3");
    assert_eq!(push(&controller, &third_commit, SECRET, "d-3"), 202);
    controller.wait_for("the canary of release 3", Duration::from_secs(30), |c| {
        let status = nightly(c);
        phase(&status) == "Progressing" && status["lastAttemptedCommit"] == third_commit.as_str()
    });
    let exit = controller.terminate();
    assert!(exit.success(), "a graceful shutdown exits 0: {exit:?}");

    // Restarted, it picks the rollout up where it stood and finishes it.
    let controller = start(&emulator, &repository, &checkout, &alarm_queue);
    let status = nightly(&controller);
    assert_eq!(
        phase(&status),
        "Progressing",
        "resumed, not restarted: {status}"
    );
    controller.wait_for("release 3 promoted", Duration::from_secs(90), |c| {
        phase(&nightly(c)) == "Healthy"
    });
    let status = nightly(&controller);
    assert_eq!(status["rollout"]["version"], "3", "{status}");
    controller.terminate();
}

/// The listener faces the internet: 2,000 idle connections, under `ulimit -n 1024`, must
/// not silence the probes, the webhooks, the git fetches or the AWS calls of a rollback.
#[test]
fn idle_connections_never_starve_the_controller_of_descriptors() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let alarm_queue = emulator.setup(&["queue", "alarm-events"]);
    let dir = tempfile::tempdir().unwrap();
    let repository = spec_repository(dir.path());
    let checkout = dir.path().join("checkout");
    let source = format!("file://{}", repository.display());
    let args = [
        "--source",
        &source,
        "--path",
        "specs",
        "--checkout-dir",
        checkout.to_str().unwrap(),
        "--poll-interval",
        "10m",
        "--resync-interval",
        "10m",
        "--alarm-queue-url",
        &alarm_queue,
    ];
    let env = [("SHEPHERD_GITHUB_WEBHOOK_SECRET", SECRET)];
    let controller = Running::spawn_limited(&emulator.endpoint, &args, &env, Some(1024));
    controller.wait_for("ready", Duration::from_secs(90), |c| {
        c.get("/readyz").0 == 200
    });

    // Half send nothing, half stop in the middle of a request head.
    let mut idle = Vec::new();
    for n in 0..2000 {
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", controller.port)).unwrap();
        if n % 2 == 1 {
            use std::io::Write;
            let _ = stream.write_all(b"POST /webhooks/github HTTP/1.1\r\nHo");
        }
        idle.push(stream);
    }

    let started = std::time::Instant::now();
    assert_eq!(controller.get("/healthz").0, 200);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // A signed webhook syncs the new commit (a git fetch), whose canary starts (AWS).
    let commit = commit_code_change(&repository, "release 2");
    assert_eq!(push(&controller, &commit, SECRET, "d-1"), 202);
    controller.wait_for("the canary", Duration::from_secs(30), |c| {
        let status = nightly(c);
        phase(&status) == "Progressing" && status["lastAttemptedCommit"] == commit.as_str()
    });
    // Its alarm fires: the rollback's AWS calls go through.
    emulator.setup(&["set-alarm", "nightly-report-errors", "ALARM"]);
    emulator.setup(&[
        "send-alarm-event",
        &alarm_queue,
        "nightly-report-errors",
        "ALARM",
    ]);
    controller.wait_for("the rollback", Duration::from_secs(30), |c| {
        phase(&nightly(c)) == "RolledBack"
    });
    drop(idle);
    assert!(controller.terminate().success());
}

/// Drift without polling: with a resync 10 minutes away, a change made outside shepherd
/// and announced by its CloudTrail event (EventBridge to SQS) is corrected in seconds,
/// found by a full refresh of the function it touched: a memory setting (named by the
/// function) and a deleted managed alarm (named by the alarm, read only in a full
/// refresh). Events of shepherd's own calls and of unmanaged functions queue nothing.
#[test]
fn a_change_announced_by_cloudtrail_is_corrected_at_once() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let drift_queue = emulator.setup(&["queue", "cloudtrail-events"]);
    let dir = tempfile::tempdir().unwrap();
    let repository = spec_repository(dir.path());
    let checkout = dir.path().join("checkout");
    let controller = start_with(
        &emulator,
        &repository,
        &checkout,
        &["--drift-queue-url", &drift_queue],
    );
    let memory = |emulator: &Emulator| {
        let listing = emulator.setup(&["functions"]);
        listing
            .lines()
            .find_map(|l| l.strip_prefix("invoice-worker "))
            .and_then(|rest| rest.split(' ').next())
            .map(str::to_owned)
            .unwrap()
    };
    let has_alarm = |emulator: &Emulator, name: &str| {
        emulator
            .setup(&["alarm-names"])
            .lines()
            .any(|line| line == name)
    };
    assert_eq!(memory(&emulator), "512");
    assert!(has_alarm(&emulator, "invoice-worker-errors"));
    let send = |source: &str, event: &str, parameters: &str, agent: &str| {
        emulator.setup(&[
            "send-cloudtrail-event",
            &drift_queue,
            source,
            event,
            parameters,
            agent,
        ]);
    };
    let metrics = |controller: &Running| controller.get("/metrics").1;
    let counted = |controller: &Running, result: &str, n: u32| {
        metrics(controller).contains(&format!(
            "shepherd_drift_events_total{{result=\"{result}\"}} {n}"
        ))
    };

    // shepherd's own call, and a function it does not manage: counted, nothing queued.
    let own = "aws-sdk-rust/1.3.9 os/linux lang/rust#1.91.0 app/shepherd";
    send(
        "aws.lambda",
        "UpdateAlias20150331",
        r#"{"functionName": "invoice-worker", "name": "live"}"#,
        own,
    );
    send(
        "aws.lambda",
        "UpdateFunctionConfiguration20150331v2",
        r#"{"functionName": "someone-elses"}"#,
        "console.amazonaws.com",
    );
    controller.wait_for("own and unmanaged events", Duration::from_secs(20), |c| {
        counted(c, "own", 1) && counted(c, "unmanaged", 1)
    });

    // Someone raises the memory in the console.
    emulator.setup(&["set-memory", "invoice-worker", "3008"]);
    send(
        "aws.lambda",
        "UpdateFunctionConfiguration20150331v2",
        r#"{"functionName": "arn:aws:lambda:us-east-1:123456789012:function:invoice-worker", "memorySize": 3008}"#,
        "console.amazonaws.com",
    );
    let took = controller.wait_for("the memory back", Duration::from_secs(20), |_| {
        memory(&emulator) == "512"
    });
    eprintln!("memory drift corrected {took:?} after its event");

    // Someone deletes its errors alarm with the CLI.
    emulator.setup(&["delete-alarm", "invoice-worker-errors"]);
    send(
        "aws.monitoring",
        "DeleteAlarms",
        r#"{"alarmNames": ["invoice-worker-errors"]}"#,
        "aws-cli/2.15.0 Python/3.11",
    );
    let took = controller.wait_for("the alarm back", Duration::from_secs(20), |_| {
        has_alarm(&emulator, "invoice-worker-errors")
    });
    eprintln!("deleted alarm recreated {took:?} after its event");
    assert!(
        counted(&controller, "queued", 2),
        "{}",
        metrics(&controller)
    );
    assert!(controller.terminate().success());
}
