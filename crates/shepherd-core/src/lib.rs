//! shepherd's domain, free of any AWS SDK, HTTP framework and runtime: the spec language
//! (types, loading, validation, lints) and, around it, the desired and observed model
//! (with Lambda's defaults and shepherd's tag codecs), the planner, the rollout state
//! machine, and the cloud ports the engine drives, one per resource under the `Cloud`
//! umbrella (implemented by `shepherd-aws` and, for tests, `shepherd-fake`).

pub mod cloud;
pub mod diagnostic;
pub mod display;
pub mod lease;
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
