//! The ports: one trait per resource, and [`Cloud`] over them all.
//!
//! Functions are named by name; `qualifier` is an alias name or version number. Reads of
//! optional sub-resources return `Ok(None)` when the resource does not exist.

use std::collections::BTreeMap;
use std::future::Future;

use super::error::CloudResult;
use crate::model::{
    AlarmDefinition, AsyncConfig, CodeArtifact, FunctionConfig, ManagedFunction, MappingConfig,
    ObservedAlarm, ObservedAlias, ObservedFunction, ObservedMapping, ObservedVersion,
    ProvisionedConcurrency, QueueAttributes, S3ObjectHead, VersionMetrics,
};
use crate::spec::{Architecture, RecursiveLoop};

/// A function itself: its configuration, code, tags and recursion setting, and the
/// account's list of managed functions.
pub trait Functions: Send + Sync + 'static {
    /// `GetFunction`: configuration, code digest, state, tags and reserved concurrency.
    /// Aliases, versions and the other sub-resources are left unread.
    fn get_function(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Option<ObservedFunction>>> + Send;
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
    fn get_recursive_loop(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<RecursiveLoop>> + Send;
    fn put_recursive_loop(
        &self,
        name: &str,
        mode: RecursiveLoop,
    ) -> impl Future<Output = CloudResult<()>> + Send;
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
}

/// Published versions and the aliases that route traffic to them.
pub trait Aliases: Send + Sync + 'static {
    /// Published versions (not `$LATEST`).
    fn list_versions(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Vec<ObservedVersion>>> + Send;
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
    fn list_aliases(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Vec<ObservedAlias>>> + Send;
    fn create_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        description: &str,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Points an alias at `version`, routing `weight` (0-1) of traffic to `additional`.
    /// With `revision`, only if the alias is still at that `RevisionId`
    /// (`PreconditionFailed` otherwise). Returns the alias's new `RevisionId`, if the
    /// endpoint gives one.
    fn update_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        additional: Option<(&str, f64)>,
        description: &str,
        revision: Option<&str>,
    ) -> impl Future<Output = CloudResult<Option<String>>> + Send;
}

/// Reserved and provisioned concurrency.
pub trait Concurrency: Send + Sync + 'static {
    /// `None` removes the reservation.
    fn put_reserved_concurrency(
        &self,
        name: &str,
        count: Option<u32>,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    fn list_provisioned_concurrency(
        &self,
        name: &str,
    ) -> impl Future<Output = CloudResult<Vec<ProvisionedConcurrency>>> + Send;
    fn get_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
    ) -> impl Future<Output = CloudResult<Option<ProvisionedConcurrency>>> + Send;
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
}

/// How events reach a function: asynchronous invocation settings and event source
/// mappings.
pub trait EventSources: Send + Sync + 'static {
    fn get_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> impl Future<Output = CloudResult<Option<AsyncConfig>>> + Send;
    /// `None` removes the config.
    fn put_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
        config: Option<&AsyncConfig>,
    ) -> impl Future<Output = CloudResult<()>> + Send;
    /// Mappings of one function (any qualifier), or of the whole account.
    fn list_mappings(
        &self,
        name: Option<&str>,
    ) -> impl Future<Output = CloudResult<Vec<ObservedMapping>>> + Send;
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
}

/// The SQS queues event sources read from.
pub trait Queues: Send + Sync + 'static {
    /// An SQS queue's visibility timeout and redrive target, by ARN (`GetQueueUrl`, then
    /// `GetQueueAttributes`); `None` when the queue does not exist.
    fn get_queue_attributes(
        &self,
        queue_arn: &str,
    ) -> impl Future<Output = CloudResult<Option<QueueAttributes>>> + Send;
}

/// What an S3 code reference names now.
pub trait ObjectStore: Send + Sync + 'static {
    /// An S3 object's ETag and version id (`HeadObject`); `None` when it does not exist.
    fn head_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = CloudResult<Option<S3ObjectHead>>> + Send;
}

/// What an ECR image tag names now.
pub trait ImageRegistry: Send + Sync + 'static {
    /// The digest (`sha256:...`) each of `tags` points to in the ECR repository
    /// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME` (`DescribeImages`); tags that do not
    /// exist are left out.
    fn image_digests(
        &self,
        repository: &str,
        tags: &[String],
    ) -> impl Future<Output = CloudResult<BTreeMap<String, String>>> + Send;
}

/// CloudWatch alarms: the ones shepherd manages and the ones that gate rollouts.
pub trait Alarms: Send + Sync + 'static {
    /// `DescribeAlarms` for at most 100 names; alarms that do not exist are left out.
    fn describe_alarms(
        &self,
        names: &[String],
    ) -> impl Future<Output = CloudResult<Vec<ObservedAlarm>>> + Send;
    fn put_alarm(&self, alarm: &AlarmDefinition) -> impl Future<Output = CloudResult<()>> + Send;
    fn delete_alarms(&self, names: &[String]) -> impl Future<Output = CloudResult<()>> + Send;
}

/// The canary's own metrics, for rollout analysis.
pub trait CanaryMetricsSource: Send + Sync + 'static {
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
}

/// What one synchronous invocation returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The HTTP status Lambda answered (200 for a synchronous invocation that ran).
    pub status: u16,
    /// `Unhandled` or `Handled` when the function failed (`X-Amz-Function-Error`).
    pub function_error: Option<String>,
    /// What the function returned (or its error document), as text.
    pub payload: String,
    /// The version that ran (`X-Amz-Executed-Version`), when Lambda says.
    pub executed_version: Option<String>,
}

/// Running functions: smoke tests (hooks) and synthetic traffic to a canary.
pub trait Invoke: Send + Sync + 'static {
    /// Invokes `function` (a name or ARN) at `qualifier` (a version or alias) synchronously
    /// (`RequestResponse`) with `payload`.
    fn invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &str,
    ) -> impl Future<Output = CloudResult<Invocation>> + Send;
}

/// A call to one of the team's own HTTP endpoints (a rollout hook). Header values and
/// the signing key are named, not given: the adapter holds the secrets of the
/// controller's configuration and fills them in, so no secret passes through a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebRequest {
    pub method: &'static str,
    pub url: String,
    /// Header name and the name of the secret that is its value.
    pub secret_headers: Vec<(String, String)>,
    /// The name of the secret that signs the body (`X-Shepherd-Signature-256`).
    pub signing_secret: Option<String>,
    pub body: String,
    /// For one attempt, response included.
    pub timeout: std::time::Duration,
}

/// What an endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebResponse {
    pub status: u16,
    /// The body, cut to a few kilobytes.
    pub body: String,
}

/// Calls to the team's own HTTP endpoints. One attempt per call; the caller retries.
pub trait Web: Send + Sync + 'static {
    /// `Transport` for a timeout or a dropped connection, `Unreachable` when nothing
    /// answers, `Rejected` for a request that cannot be made (a secret that is not
    /// configured, a URL the configuration does not allow).
    fn call(&self, request: &WebRequest) -> impl Future<Output = CloudResult<WebResponse>> + Send;
}

/// Every AWS call shepherd makes: what the engine is written against, so that its bounds
/// stay one word. Implemented for everything that implements each port.
pub trait Cloud:
    Functions
    + Aliases
    + Concurrency
    + EventSources
    + Queues
    + ObjectStore
    + ImageRegistry
    + Alarms
    + CanaryMetricsSource
    + Invoke
    + Web
{
}

impl<T> Cloud for T where
    T: Functions
        + Aliases
        + Concurrency
        + EventSources
        + Queues
        + ObjectStore
        + ImageRegistry
        + Alarms
        + CanaryMetricsSource
        + Invoke
        + Web
{
}
