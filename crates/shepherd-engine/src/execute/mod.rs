//! The executor: performs each function's plan in order, one change in flight per
//! function and a bounded number of functions at once. Waits are polls with backoff, so a
//! function that takes minutes to settle costs a few reads, not a busy loop.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use serde::Serialize;
use shepherd_core::cloud::{Cloud, CloudError};
use shepherd_core::model::{
    CodeTag, FunctionState, LastUpdateStatus, ObservedAlias, Owner, Ownership, ProvisionedStatus,
    ReleaseTag, kept_digest, ownership, tags,
};
use shepherd_core::plan::{
    Action, FunctionPlan, Next, Qualifier, RecordTemplate, Refusal, VERSION_DESCRIPTION_PREFIX,
    VersionRef,
};
use shepherd_core::rollout::RolloutRecord;
use tracing::Instrument;

use crate::clock::unix_now;
use crate::progress::{Progress, ProgressSink};

mod error;
pub(crate) mod hooks;
mod perform;
mod traffic;
mod waits;

pub use error::ExecuteError;
pub use hooks::{HookSettings, Verdict, callback_token};

use perform::perform;
use waits::{gone, wait_provisioned, wait_settled, with_conflict_retry};

/// Knobs of the executor.
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// Functions worked on at once.
    pub concurrency: usize,
    /// Longest wait for a function update to finish.
    pub settle_timeout: Duration,
    /// Longest wait for provisioned concurrency to become READY.
    pub provisioned_timeout: Duration,
    /// Retries of an update that met `ResourceConflictException`.
    pub conflict_retries: u32,
    /// What rollout hooks are run with.
    pub hooks: Arc<HookSettings>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        Self {
            concurrency: 16,
            settle_timeout: Duration::from_secs(300),
            provisioned_timeout: Duration::from_secs(1800),
            conflict_retries: 5,
            hooks: Arc::default(),
        }
    }
}

/// How one function's plan ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "camelCase")]
pub enum Outcome {
    Unchanged,
    Applied,
    /// Not planned, so nothing was done (shown as its message).
    Refused {
        #[serde(serialize_with = "as_text")]
        reason: Refusal,
    },
    /// `error` in full, for the person running the command and the logs; `summary`
    /// without AWS's own messages, for the controller's status API.
    Failed {
        error: String,
        summary: String,
    },
}

fn as_text<S: serde::Serializer>(value: &Refusal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

impl Outcome {
    /// The error in full, when it failed.
    pub fn error(&self) -> Option<&str> {
        match self {
            Outcome::Failed { error, .. } => Some(error),
            _ => None,
        }
    }

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
    /// Why the failed action failed, typed (the outcome says it in words).
    #[serde(skip)]
    pub failure: Option<ExecuteError>,
}

impl FunctionReport {
    /// A function that failed before it could be planned (its code could not be packaged,
    /// its state not read): nothing was done. `cause` is the AWS error, when one was.
    pub fn failed_before(name: String, error: String, cause: Option<CloudError>) -> Self {
        FunctionReport {
            outcome: Outcome::Failed {
                summary: cause
                    .as_ref()
                    .map_or_else(|| error.clone(), CloudError::summary),
                error,
            },
            name,
            done: Vec::new(),
            skipped: Vec::new(),
            drift_corrected: false,
            aliases_written: Vec::new(),
            failure: cause.map(ExecuteError::Cloud),
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
            Box::pin(
                async move { execute_one(cloud, &plan, options, progress).await }.instrument(span),
            ) as futures::future::BoxFuture<'_, FunctionReport>
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

/// Performs one function's plan.
pub(crate) async fn execute_one<C: Cloud>(
    cloud: &C,
    plan: &FunctionPlan,
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
        failure: None,
    };
    if let Next::Refused(reason) = &plan.next {
        report.outcome = Outcome::Refused {
            reason: reason.clone(),
        };
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
        // A hook or a batch of synthetic traffic runs, then its verdict's alias write is
        // performed in its place.
        let ran = match action {
            Action::RunHook {
                call,
                pass,
                pending,
                fail,
            } => Some(hooks::run(cloud, call, [pass, pending, fail], &mut context, options).await),
            Action::SendTraffic { call, pass, fail } => {
                Some(traffic::send(cloud, call, [pass, fail], &context).await)
            }
            _ => None,
        };
        let ran_hook = ran.is_some();
        let result = match ran {
            Some(Ok(write)) => {
                report.done.push(action.to_string());
                let written = perform(cloud, &write, &mut context, options, progress).await;
                if written.is_ok() {
                    report.done.push(write.to_string());
                }
                written
            }
            Some(Err(error)) => Err(error),
            None => perform(cloud, action, &mut context, options, progress).await,
        };
        match result {
            Ok(()) if ran_hook => {}
            Ok(()) => report.done.push(action.to_string()),
            Err(ExecuteError::Cloud(CloudError::Unsupported { api })) => {
                tracing::info!(%api, "skipped: the endpoint does not implement it");
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
                report.failure = Some(error);
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
    revision_id: Option<String>,
) -> ObservedAlias {
    ObservedAlias {
        name: name.to_owned(),
        version,
        additional_version,
        description: description.to_owned(),
        revision_id,
    }
}

fn version(reference: &VersionRef, context: &Context) -> Result<String, ExecuteError> {
    match reference {
        VersionRef::Existing(v) => Ok(v.clone()),
        VersionRef::Published => context
            .published
            .clone()
            .ok_or(ExecuteError::NothingPublished),
    }
}

async fn arn<C: Cloud>(cloud: &C, context: &mut Context) -> Result<String, ExecuteError> {
    if let Some(arn) = &context.arn {
        return Ok(arn.clone());
    }
    let function =
        cloud
            .get_function(&context.name)
            .await?
            .ok_or_else(|| ExecuteError::Missing {
                function: context.name.clone(),
            })?;
    context.arn = Some(function.arn.clone());
    Ok(function.arn)
}
