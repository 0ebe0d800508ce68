use futures::executor::block_on;

use super::{NAME, cloud_with_function, publish_new, rejected_code, rejected_message};
use crate::FakeCloud;
use shepherd_core::cloud::*;
use shepherd_core::model::{ProvisionedConcurrency, ProvisionedStatus};

/// A function with version 1 and alias `live` on it.
fn with_alias() -> FakeCloud {
    let cloud = cloud_with_function();
    publish_new(&cloud, NAME);
    block_on(cloud.create_alias(NAME, "live", "1", "")).unwrap();
    cloud.reset_calls();
    cloud
}

fn status(cloud: &FakeCloud, qualifier: &str) -> (ProvisionedStatus, u32) {
    let pc = block_on(cloud.get_provisioned_concurrency(NAME, qualifier))
        .unwrap()
        .expect("config");
    (pc.status, pc.allocated)
}

#[test]
fn an_allocation_is_in_progress_for_the_configured_reads_then_ready() {
    let cloud = with_alias();
    cloud.set_provisioned_reads(2);
    block_on(cloud.put_provisioned_concurrency(NAME, "live", 5)).unwrap();
    assert_eq!(status(&cloud, "live"), (ProvisionedStatus::InProgress, 0));
    let listed = block_on(cloud.list_provisioned_concurrency(NAME)).unwrap();
    assert_eq!(
        listed[0].status,
        ProvisionedStatus::InProgress,
        "a list is a read too"
    );
    let ready = ProvisionedConcurrency {
        qualifier: "live".to_owned(),
        requested: 5,
        allocated: 5,
        status: ProvisionedStatus::Ready,
    };
    assert_eq!(
        block_on(cloud.list_provisioned_concurrency(NAME)).unwrap(),
        std::slice::from_ref(&ready)
    );
    assert_eq!(cloud.provisioned(NAME, "live"), Some(ready));
    assert_eq!(
        cloud.calls(),
        [
            Api::PutProvisionedConcurrencyConfig,
            Api::GetProvisionedConcurrencyConfig,
            Api::ListProvisionedConcurrencyConfigs,
            Api::ListProvisionedConcurrencyConfigs,
        ]
    );
}

#[test]
fn a_failed_allocation_reports_its_reason() {
    let cloud = with_alias();
    cloud.fail_next_provisioned("FUNCTION_ERROR_INIT_FAILURE");
    block_on(cloud.put_provisioned_concurrency(NAME, "live", 3)).unwrap();
    assert_eq!(status(&cloud, "live").0, ProvisionedStatus::InProgress);
    assert_eq!(
        status(&cloud, "live").0,
        ProvisionedStatus::Failed("FUNCTION_ERROR_INIT_FAILURE".to_owned())
    );
    // The knob applies once.
    block_on(cloud.put_provisioned_concurrency(NAME, "live", 3)).unwrap();
    cloud.settle();
    assert_eq!(status(&cloud, "live"), (ProvisionedStatus::Ready, 3));
}

#[test]
fn provisioned_concurrency_never_goes_on_latest_or_a_missing_qualifier() {
    let cloud = with_alias();
    let latest = block_on(cloud.put_provisioned_concurrency(NAME, "$LATEST", 1));
    assert_eq!(rejected_code(latest), "InvalidParameterValueException");
    let missing = block_on(cloud.put_provisioned_concurrency(NAME, "beta", 1));
    assert!(matches!(missing, Err(CloudError::NotFound { .. })));
    let missing_version = block_on(cloud.put_provisioned_concurrency(NAME, "4", 1));
    assert!(matches!(missing_version, Err(CloudError::NotFound { .. })));
    assert_eq!(
        block_on(cloud.get_provisioned_concurrency(NAME, "1")),
        Ok(None)
    );
    assert!(block_on(cloud.get_provisioned_concurrency(NAME, "beta")).is_err());
    let delete = block_on(cloud.delete_provisioned_concurrency(NAME, "live"));
    assert!(matches!(
        delete,
        Err(CloudError::NotFound {
            api: Api::DeleteProvisionedConcurrencyConfig,
            ..
        })
    ));
}

#[test]
fn provisioned_concurrency_counts_against_reserved_concurrency() {
    let cloud = with_alias();
    publish_new(&cloud, NAME);
    block_on(cloud.put_reserved_concurrency(NAME, Some(10))).unwrap();
    block_on(cloud.put_provisioned_concurrency(NAME, "live", 10)).unwrap();
    let over = block_on(cloud.put_provisioned_concurrency(NAME, "2", 1));
    assert!(rejected_message(over).contains("reserved concurrency"));
    // Replacing a config counts its new size, not both.
    block_on(cloud.put_provisioned_concurrency(NAME, "live", 4)).unwrap();
    block_on(cloud.put_provisioned_concurrency(NAME, "2", 6)).unwrap();
    assert!(block_on(cloud.put_provisioned_concurrency(NAME, "live", 5)).is_err());
}

#[test]
fn a_version_has_one_config_whether_set_on_it_or_on_its_alias() {
    let cloud = with_alias();
    block_on(cloud.put_provisioned_concurrency(NAME, "live", 2)).unwrap();
    let clash = block_on(cloud.put_provisioned_concurrency(NAME, "1", 2));
    assert_eq!(rejected_code(clash), "ResourceConflictException");
}

#[test]
fn moving_an_alias_allocates_its_provisioned_concurrency_again() {
    let cloud = with_alias();
    publish_new(&cloud, NAME);
    block_on(cloud.put_provisioned_concurrency(NAME, "live", 2)).unwrap();
    cloud.settle();
    block_on(cloud.update_alias(NAME, "live", "1", None, "new description", None)).unwrap();
    assert_eq!(
        status(&cloud, "live").0,
        ProvisionedStatus::Ready,
        "same version: nothing to allocate"
    );
    block_on(cloud.update_alias(NAME, "live", "2", None, "", None)).unwrap();
    assert_eq!(status(&cloud, "live").0, ProvisionedStatus::InProgress);
    assert_eq!(status(&cloud, "live"), (ProvisionedStatus::Ready, 2));
}
