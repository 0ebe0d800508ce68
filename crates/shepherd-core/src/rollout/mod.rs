//! Progressive delivery: the rollout state machine and its persisted record.
//!
//! A rollout shifts an alias from its stable version to a canary step by step
//! (`AdditionalVersionWeights`), checks the gating alarms before every step and throughout
//! every pause, and rolls back by itself when one fires. Its state lives in AWS: the
//! alias's weights plus the [`RolloutRecord`] in the alias description, written together.

mod decide;
mod operate;
mod record;

pub use decide::{Decision, Gates, Transition, decide, enter, fired_alarm, promote, weight_before};
pub use operate::{Command, operate};
pub use record::{Phase, RECORD_PREFIX, RolloutRecord};
