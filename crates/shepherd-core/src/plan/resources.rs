//! What hangs off a function besides its code and configuration: asynchronous invocation,
//! SQS event source mappings, managed alarms, and the pruning of old versions.

use super::*;

pub(super) fn plan_async(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    actions: &mut Vec<Action>,
) {
    let Readable::Known(current) = &observed.async_config else {
        return;
    };
    let qualifier = desired.invoke_qualifier().map(str::to_owned);
    match (current, &desired.async_config) {
        (current, Some(config)) if current.as_ref() != Some(config) => {
            actions.push(Action::PutAsyncConfig {
                qualifier,
                config: config.clone(),
            });
        }
        (Some(_), None) => actions.push(Action::DeleteAsyncConfig { qualifier }),
        _ => {}
    }
}

/// Whether a mapping invokes the function (any qualifier), given the function's ARN.
pub fn invokes(mapping: &ObservedMapping, function_arn: &str) -> bool {
    mapping.function_arn == function_arn
        || mapping
            .function_arn
            .strip_prefix(function_arn)
            .is_some_and(|rest| rest.starts_with(':'))
}

pub(super) fn plan_mappings(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    actions: &mut Vec<Action>,
) {
    let Readable::Known(current) = &observed.mappings else {
        return;
    };
    let qualifier = desired.invoke_qualifier().map(str::to_owned);
    let wanted_target = match &qualifier {
        Some(q) => format!("{}:{q}", observed.arn),
        None => observed.arn.clone(),
    };
    for config in &desired.mappings {
        match current
            .iter()
            .find(|m| m.config.queue_arn == config.queue_arn)
        {
            None => actions.push(Action::CreateMapping {
                qualifier: qualifier.clone(),
                config: config.clone(),
            }),
            Some(existing) => {
                let mut changes = mapping_changes(&existing.config, config);
                if existing.function_arn != wanted_target {
                    changes.push(Change {
                        field: "function".to_owned(),
                        from: existing.function_arn.clone(),
                        to: wanted_target.clone(),
                    });
                }
                if !changes.is_empty() {
                    actions.push(Action::UpdateMapping {
                        uuid: existing.uuid.clone(),
                        qualifier: qualifier.clone(),
                        config: config.clone(),
                        changes,
                    });
                }
            }
        }
    }
    for existing in current {
        if !desired
            .mappings
            .iter()
            .any(|c| c.queue_arn == existing.config.queue_arn)
        {
            actions.push(Action::DeleteMapping {
                uuid: existing.uuid.clone(),
                queue_arn: existing.config.queue_arn.clone(),
            });
        }
    }
}

/// The names of every alarm shepherd may manage for a function.
pub fn managed_alarm_names(function: &str) -> [String; 3] {
    use crate::model::AlarmMetric::{Duration, Errors, Throttles};
    [Errors, Throttles, Duration].map(|m| format!("{function}-{}", m.suffix()))
}

pub(super) fn plan_alarms(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    actions: &mut Vec<Action>,
) {
    let Readable::Known(existing) = &observed.alarms else {
        return;
    };
    for alarm in &desired.alarms {
        let current = existing.get(&alarm.name).map(|a| &a.definition);
        if current != Some(alarm) {
            actions.push(Action::PutAlarm {
                alarm: Box::new(alarm.clone()),
            });
        }
    }
    let stale: Vec<String> = managed_alarm_names(&desired.name)
        .into_iter()
        .filter(|name| existing.contains_key(name))
        .filter(|name| !desired.alarms.iter().any(|a| a.name == *name))
        .collect();
    if !stale.is_empty() {
        actions.push(Action::DeleteAlarms { names: stale });
    }
}

pub(super) fn plan_version_pruning(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    target: &VersionRef,
    publishing: bool,
    options: &PlanOptions,
    actions: &mut Vec<Action>,
) {
    let Readable::Known(versions) = &observed.versions else {
        return;
    };
    let mut protected: BTreeSet<&str> = BTreeSet::new();
    for alias in &observed.aliases {
        protected.insert(alias.version.as_str());
        if let Some((extra, _)) = &alias.additional_version {
            protected.insert(extra.as_str());
        }
    }
    if let VersionRef::Existing(v) = target {
        protected.insert(v.as_str());
    }
    if let Some(release) = observed.release_tag()
        && let Some(version) = versions.iter().find(|x| x.version == release.version)
    {
        protected.insert(version.version.as_str());
    }
    let mut ours: Vec<_> = versions
        .iter()
        .filter(|v| v.description.starts_with(VERSION_DESCRIPTION_PREFIX))
        .filter_map(|v| v.number().map(|n| (n, v.version.as_str())))
        .collect();
    ours.sort_unstable_by_key(|v| std::cmp::Reverse(v.0));
    // The version about to be published takes one of the kept slots.
    let keep = options
        .keep_versions
        .saturating_sub(usize::from(publishing));
    let _ = desired;
    for (_, version) in ours.into_iter().skip(keep) {
        if !protected.contains(version) {
            actions.push(Action::DeleteVersion {
                version: version.to_owned(),
            });
        }
    }
}
