//! The accept loop: hyper's HTTP/1.1 connections under [`ServerLimits`], with the
//! graceful shutdown of `axum::serve` (stop accepting, let the requests in flight end).
//!
//! Each limit is a setting of a maintained crate: a semaphore slot per connection
//! (tokio), the header timeout (hyper), read and write timeouts on the socket
//! (tokio-io-timeout), the body deadline (tower-http) and the handler timeout (tower).
//! Only HTTP/1.1 is served: webhook senders, probes and Prometheus all speak it, and
//! hyper's header timeout exists for it alone.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::http::StatusCode;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore};
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

    let open = Arc::new(OpenConnections::default());
    loop {
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
        // A slot for each connection: the bound on descriptors the clients hold. When
        // every slot is taken, the connection idle the longest (one that has not sent a
        // whole request yet, or waits between keep-alive requests) is closed to make
        // room, so that a flood of idle connections never keeps a probe, a webhook or a
        // command waiting. Only when every connection is busy does this one wait, and
        // the next ones in the kernel's accept queue (which holds none of the process's
        // descriptors).
        let slot = match Arc::clone(&slots).try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                open.close_longest_idle();
                tokio::select! {
                    () = &mut shutdown => break,
                    slot = Arc::clone(&slots).acquire_owned() => {
                        slot.expect("the semaphore is never closed")
                    }
                }
            }
        };
        let io = TokioIo::new(with_idle_timeout(stream, limits.idle_timeout));
        let entry = open.add();
        let service = Counted {
            inner: service.clone(),
            busy: Arc::clone(&entry.busy),
        };
        let connection = graceful.watch(http.serve_connection(io, service));
        let open = Arc::clone(&open);
        tokio::spawn(async move {
            tokio::select! {
                ended = connection => {
                    // Timeouts and clients that vanish end connections all day long.
                    if let Err(error) = ended {
                        tracing::debug!(%error, "HTTP connection ended with an error");
                    }
                }
                () = entry.close.notified() => {
                    tracing::debug!("idle HTTP connection closed to make room");
                }
            }
            open.remove(entry.id);
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

/// The open connections, oldest first, each with its count of requests in flight, so the
/// accept loop can close the one idle the longest when every slot is taken.
#[derive(Default)]
struct OpenConnections {
    state: Mutex<OpenState>,
}

#[derive(Default)]
struct OpenState {
    next_id: u64,
    /// By id, so by the time they were accepted.
    connections: BTreeMap<u64, Arc<Entry>>,
}

struct Entry {
    id: u64,
    /// Requests in flight on the connection: 0 when it is idle (or still sending a head).
    busy: Arc<AtomicUsize>,
    close: Notify,
}

impl OpenConnections {
    fn lock(&self) -> std::sync::MutexGuard<'_, OpenState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add(&self) -> Arc<Entry> {
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        let entry = Arc::new(Entry {
            id,
            busy: Arc::new(AtomicUsize::new(0)),
            close: Notify::new(),
        });
        state.connections.insert(id, Arc::clone(&entry));
        entry
    }

    fn remove(&self, id: u64) {
        self.lock().connections.remove(&id);
    }

    /// Closes the oldest connection with no request in flight; false when all are busy.
    fn close_longest_idle(&self) -> bool {
        let mut state = self.lock();
        let idle = state
            .connections
            .values()
            .find(|e| e.busy.load(Ordering::SeqCst) == 0)
            .map(|e| e.id);
        match idle.and_then(|id| state.connections.remove(&id)) {
            Some(entry) => {
                // A permit, so the close is not lost if the task is not waiting yet.
                entry.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// The router's service on one connection, counting its requests in flight.
#[derive(Clone)]
struct Counted<S> {
    inner: S,
    busy: Arc<AtomicUsize>,
}

impl<S, B> hyper::service::Service<hyper::Request<B>> for Counted<S>
where
    S: hyper::service::Service<hyper::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn call(&self, request: hyper::Request<B>) -> Self::Future {
        self.busy.fetch_add(1, Ordering::SeqCst);
        let busy = Arc::clone(&self.busy);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await;
            busy.fetch_sub(1, Ordering::SeqCst);
            response
        })
    }
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
