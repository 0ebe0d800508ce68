//! The typed actions a plan is made of, in the order they must run.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::model::{
    AlarmDefinition, AsyncConfig, CodeArtifact, FunctionConfig, MappingConfig, TrafficConfig,
};
use crate::rollout::{HookCursor, Phase};
use crate::spec::{Architecture, Hook, RecursiveLoop};

/// A version an action refers to: one that exists, or the one this plan publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum VersionRef {
    Existing(String),
    /// The version published by an earlier action of the same plan (known only when it
    /// runs: Lambda numbers versions).
    Published,
}

impl fmt::Display for VersionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionRef::Existing(v) => write!(f, "version {v}"),
            VersionRef::Published => write!(f, "the new version"),
        }
    }
}

/// One field that differs: how AWS has it and how the spec wants it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub field: String,
    pub from: String,
    pub to: String,
}

/// One write to AWS. The executor performs them in order, waiting for the function to
/// settle between updates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Action {
    CreateFunction {
        config: Box<FunctionConfig>,
        architecture: Architecture,
        code: CodeArtifact,
        tags: BTreeMap<String, String>,
    },
    UpdateConfiguration {
        config: Box<FunctionConfig>,
        changes: Vec<Change>,
    },
    UpdateCode {
        code: CodeArtifact,
        architecture: Architecture,
        changes: Vec<Change>,
    },
    /// Publishes `$LATEST`; `expected_sha256` guards against publishing other code.
    PublishVersion {
        release_digest: String,
        expected_sha256: Option<String>,
    },
    CreateAlias {
        name: String,
        version: VersionRef,
        description: String,
    },
    /// Points the alias at `version`; `additional` routes a share of traffic to a second
    /// version (rollouts).
    UpdateAlias {
        name: String,
        version: VersionRef,
        additional: Option<(VersionRef, f64)>,
        description: String,
        /// For rollouts: the record written as the description, in the same call.
        record: Option<Box<RecordTemplate>>,
        /// The alias's `RevisionId` as observed: the write holds only if nobody changed
        /// the alias since (optimistic concurrency), so a decision made on what was read
        /// never overwrites a change it did not see.
        #[serde(skip)]
        revision: Option<String>,
        changes: Vec<Change>,
    },
    PutReservedConcurrency {
        count: u32,
    },
    DeleteReservedConcurrency,
    PutProvisionedConcurrency {
        qualifier: Qualifier,
        count: u32,
    },
    DeleteProvisionedConcurrency {
        qualifier: String,
    },
    PutAsyncConfig {
        qualifier: Option<String>,
        config: AsyncConfig,
    },
    DeleteAsyncConfig {
        qualifier: Option<String>,
    },
    PutRecursiveLoop {
        mode: RecursiveLoop,
    },
    CreateMapping {
        qualifier: Option<String>,
        config: MappingConfig,
    },
    UpdateMapping {
        uuid: String,
        qualifier: Option<String>,
        config: MappingConfig,
        changes: Vec<Change>,
    },
    DeleteMapping {
        uuid: String,
        queue_arn: String,
    },
    PutAlarm {
        alarm: Box<AlarmDefinition>,
    },
    DeleteAlarms {
        names: Vec<String>,
    },
    DeleteVersion {
        version: String,
    },
    /// Sets tags (and removes others). Written last: the spec digest in it marks the whole
    /// spec as applied. `release` asks the executor to record the version this run
    /// published (or found) with its release digest.
    Tag {
        set: BTreeMap<String, String>,
        remove: Vec<String>,
        release: Option<String>,
    },
    /// Prunes the function. The executor reads its tags again first and deletes only a
    /// function that still carries this owner.
    DeleteFunction {
        owner: String,
    },
    /// Runs a rollout hook against the new version, then writes its result: `pass`,
    /// `pending` (the hook reports later, through the callback) or `fail` (a rollback,
    /// whose reason the executor completes with the hook's). Each is an `UpdateAlias`.
    RunHook {
        call: Box<HookCall>,
        pass: Box<Action>,
        pending: Box<Action>,
        fail: Box<Action>,
    },
    /// Sends a batch of synthetic traffic to the new version, then writes `pass` (the
    /// batch recorded as sent) or `fail` (a rollback, whose reason the executor completes
    /// with the errors). Each is an `UpdateAlias`.
    SendTraffic {
        call: Box<TrafficCall>,
        pass: Box<Action>,
        fail: Box<Action>,
    },
}

/// A batch of synthetic traffic: the version it goes to and how.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrafficCall {
    pub canary: String,
    /// The step the batch belongs to (the pause, or the first step before traffic).
    pub step: usize,
    pub before_traffic: bool,
    pub traffic: TrafficConfig,
}

/// What a hook is run with: the hook, and what it tests.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HookCall {
    pub hook: Hook,
    pub name: String,
    pub cursor: HookCursor,
    pub alias: String,
    pub stable: String,
    pub canary: String,
    /// The canary's share of traffic while the hook runs, in percent.
    pub weight: f64,
    pub step: usize,
    pub release: String,
    /// The rollout's start, which the execution id names.
    pub started: u64,
    /// How long the hook may stay pending.
    pub deadline_secs: u64,
}

/// A rollout record to write with an alias update; the executor fills in the version
/// numbers and the time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordTemplate {
    pub phase: Phase,
    pub step: usize,
    pub release: String,
    pub reason: Option<String>,
    /// The hook the rollout is at.
    pub hook: Option<HookCursor>,
    /// A hook answered "pending": its deadline is this long after the write.
    pub pending_for: Option<u64>,
    /// The timed pause whose synthetic traffic was sent.
    pub traffic_sent: Option<usize>,
    pub stable: VersionRef,
    pub canary: VersionRef,
    /// Kept from the rollout's start; `None`: the rollout starts with this write.
    pub started: Option<u64>,
    /// Kept when the write only repairs routing; `None`: the step starts with this write.
    pub since: Option<u64>,
}

/// Where provisioned concurrency goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Qualifier {
    Alias(String),
    Version(VersionRef),
}

impl fmt::Display for Qualifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Alias(name) => write!(f, "alias {name}"),
            Qualifier::Version(v) => write!(f, "{v}"),
        }
    }
}

impl Action {
    /// Whether Lambda rejects this action while an update of the function is in progress:
    /// the executor waits for the function to settle first.
    pub fn needs_settled_function(&self) -> bool {
        matches!(
            self,
            Action::UpdateConfiguration { .. }
                | Action::UpdateCode { .. }
                | Action::PublishVersion { .. }
        )
    }

    /// A short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::CreateFunction { .. } => "create_function",
            Action::UpdateConfiguration { .. } => "update_configuration",
            Action::UpdateCode { .. } => "update_code",
            Action::PublishVersion { .. } => "publish_version",
            Action::CreateAlias { .. } => "create_alias",
            Action::UpdateAlias { .. } => "update_alias",
            Action::PutReservedConcurrency { .. } => "put_reserved_concurrency",
            Action::DeleteReservedConcurrency => "delete_reserved_concurrency",
            Action::PutProvisionedConcurrency { .. } => "put_provisioned_concurrency",
            Action::DeleteProvisionedConcurrency { .. } => "delete_provisioned_concurrency",
            Action::PutAsyncConfig { .. } => "put_async_config",
            Action::DeleteAsyncConfig { .. } => "delete_async_config",
            Action::PutRecursiveLoop { .. } => "put_recursive_loop",
            Action::CreateMapping { .. } => "create_mapping",
            Action::UpdateMapping { .. } => "update_mapping",
            Action::DeleteMapping { .. } => "delete_mapping",
            Action::PutAlarm { .. } => "put_alarm",
            Action::DeleteAlarms { .. } => "delete_alarms",
            Action::DeleteVersion { .. } => "delete_version",
            Action::Tag { .. } => "tag",
            Action::DeleteFunction { .. } => "delete_function",
            Action::RunHook { .. } => "run_hook",
            Action::SendTraffic { .. } => "send_traffic",
        }
    }

    /// The field-level changes behind the action, for plan output.
    pub fn changes(&self) -> &[Change] {
        match self {
            Action::UpdateConfiguration { changes, .. }
            | Action::UpdateCode { changes, .. }
            | Action::UpdateAlias { changes, .. }
            | Action::UpdateMapping { changes, .. } => changes,
            _ => &[],
        }
    }
}

impl fmt::Display for Action {
    /// One line a person reads in `shepherd plan`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::CreateFunction { config, .. } => {
                write!(
                    f,
                    "create function ({} MB, {}s)",
                    config.memory, config.timeout_secs
                )
            }
            Action::UpdateConfiguration { .. } => write!(f, "update configuration"),
            Action::UpdateCode { .. } => write!(f, "update code"),
            Action::PublishVersion { .. } => write!(f, "publish a new version"),
            Action::CreateAlias { name, version, .. } => {
                write!(f, "create alias {name} -> {version}")
            }
            Action::UpdateAlias {
                name,
                version,
                additional: None,
                ..
            } => write!(f, "point alias {name} at {version}"),
            Action::UpdateAlias {
                name,
                version,
                additional: Some((extra, weight)),
                ..
            } => write!(
                f,
                "route alias {name}: {version} {}%, {extra} {}%",
                crate::display::percent((1.0 - weight) * 100.0),
                crate::display::percent(weight * 100.0)
            ),
            Action::PutReservedConcurrency { count } => {
                write!(f, "set reserved concurrency to {count}")
            }
            Action::DeleteReservedConcurrency => write!(f, "remove reserved concurrency"),
            Action::PutProvisionedConcurrency { qualifier, count } => {
                write!(f, "set provisioned concurrency of {qualifier} to {count}")
            }
            Action::DeleteProvisionedConcurrency { qualifier } => {
                write!(f, "remove provisioned concurrency of {qualifier}")
            }
            Action::PutAsyncConfig { config, .. } => write!(
                f,
                "set async invocation: {} retries, max age {}s, on failure {}",
                config.maximum_retry_attempts,
                config.maximum_event_age_secs,
                config.on_failure.as_deref().unwrap_or("none")
            ),
            Action::DeleteAsyncConfig { .. } => write!(f, "remove async invocation config"),
            Action::PutRecursiveLoop { mode } => write!(f, "set recursive loop to {mode:?}"),
            Action::CreateMapping { config, .. } => {
                write!(f, "create SQS mapping from {}", config.queue_arn)
            }
            Action::UpdateMapping { config, .. } => {
                write!(f, "update SQS mapping from {}", config.queue_arn)
            }
            Action::DeleteMapping { queue_arn, .. } => {
                write!(f, "delete SQS mapping from {queue_arn}")
            }
            Action::PutAlarm { alarm } => write!(f, "put alarm {}", alarm.name),
            Action::DeleteAlarms { names } => write!(f, "delete alarms {}", names.join(", ")),
            Action::DeleteVersion { version } => write!(f, "delete old version {version}"),
            Action::Tag { set, remove, .. } => {
                let keys: Vec<&str> = set.keys().map(String::as_str).collect();
                write!(f, "tag: set {}", keys.join(", "))?;
                if !remove.is_empty() {
                    write!(f, "; remove {}", remove.join(", "))?;
                }
                Ok(())
            }
            Action::DeleteFunction { .. } => {
                write!(f, "delete function (pruned: no longer in the spec)")
            }
            Action::RunHook { call, .. } => {
                let what = match (&call.hook.lambda, &call.hook.http) {
                    (Some(function), _) => format!("invoke {function}"),
                    (None, Some(http)) => format!("call {}", http.url),
                    (None, None) => "nothing".to_owned(),
                };
                write!(
                    f,
                    "run {} hook {} ({what}) against version {}",
                    call.cursor.stage, call.name, call.canary
                )
            }
            Action::SendTraffic { call, .. } => {
                let when = if call.before_traffic {
                    "before traffic".to_owned()
                } else {
                    format!("at step {}", call.step + 1)
                };
                write!(
                    f,
                    "send {} synthetic invocations to version {} ({when}, {} at once, at most {} errors)",
                    call.traffic.invocations,
                    call.canary,
                    call.traffic.concurrency,
                    call.traffic.max_errors
                )
            }
        }
    }
}
