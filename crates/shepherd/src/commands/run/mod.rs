//! `shepherd run`: the long-running controller.

use std::process::ExitCode;
use std::sync::Arc;

use shepherd_aws::{AwsCloud, DynamoLeases, SqsQueue};
use shepherd_controller::controller::{ControlLoop, TargetScope};
use shepherd_controller::fleet::Fleet;
use shepherd_controller::handle::{Controller, Trigger};
use shepherd_controller::leader::{self, Leadership};
use shepherd_controller::metrics::Metrics;
use shepherd_controller::server::{ReadAccess, Secrets, ServerState, router, serve_with};
use shepherd_controller::triggers::{Message, MessageQueue, consume};
use shepherd_core::lease::Elector;
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::metered::Metered;
use shepherd_engine::retry::RetryPolicy;
use tokio_util::sync::CancellationToken;

use super::session::runtime;
use crate::cli::RunArgs;

mod config;
mod hooks;
mod targets;

use config::resolve;

/// The controller's trigger queues on SQS, read only by the holder of the first target's
/// lease: a standby leaves the messages for it. Their triggers reach every target this
/// replica holds; one for a target held elsewhere waits for that holder's resync or poll.
/// A message taken just before the lease moves is not lost either: the next holder looks
/// at every function as it takes the lease.
struct SqsTriggers {
    queue: SqsQueue,
    leadership: Leadership,
    stop: CancellationToken,
}

impl MessageQueue for SqsTriggers {
    async fn receive(&self, url: &str) -> Result<Vec<Message>, String> {
        if !self.leadership.clone().until_holder(&self.stop).await {
            return Ok(Vec::new());
        }
        let received = self.queue.receive(url).await?;
        Ok(received
            .into_iter()
            .map(|m| Message {
                body: m.body,
                receipt: m.receipt,
                receive_count: m.receive_count,
            })
            .collect())
    }

    async fn delete(&self, url: &str, receipt: &str) -> Result<(), String> {
        self.queue.delete(url, receipt).await
    }
}

fn secrets() -> Secrets {
    let var = |name: &str| std::env::var(name).ok();
    Secrets {
        github_webhook_secret: var("SHEPHERD_GITHUB_WEBHOOK_SECRET"),
        gitlab_token: var("SHEPHERD_GITLAB_TOKEN"),
        generic_webhook_secret: var("SHEPHERD_WEBHOOK_SECRET"),
        api_token: var("SHEPHERD_API_TOKEN"),
        hook_callback_key: None,
    }
}

/// The first SIGTERM or SIGINT cancels (graceful); a second exits at once.
fn watch_signals(cancel: CancellationToken) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(error) => {
                    tracing::error!(%error, "cannot watch SIGTERM");
                    return;
                }
            };
        for count in 0.. {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            if count == 0 {
                tracing::info!("signal received: finishing the work in flight (again to force)");
                cancel.cancel();
            } else {
                tracing::warn!("second signal: exiting now");
                std::process::exit(130);
            }
        }
    });
}

pub fn run(args: &RunArgs) -> ExitCode {
    let resolved = match resolve(args) {
        Ok(resolved) => resolved,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime().block_on(async move {
        let metrics = Arc::new(Metrics::new());
        let cancel = CancellationToken::new();
        watch_signals(cancel.clone());
        // The leases outlive the control loops: they are released only once their
        // reconciles in flight have finished, so no two replicas ever write at once.
        let release = CancellationToken::new();
        let table = match &resolved.leases {
            Some(leases) => {
                tracing::info!(
                    table = %leases.table,
                    replica = %resolved.replica,
                    url = %leases.advertise_url,
                    targets = resolved.targets.len(),
                    "high availability: acting on a target only while holding its lease"
                );
                Some(Arc::new(
                    DynamoLeases::from_env(
                        leases.table.clone(),
                        args.aws.region.clone(),
                        args.aws.endpoint_url.clone(),
                    )
                    .await,
                ))
            }
            None => None,
        };
        let target_names = Arc::new(resolved.target_names.clone());
        let mut loops = Vec::new();
        let mut lease_tasks = Vec::new();
        // What this replica's lease tasks share, to spread the targets over the replicas
        // (see `leader::spread`).
        let share = leader::spread::Share::new(resolved.targets.len());
        for target in &resolved.targets {
            let cloud = AwsCloud::for_target(
                target.region.clone().or(args.aws.region.clone()),
                args.aws.endpoint_url.clone(),
                target.role.as_ref(),
            )
            .await
            .with_hook_secrets(resolved.hooks.secrets.clone());
            let rates = Rates {
                lambda_control: target.lambda_rate,
                ..Rates::default()
            };
            let budget = Budget::with_routine_share(rates, resolved.resync_budget_share);
            let cloud = Metered::new(cloud, Arc::new(budget), RetryPolicy::default());
            let leadership = match (&table, &resolved.leases) {
                (Some(table), Some(leases)) => {
                    let elector = Elector::new(
                        target.name.clone(),
                        resolved.replica.clone(),
                        Some(leases.advertise_url.clone()),
                        leases.settings.clone(),
                    );
                    let (leadership, task) = leader::spawn_among(
                        Arc::clone(table),
                        elector,
                        release.clone(),
                        Arc::clone(&share),
                    );
                    tokio::spawn(leader::follow::follow(
                        leadership.clone(),
                        leases.settings.heartbeat,
                        release.clone(),
                    ));
                    lease_tasks.push(task);
                    leadership
                }
                _ => Leadership::always(target.name.clone()),
            };
            let mut settings = resolved.settings.clone();
            settings.target = TargetScope {
                targets: Arc::clone(&target_names),
                this: target.name.clone(),
            };
            let mut hooks = resolved.hooks.settings.clone();
            if resolved.targets.len() > 1 {
                settings.source = settings.source.for_target(&target.name);
                // Execution ids name the target, so a callback reaches the right loop.
                hooks.target = Some(target.name.clone());
            }
            settings.reconcile.execute.hooks = Arc::new(hooks);
            loops.push(ControlLoop::with_leadership(
                cloud,
                settings,
                Arc::clone(&metrics),
                leadership,
            ));
        }
        // The SQS triggers follow the first target's lease (see `SqsTriggers`).
        let leadership = loops[0].leadership().clone();
        let core = Fleet::new(loops);

        let listener = match tokio::net::TcpListener::bind(&resolved.listen).await {
            Ok(listener) => listener,
            Err(error) => {
                eprintln!("error: cannot listen on {}: {error}", resolved.listen);
                return ExitCode::FAILURE;
            }
        };
        let mut secrets = secrets();
        secrets
            .hook_callback_key
            .clone_from(&resolved.hooks.settings.callback_key);
        if resolved.read_access == ReadAccess::Token && secrets.api_token.is_none() {
            tracing::warn!(
                "--protect-status without SHEPHERD_API_TOKEN: the status API answers 404 to everyone"
            );
        }
        let app = router(
            ServerState::new(Arc::clone(&core), Arc::clone(&metrics), secrets)
                .with_read_access(resolved.read_access),
        );
        let server = tokio::spawn(serve_with(
            listener,
            app,
            cancel.clone().cancelled_owned(),
            resolved.limits,
        ));

        // The controller's queues go to every target, read by the first target's holder;
        // a target's own queues (`targets[].queues`, in its account) to that target only,
        // read by its holder.
        let everyone: Arc<dyn Fn(Trigger) + Send + Sync> = {
            let core = Arc::clone(&core);
            Arc::new(move |trigger| core.request_sync(trigger))
        };
        let mut readers = vec![(
            resolved.queues.clone(),
            leadership.clone(),
            None,
            Arc::clone(&everyone),
        )];
        for (target, control) in resolved.targets.iter().zip(core.loops()) {
            let leadership = control.leadership().clone();
            let control = Arc::clone(control);
            let deliver: Arc<dyn Fn(Trigger) + Send + Sync> =
                Arc::new(move |trigger| control.request_sync(trigger));
            readers.push((target.queues.clone(), leadership, target.role.clone(), deliver));
        }
        for (queues, leadership, role, deliver) in readers {
            for (url, parse) in queues.parsers() {
                let sqs = SqsTriggers {
                    queue: SqsQueue::for_target(
                        args.aws.region.clone(),
                        args.aws.endpoint_url.clone(),
                        role.as_ref(),
                    )
                    .await,
                    leadership: leadership.clone(),
                    stop: cancel.clone(),
                };
                let deliver = Arc::clone(&deliver);
                let stop = cancel.clone().cancelled_owned();
                tokio::spawn(async move {
                    consume(&sqs, &url, parse, |trigger| deliver(trigger), stop).await;
                });
            }
        }

        Arc::clone(&core).run(cancel).await;
        release.cancel();
        for task in lease_tasks {
            let _ = task.await;
        }
        match server.await {
            Ok(Ok(())) => ExitCode::SUCCESS,
            Ok(Err(error)) => {
                eprintln!("error: the HTTP server failed: {error}");
                ExitCode::FAILURE
            }
            Err(_) => ExitCode::FAILURE,
        }
    })
}
