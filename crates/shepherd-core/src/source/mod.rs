//! Finding spec files and reading them into located YAML documents.
//!
//! A source is a file or a directory. Directories are walked recursively; see
//! [`discover`] for which files count.

pub mod confine;
mod node;
mod scalar;
mod tags;
mod template;
mod yaml;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use node::{Entry, Node, Value};
pub use yaml::{Limits, YamlError, parse_documents};
use yaml::{Stream, read_stream};

use crate::diagnostic::{Diagnostic, FieldPath, Location};

/// The largest spec file shepherd reads. Larger sets belong in several files.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// One YAML document of a spec file.
#[derive(Debug, Clone)]
pub struct SourceDocument {
    pub file: PathBuf,
    pub node: Node,
    /// The folder local code must stay inside (see [`confine`]).
    pub root: PathBuf,
}

/// Everything read from the sources: the documents, and the errors of files that could not
/// be read.
#[derive(Debug, Default)]
pub struct LoadedSources {
    pub files: usize,
    pub documents: Vec<SourceDocument>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Lists the spec files under `paths`, sorted.
///
/// The rule: a path named explicitly is read whatever its name. In a directory, files ending
/// in `.yaml` or `.yml` are specs; everything else is ignored; files and folders whose names
/// start with `.` (such as `.git`, `.github` or `.shepherd.yaml`) are skipped; symbolic links
/// to folders are not followed, so a link cycle cannot loop.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = Vec::new();
    let mut diagnostics = Vec::new();
    for path in paths {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => walk(path, &mut files, &mut diagnostics),
            Ok(_) => files.push(path.clone()),
            Err(err) => diagnostics.push(file_error(path, format!("cannot read: {err}"))),
        }
    }
    // A file reached twice (a path given twice, or a folder and a file inside it) is read
    // once; otherwise its functions would clash with themselves.
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    (files, diagnostics)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, diagnostics: &mut Vec<Diagnostic>) {
    let mut entries: Vec<_> = match fs::read_dir(dir) {
        Ok(entries) => entries.filter_map(Result::ok).collect(),
        Err(err) => {
            diagnostics.push(file_error(dir, format!("cannot read directory: {err}")));
            return;
        }
    };
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') {
            continue;
        }
        let path = display_join(dir, &name);
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            walk(&path, files, diagnostics);
        } else if is_spec_name(&name) && (file_type.is_file() || path.is_file()) {
            files.push(path);
        }
    }
}

fn is_spec_name(name: &str) -> bool {
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// Joins without the `./` that `Path::new(".").join(..)` would keep, so that messages read
/// `functions/orders.yaml`, not `./functions/orders.yaml`.
fn display_join(dir: &Path, name: &str) -> PathBuf {
    if dir == Path::new(".") {
        PathBuf::from(name)
    } else {
        dir.join(name)
    }
}

fn file_error(path: &Path, message: String) -> Diagnostic {
    Diagnostic::error(path, Location::new(1, 1), FieldPath::root(), message)
}

/// Reads a spec file as UTF-8 text, refusing oversized, binary and non-UTF-8 files.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let file = fs::File::open(path).map_err(|e| file_error(path, format!("cannot read: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| file_error(path, format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(file_error(
            path,
            format!(
                "file is larger than {} MiB; split the specs over several files",
                MAX_FILE_BYTES / 1024 / 1024
            ),
        ));
    }
    text_from_bytes(bytes).map_err(|(location, message)| {
        Diagnostic::error(path, location, FieldPath::root(), message)
    })
}

/// Checks that bytes are YAML-worthy text: no NUL (binary), valid UTF-8, no BOM.
pub fn text_from_bytes(bytes: Vec<u8>) -> Result<String, (Location, String)> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err((
            location_of_offset(&bytes, offset),
            "binary file (contains NUL bytes), not a YAML spec".to_owned(),
        ));
    }
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text
            .strip_prefix('\u{feff}')
            .map(str::to_owned)
            .unwrap_or(text)),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let location = location_of_offset(err.as_bytes(), offset);
            Err((location, "file is not valid UTF-8 text".to_owned()))
        }
    }
}

fn location_of_offset(bytes: &[u8], offset: usize) -> Location {
    let before = &bytes[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Location::new(clamp(line), clamp(column))
}

/// Parses the documents of one file's text. Like invalid YAML, a tag that the loader cannot
/// honour is an error for the whole file. Empty documents (a stray `---`) are dropped; a
/// file with no document at all is an error.
pub fn parse_file(path: &Path, text: &str) -> Result<Vec<SourceDocument>, Diagnostic> {
    let stream = read_stream(text, Limits::default()).map_err(|e| yaml_error(path, e))?;
    documents_of(path, stream)
}

/// [`parse_file`] for a spec file, which first checks that the file is not a CloudFormation
/// or SAM template: that one error replaces all the others, a template's tags included.
fn parse_spec_file(path: &Path, text: &str) -> Result<Vec<SourceDocument>, Diagnostic> {
    let stream = read_stream(text, Limits::default()).map_err(|e| yaml_error(path, e))?;
    if let Some(location) = stream.documents.iter().find_map(template::recognise) {
        return Err(Diagnostic::error(
            path,
            location,
            FieldPath::root(),
            template::message(),
        ));
    }
    documents_of(path, stream)
}

fn yaml_error(path: &Path, error: YamlError) -> Diagnostic {
    Diagnostic::error(path, error.location, FieldPath::root(), error.message)
}

fn documents_of(path: &Path, stream: Stream) -> Result<Vec<SourceDocument>, Diagnostic> {
    if let Some(error) = stream.tag_error {
        return Err(yaml_error(path, error));
    }
    let documents: Vec<_> = stream
        .documents
        .into_iter()
        .filter(|n| n.value != Value::Null)
        .map(|node| SourceDocument {
            file: path.to_owned(),
            node,
            root: PathBuf::new(),
        })
        .collect();
    if documents.is_empty() {
        return Err(file_error(
            path,
            "empty file: no YAML document in it".to_owned(),
        ));
    }
    Ok(documents)
}

/// Discovers, reads and parses every spec file under `paths`; local code of each must stay
/// inside its path's [`confine::default_root`].
pub fn load(paths: &[PathBuf]) -> LoadedSources {
    load_within(paths, None)
}

/// [`load`], with local code confined to `root` when given.
pub fn load_within(paths: &[PathBuf], root: Option<&Path>) -> LoadedSources {
    let (files, diagnostics) = discover(paths);
    let mut loaded = LoadedSources {
        files: files.len(),
        documents: Vec::new(),
        diagnostics,
    };
    // The root of each file: that of the first path it was found under.
    let roots: Vec<(PathBuf, PathBuf)> = match root {
        Some(_) => Vec::new(),
        None => paths
            .iter()
            .map(|p| (p.clone(), confine::default_root(p)))
            .collect(),
    };
    let root_of = |file: &Path| -> PathBuf {
        match root {
            Some(root) => root.to_owned(),
            None => roots
                .iter()
                .find(|(path, _)| file.starts_with(path))
                .map(|(_, root)| root.clone())
                .unwrap_or_else(|| confine::default_root(file)),
        }
    };
    for file in files {
        match read_text(&file).and_then(|text| parse_spec_file(&file, &text)) {
            Ok(documents) => {
                let root = root_of(&file);
                loaded
                    .documents
                    .extend(documents.into_iter().map(|d| SourceDocument {
                        root: root.clone(),
                        ..d
                    }));
            }
            Err(diagnostic) => loaded.diagnostics.push(diagnostic),
        }
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_binary_and_non_utf8() {
        let (loc, msg) = text_from_bytes(b"a: 1\nb: \x00".to_vec()).unwrap_err();
        assert_eq!(loc, Location::new(2, 4));
        assert!(msg.contains("binary"));
        let (loc, msg) = text_from_bytes(b"a: 1\nb: \xff\xfe".to_vec()).unwrap_err();
        assert_eq!(loc, Location::new(2, 4));
        assert!(msg.contains("UTF-8"));
    }

    #[test]
    fn empty_and_comment_only_files_are_errors() {
        for text in ["", "# just a comment\n", "---\n---\n"] {
            let err = parse_file(Path::new("x.yaml"), text).unwrap_err();
            assert!(
                err.message.starts_with("empty file"),
                "{text:?}: {}",
                err.message
            );
        }
    }

    #[test]
    fn discovery_skips_hidden_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("fns/nested")).unwrap();
        fs::create_dir_all(root.join(".git")).unwrap();
        for file in [
            "fns/a.yaml",
            "fns/nested/b.yml",
            "fns/readme.md",
            ".git/c.yaml",
            ".shepherd.yaml",
            "fns/.hidden.yaml",
        ] {
            fs::write(root.join(file), "x: 1\n").unwrap();
        }
        let (files, diagnostics) = discover(&[root.to_owned()]);
        assert!(diagnostics.is_empty());
        let names: Vec<_> = files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["fns/a.yaml", "fns/nested/b.yml"]);
    }
}
