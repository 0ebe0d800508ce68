use std::io::Cursor;
use std::os::unix::fs::symlink;
use std::sync::mpsc;

use super::*;

fn write(root: &Path, name: &str, contents: &[u8]) {
    let path = root.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn package(root: &Path, limits: &PackageLimits) -> Result<CodeArtifact, PackageError> {
    package_path(root, root, "app", limits)
}

/// Bytes that deflate cannot shrink: a zip of them is about as big as they are.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn zips_are_reproducible_and_content_addressed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app/app.py", b"def handler(e, c): return 1\n");
    write(root, "app/lib/util.py", b"X = 1\n");
    let limits = PackageLimits::default();
    let first = package(root, &limits).unwrap();
    let second = package(root, &limits).unwrap();
    assert_eq!(first, second);
    write(root, "app/lib/util.py", b"X = 2\n");
    let changed = package(root, &limits).unwrap();
    assert_ne!(first.known_sha256(), changed.known_sha256());
    let CodeArtifact::Zip { bytes, .. } = changed else {
        panic!("a directory packs to a zip");
    };
    let archive = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
    let names: Vec<_> = archive.file_names().collect();
    assert!(
        names.contains(&"app.py") && names.contains(&"lib/util.py"),
        "{names:?}"
    );
}

#[test]
fn a_fifo_is_refused_and_never_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_owned();
    write(&root, "app/app.py", b"x = 1\n");
    let fifo = root.join("app/pipe");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (done, finished) = mpsc::channel();
    let walked = root.clone();
    std::thread::spawn(move || {
        let _ = done.send(package(&walked, &PackageLimits::default()));
    });
    let result = finished
        .recv_timeout(Duration::from_secs(10))
        .expect("packaging a folder with a FIFO returns");
    let error = result.unwrap_err().to_string();
    assert!(error.contains("pipe is not a regular file"), "{error}");

    // Swapped in after the walk, a FIFO is still not read: it is seen for what it is once
    // open, without waiting for a writer.
    let as_walked = CodeFile {
        name: "pipe".to_owned(),
        path: fifo.clone(),
        len: 0,
        modified: None,
        inode: (0, 0),
        mode: 0o644,
    };
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(
            open_regular(&as_walked)
                .map(|_| ())
                .map_err(|e| e.to_string()),
        );
    });
    let opened = finished
        .recv_timeout(Duration::from_secs(10))
        .expect("opening a FIFO returns at once");
    assert!(opened.unwrap_err().contains("not a regular file"));
}

#[test]
fn a_link_swapped_in_after_the_walk_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "secret", b"credentials\n");
    write(root, "app/app.py", b"x = 1\n");
    let walked = CodeFile {
        name: "app.py".to_owned(),
        path: root.join("app/app.py"),
        len: 6,
        modified: None,
        inode: (0, 0),
        mode: 0o644,
    };
    fs::remove_file(root.join("app/app.py")).unwrap();
    symlink(root.join("secret"), root.join("app/app.py")).unwrap();
    assert!(open_regular(&walked).is_err());
}

#[test]
fn symlink_loops_are_an_error_not_an_endless_walk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app/a/x.py", b"x = 1\n");
    // Two links to the same folder at every level: an exponential walk if followed.
    for level in ["app", "app/a"] {
        symlink(root.join("app/a"), root.join(level).join("l1")).unwrap();
        symlink(root.join("app/a"), root.join(level).join("l2")).unwrap();
    }
    let error = package(root, &PackageLimits::default())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("is reached twice through symbolic links"),
        "{error}"
    );
}

#[test]
fn the_unzipped_limit_is_checked_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app/big.bin", &vec![0u8; 4096]);
    let limits = PackageLimits {
        max_unzipped_bytes: 4095,
        ..PackageLimits::default()
    };
    assert_eq!(
        package(root, &limits).unwrap_err(),
        PackageError::TooLarge {
            path: root.join("app").display().to_string(),
            what: UNZIPPED,
            limit: 4095,
        }
    );
}

#[test]
fn the_zipped_limit_stops_the_zip_as_it_grows() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app/a.bin", &noise(64 * 1024));
    write(root, "app/b.bin", &noise(64 * 1024));
    let limits = PackageLimits {
        max_zipped_bytes: 80 * 1024,
        ..PackageLimits::default()
    };
    let error = package(root, &limits).unwrap_err();
    assert!(
        matches!(error, PackageError::TooLarge { what: ZIPPED, limit, .. } if limit == 80 * 1024),
        "{error:?}"
    );
    // A zip file named directly is held to the same limit, unread.
    write(root, "dist/app.zip", &noise(100 * 1024));
    let error = package_path(root, root, "dist/app.zip", &limits).unwrap_err();
    assert!(
        matches!(error, PackageError::TooLarge { what: ZIPPED, .. }),
        "{error:?}"
    );
}

#[test]
fn a_package_that_takes_too_long_is_abandoned() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app/a.py", b"x = 1\n");
    let limits = PackageLimits {
        time_limit: Duration::ZERO,
        ..PackageLimits::default()
    };
    assert!(matches!(
        package(root, &limits).unwrap_err(),
        PackageError::TimedOut { .. }
    ));
}

#[test]
fn an_unchanged_folder_is_not_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "app/app.py", b"x = 1\n");
    let cache = PackageCache::default();
    let limits = PackageLimits::default();
    let cached = || cache.package_path(root, root, "app", &limits);
    let first = cached().unwrap();

    // Same size, same time, same inode: the files are taken as unchanged, so the cached
    // package comes back and the new bytes are not read.
    let path = root.join("app/app.py");
    let modified = fs::metadata(&path).unwrap().modified().unwrap();
    fs::write(&path, b"x = 2\n").unwrap();
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    assert_eq!(cached().unwrap(), first);

    // A new time is a change: packaged again.
    File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(modified + Duration::from_secs(1))
        .unwrap();
    assert_ne!(cached().unwrap(), first);
    assert_ne!(package(root, &limits).unwrap(), first);
}
