//! The keyed work queue every trigger feeds: one entry per function, at most one reconcile
//! in flight per function, and a function asked for again while in flight runs once more
//! after, never twice at once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;

use crate::handle::Trigger;

#[derive(Default)]
struct State {
    order: VecDeque<String>,
    pending: HashMap<String, Trigger>,
    in_flight: HashSet<String>,
    /// Asked for again while in flight: queued when the current run ends.
    again: HashMap<String, Trigger>,
    closed: bool,
}

/// The queue; cheap to share behind an `Arc`.
#[derive(Default)]
pub struct WorkQueue {
    state: Mutex<State>,
    notify: Notify,
}

impl WorkQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `key`; a key already waiting keeps its place (and first trigger).
    pub fn add(&self, key: &str, trigger: Trigger) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        if state.in_flight.contains(key) {
            state.again.entry(key.to_owned()).or_insert(trigger);
            return;
        }
        if !state.pending.contains_key(key) {
            state.order.push_back(key.to_owned());
            state.pending.insert(key.to_owned(), trigger);
            drop(state);
            self.notify.notify_one();
        }
    }

    /// Queues `key` after `delay` (a rollout's next look), unless the queue closes first.
    pub fn add_after(self: &Arc<Self>, key: String, trigger: Trigger, delay: Duration) {
        let queue = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            queue.add(&key, trigger);
        });
    }

    /// The next key to work on, marked in flight; `None` once the queue is closed.
    pub async fn next(&self) -> Option<(String, Trigger)> {
        loop {
            let notified = self.notify.notified();
            {
                let mut state = self.lock();
                if state.closed {
                    return None;
                }
                if let Some(key) = state.order.pop_front() {
                    let trigger = state.pending.remove(&key).unwrap_or(Trigger::Resync);
                    state.in_flight.insert(key.clone());
                    return Some((key, trigger));
                }
            }
            notified.await;
        }
    }

    /// Ends the run of `key`; if it was asked for meanwhile, it is queued again.
    pub fn done(&self, key: &str) {
        let mut state = self.lock();
        state.in_flight.remove(key);
        if let Some(trigger) = state.again.remove(key) {
            drop(state);
            self.add(key, trigger);
        }
    }

    /// Keys waiting (not counting those in flight).
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops handing out work: workers finish what they hold and get `None`.
    pub fn close(&self) {
        self.lock().closed = true;
        self.notify.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_entry_per_key_and_never_two_in_flight() {
        let queue = WorkQueue::default();
        queue.add("a", Trigger::Resync);
        queue.add("a", Trigger::Resync);
        queue.add("b", Trigger::Resync);
        assert_eq!(queue.len(), 2);
        let (first, _) = queue.next().await.unwrap();
        assert_eq!(first, "a");
        // Asked for again while in flight: not handed out until done.
        queue.add("a", Trigger::Resync);
        let (second, _) = queue.next().await.unwrap();
        assert_eq!(second, "b");
        assert!(queue.is_empty());
        queue.done("a");
        let (again, _) = queue.next().await.unwrap();
        assert_eq!(again, "a");
    }

    #[tokio::test]
    async fn closing_releases_waiting_workers() {
        let queue = Arc::new(WorkQueue::default());
        let waiter = {
            let queue = Arc::clone(&queue);
            tokio::spawn(async move { queue.next().await })
        };
        tokio::task::yield_now().await;
        queue.close();
        assert_eq!(waiter.await.unwrap(), None);
    }
}
