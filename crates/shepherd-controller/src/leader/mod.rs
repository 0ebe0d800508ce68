//! The lease of each target, held or watched by one task per target: every heartbeat the
//! task asks the target's [`Elector`] what to do, does it against the lease table, and
//! publishes the replica's role and who holds the lease. Everything that acts on a target
//! asks [`Leadership`] first, on this process's monotonic clock, so a holder whose lease
//! ran out (it was paused, or lost the table) stops acting before anyone else can start.
//!
//! Standbys also follow the holder over HTTP ([`follow`]): the holder answers each
//! renewal as it lands ([`Leadership::renewal_after`]), so a standby counts the lease
//! from the holder's last renewal and takes a crashed holder's lease one lease duration
//! after it (not up to a heartbeat later); and a graceful stop, which deletes the item on
//! the holder's version, is answered as a release, so a standby takes the lease at once.

pub mod follow;
pub mod spread;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use shepherd_core::lease::{Elector, Intent, LeaseItem, LeaseTable, Role};
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use spread::{Share, Spread, WorkGate, WorkGuard};

/// How much of its lease a holder keeps in hand for a write to reach AWS after the fence
/// let it through (at most a quarter of the lease).
const WRITE_LEAD: Duration = Duration::from_secs(5);

/// Who holds a target's lease, as the last read or write showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseHolder {
    pub replica: String,
    /// Where the holder's HTTP API answers, when it advertised one.
    pub url: Option<String>,
}

/// What a lease change means to the rest of the controller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Acquired,
    Lost,
}

/// Whether this replica may act for a target, now.
#[derive(Clone)]
pub struct Leadership {
    target: String,
    replica: String,
    /// False for a replica without a lease table, which holds everything.
    elected: bool,
    role: watch::Receiver<Role>,
    holder: watch::Receiver<Option<LeaseHolder>>,
    /// The version of the item while this replica holds the lease.
    version: watch::Receiver<Option<String>>,
    released: watch::Receiver<bool>,
    wake: Arc<Notify>,
    heard: mpsc::UnboundedSender<Heard>,
    duration: Duration,
    origin: Instant,
    share: Arc<Share>,
    work: Arc<WorkGate>,
}

/// A renewal another replica reported over HTTP.
#[derive(Debug, Clone)]
pub struct Heard {
    pub holder: String,
    pub version: String,
    pub duration: Duration,
}

/// What the holder tells a standby that follows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Renewal {
    /// This replica's id.
    pub holder: String,
    /// The item's version now, while this replica holds the lease.
    pub version: Option<String>,
    /// This replica's lease duration, in milliseconds.
    pub duration_ms: u64,
    /// This replica let the lease go (a graceful stop).
    pub released: bool,
}

impl Leadership {
    /// A replica with no lease table: it holds every target, always.
    pub fn always(target: impl Into<String>) -> Self {
        let (_, role) = watch::channel(Role::Holder {
            valid_until: Duration::MAX,
        });
        let (_, holder) = watch::channel(None);
        let (_, version) = watch::channel(None);
        let (_, released) = watch::channel(false);
        let (heard, _) = mpsc::unbounded_channel();
        Self {
            target: target.into(),
            replica: String::new(),
            elected: false,
            role,
            holder,
            version,
            released,
            wake: Arc::new(Notify::new()),
            heard,
            duration: Duration::MAX,
            origin: Instant::now(),
            share: Share::new(1),
            work: Arc::new(WorkGate::default()),
        }
    }

    pub fn target(&self) -> &str {
        &self.target
    }

    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Whether the role comes from a lease (false: this replica holds everything).
    pub fn is_elected(&self) -> bool {
        self.elected
    }

    /// Checked before each write: the lease as last renewed, against this clock.
    pub fn is_holder(&self) -> bool {
        match *self.role.borrow() {
            Role::Holder { valid_until } => self.origin.elapsed() < valid_until,
            Role::Standby => false,
        }
    }

    /// Whether a write may be sent now: the holder, with enough of its lease left for the
    /// request to reach AWS (a connection, credentials) before the lease could run out.
    pub fn may_write(&self) -> bool {
        let lead = WRITE_LEAD.min(self.duration / 4);
        match *self.role.borrow() {
            Role::Holder { valid_until } => {
                self.origin.elapsed().saturating_add(lead) < valid_until
            }
            Role::Standby => false,
        }
    }

    /// Whether to start new work on the target: the holder, unless it is handing the
    /// lease over (then it finishes what it started, and takes nothing new).
    pub fn accepts_work(&self) -> bool {
        self.is_holder() && !self.work.handing_over()
    }

    /// Counts a unit of work on the target (a reconcile), which a hand-over waits for.
    pub fn begin_work(&self) -> WorkGuard {
        self.work.begin()
    }

    /// The lease is being handed over to a replica holding fewer.
    pub fn is_handing_over(&self) -> bool {
        self.work.handing_over()
    }

    /// How many leases this replica holds, of all its targets.
    pub fn held_by_replica(&self) -> usize {
        self.share.held()
    }

    /// A follower (a standby of this lease) said who it is and how many leases it holds.
    pub fn heard_from(&self, replica: &str, holds: usize) {
        if replica != self.replica {
            self.share.heard_from(replica, holds);
        }
    }

    /// Who holds the lease, as last seen (this replica, when it does).
    pub fn holder(&self) -> Option<LeaseHolder> {
        self.holder.borrow().clone()
    }

    /// Waits until the replica holds the lease (or `cancel`).
    pub async fn until_holder(&mut self, cancel: &CancellationToken) -> bool {
        loop {
            if self.is_holder() {
                return true;
            }
            tokio::select! {
                changed = self.role.changed() => {
                    if changed.is_err() {
                        // No task renews the lease any more; it never comes back.
                        cancel.cancelled().await;
                        return false;
                    }
                }
                () = cancel.cancelled() => return false,
            }
        }
    }

    /// Waits for the next acquisition or loss of the lease (as the role changes, or as
    /// the held lease runs out on this clock). `None` when the lease task has ended.
    pub async fn next_change(&mut self, holding: bool) -> Option<Change> {
        loop {
            let valid_until = match *self.role.borrow_and_update() {
                Role::Holder { valid_until } => Some(valid_until),
                Role::Standby => None,
            };
            let now_holder = valid_until.is_some_and(|until| self.origin.elapsed() < until);
            match (holding, now_holder) {
                (false, true) => return Some(Change::Acquired),
                (true, false) => return Some(Change::Lost),
                _ => {}
            }
            let expiry = async {
                match valid_until {
                    Some(until) if holding => {
                        let left = until.saturating_sub(self.origin.elapsed());
                        tokio::time::sleep(left).await;
                    }
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = self.role.changed() => changed.ok()?,
                () = expiry => {}
            }
        }
    }

    /// Waits at most `wait` for the lease this replica holds to be renewed past `after`
    /// (or released), and says where it stands: what a following standby is answered.
    pub async fn renewal_after(&self, after: Option<&str>, wait: Duration) -> Renewal {
        let mut version = self.version.clone();
        let mut released = self.released.clone();
        let moved = |v: &Option<String>| v.is_some() && v.as_deref() != after;
        if !*released.borrow() && !moved(&version.borrow()) && self.is_holder() {
            let _ = tokio::time::timeout(wait, async {
                tokio::select! {
                    _ = version.wait_for(moved) => {}
                    _ = released.wait_for(|r| *r) => {}
                }
            })
            .await;
        }
        Renewal {
            holder: self.replica.clone(),
            version: self
                .is_holder()
                .then(|| self.version.borrow().clone())
                .flatten(),
            duration_ms: u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX),
            released: *self.released.borrow(),
        }
    }

    /// Another replica said it renewed the lease: counted from now.
    pub fn heard(&self, heard: Heard) {
        let _ = self.heard.send(heard);
    }

    /// Reads the lease now instead of at the next heartbeat (the holder said it let go).
    pub fn read_now(&self) {
        self.wake.notify_one();
    }
}

/// Starts the task that holds or watches `elector`'s lease; it releases the lease when
/// `cancel` fires.
pub fn spawn<T: LeaseTable>(
    table: Arc<T>,
    elector: Elector,
    cancel: CancellationToken,
) -> (Leadership, tokio::task::JoinHandle<()>) {
    spawn_among(table, elector, cancel, Share::new(1))
}

/// [`spawn`], for one of several targets of this replica, which share `share`: the
/// targets spread over the replicas (see [`spread`]).
pub fn spawn_among<T: LeaseTable>(
    table: Arc<T>,
    elector: Elector,
    cancel: CancellationToken,
    share: Arc<Share>,
) -> (Leadership, tokio::task::JoinHandle<()>) {
    let work = Arc::new(WorkGate::default());
    let origin = Instant::now();
    let (role_tx, role) = watch::channel(Role::Standby);
    let (holder_tx, holder) = watch::channel(None);
    let (version_tx, version) = watch::channel(None);
    let (released_tx, released) = watch::channel(false);
    let (heard, heard_rx) = mpsc::unbounded_channel();
    let wake = Arc::new(Notify::new());
    let leadership = Leadership {
        target: elector.target().to_owned(),
        replica: elector.replica().to_owned(),
        elected: true,
        role,
        holder,
        version,
        released,
        wake: Arc::clone(&wake),
        heard,
        duration: elector.settings().duration,
        origin,
        share: Arc::clone(&share),
        work: Arc::clone(&work),
    };
    let task = tokio::spawn(hold(
        table,
        elector,
        Published {
            origin,
            role: role_tx,
            holder: holder_tx,
            version: version_tx,
            released: released_tx,
            wake,
            heard: heard_rx,
        },
        Spread {
            share,
            wanted_since: None,
        },
        work,
        cancel,
    ));
    (leadership, task)
}

/// What the lease task tells the rest of the process.
struct Published {
    origin: Instant,
    role: watch::Sender<Role>,
    holder: watch::Sender<Option<LeaseHolder>>,
    version: watch::Sender<Option<String>>,
    released: watch::Sender<bool>,
    wake: Arc<Notify>,
    heard: mpsc::UnboundedReceiver<Heard>,
}

fn fresh() -> String {
    format!("{:032x}", rand::random::<u128>())
}

async fn hold<T: LeaseTable>(
    table: Arc<T>,
    mut elector: Elector,
    mut out: Published,
    mut spread: Spread,
    work: Arc<WorkGate>,
    cancel: CancellationToken,
) {
    let heartbeat = elector.settings().heartbeat;
    let mut ticks = tokio::time::interval(heartbeat);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut holding = false;
    // The takeover time last acted on: a takeover write that failed is tried again at the
    // next heartbeat, not in a loop.
    let mut due_tried = None;
    loop {
        let takeover = elector
            .takeover_at()
            .map(|at| at.max(spread.not_before(heartbeat)))
            .filter(|at| Some(*at) != due_tried);
        let due = async {
            match takeover {
                Some(at) => tokio::time::sleep_until(out.origin + at).await,
                None => std::future::pending().await,
            }
        };
        let ticked = tokio::select! {
            _ = ticks.tick() => true,
            () = out.wake.notified() => false,
            () = due => {
                due_tried = takeover;
                false
            }
            Some(heard) = out.heard.recv() => {
                elector.heard(&heard.holder, &heard.version, heard.duration, out.origin.elapsed());
                continue;
            }
            () = cancel.cancelled() => break,
        };
        if ticked {
            out.released
                .send_if_modified(|r| std::mem::replace(r, false));
        }
        if ticked && holding && spread.share.should_yield() && spread.share.begin_yield() {
            tracing::info!(
                target = elector.target(),
                "handing the lease over: this replica holds more than its share of the targets"
            );
            work.set_handing_over(true);
            drain(table.as_ref(), &mut elector, &out, &mut spread, &work).await;
            let_go(table.as_ref(), &mut elector, &out).await;
            work.set_handing_over(false);
            holding = false;
            spread.share.lost();
            spread.share.end_yield();
            continue;
        }
        let seen = beat(table.as_ref(), &mut elector, out.origin, &mut spread).await;
        let role = elector.role(out.origin.elapsed());
        let now_holding = matches!(role, Role::Holder { .. });
        match (holding, now_holding) {
            (false, true) => spread.share.acquired(),
            (true, false) => spread.share.lost(),
            _ => {}
        }
        holding = now_holding;
        let holder = match (&role, seen) {
            (Role::Holder { .. }, _) => Some(LeaseHolder {
                replica: elector.replica().to_owned(),
                url: elector.address().map(str::to_owned),
            }),
            (Role::Standby, Seen::Item(item)) => Some(LeaseHolder {
                replica: item.holder,
                url: item.address,
            }),
            (Role::Standby, Seen::Nothing) => None,
            (Role::Standby, Seen::Unknown) => out.holder.borrow().clone(),
        };
        out.holder.send_if_modified(|h| {
            let changed = *h != holder;
            *h = holder;
            changed
        });
        let held = elector
            .held_version(out.origin.elapsed())
            .map(str::to_owned);
        out.version.send_if_modified(|v| {
            let changed = *v != held;
            *v = held;
            changed
        });
        out.role.send_replace(role);
    }
    // A graceful stop: the workers have finished; commands still running finish too
    // (new ones are refused), on a lease kept renewed meanwhile.
    work.set_handing_over(true);
    if holding {
        drain(table.as_ref(), &mut elector, &out, &mut spread, &work).await;
    }
    let_go(table.as_ref(), &mut elector, &out).await;
    if holding {
        spread.share.lost();
    }
}

/// How long a hand-over or a graceful stop waits for the work in flight before letting go
/// anyway (the fence then refuses whatever it still tries to write).
const DRAIN_WAIT: Duration = Duration::from_secs(30);

/// Waits for the work in flight on the target to finish, at most [`DRAIN_WAIT`], renewing
/// the lease every heartbeat meanwhile, so that the work keeps its fence open.
async fn drain<T: LeaseTable>(
    table: &T,
    elector: &mut Elector,
    out: &Published,
    spread: &mut Spread,
    work: &WorkGate,
) {
    let heartbeat = elector.settings().heartbeat;
    let waiting = Instant::now();
    let mut renewed = Instant::now();
    while work.in_flight() > 0 && waiting.elapsed() < DRAIN_WAIT {
        if renewed.elapsed() >= heartbeat {
            beat(table, elector, out.origin, spread).await;
            renewed = Instant::now();
            let role = elector.role(out.origin.elapsed());
            let lost = role == Role::Standby;
            out.role.send_replace(role);
            if lost {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Stops acting and deletes the item on this replica's version, which the followers hear
/// of at once.
async fn let_go<T: LeaseTable>(table: &T, elector: &mut Elector, out: &Published) {
    out.role.send_replace(Role::Standby);
    out.version.send_replace(None);
    if let Some(version) = elector.release() {
        match table.delete(elector.target(), &version).await {
            Ok(()) => {
                tracing::info!(target = elector.target(), "lease released");
                out.released.send_replace(true);
            }
            Err(error) => {
                tracing::warn!(target = elector.target(), %error, "could not release the lease; it runs out by itself");
            }
        }
    }
}

/// What a heartbeat learnt about the item.
enum Seen {
    Item(LeaseItem),
    Nothing,
    /// The read failed, or there was no read.
    Unknown,
}

async fn beat<T: LeaseTable>(
    table: &T,
    elector: &mut Elector,
    origin: Instant,
    spread: &mut Spread,
) -> Seen {
    let renewing = elector.held_version(origin.elapsed()).is_some();
    let mut intent = elector.tick(origin.elapsed(), fresh());
    let mut seen = Seen::Unknown;
    if intent == Intent::Read {
        match table.get(elector.target()).await {
            Ok(item) => {
                let write = elector.observed(item.as_ref(), origin.elapsed(), fresh());
                seen = item.map_or(Seen::Nothing, Seen::Item);
                match write {
                    Some(write) => intent = write,
                    None => {
                        spread.wanted_since = None;
                        return seen;
                    }
                }
            }
            Err(error) => {
                tracing::warn!(target = elector.target(), %error, "cannot read the lease");
                return seen;
            }
        }
    }
    if !renewing
        && intent != Intent::Read
        && !spread.may_take(origin.elapsed(), elector.settings().heartbeat)
    {
        return seen;
    }
    // The lease is counted from before the write was sent.
    let sent_at = origin.elapsed();
    let (item, result) = match &intent {
        Intent::Acquire(item) => (item, table.put_new(item).await),
        Intent::Replace { expected, item } => (item, table.replace(expected, item).await),
        Intent::Read => return seen,
    };
    elector.written(item, sent_at, result);
    seen
}
