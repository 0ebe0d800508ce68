//! What the HTTP server and the triggers see of the controller: a narrow handle, so the
//! server is tested with a stand-in and the controller without HTTP.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shepherd_core::model::AlarmState;
use shepherd_core::rollout::{Command, Execution};
use shepherd_engine::operator::OperateError;
use shepherd_engine::rollouts::RolloutStatus;

use crate::leader::{LeaseHolder, Renewal};

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
    /// This replica took the target's lease: everything is looked at, and rollouts in
    /// flight resume from what AWS holds.
    LeaseAcquired,
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
            Trigger::LeaseAcquired => "lease",
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
    /// The target (account and region) the function is deployed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
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

/// One target's lease, as this replica sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseStatus {
    pub target: String,
    /// This replica's id.
    pub replica: String,
    /// Whether this replica holds the lease now (and so acts on the target).
    pub holding: bool,
    /// Who holds it, as last seen; `None` when nobody does, or it is not known yet.
    pub holder: Option<LeaseHolder>,
}

/// Why a rollout command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// No such function in the desired state.
    #[error("no function named {name}")]
    NoSuchFunction { name: String },
    /// The function is in several targets; the command must say which.
    #[error("{name} is in several targets ({}); name one with ?target=", .targets.join(", "))]
    Ambiguous { name: String, targets: Vec<String> },
    /// Another replica holds the lease of the function's target: only it acts.
    #[error("this replica does not hold the lease of target {target}; {}", holder_hint(.holder.as_ref()))]
    NotHolder {
        target: String,
        holder: Option<LeaseHolder>,
    },
    /// The command was refused (it does not apply now, e.g. promote with no rollout in
    /// flight), or AWS failed to carry it out: [`OperateError::is_refusal`] tells which.
    #[error(transparent)]
    Operate(#[from] OperateError),
}

fn holder_hint(holder: Option<&LeaseHolder>) -> String {
    match holder {
        Some(LeaseHolder {
            replica,
            url: Some(url),
        }) => format!("replica {replica} does, at {url}"),
        Some(LeaseHolder { replica, url: None }) => format!("replica {replica} does"),
        None => "no replica holds it right now; try again in a few seconds".to_owned(),
    }
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
    /// The lease of every target (empty without a lease table).
    fn leases(&self) -> Vec<LeaseStatus> {
        Vec::new()
    }
    /// Waits at most `wait` for this replica's lease on `target` to be renewed past
    /// `after`, or released (what a following standby asks); `None` for a target it does
    /// not know.
    /// `follower` is the asking replica and how many leases it holds (for the spread).
    fn lease_watch(
        &self,
        target: &str,
        after: Option<String>,
        follower: Option<(String, usize)>,
        wait: Duration,
    ) -> impl Future<Output = Option<Renewal>> + Send {
        let _ = (target, after, follower, wait);
        async { None }
    }
    /// [`Controller::command`] on the function of that name in `target` (any when `None`).
    fn command_in(
        &self,
        target: Option<&str>,
        name: &str,
        command: Command,
    ) -> impl Future<Output = Result<String, CommandError>> + Send {
        let _ = target;
        self.command(name, command)
    }
    /// Writes the result a hook reported through its callback (`POST
    /// /api/v1/hooks/{execution}`), on the target the execution names (any when `None`).
    fn hook_report(
        &self,
        execution: Execution,
        id: String,
        result: Result<(), String>,
    ) -> impl Future<Output = Result<String, CommandError>> + Send {
        let _ = (id, result);
        async move {
            Err(CommandError::NoSuchFunction {
                name: execution.function,
            })
        }
    }
    /// Carries out a rollout command; the message says what was done.
    fn command(
        &self,
        name: &str,
        command: Command,
    ) -> impl Future<Output = Result<String, CommandError>> + Send;
}
