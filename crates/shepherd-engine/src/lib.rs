//! shepherd's reconcile engine: packages code, observes AWS, plans with the core planner
//! and executes the plan, every AWS call within the shared budget and under one retry
//! policy. Generic over the `Cloud` trait: the AWS adapter in production, the in-memory
//! fake in tests.

pub mod apply;
pub mod budget;
pub mod clock;
pub mod execute;
pub mod gates;
pub mod metered;
pub mod observe;
pub mod operator;
pub mod package;
pub mod progress;
pub mod reconcile;
pub mod retry;
pub mod rollouts;
pub mod settle;
pub mod stats;
