//! The CloudWatch alarm calls against a mocked SDK client.

mod common;

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::Client as CloudWatch;
use aws_sdk_cloudwatch::operation::delete_alarms::DeleteAlarmsOutput;
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::operation::put_metric_alarm::PutMetricAlarmOutput;
use aws_sdk_cloudwatch::types as cw;
use aws_smithy_mocks::mock;
use common::cloudwatch_cloud;
use shepherd_core::cloud::*;
use shepherd_core::model::{AlarmDefinition, AlarmMetric, AlarmState};

fn dimensions() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("FunctionName".to_owned(), "orders".to_owned()),
        ("Resource".to_owned(), "orders:live".to_owned()),
    ])
}

fn duration_alarm() -> AlarmDefinition {
    AlarmDefinition {
        name: "orders-duration".to_owned(),
        metric: AlarmMetric::Duration,
        statistic: "p99".to_owned(),
        dimensions: dimensions(),
        threshold: 2400.0,
        period_secs: 60,
        evaluation_periods: 3,
        datapoints_to_alarm: 2,
        description: "Managed by shepherd: Duration of Lambda function orders".to_owned(),
    }
}

#[tokio::test]
async fn put_alarm_sends_an_extended_statistic_and_milliseconds_for_duration() {
    let rule = mock!(CloudWatch::put_metric_alarm)
        .match_requests(|req| {
            req.alarm_name() == Some("orders-duration")
                && req.namespace() == Some("AWS/Lambda")
                && req.metric_name() == Some("Duration")
                && req.extended_statistic() == Some("p99")
                && req.statistic().is_none()
                && req.unit() == Some(&cw::StandardUnit::Milliseconds)
                && req.comparison_operator()
                    == Some(&cw::ComparisonOperator::GreaterThanOrEqualToThreshold)
                && req.treat_missing_data() == Some("notBreaching")
                && req.threshold() == Some(2400.0)
                && req.period() == Some(60)
                && req.evaluation_periods() == Some(3)
                && req.datapoints_to_alarm() == Some(2)
                && req.dimensions().len() == 2
        })
        .then_output(|| PutMetricAlarmOutput::builder().build());
    cloudwatch_cloud(&[&rule])
        .put_alarm(&duration_alarm())
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn put_alarm_sends_a_standard_statistic_and_no_unit_for_counts() {
    let rule = mock!(CloudWatch::put_metric_alarm)
        .match_requests(|req| {
            req.metric_name() == Some("Errors")
                && req.statistic() == Some(&cw::Statistic::Sum)
                && req.extended_statistic().is_none()
                && req.unit().is_none()
        })
        .then_output(|| PutMetricAlarmOutput::builder().build());
    let alarm = AlarmDefinition {
        name: "orders-errors".to_owned(),
        metric: AlarmMetric::Errors,
        statistic: "Sum".to_owned(),
        threshold: 1.0,
        ..duration_alarm()
    };
    cloudwatch_cloud(&[&rule]).put_alarm(&alarm).await.unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn describe_alarms_reads_back_what_put_alarm_wrote() {
    let rule = mock!(CloudWatch::describe_alarms)
        .match_requests(|req| {
            req.alarm_names() == ["orders-duration".to_owned(), "gate".to_owned()]
                && req.alarm_types().len() == 2
        })
        .then_output(|| {
            DescribeAlarmsOutput::builder()
                .metric_alarms(
                    cw::MetricAlarm::builder()
                        .alarm_name("orders-duration")
                        .alarm_description(
                            "Managed by shepherd: Duration of Lambda function orders",
                        )
                        .namespace("AWS/Lambda")
                        .metric_name("Duration")
                        .extended_statistic("p99")
                        .dimensions(
                            cw::Dimension::builder()
                                .name("Resource")
                                .value("orders:live")
                                .build(),
                        )
                        .dimensions(
                            cw::Dimension::builder()
                                .name("FunctionName")
                                .value("orders")
                                .build(),
                        )
                        .threshold(2400.0)
                        .period(60)
                        .evaluation_periods(3)
                        .datapoints_to_alarm(2)
                        .unit(cw::StandardUnit::Milliseconds)
                        .comparison_operator(cw::ComparisonOperator::GreaterThanOrEqualToThreshold)
                        .treat_missing_data("notBreaching")
                        .state_value(cw::StateValue::InsufficientData)
                        .state_reason("Unchecked: Initial alarm creation")
                        .build(),
                )
                .composite_alarms(
                    cw::CompositeAlarm::builder()
                        .alarm_name("gate")
                        .state_value(cw::StateValue::Alarm)
                        .state_reason("child in ALARM")
                        .build(),
                )
                .build()
        });
    let alarms = cloudwatch_cloud(&[&rule])
        .describe_alarms(&["orders-duration".to_owned(), "gate".to_owned()])
        .await
        .unwrap();
    assert_eq!(alarms.len(), 2);
    assert_eq!(alarms[0].definition, duration_alarm());
    assert_eq!(alarms[0].state, AlarmState::InsufficientData);
    assert_eq!(alarms[0].state_reason, "Unchecked: Initial alarm creation");
    assert_eq!(alarms[1].definition.name, "gate");
    assert_eq!(alarms[1].state, AlarmState::Alarm);
}

#[tokio::test]
async fn describe_alarms_without_names_makes_no_call() {
    // DescribeAlarms without AlarmNames would list every alarm in the account.
    let rule =
        mock!(CloudWatch::describe_alarms).then_output(|| DescribeAlarmsOutput::builder().build());
    let alarms = cloudwatch_cloud(&[&rule])
        .describe_alarms(&[])
        .await
        .unwrap();
    assert!(alarms.is_empty());
    assert_eq!(rule.num_calls(), 0);
}

#[tokio::test]
async fn delete_alarms_goes_in_batches_of_100() {
    let rule = mock!(CloudWatch::delete_alarms)
        .match_requests(|req| req.alarm_names().len() <= 100)
        .then_output(|| DeleteAlarmsOutput::builder().build());
    let names: Vec<String> = (0..150).map(|i| format!("alarm-{i}")).collect();
    cloudwatch_cloud(&[&rule])
        .delete_alarms(&names)
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 2);
    cloudwatch_cloud(&[&rule]).delete_alarms(&[]).await.unwrap();
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test]
async fn version_metrics_ask_for_the_p99_only_when_the_analysis_needs_it() {
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    let queries = |p99: bool| {
        mock!(CloudWatch::get_metric_data)
            .match_requests(move |req| {
                let ids: Vec<&str> = req
                    .metric_data_queries()
                    .iter()
                    .filter_map(|q| q.id())
                    .collect();
                let wanted: &[&str] = if p99 {
                    &[
                        "alias_invocations",
                        "alias_errors",
                        "alias_p99",
                        "direct_invocations",
                        "direct_errors",
                        "direct_p99",
                    ]
                } else {
                    &[
                        "alias_invocations",
                        "alias_errors",
                        "direct_invocations",
                        "direct_errors",
                    ]
                };
                ids == wanted
            })
            .then_output(|| GetMetricDataOutput::builder().build())
    };
    for p99 in [false, true] {
        let rule = queries(p99);
        let metrics = cloudwatch_cloud(&[&rule])
            .get_version_metrics("orders", "live", "2", (1000, 1300), p99)
            .await
            .unwrap();
        assert_eq!(metrics.invocations, 0.0);
        assert_eq!(rule.num_calls(), 1, "p99 {p99}");
    }
}

/// Invocations through the alias and by the version's own number (synthetic traffic) are
/// two series in CloudWatch: the analysis adds them up, and takes the higher p99.
#[tokio::test]
async fn version_metrics_add_the_alias_series_and_the_direct_one() {
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use aws_sdk_cloudwatch::types::MetricDataResult;
    let rule = mock!(CloudWatch::get_metric_data)
        .match_requests(|req| {
            let dimensions = |id: &str| -> Vec<(String, String)> {
                req.metric_data_queries()
                    .iter()
                    .find(|q| q.id() == Some(id))
                    .and_then(|q| q.metric_stat())
                    .and_then(|s| s.metric())
                    .map(|m| {
                        m.dimensions()
                            .iter()
                            .map(|d| {
                                (
                                    d.name().unwrap_or("").to_owned(),
                                    d.value().unwrap_or("").to_owned(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let pair = |n: &str, v: &str| (n.to_owned(), v.to_owned());
            dimensions("alias_invocations")
                == [
                    pair("FunctionName", "orders"),
                    pair("Resource", "orders:live"),
                    pair("ExecutedVersion", "2"),
                ]
                && dimensions("direct_invocations")
                    == [pair("FunctionName", "orders"), pair("Resource", "orders:2")]
        })
        .then_output(|| {
            let result =
                |id: &str, value: f64| MetricDataResult::builder().id(id).values(value).build();
            GetMetricDataOutput::builder()
                .metric_data_results(result("alias_invocations", 30.0))
                .metric_data_results(result("alias_errors", 1.0))
                .metric_data_results(result("alias_p99", 120.0))
                .metric_data_results(result("direct_invocations", 50.0))
                .metric_data_results(result("direct_errors", 2.0))
                .metric_data_results(result("direct_p99", 180.0))
                .build()
        });
    let metrics = cloudwatch_cloud(&[&rule])
        .get_version_metrics("orders", "live", "2", (1000, 1300), true)
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(
        (metrics.invocations, metrics.errors, metrics.p99_ms),
        (80.0, 3.0, Some(180.0))
    );
}
