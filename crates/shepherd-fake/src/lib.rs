//! An in-memory [`Cloud`](shepherd_core::cloud::Cloud) for logic tests of the planner, the
//! executor and rollouts: one AWS account (`123456789012`) in `us-east-1`, faithful to how
//! AWS behaves where shepherd depends on it, not to the local emulator (which accepts
//! requests AWS refuses; see `AWS-FACTS.md`).
//!
//! What it enforces, as Lambda and CloudWatch do:
//! - a new function is `Pending`, an updated one `InProgress`, for a few reads; meanwhile
//!   code and configuration updates and `PublishVersion` fail with a conflict;
//! - `PublishVersion` with nothing changed returns the last version; the `CodeSha256`
//!   precondition; version numbers are never reused; a version an alias routes to cannot
//!   be deleted;
//! - alias routing: one additional published version (never `$LATEST`), weight 0-1, same
//!   role and dead-letter config, and never together with provisioned concurrency;
//! - provisioned concurrency: on a version or alias, one config per version, within the
//!   reserved concurrency; IN_PROGRESS for a few reads, then READY (or FAILED);
//! - the limits of configurations, async configs, SQS mappings, tags and alarms;
//! - `DescribeAlarms` and `DeleteAlarms` take at most 100 names; `DeleteAlarms` deletes
//!   nothing when a name does not exist.
//!
//! The fake has no clock: Lambda's background work ends after a number of reads
//! ([`FakeCloud::set_settle_reads`], [`FakeCloud::set_provisioned_reads`]), so a test
//! decides exactly how long a wait lasts. Faults are injected per call
//! ([`FakeCloud::fail_next`], [`FakeCloud::throttle_next`], [`FakeCloud::unsupported`]),
//! and every call is recorded by its AWS API name ([`FakeCloud::calls`]).
//!
//! Clones share one account, so a test keeps a handle while the code under test owns
//! another. Methods never await anything: `futures::executor::block_on` drives them.
//!
//! ```
//! use shepherd_core::cloud::{Api, Functions};
//! use shepherd_fake::FakeCloud;
//!
//! let cloud = FakeCloud::new();
//! let found = futures::executor::block_on(cloud.get_function("orders"));
//! assert_eq!(found, Ok(None));
//! assert_eq!(cloud.calls(), [Api::GetFunction]);
//! ```

mod alarms;
mod aliases;
mod api;
mod faults;
mod functions;
mod inspect;
mod invoke;
mod leases;
mod running;
mod state;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use faults::Faults;
pub use leases::MemoryLeases;
use shepherd_core::cloud::{Api, CloudError, CloudResult};
pub use state::{ACCOUNT, FakeFunction, FakeVersion, REGION, function_arn};
use state::{Outcome, World};

/// The fake account. See the [module documentation](self).
#[derive(Debug, Clone, Default)]
pub struct FakeCloud {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    world: World,
    faults: Faults,
}

impl FakeCloud {
    /// An empty account. New functions settle after one `GetFunction`, provisioned
    /// concurrency after one read.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A test that panicked while holding the lock leaves consistent state behind: every
        // handler validates before it writes.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the call, applies injected faults, then runs the handler.
    fn call<T>(&self, api: Api, handler: impl FnOnce(&mut World) -> Outcome<T>) -> CloudResult<T> {
        let mut inner = self.lock();
        if let Some(error) = inner.faults.before_call(api) {
            return Err(error);
        }
        let value = handler(&mut inner.world).map_err(|refusal| refusal.into_error(api))?;
        match inner.faults.after_call(api) {
            Some(error) => Err(error),
            None => Ok(value),
        }
    }

    // Knobs.

    /// How many `GetFunction` reads a new function stays `Pending` and an update stays
    /// `InProgress` (default 1; 0 settles at once). Applies to later creations and updates.
    pub fn set_settle_reads(&self, reads: usize) {
        self.lock().world.knobs.settle_reads = reads;
    }

    /// How many reads (`Get`/`ListProvisionedConcurrencyConfigs`) a provisioned
    /// concurrency allocation stays IN_PROGRESS (default 1; 0 is READY at once).
    pub fn set_provisioned_reads(&self, reads: usize) {
        self.lock().world.knobs.provisioned_reads = reads;
    }

    /// The next `UpdateFunctionCode` or `UpdateFunctionConfiguration` ends `Failed` with
    /// `reason`; the previous code and configuration stay in effect.
    pub fn fail_next_update(&self, reason: impl Into<String>) {
        self.lock().world.knobs.fail_next_update = Some(reason.into());
    }

    /// Makes the endpoint keep something else than it is sent, as AWS does when it
    /// normalises a value and the emulator does for fields it ignores: `keep` rewrites
    /// every configuration written, before it is stored.
    pub fn set_keeps(&self, keep: fn(&mut shepherd_core::model::FunctionConfig)) {
        self.lock().world.knobs.keeps = Some(keep);
    }

    /// The next `PutProvisionedConcurrencyConfig` ends FAILED with `reason`.
    pub fn fail_next_provisioned(&self, reason: impl Into<String>) {
        self.lock().world.knobs.fail_next_provisioned = Some(reason.into());
    }

    // Faults.

    /// The next `times` calls of `api` (an AWS API name, e.g. `"UpdateFunctionCode"`)
    /// return `error` without doing anything. Queued after earlier injections.
    pub fn fail_next(&self, api: Api, error: CloudError, times: usize) {
        Faults::queue(&mut self.lock().faults.before, api, error, times);
    }

    /// The next `times` successful calls of `api` take effect but return `error`: the
    /// answer was lost (a timeout after AWS applied the request).
    pub fn fail_next_after_write(&self, api: Api, error: CloudError, times: usize) {
        Faults::queue(&mut self.lock().faults.after, api, error, times);
    }

    /// The next `times` calls, whatever their API, are throttled.
    pub fn throttle_next(&self, times: usize) {
        self.lock().faults.throttles = times;
    }

    /// From now on `api` returns [`CloudError::Unsupported`], as the local emulator does for
    /// the APIs it lacks.
    pub fn unsupported(&self, api: Api) {
        self.lock().faults.unsupported.insert(api);
    }

    /// Forgets every injected fault and unsupported API.
    pub fn clear_faults(&self) {
        let mut inner = self.lock();
        let calls = std::mem::take(&mut inner.faults.calls);
        inner.faults = Faults {
            calls,
            ..Faults::default()
        };
    }

    // Call accounting.

    /// Every call so far, by AWS API name, in order.
    pub fn calls(&self) -> Vec<Api> {
        self.lock().faults.calls.clone()
    }

    /// The calls that change something in AWS, in order.
    pub fn write_calls(&self) -> Vec<Api> {
        self.lock()
            .faults
            .calls
            .iter()
            .copied()
            .filter(|api| api.is_write())
            .collect()
    }

    /// How many calls of `api` were made.
    pub fn call_count(&self, api: Api) -> usize {
        self.lock()
            .faults
            .calls
            .iter()
            .filter(|c| **c == api)
            .count()
    }

    pub fn reset_calls(&self) {
        self.lock().faults.calls.clear();
    }
}
