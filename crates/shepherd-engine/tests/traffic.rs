//! Synthetic traffic on the in-memory fake, in virtual time: a batch to the canary version
//! before it gets any traffic and one at the start of each timed pause, each sent once and
//! recorded with the rollout; errors beyond `maxErrors` roll back; invocations that cannot
//! be made are no verdict; and the invocations count toward the analysis.

use std::time::Duration;

use shepherd_core::cloud::*;
use shepherd_core::rollout::{HookCursor, Phase, Stage};
use shepherd_engine::progress::Silent;
use shepherd_engine::settle::apply_until_settled;
use shepherd_fake::FakeCloud;

mod common;
use common::*;

const TRAFFIC: &str = "    steps: [{setWeight: 10}, {pause: {duration: 1m}}, {setWeight: 50}, {pause: {duration: 1m}}]
    traffic: {payload: {order: 42}, invocations: 4, concurrency: 2}";

fn routing(cloud: &FakeCloud) -> (String, Option<(String, f64)>) {
    let alias = cloud.alias("api", "live").unwrap();
    (alias.version, alias.additional_version)
}

fn failed(payload: &str) -> Invocation {
    Invocation {
        status: 200,
        function_error: Some("Unhandled".into()),
        payload: payload.to_owned(),
        executed_version: None,
    }
}

/// Passes until the rollout is no longer in flight, a minute of virtual time apart.
async fn run_out(cloud: &FakeCloud, repo: &Repo) {
    let desired = repo.desired();
    for _ in 0..20 {
        pass(cloud, &desired).await;
        if record(cloud).is_some_and(|r| !r.phase.in_flight()) {
            return;
        }
        tokio::time::advance(Duration::from_secs(30)).await;
    }
    panic!("the rollout did not end: {:?}", record(cloud));
}

#[tokio::test(start_paused = true)]
async fn a_batch_goes_to_the_canary_version_before_traffic_and_at_each_timed_pause_once() {
    let (cloud, repo) = deployed(TRAFFIC).await;
    let desired = repo.desired();
    // The release starts at its batch before traffic: the alias stays on version 1.
    pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("1".into(), None));
    assert_eq!(
        record(&cloud).unwrap().hook,
        Some(HookCursor::first(Stage::PreTraffic))
    );
    assert!(cloud.invocations("api").is_empty());
    // The batch: four invocations of version 2 itself with the spec's payload, then the
    // first weight.
    pass(&cloud, &desired).await;
    let sent = cloud.invocations("api");
    assert_eq!(sent.len(), 4);
    for (version, payload) in &sent {
        assert_eq!(version, "2");
        assert_eq!(payload, r#"{"order":42}"#);
    }
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));
    // The pause's batch, sent once however many passes look at the pause.
    for _ in 0..3 {
        pass(&cloud, &desired).await;
    }
    assert_eq!(cloud.invocations("api").len(), 8);
    let paused = record(&cloud).unwrap();
    assert_eq!((paused.step, paused.traffic_sent), (1, Some(1)));
    // A restarted controller reads the record and sends nothing more for this pause.
    let restarted = repo.desired();
    pass(&cloud, &restarted).await;
    assert_eq!(cloud.invocations("api").len(), 8);
    run_out(&cloud, &repo).await;
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
    assert_eq!(routing(&cloud), ("2".into(), None));
    assert_eq!(
        cloud.invocations("api").len(),
        12,
        "one batch before traffic and one per timed pause"
    );
}

#[tokio::test(start_paused = true)]
async fn errors_beyond_max_errors_before_traffic_end_the_release_with_no_user_affected() {
    let (cloud, repo) = deployed(TRAFFIC).await;
    let desired = repo.desired();
    cloud.reset_calls();
    pass(&cloud, &desired).await;
    cloud.script_invocation("api", failed(r#"{"errorMessage": "boom"}"#));
    pass(&cloud, &desired).await;
    let ended = record(&cloud).unwrap();
    assert_eq!(ended.phase, Phase::RolledBack);
    let reason = ended.reason.unwrap();
    assert!(
        reason.contains("1 of 4 invocations of version 2 failed (maxErrors 0)"),
        "{reason}"
    );
    assert!(reason.contains("boom"), "{reason}");
    assert_eq!(routing(&cloud), ("1".into(), None));
    // Two alias writes, neither with a weight: the start and the rollback.
    assert_eq!(cloud.call_count(Api::UpdateAlias), 2);
    // Held back until the spec changes: no more traffic.
    apply_until_settled(&cloud, &desired, &options(), &Silent).await;
    assert_eq!(cloud.invocations("api").len(), 4);
    assert_eq!(routing(&cloud), ("1".into(), None));
}

#[tokio::test(start_paused = true)]
async fn max_errors_tolerates_that_many_and_a_pause_batch_over_it_rolls_back_from_its_weight() {
    let rollout = TRAFFIC.replace("concurrency: 2", "concurrency: 2, maxErrors: 1");
    let (cloud, repo) = deployed(&rollout).await;
    let desired = repo.desired();
    pass(&cloud, &desired).await;
    cloud.script_invocation("api", failed("{}"));
    pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));
    cloud.script_invocation("api", failed("{}"));
    cloud.script_invocation("api", failed("{}"));
    pass(&cloud, &desired).await;
    let ended = record(&cloud).unwrap();
    assert_eq!(ended.phase, Phase::RolledBack, "{ended:?}");
    assert!(ended.reason.unwrap().contains("2 of 4 invocations"));
    assert_eq!(routing(&cloud), ("1".into(), None));
}

#[tokio::test(start_paused = true)]
async fn invocations_that_cannot_be_made_are_no_verdict_until_the_deadline() {
    let (cloud, repo) = deployed(TRAFFIC).await;
    let desired = repo.desired();
    pass(&cloud, &desired).await;
    let throttled = CloudError::Throttled {
        api: Api::Invoke,
        retry_after: None,
    };
    cloud.fail_next(Api::Invoke, throttled.clone(), 4);
    pass(&cloud, &desired).await;
    // Nothing reached the canary: the rollout is where it was, and sends again.
    assert_eq!(
        record(&cloud).unwrap().hook,
        Some(HookCursor::first(Stage::PreTraffic))
    );
    assert_eq!(routing(&cloud), ("1".into(), None));
    pass(&cloud, &desired).await;
    assert_eq!(cloud.invocations("api").len(), 4);
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));

    // Throttled for longer than the deadline before traffic: the release rolls back.
    repo.release("3");
    let desired = repo.desired();
    pass(&cloud, &desired).await;
    assert_eq!(record(&cloud).unwrap().canary, "3");
    cloud.fail_next(Api::Invoke, throttled, 1000);
    for _ in 0..20 {
        tokio::time::advance(Duration::from_secs(60)).await;
        pass(&cloud, &desired).await;
    }
    let ended = record(&cloud).unwrap();
    assert_eq!(ended.phase, Phase::RolledBack, "{ended:?}");
    assert!(
        ended
            .reason
            .unwrap()
            .contains("synthetic traffic could not reach version"),
    );
    assert_eq!(routing(&cloud).1, None);
}

#[tokio::test(start_paused = true)]
async fn a_pre_traffic_hook_runs_first_and_a_payload_file_is_sent_as_written() {
    let rollout = "    steps: [{setWeight: 10}]
    hooks:
      preTraffic: [{lambda: smoke}]
    traffic: {payloadFile: events/order.json, invocations: 2}";
    let cloud = FakeCloud::default();
    let repo = Repo::new(rollout);
    std::fs::create_dir_all(repo.dir.path().join("specs/events")).unwrap();
    std::fs::write(
        repo.dir.path().join("specs/events/order.json"),
        "{\"order\": {\"id\": 7}}\n",
    )
    .unwrap();
    repo.add_spec(
        "smoke.yaml",
        "apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata: {name: smoke}
spec:
  code: {path: ../app}
  handler: app.handler
  runtime: python3.12
  role: arn:aws:iam::123456789012:role/smoke
",
    );
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    repo.release("2");
    let desired = repo.desired();
    cloud.script_invocation(
        "smoke",
        Invocation {
            status: 200,
            function_error: None,
            payload: r#"{"status": "Succeeded"}"#.into(),
            executed_version: None,
        },
    );
    pass(&cloud, &desired).await;
    pass(&cloud, &desired).await;
    // The hook passed; the batch is next, still without traffic.
    assert_eq!(cloud.invocations("smoke").len(), 1);
    assert!(cloud.invocations("api").is_empty());
    assert_eq!(
        record(&cloud).unwrap().hook.map(|h| (h.stage, h.index)),
        Some((Stage::PreTraffic, 1))
    );
    pass(&cloud, &desired).await;
    let sent = cloud.invocations("api");
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0], ("2".into(), r#"{"order":{"id":7}}"#.into()));
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));
}

#[tokio::test(start_paused = true)]
async fn synthetic_invocations_make_a_quiet_canary_conclusive() {
    let analysis = "    steps: [{setWeight: 10}, {pause: {duration: 1m}}]
    analysis: {maxErrorRate: 5, minInvocations: 8, inconclusiveTimeout: 1m, onInconclusive: RollBack}";
    // Without traffic the canary of a quiet function is inconclusive and rolls back.
    let (quiet, repo) = deployed(analysis).await;
    run_out(&quiet, &repo).await;
    let ended = record(&quiet).unwrap();
    assert_eq!(ended.phase, Phase::RolledBack);
    assert!(ended.reason.unwrap().contains("inconclusive"));
    // With a batch before traffic and one in the pause, it has the invocations to judge.
    let with_traffic = format!("{analysis}\n    traffic: {{invocations: 4}}");
    let (cloud, repo) = deployed(&with_traffic).await;
    run_out(&cloud, &repo).await;
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
    assert_eq!(cloud.invocations("api").len(), 8);
}
