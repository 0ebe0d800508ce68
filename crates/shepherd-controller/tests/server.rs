//! The HTTP server against a stand-in controller: probes, the status API, the rollout
//! commands and the webhooks, through `oneshot` and once over a real socket.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use hmac::{Hmac, Mac};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sha2::Sha256;
use shepherd_controller::handle::{
    CommandError, Controller, FunctionStatus, ReconcileResult, Trigger,
};
use shepherd_controller::metrics::Metrics;
use shepherd_controller::server::{
    MAX_BODY_BYTES, ReadAccess, Secrets, ServerState, router, serve,
};
use shepherd_core::cloud::{Api, CloudError};
use shepherd_core::rollout::{Command, CommandRefused, Execution, Phase, Stage};
use shepherd_engine::operator::OperateError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::ServiceExt;

const GITHUB_SECRET: &str = "github-secret";
const GITLAB_TOKEN: &str = "gitlab-token";
const GENERIC_SECRET: &str = "generic-secret";
const API_TOKEN: &str = "api-token";
const HOOK_KEY: &str = "hook-key";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// Records what the server asks of it; command outcomes depend on the function's name.
#[derive(Default)]
struct FakeController {
    ready: AtomicBool,
    statuses: Mutex<Vec<FunctionStatus>>,
    triggers: Mutex<Vec<Trigger>>,
    commands: Mutex<Vec<(String, Command)>>,
    hook_reports: Mutex<Vec<(Execution, Result<(), String>)>>,
}

impl FakeController {
    fn triggers(&self) -> Vec<Trigger> {
        self.triggers.lock().unwrap().clone()
    }

    fn commands(&self) -> Vec<(String, Command)> {
        self.commands.lock().unwrap().clone()
    }
}

impl Controller for FakeController {
    fn request_sync(&self, trigger: Trigger) {
        self.triggers.lock().unwrap().push(trigger);
    }

    fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    fn functions(&self) -> Vec<FunctionStatus> {
        self.statuses.lock().unwrap().clone()
    }

    async fn hook_report(
        &self,
        execution: Execution,
        id: String,
        result: Result<(), String>,
    ) -> Result<String, CommandError> {
        let reported = execution.function.clone();
        self.hook_reports.lock().unwrap().push((execution, result));
        match reported.as_str() {
            "done" => {
                Err(OperateError::Refused(CommandRefused::HookNotAwaited { execution: id }).into())
            }
            _ => Ok(format!("hook {id} reported")),
        }
    }

    async fn command(&self, name: &str, command: Command) -> Result<String, CommandError> {
        self.commands
            .lock()
            .unwrap()
            .push((name.to_owned(), command));
        match name {
            "missing" => Err(CommandError::NoSuchFunction {
                name: name.to_owned(),
            }),
            "stable" => Err(OperateError::Refused(CommandRefused::NotNow {
                command,
                phase: Phase::Healthy,
            })
            .into()),
            "broken" => Err(OperateError::Cloud {
                function: name.to_owned(),
                source: CloudError::Rejected {
                    api: Api::ListAliases,
                    code: "AccessDeniedException".to_owned(),
                    message: "arn:aws:iam::123456789012:role/shepherd".to_owned(),
                },
            }
            .into()),
            _ => Ok(format!("{command} {name}: done")),
        }
    }
}

fn all_secrets() -> Secrets {
    Secrets {
        github_webhook_secret: Some(GITHUB_SECRET.to_owned()),
        gitlab_token: Some(GITLAB_TOKEN.to_owned()),
        generic_webhook_secret: Some(GENERIC_SECRET.to_owned()),
        api_token: Some(API_TOKEN.to_owned()),
        hook_callback_key: Some(HOOK_KEY.to_owned()),
    }
}

fn app_with(secrets: Secrets) -> (Arc<FakeController>, Router) {
    let controller = Arc::new(FakeController::default());
    let state = ServerState::new(Arc::clone(&controller), Arc::new(Metrics::new()), secrets);
    (controller, router(state))
}

fn app() -> (Arc<FakeController>, Router) {
    app_with(all_secrets())
}

/// The server with every secret set, reads as `access`, and one function, `api`.
fn app_reading(access: ReadAccess, secrets: Secrets) -> Router {
    let controller = Arc::new(FakeController::default());
    *controller.statuses.lock().unwrap() = vec![FunctionStatus {
        name: "api".to_owned(),
        ..FunctionStatus::default()
    }];
    let state = ServerState::new(controller, Arc::new(Metrics::new()), secrets);
    router(state.with_read_access(access))
}

fn get_with(uri: &str, token: &str) -> Request<Body> {
    Request::get(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn send(app: &Router, request: Request<Body>) -> Response<Body> {
    app.clone().oneshot(request).await.unwrap()
}

async fn body_text(response: Response<Body>) -> String {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn body_json(response: Response<Body>) -> Value {
    serde_json::from_str(&body_text(response).await).unwrap()
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn command(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::post(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap()
}

fn github(event: &str, delivery: &str, body: &str, signature: Option<String>) -> Request<Body> {
    let mut request = Request::post("/webhooks/github")
        .header("X-GitHub-Event", event)
        .header("X-GitHub-Delivery", delivery)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(signature) = signature {
        request = request.header("X-Hub-Signature-256", signature);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

fn github_push() -> String {
    json!({ "ref": "refs/heads/main", "after": COMMIT }).to_string()
}

fn webhook_trigger(source: &'static str, commit: Option<&str>) -> Trigger {
    Trigger::Webhook {
        source,
        commit: commit.map(str::to_owned),
    }
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let (controller, app) = app();

    let response = send(&app, get("/healthz")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, "ok");

    assert_eq!(
        send(&app, get("/readyz")).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    controller.ready.store(true, Ordering::SeqCst);
    assert_eq!(send(&app, get("/readyz")).await.status(), StatusCode::OK);

    let response = send(&app, get("/metrics")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/plain; version=0.0.4"
    );
    assert!(body_text(response).await.contains("shepherd_queue_depth"));
}

#[tokio::test]
async fn lists_and_gets_functions() {
    let (controller, app) = app();
    *controller.statuses.lock().unwrap() = vec![
        FunctionStatus {
            name: "api".to_owned(),
            last_applied_commit: Some(COMMIT.to_owned()),
            last_result: Some(ReconcileResult::Applied),
            ..FunctionStatus::default()
        },
        FunctionStatus {
            name: "worker".to_owned(),
            ..FunctionStatus::default()
        },
    ];

    let response = send(&app, get("/api/v1/functions")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let list = body_json(response).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["api", "worker"]);

    let response = send(&app, get("/api/v1/functions/api")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let api = body_json(response).await;
    assert_eq!(api["lastAppliedCommit"], COMMIT);
    assert_eq!(api["lastResult"], "applied");

    let response = send(&app, get("/api/v1/functions/nope")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(body_json(response).await["error"].is_string());
}

#[tokio::test]
async fn reads_behind_the_token_need_it() {
    let app = app_reading(ReadAccess::Token, all_secrets());
    for uri in ["/api/v1/functions", "/api/v1/functions/api"] {
        let response = send(&app, get(uri)).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{uri}");
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(
            body_json(response).await,
            json!({ "error": "unauthorized" })
        );
        assert_eq!(
            send(&app, get_with(uri, "api-tokeN")).await.status(),
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
        assert_eq!(
            send(&app, get_with(uri, API_TOKEN)).await.status(),
            StatusCode::OK,
            "{uri}"
        );
    }
    // An unknown function is not told apart from a known one without the token.
    assert_eq!(
        send(&app, get("/api/v1/functions/nope")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Probes and the scrape stay open.
    assert_eq!(send(&app, get("/healthz")).await.status(), StatusCode::OK);
    assert_eq!(
        send(&app, get("/readyz")).await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(send(&app, get("/metrics")).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn open_reads_need_no_token() {
    let app = app_reading(ReadAccess::Open, all_secrets());
    for uri in ["/api/v1/functions", "/api/v1/functions/api"] {
        assert_eq!(send(&app, get(uri)).await.status(), StatusCode::OK, "{uri}");
    }
}

#[tokio::test]
async fn reads_behind_a_token_never_set_are_off() {
    let secrets = Secrets {
        api_token: None,
        ..all_secrets()
    };
    let app = app_reading(ReadAccess::Token, secrets);
    for uri in ["/api/v1/functions", "/api/v1/functions/api"] {
        let response = send(&app, get_with(uri, API_TOKEN)).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{uri}");
    }
}

#[tokio::test]
async fn unknown_paths_answer_json_404() {
    let (_, app) = app();
    let response = send(&app, get("/nope")).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_json(response).await, json!({ "error": "not found" }));
}

#[tokio::test]
async fn commands_are_off_without_a_token() {
    let (controller, app) = app_with(Secrets {
        api_token: None,
        ..all_secrets()
    });
    let response = send(
        &app,
        command("/api/v1/functions/api/promote", Some(API_TOKEN)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(controller.commands().is_empty());
}

#[tokio::test]
async fn an_empty_token_counts_as_none() {
    let (controller, app) = app_with(Secrets {
        api_token: Some(String::new()),
        ..all_secrets()
    });
    let request = Request::post("/api/v1/functions/api/abort")
        .header(header::AUTHORIZATION, "Bearer ")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, request).await.status(), StatusCode::NOT_FOUND);
    assert!(controller.commands().is_empty());
}

#[tokio::test]
async fn commands_need_the_right_token() {
    let (controller, app) = app();

    let response = send(&app, command("/api/v1/functions/api/abort", None)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
    assert_eq!(
        body_json(response).await,
        json!({ "error": "unauthorized" })
    );

    let response = send(
        &app,
        command("/api/v1/functions/api/abort", Some("api-tokeN")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A wrong token learns nothing about which commands exist.
    let response = send(
        &app,
        command("/api/v1/functions/api/explode", Some("wrong")),
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(controller.commands().is_empty());

    let response = send(
        &app,
        command("/api/v1/functions/api/abort", Some(API_TOKEN)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        body_json(response).await,
        json!({ "message": "abort api: done" })
    );
    assert_eq!(controller.commands(), [("api".to_owned(), Command::Abort)]);
}

#[tokio::test]
async fn every_command_reaches_the_controller() {
    let (controller, app) = app();
    for verb in [
        "promote",
        "promote?full=true",
        "promote?full=false",
        "abort",
        "pause",
        "resume",
        "retry",
    ] {
        let uri = format!("/api/v1/functions/api/{verb}");
        assert_eq!(
            send(&app, command(&uri, Some(API_TOKEN))).await.status(),
            StatusCode::OK,
            "{verb}"
        );
    }
    let commands: Vec<Command> = controller.commands().into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        commands,
        [
            Command::Promote { full: false },
            Command::Promote { full: true },
            Command::Promote { full: false },
            Command::Abort,
            Command::Pause,
            Command::Resume,
            Command::Retry,
        ]
    );

    let response = send(
        &app,
        command("/api/v1/functions/api/explode", Some(API_TOKEN)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = send(
        &app,
        command("/api/v1/functions/api/promote?full=maybe", Some(API_TOKEN)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(controller.commands().len(), 7);
}

#[tokio::test]
async fn command_errors_map_to_statuses_without_internals() {
    let (_, app) = app();

    let response = send(
        &app,
        command("/api/v1/functions/missing/pause", Some(API_TOKEN)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        body_json(response).await,
        json!({ "error": "no function named missing" })
    );

    let response = send(
        &app,
        command("/api/v1/functions/stable/promote", Some(API_TOKEN)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(
        body_json(response).await,
        json!({ "error": "cannot promote: the rollout is Healthy" })
    );

    let response = send(
        &app,
        command("/api/v1/functions/broken/retry", Some(API_TOKEN)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let body = body_text(response).await;
    assert!(
        !body.contains("arn:aws") && !body.contains("AccessDenied"),
        "{body}"
    );
    assert!(serde_json::from_str::<Value>(&body).unwrap()["error"].is_string());
}

#[tokio::test]
async fn github_push_with_a_valid_signature_queues_one_sync() {
    let (controller, app) = app();
    let body = github_push();
    let response = send(
        &app,
        github(
            "push",
            "d-1",
            &body,
            Some(sign(GITHUB_SECRET, body.as_bytes())),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(
        controller.triggers(),
        [webhook_trigger("github", Some(COMMIT))]
    );
}

#[tokio::test]
async fn github_rejects_a_wrong_or_missing_signature() {
    let (controller, app) = app();
    let body = github_push();

    let wrong = sign("not-the-secret", body.as_bytes());
    let response = send(&app, github("push", "d-1", &body, Some(wrong))).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        body_json(response).await,
        json!({ "error": "unauthorized" })
    );

    // Signed, then the body changed.
    let tampered = sign(GITHUB_SECRET, b"{}");
    assert_eq!(
        send(&app, github("push", "d-2", &body, Some(tampered)))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, github("push", "d-3", &body, None))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(controller.triggers().is_empty());

    // A rejected delivery does not claim its id: the genuine one still goes through.
    let genuine = sign(GITHUB_SECRET, body.as_bytes());
    assert_eq!(
        send(&app, github("push", "d-1", &body, Some(genuine)))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(controller.triggers().len(), 1);
}

#[tokio::test]
async fn github_sha1_signature_alone_is_refused() {
    let (controller, app) = app();
    let body = github_push();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(GITHUB_SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    // Whatever its value, the SHA-1 header is not looked at.
    let request = Request::post("/webhooks/github")
        .header("X-GitHub-Event", "push")
        .header("X-GitHub-Delivery", "d-1")
        .header(
            "X-Hub-Signature",
            format!("sha1={}", hex::encode(&mac.finalize().into_bytes()[..20])),
        )
        .body(Body::from(body))
        .unwrap();
    assert_eq!(send(&app, request).await.status(), StatusCode::UNAUTHORIZED);
    assert!(controller.triggers().is_empty());
}

#[tokio::test]
async fn github_ping_and_other_events_do_not_sync() {
    let (controller, app) = app();
    let body = r#"{"zen":"Keep it logically awesome."}"#;
    let response = send(
        &app,
        github(
            "ping",
            "d-1",
            body,
            Some(sign(GITHUB_SECRET, body.as_bytes())),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);

    let response = send(
        &app,
        github(
            "issues",
            "d-2",
            body,
            Some(sign(GITHUB_SECRET, body.as_bytes())),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(controller.triggers().is_empty());
}

#[tokio::test]
async fn github_replayed_delivery_syncs_once() {
    let (controller, app) = app();
    let body = github_push();
    let signature = sign(GITHUB_SECRET, body.as_bytes());
    assert_eq!(
        send(&app, github("push", "d-1", &body, Some(signature.clone())))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    let response = send(&app, github("push", "d-1", &body, Some(signature))).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_json(response).await, json!({ "duplicate": true }));
    assert_eq!(controller.triggers().len(), 1);
}

#[tokio::test]
async fn github_branch_deletion_and_bad_payloads() {
    let (controller, app) = app();
    let deleted = json!({ "ref": "refs/heads/gone", "after": "0".repeat(40) }).to_string();
    let response = send(
        &app,
        github(
            "push",
            "d-1",
            &deleted,
            Some(sign(GITHUB_SECRET, deleted.as_bytes())),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(controller.triggers(), [webhook_trigger("github", None)]);

    let not_json = "payload=%7B%7D";
    let response = send(
        &app,
        github(
            "push",
            "d-2",
            not_json,
            Some(sign(GITHUB_SECRET, not_json.as_bytes())),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let option = json!({ "after": "--upload-pack=touch /tmp/x" }).to_string();
    let response = send(
        &app,
        github(
            "push",
            "d-3",
            &option,
            Some(sign(GITHUB_SECRET, option.as_bytes())),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(controller.triggers().len(), 1);
}

#[tokio::test]
async fn webhooks_without_a_secret_are_off() {
    let (controller, app) = app_with(Secrets::default());
    let body = github_push();
    let response = send(
        &app,
        github(
            "push",
            "d-1",
            &body,
            Some(sign(GITHUB_SECRET, body.as_bytes())),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    for uri in ["/webhooks/gitlab", "/webhooks/generic"] {
        let request = Request::post(uri).body(Body::empty()).unwrap();
        assert_eq!(
            send(&app, request).await.status(),
            StatusCode::NOT_FOUND,
            "{uri}"
        );
    }
    assert!(controller.triggers().is_empty());
}

fn gitlab(event: &str, token: &str, uuid: &str, body: &str) -> Request<Body> {
    Request::post("/webhooks/gitlab")
        .header("X-Gitlab-Event", event)
        .header("X-Gitlab-Token", token)
        .header("X-Gitlab-Event-UUID", uuid)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn gitlab_push_with_the_token() {
    let (controller, app) = app();
    let body = json!({ "object_kind": "push", "ref": "refs/heads/main", "checkout_sha": COMMIT, "after": COMMIT })
        .to_string();

    assert_eq!(
        send(&app, gitlab("Push Hook", "wrong", "u-1", &body))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let no_token = Request::post("/webhooks/gitlab")
        .header("X-Gitlab-Event", "Push Hook")
        .body(Body::from(body.clone()))
        .unwrap();
    assert_eq!(
        send(&app, no_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(controller.triggers().is_empty());

    assert_eq!(
        send(&app, gitlab("Push Hook", GITLAB_TOKEN, "u-1", &body))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        controller.triggers(),
        [webhook_trigger("gitlab", Some(COMMIT))]
    );

    // Replayed, then a non-push event: neither syncs.
    let response = send(&app, gitlab("Push Hook", GITLAB_TOKEN, "u-1", &body)).await;
    assert_eq!(body_json(response).await, json!({ "duplicate": true }));
    let response = send(
        &app,
        gitlab("Merge Request Hook", GITLAB_TOKEN, "u-2", "{}"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert_eq!(controller.triggers().len(), 1);
}

fn generic(signature: &str, body: &str) -> Request<Body> {
    Request::post("/webhooks/generic")
        .header("X-Shepherd-Signature", signature)
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn generic_hmac() {
    let (controller, app) = app();
    let body = json!({ "commit": COMMIT, "sentAt": 1 }).to_string();

    let response = send(&app, generic(&sign("wrong", body.as_bytes()), &body)).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(controller.triggers().is_empty());

    let signature = sign(GENERIC_SECRET, body.as_bytes());
    assert_eq!(
        send(&app, generic(&signature, &body)).await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        controller.triggers(),
        [webhook_trigger("generic", Some(COMMIT))]
    );

    // The signature is the delivery id, in either hex case.
    let response = send(
        &app,
        generic(
            &signature.to_uppercase().replace("SHA256=", "sha256="),
            &body,
        ),
    )
    .await;
    assert_eq!(body_json(response).await, json!({ "duplicate": true }));

    // An empty body asks for a sync of whatever the source holds.
    assert_eq!(
        send(&app, generic(&sign(GENERIC_SECRET, b""), ""))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(controller.triggers().len(), 2);
    assert_eq!(controller.triggers()[1], webhook_trigger("generic", None));
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let (controller, app) = app();
    let body = format!(
        r#"{{"after":"{COMMIT}","padding":"{}"}}"#,
        "x".repeat(MAX_BODY_BYTES)
    );
    let signature = sign(GITHUB_SECRET, body.as_bytes());
    let response = send(&app, github("push", "d-1", &body, Some(signature))).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body_json(response).await["error"].is_string());
    assert!(controller.triggers().is_empty());
}

#[tokio::test]
async fn serves_on_a_real_socket_and_shuts_down() {
    let (controller, app) = app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, app, async {
        let _ = stopped.await;
    }));

    let raw = |request: String| async move {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    };

    let response =
        raw("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".to_owned())
            .await;
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(response.ends_with("\r\n\r\nok"), "{response}");

    let body = github_push();
    let request = format!(
        "POST /webhooks/github HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         X-GitHub-Event: push\r\nX-GitHub-Delivery: d-1\r\nX-Hub-Signature-256: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        sign(GITHUB_SECRET, body.as_bytes()),
        body.len(),
    );
    let response = raw(request).await;
    assert!(
        response.starts_with("HTTP/1.1 202 Accepted\r\n"),
        "{response}"
    );
    assert_eq!(
        controller.triggers(),
        [webhook_trigger("github", Some(COMMIT))]
    );

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

fn hook_report(id: &str, token: &str, body: &str) -> Request<Body> {
    Request::post(format!("/api/v1/hooks/{id}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body.to_owned()))
        .unwrap()
}

#[tokio::test]
async fn a_hook_reports_its_result_with_the_token_of_its_execution_only() {
    let (controller, app) = app();
    let id = "orders-api.pre0.1764151200";
    let token = shepherd_engine::execute::callback_token(HOOK_KEY, id);
    let other = shepherd_engine::execute::callback_token(HOOK_KEY, "orders-api.pre1.1764151200");
    let failed = r#"{"status": "Failed", "reason": "smoke suite red"}"#;
    for (request, expected) in [
        (hook_report(id, API_TOKEN, failed), StatusCode::UNAUTHORIZED),
        (hook_report(id, &other, failed), StatusCode::UNAUTHORIZED),
        (
            hook_report(id, &token, r#"{"status": "Done"}"#),
            StatusCode::BAD_REQUEST,
        ),
        (hook_report(id, &token, "not json"), StatusCode::BAD_REQUEST),
        (
            hook_report("not-an-execution", &token, failed),
            StatusCode::NOT_FOUND,
        ),
    ] {
        assert_eq!(send(&app, request).await.status(), expected);
    }
    assert!(controller.hook_reports.lock().unwrap().is_empty());
    let response = send(&app, hook_report(id, &token, failed)).await;
    assert_eq!(response.status(), StatusCode::OK);
    let reports = controller.hook_reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 1);
    let (execution, result) = &reports[0];
    assert_eq!(
        (
            execution.function.as_str(),
            execution.stage,
            execution.index,
            execution.started
        ),
        ("orders-api", Stage::PreTraffic, 0, 1_764_151_200)
    );
    assert_eq!(result, &Err("smoke suite red".to_owned()));
    // A report the rollout no longer waits for is a conflict.
    let done = "done.post0.1764151200";
    let token = shepherd_engine::execute::callback_token(HOOK_KEY, done);
    let response = send(
        &app,
        hook_report(done, &token, r#"{"status": "Succeeded"}"#),
    )
    .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn hook_reports_are_off_without_a_callback_key() {
    let (_, app) = app_with(Secrets {
        hook_callback_key: None,
        ..all_secrets()
    });
    let id = "orders-api.pre0.1764151200";
    let token = shepherd_engine::execute::callback_token("", id);
    let response = send(&app, hook_report(id, &token, r#"{"status": "Succeeded"}"#)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
