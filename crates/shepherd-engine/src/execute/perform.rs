//! One action of a plan, performed: the AWS calls it takes, the waits it needs, and what
//! it leaves for the later actions of the same function (the version published, the code
//! digest, the aliases written).

use super::*;
use crate::budget::{Lane, at_least};
use shepherd_core::rollout::Phase;

pub(super) async fn perform<C: Cloud>(
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
                Err(error @ CloudError::AlreadyExists { .. }) => {
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
            // A create's answer carries no revision: the next look reads the alias.
            let mut revision = None;
            match cloud.create_alias(name, alias, &v, description).await {
                // Created by an attempt whose answer was lost (or just now by someone
                // else): shepherd owns the alias, so point it where this create would.
                Err(CloudError::AlreadyExists { .. }) => {
                    revision = cloud
                        .update_alias(name, alias, &v, None, description, None)
                        .await?;
                }
                other => other?,
            }
            context
                .aliases
                .push(written_alias(alias, v, None, description, revision));
        }
        Action::UpdateAlias {
            name: alias,
            version: v,
            additional,
            description,
            record,
            revision,
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
                return Err(ExecuteError::CanaryIsStable {
                    version: canary.clone(),
                });
            }
            let extra = extra.as_ref().map(|(e, w)| (e.as_str(), *w));
            let description = match record {
                Some(template) => rollout_record(template, context)?.to_description(),
                None => description.clone(),
            };
            // A second write of the alias in the same plan (a superseded canary taken
            // back, then the new one) expects the revision the first one made.
            let expected = match context.aliases.iter().rev().find(|a| a.name == *alias) {
                Some(written) => written.revision_id.as_deref(),
                None => revision.as_deref(),
            };
            let write = cloud.update_alias(name, alias, &v, extra, &description, expected);
            // A rollback's alias write goes ahead of every other call waiting for the
            // budget, whatever the work that decided it.
            let back = record
                .as_ref()
                .is_some_and(|r| matches!(r.phase, Phase::RolledBack | Phase::Aborted));
            let revision = if back {
                at_least(Lane::Rollback, write).await?
            } else {
                write.await?
            };
            let extra = extra.map(|(e, w)| (e.to_owned(), w));
            context
                .aliases
                .push(written_alias(alias, v, extra, &description, revision));
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
                Err(CloudError::AlreadyExists { .. }) => {}
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
        // `execute_one` runs the hook and performs, in its place, the write its verdict
        // picks.
        Action::RunHook { .. } | Action::SendTraffic { .. } => {}
        Action::DeleteFunction { owner } => {
            // The listing that planned this may be old: delete only what still carries
            // this owner's tags now.
            let Some(found) = cloud.get_function(name).await? else {
                return Ok(());
            };
            let owner = Owner::parse(owner).map_err(ExecuteError::InvalidOwner)?;
            if ownership(&found.tags, &owner) != Ownership::Ours {
                return Err(ExecuteError::NoLongerOurs {
                    function: name.to_owned(),
                    owner: owner.to_string(),
                });
            }
            gone(cloud.delete_function(name).await)?;
        }
    }
    Ok(())
}

/// The record to write, with version numbers resolved and the step starting now.
pub(super) fn rollout_record(
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
        hook: template.hook.map(|mut cursor| {
            if let Some(secs) = template.pending_for {
                cursor.pending_until = Some(now.saturating_add(secs));
            }
            cursor
        }),
        traffic_sent: template.traffic_sent,
        reason: template.reason.clone(),
    })
}
