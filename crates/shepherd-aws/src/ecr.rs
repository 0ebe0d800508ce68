//! What an image tag points to now: `DescribeImages` for the digests of the tags the specs
//! name, one call per repository, so that a moved tag (`:latest`) is seen.

use std::collections::BTreeMap;

use shepherd_core::cloud::{Api, CloudError, CloudResult, ImageRegistry};

use crate::AwsCloud;
use shepherd_core::model::ecr_repository;

const API: Api = Api::DescribeImages;

enum DescribeError {
    /// A tag (or the repository) does not exist.
    Missing,
    Failed(CloudError),
}
use DescribeError::{Failed, Missing};

async fn describe(
    client: &aws_sdk_ecr::Client,
    registry_id: &str,
    name: &str,
    tags: &[String],
) -> Result<BTreeMap<String, String>, DescribeError> {
    let ids = tags.iter().map(|tag| {
        aws_sdk_ecr::types::ImageIdentifier::builder()
            .image_tag(tag)
            .build()
    });
    let out = client
        .describe_images()
        .registry_id(registry_id)
        .repository_name(name)
        .set_image_ids(Some(ids.collect()))
        .send()
        .await
        .map_err(|error| {
            let missing = error.as_service_error().is_some_and(|e| {
                e.is_image_not_found_exception() || e.is_repository_not_found_exception()
            });
            if missing {
                Missing
            } else {
                Failed(crate::error::from_sdk(API)(error))
            }
        })?;
    let mut found = BTreeMap::new();
    for image in out.image_details() {
        let Some(digest) = image.image_digest() else {
            continue;
        };
        for tag in image.image_tags() {
            if tags.contains(tag) {
                found.insert(tag.clone(), digest.to_owned());
            }
        }
    }
    Ok(found)
}

impl ImageRegistry for AwsCloud {
    /// The digests of `tags` in `repository` (`ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME`).
    /// A repository in another region is read through a client of that region.
    async fn image_digests(
        &self,
        repository: &str,
        tags: &[String],
    ) -> CloudResult<BTreeMap<String, String>> {
        let client = &self.ecr;
        let Some(repo) = ecr_repository(repository) else {
            return Err(CloudError::Rejected {
                api: API,
                code: "NotEcr".to_owned(),
                message: format!("{repository} is not an Amazon ECR repository"),
            });
        };
        let same_region = client
            .config()
            .region()
            .is_some_and(|r| r.as_ref() == repo.region);
        let regional;
        let client = if same_region {
            client
        } else {
            regional = aws_sdk_ecr::Client::from_conf(
                client
                    .config()
                    .to_builder()
                    .region(aws_sdk_ecr::config::Region::new(repo.region.to_owned()))
                    .build(),
            );
            &regional
        };
        match describe(client, repo.registry_id, repo.name, tags).await {
            // ECR refuses the whole call when one tag is missing: ask for each alone, so that
            // the others still resolve.
            Err(Missing) if tags.len() > 1 => {
                let mut found = BTreeMap::new();
                for tag in tags {
                    match describe(
                        client,
                        repo.registry_id,
                        repo.name,
                        std::slice::from_ref(tag),
                    )
                    .await
                    {
                        Ok(digests) => found.extend(digests),
                        Err(Missing) => {}
                        Err(Failed(error)) => return Err(error),
                    }
                }
                Ok(found)
            }
            Err(Missing) => Ok(BTreeMap::new()),
            Err(Failed(error)) => Err(error),
            Ok(found) => Ok(found),
        }
    }
}
