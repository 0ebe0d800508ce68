//! Keeping the desired state: the source loop reads the specs (git or a folder) on its
//! poll and on demand, and the resync timer queues every function, with jitter, every
//! resync interval.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError};

use rand::Rng;
use shepherd_core::cloud::Cloud;
use shepherd_core::lint::LintConfig;
use shepherd_core::model::DesiredFunction;
use shepherd_core::validate::Report;
use shepherd_engine::package::PackageCache;
use shepherd_engine::reconcile::{Desired, resolve_desired_cached};
use tokio_util::sync::CancellationToken;

use crate::handle::{ReconcileResult, Trigger};

use super::{ControlLoop, lock, prune};

/// The diagnostics of an invalid commit the status API carries (the log has them all).
const MAX_DIAGNOSTICS: usize = 20;

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

    pub(super) async fn resync_loop(self: Arc<Self>, cancel: CancellationToken) {
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
}
