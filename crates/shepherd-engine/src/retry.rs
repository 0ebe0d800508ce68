//! The one retry policy for AWS calls: exponential backoff with full jitter, honouring the
//! delay AWS asks for when it throttles.

use std::time::Duration;

use rand::Rng;
use shepherd_core::cloud::CloudError;

/// How often and how patiently to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(20),
        }
    }
}

/// Attempts at an endpoint where nothing answers, before giving up.
pub const UNREACHABLE_ATTEMPTS: u32 = 3;

impl RetryPolicy {
    /// The delay before attempt `attempt + 1` after `error`, or `None` to give up.
    pub fn delay(&self, attempt: u32, error: &CloudError) -> Option<Duration> {
        if !error.is_retryable() || attempt + 1 >= self.max_attempts {
            return None;
        }
        // Nothing listens there: a few quick tries cover a blip; more only delay the
        // message that the endpoint is wrong or the network is down.
        if matches!(error, CloudError::Unreachable { .. }) && attempt + 1 >= UNREACHABLE_ATTEMPTS {
            return None;
        }
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt))
            .min(self.max_delay);
        // Full jitter: many functions retrying at once spread out instead of colliding.
        let jittered = rand::rng().random_range(Duration::ZERO..=ceiling);
        let asked = match error {
            CloudError::Throttled {
                retry_after: Some(after),
                ..
            } => *after,
            _ => Duration::ZERO,
        };
        Some(jittered.max(asked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shepherd_core::cloud::Api;

    #[test]
    fn backs_off_within_bounds_and_gives_up() {
        let policy = RetryPolicy::default();
        let throttled = CloudError::Throttled {
            api: Api::UpdateAlias,
            retry_after: None,
        };
        for attempt in 0..7 {
            let delay = policy.delay(attempt, &throttled).unwrap();
            assert!(delay <= Duration::from_millis(200) * 2u32.pow(attempt));
        }
        assert_eq!(policy.delay(7, &throttled), None);
        let rejected = CloudError::Rejected {
            api: Api::CreateFunction,
            code: "InvalidParameterValueException".into(),
            message: "bad".into(),
        };
        assert_eq!(policy.delay(0, &rejected), None);
    }

    #[test]
    fn honours_retry_after() {
        let policy = RetryPolicy::default();
        let throttled = CloudError::Throttled {
            api: Api::UpdateAlias,
            retry_after: Some(Duration::from_secs(3)),
        };
        assert!(policy.delay(0, &throttled).unwrap() >= Duration::from_secs(3));
    }
}
