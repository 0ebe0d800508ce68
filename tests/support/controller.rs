//! A `shepherd run` process for the end-to-end tests, and plain HTTP/1.1 requests to it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::shepherd_bin;

/// A running controller, killed on drop.
pub struct Running {
    child: Child,
    pub port: u16,
}

impl Running {
    /// Starts `shepherd run ARGS --listen 127.0.0.1:PORT` against `endpoint`, with `env`
    /// added, without waiting for it to be ready.
    pub fn spawn(endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::spawn_limited(endpoint, args, env, None)
    }

    /// [`Running::spawn`], under a soft limit of `open_files` descriptors when given
    /// (`ulimit -n`), as a container or a systemd unit may set it.
    pub fn spawn_limited(
        endpoint: &str,
        args: &[&str],
        env: &[(&str, &str)],
        open_files: Option<u32>,
    ) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = match open_files {
            Some(limit) => {
                let mut shell = Command::new("sh");
                shell
                    .arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(shepherd_bin());
                shell
            }
            None => Command::new(shepherd_bin()),
        };
        command
            .arg("run")
            .args(args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            // Where other replicas reach this one (the host name may not resolve here).
            .env("SHEPHERD_ADVERTISE_URL", format!("http://127.0.0.1:{port}"))
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env_remove("AWS_PROFILE")
            .env("SHEPHERD_LOG", "info")
            .stdout(Stdio::null())
            .stderr(match std::env::var_os("SHEPHERD_E2E_LOG") {
                // The controller's log, for a test being debugged.
                Some(path) => std::fs::File::create(path)
                    .map(Stdio::from)
                    .unwrap_or_else(|_| Stdio::null()),
                None => Stdio::null(),
            });
        for (name, value) in env {
            command.env(name, value);
        }
        Self {
            child: command.spawn().unwrap(),
            port,
        }
    }

    /// [`Running::spawn`], then waits until `/readyz` says ready.
    pub fn start(endpoint: &str, args: &[&str], env: &[(&str, &str)], limit: Duration) -> Self {
        let running = Self::spawn(endpoint, args, env);
        running.wait_for("ready", limit, |c| c.get("/readyz").0 == 200);
        running
    }

    /// One request on a connection of its own; `(0, "")` when nothing answers.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> (u16, String) {
        request(self.port, method, path, headers, body)
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        self.request("GET", path, &[], "")
    }

    /// `GET /api/v1/functions/NAME`, as JSON.
    pub fn function(&self, name: &str) -> serde_json::Value {
        let (status, body) = self.get(&format!("/api/v1/functions/{name}"));
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Waits until `ok`, failing the test after `limit`; returns how long it took.
    pub fn wait_for(&self, what: &str, limit: Duration, ok: impl Fn(&Self) -> bool) -> Duration {
        let started = Instant::now();
        while !ok(self) {
            assert!(started.elapsed() < limit, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
        started.elapsed()
    }

    /// Sends `signal` (`STOP`, `CONT`, `KILL`, ...) to the process.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -{signal}");
    }

    /// SIGTERM, then the exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let status = self.child.wait().unwrap();
        std::mem::forget(self);
        status
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 request to `127.0.0.1:PORT` on a connection of its own; `(0, "")` when nothing answers.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> (u16, String) {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new());
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    if stream.write_all(request.as_bytes()).is_err() {
        return (0, String::new());
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A GitHub push webhook for `commit` on main, signed with `secret`, to
/// `127.0.0.1:PORT`; returns the status.
pub fn push_webhook(port: u16, commit: &str, secret: &str, delivery: &str) -> u16 {
    use hmac::{Hmac, Mac};
    use sha2::Sha256;

    let body = format!(r#"{{"ref":"refs/heads/main","after":"{commit}"}}"#);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("an HMAC key");
    mac.update(body.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let headers = [
        ("X-GitHub-Event", "push".to_owned()),
        ("X-GitHub-Delivery", delivery.to_owned()),
        ("X-Hub-Signature-256", signature),
        ("Content-Type", "application/json".to_owned()),
    ];
    request(port, "POST", "/webhooks/github", &headers, &body).0
}
