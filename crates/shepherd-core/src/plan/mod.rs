//! The planner: `plan(desired, observed)` returns the typed actions that make AWS match
//! the spec, in a safe order. Pure and deterministic: a converged world plans nothing.

mod action;
mod alias;
mod code;
mod concurrency;
mod diff;
mod next;
mod queues;
mod resources;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde::Serialize;

pub use action::{Action, Change, HookCall, Qualifier, RecordTemplate, TrafficCall, VersionRef};
pub(crate) use alias::AliasPlan;
pub use diff::{config_changes, mapping_changes};
pub use next::{Next, Refusal, ReleaseFailure};
pub use resources::{invokes, managed_alarm_names};

use code::{code_changes, code_tag};
use concurrency::{plan_provisioned, provisioned_action};
use resources::{plan_alarms, plan_async, plan_mappings, plan_version_pruning};

use crate::model::{
    CodeArtifact, CodeIdentity, CodeTag, DesiredFunction, ManagedFunction, Observation,
    ObservedFunction, ObservedMapping, Owner, Ownership, ProvisionedTarget, Readable,
    content_moved, identify, kept_digest, ownership, tags,
};

/// Choices that are the operator's, not the spec's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// Take over functions that exist without shepherd's tag, or with another owner's.
    pub adopt: bool,
    /// Delete this owner's functions that are no longer in the spec (see [`plan_prune`]).
    pub prune: bool,
    /// The spec source this run manages functions for.
    pub owner: Owner,
    /// Published versions kept besides the ones aliases point to.
    pub keep_versions: usize,
    /// How often a rollout looks at its alarms during a pause.
    pub alarm_poll: Duration,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            adopt: false,
            prune: false,
            owner: Owner::default(),
            keep_versions: 5,
            alarm_poll: Duration::from_secs(10),
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
    /// What happens once the actions are done.
    pub next: Next,
    /// What a reviewer should know of the function (settings AWS does not keep, a
    /// queue's advice, a function left unpruned), in plan order.
    pub warnings: Vec<String>,
}

impl FunctionPlan {
    /// A plan that does nothing, to fill in.
    pub fn empty(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            actions: Vec::new(),
            drift: false,
            next: Next::Converged,
            warnings: Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty() && self.next.refusal().is_none()
    }

    /// What a person should know, in one line: a release held back, then the warnings.
    pub fn note(&self) -> Option<String> {
        let held = self
            .next
            .release_failure()
            .filter(|f| f.earlier)
            .map(|f| f.held_note(&self.name));
        let lines: Vec<String> = held.into_iter().chain(self.warnings.clone()).collect();
        (!lines.is_empty()).then(|| lines.join("; "))
    }
}

/// Plans every desired function. Pruning is a step of its own ([`plan_prune`]), over the
/// whole validated spec set, never part of planning some of its functions.
pub fn plan_all(
    desired: &[DesiredFunction],
    observation: &Observation,
    options: &PlanOptions,
) -> Vec<FunctionPlan> {
    desired
        .iter()
        .map(|d| {
            let observed = observation.functions.get(&d.name);
            plan_function(d, observed, observation, options)
        })
        .collect()
}

/// The deletions of a prune: this owner's functions that no function of the validated spec
/// set names. `wanted` must hold every function of the spec set, including those that
/// failed to package, observe or plan: the caller runs no prune when any did.
///
/// Functions of other owners are never pruned, nor unclaimed ones (managed before owners
/// were recorded): those are listed with a note, so the operator knows why they stay.
pub fn plan_prune(
    wanted: &BTreeSet<&str>,
    managed: &[ManagedFunction],
    owner: &Owner,
) -> Vec<FunctionPlan> {
    // An empty spec set never prunes: it is far more likely a broken checkout than an
    // intent to delete every function.
    if wanted.is_empty() {
        return Vec::new();
    }
    let mut plans = Vec::new();
    for function in managed.iter().filter(|f| !wanted.contains(f.name.as_str())) {
        let mut plan = FunctionPlan::empty(&function.name);
        match function.owner.as_deref() {
            Some(recorded) if recorded == owner.as_str() => {
                plan.actions.push(Action::DeleteFunction {
                    owner: owner.as_str().to_owned(),
                });
            }
            // Another owner's function is none of this run's business: not even a note.
            Some(_) => continue,
            None => {
                plan.warnings.push(format!(
                    "not pruned: managed by shepherd but has no {} tag (deployed before owners were recorded), so it may belong to another spec source; tag it with {}={owner} to let this source prune it",
                    tags::OWNER,
                    tags::OWNER
                ));
            }
        }
        plans.push(plan);
    }
    plans
}

/// Plans one function. `observed` is `None` when it does not exist.
pub fn plan_function(
    desired: &DesiredFunction,
    observed: Option<&ObservedFunction>,
    observation: &Observation,
    options: &PlanOptions,
) -> FunctionPlan {
    let mut plan = FunctionPlan::empty(&desired.name);
    let identified = identify(desired, observed, observation);
    let desired = identified.desired.as_ref();
    let queues = queues::check_queues(desired, observation);
    if let Some(message) = queues.error {
        plan.next = Next::Refused(Refusal::EventSource { message });
        return plan;
    }
    let warnings: Vec<String> = identified
        .warning
        .into_iter()
        .chain(queues.warnings)
        .collect();
    plan.warnings.clone_from(&warnings);
    let Some(observed) = observed else {
        // Code that could not be packaged creates nothing.
        if desired.code.unavailable().is_none() {
            plan.actions = plan_create(desired, &options.owner);
        }
        return plan;
    };
    if !options.adopt
        && let Some(refusal) = not_ours(&desired.name, observed, &options.owner)
    {
        plan.next = Next::Refused(refusal);
        return plan;
    }
    if desired.code.unavailable().is_some() {
        let guard = alias::plan_guard(desired, observed, observation, options.alarm_poll);
        plan.actions = guard.actions;
        plan.next = guard.next;
        return plan;
    }
    let update = plan_update(desired, observed, observation, options);
    plan.actions = update.actions;
    plan.next = update.next;
    plan.warnings = update.warnings;
    plan.warnings.extend(warnings);
    // A rollout moving on is not drift; anything else planned while the recorded digest
    // matches the spec is.
    let corrects = plan.actions.iter().any(|a| {
        !matches!(
            a,
            Action::UpdateAlias {
                record: Some(_),
                ..
            }
        )
    });
    plan.drift = corrects
        && !content_moved(desired, observed)
        && observed.tag(tags::SPEC_DIGEST) == Some(desired.spec_digest.as_str());
    plan
}

/// Why a function that exists may not be changed by this owner without `--adopt`.
fn not_ours(name: &str, observed: &ObservedFunction, owner: &Owner) -> Option<Refusal> {
    match ownership(&observed.tags, owner) {
        Ownership::Ours | Ownership::Unclaimed => None,
        Ownership::Other(other) => Some(Refusal::OtherOwner {
            function: name.to_owned(),
            recorded: other.to_string(),
            owner: owner.to_string(),
        }),
        Ownership::Unmanaged => Some(Refusal::Unmanaged {
            function: name.to_owned(),
        }),
    }
}

fn publish(desired: &DesiredFunction) -> Action {
    Action::PublishVersion {
        release_digest: desired.release_digest.clone(),
        expected_sha256: desired.code.known_sha256().map(str::to_owned),
    }
}

/// The tags shepherd wants on the function, its own included (`release` excluded: the
/// executor records it once the version number is known).
fn desired_tags(desired: &DesiredFunction, code_sha256: Option<&str>) -> BTreeMap<String, String> {
    let mut all = desired.tags.clone();
    all.insert(
        tags::CODE.to_owned(),
        code_tag(&desired.code.identity(), code_sha256),
    );
    all.insert(tags::SPEC_DIGEST.to_owned(), desired.spec_digest.clone());
    all.insert(tags::SECTIONS.to_owned(), desired.sections.clone());
    all
}

/// The tags that claim a function: written when it is created, so that even a create
/// whose answer was lost leaves a function shepherd recognises as its own.
fn ownership_tags(owner: &Owner) -> [(String, String); 2] {
    [
        (
            tags::MANAGED_BY.to_owned(),
            tags::MANAGED_BY_VALUE.to_owned(),
        ),
        (tags::OWNER.to_owned(), owner.as_str().to_owned()),
    ]
}

fn plan_create(desired: &DesiredFunction, owner: &Owner) -> Vec<Action> {
    let mut initial_tags = desired.tags.clone();
    initial_tags.extend(ownership_tags(owner));
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
            description: String::new(),
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
    final_tags.retain(|k, _| k == tags::CODE || k == tags::SPEC_DIGEST || k == tags::SECTIONS);
    actions.push(Action::Tag {
        set: final_tags,
        remove: Vec::new(),
        release: Some(desired.release_digest.clone()),
    });
    actions
}

/// A plan for an existing function.
struct Update {
    actions: Vec<Action>,
    next: Next,
    warnings: Vec<String>,
}

fn plan_update(
    desired: &DesiredFunction,
    observed: &ObservedFunction,
    observation: &Observation,
    options: &PlanOptions,
) -> Update {
    let mut actions = Vec::new();

    let mut changes = config_changes(&observed.config, &desired.config);
    // AWS shows what it showed right after shepherd wrote this very spec: whatever still
    // differs is a setting AWS does not keep (it normalises the value, or the endpoint
    // ignores the field), not drift. Writing it again would publish a version, and start
    // a canary, on every pass; it is reported instead, until the spec changes.
    let kept_as_written = observed.tag(tags::SPEC_DIGEST) == Some(desired.spec_digest.as_str())
        && observed.tag(tags::CONFIG_KEPT)
            == Some(kept_digest(&observed.config, observed.architecture).as_str());
    let mut not_kept: Vec<Change> = Vec::new();
    if kept_as_written {
        not_kept.append(&mut changes);
    }
    let config_update = !changes.is_empty();
    if config_update {
        actions.push(Action::UpdateConfiguration {
            config: Box::new(desired.config.clone()),
            changes,
        });
    }

    // A digest of the code source: computed once, for the comparison and the tag.
    let identity = desired.code.identity();
    let mut code_changes = code_changes(desired, &identity, observed);
    if kept_as_written {
        not_kept.extend(code_changes.extract_if(.., |c| c.field == "architecture"));
    }
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

    let recorded = observed.release_tag();
    let release_current = recorded
        .as_ref()
        .is_some_and(|release| desired.is_release(&release.digest));
    let publishing = config_update || code_update || !release_current;
    if publishing {
        actions.push(publish(desired));
    }
    let target = match (&recorded, publishing) {
        (Some(release), false) => VersionRef::Existing(release.version.clone()),
        _ => VersionRef::Published,
    };

    let alias = alias::plan_alias(desired, observed, observation, &target, options.alarm_poll);
    let (warm, release) = plan_provisioned(desired, observed, &alias.serving);
    // Provisioned concurrency is ready before a version gets traffic, and released only
    // after it has none.
    actions.extend(warm);
    actions.extend(alias.actions);
    actions.extend(release);
    let next = alias.next;
    let warnings: Vec<String> = not_converging(&not_kept).into_iter().collect();

    match (observed.reserved_concurrency, desired.reserved_concurrency) {
        (current, Some(count)) if current != Some(count) => {
            actions.push(Action::PutReservedConcurrency { count });
        }
        (Some(_), None) => actions.push(Action::DeleteReservedConcurrency),
        _ => {}
    }

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

    // The tags of `desired_tags`, compared in place: nothing is copied unless it differs.
    let known_sha = if code_update {
        desired.code.known_sha256()
    } else {
        Some(observed.code_sha256.as_str())
    };
    let code = code_tag(&identity, known_sha);
    let own = [
        (tags::MANAGED_BY, tags::MANAGED_BY_VALUE),
        (tags::OWNER, options.owner.as_str()),
        (tags::CODE, code.as_str()),
        (tags::SPEC_DIGEST, desired.spec_digest.as_str()),
    ];
    let is_own = |key: &str| own.iter().any(|(k, _)| *k == key);
    let set: BTreeMap<String, String> = desired
        .tags
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .filter(|(k, _)| !is_own(k))
        .chain(own)
        .filter(|(k, v)| observed.tag(k) != Some(*v))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let remove: Vec<String> = observed
        .tags
        .keys()
        .filter(|k| {
            !desired.tags.contains_key(*k)
                && !is_own(k)
                && *k != tags::RELEASE
                && *k != tags::CONFIG_KEPT
                && *k != tags::SECTIONS
                && !k.starts_with("aws:")
        })
        .cloned()
        .collect();
    if !set.is_empty() || !remove.is_empty() || publishing {
        // The spec digest goes last, with the tags: it marks the whole spec applied. The
        // section digests go with it, and only with it: a function applied before they
        // were recorded gets them with its next change, not a write of its own.
        let mut set = set;
        set.insert(tags::SPEC_DIGEST.to_owned(), desired.spec_digest.clone());
        if observed.tag(tags::SECTIONS) != Some(desired.sections.as_str()) {
            set.insert(tags::SECTIONS.to_owned(), desired.sections.clone());
        }
        actions.push(Action::Tag {
            set,
            remove,
            release: publishing.then(|| desired.release_digest.clone()),
        });
    }
    Update {
        actions,
        next,
        warnings,
    }
}

/// The note of settings AWS did not keep after shepherd wrote them.
fn not_converging(not_kept: &[Change]) -> Option<String> {
    if not_kept.is_empty() {
        return None;
    }
    let fields: Vec<String> = not_kept
        .iter()
        .map(|c| format!("{} is {} (the spec says {})", c.field, c.from, c.to))
        .collect();
    Some(format!(
        "not converging: AWS did not keep what shepherd wrote: {}; not written again, and no version published for it, until the spec changes",
        fields.join(", ")
    ))
}
