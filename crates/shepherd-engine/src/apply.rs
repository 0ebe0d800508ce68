//! Applying a spec set function by function, without phase barriers: each function goes
//! from its observation to its plan and its writes on its own, bounded only by the budget
//! and the concurrency. The first write of a fleet-wide apply comes after one function's
//! reads, not after the fleet's.
//!
//! What functions share (the account's mappings, alarms, queues, code objects) is read
//! once or in batches through the pass ([`Pass`]); within the budget, a function that has
//! begun is served before one that has not ([`first_come`]), so functions finish in the
//! order they began instead of all advancing together. The prune step is the one barrier
//! left, by design: it deletes only after every function of the spec set was planned
//! without failure.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use shepherd_core::cloud::{Api, Cloud, CloudError};
use shepherd_core::model::{DesiredFunction, Observation, ObservedAlias};
use shepherd_core::plan::{FunctionPlan, plan_function};
use tracing::Instrument;

use crate::budget::first_come;
use crate::execute::{ExecuteError, FunctionReport, execute, execute_one};
use crate::observe::{Pass, observe_one};
use crate::progress::ProgressSink;
use crate::reconcile::{Desired, PRUNE, ReconcileOptions, plan_prune};

/// One function's reconcile: what was planned and done, and the state it left.
#[derive(Debug)]
pub struct Reconciled {
    pub report: FunctionReport,
    /// `None` when the function could not be planned (`report` says why).
    pub plan: Option<FunctionPlan>,
    /// The function's observation, with its aliases as this reconcile wrote them (empty
    /// when it could not be read).
    pub observation: Observation,
}

/// Observes, plans and applies one function. `package_error` is why its code could not
/// be packaged: it is then observed (for its status) but neither planned nor applied.
/// `known` is its aliases as an earlier look left them (see [`observe_one`]).
///
/// An alias write refused because the alias changed since it was read (its `RevisionId`
/// moved: another writer, or an earlier attempt of the same write whose answer was lost)
/// is planned once more from a fresh read, at once.
pub async fn reconcile_one<C: Cloud>(
    cloud: &C,
    desired: &DesiredFunction,
    package_error: Option<&str>,
    options: &ReconcileOptions,
    pass: &Pass,
    progress: &dyn ProgressSink,
    known: Option<&[ObservedAlias]>,
) -> Reconciled {
    let first = reconcile_once(
        cloud,
        desired,
        package_error,
        options,
        pass,
        progress,
        known,
    )
    .await;
    if !alias_moved_under(&first.report) {
        return first;
    }
    tracing::info!(
        function = %desired.name,
        "the alias changed since it was read: reading it again"
    );
    let again = reconcile_once(cloud, desired, package_error, options, pass, progress, None);
    let mut again = again.await;
    let mut done = first.report.done;
    done.append(&mut again.report.done);
    again.report.done = done;
    again
}

/// Whether the reconcile failed on an alias write whose revision precondition did not
/// hold.
fn alias_moved_under(report: &FunctionReport) -> bool {
    matches!(
        &report.failure,
        Some(ExecuteError::Cloud(CloudError::PreconditionFailed {
            api: Api::UpdateAlias,
            ..
        }))
    )
}

async fn reconcile_once<C: Cloud>(
    cloud: &C,
    desired: &DesiredFunction,
    package_error: Option<&str>,
    options: &ReconcileOptions,
    pass: &Pass,
    progress: &dyn ProgressSink,
    known: Option<&[ObservedAlias]>,
) -> Reconciled {
    let name = desired.name.clone();
    let mut observation = match observe_one(cloud, desired, options.refresh, pass, known).await {
        Ok(observation) => observation,
        Err(error) => {
            return Reconciled {
                report: FunctionReport::failed_before(name, error.to_string(), Some(error)),
                plan: None,
                observation: Observation::default(),
            };
        }
    };
    if let Some(error) = package_error {
        return Reconciled {
            report: FunctionReport::failed_before(name, error.to_owned(), None),
            plan: None,
            observation,
        };
    }
    let observed = observation.functions.get(&name);
    let plan = plan_function(desired, observed, &observation, &options.plan);
    let report = execute_one(cloud, &plan, &options.execute, progress).await;
    observation.after_alias_writes(&name, &report.aliases_written);
    Reconciled {
        report,
        plan: Some(plan),
        observation,
    }
}

/// What an apply of a spec set did.
#[derive(Debug, Default)]
pub struct Applied {
    /// One per function, by name, and the prune's deletions.
    pub reports: Vec<FunctionReport>,
    /// The plans made, by name (a function that could not be planned has none).
    pub plans: Vec<FunctionPlan>,
    /// The functions that could not be planned, and a prune that could not run
    /// ([`PRUNE`]), with the reason.
    pub errors: BTreeMap<String, String>,
}

/// Applies a spec set as `shepherd apply` does: every function on its own, `concurrency`
/// at a time, then (with `--prune` and without `--only`) the prune step.
pub async fn apply_spec_set<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    options: &ReconcileOptions,
    progress: &dyn ProgressSink,
) -> Applied {
    let pass = Pass::default();
    let pass = &pass;
    // Boxed for the same reason as the reads in `observe`.
    let work: Vec<BoxFuture<'_, Reconciled>> = desired
        .functions
        .iter()
        .map(|d| {
            let package_error = desired.errors.get(&d.name).map(String::as_str);
            let span = tracing::info_span!("apply", function = %d.name);
            let one = reconcile_one(cloud, d, package_error, options, pass, progress, None);
            Box::pin(first_come(one).instrument(span)) as BoxFuture<'_, _>
        })
        .collect();
    let done: Vec<Reconciled> = stream::iter(work)
        .buffer_unordered(options.execute.concurrency.max(1))
        .collect()
        .await;
    let mut applied = Applied::default();
    for one in done {
        if one.plan.is_none()
            && let Some(error) = one.report.outcome.error()
        {
            applied
                .errors
                .insert(one.report.name.clone(), error.to_owned());
        }
        applied.plans.extend(one.plan);
        applied.reports.push(one.report);
    }
    if options.plan.prune && options.only.is_empty() {
        prune(cloud, desired, options, progress, &mut applied).await;
    }
    applied.reports.sort_by(|a, b| a.name.cmp(&b.name));
    applied.plans.sort_by(|a, b| a.name.cmp(&b.name));
    applied
}

/// The prune step, once every function of the spec set has been planned: a failure is
/// never a reason to delete.
async fn prune<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    options: &ReconcileOptions,
    progress: &dyn ProgressSink,
    applied: &mut Applied,
) {
    let wanted = desired.names();
    match plan_prune(cloud, &wanted, &applied.errors, &options.plan.owner).await {
        Ok(plans) => {
            let reports = execute(cloud, plans.clone(), &options.execute, progress).await;
            applied.reports.extend(reports);
            applied.plans.extend(plans);
        }
        Err(reason) => {
            let reason = reason.to_string();
            applied.reports.push(FunctionReport::failed_before(
                PRUNE.to_owned(),
                reason.clone(),
                None,
            ));
            applied.errors.insert(PRUNE.to_owned(), reason);
        }
    }
}
