//! `apply --wait`: each function is reconciled again and again, on its own clock, until
//! its rollout settles. No function waits for a pass over the fleet: a canary whose pause
//! ends or whose alarm check is due is looked at then, whatever the others are doing, and
//! only while it is being reconciled does it hold one of the `concurrency` slots. The
//! first looks (the release) and the later ones (rollouts in flight) have slots of their
//! own: a canary due for a look never queues behind the fleet's first looks, as its calls
//! never queue behind theirs in the budget.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use shepherd_core::cloud::Cloud;
use shepherd_core::model::{DesiredFunction, Observation, ObservedAlias};
use shepherd_core::rollout::fired_alarm;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tracing::Instrument;

use crate::apply::{Reconciled, reconcile_one};
use crate::budget::{Lane, at_least, current, first_come};
use crate::execute::{FunctionReport, Outcome, execute};
use crate::observe::Pass;
use crate::progress::{Progress, ProgressSink};
use crate::reconcile::{Desired, PRUNE, ReconcileOptions, plan_prune};
use crate::rollouts::{RolloutStatus, rollout_status, status};

/// The shortest wait between two looks at one function: a rollout that asks to be looked
/// at again at once is still looked at no more than once a second, unless its last look
/// took a step (see [`IMMEDIATE_LOOKS`]).
const MIN_LOOK_INTERVAL: Duration = Duration::from_secs(1);

/// Looks in a row that may follow one another at once: a rollout whose look took a step
/// and whose next step is due now (a step with no pause) is looked at again without the
/// one-second wait, so a short canary ends as soon as the budget allows. The bound keeps a
/// rollout that keeps asking for an immediate look from spending the budget in a loop.
const IMMEDIATE_LOOKS: u32 = 8;

/// Looks at a function whose state could not be read this many times in a row before its
/// loop gives up (each call has had its own retries by then).
const UNREADABLE_LOOKS: u32 = 3;

/// Reconciles every function until its rollout is no longer moving by itself: settled,
/// failed, or waiting for an operator. The prune step (with `--prune`, without `--only`)
/// runs once every function has been planned a first time.
pub async fn apply_until_settled<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    options: &ReconcileOptions,
    progress: &dyn ProgressSink,
) -> Vec<FunctionReport> {
    let slots = Slots {
        first: Semaphore::new(options.execute.concurrency.max(1)),
        later: Semaphore::new(options.execute.concurrency.max(1)),
    };
    let first = Pass::default();
    let (planned, mut first_looks) = mpsc::unbounded_channel();
    let mut loops: FuturesUnordered<BoxFuture<'_, FunctionReport>> = desired
        .functions
        .iter()
        .map(|d| {
            let run = Run {
                cloud,
                desired: d,
                package_error: desired.errors.get(&d.name).map(String::as_str),
                options,
                slots: &slots,
                progress,
                planned: planned.clone(),
            };
            let span = tracing::info_span!("apply", function = %d.name);
            Box::pin(first_come(run.settle(&first)).instrument(span)) as BoxFuture<'_, _>
        })
        .collect();
    drop(planned);
    let prune = async {
        // Every function's first look, and whether it could be planned.
        let mut failed = BTreeMap::new();
        for _ in 0..desired.functions.len() {
            let Some((name, error)) = first_looks.recv().await else {
                break;
            };
            if let Some(error) = error {
                failed.insert(name, error);
            }
        }
        if !(options.plan.prune && options.only.is_empty()) {
            return Vec::new();
        }
        match plan_prune(cloud, &desired.names(), &failed, &options.plan.owner).await {
            Ok(plans) => execute(cloud, plans, &options.execute, progress).await,
            Err(reason) => vec![FunctionReport::failed_before(
                PRUNE.to_owned(),
                reason.to_string(),
                None,
            )],
        }
    };
    let settled = async {
        let mut reports = Vec::new();
        while let Some(report) = loops.next().await {
            reports.push(report);
        }
        reports
    };
    let (mut reports, pruned) = futures::join!(settled, prune);
    reports.extend(pruned);
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    reports
}

/// The `concurrency` bound, once for first looks and once for later ones.
struct Slots {
    first: Semaphore,
    later: Semaphore,
}

/// One function's loop and what it needs.
struct Run<'a, C> {
    cloud: &'a C,
    desired: &'a DesiredFunction,
    package_error: Option<&'a str>,
    options: &'a ReconcileOptions,
    slots: &'a Slots,
    progress: &'a dyn ProgressSink,
    /// Told once, after the first look: the function's name, and why it could not be
    /// planned.
    planned: mpsc::UnboundedSender<(String, Option<String>)>,
}

impl<C: Cloud> Run<'_, C> {
    async fn settle(self, first: &Pass) -> FunctionReport {
        let name = self.desired.name.clone();
        let mut merged: Option<FunctionReport> = None;
        let mut unreadable = 0;
        let mut next_look = MIN_LOOK_INTERVAL;
        let mut immediate = 0;
        // The first look shares the run's first pass with every function; later ones are
        // rollouts in flight, each with a pass of its own (sharing the alarm batches).
        let mut looked = false;
        // The aliases as the last look left them, when it went through: the next look
        // plans from them instead of reading them again (its alias writes are conditioned
        // on their revisions, so nothing changed meanwhile is overwritten).
        let mut known: Option<Vec<ObservedAlias>> = None;
        loop {
            let one = if looked {
                let pass = first.next();
                self.look(&pass, Lane::InFlight, &self.slots.later, known.as_deref())
                    .await
            } else {
                self.look(first, current(), &self.slots.first, None).await
            };
            known = one
                .report
                .outcome
                .error()
                .is_none()
                .then(|| one.observation.functions.get(&name))
                .flatten()
                .map(|f| f.aliases.clone());
            if !looked {
                let error = one
                    .plan
                    .is_none()
                    .then(|| one.report.outcome.error().map(str::to_owned))
                    .flatten();
                let _ = self.planned.send((name.clone(), error));
            }
            let Some(plan) = &one.plan else {
                // A rollout this loop saw moving is looked at again a few times before
                // the loop leaves it: leaving ends the wait, not the rollout.
                unreadable += 1;
                if !looked || unreadable >= UNREADABLE_LOOKS {
                    merge(&mut merged, one.report);
                    break;
                }
                tokio::time::sleep(next_look).await;
                continue;
            };
            unreadable = 0;
            let next = plan.next.clone();
            let stepped = !one.report.done.is_empty() && one.report.outcome.error().is_none();
            merge(&mut merged, one.report);
            if next.is_waiting_for_operator() {
                self.progress.report(Progress::Gate { function: &name });
                break;
            }
            let Some(requeue) = next.requeue_after().filter(|_| next.is_moving()) else {
                break;
            };
            next_look = if !(requeue.is_zero() && stepped) {
                immediate = 0;
                requeue.max(MIN_LOOK_INTERVAL)
            } else if immediate < IMMEDIATE_LOOKS {
                immediate += 1;
                Duration::ZERO
            } else {
                // Only a wait the rollout asked for ends the run of immediate looks.
                MIN_LOOK_INTERVAL
            };
            let status = self.report_rollout(&one.observation, next_look).await;
            looked = true;
            self.wait(next_look, status.as_ref(), first).await;
        }
        merged.expect("the loop looks at least once")
    }

    /// One reconcile of the function, holding a slot while it runs.
    async fn look(
        &self,
        pass: &Pass,
        lane: Lane,
        slots: &Semaphore,
        known: Option<&[ObservedAlias]>,
    ) -> Reconciled {
        let _slot = slots.acquire().await.expect("the slots are never closed");
        let one = reconcile_one(
            self.cloud,
            self.desired,
            self.package_error,
            self.options,
            pass,
            self.progress,
            known,
        );
        at_least(lane, one).await
    }

    /// Reports where the moving rollout stands after this look's writes; only a function
    /// this look created (not in its observation) is read again.
    async fn report_rollout(
        &self,
        observation: &Observation,
        next_look: Duration,
    ) -> Option<RolloutStatus> {
        let d = self.desired;
        let status = if observation.functions.contains_key(&d.name) {
            Some(rollout_status(d, observation, None))
        } else {
            status(self.cloud, std::slice::from_ref(d)).await.pop()
        };
        if let Some(status) = &status {
            self.progress
                .report(Progress::Rollout { status, next_look });
        }
        status
    }

    /// Waits for the next look. In a pause whose end is further than a poll away, the
    /// polls in between read only the gating alarms (CloudWatch, in the run's shared
    /// batch), not the function: the next look comes at the pause's end, or as soon as an
    /// alarm fires (the look then decides, as always). A rollout whose canary metrics
    /// are analysed is looked at every poll, for its metrics.
    async fn wait(&self, next_look: Duration, status: Option<&RolloutStatus>, first: &Pass) {
        let pause = status.and_then(|s| Some((s.pause_left_secs?, s.record.as_ref()?.started)));
        let Some((left, started)) = pause.filter(|_| self.desired.analysis.is_none()) else {
            tokio::time::sleep(next_look).await;
            return;
        };
        let poll = self.options.plan.alarm_poll.max(MIN_LOOK_INTERVAL);
        let end = Instant::now() + Duration::from_secs(left);
        let gating = &self.desired.gating_alarms;
        loop {
            let now = Instant::now();
            if now + poll >= end {
                tokio::time::sleep_until(end.max(now + MIN_LOOK_INTERVAL)).await;
                return;
            }
            tokio::time::sleep(poll).await;
            if gating.is_empty() {
                continue;
            }
            let read = at_least(Lane::InFlight, first.alarms(self.cloud, gating.clone())).await;
            match read {
                Ok(alarms) if fired_alarm(gating, &alarms, started).is_none() => {}
                // Fired, or cannot tell: the look decides.
                _ => return,
            }
        }
    }
}

/// Folds the report of a later look into the earlier ones: actions add up, and a look
/// with nothing to do does not hide what an earlier one did.
fn merge(merged: &mut Option<FunctionReport>, report: FunctionReport) {
    match merged {
        None => *merged = Some(report),
        Some(previous) => {
            previous.done.extend(report.done);
            previous.skipped.extend(report.skipped);
            previous.drift_corrected |= report.drift_corrected;
            if report.outcome != Outcome::Unchanged {
                previous.outcome = report.outcome;
            }
        }
    }
}
