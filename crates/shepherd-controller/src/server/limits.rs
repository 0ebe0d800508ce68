//! How much of the process one HTTP client may hold, and for how long.
//!
//! The listener faces the internet (webhooks), so each thing a client can hold open is
//! bounded: descriptors by [`ServerLimits::max_connections`], the time a connection may
//! take over each part of a request by the timeouts. Without them, idle connections
//! pile up until the process has no descriptor left for git and AWS.

use std::time::Duration;

/// Connections served at once. Half the soft descriptor limit that many systems still
/// start processes with (1024), so that at least as many stay for git fetches, AWS
/// calls and rollbacks; webhook senders and probes need a handful.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;

/// How long a client may take to send a complete request head. Webhook senders and
/// probes send theirs at once; ten seconds is ample over a slow link and still short
/// enough that a client dribbling a header (slowloris) gives its slot back quickly.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a whole request body, at most
/// [`MAX_BODY_BYTES`](super::MAX_BODY_BYTES): 100 KiB/s at the largest size, which any
/// real sender beats, while a body sent a byte at a time is cut off.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a handler may take, body included. Probes, reads and webhooks answer in
/// milliseconds; a rollout command makes a few AWS calls. Thirty seconds leaves room
/// for AWS retries, and is where many HTTP clients give up anyway.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection may go without a byte from its client, or with a write to it
/// blocked. Longer than [`DEFAULT_REQUEST_TIMEOUT`], since a client waiting for its
/// answer sends nothing; it catches what the other timeouts do not, above all a client
/// that stops reading its responses.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The bounds the listener puts on its clients; [`Default`] gives the `DEFAULT_*`
/// constants of this module.
///
/// A zero timeout closes every connection at once: configuration is expected to refuse
/// it, as it is expected to refuse `max_connections` of 0 (which serves as 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerLimits {
    /// Connections served at once. At the bound, a new connection takes the place of
    /// the one idle the longest (no request in flight: still sending its head, or
    /// between keep-alive requests), which is closed; only when every connection is
    /// busy does it wait, and the next ones in the kernel's accept queue (which holds no
    /// descriptor of the process), until a connection ends.
    pub max_connections: usize,
    /// From the moment the server waits for a request, at accept and again after each
    /// response on a keep-alive connection, until the request head is in; the
    /// connection is then closed. hyper counts the wait between keep-alive requests
    /// in it, so an idle keep-alive connection lasts at most the shorter of this and
    /// [`idle_timeout`](Self::idle_timeout).
    pub header_read_timeout: Duration,
    /// From the moment the handler starts until the whole request body is in; the
    /// answer is then `408`.
    pub body_read_timeout: Duration,
    /// From the moment the handler starts until its response is ready; the answer is
    /// then `503`. A rollout command goes on to its end regardless.
    pub request_timeout: Duration,
    /// A connection whose client sends nothing for this long, or to which a write has
    /// waited this long, is closed: keep-alive waits, stalled uploads, and clients that
    /// do not read their responses. Keep it above
    /// [`request_timeout`](Self::request_timeout), as the wait for a slow handler's
    /// answer counts as silence.
    pub idle_timeout: Duration,
}

impl Default for ServerLimits {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_nest() {
        let limits = ServerLimits::default();
        // A handler's wait must not read as an idle connection.
        assert!(limits.idle_timeout > limits.request_timeout);
        // The body is read inside the handler's time.
        assert!(limits.body_read_timeout < limits.request_timeout);
    }
}
