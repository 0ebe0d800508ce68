//! One module per subcommand; each returns the process exit code.

mod apply;
mod lints;
mod plan;
mod render;
mod schema;
mod session;
mod validate;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Schema => schema::run(),
        Command::Lints => lints::run(),
    }
}
