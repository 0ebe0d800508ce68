//! Progressive delivery: the rollout state machine and its persisted record.
//!
//! A rollout shifts an alias from its stable version to a canary step by step
//! (`AdditionalVersionWeights`), checks the gating alarms before every step and throughout
//! every pause, and rolls back by itself when one fires. Its state lives in AWS: the
//! alias's weights plus the [`RolloutRecord`] in the alias description, written together.
//!
//! - `decide`: the state machine, from the spec's [`Policy`] and AWS's [`Evidence`].
//! - `planner`: a pass's path from the record to the next alias write.
//! - `hooks`: the hook steps (preTraffic, postTraffic) and their execution ids.
//! - `traffic`: the batches of synthetic traffic to the canary.
//! - `write`: the one `UpdateAlias` a transition makes.
//! - `operate`: operators' commands.
//! - `record`: the record's encoding.

mod decide;
mod hooks;
mod operate;
mod planner;
mod record;
mod traffic;
mod write;

pub use decide::{
    Decision, Evidence, Policy, Transition, decide, enter, fired_alarm, promote, weight_before,
};
pub use hooks::{
    DEFAULT_HOOK_DEADLINE, Execution, HookRun, after_pass, execution_id, pending, routing,
};
pub use operate::{Command, CommandRefused, hook_report_action, operate, operator_action};
pub(crate) use planner::Rollout;
pub use record::{HookCursor, Phase, RECORD_PREFIX, RolloutRecord, Stage};
pub use traffic::{TRAFFIC_DEADLINE, TrafficRun, is_traffic_cursor};
