//! The accept loop: hyper's HTTP/1.1 connections under [`ServerLimits`], with the
//! graceful shutdown of `axum::serve` (stop accepting, let the requests in flight end).
//!
//! Each limit is a setting of a maintained crate: a semaphore slot per connection
//! (tokio), the header timeout (hyper), read and write timeouts on the socket
//! (tokio-io-timeout), the body deadline (tower-http) and the handler timeout (tower).
//! Only HTTP/1.1 is served: webhook senders, probes and Prometheus all speak it, and
//! hyper's header timeout exists for it alone.

use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::StatusCode;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_io_timeout::TimeoutStream;
use tower::{BoxError, ServiceBuilder};
use tower_http::timeout::RequestBodyDeadlineLayer;

use super::error::ApiError;
use super::limits::ServerLimits;

/// The first pause after an accept fails for a reason other than the connection itself.
const FIRST_ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// The longest pause: short enough that serving resumes within a second of descriptors
/// coming back, long enough that a lasting failure logs once a second, not in a loop.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Serves `router` on `listener` under `limits` until `shutdown` completes; then stops
/// accepting and waits for the open connections: requests in flight finish, idle
/// connections close at once.
///
/// An accept that fails (out of descriptors, say) pauses the loop briefly and is tried
/// again; it never ends the server, so the result is always `Ok` today. The `io::Result`
/// keeps the contract of `axum::serve`.
pub async fn serve_with<F>(
    listener: TcpListener,
    router: Router,
    shutdown: F,
    limits: ServerLimits,
) -> io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, ?limits, "serving HTTP");
    }
    let service = TowerToHyperService::new(with_timeouts(router, &limits));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let slots = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    let graceful = GracefulShutdown::new();
    let mut backoff = AcceptBackoff::default();
    let mut shutdown = pin!(shutdown);

    loop {
        // The slot before the connection: past the bound, new connections wait in the
        // kernel's accept queue, which holds none of the process's descriptors.
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = Arc::clone(&slots).acquire_owned() => {
                slot.expect("the semaphore is never closed")
            }
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff.reset();
                stream
            }
            Err(error) => {
                if let Some(pause) = backoff.after(&error) {
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(pause) => {}
                    }
                }
                continue;
            }
        };
        let io = TokioIo::new(with_idle_timeout(stream, limits.idle_timeout));
        let connection = graceful.watch(http.serve_connection(io, service.clone()));
        tokio::spawn(async move {
            // Timeouts and clients that vanish end connections all day long: not news.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "HTTP connection ended with an error");
            }
            drop(slot);
        });
    }

    drop(listener);
    tracing::info!(
        connections = graceful.count(),
        "HTTP server stopping; waiting for open connections"
    );
    graceful.shutdown().await;
    Ok(())
}

/// The handler timeout (`503`) around the body deadline (the body's read fails, and the
/// handler answers `408`).
fn with_timeouts(router: Router, limits: &ServerLimits) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(request_failed))
            .timeout(limits.request_timeout)
            .layer(RequestBodyDeadlineLayer::new(limits.body_read_timeout)),
    )
}

/// The only error the layers raise is the handler timeout; any other is answered
/// without detail, like every internal error.
async fn request_failed(error: BoxError) -> ApiError {
    if error.is::<tower::timeout::error::Elapsed>() {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the request took too long; a rollout command goes on, so check the \
             function's status before sending it again",
        )
    } else {
        tracing::error!(%error, "HTTP request failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

/// Read and write timeouts on the socket: hyper has no idle timeout of its own, and
/// this also catches a client that stops reading (its writes block), which no timer
/// inside hyper sees. Boxed because the timers are pinned and hyper wants `Unpin` I/O.
fn with_idle_timeout(stream: TcpStream, idle: Duration) -> Pin<Box<TimeoutStream<TcpStream>>> {
    let mut stream = TimeoutStream::new(stream);
    stream.set_read_timeout(Some(idle));
    stream.set_write_timeout(Some(idle));
    Box::pin(stream)
}

/// The pause after a failed accept, doubling from [`FIRST_ACCEPT_BACKOFF`] to
/// [`MAX_ACCEPT_BACKOFF`] while accepts keep failing.
#[derive(Debug)]
struct AcceptBackoff {
    next: Duration,
}

impl Default for AcceptBackoff {
    fn default() -> Self {
        Self {
            next: FIRST_ACCEPT_BACKOFF,
        }
    }
}

impl AcceptBackoff {
    /// How long to wait before accepting again, if at all. A connection reset or
    /// aborted before it was taken concerns that connection alone: accept the next at
    /// once. Anything else (EMFILE, ENFILE, ENOBUFS) would fail again at once and spin
    /// the loop, so it waits, and is logged, as a process out of descriptors matters.
    fn after(&mut self, error: &io::Error) -> Option<Duration> {
        if matches!(
            error.kind(),
            io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionRefused
                | io::ErrorKind::Interrupted
        ) {
            return None;
        }
        let pause = self.next;
        self.next = (self.next * 2).min(MAX_ACCEPT_BACKOFF);
        tracing::warn!(%error, ?pause, "accepting an HTTP connection failed; pausing");
        Some(pause)
    }

    fn reset(&mut self) {
        self.next = FIRST_ACCEPT_BACKOFF;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_failures_back_off_up_to_a_second_and_reset() {
        let mut backoff = AcceptBackoff::default();
        let emfile = io::Error::from_raw_os_error(24);
        let pauses: Vec<_> = (0..9).filter_map(|_| backoff.after(&emfile)).collect();
        let millis: Vec<_> = pauses.iter().map(Duration::as_millis).collect();
        assert_eq!(millis, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);

        backoff.reset();
        assert_eq!(backoff.after(&emfile), Some(FIRST_ACCEPT_BACKOFF));
    }

    #[test]
    fn a_connection_that_failed_alone_is_no_reason_to_pause() {
        let mut backoff = AcceptBackoff::default();
        let reset = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert_eq!(backoff.after(&reset), None);
        // Nor does it count towards the next pause.
        let emfile = io::Error::from_raw_os_error(24);
        assert_eq!(backoff.after(&emfile), Some(FIRST_ACCEPT_BACKOFF));
    }
}
