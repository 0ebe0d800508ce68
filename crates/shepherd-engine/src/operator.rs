//! The operator's commands (promote, abort, pause, resume, retry): one alias update each,
//! from the alias's rollout record and, when a command needs them, the rollout's steps.
//! An emergency `abort` needs no spec at all, so a broken spec repository never keeps a
//! canary on its traffic.

use shepherd_core::cloud::{Cloud, CloudError};
use shepherd_core::display::percent;
use shepherd_core::model::{DesiredFunction, ObservedAlias, TrafficConfig};
use shepherd_core::plan::{Action, FunctionPlan, VersionRef};
use shepherd_core::rollout::{
    Command, CommandRefused, Execution, Phase, RolloutRecord, hook_report_action, operator_action,
};
use shepherd_core::spec::{Gates, Hooks, RolloutStep};

use crate::execute::{ExecuteError, execute};
use crate::rollouts::RolloutStatus;

/// What a command acts on.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutTarget {
    pub function: String,
    /// The alias of the spec; `None`: the alias that holds a rollout record.
    pub alias: Option<String>,
    /// The rollout's steps from the spec, when it is at hand.
    pub steps: Option<Vec<RolloutStep>>,
    /// The rollout's hooks from the spec, when it is at hand.
    pub hooks: Option<Hooks>,
    /// The rollout's gates from the spec (none when it is not at hand).
    pub gates: Gates,
    /// The rollout's synthetic traffic from the spec (none when it is not at hand).
    pub traffic: Option<TrafficConfig>,
    /// The release digests that are the spec's (none when it is not at hand).
    pub releases: Vec<String>,
}

impl RolloutTarget {
    /// A function known only by name: its rollout is found on its aliases.
    pub fn named(function: &str) -> Self {
        Self {
            function: function.to_owned(),
            alias: None,
            steps: None,
            hooks: None,
            gates: Gates::default(),
            traffic: None,
            releases: Vec::new(),
        }
    }
}

impl From<&DesiredFunction> for RolloutTarget {
    fn from(desired: &DesiredFunction) -> Self {
        Self {
            function: desired.name.clone(),
            alias: desired.alias.as_ref().map(|a| a.name.clone()),
            steps: Some(desired.rollout_steps.clone()),
            hooks: Some(desired.hooks.clone()),
            gates: desired.gates.clone(),
            traffic: desired.traffic.clone(),
            releases: std::iter::once(desired.release_digest.clone())
                .chain(desired.previous_release.clone())
                .collect(),
        }
    }
}

/// Why an operator's command could not be carried out.
#[derive(Debug, thiserror::Error)]
pub enum OperateError {
    #[error("{function}: no such function")]
    NoSuchFunction { function: String },
    /// None of the function's aliases holds a rollout record.
    #[error("{function} has no rollout (none of its aliases holds a rollout record)")]
    NoRollout { function: String },
    /// The spec's alias is not there.
    #[error("{function}: alias {alias} does not exist yet")]
    NoAlias { function: String, alias: String },
    /// Without the spec, the alias to act on cannot be told.
    #[error(
        "{function}: several aliases hold a rollout record; give the function's spec (--specs) so its alias is known"
    )]
    SeveralRollouts { function: String },
    /// Reading the aliases failed.
    #[error("{function}: {source}")]
    Cloud {
        function: String,
        source: CloudError,
    },
    /// The command does not apply to the rollout as it stands.
    #[error(transparent)]
    Refused(#[from] CommandRefused),
    /// The alias update failed.
    #[error("{action}: {source}")]
    Failed {
        action: String,
        source: ExecuteError,
    },
}

impl OperateError {
    /// The command cannot apply (no such function or rollout, or not in this phase), as
    /// opposed to AWS failing to carry it out.
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            OperateError::Cloud { .. } | OperateError::Failed { .. }
        )
    }
}

/// Carries out an operator's command with one alias update; the answer says what was
/// done, as a person would (`paused orders-api at 20%`).
pub async fn operate<C: Cloud>(
    cloud: &C,
    target: &RolloutTarget,
    command: Command,
) -> Result<String, OperateError> {
    let name = &target.function;
    let aliases = cloud
        .list_aliases(name)
        .await
        .map_err(|e| aliases_error(name, e))?;
    let current = rollout_alias(name, target.alias.as_deref(), &aliases)?;
    let action = operator_action(
        name,
        current,
        target.steps.as_deref(),
        target.hooks.as_ref(),
        command,
    )?;
    let done = describe(name, command, &action);
    write_alias(cloud, name, action).await?;
    Ok(done)
}

/// Performs one alias update of a command; `Ok` with the update as a person reads it.
async fn write_alias<C: Cloud>(
    cloud: &C,
    name: &str,
    action: Action,
) -> Result<String, OperateError> {
    let written = action.to_string();
    let mut plan = FunctionPlan::empty(name);
    plan.actions.push(action);
    let report = execute(
        cloud,
        vec![plan],
        &Default::default(),
        &crate::progress::Silent,
    )
    .await
    .remove(0);
    match report.failure {
        Some(source) => Err(OperateError::Failed {
            action: written,
            source,
        }),
        None => Ok(written),
    }
}

/// Writes a hook's reported result (the callback of a hook that answered "pending"): one
/// alias update, past the hook or back to the stable version.
pub async fn report_hook<C: Cloud>(
    cloud: &C,
    target: &RolloutTarget,
    execution: &Execution,
    id: &str,
    result: Result<(), String>,
) -> Result<String, OperateError> {
    let name = &target.function;
    let (Some(steps), Some(hooks)) = (&target.steps, &target.hooks) else {
        return Err(CommandRefused::HookNeedsSpec.into());
    };
    let aliases = cloud
        .list_aliases(name)
        .await
        .map_err(|e| aliases_error(name, e))?;
    let current = rollout_alias(name, target.alias.as_deref(), &aliases)?;
    let passed = result.is_ok();
    let is_release = |digest: &str| target.releases.iter().any(|r| r == digest);
    let action = hook_report_action(
        current,
        execution,
        id,
        result,
        steps,
        hooks,
        &target.gates,
        target.traffic.as_ref(),
        is_release,
        crate::clock::unix_now(),
    )?;
    let written = write_alias(cloud, name, action).await?;
    Ok(if passed {
        format!("{name}: hook {id} passed; {written}")
    } else {
        format!("{name}: hook {id} failed; rolled back ({written})")
    })
}

fn aliases_error(function: &str, error: CloudError) -> OperateError {
    match error {
        CloudError::NotFound { .. } => OperateError::NoSuchFunction {
            function: function.to_owned(),
        },
        source => OperateError::Cloud {
            function: function.to_owned(),
            source,
        },
    }
}

/// The status of a function's rollout from its aliases alone, for a function whose spec
/// is not at hand: the routing and the record, without the steps.
pub async fn record_status<C: Cloud>(cloud: &C, function: &str) -> RolloutStatus {
    let mut status = RolloutStatus {
        function: function.to_owned(),
        alias: None,
        version: None,
        additional: None,
        record: None,
        steps: 0,
        step: None,
        pause_left_secs: None,
        pause_secs: None,
        pause_ended_secs_ago: None,
        alarms: Default::default(),
        hooks: Vec::new(),
        gates: Vec::new(),
        waiting_for_gate: None,
        error: None,
    };
    let found = match cloud.list_aliases(function).await {
        Ok(aliases) => rollout_alias(function, None, &aliases).cloned(),
        Err(error) => Err(aliases_error(function, error)),
    };
    match found {
        Ok(alias) => {
            status.record = alias.record();
            status.alias = Some(alias.name);
            status.version = Some(alias.version);
            status.additional = alias.additional_version;
        }
        Err(error) => status.error = Some(error.to_string()),
    }
    status
}

/// The alias a command acts on: the spec's, else the one holding a rollout record
/// (one in flight first).
fn rollout_alias<'a>(
    function: &str,
    alias: Option<&str>,
    aliases: &'a [ObservedAlias],
) -> Result<&'a ObservedAlias, OperateError> {
    if let Some(alias) = alias {
        return aliases
            .iter()
            .find(|a| a.name == alias)
            .ok_or_else(|| OperateError::NoAlias {
                function: function.to_owned(),
                alias: alias.to_owned(),
            });
    }
    let with_record: Vec<(&ObservedAlias, RolloutRecord)> = aliases
        .iter()
        .filter_map(|a| Some((a, a.record()?)))
        .collect();
    let in_flight: Vec<_> = with_record
        .iter()
        .filter(|(_, r)| r.phase.in_flight())
        .collect();
    match (in_flight.as_slice(), with_record.as_slice()) {
        ([(alias, _)], _) | ([], [(alias, _)]) => Ok(alias),
        ([], []) => Err(OperateError::NoRollout {
            function: function.to_owned(),
        }),
        _ => Err(OperateError::SeveralRollouts {
            function: function.to_owned(),
        }),
    }
}

/// What the command did, in words: the phase it left and the canary's traffic.
fn describe(function: &str, command: Command, action: &Action) -> String {
    let Action::UpdateAlias {
        version,
        additional,
        record: Some(record),
        ..
    } = action
    else {
        return format!("{command} {function}: done");
    };
    let version = match version {
        VersionRef::Existing(v) => v.as_str(),
        VersionRef::Published => "the new version",
    };
    let weight = additional.as_ref().map_or(0.0, |(_, w)| w * 100.0);
    match (command, record.phase) {
        (Command::Retry, _) => format!(
            "{function}: the rolled-back release will be rolled out again on the next apply or reconcile"
        ),
        (_, Phase::Healthy) => format!("promoted {function}: version {version} takes all traffic"),
        (_, Phase::Aborted) => {
            format!("aborted {function}: all traffic is back on version {version}")
        }
        (_, Phase::Paused) => format!("paused {function} at {}%", percent(weight)),
        (Command::Resume, _) => format!("resumed {function} at {}%", percent(weight)),
        (_, _) => format!("promoted {function} to {}%", percent(weight)),
    }
}
