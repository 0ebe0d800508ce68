//! What the HTTP server asks of the control loop: syncs on triggers, readiness, statuses,
//! and operator commands on rollouts.

use std::sync::PoisonError;
use std::sync::atomic::Ordering;
use std::time::Duration;

use shepherd_core::cloud::Cloud;
use shepherd_core::diagnostic::escape_control;
use shepherd_core::model::DesiredFunction;
use shepherd_core::rollout::CommandRefused;
use shepherd_core::rollout::{Command, Execution};
use shepherd_engine::operator::{OperateError, RolloutTarget, operate, report_hook};
use shepherd_engine::rollouts::status;

use shepherd_core::model::AlarmState;

use crate::handle::{CommandError, Controller, FunctionStatus, LeaseStatus, Trigger};
use crate::leader::Renewal;

use super::{ControlLoop, lock, prune};

impl<C: Cloud> Controller for ControlLoop<C> {
    fn request_sync(&self, trigger: Trigger) {
        match &trigger {
            Trigger::Resync => self.enqueue_all(&trigger),
            Trigger::GitPoll { .. } | Trigger::SourceChange | Trigger::Webhook { .. } => {
                self.source_sync.notify_one()
            }
            Trigger::DeployRequest { functions, commit } => {
                if commit.is_some() || functions.is_empty() {
                    self.source_sync.notify_one();
                }
                // Only functions of the desired state are queued: a request naming others
                // (a typo, or a flood of made-up names) is refused in one warning, not
                // queued name by name. A commit's own functions come with its sync.
                let (known, unknown): (Vec<&String>, Vec<&String>) = {
                    let desired = self.desired.read().unwrap_or_else(PoisonError::into_inner);
                    functions
                        .iter()
                        .partition(|name| desired.functions.contains_key(name.as_str()))
                };
                if !unknown.is_empty() {
                    let shown: Vec<String> = unknown
                        .iter()
                        .take(10)
                        .map(|n| escape_control(n).into_owned())
                        .collect();
                    tracing::warn!(
                        unknown = unknown.len(),
                        names = %shown.join(", "),
                        "deploy request names functions that are not in the desired state; those are ignored"
                    );
                    self.metrics
                        .rejected_triggers
                        .with_label_values(&[trigger.label()])
                        .inc();
                }
                for name in known {
                    self.queue.add(name, trigger.clone());
                }
                self.metrics.queue_depth.set(self.queue.len() as i64);
            }
            Trigger::Prune => self.queue.add(prune::PRUNE_KEY, Trigger::Prune),
            Trigger::LeaseAcquired => self.enqueue_all(&trigger),
            Trigger::AlarmChange { alarm, state } => {
                if *state == AlarmState::Alarm {
                    for name in self.gated_by(alarm) {
                        self.queue.add(&name, trigger.clone());
                    }
                }
            }
            Trigger::CloudChange { .. } => self.drift_event(&trigger),
        }
    }

    /// In sync: without a lease table, every function reconciled once; with one, the
    /// desired state loaded (a standby is ready to take over, and a holder's readiness
    /// does not flap as the lease moves).
    fn is_ready(&self) -> bool {
        if self.leadership.is_elected() {
            self.synced.load(Ordering::SeqCst)
        } else {
            self.ready.load(Ordering::SeqCst)
        }
    }

    fn leases(&self) -> Vec<LeaseStatus> {
        if !self.leadership.is_elected() {
            return Vec::new();
        }
        vec![LeaseStatus {
            target: self.leadership.target().to_owned(),
            replica: self.leadership.replica().to_owned(),
            holding: self.leadership.is_holder(),
            holder: self.leadership.holder(),
        }]
    }

    async fn lease_watch(
        &self,
        target: &str,
        after: Option<String>,
        follower: Option<(String, usize)>,
        wait: Duration,
    ) -> Option<Renewal> {
        if !self.leadership.is_elected() || target != self.leadership.target() {
            return None;
        }
        if let Some((replica, holds)) = follower {
            self.leadership.heard_from(&replica, holds);
        }
        Some(self.leadership.renewal_after(after.as_deref(), wait).await)
    }

    fn functions(&self) -> Vec<FunctionStatus> {
        let statuses = lock(&self.statuses);
        let now = shepherd_engine::clock::unix_now();
        self.function_names()
            .into_iter()
            .map(|name| {
                let mut status = statuses.get(&name).cloned().unwrap_or(FunctionStatus {
                    name,
                    ..FunctionStatus::default()
                });
                if let Some(rollout) = status.rollout.as_mut() {
                    rollout.at(now);
                }
                status.target = Some(self.settings.target.this.clone());
                status
            })
            .collect()
    }

    async fn hook_report(
        &self,
        execution: Execution,
        id: String,
        result: Result<(), String>,
    ) -> Result<String, CommandError> {
        let _work = self.leadership.begin_work();
        let name = execution.function.clone();
        let function = self.function_to_act_on(&name)?;
        let guarded = self
            .desired
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .package_errors
            .contains_key(&name);
        if guarded {
            // Its code could not be packaged: no step is taken without a valid desired
            // state, a hook's pass included (a pending one times out, or the next commit
            // supersedes it).
            return Err(
                OperateError::Refused(CommandRefused::HookNotAwaited { execution: id }).into(),
            );
        }
        let done = report_hook(
            &self.cloud,
            &RolloutTarget::from(&function),
            &execution,
            &id,
            result,
        )
        .await?;
        self.after_command(&function).await;
        Ok(done)
    }

    async fn command(&self, name: &str, command: Command) -> Result<String, CommandError> {
        let _work = self.leadership.begin_work();
        let function = self.function_to_act_on(name)?;
        let done = operate(&self.cloud, &RolloutTarget::from(&function), command).await?;
        self.after_command(&function).await;
        Ok(done)
    }
}

impl<C: Cloud> ControlLoop<C> {
    /// The desired function `name`, when this replica may act on it: it holds the
    /// target's lease (counted as work in flight by the caller first).
    fn function_to_act_on(&self, name: &str) -> Result<DesiredFunction, CommandError> {
        if !self.leadership.accepts_work() {
            return Err(CommandError::NotHolder {
                target: self.leadership.target().to_owned(),
                holder: self.leadership.holder(),
            });
        }
        self.desired
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .functions
            .get(name)
            .cloned()
            .ok_or_else(|| CommandError::NoSuchFunction {
                name: name.to_owned(),
            })
    }

    async fn after_command(&self, function: &DesiredFunction) {
        let name = function.name.as_str();
        // The status and the metrics show the new state at once (one read of the alias
        // the command just wrote), and the rollout continues from there.
        if let Some(rollout) = status(&self.cloud, std::slice::from_ref(function))
            .await
            .pop()
        {
            self.set_rollout(name, rollout);
        }
        self.queue.add(name, Trigger::Resync);
    }
}
