//! The port to the lease table: three conditional writes and a strongly consistent read.

use std::future::Future;

use super::item::LeaseItem;

/// Why a table call did not do what it asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    /// The write's condition did not hold: someone else wrote the item first.
    #[error("the lease item changed meanwhile")]
    ConditionFailed,
    /// The call failed or got no answer; whether a write landed is unknown.
    #[error("lease table: {0}")]
    Unavailable(String),
}

/// The table of lease items, keyed by target.
pub trait LeaseTable: Send + Sync + 'static {
    /// A strongly consistent read of the target's item.
    fn get(
        &self,
        target: &str,
    ) -> impl Future<Output = Result<Option<LeaseItem>, TableError>> + Send;
    /// Writes the item only if the target has none.
    fn put_new(&self, item: &LeaseItem) -> impl Future<Output = Result<(), TableError>> + Send;
    /// Replaces the target's item only if it still carries `expected`.
    fn replace(
        &self,
        expected: &str,
        item: &LeaseItem,
    ) -> impl Future<Output = Result<(), TableError>> + Send;
    /// Deletes the target's item only if it still carries `expected`.
    fn delete(
        &self,
        target: &str,
        expected: &str,
    ) -> impl Future<Output = Result<(), TableError>> + Send;
}
