//! Fleet deploys at the speed AWS allows (issue 11), against the local AWS emulator (moto
//! server), each part printing shepherd beside its peer and the limit, in one run:
//!
//! - canary: new code for 200 functions through a one-step canary (10%, then promoted;
//!   no pause, no alarm) with the default budget of 15 Lambda control-plane calls per
//!   second, as `shepherd apply --wait` runs it (`apply_until_settled` on
//!   `Metered<AwsCloud>`). Wall time, budgeted calls per function and time to the first
//!   write, against the limit: 5 budgeted calls per function at 15/s (66.7 s for 200).
//!   Targets: at most 1.2x the limit, at most 6 budgeted calls per function, first write
//!   within 2 s.
//! - lifted: the same release of 200 other functions with no budget and `--concurrency 32`,
//!   beside the peer: a boto3 script (`benches/peer/canary.py`, a pool of 8 threads, the
//!   same steps) on 200 more, in rounds of alternating order (the emulator's speed drifts).
//!   Target: at most 1.5x the script's median wall time.
//! - first-write: the first write of an apply of new code to 10,000 functions, with the
//!   default budget (the apply is stopped there). Target: within 2 s.
//! - resync: the release `shepherd run` on the defaults (resync every minute, a third of the
//!   budget for routine work) managing 1,000 and then 10,000 converged functions; once the
//!   first pass is done, the Lambda control-plane calls of 60 s of resync, from
//!   `/metrics`, as a share of the 15/s budget, beside what an unpaced resync once a minute
//!   would need. Target: at most 35% for 10,000.
//! - rollback: the release `shepherd run` managing 1,000 functions and a few guard
//!   functions, each guard in a canary (20%, then a 1 h pause) gated by its errors alarm.
//!   Rollback latency (alarm event sent to the SQS alarm queue, to the alias back on the
//!   stable version) of half of the guards while the budget is idle, then of the other
//!   half while new code for the 1,000 saturates the budget. Target: within 2 s under load.
//!   Also the time from the deploy's webhook to its first write.
//!
//! ```text
//! cargo build --release -p shepherd
//! SHEPHERD_MOTO_SERVER=/path/to/moto_server cargo bench -p shepherd-e2e --bench fleet
//! ```
//!
//! `SHEPHERD_BENCH_PARTS` picks parts (`canary,lifted,first-write,resync,rollback`, the
//! default). Sizes: `SHEPHERD_BENCH_FUNCTIONS` (the 200), `SHEPHERD_BENCH_FIRST_WRITE_FLEET`
//! (10,000), `SHEPHERD_BENCH_RESYNC_FLEETS` (`1000,10000`), `SHEPHERD_BENCH_FLEET` (the
//! rollback's 1,000) and `SHEPHERD_BENCH_GUARDS` (its 8 guards). The lifted part:
//! `SHEPHERD_BENCH_ROUNDS` (3), `SHEPHERD_BENCH_CONCURRENCY` (32),
//! `SHEPHERD_BENCH_PEER_THREADS` (8). `SHEPHERD_BENCH_KEEP` keeps the temporary folder (specs,
//! controller logs). The resync and rollback parts need the release binary (`SHEPHERD_BIN`
//! points at another one). Run without `--bench` (as `cargo test --all-targets` does), it
//! does nothing.

#[path = "../../tests/support/mod.rs"]
mod support;

#[path = "../common/mod.rs"]
mod common;

mod fleet;
mod release;
mod resync;
mod rollback;

use std::time::Instant;

use support::Emulator;

fn main() {
    if !common::wanted("fleet") {
        return;
    }
    let parts = std::env::var("SHEPHERD_BENCH_PARTS")
        .unwrap_or_else(|_| "canary,lifted,first-write,resync,rollback".to_owned());
    let wants = |part: &str| parts.split(',').any(|p| p.trim() == part);
    println!("{}", common::machine());
    let started = Instant::now();
    let emulator = Emulator::start();
    emulator.setup(&["role", fleet::ROLE]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let temporary = tempfile::tempdir().expect("create a temporary directory");
    // `SHEPHERD_BENCH_KEEP` keeps the folder, to read the controllers' logs afterwards.
    let (root, _temporary) = if std::env::var_os("SHEPHERD_BENCH_KEEP").is_some() {
        let kept = temporary.keep();
        println!("the benchmark's folder is kept: {}", kept.display());
        (kept, None)
    } else {
        (temporary.path().to_owned(), Some(temporary))
    };
    let functions = fleet::number("SHEPHERD_BENCH_FUNCTIONS", 200);

    if wants("canary") {
        println!();
        runtime.block_on(release::default_budget(&emulator, &root, functions));
    }
    if wants("lifted") {
        println!();
        runtime.block_on(release::lifted(&emulator, &root, functions));
    }
    if wants("first-write") {
        println!();
        runtime.block_on(release::first_write_part(
            &emulator,
            &root,
            fleet::number("SHEPHERD_BENCH_FIRST_WRITE_FLEET", 10_000),
        ));
    }
    let binary = common::release_bin();
    if (wants("resync") || wants("rollback")) && binary.is_none() {
        println!(
            "\n[resync, rollback] skipped: target/release/shepherd is missing (build it with `cargo build --release -p shepherd`)"
        );
    }
    if let Some(binary) = &binary {
        if wants("resync") {
            let fleets = std::env::var("SHEPHERD_BENCH_RESYNC_FLEETS")
                .unwrap_or_else(|_| "1000,10000".to_owned());
            for size in fleets.split(',').filter_map(|n| n.trim().parse().ok()) {
                println!();
                runtime.block_on(resync::run(&emulator, binary, &root, size));
            }
        }
        if wants("rollback") {
            println!();
            runtime.block_on(rollback::run(
                &emulator,
                binary,
                &root,
                fleet::number("SHEPHERD_BENCH_FLEET", 1_000),
                fleet::number("SHEPHERD_BENCH_GUARDS", 8),
            ));
        }
    }
    drop(runtime);
    drop(emulator);
    println!();
    println!(
        "total time {:.0} s; the controllers and the emulator are stopped",
        started.elapsed().as_secs_f64()
    );
}
