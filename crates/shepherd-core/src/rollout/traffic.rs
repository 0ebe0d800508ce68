//! Synthetic traffic: batches of invocations of the canary version itself, sent by the
//! controller before the canary gets any traffic (after the preTraffic hooks) and at the
//! start of each timed pause. A batch is a step like a hook: the planner asks the executor
//! to send it, and its verdict picks the alias write that records it, so a restarted
//! controller does not send a recorded batch again (a crash between sending and writing
//! sends it once more: at least once, like hooks).

use std::time::Duration;

use super::decide::{Decision, Policy};
use super::record::{HookCursor, RolloutRecord, Stage};
use crate::spec::RolloutStep;

/// How long the batch before traffic may keep failing to reach the canary (throttled,
/// AWS failing) before the release rolls back.
pub const TRAFFIC_DEADLINE: Duration = Duration::from_secs(15 * 60);

/// A batch the executor sends now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrafficRun {
    /// Before traffic: the cursor past the last preTraffic hook. `None`: the timed pause
    /// `step`.
    pub cursor: Option<HookCursor>,
    pub step: usize,
}

/// Whether `cursor` is where the batch before traffic is sent: just past the last
/// preTraffic hook, in a rollout with synthetic traffic.
pub fn is_traffic_cursor(policy: &Policy<'_>, cursor: HookCursor) -> bool {
    policy.traffic.is_some()
        && cursor.stage == Stage::PreTraffic
        && cursor.index == policy.hooks.pre_traffic.len()
}

/// The batch before traffic, until it could be sent or its deadline ran out.
pub(super) fn before_traffic(record: &RolloutRecord, cursor: HookCursor, now: u64) -> Decision {
    if now.saturating_sub(record.since) >= TRAFFIC_DEADLINE.as_secs() {
        return Decision::RollBack {
            reason: format!(
                "synthetic traffic could not reach version {} within {}",
                record.canary,
                humantime::format_duration(TRAFFIC_DEADLINE)
            ),
        };
    }
    Decision::SendTraffic(TrafficRun {
        cursor: Some(cursor),
        step: record.step,
    })
}

/// The batch of the timed pause the record is at, if it is due: not yet recorded as sent,
/// and the pause still running (a batch that could not be sent during its pause is
/// skipped rather than holding the rollout).
pub(super) fn in_pause(
    record: &RolloutRecord,
    policy: &Policy<'_>,
    elapsed: Duration,
) -> Option<Decision> {
    let Some(RolloutStep::Pause(duration)) = policy.steps.get(record.step) else {
        return None;
    };
    (policy.traffic.is_some() && record.traffic_sent != Some(record.step) && elapsed < *duration)
        .then_some(Decision::SendTraffic(TrafficRun {
            cursor: None,
            step: record.step,
        }))
}
