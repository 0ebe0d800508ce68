//! A standby follows the holder over HTTP, at no cost to the lease table: it keeps one
//! request open to the holder's `GET /api/v1/leases/{target}/watch?after=VERSION`, which
//! the holder answers as soon as it renews past that version, or releases the lease, or
//! after [`WATCH_WAIT`].
//!
//! - Each renewal heard is counted from when it was heard ([`Elector::heard`]), which is
//!   after the holder sent it: a crashed holder's lease is taken one lease duration after
//!   its last renewal, instead of up to a heartbeat later, as counting from reads alone
//!   would.
//! - A release (a graceful stop) makes the standby read the table at once, so a rolling
//!   update moves the lease in well under a heartbeat.
//!
//! Nothing here can make a standby take a lease early: a takeover is still a conditional
//! write on the version seen unchanged for a full lease. A holder that does not answer
//! (crashed, or an address that is not a replica's) leaves the standby on its heartbeat
//! reads, as without this.
//!
//! [`Elector::heard`]: shepherd_core::lease::Elector::heard

use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::{Heard, Leadership};

/// How long the holder keeps a watch open without news; below the server's request
/// timeout.
pub const WATCH_WAIT: Duration = Duration::from_secs(20);

/// The holder's answer (see `Renewal`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    holder: String,
    version: Option<String>,
    duration_ms: u64,
    released: bool,
}

/// The standby's side: until `cancel`, follows whoever holds the lease.
pub async fn follow(leadership: Leadership, heartbeat: Duration, cancel: CancellationToken) {
    let mut after: Option<String> = None;
    loop {
        let holder = leadership
            .holder()
            .filter(|h| h.replica != leadership.replica() && !leadership.is_holder());
        let asked = match holder.and_then(|h| h.url) {
            Some(url) => tokio::select! {
                () = cancel.cancelled() => return,
                answer = ask(&url, &leadership, after.as_deref(), WATCH_WAIT + heartbeat) => Some(answer),
            },
            None => None,
        };
        match asked {
            Some(Ok(answer)) if answer.released => {
                tracing::debug!(
                    target = leadership.target(),
                    "the holder released the lease"
                );
                leadership.read_now();
            }
            Some(Ok(Answer {
                holder,
                version: Some(version),
                duration_ms,
                ..
            })) if after.as_deref() != Some(version.as_str()) => {
                leadership.heard(Heard {
                    holder,
                    version: version.clone(),
                    duration: Duration::from_millis(duration_ms),
                });
                after = Some(version);
                // Straight back to waiting for the next renewal.
                continue;
            }
            // Held with no renewal within the wait: ask again at once.
            Some(Ok(Answer {
                version: Some(_), ..
            })) => continue,
            Some(Err(error)) => {
                tracing::debug!(target = leadership.target(), %error, "cannot follow the holder");
            }
            // Answered by a replica that does not hold the lease, or no holder known.
            Some(Ok(_)) | None => {}
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(heartbeat) => {}
        }
    }
}

/// One watch request to `base`, saying who asks and how many leases it holds.
async fn ask(
    base: &str,
    leadership: &Leadership,
    after: Option<&str>,
    timeout: Duration,
) -> Result<Answer, String> {
    let mut query = format!("?holds={}", leadership.held_by_replica());
    // Replica ids are host names and suffixes; one that would need escaping is not sent.
    let replica = leadership.replica();
    if replica
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    {
        query.push_str(&format!("&replica={replica}"));
    }
    if let Some(version) = after {
        query.push_str(&format!("&after={version}"));
    }
    let url = format!(
        "{}/api/v1/leases/{}/watch{query}",
        base.trim_end_matches('/'),
        leadership.target()
    );
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("{url}: only http:// addresses are followed"));
    }
    let authority = uri.authority().ok_or(format!("{url}: no host"))?.clone();
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = authority.port_u16().unwrap_or(80);
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let request = async {
        let stream = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        let driver = tokio::spawn(connection);
        let request = hyper::Request::get(path)
            .header(hyper::header::HOST, authority.as_str())
            .body(Empty::<Bytes>::new())
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        driver.abort();
        if !status.is_success() {
            return Err(format!("HTTP {status}"));
        }
        serde_json::from_slice(&body).map_err(|e| format!("unexpected answer: {e}"))
    };
    tokio::time::timeout(timeout, request)
        .await
        .map_err(|_| format!("{url}: no answer within {timeout:?}"))?
}
