//! What the listener tests share: a stand-in controller, a server on `127.0.0.1:0` with
//! chosen limits, and raw HTTP/1.1 over plain sockets, so that each test says exactly
//! which bytes a client sends and when it stops.

// Each test file uses its own part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use shepherd_controller::handle::{CommandError, Controller, FunctionStatus, Trigger};
use shepherd_controller::metrics::Metrics;
use shepherd_controller::server::{Secrets, ServerLimits, ServerState, router, serve_with};
use shepherd_core::rollout::Command;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const GITHUB_SECRET: &str = "github-secret";
pub const API_TOKEN: &str = "api-token";
pub const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// How long a command on the function named `slow` takes.
pub const SLOW_COMMAND: Duration = Duration::from_millis(600);

/// Records the syncs asked for; a command on `slow` takes [`SLOW_COMMAND`].
#[derive(Default)]
pub struct FakeController {
    pub triggers: Mutex<Vec<Trigger>>,
    pub statuses: Mutex<Vec<FunctionStatus>>,
    /// Commands that ran to their end.
    pub commands_done: AtomicUsize,
}

impl Controller for FakeController {
    fn request_sync(&self, trigger: Trigger) {
        self.triggers.lock().unwrap().push(trigger);
    }

    fn is_ready(&self) -> bool {
        true
    }

    fn functions(&self) -> Vec<FunctionStatus> {
        self.statuses.lock().unwrap().clone()
    }

    async fn command(&self, name: &str, command: Command) -> Result<String, CommandError> {
        if name == "slow" {
            tokio::time::sleep(SLOW_COMMAND).await;
        }
        self.commands_done.fetch_add(1, Ordering::SeqCst);
        Ok(format!("{command} {name}: done"))
    }
}

/// A running server; [`Server::stop`] shuts it down and waits for it.
pub struct Server {
    pub address: SocketAddr,
    pub controller: Arc<FakeController>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Serves the whole router with `limits`, the GitHub secret and the API token set.
    pub async fn start(limits: ServerLimits) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start_on(listener, limits).await
    }

    /// [`Server::start`] on a listener of the test's making.
    pub async fn start_on(listener: tokio::net::TcpListener, limits: ServerLimits) -> Self {
        let address = listener.local_addr().unwrap();
        let controller = Arc::new(FakeController::default());
        let secrets = Secrets {
            github_webhook_secret: Some(GITHUB_SECRET.to_owned()),
            api_token: Some(API_TOKEN.to_owned()),
            ..Secrets::default()
        };
        let state = ServerState::new(Arc::clone(&controller), Arc::new(Metrics::new()), secrets);
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async {
            let _ = stopped.await;
        };
        let task = tokio::spawn(serve_with(listener, router(state), shutdown, limits));
        Self {
            address,
            controller,
            stop,
            task,
        }
    }

    /// Asks for a graceful shutdown and returns how long the server took to end.
    pub async fn stop(self) -> Duration {
        let started = Instant::now();
        self.stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the server ends after a shutdown")
            .unwrap()
            .unwrap();
        started.elapsed()
    }

    pub async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.address).await.unwrap()
    }

    /// Sends `request` on a new connection and reads the answer to the end; panics
    /// unless the exchange is over within `within`.
    pub async fn exchange(&self, request: &str, within: Duration) -> String {
        self.try_exchange(request, within)
            .await
            .unwrap_or_else(|error| panic!("{error}"))
    }

    /// [`Server::exchange`], with what went wrong as an error.
    pub async fn try_exchange(&self, request: &str, within: Duration) -> Result<String, String> {
        let exchange = async {
            let mut stream = TcpStream::connect(self.address).await?;
            stream.write_all(request.as_bytes()).await?;
            let mut response = Vec::new();
            stream.read_to_end(&mut response).await?;
            std::io::Result::Ok(String::from_utf8_lossy(&response).into_owned())
        };
        let first_line = request.lines().next().unwrap_or_default();
        match tokio::time::timeout(within, exchange).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(error)) => Err(format!("{first_line}: {error}")),
            Err(_) => Err(format!("{first_line}: no answer within {within:?}")),
        }
    }
}

pub const HEALTHZ: &str = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A signed GitHub push of [`COMMIT`], as a whole request that closes its connection.
pub fn github_push(delivery: &str) -> String {
    let body = format!(r#"{{"ref":"refs/heads/main","after":"{COMMIT}"}}"#);
    format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         X-GitHub-Event: push\r\nX-GitHub-Delivery: {delivery}\r\nX-Hub-Signature-256: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        sign(GITHUB_SECRET, body.as_bytes()),
        body.len(),
    )
}

/// Reads from `stream` until the server closes it, and returns how long that took from
/// `since`; `None` if it is still open after `limit`. Whatever the server sent first
/// (an earlier response) is read and dropped.
pub async fn closed_after(
    stream: &mut TcpStream,
    since: Instant,
    limit: Duration,
) -> Option<Duration> {
    let mut buffer = [0u8; 4096];
    let read_to_close = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit.saturating_sub(since.elapsed()), read_to_close)
        .await
        .ok()
        .map(|()| since.elapsed())
}
