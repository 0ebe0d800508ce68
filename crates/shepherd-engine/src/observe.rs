//! Reading the observed state, batched and bounded.
//!
//! A function whose recorded spec digest matches its spec costs one `GetFunction`, plus
//! `ListAliases` when its spec has an alias: enough to find drift in its configuration,
//! code, tags, reserved concurrency and alias. Everything else (versions, async config,
//! provisioned concurrency, recursion, event source mappings, managed alarms) is read when
//! the digest differs (something will be applied) or on a full refresh, which is how
//! drift in those is found. Mappings and alarms are read in batches across functions.

use std::collections::{BTreeMap, BTreeSet};

use futures::future::BoxFuture;
use futures::stream::{self, StreamExt};
use shepherd_core::cloud::{Cloud, CloudError, CloudResult};
use shepherd_core::model::{
    CanaryMetrics, CodeArtifact, CodeContent, DesiredFunction, Observation, ObservedFunction,
    Readable, ecr_repository, repository_of, tags,
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

/// Reads the state of every desired function, `concurrency` functions at a time.
pub async fn observe<C: Cloud>(
    cloud: &C,
    desired: &[DesiredFunction],
    refresh: Refresh,
    concurrency: usize,
) -> Observed {
    let mut observed = Observed::default();
    // Boxed so that the futures' type names no closure: a spawned caller (the controller)
    // needs them `Send` for every lifetime, which closure-typed futures cannot show.
    type Read<'a> = BoxFuture<'a, (String, CloudResult<Option<ObservedFunction>>)>;
    let reads: Vec<Read<'_>> = desired
        .iter()
        .map(|d| {
            Box::pin(async move { (d.name.clone(), observe_function(cloud, d, refresh).await) })
                as BoxFuture<'_, _>
        })
        .collect();
    let results: Vec<(String, CloudResult<Option<ObservedFunction>>)> = stream::iter(reads)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let mut deep = BTreeSet::new();
    for (name, result) in results {
        match result {
            Ok(Some(function)) => {
                if function.versions != Readable::NotRead {
                    deep.insert(name.clone());
                }
                observed.observation.functions.insert(name, function);
            }
            Ok(None) => {}
            Err(error) => {
                observed.errors.insert(name, error);
            }
        }
    }
    if !deep.is_empty()
        && let Err(error) = read_mappings(cloud, &deep, &mut observed.observation).await
    {
        fail(&mut observed, &deep, &error);
    }
    // The managed alarms of the functions read in full and the gating alarms of the
    // rollouts, in one list: a function both managed and gated costs one DescribeAlarms
    // batch, not two.
    let gated = rolling_out(desired, &observed.observation, &deep);
    if let Err(error) = read_alarms(cloud, desired, &deep, &gated, &mut observed.observation).await
    {
        let failed: BTreeSet<String> = deep.union(&gated).cloned().collect();
        fail(&mut observed, &failed, &error);
    }
    read_queues(cloud, desired, &deep, &mut observed).await;
    read_code_content(cloud, desired, concurrency, &mut observed).await;
    // Taken after the reads: a decision never credits a pause with time not yet passed.
    observed.observation.at = unix_now();
    read_canary_metrics(cloud, desired, &mut observed).await;
    observed
}

/// The queues of the event sources that may be created or changed: those of functions
/// that do not exist yet or were read in full. A queue that cannot be read is left out
/// (its checks are skipped, and Lambda still refuses a mapping it cannot accept).
async fn read_queues<C: Cloud>(
    cloud: &C,
    desired: &[DesiredFunction],
    deep: &BTreeSet<String>,
    observed: &mut Observed,
) {
    let observation = &mut observed.observation;
    let errors = &observed.errors;
    let queues: BTreeSet<&str> = desired
        .iter()
        .filter(|d| !errors.contains_key(&d.name))
        .filter(|d| deep.contains(&d.name) || !observation.functions.contains_key(&d.name))
        .flat_map(|d| d.mappings.iter().map(|m| m.queue_arn.as_str()))
        .collect();
    for queue in queues {
        match cloud.get_queue_attributes(queue).await {
            Ok(Some(attributes)) => {
                observation.queues.insert(queue.to_owned(), attributes);
            }
            Ok(None) => tracing::warn!(queue, "the event source's queue does not exist"),
            Err(error) => tracing::warn!(queue, %error, "cannot read the queue's attributes"),
        }
    }
}

/// What each mutable code reference names now, read once per reference whatever the
/// number of functions sharing it: one `HeadObject` per S3 object, one `DescribeImages`
/// per image repository. Every pass reads them, since an overwrite changes nothing that
/// Lambda or the spec would show. A reference that cannot be read is `Unresolved`: the
/// planner then keeps the content recorded at the last deploy and warns.
async fn read_code_content<C: Cloud>(
    cloud: &C,
    desired: &[DesiredFunction],
    concurrency: usize,
    observed: &mut Observed,
) {
    let observation = &mut observed.observation;
    let mut objects = BTreeSet::new();
    // Repository -> tag -> the reference's key (an image without a tag means `latest`).
    let mut images: BTreeMap<&str, BTreeMap<String, String>> = BTreeMap::new();
    // Functions that could not be read are not planned: their code is not read either.
    for d in desired
        .iter()
        .filter(|d| !observed.errors.contains_key(&d.name))
    {
        match &d.code {
            CodeArtifact::S3 { bucket, key, .. } if d.code.content_key().is_some() => {
                objects.insert((bucket.as_str(), key.as_str()));
            }
            CodeArtifact::Image { uri, .. } if d.code.content_key().is_some() => {
                let repository = repository_of(uri);
                if ecr_repository(repository).is_none() {
                    observation.code_content.insert(
                        uri.clone(),
                        CodeContent::Unresolved("not an Amazon ECR repository".to_owned()),
                    );
                    continue;
                }
                let tag = uri[repository.len()..].trim_start_matches(':');
                let tag = if tag.is_empty() { "latest" } else { tag };
                images
                    .entry(repository)
                    .or_default()
                    .insert(tag.to_owned(), uri.clone());
            }
            _ => {}
        }
    }
    // Boxed for the same reason as in `observe`: a spawned caller needs them `Send`.
    type Head<'a> = BoxFuture<'a, (String, CodeContent)>;
    let heads: Vec<Head<'_>> = objects
        .into_iter()
        .map(|(bucket, key)| {
            Box::pin(async move {
                (
                    format!("s3://{bucket}/{key}"),
                    head(cloud, bucket, key).await,
                )
            }) as BoxFuture<'_, _>
        })
        .collect();
    let heads: Vec<(String, CodeContent)> = stream::iter(heads)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    observation.code_content.extend(heads);
    for (repository, tags) in images {
        let keys: Vec<(String, String)> = tags.into_iter().collect();
        // DescribeImages names at most 100 image ids a call.
        for chunk in keys.chunks(100) {
            let tags: Vec<String> = chunk.iter().map(|(tag, _)| tag.clone()).collect();
            let digests = cloud.image_digests(repository, &tags).await;
            if let Err(error) = &digests {
                tracing::warn!(repository, %error, "cannot read the code's image digests");
            }
            for (tag, key) in chunk {
                let read = match &digests {
                    Ok(found) => match found.get(tag) {
                        Some(digest) => CodeContent::Image {
                            digest: digest.clone(),
                        },
                        None => CodeContent::Unresolved(format!("no image tagged {tag}")),
                    },
                    Err(error) => CodeContent::Unresolved(error.summary()),
                };
                observation.code_content.insert(key.clone(), read);
            }
        }
    }
}

/// What an S3 code object is now.
async fn head<C: Cloud>(cloud: &C, bucket: &str, key: &str) -> CodeContent {
    match cloud.head_object(bucket, key).await {
        Ok(Some(head)) => CodeContent::S3Object {
            etag: head.etag,
            version_id: head.version_id,
        },
        Ok(None) => CodeContent::Unresolved("no such object".to_owned()),
        Err(error) => {
            tracing::warn!(bucket, key, %error, "cannot read the code's S3 object");
            CodeContent::Unresolved(error.summary())
        }
    }
}

/// The canary's own metrics since its step began, for rollouts in flight with analysis.
async fn read_canary_metrics<C: Cloud>(
    cloud: &C,
    desired: &[DesiredFunction],
    observed: &mut Observed,
) {
    let now = observed.observation.at;
    for d in desired.iter().filter(|d| d.analysis.is_some()) {
        let Some(alias) = &d.alias else { continue };
        let function = observed.observation.functions.get(&d.name);
        let Some(record) = function.and_then(|f| rollout_in_flight(d, f)) else {
            continue;
        };
        let p99 = d.analysis.as_ref().is_some_and(|a| a.max_p99_ms.is_some());
        let window = (record.since, now);
        let read = match cloud
            .get_version_metrics(&d.name, &alias.name, &record.canary, window, p99)
            .await
        {
            Ok(metrics) => CanaryMetrics::Read(metrics),
            // A verdict of its own: retried at the next look, and never a reason to call
            // the canary healthy.
            Err(error) => {
                tracing::warn!(function = %d.name, %error, "cannot read the canary's metrics");
                CanaryMetrics::Unavailable(error.summary())
            }
        };
        observed.observation.metrics.insert(d.name.clone(), read);
    }
}

/// Functions whose rollout is in flight or may start now: their gating alarms matter.
fn rolling_out(
    desired: &[DesiredFunction],
    observation: &Observation,
    deep: &BTreeSet<String>,
) -> BTreeSet<String> {
    desired
        .iter()
        .filter(|d| !d.rollout_steps.is_empty())
        .filter(|d| {
            let Some(function) = observation.functions.get(&d.name) else {
                return false;
            };
            rollout_in_flight(d, function).is_some() || deep.contains(&d.name)
        })
        .map(|d| d.name.clone())
        .collect()
}

/// The candidate managed alarms of the functions read in full (`deep`), and the gating
/// alarms of rolling-out functions (`gated`): one list, at most 100 names per call. Each
/// deep function learns which of its managed alarms exist.
async fn read_alarms<C: Cloud>(
    cloud: &C,
    desired: &[DesiredFunction],
    deep: &BTreeSet<String>,
    gated: &BTreeSet<String>,
    observation: &mut Observation,
) -> CloudResult<()> {
    let mut names: Vec<String> = deep
        .iter()
        .flat_map(|n| managed_alarm_names(n))
        .chain(
            desired
                .iter()
                .filter(|d| gated.contains(&d.name))
                .flat_map(|d| d.gating_alarms.iter().cloned()),
        )
        .collect();
    names.sort();
    names.dedup();
    let mut found = BTreeMap::new();
    for chunk in names.chunks(100) {
        for alarm in cloud.describe_alarms(chunk).await? {
            found.insert(alarm.definition.name.clone(), alarm);
        }
    }
    for name in deep {
        if let Some(function) = observation.functions.get_mut(name) {
            let own: BTreeMap<_, _> = managed_alarm_names(name)
                .into_iter()
                .filter_map(|n| found.get(&n).map(|a| (n, a.clone())))
                .collect();
            function.alarms = Readable::Known(own);
        }
    }
    observation.alarms.extend(found);
    Ok(())
}

fn fail(observed: &mut Observed, names: &BTreeSet<String>, error: &CloudError) {
    for name in names {
        observed.observation.functions.remove(name);
        observed
            .errors
            .entry(name.clone())
            .or_insert_with(|| error.clone());
    }
}

async fn read_mappings<C: Cloud>(
    cloud: &C,
    deep: &BTreeSet<String>,
    observation: &mut Observation,
) -> CloudResult<()> {
    // The account-wide list (one call per 100 mappings) finds a function's mappings on
    // every qualifier; a filtered list would only find those on the name it was given.
    let all = cloud.list_mappings(None).await?;
    for name in deep {
        if let Some(function) = observation.functions.get_mut(name) {
            let arn = function.arn.clone();
            let own = all.iter().filter(|m| invokes(m, &arn)).cloned().collect();
            function.mappings = Readable::Known(own);
        }
    }
    Ok(())
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
) -> CloudResult<Option<ObservedFunction>> {
    let Some(mut function) = cloud.get_function(&desired.name).await? else {
        return Ok(None);
    };
    let deep = refresh == Refresh::Full
        || function.tag(tags::SPEC_DIGEST) != Some(desired.spec_digest.as_str());
    if deep || desired.alias.is_some() {
        function.aliases = cloud.list_aliases(&desired.name).await?;
    }
    if !deep {
        // A rollout in flight moves provisioned concurrency between versions as it goes.
        if rollout_in_flight(desired, &function).is_some()
            && desired.provisioned_concurrency.is_some()
        {
            function.provisioned =
                readable(cloud.list_provisioned_concurrency(&desired.name).await)?;
        }
        return Ok(Some(function));
    }
    function.versions = readable(cloud.list_versions(&desired.name).await)?;
    let qualifier = desired.invoke_qualifier();
    function.async_config = if qualifier.is_none_or(|q| function.alias(q).is_some()) {
        readable(cloud.get_async_config(&desired.name, qualifier).await)?
    } else {
        // The alias does not exist yet, so neither does a config on it.
        Readable::Known(None)
    };
    function.provisioned = readable(cloud.list_provisioned_concurrency(&desired.name).await)?;
    function.recursive_loop = readable(cloud.get_recursive_loop(&desired.name).await)?;
    Ok(Some(function))
}

/// The record of the function's rollout, when one is in flight on its alias.
fn rollout_in_flight(
    desired: &DesiredFunction,
    function: &ObservedFunction,
) -> Option<RolloutRecord> {
    let alias = function.alias(&desired.alias.as_ref()?.name)?;
    alias.record().filter(|r| r.phase.in_flight())
}
