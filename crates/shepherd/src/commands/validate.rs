//! `shepherd validate`: report every error and warning in the specs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;
use shepherd_core::diagnostic::Diagnostic;
use shepherd_core::display::count;
use shepherd_core::lint::{CONFIG_FILE_NAME, LintConfig};
use shepherd_core::validate::Report;

use crate::cli::{Format, ValidateArgs};

pub fn run(args: &ValidateArgs) -> ExitCode {
    let (config, mut config_errors) = match load_lint_config(args.config.as_deref(), &args.paths) {
        Ok(config) => (config, Vec::new()),
        Err(errors) => (LintConfig::default(), errors),
    };
    let mut report = shepherd_core::check_specs_within(&args.paths, args.root.as_deref(), &config);
    report.diagnostics.append(&mut config_errors);
    report.sort();
    match args.format {
        Format::Text => print_text(&report),
        Format::Json => print_json(&report),
    }
    if report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The explicit `--config`, else `.shepherd.yaml` in the first directory given.
pub fn load_lint_config(
    explicit: Option<&Path>,
    paths: &[PathBuf],
) -> Result<LintConfig, Vec<Diagnostic>> {
    let path = match explicit {
        Some(path) => Some(path.to_owned()),
        None => paths
            .iter()
            .find(|p| p.is_dir())
            // `.shepherd.yaml`, not `./.shepherd.yaml`, like the spec files' names.
            .map(|dir| {
                if dir == Path::new(".") {
                    PathBuf::from(CONFIG_FILE_NAME)
                } else {
                    dir.join(CONFIG_FILE_NAME)
                }
            })
            .filter(|p| p.is_file()),
    };
    match path {
        Some(path) => LintConfig::load(&path),
        None => Ok(LintConfig::default()),
    }
}

/// Prints each diagnostic on its own line; a closed pipe (`| head`) ends quietly.
pub fn print_diagnostics(diagnostics: &[Diagnostic], out: &mut impl Write) -> bool {
    diagnostics.iter().all(|d| writeln!(out, "{d}").is_ok())
}

fn print_text(report: &Report) {
    let mut out = std::io::stdout().lock();
    if !print_diagnostics(&report.diagnostics, &mut out) {
        return;
    }
    let functions = count(report.documents, "function");
    let files = count(report.files, "file");
    if report.is_valid() {
        let warnings = match report.warnings() {
            0 => String::new(),
            n => format!(" with {}", count(n, "warning")),
        };
        let _ = writeln!(out, "valid: {functions} in {files}{warnings}");
    } else {
        let _ = writeln!(
            out,
            "invalid: {}, {} in {functions} in {files}",
            count(report.errors(), "error"),
            count(report.warnings(), "warning"),
        );
    }
}

#[derive(Serialize)]
struct JsonReport<'a> {
    valid: bool,
    files: usize,
    functions: usize,
    errors: usize,
    warnings: usize,
    diagnostics: &'a [Diagnostic],
}

fn print_json(report: &Report) {
    let json = JsonReport {
        valid: report.is_valid(),
        files: report.files,
        functions: report.documents,
        errors: report.errors(),
        warnings: report.warnings(),
        diagnostics: &report.diagnostics,
    };
    match serde_json::to_string_pretty(&json) {
        Ok(text) => {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        }
        Err(err) => eprintln!("error: cannot print the report: {err}"),
    }
}
