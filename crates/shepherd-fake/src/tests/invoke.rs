use futures::executor::block_on;

use super::{NAME, cloud_with_function, create, publish_new, rejected_code};
use crate::function_arn;
use shepherd_core::cloud::*;
use shepherd_core::model::{AsyncConfig, MappingConfig};
use shepherd_core::spec::RecursiveLoop;

const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:orders-in";

pub(super) fn queue_config(queue: &str) -> MappingConfig {
    MappingConfig {
        queue_arn: queue.to_owned(),
        batch_size: 10,
        batching_window_secs: 0,
        enabled: true,
        maximum_concurrency: None,
        report_batch_item_failures: false,
        filters: Vec::new(),
    }
}

fn async_config(retries: u8) -> AsyncConfig {
    AsyncConfig {
        maximum_retry_attempts: retries,
        maximum_event_age_secs: 3600,
        on_success: None,
        on_failure: Some("arn:aws:sqs:us-east-1:123456789012:failures".to_owned()),
    }
}

#[test]
fn async_configs_are_kept_per_qualifier() {
    let cloud = cloud_with_function();
    publish_new(&cloud, NAME);
    block_on(cloud.create_alias(NAME, "live", "1", "")).unwrap();
    cloud.reset_calls();
    assert_eq!(block_on(cloud.get_async_config(NAME, None)), Ok(None));
    block_on(cloud.put_async_config(NAME, None, Some(&async_config(0)))).unwrap();
    block_on(cloud.put_async_config(NAME, Some("live"), Some(&async_config(2)))).unwrap();
    assert_eq!(
        block_on(cloud.get_async_config(NAME, None)),
        Ok(Some(async_config(0)))
    );
    assert_eq!(
        block_on(cloud.get_async_config(NAME, Some("$LATEST"))),
        Ok(Some(async_config(0)))
    );
    assert_eq!(
        block_on(cloud.get_async_config(NAME, Some("live"))),
        Ok(Some(async_config(2)))
    );
    block_on(cloud.put_async_config(NAME, Some("live"), None)).unwrap();
    assert_eq!(cloud.async_config(NAME, Some("live")), None);
    assert_eq!(cloud.async_config(NAME, None), Some(async_config(0)));
    assert_eq!(
        cloud.calls(),
        [
            Api::GetFunctionEventInvokeConfig,
            Api::PutFunctionEventInvokeConfig,
            Api::PutFunctionEventInvokeConfig,
            Api::GetFunctionEventInvokeConfig,
            Api::GetFunctionEventInvokeConfig,
            Api::GetFunctionEventInvokeConfig,
            Api::DeleteFunctionEventInvokeConfig,
        ]
    );
}

#[test]
fn async_configs_are_checked() {
    let cloud = cloud_with_function();
    assert_eq!(
        rejected_code(block_on(cloud.put_async_config(
            NAME,
            None,
            Some(&async_config(3))
        ))),
        "InvalidParameterValueException"
    );
    let mut config = async_config(1);
    config.maximum_event_age_secs = 59;
    assert!(block_on(cloud.put_async_config(NAME, None, Some(&config))).is_err());
    config.maximum_event_age_secs = 60;
    config.on_success = Some("arn:aws:s3:::bucket".to_owned());
    assert!(block_on(cloud.put_async_config(NAME, None, Some(&config))).is_err());
    let absent = block_on(cloud.put_async_config(NAME, None, None));
    assert!(matches!(
        absent,
        Err(CloudError::NotFound {
            api: Api::DeleteFunctionEventInvokeConfig,
            ..
        })
    ));
    let no_alias = block_on(cloud.get_async_config(NAME, Some("live")));
    assert!(matches!(no_alias, Err(CloudError::NotFound { .. })));
}

#[test]
fn recursive_loop_detection_defaults_to_terminate() {
    let cloud = cloud_with_function();
    assert_eq!(
        block_on(cloud.get_recursive_loop(NAME)),
        Ok(RecursiveLoop::Terminate)
    );
    block_on(cloud.put_recursive_loop(NAME, RecursiveLoop::Allow)).unwrap();
    assert_eq!(
        block_on(cloud.get_recursive_loop(NAME)),
        Ok(RecursiveLoop::Allow)
    );
    assert_eq!(
        cloud.calls(),
        [
            Api::GetFunctionRecursionConfig,
            Api::PutFunctionRecursionConfig,
            Api::GetFunctionRecursionConfig
        ]
    );
    assert!(block_on(cloud.get_recursive_loop("nope")).is_err());
}

#[test]
fn mappings_get_uuids_and_invoke_the_qualified_arn() {
    let cloud = cloud_with_function();
    create(&cloud, "billing");
    publish_new(&cloud, NAME);
    block_on(cloud.create_alias(NAME, "live", "1", "")).unwrap();
    let first = block_on(cloud.create_mapping(NAME, Some("live"), &queue_config(QUEUE))).unwrap();
    let other = "arn:aws:sqs:us-east-1:123456789012:other";
    let second = block_on(cloud.create_mapping(NAME, None, &queue_config(other))).unwrap();
    let third = block_on(cloud.create_mapping("billing", None, &queue_config(QUEUE))).unwrap();
    assert_eq!(first.len(), 36);
    assert!(first != second && second != third);
    let mine = block_on(cloud.list_mappings(Some(NAME))).unwrap();
    let arns: Vec<&str> = mine.iter().map(|m| m.function_arn.as_str()).collect();
    assert_eq!(
        arns,
        [
            "arn:aws:lambda:us-east-1:123456789012:function:orders:live",
            function_arn(NAME, None).as_str()
        ]
    );
    assert_eq!(block_on(cloud.list_mappings(None)).unwrap().len(), 3);
    assert_eq!(cloud.mapping_count(), 3);
    let missing_alias =
        block_on(cloud.create_mapping("billing", Some("live"), &queue_config(other)));
    assert!(matches!(missing_alias, Err(CloudError::NotFound { .. })));
}

#[test]
fn one_mapping_per_queue_and_function_arn() {
    let cloud = cloud_with_function();
    let uuid = block_on(cloud.create_mapping(NAME, None, &queue_config(QUEUE))).unwrap();
    let again = block_on(cloud.create_mapping(NAME, None, &queue_config(QUEUE)));
    assert!(
        matches!(again, Err(CloudError::AlreadyExists { .. })),
        "{again:?}"
    );
    assert_eq!(cloud.mapping_count(), 1);
    // Updating a mapping onto itself is fine.
    block_on(cloud.update_mapping(&uuid, NAME, None, &queue_config(QUEUE))).unwrap();
}

#[test]
fn mappings_are_updated_retargeted_and_deleted() {
    let cloud = cloud_with_function();
    publish_new(&cloud, NAME);
    block_on(cloud.create_alias(NAME, "live", "1", "")).unwrap();
    let uuid = block_on(cloud.create_mapping(NAME, None, &queue_config(QUEUE))).unwrap();
    let mut config = queue_config(QUEUE);
    config.batch_size = 100;
    config.batching_window_secs = 5;
    config.enabled = false;
    block_on(cloud.update_mapping(&uuid, NAME, Some("live"), &config)).unwrap();
    let mapping = &cloud.mappings()[0];
    assert_eq!(
        (&mapping.function_arn, &mapping.config),
        (&function_arn(NAME, Some("live")), &config)
    );
    let other_queue = queue_config("arn:aws:sqs:us-east-1:123456789012:other");
    assert!(
        block_on(cloud.update_mapping(&uuid, NAME, None, &other_queue)).is_err(),
        "the queue is fixed"
    );
    let missing = block_on(cloud.update_mapping("no-such-uuid", NAME, None, &config));
    assert!(matches!(
        missing,
        Err(CloudError::NotFound {
            api: Api::UpdateEventSourceMapping,
            ..
        })
    ));
    block_on(cloud.delete_mapping(&uuid)).unwrap();
    assert_eq!(cloud.mapping_count(), 0);
    let gone = block_on(cloud.delete_mapping(&uuid));
    assert!(matches!(
        gone,
        Err(CloudError::NotFound {
            api: Api::DeleteEventSourceMapping,
            ..
        })
    ));
}

#[test]
fn mapping_settings_are_checked() {
    let cloud = cloud_with_function();
    let check = |change: &dyn Fn(&mut MappingConfig)| {
        let mut config = queue_config(QUEUE);
        change(&mut config);
        block_on(cloud.create_mapping(NAME, None, &config))
    };
    assert!(check(&|c| c.batch_size = 0).is_err());
    assert!(
        check(&|c| c.batch_size = 11).is_err(),
        "above 10 needs a batching window"
    );
    assert!(check(&|c| c.batching_window_secs = 301).is_err());
    assert!(check(&|c| c.maximum_concurrency = Some(1)).is_err());
    assert!(check(&|c| c.queue_arn = "arn:aws:sns:us-east-1:123456789012:t".to_owned()).is_err());
    assert!(check(&|c| c.queue_arn = format!("{QUEUE}.fifo")).is_ok());
    assert!(
        check(&|c| {
            c.queue_arn = format!("{QUEUE}-2.fifo");
            c.batching_window_secs = 1;
        })
        .is_err(),
        "FIFO queues have no batching window"
    );
    assert_eq!(cloud.mapping_count(), 1);
}
