//! The rollback part: how fast one canary's alarm takes its alias back while a fleet deploy
//! spends the whole budget, beside the same rollback on an idle budget.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use crate::common::controller::{Controller, git, message, since, timestamp};
use crate::common::{Clients, Summary, unix_nanos, verdict, wait_for_alias};
use crate::fleet::{ALIAS, ONE_STEP, OWNER, Set, git_repository, is_budgeted_line};
use crate::support::Emulator;

const TARGET: Duration = Duration::from_secs(2);
const ALIAS_POLL: Duration = Duration::from_millis(25);
const MIN_WINDOW: Duration = Duration::from_secs(20);
/// A canary that stays at 20% until its alarm fires, gated by its errors alarm.
const GUARD: &str = "  alarms:\n    errors:\n      threshold: 1\n  rollout:\n    steps:\n      - setWeight: 20\n      - pause: {duration: 1h}\n";

pub async fn run(emulator: &Emulator, binary: &Path, root: &Path, size: usize, guards: usize) {
    println!(
        "[rollback] {guards} guard functions in a canary (20%, then a 1 h pause) beside {size} functions; an alarm event per guard, half on an idle budget, half while new code for the {size} (a one-step canary each) saturates the default budget:"
    );
    let clients = Clients::new(&emulator.endpoint);
    let queue = emulator.setup(&["queue", "fleet-alarm-events"]);
    let repository = root.join("rollback");
    let fleet = Set::write(&repository, "deploy", size, ONE_STEP);
    let guard = Set::write(&repository, "guard", guards, GUARD);
    fleet.create(&clients).await;
    guard.create(&clients).await;
    git_repository(&repository);
    let run_dir = root.join("rollback-run");
    std::fs::create_dir_all(&run_dir).expect("create the controller's folder");
    let controller = Controller::start(
        binary,
        &emulator.endpoint,
        &repository,
        &run_dir,
        None,
        &[
            "--owner",
            OWNER,
            "--poll-interval",
            "10m",
            "--resync-interval",
            "10m",
            "--alarm-poll",
            "10m",
            "--alarm-queue-url",
            &queue,
        ],
        Duration::from_secs_f64((size + guards) as f64 / 15.0 * 3.0 + 120.0),
    );
    let observer = clients.cloud();

    // Every guard into its canary.
    let stable = guard.aliases(&observer).await;
    guard.write_code("canary build");
    let commit = commit_all(&repository, "guards: new code");
    assert_eq!(controller.push(&commit, "guards").0, 202);
    for name in guard.names() {
        wait_for_alias(
            &observer,
            &name,
            ALIAS,
            ALIAS_POLL,
            Duration::from_secs(120),
            |_, canary| canary.is_some(),
        )
        .await
        .expect("the guard's canary starts within 120 s");
    }
    println!("  every guard at 20%");

    let budgeted = || controller.metric("shepherd_aws_calls_total", is_budgeted_line);
    let writes_of = |api: &str| {
        let label = format!("api=\"{api}\"");
        controller.metric("shepherd_aws_calls_total", |l| l.contains(&label))
    };
    let names = guard.names();
    let (idle, loaded) = names.split_at(names.len() / 2);
    let mut idle_latencies = Vec::new();
    for name in idle {
        tokio::time::sleep(Duration::from_millis(700)).await;
        idle_latencies.push(roll_back(&clients, &observer, &queue, name, &stable[name].0).await);
    }

    // The fleet deploy: a webhook, then the first write (from the log: the counters reach
    // `/metrics` every 2 s) and the budget in use.
    fleet.write_code("second build");
    let commit = commit_all(&repository, "fleet: new code");
    let code_updates = writes_of("UpdateFunctionCode");
    let pushed = unix_nanos(SystemTime::now());
    let waited = Instant::now();
    assert_eq!(controller.push(&commit, "fleet").0, 202);
    let first_write = loop {
        let first = controller
            .log_lines()
            .iter()
            .filter(|l| message(l) == "applying" && in_commit(l, &commit))
            .filter_map(timestamp)
            .min();
        if let Some(at) = first {
            break since(pushed, at);
        }
        assert!(
            waited.elapsed() < Duration::from_secs(120),
            "the deploy's first write within 120 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "  the fleet deploy's first write {:.2} s after its webhook was sent",
        first_write.as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (calls_before, load_start) = (budgeted(), Instant::now());
    let mut loaded_latencies = Vec::new();
    for (i, name) in loaded.iter().enumerate() {
        tokio::time::sleep(Duration::from_millis(1500 + (i as u64 * 700) % 2000)).await;
        loaded_latencies.push(roll_back(&clients, &observer, &queue, name, &stable[name].0).await);
    }
    // The counters reach `/metrics` every 2 s: a window of 20 s at least.
    tokio::time::sleep(MIN_WINDOW.saturating_sub(load_start.elapsed())).await;
    let rate = (budgeted() - calls_before) / load_start.elapsed().as_secs_f64();
    let deployed = writes_of("UpdateFunctionCode") - code_updates;
    println!(
        "  while the rollbacks under load ran: {rate:.1} budgeted calls/s (the budget is 15/s); {deployed:.0} of {size} code updates made so far"
    );
    let idle = Summary::new(&idle_latencies);
    let loaded = Summary::new(&loaded_latencies);
    println!(
        "  alarm event sent -> alias back on the stable version, idle budget: {}",
        idle.line("ms")
    );
    println!(
        "  alarm event sent -> alias back on the stable version, saturated budget: {}",
        loaded.line("ms")
    );
    println!(
        "  target (<= {} s under load, every trial): max {:.0} ms: {}; the deploy's first write <= 2 s: {}",
        TARGET.as_secs(),
        loaded.max().as_secs_f64() * 1e3,
        verdict(loaded.len() > 0 && loaded.max() <= TARGET && rate >= 12.0),
        verdict(first_write <= TARGET)
    );
    if rate < 12.0 {
        println!("  (the budget was not saturated during the trials: the figure does not count)");
    }
    controller.stop();
}

/// The guard's alarm into ALARM, its event to the queue, and the time until the alias
/// routes only to `stable`.
async fn roll_back(
    clients: &Clients,
    observer: &shepherd_aws::AwsCloud,
    queue: &str,
    name: &str,
    stable: &str,
) -> Duration {
    let alarm = format!("{name}-errors");
    clients.set_alarm(&alarm, "ALARM").await;
    let sent = Instant::now();
    clients.send_alarm_event(queue, &alarm, "ALARM").await;
    wait_for_alias(
        observer,
        name,
        ALIAS,
        ALIAS_POLL,
        Duration::from_secs(120),
        |version, canary| version == stable && canary.is_none(),
    )
    .await
    .expect("the alias goes back within 120 s");
    let latency = sent.elapsed();
    println!(
        "    {name}: back on {stable} {:.0} ms after the event",
        latency.as_secs_f64() * 1e3
    );
    latency
}

fn commit_all(repository: &Path, message: &str) -> String {
    git(repository, &["add", "."]);
    git(repository, &["commit", "--quiet", "-m", message]);
    git(repository, &["rev-parse", "HEAD"])
}

/// Whether a log line is of work on `commit` (in any of its spans).
fn in_commit(line: &serde_json::Value, commit: &str) -> bool {
    line["spans"]
        .as_array()
        .is_some_and(|spans| spans.iter().any(|s| s["commit"] == commit))
}
