//! Leader leases: which replica acts for a target, decided through one item per target in
//! a table with conditional writes (DynamoDB in production), the design of the
//! amazon-dynamodb-lock-client. Nothing here reads a clock: times are given as offsets on
//! the caller's own monotonic clock, and no decision compares times taken by two
//! machines.
//!
//! - The holder renews its lease every heartbeat by replacing the item on condition that
//!   it still carries the version the holder last wrote, with a new version.
//! - A contender reads the item every heartbeat and takes it over only after it has seen
//!   the same version for a whole lease duration, measured on its own clock from the read
//!   that first showed that version.
//! - The holder acts only while its lease is valid on its own clock: until the time it
//!   sent its last successful write, plus the lease duration, less a margin. That moment
//!   always comes before any contender can take over (a contender's wait starts after the
//!   write landed, so after it was sent), which is what fences a holder that was paused or
//!   cut off: when it wakes up, its lease has already run out on its own clock.
//!
//! - `item`: the stored lease item.
//! - `elector`: the state machine of one replica for one target.
//! - `table`: the port to the table.

mod elector;
mod item;
mod table;

pub use elector::{Elector, Intent, LeaseSettings, Role};
pub use item::LeaseItem;
pub use table::{LeaseTable, TableError};
