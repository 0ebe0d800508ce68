//! The desired-state spec: what a team commits to git for each function.
//!
//! A spec file holds one or more YAML documents of `kind: Function`. The types here are the
//! single source of truth: the JSON Schema (`shepherd schema`) is generated from them, and
//! validation checks documents against that schema before deserializing them.

mod alarms;
mod code;
mod duration;
mod hooks;
mod invocation;
pub mod patterns;
mod rollout;
mod settings;
mod traffic;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use alarms::{AlarmWindow, Alarms, CountAlarm, DurationAlarm};
pub use code::{Code, CodeSource, S3Code};
pub use duration::{DURATION_PATTERN, HumanDuration};
pub use hooks::{Gate, GateKind, Gates, Hook, Hooks, HttpHook, HttpMethod, SecretName};
pub use invocation::{Alias, AsyncInvocation, EventSources, SqsSource};
pub use rollout::{Analysis, OnInconclusive, Pause, Rollout, RolloutStep, Step, Strategy};
pub use settings::{
    ApplicationLogLevel, Architecture, LogFormat, Logging, RecursiveLoop, Runtime, SecretRef,
    SnapStart, SystemLogLevel, TracingMode, Vpc,
};
pub use traffic::{
    DEFAULT_TRAFFIC_CONCURRENCY, DEFAULT_TRAFFIC_INVOCATIONS, MAX_TRAFFIC_PAYLOAD_BYTES, Traffic,
};

/// The `apiVersion` of this spec format.
pub const API_VERSION: &str = "shepherd.dev/v1alpha1";

/// Tags and label keys with this prefix belong to shepherd.
pub const RESERVED_PREFIX: &str = "shepherd.dev/";

/// One function's desired state: a YAML document of `kind: Function`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "shepherd Function")]
pub struct FunctionDocument {
    pub api_version: ApiVersion,
    pub kind: Kind,
    pub metadata: Metadata,
    pub spec: FunctionSpec,
}

/// The version of the spec format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    #[serde(rename = "shepherd.dev/v1alpha1")]
    V1Alpha1,
}

/// The kind of document. Only `Function` exists today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Kind {
    Function,
}

/// Identity and labels of the function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metadata {
    /// The Lambda function name: 1-64 letters, digits, hyphens or underscores. Unique within
    /// its target.
    #[schemars(pattern(patterns::FUNCTION_NAME), extend("x-expected" = "a function name of 1-64 letters, digits, hyphens or underscores"))]
    pub name: String,
    /// The target the function is deployed to: one of the controller's targets (an AWS
    /// account and region, `targets` in `shepherd run`'s configuration). Left out: the
    /// controller's default target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::TARGET_NAME), extend("x-expected" = "a target name of lower-case letters, digits and hyphens"))]
    pub target: Option<String>,
    /// Free-form labels for selecting and grouping functions (not sent to AWS).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Free-form annotations for tools. `shepherd.dev/ignore-lints` lists lint ids (comma
    /// separated) that do not apply to this function.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The annotation that switches lints off for one function.
pub const IGNORE_LINTS_ANNOTATION: &str = "shepherd.dev/ignore-lints";

/// The function's desired configuration. Optional fields left out take AWS's default, and a
/// field removed from the spec returns to AWS's default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FunctionSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 256))]
    pub description: Option<String>,
    pub code: Code,
    /// The entry point, e.g. `app.handler` (zip packages only; required for them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(r"^[^\s]+$"), length(min = 1, max = 128), extend("x-expected" = "a handler such as app.handler"))]
    pub handler: Option<String>,
    /// The managed runtime (zip packages only; required for them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Runtime>,
    /// The instruction set, one of `x86_64` (AWS default) or `arm64`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1))]
    pub architectures: Option<Vec<Architecture>>,
    /// The execution role's ARN.
    #[schemars(pattern(patterns::ROLE_ARN), extend("x-expected" = "an IAM role ARN such as arn:aws:iam::123456789012:role/NAME"))]
    pub role: String,
    /// Layer version ARNs, at most 5.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5), inner(pattern(patterns::LAYER_ARN)))]
    pub layers: Vec<String>,
    /// Memory in MB, 128-10240 (AWS default 128). CPU grows with memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 128, max = 10240), extend("x-unit" = "MB"))]
    pub memory: Option<u32>,
    /// Maximum run time of one invocation, 1s to 15m (AWS default 3s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// Size of `/tmp` in MB, 512-10240 (AWS default 512).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 512, max = 10240), extend("x-unit" = "MB"))]
    pub ephemeral_storage: Option<u32>,
    /// Environment variables. Values are strings; together with `secrets` at most 4 KB.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Secrets by reference: each key becomes an environment variable that holds the ARN or
    /// name of a Secrets Manager secret or SSM parameter, never the secret itself.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub secrets: BTreeMap<String, SecretRef>,
    /// The KMS key that encrypts environment variables (default: an AWS managed key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::KMS_KEY_ARN), extend("x-expected" = "a KMS key ARN"))]
    pub kms_key_arn: Option<String>,
    /// Attach the function to a VPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc: Option<Vpc>,
    /// X-Ray tracing mode (AWS default `PassThrough`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<TracingMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// SnapStart (AWS default `None`). Java 11+, Python 3.12+ and .NET 8+ only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snap_start: Option<SnapStart>,
    /// Recursive loop detection (AWS default `Terminate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recursive_loop: Option<RecursiveLoop>,
    /// Tags on the function. Keys starting with `aws:` or `shepherd.dev/` are reserved.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Concurrency reserved for this function (and its upper limit). AWS default: none,
    /// the function shares the account's unreserved pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrency: Option<u32>,
    /// Provisioned concurrency on the published version itself, for functions without an
    /// alias. Prefer `alias.provisionedConcurrency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub provisioned_concurrency: Option<u32>,
    /// The alias callers invoke; required for progressive rollouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<Alias>,
    /// Asynchronous invocation settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub async_invocation: Option<AsyncInvocation>,
    /// Queues Lambda polls for this function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_sources: Option<EventSources>,
    /// The CloudWatch alarms of the function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarms: Option<Alarms>,
    /// How a new version reaches the alias (default all at once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
}

impl FunctionSpec {
    /// The SQS sources, empty when none.
    pub fn sqs_sources(&self) -> &[SqsSource] {
        self.event_sources
            .as_ref()
            .map_or(&[], |e| e.sqs.as_slice())
    }

    /// Whether the function receives events it must not lose: asynchronous invocations
    /// (configured) or queue sources.
    pub fn is_event_driven(&self) -> bool {
        self.async_invocation.is_some() || !self.sqs_sources().is_empty()
    }
}

/// The JSON Schema of a `Function` document, generated from the types above.
pub fn json_schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .for_deserialize()
        .with_transform(schemars::transform::RecursiveTransform(drop_null))
        .into_generator()
        .into_root_schema_for::<FunctionDocument>();
    sorted(schema.to_value())
}

/// The same JSON with every object's keys in order, so that the schema reads (and is
/// committed) the same whichever serde_json features the build turns on.
fn sorted(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let entries: std::collections::BTreeMap<String, serde_json::Value> =
                map.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            serde_json::Value::Object(entries.into_iter().collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// schemars writes `Option<T>` as "T or null"; in a spec, `memory: null` is not a way to
/// say "absent" (leave the field out), so the schema offers only T.
fn drop_null(schema: &mut schemars::Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    if let Some(serde_json::Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            object.insert("type".to_owned(), only);
        }
    }
    if let Some(serde_json::Value::Array(branches)) = object.get("anyOf") {
        let is_null = |b: &serde_json::Value| b.get("type").is_some_and(|t| t == "null");
        let rest: Vec<_> = branches.iter().filter(|b| !is_null(b)).cloned().collect();
        if rest.len() == 1 && rest.len() < branches.len() {
            object.remove("anyOf");
            if let Some(serde_json::Value::Object(inner)) = rest.into_iter().next() {
                for (key, value) in inner {
                    object.entry(key).or_insert(value);
                }
            }
        }
    }
}
