//! What operators do to a rollout without editing git: promote, abort, pause, resume,
//! retry.

use std::fmt;

use super::decide::{Policy, Transition, promote, weight_before};
use super::hooks::{Execution, after_pass};
use super::record::{Phase, RolloutRecord, Stage};
use super::write::{Kept, alias_write};
use crate::model::{ObservedAlias, TrafficConfig};
use crate::plan::{Action, VersionRef};
use crate::spec::{Gates, Hooks, RolloutStep};

/// An operator's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// The next step now; `full`: straight to 100%.
    Promote { full: bool },
    /// Back to the stable version now; the release is not retried by itself.
    Abort,
    /// Hold at the current step (alarms still roll back).
    Pause,
    /// Continue a paused rollout; the current pause starts over.
    Resume,
    /// Roll out again a release that was rolled back or aborted.
    Retry,
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Command::Promote { full: false } => "promote",
            Command::Promote { full: true } => "promote --full",
            Command::Abort => "abort",
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::Retry => "retry",
        })
    }
}

impl Command {
    /// Whether the command needs the rollout's steps (from the spec) to know what to do.
    /// The others need only the alias and its record: an emergency `abort` works with no
    /// spec at all.
    pub fn needs_steps(self) -> bool {
        matches!(self, Command::Promote { full: false } | Command::Resume)
    }
}

/// Why a command does not apply to a rollout as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandRefused {
    #[error("{function} has no rollout (its alias holds no rollout record)")]
    NoRollout { function: String },
    #[error(
        "{command} needs the rollout's steps, from the function's valid spec (`promote --full`, `abort` and `pause` do not)"
    )]
    NeedsSteps { command: Command },
    #[error("the rollout waits for `shepherd promote`, not for resume")]
    WaitsForPromote,
    #[error("cannot {command}: the rollout is {phase}")]
    NotNow { command: Command, phase: Phase },
    #[error("cannot {command} while the rollout runs its {stage} hooks; wait for them, or abort")]
    AtHook { command: Command, stage: Stage },
    #[error(
        "hook execution {execution} is not the one the rollout waits for (it reported already, timed out, or belongs to another rollout)"
    )]
    HookNotAwaited { execution: String },
    #[error("a hook's result needs the rollout's spec, and the function has none loaded")]
    HookNeedsSpec,
}

/// The transition a command makes, or why it does not apply. `steps` are the rollout's
/// steps when the spec is at hand; `live_weight` is the percent the canary has now, which
/// a pause keeps.
/// `hooks`: the spec's hooks when it is at hand; a promotion past the last step runs the
/// postTraffic ones (a promotion without the spec goes straight to Healthy). A promotion
/// is the operator's decision: it does not wait for gates.
pub fn operate(
    command: Command,
    record: &RolloutRecord,
    steps: Option<&[RolloutStep]>,
    hooks: Option<&Hooks>,
    live_weight: f64,
) -> Result<Transition, CommandRefused> {
    let post_hooks = hooks.is_some_and(|h| !h.post_traffic.is_empty());
    let in_flight = record.phase.in_flight();
    let weight = Some(steps.map_or(live_weight, |s| weight_before(s, record.step)));
    if in_flight && command.needs_steps() && steps.is_none() {
        return Err(CommandRefused::NeedsSteps { command });
    }
    // A hook decides its step itself: only an abort overrides it. Past the last hook (the
    // first step waits for its gates) the rollout is at no hook; without the spec, it may be.
    let at_hook = record
        .hook
        .filter(|cursor| hooks.is_none_or(|h| cursor.index < h.stage(cursor.stage).len()));
    if let Some(hook) = at_hook.filter(|_| in_flight && command != Command::Abort) {
        return Err(CommandRefused::AtHook {
            command,
            stage: hook.stage,
        });
    }
    match command {
        Command::Promote { full: true } if in_flight => Ok(match steps {
            Some(steps) => promote(record, steps, post_hooks, true),
            None => Transition {
                phase: Phase::Healthy,
                step: record.step,
                canary_weight: None,
                hook: None,
                reason: None,
            },
        }),
        Command::Promote { full: false } if in_flight => Ok(promote(
            record,
            steps.unwrap_or_default(),
            post_hooks,
            false,
        )),
        Command::Abort if in_flight => Ok(Transition {
            phase: Phase::Aborted,
            step: record.step,
            canary_weight: None,
            hook: record.hook,
            reason: Some("aborted by an operator".to_owned()),
        }),
        Command::Pause if record.phase == Phase::Progressing => Ok(Transition {
            phase: Phase::Paused,
            step: record.step,
            canary_weight: weight,
            hook: None,
            reason: Some("paused by an operator".to_owned()),
        }),
        Command::Resume if record.phase == Phase::Paused => {
            match steps.unwrap_or_default().get(record.step) {
                Some(RolloutStep::PauseUntilPromoted) => Err(CommandRefused::WaitsForPromote),
                _ => Ok(Transition {
                    phase: Phase::Progressing,
                    step: record.step,
                    canary_weight: weight,
                    hook: None,
                    reason: None,
                }),
            }
        }
        Command::Retry if record.phase.failed() => Ok(Transition {
            phase: record.phase,
            step: record.step,
            canary_weight: None,
            hook: None,
            reason: Some("retry requested".to_owned()),
        }),
        _ => Err(CommandRefused::NotNow {
            command,
            phase: record.phase,
        }),
    }
}

/// The alias update an operator's command makes on `current` (the alias holding the
/// rollout record), or why it does not apply. `steps` come from the function's spec when
/// it is at hand; the commands that do not need them work without (see
/// [`Command::needs_steps`]).
pub fn operator_action(
    function: &str,
    current: &ObservedAlias,
    steps: Option<&[RolloutStep]>,
    hooks: Option<&Hooks>,
    command: Command,
) -> Result<Action, CommandRefused> {
    let record = current.record().ok_or_else(|| CommandRefused::NoRollout {
        function: function.to_owned(),
    })?;
    let live_weight = current
        .additional_version
        .as_ref()
        .map_or(0.0, |(_, w)| w * 100.0);
    let transition = operate(command, &record, steps, hooks, live_weight)?;
    let stable = VersionRef::Existing(record.stable.clone());
    let canary = VersionRef::Existing(record.canary.clone());
    let mut kept = Kept::next_step(&record);
    if command == Command::Retry {
        // A record that names no release blocks none: the next reconcile rolls the spec's
        // release out again.
        kept.release = "retry";
    }
    Ok(alias_write(current, &transition, &stable, &canary, kept))
}

/// The alias update a hook's reported result makes (`POST /api/v1/hooks/{execution}`):
/// the rollout moves past the hook, or rolls back with the hook's reason. Only the
/// execution the record waits for is accepted, so a token serves once, and a report for a
/// hook that already passed, failed or timed out changes nothing.
/// `is_release`: whether a release digest is the spec's (a report for a rollout the spec
/// no longer names changes nothing: the next pass supersedes it); `now` in Unix seconds (a
/// report past the pending deadline is too late).
#[allow(clippy::too_many_arguments)]
pub fn hook_report_action(
    current: &ObservedAlias,
    execution: &Execution,
    id: &str,
    result: Result<(), String>,
    steps: &[RolloutStep],
    hooks: &Hooks,
    gates: &Gates,
    traffic: Option<&TrafficConfig>,
    is_release: impl Fn(&str) -> bool,
    now: u64,
) -> Result<Action, CommandRefused> {
    let not_awaited = || CommandRefused::HookNotAwaited {
        execution: id.to_owned(),
    };
    let record = current.record().ok_or_else(not_awaited)?;
    if !execution.is_awaited_by(&record) || !is_release(&record.release) {
        return Err(not_awaited());
    }
    let cursor = record.hook.ok_or_else(not_awaited)?;
    if cursor.pending_until.is_some_and(|until| now >= until) {
        return Err(not_awaited());
    }
    let name = hooks
        .stage(cursor.stage)
        .get(cursor.index)
        .ok_or_else(not_awaited)?
        .display_name();
    let policy = Policy {
        steps,
        gating: &[],
        auto_rollback: true,
        poll: std::time::Duration::ZERO,
        analysis: None,
        hooks,
        gates,
        traffic,
    };
    let transition = match result {
        Ok(()) => after_pass(&policy, &record, cursor),
        Err(reason) => Transition {
            phase: Phase::RolledBack,
            step: record.step,
            canary_weight: None,
            hook: Some(cursor),
            reason: Some(format!("{} hook {name} failed: {reason}", cursor.stage)),
        },
    };
    let stable = VersionRef::Existing(record.stable.clone());
    let canary = VersionRef::Existing(record.canary.clone());
    Ok(alias_write(
        current,
        &transition,
        &stable,
        &canary,
        Kept::next_step(&record),
    ))
}
