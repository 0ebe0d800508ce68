//! Command-line arguments, parsed once at start.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// shepherd keeps AWS Lambda functions in the state described by YAML specs in git:
/// code, configuration, versions, aliases and concurrency, with canary rollouts that roll
/// back by themselves when alarms fire.
#[derive(Debug, Parser)]
#[command(name = "shepherd", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check specs for errors and best-practice warnings, without touching AWS.
    ///
    /// Reads every *.yaml and *.yml file under each PATH (hidden files and folders are
    /// skipped) and reports every problem as FILE:LINE:COLUMN: FIELD: MESSAGE.
    /// Exits 0 when the specs are valid (warnings are printed but allowed), 1 when not.
    #[command(after_help = "Examples:\n  shepherd validate examples/specs\n  shepherd validate functions/orders.yaml --format json")]
    Validate(ValidateArgs),
    /// Print the JSON Schema of a Function spec, for editors and other tools.
    ///
    /// Point your editor's YAML language server at it, for example with a first line of
    /// `# yaml-language-server: $schema=../docs/spec.schema.json` in a spec file.
    Schema,
    /// List the best-practice lints with their default levels and reasons.
    Lints,
}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Spec files or directories (searched recursively).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format: human-readable text, or JSON for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Lint configuration file [default: .shepherd.yaml in the first PATH that is a directory].
    #[arg(long, value_name = "FILE", env = "SHEPHERD_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}
