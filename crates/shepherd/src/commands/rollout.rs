//! `shepherd status`, `promote`, `abort`, `pause`, `resume`, `retry`: rollouts from the
//! outside, without editing git.

use std::process::ExitCode;
use std::time::Duration;

use shepherd_core::display::{count, percent, seconds};
use shepherd_core::model::DesiredFunction;
use shepherd_core::rollout::{Command, Phase};
use shepherd_engine::operator::{RolloutTarget, operate, record_status};
use shepherd_engine::reconcile::resolve_unpackaged;
use shepherd_engine::rollouts::{RolloutStatus, status};

use super::remote::Remote;
use super::session::{connect, runtime};
use super::validate::load_lint_config;
use crate::cli::{Format, RolloutArgs, SpecsArg, StatusArgs};
use crate::output::outln;

/// The valid specs under `--specs`, unpackaged: rollout commands and status deploy no
/// code, and an invalid spec elsewhere in the repository must never keep an operator from
/// acting on a canary. What was left out is said once, on standard error.
fn valid_functions(specs: &SpecsArg) -> Vec<DesiredFunction> {
    let config = load_lint_config(specs.config.as_deref(), &specs.specs).unwrap_or_default();
    let mut report = shepherd_core::check_specs(&specs.specs, &config);
    super::session::keep_target(&mut report, specs.target.as_deref());
    if !report.is_valid() {
        eprintln!(
            "warning: {} in the specs under {} ignored here (`shepherd validate` lists them)",
            count(report.errors(), "error"),
            specs
                .specs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    resolve_unpackaged(&report.functions)
}

/// Runs an operator's command on one function: through the controller with `--server`,
/// else directly against AWS. The function's spec gives its alias and steps when it is
/// valid; without it, the commands that need no steps act on the alias's rollout record
/// alone.
pub fn run_command(args: &RolloutArgs, command: Command) -> ExitCode {
    if let Some(url) = &args.server.url {
        let remote = Remote::new(url, args.server.token.clone());
        return match remote.command(&args.name, command) {
            Ok(message) => {
                outln!("{message}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let target = match valid_functions(&args.specs)
        .iter()
        .find(|f| f.name == args.name)
    {
        Some(function) => RolloutTarget::from(function),
        None if command.needs_steps() => {
            eprintln!(
                "error: {command} needs {}'s valid spec, for its steps, and none was found under --specs; `promote --full`, `abort` and `pause` work without one",
                args.name
            );
            return ExitCode::FAILURE;
        }
        None => {
            eprintln!(
                "note: no valid spec of {} under --specs: acting on its alias's rollout record alone",
                args.name
            );
            RolloutTarget::named(&args.name)
        }
    };
    let result = runtime().block_on(async {
        let cloud = connect(&args.aws).await;
        operate(&cloud, &target, command).await
    });
    match result {
        Ok(done) => {
            outln!("{done}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

pub(super) fn line(status: &RolloutStatus) -> String {
    if let Some(error) = &status.error {
        return format!("{}: cannot read: {error}", status.function);
    }
    let Some(alias) = &status.alias else {
        return format!("{}: no alias", status.function);
    };
    let Some(version) = &status.version else {
        return format!("{}: alias {alias} does not exist yet", status.function);
    };
    let routing = match &status.additional {
        Some((extra, weight)) => format!(
            "{version} {}%, {extra} {}%",
            percent((1.0 - weight) * 100.0),
            percent(weight * 100.0)
        ),
        None => format!("{version} 100%"),
    };
    let mut text = format!("{}: alias {alias} -> {routing}", status.function);
    if let Some(record) = &status.record {
        text.push_str(&format!("; {}", record.phase));
        if let Some(step) = &status.step {
            text.push_str(&format!(", {step}"));
        }
        match (status.pause_left_secs, status.pause_ended_secs_ago) {
            (_, Some(ago)) => text.push_str(&format!(
                ", the pause ended {} ago: the next step waits for the controller or `shepherd apply --wait`",
                seconds(ago)
            )),
            (Some(left), None) => text.push_str(&format!(", {} left", seconds(left))),
            (None, None) => {}
        }
        if let Some(reason) = &record.reason {
            text.push_str(&format!(" ({reason})"));
        }
    }
    if !status.hooks.is_empty() {
        let hooks: Vec<String> = status
            .hooks
            .iter()
            .map(|h| {
                let state = format!("{:?}", h.state).to_lowercase();
                format!("{} {}={state}", h.stage, h.name)
            })
            .collect();
        text.push_str(&format!("; hooks: {}", hooks.join(", ")));
    }
    if let Some(gate) = &status.waiting_for_gate {
        text.push_str(&format!("; waiting for gate {gate}"));
    }
    if !status.gates.is_empty() {
        let gates: Vec<String> = status
            .gates
            .iter()
            .map(|g| {
                let state = if g.open { "open" } else { "closed" };
                format!("{} {}={state}", g.kind.spec_name(), g.name)
            })
            .collect();
        text.push_str(&format!("; gates: {}", gates.join(", ")));
    }
    if !status.alarms.is_empty() {
        let alarms: Vec<String> = status
            .alarms
            .iter()
            .map(|(n, s)| format!("{n}={s:?}"))
            .collect();
        text.push_str(&format!("; alarms: {}", alarms.join(", ")));
    }
    text
}

/// `target default: held by shepherd-0-3fa2c1 (http://10.0.0.7:8080); the replica asked
/// is a standby`.
fn lease_line(lease: &serde_json::Value) -> String {
    let target = lease["target"].as_str().unwrap_or("?");
    let held = match (
        lease["holder"]["replica"].as_str(),
        lease["holder"]["url"].as_str(),
    ) {
        (Some(replica), Some(url)) => format!("held by {replica} ({url})"),
        (Some(replica), None) => format!("held by {replica}"),
        _ => "held by no replica right now".to_owned(),
    };
    let asked = if lease["holding"].as_bool() == Some(true) {
        "the replica asked"
    } else {
        "the replica asked is a standby"
    };
    format!("target {target}: {held}; {asked}")
}

/// The statuses a running controller reports, for the named functions (all when none).
fn remote_statuses(remote: &Remote, names: &[String]) -> Result<Vec<RolloutStatus>, String> {
    Ok(remote
        .functions()?
        .into_iter()
        .filter(|f| names.is_empty() || names.contains(&f.name))
        .map(|f| {
            // With several targets, one name may be in several: `TARGET/NAME`.
            let label = match f.target.as_deref() {
                Some(target) if target != "default" => format!("{target}/{}", f.name),
                _ => f.name.clone(),
            };
            let mut status = f.rollout.unwrap_or(RolloutStatus {
                pause_secs: None,
                pause_ended_secs_ago: None,
                function: f.name.clone(),
                alias: None,
                version: None,
                additional: None,
                record: None,
                steps: 0,
                step: None,
                pause_left_secs: None,
                alarms: Default::default(),
                hooks: Vec::new(),
                gates: Vec::new(),
                waiting_for_gate: None,
                error: f.last_error.clone(),
            });
            status.function = label;
            status
        })
        .collect())
}

pub fn run_status(args: &StatusArgs) -> ExitCode {
    if let Some(url) = &args.server.url {
        let remote = Remote::new(url, args.server.token.clone());
        if args.format == Format::Text {
            for lease in remote.leases() {
                outln!("{}", lease_line(&lease));
            }
        }
        return runtime().block_on(watch(args, || {
            let result = remote_statuses(&remote, &args.names);
            async move { result }
        }));
    }
    let functions = valid_functions(&args.specs);
    let chosen: Vec<DesiredFunction> = functions
        .iter()
        .filter(|f| args.names.is_empty() || args.names.contains(&f.name))
        .cloned()
        .collect();
    // Named functions without a valid spec: their alias's record alone.
    let unknown: Vec<&String> = args
        .names
        .iter()
        .filter(|n| !chosen.iter().any(|f| &f.name == *n))
        .collect();
    runtime().block_on(async {
        let cloud = connect(&args.aws).await;
        watch(args, || async {
            let mut statuses = status(&cloud, &chosen).await;
            for name in &unknown {
                statuses.push(record_status(&cloud, name).await);
            }
            Ok(statuses)
        })
        .await
    })
}

/// `status --wait --timeout`: the time ran out with a rollout still in flight (distinct
/// from 1, a rollback).
const STILL_IN_FLIGHT: u8 = 2;

/// Prints the statuses once, or again and again with --watch, or until no rollout is in
/// flight with --wait (exit 1 if one rolled back or could not be read).
async fn watch<F, Fut>(args: &StatusArgs, read: F) -> ExitCode
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<RolloutStatus>, String>>,
{
    let deadline = args.timeout.map(|t| tokio::time::Instant::now() + t);
    loop {
        let statuses = match read().await {
            Ok(statuses) => statuses,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::FAILURE;
            }
        };
        match args.format {
            Format::Text => {
                for s in &statuses {
                    outln!("{}", line(s));
                }
            }
            Format::Json => outln!(
                "{}",
                serde_json::to_string_pretty(&statuses).unwrap_or_default()
            ),
        }
        let in_flight = statuses.iter().any(RolloutStatus::in_flight);
        if args.wait && !in_flight || !args.wait && !args.watch {
            let failed = statuses
                .iter()
                .any(|s| s.error.is_some() || s.phase().is_some_and(Phase::failed));
            return if args.wait && failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
        if let (Some(deadline), Some(timeout)) = (deadline, args.timeout)
            && tokio::time::Instant::now() >= deadline
        {
            let waiting: Vec<&str> = statuses
                .iter()
                .filter(|s| s.in_flight())
                .map(|s| s.function.as_str())
                .collect();
            eprintln!(
                "timed out after {}: still in flight: {}",
                shepherd_core::display::duration(timeout),
                waiting.join(", ")
            );
            return ExitCode::from(STILL_IN_FLIGHT);
        }
        let pause = Duration::from_secs(if args.watch { 2 } else { 5 });
        let pause = match deadline {
            Some(deadline) => {
                pause.min(deadline.saturating_duration_since(tokio::time::Instant::now()))
            }
            None => pause,
        };
        tokio::time::sleep(pause).await;
        if args.watch {
            outln!();
        }
    }
}
