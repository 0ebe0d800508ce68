//! The CloudWatch alarm calls. Alarm names go in batches of at most 100, the API's limit;
//! each batch (and each page of a batch) is one call.

use aws_sdk_cloudwatch::types as cw;
use shepherd_core::cloud::{Alarms, Api, CanaryMetricsSource, CloudResult};

use crate::AwsCloud;
use shepherd_core::model::{AlarmDefinition, ObservedAlarm, VersionMetrics};

use crate::convert::{self, to_i32};
use crate::error::from_sdk;

/// `AlarmNames` and `DeleteAlarms` take at most 100 names.
const MAX_NAMES: usize = 100;

impl Alarms for AwsCloud {
    /// `DescribeAlarms` for the given names, metric and composite alarms alike (either can
    /// gate a rollout). Alarms that do not exist are left out.
    async fn describe_alarms(&self, names: &[String]) -> CloudResult<Vec<ObservedAlarm>> {
        let client = &self.cloudwatch;
        const API: Api = Api::DescribeAlarms;
        let mut alarms = Vec::new();
        // No names must mean no alarms: DescribeAlarms without AlarmNames lists every alarm.
        for batch in names.chunks(MAX_NAMES) {
            let mut next_token = None;
            loop {
                let out = client
                    .describe_alarms()
                    .set_alarm_names(Some(batch.to_vec()))
                    .alarm_types(cw::AlarmType::MetricAlarm)
                    .alarm_types(cw::AlarmType::CompositeAlarm)
                    .max_records(to_i32(MAX_NAMES as u32))
                    .set_next_token(next_token.take())
                    .send()
                    .await
                    .map_err(from_sdk(API))?;
                alarms.extend(out.metric_alarms().iter().map(convert::metric_alarm));
                alarms.extend(out.composite_alarms().iter().map(convert::composite_alarm));
                match out.next_token() {
                    Some(token) if !token.is_empty() => next_token = Some(token.to_owned()),
                    _ => break,
                }
            }
        }
        Ok(alarms)
    }

    /// `PutMetricAlarm` on a Lambda metric: `>=` the threshold, missing data not breaching,
    /// a standard statistic (`Sum`) or an extended one (`p99`). The put replaces the whole
    /// alarm.
    async fn put_alarm(&self, alarm: &AlarmDefinition) -> CloudResult<()> {
        let client = &self.cloudwatch;
        const API: Api = Api::PutMetricAlarm;
        let dimensions = alarm
            .dimensions
            .iter()
            .map(|(name, value)| cw::Dimension::builder().name(name).value(value).build())
            .collect();
        let request = client
            .put_metric_alarm()
            .alarm_name(&alarm.name)
            .alarm_description(&alarm.description)
            .namespace(convert::LAMBDA_NAMESPACE)
            .metric_name(alarm.metric.metric_name())
            .set_dimensions(Some(dimensions))
            .period(to_i32(alarm.period_secs))
            .evaluation_periods(to_i32(alarm.evaluation_periods))
            .datapoints_to_alarm(to_i32(alarm.datapoints_to_alarm))
            .threshold(alarm.threshold)
            .comparison_operator(cw::ComparisonOperator::GreaterThanOrEqualToThreshold)
            .treat_missing_data(convert::TREAT_MISSING_DATA)
            .set_unit(convert::alarm_unit(alarm.metric));
        let request = if convert::is_standard_statistic(&alarm.statistic) {
            request.statistic(cw::Statistic::from(alarm.statistic.as_str()))
        } else {
            request.extended_statistic(&alarm.statistic)
        };
        request.send().await.map_err(from_sdk(API))?;
        Ok(())
    }

    /// `DeleteAlarms`; no call for no names (CloudWatch rejects an empty list).
    async fn delete_alarms(&self, names: &[String]) -> CloudResult<()> {
        let client = &self.cloudwatch;
        const API: Api = Api::DeleteAlarms;
        for batch in names.chunks(MAX_NAMES) {
            client
                .delete_alarms()
                .set_alarm_names(Some(batch.to_vec()))
                .send()
                .await
                .map_err(from_sdk(API))?;
        }
        Ok(())
    }
}

impl CanaryMetricsSource for AwsCloud {
    /// `GetMetricData` for one version behind an alias (`ExecutedVersion` dimension) and
    /// invoked directly, over `[start, end)`: invocation and error sums and (with `p99`)
    /// the p99 duration, each as one datapoint
    /// covering the whole window (a percentile cannot be combined from smaller periods).
    async fn get_version_metrics(
        &self,
        function: &str,
        alias: &str,
        version: &str,
        (start, end): (u64, u64),
        p99: bool,
    ) -> CloudResult<VersionMetrics> {
        let client = &self.cloudwatch;
        const API: Api = Api::GetMetricData;
        // A period is a multiple of 60 seconds and covers the window.
        let span = end.saturating_sub(start).max(1);
        let period = span.div_ceil(60) * 60;
        // Through the alias (the version's share of the alias's traffic), and invoked by
        // its own qualifier (synthetic traffic, hooks that call the candidate directly):
        // CloudWatch keeps them apart, the analysis counts both.
        let through_alias = vec![
            ("FunctionName", function.to_owned()),
            ("Resource", format!("{function}:{alias}")),
            ("ExecutedVersion", version.to_owned()),
        ];
        let direct = vec![
            ("FunctionName", function.to_owned()),
            ("Resource", format!("{function}:{version}")),
        ];
        let query = |id: &str, metric: &str, stat: &str, dimensions: &[(&str, String)]| {
            let mut builder = cw::Metric::builder()
                .namespace("AWS/Lambda")
                .metric_name(metric);
            for (name, value) in dimensions {
                builder =
                    builder.dimensions(cw::Dimension::builder().name(*name).value(value).build());
            }
            cw::MetricDataQuery::builder()
                .id(id)
                .metric_stat(
                    cw::MetricStat::builder()
                        .metric(builder.build())
                        .period(to_i32(u32::try_from(period).unwrap_or(u32::MAX)))
                        .stat(stat)
                        .build(),
                )
                .return_data(true)
                .build()
        };
        let seconds =
            |t: u64| aws_smithy_types::DateTime::from_secs(i64::try_from(t).unwrap_or(i64::MAX));
        let mut request = client
            .get_metric_data()
            .start_time(seconds(start))
            .end_time(seconds(start + period));
        for (prefix, dimensions) in [("alias", &through_alias), ("direct", &direct)] {
            let id = |name: &str| format!("{prefix}_{name}");
            request = request
                .metric_data_queries(query(&id("invocations"), "Invocations", "Sum", dimensions))
                .metric_data_queries(query(&id("errors"), "Errors", "Sum", dimensions));
            if p99 {
                request =
                    request.metric_data_queries(query(&id("p99"), "Duration", "p99", dimensions));
            }
        }
        let out = request.send().await.map_err(from_sdk(API))?;
        let value = |id: &str| {
            out.metric_data_results()
                .iter()
                .find(|r| r.id() == Some(id))
                .and_then(|r| r.values().first().copied())
        };
        let sum = |name: &str| {
            value(&format!("alias_{name}")).unwrap_or(0.0)
                + value(&format!("direct_{name}")).unwrap_or(0.0)
        };
        // A percentile of two series cannot be combined: the higher one bounds it.
        let p99_ms = match (value("alias_p99"), value("direct_p99")) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        Ok(VersionMetrics {
            invocations: sum("invocations"),
            errors: sum("errors"),
            p99_ms,
        })
    }
}
