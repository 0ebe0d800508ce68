//! The lease of each target, held or watched by one task per target: every heartbeat the
//! task asks the target's [`Elector`] what to do, does it against the lease table, and
//! publishes the replica's role. Everything that acts on a target asks [`Leadership`]
//! first, on this process's monotonic clock, so a holder whose lease ran out (it was
//! paused, or lost the table) stops acting before anyone else can start.
//!
//! A graceful stop deletes the item on the holder's version, so a standby takes the
//! lease at its next read instead of waiting out the lease.

use std::sync::Arc;
use std::time::Duration;

use shepherd_core::lease::{Elector, Intent, LeaseTable, Role};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Whether this replica may act for a target, now.
#[derive(Clone)]
pub struct Leadership {
    role: watch::Receiver<Role>,
    origin: Instant,
}

impl Leadership {
    /// A replica with no lease table: it holds every target, always.
    pub fn always() -> Self {
        let (_, role) = watch::channel(Role::Holder {
            valid_until: Duration::MAX,
        });
        Self {
            role,
            origin: Instant::now(),
        }
    }

    /// Checked before each write: the lease as last renewed, against this clock.
    pub fn is_holder(&self) -> bool {
        match *self.role.borrow() {
            Role::Holder { valid_until } => self.origin.elapsed() < valid_until,
            Role::Standby => false,
        }
    }

    /// Waits until the replica holds the lease (or `cancel`).
    pub async fn until_holder(&mut self, cancel: &CancellationToken) -> bool {
        loop {
            if self.is_holder() {
                return true;
            }
            tokio::select! {
                changed = self.role.changed() => {
                    if changed.is_err() {
                        return false;
                    }
                }
                () = cancel.cancelled() => return false,
            }
        }
    }
}

/// Starts the task that holds or watches `elector`'s lease; it releases the lease when
/// `cancel` fires.
pub fn spawn<T: LeaseTable>(
    table: Arc<T>,
    elector: Elector,
    cancel: CancellationToken,
) -> (Leadership, tokio::task::JoinHandle<()>) {
    let origin = Instant::now();
    let (tx, rx) = watch::channel(Role::Standby);
    let task = tokio::spawn(hold(table, elector, origin, tx, cancel));
    (Leadership { role: rx, origin }, task)
}

fn fresh() -> String {
    format!("{:032x}", rand::random::<u128>())
}

async fn hold<T: LeaseTable>(
    table: Arc<T>,
    mut elector: Elector,
    origin: Instant,
    role: watch::Sender<Role>,
    cancel: CancellationToken,
) {
    let mut ticks = tokio::time::interval(elector.settings().heartbeat);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = cancel.cancelled() => break,
        }
        beat(table.as_ref(), &mut elector, origin).await;
        role.send_replace(elector.role(origin.elapsed()));
    }
    role.send_replace(Role::Standby);
    if let Some(version) = elector.release()
        && let Err(error) = table.delete(elector.target(), &version).await
    {
        tracing::warn!(target = elector.target(), %error, "could not release the lease; it runs out by itself");
    }
}

async fn beat<T: LeaseTable>(table: &T, elector: &mut Elector, origin: Instant) {
    let mut intent = elector.tick(origin.elapsed(), fresh());
    if intent == Intent::Read {
        match table.get(elector.target()).await {
            Ok(item) => match elector.observed(item.as_ref(), origin.elapsed(), fresh()) {
                Some(write) => intent = write,
                None => return,
            },
            Err(error) => {
                tracing::warn!(target = elector.target(), %error, "cannot read the lease");
                return;
            }
        }
    }
    // The lease is counted from before the write was sent.
    let sent_at = origin.elapsed();
    let (item, result) = match &intent {
        Intent::Acquire(item) => (item, table.put_new(item).await),
        Intent::Replace { expected, item } => (item, table.replace(expected, item).await),
        Intent::Read => return,
    };
    elector.written(item, sent_at, result);
}
