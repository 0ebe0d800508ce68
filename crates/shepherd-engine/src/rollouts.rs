//! Rollouts from the outside: their status, and reconciling until every rollout has
//! settled (`apply --wait`). The operator's commands are in [`crate::operator`].

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use shepherd_core::cloud::Cloud;
use shepherd_core::display::{duration, percent};
use shepherd_core::model::{AlarmState, DesiredFunction, Observation};
use shepherd_core::rollout::{Phase, RolloutRecord};
use shepherd_core::spec::RolloutStep;

use crate::budget::{Lane, at_least, current};
use crate::execute::{FunctionReport, Outcome};
use crate::observe::{Refresh, observe};
use crate::progress::{Progress, ProgressSink};
use crate::reconcile::{Desired, ReconcileOptions, apply, plan, plan_spec_set};

/// Where one function's alias and rollout stand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStatus {
    pub function: String,
    pub alias: Option<String>,
    /// The version with most traffic and the additional version with its percent.
    pub version: Option<String>,
    pub additional: Option<(String, f64)>,
    pub record: Option<RolloutRecord>,
    pub steps: usize,
    /// What the current step is, for people.
    pub step: Option<String>,
    /// Seconds until the current pause ends, when one runs, at the time of the status.
    pub pause_left_secs: Option<u64>,
    /// How long the current pause lasts, when one runs.
    #[serde(default)]
    pub pause_secs: Option<u64>,
    /// How long ago the current pause ended, when it has and the rollout has not moved on
    /// (nothing is advancing it: no controller, no `apply --wait`).
    #[serde(default)]
    pub pause_ended_secs_ago: Option<u64>,
    pub alarms: BTreeMap<String, AlarmState>,
    /// Why the function could not be read.
    pub error: Option<String>,
}

impl RolloutStatus {
    /// Brings the time-dependent part (the pause left) to `now`: a status read long
    /// after its observation still tells the truth about the pause.
    pub fn at(&mut self, now: u64) {
        if let (Some(pause), Some(record)) = (self.pause_secs, &self.record) {
            let elapsed = now.saturating_sub(record.since);
            self.pause_left_secs = Some(pause.saturating_sub(elapsed));
            // A little slack: a rollout in a controller moves on within a pass.
            self.pause_ended_secs_ago = elapsed
                .checked_sub(pause)
                .filter(|late| *late > PAUSE_SLACK_SECS);
        }
    }

    pub fn phase(&self) -> Option<Phase> {
        self.record.as_ref().map(|r| r.phase)
    }

    pub fn in_flight(&self) -> bool {
        self.phase().is_some_and(Phase::in_flight)
    }
}

/// How late past a pause's end a rollout may be before its status says nothing moves
/// it: a controller or `apply --wait` takes the step within a pass or two.
const PAUSE_SLACK_SECS: u64 = 30;

/// `step 2/4: pause 5m`: steps counted from 1, as `plan` counts them.
fn describe_step(steps: &[RolloutStep], index: usize) -> String {
    match steps.get(index) {
        Some(RolloutStep::SetWeight(w)) => {
            format!(
                "step {}/{}: set weight {}%",
                index + 1,
                steps.len(),
                percent(*w)
            )
        }
        Some(RolloutStep::Pause(d)) => {
            format!("step {}/{}: pause {}", index + 1, steps.len(), duration(*d))
        }
        Some(RolloutStep::PauseUntilPromoted) => {
            format!("step {}/{}: pause until promoted", index + 1, steps.len())
        }
        None => "done".to_owned(),
    }
}

/// Reads the status of each function's rollout.
pub async fn status<C: Cloud>(cloud: &C, desired: &[DesiredFunction]) -> Vec<RolloutStatus> {
    let observed = observe(cloud, desired, Refresh::Changed, 8).await;
    desired
        .iter()
        .map(|d| {
            let error = observed.errors.get(&d.name).map(ToString::to_string);
            rollout_status(d, &observed.observation, error)
        })
        .collect()
}

/// Where one function's rollout stands in an observation, at the observation's time:
/// pure, so the status of a reconcile comes from the observation it planned with.
pub fn rollout_status(
    d: &DesiredFunction,
    observation: &Observation,
    error: Option<String>,
) -> RolloutStatus {
    let mut status = RolloutStatus {
        function: d.name.clone(),
        alias: d.alias.as_ref().map(|a| a.name.clone()),
        version: None,
        additional: None,
        record: None,
        steps: d.rollout_steps.len(),
        step: None,
        pause_left_secs: None,
        pause_secs: None,
        pause_ended_secs_ago: None,
        alarms: BTreeMap::new(),
        error,
    };
    let function = observation.functions.get(&d.name);
    let alias = d.alias.as_ref().and_then(|a| function?.alias(&a.name));
    if let Some(alias) = alias {
        status.version = Some(alias.version.clone());
        status.additional = alias.additional_version.clone();
        status.record = alias.record();
    }
    if let Some(record) = status.record.as_ref().filter(|r| r.phase.in_flight()) {
        status.step = Some(describe_step(&d.rollout_steps, record.step));
        // A paused rollout's clock stands still: no countdown (resume starts the pause
        // over).
        if let (Some(RolloutStep::Pause(pause)), Phase::Progressing) =
            (d.rollout_steps.get(record.step), record.phase)
        {
            status.pause_secs = Some(pause.as_secs());
            status.at(observation.at);
        }
    }
    for name in &d.gating_alarms {
        if let Some(alarm) = observation.alarms.get(name) {
            status.alarms.insert(name.clone(), alarm.state);
        }
    }
    status
}

/// The shortest wait between two passes: a rollout that asks to be looked at again at
/// once is still looked at no more than once a second.
const MIN_PASS_INTERVAL: Duration = Duration::from_secs(1);

/// Reconciles again and again until no rollout is in flight: each pass observes, plans
/// and applies, then sleeps until the earliest pause ends or alarm check is due.
pub async fn apply_until_settled<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    options: &ReconcileOptions,
    progress: &dyn ProgressSink,
) -> Vec<FunctionReport> {
    let mut merged: BTreeMap<String, FunctionReport> = BTreeMap::new();
    let mut first = true;
    loop {
        // The prune is a step of the first pass only: the later ones move rollouts, in the
        // budget lane of rollouts in flight.
        let lane = if first { current() } else { Lane::InFlight };
        let mut planned = if std::mem::take(&mut first) {
            plan_spec_set(cloud, desired, options).await
        } else {
            at_least(lane, plan(cloud, desired, options)).await
        };
        // A rollout that waits for an operator has settled as far as this loop goes.
        let moving = |p: &&shepherd_core::plan::FunctionPlan| p.next.is_moving();
        let requeue = planned
            .plans
            .iter()
            .filter(moving)
            .filter_map(|p| p.next.requeue_after())
            .min();
        let waiting: Vec<DesiredFunction> = planned
            .plans
            .iter()
            .filter(moving)
            .filter_map(|p| desired.functions.iter().find(|d| d.name == p.name))
            .cloned()
            .collect();
        let gated: Vec<String> = planned
            .plans
            .iter()
            .filter(|p| p.next.is_waiting_for_operator())
            .map(|p| p.name.clone())
            .collect();
        // The status after the pass is its own observation with the aliases as the pass
        // wrote them: no second read of the fleet.
        // Applying needs the plans only: the observation moves out, uncopied.
        let mut after = std::mem::take(&mut planned.observation);
        for report in at_least(lane, apply(cloud, planned, options, progress)).await {
            after.after_alias_writes(&report.name, &report.aliases_written);
            merge(&mut merged, report);
        }
        for function in &gated {
            progress.report(Progress::Gate { function });
        }
        let Some(requeue) = requeue else {
            break;
        };
        let next_look = requeue.max(MIN_PASS_INTERVAL);
        // Where each moving rollout stands now, after this pass's writes; only a function
        // this pass created (not in its observation) is read again.
        let (known, created): (Vec<DesiredFunction>, Vec<DesiredFunction>) = waiting
            .into_iter()
            .partition(|d| after.functions.contains_key(&d.name));
        let mut statuses: Vec<RolloutStatus> = known
            .iter()
            .map(|d| rollout_status(d, &after, None))
            .collect();
        if !created.is_empty() {
            statuses.extend(status(cloud, &created).await);
        }
        for status in &statuses {
            progress.report(Progress::Rollout { status, next_look });
        }
        tokio::time::sleep(next_look).await;
    }
    merged.into_values().collect()
}

/// Folds the report of a later pass into the earlier ones: actions add up, and a pass
/// with nothing to do does not hide what an earlier one did.
fn merge(merged: &mut BTreeMap<String, FunctionReport>, report: FunctionReport) {
    match merged.get_mut(&report.name) {
        None => {
            merged.insert(report.name.clone(), report);
        }
        Some(previous) => {
            previous.done.extend(report.done);
            previous.skipped.extend(report.skipped);
            previous.drift_corrected |= report.drift_corrected;
            if report.outcome != Outcome::Unchanged {
                previous.outcome = report.outcome;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paused_at(since: u64) -> RolloutStatus {
        let record = RolloutRecord::parse(&format!(
            "shepherd/v1 phase=Progressing stable=1 canary=2 release=r step=1 since={since} started={since}"
        ))
        .expect("a record");
        RolloutStatus {
            function: "orders".into(),
            alias: Some("live".into()),
            version: Some("1".into()),
            additional: Some(("2".into(), 0.2)),
            record: Some(record),
            steps: 2,
            step: None,
            pause_left_secs: None,
            pause_secs: Some(300),
            pause_ended_secs_ago: None,
            alarms: BTreeMap::new(),
            error: None,
        }
    }

    #[test]
    fn the_pause_left_is_told_at_the_time_of_reading_and_a_pause_long_over_is_said() {
        let mut status = paused_at(1000);
        status.at(1100);
        assert_eq!(
            (status.pause_left_secs, status.pause_ended_secs_ago),
            (Some(200), None)
        );
        status.at(1310);
        assert_eq!(
            (status.pause_left_secs, status.pause_ended_secs_ago),
            (Some(0), None),
            "within the slack a controller takes the step"
        );
        status.at(1900);
        assert_eq!(
            (status.pause_left_secs, status.pause_ended_secs_ago),
            (Some(0), Some(600))
        );
    }
}
