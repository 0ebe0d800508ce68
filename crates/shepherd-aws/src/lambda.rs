//! The Lambda calls. Each function makes one API call (a `List*` makes one call per page),
//! so that shepherd's call budget sees every request; the exception is
//! [`list_managed_functions`], documented there.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::timeout::TimeoutConfig;
use aws_sdk_lambda::types as lt;
use shepherd_core::cloud::{CloudError, CloudResult};
use shepherd_core::model::{
    AsyncConfig, CodeArtifact, FunctionConfig, ManagedFunction, MappingConfig, ObservedAlias,
    ObservedFunction, ObservedMapping, ObservedVersion, Package, ProvisionedConcurrency, Readable,
    tags,
};
use shepherd_core::spec::{Architecture, RecursiveLoop};

use crate::CONNECT_TIMEOUT;
use crate::convert::{self, to_i32, to_u32};
use crate::error::{from_sdk, incomplete, invalid_request};

/// The attempt timeout of calls that upload a zip inline (up to 50 MB): the default one
/// is sized for control-plane calls with small bodies.
const UPLOAD_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(300);

/// Turns "does not exist" into `None`, for reads of optional resources.
fn absent_as_none<T>(result: CloudResult<T>) -> CloudResult<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(CloudError::NotFound { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// Code that could not be packaged is never sent: not even an empty request goes out.
fn require_code(api: &'static str, code: &CodeArtifact) -> CloudResult<()> {
    match code.unavailable() {
        Some(reason) => Err(CloudError::Rejected {
            api,
            code: "NoCode".to_owned(),
            message: reason.to_owned(),
        }),
        None => Ok(()),
    }
}

/// Per-call timeouts for a call carrying `code`: longer when it carries a zip inline.
fn upload_timeouts(code: &CodeArtifact) -> Option<aws_sdk_lambda::config::Builder> {
    matches!(code, CodeArtifact::Zip { .. }).then(|| {
        aws_sdk_lambda::config::Builder::default().timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_attempt_timeout(UPLOAD_ATTEMPT_TIMEOUT)
                .build(),
        )
    })
}

/// `GetFunction`: configuration, code digest, state, tags and reserved concurrency.
pub(crate) async fn get_function(
    client: &Client,
    name: &str,
) -> CloudResult<Option<ObservedFunction>> {
    const API: &str = "GetFunction";
    let Some(out) = absent_as_none(
        client
            .get_function()
            .function_name(name)
            .send()
            .await
            .map_err(from_sdk(API)),
    )?
    else {
        return Ok(None);
    };
    // Without permission to list tags, GetFunction still succeeds and says so here. The
    // tags mark what shepherd manages: guessing "no tags" could disown a function.
    if let Some(tags_error) = out.tags_error() {
        return Err(CloudError::Rejected {
            api: API,
            code: tags_error.error_code().to_owned(),
            message: tags_error.message().to_owned(),
        });
    }
    let cfg = out
        .configuration()
        .ok_or_else(|| incomplete(API, "Configuration"))?;
    let state = convert::function_state(cfg.state());
    let last_update = convert::last_update_status(cfg.last_update_status());
    // The reason of a failed update, or of a failed creation (which Lambda reports as the
    // state's reason instead).
    let last_update_reason = cfg
        .last_update_status_reason()
        .filter(|r| !r.is_empty())
        .or(cfg.state_reason().filter(|r| !r.is_empty()))
        .map(str::to_owned);
    Ok(Some(ObservedFunction {
        name: cfg.function_name().unwrap_or(name).to_owned(),
        arn: cfg.function_arn().unwrap_or_default().to_owned(),
        config: convert::function_config(cfg),
        architecture: convert::architecture(cfg),
        state,
        last_update,
        last_update_reason,
        code_sha256: cfg.code_sha256().unwrap_or_default().to_owned(),
        tags: out
            .tags()
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        reserved_concurrency: out
            .concurrency()
            .and_then(|c| c.reserved_concurrent_executions())
            .map(to_u32),
        aliases: Vec::new(),
        versions: Readable::NotRead,
        async_config: Readable::NotRead,
        provisioned: Readable::NotRead,
        recursive_loop: Readable::NotRead,
        mappings: Readable::NotRead,
        alarms: Readable::NotRead,
    }))
}

/// `ListVersionsByFunction`, one call per page; `$LATEST` is left out.
pub(crate) async fn list_versions(
    client: &Client,
    name: &str,
) -> CloudResult<Vec<ObservedVersion>> {
    let mut pages = client
        .list_versions_by_function()
        .function_name(name)
        .into_paginator()
        .send();
    let mut versions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(from_sdk("ListVersionsByFunction"))?;
        versions.extend(page.versions().iter().filter_map(convert::version));
    }
    Ok(versions)
}

/// `ListAliases`, one call per page.
pub(crate) async fn list_aliases(client: &Client, name: &str) -> CloudResult<Vec<ObservedAlias>> {
    let mut pages = client
        .list_aliases()
        .function_name(name)
        .into_paginator()
        .send();
    let mut aliases = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(from_sdk("ListAliases"))?;
        aliases.extend(page.aliases().iter().map(convert::alias));
    }
    Ok(aliases)
}

/// `GetFunctionEventInvokeConfig`; `None` when there is none.
pub(crate) async fn get_async_config(
    client: &Client,
    name: &str,
    qualifier: Option<&str>,
) -> CloudResult<Option<AsyncConfig>> {
    let out = absent_as_none(
        client
            .get_function_event_invoke_config()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send()
            .await
            .map_err(from_sdk("GetFunctionEventInvokeConfig")),
    )?;
    Ok(out.map(|out| {
        convert::async_config(
            out.maximum_retry_attempts(),
            out.maximum_event_age_in_seconds(),
            out.destination_config(),
        )
    }))
}

/// `ListProvisionedConcurrencyConfigs`, one call per page.
pub(crate) async fn list_provisioned_concurrency(
    client: &Client,
    name: &str,
) -> CloudResult<Vec<ProvisionedConcurrency>> {
    let mut pages = client
        .list_provisioned_concurrency_configs()
        .function_name(name)
        .into_paginator()
        .send();
    let mut configs = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(from_sdk("ListProvisionedConcurrencyConfigs"))?;
        configs.extend(
            page.provisioned_concurrency_configs()
                .iter()
                .map(convert::provisioned_item),
        );
    }
    Ok(configs)
}

/// `GetProvisionedConcurrencyConfig`; `None` when the qualifier has none.
pub(crate) async fn get_provisioned_concurrency(
    client: &Client,
    name: &str,
    qualifier: &str,
) -> CloudResult<Option<ProvisionedConcurrency>> {
    let out = absent_as_none(
        client
            .get_provisioned_concurrency_config()
            .function_name(name)
            .qualifier(qualifier)
            .send()
            .await
            .map_err(from_sdk("GetProvisionedConcurrencyConfig")),
    )?;
    Ok(out.map(|out| ProvisionedConcurrency {
        qualifier: qualifier.to_owned(),
        requested: out
            .requested_provisioned_concurrent_executions()
            .map_or(0, to_u32),
        allocated: out
            .allocated_provisioned_concurrent_executions()
            .map_or(0, to_u32),
        status: convert::provisioned_status(out.status(), out.status_reason()),
    }))
}

/// `GetFunctionRecursionConfig`.
pub(crate) async fn get_recursive_loop(client: &Client, name: &str) -> CloudResult<RecursiveLoop> {
    let out = client
        .get_function_recursion_config()
        .function_name(name)
        .send()
        .await
        .map_err(from_sdk("GetFunctionRecursionConfig"))?;
    Ok(convert::recursive_loop(out.recursive_loop()))
}

/// `ListEventSourceMappings`, one call per page; only SQS mappings are returned.
///
/// `name` goes to `FunctionName` as given, so `name:alias` lists the mappings of that
/// alias. Whether AWS includes the mappings on an alias when given the bare name is not
/// documented; the emulator does not (it matches `FunctionName` as a string), and it
/// reports the alias's version ARN, not the alias ARN, as the mapping's function.
pub(crate) async fn list_mappings(
    client: &Client,
    name: Option<&str>,
) -> CloudResult<Vec<ObservedMapping>> {
    let mut pages = client
        .list_event_source_mappings()
        .set_function_name(name.map(str::to_owned))
        .into_paginator()
        .send();
    let mut mappings = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(from_sdk("ListEventSourceMappings"))?;
        mappings.extend(
            page.event_source_mappings()
                .iter()
                .filter_map(convert::mapping),
        );
    }
    Ok(mappings)
}

/// `ListFunctions` (one call per page), then `ListTags` for **each** function.
///
/// The one read that is not a single API: `ListFunctions` does not return tags, and the
/// Resource Groups Tagging API would be another client and permission. It costs one call
/// per function in the account, so it is only used for `--prune`. A function deleted
/// between the two calls is skipped.
pub(crate) async fn list_managed_functions(client: &Client) -> CloudResult<Vec<ManagedFunction>> {
    let mut pages = client.list_functions().into_paginator().send();
    let mut functions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(from_sdk("ListFunctions"))?;
        functions.extend(
            page.functions().iter().filter_map(|f| {
                Some((f.function_name()?.to_owned(), f.function_arn()?.to_owned()))
            }),
        );
    }
    let mut managed = Vec::new();
    for (name, arn) in functions {
        let tags = absent_as_none(
            client
                .list_tags()
                .resource(arn)
                .send()
                .await
                .map_err(from_sdk("ListTags")),
        )?;
        let Some(found) = tags.as_ref().and_then(|out| out.tags()) else {
            continue;
        };
        if found.get(tags::MANAGED_BY).map(String::as_str) == Some(tags::MANAGED_BY_VALUE) {
            managed.push(ManagedFunction {
                name,
                owner: found.get(tags::OWNER).cloned(),
            });
        }
    }
    managed.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(managed)
}

/// `CreateFunction`, unpublished (shepherd publishes once the function is settled).
pub(crate) async fn create_function(
    client: &Client,
    name: &str,
    config: &FunctionConfig,
    architecture: Architecture,
    code: &CodeArtifact,
    tags: &BTreeMap<String, String>,
) -> CloudResult<()> {
    const API: &str = "CreateFunction";
    require_code(API, code)?;
    let mut request = client
        .create_function()
        .function_name(name)
        .role(&config.role)
        .description(&config.description)
        .package_type(convert::sdk_package_type(&config.package))
        .code(convert::sdk_function_code(code))
        .memory_size(to_i32(config.memory))
        .timeout(to_i32(config.timeout_secs))
        .ephemeral_storage(ephemeral_storage(API, config.ephemeral_storage)?)
        .environment(convert::sdk_environment(&config.environment))
        .set_kms_key_arn(config.kms_key_arn.clone())
        .set_vpc_config(config.vpc.as_ref().map(|v| convert::sdk_vpc(Some(v))))
        .tracing_config(convert::sdk_tracing(config.tracing))
        .set_logging_config(config.logging.as_ref().map(convert::sdk_logging))
        .snap_start(convert::sdk_snap_start(config.snap_start))
        .set_layers(Some(config.layers.clone()))
        .set_dead_letter_config(
            config
                .dead_letter_target
                .as_deref()
                .map(|t| convert::sdk_dead_letter(Some(t))),
        )
        .architectures(convert::sdk_architecture(architecture))
        .set_tags(Some(
            tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        ))
        .publish(false);
    if let Package::Zip { handler, runtime } = &config.package {
        request = request
            .handler(handler)
            .runtime(lt::Runtime::from(runtime.as_str()));
    }
    let request = match upload_timeouts(code) {
        Some(timeouts) => request.customize().config_override(timeouts).send().await,
        None => request.send().await,
    };
    request.map_err(from_sdk(API))?;
    Ok(())
}

fn ephemeral_storage(api: &'static str, size: u32) -> CloudResult<lt::EphemeralStorage> {
    lt::EphemeralStorage::builder()
        .size(to_i32(size))
        .build()
        .map_err(|e| invalid_request(api, e))
}

/// `UpdateFunctionConfiguration` with every setting, so that settings removed from the
/// spec return to their defaults: no variables, no layers, no VPC, no KMS key (empty ARN),
/// no dead-letter queue (empty target). Logging is sent only when desired has it.
pub(crate) async fn update_configuration(
    client: &Client,
    name: &str,
    config: &FunctionConfig,
) -> CloudResult<()> {
    const API: &str = "UpdateFunctionConfiguration";
    let mut request = client
        .update_function_configuration()
        .function_name(name)
        .role(&config.role)
        .description(&config.description)
        .memory_size(to_i32(config.memory))
        .timeout(to_i32(config.timeout_secs))
        .ephemeral_storage(ephemeral_storage(API, config.ephemeral_storage)?)
        .environment(convert::sdk_environment(&config.environment))
        .kms_key_arn(config.kms_key_arn.clone().unwrap_or_default())
        .vpc_config(convert::sdk_vpc(config.vpc.as_ref()))
        .tracing_config(convert::sdk_tracing(config.tracing))
        .set_logging_config(config.logging.as_ref().map(convert::sdk_logging))
        .snap_start(convert::sdk_snap_start(config.snap_start))
        .set_layers(Some(config.layers.clone()))
        .dead_letter_config(convert::sdk_dead_letter(
            config.dead_letter_target.as_deref(),
        ));
    // Handler and runtime belong to zip functions; Lambda rejects them for images.
    if let Package::Zip { handler, runtime } = &config.package {
        request = request
            .handler(handler)
            .runtime(lt::Runtime::from(runtime.as_str()));
    }
    request.send().await.map_err(from_sdk(API))?;
    Ok(())
}

/// `UpdateFunctionCode`, unpublished; returns the new `CodeSha256`.
pub(crate) async fn update_code(
    client: &Client,
    name: &str,
    code: &CodeArtifact,
    architecture: Architecture,
) -> CloudResult<String> {
    const API: &str = "UpdateFunctionCode";
    require_code(API, code)?;
    let request = client
        .update_function_code()
        .function_name(name)
        .architectures(convert::sdk_architecture(architecture))
        .publish(false);
    let request = match code {
        CodeArtifact::S3 { bucket, key, .. } => request
            .s3_bucket(bucket)
            .s3_key(key)
            .set_s3_object_version(code.deploy_object_version().map(str::to_owned)),
        CodeArtifact::Image { .. } => {
            request.set_image_uri(code.deploy_image_uri().map(|u| u.into_owned()))
        }
        CodeArtifact::Zip { bytes, .. } => {
            request.zip_file(aws_sdk_lambda::primitives::Blob::new(bytes.as_slice()))
        }
        CodeArtifact::Unavailable { .. } => request,
    };
    let out = match upload_timeouts(code) {
        Some(timeouts) => request.customize().config_override(timeouts).send().await,
        None => request.send().await,
    }
    .map_err(from_sdk(API))?;
    out.code_sha256()
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| incomplete(API, "CodeSha256"))
}

/// `PublishVersion`, with `CodeSha256` as a precondition when given.
pub(crate) async fn publish_version(
    client: &Client,
    name: &str,
    description: &str,
    expected_sha256: Option<&str>,
) -> CloudResult<ObservedVersion> {
    const API: &str = "PublishVersion";
    let out = client
        .publish_version()
        .function_name(name)
        .description(description)
        .set_code_sha256(expected_sha256.map(str::to_owned))
        .send()
        .await
        .map_err(from_sdk(API))?;
    Ok(ObservedVersion {
        version: out
            .version()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| incomplete(API, "Version"))?
            .to_owned(),
        code_sha256: out.code_sha256().unwrap_or_default().to_owned(),
        description: out.description().unwrap_or_default().to_owned(),
    })
}

/// `DeleteFunction` with the version as `Qualifier`.
pub(crate) async fn delete_version(client: &Client, name: &str, version: &str) -> CloudResult<()> {
    client
        .delete_function()
        .function_name(name)
        .qualifier(version)
        .send()
        .await
        .map(drop)
        .map_err(from_sdk("DeleteFunction"))
}

/// `CreateAlias`.
pub(crate) async fn create_alias(
    client: &Client,
    name: &str,
    alias: &str,
    version: &str,
    description: &str,
) -> CloudResult<()> {
    client
        .create_alias()
        .function_name(name)
        .name(alias)
        .function_version(version)
        .description(description)
        .send()
        .await
        .map_err(from_sdk("CreateAlias"))?;
    Ok(())
}

/// `UpdateAlias`. The routing config is always sent, with an empty weights map when there
/// is no additional version: an absent `RoutingConfig` would keep the old weights.
pub(crate) async fn update_alias(
    client: &Client,
    name: &str,
    alias: &str,
    version: &str,
    additional: Option<(&str, f64)>,
    description: &str,
) -> CloudResult<()> {
    let weights = additional
        .map(|(version, weight)| (version.to_owned(), weight))
        .into_iter()
        .collect();
    client
        .update_alias()
        .function_name(name)
        .name(alias)
        .function_version(version)
        .description(description)
        .routing_config(
            lt::AliasRoutingConfiguration::builder()
                .set_additional_version_weights(Some(weights))
                .build(),
        )
        .send()
        .await
        .map_err(from_sdk("UpdateAlias"))?;
    Ok(())
}

/// `PutFunctionConcurrency`, or `DeleteFunctionConcurrency` for `None`.
pub(crate) async fn put_reserved_concurrency(
    client: &Client,
    name: &str,
    count: Option<u32>,
) -> CloudResult<()> {
    match count {
        Some(count) => {
            client
                .put_function_concurrency()
                .function_name(name)
                .reserved_concurrent_executions(to_i32(count))
                .send()
                .await
                .map_err(from_sdk("PutFunctionConcurrency"))?;
            Ok(())
        }
        None => client
            .delete_function_concurrency()
            .function_name(name)
            .send()
            .await
            .map(drop)
            .map_err(from_sdk("DeleteFunctionConcurrency")),
    }
}

/// `PutProvisionedConcurrencyConfig`. Allocation continues after the call returns: poll
/// [`get_provisioned_concurrency`] for READY.
pub(crate) async fn put_provisioned_concurrency(
    client: &Client,
    name: &str,
    qualifier: &str,
    count: u32,
) -> CloudResult<()> {
    client
        .put_provisioned_concurrency_config()
        .function_name(name)
        .qualifier(qualifier)
        .provisioned_concurrent_executions(to_i32(count))
        .send()
        .await
        .map_err(from_sdk("PutProvisionedConcurrencyConfig"))?;
    Ok(())
}

/// `DeleteProvisionedConcurrencyConfig`.
pub(crate) async fn delete_provisioned_concurrency(
    client: &Client,
    name: &str,
    qualifier: &str,
) -> CloudResult<()> {
    client
        .delete_provisioned_concurrency_config()
        .function_name(name)
        .qualifier(qualifier)
        .send()
        .await
        .map(drop)
        .map_err(from_sdk("DeleteProvisionedConcurrencyConfig"))
}

/// `PutFunctionEventInvokeConfig` (which replaces the whole configuration, so omitted
/// destinations are removed), or `DeleteFunctionEventInvokeConfig` for `None`.
pub(crate) async fn put_async_config(
    client: &Client,
    name: &str,
    qualifier: Option<&str>,
    config: Option<&AsyncConfig>,
) -> CloudResult<()> {
    match config {
        Some(config) => {
            client
                .put_function_event_invoke_config()
                .function_name(name)
                .set_qualifier(qualifier.map(str::to_owned))
                .maximum_retry_attempts(i32::from(config.maximum_retry_attempts))
                .maximum_event_age_in_seconds(to_i32(config.maximum_event_age_secs))
                .set_destination_config(convert::sdk_destinations(config))
                .send()
                .await
                .map_err(from_sdk("PutFunctionEventInvokeConfig"))?;
            Ok(())
        }
        None => client
            .delete_function_event_invoke_config()
            .function_name(name)
            .set_qualifier(qualifier.map(str::to_owned))
            .send()
            .await
            .map(drop)
            .map_err(from_sdk("DeleteFunctionEventInvokeConfig")),
    }
}

/// `PutFunctionRecursionConfig`.
pub(crate) async fn put_recursive_loop(
    client: &Client,
    name: &str,
    mode: RecursiveLoop,
) -> CloudResult<()> {
    client
        .put_function_recursion_config()
        .function_name(name)
        .recursive_loop(convert::sdk_recursive_loop(mode))
        .send()
        .await
        .map_err(from_sdk("PutFunctionRecursionConfig"))?;
    Ok(())
}

/// `CreateEventSourceMapping` on `name` or `name:qualifier`; returns the mapping's UUID.
pub(crate) async fn create_mapping(
    client: &Client,
    name: &str,
    qualifier: Option<&str>,
    config: &MappingConfig,
) -> CloudResult<String> {
    const API: &str = "CreateEventSourceMapping";
    let mut request = client
        .create_event_source_mapping()
        .function_name(convert::qualified_name(name, qualifier))
        .event_source_arn(&config.queue_arn)
        .batch_size(to_i32(config.batch_size))
        .maximum_batching_window_in_seconds(to_i32(config.batching_window_secs))
        .enabled(config.enabled)
        .set_function_response_types(Some(convert::sdk_response_types(
            config.report_batch_item_failures,
        )));
    // On creation, no scaling config is the default; an empty one is only needed to clear.
    if config.maximum_concurrency.is_some() {
        request = request.scaling_config(convert::sdk_scaling(config.maximum_concurrency));
    }
    if !config.filters.is_empty() {
        request = request.filter_criteria(convert::sdk_filters(&config.filters));
    }
    let out = request.send().await.map_err(from_sdk(API))?;
    out.uuid()
        .filter(|u| !u.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| incomplete(API, "UUID"))
}

/// `UpdateEventSourceMapping`, with every setting (an empty scaling config and an empty
/// response types list clear them). The queue of a mapping cannot change: a new queue is a
/// new mapping.
pub(crate) async fn update_mapping(
    client: &Client,
    uuid: &str,
    name: &str,
    qualifier: Option<&str>,
    config: &MappingConfig,
) -> CloudResult<()> {
    client
        .update_event_source_mapping()
        .uuid(uuid)
        .function_name(convert::qualified_name(name, qualifier))
        .batch_size(to_i32(config.batch_size))
        .maximum_batching_window_in_seconds(to_i32(config.batching_window_secs))
        .enabled(config.enabled)
        .scaling_config(convert::sdk_scaling(config.maximum_concurrency))
        .set_function_response_types(Some(convert::sdk_response_types(
            config.report_batch_item_failures,
        )))
        .filter_criteria(convert::sdk_filters(&config.filters))
        .send()
        .await
        .map_err(from_sdk("UpdateEventSourceMapping"))?;
    Ok(())
}

/// `DeleteEventSourceMapping`.
pub(crate) async fn delete_mapping(client: &Client, uuid: &str) -> CloudResult<()> {
    client
        .delete_event_source_mapping()
        .uuid(uuid)
        .send()
        .await
        .map(drop)
        .map_err(from_sdk("DeleteEventSourceMapping"))
}

/// `TagResource`; no call for no tags (Lambda rejects an empty map).
pub(crate) async fn tag_function(
    client: &Client,
    arn: &str,
    tags: &BTreeMap<String, String>,
) -> CloudResult<()> {
    if tags.is_empty() {
        return Ok(());
    }
    client
        .tag_resource()
        .resource(arn)
        .set_tags(Some(
            tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        ))
        .send()
        .await
        .map_err(from_sdk("TagResource"))?;
    Ok(())
}

/// `UntagResource`; no call for no keys (Lambda rejects an empty list).
pub(crate) async fn untag_function(client: &Client, arn: &str, keys: &[String]) -> CloudResult<()> {
    if keys.is_empty() {
        return Ok(());
    }
    client
        .untag_resource()
        .resource(arn)
        .set_tag_keys(Some(keys.to_vec()))
        .send()
        .await
        .map_err(from_sdk("UntagResource"))?;
    Ok(())
}

/// `DeleteFunction`: the function with all its versions and aliases.
pub(crate) async fn delete_function(client: &Client, name: &str) -> CloudResult<()> {
    client
        .delete_function()
        .function_name(name)
        .send()
        .await
        .map(drop)
        .map_err(from_sdk("DeleteFunction"))
}
