//! The narrow interface to AWS: only the calls shepherd makes. The AWS SDK adapter and the
//! in-memory fake both implement it; everything else is written against it.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use crate::model::{
    AlarmDefinition, AsyncConfig, CodeArtifact, FunctionConfig, ManagedFunction, MappingConfig,
    ObservedAlarm, ObservedAlias, ObservedFunction, ObservedMapping, ObservedVersion,
    ProvisionedConcurrency, QueueAttributes, S3ObjectHead, VersionMetrics,
};
use crate::spec::{Architecture, RecursiveLoop};

/// Why a call to AWS failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CloudError {
    /// AWS throttled the call (HTTP 429, `TooManyRequestsException`, `Throttling`).
    #[error("{api}: throttled by AWS")]
    Throttled {
        api: &'static str,
        retry_after: Option<Duration>,
    },
    /// AWS failed on its side (HTTP 5xx).
    #[error("{api}: AWS service error (HTTP {status}): {message}")]
    Server {
        api: &'static str,
        status: u16,
        message: String,
    },
    /// The call did not get an answer (connection reset, timed out).
    #[error("{api}: no answer from AWS: {message}")]
    Transport { api: &'static str, message: String },
    /// Nothing answers at the endpoint at all (connection refused, no such host): a
    /// wrong endpoint or no network. Tried again only briefly.
    #[error("{api}: cannot reach AWS: {message}")]
    Unreachable { api: &'static str, message: String },
    /// The function is being updated (`ResourceConflictException`): wait until it settles.
    #[error("{api}: the function is busy with another update: {message}")]
    Conflict { api: &'static str, message: String },
    /// The resource does not exist.
    #[error("{api}: not found: {message}")]
    NotFound { api: &'static str, message: String },
    /// A `RevisionId` or `CodeSha256` precondition did not hold.
    #[error("{api}: precondition failed: {message}")]
    PreconditionFailed { api: &'static str, message: String },
    /// The endpoint does not implement the API (the local emulator, for some calls).
    #[error("{api}: not implemented by this endpoint")]
    Unsupported { api: &'static str },
    /// AWS refused the request (validation, permissions, limits); retrying will not help.
    #[error("{api}: {code}: {message}")]
    Rejected {
        api: &'static str,
        code: String,
        message: String,
    },
}

impl CloudError {
    /// Whether trying again later may succeed: throttling, server errors, no answer.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            CloudError::Throttled { .. }
                | CloudError::Server { .. }
                | CloudError::Transport { .. }
                | CloudError::Unreachable { .. }
        )
    }

    /// A bounded label for metrics.
    pub fn metric_label(&self) -> &'static str {
        match self {
            CloudError::Throttled { .. } => "throttled",
            CloudError::Server { .. } => "server_error",
            CloudError::Transport { .. } => "transport",
            CloudError::Unreachable { .. } => "unreachable",
            CloudError::Conflict { .. } => "conflict",
            CloudError::NotFound { .. } => "not_found",
            CloudError::PreconditionFailed { .. } => "precondition_failed",
            CloudError::Unsupported { .. } => "unsupported",
            CloudError::Rejected { .. } => "rejected",
        }
    }

    /// What went wrong without AWS's own message, which may carry ARNs, account ids and
    /// request ids: safe to show to anyone who can read the status API.
    pub fn summary(&self) -> String {
        let api = self.api();
        match self {
            CloudError::Throttled { .. } => format!("{api}: throttled by AWS"),
            CloudError::Server { status, .. } => {
                format!("{api}: AWS service error (HTTP {status})")
            }
            CloudError::Transport { .. } => format!("{api}: no answer from AWS"),
            CloudError::Unreachable { .. } => format!("{api}: cannot reach AWS"),
            CloudError::Conflict { .. } => {
                format!("{api}: the function is busy with another update")
            }
            CloudError::NotFound { .. } => format!("{api}: not found"),
            CloudError::PreconditionFailed { .. } => format!("{api}: precondition failed"),
            CloudError::Unsupported { .. } => format!("{api}: not implemented by this endpoint"),
            CloudError::Rejected { code, .. } => format!("{api}: refused by AWS ({code})"),
        }
    }

    pub fn api(&self) -> &'static str {
        match self {
            CloudError::Throttled { api, .. }
            | CloudError::Server { api, .. }
            | CloudError::Transport { api, .. }
            | CloudError::Unreachable { api, .. }
            | CloudError::Conflict { api, .. }
            | CloudError::NotFound { api, .. }
            | CloudError::PreconditionFailed { api, .. }
            | CloudError::Unsupported { api }
            | CloudError::Rejected { api, .. } => api,
        }
    }
}

pub type CloudResult<T> = Result<T, CloudError>;

/// The kind of call, for budgeting: Lambda allows GetFunction 100 requests/s and all other
/// control-plane calls together 15/s per account and region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallClass {
    /// `GetFunction`: its own, larger quota.
    GetFunction,
    /// Every other Lambda control-plane call, reads and writes alike.
    LambdaControl,
    /// CloudWatch calls.
    CloudWatch,
    /// SQS calls (queue attributes): thousands per second are allowed, so not budgeted.
    Sqs,
    /// S3 `HeadObject`: thousands per second per prefix are allowed, so not budgeted.
    S3,
    /// ECR `DescribeImages`: one call per repository per pass (a call names up to 100
    /// tags), far below its quota, so not budgeted.
    Ecr,
}

/// Every AWS call shepherd makes.
///
/// Functions are named by name; `qualifier` is an alias name or version number. Reads of
/// optional sub-resources return `Ok(None)` when the resource does not exist.
pub trait Cloud: Send + Sync + 'static {
    /// `GetFunction`: configuration, code digest, state, tags and reserved concurrency.
    /// Aliases, versions and the other sub-resources are left unread.
    fn get_function(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Option<ObservedFunction>>> + Send;
    fn list_aliases(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Vec<ObservedAlias>>> + Send;
    /// Published versions (not `$LATEST`).
    fn list_versions(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Vec<ObservedVersion>>> + Send;
    fn get_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> impl Future<Output = CloudResult<Option<AsyncConfig>>> + Send;
    fn list_provisioned_concurrency(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Vec<ProvisionedConcurrency>>> + Send;
    fn get_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
    ) -> impl Future<Output = CloudResult<Option<ProvisionedConcurrency>>> + Send;
    fn get_recursive_loop(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<RecursiveLoop>> + Send;
    /// Mappings of one function (any qualifier), or of the whole account.
    fn list_mappings(
        &self,
        name: Option<&str>,
    ) -> impl Future<Output = CloudResult<Vec<ObservedMapping>>> + Send;
    /// An SQS queue's visibility timeout and redrive target, by ARN (`GetQueueUrl`, then
    /// `GetQueueAttributes`); `None` when the queue does not exist.
    fn get_queue_attributes(
        &self,
        queue_arn: &str,
    ) -> impl Future<Output = CloudResult<Option<QueueAttributes>>> + Send;
    /// An S3 object's ETag and version id (`HeadObject`); `None` when it does not exist.
    fn head_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = CloudResult<Option<S3ObjectHead>>> + Send;
    /// The digest (`sha256:...`) each of `tags` points to in the ECR repository
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME` (`DescribeImages`); tags that do not
    /// exist are left out.
    fn image_digests(
        &self,
        repository: &str,
        tags: &[String],
    ) -> impl Future<Output = CloudResult<BTreeMap<String, String>>> + Send;
    /// All functions in the account and region that carry shepherd's tag, with their
    /// recorded owners.
    fn list_managed_functions(
        &self,
    ) -> impl Future<Output = CloudResult<Vec<ManagedFunction>>> + Send;

    fn create_function(
        &self,
        name: &str,
        config: &FunctionConfig,
        architecture: Architecture,
        code: &CodeArtifact,
        tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn update_configuration(
        &self,
        name: &str,
        config: &FunctionConfig,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Returns the new `CodeSha256`.
    fn update_code(
        &self,
        name: &str,
        code: &CodeArtifact,
        architecture: Architecture,
    ) -> impl Future<Output = CloudResult<String>> + Send;
    /// Publishes `$LATEST`. A publish with nothing changed returns the existing version.
    fn publish_version(
        &self,
        name: &str,
        description: &str,
        expected_sha256: Option<&str>,
    ) -> impl Future<Output = CloudResult<ObservedVersion>> + Send;
    fn delete_version(
        &self,
        name: &str,
        version: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn create_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        description: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Points an alias at `version`, routing `weight` (0-1) of traffic to `additional`.
    fn update_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        additional: Option<(&str, f64)>,
        description: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// `None` removes the reservation.
    fn put_reserved_concurrency(
        &self,
        name: &str,
        count: Option<u32>,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn put_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
        count: u32,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn delete_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// `None` removes the config.
    fn put_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
        config: Option<&AsyncConfig>,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn put_recursive_loop(
        &self,
        name: &str,
        mode: RecursiveLoop,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Returns the mapping's UUID.
    fn create_mapping(
        &self,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> impl Future<Output = CloudResult<String>> + Send;
    fn update_mapping(
        &self,
        uuid: &str,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn delete_mapping(&self, uuid: &str) -> impl Future<Output = CloudResult<()>> + Send;
    fn tag_function(
        &self,
        arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn untag_function(
        &self,
        arn: &str,
        keys: &[String],
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn delete_function(&self, name: &str) -> impl Future<Output = CloudResult<()>> + Send;

    /// The metrics of one version behind an alias over `[start, end)` (Unix seconds):
    /// `GetMetricData` with the `ExecutedVersion` dimension. The p99 duration is asked for
    /// only with `p99` (an analysis that checks it): a percentile query costs more, and
    /// some endpoints cannot answer it.
    fn get_version_metrics(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        window: (u64, u64),
        p99: bool,
    ) -> impl Future<Output = CloudResult<VersionMetrics>> + Send;

    /// `DescribeAlarms` for at most 100 names; alarms that do not exist are left out.
    fn describe_alarms(
        &self,
        names: &[String],
    ) -> impl Future<Output = CloudResult<Vec<ObservedAlarm>>> + Send;
    fn put_alarm(&self, alarm: &AlarmDefinition) -> impl Future<Output = CloudResult<()>> + Send;
    fn delete_alarms(&self, names: &[String]) -> impl Future<Output = CloudResult<()>> + Send;
}

/// The budget class of each call, by API name.
pub fn call_class(api: &str) -> CallClass {
    match api {
        "GetFunction" => CallClass::GetFunction,
        "GetQueueUrl" | "GetQueueAttributes" => CallClass::Sqs,
        "HeadObject" => CallClass::S3,
        "DescribeImages" => CallClass::Ecr,
        "DescribeAlarms" | "PutMetricAlarm" | "DeleteAlarms" | "GetMetricData" => {
            CallClass::CloudWatch
        }
        _ => CallClass::LambdaControl,
    }
}

/// Whether an API name is a write (changes something in AWS).
pub fn is_write(api: &str) -> bool {
    !["Get", "List", "Describe", "Head"]
        .iter()
        .any(|read| api.starts_with(read))
}
