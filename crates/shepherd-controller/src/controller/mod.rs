//! The control loop: the source loop keeps the desired state (from git or a folder), the
//! resync timer and every trigger feed the keyed queue, and workers reconcile one function
//! at a time each, asking to be queued again while a rollout is in flight.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;

use rand::Rng;
use shepherd_core::cloud::Cloud;
use shepherd_core::diagnostic::escape_control;
use shepherd_core::lint::LintConfig;
use shepherd_core::model::DesiredFunction;
use shepherd_core::plan::Action;
use shepherd_core::rollout::{Command, Phase};
use shepherd_core::validate::Report;
use shepherd_engine::execute::Outcome;
use shepherd_engine::metered::Metered;
use shepherd_engine::observe::Refresh;
use shepherd_engine::operator::{OperateError, RolloutTarget, operate};
use shepherd_engine::package::PackageCache;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{Desired, ReconcileOptions, apply, plan, resolve_desired_cached};
use shepherd_engine::rollouts::{RolloutStatus, rollout_status, status};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::handle::{CommandError, Controller, FunctionStatus, Trigger};
use crate::metrics::Metrics;
use crate::queue::WorkQueue;
use crate::source::SourceConfig;

mod prune;

/// The diagnostics of an invalid commit the status API carries (the log has them all).
const MAX_DIAGNOSTICS: usize = 20;

/// How often a rollout without metric analysis is reconciled while it holds (its pauses
/// end on their own schedule; the alarm watch covers its alarms in between).
const IDLE_ROLLOUT_RECHECK: Duration = Duration::from_secs(3600);

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

/// Validates the specs at `specs` (local code confined to `root`) and, when they are
/// valid, resolves them, packaging local code through `packages`. Blocking.
fn read_specs(
    specs: &Path,
    root: &Path,
    lint_config: Option<&Path>,
    packages: &PackageCache,
) -> (Report, Desired) {
    let config = lint_config.unwrap_or(Path::new(shepherd_core::lint::CONFIG_FILE_NAME));
    let lints = LintConfig::load(&specs.join(config)).unwrap_or_default();
    let report = shepherd_core::check_specs_within(&[specs.to_owned()], Some(root), &lints);
    let desired = if report.is_valid() {
        resolve_desired_cached(&report.functions, packages)
    } else {
        Desired::default()
    };
    (report, desired)
}

/// The controller's state, shared by its tasks and the HTTP server.
pub struct Core<C: Cloud> {
    cloud: Metered<C>,
    settings: Settings,
    queue: Arc<WorkQueue>,
    desired: RwLock<DesiredSet>,
    statuses: Mutex<BTreeMap<String, FunctionStatus>>,
    ready: AtomicBool,
    /// Functions of the first sync not yet reconciled once (ready when empty).
    first_round: Mutex<Option<HashSet<String>>>,
    metrics: Arc<Metrics>,
    source_sync: Notify,
    resyncs: AtomicU32,
    full_refresh: AtomicBool,
    /// The packages of local code folders, kept while their files do not change.
    packages: Arc<PackageCache>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<C: Cloud> Core<C> {
    pub fn new(cloud: Metered<C>, settings: Settings, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Self {
            cloud,
            settings,
            queue: Arc::new(WorkQueue::default()),
            desired: RwLock::new(DesiredSet::default()),
            statuses: Mutex::new(BTreeMap::new()),
            ready: AtomicBool::new(false),
            first_round: Mutex::new(None),
            metrics,
            source_sync: Notify::new(),
            resyncs: AtomicU32::new(0),
            full_refresh: AtomicBool::new(false),
            packages: Arc::new(PackageCache::default()),
        })
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
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.settings.workers.max(1) {
            workers.spawn(Arc::clone(&self).worker());
        }
        self.source_sync.notify_one();
        cancel.cancelled().await;
        tracing::info!("shutting down: finishing the reconciles in flight");
        self.queue.close();
        while workers.join_next().await.is_some() {}
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }

    async fn source_loop(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            self.sync_source().await;
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(self.settings.poll_interval) => {}
                () = self.source_sync.notified() => {}
            }
        }
    }

    /// Fetches the source; a new commit (or a changed folder) with valid specs replaces
    /// the desired state and queues every function. Invalid specs apply nothing: the
    /// previous desired state stays in force.
    async fn sync_source(&self) {
        let snapshot = match self.settings.source.sync().await {
            Ok(snapshot) => snapshot,
            Err(error) => {
                tracing::error!(%error, "cannot sync the spec source");
                return;
            }
        };
        let commit = snapshot.commit.clone();
        {
            // The same commit holds the same specs: nothing to validate or package again.
            let desired = self.desired.read().unwrap_or_else(PoisonError::into_inner);
            if commit.is_some() && desired.commit == commit {
                return;
            }
        }
        // Reading, validating and packaging touch every file of the checkout: off the
        // async runtime, so that probes, webhooks and rollbacks never wait for a disk.
        let specs = snapshot.root.clone();
        let root = self.settings.source.root();
        let lint_config = self.settings.lint_config.clone();
        let packages = Arc::clone(&self.packages);
        let read = tokio::task::spawn_blocking(move || {
            read_specs(&specs, &root, lint_config.as_deref(), &packages)
        })
        .await;
        let (report, resolved) = match read {
            Ok(read) => read,
            Err(error) => {
                tracing::error!(%error, "reading the specs failed");
                return;
            }
        };
        if !report.is_valid() {
            // Named inside the repository, as its authors know them, never by the
            // checkout's path on this host.
            let root = self.settings.source.root();
            let root = std::fs::canonicalize(&root).unwrap_or(root);
            let diagnostics: Vec<String> = report
                .diagnostics
                .iter()
                .filter(|d| d.severity == shepherd_core::diagnostic::Severity::Error)
                .map(|d| {
                    let mut d = d.clone();
                    if let Ok(inside) = d.file.strip_prefix(&root) {
                        d.file = inside.to_owned();
                    }
                    d.to_string()
                })
                .collect();
            for diagnostic in &diagnostics {
                tracing::error!(commit = commit.as_deref().unwrap_or("-"), %diagnostic, "invalid spec");
            }
            let message = format!(
                "the specs at {} are invalid ({}); the previous desired state stays in force",
                commit.as_deref().unwrap_or("the source"),
                shepherd_core::display::count(report.errors(), "error")
            );
            let mut statuses = lock(&self.statuses);
            for status in statuses.values_mut() {
                status.last_attempted_commit.clone_from(&commit);
                status.last_result = Some("invalid".to_owned());
                status.last_error = Some(message.clone());
                status.diagnostics = diagnostics.iter().take(MAX_DIAGNOSTICS).cloned().collect();
            }
            return;
        }
        for (name, error) in &resolved.errors {
            tracing::error!(function = %name, %error, "cannot package the function's code");
        }
        let package_errors = resolved.errors;
        let functions: BTreeMap<String, DesiredFunction> = resolved
            .functions
            .into_iter()
            .map(|f| (f.name.clone(), f))
            .collect();
        let changed = {
            let mut desired = self.desired.write().unwrap_or_else(PoisonError::into_inner);
            let same = desired.commit == commit
                && desired.functions.len() == functions.len()
                && desired
                    .functions
                    .iter()
                    .zip(&functions)
                    .all(|((a, x), (b, y))| a == b && x.spec_digest == y.spec_digest);
            desired.commit.clone_from(&commit);
            desired.functions = functions;
            desired.package_errors = package_errors;
            !same
        };
        if let Some(commit) = &commit {
            self.metrics.last_synced_commit.reset();
            self.metrics
                .last_synced_commit
                .with_label_values(&[commit.as_str()])
                .set(1);
        }
        {
            let names: HashSet<String> = self.function_names().into_iter().collect();
            let mut statuses = lock(&self.statuses);
            statuses.retain(|name, _| names.contains(name));
            // A valid commit: the errors of an earlier invalid one no longer apply.
            for status in statuses.values_mut() {
                status.diagnostics.clear();
            }
            drop(statuses);
            let mut first = lock(&self.first_round);
            if first.is_none() && !self.ready.load(Ordering::SeqCst) {
                if names.is_empty() {
                    self.ready.store(true, Ordering::SeqCst);
                }
                *first = Some(names);
            }
        }
        if changed {
            tracing::info!(
                commit = commit.as_deref().unwrap_or("-"),
                "new desired state"
            );
            let trigger = match &commit {
                Some(commit) => Trigger::GitPoll {
                    commit: commit.clone(),
                },
                None => Trigger::Resync,
            };
            self.enqueue_all(&trigger);
            self.queue.add(prune::PRUNE_KEY, Trigger::Prune);
        }
    }

    async fn resync_loop(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            let jitter = rand::rng().random_range(0.9..1.1);
            let wait = self.settings.resync_interval.mul_f64(jitter);
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(wait) => {}
            }
            let round = self.resyncs.fetch_add(1, Ordering::SeqCst) + 1;
            let every = self.settings.full_refresh_every.max(1);
            let full = round.is_multiple_of(every);
            self.full_refresh.store(full, Ordering::SeqCst);
            self.enqueue_all(&Trigger::Resync);
            if full {
                self.queue.add(prune::PRUNE_KEY, Trigger::Prune);
            }
        }
    }

    /// Copies the AWS call counters into Prometheus every few seconds.
    async fn stats_loop(self: Arc<Self>, cancel: CancellationToken) {
        let mut seen: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
        loop {
            for (api, outcome, count) in self.cloud.stats().snapshot() {
                let before = seen.insert((api, outcome), count).unwrap_or(0);
                let delta = count.saturating_sub(before);
                if delta > 0 {
                    self.metrics
                        .aws_calls
                        .with_label_values(&[api, outcome])
                        .inc_by(delta);
                    if outcome == "throttled" {
                        self.metrics
                            .throttles
                            .with_label_values(&[api])
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

    async fn worker(self: Arc<Self>) {
        while let Some((name, trigger)) = self.queue.next().await {
            self.metrics.queue_depth.set(self.queue.len() as i64);
            let commit = self
                .desired
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .commit
                .clone();
            let span = tracing::info_span!(
                "reconcile",
                function = %name,
                trigger = trigger.label(),
                commit = commit.as_deref().unwrap_or("-")
            );
            if name == prune::PRUNE_KEY {
                self.prune_step().instrument(span).await;
            } else {
                self.reconcile(&name, &trigger, commit)
                    .instrument(span)
                    .await;
            }
            self.queue.done(&name);
        }
    }

    async fn reconcile(&self, name: &str, trigger: &Trigger, commit: Option<String>) {
        tracing::info!("reconcile started");
        let (function, package_error) = {
            let desired = self.desired.read().unwrap_or_else(PoisonError::into_inner);
            (
                desired.functions.get(name).cloned(),
                desired.package_errors.get(name).cloned(),
            )
        };
        let Some(function) = function else {
            // Only the prune step deletes, and only what the spec set does not name: the
            // queue runs one reconcile per function at a time, so no reconcile of a
            // function the spec names again can overlap the deletion.
            if *trigger == Trigger::Prune {
                self.prune_function(name).await;
            }
            return;
        };
        let started = tokio::time::Instant::now();
        let mut options = self.settings.reconcile.clone();
        if *trigger == Trigger::Resync && self.full_refresh.load(Ordering::SeqCst) {
            options.refresh = Refresh::Full;
        }
        if function.analysis.is_none() {
            // The alarm watch looks at the gating alarms of every rollout in one batch per
            // poll; the function itself comes back when its pause ends. Only rollouts
            // with metric analysis need a reconcile per poll, for their metrics.
            options.plan.alarm_poll = IDLE_ROLLOUT_RECHECK;
        }
        let desired = Desired {
            functions: vec![function.clone()],
            errors: BTreeMap::new(),
        };
        let planned = plan(&self.cloud, &desired, &options).await;
        let first = planned.plans.first();
        let requeue = first.and_then(|p| p.requeue_after);
        // The status comes from the observation the plan was made with; only when the
        // plan moved the alias is it read again, after the move.
        let moves_alias = first.is_some_and(|p| {
            p.actions
                .iter()
                .any(|a| matches!(a, Action::UpdateAlias { .. } | Action::CreateAlias { .. }))
        });
        let observed_rollout = function.alias.as_ref().map(|_| {
            rollout_status(
                &function,
                &planned.observation,
                planned.errors.get(name).cloned(),
            )
        });
        // What the alias writes leave is known from the writes themselves: the status after
        // them needs no second observation.
        let mut after = moves_alias.then(|| planned.observation.clone());
        let report = apply(&self.cloud, planned, &options, &Silent)
            .await
            .into_iter()
            .next();
        if let Some(Outcome::Failed { error, .. }) = report.as_ref().map(|r| &r.outcome) {
            // In full here; the status API shows the summary, without AWS's messages.
            tracing::warn!(%error, "reconcile failed");
        }
        let (result, error) = match (report.as_ref().map(|r| &r.outcome), package_error) {
            (Some(Outcome::Failed { summary, .. }), _) => ("failed", Some(summary.clone())),
            // The rollout was guarded, but the commit's code is not deployed.
            (_, Some(error)) => ("failed", Some(error)),
            (Some(Outcome::Unchanged) | None, None) => ("unchanged", None),
            (Some(Outcome::Applied), None) => ("applied", None),
            (Some(Outcome::Refused { reason }), None) => ("refused", Some(reason.clone())),
        };
        let drift = report.as_ref().is_some_and(|r| r.drift_corrected);
        self.metrics
            .reconciles
            .with_label_values(&[trigger.label(), result])
            .inc();
        self.metrics
            .reconcile_seconds
            .with_label_values(&[trigger.label()])
            .observe(started.elapsed().as_secs_f64());
        if drift {
            self.metrics
                .drift_corrections
                .with_label_values(&[name])
                .inc();
        }
        match &error {
            Some(error) => tracing::warn!(result, %error, "reconcile ended"),
            None => tracing::info!(result, "reconcile ended"),
        }
        let written = report.as_ref().map_or(&[][..], |r| &r.aliases_written[..]);
        let updated = match after.as_mut() {
            Some(observation) if !written.is_empty() => {
                observation.after_alias_writes(name, written)
            }
            _ => false,
        };
        let rollout = match after {
            _ if written.is_empty() => observed_rollout,
            Some(observation) if updated => function
                .alias
                .as_ref()
                .map(|_| rollout_status(&function, &observation, None)),
            // Created by this reconcile: it was not in the observation.
            _ => status(&self.cloud, std::slice::from_ref(&function))
                .await
                .pop(),
        };
        self.record(name, commit, result, error, drift, rollout);
        if let Some(delay) = requeue {
            self.queue.add_after(
                name.to_owned(),
                Trigger::Resync,
                delay.max(Duration::from_secs(1)),
            );
        }
    }

    fn record(
        &self,
        name: &str,
        commit: Option<String>,
        result: &str,
        error: Option<String>,
        drift: bool,
        rollout: Option<RolloutStatus>,
    ) {
        let mut statuses = lock(&self.statuses);
        let status = statuses
            .entry(name.to_owned())
            .or_insert_with(|| FunctionStatus {
                name: name.to_owned(),
                ..FunctionStatus::default()
            });
        status.last_attempted_commit.clone_from(&commit);
        if error.is_none() {
            status.last_applied_commit = commit;
        }
        status.last_result = Some(result.to_owned());
        status.last_error = error;
        status.last_reconciled_at = Some(shepherd_engine::clock::unix_now());
        status.drift_corrections += u64::from(drift);
        drop(statuses);
        if let Some(rollout) = rollout {
            self.set_rollout(name, rollout);
        }
        let mut first = lock(&self.first_round);
        if let Some(pending) = first.as_mut() {
            pending.remove(name);
            if pending.is_empty() {
                self.ready.store(true, Ordering::SeqCst);
                *first = None;
            }
        }
    }

    /// Records where a function's rollout stands, and the metrics that follow from it.
    fn set_rollout(&self, name: &str, rollout: RolloutStatus) {
        let mut statuses = lock(&self.statuses);
        let status = statuses
            .entry(name.to_owned())
            .or_insert_with(|| FunctionStatus {
                name: name.to_owned(),
                ..FunctionStatus::default()
            });
        let was = status.rollout.as_ref().and_then(|r| r.phase());
        if rollout.phase() == Some(Phase::RolledBack) && was != Some(Phase::RolledBack) {
            self.metrics.rollbacks.with_label_values(&[name]).inc();
        }
        let weight = rollout
            .additional
            .as_ref()
            .filter(|_| rollout.in_flight())
            .map_or(0.0, |(_, w)| w * 100.0);
        self.metrics
            .canary_weight
            .with_label_values(&[name])
            .set(weight);
        status.rollout = Some(rollout);
        self.metrics.rollouts.reset();
        for status in statuses.values() {
            if let Some(phase) = status.rollout.as_ref().and_then(|r| r.phase()) {
                self.metrics
                    .rollouts
                    .with_label_values(&[&phase.to_string()])
                    .inc();
            }
        }
    }

    /// Every alarm poll, reads the gating alarms of all rollouts in flight in batches of
    /// 100 (`DescribeAlarms`) and queues the functions whose alarm has fired since their
    /// rollout started: one batch per poll for the whole fleet, not a call per function.
    async fn alarm_watch(self: Arc<Self>, cancel: CancellationToken) {
        let poll = self.settings.reconcile.plan.alarm_poll;
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(poll) => {}
            }
            let watched: Vec<(String, u64, Vec<String>)> = {
                let statuses = lock(&self.statuses);
                let desired = self.desired.read().unwrap_or_else(PoisonError::into_inner);
                statuses
                    .values()
                    .filter_map(|s| {
                        let record = s
                            .rollout
                            .as_ref()?
                            .record
                            .as_ref()
                            .filter(|r| r.phase.in_flight())?;
                        let function = desired.functions.get(&s.name)?;
                        Some((
                            s.name.clone(),
                            record.started,
                            function.gating_alarms.clone(),
                        ))
                    })
                    .collect()
            };
            if watched.is_empty() {
                continue;
            }
            let mut names: Vec<String> = watched
                .iter()
                .flat_map(|(_, _, a)| a.iter().cloned())
                .collect();
            names.sort();
            names.dedup();
            let mut alarms = BTreeMap::new();
            for chunk in names.chunks(100) {
                match self.cloud.describe_alarms(chunk).await {
                    Ok(found) => {
                        alarms.extend(found.into_iter().map(|a| (a.definition.name.clone(), a)))
                    }
                    Err(error) => tracing::warn!(%error, "cannot read the gating alarms"),
                }
            }
            for (name, started, gating) in &watched {
                if let Some(alarm) = shepherd_core::rollout::fired_alarm(gating, &alarms, *started)
                {
                    tracing::info!(function = %name, alarm = %alarm.definition.name, "gating alarm fired");
                    self.queue.add(
                        name,
                        Trigger::AlarmChange {
                            alarm: alarm.definition.name.clone(),
                            state: "ALARM".to_owned(),
                        },
                    );
                }
            }
        }
    }

    /// The functions whose rollouts an alarm gates.
    fn gated_by(&self, alarm: &str) -> Vec<String> {
        self.desired
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .functions
            .values()
            .filter(|f| f.gating_alarms.iter().any(|a| a == alarm))
            .map(|f| f.name.clone())
            .collect()
    }
}

impl<C: Cloud> Controller for Core<C> {
    fn request_sync(&self, trigger: Trigger) {
        match &trigger {
            Trigger::Resync => self.enqueue_all(&trigger),
            Trigger::GitPoll { .. } | Trigger::Webhook { .. } => self.source_sync.notify_one(),
            Trigger::DeployRequest { functions, commit } => {
                if commit.is_some() || functions.is_empty() {
                    self.source_sync.notify_one();
                }
                // Only functions of the desired state are queued: a request naming others
                // (a typo, or a flood of made-up names) is refused in one warning, not
                // queued name by name. A commit's own functions come with its sync.
                let (known, unknown): (Vec<&String>, Vec<&String>) = {
                    let desired = self.desired.read().unwrap_or_else(PoisonError::into_inner);
                    functions
                        .iter()
                        .partition(|name| desired.functions.contains_key(name.as_str()))
                };
                if !unknown.is_empty() {
                    let shown: Vec<String> = unknown
                        .iter()
                        .take(10)
                        .map(|n| escape_control(n).into_owned())
                        .collect();
                    tracing::warn!(
                        unknown = unknown.len(),
                        names = %shown.join(", "),
                        "deploy request names functions that are not in the desired state; those are ignored"
                    );
                    self.metrics
                        .rejected_triggers
                        .with_label_values(&[trigger.label()])
                        .inc();
                }
                for name in known {
                    self.queue.add(name, trigger.clone());
                }
                self.metrics.queue_depth.set(self.queue.len() as i64);
            }
            Trigger::Prune => self.queue.add(prune::PRUNE_KEY, Trigger::Prune),
            Trigger::AlarmChange { alarm, state } => {
                if state == "ALARM" {
                    for name in self.gated_by(alarm) {
                        self.queue.add(&name, trigger.clone());
                    }
                }
            }
        }
    }

    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    fn functions(&self) -> Vec<FunctionStatus> {
        let statuses = lock(&self.statuses);
        let now = shepherd_engine::clock::unix_now();
        self.function_names()
            .into_iter()
            .map(|name| {
                let mut status = statuses.get(&name).cloned().unwrap_or(FunctionStatus {
                    name,
                    ..FunctionStatus::default()
                });
                if let Some(rollout) = status.rollout.as_mut() {
                    rollout.at(now);
                }
                status
            })
            .collect()
    }

    async fn command(&self, name: &str, command: Command) -> Result<String, CommandError> {
        let function = self
            .desired
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .functions
            .get(name)
            .cloned()
            .ok_or_else(|| CommandError::NotFound(format!("no function named {name}")))?;
        let done = operate(&self.cloud, &RolloutTarget::from(&function), command)
            .await
            .map_err(|e| match e {
                OperateError::NotFound(_) | OperateError::Refused(_) => {
                    CommandError::Conflict(e.to_string())
                }
                OperateError::Cloud(..) | OperateError::Failed(_) => {
                    CommandError::Failed(e.to_string())
                }
            })?;
        // The status and the metrics show the new state at once (one read of the alias
        // the command just wrote), and the rollout continues from there.
        if let Some(rollout) = status(&self.cloud, std::slice::from_ref(&function))
            .await
            .pop()
        {
            self.set_rollout(name, rollout);
        }
        self.queue.add(name, Trigger::Resync);
        Ok(done)
    }
}
