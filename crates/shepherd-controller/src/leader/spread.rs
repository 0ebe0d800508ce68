//! Spreading targets over replicas, with no extra calls to the table.
//!
//! - Taking: a replica that holds `k` leases takes a free or expired one only after wanting
//!   it for `k` heartbeats ([`Spread::may_take`]), so a replica holding fewer gets there
//!   first: replicas started together share the targets, and a dead replica's targets go to
//!   the least loaded others.
//! - Giving: standbys follow the holders of the targets they do not hold (see `follow`) and
//!   say, with each request, who they are and how many leases they hold. A holder that
//!   holds more than its share among the replicas it hears from, while one of them holds
//!   less, hands one lease over ([`Share::should_yield`]): it stops taking work for that
//!   target, lets the reconciles in flight finish, and releases the lease, which the
//!   follower takes at once. One lease at a time per replica, so the counts can settle.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// How long a follower counts as alive after its last request: two watch waits.
const PEER_FRESH: Duration = Duration::from_secs(45);

/// At most this many followers are remembered: the watch endpoint is open, and what a
/// caller says of itself must not grow the process's memory.
const MAX_PEERS: usize = 64;

/// What one replica's lease tasks share.
#[derive(Debug)]
pub struct Share {
    /// How many of the targets' leases this replica holds.
    held: AtomicUsize,
    /// How many targets the replicas share.
    targets: usize,
    /// The replicas that follow this one's leases: their leases held, and when heard.
    peers: Mutex<HashMap<String, (usize, Instant)>>,
    /// A lease is being handed over.
    yielding: AtomicBool,
}

impl Share {
    /// The share of a replica among replicas sharing `targets` targets.
    pub fn new(targets: usize) -> Arc<Self> {
        Arc::new(Self {
            held: AtomicUsize::new(0),
            targets,
            peers: Mutex::new(HashMap::new()),
            yielding: AtomicBool::new(false),
        })
    }

    /// How many leases this replica holds.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::SeqCst)
    }

    pub(super) fn acquired(&self) {
        self.held.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn lost(&self) {
        self.held.fetch_sub(1, Ordering::SeqCst);
    }

    /// A follower said who it is and how many leases it holds. Claims past the number of
    /// targets, and new followers past [`MAX_PEERS`], are ignored.
    pub fn heard_from(&self, replica: &str, holds: usize) {
        if holds > self.targets {
            return;
        }
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        if !peers.contains_key(replica) && peers.len() >= MAX_PEERS {
            peers.retain(|_, (_, heard)| heard.elapsed() < PEER_FRESH);
            if peers.len() >= MAX_PEERS {
                return;
            }
        }
        peers.insert(replica.to_owned(), (holds, Instant::now()));
    }

    /// Whether this replica holds more than its share among the replicas it hears from,
    /// while one of them holds less.
    pub(super) fn should_yield(&self) -> bool {
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        peers.retain(|_, (_, heard)| heard.elapsed() < PEER_FRESH);
        if peers.is_empty() {
            return false;
        }
        let fair = self.targets.div_ceil(peers.len() + 1);
        self.held() > fair && peers.values().any(|(holds, _)| *holds < fair)
    }

    /// Claims the one hand-over allowed at a time; false when another is under way.
    pub(super) fn begin_yield(&self) -> bool {
        self.yielding
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    pub(super) fn end_yield(&self) {
        self.yielding.store(false, Ordering::SeqCst);
    }
}

/// One target's part in taking leases (see the module's documentation).
pub(super) struct Spread {
    pub share: Arc<Share>,
    /// Since when this task has wanted to take the lease and deferred.
    pub wanted_since: Option<Duration>,
}

impl Spread {
    fn held(&self) -> u32 {
        u32::try_from(self.share.held()).unwrap_or(u32::MAX)
    }

    /// Whether to take the lease now, at `now`; false defers it.
    pub fn may_take(&mut self, now: Duration, heartbeat: Duration) -> bool {
        let held = self.held();
        if held == 0 {
            self.wanted_since = None;
            return true;
        }
        let since = *self.wanted_since.get_or_insert(now);
        if now >= since + heartbeat * held {
            self.wanted_since = None;
            return true;
        }
        false
    }

    /// The earliest a deferred take may happen.
    pub fn not_before(&self, heartbeat: Duration) -> Duration {
        self.wanted_since
            .map_or(Duration::ZERO, |since| since + heartbeat * self.held())
    }
}

/// Work a holder does on its target, counted so that a hand-over waits for it.
#[derive(Debug, Default)]
pub struct WorkGate {
    handing_over: AtomicBool,
    in_flight: AtomicUsize,
}

impl WorkGate {
    pub(super) fn set_handing_over(&self, on: bool) {
        self.handing_over.store(on, Ordering::SeqCst);
    }

    pub fn handing_over(&self) -> bool {
        self.handing_over.load(Ordering::SeqCst)
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    /// Counts one unit of work until the guard is dropped.
    pub fn begin(self: &Arc<Self>) -> WorkGuard {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        WorkGuard(Arc::clone(self))
    }
}

/// One unit of work on the target, counted while it lives.
pub struct WorkGuard(Arc<WorkGate>);

impl Drop for WorkGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_replica_yields_only_above_its_share_and_only_to_one_below_it() {
        let share = Share::new(4);
        for _ in 0..4 {
            share.acquired();
        }
        assert!(
            !share.should_yield(),
            "no follower heard: nobody to give to"
        );
        share.heard_from("b", 0);
        assert!(share.should_yield(), "4 of 4 with two replicas alive");
        share.lost();
        share.lost();
        assert!(!share.should_yield(), "2 of 4 is the share of two");
        // Three replicas: the share is 2 of 4. Holding 2, with 1 each elsewhere, is even.
        share.heard_from("c", 1);
        share.heard_from("b", 1);
        assert!(!share.should_yield());
        // Holding 3, with b at 1 and c at 0: one goes.
        share.acquired();
        share.heard_from("c", 0);
        assert!(share.should_yield());
        // Claims past the number of targets are not believed; the followers remembered
        // are bounded.
        share.heard_from("d", 9);
        for i in 0..MAX_PEERS * 2 {
            share.heard_from(&format!("x{i}"), 4);
        }
        assert_eq!(share.peers.lock().unwrap().len(), MAX_PEERS);
        assert!(!share.peers.lock().unwrap().contains_key("d"));
        // Followers not heard from for a while are not counted.
        tokio::time::sleep(PEER_FRESH).await;
        assert!(!share.should_yield());
    }
}
