//! Progress events for long work, so that `shepherd apply` can say which function, which
//! step, and what it waits for.

use std::time::Duration;

use shepherd_core::plan::Action;

use crate::rollouts::RolloutStatus;

/// Something worth telling the person watching.
#[derive(Debug)]
pub enum Progress<'a> {
    Action {
        function: &'a str,
        action: &'a Action,
    },
    Waiting {
        function: &'a str,
        what: &'a str,
    },
    Failed {
        function: &'a str,
        error: &'a str,
    },
    /// A rollout moves on by itself: where it stands, and when it is looked at again.
    Rollout {
        status: &'a RolloutStatus,
        next_look: Duration,
    },
    /// A rollout waits for an operator (`shepherd promote`).
    Gate {
        function: &'a str,
    },
}

/// Receives progress events; must be cheap and must not block.
pub trait ProgressSink: Sync {
    fn report(&self, event: Progress<'_>);
}

/// Discards progress (tests, JSON output).
pub struct Silent;

impl ProgressSink for Silent {
    fn report(&self, _: Progress<'_>) {}
}
