//! Short content digests for tags and version descriptions.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The first 16 hex digits of the SHA-256 of `value`'s JSON form: short enough for a tag,
/// long enough that two different specs never share one in practice.
pub fn short_digest<T: Serialize + ?Sized>(value: &T) -> String {
    let json = serde_json::to_vec(value).unwrap_or_default();
    let hash = Sha256::digest(&json);
    // One allocation, not one per byte: the planner computes digests for every function.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(16);
    for byte in &hash[..8] {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    text
}
