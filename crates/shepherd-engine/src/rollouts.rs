//! Rollouts from the outside: their status. Reconciling until every rollout has settled
//! (`apply --wait`) is in [`crate::settle`], the operator's commands in
//! [`crate::operator`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use shepherd_core::cloud::Cloud;
use shepherd_core::display::{duration, percent};
use shepherd_core::model::{AlarmState, DesiredFunction, GateReading, Observation};
use shepherd_core::rollout::{Decision, Evidence, Phase, Policy, RolloutRecord, Stage, decide};
use shepherd_core::spec::{Hooks, RolloutStep};

use crate::observe::{Refresh, observe};

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
    /// The rollout's hooks, in the order they run, with where each stands.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookStatus>,
    /// The rollout's gates as the pass that made the status polled them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateReading>,
    /// The closed gate the next step waits for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_for_gate: Option<String>,
    /// Why the function could not be read.
    pub error: Option<String>,
}

/// Where one hook of a rollout stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HookStatus {
    pub stage: Stage,
    pub name: String,
    pub state: HookState,
    /// Running or pending: since when (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// Pending: by when its callback is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<u64>,
    /// Failed: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A hook's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum HookState {
    /// Not reached yet (or never, the rollout having ended before it).
    Waiting,
    /// Next to run, or running now.
    Running,
    /// It answered "pending" and its callback is due.
    Pending,
    Passed,
    Failed,
}

/// Where each hook of `hooks` stands, from the rollout's record.
fn hook_statuses(hooks: &Hooks, record: Option<&RolloutRecord>) -> Vec<HookStatus> {
    let mut out = Vec::new();
    for stage in [Stage::PreTraffic, Stage::PostTraffic] {
        for (index, hook) in hooks.stage(stage).iter().enumerate() {
            let name = hook.display_name();
            let mut status = HookStatus {
                stage,
                state: HookState::Waiting,
                since: None,
                until: None,
                reason: None,
                name,
            };
            if let Some(record) = record {
                status.state = hook_state(record, stage, index, &status.name);
                match status.state {
                    HookState::Running | HookState::Pending => {
                        status.since = Some(record.since);
                        status.until = record.hook.and_then(|h| h.pending_until);
                    }
                    HookState::Failed => status.reason.clone_from(&record.reason),
                    _ => {}
                }
            }
            out.push(status);
        }
    }
    out
}

fn hook_state(record: &RolloutRecord, stage: Stage, index: usize, name: &str) -> HookState {
    let order = |s: Stage| match s {
        Stage::PreTraffic => 0,
        Stage::PostTraffic => 1,
    };
    match (record.phase, record.hook) {
        (Phase::Healthy, _) => HookState::Passed,
        (phase, Some(at)) if phase.in_flight() => {
            match (order(stage).cmp(&order(at.stage)), index.cmp(&at.index)) {
                (std::cmp::Ordering::Less, _) => HookState::Passed,
                (std::cmp::Ordering::Equal, std::cmp::Ordering::Less) => HookState::Passed,
                (std::cmp::Ordering::Equal, std::cmp::Ordering::Equal) => {
                    if at.pending_until.is_some() {
                        HookState::Pending
                    } else {
                        HookState::Running
                    }
                }
                _ => HookState::Waiting,
            }
        }
        // Between the hooks: the preTraffic ones passed.
        (phase, None) if phase.in_flight() => match stage {
            Stage::PreTraffic => HookState::Passed,
            Stage::PostTraffic => HookState::Waiting,
        },
        // Ended at a hook: the ones before it passed; it failed when the reason says so
        // (an alarm or an operator may have ended the rollout while it ran).
        (_, Some(at)) => match (order(stage).cmp(&order(at.stage)), index.cmp(&at.index)) {
            (std::cmp::Ordering::Less, _)
            | (std::cmp::Ordering::Equal, std::cmp::Ordering::Less) => HookState::Passed,
            (std::cmp::Ordering::Equal, std::cmp::Ordering::Equal)
                if named_failed(record, stage, name) =>
            {
                HookState::Failed
            }
            _ => HookState::Waiting,
        },
        // Ended between the hooks: the preTraffic ones had passed.
        (_, None) => match stage {
            Stage::PreTraffic => HookState::Passed,
            Stage::PostTraffic if named_failed(record, stage, name) => HookState::Failed,
            Stage::PostTraffic => HookState::Waiting,
        },
    }
}

/// Whether the record's reason says this hook failed.
fn named_failed(record: &RolloutRecord, stage: Stage, name: &str) -> bool {
    record
        .reason
        .as_deref()
        .is_some_and(|r| r.starts_with(&format!("{stage} hook {name} ")))
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
        hooks: Vec::new(),
        gates: Vec::new(),
        waiting_for_gate: None,
        error,
    };
    let function = observation.functions.get(&d.name);
    let alias = d.alias.as_ref().and_then(|a| function?.alias(&a.name));
    if let Some(alias) = alias {
        status.version = Some(alias.version.clone());
        status.additional = alias.additional_version.clone();
        status.record = alias.record();
    }
    status.hooks = hook_statuses(&d.hooks, status.record.as_ref());
    status.gates = observation.gates.get(&d.name).cloned().unwrap_or_default();
    if let Some(record) = status.record.as_ref().filter(|r| r.phase.in_flight())
        && !status.gates.is_empty()
    {
        let policy = Policy {
            steps: &d.rollout_steps,
            gating: &d.gating_alarms,
            auto_rollback: d.auto_rollback,
            poll: std::time::Duration::from_secs(10),
            analysis: d.analysis.as_ref(),
            hooks: &d.hooks,
            gates: &d.gates,
            traffic: d.traffic.as_ref(),
        };
        let evidence = Evidence {
            alarms: &observation.alarms,
            metrics: observation.metrics.get(&d.name),
            gates: &status.gates,
        };
        if let Decision::WaitForGate { gate, .. } = decide(record, policy, evidence, observation.at)
        {
            status.waiting_for_gate = Some(gate);
        }
    }
    if let Some(record) = status.record.as_ref().filter(|r| r.phase.in_flight()) {
        status.step = Some(match record.hook {
            Some(at)
                if at.stage == Stage::PreTraffic
                    && at.index == d.hooks.pre_traffic.len()
                    && let Some(traffic) = &d.traffic =>
            {
                format!(
                    "synthetic traffic before traffic: {} invocations of version {}",
                    traffic.invocations, record.canary
                )
            }
            Some(at) if at.index < d.hooks.stage(at.stage).len() => {
                let name = d
                    .hooks
                    .stage(at.stage)
                    .get(at.index)
                    .map_or_else(|| "hook".to_owned(), |h| h.display_name());
                let state = if at.pending_until.is_some() {
                    "pending"
                } else {
                    "running"
                };
                format!(
                    "{} hook {}/{}: {name} ({state})",
                    at.stage,
                    at.index + 1,
                    d.hooks.stage(at.stage).len()
                )
            }
            // Past the last hook: the next step is the one to describe.
            _ => describe_step(&d.rollout_steps, record.step),
        });
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
            hooks: Vec::new(),
            gates: Vec::new(),
            waiting_for_gate: None,
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
