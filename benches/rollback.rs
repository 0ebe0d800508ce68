//! How fast a canary goes back when its alarm fires, against the local AWS emulator.
//! Target (issue 4): from an alarm entering ALARM to the alias fully back on the stable
//! version, at most 1 s plus one alarm-poll interval, with the poll at its minimum, 5 s.
//!
//! The engine runs in-process as `shepherd apply --wait --alarm-poll 5s` does:
//! `apply_until_settled` over `Metered<AwsCloud>` with the default budget. One function
//! (zipped code, alias `live`, its managed errors alarm, a rollout `setWeight: 10` then a
//! one-hour pause) is created first; then each trial commits new code, which starts a
//! canary, waits a different time into the 5 s poll cycle (spread over it, so the trials
//! sample every phase of the poll), sets the alarm to ALARM with `SetAlarmState` (the
//! instant just before the call is the start) and polls the alias (`ListAliases`, every
//! 25 ms, on clients of its own, outside the budget) until it routes only to the stable
//! version, with no weights. The figure is that time; it overstates the truth by up to one
//! alias poll.
//!
//! ```text
//! SHEPHERD_MOTO_SERVER=/path/to/moto_server cargo bench -p shepherd-e2e --bench rollback
//! ```
//!
//! `SHEPHERD_BENCH_TRIALS` changes the 10 trials. Run without `--bench` (as
//! `cargo test --all-targets` does), it does nothing.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/mod.rs"]
mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ACCOUNT, Clients, Summary, verdict, wait_for_alias};
use shepherd_core::lint::LintConfig;
use shepherd_core::plan::PlanOptions;
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::execute::Outcome;
use shepherd_engine::metered::Metered;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{Desired, ReconcileOptions, resolve_desired};
use shepherd_engine::retry::RetryPolicy;
use shepherd_engine::settle::apply_until_settled;
use support::Emulator;

const FUNCTION: &str = "rollback-bench";
const ALIAS: &str = "live";
const ALARM: &str = "rollback-bench-errors";
const ROLE: &str = "shepherd-bench";
const ALARM_POLL: Duration = Duration::from_secs(5);
const ALIAS_POLL: Duration = Duration::from_millis(25);

fn main() {
    if !common::wanted("rollback") {
        return;
    }
    let trials = std::env::var("SHEPHERD_BENCH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10usize)
        .max(1);
    println!("{}", common::machine());
    let started = Instant::now();
    let emulator = Emulator::start();
    emulator.setup(&["role", ROLE]);
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let specs = write_repository(dir.path());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    runtime.block_on(run(&emulator.endpoint, &specs, trials));
    drop(runtime);
    drop(emulator);
    println!(
        "total time {:.0} s; the emulator is stopped",
        started.elapsed().as_secs_f64()
    );
}

fn write_repository(root: &Path) -> std::path::PathBuf {
    let app = root.join("app");
    std::fs::create_dir_all(&app).expect("create the code folder");
    std::fs::write(
        app.join("handler.py"),
        "def handler(event, context):\n    return {'statusCode': 200}\n",
    )
    .expect("write the code");
    let specs = root.join("specs");
    std::fs::create_dir_all(&specs).expect("create the spec folder");
    let spec = format!(
        "apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata:
  name: {FUNCTION}
spec:
  code:
    path: ../app
  handler: handler.handler
  runtime: python3.12
  role: arn:aws:iam::{ACCOUNT}:role/{ROLE}
  alias:
    name: {ALIAS}
  alarms:
    errors:
      threshold: 1
  rollout:
    steps:
      - setWeight: 10
      - pause: {{duration: 1h}}
"
    );
    std::fs::write(specs.join(format!("{FUNCTION}.yaml")), spec).expect("write the spec");
    specs
}

/// A new release: the code changes, so does the release digest.
fn commit(specs: &Path, trial: usize) {
    let file = specs
        .parent()
        .expect("the repository")
        .join("app/handler.py");
    let mut text = std::fs::read_to_string(&file).expect("read the code");
    text.push_str(&format!("# release {}\n", trial + 2));
    std::fs::write(file, text).expect("write the code");
}

fn load(specs: &Path) -> Desired {
    let report = shepherd_core::check_specs(&[specs.to_owned()], &LintConfig::default());
    assert!(report.is_valid(), "the spec is invalid");
    resolve_desired(&report.functions, &[])
}

async fn run(endpoint: &str, specs: &Path, trials: usize) {
    let clients = Clients::new(endpoint);
    let observer = clients.cloud();
    // What `shepherd apply --wait --alarm-poll 5s` runs.
    let engine = Metered::new(
        clients.cloud(),
        Arc::new(Budget::new(Rates::default())),
        RetryPolicy::default(),
    );
    let options = ReconcileOptions {
        plan: PlanOptions {
            alarm_poll: ALARM_POLL,
            // The emulator numbers a new version len(versions) + 1, so after pruning it
            // hands out a number again: keep every version.
            keep_versions: 1000,
            ..PlanOptions::default()
        },
        ..ReconcileOptions::default()
    };
    let created = apply_until_settled(&engine, &load(specs), &options, &Silent).await;
    assert!(
        created.iter().all(|r| r.outcome == Outcome::Applied),
        "creating the function failed: {created:?}"
    );
    println!(
        "[rollback] {FUNCTION} created; {trials} trials: new code starts a canary (10%, then a 1 h pause), `apply --wait` loop with --alarm-poll 5s, then {ALARM} enters ALARM"
    );
    let mut latencies = Vec::new();
    let mut canary_starts = Vec::new();
    for trial in 0..trials {
        clients.set_alarm(ALARM, "OK").await;
        commit(specs, trial);
        let desired = load(specs);
        let (stable, _) = common::alias(&observer, FUNCTION, ALIAS)
            .await
            .expect("the alias exists");
        // The pass that starts the canary asks for the next one a second later
        // (`MIN_PASS_INTERVAL`); from then on, passes come every 5 s. Spread over that
        // cycle: 1 s + a permutation of (k + 0.5) / trials of 5 s.
        let phase = Duration::from_secs(1)
            + ALARM_POLL.mul_f64(((trial * 7) % trials) as f64 + 0.5) / trials as u32;
        let measure = async {
            let begun = Instant::now();
            let canary = wait_for_alias(
                &observer,
                FUNCTION,
                ALIAS,
                ALIAS_POLL,
                Duration::from_secs(60),
                |_, additional| additional.is_some(),
            )
            .await
            .expect("the canary starts within 60 s");
            let canary_start = begun.elapsed();
            tokio::time::sleep(phase).await;
            let fired = Instant::now();
            clients.set_alarm(ALARM, "ALARM").await;
            let back = wait_for_alias(
                &observer,
                FUNCTION,
                ALIAS,
                ALIAS_POLL,
                Duration::from_secs(120),
                |version, additional| version == stable && additional.is_none(),
            )
            .await;
            (canary, canary_start, back.map(|_| fired.elapsed()))
        };
        let (reports, (canary, canary_start, latency)) = tokio::join!(
            apply_until_settled(&engine, &desired, &options, &Silent),
            measure
        );
        let latency = latency.expect("the alias goes back within 120 s");
        println!(
            "  trial {:2}: canary version {} at {:.0}% after {:.2} s; alarm set {:.2} s later; alias back on version {stable} after {:.3} s ({})",
            trial + 1,
            canary.1.as_ref().map_or("-", |c| c.0.as_str()),
            canary.1.as_ref().map_or(0.0, |c| c.1 * 100.0),
            canary_start.as_secs_f64(),
            phase.as_secs_f64(),
            latency.as_secs_f64(),
            reports
                .first()
                .map_or("no report".to_owned(), |r| format!("{:?}", r.outcome))
        );
        latencies.push(latency);
        canary_starts.push(canary_start);
    }
    let summary = Summary::new(&latencies);
    let target = Duration::from_secs(1) + ALARM_POLL;
    println!(
        "  alarm in ALARM -> alias back on the stable version: {}",
        summary.line("s")
    );
    println!(
        "  (new code -> canary at 10%, for reference: {})",
        Summary::new(&canary_starts).line("s")
    );
    println!(
        "  target (<= 1 s + one {} s alarm poll = {} s, every trial): {}",
        ALARM_POLL.as_secs(),
        target.as_secs(),
        verdict(summary.max() <= target)
    );
    let calls = engine.stats().snapshot();
    let describe: u64 = calls
        .iter()
        .filter(|(api, _, _)| *api == "DescribeAlarms")
        .map(|(_, _, n)| n)
        .sum();
    println!(
        "  engine calls over the whole run: {} in all, {describe} DescribeAlarms",
        engine.stats().total()
    );
}
