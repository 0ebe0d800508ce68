//! What `plan` and `apply` share: validate the specs, resolve them, reach AWS.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use shepherd_aws::AwsCloud;
use shepherd_controller::source::folder_owner;
use shepherd_core::model::Owner;
use shepherd_core::plan::{FunctionPlan, PlanOptions};
use shepherd_engine::budget::{Budget, ROUTINE_SHARE, Rates};
use shepherd_engine::execute::ExecuteOptions;
use shepherd_engine::metered::Metered;
use shepherd_engine::observe::Refresh;
use shepherd_engine::reconcile::{Desired, ReconcileOptions, resolve_desired};
use shepherd_engine::retry::RetryPolicy;

use super::validate::{load_lint_config, print_diagnostics};
use crate::cli::{AwsArgs, RefreshArg, SpecArgs};

/// Validates the specs and resolves the valid set. `None` when the specs are invalid: the
/// diagnostics have been printed, and nothing may be applied.
pub fn load_desired(spec: &SpecArgs) -> Option<Desired> {
    let (config, config_errors) = match load_lint_config(spec.config.as_deref(), &spec.paths) {
        Ok(config) => (config, Vec::new()),
        Err(errors) => (Default::default(), errors),
    };
    let mut report = shepherd_core::check_specs_within(&spec.paths, spec.root.as_deref(), &config);
    report.diagnostics.extend(config_errors);
    report.sort();
    keep_target(&mut report, spec.target.as_deref());
    if !report.is_valid() {
        print_diagnostics(&report.diagnostics, &mut std::io::stderr());
        eprintln!(
            "error: the specs are invalid ({} errors); nothing was planned or changed",
            report.errors()
        );
        return None;
    }
    for unknown in spec
        .only
        .iter()
        .filter(|o| !report.functions.iter().any(|f| f.name() == o.as_str()))
    {
        eprintln!("warning: --only {unknown}: no such function in the specs");
    }
    Some(resolve_desired(&report.functions, &spec.only))
}

/// Keeps the specs of `target` (those naming it; without it, those naming none), and says
/// how many of other targets were left out.
pub fn keep_target(report: &mut shepherd_core::validate::Report, target: Option<&str>) {
    use shepherd_core::validate::targets::{Targets, select};
    let others = select(report, &Targets::default(), target);
    if others > 0 {
        let which = match target {
            Some(target) => format!("other targets than {target}"),
            None => "a target (use --target NAME for them)".to_owned(),
        };
        eprintln!(
            "note: {} for {which} left out",
            shepherd_core::display::count(others, "spec")
        );
    }
}

/// The owner of this run: `--owner`, else derived from the first PATH's repository.
pub fn owner(spec: &SpecArgs) -> Result<Owner, String> {
    match &spec.owner {
        Some(text) => Owner::parse(text).map_err(|e| format!("--owner: {e}")),
        None => {
            let first = spec.paths.first().map_or(Path::new("."), PathBuf::as_path);
            let dir = if first.is_dir() {
                first
            } else {
                first.parent().unwrap_or(Path::new("."))
            };
            Ok(folder_owner(dir))
        }
    }
}

/// The options of `plan` and `apply`; `Err` names a bad flag.
pub fn reconcile_options(spec: &SpecArgs, aws: &AwsArgs) -> Result<ReconcileOptions, String> {
    let owner = owner(spec)?;
    Ok(ReconcileOptions {
        refresh: match spec.refresh {
            RefreshArg::Changed => Refresh::Changed,
            RefreshArg::Full => Refresh::Full,
        },
        plan: PlanOptions {
            adopt: spec.adopt,
            prune: spec.prune,
            owner,
            keep_versions: spec.keep_versions,
            alarm_poll: spec.alarm_poll,
        },
        execute: ExecuteOptions {
            concurrency: aws
                .concurrency
                .unwrap_or(ExecuteOptions::default().concurrency)
                .max(1),
            ..ExecuteOptions::default()
        },
        only: spec.only.clone(),
    })
}

/// When every function failed because nothing answers at the endpoint, the one line that
/// says so (`cannot reach AWS at http://127.0.0.1:1: connection refused`), instead of the
/// same error once per function.
pub fn unreachable(
    errors: &BTreeMap<String, String>,
    plans: &[FunctionPlan],
    aws: &AwsArgs,
) -> Option<String> {
    const MARK: &str = "cannot reach AWS: ";
    let causes: BTreeSet<&str> = errors
        .values()
        .map(|e| e.split_once(MARK).map(|(_, cause)| cause))
        .collect::<Option<_>>()?;
    let [cause] = causes.into_iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    if !plans.is_empty() {
        return None;
    }
    let endpoint = match (&aws.endpoint_url, &aws.region) {
        (Some(url), _) => url.clone(),
        (None, Some(region)) => format!("the endpoint of {region}"),
        (None, None) => "the default endpoint".to_owned(),
    };
    Some(format!("cannot reach AWS at {endpoint}: {cause}"))
}

/// The AWS clients, wrapped in the shared budget and retry policy.
pub async fn connect(aws: &AwsArgs) -> Metered<AwsCloud> {
    connect_with_share(aws, ROUTINE_SHARE).await
}

/// [`connect`], with the routine drift checks allowed `routine_share` of the budget.
pub async fn connect_with_share(aws: &AwsArgs, routine_share: f64) -> Metered<AwsCloud> {
    let cloud = AwsCloud::from_env(aws.region.clone(), aws.endpoint_url.clone()).await;
    let rates = Rates {
        lambda_control: aws.lambda_rate.unwrap_or(Rates::default().lambda_control),
        ..Rates::default()
    };
    let budget = Budget::with_routine_share(rates, routine_share);
    Metered::new(cloud, Arc::new(budget), RetryPolicy::default())
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts")
}
