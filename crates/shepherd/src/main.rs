//! The `shepherd` command line: a GitOps deployment controller for AWS Lambda.

mod cli;
mod commands;
mod logging;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    logging::init(&cli.log_level, cli.log_format);
    commands::run(cli)
}
