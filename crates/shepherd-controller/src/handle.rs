//! What the HTTP server and the triggers see of the controller: a narrow handle, so the
//! server is tested with a stand-in and the controller without HTTP.

use std::future::Future;

use serde::{Deserialize, Serialize};
use shepherd_core::model::AlarmState;
use shepherd_core::rollout::Command;
use shepherd_engine::operator::OperateError;
use shepherd_engine::rollouts::RolloutStatus;

/// Why a sync was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Trigger {
    /// The periodic resync.
    Resync,
    /// The git source found a new commit.
    GitPoll { commit: String },
    /// A folder source (no commits) changed: a new desired state, as a commit is.
    SourceChange,
    /// A push webhook (`github`, `gitlab`, `generic`), with the commit it names if any.
    Webhook {
        source: &'static str,
        commit: Option<String>,
    },
    /// A message on the deploy-request queue naming functions (all when empty) and/or a
    /// commit.
    DeployRequest {
        functions: Vec<String>,
        commit: Option<String>,
    },
    /// A CloudWatch alarm changed state (EventBridge event on SQS).
    AlarmChange { alarm: String, state: AlarmState },
    /// A write to Lambda or CloudWatch seen in CloudTrail (EventBridge event on SQS): the
    /// API, the functions and alarms it named, and whether shepherd itself made it.
    CloudChange {
        event: String,
        functions: Vec<String>,
        alarms: Vec<String>,
        by_shepherd: bool,
    },
    /// The prune step found this owner's function absent from the spec set.
    Prune,
}

impl Trigger {
    /// A bounded label for metrics and logs.
    pub fn label(&self) -> &'static str {
        match self {
            Trigger::Resync => "resync",
            Trigger::GitPoll { .. } => "git",
            Trigger::SourceChange => "source",
            Trigger::Webhook { .. } => "webhook",
            Trigger::DeployRequest { .. } => "deploy_request",
            Trigger::AlarmChange { .. } => "alarm",
            Trigger::CloudChange { .. } => "drift",
            Trigger::Prune => "prune",
        }
    }
}

/// How a function's last reconcile ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReconcileResult {
    /// AWS already matched the spec.
    Unchanged,
    /// Changes were applied.
    Applied,
    /// An AWS call or the packaging of the code failed.
    Failed,
    /// The plan was refused (another owner's function, an event source Lambda refuses).
    Refused,
    /// The commit's specs did not validate; nothing was applied.
    Invalid,
}

impl ReconcileResult {
    /// The label of `shepherd_reconciles_total`.
    pub fn label(self) -> &'static str {
        match self {
            ReconcileResult::Unchanged => "unchanged",
            ReconcileResult::Applied => "applied",
            ReconcileResult::Failed => "failed",
            ReconcileResult::Refused => "refused",
            ReconcileResult::Invalid => "invalid",
        }
    }
}

/// The last reconcile of one function, as the status API shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionStatus {
    pub name: String,
    /// The commit whose spec was last applied to this function successfully.
    pub last_applied_commit: Option<String>,
    /// The commit last tried.
    pub last_attempted_commit: Option<String>,
    pub last_result: Option<ReconcileResult>,
    pub last_error: Option<String>,
    /// When the last commit tried was invalid: its errors, each `FILE:LINE:COLUMN: ...`
    /// with the file named inside the repository (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diagnostics: Vec<String>,
    /// Unix seconds of the last reconcile.
    pub last_reconciled_at: Option<u64>,
    pub drift_corrections: u64,
    pub rollout: Option<RolloutStatus>,
}

/// Why a rollout command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// No such function in the desired state.
    #[error("no function named {name}")]
    NoSuchFunction { name: String },
    /// The command was refused (it does not apply now, e.g. promote with no rollout in
    /// flight), or AWS failed to carry it out: [`OperateError::is_refusal`] tells which.
    #[error(transparent)]
    Operate(#[from] OperateError),
}

/// The controller, as the server uses it.
pub trait Controller: Send + Sync + 'static {
    /// Asks for a sync; returns at once (the work is queued, never done inline).
    fn request_sync(&self, trigger: Trigger);
    /// Ready after the first successful sync.
    fn is_ready(&self) -> bool;
    /// The status of every managed function, sorted by name.
    fn functions(&self) -> Vec<FunctionStatus>;
    fn function(&self, name: &str) -> Option<FunctionStatus> {
        self.functions().into_iter().find(|f| f.name == name)
    }
    /// Carries out a rollout command; the message says what was done.
    fn command(
        &self,
        name: &str,
        command: Command,
    ) -> impl Future<Output = Result<String, CommandError>> + Send;
}
