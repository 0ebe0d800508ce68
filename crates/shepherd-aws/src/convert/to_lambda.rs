//! The model to Lambda's request shapes.

use super::*;

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
