//! Two control loops on one fake account and one lease table in memory, in virtual time:
//! only the holder writes; a crash of the holder mid-pause hands the rollout to the other,
//! which resumes the same step with what is left of the pause and writes no step twice;
//! a holder cut off from the table stops writing before the other takes over.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use shepherd_controller::controller::{ControlLoop, Settings};
use shepherd_controller::handle::Controller;
use shepherd_controller::leader::{self, Leadership};
use shepherd_controller::metrics::Metrics;
use shepherd_controller::source::SourceConfig;
use shepherd_core::cloud::Api;
use shepherd_core::lease::{Elector, LeaseItem, LeaseSettings, LeaseTable, TableError};
use shepherd_core::model::Owner;
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::metered::Metered;
use shepherd_engine::reconcile::ReconcileOptions;
use shepherd_engine::retry::RetryPolicy;
use shepherd_fake::{FakeCloud, MemoryLeases};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// The shared table, as one replica reaches it: `cut` makes every call fail, as a
/// network partition between this replica and DynamoDB would.
#[derive(Clone)]
struct Reach {
    table: MemoryLeases,
    cut: Arc<AtomicBool>,
}

impl Reach {
    fn check(&self) -> Result<(), TableError> {
        if self.cut.load(Ordering::SeqCst) {
            return Err(TableError::Unavailable("partitioned".into()));
        }
        Ok(())
    }
}

impl LeaseTable for Reach {
    async fn get(&self, target: &str) -> Result<Option<LeaseItem>, TableError> {
        self.check()?;
        self.table.get(target).await
    }
    async fn put_new(&self, item: &LeaseItem) -> Result<(), TableError> {
        self.check()?;
        self.table.put_new(item).await
    }
    async fn replace(&self, expected: &str, item: &LeaseItem) -> Result<(), TableError> {
        self.check()?;
        self.table.replace(expected, item).await
    }
    async fn delete(&self, target: &str, expected: &str) -> Result<(), TableError> {
        self.check()?;
        self.table.delete(target, expected).await
    }
}

fn canary(release: &str) -> String {
    format!(
        "apiVersion: shepherd.dev/v1alpha1\n\
         kind: Function\n\
         metadata:\n  name: orders\n\
         spec:\n\
         \x20 code:\n    s3:\n      bucket: artifacts\n      key: orders/{release}.zip\n\
         \x20 handler: app.handler\n\
         \x20 runtime: python3.12\n\
         \x20 role: arn:aws:iam::123456789012:role/orders\n\
         \x20 alias:\n    name: live\n\
         \x20 rollout:\n    steps:\n      - setWeight: 20\n      - pause: {{duration: 60s}}\n      - setWeight: 50\n      - pause: {{duration: 60s}}\n"
    )
}

struct Replica {
    core: Arc<ControlLoop<FakeCloud>>,
    leadership: Leadership,
    cut: Arc<AtomicBool>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    lease_task: tokio::task::JoinHandle<()>,
}

impl Replica {
    fn start(name: &str, root: &Path, aws: &FakeCloud, table: &MemoryLeases) -> Self {
        let mut reconcile = ReconcileOptions::default();
        reconcile.plan.owner = Owner::parse("team-a").unwrap();
        let settings = Settings {
            source: SourceConfig::Directory {
                root: root.to_owned(),
                path: ".".into(),
            },
            lint_config: None,
            poll_interval: Duration::from_secs(5),
            resync_interval: Duration::from_secs(60),
            full_refresh_every: 10,
            workers: 4,
            reconcile,
            target: Default::default(),
        };
        let cloud = Metered::new(
            aws.clone(),
            Arc::new(Budget::new(Rates::default())),
            RetryPolicy::default(),
        );
        let cut = Arc::new(AtomicBool::new(false));
        let reach = Reach {
            table: table.clone(),
            cut: Arc::clone(&cut),
        };
        let elector = Elector::new("default", name, None, LeaseSettings::default());
        let (leadership, lease_task) =
            leader::spawn(Arc::new(reach), elector, CancellationToken::new());
        let core = ControlLoop::with_leadership(
            cloud,
            settings,
            Arc::new(Metrics::new()),
            leadership.clone(),
        );
        let cancel = CancellationToken::new();
        let task = tokio::spawn(Arc::clone(&core).run(cancel.clone()));
        Self {
            core,
            leadership,
            cut,
            cancel,
            task,
            lease_task,
        }
    }

    /// Calls of `api` that went through.
    /// Calls counted by `which(api, outcome)`.
    fn count(&self, which: impl Fn(Api, &str) -> bool) -> u64 {
        self.core
            .call_stats()
            .snapshot()
            .iter()
            .filter(|(api, outcome, _)| which(*api, outcome))
            .map(|(_, _, n)| n)
            .sum()
    }

    /// Calls of `api` that went through.
    fn calls(&self, api: Api) -> u64 {
        self.count(|a, outcome| a == api && outcome == "ok")
    }

    /// Writes of any kind that reached the fake.
    fn writes(&self) -> u64 {
        self.count(|api, outcome| api.is_write() && outcome != "fenced")
    }

    /// Writes tried, whether or not the fence let them through.
    fn write_attempts(&self) -> u64 {
        self.count(|api, _| api.is_write())
    }

    /// Dies at once: no reconcile finishes, no lease is released.
    fn crash(&self) {
        self.task.abort();
        self.lease_task.abort();
    }
}

fn weight(aws: &FakeCloud) -> Option<f64> {
    aws.alias("orders", "live")?
        .additional_version
        .map(|(_, w)| w)
}

/// Waits in virtual steps of a second for `done`, for at most `seconds`; the time taken.
async fn until(what: &str, seconds: u64, done: impl Fn() -> bool) -> Duration {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(seconds),
            "{what}: not within {seconds}s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    start.elapsed()
}

/// The release from 1.0.0 to 2.0.0 by one replica that never fails: the UpdateAlias
/// calls it takes.
async fn uninterrupted_update_alias_calls() -> u64 {
    let specs = tempfile::tempdir().unwrap();
    std::fs::write(specs.path().join("orders.yaml"), canary("1.0.0")).unwrap();
    let aws = FakeCloud::new();
    let table = MemoryLeases::default();
    let a = Replica::start("a", specs.path(), &aws, &table);
    until("a ready", 120, || {
        a.core.is_ready() && a.leadership.is_holder()
    })
    .await;
    until("created", 120, || aws.alias("orders", "live").is_some()).await;
    let before = a.calls(Api::UpdateAlias);
    std::fs::write(specs.path().join("orders.yaml"), canary("2.0.0")).unwrap();
    until("canary", 60, || weight(&aws).is_some()).await;
    until("promoted", 300, || weight(&aws).is_none()).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    a.cancel.cancel();
    a.calls(Api::UpdateAlias) - before
}

#[tokio::test(start_paused = true)]
async fn a_crash_mid_pause_hands_the_rollout_over_at_the_same_step_with_no_step_written_twice() {
    let expected = uninterrupted_update_alias_calls().await;
    assert!(
        expected >= 3,
        "a two-step canary and its promotion: {expected}"
    );

    let specs = tempfile::tempdir().unwrap();
    std::fs::write(specs.path().join("orders.yaml"), canary("1.0.0")).unwrap();
    let aws = FakeCloud::new();
    let table = MemoryLeases::default();
    let a = Replica::start("a", specs.path(), &aws, &table);
    until("a holds", 60, || a.leadership.is_holder()).await;
    let b = Replica::start("b", specs.path(), &aws, &table);
    until("created", 120, || aws.alias("orders", "live").is_some()).await;
    until("b ready", 60, || b.core.is_ready()).await;
    assert!(!b.leadership.is_holder());
    let a_before = a.calls(Api::UpdateAlias);

    std::fs::write(specs.path().join("orders.yaml"), canary("2.0.0")).unwrap();
    until("the canary at 20%", 60, || weight(&aws) == Some(0.2)).await;
    let paused_at = Instant::now();
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(b.write_attempts(), 0, "the standby tried to write");
    a.crash();
    let crashed = Instant::now();
    let took = until("b takes over", 60, || b.leadership.is_holder()).await;
    assert!(took <= Duration::from_secs(25), "took over after {took:?}");
    assert_eq!(table.holder("default").as_deref(), Some("b"));
    assert_eq!(
        weight(&aws),
        Some(0.2),
        "the step stands while the lease moves"
    );

    // The pause counts from when it began, not from the takeover.
    until("the canary at 50%", 120, || weight(&aws) == Some(0.5)).await;
    let pause = paused_at.elapsed();
    assert!(
        // The step is seen up to a poll (250 ms) late, and the record counts in seconds.
        pause >= Duration::from_secs(59) && pause <= Duration::from_secs(63),
        "the 60 s pause lasted {pause:?} (crash {:?} in)",
        crashed - paused_at
    );
    until("promoted", 120, || weight(&aws).is_none()).await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    let version = aws.alias("orders", "live").unwrap().version;
    assert_eq!(aws.versions("orders").last().unwrap().version, version);
    let written = a.calls(Api::UpdateAlias) - a_before + b.calls(Api::UpdateAlias);
    assert_eq!(written, expected, "every step once, across both replicas");
    b.cancel.cancel();
    b.task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_holder_cut_off_from_the_table_stops_writing_before_the_other_takes_over() {
    let specs = tempfile::tempdir().unwrap();
    std::fs::write(specs.path().join("orders.yaml"), canary("1.0.0")).unwrap();
    let aws = FakeCloud::new();
    let table = MemoryLeases::default();
    let a = Replica::start("a", specs.path(), &aws, &table);
    until("a holds", 60, || a.leadership.is_holder()).await;
    let b = Replica::start("b", specs.path(), &aws, &table);
    until("created", 120, || aws.alias("orders", "live").is_some()).await;
    std::fs::write(specs.path().join("orders.yaml"), canary("2.0.0")).unwrap();
    until("the canary at 20%", 60, || weight(&aws) == Some(0.2)).await;

    a.cut.store(true, Ordering::SeqCst);
    let cut = Instant::now();
    let mut a_stopped = None;
    let mut a_writes_when_stopped = 0;
    while !b.leadership.is_holder() {
        assert!(
            !(a.leadership.is_holder() && b.leadership.is_holder()),
            "two holders {:?} after the cut",
            cut.elapsed()
        );
        if a_stopped.is_none() && !a.leadership.is_holder() {
            a_stopped = Some(cut.elapsed());
            a_writes_when_stopped = a.writes();
        }
        assert!(cut.elapsed() < Duration::from_secs(60), "b never took over");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let a_stopped = a_stopped.expect("a stopped counting itself holder first");
    assert!(a_stopped < cut.elapsed(), "a stopped at {a_stopped:?}");
    // b carries the rollout through its pauses; a, still running, writes nothing more.
    until("promoted by b", 300, || weight(&aws).is_none()).await;
    assert_eq!(
        a.writes(),
        a_writes_when_stopped,
        "a wrote after its lease ran out"
    );
    assert!(b.writes() > 0);
    // Back in touch, a finds b's lease and stays a standby.
    a.cut.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(!a.leadership.is_holder() && b.leadership.is_holder());
    assert_eq!(a.writes(), a_writes_when_stopped);
    for replica in [&a, &b] {
        replica.cancel.cancel();
    }
}
