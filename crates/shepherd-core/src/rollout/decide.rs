//! The rollout state machine: from the persisted record, the steps, the alarms and the
//! time, what happens next. Pure: time comes in as an argument.

use std::collections::BTreeMap;
use std::time::Duration;

use super::hooks::{self, HookRun, enter_step};
use super::record::{HookCursor, Phase, RolloutRecord};
use super::traffic::{self, TrafficRun};
use crate::model::{
    AlarmState, AnalysisConfig, CanaryMetrics, GateReading, ObservedAlarm, TrafficConfig,
    VersionMetrics,
};
use crate::spec::{GateKind, Gates, Hooks, OnInconclusive, RolloutStep};

/// The alias routing and record a transition writes, in one `UpdateAlias`.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub phase: Phase,
    /// The step in effect after the write.
    pub step: usize,
    /// Percent of traffic for the canary; `None`: no weights, the alias on the canary
    /// when Healthy or at a postTraffic hook, on the stable version otherwise.
    pub canary_weight: Option<f64>,
    /// The hook the rollout is at after the write.
    pub hook: Option<HookCursor>,
    pub reason: Option<String>,
}

/// What a rollout in flight needs now.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Nothing to write yet; look again after this long.
    Hold { requeue_after: Duration },
    /// Move to another step (or promote).
    Advance(Transition),
    /// Send all traffic back to the stable version.
    RollBack { reason: String },
    /// Run this hook now; its result decides the next write.
    RunHook(HookRun),
    /// Send a batch of synthetic traffic to the canary now; its errors decide the write.
    SendTraffic(TrafficRun),
    /// The next step waits for a closed gate; look again after this long.
    WaitForGate {
        gate: String,
        requeue_after: Duration,
    },
}

/// The percent the canary has while step `index` is in effect: the last weight set
/// before it.
pub fn weight_before(steps: &[RolloutStep], index: usize) -> f64 {
    steps[..index.min(steps.len())]
        .iter()
        .rev()
        .find_map(|s| match s {
            RolloutStep::SetWeight(w) => Some(*w),
            _ => None,
        })
        .unwrap_or(0.0)
}

/// Enters step `index`: a weight is written and the next step takes effect at once; a
/// pause takes effect with the current weight; past the last step, the canary is
/// promoted.
pub fn enter(steps: &[RolloutStep], index: usize) -> Transition {
    match steps.get(index) {
        None => Transition {
            phase: Phase::Healthy,
            step: steps.len(),
            canary_weight: None,
            hook: None,
            reason: None,
        },
        Some(RolloutStep::SetWeight(weight)) => Transition {
            phase: Phase::Progressing,
            step: index + 1,
            canary_weight: Some(*weight),
            hook: None,
            reason: None,
        },
        Some(RolloutStep::Pause(_)) => Transition {
            phase: Phase::Progressing,
            step: index,
            canary_weight: Some(weight_before(steps, index)),
            hook: None,
            reason: None,
        },
        Some(RolloutStep::PauseUntilPromoted) => Transition {
            phase: Phase::Paused,
            step: index,
            canary_weight: Some(weight_before(steps, index)),
            hook: None,
            reason: Some("waiting for `shepherd promote`".to_owned()),
        },
    }
}

/// The gating alarm that fired during the rollout, if any.
///
/// An alarm fires a rollout back when it is in ALARM and entered that state after the
/// rollout started (or when is unknown). An alarm already in ALARM before the rollout
/// started does not block it, so that a stale alarm cannot hold back the fix for what it
/// reports; it gates again once it has returned to OK. INSUFFICIENT_DATA (no traffic
/// yet) is not a failure.
pub fn fired_alarm<'a>(
    gating: &[String],
    alarms: &'a BTreeMap<String, ObservedAlarm>,
    started: u64,
) -> Option<&'a ObservedAlarm> {
    gating
        .iter()
        .filter_map(|name| alarms.get(name))
        .find(|a| a.state == AlarmState::Alarm && a.state_since.is_none_or(|t| t >= started))
}

/// What the spec says of a rollout: its steps and what gates them.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    pub steps: &'a [RolloutStep],
    /// The alarms that roll the canary back.
    pub gating: &'a [String],
    pub auto_rollback: bool,
    /// How often alarms are looked at during a pause.
    pub poll: Duration,
    /// The metric analysis of the canary, if any.
    pub analysis: Option<&'a AnalysisConfig>,
    /// The hooks run before and after traffic.
    pub hooks: &'a Hooks,
    /// The gates that hold steps and the promotion, and the kill switch.
    pub gates: &'a Gates,
    /// The synthetic traffic sent to the canary, if any.
    pub traffic: Option<&'a TrafficConfig>,
}

/// What AWS says of the canary now: the gating alarms' states and the canary's metrics
/// since the step began.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub alarms: &'a BTreeMap<String, ObservedAlarm>,
    pub metrics: Option<&'a CanaryMetrics>,
    /// The gates polled this pass (none when they were not).
    pub gates: &'a [GateReading],
}

/// Why the canary's own metrics fail it, when there are enough of them to judge.
fn metric_breach(analysis: &AnalysisConfig, metrics: &VersionMetrics) -> Option<String> {
    if metrics.invocations < f64::from(analysis.min_invocations) {
        return None;
    }
    let rate = metrics.errors / metrics.invocations * 100.0;
    if let Some(max) = analysis.max_error_rate.filter(|max| rate > *max) {
        return Some(format!(
            "the new version's error rate is {rate:.2}% over {} invocations, above {max}%",
            metrics.invocations
        ));
    }
    match (analysis.max_p99_ms, metrics.p99_ms) {
        (Some(max), Some(p99)) if p99 > max => Some(format!(
            "the new version's p99 duration is {p99:.0} ms, above {max:.0} ms"
        )),
        _ => None,
    }
}

/// Whether the metrics are enough for a verdict.
fn conclusive(analysis: &AnalysisConfig, metrics: Option<&CanaryMetrics>) -> bool {
    matches!(metrics, Some(CanaryMetrics::Read(m)) if m.invocations >= f64::from(analysis.min_invocations))
}

/// Decides the next move of a rollout in flight at time `now` (Unix seconds).
pub fn decide(
    record: &RolloutRecord,
    policy: Policy<'_>,
    evidence: Evidence<'_>,
    now: u64,
) -> Decision {
    match decide_ungated(record, policy, evidence, now) {
        Decision::Advance(transition) => gated(transition, &policy, &evidence),
        other => other,
    }
}

/// A move into a `setWeight` step waits for the `beforeStep` gates, and the promotion
/// (Healthy, or the postTraffic hooks at 100%) for the `beforePromote` ones. A gate that
/// was not polled, or could not be asked, is closed.
fn gated(transition: Transition, policy: &Policy<'_>, evidence: &Evidence<'_>) -> Decision {
    let Some(kind) = hooks::gate_kind(&transition, policy.steps) else {
        return Decision::Advance(transition);
    };
    for (index, gate) in policy.gates.of(kind).iter().enumerate() {
        let open = evidence
            .gates
            .iter()
            .any(|g| g.kind == kind && g.index == index && g.open);
        if !open {
            return Decision::WaitForGate {
                gate: gate.display_name(),
                requeue_after: policy.poll,
            };
        }
    }
    Decision::Advance(transition)
}

fn decide_ungated(
    record: &RolloutRecord,
    policy: Policy<'_>,
    evidence: Evidence<'_>,
    now: u64,
) -> Decision {
    let alarm = fired_alarm(policy.gating, evidence.alarms, record.started)
        .map(|a| format!("alarm {} fired: {}", a.definition.name, a.state_reason));
    if let Some(gate) = evidence
        .gates
        .iter()
        .find(|g| g.kind == GateKind::Rollback && g.open)
    {
        // A kill switch rolls back whatever `autoRollback` says: someone asked for it.
        return Decision::RollBack {
            reason: format!("rollback gate {} is open: {}", gate.name, gate.detail),
        };
    }
    let breach = match (policy.analysis, evidence.metrics) {
        (Some(analysis), Some(CanaryMetrics::Read(metrics))) => metric_breach(analysis, metrics),
        _ => None,
    };
    if let Some(reason) = alarm.or(breach) {
        // At a hook the canary has no traffic (before) or all of it (after): holding there
        // for a person would lose the hook's place, so it rolls back either way.
        if policy.auto_rollback || record.hook.is_some() {
            return Decision::RollBack { reason };
        }
        if record.phase != Phase::Paused {
            // With automatic rollback off, the rollout holds for a person to decide.
            return Decision::Advance(Transition {
                phase: Phase::Paused,
                step: record.step,
                canary_weight: Some(weight_before(policy.steps, record.step)),
                hook: None,
                reason: Some(format!("{reason}; automatic rollback is off")),
            });
        }
    }
    if record.phase == Phase::Paused {
        return Decision::Hold {
            requeue_after: policy.poll,
        };
    }
    if let Some(cursor) = record.hook {
        return hooks::at(record, cursor, &policy, now);
    }
    match policy.steps.get(record.step) {
        Some(RolloutStep::Pause(duration)) => {
            let elapsed = Duration::from_secs(now.saturating_sub(record.since));
            if let Some(send) = traffic::in_pause(record, &policy, elapsed) {
                return send;
            }
            if elapsed < *duration {
                return Decision::Hold {
                    requeue_after: (*duration - elapsed).min(policy.poll),
                };
            }
            match policy.analysis {
                Some(analysis) if !conclusive(analysis, evidence.metrics) => {
                    inconclusive(analysis, policy, evidence, record, *duration, elapsed)
                }
                _ => Decision::Advance(enter_step(&policy, record.step + 1)),
            }
        }
        // A weight step not yet written (after a restart), a pause until promoted not yet
        // recorded, or the end: enter it now.
        _ => Decision::Advance(enter_step(&policy, record.step)),
    }
}

/// Too little traffic to judge at the end of a pause: wait for more, then follow the
/// spec's rule. Never silently healthy.
fn inconclusive(
    analysis: &AnalysisConfig,
    policy: Policy<'_>,
    evidence: Evidence<'_>,
    record: &RolloutRecord,
    pause: Duration,
    elapsed: Duration,
) -> Decision {
    let deadline = pause + Duration::from_secs(analysis.inconclusive_timeout_secs);
    if elapsed < deadline {
        return Decision::Hold {
            requeue_after: (deadline - elapsed).min(policy.poll),
        };
    }
    // Metrics that cannot be read say nothing about the canary: it waits for a person,
    // whatever `onInconclusive` says (that rule is for too little traffic).
    if let Some(CanaryMetrics::Unavailable(why)) = evidence.metrics {
        return Decision::Advance(Transition {
            phase: Phase::Paused,
            step: record.step,
            canary_weight: Some(weight_before(policy.steps, record.step)),
            hook: None,
            reason: Some(format!(
                "metrics unavailable: {why}; the analysis cannot judge the new version"
            )),
        });
    }
    let seen = match evidence.metrics {
        Some(CanaryMetrics::Read(m)) => m.invocations,
        _ => 0.0,
    };
    let reason = format!(
        "inconclusive: the new version had {seen} invocations, fewer than the {} needed",
        analysis.min_invocations
    );
    match analysis.on_inconclusive {
        OnInconclusive::Promote => Decision::Advance(enter_step(&policy, record.step + 1)),
        OnInconclusive::RollBack => Decision::RollBack { reason },
        OnInconclusive::Pause => Decision::Advance(Transition {
            phase: Phase::Paused,
            step: record.step,
            canary_weight: Some(weight_before(policy.steps, record.step)),
            hook: None,
            reason: Some(reason),
        }),
    }
}

/// What `shepherd promote` does: the next step now, or (`full`) straight to 100%. Past
/// the last step, the postTraffic hooks run (when `post_hooks`), as after any last step.
pub fn promote(
    record: &RolloutRecord,
    steps: &[RolloutStep],
    post_hooks: bool,
    full: bool,
) -> Transition {
    let to = |index: usize| {
        if index >= steps.len() && post_hooks {
            Transition {
                phase: Phase::Progressing,
                step: steps.len(),
                canary_weight: None,
                hook: Some(HookCursor::first(super::record::Stage::PostTraffic)),
                reason: None,
            }
        } else {
            enter(steps, index)
        }
    };
    if full {
        return to(steps.len());
    }
    match steps.get(record.step) {
        Some(RolloutStep::Pause(_) | RolloutStep::PauseUntilPromoted) => to(record.step + 1),
        _ => to(record.step),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlarmDefinition, AlarmMetric};

    const MIN: u64 = 60;
    static NO_HOOKS: Hooks = Hooks {
        pre_traffic: Vec::new(),
        post_traffic: Vec::new(),
    };
    static NO_GATES: Gates = Gates {
        before_step: Vec::new(),
        before_promote: Vec::new(),
        rollback: Vec::new(),
    };

    fn steps() -> Vec<RolloutStep> {
        vec![
            RolloutStep::SetWeight(10.0),
            RolloutStep::Pause(Duration::from_secs(5 * MIN)),
            RolloutStep::SetWeight(50.0),
            RolloutStep::PauseUntilPromoted,
        ]
    }

    fn record(step: usize, since: u64) -> RolloutRecord {
        RolloutRecord {
            phase: Phase::Progressing,
            stable: "1".into(),
            canary: "2".into(),
            release: "r".into(),
            step,
            since,
            started: 1000,
            hook: None,
            traffic_sent: None,
            reason: None,
        }
    }

    fn alarm(state: AlarmState, since: Option<u64>) -> BTreeMap<String, ObservedAlarm> {
        let definition = AlarmDefinition {
            name: "fn-errors".into(),
            metric: AlarmMetric::Errors,
            statistic: "Sum".into(),
            dimensions: BTreeMap::new(),
            threshold: 1.0,
            period_secs: 60,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            description: String::new(),
        };
        BTreeMap::from([(
            "fn-errors".to_owned(),
            ObservedAlarm {
                definition,
                state,
                state_reason: "Threshold Crossed".into(),
                state_since: since,
            },
        )])
    }

    fn gates<'a>(
        steps: &'a [RolloutStep],
        alarms: &'a BTreeMap<String, ObservedAlarm>,
        gating: &'a [String],
    ) -> (Policy<'a>, Evidence<'a>) {
        let policy = Policy {
            steps,
            gating,
            auto_rollback: true,
            poll: Duration::from_secs(10),
            analysis: None,
            hooks: &NO_HOOKS,
            gates: &NO_GATES,
            traffic: None,
        };
        let evidence = Evidence {
            alarms,
            metrics: None,
            gates: &[],
        };
        (policy, evidence)
    }

    fn decide_with(r: &RolloutRecord, g: (Policy<'_>, Evidence<'_>), now: u64) -> Decision {
        decide(r, g.0, g.1, now)
    }

    #[test]
    fn holds_a_pause_then_moves_on() {
        let steps = steps();
        let none = BTreeMap::new();
        let g = gates(&steps, &none, &[]);
        let r = record(1, 1000);
        assert_eq!(
            decide(&r, g.0, g.1, 1000 + 60),
            Decision::Hold {
                requeue_after: Duration::from_secs(10)
            }
        );
        assert_eq!(
            decide(&r, g.0, g.1, 1000 + 295),
            Decision::Hold {
                requeue_after: Duration::from_secs(5)
            }
        );
        let Decision::Advance(t) = decide(&r, g.0, g.1, 1000 + 300) else {
            panic!("advances")
        };
        assert_eq!(
            (t.phase, t.step, t.canary_weight),
            (Phase::Progressing, 3, Some(50.0))
        );
    }

    #[test]
    fn waits_for_promotion_then_promotes() {
        let steps = steps();
        let none = BTreeMap::new();
        let g = gates(&steps, &none, &[]);
        let Decision::Advance(t) = decide(&record(3, 1000), g.0, g.1, 2000) else {
            panic!("records the pause")
        };
        assert_eq!((t.phase, t.canary_weight), (Phase::Paused, Some(50.0)));
        let mut paused = record(3, 2000);
        paused.phase = Phase::Paused;
        assert!(matches!(
            decide(&paused, g.0, g.1, 9_999_999),
            Decision::Hold { .. }
        ));
        let t = promote(&paused, &steps, false, false);
        assert_eq!((t.phase, t.canary_weight), (Phase::Healthy, None));
    }

    #[test]
    fn an_alarm_that_fires_during_the_rollout_rolls_back() {
        let steps = steps();
        let gating = vec!["fn-errors".to_owned()];
        let firing = alarm(AlarmState::Alarm, Some(1100));
        let r = record(1, 1000);
        assert!(matches!(
            decide_with(&r, gates(&steps, &firing, &gating), 1200),
            Decision::RollBack { .. }
        ));
        let stale = alarm(AlarmState::Alarm, Some(900));
        assert!(matches!(
            decide_with(&r, gates(&steps, &stale, &gating), 1200),
            Decision::Hold { .. }
        ));
        let quiet = alarm(AlarmState::InsufficientData, Some(1100));
        assert!(matches!(
            decide_with(&r, gates(&steps, &quiet, &gating), 1200),
            Decision::Hold { .. }
        ));
    }

    #[test]
    fn without_automatic_rollback_a_fired_alarm_pauses() {
        let steps = steps();
        let gating = vec!["fn-errors".to_owned()];
        let firing = alarm(AlarmState::Alarm, None);
        let mut g = gates(&steps, &firing, &gating);
        g.0.auto_rollback = false;
        let Decision::Advance(t) = decide(&record(1, 1000), g.0, g.1, 1100) else {
            panic!("pauses")
        };
        assert_eq!(t.phase, Phase::Paused);
    }

    #[test]
    fn promote_full_skips_the_remaining_steps() {
        let t = promote(&record(1, 1000), &steps(), false, true);
        assert_eq!(
            (t.phase, t.step, t.canary_weight),
            (Phase::Healthy, 4, None)
        );
    }
}
