//! Counts of AWS calls by API and outcome: for the run summary, metrics and tests that
//! assert "zero writes".

use std::collections::BTreeMap;
use std::sync::Mutex;

use shepherd_core::cloud::{Api, CloudError};

/// Thread-safe call counters.
#[derive(Debug, Default)]
pub struct CallStats {
    counts: Mutex<BTreeMap<(Api, &'static str), u64>>,
}

impl CallStats {
    pub fn record<T>(&self, api: Api, result: &Result<T, CloudError>) {
        let outcome = match result {
            Ok(_) => "ok",
            Err(e) => e.metric_label(),
        };
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *counts.entry((api, outcome)).or_default() += 1;
    }

    /// Every `(api, outcome, count)`.
    pub fn snapshot(&self) -> Vec<(Api, &'static str, u64)> {
        let counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        counts
            .iter()
            .map(|(&(api, outcome), &n)| (api, outcome, n))
            .collect()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().iter().map(|(_, _, n)| n).sum()
    }

    /// Write calls attempted (whatever their outcome).
    pub fn writes(&self) -> u64 {
        self.snapshot()
            .iter()
            .filter(|(api, _, _)| api.is_write())
            .map(|(_, _, n)| n)
            .sum()
    }

    pub fn reads(&self) -> u64 {
        self.total() - self.writes()
    }

    /// Calls that AWS throttled.
    pub fn throttles(&self) -> u64 {
        self.snapshot()
            .iter()
            .filter(|(_, o, _)| *o == "throttled")
            .map(|(_, _, n)| n)
            .sum()
    }

    pub fn reset(&self) {
        self.counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
