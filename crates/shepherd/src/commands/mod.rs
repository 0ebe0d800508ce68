//! One module per subcommand; each returns the process exit code.

mod apply;
mod console;
mod lease_table;
mod lints;
mod plan;
mod remote;
mod render;
mod rollout;
mod run;
mod schema;
mod session;
mod validate;

use std::process::ExitCode;

use shepherd_core::rollout::Command as RolloutCommand;

use crate::cli::{Cli, Command};

pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Apply(args) => apply::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Status(args) => rollout::run_status(&args),
        Command::Promote(args) => {
            rollout::run_command(&args.rollout, RolloutCommand::Promote { full: args.full })
        }
        Command::Abort(args) => rollout::run_command(&args, RolloutCommand::Abort),
        Command::Pause(args) => rollout::run_command(&args, RolloutCommand::Pause),
        Command::Resume(args) => rollout::run_command(&args, RolloutCommand::Resume),
        Command::Retry(args) => rollout::run_command(&args, RolloutCommand::Retry),
        Command::Schema => schema::run(),
        Command::Lints => lints::run(),
        Command::LeaseTable(command) => lease_table::run(&command),
    }
}
