//! Turns a spec's `code` into a deployable artifact. A local directory becomes a
//! reproducible zip (sorted entries, fixed timestamps and modes), so that the same files
//! always give the same `CodeSha256` and an unchanged function is never redeployed.
//!
//! The spec repository is untrusted, so packaging is bounded: the code must stay inside the
//! spec source (checked again here, whatever validation found earlier), only regular files
//! are read (never a FIFO, device or socket), every file is streamed into the zip and the
//! reading stops at Lambda's limits (50 MB zipped for a direct upload, 250 MB unzipped) or
//! at a time limit. [`PackageCache`] keeps the zip of a folder whose files have not changed.

use std::collections::HashMap;
use std::fs::{self, File};
use std::hash::{Hash, Hasher};
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use shepherd_core::model::CodeArtifact;
use shepherd_core::source::confine::{CodeFile, Walk, code_files, resolve_code_path};
use shepherd_core::spec::CodeSource;
use shepherd_core::validate::ValidFunction;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Lambda's limit for a zip sent inline with the request.
pub const MAX_INLINE_ZIP_BYTES: u64 = 50 * 1024 * 1024;
/// Lambda's limit for the unzipped code of a function (layers included; shepherd counts
/// the function's own files).
pub const MAX_UNZIPPED_BYTES: u64 = 250 * 1024 * 1024;
/// Longest a package may take to build: far above what Lambda's size limits need on any
/// disk, so reaching it means something is wrong with the files, not that they are big.
pub const PACKAGE_TIME_LIMIT: Duration = Duration::from_secs(120);

/// Bounds on building one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PackageLimits {
    pub max_zipped_bytes: u64,
    pub max_unzipped_bytes: u64,
    pub time_limit: Duration,
}

impl Default for PackageLimits {
    fn default() -> Self {
        Self {
            max_zipped_bytes: MAX_INLINE_ZIP_BYTES,
            max_unzipped_bytes: MAX_UNZIPPED_BYTES,
            time_limit: PACKAGE_TIME_LIMIT,
        }
    }
}

/// Why code could not be packaged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageError {
    /// The code leaves the spec source, or holds what cannot be packaged.
    #[error("{path}: {message}")]
    Refused { path: String, message: String },
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error(
        "{path} is larger than Lambda's limit of {limit} bytes {what}; publish it to S3 and use code.s3"
    )]
    TooLarge {
        path: String,
        what: &'static str,
        limit: u64,
    },
    #[error("packaging {path} took longer than {limit:?}; nothing was deployed")]
    TimedOut { path: String, limit: Duration },
    #[error("cannot build the zip of {path}: {message}")]
    Zip { path: String, message: String },
}

/// The artifact for a validated function: S3 and image sources as they are, local paths
/// read and zipped within `limits`.
pub fn artifact(
    function: &ValidFunction,
    limits: &PackageLimits,
) -> Result<CodeArtifact, PackageError> {
    match local_code(function)? {
        Local::Remote(code) => Ok(code),
        Local::Files { shown, files } => build(&shown, &files, limits),
    }
}

enum Local {
    Remote(CodeArtifact),
    /// The files of a local path (one for a zip file), checked for packaging.
    Files {
        shown: String,
        files: Vec<CodeFile>,
    },
}

fn local_code(function: &ValidFunction) -> Result<Local, PackageError> {
    let path = match function.document.spec.code.source() {
        Some(CodeSource::S3(s3)) => {
            return Ok(Local::Remote(CodeArtifact::s3(s3)));
        }
        Some(CodeSource::Image(uri)) => {
            return Ok(Local::Remote(CodeArtifact::image(uri)));
        }
        Some(CodeSource::Path(path)) => path,
        // Validation guarantees exactly one source; report rather than panic if not.
        None => {
            return Err(PackageError::Refused {
                path: function.file.display().to_string(),
                message: "the spec has no code source".to_owned(),
            });
        }
    };
    let spec_dir = function.file.parent().unwrap_or(Path::new(""));
    local_files(&function.root, spec_dir, path)
}

/// The files of a local `code.path`, checked for packaging inside `root`.
fn local_files(root: &Path, spec_dir: &Path, path: &str) -> Result<Local, PackageError> {
    let shown = spec_dir.join(path).display().to_string();
    let refused = |message| PackageError::Refused {
        path: shown.clone(),
        message,
    };
    let real = resolve_code_path(root, spec_dir, path).map_err(refused)?;
    let files = code_files(root, &real, Walk::Packaging).map_err(refused)?;
    Ok(Local::Files { shown, files })
}

/// Packages a local `code.path` (relative to `spec_dir`, inside `root`) within `limits`.
pub fn package_path(
    root: &Path,
    spec_dir: &Path,
    path: &str,
    limits: &PackageLimits,
) -> Result<CodeArtifact, PackageError> {
    match local_files(root, spec_dir, path)? {
        Local::Remote(code) => Ok(code),
        Local::Files { shown, files } => build(&shown, &files, limits),
    }
}

/// Builds the package of checked files: a zip file as it is, a folder zipped.
fn build(
    shown: &str,
    files: &[CodeFile],
    limits: &PackageLimits,
) -> Result<CodeArtifact, PackageError> {
    let too_large = |what| PackageError::TooLarge {
        path: shown.to_owned(),
        what,
        limit: match what {
            ZIPPED => limits.max_zipped_bytes,
            _ => limits.max_unzipped_bytes,
        },
    };
    // Sizes are known before reading: a folder that is too big is refused unread.
    let total: u64 = files.iter().map(|f| f.len).sum();
    if total > limits.max_unzipped_bytes {
        return Err(too_large(UNZIPPED));
    }
    let deadline = Instant::now() + limits.time_limit;
    let bytes = match files {
        [one] if is_zip_file(one) => {
            if one.len > limits.max_zipped_bytes {
                return Err(too_large(ZIPPED));
            }
            let mut file = open_regular(one).map_err(|e| read_error(&one.name, &e))?;
            let mut bytes = Vec::new();
            let mut budget = Budget::new(limits.max_zipped_bytes, ZIPPED, deadline);
            copy(&mut file, &mut bytes, &mut budget)
                .map_err(|e| budget.error(e, shown, &one.name, limits))?;
            bytes
        }
        _ => zip_files(shown, files, limits, deadline)?,
    };
    Ok(CodeArtifact::Zip {
        sha256: sha256_base64(&bytes),
        bytes: Arc::new(bytes),
    })
}

const ZIPPED: &str = "zipped (for a direct upload)";
const UNZIPPED: &str = "unzipped";

fn is_zip_file(file: &CodeFile) -> bool {
    file.path.is_file() && file.name.ends_with(".zip")
}

/// The base64 SHA-256, the form Lambda reports as `CodeSha256`.
pub fn sha256_base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// Opens a file that the walk found regular, refusing it if it was swapped since: the
/// final link is not followed, and a FIFO opens without waiting for a writer, so the
/// check after opening sees what it is rather than hanging on it.
fn open_regular(file: &CodeFile) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let opened = options.open(&file.path)?;
    if !opened.metadata()?.is_file() {
        return Err(io::Error::other(
            "not a regular file (a FIFO, socket or device)",
        ));
    }
    Ok(opened)
}

fn read_error(name: &str, error: &io::Error) -> PackageError {
    PackageError::Read {
        path: name.to_owned(),
        message: error.to_string(),
    }
}

/// What a package may still spend: bytes read (against the limit named `what`) and time.
struct Budget {
    left: u64,
    limit: u64,
    what: &'static str,
    deadline: Instant,
    exceeded: bool,
    late: bool,
}

impl Budget {
    fn new(limit: u64, what: &'static str, deadline: Instant) -> Self {
        Self {
            left: limit,
            limit,
            what,
            deadline,
            exceeded: false,
            late: false,
        }
    }

    /// What a failed copy means: over the limit, over time, or a read error.
    fn error(
        &self,
        error: io::Error,
        shown: &str,
        name: &str,
        limits: &PackageLimits,
    ) -> PackageError {
        if self.late {
            PackageError::TimedOut {
                path: shown.to_owned(),
                limit: limits.time_limit,
            }
        } else if self.exceeded {
            PackageError::TooLarge {
                path: shown.to_owned(),
                what: self.what,
                limit: self.limit,
            }
        } else {
            read_error(name, &error)
        }
    }
}

/// Streams `from` into `to` in chunks, within the budget: a file that grows while it is
/// read stops at the limit instead of filling memory.
fn copy(from: &mut impl Read, to: &mut impl Write, budget: &mut Budget) -> io::Result<()> {
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if Instant::now() > budget.deadline {
            budget.late = true;
            return Err(io::Error::other("time limit"));
        }
        let read = match from.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let read_u64 = read as u64;
        if read_u64 > budget.left {
            budget.exceeded = true;
            return Err(io::Error::other("size limit"));
        }
        budget.left -= read_u64;
        to.write_all(&chunk[..read])?;
    }
}

/// The zip being written: in memory, refusing to grow past the zipped limit.
struct Bounded {
    cursor: Cursor<Vec<u8>>,
    limit: u64,
    exceeded: Arc<AtomicBool>,
}

impl Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.exceeded.load(Ordering::SeqCst) {
            // The package is already refused; what the zip writer still writes while it
            // is dropped goes nowhere (rather than into an error it would print).
            return Ok(buf.len());
        }
        let end = self.cursor.position() + buf.len() as u64;
        if end > self.limit {
            self.exceeded.store(true, Ordering::SeqCst);
            return Err(io::Error::other("the zip is over the size limit"));
        }
        self.cursor.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Seek for Bounded {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.cursor.seek(to)
    }
}

fn zip_files(
    shown: &str,
    files: &[CodeFile],
    limits: &PackageLimits,
    deadline: Instant,
) -> Result<Vec<u8>, PackageError> {
    let exceeded = Arc::new(AtomicBool::new(false));
    let mut writer = ZipWriter::new(Bounded {
        cursor: Cursor::new(Vec::new()),
        limit: limits.max_zipped_bytes,
        exceeded: Arc::clone(&exceeded),
    });
    let zip_error = |message: String| {
        if exceeded.load(Ordering::SeqCst) {
            PackageError::TooLarge {
                path: shown.to_owned(),
                what: ZIPPED,
                limit: limits.max_zipped_bytes,
            }
        } else {
            PackageError::Zip {
                path: shown.to_owned(),
                message,
            }
        }
    };
    let mut budget = Budget::new(limits.max_unzipped_bytes, UNZIPPED, deadline);
    for file in files {
        let mut opened = open_regular(file).map_err(|e| read_error(&file.name, &e))?;
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default())
            .unix_permissions(if file.mode & 0o111 != 0 { 0o755 } else { 0o644 });
        writer
            .start_file(file.name.as_str(), options)
            .map_err(|e| zip_error(e.to_string()))?;
        copy(&mut opened, &mut writer, &mut budget).map_err(|e| {
            if exceeded.load(Ordering::SeqCst) {
                zip_error(e.to_string())
            } else {
                budget.error(e, shown, &file.name, limits)
            }
        })?;
    }
    let bounded = writer.finish().map_err(|e| zip_error(e.to_string()))?;
    Ok(bounded.cursor.into_inner())
}

/// The packages of local folders, kept while their files stay the same: a source poll
/// that finds nothing changed does not read and zip every folder again (nor a folder
/// that is too big to package).
#[derive(Debug, Default)]
pub struct PackageCache {
    built: Mutex<HashMap<PathBuf, Built>>,
}

type Built = (u64, Result<CodeArtifact, PackageError>);

impl PackageCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Built>> {
        self.built.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// [`artifact`], from the cache when the files (names, sizes, times, inodes, modes)
    /// are what they were when the cached package was built.
    pub fn artifact(
        &self,
        function: &ValidFunction,
        limits: &PackageLimits,
    ) -> Result<CodeArtifact, PackageError> {
        let local = local_code(function)?;
        self.build(local, limits)
    }

    /// [`package_path`], from the cache when the files are unchanged.
    pub fn package_path(
        &self,
        root: &Path,
        spec_dir: &Path,
        path: &str,
        limits: &PackageLimits,
    ) -> Result<CodeArtifact, PackageError> {
        let local = local_files(root, spec_dir, path)?;
        self.build(local, limits)
    }

    fn build(&self, local: Local, limits: &PackageLimits) -> Result<CodeArtifact, PackageError> {
        let (shown, files) = match local {
            Local::Remote(code) => return Ok(code),
            Local::Files { shown, files } => (shown, files),
        };
        let key = PathBuf::from(&shown);
        let fingerprint = fingerprint(&files);
        let cached = self
            .lock()
            .get(&key)
            .filter(|(known, _)| *known == fingerprint)
            .map(|(_, result)| result.clone());
        if let Some(result) = cached {
            return result;
        }
        let result = build(&shown, &files, limits);
        self.lock().insert(key, (fingerprint, result.clone()));
        result
    }
}

fn fingerprint(files: &[CodeFile]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    files.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests;
