//! A controller of several targets: one [`ControlLoop`] per target (its own AWS clients,
//! call budget, lease and desired state), behind the one [`Controller`] the HTTP server and
//! the triggers see. Triggers go to the loops they concern; statuses and leases are those
//! of every loop; a command goes to the loop whose target has the function.

use std::sync::Arc;
use std::time::Duration;

use shepherd_core::cloud::Cloud;
use shepherd_core::diagnostic::escape_control;
use shepherd_core::rollout::{Command, Execution};
use tokio_util::sync::CancellationToken;

use crate::controller::ControlLoop;
use crate::handle::{CommandError, Controller, FunctionStatus, LeaseStatus, Trigger};
use crate::leader::Renewal;

/// Every target's control loop.
pub struct Fleet<C: Cloud> {
    loops: Vec<Arc<ControlLoop<C>>>,
}

impl<C: Cloud> Fleet<C> {
    pub fn new(loops: Vec<Arc<ControlLoop<C>>>) -> Arc<Self> {
        Arc::new(Self { loops })
    }

    pub fn loops(&self) -> &[Arc<ControlLoop<C>>] {
        &self.loops
    }

    /// Runs every loop until `cancel`; returns when each has finished its work in flight.
    pub async fn run(self: Arc<Self>, cancel: CancellationToken) {
        let mut running = tokio::task::JoinSet::new();
        for control in &self.loops {
            running.spawn(Arc::clone(control).run(cancel.clone()));
        }
        while running.join_next().await.is_some() {}
    }
}

impl<C: Cloud> Controller for Fleet<C> {
    fn request_sync(&self, trigger: Trigger) {
        match &trigger {
            // Each name to the targets that have it; names no target has are refused by
            // one loop, in one warning.
            Trigger::DeployRequest { functions, commit } if !functions.is_empty() => {
                let mut unknown = Vec::new();
                for name in functions {
                    let owners: Vec<_> = self.loops.iter().filter(|l| l.manages(name)).collect();
                    if owners.is_empty() {
                        unknown.push(name.clone());
                    }
                    for control in owners {
                        control.request_sync(Trigger::DeployRequest {
                            functions: vec![name.clone()],
                            commit: commit.clone(),
                        });
                    }
                }
                if !unknown.is_empty()
                    && let Some(first) = self.loops.first()
                {
                    first.request_sync(Trigger::DeployRequest {
                        functions: unknown,
                        commit: commit.clone(),
                    });
                }
                if commit.is_some() {
                    // A commit is every target's news.
                    for control in &self.loops {
                        control.request_sync(Trigger::SourceChange);
                    }
                }
            }
            _ => {
                for control in &self.loops {
                    control.request_sync(trigger.clone());
                }
            }
        }
    }

    fn is_ready(&self) -> bool {
        self.loops.iter().all(|l| l.is_ready())
    }

    fn functions(&self) -> Vec<FunctionStatus> {
        let mut all: Vec<FunctionStatus> = self.loops.iter().flat_map(|l| l.functions()).collect();
        all.sort_by(|a, b| (&a.name, &a.target).cmp(&(&b.name, &b.target)));
        all
    }

    fn leases(&self) -> Vec<LeaseStatus> {
        self.loops.iter().flat_map(|l| l.leases()).collect()
    }

    async fn lease_watch(
        &self,
        target: &str,
        after: Option<String>,
        follower: Option<(String, usize)>,
        wait: Duration,
    ) -> Option<Renewal> {
        let control = self.loops.iter().find(|l| l.target() == target)?;
        control.lease_watch(target, after, follower, wait).await
    }

    async fn command(&self, name: &str, command: Command) -> Result<String, CommandError> {
        self.command_in(None, name, command).await
    }

    async fn command_in(
        &self,
        target: Option<&str>,
        name: &str,
        command: Command,
    ) -> Result<String, CommandError> {
        self.owner(target, name)?.command(name, command).await
    }

    async fn hook_report(
        &self,
        execution: Execution,
        id: String,
        result: Result<(), String>,
    ) -> Result<String, CommandError> {
        let owner = self.owner(execution.target.as_deref(), &execution.function)?;
        owner.hook_report(execution, id, result).await
    }
}

impl<C: Cloud> Fleet<C> {
    /// The loop that manages function `name` in `target` (in any target when `None`).
    fn owner(
        &self,
        target: Option<&str>,
        name: &str,
    ) -> Result<&Arc<ControlLoop<C>>, CommandError> {
        let owners: Vec<&Arc<ControlLoop<C>>> = self
            .loops
            .iter()
            .filter(|l| l.manages(name) && target.is_none_or(|t| l.target() == t))
            .collect();
        match owners[..] {
            [] => Err(CommandError::NoSuchFunction {
                name: name.to_owned(),
            }),
            [control] => Ok(control),
            _ => Err(CommandError::Ambiguous {
                name: escape_control(name).into_owned(),
                targets: owners.iter().map(|l| l.target().to_owned()).collect(),
            }),
        }
    }
}
