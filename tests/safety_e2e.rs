//! End to end against the local AWS emulator: what a hostile or careless spec repository,
//! a second spec source or a failing AWS call must never make shepherd do. No function the
//! specs still name is deleted, no host file is packaged, one bad file never stalls the
//! controller.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::controller::Running;
use support::proxy::{Fault, FaultProxy};
use support::{Emulator, copy_tree, git_init, shepherd, stderr, stdout};

/// examples/ in a git repository of its own (the root local code stays inside).
fn example_repo() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    git_init(dir.path());
    copy_tree(
        &support::repo().join("examples/specs"),
        &dir.path().join("specs"),
    );
    copy_tree(
        &support::repo().join("examples/app"),
        &dir.path().join("app"),
    );
    let specs = dir.path().join("specs");
    (dir, specs)
}

fn explain(output: &std::process::Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", stdout(output), stderr(output))
}

/// The functions in the emulator: name, memory, owner tag.
fn functions(emulator: &Emulator) -> Vec<String> {
    let mut lines: Vec<String> = emulator
        .setup(&["functions"])
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

fn names(emulator: &Emulator) -> Vec<String> {
    functions(emulator)
        .iter()
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

/// A fourth function, `old-job`, applied, then left out of the specs.
fn apply_with_a_function_to_prune(emulator: &Emulator, specs: &Path) {
    let nightly = specs.join("functions/nightly-report.yaml");
    let old = specs.join("functions/old-job.yaml");
    let text = std::fs::read_to_string(&nightly)
        .unwrap()
        .replace("name: nightly-report", "name: old-job")
        .replace(
            "\n  alarms:\n    errors:\n      threshold: 1\n      period: 5m\n",
            "\n",
        );
    std::fs::write(&old, text).unwrap();
    let apply = shepherd(&emulator.endpoint, &["apply", "."], specs);
    assert_eq!(apply.status.code(), Some(0), "{}", explain(&apply));
    std::fs::remove_file(old).unwrap();
    assert_eq!(
        names(emulator),
        ["invoice-worker", "nightly-report", "old-job", "orders-api"]
    );
}

#[test]
fn the_controller_with_prune_deletes_only_what_the_specs_dropped() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let (_dir, specs) = example_repo();
    // The emulator reports a mapping made on an alias as made on the alias's version, so
    // every full refresh would see (and correct) a difference real AWS never shows: this
    // test is about prune, so its invoice-worker has no event source.
    let worker = specs.join("functions/invoice-worker.yaml");
    let text = std::fs::read_to_string(&worker).unwrap();
    let (head, rest) = text.split_once("  eventSources:\n").unwrap();
    let (_, tail) = rest.split_once("  alarms:\n").unwrap();
    std::fs::write(&worker, format!("{head}  alarms:\n{tail}")).unwrap();
    let apply = shepherd(&emulator.endpoint, &["apply", "."], &specs);
    assert_eq!(apply.status.code(), Some(0), "{}", explain(&apply));

    let source = specs.to_str().unwrap();
    let args = [
        "--source",
        source,
        "--prune",
        "--poll-interval",
        "2s",
        "--resync-interval",
        "2s",
        "--full-refresh-interval",
        "4s",
    ];
    let controller = Running::start(&emulator.endpoint, &args, &[], Duration::from_secs(60));
    // Several resyncs, full refreshes and prune steps.
    std::thread::sleep(Duration::from_secs(10));
    assert_eq!(
        names(&emulator),
        ["invoice-worker", "nightly-report", "orders-api"]
    );
    let (_, body) = controller.get("/api/v1/functions");
    let listed: serde_json::Value = serde_json::from_str(&body).unwrap();
    for function in listed.as_array().unwrap() {
        assert_eq!(function["lastResult"], "unchanged", "{function}");
    }

    // A function dropped from the specs is pruned.
    std::fs::remove_file(specs.join("functions/invoice-worker.yaml")).unwrap();
    controller.wait_for("invoice-worker pruned", Duration::from_secs(30), |_| {
        names(&emulator) == ["nightly-report", "orders-api"]
    });
    controller.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_prune_never_deletes_a_function_that_failed_to_package_or_to_be_read() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let (_dir, specs) = example_repo();
    apply_with_a_function_to_prune(&emulator, &specs);
    let all = ["invoice-worker", "nightly-report", "old-job", "orders-api"];

    // nightly-report's code cannot be packaged: a dangling link in its folder.
    let link = specs.join("../app/nightly-report/gone.py");
    std::os::unix::fs::symlink("missing.py", &link).unwrap();
    let endpoint = emulator.endpoint.clone();
    let dir = specs.clone();
    let apply =
        tokio::task::spawn_blocking(move || shepherd(&endpoint, &["apply", ".", "--prune"], &dir))
            .await
            .unwrap();
    assert_eq!(apply.status.code(), Some(1), "{}", explain(&apply));
    let out = stdout(&apply);
    assert!(
        out.contains("gone.py is a symbolic link to missing.py, which does not exist"),
        "{}",
        explain(&apply)
    );
    assert!(out.contains("nothing pruned"), "{}", explain(&apply));
    assert_eq!(names(&emulator), all);
    std::fs::remove_file(link).unwrap();

    // GetFunction answers 500 for the first function read, until retries run out.
    let proxy = FaultProxy::start(&emulator.endpoint).await;
    proxy.inject(&[Fault::ServerError; 8]);
    let endpoint = proxy.endpoint.clone();
    let dir = specs.clone();
    let apply = tokio::task::spawn_blocking(move || {
        shepherd(
            &endpoint,
            &["apply", ".", "--prune", "--concurrency", "1"],
            &dir,
        )
    })
    .await
    .unwrap();
    assert_eq!(apply.status.code(), Some(1), "{}", explain(&apply));
    assert!(stdout(&apply).contains("HTTP 500"), "{}", explain(&apply));
    assert!(
        stdout(&apply).contains("nothing pruned"),
        "{}",
        explain(&apply)
    );
    assert_eq!(names(&emulator), all);

    // With every function read and packaged, the prune runs.
    let apply = shepherd(&emulator.endpoint, &["apply", ".", "--prune"], &specs);
    assert_eq!(apply.status.code(), Some(0), "{}", explain(&apply));
    assert_eq!(
        names(&emulator),
        ["invoice-worker", "nightly-report", "orders-api"]
    );
}

#[test]
fn a_second_spec_source_neither_changes_nor_prunes_the_first_ones_functions() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let (_dir, specs) = example_repo();
    let apply = shepherd(
        &emulator.endpoint,
        &["apply", ".", "--owner", "team-a"],
        &specs,
    );
    assert_eq!(apply.status.code(), Some(0), "{}", explain(&apply));

    // Another repository names orders-api too, with other settings, and prunes.
    let (_other_dir, other) = example_repo();
    for name in ["invoice-worker", "nightly-report"] {
        std::fs::remove_file(other.join(format!("functions/{name}.yaml"))).unwrap();
    }
    let orders = other.join("functions/orders-api.yaml");
    let text = std::fs::read_to_string(&orders)
        .unwrap()
        .replace("memory: 1024", "memory: 256");
    std::fs::write(&orders, text).unwrap();
    let before = functions(&emulator);
    let apply = shepherd(
        &emulator.endpoint,
        &["apply", ".", "--owner", "team-b", "--prune"],
        &other,
    );
    assert_eq!(apply.status.code(), Some(1), "{}", explain(&apply));
    assert!(
        stdout(&apply).contains("managed by shepherd for another spec source"),
        "{}",
        explain(&apply)
    );
    assert_eq!(
        functions(&emulator),
        before,
        "nothing changed, nothing pruned"
    );

    // --adopt takes orders-api over; the others stay team-a's, unpruned.
    let apply = shepherd(
        &emulator.endpoint,
        &["apply", ".", "--owner", "team-b", "--prune", "--adopt"],
        &other,
    );
    assert_eq!(apply.status.code(), Some(0), "{}", explain(&apply));
    assert_eq!(
        functions(&emulator),
        [
            "invoice-worker 512 team-a",
            "nightly-report 2048 team-a",
            "orders-api 256 team-b",
        ]
    );
}

#[test]
fn code_outside_the_repository_is_refused_before_any_aws_call() {
    let emulator = Emulator::start();
    let proxy_runtime = tokio::runtime::Runtime::new().unwrap();
    let proxy = proxy_runtime.block_on(FaultProxy::start(&emulator.endpoint));
    let (dir, specs) = example_repo();
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[default]\naws_secret_access_key = host-secret\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join(".git/config"),
        "[remote \"origin\"]\n\turl = https://x:token@example.com/specs\n",
    )
    .unwrap();
    let app = dir.path().join("app/nightly-report");
    let credentials = home.path().join(".aws/credentials");
    let spec = specs.join("functions/nightly-report.yaml");
    let original = std::fs::read_to_string(&spec).unwrap();
    let with_path = |path: &str| {
        original.replace(
            "path: ../../app/nightly-report",
            &format!("path: \"{path}\""),
        )
    };
    let home_aws = format!("{}/.aws", home.path().display());
    // (code.path, what the refusal says, a link to add to the code folder first)
    type Case<'a> = (String, &'a str, Option<(&'a str, &'a Path)>);
    let cases: Vec<Case> = vec![
        (
            "../../../../../../../../etc/apt".into(),
            "is outside the spec source",
            None,
        ),
        (home_aws, "is an absolute path", None),
        ("../..".into(), "a git folder is never packaged", None),
        (
            "../../app/nightly-report".into(),
            "creds.txt is a symbolic link to",
            Some(("creds.txt", credentials.as_path())),
        ),
        (
            "../../app/nightly-report".into(),
            "zero is a symbolic link to /dev/zero, which is outside",
            Some(("zero", Path::new("/dev/zero"))),
        ),
    ];
    for (path, refusal, link) in cases {
        std::fs::write(&spec, with_path(&path)).unwrap();
        if let Some((name, target)) = link {
            std::os::unix::fs::symlink(target, app.join(name)).unwrap();
        }
        proxy.clear();
        for command in ["validate", "apply"] {
            let output = shepherd(&proxy.endpoint, &[command, "."], &specs);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{path}: {}",
                explain(&output)
            );
            let text = stdout(&output) + &stderr(&output);
            assert!(
                text.contains("spec.code.path") && text.contains(refusal),
                "{path}: {}",
                explain(&output)
            );
            assert!(!text.contains("host-secret"));
        }
        assert!(proxy.seen().is_empty(), "{path}: {:?}", proxy.seen());
        if let Some((name, _)) = link {
            std::fs::remove_file(app.join(name)).unwrap();
        }
    }
}

#[test]
fn a_fifo_in_a_code_folder_never_stalls_the_controller() {
    let emulator = Emulator::start();
    emulator.setup(&["setup-examples"]);
    let (dir, specs) = example_repo();
    let fifo = dir.path().join("app/nightly-report/pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());

    let source = specs.to_str().unwrap();
    let controller = Running::start(
        &emulator.endpoint,
        &["--source", source, "--poll-interval", "2s"],
        &[],
        Duration::from_secs(60),
    );
    assert_eq!(controller.get("/healthz").0, 200);
    let nightly = controller.function("nightly-report");
    assert_eq!(nightly["lastResult"], "failed", "{nightly}");
    let error = nightly["lastError"].as_str().unwrap_or_default();
    assert!(error.contains("pipe is not a regular file"), "{nightly}");
    for name in ["orders-api", "invoice-worker"] {
        assert_eq!(controller.function(name)["lastResult"], "applied");
    }
    // The failure is remembered, not recomputed by reading the folder again each poll.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(controller.get("/healthz").0, 200);
    assert_eq!(
        controller.function("nightly-report")["lastResult"],
        "failed"
    );
    controller.terminate();
}
