//! Progress events for long work, so that `shepherd apply` can say which function, which
//! step, and what it waits for.

use shepherd_core::plan::Action;

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
