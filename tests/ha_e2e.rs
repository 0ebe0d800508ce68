//! End to end: several `shepherd run` replicas sharing a lease table on the emulator's
//! DynamoDB, each reaching AWS through a proxy of its own that records what it sends.
//! Exactly one replica acts; `kill -9` of the holder mid-pause hands the rollout to the
//! other, which resumes the same step with what is left of the pause, and no step is
//! written twice; a graceful stop hands over at once; an alarm that fires during a
//! failover still rolls the canary back; a holder frozen (SIGSTOP) past its lease makes
//! no write after it wakes.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use support::controller::Running;
use support::proxy::FaultProxy;
use support::{Emulator, copy_tree, git, repo, shepherd, stderr};

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
    let dir = tempfile::tempdir().unwrap();
    let created = shepherd(
        &emulator.endpoint,
        &["lease-table", "create", TABLE],
        dir.path(),
    );
    assert!(created.status.success(), "{}", stderr(&created));
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

/// The four targets: two regions in each of two emulated accounts.
const TARGETS: [(&str, &str, &str); 4] = [
    ("a-east", "111111111111", "us-east-1"),
    ("a-west", "111111111111", "us-west-2"),
    ("b-east", "222222222222", "us-east-1"),
    ("b-west", "222222222222", "us-west-2"),
];

/// Every replica's view of who holds each target: `target -> [replicas holding it]`.
fn holders(replicas: &[&Running]) -> std::collections::BTreeMap<String, Vec<u16>> {
    let mut holders: std::collections::BTreeMap<String, Vec<u16>> = TARGETS
        .iter()
        .map(|(t, _, _)| ((*t).to_owned(), Vec::new()))
        .collect();
    for replica in replicas {
        let (_, body) = replica.get("/api/v1/leases");
        let leases: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        for lease in leases.as_array().into_iter().flatten() {
            if lease["holding"].as_bool() == Some(true) {
                let target = lease["target"].as_str().unwrap_or_default().to_owned();
                holders.entry(target).or_default().push(replica.port);
            }
        }
    }
    holders
}

fn one_holder_each(holders: &std::collections::BTreeMap<String, Vec<u16>>) -> bool {
    holders.values().all(|h| h.len() == 1)
}

#[test]
fn three_replicas_share_four_targets_in_two_accounts_and_a_killed_replicas_targets_move() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(specs.join("app")).unwrap();
    std::fs::write(
        specs.join("app/app.py"),
        "def handler(event, context):\n    return {'ok': True}\n",
    )
    .unwrap();
    let mut config = String::from(
        "leases:\n  table: shepherd-leases\n  duration: 6s\n  heartbeat: 2s\ntargets:\n",
    );
    for (target, account, region) in TARGETS {
        emulator.setup(&["account-role", account, "orders"]);
        config.push_str(&format!(
            "  - name: {target}\n    region: {region}\n    roleArn: arn:aws:iam::{account}:role/shepherd\n    externalId: shepherd-e2e\n"
        ));
        std::fs::write(
            specs.join(format!("orders-{target}.yaml")),
            format!(
                "apiVersion: shepherd.dev/v1alpha1\nkind: Function\nmetadata:\n  name: orders\n  target: {target}\nspec:\n  code:\n    path: app\n  handler: app.handler\n  runtime: python3.12\n  role: arn:aws:iam::{account}:role/orders\n"
            ),
        )
        .unwrap();
    }
    let config_file = dir.path().join("config.yaml");
    std::fs::write(&config_file, config).unwrap();
    let args = [
        "--config",
        config_file.to_str().unwrap(),
        "--source",
        specs.to_str().unwrap(),
        "--poll-interval",
        "2s",
        "--resync-interval",
        "10m",
    ];
    // The first replica, alone, takes every target.
    let first = Running::spawn(&emulator.endpoint, &args, &[]);
    first.wait_for("the first holds all", Duration::from_secs(90), |r| {
        holders(&[r]).values().all(|h| h.len() == 1)
    });
    // Two more start: the first hands leases over until each holds its share.
    let mut replicas = vec![first];
    replicas.extend((0..2).map(|_| Running::spawn(&emulator.endpoint, &args, &[])));
    for replica in &replicas {
        replica.wait_for("ready", Duration::from_secs(90), |r| {
            r.get("/readyz").0 == 200
        });
    }
    let all: Vec<&Running> = replicas.iter().collect();
    let spread_in = replicas[0].wait_for("the targets spread", Duration::from_secs(60), |_| {
        let now = holders(&all);
        one_holder_each(&now)
            && all
                .iter()
                .all(|r| (1..=2).contains(&now.values().filter(|h| h.contains(&r.port)).count()))
    });
    eprintln!("spread over three replicas in {spread_in:?}");
    // Each function is in its own account and region, by the role the target assumes.
    for (target, account, region) in TARGETS {
        replicas[0].wait_for(
            &format!("orders in {target}"),
            Duration::from_secs(60),
            |_| emulator.setup(&["account-functions", account, region]) == r#"["orders"]"#,
        );
    }
    assert_eq!(
        emulator.setup(&["account-functions", "123456789012", "us-east-1"]),
        "[]"
    );
    let spread = holders(&all);
    let held = |port: u16| spread.values().filter(|h| h.contains(&port)).count();
    // Any replica answers for every target, each from its holder.
    let status = Command::new(support::shepherd_bin())
        .args([
            "status",
            "--server",
            &format!("http://127.0.0.1:{}", all[0].port),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for (target, _, _) in TARGETS {
        assert!(text.contains(&format!("{target}/orders")), "{text}");
        assert!(
            text.contains(&format!("target {target}: held by")),
            "{text}"
        );
    }

    // The replica holding the most is killed; the others take its targets.
    let (most, _) = replicas
        .iter()
        .enumerate()
        .max_by_key(|(_, r)| held(r.port))
        .unwrap();
    let killed = replicas.remove(most);
    let moved = held(killed.port);
    drop(killed);
    let rest: Vec<&Running> = replicas.iter().collect();
    let took = replicas[0].wait_for("its targets moved", Duration::from_secs(40), |_| {
        one_holder_each(&holders(&rest))
    });
    eprintln!(
        "{moved} targets moved in {took:?}; before: {spread:?}; after: {:?}",
        holders(&rest)
    );
    // The new holders reconcile them: each replica lists the function of each target it
    // holds as reconciled.
    for replica in &replicas {
        replica.wait_for("reconciled after the move", Duration::from_secs(30), |r| {
            let (_, body) = r.get("/api/v1/leases");
            let leases: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            let held: Vec<String> = leases
                .as_array()
                .into_iter()
                .flatten()
                .filter(|l| l["holding"].as_bool() == Some(true))
                .filter_map(|l| l["target"].as_str().map(str::to_owned))
                .collect();
            let (_, body) = r.get("/api/v1/functions");
            let functions: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            held.iter().all(|t| {
                functions
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|f| f["target"].as_str() == Some(t) && !f["lastReconciledAt"].is_null())
            })
        });
    }
}

/// `apply --target`: of two specs of one name, the one for the target is applied, with the
/// credentials of the run; without `--target`, the one naming none.
#[test]
fn apply_with_a_target_uses_that_targets_specs_only() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    support::git_init(dir.path());
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("app/app.py"),
        "def handler(e, c):\n    return 1\n",
    )
    .unwrap();
    emulator.setup(&["role", "orders"]);
    let spec = |target: &str, memory: u32| {
        format!(
            "apiVersion: shepherd.dev/v1alpha1\nkind: Function\nmetadata:\n  name: orders\n{target}spec:\n  code:\n    path: app\n  handler: app.handler\n  runtime: python3.12\n  role: arn:aws:iam::123456789012:role/orders\n  memory: {memory}\n"
        )
    };
    std::fs::write(dir.path().join("orders.yaml"), spec("", 256)).unwrap();
    std::fs::write(
        dir.path().join("orders-eu.yaml"),
        spec("  target: eu\n", 512),
    )
    .unwrap();
    let memory = || {
        let summary = emulator.setup(&["summary"]);
        summary
            .lines()
            .find_map(|l| l.strip_prefix("function orders: python3.12, "))
            .and_then(|rest| rest.split(" MB").next())
            .and_then(|mb| mb.parse::<u32>().ok())
    };
    let eu = shepherd(
        &emulator.endpoint,
        &["apply", "--target", "eu", "."],
        dir.path(),
    );
    assert!(eu.status.success(), "{}", stderr(&eu));
    assert!(
        stderr(&eu).contains("1 spec for other targets than eu left out"),
        "{}",
        stderr(&eu)
    );
    assert_eq!(memory(), Some(512), "the eu spec");
    let default = shepherd(&emulator.endpoint, &["apply", "."], dir.path());
    assert!(default.status.success(), "{}", stderr(&default));
    assert!(
        stderr(&default).contains("use --target NAME"),
        "{}",
        stderr(&default)
    );
    assert_eq!(memory(), Some(256), "the spec naming no target");
}

/// A target's own queue (in its account, read with its role) reaches that target only: a
/// deploy request there syncs target b at once, while target a waits for its poll.
#[test]
fn a_targets_own_queue_reaches_that_target_only() {
    let emulator = emulator();
    let dir = tempfile::tempdir().unwrap();
    let specs = dir.path().join("specs");
    std::fs::create_dir_all(specs.join("app")).unwrap();
    std::fs::write(
        specs.join("app/app.py"),
        "def handler(e, c):\n    return 1\n",
    )
    .unwrap();
    let accounts = [("a", "111111111111"), ("b", "222222222222")];
    let write_specs = |memory: u32| {
        for (target, account) in accounts {
            std::fs::write(
                specs.join(format!("orders-{target}.yaml")),
                format!(
                    "apiVersion: shepherd.dev/v1alpha1\nkind: Function\nmetadata:\n  name: orders\n  target: {target}\nspec:\n  code:\n    path: app\n  handler: app.handler\n  runtime: python3.12\n  role: arn:aws:iam::{account}:role/orders\n  memory: {memory}\n"
                ),
            )
            .unwrap();
        }
    };
    write_specs(256);
    let queue = emulator.setup(&["account-queue", "222222222222", "b-deploys"]);
    let mut config = String::from("targets:\n");
    for (target, account) in accounts {
        emulator.setup(&["account-role", account, "orders"]);
        config.push_str(&format!(
            "  - name: {target}\n    region: us-east-1\n    roleArn: arn:aws:iam::{account}:role/shepherd\n"
        ));
        if target == "b" {
            config.push_str(&format!("    queues:\n      deployQueueUrl: {queue}\n"));
        }
    }
    let config_file = dir.path().join("config.yaml");
    std::fs::write(&config_file, config).unwrap();
    let controller = Running::start(
        &emulator.endpoint,
        &[
            "--config",
            config_file.to_str().unwrap(),
            "--source",
            specs.to_str().unwrap(),
            "--poll-interval",
            "10m",
            "--resync-interval",
            "10m",
        ],
        &[],
        Duration::from_secs(90),
    );
    let memory =
        |account: &str| emulator.setup(&["account-memory", account, "us-east-1", "orders"]);
    assert_eq!(
        (memory("111111111111"), memory("222222222222")),
        ("256".into(), "256".into())
    );

    write_specs(512);
    emulator.setup(&[
        "account-send",
        "222222222222",
        &queue,
        r#"{"functions": []}"#,
    ]);
    controller.wait_for("b synced by its queue", Duration::from_secs(30), |_| {
        memory("222222222222") == "512"
    });
    assert_eq!(memory("111111111111"), "256", "a waits for its own poll");
}
