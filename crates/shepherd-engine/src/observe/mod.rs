//! Reading the observed state, a function at a time, the shared reads batched.
//!
//! A function whose recorded spec digest matches its spec costs one `GetFunction`, plus
//! `ListAliases` when its spec has an alias: enough to find drift in its configuration,
//! code, tags, reserved concurrency and alias. Everything else (versions, async config,
//! provisioned concurrency, recursion, event source mappings, managed alarms) is read on a
//! full refresh, which is how drift in those is found, and when the digest differs, as far
//! as the changed sections of the spec can touch it (`reads`). Mappings and alarms are read in batches across functions
//! (`shared`), with no function waiting for the others: a function's observation, plan and
//! writes follow each other without a barrier across the fleet.

mod reads;
mod shared;

pub use reads::{PRUNE_EVERY, Reads};
pub use shared::Pass;

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use shepherd_core::cloud::{Cloud, CloudError, CloudResult};
use shepherd_core::model::{
    CanaryMetrics, CodeArtifact, CodeContent, DesiredFunction, Observation, ObservedAlias,
    ObservedFunction, Readable, ecr_repository, repository_of,
};
use shepherd_core::plan::{invokes, managed_alarm_names};
use shepherd_core::rollout::RolloutRecord;

use crate::clock::unix_now;

/// How much to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Refresh {
    /// Read what the recorded digests point to.
    #[default]
    Changed,
    /// Read every sub-resource of every function, to find drift anywhere.
    Full,
}

/// The observation, plus the functions whose state could not be read.
#[derive(Debug, Default)]
pub struct Observed {
    pub observation: Observation,
    pub errors: BTreeMap<String, CloudError>,
}

impl Observed {
    /// Adds one function's observation.
    pub fn absorb(&mut self, name: &str, one: ObservedOne) {
        match one {
            Ok(observation) => self.observation.absorb(observation),
            Err(error) => {
                self.errors.insert(name.to_owned(), error);
            }
        }
    }
}

/// One function's observation: the function (absent when it does not exist) and what its
/// plan needs of the shared state (alarms, queues, code content, metrics), or why it
/// could not be read.
pub type ObservedOne = CloudResult<Observation>;

/// Reads the state of every desired function, `concurrency` functions at a time, each on
/// its own (see [`observe_one`]).
pub async fn observe<C: Cloud>(
    cloud: &C,
    desired: &[DesiredFunction],
    refresh: Refresh,
    concurrency: usize,
) -> Observed {
    let pass = Pass::default();
    // Boxed so that the futures' type names no closure: a spawned caller (the controller)
    // needs them `Send` for every lifetime, which closure-typed futures cannot show.
    type Read<'a> = BoxFuture<'a, (&'a str, ObservedOne)>;
    let pass = &pass;
    let reads: Vec<Read<'_>> = desired
        .iter()
        .map(|d| {
            Box::pin(async move {
                let one = observe_one(cloud, d, refresh, pass, None).await;
                (d.name.as_str(), one)
            }) as BoxFuture<'_, _>
        })
        .collect();
    let results: Vec<(&str, ObservedOne)> = stream::iter(reads)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut observed = Observed::default();
    for (name, one) in results {
        observed.absorb(name, one);
    }
    observed
}

/// Reads one function and what its plan needs, sharing the pass's batched reads with the
/// functions observed beside it but waiting for none of them.
///
/// `known` is the function's aliases as the caller last read or wrote them. When each
/// carries its `RevisionId` and this pass prunes no versions, they stand in for
/// `ListAliases`: every alias write is conditioned on the revision it was planned from,
/// so a change made since by anyone else fails the write instead of being overwritten
/// (and the caller then reads again). What is deleted is never decided on them.
pub async fn observe_one<C: Cloud>(
    cloud: &C,
    desired: &DesiredFunction,
    refresh: Refresh,
    pass: &Pass,
    known: Option<&[ObservedAlias]>,
) -> ObservedOne {
    let mut observation = Observation::default();
    let function = observe_function(cloud, desired, refresh, known).await?;
    let exists = function.is_some();
    if let Some((mut function, reads)) = function {
        if reads.mappings {
            let all = pass.mappings(cloud).await?;
            let own = all
                .iter()
                .filter(|m| invokes(m, &function.arn))
                .cloned()
                .collect();
            function.mappings = Readable::Known(own);
        }
        // Its managed alarms when they may change, and its gating alarms while it rolls
        // out (or when other sub-resources are read anyway), in one batch with those of
        // the functions observed beside it. A rollout about to start needs none: an alarm
        // already firing does not hold it back, and the look after the start reads them.
        let gated = !desired.rollout_steps.is_empty()
            && (reads.any() || rollout_in_flight(desired, &function).is_some());
        let managed = if reads.alarms {
            managed_alarm_names(&desired.name).to_vec()
        } else {
            Vec::new()
        };
        let gating = if gated {
            desired.gating_alarms.clone()
        } else {
            Vec::new()
        };
        let names: Vec<String> = managed.iter().chain(&gating).cloned().collect();
        if !names.is_empty() {
            let found = pass.alarms(cloud, names).await?;
            if reads.alarms {
                let own = managed
                    .iter()
                    .filter_map(|n| found.get(n).map(|a| (n.clone(), a.clone())))
                    .collect();
                function.alarms = Readable::Known(own);
            }
            observation.alarms = found;
        }
        if reads.queues {
            read_queues(cloud, desired, pass, &mut observation).await;
        }
        observation.functions.insert(desired.name.clone(), function);
    }
    if !exists {
        read_queues(cloud, desired, pass, &mut observation).await;
    }
    read_code_content(cloud, desired, pass, &mut observation).await;
    // Taken after the reads: a decision never credits a pause with time not yet passed.
    observation.at = unix_now();
    read_canary_metrics(cloud, desired, &mut observation).await;
    Ok(observation)
}

/// The queues of the event sources that may be created or changed: those of functions
/// that do not exist yet or were read in full.
async fn read_queues<C: Cloud>(
    cloud: &C,
    desired: &DesiredFunction,
    pass: &Pass,
    observation: &mut Observation,
) {
    for mapping in &desired.mappings {
        let queue = mapping.queue_arn.as_str();
        if let Some(attributes) = pass.queue(cloud, queue).await {
            observation.queues.insert(queue.to_owned(), attributes);
        }
    }
}

/// What the function's mutable code reference names now, read once per reference and
/// pass whatever the number of functions sharing it: one `HeadObject` per S3 object,
/// `DescribeImages` in batches per image repository. Every pass reads them, since an
/// overwrite changes nothing that Lambda or the spec would show. A reference that cannot
/// be read is `Unresolved`: the planner then keeps the content recorded at the last
/// deploy and warns.
async fn read_code_content<C: Cloud>(
    cloud: &C,
    desired: &DesiredFunction,
    pass: &Pass,
    observation: &mut Observation,
) {
    let Some(key) = desired.code.content_key() else {
        return;
    };
    let content = match &desired.code {
        CodeArtifact::S3 { bucket, key, .. } => pass.object(cloud, bucket, key).await,
        CodeArtifact::Image { uri, .. } => {
            let repository = repository_of(uri);
            if ecr_repository(repository).is_none() {
                CodeContent::Unresolved("not an Amazon ECR repository".to_owned())
            } else {
                // An image without a tag means `latest`.
                let tag = uri[repository.len()..].trim_start_matches(':');
                let tag = if tag.is_empty() { "latest" } else { tag };
                pass.image(cloud, repository, tag).await
            }
        }
        _ => return,
    };
    observation.code_content.insert(key, content);
}

/// The canary's own metrics since its step began, for a rollout in flight with analysis.
async fn read_canary_metrics<C: Cloud>(
    cloud: &C,
    desired: &DesiredFunction,
    observation: &mut Observation,
) {
    let Some(analysis) = &desired.analysis else {
        return;
    };
    let Some(alias) = &desired.alias else { return };
    let function = observation.functions.get(&desired.name);
    let Some(record) = function.and_then(|f| rollout_in_flight(desired, f)) else {
        return;
    };
    let p99 = analysis.max_p99_ms.is_some();
    let window = (record.since, observation.at);
    let read = match cloud
        .get_version_metrics(&desired.name, &alias.name, &record.canary, window, p99)
        .await
    {
        Ok(metrics) => CanaryMetrics::Read(metrics),
        // A verdict of its own: retried at the next look, and never a reason to call the
        // canary healthy.
        Err(error) => {
            tracing::warn!(function = %desired.name, %error, "cannot read the canary's metrics");
            CanaryMetrics::Unavailable(error.summary())
        }
    };
    observation.metrics.insert(desired.name.clone(), read);
}

/// An API the endpoint lacks is recorded as such; other errors fail the observation.
fn readable<T>(result: CloudResult<T>) -> CloudResult<Readable<T>> {
    match result {
        Ok(value) => Ok(Readable::Known(value)),
        Err(CloudError::Unsupported { .. }) => Ok(Readable::Unsupported),
        Err(error) => Err(error),
    }
}

async fn observe_function<C: Cloud>(
    cloud: &C,
    desired: &DesiredFunction,
    refresh: Refresh,
    known: Option<&[ObservedAlias]>,
) -> CloudResult<Option<(ObservedFunction, Reads)>> {
    let Some(mut function) = cloud.get_function(&desired.name).await? else {
        return Ok(None);
    };
    let reads = Reads::of(desired, &function, refresh);
    let known = known.filter(|aliases| {
        let wanted = desired.alias.as_ref().map(|a| a.name.as_str());
        !reads.versions
            && !aliases.is_empty()
            && aliases.iter().all(|a| a.revision_id.is_some())
            && wanted.is_none_or(|w| aliases.iter().any(|a| a.name == w))
    });
    if let Some(known) = known {
        function.aliases = known.to_vec();
    } else if reads.any() || desired.alias.is_some() {
        function.aliases = cloud.list_aliases(&desired.name).await?;
    }
    if reads.versions {
        function.versions = readable(cloud.list_versions(&desired.name).await)?;
    }
    if reads.invocation {
        let qualifier = desired.invoke_qualifier();
        function.async_config = if qualifier.is_none_or(|q| function.alias(q).is_some()) {
            readable(cloud.get_async_config(&desired.name, qualifier).await)?
        } else {
            // The alias does not exist yet, so neither does a config on it.
            Readable::Known(None)
        };
        function.recursive_loop = readable(cloud.get_recursive_loop(&desired.name).await)?;
    }
    // A rollout in flight moves provisioned concurrency between versions as it goes.
    let moving = desired.provisioned_concurrency.is_some()
        && rollout_in_flight(desired, &function).is_some();
    if reads.provisioned || moving {
        function.provisioned = readable(cloud.list_provisioned_concurrency(&desired.name).await)?;
    }
    Ok(Some((function, reads)))
}

/// The record of the function's rollout, when one is in flight on its alias.
fn rollout_in_flight(
    desired: &DesiredFunction,
    function: &ObservedFunction,
) -> Option<RolloutRecord> {
    let alias = function.alias(&desired.alias.as_ref()?.name)?;
    alias.record().filter(|r| r.phase.in_flight())
}
