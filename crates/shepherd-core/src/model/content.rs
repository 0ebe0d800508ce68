//! Code identified by its content, not by its name.
//!
//! An S3 key or an image tag is a mutable reference: an object overwritten at the same key,
//! or a tag moved to a new image, looks the same in the spec and in `GetFunction`. So the
//! observation also reads what such a reference names now (the object's ETag and version
//! id, the image's digest), and the planner identifies the code by that content: a new
//! object or digest is a new release, deployed pinned to exactly what was read (the object
//! version, `REPO@sha256:...`), so that what ships is what was identified.
//!
//! The `shepherd.dev/code` tag ([`super::CodeTag`]) records `LOCATION.CONTENT:SHA256`: a
//! digest of the reference, a digest of the content it named when deployed, and the
//! `CodeSha256` Lambda reported.
//! Tags written before content was identified (`LOCATION:SHA256`) are adopted as they are:
//! upgrading shepherd neither redeploys a fleet nor retries a release that was rolled back.

use std::borrow::Cow;

use serde::Serialize;

use super::digest::short_digest;
use super::{CodeArtifact, CodeIdentity, DesiredFunction, Observation, ObservedFunction};

/// What `HeadObject` says of an S3 object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct S3ObjectHead {
    pub etag: String,
    /// `None` in a bucket without versioning.
    pub version_id: Option<String>,
}

/// What a mutable code reference named when it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CodeContent {
    /// An S3 object: its ETag, and its version id in a versioned bucket.
    S3Object {
        etag: String,
        version_id: Option<String>,
    },
    /// A container image: the digest (`sha256:...`) its tag points to.
    Image { digest: String },
    /// The content could not be identified, and why (no such object, access denied, a
    /// registry shepherd cannot read).
    Unresolved(String),
}

impl CodeContent {
    /// The short digest recorded in the code tag, when the content is known.
    fn digest(&self) -> Option<String> {
        match self {
            CodeContent::S3Object { etag, .. } => Some(short_digest(etag)),
            CodeContent::Image { digest } => Some(short_digest(digest)),
            CodeContent::Unresolved(_) => None,
        }
    }

    /// What a deploy pins to: the object version, or the image digest.
    fn pin(&self) -> Option<String> {
        match self {
            CodeContent::S3Object { version_id, .. } => version_id.clone(),
            CodeContent::Image { digest } => Some(digest.clone()),
            CodeContent::Unresolved(_) => None,
        }
    }
}

/// The content a code artifact was identified by, carried with it to the deploy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResolvedContent {
    /// Short digest of the content, recorded in the code tag.
    pub digest: String,
    /// The object version or image digest to deploy, when the content was read now
    /// (`None` when it was taken from the tag because it could not be read).
    pub pin: Option<String>,
}

impl CodeArtifact {
    /// The reference whose content must be read to identify the code: an S3 object not
    /// pinned to a version, or an image named by tag. `None` for immutable references.
    pub fn content_key(&self) -> Option<String> {
        match self {
            CodeArtifact::S3 {
                bucket,
                key,
                object_version: None,
                ..
            } => Some(format!("s3://{bucket}/{key}")),
            CodeArtifact::Image { uri, .. } if !uri.contains('@') => Some(uri.clone()),
            _ => None,
        }
    }

    fn resolved(&self) -> Option<&ResolvedContent> {
        match self {
            CodeArtifact::S3 { resolved, .. } | CodeArtifact::Image { resolved, .. } => {
                resolved.as_ref()
            }
            _ => None,
        }
    }

    fn set_resolved(&mut self, content: ResolvedContent) {
        if let CodeArtifact::S3 { resolved, .. } | CodeArtifact::Image { resolved, .. } = self {
            *resolved = Some(content);
        }
    }

    /// The identity recorded in the `shepherd.dev/code` tag.
    pub fn identity(&self) -> CodeIdentity {
        CodeIdentity {
            // The content is not serialized, so the location digest is what it always was.
            location: short_digest(self),
            content: self.resolved().map(|content| content.digest.clone()),
        }
    }

    /// The S3 object version to deploy: the spec's, or the one identified.
    pub fn deploy_object_version(&self) -> Option<&str> {
        match self {
            CodeArtifact::S3 {
                object_version,
                resolved,
                ..
            } => object_version
                .as_deref()
                .or(resolved.as_ref().and_then(|r| r.pin.as_deref())),
            _ => None,
        }
    }

    /// The image URI to deploy: pinned to the digest identified (`REPO@sha256:...`), or as
    /// the spec names it.
    pub fn deploy_image_uri(&self) -> Option<Cow<'_, str>> {
        let CodeArtifact::Image { uri, resolved } = self else {
            return None;
        };
        Some(match resolved.as_ref().and_then(|r| r.pin.as_deref()) {
            Some(digest) => Cow::Owned(format!("{}@{digest}", repository_of(uri))),
            None => Cow::Borrowed(uri),
        })
    }
}

/// The image URI without its tag: the tag follows the last `:` after the last `/` (a
/// registry host may carry a port).
pub fn repository_of(uri: &str) -> &str {
    let name_start = uri.rfind('/').map_or(0, |i| i + 1);
    match uri[name_start..].rfind(':') {
        Some(colon) => &uri[..name_start + colon],
        None => uri,
    }
}

/// An ECR repository named by its URI (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcrRepository<'a> {
    pub registry_id: &'a str,
    pub region: &'a str,
    pub name: &'a str,
}

/// The ECR repository of an image repository URI (without tag), if it is one.
pub fn ecr_repository(repository: &str) -> Option<EcrRepository<'_>> {
    let (host, name) = repository.split_once('/')?;
    let mut labels = host.split('.');
    let registry_id = labels.next()?;
    let (Some("dkr"), Some("ecr"), Some(region)) = (labels.next(), labels.next(), labels.next())
    else {
        return None;
    };
    let well_formed = registry_id.len() == 12
        && registry_id.bytes().all(|b| b.is_ascii_digit())
        // The region names the endpoint shepherd signs requests for: only a region's
        // characters, whatever the spec repository writes.
        && !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.is_empty();
    well_formed.then_some(EcrRepository {
        registry_id,
        region,
        name,
    })
}

/// The desired function with its code identified by content, and the warning to show
/// when it could not be.
#[derive(Debug)]
pub struct Identified<'a> {
    pub desired: Cow<'a, DesiredFunction>,
    pub warning: Option<String>,
}

/// Identifies `desired`'s code by the content the observation read for it.
///
/// When the content cannot be read, the content recorded at the last deploy stands in
/// (nothing is redeployed on a failed read) and a warning says that the reference is
/// mutable. The release digest folds the content in, so a new object is a new release
/// even after the previous one was rolled back; while the content is what the tag
/// records, the release digest without it is accepted too (`previous_release`), so
/// releases recorded before content was identified stay current.
pub fn identify<'a>(
    desired: &'a DesiredFunction,
    observed: Option<&ObservedFunction>,
    observation: &Observation,
) -> Identified<'a> {
    let Some(key) = desired.code.content_key() else {
        return Identified {
            desired: Cow::Borrowed(desired),
            warning: None,
        };
    };
    let location = desired.code.identity().location;
    // The content recorded for this same reference, if any (`Some(None)`: recorded before
    // content was identified).
    let recorded: Option<Option<String>> = observed
        .and_then(ObservedFunction::code_tag)
        .filter(|tag| tag.identity.location == location)
        .map(|tag| tag.identity.content);
    let recorded_content = || {
        recorded
            .clone()
            .flatten()
            .map(|digest| ResolvedContent { digest, pin: None })
    };
    let mut warning = None;
    let content = match observation.code_content.get(&key) {
        Some(CodeContent::Unresolved(reason)) => {
            warning = Some(mutable_reference_warning(&desired.code, &key, reason));
            recorded_content()
        }
        Some(read) => read.digest().map(|digest| ResolvedContent {
            digest,
            pin: read.pin(),
        }),
        // Not read in this observation: the recorded content stands.
        None => recorded_content(),
    };
    let Some(content) = content else {
        return Identified {
            desired: Cow::Borrowed(desired),
            warning,
        };
    };
    let mut identified = desired.clone();
    let unchanged = match &recorded {
        Some(Some(digest)) => *digest == content.digest,
        // Recorded before content was identified: adopted as it is.
        Some(None) => true,
        None => false,
    };
    if unchanged {
        identified.previous_release = Some(desired.release_digest.clone());
    }
    identified.release_digest = short_digest(&(&desired.release_digest, &content.digest));
    identified.code.set_resolved(content);
    Identified {
        desired: Cow::Owned(identified),
        warning,
    }
}

/// Whether the code's reference names new content since the last deploy (an object
/// overwritten, a tag moved): a new release, not drift.
pub fn content_moved(desired: &DesiredFunction, observed: &ObservedFunction) -> bool {
    observed
        .code_tag()
        .is_some_and(|recorded| desired.code.identity().moved_from(&recorded.identity))
}

fn mutable_reference_warning(code: &CodeArtifact, key: &str, reason: &str) -> String {
    match code {
        CodeArtifact::Image { .. } => format!(
            "code.image {key} is a mutable reference whose digest cannot be read ({reason}): a tag moved to a new image is not deployed; name the image by digest (@sha256:...) or let shepherd read the repository (ecr:DescribeImages)"
        ),
        _ => format!(
            "code.s3 {key} is a mutable reference whose content cannot be read ({reason}): an object overwritten at the same key is not deployed; pin objectVersion or let shepherd read the object (s3:GetObject)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_of_an_image_keeps_a_registry_port() {
        assert_eq!(
            repository_of("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:latest"),
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app"
        );
        assert_eq!(repository_of("localhost:5000/app"), "localhost:5000/app");
        assert_eq!(repository_of("localhost:5000/app:v2"), "localhost:5000/app");
    }

    #[test]
    fn ecr_repositories_are_told_from_other_registries() {
        assert_eq!(
            ecr_repository("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app"),
            Some(EcrRepository {
                registry_id: "123456789012",
                region: "eu-west-1",
                name: "team/app"
            })
        );
        assert_eq!(ecr_repository("docker.io/library/app"), None);
        assert_eq!(
            ecr_repository("12.dkr.ecr.eu-west-1.amazonaws.com/app"),
            None
        );
        for hostile in ["x@evil", "eu-west-1:443", "EU-WEST-1", "a%2f"] {
            let uri = format!("123456789012.dkr.ecr.{hostile}.amazonaws.com/app");
            assert_eq!(ecr_repository(&uri), None, "{uri}");
        }
    }
}
