//! The hook steps of a rollout: preTraffic hooks before the first weight, postTraffic
//! hooks once the canary has all the traffic. A hook is a step like any other: the record
//! names it (its [`HookCursor`]), the planner asks the executor to run it, and its result
//! is written to the record in the same `UpdateAlias` that takes the rollout on, so a
//! restarted controller neither runs a passed hook again nor loses a pending one.

use std::time::Duration;

use super::decide::{Decision, Policy, Transition, enter};
use super::record::{HookCursor, Phase, RolloutRecord, Stage};
use super::traffic::{self, is_traffic_cursor};
use crate::spec::{GateKind, Gates, Hook, Hooks, RolloutStep};

/// How long a pending hook may take to report, unless the spec says.
pub const DEFAULT_HOOK_DEADLINE: Duration = Duration::from_secs(3600);

/// A hook the executor runs now.
#[derive(Debug, Clone, PartialEq)]
pub struct HookRun {
    pub cursor: HookCursor,
    pub hook: Hook,
    /// How long it may stay pending.
    pub deadline: Duration,
}

impl Hooks {
    /// The hooks of `stage`.
    pub fn stage(&self, stage: Stage) -> &[Hook] {
        match stage {
            Stage::PreTraffic => &self.pre_traffic,
            Stage::PostTraffic => &self.post_traffic,
        }
    }
}

impl Gates {
    /// The gates of `kind`.
    pub fn of(&self, kind: GateKind) -> &[crate::spec::Gate] {
        match kind {
            GateKind::BeforeStep => &self.before_step,
            GateKind::BeforePromote => &self.before_promote,
            GateKind::Rollback => &self.rollback,
        }
    }
}

impl Hook {
    /// How long it may stay pending.
    pub fn deadline(&self) -> Duration {
        self.deadline.map_or(DEFAULT_HOOK_DEADLINE, |d| d.0)
    }
}

/// The start of a rollout: its first preTraffic hook (or its synthetic traffic), with no
/// traffic for the canary, or its first step when it has neither.
pub fn begin(policy: &Policy<'_>) -> Transition {
    if policy.hooks.pre_traffic.is_empty() && policy.traffic.is_none() {
        let first = enter_step(policy, 0);
        if gate_kind(&first, policy.steps).is_none_or(|kind| policy.gates.of(kind).is_empty()) {
            return first;
        }
        // The first step waits for its gates: the rollout starts past its (no) preTraffic
        // hooks, with no traffic, and the next pass polls them.
    }
    at_hook(HookCursor::first(Stage::PreTraffic), 0)
}

/// Enters step `index`, as [`enter`] does, except that past the last step a rollout with
/// postTraffic hooks gives the canary all the traffic and runs them before it is Healthy.
pub fn enter_step(policy: &Policy<'_>, index: usize) -> Transition {
    if index >= policy.steps.len() && !policy.hooks.post_traffic.is_empty() {
        return at_hook(HookCursor::first(Stage::PostTraffic), policy.steps.len());
    }
    enter(policy.steps, index)
}

/// The transition to a hook not yet run. Before traffic the alias stays on the stable
/// version; after, it stays on the canary (no weights either way).
fn at_hook(cursor: HookCursor, step: usize) -> Transition {
    Transition {
        phase: Phase::Progressing,
        step,
        canary_weight: None,
        hook: Some(cursor),
        reason: None,
    }
}

/// Where a rollout goes once the hook at `cursor` passed.
pub fn after_pass(policy: &Policy<'_>, record: &RolloutRecord, cursor: HookCursor) -> Transition {
    let next = HookCursor {
        index: cursor.index + 1,
        pending_until: None,
        ..cursor
    };
    if next.index < policy.hooks.stage(cursor.stage).len() || is_traffic_cursor(policy, next) {
        // The next hook, or the synthetic traffic sent before traffic.
        return at_hook(next, record.step);
    }
    let done = stage_done(policy, record, cursor.stage);
    if cursor.stage == Stage::PreTraffic
        && gate_kind(&done, policy.steps).is_some_and(|kind| !policy.gates.of(kind).is_empty())
    {
        // The first step waits for its gates, which the next pass polls: the record says
        // the hooks passed (the cursor past the last one), and no traffic moves yet.
        return at_hook(next, record.step);
    }
    done
}

/// Where a rollout goes once every hook of `stage` passed.
fn stage_done(policy: &Policy<'_>, record: &RolloutRecord, stage: Stage) -> Transition {
    match stage {
        Stage::PreTraffic => enter_step(policy, 0),
        Stage::PostTraffic => enter(policy.steps, policy.steps.len().max(record.step)),
    }
}

/// The gates a transition waits for: `beforePromote` for the promotion (Healthy, or the
/// postTraffic hooks at 100%), `beforeStep` for a `setWeight` step; none otherwise.
pub(super) fn gate_kind(transition: &Transition, steps: &[RolloutStep]) -> Option<GateKind> {
    let promotes = transition.phase == Phase::Healthy
        || transition
            .hook
            .is_some_and(|h| h.stage == Stage::PostTraffic && h.index == 0);
    let weight_step = transition.phase == Phase::Progressing
        && transition.hook.is_none()
        && transition.step > 0
        && matches!(
            steps.get(transition.step - 1),
            Some(RolloutStep::SetWeight(_))
        );
    match (promotes, weight_step) {
        (true, _) => Some(GateKind::BeforePromote),
        (false, true) => Some(GateKind::BeforeStep),
        _ => None,
    }
}

/// The transition a hook that answered "pending" writes: the same hook, waiting.
/// `pending_until` is filled in by the executor, from the time the answer came.
pub fn pending(record: &RolloutRecord, cursor: HookCursor, name: &str) -> Transition {
    Transition {
        phase: Phase::Progressing,
        step: record.step,
        canary_weight: None,
        hook: Some(cursor),
        reason: Some(format!(
            "{} hook {name} is pending: waiting for its callback",
            cursor.stage
        )),
    }
}

/// The next move of a rollout at a hook.
pub fn at(record: &RolloutRecord, cursor: HookCursor, policy: &Policy<'_>, now: u64) -> Decision {
    if is_traffic_cursor(policy, cursor) {
        return traffic::before_traffic(record, cursor, now);
    }
    let Some(hook) = policy.hooks.stage(cursor.stage).get(cursor.index) else {
        // Past the last hook (they all passed, and the next step waits for its gates), or
        // the spec lost hooks mid-rollout: the stage is done.
        return Decision::Advance(stage_done(policy, record, cursor.stage));
    };
    match cursor.pending_until {
        Some(until) if now >= until => Decision::RollBack {
            reason: format!(
                "{} hook {} did not report its result within {}",
                cursor.stage,
                hook.display_name(),
                humantime::format_duration(hook.deadline())
            ),
        },
        Some(until) => Decision::Hold {
            requeue_after: Duration::from_secs(until - now).min(policy.poll),
        },
        // Run pass after pass without a verdict (its invocation throttled, AWS failing):
        // the same deadline as a pending answer bounds it.
        None if now.saturating_sub(record.since) >= hook.deadline().as_secs() => {
            Decision::RollBack {
                reason: format!(
                    "{} hook {} gave no verdict within {}",
                    cursor.stage,
                    hook.display_name(),
                    humantime::format_duration(hook.deadline())
                ),
            }
        }
        None => Decision::RunHook(HookRun {
            cursor,
            hook: hook.clone(),
            deadline: hook.deadline(),
        }),
    }
}

/// The routing a record stands for: the alias's version and its weighted second
/// version. Before traffic, the stable version alone; after the last step, the canary
/// alone; in between, the stable with the canary at the step's weight.
pub fn routing(record: &RolloutRecord, weight: f64) -> (String, Option<(String, f64)>) {
    match record.hook.map(|h| h.stage) {
        Some(Stage::PreTraffic) => (record.stable.clone(), None),
        Some(Stage::PostTraffic) => (record.canary.clone(), None),
        None => (
            record.stable.clone(),
            Some((record.canary.clone(), weight / 100.0)),
        ),
    }
}

/// The id of one execution of a hook: the function, the hook and the rollout's start,
/// prefixed by the target when there are several. A new rollout (a retry) makes new ids,
/// so an old execution's callback never lands on a new one.
pub fn execution_id(
    target: Option<&str>,
    function: &str,
    cursor: HookCursor,
    started: u64,
) -> String {
    let stage = match cursor.stage {
        Stage::PreTraffic => "pre",
        Stage::PostTraffic => "post",
    };
    let id = format!("{function}.{stage}{}.{started}", cursor.index);
    match target {
        Some(target) => format!("{target}.{id}"),
        None => id,
    }
}

/// An execution id, read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub target: Option<String>,
    pub function: String,
    pub stage: Stage,
    pub index: usize,
    pub started: u64,
}

impl Execution {
    pub fn parse(id: &str) -> Option<Self> {
        let parts: Vec<&str> = id.split('.').collect();
        let (target, rest) = match parts.as_slice() {
            [target, rest @ ..] if rest.len() == 3 => (Some((*target).to_owned()), rest),
            rest if rest.len() == 3 => (None, rest),
            _ => return None,
        };
        let [function, hook, started] = rest else {
            return None;
        };
        let (stage, index) = if let Some(index) = hook.strip_prefix("post") {
            (Stage::PostTraffic, index)
        } else {
            (Stage::PreTraffic, hook.strip_prefix("pre")?)
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        };
        if !valid(function) || target.as_deref().is_some_and(|t| !valid(t)) {
            return None;
        }
        Some(Self {
            target,
            function: (*function).to_owned(),
            stage,
            index: index.parse().ok()?,
            started: started.parse().ok()?,
        })
    }

    /// Whether this is the execution `record` waits for: the hook the rollout is at, of
    /// this very rollout. A hook may report before its "pending" answer is recorded; the
    /// alias's revision decides which write holds.
    pub fn is_awaited_by(&self, record: &RolloutRecord) -> bool {
        record.phase.in_flight()
            && record.started == self.started
            && record
                .hook
                .is_some_and(|h| h.stage == self.stage && h.index == self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn execution_ids_round_trip() {
        let cursor = HookCursor {
            stage: Stage::PostTraffic,
            index: 2,
            pending_until: None,
        };
        for target in [None, Some("prod-eu")] {
            let id = execution_id(target, "orders-api", cursor, 1_764_151_200);
            let back = Execution::parse(&id).unwrap();
            assert_eq!(back.target.as_deref(), target);
            assert_eq!(
                (back.function.as_str(), back.stage, back.index, back.started),
                ("orders-api", Stage::PostTraffic, 2, 1_764_151_200)
            );
        }
        for bad in [
            "",
            "a.b",
            "orders.mid0.1",
            "orders.pre.1",
            "a/b.pre0.1",
            "x.y.z.pre0.1",
        ] {
            assert_eq!(Execution::parse(bad), None, "{bad}");
        }
    }
}
