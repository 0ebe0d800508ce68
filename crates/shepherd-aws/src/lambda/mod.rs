//! The Lambda calls, by resource: `functions`, `versions` (and aliases), `concurrency`,
//! `invocation` (async config, event source mappings). Each function makes one API call (a
//! `List*` makes one call per page), so that shepherd's call budget sees every request; the
//! exception is [`list_managed_functions`], documented there.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::types as lt;
use shepherd_core::cloud::{CloudError, CloudResult};
use shepherd_core::model::{
    AsyncConfig, CodeArtifact, FunctionConfig, ManagedFunction, MappingConfig, ObservedAlias,
    ObservedFunction, ObservedMapping, ObservedVersion, Package, ProvisionedConcurrency, Readable,
    tags,
};
use shepherd_core::spec::{Architecture, RecursiveLoop};

use crate::CONNECT_TIMEOUT;
use crate::convert::{self, to_i32, to_u32};
use crate::error::{from_sdk, incomplete, invalid_request};

mod concurrency;
mod functions;
mod invocation;
mod versions;

pub(crate) use concurrency::*;
pub(crate) use functions::*;
pub(crate) use invocation::*;
pub(crate) use versions::*;

/// Turns "does not exist" into `None`, for reads of optional resources.
fn absent_as_none<T>(result: CloudResult<T>) -> CloudResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(CloudError::NotFound { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}
