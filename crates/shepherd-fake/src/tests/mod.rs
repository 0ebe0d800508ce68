//! Tests of the fake against the AWS semantics it models, through the `Cloud` trait, plus
//! the helpers they share.

mod alarms;
mod aliases;
mod faults;
mod functions;
mod invoke;
mod provisioned;
mod running;
mod versions;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::executor::block_on;

use super::FakeCloud;
use shepherd_core::cloud::*;
use shepherd_core::model::{CodeArtifact, FunctionConfig, Package, tags};
use shepherd_core::spec::{Architecture, SnapStart, TracingMode};

pub(super) const NAME: &str = "orders";

pub(super) fn config() -> FunctionConfig {
    FunctionConfig {
        description: String::new(),
        role: "arn:aws:iam::123456789012:role/orders".to_owned(),
        package: Package::Zip {
            handler: "app.handler".to_owned(),
            runtime: "python3.12".to_owned(),
        },
        memory: 128,
        timeout_secs: 3,
        ephemeral_storage: 512,
        environment: BTreeMap::new(),
        kms_key_arn: None,
        vpc: None,
        tracing: TracingMode::PassThrough,
        logging: None,
        snap_start: SnapStart::Off,
        layers: Vec::new(),
        dead_letter_target: None,
    }
}

pub(super) fn zip(sha256: &str) -> CodeArtifact {
    CodeArtifact::Zip {
        sha256: sha256.to_owned(),
        bytes: Arc::new(Vec::new()),
    }
}

pub(super) fn managed() -> BTreeMap<String, String> {
    BTreeMap::from([(
        tags::MANAGED_BY.to_owned(),
        tags::MANAGED_BY_VALUE.to_owned(),
    )])
}

/// A cloud holding one settled function `NAME`, with no calls recorded.
pub(super) fn cloud_with_function() -> FakeCloud {
    let cloud = FakeCloud::new();
    create(&cloud, NAME);
    cloud
}

pub(super) fn create(cloud: &FakeCloud, name: &str) {
    block_on(cloud.create_function(
        name,
        &config(),
        Architecture::X86_64,
        &zip("sha-1"),
        &managed(),
    ))
    .expect("create");
    cloud.settle();
    cloud.reset_calls();
}

/// Changes `$LATEST` (memory), waits for the update and publishes: a new version.
pub(super) fn publish_new(cloud: &FakeCloud, name: &str) -> String {
    let mut config = cloud.function(name).expect("function").config;
    config.memory += 64;
    block_on(cloud.update_configuration(name, &config)).expect("update");
    cloud.settle();
    let version = block_on(cloud.publish_version(name, "", None)).expect("publish");
    cloud.reset_calls();
    version.version
}

/// The `code` of a `Rejected` error, or a panic naming what came instead.
pub(super) fn rejected_code<T: std::fmt::Debug>(result: Result<T, CloudError>) -> String {
    match result {
        Err(CloudError::Rejected { code, .. }) => code,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

pub(super) fn rejected_message<T: std::fmt::Debug>(result: Result<T, CloudError>) -> String {
    match result {
        Err(CloudError::Rejected { message, .. }) => message,
        other => panic!("expected Rejected, got {other:?}"),
    }
}
