//! Published versions and the aliases that route traffic between them.

use super::*;

impl Aliases for AwsCloud {
    /// `ListVersionsByFunction`, one call per page; `$LATEST` is left out.
    async fn list_versions(&self, name: &str) -> CloudResult<Vec<ObservedVersion>> {
        let client = &self.lambda;
        let mut pages = client
            .list_versions_by_function()
            .function_name(name)
            .into_paginator()
            .send();
        let mut versions = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(from_sdk(Api::ListVersionsByFunction))?;
            versions.extend(page.versions().iter().filter_map(convert::version));
        }
        Ok(versions)
    }

    /// `PublishVersion`, with `CodeSha256` as a precondition when given.
    async fn publish_version(
        &self,
        name: &str,
        description: &str,
        expected_sha256: Option<&str>,
    ) -> CloudResult<ObservedVersion> {
        let client = &self.lambda;
        const API: Api = Api::PublishVersion;
        let out = client
            .publish_version()
            .function_name(name)
            .description(description)
            .set_code_sha256(expected_sha256.map(str::to_owned))
            .send()
            .await
            .map_err(from_sdk(API))?;
        Ok(ObservedVersion {
            version: out
                .version()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| incomplete(API, "Version"))?
                .to_owned(),
            code_sha256: out.code_sha256().unwrap_or_default().to_owned(),
            description: out.description().unwrap_or_default().to_owned(),
        })
    }

    /// `DeleteFunction` with the version as `Qualifier`.
    async fn delete_version(&self, name: &str, version: &str) -> CloudResult<()> {
        let client = &self.lambda;
        client
            .delete_function()
            .function_name(name)
            .qualifier(version)
            .send()
            .await
            .map(drop)
            .map_err(from_sdk(Api::DeleteFunction))
    }

    /// `ListAliases`, one call per page.
    async fn list_aliases(&self, name: &str) -> CloudResult<Vec<ObservedAlias>> {
        let client = &self.lambda;
        let mut pages = client
            .list_aliases()
            .function_name(name)
            .into_paginator()
            .send();
        let mut aliases = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(from_sdk(Api::ListAliases))?;
            aliases.extend(page.aliases().iter().map(convert::alias));
        }
        Ok(aliases)
    }

    /// `CreateAlias`.
    async fn create_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        description: &str,
    ) -> CloudResult<()> {
        let client = &self.lambda;
        client
            .create_alias()
            .function_name(name)
            .name(alias)
            .function_version(version)
            .description(description)
            .send()
            .await
            .map_err(from_sdk(Api::CreateAlias))?;
        Ok(())
    }

    /// `UpdateAlias`. The routing config is always sent, with an empty weights map when there
    /// is no additional version: an absent `RoutingConfig` would keep the old weights.
    async fn update_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        additional: Option<(&str, f64)>,
        description: &str,
        revision: Option<&str>,
    ) -> CloudResult<Option<String>> {
        let client = &self.lambda;
        let weights = additional
            .map(|(version, weight)| (version.to_owned(), weight))
            .into_iter()
            .collect();
        let out = client
            .update_alias()
            .function_name(name)
            .name(alias)
            .function_version(version)
            .description(description)
            .routing_config(
                lt::AliasRoutingConfiguration::builder()
                    .set_additional_version_weights(Some(weights))
                    .build(),
            )
            .set_revision_id(revision.map(str::to_owned))
            .send()
            .await
            .map_err(from_sdk(Api::UpdateAlias))?;
        Ok(out.revision_id)
    }
}
