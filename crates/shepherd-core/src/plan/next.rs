//! What happens after a plan's actions: one value, as kube-runtime's `Action` is, instead
//! of loose fields that could contradict each other.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::model::tags;
use crate::rollout::Phase;

/// What happens next for a function, once its plan's actions are done.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "next", rename_all = "camelCase")]
pub enum Next {
    /// Nothing more to do until the spec or AWS changes.
    Converged,
    /// A rollout is moving: plan again after this long.
    RequeueAfter(Duration),
    /// A rollout holds until an operator promotes or resumes it; its alarms are still
    /// looked at after `recheck`, and roll it back.
    WaitForOperator { recheck: Duration },
    /// The spec's release did not make it: rolled back or aborted, and the alias stays on
    /// the stable version. Applying the plan does not reach the spec's desired state.
    ReleaseFailed(ReleaseFailure),
    /// The function is not planned at all, and nothing is done to it.
    Refused(Refusal),
}

impl Next {
    /// When to plan again, if at all: a rollout that moves or waits (its alarms still
    /// gate it).
    pub fn requeue_after(&self) -> Option<Duration> {
        match self {
            Next::RequeueAfter(after) | Next::WaitForOperator { recheck: after } => Some(*after),
            _ => None,
        }
    }

    /// A rollout is in flight and moves by itself.
    pub fn is_moving(&self) -> bool {
        matches!(self, Next::RequeueAfter(_))
    }

    pub fn is_waiting_for_operator(&self) -> bool {
        matches!(self, Next::WaitForOperator { .. })
    }

    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Next::Refused(refusal) => Some(refusal),
            _ => None,
        }
    }

    pub fn release_failure(&self) -> Option<&ReleaseFailure> {
        match self {
            Next::ReleaseFailed(failure) => Some(failure),
            _ => None,
        }
    }
}

/// A release that was rolled back or aborted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseFailure {
    /// The release digest the rollout record names.
    pub release: String,
    /// [`Phase::RolledBack`] or [`Phase::Aborted`].
    pub phase: Phase,
    pub reason: String,
    /// An earlier pass rolled it back and this plan leaves the alias as it is; otherwise
    /// this plan's own actions roll it back.
    pub earlier: bool,
}

impl ReleaseFailure {
    fn what(&self) -> &'static str {
        if self.phase == Phase::Aborted {
            "aborted"
        } else {
            "rolled back"
        }
    }

    /// `rolled back: REASON` or `aborted: REASON`.
    pub fn summary(&self) -> String {
        format!("{}: {}", self.what(), self.reason)
    }

    /// What a person should know of a release failed earlier that the spec still names.
    pub fn held_note(&self, function: &str) -> String {
        format!(
            "release {} was {} ({}); it is not rolled out again until the spec changes or `shepherd retry {function}`",
            self.release,
            self.what(),
            self.reason
        )
    }
}

/// Why a function is not planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "refusal", rename_all = "camelCase")]
pub enum Refusal {
    /// Managed by shepherd for another spec source.
    OtherOwner {
        function: String,
        recorded: String,
        owner: String,
    },
    /// Exists without shepherd's tag.
    Unmanaged { function: String },
    /// An event source cannot work with its queue as it is (the message says which field
    /// and why).
    EventSource { message: String },
    /// The alias holds a rollout record this shepherd cannot read (one written by a newer
    /// version, or damaged): nothing is done rather than guess where the rollout stands.
    UnreadableRecord { alias: String, description: String },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::OtherOwner {
                function,
                recorded,
                owner,
            } => write!(
                f,
                "function {function} is managed by shepherd for another spec source ({} is \"{recorded}\", this one is \"{owner}\"); run with --adopt to take it over",
                tags::OWNER
            ),
            Refusal::Unmanaged { function } => write!(
                f,
                "function {function} exists but is not managed by shepherd (no {} tag); run with --adopt to take it over",
                tags::MANAGED_BY
            ),
            Refusal::EventSource { message } => f.write_str(message),
            Refusal::UnreadableRecord { alias, description } => write!(
                f,
                "alias {alias} holds a rollout record this shepherd cannot read ({}); not touching the function. A newer shepherd wrote it (upgrade every replica), or someone edited it: `shepherd abort` sends the alias back to its stable version",
                crate::diagnostic::escape_control(description)
            ),
        }
    }
}
