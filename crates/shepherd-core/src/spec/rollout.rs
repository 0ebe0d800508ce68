//! How a new version reaches the alias: all at once, a CodeDeploy-style preset, or explicit
//! steps.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;
use super::hooks::{Gates, Hooks};
use super::traffic::Traffic;

/// The rollout of each new version onto the function's alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rollout {
    /// A named strategy; give either this or `steps` (default `AllAtOnce`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// Explicit steps, run in order; after the last one the new version gets 100%.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 100))]
    pub steps: Option<Vec<Step>>,
    /// Names of alarms that gate the rollout, on top of the function's own alarms.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(length(min = 1, max = 255)))]
    pub alarms: Vec<String>,
    /// Roll back when a gating alarm fires (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_rollback: Option<bool>,
    /// Judge the new version by its own metrics too, beside the alarms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analysis: Option<Analysis>,
    /// Checks run against the new version before it gets traffic and once it has all of
    /// it; a failing one rolls the release back.
    #[serde(default, skip_serializing_if = "Hooks::is_empty")]
    pub hooks: Hooks,
    /// HTTP checks that hold a step or the promotion until they open, and a kill switch.
    #[serde(default, skip_serializing_if = "Gates::is_empty")]
    pub gates: Gates,
    /// Invocations of the new version sent by shepherd before it gets traffic and at the
    /// start of each timed pause; too many errors roll back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<Traffic>,
}

/// Metric analysis of the new version alone (CloudWatch `ExecutedVersion` dimension), from
/// the start of the current step. Checked on every pass; a breach rolls back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Analysis {
    /// Highest error rate, in percent of the new version's invocations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub max_error_rate: Option<f64>,
    /// Highest p99 duration of the new version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_p99_duration: Option<HumanDuration>,
    /// Invocations of the new version needed before any verdict (default 100). With fewer,
    /// the analysis is inconclusive and the step waits for more traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub min_invocations: Option<u32>,
    /// How long a step waits past its pause for enough traffic (default 30m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inconclusive_timeout: Option<HumanDuration>,
    /// What happens when the wait runs out: `Pause` (default: hold for an operator),
    /// `RollBack`, or `Promote` (move on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_inconclusive: Option<OnInconclusive>,
}

/// The rule for a canary with too little traffic to judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum OnInconclusive {
    Pause,
    RollBack,
    Promote,
}

/// The CodeDeploy deployment preferences for Lambda, plus `AllAtOnce`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Strategy {
    AllAtOnce,
    Canary10Percent5Minutes,
    Canary10Percent10Minutes,
    Canary10Percent15Minutes,
    Canary10Percent30Minutes,
    Linear10PercentEvery1Minute,
    Linear10PercentEvery2Minutes,
    Linear10PercentEvery3Minutes,
    Linear10PercentEvery10Minutes,
}

/// One rollout step: exactly one of `setWeight` or `pause`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    /// Percent of traffic for the new version, above 0 and below 100; fractions such as
    /// 2.5 are allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("exclusiveMinimum" = 0, "exclusiveMaximum" = 100))]
    pub set_weight: Option<f64>,
    /// Wait before the next step: `{duration: 5m}`, or `{}` to wait until promoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<Pause>,
}

/// A pause: for a duration, or until `shepherd promote` when no duration is given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Pause {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<HumanDuration>,
}

/// A rollout step after presets are expanded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RolloutStep {
    /// Route this percent of traffic to the new version.
    SetWeight(f64),
    /// Hold the current weight for this long, checking alarms.
    Pause(Duration),
    /// Hold until an operator promotes.
    PauseUntilPromoted,
}

impl Strategy {
    /// The steps a preset stands for. `AllAtOnce` has none: the alias moves in one update.
    pub fn steps(self) -> Vec<RolloutStep> {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        let canary = |m| vec![RolloutStep::SetWeight(10.0), RolloutStep::Pause(minutes(m))];
        let linear = |m| {
            (1..10)
                .flat_map(|i| {
                    [
                        RolloutStep::SetWeight(f64::from(i) * 10.0),
                        RolloutStep::Pause(minutes(m)),
                    ]
                })
                .collect()
        };
        match self {
            Strategy::AllAtOnce => Vec::new(),
            Strategy::Canary10Percent5Minutes => canary(5),
            Strategy::Canary10Percent10Minutes => canary(10),
            Strategy::Canary10Percent15Minutes => canary(15),
            Strategy::Canary10Percent30Minutes => canary(30),
            Strategy::Linear10PercentEvery1Minute => linear(1),
            Strategy::Linear10PercentEvery2Minutes => linear(2),
            Strategy::Linear10PercentEvery3Minutes => linear(3),
            Strategy::Linear10PercentEvery10Minutes => linear(10),
        }
    }
}

impl Rollout {
    /// The steps to run, presets expanded. Empty means all at once.
    pub fn expanded_steps(&self) -> Vec<RolloutStep> {
        if let Some(steps) = &self.steps {
            return steps
                .iter()
                .filter_map(|step| match (step.set_weight, &step.pause) {
                    (Some(weight), None) => Some(RolloutStep::SetWeight(weight)),
                    (None, Some(Pause { duration: Some(d) })) => Some(RolloutStep::Pause(d.0)),
                    (None, Some(Pause { duration: None })) => Some(RolloutStep::PauseUntilPromoted),
                    _ => None,
                })
                .collect();
        }
        self.strategy.unwrap_or(Strategy::AllAtOnce).steps()
    }

    /// Whether the rollout goes through the rollout state machine: it shifts traffic
    /// gradually, or runs hooks or synthetic traffic (even all at once).
    pub fn is_progressive(&self) -> bool {
        !self.expanded_steps().is_empty() || !self.hooks.is_empty() || self.traffic.is_some()
    }

    pub fn auto_rollback(&self) -> bool {
        self.auto_rollback.unwrap_or(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_expand_like_codedeploy() {
        let canary = Strategy::Canary10Percent30Minutes.steps();
        assert_eq!(
            canary,
            [
                RolloutStep::SetWeight(10.0),
                RolloutStep::Pause(Duration::from_secs(1800))
            ]
        );
        let linear = Strategy::Linear10PercentEvery3Minutes.steps();
        assert_eq!(linear.len(), 18);
        assert_eq!(linear[16], RolloutStep::SetWeight(90.0));
        assert_eq!(linear[17], RolloutStep::Pause(Duration::from_secs(180)));
        assert!(Strategy::AllAtOnce.steps().is_empty());
    }
}
