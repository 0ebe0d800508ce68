//! What an S3 code object is now: `HeadObject` for its ETag and version id, so that an
//! object overwritten at the same key is told from the one deployed.

use shepherd_core::cloud::CloudResult;
use shepherd_core::model::S3ObjectHead;

const API: &str = "HeadObject";

/// `HeadObject`; a missing object (HTTP 404) is `Ok(None)`.
pub(crate) async fn head_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> CloudResult<Option<S3ObjectHead>> {
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
