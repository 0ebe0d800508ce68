//! What tests look at and change directly: none of it is recorded as a call, and reading
//! does not let time pass (unlike `GetFunction` and the provisioned concurrency reads).

use super::FakeCloud;
use super::state::{FakeFunction, FakeVersion, LATEST};
use shepherd_core::model::{
    AlarmDefinition, AlarmState, AsyncConfig, ObservedAlarm, ObservedAlias, ObservedMapping,
    ProvisionedConcurrency,
};

impl FakeCloud {
    /// Makes an SQS queue exist, with its attributes.
    pub fn set_queue(&self, arn: &str, attributes: shepherd_core::model::QueueAttributes) {
        self.lock().world.queues.insert(arn.to_owned(), attributes);
    }

    /// Uploads an S3 object: a new version with an ETag derived from `content`, as an
    /// overwrite at the same key makes in a versioned bucket.
    pub fn put_object(&self, bucket: &str, key: &str, content: &str) {
        let mut inner = self.lock();
        let id = inner.world.next_id();
        let etag = format!("\"{}\"", shepherd_core::model::short_digest(content));
        inner
            .world
            .objects
            .entry(format!("s3://{bucket}/{key}"))
            .or_default()
            .push((id, etag));
    }

    /// The version id of the newest upload of an S3 object.
    pub fn object_version(&self, bucket: &str, key: &str) -> Option<String> {
        let inner = self.lock();
        let versions = inner.world.objects.get(&format!("s3://{bucket}/{key}"))?;
        versions.last().map(|(id, _)| id.clone())
    }

    /// Points an image tag (`REPOSITORY:TAG`) at a digest, as a push does.
    pub fn set_image(&self, image: &str, digest: &str) {
        self.lock()
            .world
            .images
            .insert(image.to_owned(), digest.to_owned());
    }

    /// The function as stored, or `None` when it does not exist.
    pub fn function(&self, name: &str) -> Option<FakeFunction> {
        let inner = self.lock();
        inner.world.functions.get(name).map(|r| r.function.clone())
    }

    /// Names of every function, sorted.
    pub fn function_names(&self) -> Vec<String> {
        self.lock().world.functions.keys().cloned().collect()
    }

    /// Changes a function behind shepherd's back (drift): `None` when it does not exist.
    /// Setting `state` or `last_update` by hand makes it stay so until changed again.
    pub fn with_function_mut<R>(
        &self,
        name: &str,
        change: impl FnOnce(&mut FakeFunction) -> R,
    ) -> Option<R> {
        let mut inner = self.lock();
        let record = inner.world.functions.get_mut(name)?;
        Some(change(&mut record.function))
    }

    pub fn alias(&self, name: &str, alias: &str) -> Option<ObservedAlias> {
        let inner = self.lock();
        inner.world.functions.get(name)?.aliases.get(alias).cloned()
    }

    /// Changes an alias behind shepherd's back (someone shifted its traffic, say). Its
    /// `name` must stay as it is.
    pub fn with_alias_mut<R>(
        &self,
        name: &str,
        alias: &str,
        change: impl FnOnce(&mut ObservedAlias) -> R,
    ) -> Option<R> {
        let mut inner = self.lock();
        let alias = inner
            .world
            .functions
            .get_mut(name)?
            .aliases
            .get_mut(alias)?;
        Some(change(alias))
    }

    /// Published versions, oldest first; empty when the function does not exist.
    pub fn versions(&self, name: &str) -> Vec<FakeVersion> {
        let inner = self.lock();
        inner
            .world
            .functions
            .get(name)
            .map(|r| r.versions.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The provisioned concurrency config of a version or alias, as it stands.
    pub fn provisioned(&self, name: &str, qualifier: &str) -> Option<ProvisionedConcurrency> {
        let inner = self.lock();
        let record = inner.world.functions.get(name)?;
        record.provisioned.get(qualifier).map(|p| p.config.clone())
    }

    /// The async invoke config of a qualifier (`None`: the unqualified function).
    pub fn async_config(&self, name: &str, qualifier: Option<&str>) -> Option<AsyncConfig> {
        let inner = self.lock();
        let record = inner.world.functions.get(name)?;
        record
            .async_configs
            .get(qualifier.unwrap_or(LATEST))
            .cloned()
    }

    /// Every event source mapping, in creation order.
    pub fn mappings(&self) -> Vec<ObservedMapping> {
        self.lock().world.mappings.values().cloned().collect()
    }

    pub fn mapping_count(&self) -> usize {
        self.lock().world.mappings.len()
    }

    pub fn alarm(&self, name: &str) -> Option<ObservedAlarm> {
        self.lock().world.alarms.get(name).cloned()
    }

    /// Names of every alarm, sorted.
    pub fn alarm_names(&self) -> Vec<String> {
        self.lock().world.alarms.keys().cloned().collect()
    }

    /// Adds an alarm that someone else manages (one a rollout gates on), in state `OK`.
    pub fn add_alarm(&self, definition: AlarmDefinition) {
        let name = definition.name.clone();
        let alarm = ObservedAlarm {
            definition,
            state: AlarmState::Ok,
            state_reason: "Added by the test".to_owned(),
            state_since: None,
        };
        self.lock().world.alarms.insert(name, alarm);
    }

    /// Sets an alarm's state, as CloudWatch does when its metric crosses the threshold.
    ///
    /// # Panics
    /// When the alarm does not exist: a test that sets the state of a missing alarm is
    /// wrong.
    pub fn set_alarm_state(&self, name: &str, state: AlarmState, reason: &str) {
        let mut inner = self.lock();
        let Some(alarm) = inner.world.alarms.get_mut(name) else {
            drop(inner);
            panic!("set_alarm_state: no alarm named {name:?}");
        };
        alarm.state = state;
        reason.clone_into(&mut alarm.state_reason);
        alarm.state_since = None;
    }

    /// Sets an alarm's state as of `since` (Unix seconds), for tests of alarms that were
    /// already firing before a rollout started.
    ///
    /// # Panics
    /// When the alarm does not exist.
    pub fn set_alarm_state_since(&self, name: &str, state: AlarmState, reason: &str, since: u64) {
        self.set_alarm_state(name, state, reason);
        if let Some(alarm) = self.lock().world.alarms.get_mut(name) {
            alarm.state_since = Some(since);
        }
    }

    /// Sets what CloudWatch reports for a version's own metrics (any window).
    pub fn set_version_metrics(
        &self,
        name: &str,
        version: &str,
        metrics: shepherd_core::model::VersionMetrics,
    ) {
        self.lock()
            .world
            .metrics
            .insert((name.to_owned(), version.to_owned()), metrics);
    }

    /// Ends every pending creation, update and provisioned concurrency allocation now, as
    /// if enough time had passed: for setting up a test's starting state.
    pub fn settle(&self) {
        let mut inner = self.lock();
        for record in inner.world.functions.values_mut() {
            record.finish();
            for provisioned in record.provisioned.values_mut() {
                provisioned.finish();
            }
        }
    }

    /// Answers the next invocation of `function` with `result` (in order; afterwards,
    /// invocations echo their payload).
    pub fn script_invocation(&self, function: &str, result: shepherd_core::cloud::Invocation) {
        self.lock()
            .world
            .runs
            .scripted
            .entry(function.to_owned())
            .or_default()
            .push_back(result);
    }

    /// Every invocation of `function`: the version that ran and the payload, in order.
    pub fn invocations(&self, function: &str) -> Vec<(String, String)> {
        self.lock()
            .world
            .runs
            .seen
            .iter()
            .filter(|(name, _, _)| name == function)
            .map(|(_, version, payload)| (version.clone(), payload.clone()))
            .collect()
    }

    /// Answers the next HTTP call to `url` with `answer` (in order; afterwards, nothing
    /// answers there).
    pub fn script_web(
        &self,
        url: &str,
        answer: Result<shepherd_core::cloud::WebResponse, shepherd_core::cloud::CloudError>,
    ) {
        self.lock()
            .world
            .runs
            .web_scripted
            .entry(url.to_owned())
            .or_default()
            .push_back(answer);
    }

    /// Every HTTP call made, in order.
    pub fn web_calls(&self) -> Vec<shepherd_core::cloud::WebRequest> {
        self.lock().world.runs.web_seen.clone()
    }
}
