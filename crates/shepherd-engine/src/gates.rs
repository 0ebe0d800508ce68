//! Polling the gates of the rollouts in flight: each is asked once per pass, before the
//! plan, and its answer is evidence for the state machine like an alarm's state. A gate
//! that cannot be asked (down, not allowed, fenced) is closed: a step waits for it, a kill
//! switch does not fire.

use serde::Serialize;
use shepherd_core::cloud::Cloud;
use shepherd_core::model::{DesiredFunction, GateReading, Observation};
use shepherd_core::spec::Gate;

use crate::execute::HookSettings;
use crate::execute::hooks::{allowed, quoted, web_request};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    function: &'a str,
    alias: &'a str,
    stable_version: &'a str,
    canary_version: &'a str,
    /// The new version's share of traffic now, in percent.
    weight: f64,
    step: usize,
    phase: &'static str,
    release: &'a str,
    commit: Option<&'a str>,
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
        let Some(record) = alias
            .record()
            .filter(|r| r.phase.in_flight() && function.is_release(&r.release))
        else {
            continue;
        };
        let weight = match &alias.additional_version {
            Some((_, share)) => share * 100.0,
            None if alias.version == record.canary => 100.0,
            None => 0.0,
        };
        let mut readings = Vec::new();
        for (kind, gate) in function.gates.all() {
            let name = gate.display_name();
            let payload = Payload {
                function: &function.name,
                alias: &alias.name,
                stable_version: &record.stable,
                canary_version: &record.canary,
                weight,
                step: record.step,
                phase: kind.spec_name(),
                release: &record.release,
                commit: settings.commit.as_deref(),
                gate: &name,
            };
            let body = serde_json::to_string(&payload).expect("a payload serializes");
            let (open, detail) = ask(cloud, gate, body, settings).await;
            tracing::debug!(function = %function.name, gate = %name, kind = kind.spec_name(), open, %detail, "gate polled");
            readings.push(GateReading {
                kind,
                name,
                open,
                detail,
            });
        }
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
