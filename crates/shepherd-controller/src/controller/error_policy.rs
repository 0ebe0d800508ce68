//! The control loop's one error policy, as kube-runtime's `error_policy` is: what the cause
//! of a failed reconcile means for when the function is reconciled again.
//!
//! A failure that can go away by itself (throttling, an AWS server error, no answer, a
//! function busy with another update, a wait that ran out) is retried with exponential
//! backoff, sooner than the next resync; one that cannot (AWS refused the request, the
//! code could not be packaged, the function is in state Failed) waits for the next commit
//! or resync, since trying again at once would only spend the call budget.

use std::time::Duration;

use shepherd_core::cloud::CloudError;
use shepherd_engine::execute::ExecuteError;

/// The wait before the first retry.
pub(crate) const FIRST_RETRY: Duration = Duration::from_secs(5);
/// The longest wait between retries.
pub(crate) const MAX_RETRY: Duration = Duration::from_secs(300);

/// When to reconcile again after the `attempt`th failure in a row (1 for the first), or
/// `None` when the failure will not go away by itself. `cause` is `None` when the failure
/// is not AWS's or the executor's (the code could not be packaged).
pub(crate) fn retry_after(cause: Option<&ExecuteError>, attempt: u32) -> Option<Duration> {
    let hint = match cause? {
        ExecuteError::Cloud(error) => match error {
            CloudError::Throttled { retry_after, .. } => Some(retry_after.unwrap_or_default()),
            CloudError::Server { .. }
            | CloudError::Transport { .. }
            | CloudError::Unreachable { .. }
            | CloudError::Conflict { .. } => Some(Duration::ZERO),
            CloudError::AlreadyExists { .. }
            | CloudError::NotFound { .. }
            | CloudError::PreconditionFailed { .. }
            | CloudError::Unsupported { .. }
            | CloudError::Fenced { .. }
            | CloudError::Rejected { .. } => None,
        },
        // The function settles, or allocates, in its own time; one that vanished mid-plan
        // is created again by the next reconcile.
        ExecuteError::Timeout { .. }
        | ExecuteError::Disappeared { .. }
        | ExecuteError::ProvisionedVanished { .. } => Some(Duration::ZERO),
        ExecuteError::Missing { .. }
        | ExecuteError::FunctionFailed { .. }
        | ExecuteError::UpdateFailed { .. }
        | ExecuteError::ProvisionedFailed { .. }
        | ExecuteError::NothingPublished
        | ExecuteError::CanaryIsStable { .. }
        | ExecuteError::NoLongerOurs { .. }
        | ExecuteError::HookNotRunnable { .. }
        | ExecuteError::InvalidOwner(_) => None,
    }?;
    let doublings = attempt.saturating_sub(1).min(16);
    let backoff = FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY);
    Some(backoff.max(hint))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shepherd_core::cloud::Api;

    fn throttled(retry_after: Option<Duration>) -> ExecuteError {
        ExecuteError::Cloud(CloudError::Throttled {
            api: Api::UpdateFunctionCode,
            retry_after,
        })
    }

    #[test]
    fn transient_failures_back_off_exponentially_up_to_a_ceiling() {
        let busy = ExecuteError::Cloud(CloudError::Conflict {
            api: Api::UpdateFunctionCode,
            message: "busy".into(),
        });
        let waits: Vec<_> = (1..=9)
            .map(|n| retry_after(Some(&busy), n).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            waits,
            [5, 10, 20, 40, 80, 160, 300, 300, 300].map(Some),
            "doubling from 5 s, at most 5 min"
        );
        assert_eq!(retry_after(Some(&throttled(None)), 1), Some(FIRST_RETRY));
    }

    #[test]
    fn aws_asking_for_a_longer_wait_is_obeyed() {
        let asked = Duration::from_secs(42);
        assert_eq!(retry_after(Some(&throttled(Some(asked))), 1), Some(asked));
        assert_eq!(
            retry_after(Some(&throttled(Some(asked))), 5),
            Some(Duration::from_secs(80))
        );
    }

    #[test]
    fn failures_that_do_not_go_away_wait_for_the_next_change_or_resync() {
        let refused = ExecuteError::Cloud(CloudError::Rejected {
            api: Api::UpdateFunctionConfiguration,
            code: "InvalidParameterValueException".into(),
            message: "bad".into(),
        });
        assert_eq!(retry_after(Some(&refused), 1), None);
        let failed = ExecuteError::FunctionFailed {
            reason: "the role cannot be assumed".into(),
        };
        assert_eq!(retry_after(Some(&failed), 1), None);
        assert_eq!(
            retry_after(None, 1),
            None,
            "code that could not be packaged"
        );
    }
}
