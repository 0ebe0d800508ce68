//! The spec repository: a git repository (https, ssh, a local path or `file://` URL) read
//! with the git command line, as Argo CD does, or a plain folder for development.

use std::path::{Path, PathBuf};

use shepherd_core::model::Owner;
use shepherd_core::source::confine::repository_top;
use tokio::process::Command;

/// Where the specs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceConfig {
    /// A folder, read as it is on every sync: the specs in `path` inside `root`.
    Directory { root: PathBuf, path: PathBuf },
    /// A git repository, checked out into `checkout`.
    Git {
        url: String,
        branch: String,
        /// The folder of the repository that holds the specs.
        path: PathBuf,
        checkout: PathBuf,
    },
}

/// The specs at one point in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The folder to read specs from.
    pub root: PathBuf,
    /// The commit, for git sources.
    pub commit: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("git {args}: {message}")]
    Git { args: String, message: String },
    #[error("cannot run git: {0}")]
    Spawn(std::io::Error),
}

async fn git(dir: Option<&Path>, args: &[&str]) -> Result<String, SourceError> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    // Never prompt for credentials: a controller has nobody to answer.
    command.env("GIT_TERMINAL_PROMPT", "0").args(args);
    let output = command.output().await.map_err(SourceError::Spawn)?;
    if !output.status.success() {
        return Err(SourceError::Git {
            args: args.join(" "),
            message: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// The default owner of specs in a local folder: the folder's repository (its `origin`
/// remote, else its path) and the folder inside it, so that a CLI run in a clone and the
/// controller that follows the repository derive the same owner. A folder outside git
/// is owned by its own path.
pub fn folder_owner(dir: &Path) -> Owner {
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
    let Some(top) = repository_top(&dir) else {
        return Owner::derive(&dir.to_string_lossy(), "");
    };
    let origin = std::process::Command::new("git")
        .arg("-C")
        .arg(&top)
        .args(["config", "--get", "remote.origin.url"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|url| !url.is_empty());
    let repository = origin.unwrap_or_else(|| top.to_string_lossy().into_owned());
    let folder = dir
        .strip_prefix(&top)
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    Owner::derive(&repository, &folder)
}

/// `folder` inside `root`, without a `./` that would show in every file name.
fn within(root: &Path, folder: &Path) -> PathBuf {
    if folder == Path::new(".") || folder.as_os_str().is_empty() {
        root.to_owned()
    } else {
        root.join(folder)
    }
}

impl SourceConfig {
    /// The same source for one target of several: a git checkout of the target's own
    /// (each target's loop fetches on its own schedule), a folder as it is.
    pub fn for_target(&self, target: &str) -> Self {
        match self {
            SourceConfig::Git {
                url,
                branch,
                path,
                checkout,
            } => {
                let mut own = checkout.clone().into_os_string();
                own.push(format!("-{target}"));
                SourceConfig::Git {
                    url: url.clone(),
                    branch: branch.clone(),
                    path: path.clone(),
                    checkout: own.into(),
                }
            }
            directory => directory.clone(),
        }
    }

    /// The owner this source's functions get unless one is configured.
    pub fn default_owner(&self) -> Owner {
        match self {
            SourceConfig::Directory { root, path } => folder_owner(&root.join(path)),
            SourceConfig::Git { url, path, .. } => Owner::derive(url, &path.to_string_lossy()),
        }
    }

    /// The folder that code paths must stay inside: the whole checkout for git; for a
    /// folder, the top of the git repository holding it, else the folder itself (as for
    /// `shepherd apply`).
    pub fn root(&self) -> PathBuf {
        match self {
            SourceConfig::Directory { root, .. } => {
                repository_top(root).unwrap_or_else(|| root.clone())
            }
            SourceConfig::Git { checkout, .. } => checkout.clone(),
        }
    }

    /// Brings the checkout up to date (clone, or fetch and reset) and says where the specs
    /// are and at which commit.
    pub async fn sync(&self) -> Result<Snapshot, SourceError> {
        match self {
            SourceConfig::Directory { root, path } => Ok(Snapshot {
                root: within(root, path),
                commit: None,
            }),
            SourceConfig::Git {
                url,
                branch,
                path,
                checkout,
            } => {
                if checkout.join(".git").exists() {
                    git(
                        Some(checkout),
                        &["fetch", "--quiet", "--depth", "1", "origin", branch],
                    )
                    .await?;
                    git(
                        Some(checkout),
                        &["reset", "--quiet", "--hard", "FETCH_HEAD"],
                    )
                    .await?;
                } else {
                    if let Some(parent) = checkout.parent() {
                        std::fs::create_dir_all(parent).map_err(SourceError::Spawn)?;
                    }
                    let target = checkout.to_string_lossy().into_owned();
                    git(
                        None,
                        &[
                            "clone",
                            "--quiet",
                            "--depth",
                            "1",
                            "--branch",
                            branch,
                            "--single-branch",
                            url,
                            &target,
                        ],
                    )
                    .await?;
                }
                let commit = git(Some(checkout), &["rev-parse", "HEAD"]).await?;
                Ok(Snapshot {
                    root: within(checkout, path),
                    commit: Some(commit),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) {
        let status = std::process::Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    #[tokio::test]
    async fn clones_then_follows_new_commits() {
        let upstream = tempfile::tempdir().unwrap();
        run(
            upstream.path(),
            &["init", "--quiet", "--initial-branch", "main"],
        );
        std::fs::create_dir_all(upstream.path().join("specs")).unwrap();
        std::fs::write(upstream.path().join("specs/a.yaml"), "a: 1\n").unwrap();
        run(upstream.path(), &["add", "."]);
        run(upstream.path(), &["commit", "--quiet", "-m", "first"]);
        let work = tempfile::tempdir().unwrap();
        let source = SourceConfig::Git {
            url: format!("file://{}", upstream.path().display()),
            branch: "main".into(),
            path: "specs".into(),
            checkout: work.path().join("checkout"),
        };
        let first = source.sync().await.unwrap();
        assert!(first.root.join("a.yaml").exists());
        std::fs::write(upstream.path().join("specs/b.yaml"), "b: 1\n").unwrap();
        run(upstream.path(), &["add", "."]);
        run(upstream.path(), &["commit", "--quiet", "-m", "second"]);
        let second = source.sync().await.unwrap();
        assert_ne!(first.commit, second.commit);
        assert!(second.root.join("b.yaml").exists());
    }
}
