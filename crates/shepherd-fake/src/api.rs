//! The ports of `shepherd_core::cloud` over the fake: each method names its AWS API and hands the request
//! to the state. Nothing here awaits, so any executor (or `block_on`) drives it.

use std::collections::BTreeMap;

use super::FakeCloud;
use shepherd_core::cloud::{
    Alarms, Aliases, Api, CanaryMetricsSource, CloudResult, Concurrency, EventSources, Functions,
    ImageRegistry, Invocation, Invoke, ObjectStore, Queues, Web, WebRequest, WebResponse,
};
use shepherd_core::model::{
    AlarmDefinition, AsyncConfig, CodeArtifact, FunctionConfig, ManagedFunction, MappingConfig,
    ObservedAlarm, ObservedAlias, ObservedFunction, ObservedMapping, ObservedVersion,
    ProvisionedConcurrency, QueueAttributes, S3ObjectHead,
};
use shepherd_core::spec::{Architecture, RecursiveLoop};

impl Functions for FakeCloud {
    async fn get_function(&self, name: &str) -> CloudResult<Option<ObservedFunction>> {
        self.call(Api::GetFunction, |w| Ok(w.get_function(name)))
    }

    async fn list_managed_functions(&self) -> CloudResult<Vec<ManagedFunction>> {
        self.call(Api::ListFunctions, |w| Ok(w.list_managed_functions()))
    }

    async fn create_function(
        &self,
        name: &str,
        config: &FunctionConfig,
        architecture: Architecture,
        code: &CodeArtifact,
        tags: &BTreeMap<String, String>,
    ) -> CloudResult<()> {
        self.call(Api::CreateFunction, |w| {
            w.create_function(name, config, architecture, code, tags)
        })
    }

    async fn update_configuration(&self, name: &str, config: &FunctionConfig) -> CloudResult<()> {
        self.call(Api::UpdateFunctionConfiguration, |w| {
            w.update_configuration(name, config)
        })
    }

    async fn update_code(
        &self,
        name: &str,
        code: &CodeArtifact,
        architecture: Architecture,
    ) -> CloudResult<String> {
        self.call(Api::UpdateFunctionCode, |w| {
            w.update_code(name, code, architecture)
        })
    }

    async fn get_recursive_loop(&self, name: &str) -> CloudResult<RecursiveLoop> {
        self.call(Api::GetFunctionRecursionConfig, |w| {
            w.get_recursive_loop(name)
        })
    }

    async fn put_recursive_loop(&self, name: &str, mode: RecursiveLoop) -> CloudResult<()> {
        self.call(Api::PutFunctionRecursionConfig, |w| {
            w.put_recursive_loop(name, mode)
        })
    }

    async fn tag_function(&self, arn: &str, tags: &BTreeMap<String, String>) -> CloudResult<()> {
        self.call(Api::TagResource, |w| w.tag_function(arn, tags))
    }

    async fn untag_function(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        self.call(Api::UntagResource, |w| w.untag_function(arn, keys))
    }

    async fn delete_function(&self, name: &str) -> CloudResult<()> {
        self.call(Api::DeleteFunction, |w| w.delete_function(name))
    }
}

impl Aliases for FakeCloud {
    async fn list_versions(&self, name: &str) -> CloudResult<Vec<ObservedVersion>> {
        self.call(Api::ListVersionsByFunction, |w| w.list_versions(name))
    }

    async fn publish_version(
        &self,
        name: &str,
        description: &str,
        expected_sha256: Option<&str>,
    ) -> CloudResult<ObservedVersion> {
        self.call(Api::PublishVersion, |w| {
            w.publish_version(name, description, expected_sha256)
        })
    }

    async fn delete_version(&self, name: &str, version: &str) -> CloudResult<()> {
        // Lambda deletes a version with DeleteFunction and a qualifier.
        self.call(Api::DeleteFunction, |w| w.delete_version(name, version))
    }

    async fn list_aliases(&self, name: &str) -> CloudResult<Vec<ObservedAlias>> {
        self.call(Api::ListAliases, |w| w.list_aliases(name))
    }

    async fn create_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        description: &str,
    ) -> CloudResult<()> {
        self.call(Api::CreateAlias, |w| {
            w.create_alias(name, alias, version, description)
        })
    }

    async fn update_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        additional: Option<(&str, f64)>,
        description: &str,
        revision: Option<&str>,
    ) -> CloudResult<Option<String>> {
        self.call(Api::UpdateAlias, |w| {
            w.update_alias(name, alias, version, additional, description, revision)
        })
    }
}

impl Concurrency for FakeCloud {
    async fn put_reserved_concurrency(&self, name: &str, count: Option<u32>) -> CloudResult<()> {
        let api = if count.is_some() {
            Api::PutFunctionConcurrency
        } else {
            Api::DeleteFunctionConcurrency
        };
        self.call(api, |w| w.put_reserved_concurrency(name, count))
    }

    async fn list_provisioned_concurrency(
        &self,
        name: &str,
    ) -> CloudResult<Vec<ProvisionedConcurrency>> {
        self.call(Api::ListProvisionedConcurrencyConfigs, |w| {
            w.list_provisioned(name)
        })
    }

    async fn get_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
    ) -> CloudResult<Option<ProvisionedConcurrency>> {
        self.call(Api::GetProvisionedConcurrencyConfig, |w| {
            w.get_provisioned(name, qualifier)
        })
    }

    async fn put_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
        count: u32,
    ) -> CloudResult<()> {
        self.call(Api::PutProvisionedConcurrencyConfig, |w| {
            w.put_provisioned(name, qualifier, count)
        })
    }

    async fn delete_provisioned_concurrency(&self, name: &str, qualifier: &str) -> CloudResult<()> {
        self.call(Api::DeleteProvisionedConcurrencyConfig, |w| {
            w.delete_provisioned(name, qualifier)
        })
    }
}

impl EventSources for FakeCloud {
    async fn get_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> CloudResult<Option<AsyncConfig>> {
        self.call(Api::GetFunctionEventInvokeConfig, |w| {
            w.get_async_config(name, qualifier)
        })
    }

    async fn put_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
        config: Option<&AsyncConfig>,
    ) -> CloudResult<()> {
        let api = if config.is_some() {
            Api::PutFunctionEventInvokeConfig
        } else {
            Api::DeleteFunctionEventInvokeConfig
        };
        self.call(api, |w| w.put_async_config(name, qualifier, config))
    }

    async fn list_mappings(&self, name: Option<&str>) -> CloudResult<Vec<ObservedMapping>> {
        self.call(Api::ListEventSourceMappings, |w| w.list_mappings(name))
    }

    async fn create_mapping(
        &self,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> CloudResult<String> {
        self.call(Api::CreateEventSourceMapping, |w| {
            w.create_mapping(name, qualifier, config)
        })
    }

    async fn update_mapping(
        &self,
        uuid: &str,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> CloudResult<()> {
        self.call(Api::UpdateEventSourceMapping, |w| {
            w.update_mapping(uuid, name, qualifier, config)
        })
    }

    async fn delete_mapping(&self, uuid: &str) -> CloudResult<()> {
        self.call(Api::DeleteEventSourceMapping, |w| w.delete_mapping(uuid))
    }
}

impl Queues for FakeCloud {
    async fn get_queue_attributes(&self, queue_arn: &str) -> CloudResult<Option<QueueAttributes>> {
        self.call(Api::GetQueueAttributes, |w| {
            Ok(w.queues.get(queue_arn).cloned())
        })
    }
}

impl ObjectStore for FakeCloud {
    async fn head_object(&self, bucket: &str, key: &str) -> CloudResult<Option<S3ObjectHead>> {
        self.call(Api::HeadObject, |w| {
            let versions = w.objects.get(&format!("s3://{bucket}/{key}"));
            Ok(versions
                .and_then(|v| v.last())
                .map(|(version_id, etag)| S3ObjectHead {
                    etag: etag.clone(),
                    version_id: Some(version_id.clone()),
                }))
        })
    }
}

impl ImageRegistry for FakeCloud {
    async fn image_digests(
        &self,
        repository: &str,
        tags: &[String],
    ) -> CloudResult<BTreeMap<String, String>> {
        self.call(Api::DescribeImages, |w| {
            Ok(tags
                .iter()
                .filter_map(|tag| {
                    let digest = w.images.get(&format!("{repository}:{tag}"))?;
                    Some((tag.clone(), digest.clone()))
                })
                .collect())
        })
    }
}

impl Alarms for FakeCloud {
    async fn describe_alarms(&self, names: &[String]) -> CloudResult<Vec<ObservedAlarm>> {
        self.call(Api::DescribeAlarms, |w| w.describe_alarms(names))
    }

    async fn put_alarm(&self, alarm: &AlarmDefinition) -> CloudResult<()> {
        self.call(Api::PutMetricAlarm, |w| w.put_alarm(alarm))
    }

    async fn delete_alarms(&self, names: &[String]) -> CloudResult<()> {
        self.call(Api::DeleteAlarms, |w| w.delete_alarms(names))
    }
}

impl CanaryMetricsSource for FakeCloud {
    async fn get_version_metrics(
        &self,
        name: &str,
        _alias: &str,
        version: &str,
        _window: (u64, u64),
        p99: bool,
    ) -> CloudResult<shepherd_core::model::VersionMetrics> {
        self.call(Api::GetMetricData, |w| {
            let empty = shepherd_core::model::VersionMetrics {
                invocations: 0.0,
                errors: 0.0,
                p99_ms: None,
            };
            let mut found = w
                .metrics
                .get(&(name.to_owned(), version.to_owned()))
                .copied()
                .unwrap_or(empty);
            // As CloudWatch: a query not made has no answer.
            if !p99 {
                found.p99_ms = None;
            }
            Ok(found)
        })
    }
}

impl Invoke for FakeCloud {
    async fn invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &str,
    ) -> CloudResult<Invocation> {
        self.call(Api::Invoke, |w| w.invoke(function, qualifier, payload))
    }
}

/// HTTP hooks: faults apply as to AWS calls; the answer is the next scripted for the URL.
impl Web for FakeCloud {
    async fn call(&self, request: &WebRequest) -> CloudResult<WebResponse> {
        let mut inner = self.lock();
        if let Some(error) = inner.faults.before_call(Api::HttpHook) {
            return Err(error);
        }
        let answer = inner.world.runs.web_call(request)?;
        match inner.faults.after_call(Api::HttpHook) {
            Some(error) => Err(error),
            None => Ok(answer),
        }
    }
}
