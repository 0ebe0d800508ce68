//! The reconcile path end to end (specs on disk, `resolve_desired`, `plan`, `apply`) over
//! the in-memory fake, wrapped in the budget and retry policy as in production. Virtual
//! time: a wait of minutes runs in milliseconds, and a budget's pace can be measured.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use shepherd_core::cloud::*;
use shepherd_core::lint::LintConfig;
use shepherd_core::model::{LastUpdateStatus, ProvisionedStatus};
use shepherd_engine::apply::apply_spec_set;
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::execute::{ExecuteOptions, FunctionReport, Outcome};
use shepherd_engine::metered::Metered;
use shepherd_engine::observe::{PRUNE_EVERY, Refresh};
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{
    Desired, Planned, ReconcileOptions, apply, plan, resolve_desired,
};
use shepherd_engine::retry::RetryPolicy;
use shepherd_fake::FakeCloud;
use tokio::time::Instant;

/// A spec repository, an AWS account, and shepherd between them.
struct World {
    specs: tempfile::TempDir,
    aws: FakeCloud,
    shepherd: Metered<FakeCloud>,
    options: ReconcileOptions,
}

impl World {
    fn new() -> Self {
        Self::with_rates(Rates::default())
    }

    fn with_rates(rates: Rates) -> Self {
        let aws = FakeCloud::new();
        let shepherd = Metered::new(
            aws.clone(),
            Arc::new(Budget::new(rates)),
            RetryPolicy::default(),
        );
        Self {
            specs: tempfile::tempdir().expect("a temporary directory"),
            aws,
            shepherd,
            options: ReconcileOptions::default(),
        }
    }

    /// Commits the spec of function `name`: release 1.0.0 of its code on S3, an alias
    /// `live`, and `extra` fields under `spec:` (two-space indented).
    fn commit(&self, name: &str, extra: &str) -> &Self {
        self.commit_release(name, "1.0.0", extra)
    }

    /// The same with another release of the code (another S3 key).
    fn commit_release(&self, name: &str, release: &str, extra: &str) -> &Self {
        let text = format!(
            "apiVersion: shepherd.dev/v1alpha1\n\
             kind: Function\n\
             metadata:\n  name: {name}\n\
             spec:\n\
             \x20 code:\n    s3:\n      bucket: artifacts\n      key: {name}/{release}.zip\n\
             \x20 handler: app.handler\n\
             \x20 runtime: python3.12\n\
             \x20 role: arn:aws:iam::123456789012:role/{name}\n\
             \x20 alias:\n    name: live\n\
             {extra}"
        );
        self.write(&format!("{name}.yaml"), &text);
        self
    }

    fn write(&self, file: &str, text: &str) {
        let path = self.specs.path().join(file);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create folders");
        std::fs::write(path, text).expect("write the spec");
    }

    fn desired(&self) -> Desired {
        let report =
            shepherd_core::check_specs(&[self.specs.path().to_path_buf()], &LintConfig::default());
        assert!(
            report.is_valid(),
            "invalid specs: {:#?}",
            report.diagnostics
        );
        let desired = resolve_desired(&report.functions, &[]);
        assert!(desired.errors.is_empty(), "{:#?}", desired.errors);
        desired
    }

    async fn plan(&self) -> Planned {
        plan(&self.shepherd, &self.desired(), &self.options).await
    }

    async fn apply_planned(&self, planned: Planned) -> Vec<FunctionReport> {
        apply(&self.shepherd, planned, &self.options, &Silent).await
    }

    /// `shepherd apply`: each function observed, planned and applied on its own.
    async fn apply(&self) -> Vec<FunctionReport> {
        apply_spec_set(&self.shepherd, &self.desired(), &self.options, &Silent)
            .await
            .reports
    }

    /// Applies and expects every function applied (or already as the spec says), with
    /// nothing skipped.
    async fn apply_cleanly(&self) -> Vec<FunctionReport> {
        let reports = self.apply().await;
        for report in &reports {
            assert!(
                matches!(report.outcome, Outcome::Applied | Outcome::Unchanged),
                "{report:#?}"
            );
            assert!(report.skipped.is_empty(), "{report:#?}");
        }
        reports
    }

    /// A full refresh finds nothing to change, and applying makes no write.
    async fn assert_converged(&self) {
        let options = ReconcileOptions {
            refresh: Refresh::Full,
            ..self.options.clone()
        };
        let planned = plan(&self.shepherd, &self.desired(), &options).await;
        assert!(planned.errors.is_empty(), "{:#?}", planned.errors);
        assert!(
            !planned.has_changes(),
            "not converged: {:#?}",
            planned.plans
        );
        self.aws.reset_calls();
        let reports = self.apply().await;
        assert!(
            reports.iter().all(|r| r.outcome == Outcome::Unchanged),
            "{reports:#?}"
        );
        assert_eq!(self.aws.write_calls(), Vec::<&str>::new());
    }

    /// How many calls ended with this outcome label (`conflict`, `throttled`, ...).
    fn outcomes(&self, label: &str) -> u64 {
        self.shepherd
            .stats()
            .snapshot()
            .iter()
            .filter(|(_, outcome, _)| *outcome == label)
            .map(|(_, _, n)| n)
            .sum()
    }
}

fn report<'a>(reports: &'a [FunctionReport], name: &str) -> &'a FunctionReport {
    reports
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no report for {name}: {reports:#?}"))
}

fn failure(report: &FunctionReport) -> &str {
    match &report.outcome {
        Outcome::Failed { error, .. } => error,
        other => panic!("{} did not fail: {other:?}", report.name),
    }
}

const ASYNC: &str = concat!(
    "  asyncInvocation:\n",
    "    maximumRetryAttempts: 1\n",
    "    onFailure: arn:aws:sqs:us-east-1:123456789012:failures\n",
);

const QUEUE: &str = concat!(
    "  timeout: 30s\n",
    "  eventSources:\n",
    "    sqs:\n",
    "      - queue: arn:aws:sqs:us-east-1:123456789012:orders\n",
    "        batchSize: 5\n",
);

const ALARMS: &str = concat!("  alarms:\n", "    errors: {}\n", "    throttles: {}\n");

// Its first line goes under `alias:`, the last field `commit` writes.
const PROVISIONED: &str = concat!(
    "    provisionedConcurrency: 3\n",
    "  reservedConcurrency: 10\n",
);

fn server_error(api: Api) -> CloudError {
    CloudError::Server {
        api,
        status: 503,
        message: "Service Unavailable".into(),
    }
}

fn lost(api: Api) -> CloudError {
    CloudError::Transport {
        api,
        message: "operation timed out".into(),
    }
}

// Convergence.

#[tokio::test(start_paused = true)]
async fn applying_converges_and_a_second_apply_writes_nothing() {
    let world = World::new();
    world
        .commit("orders", &format!("{PROVISIONED}{ALARMS}"))
        .commit("reports", ASYNC)
        .commit("invoices", QUEUE);
    let reports = world.apply_cleanly().await;
    assert_eq!(reports.len(), 3);

    let second = world.plan().await;
    assert!(!second.has_changes(), "{:#?}", second.plans);
    world.aws.reset_calls();
    world.apply_planned(second).await;
    assert_eq!(world.aws.write_calls(), Vec::<&str>::new());
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn the_examples_apply_cleanly_on_the_fake_and_converge() {
    let world = World::new();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for folder in ["specs", "app"] {
        copy_tree(&examples.join(folder), &world.specs.path().join(folder));
    }
    let reports = world.apply_cleanly().await;
    let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["invoice-worker", "nightly-report", "orders-api"]);
    // Warm capacity serves the alias: on the alias itself, or (with a progressive rollout,
    // whose weights Lambda refuses beside an alias config) on the version it routes to.
    let live = world.aws.alias("orders-api", "live").expect("the alias");
    assert_eq!(live.version, "1");
    let provisioned = world
        .aws
        .provisioned("orders-api", "live")
        .or_else(|| world.aws.provisioned("orders-api", &live.version));
    assert_eq!(
        provisioned.map(|p| (p.requested, p.status)),
        Some((20, ProvisionedStatus::Ready))
    );
    world.assert_converged().await;
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folders");
    for entry in std::fs::read_dir(from).expect("read the examples") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy a file");
        }
    }
}

// Waiting for Lambda.

#[tokio::test(start_paused = true)]
async fn every_update_waits_for_the_previous_one_to_finish() {
    let world = World::new();
    world.aws.set_settle_reads(3);
    world.commit("orders", "");
    world.apply_cleanly().await;
    // New configuration and new code: two updates, then a publish, each of which Lambda
    // refuses while the one before is in progress.
    world.commit_release("orders", "1.1.0", "  memory: 512\n");
    world.aws.reset_calls();
    let reports = world.apply_cleanly().await;
    assert_eq!(world.outcomes("conflict"), 0, "{reports:#?}");
    let calls = world.aws.calls();
    let position = |api: &str| calls.iter().position(|c| *c == api).expect(api);
    let (config, code, publish) = (
        position("UpdateFunctionConfiguration"),
        position("UpdateFunctionCode"),
        position("PublishVersion"),
    );
    assert!(config < code && code < publish, "{calls:?}");
    for (from, to) in [(config, code), (code, publish)] {
        let reads = calls[from..to].iter().filter(|c| **c == "GetFunction");
        assert!(reads.count() >= 3, "no wait between updates: {calls:?}");
    }
    let function = world.aws.function("orders").expect("the function");
    assert_eq!(function.config.memory, 512);
    assert_eq!(world.aws.versions("orders").len(), 2);
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_conflict_on_update_code_is_waited_out_and_retried() {
    let world = World::new();
    world.commit("orders", "");
    world.apply_cleanly().await;
    world.commit_release("orders", "1.1.0", "");
    let busy = CloudError::Conflict {
        api: Api::UpdateFunctionCode,
        message: "An update is in progress".into(),
    };
    world.aws.fail_next(Api::UpdateFunctionCode, busy, 2);
    world.apply_cleanly().await;
    assert_eq!(world.aws.call_count(Api::UpdateFunctionCode), 3);
    let function = world.aws.function("orders").expect("the function");
    assert!(format!("{:?}", function.code).contains("orders/1.1.0.zip"));
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_update_is_reported_with_its_reason_and_the_other_functions_still_apply() {
    let world = World::new();
    world.commit("orders", "").commit("reports", "");
    world.apply_cleanly().await;
    // Only orders needs an update of the function itself; reports a concurrency change;
    // invoices is new.
    world
        .commit("orders", "  memory: 512\n")
        .commit("reports", "  reservedConcurrency: 5\n")
        .commit("invoices", "");
    world
        .aws
        .fail_next_update("InsufficientRolePermissions: cannot assume role");
    let reports = world.apply().await;
    let error = failure(report(&reports, "orders"));
    assert!(
        error.contains("update configuration") && error.contains("cannot assume role"),
        "{error}"
    );
    assert_eq!(report(&reports, "reports").outcome, Outcome::Applied);
    assert_eq!(report(&reports, "invoices").outcome, Outcome::Applied);
    let orders = world.aws.function("orders").expect("orders");
    assert_eq!(orders.config.memory, 128, "a failed update changes nothing");
    assert_eq!(orders.last_update, LastUpdateStatus::Failed);

    // The next apply tries again.
    world.apply_cleanly().await;
    world.assert_converged().await;
}

// Retries.

#[tokio::test(start_paused = true)]
async fn a_throttled_call_is_retried_with_backoff_until_it_goes_through() {
    let world = World::new();
    world.commit("orders", ALARMS);
    // One function: its first call (GetFunction) meets all seven, one after the other.
    world.aws.throttle_next(7);
    let started = Instant::now();
    world.apply_cleanly().await;
    assert_eq!(world.outcomes("throttled"), 7);
    assert!(started.elapsed() > Duration::ZERO, "retries back off");
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn throttling_is_retried_and_the_world_converges() {
    let world = World::new();
    world
        .commit("orders", ALARMS)
        .commit("reports", ASYNC)
        .commit("invoices", QUEUE);
    world.aws.throttle_next(20);
    // A call gives up after the policy's 8 attempts. Twenty throttles spread over the
    // functions' calls are absorbed; eight in a row on one call fail that function (only
    // it), and the next apply, as the controller's requeue, finishes the job.
    let mut passes = 0;
    loop {
        passes += 1;
        let reports = world.apply().await;
        let failed: Vec<&FunctionReport> = reports
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Applied | Outcome::Unchanged))
            .collect();
        if failed.is_empty() {
            break;
        }
        for report in failed {
            assert!(failure(report).contains("throttled"), "{report:#?}");
        }
        assert!(
            passes < 3,
            "8 attempts a call: 20 throttles fail at most 2 passes"
        );
    }
    assert_eq!(world.outcomes("throttled"), 20);
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_retried_and_the_world_converges() {
    let world = World::new();
    world.commit("orders", &format!("{PROVISIONED}{ALARMS}{QUEUE}"));
    for api in [
        Api::GetFunction,
        Api::CreateFunction,
        Api::PublishVersion,
        Api::CreateAlias,
        Api::PutProvisionedConcurrencyConfig,
        Api::CreateEventSourceMapping,
        Api::PutMetricAlarm,
        Api::TagResource,
    ] {
        world.aws.fail_next(api, server_error(api), 3);
    }
    world.apply_cleanly().await;
    assert_eq!(world.outcomes("server_error"), 8 * 3);
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_response_lost_after_a_write_is_survived() {
    // Each write takes effect in AWS, but shepherd never hears back, and tries again.
    let mut failures = Vec::new();
    let creating = [
        Api::CreateFunction,
        Api::PublishVersion,
        Api::CreateAlias,
        Api::PutFunctionConcurrency,
        Api::PutProvisionedConcurrencyConfig,
        Api::PutFunctionEventInvokeConfig,
        Api::CreateEventSourceMapping,
        Api::PutMetricAlarm,
        Api::TagResource,
    ];
    for api in creating {
        let world = World::new();
        world.commit("orders", &format!("{PROVISIONED}{ALARMS}{QUEUE}{ASYNC}"));
        world.aws.fail_next_after_write(api, lost(api), 1);
        let reports = world.apply().await;
        let outcome = &report(&reports, "orders").outcome;
        if *outcome != Outcome::Applied {
            failures.push(format!("lost answer to {api}: {outcome:?}"));
            continue;
        }
        world.assert_converged().await;
    }
    let updating = [
        Api::UpdateFunctionConfiguration,
        Api::UpdateAlias,
        Api::UntagResource,
    ];
    for api in updating {
        let world = World::new();
        world.commit("orders", "  tags:\n    team: orders\n");
        world.apply_cleanly().await;
        world.commit("orders", "  memory: 256\n");
        world.aws.fail_next_after_write(api, lost(api), 1);
        let reports = world.apply().await;
        let outcome = &report(&reports, "orders").outcome;
        if *outcome != Outcome::Applied {
            failures.push(format!("lost answer to {api}: {outcome:?}"));
            continue;
        }
        world.assert_converged().await;
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// Provisioned concurrency.

#[tokio::test(start_paused = true)]
async fn provisioned_concurrency_on_the_alias_is_ready_before_the_apply_ends() {
    let world = World::new();
    world.aws.set_provisioned_reads(5);
    world.commit("orders", PROVISIONED);
    let started = Instant::now();
    world.apply_cleanly().await;
    let provisioned = world.aws.provisioned("orders", "live").expect("configured");
    assert_eq!(provisioned.status, ProvisionedStatus::Ready);
    assert_eq!(provisioned.allocated, 3);
    assert!(world.aws.call_count(Api::GetProvisionedConcurrencyConfig) >= 5);
    // Polls back off: five reads span seconds, not a busy loop.
    assert!(
        started.elapsed() >= Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_provisioned_allocation_surfaces_its_reason() {
    let world = World::new();
    world.commit("orders", PROVISIONED).commit("reports", "");
    world
        .aws
        .fail_next_provisioned("FUNCTION_ERROR_INIT_FAILURE: the handler failed to load");
    let reports = world.apply().await;
    let error = failure(report(&reports, "orders"));
    assert!(
        error.contains("FAILED") && error.contains("the handler failed to load"),
        "{error}"
    );
    assert_eq!(report(&reports, "reports").outcome, Outcome::Applied);

    // The next apply asks again rather than recording a FAILED allocation as done.
    world.apply_cleanly().await;
    let provisioned = world.aws.provisioned("orders", "live").expect("configured");
    assert_eq!(provisioned.status, ProvisionedStatus::Ready);
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn provisioned_concurrency_the_endpoint_lacks_is_skipped_not_failed() {
    let world = World::new();
    world.aws.unsupported(Api::PutProvisionedConcurrencyConfig);
    world.commit("orders", PROVISIONED);
    let reports = world.apply().await;
    let orders = report(&reports, "orders");
    assert_eq!(orders.outcome, Outcome::Applied);
    assert_eq!(orders.skipped.len(), 1, "{orders:#?}");
    assert!(orders.skipped[0].contains("PutProvisionedConcurrencyConfig"));
    assert_eq!(world.aws.provisioned("orders", "live"), None);
    assert_eq!(
        world.aws.function("orders").map(|f| f.reserved_concurrency),
        Some(Some(10))
    );
}

// Drift.

#[tokio::test(start_paused = true)]
async fn drift_made_behind_shepherds_back_is_detected_and_corrected() {
    let world = World::new();
    world
        .commit("orders", "  memory: 512\n")
        .commit("reports", "");
    world.apply_cleanly().await;
    world.aws.with_function_mut("orders", |f| {
        f.config.memory = 3008;
        f.config.environment.insert("DEBUG".into(), "1".into());
    });

    let planned = world.plan().await;
    let drifted: Vec<(&str, bool)> = planned
        .plans
        .iter()
        .map(|p| (p.name.as_str(), p.drift))
        .collect();
    assert_eq!(drifted, [("orders", true), ("reports", false)]);
    let reports = world.apply_planned(planned).await;
    assert!(report(&reports, "orders").drift_corrected);
    let orders = world.aws.function("orders").expect("orders");
    assert_eq!(orders.config.memory, 512);
    assert!(!orders.config.environment.contains_key("DEBUG"));
    world.assert_converged().await;
}

// Isolation and budget.

#[tokio::test(start_paused = true)]
async fn one_functions_failure_never_blocks_the_others() {
    let mut world = World::new();
    // One at a time, so that the failing function comes before the others.
    world.options.execute = ExecuteOptions {
        concurrency: 1,
        ..ExecuteOptions::default()
    };
    world
        .commit("a-alarmed", ALARMS)
        .commit("b-plain", "")
        .commit("c-queued", QUEUE);
    let rejected = CloudError::Rejected {
        api: Api::PutMetricAlarm,
        code: "LimitExceeded".into(),
        message: "The maximum number of alarms has been reached".into(),
    };
    world.aws.fail_next(Api::PutMetricAlarm, rejected, 1);
    let reports = world.apply().await;
    assert!(failure(report(&reports, "a-alarmed")).contains("maximum number of alarms"));
    assert_eq!(report(&reports, "b-plain").outcome, Outcome::Applied);
    assert_eq!(report(&reports, "c-queued").outcome, Outcome::Applied);
    assert_eq!(world.aws.mapping_count(), 1);

    world.apply_cleanly().await;
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn applying_forty_new_functions_stays_within_the_write_budget() {
    let world = World::with_rates(Rates {
        lambda_control: 15.0,
        ..Rates::default()
    });
    for i in 0..40 {
        world.commit(&format!("fn-{i:02}"), "");
    }
    let desired = world.desired();
    let started = Instant::now();
    let planned = plan(&world.shepherd, &desired, &world.options).await;
    let reports = world.apply_planned(planned).await;
    let elapsed = started.elapsed().as_secs_f64();
    assert!(reports.iter().all(|r| r.outcome == Outcome::Applied));
    let writes = world.aws.write_calls().len();
    // At least create, publish, alias and tag each, all of them Lambda control-plane calls.
    assert!(writes >= 40 * 4, "{writes} writes");
    // The bucket starts with one token, then refills at 15 a second.
    let minimum = (writes - 1) as f64 / 15.0;
    assert!(elapsed >= minimum, "{writes} writes in {elapsed:.2}s");
    // ... and runs at the quota, not far below it.
    assert!(elapsed < minimum * 1.5, "{writes} writes in {elapsed:.2}s");
    assert_eq!(world.outcomes("throttled"), 0);
}

/// How long after `started` the first write reached AWS, watched every 10 ms.
async fn first_write(aws: &FakeCloud, started: Instant) -> Duration {
    while aws.write_calls().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    started.elapsed()
}

#[tokio::test(start_paused = true)]
async fn the_first_write_of_a_fleet_release_comes_after_one_functions_reads_not_the_fleets() {
    let world = World::new();
    const FLEET: usize = 300;
    let names: Vec<String> = (0..FLEET).map(|i| format!("fn-{i:03}")).collect();
    for name in &names {
        world.commit(name, "");
    }
    world.apply_cleanly().await;
    for name in &names {
        world.commit_release(name, "2.0.0", "");
    }
    world.aws.reset_calls();
    let started = Instant::now();
    // Read in full, each function costs five Lambda control-plane calls at 15/s before
    // its first write: the fleet's reads alone take 100 s.
    let (reports, first) = tokio::join!(world.apply(), first_write(&world.aws, started));
    let elapsed = started.elapsed();
    assert!(
        reports.iter().all(|r| r.outcome == Outcome::Applied),
        "{reports:#?}"
    );
    assert_eq!(world.aws.call_count(Api::UpdateFunctionCode), FLEET);
    assert!(
        first <= Duration::from_secs(2),
        "the first write came {first:?} after the start (the whole apply took {elapsed:?})"
    );
    // Functions finish in the order they began, so the first is done long before the
    // fleet is: its alias points at its new version while most others are untouched.
    assert!(elapsed >= Duration::from_secs(100), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn a_canary_of_the_stable_version_itself_is_refused() {
    use shepherd_core::plan::{Action, FunctionPlan, VersionRef};
    let world = World::new();
    world.commit("orders", "");
    world.apply_cleanly().await;
    let before = world.aws.alias("orders", "live").unwrap();
    let mut plan = FunctionPlan::empty("orders");
    plan.actions.push(Action::UpdateAlias {
        name: "live".into(),
        version: VersionRef::Existing(before.version.clone()),
        additional: Some((VersionRef::Existing(before.version.clone()), 0.2)),
        description: String::new(),
        record: None,
        revision: None,
        changes: Vec::new(),
    });
    let reports = shepherd_engine::execute::execute(
        &world.shepherd,
        vec![plan],
        &ExecuteOptions::default(),
        &Silent,
    )
    .await;
    assert!(
        failure(&reports[0]).contains("the new version 1 is the stable version itself"),
        "{reports:#?}"
    );
    assert_eq!(world.aws.alias("orders", "live").unwrap(), before);
}

#[tokio::test(start_paused = true)]
async fn a_setting_aws_does_not_keep_is_reported_not_republished_on_every_pass() {
    use shepherd_core::spec::TracingMode;
    let world = World::new();
    // The endpoint ignores the tracing mode it is sent (as the emulator does).
    world
        .aws
        .set_keeps(|config| config.tracing = TracingMode::PassThrough);
    world.commit("orders", "  tracing: Active\n");
    world.apply().await;
    let versions = world.aws.versions("orders").len();

    for _ in 0..3 {
        world.aws.reset_calls();
        let planned = world.plan().await;
        let plan = &planned.plans[0];
        assert!(plan.actions.is_empty(), "{:#?}", plan.actions);
        let note = plan.note().unwrap_or_default();
        assert!(
            note.starts_with(
                "not converging: AWS did not keep what shepherd wrote: tracing is PassThrough"
            ),
            "{note}"
        );
        world.apply_planned(planned).await;
        assert_eq!(world.aws.write_calls(), Vec::<&str>::new());
    }
    assert_eq!(
        world.aws.versions("orders").len(),
        versions,
        "no new version"
    );

    // A change behind shepherd's back is still drift, and corrected.
    world
        .aws
        .with_function_mut("orders", |f| f.config.memory = 256);
    let planned = world.plan().await;
    assert!(planned.plans[0].drift, "{:#?}", planned.plans[0]);
    assert!(
        planned.plans[0]
            .actions
            .iter()
            .any(|a| a.kind() == "update_configuration"),
        "{:#?}",
        planned.plans[0].actions
    );
}

// Code identified by content.

const OBJECT: (&str, &str) = ("artifacts", "orders/1.0.0.zip");

/// `orders` applied from build 1 of its S3 object, then build 2 uploaded over it.
async fn overwritten(extra: &str) -> World {
    let world = World::new();
    world.aws.put_object(OBJECT.0, OBJECT.1, "build 1");
    world.commit("orders", extra);
    world.apply_cleanly().await;
    world.aws.put_object(OBJECT.0, OBJECT.1, "build 2");
    world
}

#[tokio::test(start_paused = true)]
async fn an_object_overwritten_at_the_same_key_is_deployed_pinned_to_its_new_version() {
    use shepherd_core::plan::Action;
    let world = World::new();
    world.aws.put_object(OBJECT.0, OBJECT.1, "build 1");
    world.commit("orders", "");
    world.apply_cleanly().await;
    world.assert_converged().await;
    let before = world.aws.function("orders").unwrap();
    let live = world.aws.alias("orders", "live").unwrap().version;

    world.aws.put_object(OBJECT.0, OBJECT.1, "build 2");
    let planned = world.plan().await;
    let plan = &planned.plans[0];
    let Some(Action::UpdateCode { code, .. }) = plan.actions.first() else {
        panic!("the new object is not deployed: {:#?}", plan.actions);
    };
    assert_eq!(
        code.deploy_object_version(),
        world.aws.object_version(OBJECT.0, OBJECT.1).as_deref(),
        "pinned to the version identified"
    );
    assert!(!plan.drift, "a new build is a release, not drift");
    world.apply_planned(planned).await;
    let after = world.aws.function("orders").unwrap();
    assert_ne!(after.code_sha256, before.code_sha256);
    assert_ne!(world.aws.alias("orders", "live").unwrap().version, live);
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn code_whose_content_cannot_be_read_is_warned_about_and_never_redeployed_blind() {
    let world = overwritten("").await;
    let denied = || CloudError::Rejected {
        api: Api::HeadObject,
        code: "AccessDenied".into(),
        message: "Forbidden".into(),
    };
    world.aws.fail_next(Api::HeadObject, denied(), 1);
    let planned = world.plan().await;
    let plan = &planned.plans[0];
    assert!(plan.actions.is_empty(), "{:#?}", plan.actions);
    let note = plan.note().unwrap_or_default();
    assert!(
        note.contains(
            "code.s3 s3://artifacts/orders/1.0.0.zip is a mutable reference whose content cannot be read (HeadObject: refused by AWS (AccessDenied))"
        ),
        "{note}"
    );
    // Once it can be read, the new build is found.
    let planned = world.plan().await;
    assert_eq!(planned.plans[0].actions[0].kind(), "update_code");
}

#[tokio::test(start_paused = true)]
async fn a_code_tag_from_before_content_was_identified_is_adopted_without_a_new_release() {
    use shepherd_core::model::{CodeTag, ReleaseTag, tags};
    let world = World::new();
    world.aws.put_object(OBJECT.0, OBJECT.1, "build 1");
    world.commit("orders", "");
    world.apply_cleanly().await;
    // As an older shepherd left it: the code tag without content, the release digest of
    // the spec alone.
    let legacy_release = world.desired().functions[0].release_digest.clone();
    world.aws.with_function_mut("orders", |f| {
        let mut code = CodeTag::parse(&f.tags[tags::CODE]).unwrap();
        assert!(
            code.identity.content.take().is_some(),
            "content was recorded"
        );
        f.tags.insert(tags::CODE.into(), code.to_string());
        let mut release = ReleaseTag::parse(&f.tags[tags::RELEASE]).unwrap();
        release.digest = legacy_release;
        f.tags.insert(tags::RELEASE.into(), release.to_string());
    });
    let versions = world.aws.versions("orders").len();
    let planned = world.plan().await;
    let kinds: Vec<&str> = planned.plans[0].actions.iter().map(|a| a.kind()).collect();
    assert_eq!(kinds, ["tag"], "only the content is recorded");
    world.apply_planned(planned).await;
    assert_eq!(
        world.aws.versions("orders").len(),
        versions,
        "no new version"
    );
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_new_object_after_a_rollback_is_a_new_release() {
    use shepherd_core::model::AlarmState;
    use shepherd_core::rollout::{Phase, RolloutRecord};
    let rollout = "  alarms:\n    errors: {threshold: 1}\n  rollout:\n    steps:\n      - setWeight: 10\n      - pause: {duration: 5m}\n";
    let world = overwritten(rollout).await;
    let record = |world: &World| {
        RolloutRecord::parse(&world.aws.alias("orders", "live").unwrap().description)
    };
    world.apply().await;
    let canary = record(&world).expect("a canary of build 2");
    assert!(canary.phase.in_flight(), "{canary:?}");
    world
        .aws
        .set_alarm_state("orders-errors", AlarmState::Alarm, "Threshold Crossed");
    world.apply().await;
    assert_eq!(record(&world).unwrap().phase, Phase::RolledBack);
    world.apply().await;
    assert_eq!(record(&world).unwrap().phase, Phase::RolledBack, "held");

    // The fix, uploaded over the same key: rolled out, though the spec did not change.
    world
        .aws
        .set_alarm_state("orders-errors", AlarmState::Ok, "Recovered");
    world.aws.put_object(OBJECT.0, OBJECT.1, "build 3");
    world.apply().await;
    let fix = record(&world).expect("a canary of build 3");
    assert!(fix.phase.in_flight(), "{fix:?}");
    assert_ne!(fix.release, canary.release);
    assert_ne!(fix.canary, canary.canary);
}

// Reads by section.

/// The reads a changed section does not need: async config, recursion, provisioned
/// concurrency, event sources, managed alarms.
const SECTION_READS: [Api; 5] = [
    Api::GetFunctionEventInvokeConfig,
    Api::GetFunctionRecursionConfig,
    Api::ListProvisionedConcurrencyConfigs,
    Api::ListEventSourceMappings,
    Api::DescribeAlarms,
];

fn section_reads(aws: &FakeCloud) -> Vec<Api> {
    aws.calls()
        .into_iter()
        .filter(|api| SECTION_READS.contains(api))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_change_of_one_section_reads_what_that_section_touches_and_nothing_else() {
    let world = World::new();
    let extra = format!("{ASYNC}{QUEUE}{ALARMS}");
    world.commit("orders", &extra);
    world.apply_cleanly().await;

    // A new build: code only.
    world.commit_release("orders", "2.0.0", &extra);
    world.aws.reset_calls();
    world.apply_cleanly().await;
    assert_eq!(section_reads(&world.aws), Vec::<Api>::new());
    assert_eq!(world.aws.call_count(Api::UpdateFunctionCode), 1);

    // The async settings only: read and written, nothing else read.
    let changed = ASYNC.replace("maximumRetryAttempts: 1", "maximumRetryAttempts: 2");
    world.commit_release("orders", "2.0.0", &format!("{changed}{QUEUE}{ALARMS}"));
    world.aws.reset_calls();
    world.apply_cleanly().await;
    assert_eq!(
        section_reads(&world.aws),
        [
            Api::GetFunctionEventInvokeConfig,
            Api::GetFunctionRecursionConfig
        ]
    );
    assert_eq!(world.aws.call_count(Api::PutFunctionEventInvokeConfig), 1);
    assert_eq!(world.aws.call_count(Api::UpdateFunctionCode), 0);
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn a_function_applied_before_sections_were_recorded_is_read_in_full_at_its_next_change() {
    let world = World::new();
    world.commit("orders", ASYNC);
    world.apply_cleanly().await;
    world.aws.with_function_mut("orders", |f| {
        f.tags.remove(shepherd_core::model::tags::SECTIONS)
    });
    world.commit_release("orders", "2.0.0", ASYNC);
    world.aws.reset_calls();
    world.apply_cleanly().await;
    let reads = section_reads(&world.aws);
    for api in [
        Api::GetFunctionEventInvokeConfig,
        Api::GetFunctionRecursionConfig,
        Api::ListProvisionedConcurrencyConfigs,
        Api::ListEventSourceMappings,
    ] {
        assert!(reads.contains(&api), "{api} not read: {reads:?}");
    }
    // The change records them: the next one reads by section again.
    world.commit_release("orders", "3.0.0", ASYNC);
    world.aws.reset_calls();
    world.apply_cleanly().await;
    assert_eq!(section_reads(&world.aws), Vec::<Api>::new());
}

#[tokio::test(start_paused = true)]
async fn old_versions_are_pruned_every_few_releases_not_listed_at_every_one() {
    let world = World::new();
    world.commit("orders", "");
    world.apply_cleanly().await;
    world.aws.reset_calls();
    let releases: u64 = 20;
    for release in 2..=releases {
        world.commit_release("orders", &format!("{release}.0.0"), "");
        world.apply_cleanly().await;
    }
    let listed = world.aws.call_count(Api::ListVersionsByFunction);
    assert_eq!(
        listed,
        // Listed by the publishes of versions 5, 10, 15 and 20.
        (2..=releases).filter(|v| v % PRUNE_EVERY == 0).count(),
        "{:?}",
        world.aws.calls()
    );
    // `keep_versions` (5) kept at each pruning, and at most a few releases more between.
    let kept = world.aws.versions("orders").len();
    let keep = world.options.plan.keep_versions;
    assert!(
        (keep..=keep + PRUNE_EVERY as usize).contains(&kept),
        "{kept} versions kept"
    );
    assert!(world.aws.call_count(Api::DeleteFunction) > 0);
}

// Fencing.

#[tokio::test(start_paused = true)]
async fn a_closed_fence_sends_no_write_and_a_fence_closing_mid_apply_stops_the_next_one() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut world = World::new();
    world.commit("orders", ALARMS).commit("reports", ASYNC);
    // The lease runs out after three writes have been let through.
    let allowed = Arc::new(AtomicUsize::new(3));
    let fence_allowed = Arc::clone(&allowed);
    world.shepherd = Metered::new(
        world.aws.clone(),
        Arc::new(Budget::new(Rates::default())),
        RetryPolicy::default(),
    )
    .with_fence(Arc::new(move || {
        fence_allowed
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }));
    let reports = world.apply().await;
    assert_eq!(
        world.aws.write_calls().len(),
        3,
        "{:?}",
        world.aws.write_calls()
    );
    assert!(
        reports
            .iter()
            .any(|r| matches!(&r.outcome, Outcome::Failed { error, .. } if error.contains("does not hold the target's lease"))),
        "{reports:#?}"
    );
    assert!(world.outcomes("fenced") >= 1);

    // Held again: the next apply finishes the work.
    allowed.store(usize::MAX, Ordering::SeqCst);
    world.apply_cleanly().await;
    world.assert_converged().await;
}

#[tokio::test(start_paused = true)]
async fn an_invocation_is_fenced_like_a_write_and_sent_once_when_allowed() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let world = World::new();
    world.commit("orders", "");
    world.apply_cleanly().await;
    let open = Arc::new(AtomicBool::new(false));
    let fence = Arc::clone(&open);
    let shepherd = Metered::new(
        world.aws.clone(),
        Arc::new(Budget::new(Rates::default())),
        RetryPolicy::default(),
    )
    .with_fence(Arc::new(move || fence.load(Ordering::SeqCst)));
    let refused = shepherd
        .invoke("orders", Some("live"), "{}")
        .await
        .unwrap_err();
    assert!(matches!(refused, CloudError::Fenced { .. }), "{refused:?}");
    assert!(world.aws.invocations("orders").is_empty());
    open.store(true, Ordering::SeqCst);
    let ran = shepherd.invoke("orders", Some("live"), "{}").await.unwrap();
    assert_eq!(ran.status, 200);
    assert_eq!(world.aws.invocations("orders").len(), 1);
}
