//! The executor: performs each function's plan in order, one change in flight per
//! function and a bounded number of functions at once. Waits are polls with backoff, so a
//! function that takes minutes to settle costs a few reads, not a busy loop.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use shepherd_core::cloud::{Cloud, CloudError};
use shepherd_core::model::{
    CodeTag, FunctionState, LastUpdateStatus, ObservedAlias, Owner, Ownership, ProvisionedStatus,
    ReleaseTag, kept_digest, ownership, tags,
};
use shepherd_core::plan::{
    Action, FunctionPlan, Qualifier, RecordTemplate, VERSION_DESCRIPTION_PREFIX, VersionRef,
};
use shepherd_core::rollout::RolloutRecord;
use tracing::Instrument;

use crate::clock::unix_now;
use crate::progress::{Progress, ProgressSink};

/// Knobs of the executor.
#[derive(Debug, Clone, Copy)]
pub struct ExecuteOptions {
    /// Functions worked on at once.
    pub concurrency: usize,
    /// Longest wait for a function update to finish.
    pub settle_timeout: Duration,
    /// Longest wait for provisioned concurrency to become READY.
    pub provisioned_timeout: Duration,
    /// Retries of an update that met `ResourceConflictException`.
    pub conflict_retries: u32,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        Self {
            concurrency: 16,
            settle_timeout: Duration::from_secs(300),
            provisioned_timeout: Duration::from_secs(1800),
            conflict_retries: 5,
        }
    }
}

/// How one function's plan ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum Outcome {
    Unchanged,
    Applied,
    Refused {
        reason: String,
    },
    /// `error` in full, for the person running the command and the logs; `summary`
    /// without AWS's own messages, for the controller's status API.
    Failed {
        error: String,
        summary: String,
    },
}

impl Outcome {
    /// A failure whose text holds nothing from AWS: shown as it is everywhere.
    pub fn failed(error: impl Into<String>) -> Self {
        let error = error.into();
        Outcome::Failed {
            summary: error.clone(),
            error,
        }
    }
}

/// What happened to one function.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionReport {
    pub name: String,
    pub outcome: Outcome,
    /// The actions performed, in order.
    pub done: Vec<String>,
    /// Actions skipped because the endpoint does not implement them.
    pub skipped: Vec<String>,
    pub drift_corrected: bool,
    /// Each alias as this run wrote it, in order: what AWS now says of it, so that a
    /// caller can tell the rollout's state without reading it again.
    #[serde(skip)]
    pub aliases_written: Vec<ObservedAlias>,
}

/// Why an action failed.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    #[error(transparent)]
    Cloud(#[from] CloudError),
    #[error("timed out after {0:?} waiting for {1}")]
    Timeout(Duration, String),
    #[error("{0}")]
    Failed(String),
}

impl ExecuteError {
    /// The error without AWS's own message (see [`CloudError::summary`]).
    pub fn summary(&self) -> String {
        match self {
            ExecuteError::Cloud(error) => error.summary(),
            other => other.to_string(),
        }
    }
}

/// Performs every plan; one function's failure never stops the others.
pub async fn execute<C: Cloud>(
    cloud: &C,
    plans: Vec<FunctionPlan>,
    options: &ExecuteOptions,
    progress: &dyn ProgressSink,
) -> Vec<FunctionReport> {
    let mut reports: Vec<FunctionReport> = stream::iter(plans)
        .map(|plan| {
            let span = tracing::info_span!("apply", function = %plan.name);
            // Boxed for the same reason as the reads in `observe`.
            Box::pin(execute_function(cloud, plan, options, progress).instrument(span))
                as futures::future::BoxFuture<'_, FunctionReport>
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    reports
}

/// State carried between the actions of one function.
struct Context {
    name: String,
    arn: Option<String>,
    published: Option<String>,
    code_sha256: Option<String>,
    /// What AWS kept of the configuration after this run's last write, as recorded in
    /// `shepherd.dev/config-kept`.
    kept: Option<String>,
    /// The aliases written so far, as written.
    aliases: Vec<ObservedAlias>,
}

async fn execute_function<C: Cloud>(
    cloud: &C,
    plan: FunctionPlan,
    options: &ExecuteOptions,
    progress: &dyn ProgressSink,
) -> FunctionReport {
    let mut report = FunctionReport {
        name: plan.name.clone(),
        outcome: Outcome::Unchanged,
        done: Vec::new(),
        skipped: Vec::new(),
        drift_corrected: false,
        aliases_written: Vec::new(),
    };
    if let Some(reason) = plan.refused {
        report.outcome = Outcome::Refused { reason };
        return report;
    }
    if plan.actions.is_empty() {
        return report;
    }
    let mut context = Context {
        name: plan.name.clone(),
        arn: None,
        published: None,
        code_sha256: None,
        kept: None,
        aliases: Vec::new(),
    };
    for action in &plan.actions {
        progress.report(Progress::Action {
            function: &plan.name,
            action,
        });
        tracing::info!(action = action.kind(), detail = %action, "applying");
        match perform(cloud, action, &mut context, options, progress).await {
            Ok(()) => report.done.push(action.to_string()),
            Err(ExecuteError::Cloud(CloudError::Unsupported { api })) => {
                tracing::info!(api, "skipped: the endpoint does not implement it");
                report
                    .skipped
                    .push(format!("{action} ({api} not implemented by the endpoint)"));
            }
            Err(error) => {
                tracing::error!(action = action.kind(), %error, "failed");
                progress.report(Progress::Failed {
                    function: &plan.name,
                    error: &error.to_string(),
                });
                report.outcome = Outcome::Failed {
                    error: format!("{action}: {error}"),
                    summary: format!("{}: {}", action.kind(), error.summary()),
                };
                report.aliases_written = context.aliases;
                return report;
            }
        }
    }
    report.outcome = Outcome::Applied;
    report.drift_corrected = plan.drift;
    report.aliases_written = context.aliases;
    report
}

/// An alias as a successful write left it (its revision id is not known without a read).
fn written_alias(
    name: &str,
    version: String,
    additional_version: Option<(String, f64)>,
    description: &str,
) -> ObservedAlias {
    ObservedAlias {
        name: name.to_owned(),
        version,
        additional_version,
        description: description.to_owned(),
        revision_id: None,
    }
}

fn version(reference: &VersionRef, context: &Context) -> Result<String, ExecuteError> {
    match reference {
        VersionRef::Existing(v) => Ok(v.clone()),
        VersionRef::Published => context.published.clone().ok_or_else(|| {
            ExecuteError::Failed("no version was published before this step".into())
        }),
    }
}

async fn arn<C: Cloud>(cloud: &C, context: &mut Context) -> Result<String, ExecuteError> {
    if let Some(arn) = &context.arn {
        return Ok(arn.clone());
    }
    let function = cloud
        .get_function(&context.name)
        .await?
        .ok_or_else(|| ExecuteError::Failed(format!("function {} does not exist", context.name)))?;
    context.arn = Some(function.arn.clone());
    Ok(function.arn)
}

async fn perform<C: Cloud>(
    cloud: &C,
    action: &Action,
    context: &mut Context,
    options: &ExecuteOptions,
    progress: &dyn ProgressSink,
) -> Result<(), ExecuteError> {
    let name = context.name.clone();
    let name = name.as_str();
    match action {
        Action::CreateFunction {
            config,
            architecture,
            code,
            tags,
        } => {
            match cloud
                .create_function(name, config, *architecture, code, tags)
                .await
            {
                // Ours when it carries the ownership tags this create sets: the answer to an
                // earlier attempt was lost. Anyone else's function still fails the create.
                Err(error) if already_exists(&error) => {
                    let found = cloud.get_function(name).await?;
                    let claimed = |key: &str| tags.get(key).map(String::as_str);
                    let ours = found.is_some_and(|f| {
                        f.tag(tags::MANAGED_BY) == claimed(tags::MANAGED_BY)
                            && f.tag(tags::OWNER) == claimed(tags::OWNER)
                    });
                    if !ours {
                        return Err(error.into());
                    }
                }
                other => other?,
            }
            wait_settled(
                cloud,
                context,
                options,
                progress,
                "the new function to become Active",
            )
            .await?;
        }
        Action::UpdateConfiguration { config, .. } => {
            with_conflict_retry(cloud, context, options, progress, || {
                cloud.update_configuration(name, config)
            })
            .await?;
            wait_settled(
                cloud,
                context,
                options,
                progress,
                "the configuration update to finish",
            )
            .await?;
        }
        Action::UpdateCode {
            code, architecture, ..
        } => {
            let sha = with_conflict_retry(cloud, context, options, progress, || {
                cloud.update_code(name, code, *architecture)
            })
            .await?;
            context.code_sha256 = Some(sha);
            wait_settled(
                cloud,
                context,
                options,
                progress,
                "the code update to finish",
            )
            .await?;
        }
        Action::PublishVersion {
            release_digest,
            expected_sha256,
        } => {
            let description = format!("{VERSION_DESCRIPTION_PREFIX}{release_digest}");
            let expected = expected_sha256.as_deref();
            let published = with_conflict_retry(cloud, context, options, progress, || {
                cloud.publish_version(name, &description, expected)
            })
            .await?;
            context.code_sha256 = Some(published.code_sha256.clone());
            context.published = Some(published.version);
        }
        Action::CreateAlias {
            name: alias,
            version: v,
            description,
        } => {
            let v = version(v, context)?;
            match cloud.create_alias(name, alias, &v, description).await {
                // Created by an attempt whose answer was lost (or just now by someone
                // else): shepherd owns the alias, so point it where this create would.
                Err(error) if already_exists(&error) => {
                    cloud
                        .update_alias(name, alias, &v, None, description)
                        .await?;
                }
                other => other?,
            }
            context
                .aliases
                .push(written_alias(alias, v, None, description));
        }
        Action::UpdateAlias {
            name: alias,
            version: v,
            additional,
            description,
            record,
            ..
        } => {
            let v = version(v, context)?;
            let extra = match additional {
                Some((extra, weight)) => Some((version(extra, context)?, *weight)),
                None => None,
            };
            if let Some((canary, _)) = &extra
                && *canary == v
            {
                // Publishing found (or an endpoint reused) the stable version's number: a
                // canary of the stable version itself would test nothing, and Lambda
                // refuses such routing anyway.
                return Err(ExecuteError::Failed(format!(
                    "not starting a canary: the new version {canary} is the stable version itself (the published code and configuration may equal what serves, or the endpoint reused a version number)"
                )));
            }
            let extra = extra.as_ref().map(|(e, w)| (e.as_str(), *w));
            let description = match record {
                Some(template) => rollout_record(template, context)?.to_description(),
                None => description.clone(),
            };
            cloud
                .update_alias(name, alias, &v, extra, &description)
                .await?;
            let extra = extra.map(|(e, w)| (e.to_owned(), w));
            context
                .aliases
                .push(written_alias(alias, v, extra, &description));
        }
        Action::PutReservedConcurrency { count } => {
            cloud.put_reserved_concurrency(name, Some(*count)).await?
        }
        Action::DeleteReservedConcurrency => {
            gone(cloud.put_reserved_concurrency(name, None).await)?
        }
        Action::PutProvisionedConcurrency { qualifier, count } => {
            let qualifier = match qualifier {
                Qualifier::Alias(alias) => alias.clone(),
                Qualifier::Version(v) => version(v, context)?,
            };
            cloud
                .put_provisioned_concurrency(name, &qualifier, *count)
                .await?;
            wait_provisioned(cloud, name, &qualifier, options, progress).await?;
        }
        Action::DeleteProvisionedConcurrency { qualifier } => {
            gone(cloud.delete_provisioned_concurrency(name, qualifier).await)?;
        }
        Action::PutAsyncConfig { qualifier, config } => {
            cloud
                .put_async_config(name, qualifier.as_deref(), Some(config))
                .await?;
        }
        Action::DeleteAsyncConfig { qualifier } => gone(
            cloud
                .put_async_config(name, qualifier.as_deref(), None)
                .await,
        )?,
        Action::PutRecursiveLoop { mode } => cloud.put_recursive_loop(name, *mode).await?,
        Action::CreateMapping { qualifier, config } => {
            match cloud
                .create_mapping(name, qualifier.as_deref(), config)
                .await
            {
                // Lambda allows one mapping per queue and function ARN: the one that exists
                // is the one an attempt whose answer was lost created.
                Err(error) if already_exists(&error) => {}
                other => {
                    other?;
                }
            }
        }
        Action::UpdateMapping {
            uuid,
            qualifier,
            config,
            ..
        } => {
            cloud
                .update_mapping(uuid, name, qualifier.as_deref(), config)
                .await?;
        }
        Action::DeleteMapping { uuid, .. } => gone(cloud.delete_mapping(uuid).await)?,
        Action::PutAlarm { alarm } => cloud.put_alarm(alarm).await?,
        Action::DeleteAlarms { names } => cloud.delete_alarms(names).await?,
        Action::DeleteVersion { version } => gone(cloud.delete_version(name, version).await)?,
        Action::Tag {
            set,
            remove,
            release,
        } => {
            let arn = arn(cloud, context).await?;
            if !remove.is_empty() {
                cloud.untag_function(&arn, remove).await?;
            }
            let mut set = set.clone();
            if let (Some(digest), Some(published)) = (release, &context.published) {
                let release = ReleaseTag {
                    version: published.clone(),
                    digest: digest.clone(),
                };
                set.insert(tags::RELEASE.to_owned(), release.to_string());
            }
            if let Some(kept) = &context.kept {
                set.insert(tags::CONFIG_KEPT.to_owned(), kept.clone());
            }
            // The planner cannot know the `CodeSha256` of S3 or image code: record what
            // Lambda reported for the deploy.
            if let Some(sha) = &context.code_sha256
                && let Some(value) = set.get_mut(tags::CODE)
                && let Some(mut code) = CodeTag::parse(value)
            {
                code.sha256 = Some(sha.clone());
                *value = code.to_string();
            }
            cloud.tag_function(&arn, &set).await?;
        }
        Action::DeleteFunction { owner } => {
            // The listing that planned this may be old: delete only what still carries
            // this owner's tags now.
            let Some(found) = cloud.get_function(name).await? else {
                return Ok(());
            };
            let owner = Owner::parse(owner).map_err(ExecuteError::Failed)?;
            if ownership(&found.tags, &owner) != Ownership::Ours {
                return Err(ExecuteError::Failed(format!(
                    "not deleted: {name} no longer carries {}={owner}",
                    tags::OWNER
                )));
            }
            gone(cloud.delete_function(name).await)?;
        }
    }
    Ok(())
}

/// The record to write, with version numbers resolved and the step starting now.
fn rollout_record(
    template: &RecordTemplate,
    context: &Context,
) -> Result<RolloutRecord, ExecuteError> {
    let now = unix_now();
    Ok(RolloutRecord {
        phase: template.phase,
        stable: version(&template.stable, context)?,
        canary: version(&template.canary, context)?,
        release: template.release.clone(),
        step: template.step,
        since: template.since.unwrap_or(now),
        started: template.started.unwrap_or(now),
        reason: template.reason.clone(),
    })
}

/// A delete that finds nothing to delete has done its job: after a lost response, the
/// retry of a delete that went through must not fail the run.
fn gone(result: Result<(), CloudError>) -> Result<(), CloudError> {
    match result {
        Err(CloudError::NotFound { .. }) => Ok(()),
        other => other,
    }
}

/// Whether a create failed because what it creates exists: after a lost response, the
/// retry of a create that went through meets its own result. Lambda answers
/// `ResourceConflictException` ("... already exist(s)"), which the AWS adapter maps to
/// `Conflict` and the fake to `Rejected`.
fn already_exists(error: &CloudError) -> bool {
    match error {
        CloudError::Conflict { message, .. } => message.contains("already exist"),
        CloudError::Rejected { code, message, .. } => {
            code == "ResourceConflictException" && message.contains("already exist")
        }
        _ => false,
    }
}

/// Runs an update, and when Lambda answers that another update is in progress, waits for
/// the function to settle and tries again.
async fn with_conflict_retry<C, T, F, Fut>(
    cloud: &C,
    context: &mut Context,
    options: &ExecuteOptions,
    progress: &dyn ProgressSink,
    mut call: F,
) -> Result<T, ExecuteError>
where
    C: Cloud,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, CloudError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Err(CloudError::Conflict { .. }) if attempt < options.conflict_retries => {
                attempt += 1;
                wait_settled(
                    cloud,
                    context,
                    options,
                    progress,
                    "another update to finish",
                )
                .await?;
            }
            other => return Ok(other?),
        }
    }
}

/// Polls until the function is neither Pending nor updating.
async fn wait_settled<C: Cloud>(
    cloud: &C,
    context: &mut Context,
    options: &ExecuteOptions,
    progress: &dyn ProgressSink,
    what: &str,
) -> Result<(), ExecuteError> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let function = cloud.get_function(&context.name).await?.ok_or_else(|| {
            ExecuteError::Failed(format!("function {} disappeared", context.name))
        })?;
        context.arn = Some(function.arn.clone());
        if function.state == FunctionState::Failed {
            return Err(ExecuteError::Failed(format!(
                "the function is in state Failed: {}",
                function.last_update_reason.unwrap_or_default()
            )));
        }
        if function.last_update == LastUpdateStatus::Failed {
            return Err(ExecuteError::Failed(format!(
                "the update failed: {}",
                function.last_update_reason.unwrap_or_default()
            )));
        }
        if function.is_settled() {
            context.kept = Some(kept_digest(&function.config, function.architecture));
            return Ok(());
        }
        if started.elapsed() >= options.settle_timeout {
            return Err(ExecuteError::Timeout(
                options.settle_timeout,
                what.to_owned(),
            ));
        }
        progress.report(Progress::Waiting {
            function: &context.name,
            what,
        });
        tokio::time::sleep(delay).await;
        delay = (delay * 3 / 2).min(Duration::from_secs(5));
    }
}

/// Polls provisioned concurrency until READY; FAILED ends with its reason.
async fn wait_provisioned<C: Cloud>(
    cloud: &C,
    name: &str,
    qualifier: &str,
    options: &ExecuteOptions,
    progress: &dyn ProgressSink,
) -> Result<(), ExecuteError> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_secs(2);
    let what = format!("provisioned concurrency of {qualifier} to be READY");
    loop {
        let config = cloud.get_provisioned_concurrency(name, qualifier).await?;
        match config.map(|c| c.status) {
            Some(ProvisionedStatus::Ready) => return Ok(()),
            Some(ProvisionedStatus::Failed(reason)) => {
                return Err(ExecuteError::Failed(format!(
                    "provisioned concurrency of {qualifier} FAILED: {reason}"
                )));
            }
            Some(ProvisionedStatus::InProgress) => {}
            None => {
                return Err(ExecuteError::Failed(format!(
                    "provisioned concurrency of {qualifier} vanished while allocating"
                )));
            }
        }
        if started.elapsed() >= options.provisioned_timeout {
            return Err(ExecuteError::Timeout(options.provisioned_timeout, what));
        }
        progress.report(Progress::Waiting {
            function: name,
            what: &what,
        });
        tokio::time::sleep(delay).await;
        delay = (delay * 3 / 2).min(Duration::from_secs(15));
    }
}
