//! CloudWatch alarms to the model, and the units and statistics of managed alarms.

use super::*;

pub(crate) fn is_standard_statistic(statistic: &str) -> bool {
    STANDARD_STATISTICS.contains(&statistic)
}

pub(crate) fn alarm_metric(name: &str) -> Option<AlarmMetric> {
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

pub(crate) fn alarm_state(state: Option<&cw::StateValue>) -> AlarmState {
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
