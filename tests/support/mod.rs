//! Shared by the end-to-end tests: the local AWS emulator (moto server) on a free loopback
//! port, a fault-injecting proxy in front of it, and the `shepherd` binary.

#![allow(dead_code)]

pub mod controller;
pub mod proxy;

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

/// A moto server of our own, stopped on drop.
pub struct Emulator {
    child: Child,
    pub endpoint: String,
    python: PathBuf,
}

impl Emulator {
    pub fn start() -> Self {
        let server = moto_server();
        let python = server.parent().unwrap().join("python");
        let port = free_port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts");
        let emulator = Self {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            python,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not start within 30s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        emulator
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
