//! Why an action failed: a typed value, so that callers decide from the kind, and the
//! message is written once, here.

use std::time::Duration;

use shepherd_core::cloud::CloudError;
use shepherd_core::model::tags;

/// Why an action failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExecuteError {
    #[error(transparent)]
    Cloud(#[from] CloudError),
    /// A wait ran out: the function did not settle, or provisioned concurrency did not
    /// become ready.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout { waited: Duration, what: String },
    /// The function went away in the middle of the plan.
    #[error("function {function} disappeared")]
    Disappeared { function: String },
    /// An action needs the function's ARN, and the function does not exist.
    #[error("function {function} does not exist")]
    Missing { function: String },
    /// Lambda put the function in state `Failed`.
    #[error("the function is in state Failed: {reason}")]
    FunctionFailed { reason: String },
    /// Lambda says the last update failed.
    #[error("the update failed: {reason}")]
    UpdateFailed { reason: String },
    #[error("provisioned concurrency of {qualifier} FAILED: {reason}")]
    ProvisionedFailed { qualifier: String, reason: String },
    #[error("provisioned concurrency of {qualifier} vanished while allocating")]
    ProvisionedVanished { qualifier: String },
    /// A hook cannot run where the rollout is driven from (an HTTP hook without
    /// `hooks.allowedUrls`): no verdict, the rollout waits at the hook.
    #[error("hook {hook} cannot run here: {why}")]
    HookNotRunnable { hook: String, why: String },
    /// An action refers to the version this plan publishes, and none was published.
    #[error("no version was published before this step")]
    NothingPublished,
    /// A canary of the stable version itself would test nothing (and Lambda refuses such
    /// routing).
    #[error(
        "not starting a canary: the new version {version} is the stable version itself (the published code and configuration may equal what serves, or the endpoint reused a version number)"
    )]
    CanaryIsStable { version: String },
    /// A prune's function changed hands between the plan and the delete.
    #[error("not deleted: {function} no longer carries {}={owner}", tags::OWNER)]
    NoLongerOurs { function: String, owner: String },
    /// The plan names an owner that is not one.
    #[error("{0}")]
    InvalidOwner(String),
}

impl ExecuteError {
    /// The error without AWS's own message (see [`CloudError::summary`]).
    pub fn summary(&self) -> String {
        match self {
            ExecuteError::Cloud(error) => error.summary(),
            other => other.to_string(),
        }
    }
}
