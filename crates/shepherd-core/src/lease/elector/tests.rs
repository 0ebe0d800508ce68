//! The lease state machine in virtual time: replicas driven against one table, each on
//! its own clock (offsets given per call), with writes lost, delayed and refused.

use std::time::Duration;

use super::*;

const S: Duration = Duration::from_secs(1);

/// The table: one item and its conditional writes.
#[derive(Default)]
struct Table {
    item: Option<LeaseItem>,
    versions: u64,
}

impl Table {
    fn apply(&mut self, intent: &Intent) -> Result<(), TableError> {
        match intent {
            Intent::Read => Ok(()),
            Intent::Acquire(item) if self.item.is_none() => {
                self.item = Some(item.clone());
                Ok(())
            }
            Intent::Replace { expected, item }
                if self.item.as_ref().is_some_and(|i| &i.version == expected) =>
            {
                self.item = Some(item.clone());
                Ok(())
            }
            _ => Err(TableError::ConditionFailed),
        }
    }

    fn fresh(&mut self) -> String {
        self.versions += 1;
        format!("v{}", self.versions)
    }
}

fn written_item(intent: &Intent) -> Option<&LeaseItem> {
    match intent {
        Intent::Read => None,
        Intent::Acquire(item) | Intent::Replace { item, .. } => Some(item),
    }
}

/// One heartbeat of `e` at `now`, every call answered.
fn beat(e: &mut Elector, table: &mut Table, now: Duration) {
    let fresh = table.fresh();
    let mut intent = e.tick(now, fresh);
    if intent == Intent::Read {
        let fresh = table.fresh();
        match e.observed(table.item.as_ref(), now, fresh) {
            Some(write) => intent = write,
            None => return,
        }
    }
    let result = table.apply(&intent);
    e.written(written_item(&intent).unwrap(), now, result);
}

fn elector(replica: &str) -> Elector {
    Elector::new("prod/eu-west-1", replica, None, LeaseSettings::default())
}

#[test]
fn the_first_replica_takes_a_free_lease_and_the_second_stands_by() {
    let mut table = Table::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    beat(&mut a, &mut table, Duration::ZERO);
    beat(&mut b, &mut table, Duration::ZERO);
    assert!(a.is_holder(Duration::ZERO));
    assert!(!b.is_holder(Duration::ZERO));
    assert_eq!(table.item.as_ref().unwrap().holder, "a");
}

#[test]
fn a_renewing_holder_is_never_taken_over() {
    let mut table = Table::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    for tick in 0..240 {
        let now = 5 * S * tick;
        beat(&mut a, &mut table, now);
        // b's clock is offset and ticks at other moments: only its own elapsed time counts.
        beat(&mut b, &mut table, now + 2 * S + Duration::from_secs(3600));
        assert!(a.is_holder(now), "a lost the lease at {now:?}");
        assert!(!b.is_holder(now + 2 * S + Duration::from_secs(3600)));
    }
}

#[test]
fn a_holder_that_stops_renewing_is_taken_over_a_full_lease_after_its_last_write_was_seen() {
    let mut table = Table::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    beat(&mut a, &mut table, Duration::ZERO);
    beat(&mut b, &mut table, S);
    // a stops (paused, or cut off). b sees the same version from t=1s on.
    let mut took_over = None;
    for tick in 1..20 {
        let now = S + 5 * S * tick;
        beat(&mut b, &mut table, now);
        if b.is_holder(now) {
            took_over = Some(now);
            break;
        }
    }
    let took_over = took_over.expect("b takes over");
    assert_eq!(took_over, 21 * S, "20 s after it first saw the version");
    // a's lease ended on its own clock before b could act: a woken a acts no more.
    let a_end = match a.role(Duration::ZERO) {
        Role::Holder { valid_until } => valid_until,
        Role::Standby => panic!("a held the lease"),
    };
    assert!(a_end < took_over, "{a_end:?} is not before {took_over:?}");
    assert!(!a.is_holder(took_over));
    // Waking up, a's renewal is refused and it stands by.
    beat(&mut a, &mut table, 30 * S);
    assert!(!a.is_holder(30 * S));
    assert_eq!(table.item.as_ref().unwrap().holder, "b");
}

#[test]
fn a_contender_waits_for_the_holders_lease_duration_not_its_own() {
    let mut table = Table::default();
    let long = LeaseSettings {
        duration: 60 * S,
        heartbeat: 5 * S,
    };
    let mut a = Elector::new("t", "a", None, long);
    let mut b = elector("b");
    beat(&mut a, &mut table, Duration::ZERO);
    for tick in 0..12 {
        beat(&mut b, &mut table, 5 * S * tick);
    }
    assert!(
        !b.is_holder(55 * S),
        "b took over before a's 60 s lease ran out"
    );
    beat(&mut b, &mut table, 60 * S);
    assert!(b.is_holder(60 * S));
}

#[test]
fn a_renewal_whose_answer_was_lost_but_landed_keeps_the_lease() {
    let mut table = Table::default();
    let mut a = elector("a");
    beat(&mut a, &mut table, Duration::ZERO);
    // The renewal lands, its answer is lost.
    let fresh = table.fresh();
    let intent = a.tick(5 * S, fresh);
    table.apply(&intent).unwrap();
    let item = written_item(&intent).unwrap().clone();
    a.written(
        &item,
        5 * S,
        Err(TableError::Unavailable("timed out".into())),
    );
    assert!(a.is_holder(6 * S));
    // The next renewal expects the old version and is refused; the read shows a's write.
    beat(&mut a, &mut table, 10 * S);
    assert!(!a.is_holder(10 * S));
    beat(&mut a, &mut table, 15 * S);
    assert!(a.is_holder(15 * S), "a's own lost write is recognised");
    // Valid from the lost write's send time, not from the read.
    assert!(!a.is_holder(5 * S + 18 * S));
    beat(&mut a, &mut table, 20 * S);
    assert!(a.is_holder(20 * S + 17 * S));
}

#[test]
fn a_holder_that_cannot_reach_the_table_stops_acting_when_its_lease_runs_out() {
    let mut table = Table::default();
    let mut a = elector("a");
    beat(&mut a, &mut table, Duration::ZERO);
    for tick in 1..4 {
        let now = 5 * S * tick;
        let fresh = table.fresh();
        let intent = a.tick(now, fresh);
        let item = written_item(&intent).unwrap().clone();
        a.written(&item, now, Err(TableError::Unavailable("no answer".into())));
    }
    assert!(a.is_holder(17 * S));
    assert!(!a.is_holder(18 * S), "20 s lease less a 2 s margin");
    // Past it, the next heartbeat reads instead of renewing.
    let fresh = table.fresh();
    assert_eq!(a.tick(20 * S, fresh), Intent::Read);
}

#[test]
fn a_released_lease_is_taken_at_the_next_read() {
    let mut table = Table::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    beat(&mut a, &mut table, Duration::ZERO);
    beat(&mut b, &mut table, S);
    let expected = a.release().expect("a held it");
    assert_eq!(table.item.as_ref().unwrap().version, expected);
    table.item = None;
    assert!(!a.is_holder(2 * S));
    beat(&mut b, &mut table, 6 * S);
    assert!(b.is_holder(6 * S));
}

#[test]
fn two_contenders_racing_for_a_free_lease_end_with_one_holder() {
    let mut table = Table::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    let fa = table.fresh();
    let fb = table.fresh();
    // Both read an empty table, then both write.
    let ia = a.observed(None, Duration::ZERO, fa).unwrap();
    let ib = b.observed(None, Duration::ZERO, fb).unwrap();
    let ra = table.apply(&ia);
    let rb = table.apply(&ib);
    a.written(written_item(&ia).unwrap(), Duration::ZERO, ra);
    b.written(written_item(&ib).unwrap(), Duration::ZERO, rb);
    assert!(a.is_holder(S) ^ b.is_holder(S));
}

#[test]
fn settings_need_a_heartbeat_well_inside_the_lease() {
    assert!(LeaseSettings::default().check().is_ok());
    let slow = LeaseSettings {
        duration: 20 * S,
        heartbeat: 10 * S,
    };
    assert!(slow.check().unwrap_err().contains("a third"));
}

#[test]
fn a_standby_that_hears_each_renewal_takes_over_a_lease_after_the_last_one() {
    let mut table = Table::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    beat(&mut a, &mut table, Duration::ZERO);
    // b reads at 4 s, 9 s, ...; a renews at 5 s, 10 s, ... and b hears each renewal at
    // once (the holder answers its watch), 100 ms later.
    beat(&mut b, &mut table, 4 * S);
    let mut last_renewal = Duration::ZERO;
    for tick in 1..=4 {
        let now = 5 * S * tick;
        beat(&mut a, &mut table, now);
        last_renewal = now;
        let version = table.item.as_ref().unwrap().version.clone();
        b.heard("a", &version, 20 * S, now + S / 10);
        beat(&mut b, &mut table, now + 4 * S);
        assert!(
            !b.is_holder(now + 4 * S),
            "b took a renewed lease at {now:?}"
        );
    }
    // a crashes right after its renewal at 20 s. b is told when it may take over, and
    // takes over then with a conditional write, without waiting for a heartbeat.
    let due = b.takeover_at().expect("b waits on a's lease");
    assert_eq!(due, last_renewal + S / 10 + 20 * S);
    assert!(!b.is_holder(due - S / 10));
    let versions = table.versions;
    beat(&mut b, &mut table, due);
    assert!(
        b.is_holder(due),
        "b holds the lease a lease after a's last renewal"
    );
    // `beat` draws a second fresh version only when it reads first.
    assert_eq!(table.versions, versions + 1, "taken with a write, no read");
    // a, woken, cannot renew.
    let a_end = match a.role(last_renewal) {
        Role::Holder { valid_until } => valid_until,
        Role::Standby => panic!("a held the lease"),
    };
    assert!(a_end < due);
    beat(&mut a, &mut table, due + S);
    assert!(!a.is_holder(due + S));
}

#[test]
fn hearing_an_old_or_own_version_never_restarts_or_fakes_the_count() {
    let mut table = Table::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    beat(&mut a, &mut table, Duration::ZERO);
    beat(&mut b, &mut table, S);
    let version = table.item.as_ref().unwrap().version.clone();
    // The same version heard later does not push the takeover back.
    b.heard("a", &version, 20 * S, 10 * S);
    assert_eq!(b.takeover_at(), Some(21 * S));
    // What a holder hears of itself changes nothing.
    a.heard("a", "other", 20 * S, 2 * S);
    assert!(a.is_holder(2 * S));
    assert_eq!(a.takeover_at(), None);
}

#[test]
fn clock_jumps_never_make_two_holders() {
    // A standby suspended for a minute (its monotonic clock jumps 60 s between two
    // beats) tries to take over on the version it saw before; the holder renewed since,
    // so the conditional write fails, and it starts counting again from a fresh read.
    let mut table = Table::default();
    let (mut a, mut b) = (elector("a"), elector("b"));
    beat(&mut a, &mut table, Duration::ZERO);
    beat(&mut b, &mut table, S);
    for tick in 1..=12 {
        beat(&mut a, &mut table, 5 * S * tick);
    }
    beat(&mut b, &mut table, 61 * S);
    assert!(
        !b.is_holder(61 * S),
        "b took a lease that was renewed all along"
    );
    assert_eq!(table.item.as_ref().unwrap().holder, "a");
    beat(&mut b, &mut table, 62 * S);
    assert_eq!(b.takeover_at(), Some(82 * S), "counted from the fresh read");
    // A holder whose clock jumps past its lease (suspended) stops acting at once, before
    // renewing: its next tick reads instead of writing.
    let end = match a.role(60 * S) {
        Role::Holder { valid_until } => valid_until,
        Role::Standby => panic!("a holds the lease"),
    };
    assert!(!a.is_holder(end + 40 * S));
    assert_eq!(a.tick(end + 40 * S, "v-late".into()), Intent::Read);
}
