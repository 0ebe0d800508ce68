//! Constant-time checks of webhook signatures and tokens.
//!
//! Comparisons never stop at the first differing byte, so response timing tells an
//! attacker nothing about how much of a guess was right.

use axum::http::HeaderValue;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// The signature bytes of a `sha256=HEX` header, if well formed.
pub(crate) fn parse_sha256_signature(header: Option<&HeaderValue>) -> Option<Vec<u8>> {
    let hex_digits = header?.to_str().ok()?.strip_prefix("sha256=")?;
    hex::decode(hex_digits.trim()).ok()
}

/// Whether `signature` is HMAC-SHA256(`secret`, `body`).
pub(crate) fn hmac_matches(secret: &str, body: &[u8], signature: &[u8]) -> bool {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(signature).is_ok()
}

/// Whether `presented` equals `expected`, in time independent of both contents and
/// lengths: the digests are compared, as a plain slice compare returns early on a
/// length mismatch and would reveal the token's length.
pub(crate) fn tokens_match(expected: &str, presented: &[u8]) -> bool {
    let expected = Sha256::digest(expected.as_bytes());
    let presented = Sha256::digest(presented);
    expected.ct_eq(&presented).into()
}

/// The token of an `Authorization: Bearer TOKEN` header (the scheme is case-insensitive,
/// RFC 9110).
pub(crate) fn bearer_token(header: Option<&HeaderValue>) -> Option<&[u8]> {
    let value = header?.as_bytes();
    let space = value.iter().position(|&b| b == b' ')?;
    let (scheme, rest) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return None;
    }
    let token = rest.trim_ascii();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).unwrap()
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(bearer_token(Some(&header("Bearer abc"))), Some(&b"abc"[..]));
        assert_eq!(
            bearer_token(Some(&header("bearer  abc "))),
            Some(&b"abc"[..])
        );
        assert_eq!(bearer_token(Some(&header("Basic abc"))), None);
        assert_eq!(bearer_token(Some(&header("Bearer "))), None);
        assert_eq!(bearer_token(Some(&header("Bearerabc"))), None);
        assert_eq!(bearer_token(None), None);
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(tokens_match("s3cret", b"s3cret"));
        assert!(!tokens_match("s3cret", b"s3cre"));
        assert!(!tokens_match("s3cret", b"s3cret!"));
        assert!(!tokens_match("s3cret", b""));
    }

    #[test]
    fn signatures() {
        let mut mac = HmacSha256::new_from_slice(b"key").unwrap();
        mac.update(b"body");
        let good = hex::encode(mac.finalize().into_bytes());
        let parsed = parse_sha256_signature(Some(&header(&format!("sha256={good}")))).unwrap();
        assert!(hmac_matches("key", b"body", &parsed));
        assert!(!hmac_matches("key", b"body!", &parsed));
        assert!(!hmac_matches("other", b"body", &parsed));
        assert!(!hmac_matches("key", b"body", &parsed[..31]));
        assert_eq!(
            parse_sha256_signature(Some(&header(&format!("sha1={good}")))),
            None
        );
        assert_eq!(parse_sha256_signature(Some(&header("sha256=zz"))), None);
        assert_eq!(parse_sha256_signature(None), None);
    }
}
