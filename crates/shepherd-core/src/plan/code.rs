//! The code of a function: whether what Lambda runs is what the spec names (by location,
//! by content, by `CodeSha256`), and the `shepherd.dev/code` tag that records it.

use super::*;

pub(super) fn code_tag(identity: &CodeIdentity, sha256: Option<&str>) -> String {
    CodeTag {
        identity: identity.clone(),
        sha256: sha256.map(str::to_owned),
    }
    .to_string()
}

pub(super) fn code_changes(
    desired: &DesiredFunction,
    identity: &CodeIdentity,
    observed: &ObservedFunction,
) -> Vec<Change> {
    let mut changes = Vec::new();
    if observed.architecture != desired.architecture {
        changes.push(Change {
            field: "architecture".to_owned(),
            from: format!("{:?}", observed.architecture),
            to: format!("{:?}", desired.architecture),
        });
    }
    let source_changed = match &desired.code {
        CodeArtifact::Zip { sha256, .. } => observed.code_sha256 != *sha256,
        _ => match observed.code_tag() {
            // The source moved (new S3 key or image), its content changed (an object
            // overwritten, a tag moved), or the code in AWS is not what shepherd deployed.
            Some(recorded) => {
                identity.differs_from(&recorded.identity)
                    || recorded
                        .sha256
                        .is_some_and(|sha| sha != observed.code_sha256)
            }
            None => true,
        },
    };
    if source_changed {
        changes.push(Change {
            field: "code".to_owned(),
            from: observed.code_sha256.clone(),
            to: match desired.code.known_sha256() {
                Some(sha) => sha.to_owned(),
                None => describe_source(&desired.code),
            },
        });
    }
    changes
}

pub(super) fn describe_source(code: &CodeArtifact) -> String {
    match code {
        // What the deploy pins to: the object version or image digest identified.
        CodeArtifact::S3 { bucket, key, .. } => match code.deploy_object_version() {
            Some(v) => format!("s3://{bucket}/{key}?versionId={v}"),
            None => format!("s3://{bucket}/{key}"),
        },
        CodeArtifact::Image { .. } => code.deploy_image_uri().unwrap_or_default().into_owned(),
        CodeArtifact::Zip { sha256, .. } => sha256.clone(),
        CodeArtifact::Unavailable { reason } => format!("(unavailable: {reason})"),
    }
}
