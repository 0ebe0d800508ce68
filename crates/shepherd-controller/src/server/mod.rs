//! The controller's HTTP server: health and readiness probes, Prometheus metrics, the
//! status API, the rollout commands (behind a bearer token), the callback of pending
//! hooks (behind a token per execution) and the push webhooks
//! (GitHub, GitLab, a generic HMAC-signed one).
//!
//! Handlers only read state or enqueue work through [`Controller`]: a webhook answers as
//! soon as its sync is queued, never after the reconcile. Every endpoint whose secret is
//! not configured answers 404, so a disabled feature looks like no feature at all.
//!
//! The listener is meant to be reachable from the internet, for the webhooks, so no
//! client can hold the process's resources for long ([`ServerLimits`]): at most
//! [`DEFAULT_MAX_CONNECTIONS`] connections at once (past it, new ones wait in the
//! kernel's queue, costing the process no descriptor), a request head within
//! [`DEFAULT_HEADER_READ_TIMEOUT`], a body within [`DEFAULT_BODY_READ_TIMEOUT`], a
//! handler within [`DEFAULT_REQUEST_TIMEOUT`], and no connection silent for
//! [`DEFAULT_IDLE_TIMEOUT`]. An accept that fails, for want of descriptors say, pauses
//! the accept loop and never ends it.
//!
//! The status API is open unless [`ReadAccess::Token`] puts it behind the commands'
//! token; `/healthz`, `/readyz` and `/metrics` are always open.

mod api;
mod auth;
mod error;
mod hooks;
mod limits;
mod listener;
mod probes;
mod replay;
mod webhooks;

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use crate::handle::Controller;
use crate::metrics::Metrics;
use error::ApiError;
use replay::ReplayCache;

pub use limits::{
    DEFAULT_BODY_READ_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_REQUEST_TIMEOUT, ServerLimits,
};
pub use listener::serve_with;

/// The largest request body accepted; push payloads of big merges stay well below it.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// How many recent webhook deliveries are remembered to drop replays.
pub const REPLAY_WINDOW: usize = 1024;

/// The shared secrets; `None` turns the endpoint that needs it off (404).
#[derive(Clone, Default)]
pub struct Secrets {
    /// Signs GitHub deliveries (`X-Hub-Signature-256`).
    pub github_webhook_secret: Option<String>,
    /// Sent verbatim by GitLab (`X-Gitlab-Token`).
    pub gitlab_token: Option<String>,
    /// Signs generic deliveries (`X-Shepherd-Signature`).
    pub generic_webhook_secret: Option<String>,
    /// Bearer token of the rollout commands.
    pub api_token: Option<String>,
    /// The key of hook callback tokens (`POST /api/v1/hooks/{execution}`).
    pub hook_callback_key: Option<String>,
}

impl Secrets {
    /// An empty secret would make every signature forgeable (HMAC with an empty key, or
    /// an empty token), so it counts as not configured.
    fn without_empty(self) -> Self {
        let keep = |s: Option<String>| s.filter(|s| !s.is_empty());
        Self {
            github_webhook_secret: keep(self.github_webhook_secret),
            gitlab_token: keep(self.gitlab_token),
            generic_webhook_secret: keep(self.generic_webhook_secret),
            api_token: keep(self.api_token),
            hook_callback_key: keep(self.hook_callback_key),
        }
    }
}

// Hand-written so that no `{:?}` of the configuration ever prints a secret.
impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |s: &Option<String>| if s.is_some() { "<set>" } else { "<unset>" };
        f.debug_struct("Secrets")
            .field("github_webhook_secret", &shown(&self.github_webhook_secret))
            .field("gitlab_token", &shown(&self.gitlab_token))
            .field(
                "generic_webhook_secret",
                &shown(&self.generic_webhook_secret),
            )
            .field("api_token", &shown(&self.api_token))
            .field("hook_callback_key", &shown(&self.hook_callback_key))
            .finish()
    }
}

/// Who may read the status API, `GET /api/v1/functions` and
/// `GET /api/v1/functions/{name}`.
///
/// Open by default: the API is read-only and holds no credential (function names,
/// commits, rollout steps, each function's last error), and probes, dashboards and
/// `shepherd status --server` read it without a token. An operator who exposes the port
/// to the internet, for the webhooks, should put it behind the token: names and errors
/// (which may quote ARNs and the account id) tell an outsider about the deployment.
/// `/healthz` and `/readyz` stay open either way, for the kubelet and load balancers,
/// and so does `/metrics`, for Prometheus: it carries function names as labels, so
/// keep the scrape off the internet at the network (a path rule at the proxy).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReadAccess {
    /// Anyone may read.
    #[default]
    Open,
    /// Only callers presenting the rollout commands' bearer token
    /// ([`Secrets::api_token`]) may read; without a token configured, the status API
    /// is off (404), as nothing could be presented.
    Token,
}

/// What every handler shares; cheap to clone.
pub struct ServerState<C> {
    controller: Arc<C>,
    metrics: Arc<Metrics>,
    secrets: Arc<Secrets>,
    replays: Arc<ReplayCache>,
    read_access: ReadAccess,
}

impl<C: Controller> ServerState<C> {
    /// The state of one server, remembering the last [`REPLAY_WINDOW`] deliveries.
    pub fn new(controller: Arc<C>, metrics: Arc<Metrics>, secrets: Secrets) -> Self {
        Self {
            controller,
            metrics,
            secrets: Arc::new(secrets.without_empty()),
            replays: Arc::new(ReplayCache::new(REPLAY_WINDOW)),
            read_access: ReadAccess::default(),
        }
    }

    /// The same state, with the status API readable as `access` says.
    pub fn with_read_access(self, access: ReadAccess) -> Self {
        Self {
            read_access: access,
            ..self
        }
    }
}

// Derived `Clone` would demand `C: Clone`; only the `Arc`s are cloned.
impl<C> Clone for ServerState<C> {
    fn clone(&self) -> Self {
        Self {
            controller: Arc::clone(&self.controller),
            metrics: Arc::clone(&self.metrics),
            secrets: Arc::clone(&self.secrets),
            replays: Arc::clone(&self.replays),
            read_access: self.read_access,
        }
    }
}

/// Every route of the server.
pub fn router<C: Controller>(state: ServerState<C>) -> Router {
    Router::new()
        .route("/healthz", get(probes::healthz))
        .route("/readyz", get(probes::readyz::<C>))
        .route("/metrics", get(probes::metrics::<C>))
        .route("/api/v1/functions", get(api::list::<C>))
        .route("/api/v1/functions/{name}", get(api::get::<C>))
        .route(
            "/api/v1/functions/{name}/{command}",
            post(api::command::<C>),
        )
        .route("/api/v1/hooks/{execution}", post(hooks::report::<C>))
        .route("/api/v1/leases", get(api::leases::<C>))
        .route("/api/v1/leases/{target}/watch", get(api::lease_watch::<C>))
        .route("/webhooks/github", post(webhooks::github::<C>))
        .route("/webhooks/gitlab", post(webhooks::gitlab::<C>))
        .route("/webhooks/generic", post(webhooks::generic::<C>))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Unknown paths answer the same JSON 404 as disabled endpoints.
async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests in
/// flight finish: [`serve_with`] under the default [`ServerLimits`].
pub async fn serve<F>(listener: TcpListener, router: Router, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve_with(listener, router, shutdown, ServerLimits::default()).await
}
