//! Functions themselves: read, create, configure, deploy code, tag, delete; and their
//! recursive-loop setting.

use super::*;

/// The attempt timeout of calls that upload a zip inline (up to 50 MB): the default one
/// is sized for control-plane calls with small bodies.
pub(crate) const UPLOAD_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(300);

/// Code that could not be packaged is never sent: not even an empty request goes out.
fn require_code(api: Api, code: &CodeArtifact) -> CloudResult<()> {
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

fn ephemeral_storage(api: Api, size: u32) -> CloudResult<lt::EphemeralStorage> {
    lt::EphemeralStorage::builder()
        .size(to_i32(size))
        .build()
        .map_err(|e| invalid_request(api, e))
}

impl Functions for AwsCloud {
    /// `GetFunction`: configuration, code digest, state, tags and reserved concurrency.
    async fn get_function(&self, name: &str) -> CloudResult<Option<ObservedFunction>> {
        let client = &self.lambda;
        const API: Api = Api::GetFunction;
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
        Ok(Some(ObservedFunction::from(FunctionBasics {
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
        })))
    }

    /// `ListFunctions` (one call per page), then `ListTags` for **each** function.
    ///
    /// The one read that is not a single API: `ListFunctions` does not return tags, and the
    /// Resource Groups Tagging API would be another client and permission. It costs one call
    /// per function in the account, so it is only used for `--prune`. A function deleted
    /// between the two calls is skipped.
    async fn list_managed_functions(&self) -> CloudResult<Vec<ManagedFunction>> {
        let client = &self.lambda;
        let mut pages = client.list_functions().into_paginator().send();
        let mut functions = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(from_sdk(Api::ListFunctions))?;
            functions.extend(page.functions().iter().filter_map(|f| {
                Some((f.function_name()?.to_owned(), f.function_arn()?.to_owned()))
            }));
        }
        let mut managed = Vec::new();
        for (name, arn) in functions {
            let tags = absent_as_none(
                client
                    .list_tags()
                    .resource(arn)
                    .send()
                    .await
                    .map_err(from_sdk(Api::ListTags)),
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
    async fn create_function(
        &self,
        name: &str,
        config: &FunctionConfig,
        architecture: Architecture,
        code: &CodeArtifact,
        tags: &BTreeMap<String, String>,
    ) -> CloudResult<()> {
        let client = &self.lambda;
        const API: Api = Api::CreateFunction;
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

    /// `UpdateFunctionConfiguration` with every setting, so that settings removed from the
    /// spec return to their defaults: no variables, no layers, no VPC, no KMS key (empty ARN),
    /// no dead-letter queue (empty target). Logging is sent only when desired has it.
    async fn update_configuration(&self, name: &str, config: &FunctionConfig) -> CloudResult<()> {
        let client = &self.lambda;
        const API: Api = Api::UpdateFunctionConfiguration;
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
    async fn update_code(
        &self,
        name: &str,
        code: &CodeArtifact,
        architecture: Architecture,
    ) -> CloudResult<String> {
        let client = &self.lambda;
        const API: Api = Api::UpdateFunctionCode;
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

    /// `GetFunctionRecursionConfig`.
    async fn get_recursive_loop(&self, name: &str) -> CloudResult<RecursiveLoop> {
        let client = &self.lambda;
        let out = client
            .get_function_recursion_config()
            .function_name(name)
            .send()
            .await
            .map_err(from_sdk(Api::GetFunctionRecursionConfig))?;
        Ok(convert::recursive_loop(out.recursive_loop()))
    }

    /// `PutFunctionRecursionConfig`.
    async fn put_recursive_loop(&self, name: &str, mode: RecursiveLoop) -> CloudResult<()> {
        let client = &self.lambda;
        client
            .put_function_recursion_config()
            .function_name(name)
            .recursive_loop(convert::sdk_recursive_loop(mode))
            .send()
            .await
            .map_err(from_sdk(Api::PutFunctionRecursionConfig))?;
        Ok(())
    }

    /// `TagResource`; no call for no tags (Lambda rejects an empty map).
    async fn tag_function(&self, arn: &str, tags: &BTreeMap<String, String>) -> CloudResult<()> {
        let client = &self.lambda;
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
            .map_err(from_sdk(Api::TagResource))?;
        Ok(())
    }

    /// `UntagResource`; no call for no keys (Lambda rejects an empty list).
    async fn untag_function(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        let client = &self.lambda;
        if keys.is_empty() {
            return Ok(());
        }
        client
            .untag_resource()
            .resource(arn)
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(from_sdk(Api::UntagResource))?;
        Ok(())
    }

    /// `DeleteFunction`: the function with all its versions and aliases.
    async fn delete_function(&self, name: &str) -> CloudResult<()> {
        let client = &self.lambda;
        client
            .delete_function()
            .function_name(name)
            .send()
            .await
            .map(drop)
            .map_err(from_sdk(Api::DeleteFunction))
    }
}
