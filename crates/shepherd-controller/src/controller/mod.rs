//! The control loop: the source loop keeps the desired state (from git or a folder), the
//! resync timer and every trigger feed the keyed queue, and workers reconcile one function
//! at a time each, asking to be queued again while a rollout is in flight.
//!
//! One job per module: `source_sync` (the desired state and the resync timer),
//! `reconcile` (the workers and each function's status), `alarm_watch` (the gating alarms
//! of every rollout in flight), `prune` (the prune step), `commands` (what the HTTP server
//! asks: triggers, statuses, operator commands), `lease_watch` (what taking or losing the
//! target's lease starts and stops). [`ControlLoop`] holds the state they share.
//!
//! With a lease table, a replica acts on its target only while it holds the target's
//! lease: workers wait for it, the alarm watch and the commands check it, and every write
//! to AWS is fenced on it (`Metered::with_fence`). A standby keeps the desired state
//! current, so that on taking the lease it reconciles at once.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use shepherd_core::cloud::{Api, Cloud};
use shepherd_core::model::DesiredFunction;
use shepherd_core::validate::targets::Targets;
use shepherd_engine::metered::Metered;
use shepherd_engine::package::PackageCache;
use shepherd_engine::reconcile::ReconcileOptions;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::handle::{FunctionStatus, Trigger};
use crate::leader::Leadership;
use crate::metrics::Metrics;
use crate::queue::WorkQueue;
use crate::source::SourceConfig;

mod alarm_watch;
mod commands;
mod error_policy;
mod lease_watch;
mod prune;
mod reconcile;
mod source_sync;

/// How the controller runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub source: SourceConfig,
    /// The lint configuration file, if any (relative paths: inside the spec folder).
    pub lint_config: Option<PathBuf>,
    /// How often the git source is fetched.
    pub poll_interval: Duration,
    /// How often every function is reconciled (with ±10% jitter).
    pub resync_interval: Duration,
    /// Every this many resyncs reads every sub-resource (drift anywhere).
    pub full_refresh_every: u32,
    /// Functions reconciled at once.
    pub workers: usize,
    pub reconcile: ReconcileOptions,
    /// The target this loop acts on, among the controller's targets.
    pub target: TargetScope,
}

/// One target among the controller's: its specs are those that name it (or name none,
/// when it is the default).
#[derive(Debug, Clone)]
pub struct TargetScope {
    pub targets: Arc<Targets>,
    pub this: String,
}

impl TargetScope {
    /// The one target of a controller that names none: every spec without a target.
    pub fn single(name: &str) -> Self {
        Self {
            targets: Arc::new(Targets::single(name)),
            this: name.to_owned(),
        }
    }
}

impl Default for TargetScope {
    fn default() -> Self {
        Self::single("default")
    }
}

#[derive(Default)]
struct DesiredSet {
    commit: Option<String>,
    /// Every function of the spec set; one whose code could not be packaged is here with
    /// unavailable code, so that it stays visible and its rollout stays guarded.
    functions: BTreeMap<String, DesiredFunction>,
    /// Why the code of a function could not be packaged.
    package_errors: BTreeMap<String, String>,
}

/// The controller's state, shared by its tasks and the HTTP server.
pub struct ControlLoop<C: Cloud> {
    cloud: Metered<C>,
    settings: Settings,
    queue: Arc<WorkQueue>,
    desired: RwLock<DesiredSet>,
    statuses: Mutex<BTreeMap<String, FunctionStatus>>,
    /// Failed reconciles in a row, per function, for the error policy's backoff.
    failures: Mutex<BTreeMap<String, u32>>,
    ready: AtomicBool,
    /// Functions of the first sync not yet reconciled once (ready when empty).
    first_round: Mutex<Option<HashSet<String>>>,
    metrics: Arc<Metrics>,
    source_sync: Notify,
    resyncs: AtomicU32,
    full_refresh: AtomicBool,
    /// The packages of local code folders, kept while their files do not change.
    packages: Arc<PackageCache>,
    /// Whether this replica may act on the target now.
    leadership: Leadership,
    /// The desired state has been loaded from the source at least once.
    synced: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<C: Cloud> ControlLoop<C> {
    /// A controller that holds its target always (no lease table).
    pub fn new(cloud: Metered<C>, settings: Settings, metrics: Arc<Metrics>) -> Arc<Self> {
        let leadership = Leadership::always(settings.target.this.clone());
        Self::with_leadership(cloud, settings, metrics, leadership)
    }

    /// The target this loop acts on.
    pub fn target(&self) -> &str {
        &self.settings.target.this
    }

    /// Whether the desired state names `function`.
    pub fn manages(&self, function: &str) -> bool {
        self.desired
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .functions
            .contains_key(function)
    }

    /// A controller that acts on its target only while `leadership` says it holds the
    /// lease; every write it sends is fenced on it.
    pub fn with_leadership(
        cloud: Metered<C>,
        settings: Settings,
        metrics: Arc<Metrics>,
        leadership: Leadership,
    ) -> Arc<Self> {
        let cloud = if leadership.is_elected() {
            let fence = leadership.clone();
            cloud.with_fence(Arc::new(move || fence.may_write()))
        } else {
            cloud
        };
        Arc::new(Self {
            cloud,
            settings,
            queue: Arc::new(WorkQueue::default()),
            desired: RwLock::new(DesiredSet::default()),
            statuses: Mutex::new(BTreeMap::new()),
            failures: Mutex::new(BTreeMap::new()),
            ready: AtomicBool::new(false),
            first_round: Mutex::new(None),
            metrics,
            source_sync: Notify::new(),
            resyncs: AtomicU32::new(0),
            full_refresh: AtomicBool::new(false),
            packages: Arc::new(PackageCache::default()),
            leadership,
            synced: AtomicBool::new(false),
        })
    }

    /// The AWS calls this controller made, by API and outcome.
    pub fn call_stats(&self) -> &Arc<shepherd_engine::stats::CallStats> {
        self.cloud.stats()
    }

    pub fn leadership(&self) -> &Leadership {
        &self.leadership
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    fn function_names(&self) -> Vec<String> {
        self.desired
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .functions
            .keys()
            .cloned()
            .collect()
    }

    fn enqueue_all(&self, trigger: &Trigger) {
        for name in self.function_names() {
            self.queue.add(&name, trigger.clone());
        }
        self.metrics.queue_depth.set(self.queue.len() as i64);
    }

    /// Runs until `cancel`: then stops taking work, lets every reconcile in flight finish
    /// its actions (no step is left half-applied), and returns.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let plan = &self.settings.reconcile.plan;
        tracing::info!(
            owner = %plan.owner,
            root = %self.settings.source.root().display(),
            prune = plan.prune,
            adopt = plan.adopt,
            "controller starting"
        );
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(Arc::clone(&self).source_loop(cancel.clone()));
        tasks.spawn(Arc::clone(&self).resync_loop(cancel.clone()));
        tasks.spawn(Arc::clone(&self).stats_loop(cancel.clone()));
        tasks.spawn(Arc::clone(&self).alarm_watch(cancel.clone()));
        if self.leadership.is_elected() {
            tasks.spawn(Arc::clone(&self).lease_watch(cancel.clone()));
        }
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.settings.workers.max(1) {
            workers.spawn(Arc::clone(&self).worker(false, cancel.clone()));
        }
        // One more, kept for alarm events: a rollback never waits for a worker to finish
        // its part of a fleet deploy.
        workers.spawn(Arc::clone(&self).worker(true, cancel.clone()));
        self.source_sync.notify_one();
        cancel.cancelled().await;
        tracing::info!("shutting down: finishing the reconciles in flight");
        self.queue.close();
        while workers.join_next().await.is_some() {}
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }

    /// Copies the AWS call counters into Prometheus every few seconds.
    async fn stats_loop(self: Arc<Self>, cancel: CancellationToken) {
        let mut seen: BTreeMap<(Api, &'static str), u64> = BTreeMap::new();
        loop {
            for (api, outcome, count) in self.cloud.stats().snapshot() {
                let before = seen.insert((api, outcome), count).unwrap_or(0);
                let delta = count.saturating_sub(before);
                if delta > 0 {
                    self.metrics
                        .target_calls
                        .with_label_values(&[self.settings.target.this.as_str(), api.service()])
                        .inc_by(delta);
                    self.metrics
                        .aws_calls
                        .with_label_values(&[api.name(), outcome])
                        .inc_by(delta);
                    if outcome == "throttled" {
                        self.metrics
                            .throttles
                            .with_label_values(&[api.name()])
                            .inc_by(delta);
                    }
                }
            }
            self.metrics.queue_depth.set(self.queue.len() as i64);
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(2)) => {}
            }
        }
    }
}
