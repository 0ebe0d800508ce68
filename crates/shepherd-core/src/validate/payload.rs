//! The event of a rollout's synthetic traffic: inline in the spec or in a JSON file next
//! to it. The file is read like local code is (inside the spec source, no link out of it,
//! nothing in `.git`), and only as much of it as a payload may hold.

use std::io::Read;
use std::path::Path;

use crate::source::confine;
use crate::spec::MAX_TRAFFIC_PAYLOAD_BYTES;

/// The JSON value in `path` (relative to `spec_dir`, inside `root`).
pub fn read_payload_file(
    root: &Path,
    spec_dir: &Path,
    path: &str,
) -> Result<serde_json::Value, String> {
    // The same confinement as local code, told of the payload file.
    let real = confine::resolve_code_path(root, spec_dir, path)
        .map_err(|message| message.replace("local code", "a payload file"))?;
    if !real.is_file() {
        return Err(format!("\"{path}\" is not a file"));
    }
    let file = std::fs::File::open(&real).map_err(|e| format!("cannot read \"{path}\": {e}"))?;
    let mut text = String::new();
    file.take(MAX_TRAFFIC_PAYLOAD_BYTES as u64 + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("cannot read \"{path}\": {e}"))?;
    if text.len() > MAX_TRAFFIC_PAYLOAD_BYTES {
        return Err(too_large(path));
    }
    serde_json::from_str(&text).map_err(|e| format!("\"{path}\" is not JSON: {e}"))
}

/// Whether an inline payload fits.
pub fn check_inline(payload: &serde_json::Value) -> Result<(), String> {
    if payload.to_string().len() > MAX_TRAFFIC_PAYLOAD_BYTES {
        return Err(too_large("the payload"));
    }
    Ok(())
}

fn too_large(what: &str) -> String {
    format!(
        "{what} is larger than {} KB; synthetic traffic sends test events",
        MAX_TRAFFIC_PAYLOAD_BYTES / 1024
    )
}
