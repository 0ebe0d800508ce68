//! One reconcile of a spec set: resolve the desired state, observe, plan, and (for apply)
//! execute. The same path serves `shepherd plan`, `shepherd apply` and the controller.

use std::collections::{BTreeMap, BTreeSet};

use shepherd_core::cloud::{Cloud, CloudError};
use shepherd_core::display::count;
use shepherd_core::model::{CodeArtifact, DesiredFunction, Observation, Owner, resolve};
use shepherd_core::plan::{FunctionPlan, PlanOptions, plan_all};
use shepherd_core::validate::ValidFunction;

use crate::execute::{ExecuteOptions, FunctionReport, execute};
use crate::observe::{Refresh, observe};
use crate::package::{PackageCache, PackageError, PackageLimits, artifact};
use crate::progress::ProgressSink;

/// Everything a reconcile can be told.
#[derive(Debug, Clone, Default)]
pub struct ReconcileOptions {
    pub refresh: Refresh,
    pub plan: PlanOptions,
    pub execute: ExecuteOptions,
    /// Restrict the run to these functions (all when empty).
    pub only: Vec<String>,
}

/// The desired state of the valid functions, and the ones whose code could not be packaged.
///
/// A function whose code could not be packaged is in both: in `errors` with the reason, so
/// that `plan` and `apply` report it failed and plan nothing for it, and in `functions`
/// with [`CodeArtifact::Unavailable`] code, so that its rollout's status and commands work
/// and the controller can still roll a rollout in flight back.
#[derive(Debug, Default)]
pub struct Desired {
    pub functions: Vec<DesiredFunction>,
    pub errors: BTreeMap<String, String>,
}

impl Desired {
    /// Every function of the spec set, packaged or not.
    pub fn names(&self) -> BTreeSet<&str> {
        self.functions
            .iter()
            .map(|f| f.name.as_str())
            .chain(self.errors.keys().map(String::as_str))
            .collect()
    }
}

/// Resolves valid specs into desired state, packaging local code.
pub fn resolve_desired(functions: &[ValidFunction], only: &[String]) -> Desired {
    resolve_with(functions, only, |f| artifact(f, &PackageLimits::default()))
}

/// The desired state without packaging any code (the code is
/// [`CodeArtifact::Unavailable`]): for what only reads or commands rollouts, which must
/// work even when a code folder is broken.
pub fn resolve_unpackaged(functions: &[ValidFunction]) -> Vec<DesiredFunction> {
    functions
        .iter()
        .map(|f| {
            let reason = "not packaged: this command deploys no code".to_owned();
            resolve(f, CodeArtifact::Unavailable { reason })
        })
        .collect()
}

/// [`resolve_desired`] for every function, with packages kept in `cache` while their
/// files do not change (the controller's source polls). Blocking: reads files.
pub fn resolve_desired_cached(functions: &[ValidFunction], cache: &PackageCache) -> Desired {
    resolve_with(functions, &[], |f| {
        cache.artifact(f, &PackageLimits::default())
    })
}

fn resolve_with(
    functions: &[ValidFunction],
    only: &[String],
    package: impl Fn(&ValidFunction) -> Result<CodeArtifact, PackageError>,
) -> Desired {
    let mut desired = Desired::default();
    for function in functions {
        let name = function.name();
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        match package(function) {
            Ok(code) => desired.functions.push(resolve(function, code)),
            Err(error) => {
                let reason = error.to_string();
                desired.errors.insert(name.to_owned(), reason.clone());
                let code = CodeArtifact::Unavailable { reason };
                desired.functions.push(resolve(function, code));
            }
        }
    }
    desired
}

/// The plans for a desired set, with what could not be observed.
#[derive(Debug, Default)]
pub struct Planned {
    pub plans: Vec<FunctionPlan>,
    pub observation: Observation,
    /// Functions that could not be observed (and so were not planned), with the reason.
    pub errors: BTreeMap<String, String>,
    /// The errors that came from AWS, typed: their summaries (see `CloudError::summary`)
    /// are what the status API shows, and their kinds what the controller retries.
    pub cloud_errors: BTreeMap<String, CloudError>,
}

impl Planned {
    /// Whether anything would change.
    pub fn has_changes(&self) -> bool {
        self.plans.iter().any(|p| !p.actions.is_empty())
    }
}

/// Observes and plans.
pub async fn plan<C: Cloud>(cloud: &C, desired: &Desired, options: &ReconcileOptions) -> Planned {
    let observed = observe(
        cloud,
        &desired.functions,
        options.refresh,
        options.execute.concurrency,
    )
    .await;
    let mut errors: BTreeMap<String, String> = desired.errors.clone();
    errors.extend(
        observed
            .errors
            .iter()
            .map(|(n, e)| (n.clone(), e.to_string())),
    );
    let plannable: Vec<DesiredFunction> = desired
        .functions
        .iter()
        .filter(|d| !errors.contains_key(&d.name))
        .cloned()
        .collect();
    let cloud_errors = observed.errors.clone();
    let mut observation = observed.observation;
    crate::gates::poll_gates(cloud, &plannable, &mut observation, &options.execute.hooks).await;
    let plans = plan_all(&plannable, &observation, &options.plan);
    Planned {
        plans,
        observation,
        errors,
        cloud_errors,
    }
}

/// Why a prune step deleted nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PruneSkipped {
    /// Functions of the spec set failed before planning: a failure is never a reason to
    /// delete.
    #[error("nothing pruned: {} of the spec set failed before planning ({})", count(.functions.len(), "function"), .functions.join(", "))]
    FailedBefore { functions: Vec<String> },
    /// The account's managed functions could not be listed.
    #[error("cannot list managed functions, nothing pruned: {}", .0.summary())]
    CannotList(CloudError),
}

/// The key under which a prune that could not run is reported.
pub const PRUNE: &str = "(prune)";

/// The prune step, separate from planning functions: this owner's functions that no
/// function of the whole validated spec set names are deleted. `wanted` holds every
/// function of the set, `failed` those that could not be packaged, observed or planned; a
/// pass in which any failed prunes nothing, since a failure is never a reason to delete.
pub async fn plan_prune<C: Cloud>(
    cloud: &C,
    wanted: &BTreeSet<&str>,
    failed: &BTreeMap<String, String>,
    owner: &Owner,
) -> Result<Vec<FunctionPlan>, PruneSkipped> {
    if !failed.is_empty() {
        return Err(PruneSkipped::FailedBefore {
            functions: failed.keys().cloned().collect(),
        });
    }
    let managed = cloud
        .list_managed_functions()
        .await
        .map_err(PruneSkipped::CannotList)?;
    Ok(shepherd_core::plan::plan_prune(wanted, &managed, owner))
}

/// Plans a whole spec set as `shepherd plan` and `apply` do: every function, then (with
/// `--prune` and without `--only`) the prune step.
pub async fn plan_spec_set<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    options: &ReconcileOptions,
) -> Planned {
    let mut planned = plan(cloud, desired, options).await;
    if options.plan.prune && options.only.is_empty() {
        add_prune(cloud, desired, &mut planned, &options.plan.owner).await;
    }
    planned
}

/// Prunes after planning a whole spec set (`plan` and `apply` without `--only`): the
/// deletions join the plans, or the reason nothing is pruned joins the errors.
pub async fn add_prune<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    planned: &mut Planned,
    owner: &Owner,
) {
    let wanted = desired.names();
    match plan_prune(cloud, &wanted, &planned.errors, owner).await {
        Ok(plans) => planned.plans.extend(plans),
        Err(reason) => {
            planned.errors.insert(PRUNE.to_owned(), reason.to_string());
        }
    }
}

/// Executes planned changes; functions that could not be planned are reported failed.
pub async fn apply<C: Cloud>(
    cloud: &C,
    planned: Planned,
    options: &ReconcileOptions,
    progress: &dyn ProgressSink,
) -> Vec<FunctionReport> {
    let mut reports = execute(cloud, planned.plans, &options.execute, progress).await;
    let mut cloud_errors = planned.cloud_errors;
    reports.extend(planned.errors.into_iter().map(|(name, error)| {
        let cause = cloud_errors.remove(&name);
        FunctionReport::failed_before(name, error, cause)
    }));
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    reports
}
