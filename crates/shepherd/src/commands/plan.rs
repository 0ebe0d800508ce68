//! `shepherd plan`: what apply would change, with terraform-style exit codes.

use std::process::ExitCode;

use shepherd_engine::reconcile::plan_spec_set;

use super::render::{Style, plan_json, plan_text};
use super::session::{connect, load_desired, reconcile_options, runtime, unreachable};
use crate::cli::{Format, PlanArgs};
use crate::output::outln;

/// Exit code when changes are pending (0: none, 1: errors).
const CHANGES_PENDING: u8 = 2;

pub fn run(args: &PlanArgs) -> ExitCode {
    let Some(desired) = load_desired(&args.spec) else {
        return ExitCode::FAILURE;
    };
    let options = match reconcile_options(&args.spec, &args.aws) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    let planned = runtime().block_on(async {
        let cloud = connect(&args.aws).await;
        plan_spec_set(&cloud, &desired, &options).await
    });
    if let Some(line) = unreachable(&planned.errors, &planned.plans, &args.aws) {
        eprintln!("error: {line}");
        return ExitCode::FAILURE;
    }
    match args.format {
        Format::Text => {
            let _ = plan_text(
                &planned.plans,
                &planned.errors,
                &Style::for_stdout(),
                &mut std::io::stdout().lock(),
            );
        }
        Format::Json => outln!("{}", plan_json(&planned.plans, &planned.errors)),
    }
    let refused = planned.plans.iter().any(|p| p.next.refusal().is_some());
    if !planned.errors.is_empty() || refused {
        ExitCode::FAILURE
    } else if planned.has_changes() {
        ExitCode::from(CHANGES_PENDING)
    } else {
        ExitCode::SUCCESS
    }
}
