//! The control loop in process, on the in-memory fake and in virtual time: a folder of
//! specs, the controller's own tasks and queue, and what AWS ends up holding.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use shepherd_controller::controller::{ControlLoop, Settings};
use shepherd_controller::handle::{Controller, FunctionStatus, ReconcileResult, Trigger};
use shepherd_controller::metrics::Metrics;
use shepherd_controller::source::SourceConfig;
use shepherd_core::cloud::*;
use shepherd_core::model::{AlarmState, Owner};
use shepherd_core::rollout::Command;
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::metered::Metered;
use shepherd_engine::reconcile::ReconcileOptions;
use shepherd_engine::retry::RetryPolicy;
use shepherd_fake::FakeCloud;
use tokio_util::sync::CancellationToken;

fn spec(name: &str, code: &str) -> String {
    format!(
        "apiVersion: shepherd.dev/v1alpha1\n\
         kind: Function\n\
         metadata:\n  name: {name}\n\
         spec:\n\
         \x20 code:\n{code}\
         \x20 handler: app.handler\n\
         \x20 runtime: python3.12\n\
         \x20 role: arn:aws:iam::123456789012:role/{name}\n"
    )
}

fn s3(name: &str) -> String {
    format!("    s3:\n      bucket: artifacts\n      key: {name}/1.0.0.zip\n")
}

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A running controller over a folder of specs.
struct Running {
    aws: FakeCloud,
    core: Arc<ControlLoop<FakeCloud>>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn start(root: &Path, prune: bool) -> Self {
        Self::start_with(root, prune, Duration::from_secs(60)).await
    }

    async fn start_with(root: &Path, prune: bool, resync_interval: Duration) -> Self {
        let aws = FakeCloud::new();
        let mut reconcile = ReconcileOptions::default();
        reconcile.plan.prune = prune;
        reconcile.plan.owner = Owner::parse("team-a").unwrap();
        let settings = Settings {
            source: SourceConfig::Directory {
                root: root.to_owned(),
                path: ".".into(),
            },
            lint_config: None,
            poll_interval: Duration::from_secs(30),
            resync_interval,
            full_refresh_every: 2,
            workers: 4,
            reconcile,
            target: Default::default(),
        };
        let cloud = Metered::new(
            aws.clone(),
            Arc::new(Budget::new(Rates::default())),
            RetryPolicy::default(),
        );
        let core = ControlLoop::new(cloud, settings, Arc::new(Metrics::new()));
        let cancel = CancellationToken::new();
        let task = tokio::spawn(Arc::clone(&core).run(cancel.clone()));
        let running = Self {
            aws,
            core,
            cancel,
            task,
        };
        // Minutes of virtual time: a fleet is created at the default budget's pace.
        for _ in 0..6000 {
            if running.core.is_ready() {
                return running;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "not ready after ten minutes: {:#?}",
            running.core.functions()
        );
    }

    fn status(&self, name: &str) -> FunctionStatus {
        self.core
            .function(name)
            .unwrap_or_else(|| panic!("{name} is not listed: {:#?}", self.core.functions()))
    }

    async fn stop(self) {
        self.cancel.cancel();
        self.task.await.unwrap();
    }
}

#[tokio::test(start_paused = true)]
async fn prune_never_deletes_a_function_the_specs_name_and_deletes_one_they_dropped() {
    let specs = tempfile::tempdir().unwrap();
    for name in ["orders", "invoices", "reports"] {
        write(
            specs.path(),
            &format!("{name}.yaml"),
            &spec(name, &s3(name)),
        );
    }
    let running = Running::start(specs.path(), true).await;
    // Several resyncs and full refreshes, each with its prune step.
    tokio::time::sleep(Duration::from_secs(300)).await;
    assert_eq!(
        running.aws.function_names(),
        ["invoices", "orders", "reports"]
    );
    assert_eq!(running.aws.call_count(Api::DeleteFunction), 0);
    for name in ["orders", "invoices", "reports"] {
        let status = running.status(name);
        assert_eq!(
            status.last_result,
            Some(ReconcileResult::Unchanged),
            "{status:#?}"
        );
    }

    // A function dropped from the folder is pruned by the prune step of the next sync.
    std::fs::remove_file(specs.path().join("reports.yaml")).unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert_eq!(running.aws.function_names(), ["invoices", "orders"]);
    running.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_function_whose_code_cannot_be_packaged_stays_listed_as_failed_and_is_not_pruned() {
    let specs = tempfile::tempdir().unwrap();
    write(specs.path(), "orders.yaml", &spec("orders", &s3("orders")));
    write(
        specs.path(),
        "app/reports/app.py",
        "def handler(e, c):\n    return 1\n",
    );
    write(
        specs.path(),
        "reports.yaml",
        &spec("reports", "    path: app/reports\n"),
    );
    let running = Running::start(specs.path(), true).await;
    assert_eq!(running.aws.function_names(), ["orders", "reports"]);

    // The code breaks: a file the walk cannot read (a dangling link).
    let app = specs.path().join("app/reports");
    std::fs::remove_file(app.join("app.py")).unwrap();
    std::os::unix::fs::symlink(app.join("missing.py"), app.join("app.py")).unwrap();
    tokio::time::sleep(Duration::from_secs(300)).await;

    let status = running.status("reports");
    assert_eq!(
        status.last_result,
        Some(ReconcileResult::Failed),
        "{status:#?}"
    );
    let error = status.last_error.unwrap_or_default();
    assert!(error.contains("app.py"), "{error}");
    assert_eq!(running.aws.function_names(), ["orders", "reports"]);
    assert_eq!(running.aws.call_count(Api::DeleteFunction), 0);
    running.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_deploy_request_naming_unknown_functions_is_refused_in_one_warning() {
    let specs = tempfile::tempdir().unwrap();
    write(specs.path(), "orders.yaml", &spec("orders", &s3("orders")));
    let running = Running::start(specs.path(), false).await;
    let mut functions: Vec<String> = (0..1000).map(|i| format!("made-up-{i}")).collect();
    functions.push("orders".to_owned());
    running.core.request_sync(Trigger::DeployRequest {
        functions,
        commit: None,
    });
    let metrics = running.core.metrics();
    // Nothing has run yet (virtual time, one thread): what is queued is what was accepted.
    assert_eq!(metrics.queue_depth.get(), 1);
    assert_eq!(
        metrics
            .rejected_triggers
            .with_label_values(&["deploy_request"])
            .get(),
        1
    );
    running.stop().await;
}

#[tokio::test(start_paused = true)]
async fn the_status_api_shows_aws_failures_without_awss_own_messages() {
    let specs = tempfile::tempdir().unwrap();
    write(specs.path(), "orders.yaml", &spec("orders", &s3("orders")));
    let running = Running::start(specs.path(), false).await;
    let denied = CloudError::Rejected {
        api: Api::GetFunction,
        code: "AccessDeniedException".into(),
        message: "User: arn:aws:sts::123456789012:assumed-role/shepherd/i-0abc is not authorized (request id 5f1e)".into(),
    };
    running.aws.fail_next(Api::GetFunction, denied, 1);
    running.core.request_sync(Trigger::Resync);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status = running.status("orders");
    assert_eq!(
        status.last_result,
        Some(ReconcileResult::Failed),
        "{status:#?}"
    );
    assert_eq!(
        status.last_error.as_deref(),
        Some("GetFunction: refused by AWS (AccessDeniedException)")
    );
    running.stop().await;
}

/// A function with a canary that waits for an operator after its first step.
fn canary(release: &str) -> String {
    spec(
        "orders",
        &format!("    s3:\n      bucket: artifacts\n      key: orders/{release}.zip\n"),
    ) + "  alias:\n    name: live\n  rollout:\n    steps:\n      - setWeight: 20\n      - pause: {}\n"
}

fn phase(status: &FunctionStatus) -> Option<String> {
    let record = status.rollout.as_ref()?.record.as_ref()?;
    Some(record.phase.to_string())
}

#[tokio::test(start_paused = true)]
async fn after_an_operator_command_the_status_and_metrics_show_what_aws_now_says() {
    let specs = tempfile::tempdir().unwrap();
    write(specs.path(), "orders.yaml", &canary("1.0.0"));
    let running = Running::start(specs.path(), false).await;
    write(specs.path(), "orders.yaml", &canary("2.0.0"));
    for _ in 0..120 {
        if phase(&running.status("orders")).as_deref() == Some("Paused") {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(phase(&running.status("orders")).as_deref(), Some("Paused"));
    let metrics = running.core.metrics();
    let weight = || metrics.canary_weight.with_label_values(&["orders"]).get();
    let phases = |p: &str| metrics.rollouts.with_label_values(&[p]).get();
    assert_eq!(weight(), 20.0);

    // Each answer of the status API, and the metrics, follow the command at once.
    running
        .core
        .command("orders", Command::Promote { full: true })
        .await
        .unwrap();
    let status = running.status("orders");
    assert_eq!(phase(&status).as_deref(), Some("Healthy"), "{status:#?}");
    assert_eq!(status.rollout.as_ref().unwrap().additional, None);
    assert_eq!(weight(), 0.0);
    assert_eq!((phases("Healthy"), phases("Paused")), (1, 0));
    running.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_invalid_commit_is_reported_with_files_named_inside_the_repository() {
    let specs = tempfile::tempdir().unwrap();
    write(
        specs.path(),
        "teams/orders.yaml",
        &spec("orders", &s3("orders")),
    );
    let running = Running::start(specs.path(), false).await;
    let broken = spec("orders", &s3("orders")).replace("runtime: python3.12", "runtime: python9");
    write(specs.path(), "teams/orders.yaml", &broken);
    // The next source poll (every 30s), before the next resync (every 60s).
    tokio::time::sleep(Duration::from_secs(35)).await;
    let status = running.status("orders");
    assert_eq!(
        status.last_result,
        Some(ReconcileResult::Invalid),
        "{status:#?}"
    );
    assert_eq!(status.diagnostics.len(), 1, "{status:#?}");
    assert!(
        status.diagnostics[0].starts_with("teams/orders.yaml:"),
        "{:?}",
        status.diagnostics
    );
    assert!(
        status.diagnostics[0].contains("spec.runtime"),
        "{:?}",
        status.diagnostics
    );
    running.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_reconcile_that_starts_a_canary_reads_aws_once() {
    let gated = |release: &str| canary(release) + "  alarms:\n    errors: {threshold: 1}\n";
    let specs = tempfile::tempdir().unwrap();
    write(specs.path(), "orders.yaml", &gated("1.0.0"));
    let running = Running::start(specs.path(), false).await;
    write(specs.path(), "orders.yaml", &gated("2.0.0"));
    running.aws.reset_calls();
    // As a push webhook does: the source is read now, the resync is a minute away.
    running.core.request_sync(Trigger::Webhook {
        source: "generic",
        commit: None,
    });
    for _ in 0..20 {
        if phase(&running.status("orders")).as_deref() == Some("Paused") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let status = running.status("orders");
    assert_eq!(phase(&status).as_deref(), Some("Paused"), "{status:#?}");
    let rollout = status.rollout.as_ref().unwrap();
    assert_eq!(rollout.additional.as_ref().map(|(_, w)| *w), Some(0.2));
    assert!(rollout.alarms.contains_key("orders-errors"), "{rollout:#?}");
    // Two reconciles: one shifts 20% to the canary, the next records the manual gate.
    // Each one's status after its alias write comes from its own observation and the
    // write: the aliases are read once per reconcile, never again after the write (the
    // alarm watch reads alarms on its own clock, so their count is not the reconcile's).
    let calls = running.aws.calls();
    assert_eq!(running.aws.call_count(Api::UpdateAlias), 2, "{calls:?}");
    assert_eq!(running.aws.call_count(Api::ListAliases), 2, "{calls:?}");
    running.stop().await;
}

/// A failed reconcile whose cause can pass is tried again by the error policy, well before
/// the next resync; one that cannot is left for the next commit or resync.
#[tokio::test(start_paused = true)]
async fn a_reconcile_that_failed_on_a_passing_fault_is_retried_before_the_resync() {
    let specs = tempfile::tempdir().unwrap();
    write(specs.path(), "orders.yaml", &spec("orders", &s3("orders")));
    write(
        specs.path(),
        "invoices.yaml",
        &spec("invoices", &s3("invoices")),
    );
    let hour = Duration::from_secs(3600);
    let running = Running::start_with(specs.path(), false, hour).await;
    let server_error = CloudError::Server {
        api: Api::UpdateFunctionCode,
        status: 503,
        message: "service unavailable".into(),
    };
    let refused = CloudError::Rejected {
        api: Api::UpdateFunctionConfiguration,
        code: "InvalidParameterValueException".into(),
        message: "the role cannot be assumed".into(),
    };
    // More failures than the metered client's own retries (8 attempts): the reconcile fails.
    running
        .aws
        .fail_next(Api::UpdateFunctionCode, server_error, 8);
    running
        .aws
        .fail_next(Api::UpdateFunctionConfiguration, refused, 1);
    write(
        specs.path(),
        "orders.yaml",
        &spec(
            "orders",
            "    s3:\n      bucket: artifacts\n      key: orders/2.0.0.zip\n",
        ),
    );
    write(
        specs.path(),
        "invoices.yaml",
        &(spec("invoices", &s3("invoices")) + "  memory: 512\n"),
    );
    let failed = |name: &str| running.status(name).last_result == Some(ReconcileResult::Failed);
    for _ in 0..120 {
        if failed("orders") && failed("invoices") {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(
        failed("orders") && failed("invoices"),
        "{:#?}",
        running.core.functions()
    );
    // A minute on, far short of the hour's resync: the passing fault is behind.
    tokio::time::sleep(Duration::from_secs(60)).await;
    let orders = running.status("orders");
    assert_eq!(
        orders.last_result,
        Some(ReconcileResult::Applied),
        "{orders:#?}"
    );
    let code = running.aws.function("orders").unwrap().code;
    assert!(
        matches!(&code, shepherd_core::model::CodeArtifact::S3 { key, .. } if key == "orders/2.0.0.zip"),
        "{code:?}"
    );
    let invoices = running.status("invoices");
    assert_eq!(
        invoices.last_result,
        Some(ReconcileResult::Failed),
        "AWS refused it: trying again at once would fail the same way"
    );
    running.stop().await;
}

/// A function whose canary is gated on its errors alarm: 20%, then an hour's pause.
fn gated_canary(name: &str, release: u32) -> String {
    spec(
        name,
        &format!("    s3:\n      bucket: artifacts\n      key: {name}/{release}.zip\n"),
    ) + "  alias:\n    name: live\n  alarms:\n    errors: {}\n  rollout:\n    steps:\n      - setWeight: 20\n      - pause: {duration: 1h}\n"
}

fn write_fleet(root: &Path, names: &[String], release: u32) {
    for name in names {
        write(root, &format!("{name}.yaml"), &gated_canary(name, release));
    }
}

async fn until(what: &str, seconds: u64, done: impl Fn() -> bool) {
    for _ in 0..seconds * 10 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not after {seconds} s");
}

/// While a new release of a whole fleet saturates the default budget (15 Lambda calls/s),
/// an alarm event for one canary still takes its alias back to the stable version within
/// 2 s: the alarm event skips the queue to a worker kept free for it, and its reads and
/// alias write go ahead of the deploy's calls waiting for the budget.
#[tokio::test(start_paused = true)]
async fn an_alarm_rolls_its_canary_back_within_two_seconds_while_a_fleet_deploy_saturates_the_budget()
 {
    let specs = tempfile::tempdir().unwrap();
    let fleet: Vec<String> = (0..150).map(|i| format!("fn-{i:03}")).collect();
    write_fleet(specs.path(), &fleet, 1);
    let running = Running::start_with(specs.path(), false, Duration::from_secs(3600)).await;
    let aws = running.aws.clone();
    let in_flight = |names: &[String]| {
        names.iter().all(|n| {
            aws.alias(n, "live")
                .is_some_and(|a| a.additional_version.is_some())
        })
    };
    until("the fleet exists", 900, || {
        fleet.iter().all(|n| aws.alias(n, "live").is_some())
    })
    .await;
    write_fleet(specs.path(), &fleet, 2);
    until("every canary is in flight", 900, || in_flight(&fleet)).await;

    // A new release for every function but one: about ten budgeted calls each, minutes of
    // work at 15 calls/s.
    let victim = fleet[75].clone();
    let others: Vec<String> = fleet.iter().filter(|n| **n != victim).cloned().collect();
    write_fleet(specs.path(), &others, 3);
    tokio::time::sleep(Duration::from_secs(40)).await;
    let busy = running.core.metrics().queue_depth.get();
    assert!(busy > 50, "the deploy is still queued up: {busy} waiting");

    let stable = aws.alias(&victim, "live").unwrap().version;
    let alarm = format!("{victim}-errors");
    aws.set_alarm_state(&alarm, AlarmState::Alarm, "errors above 1");
    let fired = tokio::time::Instant::now();
    running.core.request_sync(Trigger::AlarmChange {
        alarm,
        state: AlarmState::Alarm,
    });
    until("the canary is rolled back", 120, || {
        aws.alias(&victim, "live")
            .is_some_and(|a| a.version == stable && a.additional_version.is_none())
    })
    .await;
    let took = fired.elapsed();
    assert!(
        took <= Duration::from_secs(2),
        "alias back on the stable version {took:?} after the alarm event"
    );
    running.stop().await;
}

/// Lambda control-plane calls (the 15/s budget) per second over `window`.
async fn lambda_control_rate(aws: &FakeCloud, window: Duration) -> f64 {
    let count = || {
        aws.calls()
            .iter()
            .filter(|api| api.class() == CallClass::LambdaControl)
            .count()
    };
    let before = count();
    tokio::time::sleep(window).await;
    (count() - before) as f64 / window.as_secs_f64()
}

/// The resync is spread evenly over its interval, and a fleet too large for the interval
/// on the routine third of the budget (5 of 15 calls/s) is resynced more slowly instead of
/// taking more, as the round's metric says.
#[tokio::test(start_paused = true)]
async fn the_resync_is_spread_over_its_interval_and_stays_within_its_share_of_the_budget() {
    let specs = tempfile::tempdir().unwrap();
    for i in 0..200 {
        let name = format!("fn-{i:03}");
        let text = spec(&name, &s3(&name)) + "  alias:\n    name: live\n";
        write(specs.path(), &format!("{name}.yaml"), &text);
    }
    let interval = Duration::from_secs(20);
    let running = Running::start_with(specs.path(), false, interval).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    // 200 functions every 20 s (and a full refresh every other round) would be 10 calls/s
    // and more; the routine share is 5.
    for _ in 0..5 {
        let rate = lambda_control_rate(&running.aws, Duration::from_secs(30)).await;
        assert!((2.5..=5.5).contains(&rate), "{rate:.2} calls/s");
        let round = running.core.metrics().resync_round_seconds.get();
        assert!(
            round >= 39.0,
            "the round is stretched to at least 40 s: {round}"
        );
    }
    // Evenly: no burst in any second.
    let mut most = 0;
    for _ in 0..30 {
        let before = running.aws.call_count(Api::ListAliases);
        tokio::time::sleep(Duration::from_secs(1)).await;
        most = most.max(running.aws.call_count(Api::ListAliases) - before);
    }
    assert!(most <= 6, "at most 6 ListAliases in one second, saw {most}");
    running.stop().await;
}

/// A folder source's new desired state is a release, as a commit is: it is applied at the
/// full budget, not held to the resync's share.
#[tokio::test(start_paused = true)]
async fn a_changed_folder_is_applied_at_the_full_budget() {
    let specs = tempfile::tempdir().unwrap();
    for i in 0..60 {
        let name = format!("fn-{i:03}");
        write(
            specs.path(),
            &format!("{name}.yaml"),
            &spec(&name, &s3(&name)),
        );
    }
    let started = tokio::time::Instant::now();
    let running = Running::start_with(specs.path(), false, Duration::from_secs(3600)).await;
    let took = started.elapsed();
    let calls = running
        .aws
        .calls()
        .iter()
        .filter(|api| api.class() == CallClass::LambdaControl)
        .count();
    // At 15 calls/s the creations take calls / 15 seconds; at the routine third, three
    // times as long.
    let full_speed = Duration::from_secs_f64(calls as f64 / 15.0);
    assert!(
        took < full_speed.mul_f64(1.5),
        "{calls} Lambda calls took {took:?} (at 15/s: {full_speed:?})"
    );
    running.stop().await;
}
