//! Are the alarm checks of 500 concurrent rollouts batched? Target (issue 4): at most one
//! `DescribeAlarms` call per 100 gating alarms per poll.
//!
//! Everything runs against the in-memory fake (`shepherd_fake::FakeCloud`) in virtual
//! time (a paused tokio clock: the budget's waits, the pauses and the alarm polls pass
//! without waiting, and durations are exact), so the bench takes seconds.
//!
//! Set-up: 500 functions (`fleet-NNNN`), each with an alias, its managed errors alarm (every
//! fifth also a throttles alarm) and a rollout gated on one of 10 team alarms made
//! elsewhere (`rollout.alarms`): 610 distinct gating alarms. A first apply creates them
//! (the first version of an alias goes live at once); a second, with new code for all,
//! starts 500 canaries (`setWeight: 10`, then a one-hour pause). Alarm poll: 5 s.
//!
//! - engine: one reconcile pass over the 500 rollouts in flight (`reconcile::plan` +
//!   `apply`, what each pass of `shepherd apply --wait` does): `DescribeAlarms` calls
//!   against ceil(alarms / 100), and the pass's other calls. The pass that started the
//!   canaries (which reads every sub-resource) is shown too. Then the pass's length under
//!   the default budget (15 Lambda control-plane calls/s: `ListAliases` is one), which is
//!   what the alarm poll of `apply --wait` really is at this scale, and the time from an
//!   alarm entering ALARM to the alias back on the stable version in that loop.
//! - controller: `shepherd run` (the `ControlLoop` of `shepherd-controller`, with a folder source)
//!   managing the same 500 rollouts: `DescribeAlarms` calls per 5 s poll, and how often each
//!   function's alarms are really looked at, with no budget and with the default one; then
//!   the time from an alarm event (as from the SQS alarm queue) to the alias back on the
//!   stable version: with no budget, and with the default budget while a new release of
//!   every other function saturates it (the budget's lanes: the rollback goes first).
//! - controller, one reconcile that moves an alias and keeps a rollout in flight: a new
//!   release arriving for a function mid-canary (supersede, then a new canary), and the
//!   reads of that reconcile (one observation: its status comes from it, not a second read).
//!
//! ```text
//! cargo bench -p shepherd-controller --bench alarm_batching
//! ```
//!
//! `SHEPHERD_BENCH_FUNCTIONS` changes the 500. Run without `--bench` (as
//! `cargo test --all-targets` does), it does nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use shepherd_controller::controller::{ControlLoop, Settings};
use shepherd_controller::handle::{Controller, Trigger};
use shepherd_controller::metrics::Metrics;
use shepherd_controller::source::SourceConfig;
use shepherd_core::cloud::Api;
use shepherd_core::lint::LintConfig;
use shepherd_core::model::{AlarmDefinition, AlarmMetric, AlarmState};
use shepherd_core::plan::PlanOptions;
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::execute::Outcome;
use shepherd_engine::metered::Metered;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{Desired, ReconcileOptions, apply, plan, resolve_desired};
use shepherd_engine::retry::RetryPolicy;
use shepherd_engine::settle::apply_until_settled;
use shepherd_fake::FakeCloud;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

const ACCOUNT: &str = "123456789012";
const TEAMS: usize = 10;
const ALARM_POLL: Duration = Duration::from_secs(5);
const ALIAS: &str = "live";
/// No budget: rates nothing reaches.
const UNLIMITED: Rates = Rates {
    get_function: 1e6,
    lambda_control: 1e6,
    cloudwatch: 1e6,
};

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "alarm batching benchmark: skipped (run it with `cargo bench -p shepherd-controller --bench alarm_batching`)"
        );
        return;
    }
    let functions = std::env::var("SHEPHERD_BENCH_FUNCTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500usize)
        .max(TEAMS);
    let dir = tempfile::tempdir().expect("create a temporary directory");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .expect("the async runtime starts");
    let real = std::time::Instant::now();
    runtime.block_on(async {
        let (fake, specs) = fleet_in_flight(dir.path(), functions).await;
        engine(&fake, &specs, functions).await;
        controller(&fake, &specs, functions).await;
        let single = tempfile::tempdir().expect("create a temporary directory");
        new_release_reads(single.path()).await;
    });
    println!();
    println!("total: {:.1} s of real time", real.elapsed().as_secs_f64());
}

// The fleet.

fn spec(i: usize, release: u32) -> String {
    let name = format!("fleet-{i:04}");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "apiVersion: shepherd.dev/v1alpha1\nkind: Function\nmetadata:\n  name: {name}\nspec:"
    );
    let _ = writeln!(
        out,
        "  code:\n    s3: {{bucket: bench-artifacts, key: {name}/release-{release}.zip}}"
    );
    let _ = writeln!(out, "  handler: app.handler\n  runtime: python3.12");
    let _ = writeln!(out, "  role: arn:aws:iam::{ACCOUNT}:role/bench");
    let _ = writeln!(out, "  alias:\n    name: {ALIAS}");
    out.push_str("  alarms:\n    errors:\n      threshold: 1\n");
    if i.is_multiple_of(5) {
        out.push_str("    throttles: {}\n");
    }
    let _ = writeln!(
        out,
        "  rollout:\n    steps:\n      - setWeight: 10\n      - pause: {{duration: 1h}}\n    alarms: [{}]",
        team_alarm(i % TEAMS)
    );
    out
}

fn team_alarm(team: usize) -> String {
    format!("team-{team}-slo")
}

fn write_specs(dir: &Path, functions: usize, release: u32) -> PathBuf {
    let specs = dir.join("specs");
    std::fs::create_dir_all(&specs).expect("create the spec folder");
    for i in 0..functions {
        std::fs::write(specs.join(format!("fleet-{i:04}.yaml")), spec(i, release))
            .expect("write a spec");
    }
    specs
}

fn load(specs: &Path) -> Desired {
    let report = shepherd_core::check_specs(&[specs.to_owned()], &LintConfig::default());
    assert!(report.is_valid(), "the generated specs are invalid");
    let desired = resolve_desired(&report.functions, &[]);
    assert!(desired.errors.is_empty(), "{:?}", desired.errors);
    desired
}

fn options() -> ReconcileOptions {
    ReconcileOptions {
        plan: PlanOptions {
            alarm_poll: ALARM_POLL,
            ..PlanOptions::default()
        },
        ..ReconcileOptions::default()
    }
}

fn metered(fake: &FakeCloud, rates: Rates) -> Metered<FakeCloud> {
    Metered::new(
        fake.clone(),
        Arc::new(Budget::new(rates)),
        RetryPolicy::default(),
    )
}

/// Creates the fleet, then starts a canary on every function.
async fn fleet_in_flight(dir: &Path, functions: usize) -> (FakeCloud, PathBuf) {
    let fake = FakeCloud::new();
    fake.set_settle_reads(0);
    fake.set_provisioned_reads(0);
    for team in 0..TEAMS {
        fake.add_alarm(AlarmDefinition {
            name: team_alarm(team),
            metric: AlarmMetric::Errors,
            statistic: "Sum".into(),
            dimensions: BTreeMap::new(),
            threshold: 1.0,
            period_secs: 60,
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            description: "made elsewhere".into(),
        });
    }
    let cloud = metered(&fake, UNLIMITED);
    let specs = write_specs(dir, functions, 1);
    let created = apply_pass(&cloud, &load(&specs)).await;
    assert_eq!(created.applied, functions, "create: {:?}", created.failed);
    for name in fake.alarm_names() {
        fake.set_alarm_state(&name, AlarmState::Ok, "quiet");
    }
    let specs = write_specs(dir, functions, 2);
    fake.reset_calls();
    let started = apply_pass(&cloud, &load(&specs)).await;
    assert_eq!(
        started.applied, functions,
        "release 2: {:?}",
        started.failed
    );
    let in_flight = in_flight(&fake, functions);
    assert_eq!(in_flight, functions, "every canary is in flight");
    println!(
        "set-up: {functions} functions created, then {in_flight} canaries started (10% of traffic, then a 1 h pause); {} alarms exist",
        fake.alarm_names().len()
    );
    println!(
        "  the pass that started the canaries (every sub-resource read, the digests differ): {} DescribeAlarms calls for {} candidate alarm names ({} per function: errors, throttles, duration), {}",
        fake.call_count(Api::DescribeAlarms),
        3 * functions,
        3,
        calls_by_api(&fake)
    );
    (fake, specs)
}

struct PassResult {
    applied: usize,
    unchanged: usize,
    failed: Vec<String>,
    holding: usize,
    alarms_seen: usize,
    elapsed: Duration,
}

async fn apply_pass(cloud: &Metered<FakeCloud>, desired: &Desired) -> PassResult {
    let start = Instant::now();
    let planned = plan(cloud, desired, &options()).await;
    let holding = planned
        .plans
        .iter()
        .filter(|p| p.actions.is_empty() && p.next.requeue_after().is_some())
        .count();
    let alarms_seen = planned.observation.alarms.len();
    let reports = apply(cloud, planned, &options(), &Silent).await;
    let mut result = PassResult {
        applied: 0,
        unchanged: 0,
        failed: Vec::new(),
        holding,
        alarms_seen,
        elapsed: start.elapsed(),
    };
    for report in reports {
        match report.outcome {
            Outcome::Applied => result.applied += 1,
            Outcome::Unchanged => result.unchanged += 1,
            other => result.failed.push(format!("{}: {other:?}", report.name)),
        }
    }
    result
}

fn in_flight(fake: &FakeCloud, functions: usize) -> usize {
    (0..functions)
        .filter(|i| {
            fake.alias(&format!("fleet-{i:04}"), ALIAS)
                .is_some_and(|a| a.additional_version.is_some())
        })
        .count()
}

fn gating_alarms(desired: &Desired) -> usize {
    let mut names: Vec<&String> = desired
        .functions
        .iter()
        .flat_map(|d| d.gating_alarms.iter())
        .collect();
    names.sort();
    names.dedup();
    names.len()
}

fn calls_by_api(fake: &FakeCloud) -> String {
    let mut counts: BTreeMap<Api, usize> = BTreeMap::new();
    for call in fake.calls() {
        *counts.entry(call).or_default() += 1;
    }
    counts
        .iter()
        .map(|(api, n)| format!("{api} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}

// The engine: one pass over every function, as `shepherd apply --wait` makes.

async fn engine(fake: &FakeCloud, specs: &Path, functions: usize) {
    let desired = load(specs);
    let alarms = gating_alarms(&desired);
    let allowed = alarms.div_ceil(100);
    println!();
    println!(
        "[engine] one reconcile pass (plan + apply) over {functions} rollouts in flight, {alarms} distinct gating alarms:"
    );
    fake.reset_calls();
    let pass = apply_pass(&metered(fake, UNLIMITED), &desired).await;
    let describe = fake.call_count(Api::DescribeAlarms);
    println!(
        "  {} holding (pause running, alarms quiet), {} applied, {} unchanged, {} failed; {} alarms observed",
        pass.holding,
        pass.applied,
        pass.unchanged,
        pass.failed.len(),
        pass.alarms_seen
    );
    println!("  calls: {}", calls_by_api(fake));
    println!(
        "  target (<= 1 DescribeAlarms per 100 alarms per poll: <= ceil({alarms}/100) = {allowed}): {describe} calls: {}",
        verdict(describe <= allowed && pass.holding == functions)
    );

    // The same pass under the default budget: how long a poll of 500 rollouts lasts.
    fake.reset_calls();
    let budgeted = apply_pass(&metered(fake, Rates::default()), &desired).await;
    println!(
        "  the same pass under the default budget (GetFunction 100/s, other Lambda calls 15/s, CloudWatch 20/s): {:.1} s (virtual time; {} DescribeAlarms calls): the alarm checks of `apply --wait` come every {:.1} s (pass + {} s poll), not every {} s",
        budgeted.elapsed.as_secs_f64(),
        fake.call_count(Api::DescribeAlarms),
        budgeted.elapsed.as_secs_f64() + ALARM_POLL.as_secs_f64(),
        ALARM_POLL.as_secs(),
        ALARM_POLL.as_secs()
    );

    // An alarm entering ALARM while `apply --wait` loops over the 500 rollouts.
    // Halfway through the first pass; just after its alarm read (the worst case); halfway
    // through the second.
    let pass = budgeted.elapsed.as_secs_f64();
    let offsets = [
        0.5 * pass,
        pass + 0.5,
        1.5 * pass + ALARM_POLL.as_secs_f64(),
    ];
    let cloud = metered(fake, Rates::default());
    let loop_options = options();
    let mut latencies = Vec::new();
    for (trial, offset) in offsets.into_iter().enumerate() {
        let victim = format!("fleet-{:04}", 1 + trial * 7);
        let stable = fake.alias(&victim, ALIAS).expect("the alias").version;
        let watch = async {
            tokio::time::sleep(Duration::from_secs_f64(offset)).await;
            fake.set_alarm_state(&format!("{victim}-errors"), AlarmState::Alarm, "bench");
            let fired = Instant::now();
            loop {
                let alias = fake.alias(&victim, ALIAS).expect("the alias");
                if alias.version == stable && alias.additional_version.is_none() {
                    return fired.elapsed();
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        };
        let took = tokio::select! {
            took = watch => took,
            _ = apply_until_settled(&cloud, &desired, &loop_options, &Silent) => {
                panic!("every rollout settled before the alarm fired")
            }
        };
        latencies.push(took);
        fake.set_alarm_state(&format!("{victim}-errors"), AlarmState::Ok, "bench");
    }
    println!(
        "  `apply --wait` loop under the default budget, an errors alarm entering ALARM {} into the loop: alias back on the stable version after {} (target 1 s + one 5 s poll = 6 s)",
        secs(&offsets.map(Duration::from_secs_f64)),
        secs(&latencies)
    );
}

fn secs(durations: &[Duration]) -> String {
    durations
        .iter()
        .map(|d| format!("{:.1} s", d.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(", ")
}

// The controller: `shepherd run` on the same fleet.

async fn controller(fake: &FakeCloud, specs: &Path, functions: usize) {
    let alarms = gating_alarms(&load(specs));
    let allowed = alarms.div_ceil(100);
    for (label, rates) in [
        ("no budget", UNLIMITED),
        ("the default budget", Rates::default()),
    ] {
        let budgeted = rates != UNLIMITED;
        let rollouts = in_flight(fake, functions);
        println!();
        println!(
            "[controller] `shepherd run` (16 workers, alarm poll 5 s, resync 1 h) managing the {functions} functions ({rollouts} rollouts in flight), {label}:"
        );
        let metrics = Arc::new(Metrics::new());
        let settings = Settings {
            source: SourceConfig::Directory {
                root: specs.to_owned(),
                path: ".".into(),
            },
            lint_config: None,
            poll_interval: Duration::from_secs(3600),
            resync_interval: Duration::from_secs(3600),
            full_refresh_every: 10,
            workers: 16,
            reconcile: options(),
            target: Default::default(),
        };
        let core = ControlLoop::new(metered(fake, rates), settings, Arc::clone(&metrics));
        let cancel = CancellationToken::new();
        let task = tokio::spawn(Arc::clone(&core).run(cancel.clone()));
        let start = Instant::now();
        {
            while !core.is_ready() {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            println!(
                "  ready (every function reconciled once) after {:.1} s (virtual time)",
                start.elapsed().as_secs_f64()
            );
            tokio::time::sleep(Duration::from_secs(7)).await;
        }
        // Steady state: a window of whole polls.
        let window = Duration::from_secs(60);
        let before =
            [Api::DescribeAlarms, Api::GetFunction, Api::ListAliases].map(|a| fake.call_count(a));
        let mut depth = Vec::new();
        let window_start = Instant::now();
        while window_start.elapsed() < window {
            tokio::time::sleep(Duration::from_secs(1)).await;
            depth.push(metrics.queue_depth.get());
        }
        let [describe, gets, lists] = [Api::DescribeAlarms, Api::GetFunction, Api::ListAliases]
            .map(|a| fake.call_count(a))
            .map(|n| n as f64);
        let (describe, gets, lists) = (
            describe - before[0] as f64,
            gets - before[1] as f64,
            lists - before[2] as f64,
        );
        let seconds = window.as_secs_f64();
        let per_poll = describe / (seconds / ALARM_POLL.as_secs_f64());
        // Each reconcile of a rollout in flight observes the function once (its plan; the
        // status the API shows comes from that observation): ListAliases counts them.
        let reconciles = lists / seconds;
        let mean_depth = depth.iter().sum::<i64>() as f64 / depth.len().max(1) as f64;
        println!(
            "  over {seconds:.0} s: {describe:.0} DescribeAlarms, {gets:.0} GetFunction, {lists:.0} ListAliases: {reconciles:.1} reconciles/s",
        );
        if reconciles > 0.0 {
            println!(
                "  each rollout's alarms are looked at every {:.1} s on average (alarm poll: {} s); work queue depth {mean_depth:.0} on average",
                rollouts as f64 / reconciles,
                ALARM_POLL.as_secs()
            );
        } else {
            println!(
                "  no reconcile in the window: the alarm watch alone looks at every rollout's alarms, every {} s; work queue depth {mean_depth:.0} on average",
                ALARM_POLL.as_secs()
            );
        }
        println!(
            "  target (<= ceil({alarms}/100) = {allowed} DescribeAlarms per 5 s poll): {per_poll:.0} per poll: {}",
            verdict(per_poll <= allowed as f64)
        );
        if budgeted {
            rollback_under_a_fleet_deploy(fake, &core, specs, functions).await;
        } else {
            // An alarm event, as the SQS alarm queue delivers it, for one of the rollouts.
            let mut latencies = Vec::new();
            let mut reads = Vec::new();
            for trial in 0..3 {
                let victim = format!("fleet-{:04}", (trial + 1) * functions / 4);
                let stable = fake.alias(&victim, ALIAS).expect("the alias").version;
                let alarm = format!("{victim}-errors");
                tokio::time::sleep(Duration::from_millis(1_700 * (trial as u64 + 1))).await;
                fake.set_alarm_state(&alarm, AlarmState::Alarm, "bench");
                let calls = [Api::GetFunction, Api::ListAliases, Api::DescribeAlarms]
                    .map(|a| fake.call_count(a));
                let fired = Instant::now();
                core.request_sync(Trigger::AlarmChange {
                    alarm: alarm.clone(),
                    state: AlarmState::Alarm,
                });
                loop {
                    let alias = fake.alias(&victim, ALIAS).expect("the alias");
                    if alias.version == stable && alias.additional_version.is_none() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                latencies.push(fired.elapsed());
                // Whatever the reconcile reads after its write (the status) comes now.
                tokio::time::sleep(Duration::from_secs(1)).await;
                // Only reconciles read functions and aliases (the alarm watch reads alarms).
                let after = [Api::GetFunction, Api::ListAliases, Api::DescribeAlarms]
                    .map(|a| fake.call_count(a));
                reads.push((
                    after[0] - calls[0],
                    after[1] - calls[1],
                    after[2] - calls[2],
                ));
                fake.set_alarm_state(&alarm, AlarmState::Ok, "bench");
            }
            println!(
                "  reads from the alarm event to a second after the rollback (GetFunction, ListAliases, DescribeAlarms), per trial: {reads:?} (one observation is 1 GetFunction, 1 ListAliases, 1 DescribeAlarms; the alarm watch's 5 s poll may add a DescribeAlarms)"
            );
            println!(
                "  alarm event (as from SQS) to alias back on the stable version: {} (virtual time; the fake answers at once) (target 2 s)",
                secs(&latencies)
            );
        }
        cancel.cancel();
        task.await.expect("the controller stops");
    }
}

/// One function mid-canary under `shepherd run`; a new release arrives: the reads of the
/// reconcile that supersedes the canary and starts the next (an alias move that keeps a
/// rollout in flight).
async fn new_release_reads(dir: &Path) {
    let (fake, specs) = fleet_in_flight(dir, 1).await;
    let settings = Settings {
        source: SourceConfig::Directory {
            root: specs.clone(),
            path: ".".into(),
        },
        lint_config: None,
        poll_interval: Duration::from_secs(3600),
        resync_interval: Duration::from_secs(3600),
        full_refresh_every: 10,
        workers: 1,
        reconcile: options(),
        target: Default::default(),
    };
    let core = ControlLoop::new(
        metered(&fake, UNLIMITED),
        settings,
        Arc::new(Metrics::new()),
    );
    let cancel = CancellationToken::new();
    let task = tokio::spawn(Arc::clone(&core).run(cancel.clone()));
    while !core.is_ready() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let victim = "fleet-0000";
    let mut reads = Vec::new();
    for release in 3..6 {
        // Just after an alarm-watch poll, so that the window holds the reconcile's reads.
        tokio::time::sleep(ALARM_POLL + Duration::from_millis(100)).await;
        let canary = fake.alias(victim, ALIAS).and_then(|a| a.additional_version);
        std::fs::write(specs.join(format!("{victim}.yaml")), spec(0, release))
            .expect("write a spec");
        let apis = [Api::GetFunction, Api::ListAliases, Api::DescribeAlarms];
        let before = apis.map(|a| fake.call_count(a));
        core.request_sync(Trigger::Webhook {
            source: "generic",
            commit: None,
        });
        loop {
            let now = fake.alias(victim, ALIAS).and_then(|a| a.additional_version);
            if now.is_some() && now.as_ref().map(|c| &c.0) != canary.as_ref().map(|c| &c.0) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The reconcile is over (the fake answers at once); the next one, which the new
        // canary asks for, comes a second later.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let after = apis.map(|a| fake.call_count(a));
        reads.push((
            after[0] - before[0],
            after[1] - before[1],
            after[2] - before[2],
        ));
    }
    println!();
    println!(
        "[controller] a new release for a function mid-canary (supersede, new canary: an alias move that keeps a rollout in flight): reads of that reconcile (GetFunction, ListAliases, DescribeAlarms), per trial: {reads:?} (one observation is 1 GetFunction, 1 ListAliases and, for this function's 3 alarm names in two batches, 2 DescribeAlarms; a GetFunction also waits for the code update to settle)"
    );
    cancel.cancel();
    task.await.expect("the controller stops");
}

/// A new release for every function but one saturates the budget; then an alarm event for
/// the one: how long until its alias is back on the stable version.
async fn rollback_under_a_fleet_deploy(
    fake: &FakeCloud,
    core: &Arc<ControlLoop<FakeCloud>>,
    specs: &Path,
    functions: usize,
) {
    // A canary still in flight (the trials before rolled some back), from the middle.
    let victim = (functions / 2..functions)
        .map(|i| format!("fleet-{i:04}"))
        .find(|name| {
            fake.alias(name, ALIAS)
                .is_some_and(|a| a.additional_version.is_some())
        })
        .expect("a canary in flight");
    for i in (0..functions).filter(|i| format!("fleet-{i:04}") != victim) {
        std::fs::write(specs.join(format!("fleet-{i:04}.yaml")), spec(i, 3)).expect("write a spec");
    }
    core.request_sync(Trigger::Webhook {
        source: "generic",
        commit: None,
    });
    let lambda_calls = || {
        fake.calls()
            .iter()
            .filter(|api| api.class() == shepherd_core::cloud::CallClass::LambdaControl)
            .count()
    };
    let writes_before = fake.write_calls().len();
    tokio::time::sleep(Duration::from_secs(25)).await;
    let calls_before = lambda_calls();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rate = (lambda_calls() - calls_before) as f64 / 5.0;
    let depth = core.metrics().queue_depth.get();
    let writes = fake.write_calls().len() - writes_before;
    let alias = fake.alias(&victim, ALIAS).expect("the alias");
    assert!(alias.additional_version.is_some(), "{victim} is mid-canary");
    let stable = alias.version;
    let alarm = format!("{victim}-errors");
    fake.set_alarm_state(&alarm, AlarmState::Alarm, "bench");
    let fired = Instant::now();
    core.request_sync(Trigger::AlarmChange {
        alarm: alarm.clone(),
        state: AlarmState::Alarm,
    });
    loop {
        let alias = fake.alias(&victim, ALIAS).expect("the alias");
        if alias.version == stable && alias.additional_version.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = fired.elapsed();
    println!(
        "  a new release for {} functions, 30 s in ({writes} writes so far, {rate:.1} Lambda calls/s of 15, {depth} functions waiting in the queue), then an alarm event for the one left: alias back on the stable version after {:.3} s (virtual time) (target 2 s): {}",
        functions - 1,
        took.as_secs_f64(),
        verdict(took <= Duration::from_secs(2))
    );
}
