//! Lanes: which work a call serves, in the order the budget serves it. A rollback's reads
//! and alias write never wait behind a fleet deploy, and a deploy never waits behind the
//! routine drift checks.
//!
//! The lane travels with the work, not with each call: [`in_lane`] runs a future (a
//! reconcile, an alarm check) with every AWS call it makes in one lane, so no port needs a
//! lane argument.

use std::future::Future;

/// The lanes, first served first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lane {
    /// A rollback: the alarm reads that lead to it and its alias write.
    Rollback,
    /// Rollouts in flight: their next steps and pause checks.
    InFlight,
    /// New releases: a commit, a webhook, a deploy request, a command-line apply.
    Release,
    /// Routine drift checks: the resync, full refreshes, the prune step.
    Routine,
}

impl Lane {
    pub const ALL: [Lane; 4] = [Lane::Rollback, Lane::InFlight, Lane::Release, Lane::Routine];

    pub(super) fn index(self) -> usize {
        self as usize
    }

    /// A bounded label for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            Lane::Rollback => "rollback",
            Lane::InFlight => "in_flight",
            Lane::Release => "release",
            Lane::Routine => "routine",
        }
    }
}

tokio::task_local! {
    static LANE: Lane;
}

/// Runs `future` with the AWS calls it makes in `lane`.
pub async fn in_lane<F: Future>(lane: Lane, future: F) -> F::Output {
    LANE.scope(lane, future).await
}

/// Runs `future` in `lane` or in the caller's lane, whichever comes first: a rollback's
/// alias write jumps ahead even inside a routine reconcile, and nothing is ever demoted.
pub async fn at_least<F: Future>(lane: Lane, future: F) -> F::Output {
    in_lane(lane.min(current()), future).await
}

/// The lane of the work being done: [`Lane::Release`] outside any [`in_lane`].
pub fn current() -> Lane {
    LANE.try_with(|lane| *lane).unwrap_or(Lane::Release)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_lane_travels_with_the_work_and_is_never_lowered() {
        assert_eq!(current(), Lane::Release);
        in_lane(Lane::Routine, async {
            assert_eq!(current(), Lane::Routine);
            at_least(Lane::Rollback, async {
                assert_eq!(current(), Lane::Rollback)
            })
            .await;
            assert_eq!(current(), Lane::Routine);
        })
        .await;
        in_lane(Lane::Rollback, async {
            at_least(Lane::Routine, async {
                assert_eq!(current(), Lane::Rollback)
            })
            .await;
        })
        .await;
    }
}
