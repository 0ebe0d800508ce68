//! Error classification through the real SDK clients: the status, headers and bodies AWS
//! (and the emulator) send, parsed by the SDK, then classified by the adapter.

mod common;

use std::time::Duration;

use aws_sdk_cloudwatch::Client as CloudWatch;
use aws_sdk_lambda::Client as Lambda;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_mocks::mock;
use common::{cloudwatch_cloud, http, lambda_cloud, lambda_error, query_error};
use shepherd_aws::AwsCloud;
use shepherd_core::cloud::*;

#[tokio::test]
async fn http_429_is_throttled_with_retry_after_and_is_not_retried_by_the_sdk() {
    let rule = mock!(Lambda::get_function).then_http_response(|| {
        let mut response = lambda_error(429, "TooManyRequestsException", "Rate exceeded");
        response.headers_mut().insert("Retry-After", "3");
        response
    });
    let cloud = lambda_cloud(&[&rule]);
    let err = cloud.get_function("orders").await.unwrap_err();
    assert_eq!(
        err,
        CloudError::Throttled {
            api: Api::GetFunction,
            retry_after: Some(Duration::from_secs(3)),
        }
    );
    // Retries are shepherd's: the SDK must have made exactly one attempt.
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn http_429_without_code_is_throttled() {
    let rule = mock!(Lambda::list_aliases).then_http_response(|| http(429, &[], ""));
    let err = lambda_cloud(&[&rule])
        .list_aliases("orders")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CloudError::Throttled {
            api: Api::ListAliases,
            retry_after: None,
        }
    );
}

#[tokio::test]
async fn cloudwatch_throttling_is_throttled_despite_http_400() {
    let rule = mock!(CloudWatch::describe_alarms)
        .then_http_response(|| query_error(400, "Throttling", "Rate exceeded"));
    let err = cloudwatch_cloud(&[&rule])
        .describe_alarms(&["a".to_owned()])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CloudError::Throttled {
                api: Api::DescribeAlarms,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn http_500_is_a_server_error_and_is_not_retried_by_the_sdk() {
    let rule = mock!(Lambda::get_function)
        .then_http_response(|| lambda_error(500, "ServiceException", "internal failure"));
    let cloud = lambda_cloud(&[&rule]);
    let err = cloud.get_function("orders").await.unwrap_err();
    assert!(
        matches!(err, CloudError::Server { api: Api::GetFunction, status: 500, ref message } if message == "internal failure"),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn http_503_without_body_is_a_server_error() {
    let rule = mock!(Lambda::get_function).then_http_response(|| http(503, &[], ""));
    let err = lambda_cloud(&[&rule])
        .get_function("orders")
        .await
        .unwrap_err();
    assert!(
        matches!(err, CloudError::Server { status: 503, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn resource_conflict_is_a_conflict() {
    let rule = mock!(Lambda::update_function_code).then_http_response(|| {
        lambda_error(
            409,
            "ResourceConflictException",
            "The operation cannot be performed at this time. An update is in progress",
        )
    });
    let code = shepherd_core::model::CodeArtifact::image(
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:1",
    );
    let err = lambda_cloud(&[&rule])
        .update_code("orders", &code, shepherd_core::spec::Architecture::X86_64)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CloudError::Conflict { api: Api::UpdateFunctionCode, ref message } if message.contains("in progress")),
        "{err:?}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn precondition_failed_is_recognised() {
    let rule = mock!(Lambda::publish_version).then_http_response(|| {
        lambda_error(
            412,
            "PreconditionFailedException",
            "CodeSHA256 (abc) is different from current CodeSHA256 in $LATEST (def)",
        )
    });
    let err = lambda_cloud(&[&rule])
        .publish_version("orders", "release", Some("abc"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CloudError::PreconditionFailed {
                api: Api::PublishVersion,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn http_404_without_code_is_unsupported() {
    // The emulator's answer to an API it does not route: an HTML page, no error code.
    let rule = mock!(Lambda::put_provisioned_concurrency_config).then_http_response(|| {
        http(
            404,
            &[("Content-Type", "text/html")],
            "<!doctype html><title>404 Not Found</title><h1>Not Found</h1>",
        )
    });
    let err = lambda_cloud(&[&rule])
        .put_provisioned_concurrency("orders", "live", 5)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CloudError::Unsupported {
            api: Api::PutProvisionedConcurrencyConfig
        }
    );
}

#[tokio::test]
async fn http_404_with_code_is_not_found() {
    let rule = mock!(Lambda::delete_event_source_mapping).then_http_response(|| {
        lambda_error(
            404,
            "ResourceNotFoundException",
            "The resource you requested does not exist.",
        )
    });
    let err = lambda_cloud(&[&rule])
        .delete_mapping("u-1")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CloudError::NotFound {
                api: Api::DeleteEventSourceMapping,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn cloudwatch_html_404_is_unsupported() {
    let rule = mock!(CloudWatch::put_metric_alarm).then_http_response(|| {
        http(
            404,
            &[("Content-Type", "text/html")],
            "<html>Not Found</html>",
        )
    });
    let alarm = shepherd_core::model::AlarmDefinition {
        name: "orders-errors".to_owned(),
        metric: shepherd_core::model::AlarmMetric::Errors,
        statistic: "Sum".to_owned(),
        dimensions: Default::default(),
        threshold: 1.0,
        period_secs: 60,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        description: String::new(),
    };
    let err = cloudwatch_cloud(&[&rule])
        .put_alarm(&alarm)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CloudError::Unsupported {
            api: Api::PutMetricAlarm
        }
    );
}

#[tokio::test]
async fn validation_errors_are_rejected_with_their_code() {
    let rule = mock!(Lambda::update_function_configuration).then_http_response(|| {
        lambda_error(400, "InvalidParameterValueException", "Unsupported runtime")
    });
    let config = shepherd_core::model::FunctionConfig {
        description: String::new(),
        role: "arn:aws:iam::123456789012:role/r".to_owned(),
        package: shepherd_core::model::Package::Image,
        memory: 128,
        timeout_secs: 3,
        ephemeral_storage: 512,
        environment: Default::default(),
        kms_key_arn: None,
        vpc: None,
        tracing: shepherd_core::spec::TracingMode::PassThrough,
        logging: None,
        snap_start: shepherd_core::spec::SnapStart::Off,
        layers: Vec::new(),
        dead_letter_target: None,
    };
    let err = lambda_cloud(&[&rule])
        .update_configuration("orders", &config)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        CloudError::Rejected {
            api: Api::UpdateFunctionConfiguration,
            code: "InvalidParameterValueException".to_owned(),
            message: "Unsupported runtime".to_owned(),
        }
    );
}

#[tokio::test]
async fn a_refused_connection_is_an_unreachable_endpoint() {
    // Nothing listens on port 1: the connection is refused at once.
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url("http://127.0.0.1:1")
        .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
        .build();
    let cloudwatch = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatch::config::Region::new("eu-west-1"))
        .build();
    let cloud = AwsCloud::new(Lambda::from_conf(config), CloudWatch::from_conf(cloudwatch));
    let err = cloud.get_function("orders").await.unwrap_err();
    assert_eq!(
        err,
        CloudError::Unreachable {
            api: Api::GetFunction,
            message: "connection refused (os error 111)".to_owned(),
        }
    );
    assert!(err.is_retryable());
}
