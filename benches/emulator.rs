//! shepherd against the local AWS emulator (moto server): does a fleet-wide apply run at
//! the Lambda quota, does a converged reconcile cost nothing, and how much memory does
//! managing 1,000 functions take.
//!
//! Starts a moto server of its own on a free loopback port (`$SHEPHERD_MOTO_SERVER`, else
//! `.venv/bin/moto_server`), creates the IAM role and SQS queues the specs refer to, and
//! generates function specs (code zipped from small local directories, aliases, alarms,
//! reserved concurrency, async invocation, SQS sources, rollouts) into a temporary
//! directory. Every AWS call goes through `Metered<AwsCloud>`, as in `shepherd apply`.
//!
//! - budget: apply 200 new functions with the default budget (15 Lambda control-plane calls
//!   per second: every Lambda call but `GetFunction`, reads and writes alike). Reports the
//!   achieved rate against the budget. Target: within it, and at least 90% of it when the
//!   emulator is not the bottleneck.
//! - noop: reconcile the same 200 functions again (plan and apply). Target: no write, at
//!   most 2 reads per function.
//! - capacity: the same apply of 200 other functions with no budget at all: the rate the
//!   emulator sustains, to tell whether it or the budget bounds the first run.
//! - slow: 30 functions with a budget of 5 calls per second (`--lambda-rate 5`): the rate
//!   follows the budget.
//! - rss-fake: peak RSS (VmHWM) of a reconcile (observe and plan, from reading the specs
//!   on) of 1,000 converged functions against the in-memory fake, in a process of its own.
//!   The fake's state lives in the same process: the figures give the RSS at start, with
//!   the fake's state, and the peak during the reconcile (VmHWM reset before it), and the
//!   target is judged on the whole process, fake included. Target: at most 50 MB.
//! - rss-cli: the release `shepherd plan` binary's peak RSS against the emulator holding
//!   the same 1,000 functions (created first, with no budget), measured from outside by
//!   `/usr/bin/time -v` (else by polling `/proc/PID/status`). Needs
//!   `cargo build --release -p shepherd` first; skipped otherwise.
//!
//! ```text
//! cargo build --release -p shepherd
//! SHEPHERD_MOTO_SERVER=/path/to/moto_server cargo bench -p shepherd-e2e --bench emulator
//! ```
//!
//! `SHEPHERD_BENCH_PARTS` picks parts (comma-separated, default all, in the order above;
//! `noop` needs `budget`). `SHEPHERD_BENCH_FUNCTIONS` changes the 200, `SHEPHERD_BENCH_FLEET`
//! the 1,000. Run without `--bench` (as `cargo test --all-targets` does), it does nothing.
//!
//! The AWS SDK reads test credentials from the environment; since changing the environment
//! of a running process is unsafe (and this workspace forbids unsafe code), the benchmark
//! runs itself again as a child process with them set.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shepherd_aws::AwsCloud;
use shepherd_core::cloud::CallClass;
use shepherd_core::lint::LintConfig;
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::execute::Outcome;
use shepherd_engine::metered::Metered;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{Desired, ReconcileOptions, apply, plan, resolve_desired};
use shepherd_engine::retry::RetryPolicy;
use shepherd_engine::stats::CallStats;
use shepherd_fake::FakeCloud;
use support::Emulator;

/// Which process this is: unset in the one cargo starts, which runs the others.
const ROLE: &str = "SHEPHERD_BENCH_ROLE";
const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
const ROLE_NAME: &str = "shepherd-bench";
const FAILURE_QUEUE: &str = "bench-failures";
const INPUT_QUEUES: usize = 4;
const TARGET_RSS_MB: f64 = 50.0;
/// No budget: rates no endpoint reaches.
const UNLIMITED: Rates = Rates {
    get_function: 1e6,
    lambda_control: 1e6,
    cloudwatch: 1e6,
};

fn main() -> ExitCode {
    match std::env::var(ROLE).ok().as_deref() {
        None => {
            if !std::env::args().any(|a| a == "--bench") {
                println!(
                    "emulator benchmark: skipped (run it with `cargo bench -p shepherd-e2e --bench emulator`)"
                );
                return ExitCode::SUCCESS;
            }
            rerun_as("main", &[])
        }
        Some("main") => {
            run_main();
            ExitCode::SUCCESS
        }
        Some("rss-fake") => {
            rss_fake(Path::new(
                &std::env::var_os("SHEPHERD_BENCH_SPECS").expect("SHEPHERD_BENCH_SPECS is set"),
            ));
            ExitCode::SUCCESS
        }
        Some(other) => panic!("unknown {ROLE} {other:?}"),
    }
}

/// Runs this benchmark again as `role`, with test credentials in its environment.
fn rerun_as(role: &str, env: &[(&str, &str)]) -> ExitCode {
    let status = Command::new(std::env::current_exe().expect("the benchmark's path"))
        .args(std::env::args().skip(1))
        .env(ROLE, role)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .envs(env.iter().copied())
        .status()
        .expect("the benchmark runs itself");
    if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_main() {
    let parts = std::env::var("SHEPHERD_BENCH_PARTS")
        .unwrap_or_else(|_| "budget,noop,capacity,slow,rss-fake,rss-cli".to_owned());
    let wants = |part: &str| parts.split(',').any(|p| p.trim() == part);
    let functions = env_number("SHEPHERD_BENCH_FUNCTIONS", 200);
    let fleet = env_number("SHEPHERD_BENCH_FLEET", 1_000);
    let started = Instant::now();
    println!(
        "machine: {} cores, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    let dir = tempfile::tempdir().expect("create a temporary directory");
    write_code(dir.path());
    let sets: BTreeMap<&str, PathBuf> = [
        ("bench", functions),
        ("cap", functions),
        ("slow", 30),
        ("fleet", fleet),
    ]
    .into_iter()
    .map(|(prefix, count)| (prefix, write_specs(dir.path(), prefix, count)))
    .collect();

    // The in-memory part needs no emulator: run it first, while the machine is quiet.
    if wants("rss-fake") {
        println!();
        let specs = sets["fleet"].to_str().expect("a UTF-8 path");
        if rerun_as("rss-fake", &[("SHEPHERD_BENCH_SPECS", specs)]) != ExitCode::SUCCESS {
            println!("[rss-fake] FAILED (see above)");
        }
    }

    let emulator = Emulator::start();
    emulator.setup(&["role", ROLE_NAME]);
    emulator.setup(&["queue", FAILURE_QUEUE]);
    for q in 0..INPUT_QUEUES {
        emulator.setup(&["queue", &format!("bench-in-{q}")]);
    }
    println!(
        "emulator: moto server at {}, ready in {:.1} s",
        emulator.endpoint,
        started.elapsed().as_secs_f64()
    );
    let endpoint = emulator.endpoint.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");

    let mut capacity = None;
    let mut budget_run = None;
    if wants("budget") {
        println!();
        let run = runtime.block_on(apply_run(&endpoint, &sets["bench"], Rates::default()));
        run.print(
            &format!("[budget] apply of {functions} new functions, default budget"),
            Some(Rates::default().lambda_control),
        );
        budget_run = Some(run);
    }
    if wants("noop") && budget_run.is_some() {
        println!();
        runtime.block_on(noop_run(&endpoint, &sets["bench"]));
    }
    if wants("capacity") {
        println!();
        let run = runtime.block_on(apply_run(&endpoint, &sets["cap"], UNLIMITED));
        run.print(
            &format!("[capacity] apply of {functions} other new functions, no budget"),
            None,
        );
        capacity = Some(run.lambda_control_rate());
    }
    if let (Some(run), Some(capacity)) = (&budget_run, capacity) {
        verdict_budget(run, Rates::default().lambda_control, capacity);
    }
    if wants("slow") {
        println!();
        let rates = Rates {
            lambda_control: 5.0,
            ..Rates::default()
        };
        let run = runtime.block_on(apply_run(&endpoint, &sets["slow"], rates));
        run.print(
            "[slow] apply of 30 new functions, --lambda-rate 5",
            Some(rates.lambda_control),
        );
    }
    if wants("rss-cli") {
        println!();
        rss_cli(&runtime, &endpoint, &sets["fleet"], fleet);
    }
    drop(runtime);
    drop(emulator);
    println!();
    println!(
        "total time {:.0} s; the emulator is stopped",
        started.elapsed().as_secs_f64()
    );
}

// Spec generation.

/// Small code directories, zipped by shepherd for each function that uses them.
fn write_code(root: &Path) {
    let files: [(&str, &str); 5] = [
        (
            "app/python-api/handler.py",
            "from lib.util import reply\n\ndef handler(event, context):\n    return reply(200)\n",
        ),
        (
            "app/python-api/lib/util.py",
            "def reply(status):\n    return {'statusCode': status}\n",
        ),
        (
            "app/python-worker/handler.py",
            "def handler(event, context):\n    return len(event.get('Records', []))\n",
        ),
        (
            "app/node-api/index.mjs",
            "export const handler = async () => ({ statusCode: 200 });\n",
        ),
        ("app/node-api/package.json", "{\"type\": \"module\"}\n"),
    ];
    for (path, text) in files {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("a parent folder")).expect("create app dir");
        std::fs::write(path, text).expect("write app file");
    }
}

/// Writes `count` function specs named `PREFIX-NNNN` under `ROOT/PREFIX/specs`.
fn write_specs(root: &Path, prefix: &str, count: usize) -> PathBuf {
    let specs = root.join(prefix).join("specs");
    std::fs::create_dir_all(&specs).expect("create spec dir");
    let mut text = String::new();
    for i in 0..count {
        text.clear();
        spec(&mut text, prefix, i);
        std::fs::write(specs.join(format!("{prefix}-{i:04}.yaml")), &text).expect("write spec");
    }
    specs
}

/// One function spec; which options it has varies with `i`.
fn spec(out: &mut String, prefix: &str, i: usize) {
    let name = format!("{prefix}-{i:04}");
    let (code, handler, runtime) = match i % 3 {
        0 => ("python-api", "handler.handler", "python3.12"),
        1 => ("python-worker", "handler.handler", "python3.12"),
        _ => ("node-api", "index.handler", "nodejs20.x"),
    };
    let has_alias = i % 4 != 3;
    let _ = writeln!(
        out,
        "apiVersion: shepherd.dev/v1alpha1\nkind: Function\nmetadata:\n  name: {name}\n  labels:\n    team: team-{}\nspec:",
        i % 5
    );
    let _ = writeln!(out, "  description: Benchmark function {i}");
    let _ = writeln!(out, "  code:\n    path: ../../app/{code}");
    let _ = writeln!(out, "  handler: {handler}\n  runtime: {runtime}");
    if i.is_multiple_of(2) {
        out.push_str("  architectures: [arm64]\n");
    }
    let _ = writeln!(out, "  role: arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}");
    let _ = writeln!(out, "  memory: {}", [128, 256, 512, 1024][i % 4]);
    let _ = writeln!(out, "  timeout: {}", ["3s", "10s", "30s", "1m"][i % 4]);
    let _ = writeln!(
        out,
        "  environment:\n    SERVICE_NAME: {name}\n    STAGE: bench"
    );
    for k in 0..(i % 3) {
        let _ = writeln!(out, "    FEATURE_{k}: \"on\"");
    }
    if i.is_multiple_of(2) {
        out.push_str("  tracing: Active\n");
    }
    if i.is_multiple_of(3) {
        out.push_str("  logging:\n    format: JSON\n");
    }
    let _ = writeln!(
        out,
        "  tags:\n    team: team-{}\n    cost-center: \"{}\"",
        i % 5,
        4000 + i % 7
    );
    if i.is_multiple_of(3) {
        let _ = writeln!(out, "  reservedConcurrency: {}", 5 + i % 10);
    }
    if has_alias {
        out.push_str("  alias:\n    name: live\n");
    }
    match i % 5 {
        1 => {
            let _ = writeln!(
                out,
                "  eventSources:\n    sqs:\n      - queue: arn:aws:sqs:{REGION}:{ACCOUNT}:bench-in-{}\n        batchSize: 10",
                i % INPUT_QUEUES
            );
        }
        2 => {
            let _ = writeln!(
                out,
                "  asyncInvocation:\n    maximumRetryAttempts: 1\n    onFailure: arn:aws:sqs:{REGION}:{ACCOUNT}:{FAILURE_QUEUE}"
            );
        }
        _ => {}
    }
    let _ = writeln!(
        out,
        "  alarms:\n    errors:\n      threshold: {}",
        1 + i % 5
    );
    if i.is_multiple_of(3) {
        out.push_str("    throttles: {}\n");
    }
    if i.is_multiple_of(4) {
        out.push_str("    duration:\n      percentile: p99\n      threshold: 2s\n");
    }
    if has_alias && i.is_multiple_of(2) {
        out.push_str("  rollout:\n    strategy: Canary10Percent5Minutes\n");
    }
}

/// Validates and resolves the specs (zipping the code), as `shepherd plan` does.
fn load(specs: &Path) -> Desired {
    let report = shepherd_core::check_specs(&[specs.to_owned()], &LintConfig::default());
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == shepherd_core::diagnostic::Severity::Error)
        .take(5)
        .map(ToString::to_string)
        .collect();
    assert!(
        errors.is_empty(),
        "generated specs are invalid: {errors:#?}"
    );
    let desired = resolve_desired(&report.functions, &[]);
    assert!(
        desired.errors.is_empty(),
        "packaging failed: {:?}",
        desired.errors
    );
    desired
}

// Applies through the budget.

async fn metered(endpoint: &str, rates: Rates) -> Metered<AwsCloud> {
    let cloud = AwsCloud::from_env(Some(REGION.into()), Some(endpoint.to_owned())).await;
    Metered::new(cloud, Arc::new(Budget::new(rates)), RetryPolicy::default())
}

/// Counts of a stats snapshot by class of call.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    get_function: u64,
    lambda_control: u64,
    cloudwatch: u64,
    writes: u64,
    throttled: u64,
}

fn counts(stats: &CallStats) -> Counts {
    let mut counts = Counts::default();
    for (api, outcome, n) in stats.snapshot() {
        match api.class() {
            CallClass::GetFunction => counts.get_function += n,
            CallClass::LambdaControl => counts.lambda_control += n,
            CallClass::CloudWatch => counts.cloudwatch += n,
            CallClass::Sqs | CallClass::S3 | CallClass::Ecr | CallClass::Invoke => {}
        }
        if api.is_write() {
            counts.writes += n;
        }
        if outcome == "throttled" {
            counts.throttled += n;
        }
    }
    counts
}

/// One apply of new functions, with the Lambda control-plane calls sampled over time.
struct ApplyRun {
    functions: usize,
    applied: usize,
    failures: Vec<String>,
    skipped: BTreeMap<String, usize>,
    elapsed: Duration,
    stats: Arc<CallStats>,
    /// (seconds since start, Lambda control-plane calls so far), every 100 ms.
    samples: Vec<(f64, u64)>,
}

async fn apply_run(endpoint: &str, specs: &Path, rates: Rates) -> ApplyRun {
    let desired = load(specs);
    let cloud = metered(endpoint, rates).await;
    let stats = cloud.stats().clone();
    let options = ReconcileOptions::default();
    let samples = Arc::new(Mutex::new(Vec::new()));
    let start = Instant::now();
    let sampler = tokio::spawn({
        let (stats, samples) = (stats.clone(), samples.clone());
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let sample = (start.elapsed().as_secs_f64(), counts(&stats).lambda_control);
                samples.lock().expect("samples").push(sample);
            }
        }
    });
    let planned = plan(&cloud, &desired, &options).await;
    let reports = apply(&cloud, planned, &options, &Silent).await;
    let elapsed = start.elapsed();
    sampler.abort();
    let mut samples = std::mem::take(&mut *samples.lock().expect("samples"));
    samples.push((elapsed.as_secs_f64(), counts(&stats).lambda_control));

    let mut run = ApplyRun {
        functions: desired.functions.len(),
        applied: 0,
        failures: Vec::new(),
        skipped: BTreeMap::new(),
        elapsed,
        stats,
        samples,
    };
    for report in reports {
        match &report.outcome {
            Outcome::Applied => run.applied += 1,
            Outcome::Failed { error, .. } => run.failures.push(format!("{}: {error}", report.name)),
            other => run.failures.push(format!("{}: {other:?}", report.name)),
        }
        for skipped in &report.skipped {
            let api = skipped
                .rsplit_once('(')
                .map_or(skipped.as_str(), |(_, api)| api.trim_end_matches(')'));
            *run.skipped.entry(api.to_owned()).or_default() += 1;
        }
    }
    run
}

impl ApplyRun {
    fn lambda_control_rate(&self) -> f64 {
        counts(&self.stats).lambda_control as f64 / self.elapsed.as_secs_f64()
    }

    /// The rate between the calls at 10% and at 90% of the total: the steady state, without
    /// the start (reads of `GetFunction` only) and the tail (the last functions finishing).
    fn steady_rate(&self) -> f64 {
        let total = self.samples.last().map_or(0, |s| s.1) as f64;
        let at = |fraction: f64| {
            self.samples
                .iter()
                .find(|(_, n)| *n as f64 >= fraction * total)
                .copied()
                .unwrap_or_default()
        };
        let ((t10, n10), (t90, n90)) = (at(0.1), at(0.9));
        if t90 > t10 {
            (n90 - n10) as f64 / (t90 - t10)
        } else {
            0.0
        }
    }

    /// Most calls in any window of `seconds` (from the 100 ms samples).
    fn busiest(&self, seconds: f64) -> u64 {
        let mut best = 0;
        for (i, (t0, n0)) in self.samples.iter().enumerate() {
            let end = self.samples[i..]
                .iter()
                .take_while(|(t, _)| *t <= t0 + seconds + 1e-9)
                .last()
                .map_or(*n0, |s| s.1);
            best = best.max(end - n0);
        }
        best
    }

    fn print(&self, title: &str, budget: Option<f64>) {
        let c = counts(&self.stats);
        let seconds = self.elapsed.as_secs_f64();
        println!("{title} (concurrency 16):");
        println!(
            "  {} of {} functions applied, {} failed, in {seconds:.1} s (plan and apply)",
            self.applied,
            self.functions,
            self.failures.len()
        );
        for failure in self.failures.iter().take(5) {
            println!("    failed: {failure}");
        }
        if !self.skipped.is_empty() {
            let skipped: Vec<String> = self
                .skipped
                .iter()
                .map(|(api, n)| format!("{api} x{n}"))
                .collect();
            println!(
                "  skipped, not implemented by the emulator: {}",
                skipped.join(", ")
            );
        }
        println!(
            "  calls: {} Lambda control-plane, {} GetFunction, {} CloudWatch ({} writes, {} throttled)",
            c.lambda_control, c.get_function, c.cloudwatch, c.writes, c.throttled
        );
        println!(
            "  Lambda control-plane calls: {}",
            common::by_api(&self.stats, |class| class == CallClass::LambdaControl)
        );
        let overall = self.lambda_control_rate();
        let steady = self.steady_rate();
        let (one, ten) = (self.busiest(1.0), self.busiest(10.0));
        let share = |rate: f64| match budget {
            Some(budget) => format!(" ({:.0}% of the budget)", 100.0 * rate / budget),
            None => String::new(),
        };
        println!(
            "  Lambda control-plane rate: {overall:.2}/s over the whole run{}; {steady:.2}/s steady (calls 10% to 90%){}",
            share(overall),
            share(steady)
        );
        println!(
            "  busiest 1 s: {one} calls; busiest 10 s: {ten} calls ({:.1}/s); all calls: {:.1}/s",
            ten as f64 / 10.0,
            (c.lambda_control + c.get_function + c.cloudwatch) as f64 / seconds
        );
        if let Some(budget) = budget {
            println!(
                "  within the budget of {budget}/s: {}",
                verdict(self.within(budget))
            );
        }
    }

    /// Whether no window saw more calls than the budget allows. The bucket holds at most
    /// one second's worth (filled while nothing spends it, as during the `GetFunction`
    /// reads at the start), so a window of T seconds may see `budget * (T + 1)` calls.
    fn within(&self, budget: f64) -> bool {
        let total = counts(&self.stats).lambda_control as f64;
        total <= budget * (self.elapsed.as_secs_f64() + 1.0)
            && self.busiest(10.0) as f64 <= budget * 11.0
            && self.busiest(1.0) as f64 <= budget * 2.0
    }
}

fn verdict_budget(run: &ApplyRun, budget: f64, capacity: f64) {
    let overall = run.lambda_control_rate();
    let bound = capacity >= 2.0 * budget;
    println!();
    println!(
        "[budget] verdict: the emulator sustains {capacity:.1} Lambda control-plane calls/s without a budget ({:.1}x the budget): it {} the bottleneck at {budget}/s",
        capacity / budget,
        if bound { "is not" } else { "may be" }
    );
    println!(
        "[budget] target (within the budget and at least 90% of it): {:.0}% over the whole run, {:.0}% steady: {}",
        100.0 * overall / budget,
        100.0 * run.steady_rate() / budget,
        verdict(run.within(budget) && overall >= 0.9 * budget)
    );
}

/// Reconciles converged functions: plan, and apply (of nothing).
async fn noop_run(endpoint: &str, specs: &Path) {
    let desired = load(specs);
    let functions = desired.functions.len();
    let cloud = metered(endpoint, Rates::default()).await;
    let options = ReconcileOptions::default();
    let start = Instant::now();
    let planned = plan(&cloud, &desired, &options).await;
    let changed: Vec<String> = planned
        .plans
        .iter()
        .filter(|p| !p.actions.is_empty())
        .map(|p| {
            let kinds: Vec<&str> = p.actions.iter().map(|a| a.kind()).collect();
            format!("{}: {}", p.name, kinds.join(", "))
        })
        .collect();
    let errors = planned.errors.clone();
    let reports = apply(&cloud, planned, &options, &Silent).await;
    let elapsed = start.elapsed().as_secs_f64();
    let c = counts(cloud.stats());
    let reads = cloud.stats().reads();
    println!("[noop] reconcile of the same {functions} converged functions (plan and apply):");
    println!(
        "  {} with changes planned, {} not observed, {} reports, in {elapsed:.1} s",
        changed.len(),
        errors.len(),
        reports.len()
    );
    for change in changed.iter().take(5) {
        println!("    planned: {change}");
    }
    for (name, error) in errors.iter().take(5) {
        println!("    not observed: {name}: {error}");
    }
    println!(
        "  writes: {}; reads: {reads} ({:.2} per function): {}",
        c.writes,
        reads as f64 / functions as f64,
        common::by_api(cloud.stats(), |_| true)
    );
    println!(
        "  target (no write, at most 2 reads per function): {}",
        verdict(c.writes == 0 && reads as f64 <= 2.0 * functions as f64)
    );
}

// Memory.

/// (VmRSS, VmHWM) of this process in KiB.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    (field_kib(&status, "VmRSS:"), field_kib(&status, "VmHWM:"))
}

fn field_kib(status: &str, field: &str) -> u64 {
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn mb(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The in-memory part, in a process of its own: converge the fake, then measure a
/// reconcile as `shepherd plan` makes it.
fn rss_fake(specs: &Path) {
    let (start_rss, _) = rss();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let fake = FakeCloud::new();
    fake.set_settle_reads(0);
    fake.set_provisioned_reads(0);
    let options = ReconcileOptions::default();
    let functions = runtime.block_on(async {
        let desired = load(specs);
        let planned = plan(&fake, &desired, &options).await;
        let reports = apply(&fake, planned, &options, &Silent).await;
        let failed: Vec<_> = reports
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Applied))
            .map(|r| format!("{}: {:?}", r.name, r.outcome))
            .take(5)
            .collect();
        assert!(
            failed.is_empty(),
            "applying to the fake failed: {failed:#?}"
        );
        desired.functions.len()
    });
    fake.reset_calls();
    // Everything but the fake's state is dropped; what the allocator keeps of it is counted
    // with the fake.
    let (fake_rss, _) = rss();
    // Peak RSS from here on: resetting VmHWM to the current RSS (Linux 4.0 and later).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();

    let (changes, calls) = runtime.block_on(async {
        // What `shepherd plan` does: validate and resolve the specs, observe, plan.
        let desired = load(specs);
        let cloud = Metered::new(
            fake.clone(),
            Arc::new(Budget::new(UNLIMITED)),
            RetryPolicy::default(),
        );
        let planned = plan(&cloud, &desired, &options).await;
        let changes = planned
            .plans
            .iter()
            .filter(|p| !p.actions.is_empty())
            .count();
        (changes + planned.errors.len(), cloud.stats().total())
    });
    let (end_rss, peak) = rss();
    println!(
        "[rss-fake] reconcile (observe and plan) of {functions} converged functions against the in-memory fake, in a process of its own:"
    );
    println!(
        "  {functions} functions, {changes} with changes or errors (expected 0), {calls} calls"
    );
    println!(
        "  RSS at start: {:.1} MB; with the fake's state: {:.1} MB (+{:.1} MB: the fake, and what the allocator kept from converging it); after the reconcile: {:.1} MB",
        mb(start_rss),
        mb(fake_rss),
        mb(fake_rss.saturating_sub(start_rss)),
        mb(end_rss)
    );
    if reset {
        println!(
            "  peak RSS (VmHWM) during the reconcile: {:.1} MB for the whole process, the fake's state included; {:.1} MB above the state before it (an underestimate of the reconcile's own memory: it reuses what the allocator kept)",
            mb(peak),
            mb(peak.saturating_sub(fake_rss))
        );
        println!(
            "  target (<= {TARGET_RSS_MB} MB, judged on the whole process, fake included): {}",
            verdict(mb(peak) <= TARGET_RSS_MB)
        );
    } else {
        println!(
            "  peak RSS (VmHWM) of the whole process: {:.1} MB (could not reset the peak: converging the fake counts too)",
            mb(peak)
        );
        println!(
            "  target (<= {TARGET_RSS_MB} MB): {}",
            verdict(mb(peak) <= TARGET_RSS_MB)
        );
    }
}

/// Creates `count` functions in the emulator, then measures `shepherd plan` on them.
fn rss_cli(runtime: &tokio::runtime::Runtime, endpoint: &str, specs: &Path, count: usize) {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| support::repo().join("target"));
    let binary = std::env::var_os("SHEPHERD_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target.join("release").join("shepherd"));
    if !binary.exists() {
        println!(
            "[rss-cli] skipped: {} is missing (build it with `cargo build --release -p shepherd`)",
            binary.display()
        );
        return;
    }
    let run = runtime.block_on(apply_run(endpoint, specs, UNLIMITED));
    run.print(
        &format!("[rss-cli] setup: apply of {count} new functions, no budget"),
        None,
    );
    if run.applied != count {
        println!("[rss-cli] skipped: not every function could be created");
        return;
    }
    let specs_arg = specs.to_str().expect("a UTF-8 path");
    // The default budget would spend a minute on ListAliases at 15/s; memory does not
    // depend on the rate (the concurrency is the same).
    let args = ["plan", specs_arg, "--lambda-rate", "100"];
    let command = |program: &Path| {
        let mut command = Command::new(program);
        command
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    };
    let start = Instant::now();
    let time = Path::new("/usr/bin/time");
    let (status, peak_kib, how) = if time.exists() {
        let output = command(time)
            .arg("-v")
            .arg(&binary)
            .args(args)
            .output()
            .expect("/usr/bin/time runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let peak = stderr
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("Maximum resident set size (kbytes):")
                    .and_then(|n| n.trim().parse().ok())
            })
            .unwrap_or(0);
        (output.status, peak, "/usr/bin/time -v")
    } else {
        let mut child = command(&binary)
            .args(args)
            .stderr(Stdio::null())
            .spawn()
            .expect("shepherd runs");
        let status_path = format!("/proc/{}/status", child.id());
        let mut peak = 0;
        let status = loop {
            if let Ok(text) = std::fs::read_to_string(&status_path) {
                peak = peak.max(field_kib(&text, "VmHWM:"));
            }
            if let Some(status) = child.try_wait().expect("wait for shepherd") {
                break status;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status, peak, "polling /proc/PID/status every 20 ms")
    };
    println!(
        "[rss-cli] `shepherd {}` over {count} converged functions in the emulator:",
        args.join(" ")
    );
    println!(
        "  exit code {} (0: no changes), {:.1} s; peak RSS {:.1} MB (measured by {how})",
        status.code().unwrap_or(-1),
        start.elapsed().as_secs_f64(),
        mb(peak_kib)
    );
    println!(
        "  target (<= {TARGET_RSS_MB} MB): {}",
        verdict(peak_kib > 0 && mb(peak_kib) <= TARGET_RSS_MB)
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
