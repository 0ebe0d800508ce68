//! `shepherd lease-table create`: the DynamoDB table of leader leases.

use std::process::ExitCode;

use shepherd_aws::DynamoLeases;

use super::session::runtime;
use crate::cli::{LeaseTableArgs, LeaseTableCommand};
use crate::output::outln;

pub fn run(command: &LeaseTableCommand) -> ExitCode {
    let LeaseTableCommand::Create(args) = command;
    create(args)
}

fn create(args: &LeaseTableArgs) -> ExitCode {
    let created = runtime().block_on(async {
        let leases = DynamoLeases::from_env(
            args.table.clone(),
            args.region.clone(),
            args.endpoint_url.clone(),
        )
        .await;
        leases.create_table().await
    });
    match created {
        Ok(true) => {
            outln!("created lease table {} (key: target, a string)", args.table);
            ExitCode::SUCCESS
        }
        Ok(false) => {
            outln!("lease table {} exists already; left as it is", args.table);
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
