//! shepherd's long-running controller (`shepherd run`): reads the spec repository (git or
//! a folder), feeds every trigger (resync timer, git poll, webhook, SQS) into one keyed
//! work queue, reconciles with the engine, and serves health, status, the rollout commands
//! and Prometheus metrics over HTTP.

pub mod controller;
pub mod drift_events;
pub mod fleet;
pub mod handle;
pub mod leader;
pub mod metrics;
pub mod queue;
pub mod server;
pub mod source;
pub mod triggers;
