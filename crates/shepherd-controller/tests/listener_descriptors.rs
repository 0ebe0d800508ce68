//! Many idle connections under a low descriptor limit: the server keeps serving, and
//! the process keeps descriptors for everything else (git, AWS).
//!
//! The test lowers RLIMIT_NOFILE for its whole process, so it sits alone in this file
//! (each file under tests/ is a process of its own). The limit leaves room for the
//! test's own client sockets plus the server's connection bound, and no more: a server
//! that accepts without bound runs the process out of descriptors.

mod support;

use std::time::{Duration, Instant};

use rlimit::Resource;
use shepherd_controller::server::{DEFAULT_MAX_CONNECTIONS, ServerLimits};
use support::{COMMIT, HEALTHZ, Server, github_push};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// Far more idle connections than the server's bound (and than made the unbounded server
/// fail under `ulimit -n 1024`).
const IDLE_CONNECTIONS: u64 = 2_000;
/// Descriptors beyond the idle clients and the server's bound: the probe's and the
/// webhook's sockets, and a file.
const HEADROOM: u64 = 64;
/// Well below the header timeout (10 s): the idle connections holding every slot make
/// room at once, they do not merely time out.
const PATIENCE: Duration = Duration::from_secs(3);

fn open_descriptors() -> u64 {
    std::fs::read_dir("/proc/self/fd").unwrap().count() as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_neither_starve_the_process_nor_silence_the_server() {
    let server = Server::start(ServerLimits::default()).await;
    let (_, hard) = Resource::NOFILE.get().unwrap();
    let limit = open_descriptors() + IDLE_CONNECTIONS + DEFAULT_MAX_CONNECTIONS as u64 + HEADROOM;
    assert!(
        hard >= limit,
        "the hard limit {hard} is below the {limit} this test needs"
    );
    Resource::NOFILE.set(limit, hard).unwrap();

    // Half send nothing, half stop in the middle of a header.
    let started = Instant::now();
    let mut idle = Vec::new();
    let mut failed_to_open = None;
    for n in 0..IDLE_CONNECTIONS {
        let opened = async {
            let mut stream = TcpStream::connect(server.address).await?;
            if n % 2 == 1 {
                stream
                    .write_all(b"POST /webhooks/github HTTP/1.1\r\nHo")
                    .await?;
            }
            std::io::Result::Ok(stream)
        };
        match opened.await {
            Ok(stream) => idle.push(stream),
            Err(error) => {
                failed_to_open = Some(format!("idle connection #{n}: {error}"));
                break;
            }
        }
    }

    let health = server.try_exchange(HEALTHZ, PATIENCE).await;
    let webhook = server.try_exchange(&github_push("d-1"), PATIENCE).await;
    let file = std::fs::File::open("/dev/null");
    let took = started.elapsed();

    // Every failure at once: on a server without bounds, they come together.
    let mut problems = Vec::new();
    if let Some(error) = failed_to_open {
        problems.push(format!("the process ran out of descriptors: {error}"));
    }
    match health {
        Ok(response) if response.starts_with("HTTP/1.1 200 OK\r\n") => {}
        other => problems.push(format!("/healthz did not answer 200: {other:?}")),
    }
    match webhook {
        Ok(response) if response.starts_with("HTTP/1.1 202 Accepted\r\n") => {}
        other => problems.push(format!("the signed webhook was not accepted: {other:?}")),
    }
    if let Err(error) = file {
        problems.push(format!("no descriptor left to open a file: {error}"));
    }
    assert!(problems.is_empty(), "{problems:#?}");
    assert_eq!(
        server.controller.triggers.lock().unwrap().len(),
        1,
        "one sync for {COMMIT}"
    );
    assert!(took < PATIENCE * 2, "{took:?}");
    drop(idle);
    server.stop().await;
}
