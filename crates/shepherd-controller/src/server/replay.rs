//! Remembers the last deliveries so that a replayed webhook does not sync twice.
//!
//! The window counts deliveries, not time: it bounds memory whatever the request rate,
//! and a sender retrying within the last N deliveries is what it has to catch.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};

use sha2::{Digest, Sha256};

/// A digest of `source` and the delivery id: ids are caller-sized header values, the
/// digest keeps each entry at 32 bytes, and the source keeps GitHub's and GitLab's ids
/// apart.
type Key = [u8; 32];

/// The last `capacity` deliveries seen.
pub(crate) struct ReplayCache {
    capacity: usize,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    order: VecDeque<Key>,
    keys: HashSet<Key>,
}

impl ReplayCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            seen: Mutex::default(),
        }
    }

    /// Records the delivery; `true` when it was not among the last `capacity`. Check and
    /// insert are one step, so two concurrent copies cannot both pass.
    pub(crate) fn first_sighting(&self, source: &str, id: &[u8]) -> bool {
        let key: Key = Sha256::new()
            .chain_update(source.as_bytes())
            .chain_update([0])
            .chain_update(id)
            .finalize()
            .into();
        // A panic elsewhere while holding the lock leaves the sets consistent (every
        // mutation below is complete or not started), so poisoning is ignored.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let Seen { order, keys } = &mut *seen;
        if !keys.insert(key) {
            return false;
        }
        order.push_back(key);
        let overflow = order.len().saturating_sub(self.capacity);
        for oldest in order.drain(..overflow) {
            keys.remove(&oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_repeats_within_the_window() {
        let cache = ReplayCache::new(2);
        assert!(cache.first_sighting("github", b"a"));
        assert!(!cache.first_sighting("github", b"a"));
        // The same id from another source is another delivery.
        assert!(cache.first_sighting("gitlab", b"a"));
        assert!(cache.first_sighting("github", b"b"));
        // ("github", "a") fell out of the window of two.
        assert!(cache.first_sighting("github", b"a"));
        assert!(!cache.first_sighting("github", b"b"));
    }
}
