//! The client-side budget of AWS calls, shared by every function of an account and region.
//!
//! Lambda allows `GetFunction` 100 requests/s and all other control-plane calls together
//! 15/s. shepherd spends from token buckets sized to those quotas (configurable), so that a
//! fleet-wide apply runs at the quota instead of into throttling.

use std::sync::Mutex;
use std::time::Duration;

use shepherd_core::cloud::CallClass;
use tokio::time::Instant;

/// Calls per second for each class of call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub get_function: f64,
    pub lambda_control: f64,
    pub cloudwatch: f64,
}

impl Default for Rates {
    fn default() -> Self {
        Self {
            get_function: 100.0,
            lambda_control: 15.0,
            cloudwatch: 20.0,
        }
    }
}

/// A token bucket: `rate` tokens per second, holding at most one second's worth.
#[derive(Debug)]
struct Bucket {
    rate: f64,
    state: Mutex<(f64, Instant)>,
}

impl Bucket {
    fn new(rate: f64) -> Self {
        // Start empty rather than full: a burst at start would overshoot the quota the
        // account has left from other callers.
        Self {
            rate: rate.max(0.001),
            state: Mutex::new((1.0, Instant::now())),
        }
    }

    /// Takes one token now, or says how long until one is available.
    fn try_take(&self) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (tokens, last) = *state;
        let refilled =
            (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.rate.max(1.0));
        if refilled >= 1.0 {
            *state = (refilled - 1.0, now);
            Ok(())
        } else {
            *state = (refilled, now);
            // At least a millisecond: float rounding can leave a deficit (1e-16) whose wait
            // rounds to zero, and a zero sleep lets no time pass, so `acquire` would spin
            // (forever with a paused clock, as in tests).
            let wait = Duration::from_secs_f64((1.0 - refilled) / self.rate);
            Err(wait.max(Duration::from_millis(1)))
        }
    }

    async fn acquire(&self) {
        while let Err(wait) = self.try_take() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// The shared budget: one bucket per class of call.
#[derive(Debug)]
pub struct Budget {
    get_function: Bucket,
    lambda_control: Bucket,
    cloudwatch: Bucket,
}

impl Budget {
    pub fn new(rates: Rates) -> Self {
        Self {
            get_function: Bucket::new(rates.get_function),
            lambda_control: Bucket::new(rates.lambda_control),
            cloudwatch: Bucket::new(rates.cloudwatch),
        }
    }

    /// Waits until the call may be made.
    pub async fn acquire(&self, class: CallClass) {
        match class {
            CallClass::GetFunction => self.get_function.acquire().await,
            CallClass::LambdaControl => self.lambda_control.acquire().await,
            CallClass::CloudWatch => self.cloudwatch.acquire().await,
            CallClass::Sqs | CallClass::S3 | CallClass::Ecr => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn spends_at_the_configured_rate() {
        let budget = Budget::new(Rates {
            lambda_control: 15.0,
            ..Rates::default()
        });
        let start = Instant::now();
        for _ in 0..151 {
            budget.acquire(CallClass::LambdaControl).await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        // 1 token at start, then 15/s: 150 more take 10 s.
        assert!((9.9..10.1).contains(&elapsed), "took {elapsed}s");
    }

    #[tokio::test(start_paused = true)]
    async fn a_deficit_too_small_to_sleep_on_still_waits_a_little() {
        let bucket = Bucket::new(15.0);
        // What float rounding left behind once in a test that hung.
        *bucket.state.lock().unwrap() = (0.999_999_999_999_999_8, Instant::now());
        let wait = bucket.try_take().unwrap_err();
        assert!(wait >= Duration::from_millis(1), "{wait:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn classes_do_not_share_tokens() {
        let budget = Budget::new(Rates::default());
        let start = Instant::now();
        for _ in 0..101 {
            budget.acquire(CallClass::GetFunction).await;
        }
        budget.acquire(CallClass::LambdaControl).await;
        let elapsed = start.elapsed().as_secs_f64();
        assert!((0.99..1.01).contains(&elapsed), "took {elapsed}s");
    }
}
