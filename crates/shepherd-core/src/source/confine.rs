//! Local code stays inside the spec source's root.
//!
//! The spec repository is written by many people and read by a controller that holds
//! credentials: a `code.path` must never make it ship one of the host's files. The root is
//! the folder given to `validate`/`plan`/`apply` (by default the top of the git repository
//! that holds it) or the controller's checkout. Refused:
//! - absolute paths, and `..` that leaves the root;
//! - a path that is, or holds, a symbolic link resolving outside the root (every entry of
//!   a code folder is checked, not just the top);
//! - anything inside a `.git` folder (a checkout's `.git/config` may hold its token).
//!
//! [`Walk::Confinement`] is what validation checks offline. Packaging walks again with
//! [`Walk::Packaging`], which also refuses what cannot be packaged: dangling links, link
//! loops, FIFOs, devices and sockets.

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::time::SystemTime;

/// The folder that holds `.git` at or above `dir`: the top of its work tree.
pub fn repository_top(dir: &Path) -> Option<PathBuf> {
    let dir = fs::canonicalize(dir).ok()?;
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The root of specs given as `path`: its repository's top, else the folder itself (the
/// file's folder for a file).
pub fn default_root(path: &Path) -> PathBuf {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent().unwrap_or(Path::new("."))
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    repository_top(dir).unwrap_or_else(|| fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned()))
}

/// How strict a walk of local code is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Walk {
    /// Only where every entry leads: what validation checks.
    Confinement,
    /// Also that every entry can be packaged: regular files and folders, no dangling link,
    /// no folder reached twice.
    Packaging,
}

/// A file of a code folder, as the walk found it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeFile {
    /// Its name in the zip: the path inside the code folder, `/`-separated.
    pub name: String,
    /// Where its bytes are, every link resolved (inside the root).
    pub path: PathBuf,
    pub len: u64,
    pub modified: Option<SystemTime>,
    /// Device and inode, and the mode, when the platform has them: part of the identity
    /// that tells whether the folder changed since it was last packaged.
    pub inode: (u64, u64),
    pub mode: u32,
}

/// Resolves a spec's `code.path` (relative to `spec_dir`) to the real path of the code,
/// refusing anything outside `root`.
pub fn resolve_code_path(root: &Path, spec_dir: &Path, path: &str) -> Result<PathBuf, String> {
    let written = Path::new(path);
    if written.is_absolute() {
        return Err(format!(
            "\"{path}\" is an absolute path; local code is named relative to the spec file and stays inside the spec source ({})",
            root.display()
        ));
    }
    let root = canonical_root(root)?;
    let real_dir = fs::canonicalize(non_empty(spec_dir))
        .map_err(|e| format!("cannot read the spec's folder: {e}"))?;
    let lexical = normalize(&real_dir.join(written));
    check_inside(&root, &lexical).map_err(|why| format!("\"{path}\" {why}"))?;
    let real = match fs::canonicalize(&lexical) {
        Ok(real) => real,
        Err(_) => {
            return Err(format!(
                "\"{path}\" does not exist (paths are relative to the spec file's folder, {})",
                display_dir(spec_dir)
            ));
        }
    };
    check_inside(&root, &real).map_err(|why| {
        format!(
            "\"{path}\" is a symbolic link to {}, which {why}",
            real.display()
        )
    })?;
    Ok(real)
}

/// Every file of the code at `real` (a folder or one file, as [`resolve_code_path`] found
/// it), sorted by name, each checked as `walk` says.
pub fn code_files(root: &Path, real: &Path, walk: Walk) -> Result<Vec<CodeFile>, String> {
    let root = canonical_root(root)?;
    let meta = fs::metadata(real).map_err(|e| format!("cannot read {}: {e}", real.display()))?;
    if !meta.is_dir() {
        let name = real
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![code_file(name, real.to_owned(), &meta, walk)?]);
    }
    let mut files = Vec::new();
    let mut visited = HashSet::new();
    // (folder's real path, its name inside the zip)
    let mut pending = vec![(real.to_owned(), String::new())];
    while let Some((dir, prefix)) = pending.pop() {
        if !visited.insert(dir.clone()) {
            if walk == Walk::Packaging {
                return Err(format!(
                    "{} is reached twice through symbolic links (a link loop, or two links to one folder)",
                    shown(&prefix)
                ));
            }
            continue;
        }
        let mut entries: Vec<_> = fs::read_dir(&dir)
            .map_err(|e| format!("cannot read {}: {e}", shown(&prefix)))?
            .collect::<Result<_, _>>()
            .map_err(|e| format!("cannot read {}: {e}", shown(&prefix)))?;
        entries.sort_by_key(fs::DirEntry::file_name);
        for entry in entries {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let name = if prefix.is_empty() {
                file_name.clone()
            } else {
                format!("{prefix}/{file_name}")
            };
            if file_name == ".git" {
                return Err(format!(
                    "{name}: a git folder is never packaged (it may hold the checkout's credentials); point code.path at the code itself"
                ));
            }
            let path = entry.path();
            let lstat =
                fs::symlink_metadata(&path).map_err(|e| format!("cannot read {name}: {e}"))?;
            let (real, meta) = if lstat.file_type().is_symlink() {
                match follow(&root, &path) {
                    Ok(found) => found,
                    Err(Followed::Outside(target, why)) => {
                        return Err(format!(
                            "{name} is a symbolic link to {}, which {why}",
                            target.display()
                        ));
                    }
                    Err(Followed::Dangling(target)) => {
                        if walk == Walk::Packaging {
                            return Err(format!(
                                "{name} is a symbolic link to {}, which does not exist",
                                target.display()
                            ));
                        }
                        continue;
                    }
                }
            } else {
                (path, lstat)
            };
            if meta.is_dir() {
                pending.push((real, name));
            } else {
                files.push(code_file(name, real, &meta, walk)?);
            }
        }
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

fn code_file(
    name: String,
    path: PathBuf,
    meta: &fs::Metadata,
    walk: Walk,
) -> Result<CodeFile, String> {
    if walk == Walk::Packaging && !meta.is_file() {
        return Err(format!(
            "{name} is not a regular file (a FIFO, socket or device); it cannot be packaged"
        ));
    }
    Ok(CodeFile {
        name,
        path,
        len: meta.len(),
        modified: meta.modified().ok(),
        inode: inode(meta),
        mode: mode(meta),
    })
}

#[cfg(unix)]
fn inode(meta: &fs::Metadata) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

#[cfg(not(unix))]
fn inode(_: &fs::Metadata) -> (u64, u64) {
    (0, 0)
}

#[cfg(unix)]
fn mode(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::MetadataExt;
    meta.mode()
}

#[cfg(not(unix))]
fn mode(_: &fs::Metadata) -> u32 {
    0
}

enum Followed {
    /// Resolves outside the root: where, and why that is refused.
    Outside(PathBuf, String),
    /// Leads nowhere: where it points.
    Dangling(PathBuf),
}

/// Where a symbolic link leads, every link on the way resolved.
fn follow(root: &Path, link: &Path) -> Result<(PathBuf, fs::Metadata), Followed> {
    match fs::canonicalize(link) {
        Ok(real) => {
            check_inside(root, &real).map_err(|why| Followed::Outside(real.clone(), why))?;
            let meta = fs::metadata(&real).map_err(|_| Followed::Dangling(real.clone()))?;
            Ok((real, meta))
        }
        Err(_) => {
            // A dangling link may still point outside: say so rather than "missing".
            let target = fs::read_link(link).unwrap_or_default();
            let lexical = normalize(&link.parent().unwrap_or(root).join(&target));
            match check_inside(root, &lexical) {
                Err(why) => Err(Followed::Outside(lexical, why)),
                Ok(()) => Err(Followed::Dangling(target)),
            }
        }
    }
}

/// Why `path` (absolute, normalized) is refused, if it is.
fn check_inside(root: &Path, path: &Path) -> Result<(), String> {
    let Ok(inside) = path.strip_prefix(root) else {
        return Err(format!(
            "is outside the spec source ({}); local code must be inside it",
            root.display()
        ));
    };
    if inside.components().any(|c| c.as_os_str() == ".git") {
        return Err("is inside a git folder, which is never packaged (it may hold the checkout's credentials)".to_owned());
    }
    Ok(())
}

fn canonical_root(root: &Path) -> Result<PathBuf, String> {
    fs::canonicalize(non_empty(root))
        .map_err(|e| format!("cannot read the spec source's root {}: {e}", root.display()))
}

fn non_empty(path: &Path) -> &Path {
    if path.as_os_str().is_empty() {
        Path::new(".")
    } else {
        path
    }
}

/// Removes `.` and resolves `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn shown(prefix: &str) -> &str {
    if prefix.is_empty() {
        "the code folder"
    } else {
        prefix
    }
}

fn display_dir(dir: &Path) -> String {
    if dir.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        dir.display().to_string()
    }
}
