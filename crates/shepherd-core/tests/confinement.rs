//! Local code stays inside the spec source: every way a spec repository's author could
//! make shepherd ship a host file is a located validation error, offline.

mod common;

use std::os::unix::fs::symlink;
use std::path::Path;

use common::{Scratch, Spec, render};
use shepherd_core::lint::LintConfig;
use shepherd_core::source::confine::{Walk, code_files, resolve_code_path};

/// A spec in `repo/specs/` with `code.path` set, validated with `repo/` as the root.
fn check(scratch: &Scratch, path: &str) -> Vec<String> {
    let text = Spec::base()
        .remove("spec.code.s3")
        .set("spec.code.path", &format!("\"{path}\""))
        .text();
    let file = scratch.write("repo/specs/fn.yaml", text);
    let root = scratch.path().join("repo");
    let report = shepherd_core::check_specs_within(&[file], Some(&root), &LintConfig::default());
    report.diagnostics.iter().map(render).collect()
}

fn canonical(path: &Path) -> String {
    std::fs::canonicalize(path).unwrap().display().to_string()
}

/// A repository with code, a git folder with a token, and a secret beside it.
fn repository() -> Scratch {
    let scratch = Scratch::new();
    scratch.write("repo/app/handler.py", "def handler(e, c): pass\n");
    scratch.write(
        "repo/.git/config",
        "[remote \"origin\"]\n\turl = https://x:ghp_token@github.com/acme/specs\n",
    );
    scratch.write(
        "home/.aws/credentials",
        "[default]\naws_secret_access_key = x\n",
    );
    scratch
}

#[test]
fn paths_that_leave_the_root_are_refused() {
    let scratch = repository();
    let root = canonical(&scratch.path().join("repo"));
    let home = canonical(&scratch.path().join("home"));
    for (path, expected) in [
        (
            "../../home/.aws".to_owned(),
            format!(
                "\"../../home/.aws\" is outside the spec source ({root}); local code must be inside it"
            ),
        ),
        (
            "../../../../../../../../etc/apt".to_owned(),
            format!(
                "\"../../../../../../../../etc/apt\" is outside the spec source ({root}); local code must be inside it"
            ),
        ),
        (
            format!("{home}/.aws"),
            format!(
                "\"{home}/.aws\" is an absolute path; local code is named relative to the spec file and stays inside the spec source ({})",
                scratch.path().join("repo").display()
            ),
        ),
    ] {
        assert_eq!(
            check(&scratch, &path),
            [format!("7:11: spec.code.path: {expected}")],
            "{path}"
        );
    }
}

#[test]
fn the_git_folder_is_never_code() {
    let scratch = repository();
    assert_eq!(
        check(&scratch, "../.git"),
        [
            "7:11: spec.code.path: \"../.git\" is inside a git folder, which is never packaged (it may hold the checkout's credentials)"
        ]
    );
    // The whole repository would ship .git/config, with the token of an https source.
    assert_eq!(
        check(&scratch, ".."),
        [
            "7:11: spec.code.path: \"..\": .git: a git folder is never packaged (it may hold the checkout's credentials); point code.path at the code itself"
        ]
    );
}

#[test]
fn links_that_lead_outside_are_refused_at_any_depth() {
    let scratch = repository();
    let credentials = scratch.path().join("home/.aws/credentials");
    let app = scratch.path().join("repo/app");
    std::fs::create_dir_all(app.join("lib/deep")).unwrap();
    symlink(&credentials, app.join("lib/deep/creds.txt")).unwrap();
    assert_eq!(
        check(&scratch, "../app"),
        [format!(
            "7:11: spec.code.path: \"../app\": lib/deep/creds.txt is a symbolic link to {}, which is outside the spec source ({}); local code must be inside it",
            canonical(&credentials),
            canonical(&scratch.path().join("repo"))
        )]
    );
    std::fs::remove_file(app.join("lib/deep/creds.txt")).unwrap();

    // A link to a folder outside, and code.path itself a link.
    symlink(scratch.path().join("home"), app.join("home")).unwrap();
    assert!(check(&scratch, "../app")[0].contains("home is a symbolic link to"));
    std::fs::remove_file(app.join("home")).unwrap();
    symlink(
        scratch.path().join("home/.aws"),
        scratch.path().join("repo/aws"),
    )
    .unwrap();
    assert!(
        check(&scratch, "../aws")[0].contains("\"../aws\" is a symbolic link to"),
        "{:?}",
        check(&scratch, "../aws")
    );

    // A committed link to a device, and a dangling link that points outside.
    symlink("/dev/zero", app.join("zero")).unwrap();
    assert!(
        check(&scratch, "../app")[0]
            .contains("zero is a symbolic link to /dev/zero, which is outside")
    );
    std::fs::remove_file(app.join("zero")).unwrap();
    symlink("../../../nowhere/at/all", app.join("gone")).unwrap();
    assert!(check(&scratch, "../app")[0].contains("gone is a symbolic link to"));
}

#[test]
fn links_inside_the_root_are_fine() {
    let scratch = repository();
    let app = scratch.path().join("repo/app");
    scratch.write("repo/shared/util.py", "X = 1\n");
    symlink(scratch.path().join("repo/shared"), app.join("shared")).unwrap();
    symlink("handler.py", app.join("main.py")).unwrap();
    assert_eq!(check(&scratch, "../app"), Vec::<String>::new());
    let root = scratch.path().join("repo");
    let real = resolve_code_path(&root, &root.join("specs"), "../app").unwrap();
    let names: Vec<String> = code_files(&root, &real, Walk::Packaging)
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert_eq!(names, ["handler.py", "main.py", "shared/util.py"]);
}

#[test]
fn loops_and_special_files_are_left_to_packaging_which_refuses_them() {
    let scratch = repository();
    let root = scratch.path().join("repo");
    let app = root.join("app");
    symlink(&app, app.join("again")).unwrap();
    // Validation only checks where links lead: the loop stays inside the root.
    assert_eq!(check(&scratch, "../app"), Vec::<String>::new());
    let real = resolve_code_path(&root, &root.join("specs"), "../app").unwrap();
    let error = code_files(&root, &real, Walk::Packaging).unwrap_err();
    assert!(
        error.contains("again is reached twice through symbolic links"),
        "{error}"
    );
    std::fs::remove_file(app.join("again")).unwrap();

    let fifo = app.join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let error = code_files(&root, &real, Walk::Packaging).unwrap_err();
    assert_eq!(
        error,
        "pipe is not a regular file (a FIFO, socket or device); it cannot be packaged"
    );
}

#[test]
fn by_default_the_root_is_the_repository_or_else_the_folder_given() {
    let scratch = repository();
    scratch.write("plain/app/handler.py", "def handler(e, c): pass\n");
    let text = Spec::base()
        .remove("spec.code.s3")
        .set("spec.code.path", "../app")
        .text();
    let inside_git = scratch.write("repo/specs/fn.yaml", text.clone());
    let outside_git = scratch.write("plain/specs/fn.yaml", text);
    let rendered = |file| -> Vec<String> {
        let report = shepherd_core::check_specs(&[file], &LintConfig::default());
        report.diagnostics.iter().map(render).collect()
    };
    assert_eq!(
        rendered(inside_git),
        Vec::<String>::new(),
        "the repository is the root"
    );
    let outside = rendered(outside_git);
    assert_eq!(outside.len(), 1, "{outside:?}");
    assert!(
        outside[0].contains("is outside the spec source"),
        "{outside:?}"
    );
}
