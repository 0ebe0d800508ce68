//! Rollout gates on the in-memory fake, in virtual time: a closed `beforeStep` gate holds
//! every weight step (the first included), a closed `beforePromote` gate holds the
//! promotion, waiting is never a failure, and an open `rollback` gate rolls back at once.

use std::sync::Arc;
use std::time::Duration;

use shepherd_core::cloud::*;
use shepherd_core::rollout::Phase;
use shepherd_engine::execute::HookSettings;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{Desired, ReconcileOptions, apply, plan};
use shepherd_engine::rollouts::status;
use shepherd_fake::FakeCloud;

mod common;
use common::*;

const STEP: &str = "https://ci.example.com/gates/step";
const PROMOTE: &str = "https://ci.example.com/gates/promote";
const KILL: &str = "https://ci.example.com/gates/kill";

const GATED: &str = "    steps: [{setWeight: 10}, {pause: {duration: 1m}}, {setWeight: 50}, {pause: {duration: 1m}}]
    gates:
      beforeStep: [{name: step-ok, http: {url: 'https://ci.example.com/gates/step'}}]
      beforePromote: [{name: promote-ok, http: {url: 'https://ci.example.com/gates/promote', method: GET}}]
      rollback: [{name: kill, http: {url: 'https://ci.example.com/gates/kill'}}]";

fn gate_options() -> ReconcileOptions {
    let mut options = options();
    options.execute.hooks = Arc::new(HookSettings {
        allowed_urls: vec!["https://ci.example.com/gates/".into()],
        ..HookSettings::default()
    });
    options
}

async fn gated_pass(cloud: &FakeCloud, desired: &Desired) {
    let options = gate_options();
    let planned = plan(cloud, desired, &options).await;
    apply(cloud, planned, &options, &Silent).await;
}

fn routing(cloud: &FakeCloud) -> (String, Option<(String, f64)>) {
    let alias = cloud.alias("api", "live").unwrap();
    (alias.version, alias.additional_version)
}

fn open(cloud: &FakeCloud, url: &str) {
    cloud.script_web(
        url,
        Ok(WebResponse {
            status: 200,
            body: "go".into(),
        }),
    );
}

/// Passes a minute apart, `n` of them, with every gate closed (nothing answers).
async fn closed_for(cloud: &FakeCloud, desired: &Desired, n: usize) {
    for _ in 0..n {
        tokio::time::sleep(Duration::from_secs(60)).await;
        gated_pass(cloud, desired).await;
    }
}

#[tokio::test(start_paused = true)]
async fn closed_gates_hold_each_step_and_the_promotion_until_they_open() {
    let (cloud, repo) = deployed(GATED).await;
    let desired = repo.desired();
    // The release starts with no traffic: its first step waits for the gate.
    gated_pass(&cloud, &desired).await;
    closed_for(&cloud, &desired, 5).await;
    assert_eq!(routing(&cloud), ("1".into(), None));
    assert_eq!(record(&cloud).unwrap().phase, Phase::Progressing);
    let shown = status(&cloud, &desired.functions).await;
    assert!(shown[0].waiting_for_gate.is_none(), "status reads no gate");
    let planned = plan(&cloud, &desired, &gate_options()).await;
    let shown = shepherd_engine::rollouts::rollout_status(
        &desired.functions[0],
        &planned.observation,
        None,
    );
    assert_eq!(shown.waiting_for_gate.as_deref(), Some("step-ok"));
    assert_eq!(shown.gates.len(), 3);
    assert!(shown.gates.iter().all(|g| !g.open));
    let calls = cloud.web_calls();
    let body: serde_json::Value = serde_json::from_str(&calls[0].body).unwrap();
    assert_eq!(
        (
            body["phase"].as_str(),
            body["gate"].as_str(),
            body["canaryVersion"].as_str()
        ),
        (Some("beforeStep"), Some("step-ok"), Some("2"))
    );

    // Open for one poll: the first weight.
    open(&cloud, STEP);
    tokio::time::sleep(Duration::from_secs(60)).await;
    gated_pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));
    // The pause runs out; the next weight waits for the gate again.
    closed_for(&cloud, &desired, 4).await;
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));
    open(&cloud, STEP);
    tokio::time::sleep(Duration::from_secs(60)).await;
    gated_pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.5))));
    // The last pause runs out; the promotion waits for its own gate.
    open(&cloud, STEP);
    closed_for(&cloud, &desired, 4).await;
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.5))));
    open(&cloud, PROMOTE);
    tokio::time::sleep(Duration::from_secs(60)).await;
    gated_pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("2".into(), None));
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
    // The promote gate is a GET: no body.
    let promote = cloud
        .web_calls()
        .into_iter()
        .find(|c| c.url == PROMOTE)
        .unwrap();
    assert_eq!((promote.method, promote.body.as_str()), ("GET", ""));
}

#[tokio::test(start_paused = true)]
async fn an_open_rollback_gate_rolls_back_at_once() {
    let (cloud, repo) = deployed(GATED).await;
    let desired = repo.desired();
    gated_pass(&cloud, &desired).await;
    open(&cloud, STEP);
    gated_pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));
    open(&cloud, KILL);
    tokio::time::sleep(Duration::from_secs(10)).await;
    gated_pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("1".into(), None));
    let record = record(&cloud).unwrap();
    assert_eq!(record.phase, Phase::RolledBack);
    assert_eq!(
        record.reason.as_deref(),
        Some("rollback gate kill is open: HTTP 200: go")
    );
}

#[tokio::test(start_paused = true)]
async fn a_gate_the_controller_does_not_allow_stays_closed_and_is_never_called() {
    let (cloud, repo) = deployed(GATED).await;
    let desired = repo.desired();
    // `apply` and every pass without `hooks.allowedUrls`: the gates are closed.
    for _ in 0..5 {
        pass(&cloud, &desired).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    assert!(cloud.web_calls().is_empty());
    assert_eq!(routing(&cloud), ("1".into(), None));
    assert_eq!(record(&cloud).unwrap().phase, Phase::Progressing);
}

#[tokio::test(start_paused = true)]
async fn an_operator_promotes_past_a_closed_gate() {
    let (cloud, repo) = deployed(GATED).await;
    let desired = repo.desired();
    gated_pass(&cloud, &desired).await;
    closed_for(&cloud, &desired, 2).await;
    assert_eq!(routing(&cloud), ("1".into(), None));
    let api = desired.functions.iter().find(|f| f.name == "api").unwrap();
    shepherd_engine::operator::operate(
        &cloud,
        &shepherd_engine::operator::RolloutTarget::from(api),
        shepherd_core::rollout::Command::Promote { full: false },
    )
    .await
    .unwrap();
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));
}
