//! Turns a spec's `code` into a deployable artifact. A local directory becomes a
//! reproducible zip (sorted entries, fixed timestamps and modes), so that the same files
//! always give the same `CodeSha256` and an unchanged function is never redeployed.

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use sha2::{Digest, Sha256};
use shepherd_core::model::CodeArtifact;
use shepherd_core::spec::CodeSource;
use shepherd_core::validate::ValidFunction;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Lambda's limit for a zip sent inline with the request.
pub const MAX_INLINE_ZIP_BYTES: usize = 50 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot build the zip of {path}: {source}")]
    Zip {
        path: PathBuf,
        source: zip::result::ZipError,
    },
    #[error(
        "{path} packs to {size} bytes, above Lambda's {MAX_INLINE_ZIP_BYTES}-byte limit for direct upload; publish it to S3 and use code.s3"
    )]
    TooLarge { path: PathBuf, size: usize },
}

/// The artifact for a validated function: S3 and image sources as they are, local paths
/// read and zipped.
pub fn artifact(function: &ValidFunction) -> Result<CodeArtifact, PackageError> {
    match function.document.spec.code.source() {
        Some(CodeSource::S3(s3)) => Ok(CodeArtifact::S3 {
            bucket: s3.bucket.clone(),
            key: s3.key.clone(),
            object_version: s3.object_version.clone(),
        }),
        Some(CodeSource::Image(uri)) => Ok(CodeArtifact::Image {
            uri: uri.to_owned(),
        }),
        Some(CodeSource::Path(path)) => {
            let base = function.file.parent().unwrap_or(Path::new(""));
            local_artifact(&base.join(path))
        }
        // Validation guarantees exactly one source; report rather than panic if not.
        None => Err(PackageError::Read {
            path: function.file.clone(),
            source: std::io::Error::other("the spec has no code source"),
        }),
    }
}

/// Zips a directory, or reads a zip file.
pub fn local_artifact(path: &Path) -> Result<CodeArtifact, PackageError> {
    let read_error = |source| PackageError::Read {
        path: path.to_owned(),
        source,
    };
    let bytes = if path.is_dir() {
        zip_directory(path)?
    } else {
        fs::read(path).map_err(read_error)?
    };
    if bytes.len() > MAX_INLINE_ZIP_BYTES {
        return Err(PackageError::TooLarge {
            path: path.to_owned(),
            size: bytes.len(),
        });
    }
    Ok(CodeArtifact::Zip {
        sha256: sha256_base64(&bytes),
        bytes: Arc::new(bytes),
    })
}

/// The base64 SHA-256, the form Lambda reports as `CodeSha256`.
pub fn sha256_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

fn files_under(root: &Path) -> Result<Vec<(String, PathBuf)>, PackageError> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = fs::read_dir(&dir).map_err(|source| PackageError::Read {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| PackageError::Read {
                path: dir.clone(),
                source,
            })?;
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.push((relative, path));
            }
        }
    }
    files.sort();
    Ok(files)
}

fn zip_directory(root: &Path) -> Result<Vec<u8>, PackageError> {
    let zip_error = |source| PackageError::Zip {
        path: root.to_owned(),
        source,
    };
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    for (name, path) in files_under(root)? {
        let contents = fs::read(&path).map_err(|source| PackageError::Read {
            path: path.clone(),
            source,
        })?;
        let executable = is_executable(&path);
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default())
            .unix_permissions(if executable { 0o755 } else { 0o644 });
        writer.start_file(name, options).map_err(zip_error)?;
        writer
            .write_all(&contents)
            .map_err(|source| PackageError::Read { path, source })?;
    }
    let cursor = writer.finish().map_err(zip_error)?;
    Ok(cursor.into_inner())
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(_: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_reproducible_and_content_addressed() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("lib")).unwrap();
        fs::write(dir.path().join("app.py"), "def handler(e, c): return 1\n").unwrap();
        fs::write(dir.path().join("lib/util.py"), "X = 1\n").unwrap();
        let first = local_artifact(dir.path()).unwrap();
        let second = local_artifact(dir.path()).unwrap();
        assert_eq!(first, second);
        fs::write(dir.path().join("lib/util.py"), "X = 2\n").unwrap();
        let changed = local_artifact(dir.path()).unwrap();
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
}
