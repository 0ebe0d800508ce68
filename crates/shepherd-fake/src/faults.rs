//! Call accounting and injected failures: what the fake does around every call, before
//! and after the handler runs.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use shepherd_core::cloud::{Api, CloudError};

#[derive(Debug, Default)]
pub(super) struct Faults {
    /// Every call, by AWS API name, in order.
    pub calls: Vec<Api>,
    /// APIs the endpoint does not implement (the local emulator lacks some).
    pub unsupported: BTreeSet<Api>,
    /// Calls left to throttle, whatever the API.
    pub throttles: usize,
    /// Errors returned instead of performing the call, per API, in order.
    pub before: BTreeMap<Api, VecDeque<CloudError>>,
    /// Errors returned after performing the call, per API: the write happened, but the
    /// caller does not learn it (a timeout after AWS applied the request).
    pub after: BTreeMap<Api, VecDeque<CloudError>>,
}

impl Faults {
    /// Records the call; the error to return instead of performing it, if any.
    pub(super) fn before_call(&mut self, api: Api) -> Option<CloudError> {
        self.calls.push(api);
        if self.unsupported.contains(&api) {
            return Some(CloudError::Unsupported { api });
        }
        if self.throttles > 0 {
            self.throttles -= 1;
            return Some(CloudError::Throttled {
                api,
                retry_after: None,
            });
        }
        self.before.get_mut(&api)?.pop_front()
    }

    /// The error to return although the call succeeded, if any.
    pub(super) fn after_call(&mut self, api: Api) -> Option<CloudError> {
        self.after.get_mut(&api)?.pop_front()
    }

    pub(super) fn queue(
        queues: &mut BTreeMap<Api, VecDeque<CloudError>>,
        api: Api,
        error: CloudError,
        times: usize,
    ) {
        queues
            .entry(api)
            .or_default()
            .extend(std::iter::repeat_n(error, times));
    }
}
