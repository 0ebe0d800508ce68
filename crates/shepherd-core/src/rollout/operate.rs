//! What operators do to a rollout without editing git: promote, abort, pause, resume,
//! retry.

use std::fmt;

use super::decide::{Transition, promote, weight_before};
use super::record::{Phase, RolloutRecord};
use crate::spec::RolloutStep;

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

/// The transition a command makes, or why it does not apply.
pub fn operate(
    command: Command,
    record: &RolloutRecord,
    steps: &[RolloutStep],
) -> Result<Transition, String> {
    let in_flight = record.phase.in_flight();
    let weight = Some(weight_before(steps, record.step));
    match command {
        Command::Promote { full } if in_flight => Ok(promote(record, steps, full)),
        Command::Abort if in_flight => Ok(Transition {
            phase: Phase::Aborted,
            step: record.step,
            canary_weight: None,
            reason: Some("aborted by an operator".to_owned()),
        }),
        Command::Pause if record.phase == Phase::Progressing => Ok(Transition {
            phase: Phase::Paused,
            step: record.step,
            canary_weight: weight,
            reason: Some("paused by an operator".to_owned()),
        }),
        Command::Resume if record.phase == Phase::Paused => match steps.get(record.step) {
            Some(RolloutStep::PauseUntilPromoted) => {
                Err("the rollout waits for `shepherd promote`, not for resume".to_owned())
            }
            _ => Ok(Transition {
                phase: Phase::Progressing,
                step: record.step,
                canary_weight: weight,
                reason: None,
            }),
        },
        Command::Retry if record.phase.failed() => Ok(Transition {
            phase: record.phase,
            step: record.step,
            canary_weight: None,
            reason: Some("retry requested".to_owned()),
        }),
        _ => Err(format!("cannot {command}: the rollout is {}", record.phase)),
    }
}
