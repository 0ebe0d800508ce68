//! How a function is invoked: concurrency, its alias, async invocation and event sources.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;
use super::patterns;

/// The alias callers invoke. shepherd publishes a version for every change and moves the
/// alias to it, through the rollout when one is configured. shepherd owns the alias's
/// description: it holds the rollout's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Alias {
    #[schemars(pattern(patterns::ALIAS_NAME), length(min = 1, max = 128), extend("x-expected" = "an alias name of letters, digits, hyphens or underscores, not only digits"))]
    pub name: String,
    /// Execution environments kept initialised for the alias (no cold starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub provisioned_concurrency: Option<u32>,
}

/// Settings for asynchronous invocations (events from S3, SNS, EventBridge schedules, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AsyncInvocation {
    /// Retries after a failed attempt, 0-2 (AWS default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 2))]
    pub maximum_retry_attempts: Option<u8>,
    /// How long Lambda keeps an event for retries, 60s to 6h (AWS default 6h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_event_age: Option<HumanDuration>,
    /// Where records of successful invocations go (SQS, SNS, Lambda or EventBridge ARN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::DESTINATION_ARN), extend("x-expected" = "an SQS, SNS, Lambda or EventBridge ARN"))]
    pub on_success: Option<String>,
    /// Where records of events that failed every attempt go.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::DESTINATION_ARN), extend("x-expected" = "an SQS, SNS, Lambda or EventBridge ARN"))]
    pub on_failure: Option<String>,
    /// The function's dead-letter queue or topic (SQS or SNS ARN) for failed events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::DEAD_LETTER_ARN), extend("x-expected" = "an SQS queue or SNS topic ARN"))]
    pub dead_letter_target: Option<String>,
}

/// Event sources that Lambda polls for the function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventSources {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sqs: Vec<SqsSource>,
}

/// An SQS queue that feeds the function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SqsSource {
    /// The queue's ARN.
    #[schemars(pattern(patterns::SQS_QUEUE_ARN), extend("x-expected" = "an SQS queue ARN"))]
    pub queue: String,
    /// Records per batch, 1-10000 (AWS default 10; at most 10 for FIFO queues). Above 10 a
    /// `batchingWindow` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 10000))]
    pub batch_size: Option<u32>,
    /// How long Lambda gathers records before invoking, up to 5m (AWS default 0s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batching_window: Option<HumanDuration>,
    /// Whether the mapping polls (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Most concurrent invocations this source may drive, 2-1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 2, max = 1000))]
    pub maximum_concurrency: Option<u32>,
    /// The function reports failed records one by one (`ReportBatchItemFailures`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_batch_item_failures: Option<bool>,
    /// The dead-letter queue of the source queue (its redrive policy target), where records
    /// that keep failing end up. Declared here so reviews and lints can see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::SQS_QUEUE_ARN), extend("x-expected" = "an SQS queue ARN"))]
    pub dead_letter_queue: Option<String>,
    /// Event filters: only records that match one of these patterns invoke the function
    /// (Lambda's `FilterCriteria`), each written as a mapping, e.g.
    /// `{body: {type: [order-created]}}`. At most 5.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub filter_criteria: Vec<serde_json::Map<String, serde_json::Value>>,
}

impl SqsSource {
    pub fn is_fifo(&self) -> bool {
        self.queue.ends_with(".fifo")
    }
}
