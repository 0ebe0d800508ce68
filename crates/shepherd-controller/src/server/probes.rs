//! Liveness, readiness and the Prometheus scrape endpoint.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;

use super::ServerState;
use crate::handle::Controller;

/// The Prometheus text exposition format.
const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// Alive as long as the server answers.
pub(super) async fn healthz() -> &'static str {
    "ok"
}

/// Ready after the controller's first successful sync, so a rolling deploy of the
/// controller waits for the new one to see the world.
pub(super) async fn readyz<C: Controller>(
    State(state): State<ServerState<C>>,
) -> (StatusCode, &'static str) {
    if state.controller.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

pub(super) async fn metrics<C: Controller>(
    State(state): State<ServerState<C>>,
) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        state.metrics.render(),
    )
}
