//! What taking or losing the target's lease starts and stops: on taking it, every
//! function is queued (a rollout in flight resumes from the alias and the record shepherd
//! wrote on it, so nothing is repeated or skipped) and so is the prune step; on losing
//! it, the workers stop taking work by themselves ([`Leadership::is_holder`]) and the
//! fence refuses any write still on its way.

use std::sync::Arc;

use shepherd_core::cloud::Cloud;
use tokio_util::sync::CancellationToken;

use crate::handle::Trigger;
use crate::leader::Change;

use super::{ControlLoop, prune};

impl<C: Cloud> ControlLoop<C> {
    pub(super) async fn lease_watch(self: Arc<Self>, cancel: CancellationToken) {
        let mut leadership = self.leadership.clone();
        let target = leadership.target().to_owned();
        let leader = self.metrics.leader.with_label_values(&[target.as_str()]);
        leader.set(0);
        let mut holding = false;
        loop {
            let change = tokio::select! {
                change = leadership.next_change(holding) => change,
                () = cancel.cancelled() => return,
            };
            match change {
                Some(Change::Acquired) => {
                    holding = true;
                    leader.set(1);
                    self.metrics
                        .lease_acquisitions
                        .with_label_values(&[target.as_str()])
                        .inc();
                    tracing::info!(
                        target = %target,
                        replica = leadership.replica(),
                        "lease acquired: reconciling the target"
                    );
                    self.enqueue_all(&Trigger::LeaseAcquired);
                    self.queue.add(prune::PRUNE_KEY, Trigger::Prune);
                }
                Some(Change::Lost) => {
                    holding = false;
                    leader.set(0);
                    if cancel.is_cancelled() {
                        return;
                    }
                    if leadership.is_handing_over() {
                        tracing::info!(
                            target = %target,
                            replica = leadership.replica(),
                            "lease handed over to a replica holding fewer"
                        );
                        continue;
                    }
                    self.metrics
                        .lease_losses
                        .with_label_values(&[target.as_str()])
                        .inc();
                    tracing::warn!(
                        target = %target,
                        replica = leadership.replica(),
                        "lease lost: no more writes to the target until it is held again"
                    );
                }
                None => {
                    leader.set(0);
                    return;
                }
            }
        }
    }
}
