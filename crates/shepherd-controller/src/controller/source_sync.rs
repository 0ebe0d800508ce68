//! Keeping the desired state: the source loop reads the specs (git or a folder) on its
//! poll and on demand, and the resync timer queues every function, with jitter, every
//! resync interval.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use rand::Rng;
use shepherd_core::cloud::Cloud;
use shepherd_core::lint::LintConfig;
use shepherd_core::model::DesiredFunction;
use shepherd_core::validate::Report;
use shepherd_core::validate::targets::select;
use shepherd_engine::package::PackageCache;
use shepherd_engine::reconcile::{Desired, resolve_desired_cached};
use tokio_util::sync::CancellationToken;

use crate::handle::{ReconcileResult, Trigger};

use super::{ControlLoop, TargetScope, lock, prune};

/// The diagnostics of an invalid commit the status API carries (the log has them all).
const MAX_DIAGNOSTICS: usize = 20;

/// Validates the specs at `specs` (local code confined to `root`) and, when they are
/// valid, resolves them, packaging local code through `packages`. Blocking.
fn read_specs(
    specs: &Path,
    root: &Path,
    lint_config: Option<&Path>,
    packages: &PackageCache,
    scope: &TargetScope,
) -> (Report, Desired) {
    let config = lint_config.unwrap_or(Path::new(shepherd_core::lint::CONFIG_FILE_NAME));
    let lints = LintConfig::load(&specs.join(config)).unwrap_or_default();
    let mut report = shepherd_core::check_specs_within(&[specs.to_owned()], Some(root), &lints);
    // Every spec's target is checked (a commit with a spec naming an unknown target is
    // invalid for every target), and only this target's functions are kept.
    select(&mut report, &scope.targets, Some(&scope.this));
    let desired = if report.is_valid() {
        resolve_desired_cached(&report.functions, packages)
    } else {
        Desired::default()
    };
    (report, desired)
}

impl<C: Cloud> ControlLoop<C> {
    pub(super) async fn source_loop(self: Arc<Self>, cancel: CancellationToken) {
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
    pub(super) async fn sync_source(&self) {
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
        let scope = self.settings.target.clone();
        let read = tokio::task::spawn_blocking(move || {
            read_specs(&specs, &root, lint_config.as_deref(), &packages, &scope)
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
                status.last_result = Some(ReconcileResult::Invalid);
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
            // The error policy's counts, too: a function gone from the specs has no retry.
            lock(&self.failures).retain(|name, _| names.contains(name));
            // A valid commit: the errors of an earlier invalid one no longer apply.
            for status in statuses.values_mut() {
                status.diagnostics.clear();
            }
            drop(statuses);
            self.synced.store(true, Ordering::SeqCst);
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
                None => Trigger::SourceChange,
            };
            self.enqueue_all(&trigger);
            self.queue.add(prune::PRUNE_KEY, Trigger::Prune);
        }
    }

    /// The periodic resync, spread over its interval: one function at a time, evenly
    /// spaced, never faster than the routine share of the budget pays for (see
    /// [`resync_pace`]), so that drift checks never crowd out releases and rollbacks.
    pub(super) async fn resync_loop(self: Arc<Self>, cancel: CancellationToken) {
        loop {
            let jitter = rand::rng().random_range(0.9..1.1);
            let wait = self.settings.resync_interval.mul_f64(jitter);
            let started = tokio::time::Instant::now();
            // Round 0 only waits: the first sync has just read everything.
            let round = self.resyncs.fetch_add(1, Ordering::SeqCst);
            let every = self.settings.full_refresh_every.max(1);
            let full = round > 0 && round.is_multiple_of(every);
            if round > 0 {
                self.full_refresh.store(full, Ordering::SeqCst);
                let names = self.function_names();
                let budget = self.cloud.budget();
                let pace = resync_pace(
                    names.len(),
                    wait,
                    if full {
                        FULL_REFRESH_CALLS
                    } else {
                        RESYNC_CALLS
                    },
                    budget.rates().lambda_control * budget.routine_share(),
                );
                self.metrics
                    .resync_round_seconds
                    .set(pace.round.as_secs_f64());
                if pace.stretched {
                    tracing::warn!(
                        functions = names.len(),
                        interval = ?wait,
                        round = ?pace.round,
                        "the fleet is too large to resync within the interval on the routine share of the budget: the resync is stretched"
                    );
                }
                if full {
                    self.queue.add(prune::PRUNE_KEY, Trigger::Prune);
                }
                for name in names {
                    self.queue.add(&name, Trigger::Resync);
                    self.metrics.queue_depth.set(self.queue.len() as i64);
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        () = tokio::time::sleep(pace.spacing) => {}
                    }
                }
            }
            let left = wait.saturating_sub(started.elapsed());
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(left) => {}
            }
        }
    }
}

/// Lambda control-plane calls a resync of one unchanged function costs (`ListAliases`;
/// `GetFunction` has its own quota), and a full refresh (aliases, versions, async config,
/// provisioned concurrency, recursion).
const RESYNC_CALLS: f64 = 1.0;
const FULL_REFRESH_CALLS: f64 = 5.0;

/// How a resync round is spread.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct ResyncPace {
    /// Between two functions queued.
    pub spacing: Duration,
    /// The whole round.
    pub round: Duration,
    /// The round takes longer than the interval: the fleet is too large for it on the
    /// routine share.
    pub stretched: bool,
}

/// `functions` spread evenly over `interval`, each costing `calls`, at no more than
/// `rate` calls per second.
pub(super) fn resync_pace(
    functions: usize,
    interval: Duration,
    calls: f64,
    rate: f64,
) -> ResyncPace {
    let n = functions.max(1) as f64;
    let even = interval.as_secs_f64() / n;
    let affordable = calls / rate.max(0.001);
    let spacing = Duration::from_secs_f64(even.max(affordable));
    let round = spacing.mul_f64(n);
    ResyncPace {
        spacing,
        round,
        stretched: affordable > even,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_is_spread_over_the_interval_and_stretched_when_the_share_cannot_pay() {
        let minute = Duration::from_secs(60);
        // 100 functions a minute at 5 calls/s (a third of 15): fits, one every 0.6 s.
        let fits = resync_pace(100, minute, RESYNC_CALLS, 5.0);
        assert_eq!(fits.spacing, Duration::from_millis(600));
        assert!(!fits.stretched);
        // 10,000 functions: 5 a second at most, so the round takes 2,000 s.
        let large = resync_pace(10_000, minute, RESYNC_CALLS, 5.0);
        assert_eq!(large.spacing, Duration::from_millis(200));
        assert_eq!(large.round, Duration::from_secs(2000));
        assert!(large.stretched);
        // A full refresh costs five times as much.
        let full = resync_pace(100, minute, FULL_REFRESH_CALLS, 5.0);
        assert_eq!(full.round, Duration::from_secs(100));
        assert!(full.stretched);
    }
}
