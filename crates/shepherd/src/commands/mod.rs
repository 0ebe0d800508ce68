//! One module per subcommand; each returns the process exit code.

mod lints;
mod schema;
mod validate;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Schema => schema::run(),
        Command::Lints => lints::run(),
    }
}
