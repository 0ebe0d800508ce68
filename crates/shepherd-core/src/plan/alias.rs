//! Planning the alias: all at once, or through a rollout, whose path from record to alias
//! write is [`crate::rollout`]'s.

use super::action::{Action, Change, VersionRef};
use super::next::{Next, Refusal};
use crate::display::percent;
use crate::model::{DesiredFunction, Observation, ObservedAlias, ObservedFunction};
use crate::rollout::RECORD_PREFIX;
use crate::rollout::Rollout;
use std::time::Duration;

/// The alias part of a plan.
#[derive(Debug)]
pub struct AliasPlan {
    pub actions: Vec<Action>,
    /// The versions that serve traffic once the actions are done, where provisioned
    /// concurrency must be during a rollout.
    pub serving: Vec<VersionRef>,
    pub next: Next,
}

impl Default for AliasPlan {
    fn default() -> Self {
        Self {
            actions: Vec::new(),
            serving: Vec::new(),
            next: Next::Converged,
        }
    }
}

/// Plans the alias of `desired`, whose new release is `target`.
pub fn plan_alias(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    observation: &Observation,
    target: &VersionRef,
    poll: Duration,
) -> AliasPlan {
    let Some(alias) = &desired.alias else {
        return AliasPlan {
            serving: vec![target.clone()],
            ..AliasPlan::default()
        };
    };
    let Some(current) = observed.alias(&alias.name) else {
        // A new alias has nothing to shift from: it starts on the release.
        return AliasPlan {
            actions: vec![Action::CreateAlias {
                name: alias.name.clone(),
                version: target.clone(),
                description: String::new(),
            }],
            serving: vec![target.clone()],
            ..AliasPlan::default()
        };
    };
    if current.description.starts_with(RECORD_PREFIX) && current.record().is_none() {
        return AliasPlan {
            serving: vec![VersionRef::Existing(current.version.clone())],
            next: Next::Refused(Refusal::UnreadableRecord {
                alias: current.name.clone(),
                description: current.description.clone(),
            }),
            ..AliasPlan::default()
        };
    }
    if desired.rollout_steps.is_empty() && desired.hooks.is_empty() {
        return all_at_once(&alias.name, current, target);
    }
    Rollout::new(desired, current, observation, poll)
        .plan(target)
        .unwrap_or_else(|| all_at_once(&alias.name, current, target))
}

/// Moves the alias to `target` in one update, clearing any weights.
fn all_at_once(name: &str, current: &ObservedAlias, target: &VersionRef) -> AliasPlan {
    let mut changes = Vec::new();
    if !matches!(target, VersionRef::Existing(v) if *v == current.version) {
        changes.push(Change {
            field: "version".to_owned(),
            from: current.version.clone(),
            to: target.to_string(),
        });
    }
    if let Some((extra, weight)) = &current.additional_version {
        changes.push(Change {
            field: "routing".to_owned(),
            from: format!("{extra} at {}%", percent(weight * 100.0)),
            to: "(none)".to_owned(),
        });
    }
    let mut plan = AliasPlan {
        serving: vec![target.clone()],
        ..AliasPlan::default()
    };
    if !changes.is_empty() {
        plan.actions.push(Action::UpdateAlias {
            name: name.to_owned(),
            version: target.clone(),
            additional: None,
            description: current.description.clone(),
            record: None,
            revision: current.revision_id.clone(),
            changes,
        });
    }
    plan
}

/// The alias part of the plan of a function whose code could not be packaged: nothing is
/// released, but a rollout in flight keeps its safety net. It is held at its current weight
/// (no step is taken without a valid desired state) and rolled back when its alarms or
/// analysis fail.
pub fn plan_guard(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    observation: &Observation,
    poll: Duration,
) -> AliasPlan {
    let current = desired
        .alias
        .as_ref()
        .and_then(|alias| observed.alias(&alias.name));
    match current {
        Some(current) => Rollout::new(desired, current, observation, poll).guard(),
        None => AliasPlan::default(),
    }
}
