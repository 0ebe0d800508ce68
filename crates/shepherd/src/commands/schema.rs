//! `shepherd schema`: the JSON Schema of the spec, generated from the Rust types.

use crate::output::outln;
use std::process::ExitCode;

pub fn run() -> ExitCode {
    let schema = shepherd_core::spec::json_schema();
    match serde_json::to_string_pretty(&schema) {
        Ok(text) => {
            outln!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: cannot print the schema: {err}");
            ExitCode::FAILURE
        }
    }
}
