//! Conversions between the SDK's shapes and shepherd's model, without I/O.
//!
//! Reading, absent fields become AWS's documented defaults, so that an observed function
//! compares field by field with a desired one resolved with the same defaults. Writing,
//! every setting is sent explicitly, so that a setting removed from a spec returns to its
//! default instead of keeping its last value.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_cloudwatch::types as cw;
use aws_sdk_lambda::types as lt;
use shepherd_core::model::{
    AlarmDefinition, AlarmMetric, AlarmState, AsyncConfig, CodeArtifact, FunctionConfig,
    FunctionState, LastUpdateStatus, LoggingConfig, MappingConfig, ObservedAlarm, ObservedAlias,
    ObservedMapping, ObservedVersion, Package, ProvisionedConcurrency, ProvisionedStatus,
    VpcConfig, canonical_filter,
};
use shepherd_core::spec::{
    ApplicationLogLevel, Architecture, LogFormat, RecursiveLoop, SnapStart, SystemLogLevel,
    TracingMode,
};

// Lambda's defaults for settings a response may leave out.
use shepherd_core::model::lambda::{
    DEFAULT_ASYNC_EVENT_AGE_SECS, DEFAULT_ASYNC_RETRIES, DEFAULT_EPHEMERAL_STORAGE_MB,
    DEFAULT_MEMORY_MB, DEFAULT_SQS_BATCH_SIZE, DEFAULT_TIMEOUT_SECS,
};

/// The namespace of Lambda's metrics, where every managed alarm looks.
pub(crate) const LAMBDA_NAMESPACE: &str = "AWS/Lambda";
/// What managed alarms do when a period has no data: an idle function is healthy.
pub(crate) const TREAT_MISSING_DATA: &str = "notBreaching";
/// CloudWatch's standard statistics; anything else (`p99`, `tm90`) is an extended one.
const STANDARD_STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// Counts from the SDK are `i32`; a negative one would be a service bug, read as 0.
pub(crate) fn to_u32(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

/// Counts sent to the SDK; the model's values are validated far below `i32::MAX`.
pub(crate) fn to_i32(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value.filter(|v| !v.is_empty()).map(str::to_owned)
}

fn sorted_map(map: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    map.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------
// Lambda, read side
// ---------------------------------------------------------------------------------------

/// The settings of a function's configuration, with AWS's defaults for absent fields.
pub(crate) fn function_config(cfg: &lt::FunctionConfiguration) -> FunctionConfig {
    let package = match cfg.package_type() {
        Some(lt::PackageType::Image) => Package::Image,
        _ => Package::Zip {
            handler: cfg.handler().unwrap_or_default().to_owned(),
            runtime: cfg
                .runtime()
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default(),
        },
    };
    FunctionConfig {
        description: cfg.description().unwrap_or_default().to_owned(),
        role: cfg.role().unwrap_or_default().to_owned(),
        package,
        memory: cfg.memory_size().map_or(DEFAULT_MEMORY_MB, to_u32),
        timeout_secs: cfg.timeout().map_or(DEFAULT_TIMEOUT_SECS, to_u32),
        ephemeral_storage: cfg
            .ephemeral_storage()
            .map_or(DEFAULT_EPHEMERAL_STORAGE_MB, |e| to_u32(e.size())),
        environment: sorted_map(cfg.environment().and_then(|e| e.variables())),
        kms_key_arn: non_empty(cfg.kms_key_arn()),
        vpc: cfg.vpc_config().and_then(vpc_config),
        tracing: match cfg.tracing_config().and_then(|t| t.mode()) {
            Some(lt::TracingMode::Active) => TracingMode::Active,
            _ => TracingMode::PassThrough,
        },
        // Absent means "not reported" (the emulator never reports it), not "default": the
        // model leaves it out of the comparison then.
        logging: cfg
            .logging_config()
            .map(|l| logging_config(l, cfg.function_name().unwrap_or_default())),
        snap_start: match cfg.snap_start().and_then(|s| s.apply_on()) {
            Some(lt::SnapStartApplyOn::PublishedVersions) => SnapStart::PublishedVersions,
            _ => SnapStart::Off,
        },
        layers: cfg
            .layers()
            .iter()
            .filter_map(|l| l.arn())
            .map(str::to_owned)
            .collect(),
        dead_letter_target: cfg
            .dead_letter_config()
            .and_then(|d| non_empty(d.target_arn())),
    }
}

/// A function without subnets is not attached to a VPC, whatever else the response says
/// (AWS reports an empty `VpcConfig` after a detach).
fn vpc_config(vpc: &lt::VpcConfigResponse) -> Option<VpcConfig> {
    if vpc.subnet_ids().is_empty() {
        return None;
    }
    let mut subnet_ids = vpc.subnet_ids().to_vec();
    let mut security_group_ids = vpc.security_group_ids().to_vec();
    subnet_ids.sort();
    security_group_ids.sort();
    Some(VpcConfig {
        subnet_ids,
        security_group_ids,
        ipv6_allowed_for_dual_stack: vpc.ipv6_allowed_for_dual_stack().unwrap_or(false),
    })
}

fn logging_config(logging: &lt::LoggingConfig, function: &str) -> LoggingConfig {
    LoggingConfig {
        format: match logging.log_format() {
            Some(lt::LogFormat::Json) => LogFormat::Json,
            _ => LogFormat::Text,
        },
        application_log_level: logging.application_log_level().and_then(|level| {
            Some(match level {
                lt::ApplicationLogLevel::Trace => ApplicationLogLevel::Trace,
                lt::ApplicationLogLevel::Debug => ApplicationLogLevel::Debug,
                lt::ApplicationLogLevel::Info => ApplicationLogLevel::Info,
                lt::ApplicationLogLevel::Warn => ApplicationLogLevel::Warn,
                lt::ApplicationLogLevel::Error => ApplicationLogLevel::Error,
                lt::ApplicationLogLevel::Fatal => ApplicationLogLevel::Fatal,
                _ => return None,
            })
        }),
        system_log_level: logging.system_log_level().and_then(|level| {
            Some(match level {
                lt::SystemLogLevel::Debug => SystemLogLevel::Debug,
                lt::SystemLogLevel::Info => SystemLogLevel::Info,
                lt::SystemLogLevel::Warn => SystemLogLevel::Warn,
                _ => return None,
            })
        }),
        log_group: non_empty(logging.log_group())
            .unwrap_or_else(|| format!("/aws/lambda/{function}")),
    }
}

/// The first architecture; Lambda functions have exactly one, x86_64 by default.
pub(crate) fn architecture(cfg: &lt::FunctionConfiguration) -> Architecture {
    match cfg.architectures().first() {
        Some(lt::Architecture::Arm64) => Architecture::Arm64,
        _ => Architecture::X86_64,
    }
}

pub(crate) fn function_state(state: Option<&lt::State>) -> FunctionState {
    match state {
        Some(lt::State::Pending) => FunctionState::Pending,
        Some(lt::State::Active) => FunctionState::Active,
        Some(lt::State::Inactive) => FunctionState::Inactive,
        Some(lt::State::Failed) => FunctionState::Failed,
        Some(other) => FunctionState::Other(other.as_str().to_owned()),
        // Functions created before states existed report none: they are active.
        None => FunctionState::Active,
    }
}

pub(crate) fn last_update_status(status: Option<&lt::LastUpdateStatus>) -> LastUpdateStatus {
    match status {
        Some(lt::LastUpdateStatus::Successful) | None => LastUpdateStatus::Successful,
        Some(lt::LastUpdateStatus::InProgress) => LastUpdateStatus::InProgress,
        Some(lt::LastUpdateStatus::Failed) => LastUpdateStatus::Failed,
        Some(other) => LastUpdateStatus::Other(other.as_str().to_owned()),
    }
}

pub(crate) fn version(cfg: &lt::FunctionConfiguration) -> Option<ObservedVersion> {
    let version = cfg.version().filter(|v| *v != "$LATEST")?;
    Some(ObservedVersion {
        version: version.to_owned(),
        code_sha256: cfg.code_sha256().unwrap_or_default().to_owned(),
        description: cfg.description().unwrap_or_default().to_owned(),
    })
}

pub(crate) fn alias(alias: &lt::AliasConfiguration) -> ObservedAlias {
    // Lambda allows at most one additional version; sort so that a malformed answer with
    // more still reads the same every time.
    let additional_version = alias
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .and_then(|weights| {
            weights
                .iter()
                .min_by(|a, b| a.0.cmp(b.0))
                .map(|(version, weight)| (version.clone(), *weight))
        });
    ObservedAlias {
        name: alias.name().unwrap_or_default().to_owned(),
        version: alias.function_version().unwrap_or_default().to_owned(),
        additional_version,
        description: alias.description().unwrap_or_default().to_owned(),
        revision_id: non_empty(alias.revision_id()),
    }
}

pub(crate) fn async_config(
    maximum_retry_attempts: Option<i32>,
    maximum_event_age: Option<i32>,
    destinations: Option<&lt::DestinationConfig>,
) -> AsyncConfig {
    AsyncConfig {
        maximum_retry_attempts: maximum_retry_attempts
            .and_then(|n| u8::try_from(n).ok())
            .unwrap_or(DEFAULT_ASYNC_RETRIES),
        maximum_event_age_secs: maximum_event_age.map_or(DEFAULT_ASYNC_EVENT_AGE_SECS, to_u32),
        on_success: destinations
            .and_then(|d| d.on_success())
            .and_then(|d| non_empty(d.destination())),
        on_failure: destinations
            .and_then(|d| d.on_failure())
            .and_then(|d| non_empty(d.destination())),
    }
}

pub(crate) fn provisioned_status(
    status: Option<&lt::ProvisionedConcurrencyStatusEnum>,
    reason: Option<&str>,
) -> ProvisionedStatus {
    match status {
        Some(lt::ProvisionedConcurrencyStatusEnum::Ready) => ProvisionedStatus::Ready,
        Some(lt::ProvisionedConcurrencyStatusEnum::Failed) => {
            ProvisionedStatus::Failed(reason.unwrap_or_default().to_owned())
        }
        // In progress, or a status this SDK does not know: not ready yet.
        _ => ProvisionedStatus::InProgress,
    }
}

pub(crate) fn provisioned_item(
    item: &lt::ProvisionedConcurrencyConfigListItem,
) -> ProvisionedConcurrency {
    ProvisionedConcurrency {
        qualifier: qualifier_of(item.function_arn().unwrap_or_default()).to_owned(),
        requested: item
            .requested_provisioned_concurrent_executions()
            .map_or(0, to_u32),
        allocated: item
            .allocated_provisioned_concurrent_executions()
            .map_or(0, to_u32),
        status: provisioned_status(item.status(), item.status_reason()),
    }
}

/// The qualifier of `arn:aws:lambda:REGION:ACCOUNT:function:NAME:QUALIFIER` (empty when
/// the ARN has none).
fn qualifier_of(arn: &str) -> &str {
    arn.split(':').nth(7).unwrap_or_default()
}

pub(crate) fn recursive_loop(mode: Option<&lt::RecursiveLoop>) -> RecursiveLoop {
    match mode {
        Some(lt::RecursiveLoop::Allow) => RecursiveLoop::Allow,
        Some(lt::RecursiveLoop::Terminate) | None => RecursiveLoop::Terminate,
        Some(other) => {
            tracing::warn!(
                mode = other.as_str(),
                "unknown recursive loop mode, read as Terminate"
            );
            RecursiveLoop::Terminate
        }
    }
}

/// An SQS mapping in the model; mappings of other event sources (Kinesis, DynamoDB, Kafka)
/// are not shepherd's and are left out.
pub(crate) fn mapping(m: &lt::EventSourceMappingConfiguration) -> Option<ObservedMapping> {
    let queue_arn = m.event_source_arn().filter(|arn| arn.contains(":sqs:"))?;
    // Enabled, Enabling, Updating, Creating: on, or about to be. Only a mapping on its way
    // to Disabled counts as off.
    let enabled = !matches!(m.state(), Some("Disabled" | "Disabling"));
    Some(ObservedMapping {
        uuid: m.uuid().unwrap_or_default().to_owned(),
        function_arn: m.function_arn().unwrap_or_default().to_owned(),
        config: MappingConfig {
            queue_arn: queue_arn.to_owned(),
            batch_size: m.batch_size().map_or(DEFAULT_SQS_BATCH_SIZE, to_u32),
            batching_window_secs: m.maximum_batching_window_in_seconds().map_or(0, to_u32),
            enabled,
            maximum_concurrency: m
                .scaling_config()
                .and_then(|s| s.maximum_concurrency())
                .map(to_u32),
            report_batch_item_failures: m
                .function_response_types()
                .contains(&lt::FunctionResponseType::ReportBatchItemFailures),
            filters: m
                .filter_criteria()
                .map(|c| c.filters())
                .unwrap_or_default()
                .iter()
                .filter_map(|f| f.pattern())
                .map(canonical_filter)
                .collect(),
        },
    })
}

/// The `FilterCriteria` of a mapping: empty clears the filters.
pub(crate) fn sdk_filters(filters: &[String]) -> lt::FilterCriteria {
    lt::FilterCriteria::builder()
        .set_filters(Some(
            filters
                .iter()
                .map(|p| lt::Filter::builder().pattern(p).build())
                .collect(),
        ))
        .build()
}

// ---------------------------------------------------------------------------------------
// Lambda, write side
// ---------------------------------------------------------------------------------------

pub(crate) fn sdk_architecture(architecture: Architecture) -> lt::Architecture {
    match architecture {
        Architecture::X86_64 => lt::Architecture::X8664,
        Architecture::Arm64 => lt::Architecture::Arm64,
    }
}

pub(crate) fn sdk_recursive_loop(mode: RecursiveLoop) -> lt::RecursiveLoop {
    match mode {
        RecursiveLoop::Allow => lt::RecursiveLoop::Allow,
        RecursiveLoop::Terminate => lt::RecursiveLoop::Terminate,
    }
}

pub(crate) fn sdk_package_type(package: &Package) -> lt::PackageType {
    match package {
        Package::Zip { .. } => lt::PackageType::Zip,
        Package::Image => lt::PackageType::Image,
    }
}

pub(crate) fn sdk_tracing(mode: TracingMode) -> lt::TracingConfig {
    lt::TracingConfig::builder()
        .mode(match mode {
            TracingMode::Active => lt::TracingMode::Active,
            TracingMode::PassThrough => lt::TracingMode::PassThrough,
        })
        .build()
}

pub(crate) fn sdk_snap_start(mode: SnapStart) -> lt::SnapStart {
    lt::SnapStart::builder()
        .apply_on(match mode {
            SnapStart::PublishedVersions => lt::SnapStartApplyOn::PublishedVersions,
            SnapStart::Off => lt::SnapStartApplyOn::None,
        })
        .build()
}

/// Always a variables map, empty when there are none: an absent `Environment` would
/// leave the previous variables in place.
pub(crate) fn sdk_environment(variables: &BTreeMap<String, String>) -> lt::Environment {
    lt::Environment::builder()
        .set_variables(Some(
            variables
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
        .build()
}

/// With `None`, empty subnet and security group lists, which is how a function is
/// detached from its VPC.
pub(crate) fn sdk_vpc(vpc: Option<&VpcConfig>) -> lt::VpcConfig {
    match vpc {
        Some(vpc) => lt::VpcConfig::builder()
            .set_subnet_ids(Some(vpc.subnet_ids.clone()))
            .set_security_group_ids(Some(vpc.security_group_ids.clone()))
            .ipv6_allowed_for_dual_stack(vpc.ipv6_allowed_for_dual_stack)
            .build(),
        None => lt::VpcConfig::builder()
            .set_subnet_ids(Some(Vec::new()))
            .set_security_group_ids(Some(Vec::new()))
            .build(),
    }
}

/// With `None`, an empty target ARN, which is how the dead-letter queue is removed.
pub(crate) fn sdk_dead_letter(target: Option<&str>) -> lt::DeadLetterConfig {
    lt::DeadLetterConfig::builder()
        .target_arn(target.unwrap_or_default())
        .build()
}

pub(crate) fn sdk_logging(logging: &LoggingConfig) -> lt::LoggingConfig {
    lt::LoggingConfig::builder()
        .log_format(match logging.format {
            LogFormat::Json => lt::LogFormat::Json,
            LogFormat::Text => lt::LogFormat::Text,
        })
        .set_application_log_level(logging.application_log_level.map(|level| match level {
            ApplicationLogLevel::Trace => lt::ApplicationLogLevel::Trace,
            ApplicationLogLevel::Debug => lt::ApplicationLogLevel::Debug,
            ApplicationLogLevel::Info => lt::ApplicationLogLevel::Info,
            ApplicationLogLevel::Warn => lt::ApplicationLogLevel::Warn,
            ApplicationLogLevel::Error => lt::ApplicationLogLevel::Error,
            ApplicationLogLevel::Fatal => lt::ApplicationLogLevel::Fatal,
        }))
        .set_system_log_level(logging.system_log_level.map(|level| match level {
            SystemLogLevel::Debug => lt::SystemLogLevel::Debug,
            SystemLogLevel::Info => lt::SystemLogLevel::Info,
            SystemLogLevel::Warn => lt::SystemLogLevel::Warn,
        }))
        .log_group(&logging.log_group)
        .build()
}

/// The code of `CreateFunction`.
pub(crate) fn sdk_function_code(code: &CodeArtifact) -> lt::FunctionCode {
    let builder = lt::FunctionCode::builder();
    match code {
        CodeArtifact::S3 { bucket, key, .. } => builder
            .s3_bucket(bucket)
            .s3_key(key)
            .set_s3_object_version(code.deploy_object_version().map(str::to_owned)),
        CodeArtifact::Image { .. } => {
            builder.set_image_uri(code.deploy_image_uri().map(|u| u.into_owned()))
        }
        CodeArtifact::Zip { bytes, .. } => {
            builder.zip_file(aws_sdk_lambda::primitives::Blob::new(bytes.as_slice()))
        }
        // Refused by `lambda::require_code` before any request is built.
        CodeArtifact::Unavailable { .. } => builder,
    }
    .build()
}

/// The destinations of `PutFunctionEventInvokeConfig`; `None` when there are none, since
/// the put replaces the whole configuration anyway.
pub(crate) fn sdk_destinations(config: &AsyncConfig) -> Option<lt::DestinationConfig> {
    if config.on_success.is_none() && config.on_failure.is_none() {
        return None;
    }
    Some(
        lt::DestinationConfig::builder()
            .set_on_success(
                config
                    .on_success
                    .as_ref()
                    .map(|d| lt::OnSuccess::builder().destination(d).build()),
            )
            .set_on_failure(
                config
                    .on_failure
                    .as_ref()
                    .map(|d| lt::OnFailure::builder().destination(d).build()),
            )
            .build(),
    )
}

/// With no maximum concurrency, an empty scaling config: that is how an update removes it.
pub(crate) fn sdk_scaling(maximum_concurrency: Option<u32>) -> lt::ScalingConfig {
    lt::ScalingConfig::builder()
        .set_maximum_concurrency(maximum_concurrency.map(to_i32))
        .build()
}

/// Always a list, empty to clear `ReportBatchItemFailures` on update.
pub(crate) fn sdk_response_types(
    report_batch_item_failures: bool,
) -> Vec<lt::FunctionResponseType> {
    if report_batch_item_failures {
        vec![lt::FunctionResponseType::ReportBatchItemFailures]
    } else {
        Vec::new()
    }
}

/// `name` or `name:qualifier`, the form `FunctionName` takes.
pub(crate) fn qualified_name(name: &str, qualifier: Option<&str>) -> String {
    match qualifier {
        Some(q) => format!("{name}:{q}"),
        None => name.to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// CloudWatch
// ---------------------------------------------------------------------------------------

pub(crate) fn is_standard_statistic(statistic: &str) -> bool {
    STANDARD_STATISTICS.contains(&statistic)
}

fn alarm_metric(name: &str) -> Option<AlarmMetric> {
    match name {
        "Errors" => Some(AlarmMetric::Errors),
        "Throttles" => Some(AlarmMetric::Throttles),
        "Duration" => Some(AlarmMetric::Duration),
        _ => None,
    }
}

/// The unit a managed alarm sets: Lambda reports Duration in milliseconds; counts carry no
/// unit filter.
pub(crate) fn alarm_unit(metric: AlarmMetric) -> Option<cw::StandardUnit> {
    (metric == AlarmMetric::Duration).then_some(cw::StandardUnit::Milliseconds)
}

fn alarm_state(state: Option<&cw::StateValue>) -> AlarmState {
    match state {
        Some(cw::StateValue::Ok) => AlarmState::Ok,
        Some(cw::StateValue::Alarm) => AlarmState::Alarm,
        // Unknown states gate like missing data: not known to be healthy.
        _ => AlarmState::InsufficientData,
    }
}

/// A metric alarm as shepherd's definition.
///
/// `AlarmDefinition` can only describe the alarms shepherd writes (a Lambda metric, `>=`,
/// missing data not breaching). Another alarm (a gating alarm on any metric, metric math,
/// or a managed alarm someone edited) still needs its state, so it is reported with the
/// threshold set to NaN: a definition that equals no desired one, which makes the
/// engine rewrite a managed alarm that drifted that way and changes nothing for the
/// others, which it only reads.
pub(crate) fn metric_alarm(alarm: &cw::MetricAlarm) -> ObservedAlarm {
    let metric = alarm.metric_name().and_then(alarm_metric);
    let shepherd_shape = metric.is_some_and(|metric| {
        alarm.namespace() == Some(LAMBDA_NAMESPACE)
            && alarm.comparison_operator()
                == Some(&cw::ComparisonOperator::GreaterThanOrEqualToThreshold)
            && alarm.treat_missing_data() == Some(TREAT_MISSING_DATA)
            && alarm.unit() == alarm_unit(metric).as_ref()
            && alarm.metrics().is_empty()
    });
    let evaluation_periods = alarm.evaluation_periods().map_or(1, to_u32);
    let definition = AlarmDefinition {
        name: alarm.alarm_name().unwrap_or_default().to_owned(),
        metric: metric.unwrap_or(AlarmMetric::Errors),
        statistic: alarm
            .statistic()
            .map(|s| s.as_str().to_owned())
            .or_else(|| alarm.extended_statistic().map(str::to_owned))
            .unwrap_or_default(),
        dimensions: alarm
            .dimensions()
            .iter()
            .map(|d| {
                (
                    d.name().unwrap_or_default().to_owned(),
                    d.value().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        threshold: if shepherd_shape {
            alarm.threshold().unwrap_or_default()
        } else {
            f64::NAN
        },
        period_secs: alarm.period().map_or(0, to_u32),
        evaluation_periods,
        datapoints_to_alarm: alarm
            .datapoints_to_alarm()
            .map_or(evaluation_periods, to_u32),
        description: alarm.alarm_description().unwrap_or_default().to_owned(),
    };
    ObservedAlarm {
        definition,
        state: alarm_state(alarm.state_value()),
        state_reason: alarm.state_reason().unwrap_or_default().to_owned(),
        state_since: alarm
            .state_updated_timestamp()
            .and_then(|t| u64::try_from(t.secs()).ok()),
    }
}

/// A composite alarm, which can gate a rollout but is never written by shepherd: see
/// [`metric_alarm`] for why its threshold is NaN.
pub(crate) fn composite_alarm(alarm: &cw::CompositeAlarm) -> ObservedAlarm {
    ObservedAlarm {
        definition: AlarmDefinition {
            name: alarm.alarm_name().unwrap_or_default().to_owned(),
            metric: AlarmMetric::Errors,
            statistic: String::new(),
            dimensions: BTreeMap::new(),
            threshold: f64::NAN,
            period_secs: 0,
            evaluation_periods: 0,
            datapoints_to_alarm: 0,
            description: alarm.alarm_description().unwrap_or_default().to_owned(),
        },
        state: alarm_state(alarm.state_value()),
        state_reason: alarm.state_reason().unwrap_or_default().to_owned(),
        state_since: alarm
            .state_updated_timestamp()
            .and_then(|t| u64::try_from(t.secs()).ok()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualifier_from_arn() {
        assert_eq!(
            qualifier_of("arn:aws:lambda:eu-west-1:123456789012:function:orders:live"),
            "live"
        );
        assert_eq!(
            qualifier_of("arn:aws:lambda:eu-west-1:123456789012:function:orders"),
            ""
        );
    }

    #[test]
    fn empty_vpc_is_no_vpc() {
        let vpc = lt::VpcConfigResponse::builder()
            .set_subnet_ids(Some(vec![]))
            .set_security_group_ids(Some(vec![]))
            .vpc_id("")
            .build();
        assert_eq!(vpc_config(&vpc), None);
    }

    #[test]
    fn mappings_of_other_sources_are_left_out() {
        let kinesis = lt::EventSourceMappingConfiguration::builder()
            .uuid("u")
            .event_source_arn("arn:aws:kinesis:eu-west-1:123456789012:stream/s")
            .build();
        assert_eq!(mapping(&kinesis), None);
    }

    #[test]
    fn mapping_state_and_defaults() {
        let m = lt::EventSourceMappingConfiguration::builder()
            .uuid("u")
            .function_arn("arn:aws:lambda:eu-west-1:123456789012:function:f:live")
            .event_source_arn("arn:aws:sqs:eu-west-1:123456789012:q")
            .state("Disabling")
            .function_response_types(lt::FunctionResponseType::ReportBatchItemFailures)
            .scaling_config(lt::ScalingConfig::builder().maximum_concurrency(5).build())
            .filter_criteria(
                lt::FilterCriteria::builder()
                    .filters(
                        lt::Filter::builder()
                            .pattern(r#"{ "body" : { "type" : ["order"] }, "attributes": {} }"#)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let observed = mapping(&m).expect("an SQS mapping");
        assert_eq!(
            observed.config,
            MappingConfig {
                queue_arn: "arn:aws:sqs:eu-west-1:123456789012:q".to_owned(),
                batch_size: 10,
                batching_window_secs: 0,
                enabled: false,
                maximum_concurrency: Some(5),
                report_batch_item_failures: true,
                filters: vec![r#"{"attributes":{},"body":{"type":["order"]}}"#.to_owned()],
            }
        );
        for state in ["Enabled", "Enabling", "Updating", "Creating"] {
            let mut m = m.clone();
            m.state = Some(state.to_owned());
            assert!(mapping(&m).unwrap().config.enabled, "{state}");
        }
    }

    #[test]
    fn alarm_in_shepherds_shape_reads_back() {
        let alarm = cw::MetricAlarm::builder()
            .alarm_name("orders-duration")
            .alarm_description("d")
            .namespace(LAMBDA_NAMESPACE)
            .metric_name("Duration")
            .extended_statistic("p99")
            .dimensions(
                cw::Dimension::builder()
                    .name("FunctionName")
                    .value("orders")
                    .build(),
            )
            .threshold(800.0)
            .period(60)
            .evaluation_periods(3)
            .comparison_operator(cw::ComparisonOperator::GreaterThanOrEqualToThreshold)
            .treat_missing_data(TREAT_MISSING_DATA)
            .unit(cw::StandardUnit::Milliseconds)
            .state_value(cw::StateValue::Alarm)
            .state_reason("Threshold Crossed")
            .build();
        let observed = metric_alarm(&alarm);
        assert_eq!(observed.state, AlarmState::Alarm);
        assert_eq!(observed.state_reason, "Threshold Crossed");
        assert_eq!(
            observed.definition,
            AlarmDefinition {
                name: "orders-duration".to_owned(),
                metric: AlarmMetric::Duration,
                statistic: "p99".to_owned(),
                dimensions: BTreeMap::from([("FunctionName".to_owned(), "orders".to_owned())]),
                threshold: 800.0,
                period_secs: 60,
                evaluation_periods: 3,
                datapoints_to_alarm: 3,
                description: "d".to_owned(),
            }
        );
    }

    #[test]
    fn alarm_in_another_shape_equals_no_definition() {
        let alarm = cw::MetricAlarm::builder()
            .alarm_name("orders-errors")
            .namespace(LAMBDA_NAMESPACE)
            .metric_name("Errors")
            .statistic(cw::Statistic::Sum)
            .threshold(1.0)
            .comparison_operator(cw::ComparisonOperator::GreaterThanThreshold)
            .treat_missing_data(TREAT_MISSING_DATA)
            .state_value(cw::StateValue::Ok)
            .build();
        let observed = metric_alarm(&alarm);
        assert!(observed.definition.threshold.is_nan());
        assert_ne!(observed.definition, observed.definition.clone());
        assert_eq!(observed.state, AlarmState::Ok);
    }
}
