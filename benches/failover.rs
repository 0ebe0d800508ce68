//! Replicas of `shepherd run` sharing a lease table on the emulator's DynamoDB, with the
//! default lease (20 s) and heartbeat (5 s). Targets (issue 12):
//!
//! - crash: from `kill -9` of the holder to the standby's first reconcile, at most the
//!   lease duration + 2 s (22 s);
//! - graceful: from SIGTERM of the holder to the standby's first reconcile, at most 2 s;
//! - cost: a held lease costs one DynamoDB write per heartbeat, a standby at most one read
//!   per heartbeat (counted by a proxy per replica in front of the emulator, over an idle
//!   minute).
//!
//! The replicas (release binary) follow a folder of specs (examples/, three functions).
//! The first reconcile is the first function status with `lastReconciledAt`, polled every
//! 20 ms on the new holder's API; a standby reconciles nothing, so it is the takeover's.
//!
//! ```text
//! cargo build --release -p shepherd
//! cargo bench -p shepherd-e2e --bench failover
//! ```
//!
//! `SHEPHERD_BENCH_TRIALS` changes the 3 trials of each kind. Run without `--bench` (as
//! `cargo test --all-targets` does), it does nothing.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::controller::request;
use support::proxy::FaultProxy;
use support::{Emulator, copy_tree, repo};

const TABLE: &str = "shepherd-leases";
const LEASE: Duration = Duration::from_secs(20);
const HEARTBEAT: Duration = Duration::from_secs(5);

struct Replica {
    child: Child,
    port: u16,
    proxy: FaultProxy,
}

impl Replica {
    fn start(binary: &Path, proxy: FaultProxy, specs: &Path, id: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(binary)
            .args(["run", "--source"])
            .arg(specs)
            .args([
                "--path",
                "specs",
                "--poll-interval",
                "10m",
                "--resync-interval",
                "10m",
            ])
            .args(["--lease-table", TABLE, "--replica-id", id])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("SHEPHERD_ADVERTISE_URL", format!("http://127.0.0.1:{port}"))
            .env("AWS_ENDPOINT_URL", &proxy.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .env("SHEPHERD_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("shepherd starts");
        let replica = Self { child, port, proxy };
        replica.wait("ready", Duration::from_secs(120), |r| {
            request(r.port, "GET", "/readyz", &[], "").0 == 200
        });
        replica
    }

    fn wait(&self, what: &str, limit: Duration, ok: impl Fn(&Self) -> bool) -> Duration {
        let started = Instant::now();
        while !ok(self) {
            assert!(started.elapsed() < limit, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
        started.elapsed()
    }

    fn holding(&self) -> bool {
        let (_, body) = request(self.port, "GET", "/api/v1/leases", &[], "");
        serde_json::from_str::<serde_json::Value>(&body)
            .is_ok_and(|l| l[0]["holding"].as_bool() == Some(true))
    }

    fn reconciled(&self) -> bool {
        let (_, body) = request(self.port, "GET", "/api/v1/functions", &[], "");
        serde_json::from_str::<serde_json::Value>(&body).is_ok_and(|f| {
            f.as_array()
                .is_some_and(|f| f.iter().any(|f| !f["lastReconciledAt"].is_null()))
        })
    }

    fn signal(&self, signal: &str) {
        Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
    }

    /// DynamoDB (reads, writes) through this replica's proxy since the last clear.
    fn lease_calls(&self) -> (usize, usize) {
        let seen = self.proxy.seen();
        let count = |actions: &[&str]| {
            seen.iter()
                .filter(|s| s.action.as_deref().is_some_and(|a| actions.contains(&a)))
                .count()
        };
        (count(&["GetItem"]), count(&["PutItem", "DeleteItem"]))
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn summary(name: &str, figures: &[Duration], target: Duration) {
    let mut sorted = figures.to_vec();
    sorted.sort();
    let max = *sorted.last().unwrap();
    println!(
        "{name}: {} (median {}, max {}; target <= {}: {})",
        figures
            .iter()
            .map(|d| seconds(*d))
            .collect::<Vec<_>>()
            .join(", "),
        seconds(sorted[sorted.len() / 2]),
        seconds(max),
        seconds(target),
        if max <= target { "met" } else { "NOT met" }
    );
}

fn main() {
    if !common::wanted("failover") {
        return;
    }
    let Some(binary) = common::release_bin() else {
        println!("failover benchmark: skipped: build target/release/shepherd first");
        return;
    };
    let trials: usize = std::env::var("SHEPHERD_BENCH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    println!("{}", common::machine());
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let created = Command::new(&binary)
        .args([
            "lease-table",
            "create",
            TABLE,
            "--endpoint-url",
            &emulator.endpoint,
        ])
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let proxy = || runtime.block_on(FaultProxy::start(&emulator.endpoint));
    let dir = tempfile::tempdir().unwrap();
    let specs: PathBuf = dir.path().join("specs-repo");
    copy_tree(&repo().join("examples/specs"), &specs.join("specs"));
    copy_tree(&repo().join("examples/app"), &specs.join("app"));

    let mut holder = Replica::start(&binary, proxy(), &specs, "r0");
    holder.wait("r0 holds", Duration::from_secs(30), Replica::holding);
    holder.wait(
        "r0 reconciled",
        Duration::from_secs(60),
        Replica::reconciled,
    );
    let mut standby = Replica::start(&binary, proxy(), &specs, "r1");
    std::thread::sleep(2 * HEARTBEAT);

    // The cost of a quiet lease, over a minute.
    holder.proxy.clear();
    standby.proxy.clear();
    let window = Duration::from_secs(60);
    std::thread::sleep(window);
    let beats = window.as_secs_f64() / HEARTBEAT.as_secs_f64();
    let (holder_reads, holder_writes) = holder.lease_calls();
    let (standby_reads, standby_writes) = standby.lease_calls();
    println!(
        "cost over {}: holder {holder_writes} writes, {holder_reads} reads = {:.2} writes per heartbeat (target 1); \
         standby {standby_reads} reads, {standby_writes} writes = {:.2} reads per heartbeat (target <= 1)",
        seconds(window),
        holder_writes as f64 / beats,
        standby_reads as f64 / beats
    );

    let mut next = 2;
    let mut crash = Vec::new();
    let mut crash_lease = Vec::new();
    for _ in 0..trials {
        holder.signal("KILL");
        let killed = Instant::now();
        standby.wait("takeover", LEASE * 2, Replica::holding);
        crash_lease.push(killed.elapsed());
        standby.wait("first reconcile", LEASE, Replica::reconciled);
        crash.push(killed.elapsed());
        holder = std::mem::replace(
            &mut standby,
            Replica::start(&binary, proxy(), &specs, &format!("r{next}")),
        );
        next += 1;
        std::thread::sleep(2 * HEARTBEAT);
    }
    let mut graceful = Vec::new();
    for _ in 0..trials {
        holder.signal("TERM");
        let stopped = Instant::now();
        standby.wait("first reconcile", LEASE * 2, Replica::reconciled);
        graceful.push(stopped.elapsed());
        let _ = holder.child.wait();
        holder = std::mem::replace(
            &mut standby,
            Replica::start(&binary, proxy(), &specs, &format!("r{next}")),
        );
        next += 1;
        std::thread::sleep(2 * HEARTBEAT);
    }
    println!(
        "kill -9 to the takeover: {}",
        crash_lease
            .iter()
            .map(|d| seconds(*d))
            .collect::<Vec<_>>()
            .join(", ")
    );
    summary(
        "kill -9 to the first reconcile",
        &crash,
        LEASE + Duration::from_secs(2),
    );
    summary(
        "SIGTERM to the first reconcile",
        &graceful,
        Duration::from_secs(2),
    );
    drop(holder);
    drop(standby);
}
