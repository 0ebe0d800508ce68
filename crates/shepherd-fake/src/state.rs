//! What the fake account holds, and the helpers every handler shares: ARNs, code digests,
//! identifiers and the refusals that become [`CloudError`]s.

use std::collections::BTreeMap;

use base64::Engine as _;
use sha2::{Digest, Sha256};

use shepherd_core::cloud::{Api, CloudError};
use shepherd_core::model::{
    AsyncConfig, CodeArtifact, FunctionBasics, FunctionConfig, FunctionState, LastUpdateStatus,
    ObservedAlarm, ObservedAlias, ObservedFunction, ObservedMapping, ObservedVersion,
    ProvisionedConcurrency, ProvisionedStatus,
};
use shepherd_core::spec::{Architecture, RecursiveLoop};

/// The region of every ARN the fake hands out.
pub const REGION: &str = "us-east-1";
/// The account of every ARN the fake hands out.
pub const ACCOUNT: &str = "123456789012";

/// `arn:aws:lambda:us-east-1:123456789012:function:NAME[:QUALIFIER]`.
pub fn function_arn(name: &str, qualifier: Option<&str>) -> String {
    let base = format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}");
    match qualifier {
        Some(q) => format!("{base}:{q}"),
        None => base,
    }
}

/// The qualifier Lambda uses for the unpublished code and configuration.
pub(super) const LATEST: &str = "$LATEST";

/// Why a request failed, before the name of the API is attached (the handlers do not know
/// it: `delete_version` is `DeleteFunction`, for one).
#[derive(Debug)]
pub(super) enum Refusal {
    NotFound(String),
    /// `ResourceConflictException` because an update is in progress.
    Busy(String),
    Precondition(String),
    /// What a create makes exists already.
    Exists(String),
    Rejected(&'static str, String),
}

impl Refusal {
    pub(super) fn into_error(self, api: Api) -> CloudError {
        match self {
            Refusal::NotFound(message) => CloudError::NotFound { api, message },
            Refusal::Busy(message) => CloudError::Conflict { api, message },
            Refusal::Precondition(message) => CloudError::PreconditionFailed { api, message },
            Refusal::Exists(message) => CloudError::AlreadyExists { api, message },
            Refusal::Rejected(code, message) => CloudError::Rejected {
                api,
                code: code.to_owned(),
                message,
            },
        }
    }
}

pub(super) type Outcome<T> = Result<T, Refusal>;

/// `InvalidParameterValueException`: the request can never succeed as sent.
pub(super) fn invalid(message: impl Into<String>) -> Refusal {
    Refusal::Rejected("InvalidParameterValueException", message.into())
}

/// `ResourceConflictException` for a resource that exists or is in use (not for an update
/// in progress, which is [`Refusal::Busy`]).
pub(super) fn in_use(message: impl Into<String>) -> Refusal {
    Refusal::Rejected("ResourceConflictException", message.into())
}

/// `ResourceConflictException` saying that what a create makes exists already.
pub(super) fn exists(message: impl Into<String>) -> Refusal {
    Refusal::Exists(message.into())
}

pub(super) fn missing_function(name: &str) -> Refusal {
    Refusal::NotFound(format!("Function not found: {}", function_arn(name, None)))
}

/// The function as the fake stores it: what `GetFunction` reports, plus what a test may
/// want to look at or change behind shepherd's back. Changing `code` does not change
/// `code_sha256`: set both to simulate a deployment by someone else.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeFunction {
    pub name: String,
    pub config: FunctionConfig,
    pub architecture: Architecture,
    pub code: CodeArtifact,
    pub code_sha256: String,
    pub tags: BTreeMap<String, String>,
    pub reserved_concurrency: Option<u32>,
    pub state: FunctionState,
    pub last_update: LastUpdateStatus,
    pub last_update_reason: Option<String>,
    pub recursive_loop: RecursiveLoop,
}

/// A published version: a snapshot of `$LATEST` when it was published.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeVersion {
    pub version: String,
    pub code_sha256: String,
    pub description: String,
    pub config: FunctionConfig,
    pub architecture: Architecture,
    pub code: CodeArtifact,
}

impl FakeVersion {
    pub fn observed(&self) -> ObservedVersion {
        ObservedVersion {
            version: self.version.clone(),
            code_sha256: self.code_sha256.clone(),
            description: self.description.clone(),
        }
    }

    /// Whether publishing `$LATEST` now would publish nothing new.
    pub(super) fn embodies(&self, function: &FakeFunction) -> bool {
        self.code_sha256 == function.code_sha256
            && self.config == function.config
            && self.architecture == function.architecture
    }
}

/// A provisioned concurrency config and how far its allocation has got.
#[derive(Debug, Clone)]
pub(super) struct Provisioned {
    pub config: ProvisionedConcurrency,
    /// Reads left before the allocation ends; 0 once it has.
    pub reads_left: usize,
    /// How the allocation ends: `None` is READY.
    pub failure: Option<String>,
}

impl Provisioned {
    pub(super) fn start(&mut self, reads: usize, failure: Option<String>) {
        self.config.status = ProvisionedStatus::InProgress;
        self.reads_left = reads;
        self.failure = failure;
        if reads == 0 {
            self.finish();
        }
    }

    /// What one `Get`/`ListProvisionedConcurrencyConfigs` reports: the status before this
    /// read, so that `reads` reads see IN_PROGRESS.
    pub(super) fn read(&mut self) -> ProvisionedConcurrency {
        let seen = self.config.clone();
        if self.reads_left > 0 {
            self.reads_left -= 1;
            if self.reads_left == 0 {
                self.finish();
            }
        }
        seen
    }

    pub(super) fn finish(&mut self) {
        self.reads_left = 0;
        if self.config.status != ProvisionedStatus::InProgress {
            return;
        }
        match self.failure.take() {
            Some(reason) => self.config.status = ProvisionedStatus::Failed(reason),
            None => {
                self.config.allocated = self.config.requested;
                self.config.status = ProvisionedStatus::Ready;
            }
        }
    }
}

/// One function and everything that hangs off it.
#[derive(Debug, Clone)]
pub(super) struct FunctionRecord {
    pub function: FakeFunction,
    /// `GetFunction` reads left before a pending creation or an update in progress ends.
    pub reads_until_settled: usize,
    /// How the update in progress ends: `None` is Successful.
    pub update_failure: Option<String>,
    /// `$LATEST` before the update in progress, restored if the update fails.
    pub before_update: Option<FakeFunction>,
    /// Published versions by number.
    pub versions: BTreeMap<u64, FakeVersion>,
    /// The last number handed out: Lambda never reuses a version number.
    pub last_version: u64,
    pub aliases: BTreeMap<String, ObservedAlias>,
    /// Async invoke configs by qualifier (`$LATEST` for the unqualified function).
    pub async_configs: BTreeMap<String, AsyncConfig>,
    /// Provisioned concurrency configs by qualifier (alias or version).
    pub provisioned: BTreeMap<String, Provisioned>,
}

/// What a qualifier names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    Latest,
    Version(u64),
    Alias(String),
}

impl FunctionRecord {
    pub(super) fn new(function: FakeFunction, reads: usize) -> Self {
        let mut record = FunctionRecord {
            function,
            reads_until_settled: reads,
            update_failure: None,
            before_update: None,
            versions: BTreeMap::new(),
            last_version: 0,
            aliases: BTreeMap::new(),
            async_configs: BTreeMap::new(),
            provisioned: BTreeMap::new(),
        };
        if reads == 0 {
            record.finish();
        }
        record
    }

    /// What `GetFunction` reports. The trait leaves aliases and the other sub-resources
    /// unread.
    pub(super) fn observed(&self) -> ObservedFunction {
        let f = &self.function;
        ObservedFunction::from(FunctionBasics {
            name: f.name.clone(),
            arn: function_arn(&f.name, None),
            config: f.config.clone(),
            architecture: f.architecture,
            state: f.state.clone(),
            last_update: f.last_update.clone(),
            last_update_reason: f.last_update_reason.clone(),
            code_sha256: f.code_sha256.clone(),
            tags: f.tags.clone(),
            reserved_concurrency: f.reserved_concurrency,
        })
    }

    /// One `GetFunction` read: time passes for the function.
    pub(super) fn tick(&mut self) {
        if self.reads_until_settled > 0 {
            self.reads_until_settled -= 1;
            if self.reads_until_settled == 0 {
                self.finish();
            }
        }
    }

    /// Ends a pending creation or an update in progress. A state a test set by hand
    /// (with no reads left) stays as it is.
    pub(super) fn finish(&mut self) {
        self.reads_until_settled = 0;
        let f = &mut self.function;
        if f.state == FunctionState::Pending {
            f.state = FunctionState::Active;
        }
        if f.last_update == LastUpdateStatus::InProgress {
            match self.update_failure.take() {
                // A failed update leaves the previous code and configuration in effect.
                Some(reason) => {
                    if let Some(before) = self.before_update.take() {
                        f.config = before.config;
                        f.code = before.code;
                        f.code_sha256 = before.code_sha256;
                        f.architecture = before.architecture;
                    }
                    f.last_update = LastUpdateStatus::Failed;
                    f.last_update_reason = Some(reason);
                }
                None => f.last_update = LastUpdateStatus::Successful,
            }
        }
        self.before_update = None;
    }

    /// Lambda refuses code and configuration changes and publishing while the function is
    /// being created or updated.
    pub(super) fn ensure_settled(&self) -> Outcome<()> {
        let f = &self.function;
        if f.state == FunctionState::Pending {
            return Err(Refusal::Busy(format!(
                "The operation cannot be performed at this time. The function is currently \
                 in the following state: Pending ({})",
                function_arn(&f.name, None)
            )));
        }
        if f.last_update == LastUpdateStatus::InProgress {
            return Err(Refusal::Busy(format!(
                "The operation cannot be performed at this time. An update is in progress \
                 for resource: {}",
                function_arn(&f.name, None)
            )));
        }
        Ok(())
    }

    /// Starts an update of `$LATEST`, which was `before` until now.
    pub(super) fn begin_update(
        &mut self,
        before: FakeFunction,
        reads: usize,
        failure: Option<String>,
    ) {
        self.function.last_update = LastUpdateStatus::InProgress;
        self.function.last_update_reason = None;
        self.before_update = Some(before);
        self.update_failure = failure;
        self.reads_until_settled = reads;
        if reads == 0 {
            self.finish();
        }
    }

    /// What `qualifier` names; `NotFound` when no such version or alias exists.
    pub(super) fn resolve(&self, qualifier: &str) -> Outcome<Target> {
        if qualifier == LATEST {
            return Ok(Target::Latest);
        }
        if let Ok(number) = qualifier.parse::<u64>() {
            if self.versions.contains_key(&number) {
                return Ok(Target::Version(number));
            }
        } else if self.aliases.contains_key(qualifier) {
            return Ok(Target::Alias(qualifier.to_owned()));
        }
        Err(Refusal::NotFound(format!(
            "Function not found: {}",
            function_arn(&self.function.name, Some(qualifier))
        )))
    }

    /// The version a qualifier runs: an alias's primary version, or the version itself.
    pub(super) fn version_of(&self, target: &Target) -> Option<u64> {
        match target {
            Target::Latest => None,
            Target::Version(n) => Some(*n),
            Target::Alias(name) => self.aliases.get(name)?.version.parse().ok(),
        }
    }

    pub(super) fn latest_version(&self) -> Option<&FakeVersion> {
        self.versions.values().next_back()
    }
}

/// Knobs that shape how the fake behaves over time.
#[derive(Debug, Clone)]
pub(super) struct Knobs {
    /// `GetFunction` reads a new function stays Pending and an update stays InProgress.
    pub settle_reads: usize,
    /// Reads a provisioned concurrency allocation stays IN_PROGRESS.
    pub provisioned_reads: usize,
    /// The next code or configuration update ends Failed with this reason.
    pub fail_next_update: Option<String>,
    /// The next provisioned concurrency put ends FAILED with this reason.
    pub fail_next_provisioned: Option<String>,
    /// What the endpoint does not keep of a configuration it is sent (it normalises a
    /// value, or ignores a field): applied to every configuration written.
    pub keeps: Option<fn(&mut shepherd_core::model::FunctionConfig)>,
}

impl Default for Knobs {
    fn default() -> Self {
        Knobs {
            settle_reads: 1,
            provisioned_reads: 1,
            fail_next_update: None,
            fail_next_provisioned: None,
            keeps: None,
        }
    }
}

/// The whole fake account: Lambda and CloudWatch of one region.
#[derive(Debug, Clone, Default)]
pub(super) struct World {
    pub functions: BTreeMap<String, FunctionRecord>,
    /// Event source mappings by UUID. They outlive their function, as in Lambda.
    pub mappings: BTreeMap<String, ObservedMapping>,
    pub alarms: BTreeMap<String, ObservedAlarm>,
    /// Metrics of `(function, version)`, as CloudWatch would report them.
    pub metrics: BTreeMap<(String, String), shepherd_core::model::VersionMetrics>,
    /// SQS queues by ARN, as event sources see them.
    pub queues: BTreeMap<String, shepherd_core::model::QueueAttributes>,
    /// S3 objects by `s3://bucket/key`: every version as `(version id, ETag)`, the
    /// newest last.
    pub objects: BTreeMap<String, Vec<(String, String)>>,
    /// Container images: the digest each `REPOSITORY:TAG` points to.
    pub images: BTreeMap<String, String>,
    pub knobs: Knobs,
    /// Invocations and their scripted results.
    pub runs: super::running::Runs,
    /// Source of UUIDs and revision ids, so that they are unique and deterministic.
    serial: u64,
}

impl World {
    /// A fresh UUID-shaped identifier; sorts in creation order.
    pub(super) fn next_id(&mut self) -> String {
        self.serial += 1;
        format!("00000000-0000-4000-8000-{:012x}", self.serial)
    }
}

/// The function `name`, or `NotFound`. A free function so that callers can borrow the
/// other fields of [`World`] (the knobs) at the same time.
pub(super) fn record<'a>(
    functions: &'a mut BTreeMap<String, FunctionRecord>,
    name: &str,
) -> Outcome<&'a mut FunctionRecord> {
    functions
        .get_mut(name)
        .ok_or_else(|| missing_function(name))
}

/// The `CodeSha256` Lambda reports for a package. For an S3 object the fake stores, it
/// digests the object version's ETag (what Lambda reads is that version's bytes); for
/// other S3 and image sources it digests the location: stable for a test, different per
/// location.
pub(super) fn code_sha256(
    objects: &BTreeMap<String, Vec<(String, String)>>,
    code: &CodeArtifact,
) -> String {
    match code {
        CodeArtifact::Zip { sha256, .. } => sha256.clone(),
        CodeArtifact::S3 { bucket, key, .. } => {
            let version = code.deploy_object_version();
            let location = format!("s3://{bucket}/{key}");
            let etag = objects.get(&location).and_then(|versions| match version {
                Some(v) => versions.iter().find(|(id, _)| id == v),
                None => versions.last(),
            });
            match etag {
                Some((_, etag)) => digest(etag),
                None => digest(&format!(
                    "{location}?versionId={}",
                    version.unwrap_or_default()
                )),
            }
        }
        CodeArtifact::Image { .. } => digest(&code.deploy_image_uri().unwrap_or_default()),
        // Refused before it gets here (`check_package`); a digest of nothing otherwise.
        CodeArtifact::Unavailable { .. } => digest(""),
    }
}

/// Base64 of the SHA-256 of `text`: the form of Lambda's `CodeSha256`.
fn digest(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
}
