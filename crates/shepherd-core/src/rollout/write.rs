//! The one alias write a rollout makes per transition: routing and record together, so
//! that the rollout's whole state changes in one `UpdateAlias`.

use crate::display::percent;
use crate::model::ObservedAlias;
use crate::plan::{Action, Change, RecordTemplate, VersionRef};

use super::decide::Transition;
use super::record::{Phase, RolloutRecord, Stage};

/// What an alias write keeps of the rollout it continues.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Kept<'a> {
    /// The release the record names: the one rolling out, which a superseded, rolled-back
    /// or held rollout keeps even when the spec now names another.
    pub release: &'a str,
    /// The rollout's start; `None`: the rollout starts with this write.
    pub started: Option<u64>,
    /// The step's start; `None`: the step starts with this write.
    pub since: Option<u64>,
    /// The timed pause whose synthetic traffic was sent: kept within the step.
    pub traffic_sent: Option<usize>,
}

impl<'a> Kept<'a> {
    /// A new rollout of `release`.
    pub fn start(release: &'a str) -> Self {
        Self {
            release,
            started: None,
            since: None,
            traffic_sent: None,
        }
    }

    /// A write that continues `record`'s rollout into a new step.
    pub fn next_step(record: &'a RolloutRecord) -> Self {
        Self {
            release: &record.release,
            started: Some(record.started),
            since: None,
            traffic_sent: None,
        }
    }

    /// A write that only repairs routing: the step's clock keeps running.
    pub fn same_step(record: &'a RolloutRecord) -> Self {
        Self {
            since: Some(record.since),
            traffic_sent: record.traffic_sent,
            ..Self::next_step(record)
        }
    }

    /// The write that records the synthetic traffic of the timed pause `step` as sent: the
    /// pause's clock keeps running.
    pub fn traffic_sent(record: &'a RolloutRecord, step: usize) -> Self {
        Self {
            traffic_sent: Some(step),
            ..Self::same_step(record)
        }
    }
}

/// The `UpdateAlias` of `transition` on `current`, from `stable` to `canary`.
pub(crate) fn alias_write(
    current: &ObservedAlias,
    transition: &Transition,
    stable: &VersionRef,
    canary: &VersionRef,
    kept: Kept<'_>,
) -> Action {
    let (version, additional) = match transition.canary_weight {
        Some(weight) => (stable.clone(), Some((canary.clone(), weight / 100.0))),
        // Promotion, or the postTraffic hooks before it: the canary takes all traffic.
        // Rollback, abort, or the preTraffic hooks: the stable does.
        None if transition.phase == Phase::Healthy => (canary.clone(), None),
        None if transition.phase == Phase::Progressing
            && transition
                .hook
                .is_some_and(|h| h.stage == Stage::PostTraffic) =>
        {
            (canary.clone(), None)
        }
        None => (stable.clone(), None),
    };
    let routing = match &additional {
        Some((extra, weight)) => format!(
            "{version} {}%, {extra} {}%",
            percent((1.0 - weight) * 100.0),
            percent(weight * 100.0)
        ),
        None => format!("{version} 100%"),
    };
    // Steps counted from 1, as `status` counts them.
    let to = match (transition.phase, transition.hook) {
        (Phase::Healthy, _) => format!("{}: {routing}", transition.phase),
        (Phase::Progressing, Some(hook)) => {
            format!("{} hook {}: {routing}", hook.stage, hook.index + 1)
        }
        (phase, _) => format!("{phase} at step {}: {routing}", transition.step + 1),
    };
    Action::UpdateAlias {
        name: current.name.clone(),
        version,
        additional,
        description: String::new(),
        record: Some(Box::new(RecordTemplate {
            phase: transition.phase,
            step: transition.step,
            release: kept.release.to_owned(),
            reason: transition.reason.clone(),
            // An ended rollout keeps the hook it ended at, for status: the hooks before it
            // passed. A retried one starts over (no cursor).
            hook: transition
                .hook
                .filter(|_| transition.phase != Phase::Healthy),
            pending_for: None,
            traffic_sent: kept.traffic_sent,
            stable: stable.clone(),
            canary: canary.clone(),
            started: kept.started,
            since: kept.since,
        })),
        revision: current.revision_id.clone(),
        changes: vec![Change {
            field: "rollout".to_owned(),
            from: describe_routing(current),
            to,
        }],
    }
}

fn describe_routing(alias: &ObservedAlias) -> String {
    match &alias.additional_version {
        Some((extra, weight)) => format!(
            "{} {}%, {extra} {}%",
            alias.version,
            percent((1.0 - weight) * 100.0),
            percent(weight * 100.0)
        ),
        None => format!("{} 100%", alias.version),
    }
}
