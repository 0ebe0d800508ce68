//! End to end: several targets (accounts and regions) on the emulator, reached by assuming
//! roles (the emulator maps a role's credentials to its account): three replicas share four
//! targets in two accounts and a killed replica's targets move; `apply --target` uses that
//! target's specs only; a target's own queue reaches that target only.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::controller::Running;
use support::{Emulator, shepherd, stderr};

/// A folder of specs with one handler, `app/app.py`, for `code.path: app`.
fn spec_folder(dir: &Path) -> PathBuf {
    let specs = dir.join("specs");
    std::fs::create_dir_all(specs.join("app")).unwrap();
    std::fs::write(
        specs.join("app/app.py"),
        "def handler(event, context):\n    return {'ok': True}\n",
    )
    .unwrap();
    specs
}

/// The spec of `orders`, in `target` (or none), with the role of `account` and `extra`
/// fields under `spec:`.
fn orders(target: Option<&str>, account: &str, extra: &str) -> String {
    let target = target.map_or(String::new(), |t| format!("  target: {t}\n"));
    format!(
        "apiVersion: shepherd.dev/v1alpha1\nkind: Function\nmetadata:\n  name: orders\n{target}spec:\n  code:\n    path: app\n  handler: app.handler\n  runtime: python3.12\n  role: arn:aws:iam::{account}:role/orders\n{extra}"
    )
}

/// The four targets: two regions in each of two emulated accounts.
const TARGETS: [(&str, &str, &str); 4] = [
    ("a-east", "111111111111", "us-east-1"),
    ("a-west", "111111111111", "us-west-2"),
    ("b-east", "222222222222", "us-east-1"),
    ("b-west", "222222222222", "us-west-2"),
];

/// Every replica's view of who holds each target: `target -> [replicas holding it]`.
fn holders(replicas: &[&Running]) -> BTreeMap<String, Vec<u16>> {
    let mut holders: BTreeMap<String, Vec<u16>> = TARGETS
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

fn one_holder_each(holders: &BTreeMap<String, Vec<u16>>) -> bool {
    holders.values().all(|h| h.len() == 1)
}

#[test]
fn three_replicas_share_four_targets_in_two_accounts_and_a_killed_replicas_targets_move() {
    let emulator = Emulator::start();
    emulator.create_lease_table("shepherd-leases");
    let dir = tempfile::tempdir().unwrap();
    let specs = spec_folder(dir.path());
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
            orders(Some(target), account, ""),
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
    let spread_in = replicas[0].wait_for("the targets spread", Duration::from_secs(150), |_| {
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
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    support::git_init(dir.path());
    let specs = spec_folder(dir.path());
    emulator.setup(&["role", "orders"]);
    let account = "123456789012";
    std::fs::write(
        specs.join("orders.yaml"),
        orders(None, account, "  memory: 256\n"),
    )
    .unwrap();
    std::fs::write(
        specs.join("orders-eu.yaml"),
        orders(Some("eu"), account, "  memory: 512\n"),
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
        &["apply", "--target", "eu", "specs"],
        dir.path(),
    );
    assert!(eu.status.success(), "{}", stderr(&eu));
    assert!(
        stderr(&eu).contains("1 spec for other targets than eu left out"),
        "{}",
        stderr(&eu)
    );
    assert_eq!(memory(), Some(512), "the eu spec");
    let default = shepherd(&emulator.endpoint, &["apply", "specs"], dir.path());
    assert!(
        default.status.success(),
        "{}{}",
        support::stdout(&default),
        stderr(&default)
    );
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
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let specs = spec_folder(dir.path());
    let accounts = [("a", "111111111111"), ("b", "222222222222")];
    let write_specs = |memory: u32| {
        for (target, account) in accounts {
            let text = orders(Some(target), account, &format!("  memory: {memory}\n"));
            std::fs::write(specs.join(format!("orders-{target}.yaml")), text).unwrap();
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
