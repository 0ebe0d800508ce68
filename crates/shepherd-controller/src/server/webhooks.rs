//! Push webhooks: GitHub, GitLab and a generic HMAC-signed one.
//!
//! Each delivery is authenticated on the raw bytes before any parsing, so an unsigned
//! body never reaches the JSON parser; then a replayed delivery is dropped, and an
//! accepted push only queues a sync and answers 202 at once: the reconcile runs later,
//! in the controller's queue, whatever the sender's timeout.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use super::ServerState;
use super::auth::{hmac_matches, parse_sha256_signature, tokens_match};
use super::error::ApiError;
use crate::handle::{Controller, Trigger};

const GITHUB_SIGNATURE: &str = "x-hub-signature-256";
const GITHUB_EVENT: &str = "x-github-event";
const GITHUB_DELIVERY: &str = "x-github-delivery";
const GITLAB_TOKEN: &str = "x-gitlab-token";
const GITLAB_EVENT: &str = "x-gitlab-event";
const GITLAB_DELIVERY: &str = "x-gitlab-event-uuid";
const GENERIC_SIGNATURE: &str = "x-shepherd-signature";

/// `POST /webhooks/github`: `ping` and `push`; other events are acknowledged and ignored.
/// Only `X-Hub-Signature-256` counts: the SHA-1 `X-Hub-Signature` is not accepted.
pub(super) async fn github<C: Controller>(
    State(state): State<ServerState<C>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    const SOURCE: &str = "github";
    let Some(secret) = state.secrets.github_webhook_secret.as_deref() else {
        return ApiError::not_found().into_response();
    };
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let signed = parse_sha256_signature(headers.get(GITHUB_SIGNATURE))
        .is_some_and(|signature| hmac_matches(secret, &body, &signature));
    if !signed {
        return rejected(SOURCE, "missing or invalid X-Hub-Signature-256");
    }
    if is_replay(
        &state,
        SOURCE,
        headers.get(GITHUB_DELIVERY).map(|v| v.as_bytes()),
    ) {
        return duplicate(SOURCE);
    }
    match header(&headers, GITHUB_EVENT) {
        Some("ping") => {
            tracing::info!(source = SOURCE, "webhook ping");
            Json(json!({ "message": "pong" })).into_response()
        }
        Some("push") => {
            #[derive(Deserialize)]
            struct Push {
                after: Option<String>,
                #[serde(rename = "ref")]
                git_ref: Option<String>,
            }
            let result =
                parse::<Push>(&body).and_then(|push| Ok((commit_id(push.after)?, push.git_ref)));
            match result {
                Ok((commit, git_ref)) => enqueue(&state, SOURCE, commit, git_ref),
                Err(error) => error.into_response(),
            }
        }
        other => ignored(SOURCE, other),
    }
}

/// `POST /webhooks/gitlab`: `Push Hook`; other events are acknowledged and ignored.
pub(super) async fn gitlab<C: Controller>(
    State(state): State<ServerState<C>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    const SOURCE: &str = "gitlab";
    let Some(expected) = state.secrets.gitlab_token.as_deref() else {
        return ApiError::not_found().into_response();
    };
    // GitLab sends the token itself, not a signature; it is checked before the body is
    // even read.
    let authorized = headers
        .get(GITLAB_TOKEN)
        .is_some_and(|token| tokens_match(expected, token.as_bytes()));
    if !authorized {
        return rejected(SOURCE, "missing or wrong X-Gitlab-Token");
    }
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    if is_replay(
        &state,
        SOURCE,
        headers.get(GITLAB_DELIVERY).map(|v| v.as_bytes()),
    ) {
        return duplicate(SOURCE);
    }
    match header(&headers, GITLAB_EVENT) {
        Some("Push Hook") => {
            #[derive(Deserialize)]
            struct Push {
                checkout_sha: Option<String>,
                after: Option<String>,
                #[serde(rename = "ref")]
                git_ref: Option<String>,
            }
            // `checkout_sha` is the head after the push; it is null when the branch was
            // deleted, where `after` is the all-zero id.
            let result = parse::<Push>(&body)
                .and_then(|push| Ok((commit_id(push.checkout_sha.or(push.after))?, push.git_ref)));
            match result {
                Ok((commit, git_ref)) => enqueue(&state, SOURCE, commit, git_ref),
                Err(error) => error.into_response(),
            }
        }
        other => ignored(SOURCE, other),
    }
}

/// `POST /webhooks/generic`: any sender that signs the body, which is empty or
/// `{"commit": "..."}`. The signature is the delivery id, so a sender that repeats a body
/// on purpose adds something unique to it (a timestamp field is ignored but signed).
pub(super) async fn generic<C: Controller>(
    State(state): State<ServerState<C>>,
    headers: HeaderMap,
    request: Request,
) -> Response {
    const SOURCE: &str = "generic";
    let Some(secret) = state.secrets.generic_webhook_secret.as_deref() else {
        return ApiError::not_found().into_response();
    };
    let body = match read_body(request).await {
        Ok(body) => body,
        Err(error) => return error.into_response(),
    };
    let Some(signature) = parse_sha256_signature(headers.get(GENERIC_SIGNATURE))
        .filter(|signature| hmac_matches(secret, &body, signature))
    else {
        return rejected(SOURCE, "missing or invalid X-Shepherd-Signature");
    };
    // The decoded bytes, so `ABCD` and `abcd` are one delivery.
    if is_replay(&state, SOURCE, Some(&signature)) {
        return duplicate(SOURCE);
    }
    #[derive(Deserialize)]
    struct Delivery {
        commit: Option<String>,
    }
    let commit = if body.trim_ascii().is_empty() {
        Ok(None)
    } else {
        parse::<Delivery>(&body).and_then(|delivery| commit_id(delivery.commit))
    };
    match commit {
        Ok(commit) => enqueue(&state, SOURCE, commit, None),
        Err(error) => error.into_response(),
    }
}

/// The raw body, within the router's `DefaultBodyLimit` (413 beyond it). Read inside the
/// handler rather than as an extractor so that a disabled endpoint answers 404 without
/// reading anything.
async fn read_body(request: Request) -> Result<Bytes, ApiError> {
    Bytes::from_request(request, &())
        .await
        .map_err(ApiError::from)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // serde's message quotes the payload; the sender gets only the kind of problem.
    serde_json::from_slice(body).map_err(|_| {
        ApiError::bad_request(
            "invalid JSON payload (the webhook's content type must be application/json)",
        )
    })
}

/// A commit id from a payload: `None` when absent or the all-zero id of a deleted branch.
/// Anything but 4 to 64 hex digits is refused: the id may reach git's command line, where
/// a value such as `--upload-pack=...` must never arrive.
fn commit_id(value: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(commit) = value else {
        return Ok(None);
    };
    let hex = (4..=64).contains(&commit.len()) && commit.bytes().all(|b| b.is_ascii_hexdigit());
    if !hex {
        return Err(ApiError::bad_request(
            "commit must be a hexadecimal git object id",
        ));
    }
    Ok((!commit.bytes().all(|b| b == b'0')).then_some(commit))
}

/// Marks the delivery as seen and says whether it was already. Called only after
/// authentication: otherwise anyone could pre-claim an id and make the real delivery be
/// dropped as a replay. Deliveries without an id are never replays.
fn is_replay<C>(state: &ServerState<C>, source: &str, id: Option<&[u8]>) -> bool {
    id.is_some_and(|id| !state.replays.first_sighting(source, id))
}

fn rejected(source: &'static str, reason: &'static str) -> Response {
    tracing::warn!(source, reason, "webhook rejected");
    ApiError::unauthorized().into_response()
}

fn duplicate(source: &'static str) -> Response {
    tracing::info!(source, "webhook delivery already seen; not synced again");
    Json(json!({ "duplicate": true })).into_response()
}

fn ignored(source: &'static str, event: Option<&str>) -> Response {
    tracing::info!(source, event = ?event, "webhook event ignored");
    (
        StatusCode::ACCEPTED,
        Json(json!({ "message": "event ignored" })),
    )
        .into_response()
}

fn enqueue<C: Controller>(
    state: &ServerState<C>,
    source: &'static str,
    commit: Option<String>,
    git_ref: Option<String>,
) -> Response {
    tracing::info!(source, commit = ?commit, git_ref = ?git_ref, "webhook accepted; sync queued");
    state
        .controller
        .request_sync(Trigger::Webhook { source, commit });
    (
        StatusCode::ACCEPTED,
        Json(json!({ "message": "sync queued" })),
    )
        .into_response()
}
