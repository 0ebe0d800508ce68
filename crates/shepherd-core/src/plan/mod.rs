//! The planner: `plan(desired, observed)` returns the typed actions that make AWS match
//! the spec, in a safe order. Pure and deterministic: a converged world plans nothing.

mod action;
mod diff;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use action::{Action, Change, Qualifier, VersionRef};
pub use diff::{config_changes, mapping_changes};

use crate::model::{
    CodeArtifact, DesiredFunction, Observation, ObservedFunction, ObservedMapping,
    ProvisionedTarget, Readable, tags,
};

/// Choices that are the operator's, not the spec's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Take over functions that exist without shepherd's tag.
    pub adopt: bool,
    /// Delete managed functions that are no longer in the spec.
    pub prune: bool,
    /// Published versions kept besides the ones aliases point to.
    pub keep_versions: usize,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            adopt: false,
            prune: false,
            keep_versions: 5,
        }
    }
}

/// Prefix of the description of every version shepherd publishes; only such versions are
/// ever pruned.
pub const VERSION_DESCRIPTION_PREFIX: &str = "shepherd release ";

/// What to do for one function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionPlan {
    pub name: String,
    pub actions: Vec<Action>,
    /// The recorded spec digest matches the spec, yet AWS differs: someone changed the
    /// function behind shepherd's back, and the plan corrects it.
    pub drift: bool,
    /// Why the function cannot be planned (for example: not managed by shepherd).
    pub refused: Option<String>,
}

impl FunctionPlan {
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.refused.is_none()
    }
}

/// Plans every desired function, plus the pruning of managed functions that left the spec.
/// `managed_extra` are managed functions found in AWS that the spec no longer names.
pub fn plan_all(
    desired: &[DesiredFunction],
    observation: &Observation,
    managed_extra: &[String],
    options: &PlanOptions,
) -> Vec<FunctionPlan> {
    let mut plans: Vec<FunctionPlan> = desired
        .iter()
        .map(|d| {
            let observed = observation.functions.get(&d.name);
            plan_function(d, observed, observation, options)
        })
        .collect();
    // An empty spec set never prunes: it is far more likely a broken checkout than an
    // intent to delete every function.
    if options.prune && !desired.is_empty() {
        let wanted: BTreeSet<&str> = desired.iter().map(|d| d.name.as_str()).collect();
        for name in managed_extra
            .iter()
            .filter(|n| !wanted.contains(n.as_str()))
        {
            plans.push(FunctionPlan {
                name: name.clone(),
                actions: vec![Action::DeleteFunction],
                drift: false,
                refused: None,
            });
        }
    }
    plans
}

/// Plans one function. `observed` is `None` when it does not exist.
pub fn plan_function(
    desired: &DesiredFunction,
    observed: Option<&ObservedFunction>,
    _observation: &Observation,
    options: &PlanOptions,
) -> FunctionPlan {
    let mut plan = FunctionPlan {
        name: desired.name.clone(),
        actions: Vec::new(),
        drift: false,
        refused: None,
    };
    let Some(observed) = observed else {
        plan.actions = plan_create(desired);
        return plan;
    };
    let managed = observed.tag(tags::MANAGED_BY) == Some(tags::MANAGED_BY_VALUE);
    if !managed && !options.adopt {
        plan.refused = Some(format!(
            "function {} exists but is not managed by shepherd (no {} tag); run with --adopt to take it over",
            desired.name,
            tags::MANAGED_BY
        ));
        return plan;
    }
    plan.actions = plan_update(desired, observed, options);
    plan.drift = !plan.actions.is_empty()
        && observed.tag(tags::SPEC_DIGEST) == Some(desired.spec_digest.as_str());
    plan
}

fn publish(desired: &DesiredFunction) -> Action {
    Action::PublishVersion {
        release_digest: desired.release_digest.clone(),
        expected_sha256: desired.code.known_sha256().map(str::to_owned),
    }
}

fn code_tag(desired: &DesiredFunction, sha256: Option<&str>) -> String {
    format!("{}:{}", desired.code.identity(), sha256.unwrap_or(""))
}

/// The tags shepherd wants on the function, its own included (`release` excluded: the
/// executor records it once the version number is known).
fn desired_tags(desired: &DesiredFunction, code_sha256: Option<&str>) -> BTreeMap<String, String> {
    let mut all = desired.tags.clone();
    all.insert(
        tags::MANAGED_BY.to_owned(),
        tags::MANAGED_BY_VALUE.to_owned(),
    );
    all.insert(tags::CODE.to_owned(), code_tag(desired, code_sha256));
    all.insert(tags::SPEC_DIGEST.to_owned(), desired.spec_digest.clone());
    all
}

fn plan_create(desired: &DesiredFunction) -> Vec<Action> {
    let mut initial_tags = desired.tags.clone();
    initial_tags.insert(
        tags::MANAGED_BY.to_owned(),
        tags::MANAGED_BY_VALUE.to_owned(),
    );
    let mut actions = vec![Action::CreateFunction {
        config: Box::new(desired.config.clone()),
        architecture: desired.architecture,
        code: desired.code.clone(),
        tags: initial_tags,
    }];
    if desired.recursive_loop != crate::spec::RecursiveLoop::Terminate {
        actions.push(Action::PutRecursiveLoop {
            mode: desired.recursive_loop,
        });
    }
    actions.push(publish(desired));
    let target = VersionRef::Published;
    if let Some(alias) = &desired.alias {
        actions.push(Action::CreateAlias {
            name: alias.name.clone(),
            version: target.clone(),
            description: alias.description.clone(),
        });
    }
    if let Some(count) = desired.reserved_concurrency {
        actions.push(Action::PutReservedConcurrency { count });
    }
    if let Some(target_pc) = desired.provisioned_concurrency {
        actions.push(provisioned_action(desired, target_pc, target.clone()));
    }
    if let Some(config) = &desired.async_config {
        actions.push(Action::PutAsyncConfig {
            qualifier: desired.invoke_qualifier().map(str::to_owned),
            config: config.clone(),
        });
    }
    for config in &desired.mappings {
        actions.push(Action::CreateMapping {
            qualifier: desired.invoke_qualifier().map(str::to_owned),
            config: config.clone(),
        });
    }
    for alarm in &desired.alarms {
        actions.push(Action::PutAlarm {
            alarm: Box::new(alarm.clone()),
        });
    }
    let mut final_tags = desired_tags(desired, desired.code.known_sha256());
    final_tags.retain(|k, _| k == tags::CODE || k == tags::SPEC_DIGEST);
    actions.push(Action::Tag {
        set: final_tags,
        remove: Vec::new(),
        release: Some(desired.release_digest.clone()),
    });
    actions
}

fn provisioned_action(
    desired: &DesiredFunction,
    target: ProvisionedTarget,
    version: VersionRef,
) -> Action {
    match (target, &desired.alias) {
        (ProvisionedTarget::Alias(count), Some(alias)) => Action::PutProvisionedConcurrency {
            qualifier: Qualifier::Alias(alias.name.clone()),
            count,
        },
        (ProvisionedTarget::Alias(count) | ProvisionedTarget::Version(count), _) => {
            Action::PutProvisionedConcurrency {
                qualifier: Qualifier::Version(version),
                count,
            }
        }
    }
}

/// The release recorded on the function: `(version, release digest)`.
fn recorded_release(observed: &ObservedFunction) -> Option<(String, String)> {
    let value = observed.tag(tags::RELEASE)?;
    let (version, digest) = value.split_once(':')?;
    Some((version.to_owned(), digest.to_owned()))
}

fn plan_update(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    options: &PlanOptions,
) -> Vec<Action> {
    let mut actions = Vec::new();

    let changes = config_changes(&observed.config, &desired.config);
    let config_update = !changes.is_empty();
    if config_update {
        actions.push(Action::UpdateConfiguration {
            config: Box::new(desired.config.clone()),
            changes,
        });
    }

    let code_changes = code_changes(desired, observed);
    let code_update = !code_changes.is_empty();
    if code_update {
        actions.push(Action::UpdateCode {
            code: desired.code.clone(),
            architecture: desired.architecture,
            changes: code_changes,
        });
    }

    if let Readable::Known(mode) = &observed.recursive_loop
        && *mode != desired.recursive_loop
    {
        actions.push(Action::PutRecursiveLoop {
            mode: desired.recursive_loop,
        });
    }

    let recorded = recorded_release(observed);
    let release_current = recorded
        .as_ref()
        .is_some_and(|(_, digest)| *digest == desired.release_digest);
    let publishing = config_update || code_update || !release_current;
    if publishing {
        actions.push(publish(desired));
    }
    let target = match (&recorded, publishing) {
        (Some((version, _)), false) => VersionRef::Existing(version.clone()),
        _ => VersionRef::Published,
    };

    if let Some(alias) = &desired.alias {
        match observed.alias(&alias.name) {
            None => actions.push(Action::CreateAlias {
                name: alias.name.clone(),
                version: target.clone(),
                description: alias.description.clone(),
            }),
            Some(current) => {
                let mut changes = Vec::new();
                let points_right =
                    matches!(&target, VersionRef::Existing(v) if *v == current.version);
                if !points_right {
                    changes.push(Change {
                        field: "version".to_owned(),
                        from: current.version.clone(),
                        to: target.to_string(),
                    });
                }
                if let Some((extra, weight)) = &current.additional_version {
                    changes.push(Change {
                        field: "routing".to_owned(),
                        from: format!("{extra} at {:.4}%", weight * 100.0),
                        to: "(none)".to_owned(),
                    });
                }
                if current.description != alias.description {
                    changes.push(Change {
                        field: "description".to_owned(),
                        from: current.description.clone(),
                        to: alias.description.clone(),
                    });
                }
                if !changes.is_empty() {
                    actions.push(Action::UpdateAlias {
                        name: alias.name.clone(),
                        version: target.clone(),
                        additional: None,
                        description: alias.description.clone(),
                        changes,
                    });
                }
            }
        }
    }

    match (observed.reserved_concurrency, desired.reserved_concurrency) {
        (current, Some(count)) if current != Some(count) => {
            actions.push(Action::PutReservedConcurrency { count });
        }
        (Some(_), None) => actions.push(Action::DeleteReservedConcurrency),
        _ => {}
    }

    plan_provisioned(desired, observed, &target, &mut actions);
    plan_async(desired, observed, &mut actions);
    plan_mappings(desired, observed, &mut actions);
    plan_alarms(desired, observed, &mut actions);
    plan_version_pruning(
        desired,
        observed,
        &target,
        publishing,
        options,
        &mut actions,
    );

    let known_sha = if code_update {
        desired.code.known_sha256().map(str::to_owned)
    } else {
        Some(observed.code_sha256.clone())
    };
    let wanted = desired_tags(desired, known_sha.as_deref());
    let set: BTreeMap<String, String> = wanted
        .iter()
        .filter(|(k, v)| observed.tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let remove: Vec<String> = observed
        .tags
        .keys()
        .filter(|k| !wanted.contains_key(*k) && *k != tags::RELEASE && !k.starts_with("aws:"))
        .cloned()
        .collect();
    if !set.is_empty() || !remove.is_empty() || publishing || !actions.is_empty() {
        // Re-writing the spec digest after any other change keeps it the last word.
        let mut set = set;
        set.insert(tags::SPEC_DIGEST.to_owned(), desired.spec_digest.clone());
        actions.push(Action::Tag {
            set,
            remove,
            release: publishing.then(|| desired.release_digest.clone()),
        });
    }
    actions
}

fn code_changes(desired: &DesiredFunction, observed: &ObservedFunction) -> Vec<Change> {
    let mut changes = Vec::new();
    if observed.architecture != desired.architecture {
        changes.push(Change {
            field: "architecture".to_owned(),
            from: format!("{:?}", observed.architecture),
            to: format!("{:?}", desired.architecture),
        });
    }
    let recorded = observed.tag(tags::CODE).and_then(|t| t.split_once(':'));
    let source_changed = match &desired.code {
        CodeArtifact::Zip { sha256, .. } => observed.code_sha256 != *sha256,
        _ => match recorded {
            // The source moved (new S3 key or image), or the code in AWS is not what
            // shepherd deployed there.
            Some((identity, sha)) => {
                identity != desired.code.identity()
                    || (!sha.is_empty() && sha != observed.code_sha256)
            }
            None => true,
        },
    };
    if source_changed {
        changes.push(Change {
            field: "code".to_owned(),
            from: observed.code_sha256.clone(),
            to: match desired.code.known_sha256() {
                Some(sha) => sha.to_owned(),
                None => describe_source(&desired.code),
            },
        });
    }
    changes
}

fn describe_source(code: &CodeArtifact) -> String {
    match code {
        CodeArtifact::S3 {
            bucket,
            key,
            object_version,
        } => match object_version {
            Some(v) => format!("s3://{bucket}/{key}?versionId={v}"),
            None => format!("s3://{bucket}/{key}"),
        },
        CodeArtifact::Image { uri } => uri.clone(),
        CodeArtifact::Zip { sha256, .. } => sha256.clone(),
    }
}

fn plan_provisioned(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    target: &VersionRef,
    actions: &mut Vec<Action>,
) {
    let Readable::Known(configs) = &observed.provisioned else {
        return;
    };
    let wanted_qualifier = match (desired.provisioned_concurrency, &desired.alias) {
        (Some(ProvisionedTarget::Alias(_)), Some(alias)) => Some(alias.name.clone()),
        (Some(_), _) => match target {
            VersionRef::Existing(v) => Some(v.clone()),
            VersionRef::Published => None,
        },
        (None, _) => None,
    };
    let wanted_count = desired.provisioned_concurrency.map(|t| match t {
        ProvisionedTarget::Alias(n) | ProvisionedTarget::Version(n) => n,
    });
    for config in configs {
        if Some(&config.qualifier) != wanted_qualifier.as_ref() {
            actions.push(Action::DeleteProvisionedConcurrency {
                qualifier: config.qualifier.clone(),
            });
        }
    }
    if let (Some(target_pc), Some(count)) = (desired.provisioned_concurrency, wanted_count) {
        let current = wanted_qualifier
            .as_ref()
            .and_then(|q| configs.iter().find(|c| c.qualifier == *q));
        if current.is_none_or(|c| c.requested != count) {
            actions.push(provisioned_action(desired, target_pc, target.clone()));
        }
    }
}

fn plan_async(desired: &DesiredFunction, observed: &ObservedFunction, actions: &mut Vec<Action>) {
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

fn plan_mappings(
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

fn plan_alarms(desired: &DesiredFunction, observed: &ObservedFunction, actions: &mut Vec<Action>) {
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

fn plan_version_pruning(
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
    if let Some((v, _)) = recorded_release(observed)
        && let Some(version) = versions.iter().find(|x| x.version == v)
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
