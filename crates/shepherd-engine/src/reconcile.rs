//! One reconcile of a spec set: resolve the desired state, observe, plan, and (for apply)
//! execute. The same path serves `shepherd plan`, `shepherd apply` and the controller.

use std::collections::BTreeMap;

use shepherd_core::cloud::{Cloud, CloudError};
use shepherd_core::model::{DesiredFunction, Observation, resolve};
use shepherd_core::plan::{FunctionPlan, PlanOptions, plan_all};
use shepherd_core::validate::ValidFunction;

use crate::execute::{ExecuteOptions, FunctionReport, Outcome, execute};
use crate::observe::{Refresh, observe};
use crate::package::artifact;
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
#[derive(Debug, Default)]
pub struct Desired {
    pub functions: Vec<DesiredFunction>,
    pub errors: BTreeMap<String, String>,
}

/// Resolves valid specs into desired state, packaging local code.
pub fn resolve_desired(functions: &[ValidFunction], only: &[String]) -> Desired {
    let mut desired = Desired::default();
    for function in functions {
        let name = function.name();
        if !only.is_empty() && !only.iter().any(|o| o == name) {
            continue;
        }
        match artifact(function) {
            Ok(code) => desired.functions.push(resolve(function, code)),
            Err(error) => {
                desired.errors.insert(name.to_owned(), error.to_string());
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
    let managed_extra = if options.plan.prune && options.only.is_empty() {
        match cloud.list_managed_functions().await {
            Ok(names) => names,
            Err(error) => {
                errors.insert("(prune)".to_owned(), prune_error(&error));
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    let plans = plan_all(
        &plannable,
        &observed.observation,
        &managed_extra,
        &options.plan,
    );
    Planned {
        plans,
        observation: observed.observation,
        errors,
    }
}

fn prune_error(error: &CloudError) -> String {
    format!("cannot list managed functions, nothing pruned: {error}")
}

/// Executes planned changes; functions that could not be planned are reported failed.
pub async fn apply<C: Cloud>(
    cloud: &C,
    planned: Planned,
    options: &ReconcileOptions,
    progress: &dyn ProgressSink,
) -> Vec<FunctionReport> {
    let mut reports = execute(cloud, planned.plans, &options.execute, progress).await;
    reports.extend(
        planned
            .errors
            .into_iter()
            .map(|(name, error)| FunctionReport {
                name,
                outcome: Outcome::Failed { error },
                done: Vec::new(),
                skipped: Vec::new(),
                drift_corrected: false,
            }),
    );
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    reports
}
