//! Lambda's answers to the model: what a response leaves out is Lambda's default.

use super::*;

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
pub(crate) fn vpc_config(vpc: &lt::VpcConfigResponse) -> Option<VpcConfig> {
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

pub(crate) fn logging_config(logging: &lt::LoggingConfig, function: &str) -> LoggingConfig {
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
pub(crate) fn qualifier_of(arn: &str) -> &str {
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
