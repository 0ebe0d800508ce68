//! A rollout's path from its record to the next alias write: start, continue, supersede,
//! roll back, or hold, decided by [`decide`] from the spec's policy and AWS's evidence.

use std::time::Duration;

use super::decide::{Decision, Evidence, Policy, Transition, decide, weight_before};
use super::hooks::{self, HookRun};
use super::record::{Phase, RolloutRecord, Stage};
use super::traffic::TrafficRun;
use super::write::{Kept, alias_write};
use crate::model::{DesiredFunction, Observation, ObservedAlias};
use crate::plan::{Action, AliasPlan, HookCall, Next, ReleaseFailure, TrafficCall, VersionRef};

/// One function's rollout on its alias, as the plan of one pass sees it.
pub(crate) struct Rollout<'a> {
    desired: &'a DesiredFunction,
    current: &'a ObservedAlias,
    policy: Policy<'a>,
    evidence: Evidence<'a>,
    now: u64,
}

impl<'a> Rollout<'a> {
    /// The rollout of `desired` on `current` (its alias as observed), with the evidence
    /// and the time of `observation`.
    pub fn new(
        desired: &'a DesiredFunction,
        current: &'a ObservedAlias,
        observation: &'a Observation,
        poll: Duration,
    ) -> Self {
        Self {
            desired,
            current,
            policy: Policy {
                steps: &desired.rollout_steps,
                gating: &desired.gating_alarms,
                auto_rollback: desired.auto_rollback,
                poll,
                analysis: desired.analysis.as_ref(),
                hooks: &desired.hooks,
                gates: &desired.gates,
                traffic: desired.traffic.as_ref(),
            },
            evidence: Evidence {
                alarms: &observation.alarms,
                metrics: observation.metrics.get(&desired.name),
                gates: observation
                    .gates
                    .get(&desired.name)
                    .map_or(&[], Vec::as_slice),
            },
            now: observation.at,
        }
    }

    /// The alias plan of a release to `target`, or `None` when no rollout is involved (no
    /// record in flight or failed for this release, and the alias already on `target`).
    pub fn plan(&self, target: &VersionRef) -> Option<AliasPlan> {
        let on_target = matches!(target, VersionRef::Existing(v) if *v == self.current.version);
        Some(match self.current.record() {
            Some(record)
                if record.phase.in_flight() && self.desired.is_release(&record.release) =>
            {
                self.continue_rollout(&record)
            }
            Some(record) if record.phase.in_flight() => self.supersede(&record, target),
            Some(record) if record.phase.failed() && self.desired.is_release(&record.release) => {
                self.held_back(&record)
            }
            _ if on_target => return None,
            _ => self.start(&self.current.version, target),
        })
    }

    /// Holds a rollout in flight where it is, rolling it back when its gates fail: for a
    /// function whose code could not be packaged, so that no step is taken without a
    /// valid desired state but the safety net stays.
    pub fn guard(&self) -> AliasPlan {
        let Some(record) = self.current.record().filter(|r| r.phase.in_flight()) else {
            return AliasPlan::default();
        };
        let poll = self.policy.poll;
        match decide(&record, self.policy, self.evidence, self.now) {
            Decision::RollBack { reason } => self.roll_back(&record, reason),
            Decision::Hold { requeue_after } | Decision::WaitForGate { requeue_after, .. } => {
                AliasPlan {
                    next: Next::RequeueAfter(requeue_after.min(poll)),
                    ..AliasPlan::default()
                }
            }
            // No step, no hook and no traffic is taken without a valid desired state.
            Decision::Advance(_) | Decision::RunHook(_) | Decision::SendTraffic(_) => AliasPlan {
                next: Next::RequeueAfter(poll),
                ..AliasPlan::default()
            },
        }
    }

    fn write(
        &self,
        transition: &Transition,
        stable: &VersionRef,
        canary: &VersionRef,
        kept: Kept<'_>,
    ) -> Action {
        alias_write(self.current, transition, stable, canary, kept)
    }

    /// Starts a rollout from the alias's version to `target`.
    fn start(&self, stable: &str, target: &VersionRef) -> AliasPlan {
        let stable = VersionRef::Existing(stable.to_owned());
        let transition = hooks::begin(&self.policy);
        let kept = Kept::start(&self.desired.release_digest);
        AliasPlan {
            actions: vec![self.write(&transition, &stable, target, kept)],
            serving: vec![stable, target.clone()],
            next: Next::RequeueAfter(Duration::ZERO),
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
            hook: record.hook,
            reason: Some(format!(
                "superseded by release {}",
                self.desired.release_digest
            )),
        };
        let abort = self.write(&back, &stable, &old_canary, Kept::next_step(record));
        let mut plan = self.start(&record.stable, target);
        plan.actions.insert(0, abort);
        plan
    }

    /// The spec names a release that was rolled back or aborted: the alias stays on the
    /// stable version until the spec changes or an operator retries.
    fn held_back(&self, record: &RolloutRecord) -> AliasPlan {
        AliasPlan {
            actions: Vec::new(),
            serving: vec![VersionRef::Existing(self.current.version.clone())],
            next: Next::ReleaseFailed(failure(record, true)),
        }
    }

    fn continue_rollout(&self, record: &RolloutRecord) -> AliasPlan {
        let stable = VersionRef::Existing(record.stable.clone());
        let canary = VersionRef::Existing(record.canary.clone());
        match decide(record, self.policy, self.evidence, self.now) {
            Decision::Hold { requeue_after } | Decision::WaitForGate { requeue_after, .. } => {
                let next = if record.phase == Phase::Paused {
                    Next::WaitForOperator {
                        recheck: requeue_after,
                    }
                } else {
                    Next::RequeueAfter(requeue_after)
                };
                let mut plan = AliasPlan {
                    actions: Vec::new(),
                    serving: vec![stable.clone(), canary.clone()],
                    next,
                };
                // Weights changed behind shepherd's back mid-rollout: put back the ones
                // the record says, without restarting the step's clock.
                let weight = weight_before(self.policy.steps, record.step);
                let (version, additional) = hooks::routing(record, weight);
                let routing_right = self.current.version == version
                    && match (&self.current.additional_version, &additional) {
                        (None, None) => true,
                        (Some((v, w)), Some((expected, e))) => {
                            v == expected && (w - e).abs() < 1e-9
                        }
                        _ => false,
                    };
                if !routing_right {
                    let repair = Transition {
                        phase: record.phase,
                        step: record.step,
                        canary_weight: additional.map(|(_, w)| w * 100.0),
                        hook: record.hook,
                        reason: record.reason.clone(),
                    };
                    plan.actions.push(self.write(
                        &repair,
                        &stable,
                        &canary,
                        Kept::same_step(record),
                    ));
                }
                plan
            }
            Decision::Advance(transition) => {
                let serving = if transition.phase == Phase::Healthy {
                    vec![canary.clone()]
                } else {
                    vec![stable.clone(), canary.clone()]
                };
                let next = match transition.phase {
                    Phase::Paused => Next::WaitForOperator {
                        recheck: self.policy.poll,
                    },
                    Phase::Progressing => Next::RequeueAfter(Duration::ZERO),
                    _ => Next::Converged,
                };
                AliasPlan {
                    actions: vec![self.write(
                        &transition,
                        &stable,
                        &canary,
                        Kept::next_step(record),
                    )],
                    serving,
                    next,
                }
            }
            Decision::RollBack { reason } => self.roll_back(record, reason),
            Decision::RunHook(run) => self.run_hook(record, run),
            Decision::SendTraffic(run) => self.send_traffic(record, run),
        }
    }

    /// Sends the batch of synthetic traffic the rollout is at, with the two writes its
    /// result may make: recorded as sent (past the batch before traffic, or the same
    /// pause with its clock running), or rolled back.
    fn send_traffic(&self, record: &RolloutRecord, run: TrafficRun) -> AliasPlan {
        let stable = VersionRef::Existing(record.stable.clone());
        let canary = VersionRef::Existing(record.canary.clone());
        let pass = match run.cursor {
            Some(cursor) => self.write(
                &hooks::after_pass(&self.policy, record, cursor),
                &stable,
                &canary,
                Kept::next_step(record),
            ),
            None => self.write(
                &Transition {
                    phase: record.phase,
                    step: record.step,
                    canary_weight: Some(weight_before(self.policy.steps, record.step)),
                    hook: None,
                    reason: record.reason.clone(),
                },
                &stable,
                &canary,
                Kept::traffic_sent(record, run.step),
            ),
        };
        let fail = Transition {
            phase: Phase::RolledBack,
            step: record.step,
            canary_weight: None,
            hook: record.hook,
            reason: Some("synthetic traffic failed".to_owned()),
        };
        let traffic = self
            .policy
            .traffic
            .cloned()
            .expect("traffic is sent only when the spec has some");
        let call = TrafficCall {
            canary: record.canary.clone(),
            step: run.step,
            before_traffic: run.cursor.is_some(),
            traffic,
        };
        AliasPlan {
            actions: vec![Action::SendTraffic {
                call: Box::new(call),
                pass: Box::new(pass),
                fail: Box::new(self.write(&fail, &stable, &canary, Kept::next_step(record))),
            }],
            serving: vec![stable, canary],
            next: Next::RequeueAfter(Duration::ZERO),
        }
    }

    /// Runs the hook the rollout is at, with the three writes its result may make.
    fn run_hook(&self, record: &RolloutRecord, run: HookRun) -> AliasPlan {
        let stable = VersionRef::Existing(record.stable.clone());
        let canary = VersionRef::Existing(record.canary.clone());
        let name = run.hook.display_name();
        let cursor = run.cursor;
        let pass = hooks::after_pass(&self.policy, record, cursor);
        let mut pending = self.write(
            &hooks::pending(record, cursor, &name),
            &stable,
            &canary,
            Kept::same_step(record),
        );
        if let Action::UpdateAlias {
            record: Some(template),
            ..
        } = &mut pending
        {
            template.pending_for = Some(run.deadline.as_secs());
        }
        let fail = Transition {
            phase: Phase::RolledBack,
            step: record.step,
            canary_weight: None,
            hook: Some(cursor),
            reason: Some(format!("{} hook {name} failed", cursor.stage)),
        };
        let call = HookCall {
            name,
            cursor,
            alias: self.current.name.clone(),
            stable: record.stable.clone(),
            canary: record.canary.clone(),
            weight: match cursor.stage {
                Stage::PreTraffic => 0.0,
                Stage::PostTraffic => 100.0,
            },
            step: record.step,
            release: record.release.clone(),
            started: record.started,
            deadline_secs: run.deadline.as_secs(),
            hook: run.hook,
        };
        AliasPlan {
            actions: vec![Action::RunHook {
                call: Box::new(call),
                pass: Box::new(self.write(&pass, &stable, &canary, Kept::next_step(record))),
                pending: Box::new(pending),
                fail: Box::new(self.write(&fail, &stable, &canary, Kept::next_step(record))),
            }],
            serving: vec![stable, canary],
            next: Next::RequeueAfter(Duration::ZERO),
        }
    }

    fn roll_back(&self, record: &RolloutRecord, reason: String) -> AliasPlan {
        let stable = VersionRef::Existing(record.stable.clone());
        let canary = VersionRef::Existing(record.canary.clone());
        let next = Next::ReleaseFailed(ReleaseFailure {
            release: record.release.clone(),
            phase: Phase::RolledBack,
            reason: reason.clone(),
            earlier: false,
        });
        let back = Transition {
            phase: Phase::RolledBack,
            step: record.step,
            canary_weight: None,
            hook: record.hook,
            reason: Some(reason),
        };
        AliasPlan {
            actions: vec![self.write(&back, &stable, &canary, Kept::next_step(record))],
            serving: vec![stable],
            next,
        }
    }
}

/// The failure a failed rollout's record tells of.
fn failure(record: &RolloutRecord, earlier: bool) -> ReleaseFailure {
    ReleaseFailure {
        release: record.release.clone(),
        phase: record.phase,
        reason: record
            .reason
            .clone()
            .unwrap_or_else(|| "no reason recorded".to_owned()),
        earlier,
    }
}
