//! The CloudWatch alarms shepherd manages for a function, and existing ones it watches.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;
use super::patterns;

/// Standard alarms shepherd creates and keeps in sync (`PutMetricAlarm`), named
/// `FUNCTION-errors`, `FUNCTION-throttles` and `FUNCTION-duration`. Each one present is
/// managed; omit one to have none. All of them gate rollouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Alarms {
    /// Fires when the `Errors` sum reaches the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<CountAlarm>,
    /// Fires when the `Throttles` sum reaches the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttles: Option<CountAlarm>,
    /// Fires when a percentile of `Duration` reaches the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationAlarm>,
    /// Names of alarms that exist already (not managed by shepherd) and belong to this
    /// function; they gate rollouts too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(length(min = 1, max = 255)))]
    pub existing: Vec<String>,
}

/// An alarm on a count metric (`Errors`, `Throttles`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CountAlarm {
    /// Count per period that fires the alarm (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub threshold: Option<f64>,
    /// Length of one evaluation period: 10s, 20s, 30s or a multiple of 60s (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<HumanDuration>,
    /// Periods evaluated together (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub evaluation_periods: Option<u32>,
    /// Breaching periods within `evaluationPeriods` that fire the alarm (default all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub datapoints_to_alarm: Option<u32>,
}

/// An alarm on a percentile of `Duration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DurationAlarm {
    /// The statistic, `p50` to `p100` (default `p99`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::PERCENTILE), extend("x-expected" = "a percentile such as p90 or p99.9"))]
    pub percentile: Option<String>,
    /// Duration that fires the alarm (default 80% of the function's timeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<HumanDuration>,
    /// Length of one evaluation period: 10s, 20s, 30s or a multiple of 60s (default 60s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<HumanDuration>,
    /// Periods evaluated together (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub evaluation_periods: Option<u32>,
    /// Breaching periods within `evaluationPeriods` that fire the alarm (default all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub datapoints_to_alarm: Option<u32>,
}

/// When an alarm evaluates, as written in the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmWindow {
    pub period: Option<HumanDuration>,
    pub evaluation_periods: Option<u32>,
    pub datapoints_to_alarm: Option<u32>,
}

impl CountAlarm {
    pub fn window(&self) -> AlarmWindow {
        AlarmWindow {
            period: self.period,
            evaluation_periods: self.evaluation_periods,
            datapoints_to_alarm: self.datapoints_to_alarm,
        }
    }
}

impl DurationAlarm {
    pub fn window(&self) -> AlarmWindow {
        AlarmWindow {
            period: self.period,
            evaluation_periods: self.evaluation_periods,
            datapoints_to_alarm: self.datapoints_to_alarm,
        }
    }
}
