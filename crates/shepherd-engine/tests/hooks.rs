//! Rollout hooks on the in-memory fake, in virtual time: every outcome of a Lambda and an
//! HTTP hook, before and after traffic, pending answers with their callback and their
//! deadline, and a restart between every pair of actions.

use std::sync::Arc;
use std::time::Duration;

use shepherd_core::cloud::*;
use shepherd_core::rollout::{Execution, HookCursor, Phase, Stage, execution_id};
use shepherd_engine::execute::HookSettings;
use shepherd_engine::operator::{OperateError, RolloutTarget, report_hook};
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{Desired, ReconcileOptions, apply, plan};
use shepherd_engine::settle::apply_until_settled;
use shepherd_fake::FakeCloud;

mod common;
use common::*;

/// The function the Lambda hooks invoke: managed beside the one under test.
const SMOKE: &str = r#"
apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata:
  name: smoke
spec:
  code: {path: ../smoke}
  handler: app.handler
  runtime: python3.12
  role: arn:aws:iam::123456789012:role/smoke
"#;

const URL: &str = "https://ci.example.com/hooks/api";

/// `api` live on release 1 with `rollout`, the `smoke` function beside it; release 2 in
/// the spec.
async fn with_hooks(rollout: &str) -> (FakeCloud, Repo) {
    let cloud = FakeCloud::default();
    let repo = Repo::new(rollout);
    repo.add_spec("smoke.yaml", SMOKE);
    let smoke = repo.dir.path().join("smoke");
    std::fs::create_dir_all(&smoke).unwrap();
    std::fs::write(smoke.join("app.py"), "def handler(e, c):\n    return {}\n").unwrap();
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert_eq!(cloud.alias("api", "live").unwrap().version, "1");
    repo.release("2");
    (cloud, repo)
}

fn answer(payload: &str) -> Invocation {
    Invocation {
        status: 200,
        function_error: None,
        payload: payload.to_owned(),
        executed_version: None,
    }
}

const SUCCEEDED: &str = r#"{"status": "Succeeded"}"#;

/// The alias of `api` as (version, weighted second version).
fn routing(cloud: &FakeCloud) -> (String, Option<(String, f64)>) {
    let alias = cloud.alias("api", "live").unwrap();
    (alias.version, alias.additional_version)
}

fn hook_of(cloud: &FakeCloud) -> Option<HookCursor> {
    record(cloud).unwrap().hook
}

const PRE: &str = "    steps: [{setWeight: 10}, {pause: {duration: 1m}}]
    hooks:
      preTraffic: [{lambda: smoke}]";

#[tokio::test(start_paused = true)]
async fn a_passing_pre_traffic_hook_runs_before_any_traffic_then_the_canary_goes_on() {
    let (cloud, repo) = with_hooks(PRE).await;
    let desired = repo.desired();
    cloud.script_invocation("smoke", answer(SUCCEEDED));
    // The release starts at its hook: version 2 is published and recorded, with no weight.
    pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("1".into(), None));
    assert_eq!(hook_of(&cloud), Some(HookCursor::first(Stage::PreTraffic)));
    assert!(cloud.invocations("smoke").is_empty());
    // The hook runs, and its pass takes the canary to its first weight.
    pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));
    let runs = cloud.invocations("smoke");
    assert_eq!(runs.len(), 1);
    let payload: serde_json::Value = serde_json::from_str(&runs[0].1).unwrap();
    assert_eq!(payload["function"], "api");
    assert_eq!(payload["alias"], "live");
    assert_eq!(payload["stableVersion"], "1");
    assert_eq!(payload["canaryVersion"], "2");
    assert!(
        payload["canaryArn"].as_str().unwrap().ends_with(":api:2"),
        "{payload}"
    );
    assert_eq!(payload["weight"], 0.0);
    assert_eq!(payload["phase"], "preTraffic");
    assert_eq!(payload["hook"], "smoke");
    assert_eq!(payload["release"], record(&cloud).unwrap().release.as_str());
    let id = payload["executionId"].as_str().unwrap();
    assert!(Execution::parse(id).is_some(), "{id}");
    apply_until_settled(&cloud, &desired, &options(), &Silent).await;
    assert_eq!(routing(&cloud), ("2".into(), None));
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
    assert_eq!(
        cloud.invocations("smoke").len(),
        1,
        "a passed hook never runs again"
    );
}

/// A preTraffic hook's failure ends the release with the alias where it was.
async fn fails_before_traffic(result: Invocation, reason: &str) {
    let (cloud, repo) = with_hooks(PRE).await;
    let desired = repo.desired();
    cloud.script_invocation("smoke", result);
    cloud.reset_calls();
    apply_until_settled(&cloud, &desired, &options(), &Silent).await;
    assert_eq!(routing(&cloud), ("1".into(), None));
    let record = record(&cloud).unwrap();
    assert_eq!(record.phase, Phase::RolledBack);
    let why = record.reason.unwrap();
    assert!(why.starts_with("preTraffic hook smoke failed: "), "{why}");
    assert!(why.contains(reason), "{why}");
    // Two alias writes, neither with a weight: the canary never had a request.
    assert_eq!(cloud.call_count(Api::UpdateAlias), 2);
    // Held back: the release is not tried again by itself.
    pass(&cloud, &desired).await;
    assert_eq!(cloud.invocations("smoke").len(), 1);
    assert_eq!(cloud.call_count(Api::UpdateAlias), 2);
}

#[tokio::test(start_paused = true)]
async fn a_pre_traffic_hook_that_reports_failure_never_routes_to_the_canary() {
    fails_before_traffic(
        answer(r#"{"status": "Failed", "reason": "checkout returned 500"}"#),
        "checkout returned 500",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_pre_traffic_hook_with_a_function_error_fails() {
    let crashed = Invocation {
        function_error: Some("Unhandled".into()),
        ..answer(r#"{"errorMessage": "Task timed out after 3.00 seconds"}"#)
    };
    fails_before_traffic(crashed, "smoke failed (Unhandled): ").await;
}

#[tokio::test(start_paused = true)]
async fn a_pre_traffic_hook_without_a_status_fails() {
    fails_before_traffic(answer(r#"{"ok": true}"#), "returned no status").await;
}

const POST: &str = "    steps: [{setWeight: 50}, {pause: {duration: 1m}}]
    hooks:
      postTraffic: [{lambda: smoke}]";

#[tokio::test(start_paused = true)]
async fn a_failing_post_traffic_hook_rolls_back_from_all_the_traffic() {
    let (cloud, repo) = with_hooks(POST).await;
    let desired = repo.desired();
    cloud.script_invocation(
        "smoke",
        answer(r#"{"status": "Failed", "reason": "p99 too high"}"#),
    );
    // 50%, the pause, then all traffic to the canary for the postTraffic hook.
    for _ in 0..20 {
        pass(&cloud, &desired).await;
        if hook_of(&cloud).is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    assert_eq!(hook_of(&cloud), Some(HookCursor::first(Stage::PostTraffic)));
    assert_eq!(routing(&cloud), ("2".into(), None));
    assert_eq!(record(&cloud).unwrap().phase, Phase::Progressing);
    pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("1".into(), None));
    let record = record(&cloud).unwrap();
    assert_eq!(record.phase, Phase::RolledBack);
    assert!(record.reason.unwrap().contains("p99 too high"));
    let shown = shepherd_engine::rollouts::status(&cloud, &desired.functions).await;
    let api = shown.iter().find(|s| s.function == "api").unwrap();
    assert_eq!(
        api.hooks[0].state,
        shepherd_engine::rollouts::HookState::Failed
    );
}

#[tokio::test(start_paused = true)]
async fn passing_hooks_before_and_after_traffic_promote_all_at_once_too() {
    let rollout = "    hooks:
      preTraffic: [{lambda: smoke}]
      postTraffic: [{name: soak, lambda: smoke}]";
    let (cloud, repo) = with_hooks(rollout).await;
    cloud.script_invocation("smoke", answer(SUCCEEDED));
    cloud.script_invocation("smoke", answer(SUCCEEDED));
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert_eq!(routing(&cloud), ("2".into(), None));
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
    let phases: Vec<String> = cloud
        .invocations("smoke")
        .iter()
        .map(|(_, p)| {
            let v: serde_json::Value = serde_json::from_str(p).unwrap();
            format!("{} {} {}", v["phase"], v["hook"], v["weight"])
        })
        .collect();
    assert_eq!(
        phases,
        [
            "\"preTraffic\" \"smoke\" 0.0",
            "\"postTraffic\" \"soak\" 100.0"
        ]
    );
}

const PENDING: &str = "    steps: [{setWeight: 10}, {pause: {duration: 1m}}]
    hooks:
      preTraffic: [{lambda: smoke, deadline: 10m}]";

/// `api`'s rollout waiting on its pending preTraffic hook, and the hook's execution id.
async fn pending_hook() -> (FakeCloud, Repo, String) {
    let (cloud, repo) = with_hooks(PENDING).await;
    let desired = repo.desired();
    cloud.script_invocation("smoke", answer(r#"{"status": "Pending"}"#));
    pass(&cloud, &desired).await;
    pass(&cloud, &desired).await;
    let cursor = hook_of(&cloud).unwrap();
    assert!(cursor.pending_until.is_some(), "{cursor:?}");
    let started = record(&cloud).unwrap().started;
    let id = execution_id(None, "api", cursor, started);
    let shown = &shepherd_engine::rollouts::status(&cloud, &desired.functions).await;
    let api = shown.iter().find(|s| s.function == "api").unwrap();
    assert_eq!(
        api.step.as_deref(),
        Some("preTraffic hook 1/1: smoke (pending)")
    );
    assert_eq!(api.hooks.len(), 1);
    assert_eq!(
        api.hooks[0].state,
        shepherd_engine::rollouts::HookState::Pending
    );
    assert_eq!(api.hooks[0].until, cursor.pending_until);
    // Waiting is no failure, and the hook is not run again.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(60)).await;
        pass(&cloud, &desired).await;
    }
    assert_eq!(routing(&cloud), ("1".into(), None));
    assert_eq!(cloud.invocations("smoke").len(), 1);
    (cloud, repo, id)
}

fn target(repo: &Repo) -> RolloutTarget {
    let desired = repo.desired();
    let api = desired.functions.iter().find(|f| f.name == "api").unwrap();
    RolloutTarget::from(api)
}

#[tokio::test(start_paused = true)]
async fn a_pending_hook_goes_on_when_its_callback_reports_success_once() {
    let (cloud, repo, id) = pending_hook().await;
    let execution = Execution::parse(&id).unwrap();
    let target = target(&repo);
    let wrong = Execution {
        started: execution.started + 1,
        ..execution.clone()
    };
    let refused = report_hook(&cloud, &target, &wrong, "old", Ok(())).await;
    assert!(
        matches!(refused, Err(OperateError::Refused(_))),
        "{refused:?}"
    );
    report_hook(&cloud, &target, &execution, &id, Ok(()))
        .await
        .unwrap();
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));
    // The same report again is refused: the token served once.
    let again = report_hook(&cloud, &target, &execution, &id, Ok(())).await;
    assert!(matches!(again, Err(OperateError::Refused(_))), "{again:?}");
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
}

#[tokio::test(start_paused = true)]
async fn a_pending_hook_that_reports_failure_rolls_back() {
    let (cloud, repo, id) = pending_hook().await;
    let execution = Execution::parse(&id).unwrap();
    report_hook(
        &cloud,
        &target(&repo),
        &execution,
        &id,
        Err("smoke suite red".into()),
    )
    .await
    .unwrap();
    assert_eq!(routing(&cloud), ("1".into(), None));
    let record = record(&cloud).unwrap();
    assert_eq!(record.phase, Phase::RolledBack);
    assert!(record.reason.unwrap().contains("smoke suite red"));
}

#[tokio::test(start_paused = true)]
async fn a_pending_hook_that_never_reports_fails_at_its_deadline() {
    let (cloud, repo, _) = pending_hook().await;
    tokio::time::sleep(Duration::from_secs(6 * 60)).await;
    pass(&cloud, &repo.desired()).await;
    assert_eq!(routing(&cloud), ("1".into(), None));
    let record = record(&cloud).unwrap();
    assert_eq!(record.phase, Phase::RolledBack);
    assert!(
        record
            .reason
            .unwrap()
            .contains("did not report its result within 10m"),
    );
}

fn http_options() -> ReconcileOptions {
    let mut options = options();
    options.execute.hooks = Arc::new(HookSettings {
        allowed_urls: vec!["https://ci.example.com/".into()],
        callback_url: Some("https://shepherd.example.com".into()),
        callback_key: Some("callback-key".into()),
        ..HookSettings::default()
    });
    options
}

async fn http_pass(cloud: &FakeCloud, desired: &Desired, options: &ReconcileOptions) {
    let planned = plan(cloud, desired, options).await;
    apply(cloud, planned, options, &Silent).await;
}

fn http_rollout(url: &str, retries: u32) -> String {
    format!(
        "    steps: [{{setWeight: 10}}, {{pause: {{duration: 1m}}}}]
    hooks:
      preTraffic:
        - name: ci
          http:
            url: {url}
            headers: {{Authorization: {{secret: ci-token}}}}
            signingSecret: {{secret: hooks-hmac}}
            retries: {retries}"
    )
}

fn status(code: u16) -> Result<WebResponse, CloudError> {
    Ok(WebResponse {
        status: code,
        body: String::new(),
    })
}

/// Two passes with HTTP hooks allowed: the start, then the hook.
async fn run_http_hook(
    url: &str,
    retries: u32,
    answers: Vec<Result<WebResponse, CloudError>>,
) -> FakeCloud {
    let (cloud, repo) = with_hooks(&http_rollout(url, retries)).await;
    for answer in answers {
        cloud.script_web(url, answer);
    }
    let desired = repo.desired();
    http_pass(&cloud, &desired, &http_options()).await;
    http_pass(&cloud, &desired, &http_options()).await;
    cloud
}

#[tokio::test(start_paused = true)]
async fn an_http_hook_is_signed_and_passes_on_2xx() {
    let cloud = run_http_hook(URL, 0, vec![status(202)]).await;
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));
    let calls = cloud.web_calls();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!((call.method, call.url.as_str()), ("POST", URL));
    assert_eq!(
        call.secret_headers,
        [("Authorization".to_owned(), "ci-token".to_owned())]
    );
    assert_eq!(call.signing_secret.as_deref(), Some("hooks-hmac"));
    assert_eq!(call.timeout, Duration::from_secs(10));
    let body: serde_json::Value = serde_json::from_str(&call.body).unwrap();
    assert_eq!(body["canaryVersion"], "2");
    let id = body["executionId"].as_str().unwrap();
    assert_eq!(
        body["callback"]["url"],
        format!("https://shepherd.example.com/api/v1/hooks/{id}")
    );
    assert_eq!(
        body["callback"]["token"],
        shepherd_engine::execute::callback_token("callback-key", id)
    );
}

#[tokio::test(start_paused = true)]
async fn an_http_hook_is_retried_on_5xx_and_timeouts_then_fails() {
    let timeout = Err(CloudError::Transport {
        api: Api::HttpHook,
        message: "timed out".into(),
    });
    let cloud = run_http_hook(URL, 2, vec![status(503), timeout, status(200)]).await;
    assert_eq!(cloud.web_calls().len(), 3);
    assert_eq!(routing(&cloud), ("1".into(), Some(("2".into(), 0.1))));

    let cloud = run_http_hook(URL, 1, vec![status(500), status(502), status(200)]).await;
    assert_eq!(cloud.web_calls().len(), 2, "retries: 1 is two attempts");
    assert_eq!(routing(&cloud), ("1".into(), None));
    let why = record(&cloud).unwrap().reason.unwrap();
    assert!(why.contains("failed 2 time(s), last: HTTP 502"), "{why}");
}

#[tokio::test(start_paused = true)]
async fn an_http_hook_fails_on_a_client_error_without_retrying() {
    let cloud = run_http_hook(URL, 3, vec![status(403)]).await;
    assert_eq!(cloud.web_calls().len(), 1);
    assert_eq!(record(&cloud).unwrap().phase, Phase::RolledBack);
    assert!(record(&cloud).unwrap().reason.unwrap().contains("HTTP 403"));
}

#[tokio::test(start_paused = true)]
async fn an_http_hook_to_a_url_the_controller_does_not_allow_is_never_called() {
    let metadata = "http://169.254.169.254/latest/meta-data/";
    let cloud = run_http_hook(metadata, 0, vec![status(200)]).await;
    assert!(cloud.web_calls().is_empty());
    assert_eq!(routing(&cloud), ("1".into(), None));
    let why = record(&cloud).unwrap().reason.unwrap();
    assert!(
        why.contains("not allowed by the controller's hooks.allowedUrls"),
        "{why}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_replica_without_the_lease_runs_no_hook() {
    // The fence is checked by the metered client right before the call; here the fake
    // refuses the call as the fence would, and the hook is neither run nor failed.
    let (cloud, repo) = with_hooks(PRE).await;
    let desired = repo.desired();
    pass(&cloud, &desired).await;
    cloud.fail_next(Api::Invoke, CloudError::Fenced { api: Api::Invoke }, 1);
    pass(&cloud, &desired).await;
    assert_eq!(hook_of(&cloud), Some(HookCursor::first(Stage::PreTraffic)));
    assert_eq!(record(&cloud).unwrap().phase, Phase::Progressing);
}

#[tokio::test(start_paused = true)]
async fn a_restart_between_any_two_actions_runs_each_hook_once_and_ends_healthy() {
    let rollout = "    steps: [{setWeight: 20}, {pause: {duration: 1m}}]
    hooks:
      preTraffic: [{lambda: smoke}]
      postTraffic: [{name: soak, lambda: smoke}]";
    for kill_at_pass in 0..6 {
        for keep in 0..4 {
            let (cloud, repo) = with_hooks(rollout).await;
            cloud.script_invocation("smoke", answer(SUCCEEDED));
            cloud.script_invocation("smoke", answer(SUCCEEDED));
            let desired = repo.desired();
            for _ in 0..kill_at_pass {
                pass(&cloud, &desired).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            killed_pass(&cloud, &desired, keep).await;
            tokio::time::sleep(Duration::from_secs(7)).await;
            apply_until_settled(&cloud, &desired, &options(), &Silent).await;
            let at = format!("killed in pass {kill_at_pass} after {keep} actions");
            assert_eq!(routing(&cloud), ("2".into(), None), "{at}");
            assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy, "{at}");
            assert_eq!(cloud.invocations("smoke").len(), 2, "{at}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn an_alarm_at_a_hook_rolls_back_even_without_automatic_rollback() {
    // Pausing there would lose the hook's place, and a resume would route to a canary
    // whose preTraffic hooks never passed.
    let rollout = "    autoRollback: false
    steps: [{setWeight: 10}, {pause: {duration: 1m}}]
    hooks:
      preTraffic: [{lambda: smoke, deadline: 10m}]";
    let (cloud, repo) = with_hooks(rollout).await;
    let desired = repo.desired();
    cloud.script_invocation("smoke", answer(r#"{"status": "Pending"}"#));
    pass(&cloud, &desired).await;
    pass(&cloud, &desired).await;
    assert!(hook_of(&cloud).unwrap().pending_until.is_some());
    cloud.set_alarm_state(
        "api-errors",
        shepherd_core::model::AlarmState::Alarm,
        "Threshold Crossed",
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    pass(&cloud, &desired).await;
    assert_eq!(routing(&cloud), ("1".into(), None));
    assert_eq!(record(&cloud).unwrap().phase, Phase::RolledBack);
    // The record keeps where it ended: the hook neither passed nor failed.
    let shown = shepherd_engine::rollouts::status(&cloud, &desired.functions).await;
    let api = shown.iter().find(|s| s.function == "api").unwrap();
    assert_eq!(
        api.hooks[0].state,
        shepherd_engine::rollouts::HookState::Waiting
    );
}

#[tokio::test(start_paused = true)]
async fn a_hook_that_cannot_be_invoked_is_tried_again_until_its_deadline() {
    let rollout = "    steps: [{setWeight: 10}, {pause: {duration: 1m}}]
    hooks:
      preTraffic: [{lambda: smoke, deadline: 5m}]";
    let (cloud, repo) = with_hooks(rollout).await;
    let desired = repo.desired();
    pass(&cloud, &desired).await;
    let throttled = CloudError::Throttled {
        api: Api::Invoke,
        retry_after: None,
    };
    cloud.fail_next(Api::Invoke, throttled, 1000);
    // Throttling is no verdict: the rollout stays at its hook, without traffic.
    for _ in 0..4 {
        pass(&cloud, &desired).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    assert_eq!(record(&cloud).unwrap().phase, Phase::Progressing);
    assert_eq!(routing(&cloud), ("1".into(), None));
    tokio::time::sleep(Duration::from_secs(60)).await;
    pass(&cloud, &desired).await;
    let record = record(&cloud).unwrap();
    assert_eq!(record.phase, Phase::RolledBack);
    assert!(
        record.reason.unwrap().contains("gave no verdict within 5m"),
        "bounded by the hook's deadline"
    );
}

#[tokio::test(start_paused = true)]
async fn a_report_for_a_superseded_release_or_past_the_deadline_is_refused() {
    let (cloud, repo, id) = pending_hook().await;
    let execution = Execution::parse(&id).unwrap();
    // Release 3 in the spec: the pending hook belongs to a rollout the spec no longer names.
    repo.release("3");
    let refused = report_hook(&cloud, &target(&repo), &execution, &id, Ok(())).await;
    assert!(
        matches!(refused, Err(OperateError::Refused(_))),
        "{refused:?}"
    );
    assert_eq!(routing(&cloud), ("1".into(), None));
    // Back on release 2, but past the deadline.
    repo.release("2");
    tokio::time::sleep(Duration::from_secs(6 * 60)).await;
    let late = report_hook(&cloud, &target(&repo), &execution, &id, Ok(())).await;
    assert!(matches!(late, Err(OperateError::Refused(_))), "{late:?}");
    assert_eq!(routing(&cloud), ("1".into(), None));
}

#[tokio::test(start_paused = true)]
async fn an_http_hook_whose_body_says_failed_fails() {
    let failed = Ok(WebResponse {
        status: 200,
        body: r#"{"status": "Failed", "reason": "3 of 40 checks red"}"#.into(),
    });
    let cloud = run_http_hook(URL, 0, vec![failed]).await;
    assert_eq!(record(&cloud).unwrap().phase, Phase::RolledBack);
    assert!(
        record(&cloud)
            .unwrap()
            .reason
            .unwrap()
            .contains("3 of 40 checks red")
    );
}

#[tokio::test(start_paused = true)]
async fn an_http_hook_without_allowed_urls_waits_without_traffic_and_is_not_failed() {
    // `shepherd apply`, or a controller configured without HTTP hooks.
    let (cloud, repo) = with_hooks(&http_rollout(URL, 0)).await;
    let desired = repo.desired();
    pass(&cloud, &desired).await;
    pass(&cloud, &desired).await;
    assert!(cloud.web_calls().is_empty());
    assert_eq!(routing(&cloud), ("1".into(), None));
    assert_eq!(record(&cloud).unwrap().phase, Phase::Progressing);
}

#[tokio::test(start_paused = true)]
async fn a_record_this_shepherd_cannot_read_is_left_alone() {
    // As a newer shepherd might write it, or a hand edit: a guess could route traffic.
    let (cloud, repo) = with_hooks(PRE).await;
    let unreadable = "shepherd/v1 phase=Progressing stable=1 canary=2 release=r step=0 since=1 started=1 hook=mid.0";
    cloud
        .update_alias("api", "live", "1", None, unreadable, None)
        .await
        .unwrap();
    let desired = repo.desired();
    let planned = plan(&cloud, &desired, &options()).await;
    let api = planned.plans.iter().find(|p| p.name == "api").unwrap();
    let refusal = api.next.refusal().expect("refused").to_string();
    assert!(refusal.contains("cannot read"), "{refusal}");
    apply(&cloud, planned, &options(), &Silent).await;
    let alias = cloud.alias("api", "live").unwrap();
    assert_eq!(
        (alias.version.as_str(), alias.description.as_str()),
        ("1", unreadable)
    );
    assert!(cloud.invocations("smoke").is_empty());
}
