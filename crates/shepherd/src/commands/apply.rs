//! `shepherd apply`: make AWS match the specs, showing progress during long work.

use std::collections::BTreeMap;
use std::process::ExitCode;

use shepherd_core::rollout::Phase;
use shepherd_engine::apply::apply_spec_set;
use shepherd_engine::execute::Outcome;
use shepherd_engine::progress::{ProgressSink, Silent};
use shepherd_engine::reconcile::plan_spec_set;
use shepherd_engine::rollouts::status;
use shepherd_engine::settle::apply_until_settled;

use super::console::Console;
use super::render::{Style, apply_json, apply_text, plan_text};
use super::session::{connect, load_desired, reconcile_options, runtime, unreachable};
use crate::cli::{ApplyArgs, Format};
use crate::output::outln;

pub fn run(args: &ApplyArgs) -> ExitCode {
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
    let style = Style::for_stdout();
    let started = std::time::Instant::now();
    let (reports, stats, rolled_back) = runtime().block_on(async {
        let cloud = connect(&args.aws).await;
        if args.dry_run {
            let planned = plan_spec_set(&cloud, &desired, &options).await;
            let _ = plan_text(
                &planned.plans,
                &planned.errors,
                &style,
                &mut std::io::stdout().lock(),
            );
            return (None, cloud.stats().clone(), BTreeMap::new());
        }
        let console = Console::new();
        let progress: &dyn ProgressSink = match args.format {
            Format::Text => &console,
            Format::Json => &Silent,
        };
        if !args.wait {
            let applied = apply_spec_set(&cloud, &desired, &options, progress).await;
            if let Some(line) = unreachable(&applied.errors, &applied.plans, &args.aws) {
                eprintln!("error: {line}");
                std::process::exit(1);
            }
            // A rollback this run made, or a rolled-back release the spec still names:
            // the spec's desired state is not reached, and apply says so.
            let rolled_back: BTreeMap<String, String> = applied
                .plans
                .iter()
                .filter_map(|p| Some((p.name.clone(), p.next.release_failure()?.summary())))
                .collect();
            return (Some(applied.reports), cloud.stats().clone(), rolled_back);
        }
        let reports = apply_until_settled(&cloud, &desired, &options, progress).await;
        let rolled_back: BTreeMap<String, String> = status(&cloud, &desired.functions)
            .await
            .into_iter()
            .filter(|s| s.phase().is_some_and(|p| p.failed()) && s.error.is_none())
            .map(|s| {
                let record = s.record.as_ref();
                let what = match record.map(|r| r.phase) {
                    Some(Phase::Aborted) => "aborted",
                    _ => "rolled back",
                };
                let reason = record.and_then(|r| r.reason.clone()).unwrap_or_default();
                (s.function, format!("{what}: {reason}"))
            })
            .collect();
        (Some(reports), cloud.stats().clone(), rolled_back)
    });
    let Some(reports) = reports else {
        return ExitCode::SUCCESS;
    };
    let seconds = started.elapsed().as_secs_f64();
    match args.format {
        Format::Text => {
            let _ = apply_text(
                &reports,
                &rolled_back,
                &stats,
                seconds,
                &style,
                &mut std::io::stdout().lock(),
            );
        }
        Format::Json => outln!("{}", apply_json(&reports, &rolled_back, &stats, seconds)),
    }
    let failed = !rolled_back.is_empty()
        || reports
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Failed { .. } | Outcome::Refused { .. }));
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
