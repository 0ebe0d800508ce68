//! The narrow interface to AWS: only the calls shepherd makes, one trait per resource
//! (functions, aliases, concurrency, event sources, queues, S3 objects, ECR images,
//! alarms, canary metrics) and [`Cloud`], the umbrella the engine is written against. The AWS SDK
//! adapter and the in-memory fake both implement every trait.
//!
//! - `api`: the [`Api`] enum, every call by name, service, budget class and kind.
//! - `error`: [`CloudError`], the kinds of failure.
//! - `ports`: the traits.

mod api;
mod error;
mod ports;

pub use api::{Api, CallClass};
pub use error::{CloudError, CloudResult};
pub use ports::*;
