//! A graceful handover without extra reads: a standby keeps one request open to the
//! holder's `GET /api/v1/leases/{target}/released`, which the holder answers when it has
//! deleted its item (or after [`RELEASE_WAIT`], and the standby asks again). On "released"
//! the standby reads the table at once instead of at its next heartbeat, so a rolling
//! update moves the lease in well under a heartbeat, and a quiet lease costs the table
//! nothing beyond the heartbeat's one read.
//!
//! A holder that crashed answers nothing: the standby falls back to its heartbeat and
//! the lease duration, as without this.

use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Leadership;

/// How long the holder keeps a release request open before answering "not released";
/// below the server's request timeout.
pub const RELEASE_WAIT: Duration = Duration::from_secs(20);

/// The standby's side: until `cancel`, waits on the holder's release, and reads the lease
/// at once when it comes.
pub async fn watch(leadership: Leadership, heartbeat: Duration, cancel: CancellationToken) {
    loop {
        let started = Instant::now();
        let asked = match leadership.holder() {
            Some(holder) if holder.replica != leadership.replica() && !leadership.is_holder() => {
                match holder.url {
                    Some(url) => Some(tokio::select! {
                        () = cancel.cancelled() => return,
                        answer = released(&url, leadership.target(), RELEASE_WAIT + heartbeat) => answer,
                    }),
                    None => None,
                }
            }
            _ => None,
        };
        match &asked {
            Some(Ok(true)) => {
                tracing::debug!(
                    target = leadership.target(),
                    "the holder released the lease"
                );
                leadership.read_now();
            }
            Some(Err(error)) => {
                tracing::debug!(target = leadership.target(), %error, "cannot wait on the holder's release");
            }
            Some(Ok(false)) | None => {}
        }
        // A request the holder held open may be followed at once; anything quicker (an
        // error, an answer from a replica that no longer holds) waits a heartbeat.
        let quick = started.elapsed() < heartbeat;
        if quick || !matches!(asked, Some(Ok(false))) {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(heartbeat) => {}
            }
        }
    }
}

/// Asks `base`'s release endpoint for `target`; true when it answers that it released.
async fn released(base: &str, target: &str, timeout: Duration) -> Result<bool, String> {
    let url = format!(
        "{}/api/v1/leases/{target}/released",
        base.trim_end_matches('/')
    );
    let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!("{url}: only http:// addresses are waited on"));
    }
    let authority = uri.authority().ok_or(format!("{url}: no host"))?.clone();
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = authority.port_u16().unwrap_or(80);
    let ask = async {
        let stream = TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| e.to_string())?;
        let driver = tokio::spawn(connection);
        let request = hyper::Request::get(uri.path())
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
        let answer: serde_json::Value =
            serde_json::from_slice(&body).map_err(|e| format!("unexpected answer: {e}"))?;
        Ok(answer["released"].as_bool() == Some(true))
    };
    tokio::time::timeout(timeout, ask)
        .await
        .map_err(|_| format!("{url}: no answer within {timeout:?}"))?
}
