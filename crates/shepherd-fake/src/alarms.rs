//! CloudWatch metric alarms. Their state is whatever a test sets: the fake has no metrics.

use super::state::{Outcome, Refusal, World};
use shepherd_core::model::{AlarmDefinition, AlarmState, ObservedAlarm};

/// The most names `DescribeAlarms` and `DeleteAlarms` accept in one call.
pub(super) const MAX_NAMES: usize = 100;

/// The reason CloudWatch gives a new alarm.
const INITIAL_REASON: &str = "Unchecked: Initial alarm creation";

const STATISTICS: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

fn validation(message: impl Into<String>) -> Refusal {
    Refusal::Rejected("ValidationError", message.into())
}

impl World {
    /// Alarms that do not exist are left out; the answer is sorted by name, as CloudWatch's.
    pub(super) fn describe_alarms(&self, names: &[String]) -> Outcome<Vec<ObservedAlarm>> {
        check_count(names)?;
        let mut found: Vec<ObservedAlarm> = names
            .iter()
            .filter_map(|n| self.alarms.get(n))
            .cloned()
            .collect();
        found.sort_by(|a, b| a.definition.name.cmp(&b.definition.name));
        found.dedup_by(|a, b| a.definition.name == b.definition.name);
        Ok(found)
    }

    /// A new alarm starts in INSUFFICIENT_DATA; updating one keeps its state and replaces
    /// its whole definition, as `PutMetricAlarm` does.
    pub(super) fn put_alarm(&mut self, alarm: &AlarmDefinition) -> Outcome<()> {
        check_alarm(alarm)?;
        self.alarms
            .entry(alarm.name.clone())
            .and_modify(|existing| existing.definition = alarm.clone())
            .or_insert_with(|| ObservedAlarm {
                definition: alarm.clone(),
                state: AlarmState::InsufficientData,
                state_reason: INITIAL_REASON.to_owned(),
                state_since: None,
            });
        Ok(())
    }

    /// All or nothing: CloudWatch deletes no alarm when one of the names does not exist.
    pub(super) fn delete_alarms(&mut self, names: &[String]) -> Outcome<()> {
        check_count(names)?;
        if let Some(missing) = names.iter().find(|n| !self.alarms.contains_key(*n)) {
            return Err(Refusal::NotFound(format!("Alarm not found: {missing}")));
        }
        for name in names {
            self.alarms.remove(name);
        }
        Ok(())
    }
}

fn check_count(names: &[String]) -> Outcome<()> {
    if names.len() > MAX_NAMES {
        return Err(validation(format!(
            "The collection AlarmNames must not have more than {MAX_NAMES} members (got {})",
            names.len()
        )));
    }
    Ok(())
}

/// What `PutMetricAlarm` refuses.
fn check_alarm(alarm: &AlarmDefinition) -> Outcome<()> {
    if !(1..=255).contains(&alarm.name.len()) {
        return Err(validation("AlarmName must be 1 to 255 characters long"));
    }
    let period = alarm.period_secs;
    // Not `% 60 == 0`, which current clippy wants as `is_multiple_of` (Rust 1.87+).
    let whole_minutes = period >= 60 && period / 60 * 60 == period;
    if !(matches!(period, 10 | 20 | 30) || whole_minutes) {
        return Err(validation(format!(
            "Period {period} must be 10, 20, 30 or a multiple of 60"
        )));
    }
    if alarm.evaluation_periods == 0 {
        return Err(validation("EvaluationPeriods must be at least 1"));
    }
    if !(1..=alarm.evaluation_periods).contains(&alarm.datapoints_to_alarm) {
        return Err(validation(
            "DatapointsToAlarm must be between 1 and EvaluationPeriods",
        ));
    }
    if !alarm.threshold.is_finite() {
        return Err(validation("Threshold must be a number"));
    }
    let percentile = alarm
        .statistic
        .strip_prefix('p')
        .and_then(|p| p.parse::<f64>().ok())
        .is_some_and(|p| (0.0..=100.0).contains(&p));
    if !percentile && !STATISTICS.contains(&alarm.statistic.as_str()) {
        return Err(validation(format!(
            "Statistic {} is neither a statistic nor a percentile (pNN)",
            alarm.statistic
        )));
    }
    Ok(())
}
