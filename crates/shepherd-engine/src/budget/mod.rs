//! The client-side budget of AWS calls, shared by every function of an account and region.
//!
//! Lambda allows `GetFunction` 100 requests/s and all other control-plane calls together
//! 15/s. shepherd spends from token buckets sized to those quotas (configurable), so that a
//! fleet-wide apply runs at the quota instead of into throttling.
//!
//! Each bucket serves its waiters in order: by [`Lane`] (a rollback first, then rollouts in
//! flight, new releases, routine checks), and within a lane the work that began first
//! first, then first come, first served.
//!
//! - `lane`: the lanes, and how work carries its lane to the calls it makes.
//! - `order`: the place of a unit of work within its lane.
//! - `bucket`: the ordered token bucket.

mod bucket;
mod lane;
mod order;

pub use lane::{Lane, at_least, current, in_lane};
pub use order::first_come;

use bucket::Bucket;
use shepherd_core::cloud::CallClass;

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

/// The shared budget: one bucket per class of call.
#[derive(Debug)]
pub struct Budget {
    rates: Rates,
    routine_share: f64,
    get_function: Bucket,
    lambda_control: Bucket,
    cloudwatch: Bucket,
    /// The routine lane's own buckets, at `routine_share` of each rate: routine drift
    /// checks never take more than that, however much is idle.
    routine: [Bucket; 3],
}

/// The share of each rate the routine drift checks may use: two thirds stay for
/// releases, rollouts and rollbacks.
pub const ROUTINE_SHARE: f64 = 1.0 / 3.0;

impl Budget {
    pub fn new(rates: Rates) -> Self {
        Self::with_routine_share(rates, ROUTINE_SHARE)
    }

    /// A budget whose routine lane may use `share` (0 to 1) of each rate.
    pub fn with_routine_share(rates: Rates, share: f64) -> Self {
        let share = share.clamp(0.01, 1.0);
        Self {
            rates,
            routine_share: share,
            get_function: Bucket::new(rates.get_function),
            lambda_control: Bucket::new(rates.lambda_control),
            cloudwatch: Bucket::new(rates.cloudwatch),
            routine: [
                Bucket::new(rates.get_function * share),
                Bucket::new(rates.lambda_control * share),
                Bucket::new(rates.cloudwatch * share),
            ],
        }
    }

    pub fn rates(&self) -> Rates {
        self.rates
    }

    pub fn routine_share(&self) -> f64 {
        self.routine_share
    }

    /// Waits until a call of `class` may be made, in the lane of the work being done.
    pub async fn acquire(&self, class: CallClass) {
        self.acquire_in(class, current()).await;
    }

    /// Waits until a call of `class` may be made in `lane`.
    pub async fn acquire_in(&self, class: CallClass, lane: Lane) {
        let place = order::place();
        if lane == Lane::Routine {
            match class {
                CallClass::GetFunction => self.routine[0].acquire(lane, place).await,
                CallClass::LambdaControl => self.routine[1].acquire(lane, place).await,
                CallClass::CloudWatch => self.routine[2].acquire(lane, place).await,
                CallClass::Sqs | CallClass::S3 | CallClass::Ecr | CallClass::Invoke => {}
            }
        }
        match class {
            CallClass::GetFunction => self.get_function.acquire(lane, place).await,
            CallClass::LambdaControl => self.lambda_control.acquire(lane, place).await,
            CallClass::CloudWatch => self.cloudwatch.acquire(lane, place).await,
            CallClass::Sqs | CallClass::S3 | CallClass::Ecr | CallClass::Invoke => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use tokio::time::Instant;

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
        bucket.set_tokens(0.999_999_999_999_999_8);
        let wait = bucket.deficit_wait();
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

    /// Starts a task that takes one Lambda token in `lane` and records `id` when served;
    /// returns once the task waits in the queue.
    async fn waiter(
        budget: &Arc<Budget>,
        served: &Arc<Mutex<Vec<usize>>>,
        id: usize,
        lane: Lane,
    ) -> tokio::task::JoinHandle<()> {
        let (budget, served) = (Arc::clone(budget), Arc::clone(served));
        let task = tokio::spawn(async move {
            budget.acquire_in(CallClass::LambdaControl, lane).await;
            served.lock().unwrap().push(id);
        });
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        task
    }

    /// A budget of `rate` Lambda calls a second with its first token spent (the next
    /// caller waits), and a record of the order waiters are served in.
    async fn drained(rate: f64) -> (Arc<Budget>, Arc<Mutex<Vec<usize>>>) {
        let budget = Arc::new(Budget::new(Rates {
            lambda_control: rate,
            ..Rates::default()
        }));
        budget.acquire(CallClass::LambdaControl).await;
        (budget, Arc::new(Mutex::new(Vec::new())))
    }

    #[tokio::test(start_paused = true)]
    async fn waiters_are_served_first_come_first_served_within_a_lane() {
        let (budget, served) = drained(2.0).await;
        let mut tasks = Vec::new();
        for id in 0..20 {
            tasks.push(waiter(&budget, &served, id, Lane::Release).await);
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(*served.lock().unwrap(), (0..20).collect::<Vec<_>>());
    }

    #[tokio::test(start_paused = true)]
    async fn work_that_began_first_is_served_first_though_it_asks_later() {
        let (budget, served) = drained(1.0).await;
        // A function's reconcile begins, reads something elsewhere for a moment, then makes
        // five calls one after the other.
        let (b, s) = (Arc::clone(&budget), Arc::clone(&served));
        let begun = tokio::spawn(first_come(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            for _ in 0..5 {
                b.acquire(CallClass::LambdaControl).await;
                s.lock().unwrap().push(100);
            }
        }));
        tokio::task::yield_now().await;
        // Meanwhile five calls of work that began later queue up first.
        let mut later = Vec::new();
        for id in 0..5 {
            later.push(waiter(&budget, &served, id, Lane::Release).await);
        }
        begun.await.unwrap();
        for task in later {
            task.await.unwrap();
        }
        assert_eq!(
            *served.lock().unwrap(),
            [100, 100, 100, 100, 100, 0, 1, 2, 3, 4],
            "the work begun first finishes before later work takes a token"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_rollback_goes_ahead_of_every_routine_call_waiting() {
        let (budget, served) = drained(1.0).await;
        let mut tasks = Vec::new();
        for id in 0..5 {
            tasks.push(waiter(&budget, &served, id, Lane::Routine).await);
        }
        tasks.push(waiter(&budget, &served, 100, Lane::Release).await);
        tasks.push(waiter(&budget, &served, 200, Lane::InFlight).await);
        tasks.push(waiter(&budget, &served, 300, Lane::Rollback).await);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            *served.lock().unwrap(),
            [300, 200, 100, 0, 1, 2, 3, 4],
            "by lane, then in order of arrival"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_rollback_waits_for_one_token_at_most_however_long_the_queue() {
        let (budget, served) = drained(15.0).await;
        let mut routine = Vec::new();
        for id in 0..1000 {
            routine.push(waiter(&budget, &served, id, Lane::Routine).await);
        }
        let start = Instant::now();
        budget
            .acquire_in(CallClass::LambdaControl, Lane::Rollback)
            .await;
        let waited = start.elapsed();
        assert!(waited <= Duration::from_millis(70), "waited {waited:?}");
        for task in routine {
            task.abort();
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_caller_that_gives_up_leaves_the_queue() {
        let (budget, served) = drained(1.0).await;
        let first = waiter(&budget, &served, 0, Lane::Release).await;
        let second = waiter(&budget, &served, 1, Lane::Release).await;
        first.abort();
        let start = Instant::now();
        second.await.unwrap();
        assert_eq!(*served.lock().unwrap(), [1]);
        // The second takes the first token that comes, as if the first had never asked.
        assert!(
            start.elapsed() <= Duration::from_millis(1001),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn routine_checks_use_their_share_of_the_rate_and_no_more() {
        let budget = Budget::new(Rates::default());
        let start = Instant::now();
        for _ in 0..51 {
            budget
                .acquire_in(CallClass::LambdaControl, Lane::Routine)
                .await;
        }
        // A third of 15/s: 50 calls after the first take 10 s, though the bucket is idle.
        let elapsed = start.elapsed().as_secs_f64();
        assert!((9.9..10.1).contains(&elapsed), "took {elapsed}s");
        // The other lanes are not held back by the routine share.
        let start = Instant::now();
        for _ in 0..15 {
            budget
                .acquire_in(CallClass::LambdaControl, Lane::Release)
                .await;
        }
        assert!(start.elapsed() <= Duration::from_millis(1001));
    }
}
