//! What an S3 code object is now: `HeadObject` for its ETag and version id, so that an
//! object overwritten at the same key is told from the one deployed.

use shepherd_core::cloud::{Api, CloudResult, ObjectStore};

use crate::AwsCloud;
use shepherd_core::model::S3ObjectHead;

const API: Api = Api::HeadObject;

impl ObjectStore for AwsCloud {
    /// `HeadObject`; a missing object (HTTP 404) is `Ok(None)`.
    async fn head_object(&self, bucket: &str, key: &str) -> CloudResult<Option<S3ObjectHead>> {
        let client = &self.s3;
        match client.head_object().bucket(bucket).key(key).send().await {
            Ok(out) => Ok(Some(S3ObjectHead {
                etag: out.e_tag().unwrap_or_default().to_owned(),
                // Unversioned buckets answer "null" or nothing.
                version_id: out
                    .version_id()
                    .filter(|v| !v.is_empty() && *v != "null")
                    .map(str::to_owned),
            })),
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(None),
            Err(error) => Err(crate::error::from_sdk(API)(error)),
        }
    }
}
