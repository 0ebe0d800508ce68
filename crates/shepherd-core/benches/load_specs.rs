//! How fast `shepherd validate` reads a large spec repository.
//!
//! Generates 5,000 realistic function specs (varied fields, spread over 100 folders, some
//! files holding several documents) into a temporary directory, then times
//! `shepherd_core::check_specs` on it: best and median of 5 runs, functions per second, and
//! the process's peak resident memory (VmHWM).
//!
//! Target: at most 1 s and 200 MB for 5,000 specs in a release build.
//!
//! ```text
//! cargo bench -p shepherd-core --bench load_specs
//! ```
//!
//! `SHEPHERD_BENCH_FUNCTIONS` changes the number of specs and `SHEPHERD_BENCH_RUNS` the
//! number of timed runs. Run without `--bench` (as `cargo test --all-targets` does), it
//! checks 200 specs once: a quick test that the generator writes valid specs.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use shepherd_core::lint::LintConfig;

const TARGET_SECONDS: f64 = 1.0;
const TARGET_RSS_MB: f64 = 200.0;
const FOLDERS: usize = 100;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test` runs benchmarks without it.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let (default_functions, default_runs) = if benchmarking { (5_000, 5) } else { (200, 1) };
    let functions = env_number("SHEPHERD_BENCH_FUNCTIONS", default_functions);
    let runs = env_number("SHEPHERD_BENCH_RUNS", default_runs).max(1);
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let (files, bytes) = generate(dir.path(), functions);
    println!(
        "generated {functions} function specs in {files} files under {FOLDERS} folders ({:.1} MiB)",
        bytes as f64 / 1024.0 / 1024.0
    );
    let rss_before = peak_rss_kib();

    let paths = [dir.path().to_owned()];
    let config = LintConfig::default();
    let mut times = Vec::with_capacity(runs);
    for run in 0..runs {
        let start = Instant::now();
        let report = shepherd_core::check_specs(&paths, &config);
        let elapsed = start.elapsed();
        assert_eq!(report.files, files, "every generated file is read");
        assert_eq!(report.functions.len(), functions, "every spec is valid");
        if run == 0 {
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
            println!(
                "run 1: {} functions, {} warnings",
                report.functions.len(),
                report.warnings()
            );
        }
        drop(report);
        times.push(elapsed);
    }
    times.sort();
    let phases = phase_times(&paths, &config);
    let best = times[0];
    let median = times[times.len() / 2];
    let rss_after = peak_rss_kib();

    println!(
        "check_specs over {functions} specs, {runs} runs: best {}, median {}",
        millis(best),
        millis(median)
    );
    println!(
        "throughput: {:.0} functions/s (best), {:.0} functions/s (median)",
        functions as f64 / best.as_secs_f64(),
        functions as f64 / median.as_secs_f64()
    );
    println!(
        "phases (one run): load {}, validate {}, lint {}",
        millis(phases[0]),
        millis(phases[1]),
        millis(phases[2])
    );
    match (rss_before, rss_after) {
        (Some(before), Some(after)) => println!(
            "peak RSS (VmHWM): {:.1} MB after generating, {:.1} MB after checking",
            before as f64 / 1024.0,
            after as f64 / 1024.0
        ),
        _ => println!("peak RSS: unavailable (no /proc/self/status)"),
    }
    if !benchmarking {
        println!("not judged against the target: a quick check, not a benchmark (no --bench)");
        return;
    }
    let scale = 5_000.0 / functions as f64;
    let time_ok = median.as_secs_f64() * scale <= TARGET_SECONDS;
    let rss_ok = rss_after.is_none_or(|kib| kib as f64 / 1024.0 <= TARGET_RSS_MB);
    println!(
        "target (5,000 specs: <= {TARGET_SECONDS} s, <= {TARGET_RSS_MB} MB): time {}, memory {}",
        verdict(time_ok),
        verdict(rss_ok)
    );
}

/// The three steps of `check_specs`, timed one by one: reading and parsing the files,
/// validating the documents, running the lints.
fn phase_times(paths: &[PathBuf], config: &LintConfig) -> [Duration; 3] {
    let start = Instant::now();
    let loaded = shepherd_core::source::load(paths);
    let load = start.elapsed();
    let start = Instant::now();
    let report = shepherd_core::validate::validate(loaded);
    let validate = start.elapsed();
    let start = Instant::now();
    let findings = shepherd_core::lint::run(&report.functions, config);
    let lint = start.elapsed();
    std::hint::black_box((report, findings));
    [load, validate, lint]
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn millis(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Peak resident set size of this process in KiB, from `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Writes `functions` specs under `root`; returns the number of files and bytes written.
fn generate(root: &Path, functions: usize) -> (usize, usize) {
    // A code directory for the specs that use `code.path`.
    fs::create_dir_all(root.join("app/src")).expect("create app dir");
    fs::write(
        root.join("app/src/handler.py"),
        "def handler(e, c):\n    pass\n",
    )
    .expect("write handler");

    let mut files = 0;
    let mut bytes = 0;
    let mut index = 0;
    let mut file_number = 0;
    while index < functions {
        // Every fifth file holds several documents.
        let documents = if file_number % 5 == 4 {
            (2 + file_number % 3).min(functions - index)
        } else {
            1
        };
        let folder = folder_for(root, file_number);
        fs::create_dir_all(&folder).expect("create spec folder");
        let mut text = String::new();
        for d in 0..documents {
            if d > 0 {
                text.push_str("---\n");
            }
            spec(&mut text, index + d, &folder, root);
        }
        let extension = if file_number % 4 == 3 { "yml" } else { "yaml" };
        let path = folder.join(format!("fn-{file_number:05}.{extension}"));
        fs::write(&path, &text).expect("write spec");
        bytes += text.len();
        files += 1;
        index += documents;
        file_number += 1;
    }
    // Files the loader must skip: notes, hidden files and folders.
    fs::write(root.join("README.md"), "# specs\n").expect("write readme");
    fs::create_dir_all(root.join(".git")).expect("create .git");
    fs::write(root.join(".git/config.yaml"), "not: [a spec").expect("write hidden");
    (files, bytes)
}

/// `team-NN/` folders, half of them with a nested `services/` folder.
fn folder_for(root: &Path, file_number: usize) -> PathBuf {
    let team = file_number % FOLDERS;
    let base = root.join(format!("team-{team:02}"));
    if team % 2 == 1 {
        base.join("services")
    } else {
        base
    }
}

const RUNTIMES: &[&str] = &[
    "python3.12",
    "python3.13",
    "nodejs20.x",
    "nodejs22.x",
    "java21",
    "dotnet8",
    "ruby3.3",
    "provided.al2023",
];
const MEMORY: &[u32] = &[128, 256, 512, 1024, 1769, 2048, 3008, 4096];
const TIMEOUTS: &[&str] = &["3s", "10s", "30s", "1m", "2m30s", "5m", "14m"];
const STRATEGIES: &[&str] = &[
    "Canary10Percent5Minutes",
    "Canary10Percent15Minutes",
    "Linear10PercentEvery1Minute",
    "Linear10PercentEvery3Minutes",
];

/// One realistic, valid Function document. Which optional sections appear varies with `i`.
fn spec(out: &mut String, i: usize, folder: &Path, root: &Path) {
    let name = format!("svc-{i:05}");
    let runtime = RUNTIMES[i % RUNTIMES.len()];
    let jvm = runtime.starts_with("java") || runtime.starts_with("dotnet");
    let memory = if jvm {
        1024 + 512 * (i % 4) as u32
    } else {
        MEMORY[i % MEMORY.len()]
    };
    let timeout = TIMEOUTS[i % TIMEOUTS.len()];
    let account = 100_000_000_000u64 + (i as u64 % 7) * 11_111;
    let w = |out: &mut String, line: &str| {
        out.push_str(line);
        out.push('\n');
    };

    let _ = writeln!(out, "# {name}: generated for the load benchmark");
    w(out, "apiVersion: shepherd.dev/v1alpha1");
    w(out, "kind: Function");
    w(out, "metadata:");
    let _ = writeln!(out, "  name: {name}");
    w(out, "  labels:");
    let _ = writeln!(out, "    team: team-{:02}", i % FOLDERS);
    let _ = writeln!(out, "    tier: \"{}\"", i % 3);
    if i.is_multiple_of(11) {
        w(out, "  annotations:");
        w(
            out,
            "    shepherd.dev/ignore-lints: memory-too-low-for-runtime, timeout-at-maximum",
        );
    }
    w(out, "spec:");
    let _ = writeln!(out, "  description: Service {i} of the benchmark fleet");
    w(out, "  code:");
    match i % 10 {
        0..=6 => {
            w(out, "    s3:");
            let _ = writeln!(out, "      bucket: artifacts-{}-eu-west-1", i % 13);
            let _ = writeln!(
                out,
                "      key: builds/{name}/{name}-1.{}.{}.zip",
                i % 9,
                i % 31
            );
            if i.is_multiple_of(3) {
                let _ = writeln!(out, "      objectVersion: v{i:08}");
            }
        }
        7 | 8 => {
            // Relative to the spec's folder.
            let depth = folder
                .strip_prefix(root)
                .map_or(0, |p| p.components().count());
            let _ = writeln!(out, "    path: {}app", "../".repeat(depth));
        }
        _ => {
            let _ = writeln!(
                out,
                "    image: {account}.dkr.ecr.eu-west-1.amazonaws.com/{name}:1.{}",
                i % 17
            );
        }
    }
    let image = i % 10 == 9;
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
            "    - arn:aws:lambda:eu-west-1:{account}:layer:common-{}:{}",
            i % 4,
            1 + i % 20
        );
        let _ = writeln!(
            out,
            "    - arn:aws:lambda:eu-west-1:{account}:layer:telemetry:{}",
            3 + i % 5
        );
    }
    let _ = writeln!(out, "  memory: {memory}");
    let _ = writeln!(out, "  timeout: {timeout}");
    if i.is_multiple_of(8) {
        let _ = writeln!(out, "  ephemeralStorage: {}", 512 * (2 + i % 4));
    }
    w(out, "  environment:");
    let _ = writeln!(out, "    SERVICE_NAME: {name}");
    let _ = writeln!(out, "    TABLE_NAME: {name}-table");
    let _ = writeln!(out, "    LOG_SAMPLE_RATE: \"0.{}\"", i % 10);
    for v in 0..(i % 9) {
        let _ = writeln!(
            out,
            "    FEATURE_{v}_ENABLED: \"{}\"",
            (i + v).is_multiple_of(2)
        );
    }
    if i.is_multiple_of(4) {
        w(out, "  secrets:");
        let _ = writeln!(out, "    DB_PASSWORD:");
        let _ = writeln!(out, "      ssmParameter: /{name}/db/password");
        let _ = writeln!(out, "    API_KEY:");
        let _ = writeln!(
            out,
            "      secretsManager: arn:aws:secretsmanager:eu-west-1:{account}:secret:{name}/api-key"
        );
    }
    if i.is_multiple_of(7) {
        let _ = writeln!(
            out,
            "  kmsKeyArn: arn:aws:kms:eu-west-1:{account}:key/{:08x}-0000-4000-8000-000000000000",
            i
        );
    }
    if i.is_multiple_of(5) {
        w(out, "  vpc:");
        let _ = writeln!(
            out,
            "    subnetIds: [subnet-{:08x}, subnet-{:08x}]",
            i,
            i + 1
        );
        let _ = writeln!(out, "    securityGroupIds:");
        let _ = writeln!(out, "      - sg-{:012x}", i * 7);
    }
    w(out, "  tracing: Active");
    w(out, "  logging:");
    w(out, "    format: JSON");
    let _ = writeln!(
        out,
        "    applicationLogLevel: {}",
        ["INFO", "DEBUG", "WARN"][i % 3]
    );
    if i.is_multiple_of(3) {
        w(out, "    systemLogLevel: WARN");
        let _ = writeln!(out, "    logGroup: /fleet/{name}");
    }
    w(out, "  tags:");
    let _ = writeln!(out, "    cost-center: \"{}\"", 4000 + i % 50);
    let _ = writeln!(out, "    owner: team-{:02}", i % FOLDERS);
    w(out, "  recursiveLoop: Terminate");

    let has_alias = i % 3 != 2;
    let reserved = 50 + (i % 20) as u32 * 10;
    let _ = writeln!(out, "  reservedConcurrency: {reserved}");
    if has_alias {
        w(out, "  alias:");
        w(out, "    name: live");
        if i.is_multiple_of(9) {
            let _ = writeln!(out, "    provisionedConcurrency: {}", 1 + i % 10);
        }
    } else if !image && jvm && runtime == "java21" {
        w(out, "  snapStart: PublishedVersions");
    }

    let sqs = i % 4 == 1;
    let is_async = !sqs && i % 4 == 2;
    if is_async {
        w(out, "  asyncInvocation:");
        let _ = writeln!(out, "    maximumRetryAttempts: {}", i % 3);
        let _ = writeln!(out, "    maximumEventAge: {}h", 1 + i % 6);
        let _ = writeln!(
            out,
            "    onFailure: arn:aws:sqs:eu-west-1:{account}:{name}-failures"
        );
        if i % 8 == 2 {
            let _ = writeln!(
                out,
                "    onSuccess: arn:aws:events:eu-west-1:{account}:event-bus/default"
            );
        }
    }
    if sqs {
        w(out, "  eventSources:");
        w(out, "    sqs:");
        let _ = writeln!(
            out,
            "      - queue: arn:aws:sqs:eu-west-1:{account}:{name}-in"
        );
        let _ = writeln!(out, "        batchSize: {}", [10, 50, 100, 500][i % 4]);
        w(out, "        batchingWindow: 5s");
        let _ = writeln!(out, "        maximumConcurrency: {}", 2 + i % 50);
        w(out, "        reportBatchItemFailures: true");
        let _ = writeln!(
            out,
            "        deadLetterQueue: arn:aws:sqs:eu-west-1:{account}:{name}-in-dlq"
        );
        if i % 8 == 1 {
            let _ = writeln!(
                out,
                "      - queue: arn:aws:sqs:eu-west-1:{account}:{name}-priority.fifo"
            );
            w(out, "        batchSize: 10");
            let _ = writeln!(
                out,
                "        deadLetterQueue: arn:aws:sqs:eu-west-1:{account}:{name}-dlq.fifo"
            );
        }
    }

    w(out, "  alarms:");
    w(out, "    errors:");
    let _ = writeln!(out, "      threshold: {}", 1 + i % 10);
    let _ = writeln!(out, "      period: {}", ["1m", "5m", "60s"][i % 3]);
    if i.is_multiple_of(2) {
        w(out, "      evaluationPeriods: 3");
        w(out, "      datapointsToAlarm: 2");
    }
    if i.is_multiple_of(3) {
        w(out, "    throttles: {}");
    }
    if i.is_multiple_of(4) {
        w(out, "    duration:");
        let _ = writeln!(out, "      percentile: {}", ["p90", "p99", "p99.9"][i % 3]);
        w(out, "      threshold: 2s");
    }
    if i.is_multiple_of(6) {
        w(out, "    existing:");
        let _ = writeln!(out, "      - {name}-gateway-5xx");
    }
    if has_alias {
        w(out, "  rollout:");
        if i.is_multiple_of(2) {
            let _ = writeln!(out, "    strategy: {}", STRATEGIES[i % STRATEGIES.len()]);
        } else {
            w(out, "    steps:");
            w(out, "      - setWeight: 5");
            w(out, "      - pause: {duration: 2m}");
            w(out, "      - setWeight: 25");
            w(out, "      - pause: {duration: 5m}");
            w(out, "      - setWeight: 50");
            w(out, "      - pause: {}");
        }
        if i % 5 == 1 {
            let _ = writeln!(out, "    alarms: [{name}-latency-slo]");
            w(out, "    autoRollback: true");
        }
    }
}
