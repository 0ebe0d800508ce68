use std::collections::BTreeMap;

use futures::executor::block_on;

use super::{NAME, cloud_with_function, config, create, managed, rejected_code, zip};
use crate::{FakeCloud, function_arn};
use shepherd_core::cloud::*;
use shepherd_core::model::{
    CodeArtifact, FunctionState, LastUpdateStatus, ObservedMapping, Package, Readable, tags,
};
use shepherd_core::spec::Architecture;

fn state(cloud: &FakeCloud) -> (FunctionState, LastUpdateStatus) {
    let f = block_on(cloud.get_function(NAME)).unwrap().expect("exists");
    (f.state, f.last_update)
}

#[test]
fn a_new_function_is_pending_for_the_configured_reads_then_active() {
    let cloud = FakeCloud::new();
    cloud.set_settle_reads(2);
    block_on(cloud.create_function(
        NAME,
        &config(),
        Architecture::Arm64,
        &zip("abc="),
        &managed(),
    ))
    .unwrap();
    assert_eq!(state(&cloud).0, FunctionState::Pending);
    assert_eq!(state(&cloud).0, FunctionState::Pending);
    assert_eq!(
        state(&cloud),
        (FunctionState::Active, LastUpdateStatus::Successful)
    );
}

#[test]
fn by_default_a_new_function_is_pending_for_one_read_and_refuses_updates_meanwhile() {
    let cloud = FakeCloud::new();
    block_on(cloud.create_function(
        NAME,
        &config(),
        Architecture::X86_64,
        &zip("abc="),
        &managed(),
    ))
    .unwrap();
    let conflict = |r: Result<_, CloudError>| matches!(r, Err(CloudError::Conflict { .. }));
    assert!(conflict(block_on(
        cloud.update_configuration(NAME, &config())
    )));
    assert!(conflict(
        block_on(cloud.update_code(NAME, &zip("x="), Architecture::X86_64)).map(drop)
    ));
    assert!(conflict(
        block_on(cloud.publish_version(NAME, "", None)).map(drop)
    ));
    assert_eq!(state(&cloud).0, FunctionState::Pending);
    assert_eq!(state(&cloud).0, FunctionState::Active);
    block_on(cloud.publish_version(NAME, "", None)).unwrap();
}

#[test]
fn with_zero_settle_reads_a_function_is_active_at_once() {
    let cloud = FakeCloud::new();
    cloud.set_settle_reads(0);
    block_on(cloud.create_function(
        NAME,
        &config(),
        Architecture::X86_64,
        &zip("abc="),
        &managed(),
    ))
    .unwrap();
    block_on(cloud.update_configuration(NAME, &config())).unwrap();
    block_on(cloud.update_configuration(NAME, &config())).unwrap();
    assert_eq!(
        state(&cloud),
        (FunctionState::Active, LastUpdateStatus::Successful)
    );
}

#[test]
fn an_update_is_in_progress_for_the_configured_reads_and_shows_the_new_configuration() {
    let cloud = cloud_with_function();
    cloud.set_settle_reads(2);
    let mut changed = config();
    changed.memory = 512;
    block_on(cloud.update_configuration(NAME, &changed)).unwrap();
    let during = block_on(cloud.get_function(NAME)).unwrap().unwrap();
    assert_eq!(
        (during.last_update, during.config.memory),
        (LastUpdateStatus::InProgress, 512)
    );
    let second = block_on(cloud.update_configuration(NAME, &config()));
    assert!(matches!(
        second,
        Err(CloudError::Conflict {
            api: Api::UpdateFunctionConfiguration,
            ..
        })
    ));
    assert_eq!(state(&cloud).1, LastUpdateStatus::InProgress);
    assert_eq!(state(&cloud).1, LastUpdateStatus::Successful);
    assert_eq!(cloud.function(NAME).unwrap().config.memory, 512);
}

#[test]
fn a_code_update_returns_and_reports_the_new_digest_and_architecture() {
    let cloud = cloud_with_function();
    let sha = block_on(cloud.update_code(NAME, &zip("new-sha="), Architecture::Arm64)).unwrap();
    assert_eq!(sha, "new-sha=");
    let publish = block_on(cloud.publish_version(NAME, "", None));
    assert!(matches!(
        publish,
        Err(CloudError::Conflict {
            api: Api::PublishVersion,
            ..
        })
    ));
    let f = block_on(cloud.get_function(NAME)).unwrap().unwrap();
    assert_eq!(
        (f.code_sha256.as_str(), f.architecture),
        ("new-sha=", Architecture::Arm64)
    );
    assert_eq!(state(&cloud).1, LastUpdateStatus::Successful);
}

#[test]
fn a_failed_update_reports_its_reason_and_keeps_the_previous_code_and_configuration() {
    let cloud = cloud_with_function();
    cloud.fail_next_update("EniLimitExceeded: no ENI left");
    let mut changed = config();
    changed.memory = 1024;
    block_on(cloud.update_configuration(NAME, &changed)).unwrap();
    assert_eq!(state(&cloud).1, LastUpdateStatus::InProgress);
    let after = block_on(cloud.get_function(NAME)).unwrap().unwrap();
    assert_eq!(after.last_update, LastUpdateStatus::Failed);
    assert_eq!(
        after.last_update_reason.as_deref(),
        Some("EniLimitExceeded: no ENI left")
    );
    assert_eq!(after.config.memory, 128);
    // The knob applies once; a failed function accepts the next update.
    block_on(cloud.update_code(NAME, &zip("sha-2"), Architecture::X86_64)).unwrap();
    cloud.settle();
    let fixed = cloud.function(NAME).unwrap();
    assert_eq!(
        (fixed.last_update, fixed.last_update_reason),
        (LastUpdateStatus::Successful, None)
    );
}

#[test]
fn code_digests_are_the_zip_hash_or_a_stable_digest_of_the_location() {
    let cloud = cloud_with_function();
    let s3 = |version: Option<&str>| CodeArtifact::S3 {
        bucket: "b".to_owned(),
        key: "k.zip".to_owned(),
        object_version: version.map(str::to_owned),
        resolved: None,
    };
    let update = |code: &CodeArtifact| {
        let sha = block_on(cloud.update_code(NAME, code, Architecture::X86_64)).unwrap();
        cloud.settle();
        sha
    };
    let first = update(&s3(None));
    assert_eq!(first.len(), 44, "base64 of 32 bytes: {first}");
    assert!(first.ends_with('='));
    assert_eq!(update(&s3(None)), first);
    assert_ne!(update(&s3(Some("v2"))), first);
    let mut image = config();
    image.package = Package::Image;
    block_on(cloud.create_function(
        "img",
        &image,
        Architecture::X86_64,
        &CodeArtifact::image("r/i:1"),
        &managed(),
    ))
    .unwrap();
    cloud.settle();
    let image_sha = cloud.function("img").unwrap().code_sha256;
    assert_eq!(image_sha.len(), 44);
    assert_ne!(image_sha, first);
}

#[test]
fn package_type_and_configuration_limits_are_enforced() {
    let cloud = cloud_with_function();
    let image = CodeArtifact::image("r/i:1");
    assert_eq!(
        rejected_code(block_on(cloud.update_code(
            NAME,
            &image,
            Architecture::X86_64
        ))),
        "InvalidParameterValueException"
    );
    let mut config = config();
    config.memory = 64;
    assert_eq!(
        rejected_code(block_on(cloud.update_configuration(NAME, &config))),
        "InvalidParameterValueException"
    );
    config.memory = 128;
    config.timeout_secs = 901;
    assert!(block_on(cloud.update_configuration(NAME, &config)).is_err());
    config.timeout_secs = 3;
    config.environment.insert("BIG".into(), "x".repeat(5000));
    assert!(block_on(cloud.update_configuration(NAME, &config)).is_err());
    config.environment.clear();
    config.package = Package::Image;
    assert!(block_on(cloud.update_configuration(NAME, &config)).is_err());
    let taken = block_on(cloud.create_function(
        NAME,
        &super::config(),
        Architecture::X86_64,
        &zip("a"),
        &managed(),
    ));
    assert!(
        matches!(taken, Err(CloudError::AlreadyExists { .. })),
        "{taken:?}"
    );
    assert_eq!(
        cloud.function(NAME).unwrap().last_update,
        LastUpdateStatus::Successful,
        "nothing refused started an update"
    );
}

#[test]
fn get_function_leaves_the_sub_resources_unread() {
    let cloud = cloud_with_function();
    block_on(cloud.create_alias(NAME, "live", "$LATEST", "")).unwrap();
    block_on(cloud.put_reserved_concurrency(NAME, Some(7))).unwrap();
    let f = block_on(cloud.get_function(NAME)).unwrap().unwrap();
    assert_eq!(f.arn, function_arn(NAME, None));
    assert_eq!(
        f.arn,
        "arn:aws:lambda:us-east-1:123456789012:function:orders"
    );
    assert!(f.aliases.is_empty());
    assert_eq!(f.versions, Readable::NotRead);
    assert_eq!(f.async_config, Readable::NotRead);
    assert_eq!(f.provisioned, Readable::NotRead);
    assert_eq!(f.recursive_loop, Readable::NotRead);
    assert_eq!(f.reserved_concurrency, Some(7));
    assert_eq!(f.tag(tags::MANAGED_BY), Some("shepherd"));
}

#[test]
fn a_missing_function_reads_as_none_and_lists_as_not_found() {
    let cloud = FakeCloud::new();
    assert_eq!(block_on(cloud.get_function("nope")), Ok(None));
    let not_found = |r: Result<usize, CloudError>| matches!(r, Err(CloudError::NotFound { .. }));
    assert!(not_found(
        block_on(cloud.list_aliases("nope")).map(|v| v.len())
    ));
    assert!(not_found(
        block_on(cloud.list_versions("nope")).map(|v| v.len())
    ));
    assert!(not_found(
        block_on(cloud.list_provisioned_concurrency("nope")).map(|v| v.len())
    ));
    assert!(not_found(
        block_on(cloud.list_mappings(Some("nope"))).map(|v| v.len())
    ));
    assert!(not_found(
        block_on(cloud.update_configuration("nope", &config())).map(|()| 0)
    ));
    assert!(not_found(
        block_on(cloud.delete_function("nope")).map(|()| 0)
    ));
}

#[test]
fn managed_functions_are_those_with_shepherds_tag() {
    let cloud = cloud_with_function();
    create(&cloud, "billing");
    block_on(cloud.create_function(
        "other",
        &config(),
        Architecture::X86_64,
        &zip("a"),
        &BTreeMap::new(),
    ))
    .unwrap();
    let listed = |cloud: &FakeCloud| -> Vec<(String, Option<String>)> {
        block_on(cloud.list_managed_functions())
            .unwrap()
            .into_iter()
            .map(|f| (f.name, f.owner))
            .collect()
    };
    assert_eq!(
        listed(&cloud),
        [("billing".to_owned(), None), (NAME.to_owned(), None)]
    );
    let arn = function_arn("billing", None);
    block_on(cloud.untag_function(&arn, &[tags::MANAGED_BY.to_owned()])).unwrap();
    let owned = BTreeMap::from([(tags::OWNER.to_owned(), "team-a".to_owned())]);
    block_on(cloud.tag_function(&function_arn(NAME, None), &owned)).unwrap();
    assert_eq!(
        listed(&cloud),
        [(NAME.to_owned(), Some("team-a".to_owned()))],
        "the owner is listed with the function"
    );
}

#[test]
fn tags_are_set_and_removed_by_function_arn_only() {
    let cloud = cloud_with_function();
    let arn = function_arn(NAME, None);
    let set = BTreeMap::from([
        ("team".to_owned(), "a".to_owned()),
        (tags::SPEC_DIGEST.to_owned(), "d1".to_owned()),
    ]);
    block_on(cloud.tag_function(&arn, &set)).unwrap();
    block_on(cloud.untag_function(&arn, &["team".to_owned(), "absent".to_owned()])).unwrap();
    let tags = cloud.function(NAME).unwrap().tags;
    assert_eq!(
        tags.keys().collect::<Vec<_>>(),
        [tags::MANAGED_BY, tags::SPEC_DIGEST]
    );
    assert!(block_on(cloud.tag_function(&function_arn(NAME, Some("live")), &set)).is_err());
    assert!(
        block_on(cloud.tag_function(NAME, &set)).is_err(),
        "a name is not an ARN"
    );
    let reserved = BTreeMap::from([("aws:cloudformation".to_owned(), "x".to_owned())]);
    assert!(block_on(cloud.tag_function(&arn, &reserved)).is_err());
    let missing = block_on(cloud.tag_function(&function_arn("nope", None), &set));
    assert!(matches!(
        missing,
        Err(CloudError::NotFound {
            api: Api::TagResource,
            ..
        })
    ));
}

#[test]
fn reserved_concurrency_is_put_and_removed() {
    let cloud = cloud_with_function();
    block_on(cloud.put_reserved_concurrency(NAME, Some(10))).unwrap();
    assert_eq!(cloud.function(NAME).unwrap().reserved_concurrency, Some(10));
    block_on(cloud.put_reserved_concurrency(NAME, None)).unwrap();
    assert_eq!(cloud.function(NAME).unwrap().reserved_concurrency, None);
    assert_eq!(
        cloud.calls(),
        ["PutFunctionConcurrency", "DeleteFunctionConcurrency"]
    );
}

#[test]
fn deleting_a_function_leaves_its_event_source_mappings_behind() {
    let cloud = cloud_with_function();
    let queue = super::invoke::queue_config("arn:aws:sqs:us-east-1:123456789012:in");
    let uuid = block_on(cloud.create_mapping(NAME, None, &queue)).unwrap();
    block_on(cloud.delete_function(NAME)).unwrap();
    assert_eq!(cloud.function(NAME), None);
    assert_eq!(block_on(cloud.get_function(NAME)), Ok(None));
    let orphan = ObservedMapping {
        uuid,
        function_arn: function_arn(NAME, None),
        config: queue,
    };
    assert_eq!(block_on(cloud.list_mappings(None)).unwrap(), [orphan]);
}

#[test]
fn drift_behind_shepherds_back_shows_in_get_function() {
    let cloud = cloud_with_function();
    let changed = cloud.with_function_mut(NAME, |f| {
        f.config.memory = 256;
        f.code_sha256 = "someone-else=".to_owned();
    });
    assert_eq!(changed, Some(()));
    assert_eq!(cloud.with_function_mut("nope", |_| ()), None);
    let f = block_on(cloud.get_function(NAME)).unwrap().unwrap();
    assert_eq!(
        (f.config.memory, f.code_sha256.as_str()),
        (256, "someone-else=")
    );
    assert!(cloud.calls() == ["GetFunction"], "helpers are not calls");
    // A state set by hand stays until changed again.
    cloud.with_function_mut(NAME, |f| f.state = FunctionState::Pending);
    assert_eq!(state(&cloud).0, FunctionState::Pending);
    assert_eq!(state(&cloud).0, FunctionState::Pending);
}
