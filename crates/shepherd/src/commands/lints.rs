//! `shepherd lints`: the catalogue of best-practice lints.

use std::process::ExitCode;

use crate::output::outln;
use shepherd_core::lint::LINTS;

pub fn run() -> ExitCode {
    let width = LINTS.iter().map(|l| l.id.len()).max().unwrap_or(0);
    for lint in LINTS {
        outln!(
            "{:width$}  {:7}  {}",
            lint.id,
            lint.default_level.as_str(),
            lint.reason
        );
    }
    ExitCode::SUCCESS
}
