//! The alarm watch: the gating alarms of every rollout in flight, read in batches each
//! poll; a function whose alarm fires is queued at once. And the drift events: a function
//! changed outside shepherd is queued at once.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError};

use shepherd_core::cloud::{Alarms, Cloud};
use shepherd_core::diagnostic::escape_control;
use shepherd_core::plan::managed_alarm_names;
use shepherd_engine::budget::{Lane, in_lane};
use tokio_util::sync::CancellationToken;

use shepherd_core::model::AlarmState;

use crate::handle::Trigger;

use super::{ControlLoop, lock};

impl<C: Cloud> ControlLoop<C> {
    /// Every alarm poll, reads the gating alarms of all rollouts in flight in batches of
    /// 100 (`DescribeAlarms`) and queues the functions whose alarm has fired since their
    /// rollout started: one batch per poll for the whole fleet, not a call per function.
    pub(super) async fn alarm_watch(self: Arc<Self>, cancel: CancellationToken) {
        let poll = self.settings.reconcile.plan.alarm_poll;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(poll) => {}
            }
            if !self.leadership.is_holder() {
                continue;
            }
            let watched: Vec<(String, u64, Vec<String>)> = {
                let statuses = lock(&self.statuses);
                let desired = self.desired.read().unwrap_or_else(PoisonError::into_inner);
                statuses
                    .values()
                    .filter_map(|s| {
                        let record = s
                            .rollout
                            .as_ref()?
                            .record
                            .as_ref()
                            .filter(|r| r.phase.in_flight())?;
                        let function = desired.functions.get(&s.name)?;
                        Some((
                            s.name.clone(),
                            record.started,
                            function.gating_alarms.clone(),
                        ))
                    })
                    .collect()
            };
            if watched.is_empty() {
                continue;
            }
            let mut names: Vec<String> = watched
                .iter()
                .flat_map(|(_, _, a)| a.iter().cloned())
                .collect();
            names.sort();
            names.dedup();
            let mut alarms = BTreeMap::new();
            for chunk in names.chunks(100) {
                // The reads that lead to a rollback: ahead of every other call.
                match in_lane(Lane::Rollback, self.cloud.describe_alarms(chunk)).await {
                    Ok(found) => {
                        alarms.extend(found.into_iter().map(|a| (a.definition.name.clone(), a)))
                    }
                    Err(error) => tracing::warn!(%error, "cannot read the gating alarms"),
                }
            }
            for (name, started, gating) in &watched {
                if let Some(alarm) = shepherd_core::rollout::fired_alarm(gating, &alarms, *started)
                {
                    tracing::info!(function = %name, alarm = %alarm.definition.name, "gating alarm fired");
                    self.queue.add(
                        name,
                        Trigger::AlarmChange {
                            alarm: alarm.definition.name.clone(),
                            state: AlarmState::Alarm,
                        },
                    );
                }
            }
        }
    }

    /// The functions whose rollouts an alarm gates.
    /// A write seen in CloudTrail: each managed function it touched (by name, or through
    /// one of its managed or gating alarms) is queued for a full refresh, unless shepherd
    /// made the call itself.
    pub(super) fn drift_event(&self, trigger: &Trigger) {
        let Trigger::CloudChange {
            event,
            functions,
            alarms,
            by_shepherd,
        } = trigger
        else {
            return;
        };
        let result = if *by_shepherd {
            "own"
        } else {
            let touched: BTreeSet<String> = {
                let desired = self.desired.read().unwrap_or_else(PoisonError::into_inner);
                desired
                    .functions
                    .values()
                    .filter(|f| {
                        functions.contains(&f.name)
                            || alarms.iter().any(|a| {
                                f.gating_alarms.contains(a)
                                    || managed_alarm_names(&f.name).contains(a)
                            })
                    })
                    .map(|f| f.name.clone())
                    .collect()
            };
            if touched.is_empty() {
                "unmanaged"
            } else {
                tracing::info!(
                    event = %escape_control(event),
                    functions = ?touched,
                    "a change made outside shepherd: a full refresh of what it touched"
                );
                for name in &touched {
                    self.queue.add(name, trigger.clone());
                }
                self.metrics.queue_depth.set(self.queue.len() as i64);
                "queued"
            }
        };
        self.metrics.drift_events.with_label_values(&[result]).inc();
    }

    pub(super) fn gated_by(&self, alarm: &str) -> Vec<String> {
        self.desired
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .functions
            .values()
            .filter(|f| f.gating_alarms.iter().any(|a| a == alarm))
            .map(|f| f.name.clone())
            .collect()
    }
}
