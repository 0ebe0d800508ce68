//! How a function is invoked: asynchronous invocation settings and SQS event source
//! mappings.

use super::*;

impl EventSources for AwsCloud {
    /// `GetFunctionEventInvokeConfig`; `None` when there is none.
    async fn get_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
    ) -> CloudResult<Option<AsyncConfig>> {
        let client = &self.lambda;
        let out = absent_as_none(
            client
                .get_function_event_invoke_config()
                .function_name(name)
                .set_qualifier(qualifier.map(str::to_owned))
                .send()
                .await
                .map_err(from_sdk(Api::GetFunctionEventInvokeConfig)),
        )?;
        Ok(out.map(|out| {
            convert::async_config(
                out.maximum_retry_attempts(),
                out.maximum_event_age_in_seconds(),
                out.destination_config(),
            )
        }))
    }

    /// `PutFunctionEventInvokeConfig` (which replaces the whole configuration, so omitted
    /// destinations are removed), or `DeleteFunctionEventInvokeConfig` for `None`.
    async fn put_async_config(
        &self,
        name: &str,
        qualifier: Option<&str>,
        config: Option<&AsyncConfig>,
    ) -> CloudResult<()> {
        let client = &self.lambda;
        match config {
            Some(config) => {
                client
                    .put_function_event_invoke_config()
                    .function_name(name)
                    .set_qualifier(qualifier.map(str::to_owned))
                    .maximum_retry_attempts(i32::from(config.maximum_retry_attempts))
                    .maximum_event_age_in_seconds(to_i32(config.maximum_event_age_secs))
                    .set_destination_config(convert::sdk_destinations(config))
                    .send()
                    .await
                    .map_err(from_sdk(Api::PutFunctionEventInvokeConfig))?;
                Ok(())
            }
            None => client
                .delete_function_event_invoke_config()
                .function_name(name)
                .set_qualifier(qualifier.map(str::to_owned))
                .send()
                .await
                .map(drop)
                .map_err(from_sdk(Api::DeleteFunctionEventInvokeConfig)),
        }
    }

    /// `ListEventSourceMappings`, one call per page; only SQS mappings are returned.
    ///
    /// `name` goes to `FunctionName` as given, so `name:alias` lists the mappings of that
    /// alias. Whether AWS includes the mappings on an alias when given the bare name is not
    /// documented; the emulator does not (it matches `FunctionName` as a string), and it
    /// reports the alias's version ARN, not the alias ARN, as the mapping's function.
    async fn list_mappings(&self, name: Option<&str>) -> CloudResult<Vec<ObservedMapping>> {
        let client = &self.lambda;
        let mut pages = client
            .list_event_source_mappings()
            .set_function_name(name.map(str::to_owned))
            .into_paginator()
            .send();
        let mut mappings = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(from_sdk(Api::ListEventSourceMappings))?;
            mappings.extend(
                page.event_source_mappings()
                    .iter()
                    .filter_map(convert::mapping),
            );
        }
        Ok(mappings)
    }

    /// `CreateEventSourceMapping` on `name` or `name:qualifier`; returns the mapping's UUID.
    async fn create_mapping(
        &self,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> CloudResult<String> {
        let client = &self.lambda;
        const API: Api = Api::CreateEventSourceMapping;
        let mut request = client
            .create_event_source_mapping()
            .function_name(convert::qualified_name(name, qualifier))
            .event_source_arn(&config.queue_arn)
            .batch_size(to_i32(config.batch_size))
            .maximum_batching_window_in_seconds(to_i32(config.batching_window_secs))
            .enabled(config.enabled)
            .set_function_response_types(Some(convert::sdk_response_types(
                config.report_batch_item_failures,
            )));
        // On creation, no scaling config is the default; an empty one is only needed to clear.
        if config.maximum_concurrency.is_some() {
            request = request.scaling_config(convert::sdk_scaling(config.maximum_concurrency));
        }
        if !config.filters.is_empty() {
            request = request.filter_criteria(convert::sdk_filters(&config.filters));
        }
        let out = request.send().await.map_err(from_sdk(API))?;
        out.uuid()
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| incomplete(API, "UUID"))
    }

    /// `UpdateEventSourceMapping`, with every setting (an empty scaling config and an empty
    /// response types list clear them). The queue of a mapping cannot change: a new queue is a
    /// new mapping.
    async fn update_mapping(
        &self,
        uuid: &str,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> CloudResult<()> {
        let client = &self.lambda;
        client
            .update_event_source_mapping()
            .uuid(uuid)
            .function_name(convert::qualified_name(name, qualifier))
            .batch_size(to_i32(config.batch_size))
            .maximum_batching_window_in_seconds(to_i32(config.batching_window_secs))
            .enabled(config.enabled)
            .scaling_config(convert::sdk_scaling(config.maximum_concurrency))
            .set_function_response_types(Some(convert::sdk_response_types(
                config.report_batch_item_failures,
            )))
            .filter_criteria(convert::sdk_filters(&config.filters))
            .send()
            .await
            .map_err(from_sdk(Api::UpdateEventSourceMapping))?;
        Ok(())
    }

    /// `DeleteEventSourceMapping`.
    async fn delete_mapping(&self, uuid: &str) -> CloudResult<()> {
        let client = &self.lambda;
        client
            .delete_event_source_mapping()
            .uuid(uuid)
            .send()
            .await
            .map(drop)
            .map_err(from_sdk(Api::DeleteEventSourceMapping))
    }
}
