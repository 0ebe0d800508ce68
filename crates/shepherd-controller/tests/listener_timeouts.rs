//! The listener's timeouts and its connection bound, over real sockets: each test sets
//! the one limit it looks at short and the others long, so whatever closes the
//! connection is the limit under test.

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use shepherd_controller::handle::FunctionStatus;
use shepherd_controller::server::ServerLimits;
use support::{API_TOKEN, HEALTHZ, SLOW_COMMAND, Server, closed_after};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The limit under test.
const SHORT: Duration = Duration::from_millis(300);
/// The limits not under test: far beyond what any test waits.
const LONG: Duration = Duration::from_secs(20);
/// How long a test waits for something that should happen after [`SHORT`].
const PATIENCE: Duration = Duration::from_secs(3);

fn long_limits() -> ServerLimits {
    ServerLimits {
        max_connections: 64,
        header_read_timeout: LONG,
        body_read_timeout: LONG,
        request_timeout: LONG,
        idle_timeout: LONG,
    }
}

/// Asserts that the limit closed the connection: not before about [`SHORT`], nor long
/// after it.
fn assert_closed_by_the_limit(closed: Option<Duration>, what: &str) {
    let closed = closed.unwrap_or_else(|| panic!("{what}: still open after {PATIENCE:?}"));
    assert!(
        closed >= SHORT.mul_f32(0.8) && closed < SHORT * 4,
        "{what}: closed after {closed:?}, the limit is {SHORT:?}"
    );
}

/// Opens a connection, has one request answered on it and keeps it open; returns it
/// with the moment the answer was in.
async fn keep_alive_connection(server: &Server) -> (TcpStream, Instant) {
    let mut stream = server.connect().await;
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut response = Vec::new();
    while !response.ends_with(b"\r\n\r\nok") {
        let mut chunk = [0u8; 1024];
        let read = stream.read(&mut chunk).await.unwrap();
        assert_ne!(read, 0, "closed before answering");
        response.extend_from_slice(&chunk[..read]);
    }
    let response = String::from_utf8_lossy(&response).to_lowercase();
    assert!(response.starts_with("http/1.1 200 ok\r\n"), "{response}");
    assert!(!response.contains("connection: close"), "{response}");
    (stream, Instant::now())
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    let server = Server::start(ServerLimits {
        idle_timeout: SHORT,
        ..long_limits()
    })
    .await;
    let (mut stream, answered) = keep_alive_connection(&server).await;
    let closed = closed_after(&mut stream, answered, PATIENCE).await;
    assert_closed_by_the_limit(closed, "idle keep-alive connection");
    server.stop().await;
}

/// hyper starts the header timer as soon as it waits for the next request, so with the
/// defaults (header 10 s, idle 60 s) a keep-alive connection lasts 10 s idle.
#[tokio::test]
async fn the_header_timeout_also_bounds_the_wait_between_keep_alive_requests() {
    let server = Server::start(ServerLimits {
        header_read_timeout: SHORT,
        ..long_limits()
    })
    .await;
    let (mut stream, answered) = keep_alive_connection(&server).await;
    let closed = closed_after(&mut stream, answered, PATIENCE).await;
    assert_closed_by_the_limit(closed, "idle keep-alive connection");
    server.stop().await;
}

/// A client that asks and never reads (the slow-read attack) blocks the server's
/// writes, where no timer of hyper runs: the write timeout closes it.
#[tokio::test]
async fn a_client_that_stops_reading_is_closed_after_the_idle_timeout() {
    /// Answers of about 1 MiB each.
    const REQUESTS: usize = 4;
    // Small socket buffers on both sides (accepted sockets inherit the listener's), so
    // that the server's writes block within the first answer, however slow the machine.
    let listening = TcpSocket::new_v4().unwrap();
    listening.set_send_buffer_size(16 * 1024).unwrap();
    listening.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let server = Server::start_on(
        listening.listen(16).unwrap(),
        ServerLimits {
            idle_timeout: SHORT,
            ..long_limits()
        },
    )
    .await;
    *server.controller.statuses.lock().unwrap() = (0..100)
        .map(|n| FunctionStatus {
            name: format!("function-{n:03}"),
            last_error: Some("x".repeat(10_000)),
            ..FunctionStatus::default()
        })
        .collect();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(server.address).await.unwrap();
    let requests = "GET /api/v1/functions HTTP/1.1\r\nHost: localhost\r\n\r\n".repeat(REQUESTS);
    stream.write_all(requests.as_bytes()).await.unwrap();
    tokio::time::sleep(SHORT * 3).await;

    let mut received = Vec::new();
    let read_to_close = async {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(read) => received.extend_from_slice(&chunk[..read]),
            }
        }
    };
    let closed = tokio::time::timeout(PATIENCE, read_to_close).await;
    let answers = String::from_utf8_lossy(&received)
        .matches("HTTP/1.1 200 OK")
        .count();
    assert!(closed.is_ok(), "still open after {answers} answers");
    assert!(
        received.len() < 1024 * 1024,
        "{} bytes were read: the server did not give up on the first answer",
        received.len()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_connection_that_stalls_before_its_header_ends_is_closed_after_the_header_timeout() {
    let server = Server::start(ServerLimits {
        header_read_timeout: SHORT,
        ..long_limits()
    })
    .await;
    let connected = Instant::now();
    let mut silent = server.connect().await;
    let mut partial = server.connect().await;
    partial
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();

    let closed = closed_after(&mut partial, connected, PATIENCE).await;
    assert_closed_by_the_limit(closed, "half a header");
    let closed = closed_after(&mut silent, connected, PATIENCE).await;
    assert_closed_by_the_limit(closed, "not a byte sent");
    server.stop().await;
}

#[tokio::test]
async fn a_stalled_body_is_answered_408_after_the_body_timeout() {
    let server = Server::start(ServerLimits {
        body_read_timeout: SHORT,
        ..long_limits()
    })
    .await;
    let started = Instant::now();
    // Ten of the hundred bytes announced, then nothing.
    let request = "POST /webhooks/github HTTP/1.1\r\nHost: localhost\r\n\
                   X-GitHub-Event: push\r\nContent-Length: 100\r\n\r\n{\"after\":\"";
    let response = server.exchange(request, PATIENCE).await;
    let elapsed = started.elapsed();
    assert!(
        response.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
        "{response}"
    );
    assert!(
        response.ends_with(r#"{"error":"timed out reading the request body"}"#),
        "{response}"
    );
    assert!(elapsed >= SHORT.mul_f32(0.8), "answered after {elapsed:?}");
    assert!(server.controller.triggers.lock().unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_slow_handler_is_answered_503_and_its_command_still_runs_to_the_end() {
    let server = Server::start(ServerLimits {
        request_timeout: SHORT,
        ..long_limits()
    })
    .await;
    let started = Instant::now();
    let request = format!(
        "POST /api/v1/functions/slow/promote HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Bearer {API_TOKEN}\r\nConnection: close\r\n\r\n"
    );
    let response = server.exchange(&request, PATIENCE).await;
    let elapsed = started.elapsed();
    assert!(
        response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"),
        "{response}"
    );
    assert!(response.contains(r#"{"error":"#), "{response}");
    assert!(elapsed < SLOW_COMMAND, "answered after {elapsed:?}");
    assert_eq!(server.controller.commands_done.load(Ordering::SeqCst), 0);

    // The answer gave up on the command, the command did not stop half-way.
    tokio::time::sleep(SLOW_COMMAND * 2).await;
    assert_eq!(server.controller.commands_done.load(Ordering::SeqCst), 1);
    server.stop().await;
}

#[tokio::test]
async fn at_the_bound_the_longest_idle_connection_makes_room() {
    let server = Server::start(ServerLimits {
        max_connections: 4,
        ..long_limits()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(server.connect().await);
    }
    // Let the server take the four before the fifth comes.
    tokio::time::sleep(Duration::from_millis(100)).await;

    // A fifth is served at once, well within the (long) header timeout.
    let response = server.exchange(HEALTHZ, PATIENCE).await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    // The oldest idle one was closed for it.
    let closed = closed_after(&mut held[0], Instant::now(), PATIENCE).await;
    assert!(closed.is_some(), "the oldest idle connection is still open");
    server.stop().await;
}

#[tokio::test]
async fn when_every_connection_is_busy_the_next_waits_for_a_free_slot() {
    let server = Server::start(ServerLimits {
        max_connections: 4,
        ..long_limits()
    })
    .await;
    let slow = format!(
        "POST /api/v1/functions/slow/promote HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: Bearer {API_TOKEN}\r\nConnection: close\r\n\r\n"
    );
    let mut busy = Vec::new();
    for _ in 0..4 {
        let mut stream = server.connect().await;
        stream.write_all(slow.as_bytes()).await.unwrap();
        busy.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;

    let started = Instant::now();
    let response = server.exchange(HEALTHZ, PATIENCE).await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    // Served once a command ended and its connection closed, not before.
    let waited = started.elapsed();
    assert!(
        waited >= SLOW_COMMAND - Duration::from_millis(200),
        "served after {waited:?}, while four commands held every slot"
    );
    server.stop().await;
}

/// Not a new limit: the guard that the listener kept the graceful shutdown of
/// `axum::serve`.
#[tokio::test]
async fn a_shutdown_lets_the_request_in_flight_finish_and_closes_idle_connections() {
    let server = Server::start(ServerLimits::default()).await;
    let mut idle = server.connect().await;
    idle.write_all(HEALTHZ.replace("Connection: close\r\n", "").as_bytes())
        .await
        .unwrap();

    let address = server.address;
    let in_flight = tokio::spawn(async move {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!(
            "POST /api/v1/functions/slow/abort HTTP/1.1\r\nHost: localhost\r\n\
             Authorization: Bearer {API_TOKEN}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    });
    tokio::time::sleep(SLOW_COMMAND / 3).await;

    let took = server.stop().await;
    let response = in_flight.await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.ends_with(r#"{"message":"abort slow: done"}"#),
        "{response}"
    );
    assert!(took < SLOW_COMMAND * 2, "the shutdown took {took:?}");
    let closed = closed_after(&mut idle, Instant::now(), PATIENCE).await;
    assert!(closed.is_some(), "the idle connection outlived the server");
}
