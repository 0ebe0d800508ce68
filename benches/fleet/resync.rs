//! The resync part: the budget share a no-op resync of a large fleet takes in `shepherd run`
//! on the defaults.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::controller::Controller;
use crate::common::{Clients, verdict};
use crate::fleet::{OWNER, Set, git_repository, is_budgeted_line};
use crate::support::Emulator;

const BUDGET: f64 = 15.0;
const TARGET_SHARE: f64 = 0.35;
const WINDOW: Duration = Duration::from_secs(60);
const RESYNC_INTERVAL: f64 = 60.0;

pub async fn run(emulator: &Emulator, binary: &Path, root: &Path, size: usize) {
    println!(
        "[resync] a no-op resync of {size} converged functions, `shepherd run` on the defaults (resync every 1 m, routine share a third of {BUDGET}/s):"
    );
    let clients = Clients::new(&emulator.endpoint);
    let set = Set::write(
        &root.join(format!("resync{size}")),
        &format!("r{size}"),
        size,
        "",
    );
    set.create(&clients).await;
    git_repository(&set.root);
    // The first pass reads every function once at the full budget (one ListAliases each);
    // the source poll is slowed so that repackaging the specs every minute does not load
    // the machine the emulator shares.
    let first_pass = Duration::from_secs_f64(size as f64 / BUDGET * 3.0 + 120.0);
    let run_dir = root.join(format!("resync{size}-run"));
    std::fs::create_dir_all(&run_dir).expect("create the controller's folder");
    let controller = Controller::start(
        binary,
        &emulator.endpoint,
        &set.root,
        &run_dir,
        None,
        &["--poll-interval", "10m", "--owner", OWNER],
        first_pass,
    );
    let budgeted = || controller.metric("shepherd_aws_calls_total", is_budgeted_line);
    let reconciles = || {
        controller.metric("shepherd_reconciles_total", |l| {
            l.contains("trigger=\"resync\"")
        })
    };
    // Past the first pass's last calls.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (calls_before, resyncs_before) = (budgeted(), reconciles());
    let window = Instant::now();
    tokio::time::sleep(WINDOW).await;
    let seconds = window.elapsed().as_secs_f64();
    let (calls, resyncs) = (budgeted() - calls_before, reconciles() - resyncs_before);
    let rate = calls / seconds;
    let share = rate / BUDGET;
    let round = controller.metric("shepherd_resync_round_seconds", |_| true);
    let stretched = controller.log_lines().iter().any(|l| {
        l["message"]
            .as_str()
            .is_some_and(|m| m.contains("stretched"))
    });
    let unpaced = size as f64 / RESYNC_INTERVAL;
    println!(
        "  {seconds:.0} s of resync: {resyncs:.0} resync reconciles, {calls:.0} budgeted calls = {rate:.2}/s = {:.1}% of the budget; round {round:.0} s (shepherd_resync_round_seconds), stretched warning logged: {stretched}",
        share * 100.0
    );
    println!(
        "  an unpaced resync of {size} functions once a minute (1 ListAliases each) would need {unpaced:.1}/s = {:.0}% of the budget",
        unpaced / BUDGET * 100.0
    );
    println!(
        "  target (<= {:.0}% of the budget): {}; left to releases and rollbacks: {:.1}/s",
        TARGET_SHARE * 100.0,
        verdict(share <= TARGET_SHARE),
        BUDGET - rate
    );
    controller.stop();
}
