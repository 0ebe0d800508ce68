//! An idle `shepherd run` managing 1,000 functions, against the local AWS emulator.
//! Target (issue 5): under 1% of a core between resyncs, and at most 50 MB RSS.
//!
//! 1,000 small functions (zipped code, alias `live`, a managed errors alarm) are created in
//! the emulator by one `shepherd apply --lambda-rate 200`. Then the release binary runs as
//! the controller on a git repository of the same specs (`--source file://...`), with a
//! resync interval of one hour (so no resync falls in the measurement), the alarm queue
//! configured (its 20 s long polls are part of being idle), JSON logs at `info` and
//! `--lambda-rate 200` (to get ready sooner; it changes nothing once idle). Once ready
//! (every function reconciled once) and quiet, the bench reads the process's CPU time
//! (utime + stime from `/proc/PID/stat`) at the start and the end of 60 s of idling, and its
//! memory (`VmRSS`, and the peak `VmHWM`, from `/proc/PID/status`) along the way. Two
//! phases, a controller each: the source polled every hour (nothing at all scheduled), then
//! every minute (the default: each poll fetches, and validates and packages all 1,000
//! specs again even when the commit is the same, which queues nothing).
//!
//! ```text
//! cargo build --release -p shepherd
//! SHEPHERD_MOTO_SERVER=/path/to/moto_server cargo bench -p shepherd-e2e --bench idle
//! ```
//!
//! `SHEPHERD_BENCH_FLEET` changes the 1,000 and `SHEPHERD_BENCH_IDLE_SECS` the 60 s.
//! `SHEPHERD_BIN` points at another binary. Run without `--bench` (as
//! `cargo test --all-targets` does), it does nothing.

#[path = "../tests/support/mod.rs"]
mod support;

#[path = "common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::controller::git;
use common::{ACCOUNT, verdict};
use support::Emulator;

const ROLE: &str = "shepherd-idle";
const TARGET_CPU_PERCENT: f64 = 1.0;
const TARGET_RSS_MB: f64 = 50.0;

fn main() {
    if !common::wanted("idle") {
        return;
    }
    let Some(binary) = common::release_bin() else {
        println!(
            "idle benchmark: skipped: target/release/shepherd is missing (build it with `cargo build --release -p shepherd`)"
        );
        return;
    };
    let number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
            .max(1)
    };
    let fleet = number("SHEPHERD_BENCH_FLEET", 1_000);
    let idle = Duration::from_secs(number("SHEPHERD_BENCH_IDLE_SECS", 60) as u64);
    println!("{}", common::machine());
    println!("binary: {}", binary.display());
    let started = Instant::now();
    let emulator = Emulator::start();
    emulator.setup(&["role", ROLE]);
    let alarm_queue = emulator.setup(&["queue", "idle-alarm-events"]);
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let specs = write_fleet(dir.path(), fleet);

    // The fleet, in one apply.
    let apply_start = Instant::now();
    let output = shepherd(&binary, &emulator.endpoint)
        .arg("apply")
        .arg(&specs)
        .args(["--lambda-rate", "200"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("shepherd apply runs");
    println!(
        "[idle] setup: `shepherd apply --lambda-rate 200` of {fleet} new functions: exit code {}, {:.0} s",
        output.status.code().unwrap_or(-1),
        apply_start.elapsed().as_secs_f64()
    );
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
        println!("[idle] skipped: the apply failed:\n{}", tail.join("\n"));
        return;
    }

    // A git repository of the specs and their code, as the controller follows in
    // production (`--source file://...`, `--path specs`).
    git(dir.path(), &["init", "--quiet", "--initial-branch", "main"]);
    git(dir.path(), &["add", "app", "specs"]);
    git(dir.path(), &["commit", "--quiet", "-m", "fleet"]);
    let phases: [(&str, &[&str]); 2] = [
        (
            "source poll 1 h, resync 1 h: nothing scheduled",
            &["--poll-interval", "1h"],
        ),
        (
            "source poll every 1 m (the default; an unchanged commit queues nothing), resync 1 h",
            &[],
        ),
    ];
    for (label, args) in phases {
        println!();
        idle_phase(
            &binary,
            &emulator.endpoint,
            dir.path(),
            &alarm_queue,
            fleet,
            idle,
            label,
            args,
        );
    }
    drop(emulator);
    println!(
        "total time {:.0} s; the controller and the emulator are stopped",
        started.elapsed().as_secs_f64()
    );
}

#[allow(clippy::too_many_arguments)]
fn idle_phase(
    binary: &Path,
    endpoint: &str,
    root: &Path,
    alarm_queue: &str,
    fleet: usize,
    idle: Duration,
    label: &str,
    args: &[&str],
) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let log = root.join(format!("controller-{port}.log"));
    let child = shepherd(binary, endpoint)
        .arg("run")
        .arg("--source")
        .arg(format!("file://{}", root.display()))
        .args(["--path", "specs", "--checkout-dir"])
        .arg(root.join(format!("checkout-{port}")))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--resync-interval", "1h"])
        .args(args)
        .args(["--lambda-rate", "200", "--log-format", "json"])
        .args(["--alarm-queue-url", alarm_queue])
        .env("SHEPHERD_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("create the log"))
        .spawn()
        .expect("shepherd run starts");
    let mut controller = Running { child: Some(child) };
    let pid = controller.pid();
    println!("[idle] {label}:");
    let run_start = Instant::now();
    while get(port, "/readyz").0 != 200 {
        if run_start.elapsed() > Duration::from_secs(300) {
            println!(
                "  skipped: the controller was not ready within 300 s; log: {}",
                log.display()
            );
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let ready = run_start.elapsed();
    let cpu_ready = cpu_seconds(pid);
    // Quiet: no reconcile for 3 s.
    let quiet_start = Instant::now();
    let mut last_count = reconciles(port);
    let mut stable_since = Instant::now();
    while stable_since.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(500));
        let count = reconciles(port);
        if count != last_count {
            last_count = count;
            stable_since = Instant::now();
        }
        if quiet_start.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    let (rss_ready, _) = memory(pid);
    println!(
        "  `shepherd run` (pid {pid}) ready after {:.1} s ({:.1} s of CPU for the first sync and full pass of {fleet} functions, {} reconciles), quiet {:.1} s later; RSS {:.1} MB",
        ready.as_secs_f64(),
        cpu_ready,
        last_count,
        quiet_start.elapsed().as_secs_f64(),
        rss_ready
    );

    let cpu_start = cpu_seconds(pid);
    let idle_start = Instant::now();
    let mut rss_max: f64 = 0.0;
    let mut profile = String::new();
    while idle_start.elapsed() < idle {
        std::thread::sleep(Duration::from_secs(10).min(idle.saturating_sub(idle_start.elapsed())));
        let (rss, _) = memory(pid);
        rss_max = rss_max.max(rss);
        let _ = write!(
            profile,
            " {:.0}s {:.2}s/{:.1}MB",
            idle_start.elapsed().as_secs_f64(),
            cpu_seconds(pid) - cpu_start,
            rss
        );
    }
    let cpu = cpu_seconds(pid) - cpu_start;
    let seconds = idle_start.elapsed().as_secs_f64();
    let percent = 100.0 * cpu / seconds;
    let (rss, hwm) = memory(pid);
    let threads = status_field(pid, "Threads:");
    let during = reconciles(port) - last_count;
    let syncs = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"message\":\"new desired state\""))
        .count();
    println!(
        "  {seconds:.0} s idle: {cpu:.2} s of CPU (utime + stime) = {percent:.3}% of one core; {during} reconciles meanwhile; {threads} threads; {syncs} desired-state change(s) logged since start"
    );
    println!("  CPU since the start of the window / RSS, every 10 s:{profile}");
    println!(
        "  RSS (VmRSS): {rss:.1} MB at the end, {rss_max:.1} MB at most while idle; peak since start (VmHWM, the first full pass included): {hwm:.1} MB"
    );
    println!(
        "  target (< {TARGET_CPU_PERCENT}% of a core between resyncs): {}",
        verdict(percent < TARGET_CPU_PERCENT)
    );
    println!(
        "  target (<= {TARGET_RSS_MB} MB RSS): idle {}; peak since start {}",
        verdict(rss_max.max(rss) <= TARGET_RSS_MB),
        verdict(hwm <= TARGET_RSS_MB)
    );
    controller.stop();
}

fn write_fleet(root: &Path, count: usize) -> PathBuf {
    let app = root.join("app");
    std::fs::create_dir_all(&app).expect("create the code folder");
    std::fs::write(
        app.join("handler.py"),
        "def handler(event, context):\n    return {'statusCode': 200}\n",
    )
    .expect("write the code");
    let specs = root.join("specs");
    std::fs::create_dir_all(&specs).expect("create the spec folder");
    for i in 0..count {
        let name = format!("idle-{i:04}");
        let spec = format!(
            "apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata:
  name: {name}
spec:
  code:
    path: ../app
  handler: handler.handler
  runtime: python3.12
  role: arn:aws:iam::{ACCOUNT}:role/{ROLE}
  alias:
    name: live
  alarms:
    errors:
      threshold: 1
"
        );
        std::fs::write(specs.join(format!("{name}.yaml")), spec).expect("write a spec");
    }
    specs
}

fn shepherd(binary: &Path, endpoint: &str) -> Command {
    let mut command = Command::new(binary);
    command
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", common::REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null());
    command
}

struct Running {
    child: Option<Child>,
}

impl Running {
    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(Some(status)) = child.try_wait() {
                    println!("  controller stopped: {status}");
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
            println!("  controller killed: no exit within 30 s of SIGTERM");
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn get(port: u16, path: &str) -> (u16, String) {
    support::controller::request(port, "GET", path, &[], "")
}

/// Reconciles so far, from `/metrics` (`shepherd_reconciles_total`, every label).
fn reconciles(port: u16) -> u64 {
    get(port, "/metrics")
        .1
        .lines()
        .filter(|l| l.starts_with("shepherd_reconciles_total{"))
        .filter_map(|l| l.rsplit_once(' '))
        .filter_map(|(_, n)| n.trim().parse::<f64>().ok())
        .sum::<f64>() as u64
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux).
fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// utime + stime of the process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name may hold spaces: fields count from after its closing parenthesis.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    ticks as f64 / ticks_per_second()
}

fn status_field(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// (VmRSS, VmHWM) in MB.
fn memory(pid: u32) -> (f64, f64) {
    let mb = |kib: u64| kib as f64 / 1024.0;
    (
        mb(status_field(pid, "VmRSS:")),
        mb(status_field(pid, "VmHWM:")),
    )
}
