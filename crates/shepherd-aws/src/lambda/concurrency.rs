//! Reserved and provisioned concurrency.

use super::*;

impl Concurrency for AwsCloud {
    /// `PutFunctionConcurrency`, or `DeleteFunctionConcurrency` for `None`.
    async fn put_reserved_concurrency(&self, name: &str, count: Option<u32>) -> CloudResult<()> {
        let client = &self.lambda;
        match count {
            Some(count) => {
                client
                    .put_function_concurrency()
                    .function_name(name)
                    .reserved_concurrent_executions(to_i32(count))
                    .send()
                    .await
                    .map_err(from_sdk(Api::PutFunctionConcurrency))?;
                Ok(())
            }
            None => client
                .delete_function_concurrency()
                .function_name(name)
                .send()
                .await
                .map(drop)
                .map_err(from_sdk(Api::DeleteFunctionConcurrency)),
        }
    }

    /// `ListProvisionedConcurrencyConfigs`, one call per page.
    async fn list_provisioned_concurrency(
        &self,
        name: &str,
    ) -> CloudResult<Vec<ProvisionedConcurrency>> {
        let client = &self.lambda;
        let mut pages = client
            .list_provisioned_concurrency_configs()
            .function_name(name)
            .into_paginator()
            .send();
        let mut configs = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(from_sdk(Api::ListProvisionedConcurrencyConfigs))?;
            configs.extend(
                page.provisioned_concurrency_configs()
                    .iter()
                    .map(convert::provisioned_item),
            );
        }
        Ok(configs)
    }

    /// `GetProvisionedConcurrencyConfig`; `None` when the qualifier has none.
    async fn get_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
    ) -> CloudResult<Option<ProvisionedConcurrency>> {
        let client = &self.lambda;
        let out = absent_as_none(
            client
                .get_provisioned_concurrency_config()
                .function_name(name)
                .qualifier(qualifier)
                .send()
                .await
                .map_err(from_sdk(Api::GetProvisionedConcurrencyConfig)),
        )?;
        Ok(out.map(|out| ProvisionedConcurrency {
            qualifier: qualifier.to_owned(),
            requested: out
                .requested_provisioned_concurrent_executions()
                .map_or(0, to_u32),
            allocated: out
                .allocated_provisioned_concurrent_executions()
                .map_or(0, to_u32),
            status: convert::provisioned_status(out.status(), out.status_reason()),
        }))
    }

    /// `PutProvisionedConcurrencyConfig`. Allocation continues after the call returns: poll
    /// [`get_provisioned_concurrency`] for READY.
    async fn put_provisioned_concurrency(
        &self,
        name: &str,
        qualifier: &str,
        count: u32,
    ) -> CloudResult<()> {
        let client = &self.lambda;
        client
            .put_provisioned_concurrency_config()
            .function_name(name)
            .qualifier(qualifier)
            .provisioned_concurrent_executions(to_i32(count))
            .send()
            .await
            .map_err(from_sdk(Api::PutProvisionedConcurrencyConfig))?;
        Ok(())
    }

    /// `DeleteProvisionedConcurrencyConfig`.
    async fn delete_provisioned_concurrency(&self, name: &str, qualifier: &str) -> CloudResult<()> {
        let client = &self.lambda;
        client
            .delete_provisioned_concurrency_config()
            .function_name(name)
            .qualifier(qualifier)
            .send()
            .await
            .map(drop)
            .map_err(from_sdk(Api::DeleteProvisionedConcurrencyConfig))
    }
}
