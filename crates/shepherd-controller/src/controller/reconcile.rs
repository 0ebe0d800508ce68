//! The workers: each takes a function from the keyed queue and reconciles it (observe,
//! plan, apply), then records its status and asks to be queued again while a rollout is
//! in flight.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use shepherd_core::cloud::Cloud;
use shepherd_core::plan::Action;
use shepherd_core::rollout::Phase;
use shepherd_engine::budget::{Lane, first_come, in_lane};
use shepherd_engine::execute::{ExecuteError, Outcome};
use shepherd_engine::observe::Refresh;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{Desired, apply, plan};
use shepherd_engine::rollouts::{RolloutStatus, rollout_status, status};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::handle::{FunctionStatus, ReconcileResult, Trigger};

use super::{ControlLoop, error_policy, lock, prune};

/// How often a rollout without metric analysis is reconciled while it holds (its pauses
/// end on their own schedule; the alarm watch covers its alarms in between).
const IDLE_ROLLOUT_RECHECK: Duration = Duration::from_secs(3600);

impl<C: Cloud> ControlLoop<C> {
    /// A worker: takes any function from the queue (alarm events first); with `urgent`,
    /// only alarm events, so that a rollback always finds a worker free.
    /// Without the target's lease it waits, and work it took as the lease ran out goes
    /// back on the queue for whoever holds it next.
    pub(super) async fn worker(self: Arc<Self>, urgent: bool, cancel: CancellationToken) {
        let mut leadership = self.leadership.clone();
        loop {
            if !leadership.until_holder(&cancel).await {
                break;
            }
            let next = if urgent {
                self.queue.next_urgent().await
            } else {
                self.queue.next().await
            };
            let Some((name, trigger)) = next else {
                break;
            };
            // Counted before the check, so that a hand-over never misses work it allowed.
            let work = leadership.begin_work();
            if !leadership.accepts_work() {
                // Lost, or being handed over: the next holder does it.
                drop(work);
                self.queue.done(&name);
                self.queue.add(&name, trigger);
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            self.metrics.queue_depth.set(self.queue.len() as i64);
            let commit = self
                .desired
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .commit
                .clone();
            let span = tracing::info_span!(
                "reconcile",
                function = %name,
                trigger = trigger.label(),
                commit = commit.as_deref().unwrap_or("-")
            );
            if name == prune::PRUNE_KEY {
                in_lane(Lane::Routine, self.prune_step().instrument(span)).await;
            } else {
                let lane = self.lane_of(&name, &trigger);
                // One unit of work: within its lane, a reconcile that began first is
                // served first, so a fleet's reconciles finish one after another.
                let reconcile = first_come(self.reconcile(&name, &trigger, commit));
                in_lane(lane, reconcile.instrument(span)).await;
            }
            self.queue.done(&name);
        }
    }

    /// The budget lane of a reconcile: an alarm event's first (it leads to a rollback),
    /// then a rollout in flight, then a new release, then the routine resync.
    fn lane_of(&self, name: &str, trigger: &Trigger) -> Lane {
        let in_flight = lock(&self.statuses).get(name).is_some_and(|s| {
            s.rollout
                .as_ref()
                .and_then(|r| r.phase())
                .is_some_and(Phase::in_flight)
        });
        match trigger {
            Trigger::AlarmChange { .. } => Lane::Rollback,
            _ if in_flight => Lane::InFlight,
            Trigger::GitPoll { .. }
            | Trigger::SourceChange
            | Trigger::Webhook { .. }
            | Trigger::DeployRequest { .. }
            | Trigger::CloudChange { .. }
            | Trigger::LeaseAcquired => Lane::Release,
            Trigger::Resync | Trigger::Prune => Lane::Routine,
        }
    }

    pub(super) async fn reconcile(&self, name: &str, trigger: &Trigger, commit: Option<String>) {
        tracing::info!("reconcile started");
        let (function, package_error) = {
            let desired = self.desired.read().unwrap_or_else(PoisonError::into_inner);
            (
                desired.functions.get(name).cloned(),
                desired.package_errors.get(name).cloned(),
            )
        };
        let Some(function) = function else {
            // Only the prune step deletes, and only what the spec set does not name: the
            // queue runs one reconcile per function at a time, so no reconcile of a
            // function the spec names again can overlap the deletion.
            if *trigger == Trigger::Prune {
                self.prune_function(name).await;
            }
            return;
        };
        let started = tokio::time::Instant::now();
        let mut options = self.settings.reconcile.clone();
        if commit.is_some() {
            // Hooks are told which commit they test.
            let mut hooks = (*options.execute.hooks).clone();
            hooks.commit.clone_from(&commit);
            options.execute.hooks = std::sync::Arc::new(hooks);
        }
        let full = *trigger == Trigger::Resync && self.full_refresh.load(Ordering::SeqCst);
        // A change made outside shepherd may be anywhere in the function: read it all.
        if full || matches!(trigger, Trigger::CloudChange { .. }) {
            options.refresh = Refresh::Full;
        }
        if function.analysis.is_none() && function.gates.is_empty() {
            // The alarm watch looks at the gating alarms of every rollout in one batch per
            // poll; the function itself comes back when its pause ends. Only rollouts
            // with metric analysis or gates need a reconcile per poll, for their metrics
            // or their gates.
            options.plan.alarm_poll = IDLE_ROLLOUT_RECHECK;
        }
        let desired = Desired {
            functions: vec![function.clone()],
            errors: BTreeMap::new(),
        };
        let mut planned = plan(&self.cloud, &desired, &options).await;
        let first = planned.plans.first();
        let requeue = first.and_then(|p| p.next.requeue_after());
        // The status comes from the observation the plan was made with, and after an alias
        // move from that observation with the aliases as written.
        let moves_alias = first.is_some_and(|p| {
            p.actions
                .iter()
                .any(|a| matches!(a, Action::UpdateAlias { .. } | Action::CreateAlias { .. }))
        });
        let observed_rollout = function.alias.as_ref().map(|_| {
            rollout_status(
                &function,
                &planned.observation,
                planned.errors.get(name).cloned(),
            )
        });
        // What the alias writes leave is known from the writes themselves: the status after
        // them needs no second observation.
        // Applying needs the plans only: the observation moves out, uncopied.
        let mut after = moves_alias.then(|| std::mem::take(&mut planned.observation));
        let report = apply(&self.cloud, planned, &options, &Silent)
            .await
            .into_iter()
            .next();
        if let Some(Outcome::Failed { error, .. }) = report.as_ref().map(|r| &r.outcome) {
            // In full here; the status API shows the summary, without AWS's messages.
            tracing::warn!(%error, "reconcile failed");
        }
        let (result, error) = match (report.as_ref().map(|r| &r.outcome), package_error) {
            (Some(Outcome::Failed { summary, .. }), _) => {
                (ReconcileResult::Failed, Some(summary.clone()))
            }
            // The rollout was guarded, but the commit's code is not deployed.
            (_, Some(error)) => (ReconcileResult::Failed, Some(error)),
            (Some(Outcome::Unchanged) | None, None) => (ReconcileResult::Unchanged, None),
            (Some(Outcome::Applied), None) => (ReconcileResult::Applied, None),
            (Some(Outcome::Refused { reason }), None) => {
                (ReconcileResult::Refused, Some(reason.to_string()))
            }
        };
        let drift = report.as_ref().is_some_and(|r| r.drift_corrected);
        self.metrics
            .reconciles
            .with_label_values(&[trigger.label(), result.label()])
            .inc();
        self.metrics
            .reconcile_seconds
            .with_label_values(&[trigger.label()])
            .observe(started.elapsed().as_secs_f64());
        if drift {
            self.metrics
                .drift_corrections
                .with_label_values(&[name])
                .inc();
        }
        match &error {
            Some(error) => tracing::warn!(result = result.label(), %error, "reconcile ended"),
            None => tracing::info!(result = result.label(), "reconcile ended"),
        }
        let written = report.as_ref().map_or(&[][..], |r| &r.aliases_written[..]);
        let updated = match after.as_mut() {
            Some(observation) if !written.is_empty() => {
                observation.after_alias_writes(name, written)
            }
            _ => false,
        };
        let rollout = match after {
            _ if written.is_empty() => observed_rollout,
            Some(observation) if updated => function
                .alias
                .as_ref()
                .map(|_| rollout_status(&function, &observation, None)),
            // Created by this reconcile: it was not in the observation.
            _ => status(&self.cloud, std::slice::from_ref(&function))
                .await
                .pop(),
        };
        self.record(name, commit, result, error, drift, rollout);
        let cause = report.as_ref().and_then(|r| r.failure.as_ref());
        let retry = self.error_policy(name, result, cause);
        if let Some(delay) = [requeue, retry].into_iter().flatten().min() {
            self.queue.add_after(
                name.to_owned(),
                Trigger::Resync,
                delay.max(Duration::from_secs(1)),
            );
        }
    }

    /// Counts the failure (or clears the count) and says when to try again, by the one
    /// error policy.
    fn error_policy(
        &self,
        name: &str,
        result: ReconcileResult,
        cause: Option<&ExecuteError>,
    ) -> Option<Duration> {
        let mut failures = lock(&self.failures);
        if result != ReconcileResult::Failed {
            failures.remove(name);
            return None;
        }
        let attempt = failures.entry(name.to_owned()).or_default();
        *attempt = attempt.saturating_add(1);
        let retry = error_policy::retry_after(cause, *attempt);
        if let Some(after) = retry {
            tracing::info!(
                attempt = *attempt,
                ?after,
                "retrying after a failure that may pass"
            );
        }
        retry
    }

    pub(super) fn record(
        &self,
        name: &str,
        commit: Option<String>,
        result: ReconcileResult,
        error: Option<String>,
        drift: bool,
        rollout: Option<RolloutStatus>,
    ) {
        let mut statuses = lock(&self.statuses);
        let status = statuses
            .entry(name.to_owned())
            .or_insert_with(|| FunctionStatus {
                name: name.to_owned(),
                ..FunctionStatus::default()
            });
        status.last_attempted_commit.clone_from(&commit);
        if error.is_none() {
            status.last_applied_commit = commit;
        }
        status.last_result = Some(result);
        status.last_error = error;
        status.last_reconciled_at = Some(shepherd_engine::clock::unix_now());
        status.drift_corrections += u64::from(drift);
        drop(statuses);
        if let Some(rollout) = rollout {
            self.set_rollout(name, rollout);
        }
        let mut first = lock(&self.first_round);
        if let Some(pending) = first.as_mut() {
            pending.remove(name);
            if pending.is_empty() {
                self.ready.store(true, Ordering::SeqCst);
                *first = None;
            }
        }
    }

    /// Records where a function's rollout stands, and the metrics that follow from it.
    pub(super) fn set_rollout(&self, name: &str, rollout: RolloutStatus) {
        let mut statuses = lock(&self.statuses);
        let status = statuses
            .entry(name.to_owned())
            .or_insert_with(|| FunctionStatus {
                name: name.to_owned(),
                ..FunctionStatus::default()
            });
        let was = status.rollout.as_ref().and_then(|r| r.phase());
        if rollout.phase() == Some(Phase::RolledBack) && was != Some(Phase::RolledBack) {
            self.metrics.rollbacks.with_label_values(&[name]).inc();
        }
        let weight = rollout
            .additional
            .as_ref()
            .filter(|_| rollout.in_flight())
            .map_or(0.0, |(_, w)| w * 100.0);
        self.metrics
            .canary_weight
            .with_label_values(&[name])
            .set(weight);
        status.rollout = Some(rollout);
        self.metrics.rollouts.reset();
        for status in statuses.values() {
            if let Some(phase) = status.rollout.as_ref().and_then(|r| r.phase()) {
                self.metrics
                    .rollouts
                    .with_label_values(&[&phase.to_string()])
                    .inc();
            }
        }
    }
}
