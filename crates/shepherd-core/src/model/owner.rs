//! Who owns a function: the spec source (a repository and a folder in it) whose CLI runs
//! or controller manage it. Recorded on every function in the `shepherd.dev/owner` tag, so
//! that a second spec source or controller never changes or prunes another's functions.
//!
//! The owner is the operator's choice (a flag or the controller's configuration), never the
//! spec repository's: a repository that could name its owner could name another's and
//! prune its functions.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use super::tags;

/// The longest tag value Lambda accepts.
const MAX_TAG_VALUE_CHARS: usize = 256;

/// An owner identity, valid as a Lambda tag value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Owner(String);

/// Lambda's tag values: letters, digits, spaces and `_ . : / = + - @`.
fn is_tag_value_char(c: char) -> bool {
    c.is_alphanumeric() || c == ' ' || "_.:/=+-@".contains(c)
}

impl Owner {
    /// An owner given explicitly (`--owner`, `owner:` in the controller's configuration).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the owner is empty".to_owned());
        }
        if text.chars().count() > MAX_TAG_VALUE_CHARS {
            return Err(format!(
                "the owner is longer than {MAX_TAG_VALUE_CHARS} characters (a tag value)"
            ));
        }
        if let Some(bad) = text.chars().find(|c| !is_tag_value_char(*c)) {
            return Err(format!(
                "the owner holds {bad:?}; use letters, digits, spaces and _ . : / = + - @"
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// The default owner of a spec source: its repository (without scheme, credentials or
    /// `.git`), then the folder of the specs inside it, e.g. `github.com/acme/specs/prod`.
    /// The CLI and the controller derive the same owner for the same repository and
    /// folder, so both can manage the same functions.
    pub fn derive(repository: &str, folder: &str) -> Self {
        let mut owner = normalize_repository(repository);
        let folder = folder
            .split('/')
            .filter(|part| !part.is_empty() && *part != ".")
            .collect::<Vec<_>>()
            .join("/");
        if !folder.is_empty() {
            if !owner.ends_with('/') {
                owner.push('/');
            }
            owner.push_str(&folder);
        }
        let mut owner: String = owner
            .chars()
            .map(|c| if is_tag_value_char(c) { c } else { '-' })
            .collect();
        if owner.is_empty() {
            owner.push_str("local");
        }
        if owner.chars().count() > MAX_TAG_VALUE_CHARS {
            // Keep the end (the most specific part) and a digest of the whole, so two long
            // owners that share their last characters stay apart.
            let digest = super::short_digest(&owner);
            let tail: String = {
                let chars: Vec<char> = owner.chars().collect();
                chars[chars.len() - (MAX_TAG_VALUE_CHARS - digest.len() - 1)..]
                    .iter()
                    .collect()
            };
            owner = format!("{digest}-{tail}");
        }
        Self(owner)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Owner {
    /// The owner of tests and tools that manage one spec source per account.
    fn default() -> Self {
        Self("default".to_owned())
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `https://user:token@github.com/acme/specs.git` and `git@github.com:acme/specs.git` both
/// become `github.com/acme/specs`; `file:///srv/specs` becomes `/srv/specs`.
fn normalize_repository(url: &str) -> String {
    let url = url.trim();
    let (rest, had_scheme) = match url.split_once("://") {
        Some((_, rest)) => (rest, true),
        None => (url, false),
    };
    // Credentials never go into a tag.
    let rest = match rest.split_once('/') {
        Some((authority, path)) => match authority.rsplit_once('@') {
            Some((_, host)) => format!("{host}/{path}"),
            None => format!("{authority}/{path}"),
        },
        None => rest.rsplit_once('@').map_or(rest, |(_, h)| h).to_owned(),
    };
    // scp-like ssh: `git@host:path`.
    let rest = if had_scheme {
        rest
    } else {
        match url.split_once('@') {
            Some((_, host_path)) if !host_path.contains("//") => host_path.replacen(':', "/", 1),
            _ => rest,
        }
    };
    let rest = rest.trim_end_matches('/');
    rest.strip_suffix(".git").unwrap_or(rest).to_owned()
}

/// Whose a function is, from its tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership<'a> {
    /// Managed by shepherd for this owner.
    Ours,
    /// Managed by shepherd before owners were recorded: claimed by the first spec source
    /// that names it, and never pruned until then.
    Unclaimed,
    /// Managed by shepherd for another owner.
    Other(&'a str),
    /// Not managed by shepherd.
    Unmanaged,
}

/// Reads a function's ownership from its tags.
pub fn ownership<'a>(function_tags: &'a BTreeMap<String, String>, owner: &Owner) -> Ownership<'a> {
    if function_tags.get(tags::MANAGED_BY).map(String::as_str) != Some(tags::MANAGED_BY_VALUE) {
        return Ownership::Unmanaged;
    }
    match function_tags.get(tags::OWNER) {
        None => Ownership::Unclaimed,
        Some(recorded) if recorded == owner.as_str() => Ownership::Ours,
        Some(recorded) => Ownership::Other(recorded),
    }
}

/// A function that carries shepherd's tag, as the account lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedFunction {
    pub name: String,
    /// The recorded owner; `None` for functions managed before owners were recorded.
    pub owner: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_owners_drop_schemes_credentials_and_git_suffixes() {
        for (url, folder, expected) in [
            (
                "https://x-access-token:ghp_secret@github.com/acme/specs.git",
                "prod",
                "github.com/acme/specs/prod",
            ),
            (
                "git@github.com:acme/specs.git",
                "./prod/",
                "github.com/acme/specs/prod",
            ),
            (
                "ssh://git@github.com/acme/specs",
                ".",
                "github.com/acme/specs",
            ),
            ("file:///srv/git/specs", "", "/srv/git/specs"),
            ("/srv/specs", "teams/a", "/srv/specs/teams/a"),
            ("https://host/a b?c#d", "", "host/a b-c-d"),
        ] {
            assert_eq!(Owner::derive(url, folder).as_str(), expected, "{url}");
        }
    }

    #[test]
    fn long_derived_owners_fit_a_tag_value_and_stay_distinct() {
        let a = Owner::derive(&format!("https://host/{}", "a".repeat(300)), "x");
        let b = Owner::derive(&format!("https://host/b{}", "a".repeat(300)), "x");
        assert_eq!(a.as_str().chars().count(), MAX_TAG_VALUE_CHARS);
        assert_ne!(a, b);
        assert!(a.as_str().ends_with("aaa/x"), "{a}");
    }

    #[test]
    fn explicit_owners_are_checked_not_rewritten() {
        assert_eq!(Owner::parse(" team-a ").unwrap().as_str(), "team-a");
        assert!(Owner::parse("").is_err());
        assert!(Owner::parse("a,b").unwrap_err().contains("','"));
        assert!(Owner::parse(&"x".repeat(257)).is_err());
    }

    #[test]
    fn ownership_reads_both_tags() {
        let owner = Owner::parse("team-a").unwrap();
        let with = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let managed = (tags::MANAGED_BY, tags::MANAGED_BY_VALUE);
        assert_eq!(ownership(&with(&[]), &owner), Ownership::Unmanaged);
        assert_eq!(ownership(&with(&[managed]), &owner), Ownership::Unclaimed);
        assert_eq!(
            ownership(&with(&[managed, (tags::OWNER, "team-a")]), &owner),
            Ownership::Ours
        );
        assert_eq!(
            ownership(&with(&[managed, (tags::OWNER, "team-b")]), &owner),
            Ownership::Other("team-b")
        );
        assert_eq!(
            ownership(&with(&[(tags::OWNER, "team-a")]), &owner),
            Ownership::Unmanaged,
            "an owner tag without shepherd's own tag proves nothing"
        );
    }
}
