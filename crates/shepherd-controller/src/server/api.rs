//! The status API (`GET /api/v1/functions[/{name}]`, open unless [`ReadAccess::Token`])
//! and the rollout commands (`POST /api/v1/functions/{name}/{command}`, behind the
//! bearer token), the leases (`GET /api/v1/leases`) and a standby's watch on the holder's
//! renewals (`GET /api/v1/leases/{target}/watch`).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use shepherd_core::rollout::Command;

use super::auth::{bearer_token, tokens_match};
use super::error::ApiError;
use super::{ReadAccess, ServerState};
use crate::handle::{CommandError, Controller, FunctionStatus, LeaseStatus};
use crate::leader::follow::WATCH_WAIT;

/// Every managed function, sorted by name.
pub(super) async fn list<C: Controller>(
    State(state): State<ServerState<C>>,
    headers: HeaderMap,
) -> Result<Json<Vec<FunctionStatus>>, Refused> {
    may_read(&state, &headers)?;
    Ok(Json(state.controller.functions()))
}

/// One function, or 404. With reads behind the token, the token is checked first, so
/// a caller without it cannot probe which functions exist.
pub(super) async fn get<C: Controller>(
    State(state): State<ServerState<C>>,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    if let Err(refused) = may_read(&state, &headers) {
        return refused.into_response();
    }
    let Ok(Path(name)) = name else {
        return ApiError::bad_request("invalid path").into_response();
    };
    match state.controller.function(&name) {
        Some(status) => Json(status).into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, "no such function").into_response(),
    }
}

/// The lease of every target, as this replica sees it (readable like the status API).
pub(super) async fn leases<C: Controller>(
    State(state): State<ServerState<C>>,
    headers: HeaderMap,
) -> Result<Json<Vec<LeaseStatus>>, Refused> {
    may_read(&state, &headers)?;
    Ok(Json(state.controller.leases()))
}

#[derive(Debug, Deserialize)]
pub(super) struct WatchParams {
    after: Option<String>,
    /// The following replica, and how many leases it holds.
    replica: Option<String>,
    holds: Option<usize>,
}

/// A standby following the holder (see `leader::follow`). Open: it tells only this
/// replica's id, its item's current version and whether it let go, after at most
/// `WATCH_WAIT`; none of it lets anyone take a lease sooner. What a caller says of itself
/// (`replica`, `holds`) can at most make this replica hand a lease over, which is safe.
pub(super) async fn lease_watch<C: Controller>(
    State(state): State<ServerState<C>>,
    target: Result<Path<String>, PathRejection>,
    params: Result<Query<WatchParams>, QueryRejection>,
) -> Response {
    let (Ok(Path(target)), Ok(Query(params))) = (target, params) else {
        return ApiError::bad_request("invalid path or query").into_response();
    };
    let follower = params.replica.zip(params.holds);
    match state
        .controller
        .lease_watch(&target, params.after, follower, WATCH_WAIT)
        .await
    {
        Some(renewal) => Json(renewal).into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, "no such target").into_response(),
    }
}

/// Why a request that needs the bearer token is turned away.
#[derive(Debug)]
pub(super) enum Refused {
    /// No token is configured: the endpoint is off, and looks like no endpoint (404).
    Off,
    /// The token is missing or wrong (401, naming the scheme).
    Unauthorized,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Off => ApiError::not_found().into_response(),
            // RFC 9110: a 401 names the scheme it wants.
            Refused::Unauthorized => {
                ([(WWW_AUTHENTICATE, "Bearer")], ApiError::unauthorized()).into_response()
            }
        }
    }
}

fn may_read<C>(state: &ServerState<C>, headers: &HeaderMap) -> Result<(), Refused> {
    match state.read_access {
        ReadAccess::Open => Ok(()),
        ReadAccess::Token => authorize(state, headers, "status read"),
    }
}

/// The bearer-token check, in time independent of the token presented.
fn authorize<C>(
    state: &ServerState<C>,
    headers: &HeaderMap,
    what: &'static str,
) -> Result<(), Refused> {
    let expected = state.secrets.api_token.as_deref().ok_or(Refused::Off)?;
    let authorized = bearer_token(headers.get(AUTHORIZATION))
        .is_some_and(|presented| tokens_match(expected, presented));
    if !authorized {
        tracing::warn!(request = what, "rejected: missing or wrong bearer token");
        return Err(Refused::Unauthorized);
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub(super) struct CommandParams {
    /// `promote` only: straight to 100%.
    #[serde(default)]
    full: bool,
    /// The function's target, when its name is in several.
    target: Option<String>,
}

/// Runs a rollout command. The checks run in this order so that a caller without the
/// token learns nothing (not even which commands exist) beyond "unauthorized".
pub(super) async fn command<C: Controller>(
    State(state): State<ServerState<C>>,
    headers: HeaderMap,
    path: Result<Path<(String, String)>, PathRejection>,
    params: Result<Query<CommandParams>, QueryRejection>,
) -> Response {
    if let Err(refused) = authorize(&state, &headers, "rollout command") {
        return refused.into_response();
    }
    let Ok(Path((name, verb))) = path else {
        return ApiError::bad_request("invalid path").into_response();
    };
    let Ok(Query(params)) = params else {
        return ApiError::bad_request("invalid query: `full` takes true or false").into_response();
    };
    let Some(command) = parse_command(&verb, params.full) else {
        return ApiError::new(StatusCode::NOT_FOUND, "unknown command").into_response();
    };
    // A task of its own, so that the command ends where it would have ended: the
    // request timeout, or a client hanging up, stops the wait for the answer, never the
    // AWS calls half-way. The task logs the outcome, which may have no reader.
    let controller = Arc::clone(&state.controller);
    let running = tokio::spawn(async move {
        let outcome = controller
            .command_in(params.target.as_deref(), &name, command)
            .await;
        match outcome {
            Ok(message) => {
                tracing::info!(function = ?name, %command, "rollout command done");
                Ok(message)
            }
            Err(error) => Err(command_error(&name, command, error)),
        }
    });
    match running.await {
        Ok(Ok(message)) => Json(json!({ "message": message })).into_response(),
        Ok(Err(error)) => error.into_response(),
        Err(panicked) => {
            tracing::error!(%command, error = %panicked, "rollout command panicked");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the command failed").into_response()
        }
    }
}

fn parse_command(verb: &str, full: bool) -> Option<Command> {
    Some(match verb {
        "promote" => Command::Promote { full },
        "abort" => Command::Abort,
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        "retry" => Command::Retry,
        _ => return None,
    })
}

/// Not-found and conflict messages are written for the operator and pass through; an AWS
/// failure may carry account ids, ARNs or request ids, so it is logged and summarized.
fn command_error(name: &str, command: Command, error: CommandError) -> ApiError {
    match error {
        CommandError::NoSuchFunction { .. } => {
            ApiError::new(StatusCode::NOT_FOUND, error.to_string())
        }
        CommandError::Ambiguous { .. } => ApiError::new(StatusCode::CONFLICT, error.to_string()),
        // 421: this replica is the wrong one to ask; the body says which is right, and
        // `shepherd rollout --server` asks it in turn.
        CommandError::NotHolder { ref holder, .. } => {
            let holder = json!(holder);
            ApiError::new(StatusCode::MISDIRECTED_REQUEST, error.to_string()).with_holder(holder)
        }
        CommandError::Operate(refusal) if refusal.is_refusal() => {
            ApiError::new(StatusCode::CONFLICT, refusal.to_string())
        }
        CommandError::Operate(cause) => {
            tracing::error!(function = ?name, %command, %cause, "rollout command failed");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "the command failed against AWS; see the controller's logs",
            )
        }
    }
}
