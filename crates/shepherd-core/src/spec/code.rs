//! Where a function's code comes from.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The deployment package: exactly one of `s3`, `image` or `path`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Code {
    /// A zip archive in S3, typically built by CI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Code>,
    /// A container image URI in Amazon ECR (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG` or
    /// `...@sha256:DIGEST`). Handler, runtime and layers do not apply to images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub image: Option<String>,
    /// A local zip file or directory, relative to the spec file. shepherd packages a
    /// directory itself (a reproducible zip) and identifies the code by its SHA-256 digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub path: Option<String>,
}

/// A zip archive stored in S3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3Code {
    #[schemars(pattern(super::patterns::S3_BUCKET), extend("x-expected" = "an S3 bucket name"))]
    pub bucket: String,
    #[schemars(length(min = 1, max = 1024))]
    pub key: String,
    /// Pins a version of the object in a versioned bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub object_version: Option<String>,
}

/// The code source, once validated: exactly one kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CodeSource<'a> {
    S3(&'a S3Code),
    Image(&'a str),
    Path(&'a str),
}

impl Code {
    /// The single source set, if exactly one is.
    pub fn source(&self) -> Option<CodeSource<'_>> {
        match (&self.s3, &self.image, &self.path) {
            (Some(s3), None, None) => Some(CodeSource::S3(s3)),
            (None, Some(image), None) => Some(CodeSource::Image(image)),
            (None, None, Some(path)) => Some(CodeSource::Path(path)),
            _ => None,
        }
    }

    pub fn is_image(&self) -> bool {
        self.image.is_some()
    }
}
