//! Conversions between the SDK's shapes and shepherd's model, without I/O.
//!
//! Reading, absent fields become AWS's documented defaults, so that an observed function
//! compares field by field with a desired one resolved with the same defaults. Writing,
//! every setting is sent explicitly, so that a setting removed from a spec returns to its
//! default instead of keeping its last value.
//!
//! `from_lambda` reads, `to_lambda` writes, `alarms` converts CloudWatch alarms.

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

mod alarms;
mod from_lambda;
mod to_lambda;

pub(crate) use alarms::*;
pub(crate) use from_lambda::*;
pub(crate) use to_lambda::*;

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
