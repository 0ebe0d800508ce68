//! The `secret-in-environment` lint: what a reviewer would call a secret written into
//! `spec.environment`. Values that are secrets whatever the variable is called come first
//! (token formats, AWS keys, passwords inside URLs), then names that announce a secret and
//! hold a literal. Validation asks the same question of the runtime's credential variables,
//! which it refuses before any lint can see them.
//!
//! No message quotes the secret: diagnostics end up in CI logs and pull-request comments,
//! which is the leak the lint exists to stop.

use std::sync::OnceLock;

use regex::{Regex, RegexSet};

use super::Finding;
use crate::diagnostic::FieldPath;
use crate::spec::FunctionSpec;

pub fn secret_in_environment(spec: &FunctionSpec) -> Vec<Finding> {
    spec.environment
        .iter()
        .filter_map(|(name, value)| {
            secret_message(name, value).map(|message| Finding {
                path: FieldPath::keys(&["spec", "environment", name]),
                message,
            })
        })
        .collect()
}

/// Why the literal `value` of the variable `name` is a secret, or `None` when it does not
/// look like one.
pub(crate) fn secret_message(name: &str, value: &str) -> Option<String> {
    if let Some(what) = secret_shape(value) {
        return Some(format!(
            "the value looks like {what}; never put secrets in the spec: use spec.secrets"
        ));
    }
    if let Some(masked) = url_with_password(value) {
        return Some(format!(
            "the value holds a password in the URL {masked}; never put secrets in the spec: use spec.secrets"
        ));
    }
    if announces_secret(name) && is_literal(value) {
        return Some(format!(
            "{name} holds a literal value; pass secrets by reference in spec.secrets"
        ));
    }
    None
}

/// Token formats that are secrets whatever the variable is called. Each has a fixed prefix
/// or framing, so a match is rarely anything else.
fn secret_value_patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            (r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", "an AWS access key id"),
            (r"-----BEGIN [A-Z ]*PRIVATE KEY", "a private key"),
            (r"\bgh[pousr]_[A-Za-z0-9]{36,}", "a GitHub token"),
            (r"\bgithub_pat_[A-Za-z0-9_]{22,}", "a GitHub token"),
            (r"\bxox[abprs]-[A-Za-z0-9-]{10,}", "a Slack token"),
            (r"\b[sr]k_live_[A-Za-z0-9]{16,}", "a Stripe secret key"),
            (r"\bAIza[0-9A-Za-z_-]{35}\b", "a Google API key"),
            (
                r"^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
                "a JSON Web Token",
            ),
        ]
        .into_iter()
        .map(|(pattern, what)| (Regex::new(pattern).expect("valid secret pattern"), what))
        .collect()
    })
}

/// What kind of secret `value` contains, judged by its shape alone.
fn secret_shape(value: &str) -> Option<&'static str> {
    if let Some((_, what)) = secret_value_patterns()
        .iter()
        .find(|(re, _)| re.is_match(value))
    {
        return Some(what);
    }
    // `=` splits rather than belongs: a secret access key is 30 bytes in base64, never
    // padded, and `KEY=value` pairs are common inside values.
    value
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '+'))
        .any(is_aws_secret_access_key)
        .then_some("an AWS secret access key")
}

/// A secret access key has no prefix, only its shape: 40 characters of base64 from 30
/// random bytes. Names, paths and digests of the same length are told apart by what random
/// bytes give and they do not: all of upper case, lower case and digits, a spread of
/// characters, frequent changes between those classes (words change class only between
/// words), and bytes that are not text once decoded (base64 of a 30-character phrase has
/// the same length and alphabet). Together these miss about one random key in a thousand,
/// by design: a lint that cries wolf gets switched off.
fn is_aws_secret_access_key(token: &str) -> bool {
    let bytes = token.as_bytes();
    bytes.len() == 40
        // A git commit or other SHA-1 in hex.
        && !bytes.iter().all(u8::is_ascii_hexdigit)
        && bytes.iter().any(u8::is_ascii_uppercase)
        && bytes.iter().any(u8::is_ascii_lowercase)
        && bytes.iter().any(u8::is_ascii_digit)
        && entropy(bytes) >= 4.0
        && class_changes(bytes) >= 14
        && !decodes_to_text(bytes)
}

/// Shannon entropy of the characters, in bits per character. Random base64 of this length
/// scores about 4.8 and practically never below 4.1; repetitive values score far lower.
fn entropy(bytes: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[usize::from(b)] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// How often neighbouring characters differ in class (upper, lower, digit, other). Random
/// base64 changes class at about 25 of 39 pairs; `OrderProcessingHandlerFunctionV2Release1`
/// at 12.
fn class_changes(bytes: &[u8]) -> usize {
    let class = |b: u8| match b {
        b'A'..=b'Z' => 0,
        b'a'..=b'z' => 1,
        b'0'..=b'9' => 2,
        _ => 3,
    };
    bytes
        .windows(2)
        .filter(|pair| class(pair[0]) != class(pair[1]))
        .count()
}

/// Whether standard base64 `token` (a multiple of four characters from its alphabet)
/// decodes to printable ASCII. Thirty random bytes are all printable about once in 10^13.
fn decodes_to_text(token: &[u8]) -> bool {
    let sextet = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            _ => 63,
        }
    };
    token.chunks(4).all(|group| {
        let bits = group.iter().fold(0, |acc, &c| (acc << 6) | sextet(c));
        bits.to_be_bytes()[1..]
            .iter()
            .all(|&b| b.is_ascii_graphic() || matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    })
}

/// The first URL in `value` with a password in its authority (`scheme://user:password@`),
/// shown with the password (and a user long enough to be a token) masked, and without its
/// query and fragment, which may carry more secrets. A password that is a placeholder for a template to fill is not one.
fn url_with_password(value: &str) -> Option<String> {
    static SCHEME: OnceLock<Regex> = OnceLock::new();
    let scheme =
        SCHEME.get_or_init(|| Regex::new(r"[A-Za-z][A-Za-z0-9+.-]*://").expect("valid scheme"));
    scheme.find_iter(value).find_map(|found| {
        let rest = &value[found.end()..];
        let authority = &rest[..authority_len(rest)];
        // The last `@` ends the user information: a password may hold a raw `@`, a host not.
        let (userinfo, host) = authority.rsplit_once('@')?;
        let (user, password) = userinfo.split_once(':')?;
        if password.is_empty() || is_placeholder(password) {
            return None;
        }
        // A long user may be a token itself, as in `https://TOKEN:x-oauth-basic@github.com`.
        let user = if user.chars().count() >= 20 {
            "****"
        } else {
            user
        };
        let after = &rest[authority.len()..];
        let path = &after[..after.find(ends_url_part).unwrap_or(after.len())];
        Some(format!("{}{user}:****@{host}{path}", found.as_str()))
    })
}

/// The length of the authority at the start of `rest`. Braces are skipped over, so that a
/// placeholder such as `{{resolve:ssm:/db/password}}` is read whole.
fn authority_len(rest: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in rest.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            c if depth == 0 && (c == '/' || ends_url_part(c)) => return i,
            _ => {}
        }
    }
    rest.len()
}

/// Characters that end the path of a URL: its query and fragment, and what separates it
/// from the rest of a longer value (whitespace, list separators, quotes).
fn ends_url_part(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | ';' | '"' | '\'' | '?' | '#')
}

/// `${DB_PASSWORD}` and `{{db_password}}` are filled in by a template or at run time;
/// `****` is already masked.
fn is_placeholder(password: &str) -> bool {
    (password.starts_with("${") && password.ends_with('}'))
        || (password.starts_with("{{") && password.ends_with("}}"))
        || password.bytes().all(|b| b == b'*')
}

/// Variable names that announce a secret, unless they name a reference to one or a setting.
fn announces_secret(name: &str) -> bool {
    static PATTERNS: OnceLock<(RegexSet, Regex)> = OnceLock::new();
    let (names, references) = PATTERNS.get_or_init(|| {
        let names = RegexSet::new([
            r"(?i)PASSWORD|PASSWD|PASSPHRASE",
            r"(?i)SECRET",
            r"(?i)TOKEN",
            r"(?i)API_?KEY",
            r"(?i)PRIVATE_?KEY",
            r"(?i)CREDENTIALS?",
        ])
        .expect("valid name patterns");
        let references = Regex::new(
            r"(?i)_(ARN|NAME|PATH|PARAM|PARAMETER|ID|URL|URI|ENDPOINT|TTL|FILE|HEADER|ENABLED|LENGTH|EXPIRY|TIMEOUT|REGION)$",
        )
        .expect("valid reference pattern");
        (names, references)
    });
    names.is_match(name) && !references.is_match(name)
}

/// A value that is written out: not blank, and not a reference to where the secret is kept.
fn is_literal(value: &str) -> bool {
    !value.trim().is_empty() && !looks_like_reference(value)
}

/// An ARN, an SSM parameter name or a CloudFormation dynamic reference.
fn looks_like_reference(value: &str) -> bool {
    value.starts_with("arn:aws") || value.starts_with('/') || value.starts_with("{{resolve:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_of_text_is_recognised() {
        // "The quick brown fox jumps over", 30 bytes.
        assert!(decodes_to_text(b"VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVy"));
        assert!(!decodes_to_text(
            b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        ));
    }

    #[test]
    fn urls_are_masked_up_to_their_path() {
        let cases = [
            (
                "postgres://admin:hunter2@db/prod",
                Some("postgres://admin:****@db/prod"),
            ),
            (
                "postgres://admin:hunter2@db/prod?sslmode=require&sslpassword=x",
                Some("postgres://admin:****@db/prod"),
            ),
            ("redis://:p4ss@cache:6379", Some("redis://:****@cache:6379")),
            ("amqp://u:p@ss@mq/vhost", Some("amqp://u:****@mq/vhost")),
            (
                "primary=mysql://app:pw@a/db, replica=mysql://app@b/db",
                Some("mysql://app:****@a/db"),
            ),
            (
                "jdbc:postgresql://app:pw@db:5432/orders",
                Some("postgresql://app:****@db:5432/orders"),
            ),
            (
                "https://0123456789abcdef0123456789abcdef01234567:x-oauth-basic@github.com/acme/app.git",
                Some("https://****:****@github.com/acme/app.git"),
            ),
            ("https://user@example.com/a:b@c", None),
            ("https://example.com:8443/path", None),
            ("postgres://admin:@db/prod", None),
            ("postgres://admin:${DB_PASSWORD}@db/prod", None),
            ("postgres://admin:{{resolve:ssm:/orders/db}}@db/prod", None),
            ("postgres://admin:****@db/prod", None),
        ];
        for (value, masked) in cases {
            assert_eq!(url_with_password(value).as_deref(), masked, "{value}");
        }
    }
}
