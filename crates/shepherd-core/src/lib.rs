//! shepherd's domain, free of any AWS SDK and HTTP framework: the spec language (types,
//! loading, validation, lints) and, around it, the observed model, the planner and the
//! rollout state machine.

pub mod cloud;
pub mod diagnostic;
pub mod display;
pub mod lint;
pub mod model;
pub mod plan;
pub mod rollout;
pub mod source;
pub mod spec;
pub mod validate;

use std::path::PathBuf;

/// Loads, validates and lints the specs under `paths`: the one entry point every command
/// that reads specs goes through. The report's functions are the valid ones; its
/// diagnostics are sorted in reading order.
pub fn check_specs(paths: &[PathBuf], lints: &lint::LintConfig) -> validate::Report {
    check_specs_within(paths, None, lints)
}

/// [`check_specs`], with local code confined to `root` when given (by default, the top of
/// the git repository holding each path, else the path).
pub fn check_specs_within(
    paths: &[PathBuf],
    root: Option<&std::path::Path>,
    lints: &lint::LintConfig,
) -> validate::Report {
    let mut report = validate::validate(source::load_within(paths, root));
    let findings = lint::run(&report.functions, lints);
    report.diagnostics.extend(findings);
    report.sort();
    report
}
