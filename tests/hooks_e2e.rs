//! End to end: rollout hooks under `shepherd run` on the emulator, with Lambda hooks
//! really invoked (the emulator's code-free Lambda backend, answering with the results the
//! test queues) and an HTTP hook served by the test. A failing preTraffic hook leaves the
//! alias on the stable version with no weight; a pending HTTP hook holds the rollout until
//! its signed callback says it passed; a failing postTraffic hook rolls back from 100%.
//! Synthetic traffic reaches the canary version itself, seen through a recording proxy.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::controller::{Running, request};
use support::proxy::FaultProxy;
use support::receiver::Receiver;
use support::{Emulator, git};

const CALLBACK_KEY: &str = "callback-key";
const HMAC_SECRET: &str = "hook-signing-secret";
const CI_TOKEN: &str = "Bearer ci-token";

fn spec(hook_url: &str) -> String {
    format!(
        "apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata:
  name: orders
spec:
  code: {{path: app}}
  handler: app.handler
  runtime: python3.12
  role: arn:aws:iam::123456789012:role/orders
  alias: {{name: live}}
  rollout:
    steps: [{{setWeight: 20}}, {{pause: {{duration: 3s}}}}]
    hooks:
      preTraffic:
        - lambda: orders-smoke
        - name: ci
          http:
            url: {hook_url}/hooks/orders
            headers: {{Authorization: {{secret: ci-token}}}}
            signingSecret: {{secret: hmac}}
      postTraffic:
        - {{name: soak, lambda: orders-smoke}}
"
    )
}

fn release(repository: &Path, marker: &str) {
    let code = format!("def handler(event, context):\n    return {{'release': '{marker}'}}\n");
    std::fs::write(repository.join("specs/app/app.py"), code).unwrap();
    git(repository, &["add", "."]);
    git(repository, &["commit", "--quiet", "-m", marker]);
}

fn orders(controller: &Running) -> serde_json::Value {
    controller.function("orders")
}

fn phase(status: &serde_json::Value) -> String {
    status["rollout"]["record"]["phase"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn canary(status: &serde_json::Value) -> String {
    status["rollout"]["record"]["canary"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn signature(body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(HMAC_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Waits for the rollout of `version` to end in `end`, checking at every look that the
/// alias never routed to it while its preTraffic hooks had not all passed.
fn wait_for_end(controller: &Running, version: &str, end: &str) -> serde_json::Value {
    let last = std::cell::RefCell::new(serde_json::Value::Null);
    controller.wait_for(
        &format!("version {version} to end {end}"),
        Duration::from_secs(90),
        |c| {
            let status = orders(c);
            let rollout = &status["rollout"];
            let pre_pending = rollout["hooks"].as_array().is_some_and(|hooks| {
                hooks
                    .iter()
                    .any(|h| h["stage"] == "PreTraffic" && h["state"] != "passed")
            });
            if pre_pending && canary(&status) == version && phase(&status) == "Progressing" {
                assert!(
                    rollout["additional"].is_null(),
                    "weight before the preTraffic hooks passed: {status}"
                );
            }
            let done = canary(&status) == version && phase(&status) == end;
            *last.borrow_mut() = status;
            done
        },
    );
    last.into_inner()
}

/// `shepherd run` on a repository holding `spec` at release 1, with HTTP hooks and gates
/// allowed under `allowed`, live on release 1.
fn controller(endpoint: &str, dir: &Path, spec: &str, allowed: &str) -> (Running, PathBuf) {
    let repository = dir.join("repo");
    std::fs::create_dir_all(repository.join("specs/app")).unwrap();
    std::fs::write(repository.join("specs/orders.yaml"), spec).unwrap();
    git(
        &repository,
        &["init", "--quiet", "--initial-branch", "main"],
    );
    release(&repository, "1");
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "hooks:\n  allowedUrls: ['{allowed}']\n  secrets:\n    hmac: {{env: HOOK_HMAC}}\n    ci-token: {{env: CI_TOKEN}}\n"
        ),
    )
    .unwrap();
    let source = format!("file://{}", repository.display());
    let checkout = dir.join("checkout");
    let args = [
        "--config",
        config.to_str().unwrap(),
        "--source",
        &source,
        "--path",
        "specs",
        "--checkout-dir",
        checkout.to_str().unwrap(),
        "--poll-interval",
        "1s",
        "--alarm-poll",
        "5s",
    ];
    let env = [
        ("SHEPHERD_HOOK_CALLBACK_KEY", CALLBACK_KEY),
        ("HOOK_HMAC", HMAC_SECRET),
        ("CI_TOKEN", CI_TOKEN),
    ];
    let controller = Running::start(endpoint, &args, &env, Duration::from_secs(90));
    controller.wait_for("release 1 live", Duration::from_secs(60), |c| {
        orders(c)["rollout"]["version"] == "1"
    });
    (controller, repository)
}

#[test]
fn hooks_gate_a_release_before_and_after_traffic() {
    let emulator = Emulator::start();
    emulator.setup(&["lambda-without-docker"]);
    emulator.setup(&["role", "orders"]);
    let hook = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let allowed = format!("{}/hooks/", hook.url);
    let (controller, repository) =
        controller(&emulator.endpoint, dir.path(), &spec(&hook.url), &allowed);

    // Release 2: the first preTraffic hook fails. The alias never routes to version 2,
    // and the HTTP hook after it is never called.
    emulator.setup(&[
        "lambda-result",
        r#"{"status": "Failed", "reason": "smoke red"}"#,
    ]);
    release(&repository, "2");
    let ended = wait_for_end(&controller, "2", "RolledBack");
    let reason = ended["rollout"]["record"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("preTraffic hook orders-smoke failed: smoke red"),
        "{reason}"
    );
    assert_eq!(ended["rollout"]["version"], "1", "{ended}");
    assert!(ended["rollout"]["additional"].is_null(), "{ended}");
    assert!(hook.received().is_empty());

    // Release 3: the Lambda hook passes; the HTTP hook answers "pending", and the
    // rollout waits for its callback before any traffic moves.
    emulator.setup(&[
        "lambda-result",
        r#"{"status": "Succeeded"}"#,
        r#"{"status": "Succeeded"}"#,
    ]);
    hook.reply(200, r#"{"status": "Pending"}"#);
    release(&repository, "3");
    controller.wait_for("the pending HTTP hook", Duration::from_secs(60), |c| {
        let status = orders(c);
        status["rollout"]["hooks"][1]["state"] == "pending"
    });
    let calls = hook.received();
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("POST", "/hooks/orders")
    );
    assert_eq!(call.headers["authorization"], CI_TOKEN);
    assert_eq!(
        call.headers["x-shepherd-signature-256"],
        signature(&call.body)
    );
    let payload: serde_json::Value = serde_json::from_str(&call.body).unwrap();
    assert_eq!(payload["canaryVersion"], "3");
    assert_eq!(payload["stableVersion"], "1");
    assert_eq!(payload["weight"], 0.0);
    assert_eq!(payload["phase"], "preTraffic");
    assert_eq!(payload["hook"], "ci");
    assert!(
        payload["canaryArn"]
            .as_str()
            .unwrap()
            .ends_with(":orders:3"),
        "{payload}"
    );
    assert_eq!(
        payload["commit"].as_str().unwrap(),
        git(&repository, &["rev-parse", "HEAD"])
    );
    std::thread::sleep(Duration::from_secs(3));
    assert!(orders(&controller)["rollout"]["additional"].is_null());

    // The callback, with the token the payload carried: once.
    let path = payload["callback"]["url"].as_str().unwrap().to_owned();
    let token = payload["callback"]["token"].as_str().unwrap().to_owned();
    let body = r#"{"status": "Succeeded"}"#;
    let wrong = [("Authorization", format!("Bearer {CALLBACK_KEY}"))];
    assert_eq!(request(controller.port, "POST", &path, &wrong, body).0, 401);
    let bearer = [("Authorization", format!("Bearer {token}"))];
    let (status, answer) = request(controller.port, "POST", &path, &bearer, body);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        request(controller.port, "POST", &path, &bearer, body).0,
        409
    );
    // 20%, the pause, 100% for the postTraffic hook, then Healthy.
    let healthy = wait_for_end(&controller, "3", "Healthy");
    assert_eq!(healthy["rollout"]["version"], "3", "{healthy}");
    let states: Vec<&str> = healthy["rollout"]["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["passed", "passed", "passed"]);

    // Release 4: the hooks before traffic pass, the postTraffic one fails: all traffic
    // goes back to version 3.
    emulator.setup(&[
        "lambda-result",
        r#"{"status": "Succeeded"}"#,
        r#"{"status": "Failed", "reason": "soak errors"}"#,
    ]);
    hook.reply(200, "{}");
    release(&repository, "4");
    let ended = wait_for_end(&controller, "4", "RolledBack");
    let reason = ended["rollout"]["record"]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("postTraffic hook soak failed: soak errors"),
        "{reason}"
    );
    assert_eq!(ended["rollout"]["version"], "3", "{ended}");
    assert!(ended["rollout"]["additional"].is_null(), "{ended}");
    assert_eq!(hook.received().len(), 2);
}

#[test]
fn a_closed_gate_holds_the_step_until_it_opens() {
    let emulator = Emulator::start();
    emulator.setup(&["role", "orders"]);
    let gate = Receiver::start();
    let dir = tempfile::tempdir().unwrap();
    let spec = format!(
        "apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata:
  name: orders
spec:
  code: {{path: app}}
  handler: app.handler
  runtime: python3.12
  role: arn:aws:iam::123456789012:role/orders
  alias: {{name: live}}
  rollout:
    steps: [{{setWeight: 20}}, {{pause: {{duration: 2s}}}}]
    gates:
      beforeStep: [{{name: confirm, http: {{url: '{}/gates/confirm'}}}}]
",
        gate.url
    );
    let allowed = format!("{}/gates/", gate.url);
    let (controller, repository) = controller(&emulator.endpoint, dir.path(), &spec, &allowed);

    // Release 2 waits at its first step while the gate says "wait" (HTTP 423).
    gate.reply_always(423, r#"{"message": "change freeze"}"#);
    release(&repository, "2");
    controller.wait_for("the closed gate", Duration::from_secs(60), |c| {
        orders(c)["rollout"]["waitingForGate"] == "confirm"
    });
    let asked = gate.received().len();
    std::thread::sleep(Duration::from_secs(12));
    let waiting = orders(&controller);
    assert_eq!(phase(&waiting), "Progressing", "{waiting}");
    assert!(waiting["rollout"]["additional"].is_null(), "{waiting}");
    assert_eq!(waiting["rollout"]["version"], "1", "{waiting}");
    assert!(
        gate.received().len() > asked,
        "the gate is polled while it is closed"
    );
    let request = gate.received().pop().unwrap();
    let payload: serde_json::Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        (payload["phase"].as_str(), payload["gate"].as_str()),
        (Some("beforeStep"), Some("confirm"))
    );
    assert_eq!(payload["canaryVersion"], "2");

    // "Go": the canary takes its step, then goes Healthy.
    gate.reply_always(200, "{}");
    let healthy = wait_for_end(&controller, "2", "Healthy");
    assert_eq!(healthy["rollout"]["version"], "2", "{healthy}");
}

/// The Invoke requests of `function`'s version `version` the proxy saw.
fn invokes_of(proxy: &FaultProxy, function: &str, version: &str) -> usize {
    let path = format!("/2015-03-31/functions/{function}/invocations?Qualifier={version}");
    proxy
        .seen()
        .iter()
        .filter(|s| s.method == "POST" && s.path == path)
        .count()
}

#[test]
fn synthetic_traffic_invokes_the_canary_version_before_traffic_and_in_its_pause() {
    let emulator = Emulator::start();
    emulator.setup(&["lambda-without-docker"]);
    emulator.setup(&["role", "orders"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let proxy = runtime.block_on(FaultProxy::start(&emulator.endpoint));
    let dir = tempfile::tempdir().unwrap();
    let spec = spec("http://127.0.0.1:9")
        .split("    hooks:")
        .next()
        .unwrap()
        .replace(
            "{setWeight: 20}, {pause: {duration: 3s}}",
            "{setWeight: 20}, {pause: {duration: 4s}}",
        )
        + "    traffic: {payload: {probe: true}, invocations: 3, concurrency: 2}\n";
    let (controller, repository) =
        controller(&proxy.endpoint, dir.path(), &spec, "http://127.0.0.1:9/");
    // The first release has no stable version to compare with: it goes live at once.
    assert_eq!(invokes_of(&proxy, "orders", "1"), 0);

    release(&repository, "2");
    let healthy = wait_for_end(&controller, "2", "Healthy");
    assert_eq!(healthy["rollout"]["version"], "2", "{healthy}");
    // One batch before traffic and one at the pause, each to version 2 by its number.
    assert_eq!(invokes_of(&proxy, "orders", "2"), 6);
    let through_alias = proxy
        .seen()
        .iter()
        .filter(|s| s.path.contains("/invocations") && !s.path.contains("Qualifier="))
        .count();
    assert_eq!(
        through_alias, 0,
        "synthetic traffic never goes through the alias"
    );
    controller.terminate();
}
