//! The resource model shared by the desired and the observed side: what shepherd manages
//! for a function, normalized so that desired and observed compare field by field.

mod content;
mod desired;
mod digest;
pub mod lambda;
mod observed;
mod owner;
mod sections;
mod tag_values;

use std::collections::BTreeMap;

use serde::Serialize;

pub use content::{
    CodeContent, EcrRepository, Identified, ResolvedContent, S3ObjectHead, content_moved,
    ecr_repository, identify, repository_of,
};
pub use desired::{
    CodeArtifact, DesiredAlias, DesiredFunction, ProvisionedTarget, analysis_config, resolve,
};
pub use digest::short_digest;
pub use observed::{
    CanaryMetrics, FunctionBasics, FunctionState, GateReading, LastUpdateStatus, Observation,
    ObservedAlias, ObservedFunction, ObservedVersion, ProvisionedConcurrency, ProvisionedStatus,
    QueueAttributes, Readable,
};
pub use owner::{ManagedFunction, Owner, Ownership, ownership};
pub use sections::{Section, SectionDigests};
pub use tag_values::{CodeIdentity, CodeTag, ReleaseTag};

use crate::spec::{
    ApplicationLogLevel, LogFormat, RecursiveLoop, SnapStart, SystemLogLevel, TracingMode,
};

/// Tag keys shepherd writes on the functions it manages.
pub mod tags {
    /// Marks a function as managed; the value is `shepherd`.
    pub const MANAGED_BY: &str = "shepherd.dev/managed-by";
    pub const MANAGED_BY_VALUE: &str = "shepherd";
    /// The spec source that manages the function (see [`super::Owner`]).
    pub const OWNER: &str = "shepherd.dev/owner";
    /// Digest of the whole spec last applied in full (written last: a commit marker).
    pub const SPEC_DIGEST: &str = "shepherd.dev/spec-digest";
    /// The digest of each section of that spec ([`super::SectionDigests`]), written with
    /// it: a changed spec reads only what its changed sections can touch.
    pub const SECTIONS: &str = "shepherd.dev/sections";
    /// The published version that embodies the code and configuration with a release
    /// digest ([`super::ReleaseTag`]).
    pub const RELEASE: &str = "shepherd.dev/release";
    /// The code last deployed and the `CodeSha256` it produced ([`super::CodeTag`]).
    pub const CODE: &str = "shepherd.dev/code";
    /// Digest of the configuration and architecture AWS reported right after shepherd's
    /// last write ([`super::kept_digest`]): a setting AWS did not keep is then told apart
    /// from one changed behind shepherd's back.
    pub const CONFIG_KEPT: &str = "shepherd.dev/config-kept";

    /// Every tag shepherd writes on a function.
    pub const OWN: [&str; 7] = [
        MANAGED_BY,
        OWNER,
        SPEC_DIGEST,
        SECTIONS,
        RELEASE,
        CODE,
        CONFIG_KEPT,
    ];

    /// Lambda allows 50 tags a function (those AWS writes, `aws:...`, not counted).
    pub const LAMBDA_LIMIT: usize = 50;

    /// The tags a spec may set: what Lambda allows, less shepherd's own.
    pub const SPEC_LIMIT: usize = LAMBDA_LIMIT - OWN.len();
}

/// The digest recorded in [`tags::CONFIG_KEPT`].
pub fn kept_digest(config: &FunctionConfig, architecture: crate::spec::Architecture) -> String {
    short_digest(&(config, architecture))
}

/// How the function is packaged, with the settings that only apply to one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "packageType")]
pub enum Package {
    Zip { handler: String, runtime: String },
    Image,
}

/// Everything `UpdateFunctionConfiguration` sets, with AWS's defaults filled in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionConfig {
    pub description: String,
    pub role: String,
    pub package: Package,
    pub memory: u32,
    pub timeout_secs: u32,
    pub ephemeral_storage: u32,
    pub environment: BTreeMap<String, String>,
    pub kms_key_arn: Option<String>,
    pub vpc: Option<VpcConfig>,
    pub tracing: TracingMode,
    /// `None` when AWS did not report it (the emulator does not): not compared then.
    pub logging: Option<LoggingConfig>,
    pub snap_start: SnapStart,
    pub layers: Vec<String>,
    pub dead_letter_target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VpcConfig {
    /// Sorted, so that order does not count as a difference.
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
    pub ipv6_allowed_for_dual_stack: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggingConfig {
    pub format: LogFormat,
    pub application_log_level: Option<ApplicationLogLevel>,
    pub system_log_level: Option<SystemLogLevel>,
    pub log_group: String,
}

/// The asynchronous invocation settings (`PutFunctionEventInvokeConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AsyncConfig {
    pub maximum_retry_attempts: u8,
    pub maximum_event_age_secs: u32,
    pub on_success: Option<String>,
    pub on_failure: Option<String>,
}

/// An SQS event source mapping's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MappingConfig {
    pub queue_arn: String,
    pub batch_size: u32,
    pub batching_window_secs: u32,
    pub enabled: bool,
    pub maximum_concurrency: Option<u32>,
    pub report_batch_item_failures: bool,
    /// Filter patterns as compact JSON with sorted keys, so that the same pattern always
    /// compares equal whoever wrote it. Left out of the digest when empty, so that specs
    /// without filters keep the digest they had.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
}

/// A filter pattern in the form [`MappingConfig::filters`] compares: compact JSON, keys
/// sorted. Text that is not JSON is kept as it is.
pub fn canonical_filter(pattern: &str) -> String {
    serde_json::from_str::<serde_json::Value>(pattern)
        .map(|value| canonical_json(value).to_string())
        .unwrap_or_else(|_| pattern.to_owned())
}

/// The same JSON with every object's keys in sorted order (insertion order is what
/// serializes).
pub fn canonical_json(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let sorted: BTreeMap<String, serde_json::Value> = map
                .into_iter()
                .map(|(k, v)| (k, canonical_json(v)))
                .collect();
            serde_json::Value::Object(sorted.into_iter().collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(canonical_json).collect())
        }
        other => other,
    }
}

/// A mapping as it exists in AWS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedMapping {
    pub uuid: String,
    /// The function or alias ARN the mapping invokes.
    pub function_arn: String,
    pub config: MappingConfig,
}

/// The metric a managed alarm watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AlarmMetric {
    Errors,
    Throttles,
    Duration,
}

impl AlarmMetric {
    pub fn suffix(self) -> &'static str {
        match self {
            AlarmMetric::Errors => "errors",
            AlarmMetric::Throttles => "throttles",
            AlarmMetric::Duration => "duration",
        }
    }

    pub fn metric_name(self) -> &'static str {
        match self {
            AlarmMetric::Errors => "Errors",
            AlarmMetric::Throttles => "Throttles",
            AlarmMetric::Duration => "Duration",
        }
    }
}

/// A CloudWatch alarm shepherd manages (`PutMetricAlarm`), in the form DescribeAlarms
/// reports it back.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmDefinition {
    pub name: String,
    pub metric: AlarmMetric,
    /// `Sum` for counts, or an extended statistic such as `p99`.
    pub statistic: String,
    /// Dimensions: FunctionName, plus Resource (`function:alias`) when the alarm watches an
    /// alias.
    pub dimensions: BTreeMap<String, String>,
    pub threshold: f64,
    pub period_secs: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub description: String,
}

/// The state of a CloudWatch alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum AlarmState {
    Ok,
    Alarm,
    InsufficientData,
}

impl AlarmState {
    /// A state as CloudWatch names it (`OK`, `ALARM`, `INSUFFICIENT_DATA`), as in
    /// EventBridge's alarm state change events.
    pub fn from_cloudwatch(value: &str) -> Option<Self> {
        match value {
            "OK" => Some(AlarmState::Ok),
            "ALARM" => Some(AlarmState::Alarm),
            "INSUFFICIENT_DATA" => Some(AlarmState::InsufficientData),
            _ => None,
        }
    }
}

/// An alarm as DescribeAlarms reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedAlarm {
    pub definition: AlarmDefinition,
    pub state: AlarmState,
    pub state_reason: String,
    /// When the alarm entered its state (Unix seconds), if known.
    pub state_since: Option<u64>,
}

/// The recursion setting, with its default.
pub fn recursive_loop_or_default(mode: Option<RecursiveLoop>) -> RecursiveLoop {
    mode.unwrap_or(RecursiveLoop::Terminate)
}

/// The new version's own metrics over a window (CloudWatch `ExecutedVersion` dimension).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VersionMetrics {
    pub invocations: f64,
    pub errors: f64,
    /// p99 duration in milliseconds, when there were invocations.
    pub p99_ms: Option<f64>,
}

/// A rollout's synthetic traffic, with defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrafficConfig {
    /// The event each invocation sends, as JSON text.
    pub payload: String,
    pub invocations: u32,
    pub concurrency: u32,
    pub max_errors: u32,
}

/// A rollout's metric analysis, with defaults filled in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AnalysisConfig {
    /// Percent.
    pub max_error_rate: Option<f64>,
    pub max_p99_ms: Option<f64>,
    pub min_invocations: u32,
    pub inconclusive_timeout_secs: u64,
    pub on_inconclusive: crate::spec::OnInconclusive,
}
