//! The desired state of one function, resolved from its spec with AWS's defaults filled in.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::content::ResolvedContent;
use super::digest::short_digest;
use super::lambda;
use super::{
    AlarmDefinition, AlarmMetric, AnalysisConfig, AsyncConfig, FunctionConfig, LoggingConfig,
    MappingConfig, Package, TrafficConfig, VpcConfig, recursive_loop_or_default,
};
use crate::spec::{
    Architecture, CodeSource, CountAlarm, FunctionSpec, Gates, Hooks, HumanDuration, LogFormat,
    RecursiveLoop, RolloutStep, S3Code, SnapStart, TracingMode,
};
use crate::validate::ValidFunction;

/// The deployment package, ready to send.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CodeArtifact {
    S3 {
        bucket: String,
        key: String,
        object_version: Option<String>,
        /// The object's content, once identified (see `model::content`).
        #[serde(skip)]
        resolved: Option<ResolvedContent>,
    },
    Image {
        uri: String,
        /// The digest the tag pointed to, once identified.
        #[serde(skip)]
        resolved: Option<ResolvedContent>,
    },
    /// A zip built from a local path: sent inline, identified by its SHA-256.
    Zip {
        /// Base64 SHA-256 of the zip, the form Lambda reports as `CodeSha256`.
        sha256: String,
        #[serde(skip)]
        bytes: Arc<Vec<u8>>,
    },
    /// The local code could not be packaged. Such a function is planned only to keep a
    /// rollout in flight safe (see `plan::plan_guard`); nothing is ever deployed from it.
    Unavailable { reason: String },
}

impl CodeArtifact {
    /// An S3 object, as the spec names it.
    pub fn s3(code: &S3Code) -> Self {
        CodeArtifact::S3 {
            bucket: code.bucket.clone(),
            key: code.key.clone(),
            object_version: code.object_version.clone(),
            resolved: None,
        }
    }

    /// A container image, as the spec names it.
    pub fn image(uri: &str) -> Self {
        CodeArtifact::Image {
            uri: uri.to_owned(),
            resolved: None,
        }
    }

    /// The `CodeSha256` Lambda will report, when it can be known before deploying.
    pub fn known_sha256(&self) -> Option<&str> {
        match self {
            CodeArtifact::Zip { sha256, .. } => Some(sha256),
            _ => None,
        }
    }

    /// Why the code could not be packaged, if it could not.
    pub fn unavailable(&self) -> Option<&str> {
        match self {
            CodeArtifact::Unavailable { reason } => Some(reason),
            _ => None,
        }
    }
}

/// The alias callers invoke.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesiredAlias {
    pub name: String,
}

/// Where provisioned concurrency goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProvisionedTarget {
    /// On the alias (follows each new version).
    Alias(u32),
    /// On the published version itself (no alias).
    Version(u32),
}

/// Everything shepherd makes true for one function.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DesiredFunction {
    pub name: String,
    #[serde(skip)]
    pub file: PathBuf,
    pub config: FunctionConfig,
    pub architecture: Architecture,
    pub code: CodeArtifact,
    /// The user's tags; shepherd adds its own when applying.
    pub tags: BTreeMap<String, String>,
    pub reserved_concurrency: Option<u32>,
    pub alias: Option<DesiredAlias>,
    pub provisioned_concurrency: Option<ProvisionedTarget>,
    pub async_config: Option<AsyncConfig>,
    pub mappings: Vec<MappingConfig>,
    /// The dead-letter queue each event source declares (in the order of `mappings`):
    /// checked against the queue's redrive policy, never written.
    #[serde(skip)]
    pub sqs_dead_letter_queues: Vec<Option<String>>,
    pub alarms: Vec<AlarmDefinition>,
    /// Every alarm that gates rollouts: the managed ones, existing ones, rollout ones.
    pub gating_alarms: Vec<String>,
    pub recursive_loop: RecursiveLoop,
    #[serde(skip)]
    pub rollout_steps: Vec<RolloutStep>,
    pub auto_rollback: bool,
    pub analysis: Option<AnalysisConfig>,
    /// The rollout's hooks (counted in the spec digest only when there are some, so that
    /// the digests of functions deployed before hooks existed stay as they were).
    #[serde(skip_serializing_if = "Hooks::is_empty")]
    pub hooks: Hooks,
    /// The rollout's gates (in the digest only when there are some, as the hooks).
    #[serde(skip_serializing_if = "Gates::is_empty")]
    pub gates: Gates,
    /// The rollout's synthetic traffic (in the digest only when there is some).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub traffic: Option<TrafficConfig>,
    /// Digest of what a published version embodies: code (its content, once identified),
    /// architecture and configuration.
    pub release_digest: String,
    /// The release digest the same code had before its content was identified: still
    /// current while the content is what the code tag records (see `model::content`).
    #[serde(skip)]
    pub previous_release: Option<String>,
    /// Digest of the whole desired state.
    pub spec_digest: String,
    /// The digest of each section, as recorded in [`super::tags::SECTIONS`].
    #[serde(skip)]
    pub sections: String,
}

/// Resolves a valid spec into the desired state, given its packaged code.
pub fn resolve(function: &ValidFunction, code: CodeArtifact) -> DesiredFunction {
    let name = function.name().to_owned();
    let spec = &function.document.spec;
    let config = function_config(&name, spec);
    let architecture = spec
        .architectures
        .as_ref()
        .and_then(|a| a.first().copied())
        .unwrap_or(Architecture::X86_64);
    let alias = spec.alias.as_ref().map(|a| DesiredAlias {
        name: a.name.clone(),
    });
    let provisioned_concurrency = match (&spec.alias, spec.provisioned_concurrency) {
        (Some(alias), _) => alias.provisioned_concurrency.map(ProvisionedTarget::Alias),
        (None, Some(pc)) => Some(ProvisionedTarget::Version(pc)),
        (None, None) => None,
    };
    let alarms = alarm_definitions(&name, spec, alias.as_ref());
    let mut gating_alarms: Vec<String> = alarms.iter().map(|a| a.name.clone()).collect();
    if let Some(declared) = &spec.alarms {
        gating_alarms.extend(declared.existing.iter().cloned());
    }
    if let Some(rollout) = &spec.rollout {
        gating_alarms.extend(rollout.alarms.iter().cloned());
    }
    gating_alarms.sort();
    gating_alarms.dedup();
    let release_digest = short_digest(&(&config, architecture, &code));
    let mut desired = DesiredFunction {
        name,
        file: function.file.clone(),
        config,
        architecture,
        code,
        tags: spec.tags.clone(),
        reserved_concurrency: spec.reserved_concurrency,
        alias,
        provisioned_concurrency,
        async_config: spec.async_invocation.as_ref().map(|a| AsyncConfig {
            maximum_retry_attempts: a
                .maximum_retry_attempts
                .unwrap_or(lambda::DEFAULT_ASYNC_RETRIES),
            maximum_event_age_secs: a
                .maximum_event_age
                .map_or(lambda::DEFAULT_ASYNC_EVENT_AGE_SECS, secs_u32),
            on_success: a.on_success.clone(),
            on_failure: a.on_failure.clone(),
        }),
        mappings: spec.sqs_sources().iter().map(mapping_config).collect(),
        sqs_dead_letter_queues: spec
            .sqs_sources()
            .iter()
            .map(|s| s.dead_letter_queue.clone())
            .collect(),
        alarms,
        gating_alarms,
        recursive_loop: recursive_loop_or_default(spec.recursive_loop),
        rollout_steps: spec
            .rollout
            .as_ref()
            .map(|r| r.expanded_steps())
            .unwrap_or_default(),
        auto_rollback: spec.rollout.as_ref().is_none_or(|r| r.auto_rollback()),
        analysis: spec
            .rollout
            .as_ref()
            .and_then(|r| r.analysis.as_ref())
            .map(analysis_config),
        hooks: spec
            .rollout
            .as_ref()
            .map(|r| r.hooks.clone())
            .unwrap_or_default(),
        gates: spec
            .rollout
            .as_ref()
            .map(|r| r.gates.clone())
            .unwrap_or_default(),
        traffic: spec
            .rollout
            .as_ref()
            .and_then(|r| r.traffic.as_ref())
            .map(traffic_config),
        release_digest,
        previous_release: None,
        spec_digest: String::new(),
        sections: String::new(),
    };
    desired.spec_digest = short_digest(&(&desired, &desired.rollout_steps_digest_form()));
    desired.sections = super::SectionDigests::of(&desired).tag_value();
    desired
}

/// A rollout step as the spec digest encodes it: `SetWeight(10.0)`, `Pause(300s)`,
/// `Pause(500ms)`, `Pause(1.5s)`, `PauseUntilPromoted`. The form is fixed (digests of
/// deployed functions depend on it; `tests/digests.rs` pins them): it is written out here,
/// never taken from `Debug`.
fn step_digest_form(step: &RolloutStep) -> String {
    match step {
        RolloutStep::SetWeight(weight) => {
            let text = weight.to_string();
            if text.contains('.') {
                format!("SetWeight({text})")
            } else {
                format!("SetWeight({text}.0)")
            }
        }
        RolloutStep::Pause(duration) => {
            let (secs, nanos) = (duration.as_secs(), duration.subsec_nanos());
            let text = match (secs, nanos) {
                (0, 0) => "0ns".to_owned(),
                (secs, 0) => format!("{secs}s"),
                (0, nanos) if nanos % 1_000_000 == 0 => format!("{}ms", nanos / 1_000_000),
                (secs, nanos) => {
                    let fraction = format!("{nanos:09}");
                    format!("{secs}.{}s", fraction.trim_end_matches('0'))
                }
            };
            format!("Pause({text})")
        }
        RolloutStep::PauseUntilPromoted => "PauseUntilPromoted".to_owned(),
    }
}

impl DesiredFunction {
    /// Whether a recorded release digest is this function's desired release.
    pub fn is_release(&self, digest: &str) -> bool {
        digest == self.release_digest || self.previous_release.as_deref() == Some(digest)
    }

    /// Rollout steps in a serializable form, so that they count in the spec digest.
    pub(super) fn rollout_steps_digest_form(&self) -> Vec<String> {
        self.rollout_steps.iter().map(step_digest_form).collect()
    }

    /// The qualifier that async config and event sources attach to: the alias when there
    /// is one, so that events go through the rollout like every other call.
    pub fn invoke_qualifier(&self) -> Option<&str> {
        self.alias.as_ref().map(|a| a.name.as_str())
    }
}

fn secs_u32(duration: HumanDuration) -> u32 {
    u32::try_from(duration.as_secs()).unwrap_or(u32::MAX)
}

fn function_config(name: &str, spec: &FunctionSpec) -> FunctionConfig {
    let package = match spec.code.source() {
        Some(CodeSource::Image(_)) => Package::Image,
        _ => Package::Zip {
            handler: spec.handler.clone().unwrap_or_default(),
            runtime: spec
                .runtime
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
        },
    };
    let mut environment = spec.environment.clone();
    for (key, secret) in &spec.secrets {
        if let Some(reference) = secret.reference() {
            environment.insert(key.clone(), reference.to_owned());
        }
    }
    let logging = spec.logging.clone().unwrap_or_default();
    let format = logging.format.unwrap_or(LogFormat::Text);
    let json = format == LogFormat::Json;
    FunctionConfig {
        description: spec.description.clone().unwrap_or_default(),
        role: spec.role.clone(),
        package,
        memory: spec.memory.unwrap_or(lambda::DEFAULT_MEMORY_MB),
        timeout_secs: spec.timeout.map_or(lambda::DEFAULT_TIMEOUT_SECS, secs_u32),
        ephemeral_storage: spec
            .ephemeral_storage
            .unwrap_or(lambda::DEFAULT_EPHEMERAL_STORAGE_MB),
        environment,
        kms_key_arn: spec.kms_key_arn.clone(),
        vpc: spec.vpc.as_ref().map(|vpc| {
            let mut subnet_ids = vpc.subnet_ids.clone();
            let mut security_group_ids = vpc.security_group_ids.clone();
            subnet_ids.sort();
            security_group_ids.sort();
            VpcConfig {
                subnet_ids,
                security_group_ids,
                ipv6_allowed_for_dual_stack: vpc.ipv6_allowed_for_dual_stack.unwrap_or(false),
            }
        }),
        tracing: spec.tracing.unwrap_or(TracingMode::PassThrough),
        logging: Some(LoggingConfig {
            format,
            // Lambda applies INFO to both levels of a JSON-format function by default.
            application_log_level: json.then(|| {
                logging
                    .application_log_level
                    .unwrap_or(crate::spec::ApplicationLogLevel::Info)
            }),
            system_log_level: json.then(|| {
                logging
                    .system_log_level
                    .unwrap_or(crate::spec::SystemLogLevel::Info)
            }),
            log_group: logging
                .log_group
                .unwrap_or_else(|| format!("/aws/lambda/{name}")),
        }),
        snap_start: spec.snap_start.unwrap_or(SnapStart::Off),
        layers: spec.layers.clone(),
        dead_letter_target: spec
            .async_invocation
            .as_ref()
            .and_then(|a| a.dead_letter_target.clone()),
    }
}

fn mapping_config(source: &crate::spec::SqsSource) -> MappingConfig {
    MappingConfig {
        queue_arn: source.queue.clone(),
        batch_size: source.batch_size.unwrap_or(lambda::DEFAULT_SQS_BATCH_SIZE),
        batching_window_secs: source.batching_window.map_or(0, secs_u32),
        enabled: source.enabled.unwrap_or(true),
        maximum_concurrency: source.maximum_concurrency,
        report_batch_item_failures: source.report_batch_item_failures.unwrap_or(false),
        filters: source
            .filter_criteria
            .iter()
            .map(|pattern| {
                super::canonical_json(serde_json::Value::Object(pattern.clone())).to_string()
            })
            .collect(),
    }
}

fn alarm_definitions(
    name: &str,
    spec: &FunctionSpec,
    alias: Option<&DesiredAlias>,
) -> Vec<AlarmDefinition> {
    let Some(alarms) = &spec.alarms else {
        return Vec::new();
    };
    let mut dimensions = BTreeMap::from([("FunctionName".to_owned(), name.to_owned())]);
    if let Some(alias) = alias {
        dimensions.insert("Resource".to_owned(), format!("{name}:{}", alias.name));
    }
    let timeout_ms = f64::from(spec.timeout.map_or(3, secs_u32)) * 1000.0;
    let count = |metric: AlarmMetric, alarm: &CountAlarm| {
        definition(
            name,
            metric,
            "Sum",
            alarm.threshold.unwrap_or(1.0),
            &dimensions,
            alarm.window(),
        )
    };
    let mut definitions = Vec::new();
    if let Some(errors) = &alarms.errors {
        definitions.push(count(AlarmMetric::Errors, errors));
    }
    if let Some(throttles) = &alarms.throttles {
        definitions.push(count(AlarmMetric::Throttles, throttles));
    }
    if let Some(duration) = &alarms.duration {
        let threshold_ms = duration
            .threshold
            .map_or(timeout_ms * 0.8, |t| t.0.as_millis() as f64);
        let statistic = duration
            .percentile
            .clone()
            .unwrap_or_else(|| "p99".to_owned());
        definitions.push(definition(
            name,
            AlarmMetric::Duration,
            &statistic,
            threshold_ms,
            &dimensions,
            duration.window(),
        ));
    }
    definitions
}

fn definition(
    function: &str,
    metric: AlarmMetric,
    statistic: &str,
    threshold: f64,
    dimensions: &BTreeMap<String, String>,
    window: crate::spec::AlarmWindow,
) -> AlarmDefinition {
    let evaluation_periods = window.evaluation_periods.unwrap_or(1);
    AlarmDefinition {
        name: format!("{function}-{}", metric.suffix()),
        metric,
        statistic: statistic.to_owned(),
        dimensions: dimensions.clone(),
        threshold,
        period_secs: window.period.map_or(60, secs_u32),
        evaluation_periods,
        datapoints_to_alarm: window.datapoints_to_alarm.unwrap_or(evaluation_periods),
        description: format!(
            "Managed by shepherd: {} of Lambda function {function}",
            metric.metric_name()
        ),
    }
}

/// The synthetic traffic of a spec, with its defaults. A `payloadFile` has been read into
/// `payload` by validation.
pub fn traffic_config(traffic: &crate::spec::Traffic) -> TrafficConfig {
    TrafficConfig {
        payload: traffic
            .payload
            .as_ref()
            .map_or_else(|| "{}".to_owned(), serde_json::Value::to_string),
        invocations: traffic
            .invocations
            .unwrap_or(crate::spec::DEFAULT_TRAFFIC_INVOCATIONS),
        concurrency: traffic
            .concurrency
            .unwrap_or(crate::spec::DEFAULT_TRAFFIC_CONCURRENCY),
        max_errors: traffic.max_errors.unwrap_or(0),
    }
}

/// The analysis of a spec, with its defaults.
pub fn analysis_config(analysis: &crate::spec::Analysis) -> AnalysisConfig {
    AnalysisConfig {
        max_error_rate: analysis.max_error_rate,
        max_p99_ms: analysis.max_p99_duration.map(|d| d.0.as_millis() as f64),
        min_invocations: analysis.min_invocations.unwrap_or(100),
        inconclusive_timeout_secs: analysis.inconclusive_timeout.map_or(1800, |d| d.as_secs()),
        on_inconclusive: analysis
            .on_inconclusive
            .unwrap_or(crate::spec::OnInconclusive::Pause),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The form every deployed spec digest was made with is the one `Debug` printed for
    /// every step a spec can express (weights to two decimals, durations in whole
    /// milliseconds).
    #[test]
    fn steps_are_encoded_as_the_digests_of_deployed_functions_were() {
        let mut steps: Vec<RolloutStep> = (1..=10_000)
            .map(|hundredths| RolloutStep::SetWeight(f64::from(hundredths) / 100.0))
            .collect();
        steps.extend(
            [
                0u64, 1, 10, 500, 999, 1000, 1001, 1500, 60_000, 90_500, 86_400_000,
            ]
            .into_iter()
            .map(|ms| RolloutStep::Pause(Duration::from_millis(ms))),
        );
        steps.push(RolloutStep::PauseUntilPromoted);
        for step in steps {
            assert_eq!(step_digest_form(&step), format!("{step:?}"));
        }
    }
}
