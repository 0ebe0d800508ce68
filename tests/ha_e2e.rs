//! End to end: several `shepherd run` replicas sharing a lease table on the emulator's
//! DynamoDB, each reaching AWS through a proxy of its own that records what it sends.
//! Exactly one replica acts; `kill -9` of the holder mid-pause hands the rollout to the
//! other, which resumes the same step with what is left of the pause, and no step is
//! written twice; a graceful stop hands over at once; an alarm that fires during a
//! failover still rolls the canary back; a holder frozen (SIGSTOP) past its lease makes
//! no write after it wakes. (Several targets: `targets_e2e.rs`.)

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::controller::Running;
use support::proxy::FaultProxy;
use support::{Emulator, copy_tree, git, repo};

const TABLE: &str = "shepherd-leases";
/// Short leases keep the tests quick; the benchmark runs the defaults.
const LEASE: Duration = Duration::from_secs(6);

/// examples/specs and examples/app in a git repository; nightly-report releases through
/// a 20% step and a pause of `pause`.
fn spec_repository(dir: &Path, pause: &str) -> PathBuf {
    let repository = dir.join("specs-repo");
    copy_tree(&repo().join("examples/specs"), &repository.join("specs"));
    copy_tree(&repo().join("examples/app"), &repository.join("app"));
    let spec = repository.join("specs/functions/nightly-report.yaml");
    let mut text = std::fs::read_to_string(&spec).unwrap();
    text.push_str(&format!(
        "  rollout:\n    steps:\n      - setWeight: 20\n      - pause: {{duration: {pause}}}\n"
    ));
    std::fs::write(&spec, text).unwrap();
    git(
        &repository,
        &["init", "--quiet", "--initial-branch", "main"],
    );
    git(&repository, &["add", "."]);
    git(&repository, &["commit", "--quiet", "-m", "specs"]);
    repository
}

fn release(repository: &Path, marker: &str) {
    let file = repository.join("app/nightly-report/report.py");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str(&format!("# {marker}\n"));
    std::fs::write(file, text).unwrap();
    git(repository, &["commit", "--quiet", "-am", marker]);
}

/// The emulator with the examples' roles and alarms, and the lease table.
fn emulator() -> Emulator {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    emulator.create_lease_table(TABLE);
    emulator
}

/// A replica named `id` on the repository, through `proxy`.
fn replica(proxy: &FaultProxy, repository: &Path, dir: &Path, id: &str) -> Running {
    let source = format!("file://{}", repository.display());
    let checkout = dir.join(format!("checkout-{id}"));
    let lease = format!("{}s", LEASE.as_secs());
    let args = [
        "--source",
        &source,
        "--path",
        "specs",
        "--checkout-dir",
        checkout.to_str().unwrap(),
        "--poll-interval",
        "2s",
        "--resync-interval",
        "10m",
        "--alarm-poll",
        "5s",
        "--lease-table",
        TABLE,
        "--lease-duration",
        &lease,
        "--lease-heartbeat",
        "2s",
        "--replica-id",
        id,
    ];
    Running::start(
        &proxy.endpoint,
        &args,
        &[("SHEPHERD_API_TOKEN", "token")],
        Duration::from_secs(90),
    )
}

fn holding(replica: &Running) -> bool {
    let (status, body) = replica.get("/api/v1/leases");
    status == 200
        && serde_json::from_str::<serde_json::Value>(&body)
            .is_ok_and(|l| l[0]["holding"].as_bool() == Some(true))
}

fn nightly(replica: &Running) -> serde_json::Value {
    replica.function("nightly-report")
}

fn phase(status: &serde_json::Value) -> &str {
    status["rollout"]["record"]["phase"].as_str().unwrap_or("")
}

fn update_aliases(proxy: &FaultProxy) -> usize {
    proxy
        .managed_writes()
        .iter()
        .filter(|s| s.is_update_alias())
        .count()
}

/// Starts the proxies on a runtime of their own (the test itself is synchronous).
fn proxies(emulator: &Emulator, n: usize) -> (tokio::runtime::Runtime, Vec<FaultProxy>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let proxies = (0..n)
        .map(|_| runtime.block_on(FaultProxy::start(&emulator.endpoint)))
        .collect();
    (runtime, proxies)
}

#[test]
fn a_killed_holder_is_replaced_mid_pause_without_a_step_lost_or_repeated_and_a_graceful_stop_hands_over_at_once()
 {
    let emulator = emulator();
    let (_runtime, proxies) = proxies(&emulator, 3);
    let dir = tempfile::tempdir().unwrap();
    let repository = spec_repository(dir.path(), "30s");

    let a = replica(&proxies[0], &repository, dir.path(), "a");
    a.wait_for("a holds", Duration::from_secs(30), holding);
    a.wait_for("the first deploy", Duration::from_secs(60), |a| {
        phase(&nightly(a)) == "Healthy" || nightly(a)["lastResult"] == "applied"
    });
    let b = replica(&proxies[1], &repository, dir.path(), "b");
    std::thread::sleep(Duration::from_secs(4));
    assert!(holding(&a) && !holding(&b), "one holder");
    assert!(
        a.get("/metrics")
            .1
            .contains("shepherd_leader{target=\"default\"} 1")
    );
    assert!(
        b.get("/metrics")
            .1
            .contains("shepherd_leader{target=\"default\"} 0")
    );
    assert!(
        proxies[1].managed_writes().is_empty(),
        "the standby wrote: {:?}",
        proxies[1].managed_writes()
    );

    // Release 2 reaches its 20% step and pauses there; a is killed 5 s into the pause.
    let before = update_aliases(&proxies[0]);
    release(&repository, "release 2");
    a.wait_for("the canary at 20%", Duration::from_secs(30), |a| {
        nightly(a)["rollout"]["additional"][1].as_f64() == Some(0.2)
    });
    let stepped = Instant::now();
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        proxies[1].managed_writes().is_empty(),
        "the standby wrote during the canary"
    );
    a.signal("KILL");
    let killed = Instant::now();
    b.wait_for("b takes over", LEASE + Duration::from_secs(5), holding);
    let took_over = killed.elapsed();
    assert!(
        took_over <= LEASE + Duration::from_secs(2),
        "took over after {took_over:?}"
    );
    let writes_of_a = proxies[0].managed_writes().len();

    // b resumes the same step: the pause ends 30 s after it began, not after the takeover.
    b.wait_for("promoted by b", Duration::from_secs(60), |b| {
        phase(&nightly(b)) == "Healthy" && nightly(b)["rollout"]["additional"].is_null()
    });
    let pause = stepped.elapsed();
    assert!(
        pause >= Duration::from_secs(29) && pause <= Duration::from_secs(35),
        "the 30 s pause took {pause:?} (the holder was killed 5 s in)"
    );
    assert_eq!(
        proxies[0].managed_writes().len(),
        writes_of_a,
        "the killed replica wrote"
    );
    // The 20% step and the promotion: each written once, between the two replicas.
    let written = update_aliases(&proxies[0]) - before + update_aliases(&proxies[1]);
    assert_eq!(
        written,
        2,
        "UpdateAlias: a {:?}, b {:?}",
        proxies[0].seen().len(),
        proxies[1].seen().len()
    );

    // A graceful stop (a rolling update) hands the lease to the waiting standby at once.
    let c = replica(&proxies[2], &repository, dir.path(), "c");
    std::thread::sleep(Duration::from_secs(3));
    assert!(!holding(&c));
    let stopping = Instant::now();
    let exit = b.terminate();
    assert!(exit.success(), "{exit:?}");
    c.wait_for("c takes over", Duration::from_secs(10), holding);
    let handover = stopping.elapsed();
    assert!(
        handover <= Duration::from_secs(2),
        "graceful handover took {handover:?}"
    );
    eprintln!(
        "kill -9 to takeover {took_over:?}; pause {pause:?}; UpdateAlias {written}; graceful handover {handover:?}"
    );
    c.wait_for("c reconciled", Duration::from_secs(30), |c| {
        phase(&nightly(c)) == "Healthy"
    });
}

#[test]
fn an_alarm_during_a_failover_rolls_back_and_a_frozen_holder_writes_nothing_when_it_wakes() {
    let emulator = emulator();
    let (_runtime, proxies) = proxies(&emulator, 2);
    let dir = tempfile::tempdir().unwrap();
    let repository = spec_repository(dir.path(), "5m");

    let a = replica(&proxies[0], &repository, dir.path(), "a");
    a.wait_for("a holds", Duration::from_secs(30), holding);
    let b = replica(&proxies[1], &repository, dir.path(), "b");
    a.wait_for("the first deploy", Duration::from_secs(60), |a| {
        nightly(a)["lastResult"] == "applied" || nightly(a)["lastResult"] == "unchanged"
    });
    release(&repository, "release 2");
    a.wait_for("the canary at 20%", Duration::from_secs(30), |a| {
        nightly(a)["rollout"]["additional"][1].as_f64() == Some(0.2)
    });

    // a freezes past its lease; the alarm fires while the lease moves.
    a.signal("STOP");
    let writes_of_a = proxies[0].managed_writes().len();
    emulator.setup(&["set-alarm", "nightly-report-errors", "ALARM"]);
    b.wait_for("b takes over", LEASE + Duration::from_secs(5), holding);
    b.wait_for("rolled back by b", Duration::from_secs(30), |b| {
        phase(&nightly(b)) == "RolledBack"
    });
    let rolled_back = nightly(&b);
    assert!(
        rolled_back["rollout"]["additional"].is_null(),
        "{rolled_back}"
    );

    // a wakes: its lease ran out on its own clock, so it sends nothing, and stands by.
    a.signal("CONT");
    std::thread::sleep(Duration::from_secs(10));
    assert_eq!(
        proxies[0].managed_writes().len(),
        writes_of_a,
        "the woken replica wrote: {:?}",
        &proxies[0].managed_writes()[writes_of_a..]
    );
    assert!(!holding(&a) && holding(&b));
    // A command sent to the standby is answered with the holder.
    let (status, body) = a.request(
        "POST",
        "/api/v1/functions/nightly-report/retry",
        &[("Authorization", "Bearer token".to_owned())],
        "",
    );
    assert_eq!(status, 421, "{body}");
    assert!(body.contains(&format!("127.0.0.1:{}", b.port)), "{body}");
}
