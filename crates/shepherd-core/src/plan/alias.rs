//! Planning the alias: all at once, or through a rollout whose state machine lives in
//! [`crate::rollout`].

use std::time::Duration;

use super::action::{Action, Change, RecordTemplate, VersionRef};
use crate::display::percent;
use crate::model::{DesiredFunction, Observation, ObservedAlias, ObservedFunction};
use crate::rollout::{Decision, Gates, Phase, RolloutRecord, Transition, decide, enter};
use crate::spec::RolloutStep;

/// The alias part of a plan.
#[derive(Debug, Default)]
pub struct AliasPlan {
    pub actions: Vec<Action>,
    /// The versions that serve traffic once the actions are done, where provisioned
    /// concurrency must be during a rollout.
    pub serving: Vec<VersionRef>,
    pub requeue_after: Option<Duration>,
    /// The rollout holds until an operator promotes or resumes it.
    pub waiting_for_operator: bool,
    /// Why the alias is left as it is, for people (a rolled-back release).
    pub note: Option<String>,
    /// The spec's release did not make it: rolled back (by this plan or before) or
    /// aborted, with the reason. The spec's desired state is not reached.
    pub release_failed: Option<String>,
}

/// Plans the alias of `desired`, whose new release is `target`.
pub fn plan_alias(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    observation: &Observation,
    target: &VersionRef,
    poll: Duration,
) -> AliasPlan {
    let Some(alias) = &desired.alias else {
        return AliasPlan {
            serving: vec![target.clone()],
            ..AliasPlan::default()
        };
    };
    let Some(current) = observed.alias(&alias.name) else {
        // A new alias has nothing to shift from: it starts on the release.
        return AliasPlan {
            actions: vec![Action::CreateAlias {
                name: alias.name.clone(),
                version: target.clone(),
                description: String::new(),
            }],
            serving: vec![target.clone()],
            ..AliasPlan::default()
        };
    };
    if desired.rollout_steps.is_empty() {
        return all_at_once(&alias.name, current, target);
    }
    let planner = Rollout {
        desired,
        current,
        gates: gates(desired, observation, poll),
        now: observation.at,
    };
    match current.record() {
        Some(record) if record.phase.in_flight() && desired.is_release(&record.release) => {
            planner.continue_rollout(&record)
        }
        Some(record) if record.phase.in_flight() => planner.supersede(&record, target),
        Some(record) if record.phase.failed() && desired.is_release(&record.release) => AliasPlan {
            release_failed: Some(failure(&record)),
            serving: vec![VersionRef::Existing(current.version.clone())],
            note: Some(format!(
                "release {} was {} ({}); it is not rolled out again until the spec changes or `shepherd retry {}`",
                record.release,
                if record.phase == Phase::RolledBack {
                    "rolled back"
                } else {
                    "aborted"
                },
                record.reason.as_deref().unwrap_or("no reason recorded"),
                desired.name
            )),
            ..AliasPlan::default()
        },
        _ if points_at(current, target) => all_at_once(&alias.name, current, target),
        _ => planner.start(&current.version, target),
    }
}

/// `rolled back: REASON` or `aborted: REASON`, from a failed rollout's record.
fn failure(record: &RolloutRecord) -> String {
    let what = if record.phase == Phase::RolledBack {
        "rolled back"
    } else {
        "aborted"
    };
    format!(
        "{what}: {}",
        record.reason.as_deref().unwrap_or("no reason recorded")
    )
}

fn points_at(alias: &ObservedAlias, target: &VersionRef) -> bool {
    matches!(target, VersionRef::Existing(v) if *v == alias.version)
}

/// Moves the alias to `target` in one update, clearing any weights.
fn all_at_once(name: &str, current: &ObservedAlias, target: &VersionRef) -> AliasPlan {
    let mut changes = Vec::new();
    if !points_at(current, target) {
        changes.push(Change {
            field: "version".to_owned(),
            from: current.version.clone(),
            to: target.to_string(),
        });
    }
    if let Some((extra, weight)) = &current.additional_version {
        changes.push(Change {
            field: "routing".to_owned(),
            from: format!("{extra} at {}%", percent(weight * 100.0)),
            to: "(none)".to_owned(),
        });
    }
    let mut plan = AliasPlan {
        serving: vec![target.clone()],
        ..AliasPlan::default()
    };
    if !changes.is_empty() {
        plan.actions.push(Action::UpdateAlias {
            name: name.to_owned(),
            version: target.clone(),
            additional: None,
            description: current.description.clone(),
            record: None,
            changes,
        });
    }
    plan
}

/// One `UpdateAlias` that sets routing and record together: a rollout's whole state in
/// one write. `release` is the release the record names: the one rolling out, which a
/// superseded, rolled-back or held rollout keeps even when the spec now names another.
fn alias_write(
    current: &ObservedAlias,
    transition: &Transition,
    stable: &VersionRef,
    canary: &VersionRef,
    release: &str,
    kept: Option<&RolloutRecord>,
) -> Action {
    let (version, additional) = match transition.canary_weight {
        Some(weight) => (stable.clone(), Some((canary.clone(), weight / 100.0))),
        // Promotion: the canary takes all traffic. Rollback or abort: the stable does.
        None if transition.phase == Phase::Healthy => (canary.clone(), None),
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
    let to = match transition.phase {
        Phase::Healthy => format!("{}: {routing}", transition.phase),
        phase => format!("{phase} at step {}: {routing}", transition.step + 1),
    };
    Action::UpdateAlias {
        name: current.name.clone(),
        version,
        additional,
        description: String::new(),
        record: Some(RecordTemplate {
            phase: transition.phase,
            step: transition.step,
            release: release.to_owned(),
            reason: transition.reason.clone(),
            stable: stable.clone(),
            canary: canary.clone(),
            started: kept.map(|r| r.started),
            since: None,
        }),
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

struct Rollout<'a> {
    desired: &'a DesiredFunction,
    current: &'a ObservedAlias,
    gates: Gates<'a>,
    now: u64,
}

impl Rollout<'_> {
    /// One `UpdateAlias` that sets routing and record together. `release` is the release
    /// the record names: the one rolling out, which a superseded, rolled-back or held
    /// rollout keeps even when the spec now names another.
    fn write(
        &self,
        transition: &Transition,
        stable: &VersionRef,
        canary: &VersionRef,
        release: &str,
        kept: Option<&RolloutRecord>,
    ) -> Action {
        alias_write(self.current, transition, stable, canary, release, kept)
    }

    /// Starts a rollout from the alias's version to `target`.
    fn start(&self, stable: &str, target: &VersionRef) -> AliasPlan {
        let stable = VersionRef::Existing(stable.to_owned());
        let transition = enter(self.gates.steps, 0);
        AliasPlan {
            actions: vec![self.write(
                &transition,
                &stable,
                target,
                &self.desired.release_digest,
                None,
            )],
            serving: vec![stable, target.clone()],
            requeue_after: Some(Duration::ZERO),
            waiting_for_operator: false,
            note: None,
            release_failed: None,
        }
    }

    /// A newer release arrived mid-rollout: the canary in flight goes back to the stable
    /// version, then the newer release starts its own rollout. Never two canaries.
    fn supersede(&self, record: &RolloutRecord, target: &VersionRef) -> AliasPlan {
        let stable = VersionRef::Existing(record.stable.clone());
        let old_canary = VersionRef::Existing(record.canary.clone());
        let back = Transition {
            phase: Phase::Aborted,
            step: record.step,
            canary_weight: None,
            reason: Some(format!(
                "superseded by release {}",
                self.desired.release_digest
            )),
        };
        let abort = self.write(&back, &stable, &old_canary, &record.release, Some(record));
        let mut plan = self.start(&record.stable, target);
        plan.actions.insert(0, abort);
        plan
    }

    fn continue_rollout(&self, record: &RolloutRecord) -> AliasPlan {
        let stable = VersionRef::Existing(record.stable.clone());
        let canary = VersionRef::Existing(record.canary.clone());
        match decide(record, self.gates, self.now) {
            Decision::Hold { requeue_after } => {
                let mut plan = AliasPlan {
                    serving: vec![stable.clone(), canary.clone()],
                    requeue_after: Some(requeue_after),
                    waiting_for_operator: record.phase == Phase::Paused,
                    ..AliasPlan::default()
                };
                // Weights changed behind shepherd's back mid-rollout: put back the ones
                // the record says, without restarting the step's clock.
                let expected = crate::rollout::weight_before(self.gates.steps, record.step) / 100.0;
                let routing_right = self.current.version == record.stable
                    && self
                        .current
                        .additional_version
                        .as_ref()
                        .is_some_and(|(v, w)| *v == record.canary && (w - expected).abs() < 1e-9);
                if !routing_right {
                    let repair = Transition {
                        phase: record.phase,
                        step: record.step,
                        canary_weight: Some(expected * 100.0),
                        reason: record.reason.clone(),
                    };
                    let mut action =
                        self.write(&repair, &stable, &canary, &record.release, Some(record));
                    if let Action::UpdateAlias {
                        record: Some(template),
                        ..
                    } = &mut action
                    {
                        template.since = Some(record.since);
                    }
                    plan.actions.push(action);
                }
                plan
            }
            Decision::Advance(transition) => {
                let serving = if transition.canary_weight.is_none() {
                    vec![canary.clone()]
                } else {
                    vec![stable.clone(), canary.clone()]
                };
                AliasPlan {
                    actions: vec![self.write(
                        &transition,
                        &stable,
                        &canary,
                        &record.release,
                        Some(record),
                    )],
                    serving,
                    waiting_for_operator: transition.phase == Phase::Paused,
                    requeue_after: (transition.phase == Phase::Progressing)
                        .then_some(Duration::ZERO),
                    note: None,
                    release_failed: None,
                }
            }
            Decision::RollBack { reason } => self.roll_back(record, reason),
        }
    }

    fn roll_back(&self, record: &RolloutRecord, reason: String) -> AliasPlan {
        let stable = VersionRef::Existing(record.stable.clone());
        let canary = VersionRef::Existing(record.canary.clone());
        let release_failed = Some(format!("rolled back: {reason}"));
        let back = Transition {
            phase: Phase::RolledBack,
            step: record.step,
            canary_weight: None,
            reason: Some(reason),
        };
        AliasPlan {
            actions: vec![self.write(&back, &stable, &canary, &record.release, Some(record))],
            serving: vec![stable],
            requeue_after: None,
            waiting_for_operator: false,
            note: None,
            release_failed,
        }
    }

    /// Holds a rollout in flight where it is, rolling it back when its gates fail.
    fn hold(&self, record: &RolloutRecord) -> AliasPlan {
        match decide(record, self.gates, self.now) {
            Decision::RollBack { reason } => self.roll_back(record, reason),
            Decision::Hold { requeue_after } => AliasPlan {
                requeue_after: Some(requeue_after.min(self.gates.poll)),
                ..AliasPlan::default()
            },
            Decision::Advance(_) => AliasPlan {
                requeue_after: Some(self.gates.poll),
                ..AliasPlan::default()
            },
        }
    }
}

/// The alias part of the plan of a function whose code could not be packaged: nothing is
/// released, but a rollout in flight keeps its safety net. It is held at its current weight
/// (no step is taken without a valid desired state) and rolled back when its alarms or
/// analysis fail.
pub fn plan_guard(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    observation: &Observation,
    poll: Duration,
) -> AliasPlan {
    let Some(alias) = &desired.alias else {
        return AliasPlan::default();
    };
    let Some(current) = observed.alias(&alias.name) else {
        return AliasPlan::default();
    };
    let Some(record) = current.record().filter(|r| r.phase.in_flight()) else {
        return AliasPlan::default();
    };
    let planner = Rollout {
        desired,
        current,
        gates: gates(desired, observation, poll),
        now: observation.at,
    };
    planner.hold(&record)
}

fn gates<'a>(
    desired: &'a DesiredFunction,
    observation: &'a Observation,
    poll: Duration,
) -> Gates<'a> {
    Gates {
        steps: &desired.rollout_steps,
        gating: &desired.gating_alarms,
        alarms: &observation.alarms,
        auto_rollback: desired.auto_rollback,
        poll,
        analysis: desired.analysis.as_ref(),
        metrics: observation.metrics.get(&desired.name),
    }
}

/// The alias update an operator's command makes on `current` (the alias holding the
/// rollout record), or why it does not apply. `steps` come from the function's spec when
/// it is at hand; the commands that do not need them work without (see
/// [`Command::needs_steps`](crate::rollout::Command::needs_steps)).
pub fn operator_action(
    function: &str,
    current: &ObservedAlias,
    steps: Option<&[RolloutStep]>,
    command: crate::rollout::Command,
) -> Result<Action, String> {
    let record = current
        .record()
        .ok_or_else(|| format!("{function} has no rollout (its alias holds no rollout record)"))?;
    let live_weight = current
        .additional_version
        .as_ref()
        .map_or(0.0, |(_, w)| w * 100.0);
    let transition = crate::rollout::operate(command, &record, steps, live_weight)?;
    let stable = VersionRef::Existing(record.stable.clone());
    let canary = VersionRef::Existing(record.canary.clone());
    let release = if command == crate::rollout::Command::Retry {
        // A record that names no release blocks none: the next reconcile rolls the spec's
        // release out again.
        "retry"
    } else {
        &record.release
    };
    Ok(alias_write(
        current,
        &transition,
        &stable,
        &canary,
        release,
        Some(&record),
    ))
}
