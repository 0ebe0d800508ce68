//! The lease item, one per target.

use std::time::Duration;

/// What the table holds for one target's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseItem {
    /// The target the lease is for: the item's key.
    pub target: String,
    /// The replica holding it.
    pub holder: String,
    /// Rotated by every write of the holder: a contender that sees it unchanged for a
    /// lease duration knows the holder has stopped renewing.
    pub version: String,
    /// How long the lease lasts after a write, as the holder set it: contenders wait this
    /// long, whatever their own setting.
    pub duration: Duration,
    /// Where the holder's HTTP API answers, for commands sent to another replica.
    pub address: Option<String>,
}
