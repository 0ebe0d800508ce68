//! `POST /api/v1/hooks/{execution}`: a hook that answered "pending" reports its result
//! (CodeDeploy's PutLifecycleEventHookExecutionStatus). The bearer token is the one the
//! hook's payload carried, an HMAC of the execution id under the callback key, so it
//! opens this one execution and nothing else, and only while the rollout waits for it.
//!
//! Body: `{"status": "Succeeded"}` or `{"status": "Failed", "reason": "..."}`. Answers 200
//! when written, 401 for a wrong token, 409 when the rollout no longer waits for this
//! execution, 421 from a replica that does not hold the target's lease.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use shepherd_core::rollout::Execution;
use shepherd_engine::execute::callback_token;

use super::ServerState;
use super::auth::{bearer_token, tokens_match};
use super::error::ApiError;
use crate::handle::{CommandError, Controller};

/// The longest reason kept from a report.
const REASON_LIMIT: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

pub(super) async fn report<C: Controller>(
    State(state): State<ServerState<C>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(key) = state.secrets.hook_callback_key.as_deref() else {
        return ApiError::not_found().into_response();
    };
    let Some(execution) = Execution::parse(&id) else {
        return ApiError::not_found().into_response();
    };
    let expected = callback_token(key, &id);
    if !bearer_token(headers.get(AUTHORIZATION))
        .is_some_and(|presented| tokens_match(&expected, presented))
    {
        tracing::warn!(execution = %id, "hook report rejected: wrong token");
        return ApiError::unauthorized().into_response();
    }
    let Ok(report) = serde_json::from_slice::<Report>(&body) else {
        return ApiError::bad_request(
            "expected {\"status\": \"Succeeded\"} or {\"status\": \"Failed\", \"reason\": ...}",
        )
        .into_response();
    };
    let result = match report.status.as_str() {
        "Succeeded" => Ok(()),
        "Failed" => {
            let reason: String = report
                .reason
                .unwrap_or_else(|| "no reason given".to_owned())
                .chars()
                .filter(|c| !c.is_control())
                .take(REASON_LIMIT)
                .collect();
            Err(reason)
        }
        _ => return ApiError::bad_request("status is Succeeded or Failed").into_response(),
    };
    // Its own task, as the commands: a client hanging up never stops the write half-way.
    let controller = Arc::clone(&state.controller);
    let running =
        tokio::spawn(async move { controller.hook_report(execution, id.clone(), result).await });
    match running.await {
        Ok(Ok(message)) => Json(json!({ "message": message })).into_response(),
        Ok(Err(error)) => report_error(error).into_response(),
        Err(_) => {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the report failed").into_response()
        }
    }
}

fn report_error(error: CommandError) -> ApiError {
    match error {
        CommandError::NotHolder { ref holder, .. } => {
            let holder = json!(holder);
            ApiError::new(StatusCode::MISDIRECTED_REQUEST, error.to_string()).with_holder(holder)
        }
        CommandError::NoSuchFunction { .. } => ApiError::not_found(),
        CommandError::Operate(refusal) if refusal.is_refusal() => {
            ApiError::new(StatusCode::CONFLICT, refusal.to_string())
        }
        error => {
            tracing::error!(%error, "hook report failed");
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "the report could not be written; try again",
            )
        }
    }
}
