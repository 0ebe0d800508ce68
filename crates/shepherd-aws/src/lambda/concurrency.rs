//! Reserved and provisioned concurrency.

use super::*;

/// `ListProvisionedConcurrencyConfigs`, one call per page.
pub(crate) async fn list_provisioned_concurrency(
    client: &Client,
    name: &str,
) -> CloudResult<Vec<ProvisionedConcurrency>> {
    let mut pages = client
        .list_provisioned_concurrency_configs()
        .function_name(name)
        .into_paginator()
        .send();
    let mut configs = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(from_sdk("ListProvisionedConcurrencyConfigs"))?;
        configs.extend(
            page.provisioned_concurrency_configs()
                .iter()
                .map(convert::provisioned_item),
        );
    }
    Ok(configs)
}

/// `GetProvisionedConcurrencyConfig`; `None` when the qualifier has none.
pub(crate) async fn get_provisioned_concurrency(
    client: &Client,
    name: &str,
    qualifier: &str,
) -> CloudResult<Option<ProvisionedConcurrency>> {
    let out = absent_as_none(
        client
            .get_provisioned_concurrency_config()
            .function_name(name)
            .qualifier(qualifier)
            .send()
            .await
            .map_err(from_sdk("GetProvisionedConcurrencyConfig")),
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

/// `PutFunctionConcurrency`, or `DeleteFunctionConcurrency` for `None`.
pub(crate) async fn put_reserved_concurrency(
    client: &Client,
    name: &str,
    count: Option<u32>,
) -> CloudResult<()> {
    match count {
        Some(count) => {
            client
                .put_function_concurrency()
                .function_name(name)
                .reserved_concurrent_executions(to_i32(count))
                .send()
                .await
                .map_err(from_sdk("PutFunctionConcurrency"))?;
            Ok(())
        }
        None => client
            .delete_function_concurrency()
            .function_name(name)
            .send()
            .await
            .map(drop)
            .map_err(from_sdk("DeleteFunctionConcurrency")),
    }
}

/// `PutProvisionedConcurrencyConfig`. Allocation continues after the call returns: poll
/// [`get_provisioned_concurrency`] for READY.
pub(crate) async fn put_provisioned_concurrency(
    client: &Client,
    name: &str,
    qualifier: &str,
    count: u32,
) -> CloudResult<()> {
    client
        .put_provisioned_concurrency_config()
        .function_name(name)
        .qualifier(qualifier)
        .provisioned_concurrent_executions(to_i32(count))
        .send()
        .await
        .map_err(from_sdk("PutProvisionedConcurrencyConfig"))?;
    Ok(())
}

/// `DeleteProvisionedConcurrencyConfig`.
pub(crate) async fn delete_provisioned_concurrency(
    client: &Client,
    name: &str,
    qualifier: &str,
) -> CloudResult<()> {
    client
        .delete_provisioned_concurrency_config()
        .function_name(name)
        .qualifier(qualifier)
        .send()
        .await
        .map(drop)
        .map_err(from_sdk("DeleteProvisionedConcurrencyConfig"))
}
