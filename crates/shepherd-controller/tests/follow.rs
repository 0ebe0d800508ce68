//! Standbys following the holder over HTTP, in real time on loopback (a lease of 9 s,
//! heartbeats of 3 s): a graceful stop hands the lease over well within a heartbeat, and
//! a crashed holder's lease is taken a lease duration after its last renewal, where
//! heartbeat reads alone would take up to a heartbeat longer.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shepherd_controller::controller::{ControlLoop, Settings};
use shepherd_controller::leader::{self, Leadership, follow::follow};
use shepherd_controller::metrics::Metrics;
use shepherd_controller::server::{Secrets, ServerState, router, serve};
use shepherd_controller::source::SourceConfig;
use shepherd_core::lease::{Elector, LeaseSettings};
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::metered::Metered;
use shepherd_engine::reconcile::ReconcileOptions;
use shepherd_engine::retry::RetryPolicy;
use shepherd_fake::{FakeCloud, MemoryLeases};
use tokio_util::sync::CancellationToken;

const SETTINGS: LeaseSettings = LeaseSettings {
    duration: Duration::from_secs(9),
    heartbeat: Duration::from_secs(3),
};

/// One replica's lease task, its HTTP server (the watch endpoint) and its follower.
struct Replica {
    leadership: Leadership,
    release: CancellationToken,
    lease_task: tokio::task::JoinHandle<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn replica(name: &str, table: &MemoryLeases, specs: &Path) -> Replica {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let elector = Elector::new("default", name, Some(url), SETTINGS);
    let release = CancellationToken::new();
    let (leadership, lease_task) = leader::spawn(Arc::new(table.clone()), elector, release.clone());
    tokio::spawn(follow(
        leadership.clone(),
        SETTINGS.heartbeat,
        release.clone(),
    ));
    let settings = Settings {
        source: SourceConfig::Directory {
            root: specs.to_owned(),
            path: ".".into(),
        },
        lint_config: None,
        poll_interval: Duration::from_secs(60),
        resync_interval: Duration::from_secs(60),
        full_refresh_every: 10,
        workers: 1,
        reconcile: ReconcileOptions::default(),
        target: Default::default(),
    };
    let cloud = Metered::new(
        FakeCloud::new(),
        Arc::new(Budget::new(Rates::default())),
        RetryPolicy::default(),
    );
    let metrics = Arc::new(Metrics::new());
    let core =
        ControlLoop::with_leadership(cloud, settings, Arc::clone(&metrics), leadership.clone());
    let app = router(ServerState::new(core, metrics, Secrets::default()));
    let stop = release.clone();
    let server = tokio::spawn(serve(listener, app, async move { stop.cancelled().await }));
    Replica {
        leadership,
        release,
        lease_task,
        server,
    }
}

async fn until_holder(leadership: &Leadership, limit: Duration) -> Duration {
    let start = Instant::now();
    while !leadership.is_holder() {
        assert!(start.elapsed() < limit, "not the holder within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_hands_over_within_a_second_and_a_crash_a_lease_after_the_last_renewal() {
    let specs = tempfile::tempdir().unwrap();
    let table = MemoryLeases::default();
    let a = replica("a", &table, specs.path()).await;
    until_holder(&a.leadership, Duration::from_secs(5)).await;
    let b = replica("b", &table, specs.path()).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(!b.leadership.is_holder());

    // Graceful: a releases (deletes its item) and b, waiting on a's watch, reads at once.
    a.release.cancel();
    let released = Instant::now();
    a.lease_task.await.unwrap();
    until_holder(&b.leadership, Duration::from_secs(5)).await;
    let took = released.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "graceful handover took {took:?} (a heartbeat is 3 s)"
    );
    let _ = a.server.await;

    // A crash, just after a renewal, with the standby's reads half a heartbeat behind
    // the holder's renewals: c follows b's renewals, so it takes over a lease after b's
    // last one, not a lease after its own next read.
    let version = || table.item("default").map(|i| i.version);
    let renewed = || async {
        let before = version();
        while version() == before {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    renewed().await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let c = replica("c", &table, specs.path()).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(b.leadership.is_holder() && !c.leadership.is_holder());
    renewed().await;
    // Renewed just now; c's next read is about 1.5 s away.
    b.lease_task.abort();
    b.server.abort();
    let crashed = Instant::now();
    until_holder(&c.leadership, Duration::from_secs(20)).await;
    let took = crashed.elapsed();
    assert!(
        took >= Duration::from_secs(8) && took <= Duration::from_millis(9_500),
        "took over {took:?} after the crash (lease 9 s)"
    );
    c.release.cancel();
}
