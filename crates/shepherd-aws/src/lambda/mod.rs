//! The Lambda calls, by port: `functions` ([`Functions`]), `versions` ([`Aliases`]: versions
//! and aliases), `concurrency` ([`Concurrency`]), `invocation` ([`EventSources`]: async
//! config, event source mappings), `running` (`Invoke`). Each method makes one API call (a `List*` makes one call
//! per page), so that shepherd's call budget sees every request; the exception is
//! `list_managed_functions`, documented there.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::types as lt;
use shepherd_core::cloud::{
    Aliases, Api, CloudError, CloudResult, Concurrency, EventSources, Functions,
};
use shepherd_core::model::{
    AsyncConfig, CodeArtifact, FunctionBasics, FunctionConfig, ManagedFunction, MappingConfig,
    ObservedAlias, ObservedFunction, ObservedMapping, ObservedVersion, Package,
    ProvisionedConcurrency, tags,
};
use shepherd_core::spec::{Architecture, RecursiveLoop};

use crate::convert::{self, to_i32, to_u32};
use crate::error::{from_sdk, incomplete, invalid_request};
use crate::{AwsCloud, CONNECT_TIMEOUT};

mod concurrency;
mod functions;
mod invocation;
mod running;
mod versions;

/// Turns "does not exist" into `None`, for reads of optional resources.
fn absent_as_none<T>(result: CloudResult<T>) -> CloudResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(CloudError::NotFound { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}
