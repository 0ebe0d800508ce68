//! shepherd's AWS adapter: [`Cloud`] implemented with the AWS SDK for Rust, over Lambda and
//! CloudWatch, with SQS (event source queues), S3 and ECR (code identity) for reads.
//!
//! The adapter is deliberately thin. Each trait method makes one API call (a `List*` one
//! call per page), with the single documented exception of
//! [`Cloud::list_managed_functions`]. The SDK's own retries are off: shepherd budgets and
//! retries every call itself (Lambda allows 15 control-plane requests per second per
//! account and region), which only works if every attempt goes through it. Errors are
//! classified in one place (the `error` module) into the kinds the engine acts on.
//!
//! - `convert`: SDK shapes to and from the model, AWS defaults filled in.
//! - `lambda`, `cloudwatch`, `sqs`, `s3`, `ecr`: the calls.
//! - `error`: `SdkError` to [`CloudError`](shepherd_core::cloud::CloudError).

mod cloudwatch;
mod convert;
mod ecr;
mod error;
mod lambda;
mod s3;
mod sqs;

pub use sqs::{SqsMessage, SqsQueue};

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use shepherd_core::cloud::{Cloud, CloudResult};
use shepherd_core::model::{
    AlarmDefinition, AsyncConfig, CodeArtifact, FunctionConfig, ManagedFunction, MappingConfig,
    ObservedAlarm, ObservedAlias, ObservedFunction, ObservedMapping, ObservedVersion,
    ProvisionedConcurrency, QueueAttributes, S3ObjectHead,
};
use shepherd_core::spec::{Architecture, RecursiveLoop};

/// Time to open a connection: an endpoint that does not accept one in this time is down.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for one attempt of a call, response included. Control-plane calls answer in well
/// under a second; this bounds a hung connection, not a slow API.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The AWS clients shepherd uses.
#[derive(Debug, Clone)]
pub struct AwsCloud {
    lambda: aws_sdk_lambda::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    ecr: aws_sdk_ecr::Client,
}

impl AwsCloud {
    /// Clients from the environment's configuration (credentials chain, `AWS_REGION`,
    /// `AWS_ENDPOINT_URL`), with `region` and `endpoint_url` taking precedence when given.
    /// SDK retries are disabled and timeouts set (see [`CONNECT_TIMEOUT`],
    /// [`ATTEMPT_TIMEOUT`]).
    pub async fn from_env(region: Option<String>, endpoint_url: Option<String>) -> AwsCloud {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts());
        if let Some(region) = region {
            loader = loader.region(Region::new(region));
        }
        let endpoint_given = endpoint_url.is_some();
        if let Some(endpoint_url) = endpoint_url {
            loader = loader.endpoint_url(endpoint_url);
        }
        let sdk_config = loader.load().await;
        // An endpoint given by URL (a local emulator, a VPC endpoint) has no bucket
        // subdomains: name the bucket in the path.
        let s3 = aws_sdk_s3::config::Builder::from(&sdk_config)
            .force_path_style(endpoint_given)
            .build();
        AwsCloud {
            lambda: aws_sdk_lambda::Client::new(&sdk_config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk_config),
            sqs: aws_sdk_sqs::Client::new(&sdk_config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            ecr: aws_sdk_ecr::Client::new(&sdk_config),
        }
    }

    /// Wraps existing clients. Their retries are turned off whatever they were configured
    /// with, since shepherd must see every attempt; everything else is kept.
    pub fn new(lambda: aws_sdk_lambda::Client, cloudwatch: aws_sdk_cloudwatch::Client) -> AwsCloud {
        let lambda = aws_sdk_lambda::Client::from_conf(
            lambda
                .config()
                .to_builder()
                .retry_config(RetryConfig::disabled())
                .build(),
        );
        let cloudwatch = aws_sdk_cloudwatch::Client::from_conf(
            cloudwatch
                .config()
                .to_builder()
                .retry_config(RetryConfig::disabled())
                .build(),
        );
        // Queues and code identity are only read; clients of the same region without
        // credentials fail those reads clearly, and the planner carries on without them
        // (see `with_sqs`, `with_s3`, `with_ecr`).
        let region = lambda.config().region().map(|r| r.to_string());
        macro_rules! read_only_client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::Config::builder()
                        .behavior_version(BehaviorVersion::latest())
                        .region(region.clone().map($sdk::config::Region::new))
                        .build(),
                )
            };
        }
        AwsCloud {
            lambda,
            cloudwatch,
            sqs: read_only_client!(aws_sdk_sqs),
            s3: read_only_client!(aws_sdk_s3),
            ecr: read_only_client!(aws_sdk_ecr),
        }
    }

    /// The SQS client for queue attributes.
    pub fn with_sqs(mut self, sqs: aws_sdk_sqs::Client) -> Self {
        self.sqs = sqs;
        self
    }

    /// The S3 client for the code's object identity.
    pub fn with_s3(mut self, s3: aws_sdk_s3::Client) -> Self {
        self.s3 = s3;
        self
    }

    /// The ECR client for the code's image digests.
    pub fn with_ecr(mut self, ecr: aws_sdk_ecr::Client) -> Self {
        self.ecr = ecr;
        self
    }

    pub fn lambda(&self) -> &aws_sdk_lambda::Client {
        &self.lambda
    }

    pub fn cloudwatch(&self) -> &aws_sdk_cloudwatch::Client {
        &self.cloudwatch
    }
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

impl Cloud for AwsCloud {
    /// `GetFunction`. `ResourceNotFoundException` is `Ok(None)`. A function whose tags
    /// cannot be read (`TagsError`) is an error, not a function without tags.
    async fn get_function(&self, name: &str) -> CloudResult<Option<ObservedFunction>> {
        lambda::get_function(&self.lambda, name).await
    }

    /// `ListAliases`, one call per page.
    async fn list_aliases(&self, name: &str) -> CloudResult<Vec<ObservedAlias>> {
        lambda::list_aliases(&self.lambda, name).await
    }

    /// `ListVersionsByFunction`, one call per page.
    async fn list_versions(&self, name: &str) -> CloudResult<Vec<ObservedVersion>> {
        lambda::list_versions(&self.lambda, name).await
    }

    /// `GetFunctionEventInvokeConfig`; AWS's defaults (2 retries, 6 hours) fill absent
    /// fields.
    async fn get_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> CloudResult<Option<AsyncConfig>> {
        lambda::get_async_config(&self.lambda, name, qualifier).await
    }

    /// `ListProvisionedConcurrencyConfigs`, one call per page.
    async fn list_provisioned_concurrency(
        &self,
        name: &str,
    ) -> CloudResult<Vec<ProvisionedConcurrency>> {
        lambda::list_provisioned_concurrency(&self.lambda, name).await
    }

    /// `GetProvisionedConcurrencyConfig`.
    async fn get_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
    ) -> CloudResult<Option<ProvisionedConcurrency>> {
        lambda::get_provisioned_concurrency(&self.lambda, name, qualifier).await
    }

    /// `GetFunctionRecursionConfig`.
    async fn get_recursive_loop(&self, name: &str) -> CloudResult<RecursiveLoop> {
        lambda::get_recursive_loop(&self.lambda, name).await
    }

    /// `ListEventSourceMappings`, one call per page; SQS mappings only. `name` may be
    /// `name:alias`.
    async fn list_mappings(&self, name: Option<&str>) -> CloudResult<Vec<ObservedMapping>> {
        lambda::list_mappings(&self.lambda, name).await
    }

    /// `GetQueueUrl` from the ARN's name and account, then `GetQueueAttributes`.
    async fn get_queue_attributes(&self, queue_arn: &str) -> CloudResult<Option<QueueAttributes>> {
        sqs::queue_attributes(&self.sqs, queue_arn).await
    }

    /// `HeadObject`.
    async fn head_object(&self, bucket: &str, key: &str) -> CloudResult<Option<S3ObjectHead>> {
        s3::head_object(&self.s3, bucket, key).await
    }

    /// `DescribeImages`, one call for all tags (one per tag when some are missing).
    async fn image_digests(
        &self,
        repository: &str,
        tags: &[String],
    ) -> CloudResult<BTreeMap<String, String>> {
        ecr::image_digests(&self.ecr, repository, tags).await
    }

    /// `ListFunctions` pages, then one `ListTags` per function: for `--prune` only.
    async fn list_managed_functions(&self) -> CloudResult<Vec<ManagedFunction>> {
        lambda::list_managed_functions(&self.lambda).await
    }

    /// `CreateFunction`, unpublished.
    async fn create_function(
        &self,
        name: &str,
        config: &FunctionConfig,
        architecture: Architecture,
        code: &CodeArtifact,
        tags: &BTreeMap<String, String>,
    ) -> CloudResult<()> {
        lambda::create_function(&self.lambda, name, config, architecture, code, tags).await
    }

    /// `UpdateFunctionConfiguration`, every setting sent.
    async fn update_configuration(&self, name: &str, config: &FunctionConfig) -> CloudResult<()> {
        lambda::update_configuration(&self.lambda, name, config).await
    }

    /// `UpdateFunctionCode`.
    async fn update_code(
        &self,
        name: &str,
        code: &CodeArtifact,
        architecture: Architecture,
    ) -> CloudResult<String> {
        lambda::update_code(&self.lambda, name, code, architecture).await
    }

    /// `PublishVersion`.
    async fn publish_version(
        &self,
        name: &str,
        description: &str,
        expected_sha256: Option<&str>,
    ) -> CloudResult<ObservedVersion> {
        lambda::publish_version(&self.lambda, name, description, expected_sha256).await
    }

    /// `DeleteFunction` with `Qualifier`.
    async fn delete_version(&self, name: &str, version: &str) -> CloudResult<()> {
        lambda::delete_version(&self.lambda, name, version).await
    }

    /// `CreateAlias`.
    async fn create_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        description: &str,
    ) -> CloudResult<()> {
        lambda::create_alias(&self.lambda, name, alias, version, description).await
    }

    /// `UpdateAlias`; without `additional`, the weights are cleared.
    async fn update_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        additional: Option<(&str, f64)>,
        description: &str,
    ) -> CloudResult<()> {
        lambda::update_alias(&self.lambda, name, alias, version, additional, description).await
    }

    /// `PutFunctionConcurrency` or `DeleteFunctionConcurrency`.
    async fn put_reserved_concurrency(&self, name: &str, count: Option<u32>) -> CloudResult<()> {
        lambda::put_reserved_concurrency(&self.lambda, name, count).await
    }

    /// `PutProvisionedConcurrencyConfig`.
    async fn put_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
        count: u32,
    ) -> CloudResult<()> {
        lambda::put_provisioned_concurrency(&self.lambda, name, qualifier, count).await
    }

    /// `DeleteProvisionedConcurrencyConfig`.
    async fn delete_provisioned_concurrency(&self, name: &str, qualifier: &str) -> CloudResult<()> {
        lambda::delete_provisioned_concurrency(&self.lambda, name, qualifier).await
    }

    /// `PutFunctionEventInvokeConfig` or `DeleteFunctionEventInvokeConfig`.
    async fn put_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
        config: Option<&AsyncConfig>,
    ) -> CloudResult<()> {
        lambda::put_async_config(&self.lambda, name, qualifier, config).await
    }

    /// `PutFunctionRecursionConfig`.
    async fn put_recursive_loop(&self, name: &str, mode: RecursiveLoop) -> CloudResult<()> {
        lambda::put_recursive_loop(&self.lambda, name, mode).await
    }

    /// `CreateEventSourceMapping`.
    async fn create_mapping(
        &self,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> CloudResult<String> {
        lambda::create_mapping(&self.lambda, name, qualifier, config).await
    }

    /// `UpdateEventSourceMapping`.
    async fn update_mapping(
        &self,
        uuid: &str,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> CloudResult<()> {
        lambda::update_mapping(&self.lambda, uuid, name, qualifier, config).await
    }

    /// `DeleteEventSourceMapping`.
    async fn delete_mapping(&self, uuid: &str) -> CloudResult<()> {
        lambda::delete_mapping(&self.lambda, uuid).await
    }

    /// `TagResource` (no call for no tags).
    async fn tag_function(&self, arn: &str, tags: &BTreeMap<String, String>) -> CloudResult<()> {
        lambda::tag_function(&self.lambda, arn, tags).await
    }

    /// `UntagResource` (no call for no keys).
    async fn untag_function(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        lambda::untag_function(&self.lambda, arn, keys).await
    }

    /// `DeleteFunction`.
    async fn delete_function(&self, name: &str) -> CloudResult<()> {
        lambda::delete_function(&self.lambda, name).await
    }

    /// `GetMetricData` on the version's `ExecutedVersion` dimension.
    async fn get_version_metrics(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        window: (u64, u64),
        p99: bool,
    ) -> CloudResult<shepherd_core::model::VersionMetrics> {
        cloudwatch::version_metrics(&self.cloudwatch, name, alias, version, window, p99).await
    }

    /// `DescribeAlarms`, metric and composite alarms (no call for no names).
    async fn describe_alarms(&self, names: &[String]) -> CloudResult<Vec<ObservedAlarm>> {
        cloudwatch::describe_alarms(&self.cloudwatch, names).await
    }

    /// `PutMetricAlarm`.
    async fn put_alarm(&self, alarm: &AlarmDefinition) -> CloudResult<()> {
        cloudwatch::put_alarm(&self.cloudwatch, alarm).await
    }

    /// `DeleteAlarms` (no call for no names).
    async fn delete_alarms(&self, names: &[String]) -> CloudResult<()> {
        cloudwatch::delete_alarms(&self.cloudwatch, names).await
    }
}
