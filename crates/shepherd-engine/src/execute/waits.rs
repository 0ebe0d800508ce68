//! What makes a write safe to send again: deletes that find nothing, creates that meet
//! their own earlier result, updates retried once the function settles, and the polls that
//! wait for it.

use super::*;

/// A delete that finds nothing to delete has done its job: after a lost response, the
/// retry of a delete that went through must not fail the run.
pub(super) fn gone(result: Result<(), CloudError>) -> Result<(), CloudError> {
    match result {
        Err(CloudError::NotFound { .. }) => Ok(()),
        other => other,
    }
}

/// Runs an update, and when Lambda answers that another update is in progress, waits for
/// the function to settle and tries again.
pub(super) async fn with_conflict_retry<C, T, F, Fut>(
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
pub(super) async fn wait_settled<C: Cloud>(
    cloud: &C,
    context: &mut Context,
    options: &ExecuteOptions,
    progress: &dyn ProgressSink,
    what: &str,
) -> Result<(), ExecuteError> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let function =
            cloud
                .get_function(&context.name)
                .await?
                .ok_or_else(|| ExecuteError::Disappeared {
                    function: context.name.clone(),
                })?;
        context.arn = Some(function.arn.clone());
        if function.state == FunctionState::Failed {
            return Err(ExecuteError::FunctionFailed {
                reason: function.last_update_reason.unwrap_or_default(),
            });
        }
        if function.last_update == LastUpdateStatus::Failed {
            return Err(ExecuteError::UpdateFailed {
                reason: function.last_update_reason.unwrap_or_default(),
            });
        }
        if function.is_settled() {
            context.kept = Some(kept_digest(&function.config, function.architecture));
            return Ok(());
        }
        if started.elapsed() >= options.settle_timeout {
            return Err(ExecuteError::Timeout {
                waited: options.settle_timeout,
                what: what.to_owned(),
            });
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
pub(super) async fn wait_provisioned<C: Cloud>(
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
                return Err(ExecuteError::ProvisionedFailed {
                    qualifier: qualifier.to_owned(),
                    reason,
                });
            }
            Some(ProvisionedStatus::InProgress) => {}
            None => {
                return Err(ExecuteError::ProvisionedVanished {
                    qualifier: qualifier.to_owned(),
                });
            }
        }
        if started.elapsed() >= options.provisioned_timeout {
            return Err(ExecuteError::Timeout {
                waited: options.provisioned_timeout,
                what,
            });
        }
        progress.report(Progress::Waiting {
            function: name,
            what: &what,
        });
        tokio::time::sleep(delay).await;
        delay = (delay * 3 / 2).min(Duration::from_secs(15));
    }
}
