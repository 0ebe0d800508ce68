//! A token bucket whose waiters are served in order: by lane first, then within a lane by
//! the place of their work (see `order`), then first come, first served. Only the head of the queue takes tokens, so a caller that keeps
//! asking cannot starve the others (tokio's timers wake sleepers in no particular order,
//! which let one worker take every token while the rest waited for ever).

use std::collections::BTreeSet;
use std::pin::pin;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::lane::Lane;

/// `rate` tokens per second, holding at most one second's worth.
#[derive(Debug)]
pub(super) struct Bucket {
    rate: f64,
    state: Mutex<State>,
    /// Signalled whenever the head of the queue may have changed.
    changed: Notify,
}

#[derive(Debug)]
struct State {
    tokens: f64,
    last: Instant,
    /// The callers waiting, one queue per lane, each as (place of its work, ticket).
    waiting: [BTreeSet<(u64, u64)>; Lane::ALL.len()],
    next_ticket: u64,
}

impl State {
    fn refill(&mut self, rate: f64) {
        let now = Instant::now();
        let elapsed = now.duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate.max(1.0));
        self.last = now;
    }

    fn head(&self) -> Option<(u64, u64)> {
        self.waiting.iter().find_map(|queue| queue.first().copied())
    }

    fn nobody_waits(&self) -> bool {
        self.waiting.iter().all(BTreeSet::is_empty)
    }
}

impl Bucket {
    pub(super) fn new(rate: f64) -> Self {
        // Start with one token rather than full: a burst at start would overshoot the
        // quota the account has left from other callers.
        Self {
            rate: rate.max(0.001),
            state: Mutex::new(State {
                tokens: 1.0,
                last: Instant::now(),
                waiting: Default::default(),
                next_ticket: 0,
            }),
            changed: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long until the next token, from a deficit. At least a millisecond: float
    /// rounding can leave a deficit (1e-16) whose wait rounds to zero, and a zero sleep
    /// lets no time pass (for ever with a paused clock, as in tests).
    fn wait_for_token(&self, tokens: f64) -> Duration {
        Duration::from_secs_f64((1.0 - tokens) / self.rate).max(Duration::from_millis(1))
    }

    /// Waits for a token, behind every caller of an earlier lane, and in the same lane
    /// behind every caller whose work began earlier (`place`) or who asked earlier.
    pub(super) async fn acquire(&self, lane: Lane, place: u64) {
        let ticket = {
            let mut state = self.lock();
            state.refill(self.rate);
            if state.nobody_waits() && state.tokens >= 1.0 {
                state.tokens -= 1.0;
                return;
            }
            let ticket = (place, state.next_ticket);
            state.next_ticket += 1;
            state.waiting[lane.index()].insert(ticket);
            ticket
        };
        // Leaves the queue however the wait ends, also when the caller gives up on it.
        let mut place = Place {
            bucket: self,
            lane,
            ticket,
            served: false,
        };
        loop {
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            let wait = {
                let mut state = self.lock();
                state.refill(self.rate);
                if state.head() == Some(ticket) {
                    if state.tokens >= 1.0 {
                        state.tokens -= 1.0;
                        state.waiting[lane.index()].remove(&ticket);
                        place.served = true;
                        drop(state);
                        self.changed.notify_waiters();
                        return;
                    }
                    Some(self.wait_for_token(state.tokens))
                } else {
                    None
                }
            };
            match wait {
                Some(wait) => {
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    #[cfg(test)]
    pub(super) fn set_tokens(&self, tokens: f64) {
        let mut state = self.lock();
        state.tokens = tokens;
        state.last = Instant::now();
    }

    #[cfg(test)]
    pub(super) fn deficit_wait(&self) -> Duration {
        let state = self.lock();
        self.wait_for_token(state.tokens)
    }
}

/// A caller's place in the queue.
struct Place<'a> {
    bucket: &'a Bucket,
    lane: Lane,
    ticket: (u64, u64),
    served: bool,
}

impl Drop for Place<'_> {
    fn drop(&mut self) {
        if self.served {
            return;
        }
        let mut state = self.bucket.lock();
        state.waiting[self.lane.index()].remove(&self.ticket);
        drop(state);
        self.bucket.changed.notify_waiters();
    }
}
