use futures::executor::block_on;

use super::{NAME, cloud_with_function, publish_new, rejected_code, rejected_message};
use crate::FakeCloud;
use shepherd_core::cloud::*;

/// A function with versions 1 and 2 and alias `live` on version 1.
fn with_alias() -> FakeCloud {
    let cloud = cloud_with_function();
    publish_new(&cloud, NAME);
    publish_new(&cloud, NAME);
    block_on(cloud.create_alias(NAME, "live", "1", "callers")).unwrap();
    cloud.reset_calls();
    cloud
}

#[test]
fn aliases_are_created_updated_and_listed() {
    let cloud = with_alias();
    let created = cloud.alias(NAME, "live").unwrap();
    assert_eq!(
        (created.version.as_str(), created.description.as_str()),
        ("1", "callers")
    );
    block_on(cloud.update_alias(NAME, "live", "1", Some(("2", 0.25)), "canary", None)).unwrap();
    let listed = block_on(cloud.list_aliases(NAME)).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].additional_version, Some(("2".to_owned(), 0.25)));
    assert_eq!(listed[0].description, "canary");
    assert_ne!(
        listed[0].revision_id, created.revision_id,
        "every update is a new revision"
    );
    // Promotion: the new version, no weights.
    block_on(cloud.update_alias(NAME, "live", "2", None, "canary", None)).unwrap();
    let promoted = cloud.alias(NAME, "live").unwrap();
    assert_eq!(
        (promoted.version.as_str(), promoted.additional_version),
        ("2", None)
    );
    assert_eq!(cloud.calls(), ["UpdateAlias", "ListAliases", "UpdateAlias"]);
}

#[test]
fn an_update_with_a_stale_revision_is_refused_and_changes_nothing() {
    let cloud = with_alias();
    let read = cloud.alias(NAME, "live").unwrap().revision_id.unwrap();
    let new = block_on(cloud.update_alias(NAME, "live", "1", Some(("2", 0.1)), "a", Some(&read)))
        .unwrap()
        .expect("the fake gives revisions");
    assert_eq!(
        cloud.alias(NAME, "live").unwrap().revision_id,
        Some(new.clone())
    );
    // A second writer still holding the first revision is refused.
    let stale = block_on(cloud.update_alias(NAME, "live", "2", None, "b", Some(&read)));
    assert!(
        matches!(stale, Err(CloudError::PreconditionFailed { .. })),
        "{stale:?}"
    );
    let alias = cloud.alias(NAME, "live").unwrap();
    assert_eq!(
        (alias.version.as_str(), alias.description.as_str()),
        ("1", "a")
    );
    block_on(cloud.update_alias(NAME, "live", "2", None, "c", Some(&new))).unwrap();
    assert_eq!(cloud.alias(NAME, "live").unwrap().version, "2");
}

#[test]
fn an_alias_may_point_to_latest_without_weights_only() {
    let cloud = with_alias();
    block_on(cloud.create_alias(NAME, "dev", "$LATEST", "")).unwrap();
    let weighted = block_on(cloud.update_alias(NAME, "dev", "$LATEST", Some(("1", 0.5)), "", None));
    assert!(rejected_message(weighted).contains("$LATEST"));
    let to_latest =
        block_on(cloud.update_alias(NAME, "live", "1", Some(("$LATEST", 0.5)), "", None));
    assert_eq!(rejected_code(to_latest), "InvalidParameterValueException");
}

#[test]
fn routing_needs_a_different_existing_version_and_a_weight_between_0_and_1() {
    let cloud = with_alias();
    let same = block_on(cloud.update_alias(NAME, "live", "1", Some(("1", 0.1)), "", None));
    assert_eq!(rejected_code(same), "InvalidParameterValueException");
    for weight in [-0.1, 1.5, f64::NAN] {
        assert!(
            block_on(cloud.update_alias(NAME, "live", "1", Some(("2", weight)), "", None)).is_err()
        );
    }
    let missing = block_on(cloud.update_alias(NAME, "live", "1", Some(("7", 0.1)), "", None));
    assert!(matches!(
        missing,
        Err(CloudError::NotFound {
            api: Api::UpdateAlias,
            ..
        })
    ));
    let missing_primary = block_on(cloud.update_alias(NAME, "live", "7", None, "", None));
    assert!(matches!(missing_primary, Err(CloudError::NotFound { .. })));
    for weight in [0.0, 1.0] {
        block_on(cloud.update_alias(NAME, "live", "1", Some(("2", weight)), "", None)).unwrap();
    }
    assert_eq!(
        cloud.alias(NAME, "live").unwrap().additional_version,
        Some(("2".to_owned(), 1.0))
    );
}

#[test]
fn weighted_versions_need_the_same_role_and_dead_letter_config() {
    let cloud = with_alias();
    let mut config = cloud.function(NAME).unwrap().config;
    config.role = "arn:aws:iam::123456789012:role/other".to_owned();
    block_on(cloud.update_configuration(NAME, &config)).unwrap();
    cloud.settle();
    let three = block_on(cloud.publish_version(NAME, "", None))
        .unwrap()
        .version;
    let mixed = block_on(cloud.update_alias(NAME, "live", "1", Some((&three, 0.1)), "", None));
    assert_eq!(rejected_code(mixed), "InvalidParameterValueException");
    assert_eq!(cloud.alias(NAME, "live").unwrap().additional_version, None);
}

#[test]
fn alias_names_and_targets_are_checked() {
    let cloud = with_alias();
    assert!(matches!(
        block_on(cloud.create_alias(NAME, "live", "2", "")),
        Err(CloudError::AlreadyExists { .. })
    ));
    assert!(
        block_on(cloud.create_alias(NAME, "123", "2", "")).is_err(),
        "a number is a version"
    );
    let missing = block_on(cloud.create_alias(NAME, "beta", "9", ""));
    assert!(matches!(
        missing,
        Err(CloudError::NotFound {
            api: Api::CreateAlias,
            ..
        })
    ));
    let no_alias = block_on(cloud.update_alias(NAME, "beta", "1", None, "", None));
    assert!(matches!(no_alias, Err(CloudError::NotFound { .. })));
    let no_function = block_on(cloud.create_alias("nope", "live", "1", ""));
    assert!(matches!(no_function, Err(CloudError::NotFound { .. })));
}

#[test]
fn weights_and_provisioned_concurrency_exclude_each_other() {
    let cloud = with_alias();
    cloud.set_provisioned_reads(0);
    block_on(cloud.put_provisioned_concurrency(NAME, "live", 2)).unwrap();
    let weighted = block_on(cloud.update_alias(NAME, "live", "1", Some(("2", 0.1)), "", None));
    assert_eq!(
        rejected_message(weighted),
        "Alias with weights can not be used with Provisioned Concurrency"
    );
    block_on(cloud.delete_provisioned_concurrency(NAME, "live")).unwrap();
    block_on(cloud.update_alias(NAME, "live", "1", Some(("2", 0.1)), "", None)).unwrap();
    let provisioned = block_on(cloud.put_provisioned_concurrency(NAME, "live", 2));
    assert_eq!(
        rejected_message(provisioned),
        "Alias with weights can not be used with Provisioned Concurrency"
    );
}

#[test]
fn an_alias_can_be_changed_behind_shepherds_back() {
    let cloud = with_alias();
    cloud.with_alias_mut(NAME, "live", |a| {
        a.additional_version = Some(("2".to_owned(), 0.5))
    });
    let listed = block_on(cloud.list_aliases(NAME)).unwrap();
    assert_eq!(listed[0].additional_version, Some(("2".to_owned(), 0.5)));
    assert_eq!(cloud.with_alias_mut(NAME, "absent", |_| ()), None);
}
