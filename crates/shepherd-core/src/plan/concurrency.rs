//! Provisioned concurrency: warmed on the versions about to get traffic before the alias
//! moves, released from those that no longer serve after.

use super::*;

pub(super) fn provisioned_action(
    desired: &DesiredFunction,
    target: ProvisionedTarget,
    version: VersionRef,
) -> Action {
    match (target, &desired.alias) {
        (ProvisionedTarget::Alias(count), Some(alias)) if desired.rollout_steps.is_empty() => {
            Action::PutProvisionedConcurrency {
                qualifier: Qualifier::Alias(alias.name.clone()),
                count,
            }
        }
        (ProvisionedTarget::Alias(count) | ProvisionedTarget::Version(count), _) => {
            Action::PutProvisionedConcurrency {
                qualifier: Qualifier::Version(version),
                count,
            }
        }
    }
}

/// Provisioned concurrency: the actions before the alias moves (warming versions that
/// are about to get traffic) and after (releasing what no longer serves).
///
/// With a progressive rollout, capacity lives on the serving versions, never on the alias:
/// Lambda refuses provisioned concurrency on an alias with routing weights, so an alias
/// config would deadlock the rollout. Without one, it lives on the alias and follows it.
pub(super) fn plan_provisioned(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    serving: &[VersionRef],
) -> (Vec<Action>, Vec<Action>) {
    let (mut warm, mut release) = (Vec::new(), Vec::new());
    let Readable::Known(configs) = &observed.provisioned else {
        return (warm, release);
    };
    let count = desired.provisioned_concurrency.map(|t| match t {
        ProvisionedTarget::Alias(n) | ProvisionedTarget::Version(n) => n,
    });
    let on_alias = desired
        .alias
        .as_ref()
        .filter(|_| desired.rollout_steps.is_empty());
    let wanted: Vec<Qualifier> = match (count, on_alias) {
        (None, _) => Vec::new(),
        (Some(_), Some(alias)) => vec![Qualifier::Alias(alias.name.clone())],
        (Some(_), None) => serving.iter().cloned().map(Qualifier::Version).collect(),
    };
    let is_wanted = |qualifier: &str| {
        wanted.iter().any(|w| match w {
            Qualifier::Alias(name) => name == qualifier,
            Qualifier::Version(VersionRef::Existing(v)) => v == qualifier,
            Qualifier::Version(VersionRef::Published) => false,
        })
    };
    let alias_name = desired.alias.as_ref().map(|a| a.name.as_str());
    for config in configs.iter().filter(|c| !is_wanted(&c.qualifier)) {
        let delete = Action::DeleteProvisionedConcurrency {
            qualifier: config.qualifier.clone(),
        };
        // An alias config goes before the alias gets weights (Lambda refuses weights on
        // an alias with provisioned concurrency); a version's after it stops serving.
        if Some(config.qualifier.as_str()) == alias_name {
            warm.push(delete);
        } else {
            release.push(delete);
        }
    }
    let Some(count) = count else {
        return (warm, release);
    };
    for qualifier in wanted {
        let current = match &qualifier {
            Qualifier::Alias(name) => configs.iter().find(|c| c.qualifier == *name),
            Qualifier::Version(VersionRef::Existing(v)) => {
                configs.iter().find(|c| c.qualifier == *v)
            }
            Qualifier::Version(VersionRef::Published) => None,
        };
        // A FAILED allocation is not the spec's state: ask again (and fail again with
        // its reason) rather than record the spec as applied.
        let failed =
            current.is_some_and(|c| matches!(c.status, crate::model::ProvisionedStatus::Failed(_)));
        if current.is_some_and(|c| c.requested == count) && !failed {
            continue;
        }
        let put = Action::PutProvisionedConcurrency {
            qualifier: qualifier.clone(),
            count,
        };
        match qualifier {
            // An alias config follows the alias: set it once the alias has moved.
            Qualifier::Alias(_) => release.push(put),
            Qualifier::Version(_) => warm.push(put),
        }
    }
    (warm, release)
}
