//! End to end: the `shepherd` binary with the real AWS SDK clients against the local AWS
//! emulator (moto server), through a proxy that records every request and injects faults.

mod support;

use std::path::{Path, PathBuf};

use support::proxy::{Fault, FaultProxy};
use support::{Emulator, copy_tree, shepherd, stderr, stdout};

/// A copy of examples/ (specs and application code) the test may edit, in a git
/// repository of its own (whose top is the root local code must stay inside).
fn example_repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    support::git_init(dir.path());
    copy_tree(
        &support::repo().join("examples/specs"),
        &dir.path().join("specs"),
    );
    copy_tree(
        &support::repo().join("examples/app"),
        &dir.path().join("app"),
    );
    let specs = dir.path().join("specs");
    (dir, specs)
}

async fn run(proxy: &FaultProxy, args: &[&str], cwd: &Path) -> std::process::Output {
    let endpoint = proxy.endpoint.clone();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let cwd = cwd.to_owned();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        shepherd(&endpoint, &args, &cwd)
    })
    .await
    .unwrap()
}

fn code(output: &std::process::Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

fn explain(output: &std::process::Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", stdout(output), stderr(output))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creates_converges_follows_code_changes_and_corrects_drift() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let proxy = FaultProxy::start(&emulator.endpoint).await;
    let (_dir, specs) = example_repo();
    let specs_arg = specs.to_str().unwrap();

    // From nothing: every example function is created, published and aliased.
    let first = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&first), 0, "{}", explain(&first));
    let summary = stdout(&first);
    for name in ["orders-api", "invoice-worker", "nightly-report"] {
        assert!(summary.contains(&format!("{name}: ")), "{summary}");
    }
    assert!(summary.contains("3 changed"), "{summary}");

    // Converged: plan exits 0, and a second apply makes no write at all.
    proxy.clear();
    let plan = run(&proxy, &["plan", specs_arg], &specs).await;
    assert_eq!(code(&plan), 0, "{}", explain(&plan));
    let second = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&second), 0, "{}", explain(&second));
    assert!(
        proxy.writes().is_empty(),
        "writes on a converged world: {:?}",
        proxy.writes()
    );
    // At most two Lambda reads per function per run (GetFunction, ListAliases), and one
    // HeadObject per run for the one S3 object (orders-api's code), to identify its content.
    let (lambda, s3): (Vec<_>, Vec<_>) = proxy
        .reads()
        .into_iter()
        .partition(|r| r.path.starts_with("/2015-03-31/"));
    assert!(lambda.len() <= 2 * 3 * 2, "{lambda:?}");
    assert_eq!(s3.len(), 2, "{s3:?}");
    assert!(s3.iter().all(|r| r.method == "HEAD"), "{s3:?}");

    // A code change publishes exactly one new version and moves the alias to it.
    std::fs::write(
        specs.parent().unwrap().join("app/nightly-report/report.py"),
        "def handler(event, context):\n    return {'day': 'changed'}\n",
    )
    .unwrap();
    proxy.clear();
    let plan = run(&proxy, &["plan", specs_arg, "--format", "json"], &specs).await;
    assert_eq!(code(&plan), 2, "{}", explain(&plan));
    let json: serde_json::Value = serde_json::from_str(&stdout(&plan)).unwrap();
    let changed: Vec<&str> = json["functions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["actions"].as_array().unwrap().is_empty())
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(changed, ["nightly-report"], "{json}");
    proxy.clear();
    let apply = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&apply), 0, "{}", explain(&apply));
    let publishes: Vec<_> = proxy
        .writes()
        .into_iter()
        .filter(|s| s.method == "POST" && s.path.ends_with("/functions/nightly-report/versions"))
        .collect();
    assert_eq!(publishes.len(), 1, "{:?}", proxy.writes());
    let alias_updates = proxy
        .writes()
        .into_iter()
        .filter(|s| s.method == "PUT" && s.path.ends_with("/functions/nightly-report/aliases/live"))
        .count();
    assert_eq!(alias_updates, 1, "{:?}", proxy.writes());
    let plan = run(&proxy, &["plan", specs_arg], &specs).await;
    assert_eq!(code(&plan), 0, "{}", explain(&plan));

    // Drift behind shepherd's back is found, reported and corrected.
    emulator.setup(&["set-memory", "invoice-worker", "256"]);
    let plan = run(&proxy, &["plan", specs_arg], &specs).await;
    assert_eq!(code(&plan), 2, "{}", explain(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains("invoice-worker (update, drift detected)"),
        "{text}"
    );
    assert!(text.contains("memory: 256 -> 512"), "{text}");
    let apply = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&apply), 0, "{}", explain(&apply));
    assert!(
        stdout(&apply).contains("drift corrected"),
        "{}",
        explain(&apply)
    );
    let plan = run(&proxy, &["plan", specs_arg], &specs).await;
    assert_eq!(code(&plan), 0, "{}", explain(&plan));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_spec_changes_nothing() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let proxy = FaultProxy::start(&emulator.endpoint).await;
    let (_dir, specs) = example_repo();
    let broken = specs.join("functions/nightly-report.yaml");
    let text = std::fs::read_to_string(&broken)
        .unwrap()
        .replace("memory: 2048", "memory: 64");
    std::fs::write(&broken, text).unwrap();

    let apply = run(&proxy, &["apply", specs.to_str().unwrap()], &specs).await;
    assert_eq!(code(&apply), 1, "{}", explain(&apply));
    assert!(
        stderr(&apply).contains("spec.memory: 64 is below the minimum of 128 MB"),
        "{}",
        explain(&apply)
    );
    assert!(
        proxy.seen().is_empty(),
        "an invalid spec reached AWS: {:?}",
        proxy.seen()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_throttling_and_server_errors_with_the_same_end_state() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let proxy = FaultProxy::start(&emulator.endpoint).await;
    let (_dir, specs) = example_repo();
    let specs_arg = specs.to_str().unwrap();

    // Every other Lambda request of the first stretch fails with 429 or 500.
    let faults: Vec<Fault> = (0..12)
        .map(|i| {
            if i % 2 == 0 {
                Fault::Throttle
            } else {
                Fault::ServerError
            }
        })
        .collect();
    proxy.inject(&faults);
    let apply = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&apply), 0, "{}", explain(&apply));
    let injected = proxy.seen().iter().filter(|s| s.injected).count();
    assert_eq!(injected, 12, "all injected faults were hit");
    assert!(
        stdout(&apply).contains("12 throttled") || stdout(&apply).contains("throttled"),
        "{}",
        explain(&apply)
    );

    // The end state is the converged one: nothing left to do.
    proxy.clear();
    let plan = run(&proxy, &["plan", specs_arg], &specs).await;
    assert_eq!(code(&plan), 0, "{}", explain(&plan));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_the_endpoint_does_not_keep_are_reported_once_not_republished() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let proxy = FaultProxy::start(&emulator.endpoint).await;
    let (_dir, specs) = example_repo();
    let specs_arg = specs.to_str().unwrap();
    let first = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&first), 0, "{}", explain(&first));

    // The emulator does not reflect updates of these two settings.
    let spec = specs.join("functions/nightly-report.yaml");
    let text = std::fs::read_to_string(&spec)
        .unwrap()
        .replace("tracing: Active", "tracing: PassThrough")
        .replace("ephemeralStorage: 2048", "ephemeralStorage: 4096");
    std::fs::write(&spec, text).unwrap();
    let change = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&change), 0, "{}", explain(&change));

    for _ in 0..2 {
        proxy.clear();
        let again = run(&proxy, &["apply", specs_arg], &specs).await;
        assert_eq!(code(&again), 0, "{}", explain(&again));
        assert!(
            proxy.writes().is_empty(),
            "republished: {:?}\n{}",
            proxy.writes(),
            explain(&again)
        );
    }
    let plan = run(&proxy, &["plan", specs_arg], &specs).await;
    assert_eq!(code(&plan), 0, "{}", explain(&plan));
    assert!(
        stdout(&plan)
            .contains("nightly-report: not converging: AWS did not keep what shepherd wrote"),
        "{}",
        explain(&plan)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_sources_are_checked_against_their_queues_and_filters_are_applied() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let proxy = FaultProxy::start(&emulator.endpoint).await;
    let (_dir, specs) = example_repo();
    let specs_arg = specs.to_str().unwrap();

    // The queue hides a record for less time than the function may run: Lambda would
    // refuse the mapping, and plan says so before anything is written.
    emulator.setup(&["set-queue", "order-events", "10"]);
    let plan = run(&proxy, &["plan", specs_arg], &specs).await;
    assert_eq!(code(&plan), 1, "{}", explain(&plan));
    assert!(
        stdout(&plan).contains("invoice-worker: eventSources.sqs[0]: the function's timeout (30s) is above the visibility timeout of queue order-events (10s)"),
        "{}",
        explain(&plan)
    );
    // Above the timeout but below 6 times it, and no redrive policy: warnings only.
    emulator.setup(&["set-queue", "order-events", "60"]);
    let plan = run(&proxy, &["plan", specs_arg], &specs).await;
    assert_eq!(code(&plan), 2, "{}", explain(&plan));
    let text = stdout(&plan);
    assert!(
        text.contains("is below 6 times the function's timeout (3m"),
        "{text}"
    );
    emulator.setup(&[
        "set-queue",
        "order-events",
        "180",
        "arn:aws:sqs:us-east-1:123456789012:nightly-report-failures",
    ]);
    let plan = run(&proxy, &["plan", specs_arg], &specs).await;
    assert!(
        stdout(&plan).contains("but queue order-events's redrive policy sends failed records to arn:aws:sqs:us-east-1:123456789012:nightly-report-failures"),
        "{}",
        explain(&plan)
    );
    emulator.setup(&[
        "set-queue",
        "order-events",
        "180",
        "arn:aws:sqs:us-east-1:123456789012:order-events-dlq",
    ]);

    // Filters are applied, and a second apply finds them as written.
    let spec = specs.join("functions/invoice-worker.yaml");
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "        deadLetterQueue:",
        "        filterCriteria:\n          - {body: {type: [order-created]}}\n        deadLetterQueue:",
    );
    std::fs::write(&spec, text).unwrap();
    let apply = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&apply), 0, "{}", explain(&apply));
    assert_eq!(
        emulator.setup(&["mappings"]),
        r#"order-events {"body":{"type":["order-created"]}}"#
    );
    // Read back in full, the filter compares equal to the spec's (the emulator's known
    // difference, the mapping's function ARN, may still show).
    let full = run(&proxy, &["plan", specs_arg, "--refresh", "full"], &specs).await;
    assert!(
        !stdout(&full).contains("filterCriteria"),
        "{}",
        explain(&full)
    );
}

/// The versions the emulator's summary lists for one function.
fn versions_of(summary: &str, function: &str) -> String {
    summary
        .lines()
        .find(|l| l.starts_with(&format!("function {function}:")))
        .and_then(|l| l.split("versions ").nth(1))
        .and_then(|l| l.split(';').next())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_overwritten_at_the_same_key_is_deployed_as_a_new_release() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let proxy = FaultProxy::start(&emulator.endpoint).await;
    let (_dir, specs) = example_repo();
    let specs_arg = specs.to_str().unwrap();
    let first = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&first), 0, "{}", explain(&first));
    let deployed = emulator.setup(&["code", "orders-api"]);

    // CI uploads a new build over the old one; the spec does not change.
    emulator.setup(&[
        "s3-zip",
        "shepherd-examples-artifacts",
        "orders-api/orders-api-1.4.2.zip",
        "orders/api.py=def handler(event, context):\n    return {'statusCode': 201}\n",
    ]);
    let plan = run(&proxy, &["plan", specs_arg], &specs).await;
    assert!(
        stdout(&plan).contains("s3://shepherd-examples-artifacts/orders-api/orders-api-1.4.2.zip"),
        "the new object is not planned:\n{}",
        explain(&plan)
    );
    let apply = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&apply), 0, "{}", explain(&apply));
    let redeployed = emulator.setup(&["code", "orders-api"]);
    assert_ne!(deployed, redeployed, "the new object was not deployed");
    let summary = emulator.setup(&["summary"]);
    assert_eq!(versions_of(&summary, "orders-api"), "1, 2", "{summary}");
    // A release like any other: a canary, the alias still on the stable version.
    let orders = summary
        .lines()
        .find(|l| l.starts_with("function orders-api:"))
        .unwrap_or_default();
    assert!(orders.contains("alias live -> 1"), "{summary}");

    // Identified once: the next pass publishes nothing.
    proxy.clear();
    let again = run(&proxy, &["apply", specs_arg], &specs).await;
    assert_eq!(code(&again), 0, "{}", explain(&again));
    assert!(
        !proxy.writes().iter().any(|w| w.path.ends_with("/versions")),
        "published again: {:?}",
        proxy.writes()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_tag_that_moves_is_deployed_by_digest() {
    let emulator = Emulator::start();
    emulator.setup(&["role", "thumbnails"]);
    let repository = emulator.setup(&["push-image", "thumbnails", "latest", "build 1"]);
    let proxy = FaultProxy::start(&emulator.endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    support::git_init(dir.path());
    let spec = format!(
        "apiVersion: shepherd.dev/v1alpha1\nkind: Function\nmetadata:\n  name: thumbnails\nspec:\n  code:\n    image: {repository}:latest\n  role: arn:aws:iam::123456789012:role/thumbnails\n  memory: 512\n  timeout: 30s\n"
    );
    std::fs::write(dir.path().join("thumbnails.yaml"), spec).unwrap();
    let specs_arg = dir.path().to_str().unwrap();
    let first = run(&proxy, &["apply", specs_arg], dir.path()).await;
    assert_eq!(code(&first), 0, "{}", explain(&first));
    let deployed = emulator.setup(&["code", "thumbnails"]);
    assert!(
        deployed.contains(&format!("{repository}@sha256:")),
        "not deployed by digest: {deployed}"
    );

    // A new build pushed under the same tag.
    emulator.setup(&["push-image", "thumbnails", "latest", "build 2"]);
    let apply = run(&proxy, &["apply", specs_arg], dir.path()).await;
    assert_eq!(code(&apply), 0, "{}", explain(&apply));
    let redeployed = emulator.setup(&["code", "thumbnails"]);
    assert_ne!(deployed, redeployed, "the moved tag was not deployed");
    assert!(
        redeployed.contains(&format!("{repository}@sha256:")),
        "{redeployed}"
    );

    proxy.clear();
    let again = run(&proxy, &["apply", specs_arg], dir.path()).await;
    assert_eq!(code(&again), 0, "{}", explain(&again));
    assert!(
        proxy.writes().is_empty(),
        "wrote again: {:?}",
        proxy.writes()
    );
}
