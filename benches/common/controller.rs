//! `shepherd run` as a child process of a benchmark: a git repository it follows, the
//! controller on a free port with JSON logs, its HTTP API and webhooks, and its log.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

/// The GitHub webhook secret every benchmark controller is given.
pub const SECRET: &str = "bench-webhook-secret";

pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A folder with a `git` that logs `NANOS COMMAND` to `git.log` beside it, then runs the
/// real git: the controller's PATH starts with it.
pub struct GitWrapper {
    pub bin: PathBuf,
    pub log: PathBuf,
}

pub fn git_wrapper(dir: &Path) -> GitWrapper {
    let real = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|p| p.join("git"))
        .find(|p| p.is_file())
        .expect("git is on the PATH");
    let bin = dir.join("git-wrapper");
    std::fs::create_dir_all(&bin).expect("create the wrapper folder");
    let log = dir.join("git.log");
    let script = format!(
        "#!/bin/sh\necho \"$(date +%s%N) $1\" >> '{}'\nexec '{}' \"$@\"\n",
        log.display(),
        real.display()
    );
    let path = bin.join("git");
    std::fs::write(&path, script).expect("write the wrapper");
    let status = Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .expect("chmod runs");
    assert!(status.success());
    GitWrapper { bin, log }
}

impl GitWrapper {
    /// Times (Unix nanoseconds) at which `git fetch` started.
    pub fn fetches(&self) -> Vec<i128> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .filter(|(_, command)| *command == "fetch")
            .filter_map(|(nanos, _)| nanos.parse().ok())
            .collect()
    }
}

pub struct Controller {
    pub child: Option<Child>,
    pub port: u16,
    pub log: PathBuf,
}

impl Controller {
    pub fn start(
        binary: &Path,
        endpoint: &str,
        repository: &Path,
        dir: &Path,
        wrapper: Option<&GitWrapper>,
        args: &[&str],
        ready_within: Duration,
    ) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = dir.join("controller.log");
        let path = std::env::join_paths(
            wrapper.map(|w| w.bin.clone()).into_iter().chain(
                std::env::var_os("PATH")
                    .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                    .unwrap_or_default(),
            ),
        )
        .expect("a PATH");
        let child = Command::new(binary)
            .args([
                "run",
                "--source",
                &format!("file://{}", repository.display()),
            ])
            .args(["--path", "specs", "--checkout-dir"])
            .arg(dir.join("checkout"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--log-format", "json"])
            // The emulator numbers a new version len(versions) + 1, so after pruning it
            // hands out a number again (a canary "6" beside a stable "6"): keep them all.
            .args(["--keep-versions", "1000"])
            .args(args)
            .env("PATH", path)
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_REGION", super::REGION)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .env("SHEPHERD_GITHUB_WEBHOOK_SECRET", SECRET)
            .env("SHEPHERD_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("create the log"))
            .spawn()
            .expect("shepherd run starts");
        let controller = Self {
            child: Some(child),
            port,
            log,
        };
        let started = Instant::now();
        while controller.request("GET", "/readyz", &[], "").0 != 200 {
            assert!(
                started.elapsed() < ready_within,
                "the controller was not ready within {ready_within:?}; log: {}",
                controller.log.display()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        println!(
            "controller ready in {:.1} s (pid {})",
            started.elapsed().as_secs_f64(),
            controller.child.as_ref().map_or(0, Child::id)
        );
        controller
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> (u16, String) {
        crate::support::controller::request(self.port, method, path, headers, body)
    }

    /// A signed GitHub push webhook; returns the status and when its response was read.
    pub fn push(&self, commit: &str, delivery: &str) -> (u16, SystemTime) {
        let status = crate::support::controller::push_webhook(self.port, commit, SECRET, delivery);
        (status, SystemTime::now())
    }

    /// Every JSON line of the log so far.
    pub fn log_lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The sum of a Prometheus series over every label set (`shepherd_aws_calls_total`),
    /// with a filter on the line (a label, say).
    pub fn metric(&self, series: &str, filter: impl Fn(&str) -> bool) -> f64 {
        let (status, body) = self.request("GET", "/metrics", &[], "");
        assert_eq!(status, 200, "GET /metrics answered {status}: {body}");
        body.lines()
            .filter(|l| {
                l.strip_prefix(series)
                    .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
            })
            .filter(|l| filter(l))
            .filter_map(|l| l.rsplit_once(' '))
            .filter_map(|(_, n)| n.trim().parse::<f64>().ok())
            .sum()
    }

    /// SIGTERM, then wait for the exit.
    pub fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => {
                        println!("controller stopped: {status}");
                        break;
                    }
                    Ok(None) if Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    _ => {
                        let _ = child.kill();
                        let _ = child.wait();
                        println!("controller killed: no exit within 30 s of SIGTERM");
                        break;
                    }
                }
            }
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A log line's message, timestamp (Unix nanoseconds) and field.
pub fn message(line: &serde_json::Value) -> &str {
    line["message"].as_str().unwrap_or("")
}

pub fn timestamp(line: &serde_json::Value) -> Option<i128> {
    line["timestamp"].as_str().and_then(super::parse_rfc3339)
}

pub fn span_field<'a>(line: &'a serde_json::Value, field: &str) -> &'a str {
    line["span"][field].as_str().unwrap_or("")
}

pub fn since(from: i128, to: i128) -> Duration {
    Duration::from_nanos(u64::try_from(to - from).unwrap_or(0))
}

pub fn signed_ms(from: i128, to: i128) -> f64 {
    (to - from) as f64 / 1e6
}
