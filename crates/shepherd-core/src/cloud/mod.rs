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

/// The application name every AWS client of shepherd sends in its user agent
/// (`app/shepherd`): CloudTrail records it, which is how the drift queue tells
/// shepherd's own calls from changes made by anyone else.
pub const USER_AGENT_APP: &str = "shepherd";
