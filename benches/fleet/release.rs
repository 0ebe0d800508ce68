//! The canary and lifted parts: new code for a fleet through a one-step canary, with the
//! default budget against the limit, and with no budget against a boto3 script.

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shepherd_engine::budget::Rates;
use shepherd_engine::execute::Outcome;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::ReconcileOptions;
use shepherd_engine::settle::apply_until_settled;

use shepherd_core::cloud::CallClass;

use crate::common::{Clients, Summary, by_api, verdict};
use crate::fleet::{Aliases, ONE_STEP, Set, UNLIMITED, counts, metered, number};
use crate::support::{Emulator, repo};

/// The least any tool can spend on a one-step canary within the budget (new code, a
/// version, the canary's alias write, the promotion's, and one read of the alias).
const LIMIT_CALLS: f64 = 5.0;
const TARGET_OF_LIMIT: f64 = 1.2;
const TARGET_CALLS: f64 = 6.0;
const TARGET_FIRST_WRITE: Duration = Duration::from_secs(2);
const TARGET_OF_PEER: f64 = 1.5;

/// One release of a set's new code by `apply_until_settled`.
struct Released {
    seconds: f64,
    first_write: Option<Duration>,
    budgeted: u64,
    get_function: u64,
    other: u64,
    throttled: u64,
    by_api: String,
    /// Functions whose alias ends on a new version with no canary weight left.
    promoted: usize,
    failures: Vec<String>,
}

async fn release(
    clients: &Clients,
    set: &Set,
    rates: Rates,
    concurrency: usize,
    marker: &str,
) -> Released {
    let observer = clients.cloud();
    let before = set.aliases(&observer).await;
    set.write_code(marker);
    let desired = set.desired();
    let cloud = metered(clients, rates);
    let stats = cloud.stats().clone();
    let mut options = ReconcileOptions::default();
    options.execute.concurrency = concurrency;
    let start = Instant::now();
    let first_write = Arc::new(Mutex::new(None));
    let watch = tokio::spawn({
        let (stats, first_write) = (stats.clone(), first_write.clone());
        async move {
            while stats.writes() == 0 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            *first_write.lock().expect("first write") = Some(start.elapsed());
        }
    });
    let reports = apply_until_settled(&cloud, &desired, &options, &Silent).await;
    let seconds = start.elapsed().as_secs_f64();
    watch.abort();
    let after = set.aliases(&observer).await;
    let promoted = promoted(&before, &after);
    let failures = reports
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Applied))
        .take(5)
        .map(|r| format!("{}: {:?}", r.name, r.outcome))
        .collect();
    let c = counts(&stats);
    let first_write = *first_write.lock().expect("first write");
    Released {
        seconds,
        first_write,
        budgeted: c.lambda_control,
        get_function: c.get_function,
        other: c.other,
        throttled: c.throttled,
        by_api: by_api(&stats, |class| class == CallClass::LambdaControl),
        promoted,
        failures,
    }
}

impl Released {
    fn print(&self, count: usize) {
        println!(
            "  {} of {count} functions on the new version, promoted; {:.1} s; first write after {}",
            self.promoted,
            self.seconds,
            self.first_write
                .map_or("-".to_owned(), |d| format!("{:.3} s", d.as_secs_f64()))
        );
        for failure in &self.failures {
            println!("    not applied: {failure}");
        }
        println!(
            "  calls: {} budgeted ({:.2} per function: {}), {} GetFunction, {} other, {} throttled",
            self.budgeted,
            self.per_function(count),
            self.by_api,
            self.get_function,
            self.other,
            self.throttled
        );
    }

    fn per_function(&self, count: usize) -> f64 {
        self.budgeted as f64 / count as f64
    }
}

/// New code for `count` functions with the default budget.
pub async fn default_budget(emulator: &Emulator, root: &Path, count: usize) {
    let rates = Rates::default();
    println!(
        "[canary] new code for {count} functions through a one-step canary (10%, then promoted), default budget ({}/s), concurrency 16:",
        rates.lambda_control
    );
    let clients = Clients::new(&emulator.endpoint);
    let set = Set::write(root, "canary", count, ONE_STEP);
    set.create(&clients).await;
    let run = release(&clients, &set, rates, 16, "second build").await;
    run.print(count);
    let limit = LIMIT_CALLS * count as f64 / rates.lambda_control;
    let ratio = run.seconds / limit;
    println!(
        "  the limit: {LIMIT_CALLS} budgeted calls per function at {}/s = {limit:.1} s; shepherd {:.1} s = {ratio:.2}x the limit",
        rates.lambda_control, run.seconds
    );
    println!(
        "  the floor for shepherd's calls: {} budgeted calls at {}/s = {:.1} s (one token in the bucket at the start)",
        run.budgeted,
        rates.lambda_control,
        (run.budgeted as f64 - 1.0) / rates.lambda_control
    );
    println!(
        "  target (<= {TARGET_OF_LIMIT}x the limit): {}; target (<= {TARGET_CALLS} budgeted calls per function): {}; target (first write <= {} s): {}; every function promoted: {}",
        verdict(ratio <= TARGET_OF_LIMIT),
        verdict(run.per_function(count) <= TARGET_CALLS),
        TARGET_FIRST_WRITE.as_secs(),
        verdict(run.first_write.is_some_and(|d| d <= TARGET_FIRST_WRITE)),
        verdict(run.promoted == count)
    );
}

/// The same release with no budget, beside the boto3 script.
pub async fn lifted(emulator: &Emulator, root: &Path, count: usize) {
    let threads = number("SHEPHERD_BENCH_PEER_THREADS", 8);
    let concurrency = number("SHEPHERD_BENCH_CONCURRENCY", 32);
    let rounds = number("SHEPHERD_BENCH_ROUNDS", 3);
    println!(
        "[lifted] new code for {count} functions through a one-step canary, no budget: shepherd with concurrency {concurrency} beside a boto3 script with {threads} threads (benches/peer/canary.py), each on {count} functions of its own, {rounds} rounds in alternating order:"
    );
    let clients = Clients::new(&emulator.endpoint);
    let ours = Set::write(root, "lifted", count, ONE_STEP);
    ours.create(&clients).await;
    let theirs = Set::write(root, "peer", count, ONE_STEP);
    theirs.create(&clients).await;

    let (mut shepherd, mut script) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let marker = format!("build {}", round + 2);
        for first in [round % 2 == 0, round % 2 != 0] {
            if first {
                let cpu = cpu_seconds();
                let run = release(&clients, &ours, UNLIMITED, concurrency, &marker).await;
                let cpu = cpu_seconds() - cpu;
                println!("  round {}, shepherd:", round + 1);
                run.print(count);
                println!(
                    "  shepherd's CPU time: {cpu:.2} s ({:.0}% of a core while it ran)",
                    100.0 * cpu / run.seconds
                );
                shepherd.push(Duration::from_secs_f64(run.seconds));
            } else {
                let seconds = peer(emulator, &clients, &theirs, threads, &marker).await;
                script.push(Duration::from_secs_f64(seconds));
            }
        }
    }
    let (ours, theirs) = (Summary::new(&shepherd), Summary::new(&script));
    let ratio = ours.median().as_secs_f64() / theirs.median().as_secs_f64();
    println!("  shepherd: {}", ours.line("s"));
    println!("  boto3 script: {}", theirs.line("s"));
    println!(
        "  shepherd / boto3 script, medians: {ratio:.2}x; target (<= {TARGET_OF_PEER}x): {}",
        verdict(ratio <= TARGET_OF_PEER)
    );
}

/// The boto3 script's release of `set`; its wall time in seconds.
async fn peer(
    emulator: &Emulator,
    clients: &Clients,
    set: &Set,
    threads: usize,
    marker: &str,
) -> f64 {
    let observer = clients.cloud();
    let before = set.aliases(&observer).await;
    let output = Command::new(emulator.python())
        .arg(repo().join("benches/peer/canary.py"))
        .args([
            emulator.endpoint.as_str(),
            &set.prefix,
            &set.count.to_string(),
            &threads.to_string(),
            marker,
        ])
        .output()
        .expect("the boto3 script runs");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "the boto3 script failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let after = set.aliases(&observer).await;
    let seconds = report["seconds"].as_f64().unwrap_or(f64::NAN);
    let requests: u64 = report["requests"]
        .as_object()
        .map(|r| r.values().filter_map(serde_json::Value::as_u64).sum())
        .unwrap_or(0);
    println!(
        "  boto3 script: {} of {} functions on the new version, promoted; {seconds:.1} s; first write after {:.3} s; {requests} requests ({:.2} per function: {}); {} failed",
        promoted(&before, &after),
        set.count,
        report["first_write"].as_f64().unwrap_or(f64::NAN),
        requests as f64 / set.count as f64,
        report["requests"],
        report["failed"]
    );
    seconds
}

/// Functions whose alias moved to another version and routes no canary weight.
fn promoted(before: &Aliases, after: &Aliases) -> usize {
    after
        .iter()
        .filter(|(name, (version, canary))| {
            canary.is_none() && before.get(*name).is_some_and(|(old, _)| old != version)
        })
        .count()
}

/// CPU time (user and system) of this process so far, in seconds.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime, fields 14 and 15, in clock ticks (100 a second on Linux).
    [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum::<u64>() as f64
        / 100.0
}

/// The first-write part: how soon an apply of new code to a large fleet makes its first
/// write, with the default budget.
pub async fn first_write_part(emulator: &Emulator, root: &Path, size: usize) {
    println!(
        "[first-write] `apply --wait` of new code to {size} functions (a one-step canary each), default budget:"
    );
    let clients = Clients::new(&emulator.endpoint);
    let set = Set::write(root, &format!("w{size}"), size, ONE_STEP);
    set.create(&clients).await;
    let first = first_write(&clients, &set).await;
    println!(
        "  first write after {} (then the apply is stopped); target (<= {} s): {}",
        first.map_or("-".to_owned(), |d| format!("{:.3} s", d.as_secs_f64())),
        TARGET_FIRST_WRITE.as_secs(),
        verdict(first.is_some_and(|d| d <= TARGET_FIRST_WRITE))
    );
}

/// How soon an apply of new code to the whole set makes its first write, with the default
/// budget; the apply is then dropped (the set is left part-released).
async fn first_write(clients: &Clients, set: &Set) -> Option<Duration> {
    set.write_code("first-write build");
    let desired = set.desired();
    let cloud = metered(clients, Rates::default());
    let stats = cloud.stats().clone();
    let options = ReconcileOptions::default();
    let start = Instant::now();
    let apply = apply_until_settled(&cloud, &desired, &options, &Silent);
    let watch = async {
        while stats.writes() == 0 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        start.elapsed()
    };
    tokio::select! {
        first = watch => Some(first),
        _ = apply => None,
        () = tokio::time::sleep(Duration::from_secs(120)) => None,
    }
}
