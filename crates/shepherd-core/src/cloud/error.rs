//! Why a call to AWS failed, classified once (by the adapter, or the fake) into the kinds
//! the engine acts on.

use std::time::Duration;

use super::api::Api;

/// Why a call to AWS failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CloudError {
    /// AWS throttled the call (HTTP 429, `TooManyRequestsException`, `Throttling`).
    #[error("{api}: throttled by AWS")]
    Throttled {
        api: Api,
        retry_after: Option<Duration>,
    },
    /// AWS failed on its side (HTTP 5xx).
    #[error("{api}: AWS service error (HTTP {status}): {message}")]
    Server {
        api: Api,
        status: u16,
        message: String,
    },
    /// The call did not get an answer (connection reset, timed out).
    #[error("{api}: no answer from AWS: {message}")]
    Transport { api: Api, message: String },
    /// Nothing answers at the endpoint at all (connection refused, no such host): a
    /// wrong endpoint or no network. Tried again only briefly.
    #[error("{api}: cannot reach AWS: {message}")]
    Unreachable { api: Api, message: String },
    /// The function is being updated (`ResourceConflictException`): wait until it settles.
    #[error("{api}: the function is busy with another update: {message}")]
    Conflict { api: Api, message: String },
    /// What a create makes exists already (`ResourceConflictException` saying so): a
    /// create whose answer was lost, or a race with another writer.
    #[error("{api}: already exists: {message}")]
    AlreadyExists { api: Api, message: String },
    /// The resource does not exist.
    #[error("{api}: not found: {message}")]
    NotFound { api: Api, message: String },
    /// A `RevisionId` or `CodeSha256` precondition did not hold.
    #[error("{api}: precondition failed: {message}")]
    PreconditionFailed { api: Api, message: String },
    /// The endpoint does not implement the API (the local emulator, for some calls).
    #[error("{api}: not implemented by this endpoint")]
    Unsupported { api: Api },
    /// Not sent: this replica may no longer hold the target's lease, so another may be
    /// acting on it (fencing). Never retried by the call; the work is planned again by the
    /// holder.
    #[error("{api}: not sent: this replica does not hold the target's lease")]
    Fenced { api: Api },
    /// AWS refused the request (validation, permissions, limits); retrying will not help.
    #[error("{api}: {code}: {message}")]
    Rejected {
        api: Api,
        code: String,
        message: String,
    },
}

impl CloudError {
    /// Whether trying again later may succeed: throttling, server errors, no answer.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CloudError::Throttled { .. }
                | CloudError::Server { .. }
                | CloudError::Transport { .. }
                | CloudError::Unreachable { .. }
        )
    }

    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            CloudError::Throttled { .. } => "throttled",
            CloudError::Server { .. } => "server_error",
            CloudError::Transport { .. } => "transport",
            CloudError::Unreachable { .. } => "unreachable",
            CloudError::Conflict { .. } => "conflict",
            CloudError::AlreadyExists { .. } => "already_exists",
            CloudError::NotFound { .. } => "not_found",
            CloudError::PreconditionFailed { .. } => "precondition_failed",
            CloudError::Unsupported { .. } => "unsupported",
            CloudError::Fenced { .. } => "fenced",
            CloudError::Rejected { .. } => "rejected",
        }
    }

    /// What went wrong without AWS's own message, which may carry ARNs, account ids and
    /// request ids: safe to show to anyone who can read the status API.
    pub fn summary(&self) -> String {
        let api = self.api();
        match self {
            CloudError::Throttled { .. } => format!("{api}: throttled by AWS"),
            CloudError::Server { status, .. } => {
                format!("{api}: AWS service error (HTTP {status})")
            }
            CloudError::Transport { .. } => format!("{api}: no answer from AWS"),
            CloudError::Unreachable { .. } => format!("{api}: cannot reach AWS"),
            CloudError::Conflict { .. } => {
                format!("{api}: the function is busy with another update")
            }
            CloudError::AlreadyExists { .. } => format!("{api}: already exists"),
            CloudError::NotFound { .. } => format!("{api}: not found"),
            CloudError::PreconditionFailed { .. } => format!("{api}: precondition failed"),
            CloudError::Unsupported { .. } => format!("{api}: not implemented by this endpoint"),
            CloudError::Fenced { .. } => format!("{api}: not sent, the lease is not held"),
            CloudError::Rejected { code, .. } => format!("{api}: refused by AWS ({code})"),
        }
    }

    pub fn api(&self) -> Api {
        match self {
            CloudError::Throttled { api, .. }
            | CloudError::Server { api, .. }
            | CloudError::Transport { api, .. }
            | CloudError::Unreachable { api, .. }
            | CloudError::Conflict { api, .. }
            | CloudError::AlreadyExists { api, .. }
            | CloudError::NotFound { api, .. }
            | CloudError::PreconditionFailed { api, .. }
            | CloudError::Unsupported { api }
            | CloudError::Fenced { api }
            | CloudError::Rejected { api, .. } => *api,
        }
    }
}

pub type CloudResult<T> = Result<T, CloudError>;
