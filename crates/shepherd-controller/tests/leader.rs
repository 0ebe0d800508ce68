//! The lease task of two replicas against one table in memory, in virtual time: a
//! graceful stop hands the lease over at the next read, a crash after a full lease, and a
//! holder whose task stopped renewing stops counting as holder on its own clock.

use std::sync::Arc;
use std::time::Duration;

use shepherd_controller::leader::spread::Share;
use shepherd_controller::leader::{Leadership, spawn};
use shepherd_core::lease::{Elector, LeaseSettings};
use shepherd_fake::MemoryLeases;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

fn elector(replica: &str) -> Elector {
    Elector::new("t", replica, None, LeaseSettings::default())
}

/// Waits in steps of 100 ms until `leadership` holds, and says how long that took.
async fn until_holder(leadership: &Leadership) -> Duration {
    let start = Instant::now();
    while !leadership.is_holder() {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "never the holder"
        );
    }
    start.elapsed()
}

#[tokio::test(start_paused = true)]
async fn a_graceful_stop_hands_the_lease_over_within_a_heartbeat() {
    let table = Arc::new(MemoryLeases::default());
    let stop_a = CancellationToken::new();
    let (a, task_a) = spawn(table.clone(), elector("a"), stop_a.clone());
    until_holder(&a).await;
    let (b, _task_b) = spawn(table.clone(), elector("b"), CancellationToken::new());
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(a.is_holder() && !b.is_holder(), "b took a renewed lease");
    stop_a.cancel();
    task_a.await.unwrap();
    assert!(!a.is_holder());
    assert_eq!(table.holder("t"), None, "released");
    let took = until_holder(&b).await;
    // At b's next read: within a heartbeat, plus this loop's 100 ms steps.
    assert!(
        took <= Duration::from_millis(5_100),
        "took over after {took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_crashed_holder_is_taken_over_after_a_lease_and_stops_counting_itself_holder_first() {
    let table = Arc::new(MemoryLeases::default());
    let (a, task_a) = spawn(table.clone(), elector("a"), CancellationToken::new());
    until_holder(&a).await;
    let (b, _task_b) = spawn(table.clone(), elector("b"), CancellationToken::new());
    tokio::time::sleep(Duration::from_secs(30)).await;
    // a's task dies without releasing: nothing renews its lease any more.
    task_a.abort();
    let crashed = Instant::now();
    let mut a_stopped = None;
    while !b.is_holder() {
        if a_stopped.is_none() && !a.is_holder() {
            a_stopped = Some(crashed.elapsed());
        }
        assert!(
            !(a.is_holder() && b.is_holder()),
            "two holders at {:?}",
            crashed.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took_over = crashed.elapsed();
    let a_stopped = a_stopped.expect("a stopped counting itself holder before b took over");
    assert!(a_stopped < took_over);
    // A lease (20 s) after b's first read of a's last version, which is at most a
    // heartbeat (5 s) after a's last renewal.
    assert!(
        took_over <= Duration::from_secs(25),
        "took over {took_over:?} after the crash"
    );
    assert_eq!(table.holder("t").as_deref(), Some("b"));
}

/// The lease tasks of one replica of `targets`, sharing one count of leases held.
fn start_replica(
    table: &MemoryLeases,
    targets: &[&str],
    replica: &'static str,
) -> (Arc<Share>, Vec<(Leadership, tokio::task::JoinHandle<()>)>) {
    let share = Share::new(targets.len());
    let leases = targets
        .iter()
        .map(|t| {
            let elector = Elector::new(*t, replica, None, LeaseSettings::default());
            shepherd_controller::leader::spawn_among(
                Arc::new(table.clone()),
                elector,
                CancellationToken::new(),
                Arc::clone(&share),
            )
        })
        .collect();
    (share, leases)
}

/// A replica's name, its count of leases held, and its lease tasks, one per target.
type Replica = (
    &'static str,
    Arc<Share>,
    Vec<(Leadership, tokio::task::JoinHandle<()>)>,
);

/// Three replicas of four targets each, starting together: every target has one holder,
/// every replica holds at least one, and a crashed replica's targets move to the others.
#[tokio::test(start_paused = true)]
async fn targets_spread_over_replicas_and_a_crashed_replicas_targets_move() {
    let table = MemoryLeases::default();
    let targets = ["a", "b", "c", "d"];
    let mut replicas = Vec::new();
    for replica in ["r1", "r2", "r3"] {
        let (held, leases) = start_replica(&table, &targets, replica);
        replicas.push((replica, held, leases));
    }
    tokio::time::sleep(Duration::from_secs(30)).await;
    let holders = |replicas: &[Replica]| {
        targets
            .iter()
            .enumerate()
            .map(|(i, _)| {
                replicas
                    .iter()
                    .filter(|(_, _, leases)| leases[i].0.is_holder())
                    .map(|(name, _, _)| name.to_string())
                    .collect::<Vec<String>>()
            })
            .collect::<Vec<_>>()
    };
    let now = holders(&replicas);
    assert!(now.iter().all(|h| h.len() == 1), "{now:?}");
    for (name, held, _) in &replicas {
        let held = held.held();
        assert!((1..=2).contains(&held), "{name} holds {held}: {now:?}");
    }
    // The replica holding the most crashes; within a lease and a few heartbeats (the
    // takers yield to each other by what they hold), its targets have new holders.
    let most = replicas
        .iter()
        .enumerate()
        .max_by_key(|(_, (_, held, _))| held.held())
        .map(|(i, _)| i)
        .unwrap();
    let (crashed, _, leases) = replicas.remove(most);
    for (_, task) in &leases {
        task.abort();
    }
    tokio::time::sleep(Duration::from_secs(40)).await;
    let after = holders(&replicas);
    assert!(
        after.iter().all(|h| h.len() == 1),
        "{crashed} crashed: {after:?}"
    );
    assert_eq!(
        targets
            .iter()
            .filter(|t| table.holder(t).as_deref() == Some(crashed))
            .count(),
        0
    );
}

/// A replica that took every target alone hands leases over, one at a time, to one that
/// starts later and follows it (what `follow` reports over HTTP is reported here directly),
/// until both hold their share, and no target ever has two holders.
#[tokio::test(start_paused = true)]
async fn a_replica_holding_every_target_hands_some_over_to_a_newcomer() {
    let table = MemoryLeases::default();
    let targets = ["a", "b", "c", "d"];
    let start = |replica| start_replica(&table, &targets, replica);
    let (first, first_leases) = start("r1");
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(first.held(), 4, "alone, it takes every target");

    let (second, second_leases) = start("r2");
    let mut both_holding_max = 0;
    for _ in 0..1200 {
        // Each follows the other's leases and says how many it holds.
        for (leadership, _) in &first_leases {
            leadership.heard_from("r2", second.held());
        }
        for (leadership, _) in &second_leases {
            leadership.heard_from("r1", first.held());
        }
        for i in 0..targets.len() {
            let both = first_leases[i].0.is_holder() && second_leases[i].0.is_holder();
            both_holding_max += usize::from(both);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(both_holding_max, 0, "a target had two holders");
    assert_eq!((first.held(), second.held()), (2, 2));
    for target in targets {
        assert!(table.holder(target).is_some());
    }
}

/// A takeover write that fails (the table unreachable) is tried again at the next
/// heartbeat, not in a loop (which, in virtual time, never lets the clock move: this test
/// then never ends).
#[tokio::test(start_paused = true)]
async fn a_failed_takeover_write_waits_for_the_next_heartbeat() {
    let table = MemoryLeases::default();
    let (a, task_a) = spawn(
        Arc::new(table.clone()),
        elector("a"),
        CancellationToken::new(),
    );
    until_holder(&a).await;
    let (b, _task_b) = spawn(
        Arc::new(table.clone()),
        elector("b"),
        CancellationToken::new(),
    );
    tokio::time::sleep(Duration::from_secs(10)).await;
    task_a.abort();
    tokio::time::sleep(Duration::from_secs(2)).await;
    table.set_unavailable(true);
    let (reads, writes) = table.calls();
    tokio::time::sleep(Duration::from_secs(60)).await;
    let (reads_after, writes_after) = table.calls();
    let calls = (reads_after - reads) + (writes_after - writes);
    // One call per heartbeat (5 s) over a minute, give or take one.
    assert!(calls <= 14, "{calls} calls to an unreachable table in 60 s");
    assert!(!b.is_holder());
    table.set_unavailable(false);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(b.is_holder(), "b takes over once the table answers");
}
