use futures::executor::block_on;

use super::{NAME, cloud_with_function, publish_new, rejected_code, rejected_message, zip};
use shepherd_core::cloud::*;
use shepherd_core::model::AsyncConfig;
use shepherd_core::spec::Architecture;

#[test]
fn publishing_numbers_versions_and_snapshots_latest() {
    let cloud = cloud_with_function();
    let first = block_on(cloud.publish_version(NAME, "release abc", Some("sha-1"))).unwrap();
    assert_eq!(
        (
            first.version.as_str(),
            first.code_sha256.as_str(),
            first.description.as_str()
        ),
        ("1", "sha-1", "release abc")
    );
    block_on(cloud.update_code(NAME, &zip("sha-2"), Architecture::X86_64)).unwrap();
    cloud.settle();
    let second = block_on(cloud.publish_version(NAME, "release def", None)).unwrap();
    assert_eq!(
        (second.version.as_str(), second.code_sha256.as_str()),
        ("2", "sha-2")
    );
    let listed = block_on(cloud.list_versions(NAME)).unwrap();
    assert_eq!(listed, [first, second]);
    let versions = cloud.versions(NAME);
    assert_eq!(versions[0].code_sha256, "sha-1");
    assert_eq!(versions[1].config, cloud.function(NAME).unwrap().config);
}

#[test]
fn publishing_with_nothing_changed_returns_the_last_version() {
    let cloud = cloud_with_function();
    let first = block_on(cloud.publish_version(NAME, "one", None)).unwrap();
    let again = block_on(cloud.publish_version(NAME, "another description", None)).unwrap();
    assert_eq!(again, first, "same version, with its original description");
    assert_eq!(cloud.versions(NAME).len(), 1);
    // A configuration change is a change.
    let changed = publish_new(&cloud, NAME);
    assert_eq!(changed, "2");
    // Going back to version 1's configuration is a change too: only the last version
    // counts.
    let mut config = cloud.function(NAME).unwrap().config;
    config.memory = 128;
    block_on(cloud.update_configuration(NAME, &config)).unwrap();
    cloud.settle();
    assert_eq!(
        block_on(cloud.publish_version(NAME, "", None))
            .unwrap()
            .version,
        "3"
    );
}

#[test]
fn the_code_digest_precondition_guards_publishing() {
    let cloud = cloud_with_function();
    let result = block_on(cloud.publish_version(NAME, "", Some("other-sha")));
    assert!(
        matches!(
            result,
            Err(CloudError::PreconditionFailed {
                api: Api::PublishVersion,
                ..
            })
        ),
        "{result:?}"
    );
    assert!(cloud.versions(NAME).is_empty());
}

#[test]
fn version_numbers_are_never_reused() {
    let cloud = cloud_with_function();
    assert_eq!(publish_new(&cloud, NAME), "1");
    assert_eq!(publish_new(&cloud, NAME), "2");
    block_on(cloud.delete_version(NAME, "2")).unwrap();
    assert_eq!(cloud.calls(), ["DeleteFunction"]);
    assert_eq!(publish_new(&cloud, NAME), "3");
    let numbers: Vec<String> = cloud
        .versions(NAME)
        .into_iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(numbers, ["1", "3"]);
}

#[test]
fn a_version_an_alias_routes_to_cannot_be_deleted() {
    let cloud = cloud_with_function();
    let one = publish_new(&cloud, NAME);
    let two = publish_new(&cloud, NAME);
    block_on(cloud.create_alias(NAME, "live", &one, "")).unwrap();
    block_on(cloud.update_alias(NAME, "live", &one, Some((&two, 0.1)), "", None)).unwrap();
    for version in [&one, &two] {
        let refused = block_on(cloud.delete_version(NAME, version));
        assert_eq!(rejected_code(refused.clone()), "ResourceConflictException");
        assert!(rejected_message(refused).contains("[live]"));
    }
    block_on(cloud.update_alias(NAME, "live", &two, None, "", None)).unwrap();
    block_on(cloud.delete_version(NAME, &one)).unwrap();
    assert_eq!(cloud.versions(NAME).len(), 1);
}

#[test]
fn latest_and_missing_versions_cannot_be_deleted() {
    let cloud = cloud_with_function();
    assert_eq!(
        rejected_code(block_on(cloud.delete_version(NAME, "$LATEST"))),
        "InvalidParameterValueException"
    );
    let missing = block_on(cloud.delete_version(NAME, "9"));
    assert!(matches!(
        missing,
        Err(CloudError::NotFound {
            api: Api::DeleteFunction,
            ..
        })
    ));
    assert!(cloud.function(NAME).is_some());
}

#[test]
fn deleting_a_version_deletes_its_provisioned_concurrency_and_async_config() {
    let cloud = cloud_with_function();
    cloud.set_provisioned_reads(0);
    let one = publish_new(&cloud, NAME);
    block_on(cloud.put_provisioned_concurrency(NAME, &one, 2)).unwrap();
    let config = AsyncConfig {
        maximum_retry_attempts: 1,
        maximum_event_age_secs: 60,
        on_success: None,
        on_failure: None,
    };
    block_on(cloud.put_async_config(NAME, Some(&one), Some(&config))).unwrap();
    block_on(cloud.delete_version(NAME, &one)).unwrap();
    assert_eq!(cloud.provisioned(NAME, &one), None);
    assert_eq!(cloud.async_config(NAME, Some(&one)), None);
}
