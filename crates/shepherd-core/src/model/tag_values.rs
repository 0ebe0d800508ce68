//! The values of shepherd's own tags, each with one codec: what is written is what is read
//! back (`parse(encode(x)) == x`), and nothing else in the code base splits a tag value.

use std::fmt;

/// What code is: a digest of its reference (S3 location, image URI, zip hash) and, for a
/// mutable reference, a digest of the content it named (see `model::content`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeIdentity {
    pub location: String,
    pub content: Option<String>,
}

impl CodeIdentity {
    /// Whether `recorded` names other code: another location, or other content where both
    /// sides know it. Content known on one side only (a tag written before content was
    /// identified, or content that cannot be read now) is no difference.
    pub fn differs_from(&self, recorded: &CodeIdentity) -> bool {
        self.location != recorded.location || self.moved_from(recorded)
    }

    /// Whether the same reference names new content since `recorded` (an object
    /// overwritten, a tag moved).
    pub fn moved_from(&self, recorded: &CodeIdentity) -> bool {
        self.location == recorded.location
            && matches!((&self.content, &recorded.content), (Some(a), Some(b)) if a != b)
    }

    fn parse(text: &str) -> Option<Self> {
        let (location, content) = match text.split_once('.') {
            Some((location, content)) => (location, Some(content.to_owned())),
            None => (text, None),
        };
        (!location.is_empty()).then(|| CodeIdentity {
            location: location.to_owned(),
            content,
        })
    }
}

impl fmt::Display for CodeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.content {
            Some(content) => write!(f, "{}.{content}", self.location),
            None => f.write_str(&self.location),
        }
    }
}

/// `shepherd.dev/code`: `LOCATION[.CONTENT]:SHA256`, the code last deployed and the
/// `CodeSha256` Lambda reported for it (empty until known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeTag {
    pub identity: CodeIdentity,
    pub sha256: Option<String>,
}

impl CodeTag {
    pub fn parse(value: &str) -> Option<Self> {
        let (identity, sha) = value.split_once(':')?;
        Some(CodeTag {
            identity: CodeIdentity::parse(identity)?,
            sha256: (!sha.is_empty()).then(|| sha.to_owned()),
        })
    }
}

impl fmt::Display for CodeTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}",
            self.identity,
            self.sha256.as_deref().unwrap_or_default()
        )
    }
}

/// `shepherd.dev/release`: `VERSION:DIGEST`, the published version that embodies the
/// release with that digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseTag {
    pub version: String,
    pub digest: String,
}

impl ReleaseTag {
    pub fn parse(value: &str) -> Option<Self> {
        let (version, digest) = value.split_once(':')?;
        (!version.is_empty() && !digest.is_empty()).then(|| ReleaseTag {
            version: version.to_owned(),
            digest: digest.to_owned(),
        })
    }
}

impl fmt::Display for ReleaseTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.version, self.digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(location: &str, content: Option<&str>) -> CodeIdentity {
        CodeIdentity {
            location: location.to_owned(),
            content: content.map(str::to_owned),
        }
    }

    #[test]
    fn code_tags_round_trip() {
        let cases = [
            CodeTag {
                identity: identity("0123456789abcdef", Some("fedcba9876543210")),
                sha256: Some("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".to_owned()),
            },
            CodeTag {
                identity: identity("0123456789abcdef", None),
                sha256: Some("n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=".to_owned()),
            },
            CodeTag {
                identity: identity("0123456789abcdef", None),
                sha256: None,
            },
        ];
        for tag in cases {
            assert_eq!(CodeTag::parse(&tag.to_string()), Some(tag.clone()), "{tag}");
        }
    }

    #[test]
    fn code_tags_read_as_every_earlier_release_wrote_them() {
        // Before content was identified: `LOCATION:SHA256`.
        assert_eq!(
            CodeTag::parse("0123456789abcdef:abc="),
            Some(CodeTag {
                identity: identity("0123456789abcdef", None),
                sha256: Some("abc=".to_owned()),
            })
        );
        assert_eq!(CodeTag::parse("no-colon"), None);
        assert_eq!(CodeTag::parse(":abc="), None);
    }

    #[test]
    fn release_tags_round_trip() {
        let tag = ReleaseTag {
            version: "12".to_owned(),
            digest: "0123456789abcdef".to_owned(),
        };
        assert_eq!(tag.to_string(), "12:0123456789abcdef");
        assert_eq!(ReleaseTag::parse(&tag.to_string()), Some(tag));
        assert_eq!(ReleaseTag::parse("12"), None);
        assert_eq!(ReleaseTag::parse("12:"), None);
    }

    #[test]
    fn content_known_on_one_side_only_is_no_difference() {
        let recorded = identity("loc", None);
        let now = identity("loc", Some("c1"));
        assert!(!now.differs_from(&recorded));
        assert!(!recorded.differs_from(&now));
        assert!(now.differs_from(&identity("loc", Some("c2"))));
        assert!(now.moved_from(&identity("loc", Some("c2"))));
        assert!(now.differs_from(&identity("other", Some("c1"))));
        assert!(!now.moved_from(&identity("other", Some("c2"))));
    }
}
