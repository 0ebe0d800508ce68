//! `Metered<C>`: the cloud as the engine uses it. Every call spends from the shared budget,
//! is counted, logged, and retried by the one retry policy when AWS throttles or fails.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use shepherd_core::cloud::{
    Alarms, Aliases, Api, CanaryMetricsSource, Cloud, CloudError, CloudResult, Concurrency,
    EventSources, Functions, ImageRegistry, Invocation, Invoke, ObjectStore, Queues, Web,
    WebRequest, WebResponse,
};
use shepherd_core::model::{
    AlarmDefinition, AsyncConfig, CodeArtifact, FunctionConfig, ManagedFunction, MappingConfig,
    ObservedAlarm, ObservedAlias, ObservedFunction, ObservedMapping, ObservedVersion,
    ProvisionedConcurrency, QueueAttributes, S3ObjectHead, VersionMetrics,
};
use shepherd_core::spec::{Architecture, RecursiveLoop};

use crate::budget::Budget;
use crate::retry::RetryPolicy;
use crate::stats::CallStats;

/// Whether writes may be sent now: false once this process may no longer be the only
/// writer (its lease may have run out).
pub type Fence = Arc<dyn Fn() -> bool + Send + Sync>;

/// A cloud wrapped with budget, retries and accounting.
pub struct Metered<C> {
    inner: C,
    budget: Arc<Budget>,
    retry: RetryPolicy,
    stats: Arc<CallStats>,
    fence: Option<Fence>,
}

impl<C: Cloud> Metered<C> {
    pub fn new(inner: C, budget: Arc<Budget>, retry: RetryPolicy) -> Self {
        Self {
            inner,
            budget,
            retry,
            stats: Arc::new(CallStats::default()),
            fence: None,
        }
    }

    /// Checks `fence` right before every write is sent (after the budget's wait, and before
    /// each retry): a write it refuses fails with [`CloudError::Fenced`] and is never sent.
    pub fn with_fence(mut self, fence: Fence) -> Self {
        self.fence = Some(fence);
        self
    }

    /// The budget every call spends from.
    pub fn budget(&self) -> &Arc<Budget> {
        &self.budget
    }

    pub fn stats(&self) -> &Arc<CallStats> {
        &self.stats
    }

    pub fn inner(&self) -> &C {
        &self.inner
    }

    async fn call<T, F, Fut>(&self, api: Api, mut attempt_call: F) -> CloudResult<T>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = CloudResult<T>> + Send,
    {
        let mut attempt = 0;
        loop {
            self.budget.acquire(api.class()).await;
            if api.is_write() && self.fence.as_ref().is_some_and(|may_write| !may_write()) {
                let refused = Err(CloudError::Fenced { api });
                self.stats.record(api, &refused);
                return refused;
            }
            let result = attempt_call().await;
            self.stats.record(api, &result);
            match result {
                Err(error) => match self.retry.delay(attempt, &error) {
                    Some(delay) => {
                        tracing::debug!(%api, attempt, error = %error, ?delay, "retrying AWS call");
                        tokio::time::sleep(delay).await;
                        attempt += 1;
                    }
                    None => return Err(error),
                },
                ok => return ok,
            }
        }
    }
}

impl<C: Cloud> Functions for Metered<C> {
    async fn get_function(&self, name: &str) -> CloudResult<Option<ObservedFunction>> {
        self.call(Api::GetFunction, || self.inner.get_function(name))
            .await
    }

    async fn list_managed_functions(&self) -> CloudResult<Vec<ManagedFunction>> {
        self.call(Api::ListFunctions, || self.inner.list_managed_functions())
            .await
    }

    async fn create_function(
        &self,
        name: &str,
        config: &FunctionConfig,
        architecture: Architecture,
        code: &CodeArtifact,
        tags: &BTreeMap<String, String>,
    ) -> CloudResult<()> {
        self.call(Api::CreateFunction, || {
            self.inner
                .create_function(name, config, architecture, code, tags)
        })
        .await
    }

    async fn update_configuration(&self, name: &str, config: &FunctionConfig) -> CloudResult<()> {
        self.call(Api::UpdateFunctionConfiguration, || {
            self.inner.update_configuration(name, config)
        })
        .await
    }

    async fn update_code(
        &self,
        name: &str,
        code: &CodeArtifact,
        architecture: Architecture,
    ) -> CloudResult<String> {
        self.call(Api::UpdateFunctionCode, || {
            self.inner.update_code(name, code, architecture)
        })
        .await
    }

    async fn get_recursive_loop(&self, name: &str) -> CloudResult<RecursiveLoop> {
        self.call(Api::GetFunctionRecursionConfig, || {
            self.inner.get_recursive_loop(name)
        })
        .await
    }

    async fn put_recursive_loop(&self, name: &str, mode: RecursiveLoop) -> CloudResult<()> {
        self.call(Api::PutFunctionRecursionConfig, || {
            self.inner.put_recursive_loop(name, mode)
        })
        .await
    }

    async fn tag_function(&self, arn: &str, tags: &BTreeMap<String, String>) -> CloudResult<()> {
        self.call(Api::TagResource, || self.inner.tag_function(arn, tags))
            .await
    }

    async fn untag_function(&self, arn: &str, keys: &[String]) -> CloudResult<()> {
        self.call(Api::UntagResource, || self.inner.untag_function(arn, keys))
            .await
    }

    async fn delete_function(&self, name: &str) -> CloudResult<()> {
        self.call(Api::DeleteFunction, || self.inner.delete_function(name))
            .await
    }
}

impl<C: Cloud> Aliases for Metered<C> {
    async fn list_versions(&self, name: &str) -> CloudResult<Vec<ObservedVersion>> {
        self.call(Api::ListVersionsByFunction, || {
            self.inner.list_versions(name)
        })
        .await
    }

    async fn publish_version(
        &self,
        name: &str,
        description: &str,
        expected_sha256: Option<&str>,
    ) -> CloudResult<ObservedVersion> {
        self.call(Api::PublishVersion, || {
            self.inner
                .publish_version(name, description, expected_sha256)
        })
        .await
    }

    async fn delete_version(&self, name: &str, version: &str) -> CloudResult<()> {
        self.call(Api::DeleteFunction, || {
            self.inner.delete_version(name, version)
        })
        .await
    }

    async fn list_aliases(&self, name: &str) -> CloudResult<Vec<ObservedAlias>> {
        self.call(Api::ListAliases, || self.inner.list_aliases(name))
            .await
    }

    async fn create_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        description: &str,
    ) -> CloudResult<()> {
        self.call(Api::CreateAlias, || {
            self.inner.create_alias(name, alias, version, description)
        })
        .await
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
        self.call(Api::UpdateAlias, || {
            self.inner
                .update_alias(name, alias, version, additional, description, revision)
        })
        .await
    }
}

impl<C: Cloud> Concurrency for Metered<C> {
    async fn put_reserved_concurrency(&self, name: &str, count: Option<u32>) -> CloudResult<()> {
        let api = if count.is_some() {
            Api::PutFunctionConcurrency
        } else {
            Api::DeleteFunctionConcurrency
        };
        self.call(api, || self.inner.put_reserved_concurrency(name, count))
            .await
    }

    async fn list_provisioned_concurrency(
        &self,
        name: &str,
    ) -> CloudResult<Vec<ProvisionedConcurrency>> {
        self.call(Api::ListProvisionedConcurrencyConfigs, || {
            self.inner.list_provisioned_concurrency(name)
        })
        .await
    }

    async fn get_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
    ) -> CloudResult<Option<ProvisionedConcurrency>> {
        self.call(Api::GetProvisionedConcurrencyConfig, || {
            self.inner.get_provisioned_concurrency(name, qualifier)
        })
        .await
    }

    async fn put_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
        count: u32,
    ) -> CloudResult<()> {
        self.call(Api::PutProvisionedConcurrencyConfig, || {
            self.inner
                .put_provisioned_concurrency(name, qualifier, count)
        })
        .await
    }

    async fn delete_provisioned_concurrency(&self, name: &str, qualifier: &str) -> CloudResult<()> {
        self.call(Api::DeleteProvisionedConcurrencyConfig, || {
            self.inner.delete_provisioned_concurrency(name, qualifier)
        })
        .await
    }
}

impl<C: Cloud> EventSources for Metered<C> {
    async fn get_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> CloudResult<Option<AsyncConfig>> {
        self.call(Api::GetFunctionEventInvokeConfig, || {
            self.inner.get_async_config(name, qualifier)
        })
        .await
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
        self.call(api, || self.inner.put_async_config(name, qualifier, config))
            .await
    }

    async fn list_mappings(&self, name: Option<&str>) -> CloudResult<Vec<ObservedMapping>> {
        self.call(Api::ListEventSourceMappings, || {
            self.inner.list_mappings(name)
        })
        .await
    }

    async fn create_mapping(
        &self,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> CloudResult<String> {
        self.call(Api::CreateEventSourceMapping, || {
            self.inner.create_mapping(name, qualifier, config)
        })
        .await
    }

    async fn update_mapping(
        &self,
        uuid: &str,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> CloudResult<()> {
        self.call(Api::UpdateEventSourceMapping, || {
            self.inner.update_mapping(uuid, name, qualifier, config)
        })
        .await
    }

    async fn delete_mapping(&self, uuid: &str) -> CloudResult<()> {
        self.call(Api::DeleteEventSourceMapping, || {
            self.inner.delete_mapping(uuid)
        })
        .await
    }
}

impl<C: Cloud> Queues for Metered<C> {
    async fn get_queue_attributes(&self, queue_arn: &str) -> CloudResult<Option<QueueAttributes>> {
        self.call(Api::GetQueueAttributes, || {
            self.inner.get_queue_attributes(queue_arn)
        })
        .await
    }
}

impl<C: Cloud> ObjectStore for Metered<C> {
    async fn head_object(&self, bucket: &str, key: &str) -> CloudResult<Option<S3ObjectHead>> {
        self.call(Api::HeadObject, || self.inner.head_object(bucket, key))
            .await
    }
}

impl<C: Cloud> ImageRegistry for Metered<C> {
    async fn image_digests(
        &self,
        repository: &str,
        tags: &[String],
    ) -> CloudResult<BTreeMap<String, String>> {
        self.call(Api::DescribeImages, || {
            self.inner.image_digests(repository, tags)
        })
        .await
    }
}

impl<C: Cloud> Alarms for Metered<C> {
    async fn describe_alarms(&self, names: &[String]) -> CloudResult<Vec<ObservedAlarm>> {
        self.call(Api::DescribeAlarms, || self.inner.describe_alarms(names))
            .await
    }

    async fn put_alarm(&self, alarm: &AlarmDefinition) -> CloudResult<()> {
        self.call(Api::PutMetricAlarm, || self.inner.put_alarm(alarm))
            .await
    }

    async fn delete_alarms(&self, names: &[String]) -> CloudResult<()> {
        self.call(Api::DeleteAlarms, || self.inner.delete_alarms(names))
            .await
    }
}

impl<C: Cloud> CanaryMetricsSource for Metered<C> {
    async fn get_version_metrics(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        window: (u64, u64),
        p99: bool,
    ) -> CloudResult<VersionMetrics> {
        self.call(Api::GetMetricData, || {
            self.inner
                .get_version_metrics(name, alias, version, window, p99)
        })
        .await
    }
}

/// Calls to the team's endpoints: fenced like a write (a hook acts), one attempt each.
impl<C: Cloud> Web for Metered<C> {
    async fn call(&self, request: &WebRequest) -> CloudResult<WebResponse> {
        self.once(Api::HttpHook, self.inner.call(request)).await
    }
}

impl<C: Cloud> Metered<C> {
    /// One attempt of a call that acts (an invocation, a hook): fenced like a write,
    /// counted, never retried or budgeted here.
    async fn once<T>(
        &self,
        api: Api,
        call: impl std::future::Future<Output = CloudResult<T>>,
    ) -> CloudResult<T> {
        if self.fence.as_ref().is_some_and(|may_write| !may_write()) {
            let refused = Err(CloudError::Fenced { api });
            self.stats.record(api, &refused);
            return refused;
        }
        let result = call.await;
        self.stats.record(api, &result);
        result
    }
}

/// Invocations run code: one attempt each, never retried here (a retry could run a
/// smoke test twice); whoever invokes decides about retries. Fenced like a write.
impl<C: Cloud> Invoke for Metered<C> {
    async fn invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &str,
    ) -> CloudResult<Invocation> {
        self.once(Api::Invoke, self.inner.invoke(function, qualifier, payload))
            .await
    }
}
