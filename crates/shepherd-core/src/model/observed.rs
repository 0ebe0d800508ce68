//! What AWS reports about the functions shepherd manages.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{AsyncConfig, FunctionConfig, ObservedAlarm, ObservedMapping};
use crate::spec::{Architecture, RecursiveLoop};

/// The canary's metrics as read, or why they could not be: a failed read is a verdict of
/// its own ("metrics unavailable"), never the same as a canary without traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CanaryMetrics {
    Read(super::VersionMetrics),
    Unavailable(String),
}

/// A value that needs its own read call, which shepherd makes only when it matters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Readable<T> {
    Known(T),
    /// Not read in this observation (nothing pointed to a change).
    NotRead,
    /// The endpoint does not implement the API (the local emulator, for some calls).
    Unsupported,
}

impl<T> Readable<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Readable::Known(value) => Some(value),
            _ => None,
        }
    }
}

/// Lambda's `State` of a function. Unknown values from newer APIs map to `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FunctionState {
    Pending,
    Active,
    Inactive,
    Failed,
    Other(String),
}

/// Lambda's `LastUpdateStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum LastUpdateStatus {
    Successful,
    InProgress,
    Failed,
    Other(String),
}

/// A published version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObservedVersion {
    pub version: String,
    pub code_sha256: String,
    pub description: String,
}

impl ObservedVersion {
    pub fn number(&self) -> Option<u64> {
        self.version.parse().ok()
    }
}

/// An alias with its routing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedAlias {
    pub name: String,
    pub version: String,
    /// The additional version and the fraction (0-1) of traffic it receives.
    pub additional_version: Option<(String, f64)>,
    pub description: String,
    pub revision_id: Option<String>,
}

impl ObservedAlias {
    /// The rollout record shepherd keeps in the alias's description, if it holds one: the
    /// one place that reads it.
    pub fn record(&self) -> Option<crate::rollout::RolloutRecord> {
        crate::rollout::RolloutRecord::parse(&self.description)
    }
}

/// Provisioned concurrency status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ProvisionedStatus {
    InProgress,
    Ready,
    Failed(String),
}

/// A provisioned concurrency config of a version or alias.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProvisionedConcurrency {
    pub qualifier: String,
    pub requested: u32,
    pub allocated: u32,
    pub status: ProvisionedStatus,
}

/// One function as AWS reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedFunction {
    pub name: String,
    pub arn: String,
    pub config: FunctionConfig,
    pub architecture: Architecture,
    pub state: FunctionState,
    pub last_update: LastUpdateStatus,
    pub last_update_reason: Option<String>,
    pub code_sha256: String,
    pub tags: BTreeMap<String, String>,
    pub reserved_concurrency: Option<u32>,
    pub aliases: Vec<ObservedAlias>,
    pub versions: Readable<Vec<ObservedVersion>>,
    /// Async invoke config on the invoke qualifier (alias or unqualified).
    pub async_config: Readable<Option<AsyncConfig>>,
    pub provisioned: Readable<Vec<ProvisionedConcurrency>>,
    pub recursive_loop: Readable<RecursiveLoop>,
    /// The SQS mappings that invoke the function (any qualifier).
    pub mappings: Readable<Vec<ObservedMapping>>,
    /// The alarms shepherd manages for the function that exist, by name.
    pub alarms: Readable<BTreeMap<String, ObservedAlarm>>,
}

/// What `GetFunction` tells of a function: all but the sub-resources, which need reads of
/// their own. Both the adapter and the fake answer `Functions::get_function` with one.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionBasics {
    pub name: String,
    pub arn: String,
    pub config: FunctionConfig,
    pub architecture: Architecture,
    pub state: FunctionState,
    pub last_update: LastUpdateStatus,
    pub last_update_reason: Option<String>,
    pub code_sha256: String,
    pub tags: BTreeMap<String, String>,
    pub reserved_concurrency: Option<u32>,
}

impl From<FunctionBasics> for ObservedFunction {
    /// The function with every sub-resource left unread.
    fn from(basics: FunctionBasics) -> Self {
        let FunctionBasics {
            name,
            arn,
            config,
            architecture,
            state,
            last_update,
            last_update_reason,
            code_sha256,
            tags,
            reserved_concurrency,
        } = basics;
        Self {
            name,
            arn,
            config,
            architecture,
            state,
            last_update,
            last_update_reason,
            code_sha256,
            tags,
            reserved_concurrency,
            aliases: Vec::new(),
            versions: Readable::NotRead,
            async_config: Readable::NotRead,
            provisioned: Readable::NotRead,
            recursive_loop: Readable::NotRead,
            mappings: Readable::NotRead,
            alarms: Readable::NotRead,
        }
    }
}

impl ObservedFunction {
    pub fn alias(&self, name: &str) -> Option<&ObservedAlias> {
        self.aliases.iter().find(|a| a.name == name)
    }

    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags.get(key).map(String::as_str)
    }

    /// The code shepherd last deployed here, from its tag.
    pub fn code_tag(&self) -> Option<super::CodeTag> {
        self.tag(super::tags::CODE).and_then(super::CodeTag::parse)
    }

    /// The release shepherd last published here, from its tag.
    pub fn release_tag(&self) -> Option<super::ReleaseTag> {
        self.tag(super::tags::RELEASE)
            .and_then(super::ReleaseTag::parse)
    }

    /// Whether Lambda accepts an update now (no update in progress, not pending).
    pub fn is_settled(&self) -> bool {
        self.state != FunctionState::Pending && self.last_update != LastUpdateStatus::InProgress
    }
}

/// Everything observed for a set of functions.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Observation {
    /// Functions that exist, by name. A desired function absent here does not exist.
    pub functions: BTreeMap<String, ObservedFunction>,
    /// Gating alarms by name, for rollouts.
    pub alarms: BTreeMap<String, ObservedAlarm>,
    /// When the observation was made (Unix seconds): the planner's "now".
    pub at: u64,
    /// The canary's own metrics since its step began, for rollouts with analysis.
    pub metrics: BTreeMap<String, CanaryMetrics>,
    /// The SQS queues of the event sources being created or changed, by ARN.
    pub queues: BTreeMap<String, QueueAttributes>,
    /// What each mutable code reference (`CodeArtifact::content_key`) names now.
    pub code_content: BTreeMap<String, super::CodeContent>,
    /// The rollout gates polled this pass, by function.
    pub gates: BTreeMap<String, Vec<GateReading>>,
}

/// What one gate answered this pass.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateReading {
    pub kind: crate::spec::GateKind,
    /// Its place in its kind's list (names may repeat).
    pub index: usize,
    pub name: String,
    /// Answered a status of 202 or less.
    pub open: bool,
    /// What it answered (or why it could not be asked).
    pub detail: String,
}

impl Observation {
    /// The observation as it stands after the alias writes `written` (in order) on
    /// `function`: the aliases replaced, and its time moved up to the newest rollout
    /// record written, whose clock is the write's. `false` (nothing changed) when the
    /// function was not observed (it was created by the run that wrote them).
    pub fn after_alias_writes(&mut self, function: &str, written: &[ObservedAlias]) -> bool {
        let Some(observed) = self.functions.get_mut(function) else {
            return false;
        };
        for alias in written {
            observed.aliases.retain(|a| a.name != alias.name);
            observed.aliases.push(alias.clone());
            if let Some(record) = alias.record() {
                self.at = self.at.max(record.since);
            }
        }
        true
    }

    /// Adds what another observation of the same moment holds (another function's, made
    /// beside this one): its entries join, and the time is the later of the two.
    pub fn absorb(&mut self, other: Observation) {
        self.functions.extend(other.functions);
        self.alarms.extend(other.alarms);
        self.metrics.extend(other.metrics);
        self.queues.extend(other.queues);
        self.code_content.extend(other.code_content);
        self.at = self.at.max(other.at);
    }
}

/// What an event source's queue says about itself (`GetQueueAttributes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueueAttributes {
    pub visibility_timeout_secs: u32,
    /// The target of its redrive policy, if it has one.
    pub dead_letter_queue: Option<String>,
}
