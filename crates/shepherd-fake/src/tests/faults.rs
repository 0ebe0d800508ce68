use std::collections::BTreeMap;

use futures::executor::block_on;

use super::{NAME, cloud_with_function, config, managed, zip};
use crate::{FakeCloud, function_arn};
use shepherd_core::cloud::*;
use shepherd_core::model::{AlarmDefinition, AlarmMetric, AsyncConfig};
use shepherd_core::spec::{Architecture, RecursiveLoop};

fn server_error(api: Api) -> CloudError {
    CloudError::Server {
        api,
        status: 500,
        message: "boom".to_owned(),
    }
}

/// Every trait method once, in an order where each succeeds.
fn call_everything(cloud: &FakeCloud) {
    let queue = super::invoke::queue_config("arn:aws:sqs:us-east-1:123456789012:q");
    let async_config = AsyncConfig {
        maximum_retry_attempts: 0,
        maximum_event_age_secs: 60,
        on_success: None,
        on_failure: None,
    };
    let alarm = AlarmDefinition {
        name: "a".to_owned(),
        metric: AlarmMetric::Errors,
        statistic: "Sum".to_owned(),
        dimensions: BTreeMap::new(),
        threshold: 1.0,
        period_secs: 60,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        description: String::new(),
    };
    let arn = function_arn(NAME, None);
    let alarms = ["a".to_owned()];
    block_on(async {
        cloud.get_function(NAME).await.unwrap();
        cloud
            .create_function(NAME, &config(), Architecture::X86_64, &zip("s"), &managed())
            .await
            .unwrap();
        cloud.list_aliases(NAME).await.unwrap();
        cloud.list_versions(NAME).await.unwrap();
        cloud.get_async_config(NAME, None).await.unwrap();
        cloud.list_provisioned_concurrency(NAME).await.unwrap();
        cloud
            .get_provisioned_concurrency(NAME, "$LATEST")
            .await
            .unwrap();
        cloud.get_recursive_loop(NAME).await.unwrap();
        cloud.list_mappings(Some(NAME)).await.unwrap();
        cloud.list_managed_functions().await.unwrap();
        cloud.update_configuration(NAME, &config()).await.unwrap();
        cloud
            .update_code(NAME, &zip("t"), Architecture::X86_64)
            .await
            .unwrap();
        cloud.publish_version(NAME, "", None).await.unwrap();
        cloud.publish_version(NAME, "", None).await.unwrap();
        cloud.delete_version(NAME, "1").await.unwrap();
        cloud
            .create_alias(NAME, "live", "$LATEST", "")
            .await
            .unwrap();
        cloud
            .update_alias(NAME, "live", "$LATEST", None, "", None)
            .await
            .unwrap();
        cloud.put_reserved_concurrency(NAME, Some(5)).await.unwrap();
        cloud.put_reserved_concurrency(NAME, None).await.unwrap();
        cloud
            .put_provisioned_concurrency(NAME, "live", 1)
            .await
            .unwrap_err();
        cloud
            .delete_provisioned_concurrency(NAME, "live")
            .await
            .unwrap_err();
        cloud
            .put_async_config(NAME, None, Some(&async_config))
            .await
            .unwrap();
        cloud.put_async_config(NAME, None, None).await.unwrap();
        cloud
            .put_recursive_loop(NAME, RecursiveLoop::Allow)
            .await
            .unwrap();
        let uuid = cloud.create_mapping(NAME, None, &queue).await.unwrap();
        cloud
            .update_mapping(&uuid, NAME, None, &queue)
            .await
            .unwrap();
        cloud.delete_mapping(&uuid).await.unwrap();
        cloud.tag_function(&arn, &managed()).await.unwrap();
        cloud.untag_function(&arn, &[]).await.unwrap();
        cloud.delete_function(NAME).await.unwrap();
        cloud.describe_alarms(&alarms).await.unwrap();
        cloud.put_alarm(&alarm).await.unwrap();
        cloud.delete_alarms(&alarms).await.unwrap();
    });
}

#[test]
fn every_call_is_recorded_by_its_aws_api_name() {
    let cloud = FakeCloud::new();
    cloud.set_settle_reads(0);
    call_everything(&cloud);
    let expected = [
        Api::GetFunction,
        Api::CreateFunction,
        Api::ListAliases,
        Api::ListVersionsByFunction,
        Api::GetFunctionEventInvokeConfig,
        Api::ListProvisionedConcurrencyConfigs,
        Api::GetProvisionedConcurrencyConfig,
        Api::GetFunctionRecursionConfig,
        Api::ListEventSourceMappings,
        Api::ListFunctions,
        Api::UpdateFunctionConfiguration,
        Api::UpdateFunctionCode,
        Api::PublishVersion,
        Api::PublishVersion,
        Api::DeleteFunction,
        Api::CreateAlias,
        Api::UpdateAlias,
        Api::PutFunctionConcurrency,
        Api::DeleteFunctionConcurrency,
        Api::PutProvisionedConcurrencyConfig,
        Api::DeleteProvisionedConcurrencyConfig,
        Api::PutFunctionEventInvokeConfig,
        Api::DeleteFunctionEventInvokeConfig,
        Api::PutFunctionRecursionConfig,
        Api::CreateEventSourceMapping,
        Api::UpdateEventSourceMapping,
        Api::DeleteEventSourceMapping,
        Api::TagResource,
        Api::UntagResource,
        Api::DeleteFunction,
        Api::DescribeAlarms,
        Api::PutMetricAlarm,
        Api::DeleteAlarms,
    ];
    assert_eq!(cloud.calls(), expected);
    let writes: Vec<Api> = expected.into_iter().filter(|a| a.is_write()).collect();
    assert_eq!(cloud.write_calls(), writes);
    assert_eq!(writes.len(), 23);
    assert_eq!(cloud.call_count(Api::DeleteFunction), 2);
    cloud.reset_calls();
    assert!(cloud.calls().is_empty());
}

#[test]
fn fail_next_fails_that_api_only_the_given_times_without_effect() {
    let cloud = cloud_with_function();
    cloud.fail_next(
        Api::UpdateFunctionCode,
        server_error(Api::UpdateFunctionCode),
        2,
    );
    let code = zip("sha-2");
    for _ in 0..2 {
        let result = block_on(cloud.update_code(NAME, &code, Architecture::X86_64));
        assert_eq!(result, Err(server_error(Api::UpdateFunctionCode)));
        block_on(cloud.update_configuration(NAME, &config())).unwrap();
        cloud.settle();
    }
    assert_eq!(
        cloud.function(NAME).unwrap().code_sha256,
        "sha-1",
        "a failed call changes nothing"
    );
    assert_eq!(
        block_on(cloud.update_code(NAME, &code, Architecture::X86_64)),
        Ok("sha-2".to_owned())
    );
    assert_eq!(
        cloud.call_count(Api::UpdateFunctionCode),
        3,
        "failed calls are calls too"
    );
}

#[test]
fn a_lost_answer_still_applies_the_write() {
    let cloud = cloud_with_function();
    let timeout = CloudError::Transport {
        api: Api::PublishVersion,
        message: "timed out".to_owned(),
    };
    cloud.fail_next_after_write(Api::PublishVersion, timeout.clone(), 1);
    assert_eq!(
        block_on(cloud.publish_version(NAME, "", None)),
        Err(timeout)
    );
    assert_eq!(cloud.versions(NAME).len(), 1);
    // Retrying finds the version the lost call published.
    assert_eq!(
        block_on(cloud.publish_version(NAME, "", None))
            .unwrap()
            .version,
        "1"
    );
}

#[test]
fn throttling_hits_the_next_calls_whatever_their_api() {
    let cloud = cloud_with_function();
    cloud.throttle_next(2);
    let first = block_on(cloud.get_function(NAME));
    assert_eq!(
        first,
        Err(CloudError::Throttled {
            api: Api::GetFunction,
            retry_after: None
        })
    );
    let second = block_on(cloud.put_reserved_concurrency(NAME, Some(3)));
    assert!(matches!(
        second,
        Err(CloudError::Throttled {
            api: Api::PutFunctionConcurrency,
            ..
        })
    ));
    assert_eq!(cloud.function(NAME).unwrap().reserved_concurrency, None);
    block_on(cloud.put_reserved_concurrency(NAME, Some(3))).unwrap();
    assert!(second.unwrap_err().is_retryable());
}

#[test]
fn an_unsupported_api_stays_unsupported_until_faults_are_cleared() {
    let cloud = cloud_with_function();
    cloud.unsupported(Api::PutProvisionedConcurrencyConfig);
    cloud.unsupported(Api::GetFunctionRecursionConfig);
    for _ in 0..2 {
        let result = block_on(cloud.get_recursive_loop(NAME));
        assert_eq!(
            result,
            Err(CloudError::Unsupported {
                api: Api::GetFunctionRecursionConfig
            })
        );
    }
    let put = block_on(cloud.put_provisioned_concurrency(NAME, "1", 1));
    assert_eq!(
        put,
        Err(CloudError::Unsupported {
            api: Api::PutProvisionedConcurrencyConfig
        })
    );
    block_on(cloud.put_recursive_loop(NAME, RecursiveLoop::Allow)).unwrap();
    cloud.clear_faults();
    assert_eq!(
        block_on(cloud.get_recursive_loop(NAME)),
        Ok(RecursiveLoop::Allow)
    );
    assert_eq!(cloud.calls().len(), 5, "clearing faults keeps the calls");
}

#[test]
fn clones_share_one_account() {
    let cloud = FakeCloud::new();
    let handle = cloud.clone();
    super::create(&cloud, NAME);
    block_on(cloud.get_function(NAME)).unwrap();
    assert!(handle.function(NAME).is_some());
    assert_eq!(handle.calls(), ["GetFunction"]);
}

#[test]
fn the_fake_is_shareable_across_threads() {
    fn assert_shareable<T: Send + Sync + 'static>(_: &T) {}
    let cloud = cloud_with_function();
    assert_shareable(&cloud);
    let handle = cloud.clone();
    std::thread::spawn(move || block_on(handle.put_reserved_concurrency(NAME, Some(1))).unwrap())
        .join()
        .unwrap();
    assert_eq!(cloud.function(NAME).unwrap().reserved_concurrency, Some(1));
}
