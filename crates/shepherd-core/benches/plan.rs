//! How fast the planner is: `plan_all` over 10,000 functions, desired and observed in
//! memory.
//!
//! The inputs are built before any timing: 10,000 realistic specs (varied code sources,
//! aliases, concurrency, async config, SQS sources, alarms, rollouts) are generated as YAML
//! text, parsed, validated and resolved in memory (the only files are the empty folders
//! that validation checks local code paths against), and the observation is built to be
//! exactly what `observe` returns for AWS in this mix:
//!
//! - 70% converged: the recorded spec digest matches, so only `GetFunction` (and
//!   `ListAliases`) were read; the plan is empty;
//! - 10% configuration drift: digest matches, but memory, an environment variable or the
//!   timeout was changed behind shepherd's back;
//! - 10% code change: the spec points to new code, so every sub-resource was read;
//! - 10% new: the function does not exist.
//!
//! A second scenario reads every sub-resource of every existing function (as
//! `--refresh full` does), which makes each converged function more work to plan.
//!
//! Each scenario times `plan_all` alone (the inputs exist, the plans are dropped after the
//! clock stops): best and median wall time of several runs, the mean time the thread spent
//! on a CPU (which, unlike wall time, leaves out waiting for a core on a busy machine),
//! the cost per function, and the cost of each kind of function alone. The plans are
//! checked first: converged functions plan nothing, drifted ones an update, and so on.
//! Target: at most 50 ms for 10,000 functions on one core (`plan_all` runs on one thread),
//! in a release build; judged on the best run, the one least disturbed by other work on the
//! machine (whose load average is printed: on a busy machine the median is higher).
//!
//! ```text
//! cargo bench -p shepherd-core --bench plan
//! ```
//!
//! `SHEPHERD_BENCH_FUNCTIONS` changes the number of functions and `SHEPHERD_BENCH_RUNS` the
//! number of timed runs. Run without `--bench` (as `cargo test --all-targets` does), it
//! does nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shepherd_core::model::{
    CodeArtifact, DesiredFunction, FunctionState, LastUpdateStatus, Observation, ObservedAlias,
    ObservedFunction, ObservedMapping, ObservedVersion, ProvisionedConcurrency, ProvisionedStatus,
    ProvisionedTarget, Readable, resolve, short_digest, tags,
};
use shepherd_core::plan::{
    Action, FunctionPlan, PlanOptions, VERSION_DESCRIPTION_PREFIX, plan_all,
};
use shepherd_core::rollout::{Phase, RolloutRecord};
use shepherd_core::source::{LoadedSources, parse_file};
use shepherd_core::spec::CodeSource;
use shepherd_core::validate::{ValidFunction, validate};
use shepherd_fake::{FakeCloud, function_arn};

const TARGET_MS: f64 = 50.0;
const TARGET_FUNCTIONS: usize = 10_000;
const TEAMS: usize = 50;

/// What AWS holds for a function, relative to its spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Converged,
    Drift,
    CodeChange,
    New,
}

impl Kind {
    /// 70% converged, then 10% each; in blocks of ten so that every kind meets every
    /// code source and option (which vary with the index itself).
    fn of(i: usize) -> Kind {
        match (i / 10) % 10 {
            0..=6 => Kind::Converged,
            7 => Kind::Drift,
            8 => Kind::CodeChange,
            _ => Kind::New,
        }
    }
}

/// How much of each existing function was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Depth {
    /// What the default refresh reads: everything only where the digest differs.
    Changed,
    /// Everything, everywhere (`--refresh full`).
    Full,
}

fn main() {
    // `cargo test --all-targets` builds and runs bench targets too, without `--bench`:
    // the benchmark runs only under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "plan benchmark: skipped (run it with `cargo bench -p shepherd-core --bench plan`)"
        );
        return;
    }
    let functions = env_number("SHEPHERD_BENCH_FUNCTIONS", TARGET_FUNCTIONS).max(10);
    let runs = env_number("SHEPHERD_BENCH_RUNS", 15).max(1);

    println!(
        "machine load average: {}",
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let started = Instant::now();
    // Validation checks that local code paths exist (relative to the spec's folder): the
    // only files the inputs need. The specs themselves are never written.
    let dir = tempfile::tempdir().expect("create a temporary directory");
    for rev in [1, 2] {
        std::fs::create_dir_all(dir.path().join(format!("app/release-{rev}")))
            .expect("create a code directory");
    }
    for team in 0..TEAMS {
        std::fs::create_dir_all(dir.path().join(format!("specs/team-{team:02}")))
            .expect("create a spec folder");
    }
    let desired = resolve_all(dir.path(), functions, 2);
    // The specs as they were when last applied: older code for the code-change share.
    let applied_before = resolve_all(dir.path(), functions, 1);
    println!(
        "built {functions} desired functions in {:.1} s (not timed)",
        started.elapsed().as_secs_f64()
    );

    for depth in [Depth::Changed, Depth::Full] {
        let observation = observe(&desired, &applied_before, depth);
        let label = match depth {
            Depth::Changed => "default refresh (sub-resources read where the digest differs)",
            Depth::Full => "full refresh (every sub-resource of every function read)",
        };
        println!();
        println!("scenario: {label}");
        check(&desired, &observation);
        let times = time_runs(runs, || {
            plan_all(&desired, &observation, &PlanOptions::default())
        });
        report(functions, runs, &times);
        by_kind(&desired, &observation, runs);
    }
}

/// The cost per function of each kind alone, to show where time goes.
fn by_kind(desired: &[DesiredFunction], observation: &Observation, runs: usize) {
    let mut parts = Vec::new();
    for (kind, label) in [
        (Kind::Converged, "converged"),
        (Kind::Drift, "config drift"),
        (Kind::CodeChange, "code change"),
        (Kind::New, "new"),
    ] {
        let subset: Vec<DesiredFunction> = desired
            .iter()
            .enumerate()
            .filter(|(i, _)| Kind::of(*i) == kind)
            .map(|(_, d)| d.clone())
            .collect();
        // Short runs, so more of them.
        let times = time_runs(runs * 4, || {
            plan_all(&subset, observation, &PlanOptions::default())
        });
        parts.push(format!(
            "{label} {:.2} us",
            times.wall[times.wall.len() / 2].as_secs_f64() * 1e6 / subset.len() as f64
        ));
    }
    println!(
        "per function by kind (median wall time): {}",
        parts.join(", ")
    );
}

/// Wall-clock times of the runs (sorted), and their mean on-CPU time.
struct Times {
    wall: Vec<Duration>,
    /// Mean time this thread spent on a CPU per run (`None` without
    /// `/proc/thread-self/schedstat`). Unlike wall time, it does not count waiting for a
    /// core that others are using. The kernel updates the counter at scheduler ticks
    /// (a few ms), so only the mean over many runs is precise, not each run's figure.
    cpu: Option<Duration>,
}

/// Times `runs` runs after one warm-up; the plans are dropped outside the timed part.
fn time_runs(runs: usize, mut plan: impl FnMut() -> Vec<FunctionPlan>) -> Times {
    drop(std::hint::black_box(plan()));
    let mut wall = Vec::with_capacity(runs);
    let mut cpu = Some(Duration::ZERO);
    for _ in 0..runs {
        let cpu_start = thread_cpu_time();
        let start = Instant::now();
        let plans = std::hint::black_box(plan());
        wall.push(start.elapsed());
        cpu = match (cpu, cpu_start, thread_cpu_time()) {
            (Some(total), Some(from), Some(to)) => Some(total + to.saturating_sub(from)),
            _ => None,
        };
        drop(plans);
    }
    wall.sort();
    Times {
        wall,
        cpu: cpu.map(|total| total / u32::try_from(runs).unwrap_or(u32::MAX)),
    }
}

/// This thread's time on a CPU so far (the first field of its schedstat, in ns).
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanos))
}

fn report(functions: usize, runs: usize, times: &Times) {
    let per_function = |d: Duration| d.as_secs_f64() * 1e6 / functions as f64;
    let best = times.wall[0];
    let median = times.wall[times.wall.len() / 2];
    println!("plan_all over {functions} functions, {runs} runs:");
    println!(
        "  wall time: best {:.2} ms, median {:.2} ms, worst {:.2} ms; per function {:.2} us (best), {:.2} us (median)",
        ms(best),
        ms(median),
        ms(times.wall[times.wall.len() - 1]),
        per_function(best),
        per_function(median)
    );
    match times.cpu {
        Some(cpu) => println!(
            "  on-CPU time: mean {:.2} ms per run; per function {:.2} us",
            ms(cpu),
            per_function(cpu)
        ),
        None => println!("  on-CPU time: unavailable (no /proc/thread-self/schedstat)"),
    }
    // The best run is the one least disturbed by whatever else the machine runs: the
    // closest to having a core to itself.
    let scaled = ms(best) * TARGET_FUNCTIONS as f64 / functions as f64;
    println!(
        "target ({TARGET_FUNCTIONS} functions <= {TARGET_MS} ms on one core): best wall time for {TARGET_FUNCTIONS} functions {scaled:.2} ms: {}",
        if scaled <= TARGET_MS { "met" } else { "MISSED" }
    );
}

/// Checks that the plans are what the mix says: the timing is of real work.
fn check(desired: &[DesiredFunction], observation: &Observation) {
    let plans = plan_all(desired, observation, &PlanOptions::default());
    assert_eq!(plans.len(), desired.len());
    let mut counts: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (i, plan) in plans.iter().enumerate() {
        assert!(plan.next.refusal().is_none(), "{}: refused", plan.name);
        let has = |f: fn(&Action) -> bool| plan.actions.iter().any(f);
        let (label, ok) = match Kind::of(i) {
            Kind::Converged => ("converged", plan.actions.is_empty()),
            Kind::Drift => (
                "config drift",
                plan.drift && has(|a| matches!(a, Action::UpdateConfiguration { .. })),
            ),
            Kind::CodeChange => (
                "code change",
                has(|a| matches!(a, Action::UpdateCode { .. }))
                    && has(|a| matches!(a, Action::PublishVersion { .. })),
            ),
            Kind::New => ("new", has(|a| matches!(a, Action::CreateFunction { .. }))),
        };
        assert!(ok, "{} ({label}) planned {:#?}", plan.name, plan.actions);
        let entry = counts.entry(label).or_default();
        entry.0 += 1;
        entry.1 += plan.actions.len();
    }
    let mix: Vec<String> = counts
        .iter()
        .map(|(label, (n, actions))| format!("{n} {label} ({actions} actions)"))
        .collect();
    println!("mix: {}", mix.join(", "));
}

/// Parses, validates and resolves every spec in memory. `code_rev` is the code release
/// of the functions with a code change.
fn resolve_all(root: &Path, functions: usize, code_rev: usize) -> Vec<DesiredFunction> {
    let mut loaded = LoadedSources::default();
    let mut text = String::new();
    for i in 0..functions {
        text.clear();
        let rev = if Kind::of(i) == Kind::CodeChange {
            code_rev
        } else {
            1
        };
        spec(&mut text, i, rev);
        let file = root.join(format!("specs/team-{:02}/svc-{i:05}.yaml", i % TEAMS));
        let documents = parse_file(&file, &text).expect("generated specs parse");
        loaded.files += 1;
        loaded.documents.extend(documents);
    }
    let report = validate(loaded);
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == shepherd_core::diagnostic::Severity::Error)
        .take(5)
        .map(ToString::to_string)
        .collect();
    assert!(
        errors.is_empty(),
        "generated specs have errors: {errors:#?}"
    );
    assert_eq!(report.functions.len(), functions);
    report
        .functions
        .iter()
        .map(|f| resolve(f, artifact(f)))
        .collect()
}

/// The code artifact, as the engine's packager would give it (a local path becomes a zip
/// identified by its digest; the bytes do not matter to the planner).
fn artifact(function: &ValidFunction) -> CodeArtifact {
    match function
        .document
        .spec
        .code
        .source()
        .expect("one code source")
    {
        CodeSource::S3(s3) => CodeArtifact::s3(s3),
        CodeSource::Image(uri) => CodeArtifact::image(uri),
        CodeSource::Path(path) => CodeArtifact::Zip {
            sha256: format!("{}=", short_digest(&(function.name(), path))),
            bytes: Arc::new(Vec::new()),
        },
    }
}

/// The observation `observe` would return for the mix: every existing function as the
/// last apply of `before` left it.
fn observe(desired: &[DesiredFunction], before: &[DesiredFunction], depth: Depth) -> Observation {
    let mut observation = Observation::default();
    for (i, (now, then)) in desired.iter().zip(before).enumerate() {
        let kind = Kind::of(i);
        if kind == Kind::New {
            continue;
        }
        let deep = depth == Depth::Full || then.spec_digest != now.spec_digest;
        // At most `keep_versions` (5) of shepherd's versions are left by the last apply.
        let mut function = applied(then, 1 + i % 5, deep);
        if kind == Kind::Drift {
            match i % 3 {
                0 => function.config.memory += 128,
                1 => {
                    function
                        .config
                        .environment
                        .insert("LOG_SAMPLE_RATE".to_owned(), "1.0".to_owned());
                }
                _ => function.config.timeout_secs += 1,
            }
        }
        observation.functions.insert(now.name.clone(), function);
    }
    observation
}

/// A function exactly as applying `desired` leaves it, with `versions` published versions
/// (the alias on the last). `deep`: the sub-resources were read too.
fn applied(desired: &DesiredFunction, versions: usize, deep: bool) -> ObservedFunction {
    let arn = function_arn(&desired.name, None);
    let code_sha256 = desired.code.known_sha256().map_or_else(
        || format!("{}=", short_digest(&desired.code)),
        str::to_owned,
    );
    let current = versions.to_string();
    let mut all_tags = desired.tags.clone();
    all_tags.insert(
        tags::MANAGED_BY.to_owned(),
        tags::MANAGED_BY_VALUE.to_owned(),
    );
    all_tags.insert(
        tags::OWNER.to_owned(),
        shepherd_core::model::Owner::default().to_string(),
    );
    all_tags.insert(
        tags::CODE.to_owned(),
        format!("{}:{code_sha256}", desired.code.identity()),
    );
    all_tags.insert(tags::SPEC_DIGEST.to_owned(), desired.spec_digest.clone());
    all_tags.insert(
        tags::RELEASE.to_owned(),
        format!("{current}:{}", desired.release_digest),
    );
    let aliases: Vec<ObservedAlias> = desired
        .alias
        .iter()
        .map(|alias| ObservedAlias {
            name: alias.name.clone(),
            version: current.clone(),
            additional_version: None,
            // A function released through a rollout keeps its finished record in the
            // alias description; the first release leaves it empty.
            description: if versions > 1 && !desired.rollout_steps.is_empty() {
                RolloutRecord {
                    phase: Phase::Healthy,
                    stable: (versions - 1).to_string(),
                    canary: current.clone(),
                    release: desired.release_digest.clone(),
                    step: desired.rollout_steps.len(),
                    since: 1_764_151_234,
                    started: 1_764_150_000,
                    hook: None,
                    traffic_sent: None,
                    reason: None,
                }
                .to_description()
            } else {
                String::new()
            },
            revision_id: Some(format!("rev-{}", desired.name)),
        })
        .collect();
    let mut function = ObservedFunction {
        name: desired.name.clone(),
        arn: arn.clone(),
        config: desired.config.clone(),
        architecture: desired.architecture,
        state: FunctionState::Active,
        last_update: LastUpdateStatus::Successful,
        last_update_reason: None,
        code_sha256: code_sha256.clone(),
        tags: all_tags,
        reserved_concurrency: desired.reserved_concurrency,
        // `ListAliases` is read whenever the spec has an alias.
        aliases: if deep || desired.alias.is_some() {
            aliases
        } else {
            Vec::new()
        },
        versions: Readable::NotRead,
        async_config: Readable::NotRead,
        provisioned: Readable::NotRead,
        recursive_loop: Readable::NotRead,
        mappings: Readable::NotRead,
        alarms: Readable::NotRead,
    };
    if !deep {
        return function;
    }
    function.versions = Readable::Known(
        (1..=versions)
            .map(|v| ObservedVersion {
                version: v.to_string(),
                code_sha256: code_sha256.clone(),
                description: format!("{VERSION_DESCRIPTION_PREFIX}{}", desired.release_digest),
            })
            .collect(),
    );
    function.async_config = Readable::Known(desired.async_config.clone());
    function.provisioned = Readable::Known(
        desired
            .provisioned_concurrency
            .map(|target| {
                // On the alias, unless releases roll out progressively: then on the
                // version that serves.
                let (qualifier, count) = match (target, &desired.alias) {
                    (ProvisionedTarget::Alias(n), Some(alias))
                        if desired.rollout_steps.is_empty() =>
                    {
                        (alias.name.clone(), n)
                    }
                    (ProvisionedTarget::Alias(n) | ProvisionedTarget::Version(n), _) => {
                        (current.clone(), n)
                    }
                };
                ProvisionedConcurrency {
                    qualifier,
                    requested: count,
                    allocated: count,
                    status: ProvisionedStatus::Ready,
                }
            })
            .into_iter()
            .collect(),
    );
    function.recursive_loop = Readable::Known(desired.recursive_loop);
    let target = match desired.invoke_qualifier() {
        Some(q) => format!("{arn}:{q}"),
        None => arn,
    };
    function.mappings = Readable::Known(
        desired
            .mappings
            .iter()
            .enumerate()
            .map(|(n, config)| ObservedMapping {
                uuid: format!("{}-{n}", desired.name),
                function_arn: target.clone(),
                config: config.clone(),
            })
            .collect(),
    );
    // Alarms as CloudWatch reports them back, through the fake (in state OK).
    let cloudwatch = FakeCloud::new();
    for definition in &desired.alarms {
        cloudwatch.add_alarm(definition.clone());
    }
    function.alarms = Readable::Known(
        desired
            .alarms
            .iter()
            .filter_map(|d| Some((d.name.clone(), cloudwatch.alarm(&d.name)?)))
            .collect(),
    );
    function
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const RUNTIMES: &[&str] = &[
    "python3.12",
    "python3.13",
    "nodejs20.x",
    "nodejs22.x",
    "java21",
    "ruby3.3",
    "provided.al2023",
];
const MEMORY: &[u32] = &[128, 256, 512, 1024, 1769, 2048, 3008];
const TIMEOUTS: &[&str] = &["3s", "10s", "30s", "1m", "2m30s", "5m"];

/// One realistic, valid Function document; which optional sections appear varies with
/// `i`. `rev` is the code release.
fn spec(out: &mut String, i: usize, rev: usize) {
    let name = format!("svc-{i:05}");
    let runtime = RUNTIMES[i % RUNTIMES.len()];
    let account = 100_000_000_000u64 + (i as u64 % 7) * 11_111;
    let w = |out: &mut String, line: &str| {
        out.push_str(line);
        out.push('\n');
    };
    w(out, "apiVersion: shepherd.dev/v1alpha1");
    w(out, "kind: Function");
    w(out, "metadata:");
    let _ = writeln!(out, "  name: {name}");
    w(out, "  labels:");
    let _ = writeln!(out, "    team: team-{:02}", i % TEAMS);
    w(out, "spec:");
    let _ = writeln!(out, "  description: Service {i} of the benchmark fleet");
    w(out, "  code:");
    let image = i % 10 == 9;
    match i % 10 {
        0..=6 => {
            w(out, "    s3:");
            let _ = writeln!(out, "      bucket: artifacts-{}", i % 13);
            let _ = writeln!(out, "      key: builds/{name}/{name}-{rev}.{}.zip", i % 31);
            if i.is_multiple_of(3) {
                let _ = writeln!(out, "      objectVersion: v{i:08}-{rev}");
            }
        }
        7 | 8 => {
            let _ = writeln!(out, "    path: ../../app/release-{rev}");
        }
        _ => {
            let _ = writeln!(
                out,
                "    image: {account}.dkr.ecr.us-east-1.amazonaws.com/{name}:1.{rev}"
            );
        }
    }
    if !image {
        let _ = writeln!(out, "  handler: {name}.handler");
        let _ = writeln!(out, "  runtime: {runtime}");
    }
    if i.is_multiple_of(2) {
        w(out, "  architectures: [arm64]");
    }
    let _ = writeln!(out, "  role: arn:aws:iam::{account}:role/{name}-role");
    if !image && i.is_multiple_of(6) {
        w(out, "  layers:");
        let _ = writeln!(
            out,
            "    - arn:aws:lambda:us-east-1:{account}:layer:common-{}:{}",
            i % 4,
            1 + i % 20
        );
    }
    let _ = writeln!(out, "  memory: {}", MEMORY[i % MEMORY.len()].max(512));
    let _ = writeln!(out, "  timeout: {}", TIMEOUTS[i % TIMEOUTS.len()]);
    if i.is_multiple_of(8) {
        let _ = writeln!(out, "  ephemeralStorage: {}", 512 * (2 + i % 4));
    }
    w(out, "  environment:");
    let _ = writeln!(out, "    SERVICE_NAME: {name}");
    let _ = writeln!(out, "    TABLE_NAME: {name}-table");
    let _ = writeln!(out, "    LOG_SAMPLE_RATE: \"0.{}\"", i % 10);
    for v in 0..(i % 6) {
        let _ = writeln!(
            out,
            "    FEATURE_{v}_ENABLED: \"{}\"",
            (i + v).is_multiple_of(2)
        );
    }
    if i.is_multiple_of(4) {
        w(out, "  secrets:");
        w(out, "    DB_PASSWORD:");
        let _ = writeln!(out, "      ssmParameter: /{name}/db/password");
    }
    if i.is_multiple_of(5) {
        w(out, "  vpc:");
        let _ = writeln!(out, "    subnetIds: [subnet-{i:08x}, subnet-{:08x}]", i + 1);
        let _ = writeln!(out, "    securityGroupIds: [sg-{:012x}]", i * 7);
    }
    w(out, "  tracing: Active");
    w(out, "  logging:");
    w(out, "    format: JSON");
    w(out, "  tags:");
    let _ = writeln!(out, "    cost-center: \"{}\"", 4000 + i % 50);
    let _ = writeln!(out, "    owner: team-{:02}", i % TEAMS);
    let has_alias = i % 3 != 2;
    let _ = writeln!(out, "  reservedConcurrency: {}", 50 + (i % 20) * 10);
    if has_alias {
        w(out, "  alias:");
        w(out, "    name: live");
        if i.is_multiple_of(9) {
            let _ = writeln!(out, "    provisionedConcurrency: {}", 1 + i % 10);
        }
    }
    match i % 4 {
        1 => {
            w(out, "  eventSources:");
            w(out, "    sqs:");
            let _ = writeln!(
                out,
                "      - queue: arn:aws:sqs:us-east-1:{account}:{name}-in"
            );
            let _ = writeln!(out, "        batchSize: {}", [10, 50, 100][i % 3]);
            w(out, "        batchingWindow: 5s");
            w(out, "        reportBatchItemFailures: true");
        }
        2 => {
            w(out, "  asyncInvocation:");
            let _ = writeln!(out, "    maximumRetryAttempts: {}", i % 3);
            let _ = writeln!(
                out,
                "    onFailure: arn:aws:sqs:us-east-1:{account}:{name}-failures"
            );
        }
        _ => {}
    }
    w(out, "  alarms:");
    w(out, "    errors:");
    let _ = writeln!(out, "      threshold: {}", 1 + i % 10);
    if i.is_multiple_of(3) {
        w(out, "    throttles: {}");
    }
    if i.is_multiple_of(4) {
        w(out, "    duration:");
        w(out, "      percentile: p99");
        w(out, "      threshold: 2s");
    }
    if has_alias {
        w(out, "  rollout:");
        w(out, "    strategy: Canary10Percent5Minutes");
    }
}
