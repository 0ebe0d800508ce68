//! How a function gets invoked: async invoke config, recursive loop detection and SQS
//! event source mappings.

use super::state::{LATEST, Outcome, Refusal, World, exists, function_arn, invalid, record};
use shepherd_core::model::lambda;
use shepherd_core::model::{AsyncConfig, MappingConfig, ObservedMapping};
use shepherd_core::spec::RecursiveLoop;

/// The services an async invoke destination can be.
const DESTINATIONS: [&str; 4] = [
    "arn:aws:lambda:",
    "arn:aws:sqs:",
    "arn:aws:sns:",
    "arn:aws:events:",
];

impl World {
    pub(super) fn get_async_config(
        &mut self,
        name: &str,
        qualifier: Option<&str>,
    ) -> Outcome<Option<AsyncConfig>> {
        let record = record(&mut self.functions, name)?;
        let qualifier = qualifier.unwrap_or(LATEST);
        record.resolve(qualifier)?;
        Ok(record.async_configs.get(qualifier).cloned())
    }

    /// `PutFunctionEventInvokeConfig`, or `DeleteFunctionEventInvokeConfig` for `None`.
    pub(super) fn put_async_config(
        &mut self,
        name: &str,
        qualifier: Option<&str>,
        config: Option<&AsyncConfig>,
    ) -> Outcome<()> {
        let record = record(&mut self.functions, name)?;
        let qualifier = qualifier.unwrap_or(LATEST);
        record.resolve(qualifier)?;
        match config {
            Some(config) => {
                check_async(config)?;
                record
                    .async_configs
                    .insert(qualifier.to_owned(), config.clone());
                Ok(())
            }
            None => record
                .async_configs
                .remove(qualifier)
                .map(drop)
                .ok_or_else(|| {
                    Refusal::NotFound(format!(
                        "The function {} doesn't have an EventInvokeConfig",
                        function_arn(name, Some(qualifier))
                    ))
                }),
        }
    }

    pub(super) fn get_recursive_loop(&mut self, name: &str) -> Outcome<RecursiveLoop> {
        Ok(record(&mut self.functions, name)?.function.recursive_loop)
    }

    pub(super) fn put_recursive_loop(&mut self, name: &str, mode: RecursiveLoop) -> Outcome<()> {
        record(&mut self.functions, name)?.function.recursive_loop = mode;
        Ok(())
    }

    /// The mappings that invoke `name` (any qualifier), or every mapping.
    pub(super) fn list_mappings(&self, name: Option<&str>) -> Outcome<Vec<ObservedMapping>> {
        let Some(name) = name else {
            return Ok(self.mappings.values().cloned().collect());
        };
        if !self.functions.contains_key(name) {
            return Err(super::state::missing_function(name));
        }
        let arn = function_arn(name, None);
        Ok(self
            .mappings
            .values()
            .filter(|m| {
                m.function_arn == arn
                    || m.function_arn
                        .strip_prefix(&arn)
                        .is_some_and(|rest| rest.starts_with(':'))
            })
            .cloned()
            .collect())
    }

    pub(super) fn create_mapping(
        &mut self,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> Outcome<String> {
        let function_arn = self.mapping_target(name, qualifier)?;
        check_mapping(config)?;
        self.check_unique(None, &function_arn, &config.queue_arn)?;
        let uuid = self.next_id();
        self.mappings.insert(
            uuid.clone(),
            ObservedMapping {
                uuid: uuid.clone(),
                function_arn,
                config: config.clone(),
            },
        );
        Ok(uuid)
    }

    pub(super) fn update_mapping(
        &mut self,
        uuid: &str,
        name: &str,
        qualifier: Option<&str>,
        config: &MappingConfig,
    ) -> Outcome<()> {
        let Some(existing) = self.mappings.get(uuid) else {
            return Err(missing_mapping(uuid));
        };
        if existing.config.queue_arn != config.queue_arn {
            return Err(invalid(
                "The EventSourceArn of an event source mapping cannot be updated",
            ));
        }
        let function_arn = self.mapping_target(name, qualifier)?;
        check_mapping(config)?;
        self.check_unique(Some(uuid), &function_arn, &config.queue_arn)?;
        let mapping = self
            .mappings
            .get_mut(uuid)
            .ok_or_else(|| missing_mapping(uuid))?;
        mapping.function_arn = function_arn;
        mapping.config = config.clone();
        Ok(())
    }

    pub(super) fn delete_mapping(&mut self, uuid: &str) -> Outcome<()> {
        self.mappings
            .remove(uuid)
            .map(drop)
            .ok_or_else(|| missing_mapping(uuid))
    }

    /// The ARN a mapping invokes; the function and the qualifier must exist.
    fn mapping_target(&mut self, name: &str, qualifier: Option<&str>) -> Outcome<String> {
        let record = record(&mut self.functions, name)?;
        if let Some(qualifier) = qualifier {
            record.resolve(qualifier)?;
        }
        Ok(function_arn(name, qualifier))
    }

    /// Lambda allows one mapping per queue and function ARN.
    fn check_unique(
        &self,
        updating: Option<&str>,
        function_arn: &str,
        queue_arn: &str,
    ) -> Outcome<()> {
        let duplicate = self.mappings.values().find(|m| {
            Some(m.uuid.as_str()) != updating
                && m.function_arn == function_arn
                && m.config.queue_arn == queue_arn
        });
        match duplicate {
            Some(m) => Err(exists(format!(
                "The event source arn ({queue_arn}) and function ({function_arn}) provided \
                 mapping already exists. Please update or delete the existing mapping with \
                 UUID {}",
                m.uuid
            ))),
            None => Ok(()),
        }
    }
}

fn missing_mapping(uuid: &str) -> Refusal {
    Refusal::NotFound(format!(
        "The resource you requested does not exist. (UUID {uuid})"
    ))
}

fn check_async(config: &AsyncConfig) -> Outcome<()> {
    if config.maximum_retry_attempts > 2 {
        return Err(invalid("MaximumRetryAttempts must be between 0 and 2"));
    }
    if !lambda::ASYNC_EVENT_AGE_SECS.contains(&config.maximum_event_age_secs) {
        return Err(invalid(
            "MaximumEventAgeInSeconds must be between 60 and 21600",
        ));
    }
    for destination in [&config.on_success, &config.on_failure]
        .into_iter()
        .flatten()
    {
        if !DESTINATIONS.iter().any(|p| destination.starts_with(p)) {
            return Err(invalid(format!(
                "The destination ARN {destination} is not a Lambda function, SQS queue, SNS \
                 topic or EventBridge event bus"
            )));
        }
    }
    Ok(())
}

/// Lambda's limits for SQS event sources.
fn check_mapping(config: &MappingConfig) -> Outcome<()> {
    if !config.queue_arn.starts_with("arn:aws:sqs:") {
        return Err(invalid(format!(
            "{} is not an SQS queue ARN",
            config.queue_arn
        )));
    }
    if !(1..=10_000).contains(&config.batch_size) {
        return Err(invalid("BatchSize must be between 1 and 10000 for SQS"));
    }
    if config.batching_window_secs > 300 {
        return Err(invalid(
            "MaximumBatchingWindowInSeconds must be between 0 and 300",
        ));
    }
    if config.queue_arn.ends_with(".fifo") {
        if config.batch_size > 10 {
            return Err(invalid(
                "BatchSize must be between 1 and 10 for FIFO queues",
            ));
        }
        if config.batching_window_secs > 0 {
            return Err(invalid("Batching window is not supported for FIFO queues"));
        }
    } else if config.batch_size > 10 && config.batching_window_secs == 0 {
        return Err(invalid(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is \
             greater than 10",
        ));
    }
    if config
        .maximum_concurrency
        .is_some_and(|c| !(2..=1000).contains(&c))
    {
        return Err(invalid(
            "ScalingConfig MaximumConcurrency must be between 2 and 1000",
        ));
    }
    Ok(())
}
