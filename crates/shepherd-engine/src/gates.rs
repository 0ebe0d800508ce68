//! Polling the gates of the rollouts in flight: each is asked once per pass, before the
//! plan, and its answer is evidence for the state machine like an alarm's state. A gate
//! that cannot be asked (down, not allowed, fenced) is closed: a step waits for it, a kill
//! switch does not fire.

use serde::Serialize;
use shepherd_core::cloud::Cloud;
use shepherd_core::model::{DesiredFunction, GateReading, Observation};
use shepherd_core::spec::{Gate, GateKind};

use crate::execute::HookSettings;
use crate::execute::hooks::{Subject, allowed, quoted, web_request};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    #[serde(flatten)]
    subject: Subject<'a>,
    gate: &'a str,
}

/// Asks the gates of every function of `desired` whose rollout is in flight, into
/// `observation.gates`.
pub async fn poll_gates<C: Cloud>(
    cloud: &C,
    desired: &[DesiredFunction],
    observation: &mut Observation,
    settings: &HookSettings,
) {
    for function in desired.iter().filter(|d| !d.gates.is_empty()) {
        let Some(alias) = function.alias.as_ref().and_then(|a| {
            observation
                .functions
                .get(&function.name)
                .and_then(|f| f.alias(&a.name))
        }) else {
            continue;
        };
        let Some(record) = alias.record().filter(|r| r.phase.in_flight()) else {
            continue;
        };
        // A rollout of another release than the spec's (superseded next, or guarded while
        // the spec's code cannot be packaged) takes no step: only its kill switch counts.
        let current = function.is_release(&record.release);
        let weight = match &alias.additional_version {
            Some((_, share)) => share * 100.0,
            None if alias.version == record.canary => 100.0,
            None => 0.0,
        };
        let mut asks = Vec::new();
        for kind in [
            GateKind::BeforeStep,
            GateKind::BeforePromote,
            GateKind::Rollback,
        ] {
            if !current && kind != GateKind::Rollback {
                continue;
            }
            for (index, gate) in function.gates.of(kind).iter().enumerate() {
                let name = gate.display_name();
                let payload = Payload {
                    subject: Subject {
                        function: &function.name,
                        alias: &alias.name,
                        stable_version: &record.stable,
                        canary_version: &record.canary,
                        weight,
                        step: record.step,
                        phase: kind.spec_name(),
                        release: &record.release,
                        commit: settings.commit.as_deref(),
                    },
                    gate: &name,
                };
                let body = serde_json::to_string(&payload).expect("a payload serializes");
                asks.push(async move {
                    let (open, detail) = ask(cloud, gate, body, settings).await;
                    tracing::debug!(gate = %name, kind = kind.spec_name(), open, %detail, "gate polled");
                    GateReading {
                        kind,
                        index,
                        name,
                        open,
                        detail,
                    }
                });
            }
        }
        // All at once: a pass waits for the slowest gate, not for their sum.
        let readings = futures::future::join_all(asks).await;
        observation.gates.insert(function.name.clone(), readings);
    }
}

async fn ask<C: Cloud>(
    cloud: &C,
    gate: &Gate,
    body: String,
    settings: &HookSettings,
) -> (bool, String) {
    if let Err(why) = allowed(settings, &gate.http.url) {
        return (false, why);
    }
    match cloud.call(&web_request(&gate.http, body)).await {
        Ok(response) => (
            response.status <= 202,
            format!("HTTP {}: {}", response.status, quoted(&response.body)),
        ),
        Err(error) => (false, error.to_string()),
    }
}
