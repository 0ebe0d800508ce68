//! The controller's prune: a step of its own over the whole validated spec set, never part
//! of one function's reconcile. The step lists this owner's functions and queues those the
//! spec set does not name; each is then deleted by a reconcile of its own key, so the
//! queue's one-reconcile-per-function rule keeps a deletion and a reconcile of the same
//! function (named again by a newer commit) from ever overlapping.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::PoisonError;

use shepherd_core::cloud::Cloud;
use shepherd_core::plan::{Action, FunctionPlan};
use shepherd_engine::execute::{Outcome, execute};
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::plan_prune;

use super::ControlLoop;
use crate::handle::{ReconcileResult, Trigger};

/// The queue key of the prune step. Function names hold no parentheses, so it never
/// clashes with one.
pub(super) const PRUNE_KEY: &str = "(prune)";

impl<C: Cloud> ControlLoop<C> {
    /// Lists this owner's functions and queues the deletion of those absent from the spec
    /// set. Skipped entirely while any function of the set fails to package: a failure is
    /// never a reason to delete.
    pub(super) async fn prune_step(&self) {
        let options = &self.settings.reconcile.plan;
        if !options.prune {
            return;
        }
        let (names, failed): (BTreeSet<String>, BTreeMap<String, String>) = {
            let desired = self.desired.read().unwrap_or_else(PoisonError::into_inner);
            (
                desired.functions.keys().cloned().collect(),
                desired.package_errors.clone(),
            )
        };
        let wanted: BTreeSet<&str> = names.iter().map(String::as_str).collect();
        match plan_prune(&self.cloud, &wanted, &failed, &options.owner).await {
            Err(reason) => tracing::warn!(%reason, "prune skipped"),
            Ok(plans) => {
                for plan in plans {
                    for note in &plan.warnings {
                        tracing::info!(function = %plan.name, %note, "not pruned");
                    }
                    if !plan.actions.is_empty() {
                        tracing::info!(function = %plan.name, "no longer in the spec: queued for pruning");
                        self.queue.add(&plan.name, Trigger::Prune);
                    }
                }
            }
        }
    }

    /// Deletes one function the spec set no longer names (the caller checked, within the
    /// function's turn in the queue). The executor reads the function's tags again and
    /// deletes it only if it still carries this owner.
    pub(super) async fn prune_function(&self, name: &str) {
        let options = &self.settings.reconcile;
        if !options.plan.prune {
            return;
        }
        let mut plan = FunctionPlan::empty(name);
        plan.actions.push(Action::DeleteFunction {
            owner: options.plan.owner.as_str().to_owned(),
        });
        let report = execute(&self.cloud, vec![plan], &options.execute, &Silent)
            .await
            .pop();
        let result = match report.map(|r| r.outcome) {
            Some(Outcome::Failed { error, .. }) => {
                tracing::warn!(%error, "prune failed");
                ReconcileResult::Failed
            }
            _ => {
                tracing::info!("pruned: the function is deleted");
                ReconcileResult::Applied
            }
        };
        self.metrics
            .reconciles
            .with_label_values(&[Trigger::Prune.label(), result.label()])
            .inc();
    }
}
