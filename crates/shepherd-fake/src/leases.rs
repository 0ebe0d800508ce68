//! A lease table in memory, with the conditional writes of DynamoDB's: for the lease
//! task's and the controller's tests in virtual time. It can be made unavailable, as a
//! table is when the network to it fails.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use shepherd_core::lease::{LeaseItem, LeaseTable, TableError};

/// One table's items, shared by every clone.
#[derive(Clone, Default)]
pub struct MemoryLeases {
    items: Arc<Mutex<Vec<LeaseItem>>>,
    unavailable: Arc<AtomicBool>,
    reads: Arc<AtomicUsize>,
    writes: Arc<AtomicUsize>,
}

impl MemoryLeases {
    /// Who holds `target` as the table says.
    pub fn holder(&self, target: &str) -> Option<String> {
        self.item(target).map(|i| i.holder)
    }

    pub fn item(&self, target: &str) -> Option<LeaseItem> {
        self.lock().iter().find(|i| i.target == target).cloned()
    }

    /// Every call fails (as `Unavailable`) while set.
    pub fn set_unavailable(&self, unavailable: bool) {
        self.unavailable.store(unavailable, Ordering::SeqCst);
    }

    /// Reads and writes tried so far (refused ones too).
    pub fn calls(&self) -> (usize, usize) {
        (
            self.reads.load(Ordering::SeqCst),
            self.writes.load(Ordering::SeqCst),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<LeaseItem>> {
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn available(&self, write: bool) -> Result<(), TableError> {
        let counter = if write { &self.writes } else { &self.reads };
        counter.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(TableError::Unavailable("the table is unreachable".into()));
        }
        Ok(())
    }

    /// Writes `item` where `condition` holds of the stored one.
    fn write_if(
        &self,
        target: &str,
        item: Option<&LeaseItem>,
        condition: impl Fn(Option<&LeaseItem>) -> bool,
    ) -> Result<(), TableError> {
        self.available(true)?;
        let mut items = self.lock();
        let at = items.iter().position(|i| i.target == target);
        if !condition(at.map(|at| &items[at])) {
            return Err(TableError::ConditionFailed);
        }
        match (at, item) {
            (Some(at), Some(item)) => items[at] = item.clone(),
            (Some(at), None) => {
                items.remove(at);
            }
            (None, Some(item)) => items.push(item.clone()),
            (None, None) => {}
        }
        Ok(())
    }
}

impl LeaseTable for MemoryLeases {
    async fn get(&self, target: &str) -> Result<Option<LeaseItem>, TableError> {
        self.available(false)?;
        Ok(self.item(target))
    }

    async fn put_new(&self, item: &LeaseItem) -> Result<(), TableError> {
        self.write_if(&item.target, Some(item), |stored| stored.is_none())
    }

    async fn replace(&self, expected: &str, item: &LeaseItem) -> Result<(), TableError> {
        self.write_if(&item.target, Some(item), |stored| {
            stored.is_some_and(|s| s.version == expected)
        })
    }

    async fn delete(&self, target: &str, expected: &str) -> Result<(), TableError> {
        self.write_if(target, None, |stored| {
            stored.is_some_and(|s| s.version == expected)
        })
    }
}
