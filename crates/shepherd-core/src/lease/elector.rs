//! One replica's lease on one target, as a state machine the caller drives: each
//! heartbeat it asks [`Elector::tick`] what to do, does it against the table, and tells
//! the elector what came back. Times are offsets on the caller's monotonic clock.

use std::time::Duration;

use super::item::LeaseItem;
use super::table::TableError;

/// How long a lease lasts and how often it is renewed or looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseSettings {
    pub duration: Duration,
    pub heartbeat: Duration,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        Self {
            duration: Duration::from_secs(20),
            heartbeat: Duration::from_secs(5),
        }
    }
}

impl LeaseSettings {
    /// A heartbeat must leave room for a lost renewal or two before the lease runs out.
    pub fn check(&self) -> Result<(), String> {
        if self.heartbeat.is_zero() || self.heartbeat * 3 > self.duration {
            return Err(format!(
                "the lease heartbeat ({:?}) must be more than zero and at most a third of the lease duration ({:?})",
                self.heartbeat, self.duration
            ));
        }
        Ok(())
    }

    /// How long before a contender could take over the holder stops acting: room for
    /// the two clocks running at slightly different rates.
    fn margin(duration: Duration) -> Duration {
        duration / 10
    }
}

/// What the replica is for the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// Another replica holds the lease, or nobody does yet.
    Standby,
    /// This replica holds the lease and may act until `valid_until`.
    Holder { valid_until: Duration },
}

/// What to do against the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    /// Read the item, then [`Elector::observed`].
    Read,
    /// Write the item only if there is none, then [`Elector::written`].
    Acquire(LeaseItem),
    /// Replace the item only if it carries `expected` (a renewal, or the takeover of a
    /// lease whose holder stopped renewing), then [`Elector::written`].
    Replace { expected: String, item: LeaseItem },
}

/// A version this replica wrote whose answer it has not had: the item may carry it.
#[derive(Debug, Clone)]
struct Unconfirmed {
    version: String,
    sent_at: Duration,
}

/// A version seen on another holder's item, when it was first seen, and the holder's
/// lease duration.
#[derive(Debug, Clone)]
struct Seen {
    version: String,
    since: Duration,
    duration: Duration,
}

impl Seen {
    fn expires(&self) -> Duration {
        self.since + self.duration
    }
}

#[derive(Debug, Clone)]
enum State {
    Standby {
        seen: Option<Seen>,
    },
    Holder {
        version: String,
        valid_until: Duration,
    },
}

/// One replica's view of one target's lease.
#[derive(Debug, Clone)]
pub struct Elector {
    target: String,
    replica: String,
    address: Option<String>,
    settings: LeaseSettings,
    state: State,
    /// The last writes whose answers were lost (at most a few).
    unconfirmed: Vec<Unconfirmed>,
}

/// How many writes with lost answers are remembered.
const UNCONFIRMED: usize = 4;

impl Elector {
    pub fn new(
        target: impl Into<String>,
        replica: impl Into<String>,
        address: Option<String>,
        settings: LeaseSettings,
    ) -> Self {
        Self {
            target: target.into(),
            replica: replica.into(),
            address,
            settings,
            state: State::Standby { seen: None },
            unconfirmed: Vec::new(),
        }
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    /// This replica's id, as its items name it.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Where this replica's API answers, as its items advertise it.
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }

    pub fn settings(&self) -> &LeaseSettings {
        &self.settings
    }

    /// What this replica is at `now`: a holder whose lease ran out on its own clock is a
    /// standby, whether or not it has heard so.
    pub fn role(&self, now: Duration) -> Role {
        match &self.state {
            State::Holder { valid_until, .. } if now < *valid_until => Role::Holder {
                valid_until: *valid_until,
            },
            _ => Role::Standby,
        }
    }

    pub fn is_holder(&self, now: Duration) -> bool {
        matches!(self.role(now), Role::Holder { .. })
    }

    /// What to do this heartbeat; `fresh` is a new random version for a write.
    pub fn tick(&mut self, now: Duration, fresh: String) -> Intent {
        match &self.state {
            State::Holder {
                version,
                valid_until,
            } if now < *valid_until => Intent::Replace {
                expected: version.clone(),
                item: self.item(fresh),
            },
            State::Holder { .. } => {
                // Ran out without a renewal going through: read what the table says.
                self.state = State::Standby { seen: None };
                Intent::Read
            }
            // A lease seen unchanged for its whole duration: taken over with a
            // conditional write on that version, without reading first (a renewal since
            // makes the write fail, and the replica stays a standby).
            State::Standby { seen: Some(seen) } if now >= seen.expires() => Intent::Replace {
                expected: seen.version.clone(),
                item: self.item(fresh),
            },
            State::Standby { .. } => Intent::Read,
        }
    }

    /// The version this replica's item carries while it holds the lease.
    pub fn held_version(&self, now: Duration) -> Option<&str> {
        match &self.state {
            State::Holder {
                version,
                valid_until,
            } if now < *valid_until => Some(version),
            _ => None,
        }
    }

    /// When a standby may take the lease over if it hears of no renewal before: the
    /// caller ticks then, not only at its heartbeat.
    pub fn takeover_at(&self) -> Option<Duration> {
        match &self.state {
            State::Standby { seen: Some(seen) } => Some(seen.expires()),
            _ => None,
        }
    }

    /// The holder said, other than through the table, that it renewed to `version` (a
    /// standby waiting on it hears each renewal as it happens). The lease is counted from
    /// now, when this replica learnt of it, which is after the holder sent the write:
    /// as safe as a read, and it keeps the takeover a lease after the holder's last
    /// renewal rather than up to a heartbeat later.
    pub fn heard(&mut self, holder: &str, version: &str, duration: Duration, now: Duration) {
        if holder == self.replica {
            return;
        }
        if let State::Standby { seen } = &mut self.state
            && seen.as_ref().is_none_or(|s| s.version != version)
        {
            *seen = Some(Seen {
                version: version.to_owned(),
                since: now,
                duration,
            });
        }
    }

    /// What a read showed; returns the write to make at once, if any.
    pub fn observed(
        &mut self,
        item: Option<&LeaseItem>,
        now: Duration,
        fresh: String,
    ) -> Option<Intent> {
        let Some(item) = item else {
            self.state = State::Standby { seen: None };
            return Some(Intent::Acquire(self.item(fresh)));
        };
        if item.holder == self.replica
            && let Some(mine) = self.unconfirmed.iter().find(|u| u.version == item.version)
        {
            // A write whose answer was lost did land.
            let valid_until = self.valid_from(mine.sent_at);
            self.unconfirmed.clear();
            if now < valid_until {
                self.state = State::Holder {
                    version: item.version.clone(),
                    valid_until,
                };
                return None;
            }
        }
        let seen = match &self.state {
            State::Standby { seen: Some(seen) } if seen.version == item.version => seen.clone(),
            _ => Seen {
                version: item.version.clone(),
                since: now,
                duration: item.duration,
            },
        };
        let takeover = now >= seen.expires();
        self.state = State::Standby { seen: Some(seen) };
        takeover.then(|| Intent::Replace {
            expected: item.version.clone(),
            item: self.item(fresh),
        })
    }

    /// What came of a write of `item` sent at `sent_at`.
    pub fn written(&mut self, item: &LeaseItem, sent_at: Duration, result: Result<(), TableError>) {
        match result {
            Ok(()) => {
                self.unconfirmed.clear();
                self.state = State::Holder {
                    version: item.version.clone(),
                    valid_until: self.valid_from(sent_at),
                };
            }
            Err(TableError::ConditionFailed) => {
                // Someone else wrote first (or a lost write of ours did: the next read
                // tells).
                self.state = State::Standby { seen: None };
            }
            Err(TableError::Unavailable(_)) => {
                // It may have landed: remembered, and the lease as it was stands until it
                // runs out on this clock.
                if self.unconfirmed.len() == UNCONFIRMED {
                    self.unconfirmed.remove(0);
                }
                self.unconfirmed.push(Unconfirmed {
                    version: item.version.clone(),
                    sent_at,
                });
            }
        }
    }

    /// Gives the lease up (a graceful shutdown): the version to delete the item on, when
    /// this replica may still hold it. The replica is a standby afterwards.
    pub fn release(&mut self) -> Option<String> {
        let state = std::mem::replace(&mut self.state, State::Standby { seen: None });
        match state {
            State::Holder { version, .. } => Some(version),
            State::Standby { .. } => None,
        }
    }

    fn valid_from(&self, sent_at: Duration) -> Duration {
        let duration = self.settings.duration;
        sent_at + duration - LeaseSettings::margin(duration)
    }

    fn item(&self, version: String) -> LeaseItem {
        LeaseItem {
            target: self.target.clone(),
            holder: self.replica.clone(),
            version,
            duration: self.settings.duration,
            address: self.address.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
