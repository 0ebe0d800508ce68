//! Shared by the end-to-end tests: the local AWS emulator (moto server) on a free loopback
//! port, a fault-injecting proxy in front of it, and the `shepherd` binary.

#![allow(dead_code)]

pub mod controller;
pub mod proxy;
pub mod receiver;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `shepherd` binary, built by `cargo test --workspace` (or `cargo build -p shepherd`).
pub fn shepherd_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("SHEPHERD_BIN") {
        return PathBuf::from(path);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let path = target.join("debug").join("shepherd");
    assert!(
        path.exists(),
        "{} is missing: build it first with `cargo build -p shepherd` (scripts/test does)",
        path.display()
    );
    path
}

fn moto_server() -> PathBuf {
    let path = std::env::var_os("SHEPHERD_MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/moto_server"));
    assert!(
        path.exists(),
        "the local AWS emulator is not installed at {}: run scripts/test, which installs it",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether an HTTP server answers on `port` (any status).
fn answers_http(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = b"GET /moto-api/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if stream.write_all(request).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// A moto server of our own, stopped on drop.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
    python: PathBuf,
}

impl Emulator {
    /// Starts one on a free port. Tests start emulators in parallel: a port found free
    /// may be taken before the emulator binds it, so one that exits at start is started
    /// again on another port, and it counts as up only once it answers HTTP.
    pub fn start() -> Self {
        let server = moto_server();
        let python = server.parent().unwrap().join("python");
        for _ in 0..5 {
            let port = free_port();
            let mut child = Command::new(&server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto_server starts");
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                if child.try_wait().ok().flatten().is_some() {
                    break;
                }
                if answers_http(port) {
                    return Self {
                        child,
                        endpoint: format!("http://127.0.0.1:{port}"),
                        python,
                    };
                }
                assert!(
                    Instant::now() < deadline,
                    "moto_server did not start within 60s"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("moto_server exited at start five times");
    }

    /// The emulator's Python (its venv has boto3).
    pub fn python(&self) -> &Path {
        &self.python
    }

    /// Creates the lease table `table` with `shepherd lease-table create`.
    pub fn create_lease_table(&self, table: &str) {
        let dir = std::env::temp_dir();
        let created = shepherd(&self.endpoint, &["lease-table", "create", table], &dir);
        assert!(created.status.success(), "{}", stderr(&created));
    }

    /// Runs a command of `tests/support/emulator.py` (creating roles, queues, ...) and
    /// returns what it printed.
    pub fn setup(&self, args: &[&str]) -> String {
        let output = Command::new(&self.python)
            .arg(repo().join("tests/support/emulator.py"))
            .arg(&self.endpoint)
            .args(args)
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "emulator.py {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `shepherd ARGS` against `endpoint` with test credentials.
pub fn shepherd(endpoint: &str, args: &[&str], cwd: &Path) -> Output {
    Command::new(shepherd_bin())
        .args(args)
        .current_dir(cwd)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .env("NO_COLOR", "1")
        .output()
        .expect("shepherd runs")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Makes `dir` a git work tree (no commit needed: its top is the specs' root).
pub fn git_init(dir: &Path) {
    let status = Command::new("git")
        .args(["init", "--quiet"])
        .arg(dir)
        .status()
        .expect("git runs");
    assert!(status.success(), "git init {}", dir.display());
}

/// Runs `git ARGS` in `dir` as a test author; its output, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Copies a directory tree (for spec repositories the tests edit).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
