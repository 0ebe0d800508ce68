//! The JSON error body every endpoint answers with, `{"error": "..."}`.
//!
//! Messages are fixed strings or texts written for operators; causes from AWS or the
//! runtime are logged, never sent, so a response does not leak internals.

use std::borrow::Cow;
use std::error::Error;

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower_http::timeout::TimeoutError;

/// An error response: a status and a message safe to show to any caller.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: Cow<'static, str>,
    /// Where the lease holder is, for a command sent to a standby.
    holder: Option<serde_json::Value>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
            holder: None,
        }
    }

    /// The same error, saying which replica to ask instead.
    pub(crate) fn with_holder(self, holder: serde_json::Value) -> Self {
        Self {
            holder: Some(holder),
            ..self
        }
    }

    pub(crate) fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
    }

    pub(crate) fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized")
    }

    pub(crate) fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.holder {
            Some(holder) => json!({ "error": self.message, "holder": holder }),
            None => json!({ "error": self.message }),
        };
        (self.status, Json(body)).into_response()
    }
}

// axum's own rejection is plain text with hyper's wording; keep its status (413 for a
// body over the limit), answer in JSON. A body past its deadline comes as an unknown
// body error (400) from axum; it is the client's slowness, so 408.
impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if caused_by_timeout(&rejection) {
            return Self::new(
                StatusCode::REQUEST_TIMEOUT,
                "timed out reading the request body",
            );
        }
        let status = rejection.status();
        let message = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "request body too large"
        } else {
            "could not read the request body"
        };
        Self::new(status, message)
    }
}

fn caused_by_timeout(error: &(dyn Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<TimeoutError>() {
            return true;
        }
        cause = error.source();
    }
    false
}
