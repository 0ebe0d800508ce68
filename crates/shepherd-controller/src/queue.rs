//! The keyed work queue every trigger feeds: one entry per function, at most one reconcile
//! in flight per function, and a function asked for again while in flight runs once more
//! after, never twice at once. An alarm event goes to the front: the rollback it may lead
//! to never waits behind a fleet's worth of routine work.

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

    /// Queues `key`; a key already waiting keeps its place (and first trigger), unless the
    /// new trigger is an alarm event, which moves it to the front. A change seen in
    /// CloudTrail takes the place of a waiting resync, so that the function is read in
    /// full.
    pub fn add(&self, key: &str, trigger: Trigger) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        let urgent = matches!(trigger, Trigger::AlarmChange { .. });
        let fuller = |waiting: &Trigger| {
            matches!(trigger, Trigger::CloudChange { .. }) && *waiting == Trigger::Resync
        };
        if let Some(waiting) = state.pending.get_mut(key).filter(|w| fuller(w)) {
            *waiting = trigger.clone();
        }
        if state.in_flight.contains(key) {
            match state.again.get_mut(key) {
                Some(again) if urgent || fuller(again) => *again = trigger,
                Some(_) => {}
                None => {
                    state.again.insert(key.to_owned(), trigger);
                }
            }
            return;
        }
        if state.pending.contains_key(key) {
            if urgent {
                state.order.retain(|k| k != key);
                state.order.push_front(key.to_owned());
                state.pending.insert(key.to_owned(), trigger);
                drop(state);
                self.notify.notify_waiters();
            }
            return;
        }
        if urgent {
            state.order.push_front(key.to_owned());
        } else {
            state.order.push_back(key.to_owned());
        }
        state.pending.insert(key.to_owned(), trigger);
        drop(state);
        // Every waiter looks: the rollback worker takes only alarm events, so waking one
        // worker could wake the wrong one.
        self.notify.notify_waiters();
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
        self.next_where(false).await
    }

    /// The next alarm event to work on: for the worker kept free for rollbacks, so that
    /// one never waits for a worker busy with a fleet deploy.
    pub async fn next_urgent(&self) -> Option<(String, Trigger)> {
        self.next_where(true).await
    }

    async fn next_where(&self, urgent_only: bool) -> Option<(String, Trigger)> {
        loop {
            let mut notified = std::pin::pin!(self.notify.notified());
            notified.as_mut().enable();
            {
                let mut state = self.lock();
                if state.closed {
                    return None;
                }
                // Alarm events are at the front, so the front says whether one waits.
                let front_urgent = state.order.front().is_some_and(|key| {
                    matches!(state.pending.get(key), Some(Trigger::AlarmChange { .. }))
                });
                let take = !urgent_only || front_urgent;
                if let Some(key) = take.then(|| state.order.pop_front()).flatten() {
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
    async fn a_change_seen_in_cloudtrail_replaces_a_waiting_resync_in_its_place() {
        let queue = WorkQueue::default();
        let change = Trigger::CloudChange {
            event: "UpdateAlias".into(),
            functions: vec!["b".into()],
            alarms: Vec::new(),
            by_shepherd: false,
        };
        queue.add("a", Trigger::Resync);
        queue.add("b", Trigger::Resync);
        queue.add("b", change.clone());
        let webhook = Trigger::Webhook {
            source: "github",
            commit: None,
        };
        queue.add("c", webhook.clone());
        queue.add("c", change.clone());
        assert_eq!(
            queue.next().await.unwrap(),
            ("a".to_owned(), Trigger::Resync)
        );
        assert_eq!(queue.next().await.unwrap(), ("b".to_owned(), change));
        assert_eq!(queue.next().await.unwrap(), ("c".to_owned(), webhook));
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

    #[tokio::test]
    async fn an_alarm_event_goes_to_the_front_and_keeps_its_trigger() {
        let queue = WorkQueue::default();
        for key in ["a", "b", "c"] {
            queue.add(key, Trigger::Resync);
        }
        let alarm = Trigger::AlarmChange {
            alarm: "c-errors".into(),
            state: shepherd_core::model::AlarmState::Alarm,
        };
        queue.add("c", alarm.clone());
        queue.add("d", alarm.clone());
        let order: Vec<(String, Trigger)> = [
            queue.next().await.unwrap(),
            queue.next().await.unwrap(),
            queue.next().await.unwrap(),
            queue.next().await.unwrap(),
        ]
        .into();
        let keys: Vec<&str> = order.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["d", "c", "a", "b"]);
        assert_eq!(
            order[1].1, alarm,
            "the alarm event replaces the resync it overtook"
        );
        // In flight: the alarm event is what runs next, not the earlier resync.
        queue.add("a", Trigger::Resync);
        queue.add("a", alarm.clone());
        queue.done("a");
        assert_eq!(queue.next().await.unwrap(), ("a".to_owned(), alarm));
    }
}
