//! The SQS calls of the controller's triggers (long-polled receive, delete), for the
//! deploy-request and alarm-event queues.

use aws_sdk_sqs::error::DisplayErrorContext;
use shepherd_core::cloud::{Api, Queues};

use crate::AwsCloud;

const RECEIVE: Api = Api::ReceiveMessage;
const DELETE: Api = Api::DeleteMessage;

fn failed<E: std::error::Error>(api: Api, error: E) -> String {
    format!("{api}: {}", DisplayErrorContext(error))
}

/// The controller's SQS triggers on aws-sdk-sqs.
pub struct SqsQueue {
    client: aws_sdk_sqs::Client,
}

impl SqsQueue {
    /// From the standard AWS environment, with the same overrides as [`AwsCloud`].
    pub async fn from_env(region: Option<String>, endpoint_url: Option<String>) -> Self {
        Self::for_target(region, endpoint_url, None).await
    }

    /// [`SqsQueue::from_env`], acting as `role` when given (a queue in a target's account).
    pub async fn for_target(
        region: Option<String>,
        endpoint_url: Option<String>,
        role: Option<&crate::AssumedRole>,
    ) -> Self {
        let config = crate::sdk_config_as(region, endpoint_url, role).await;
        Self {
            client: aws_sdk_sqs::Client::new(&config),
        }
    }
}

/// A message as `ReceiveMessage` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsMessage {
    pub body: String,
    /// Handle for deleting the message.
    pub receipt: String,
    /// How often it has been received (`ApproximateReceiveCount`).
    pub receive_count: u32,
}

// The controller's trigger port (`shepherd_controller::triggers::MessageQueue`) is
// implemented on these by the binary, which depends on both crates.
impl SqsQueue {
    /// `ReceiveMessage` with a 20-second long poll, up to 10 messages.
    pub async fn receive(&self, url: &str) -> Result<Vec<SqsMessage>, String> {
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(20)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount,
            )
            .send()
            .await
            .map_err(|e| failed(RECEIVE, e))?;
        Ok(out
            .messages()
            .iter()
            .map(|m| SqsMessage {
                body: m.body().unwrap_or_default().to_owned(),
                receipt: m.receipt_handle().unwrap_or_default().to_owned(),
                receive_count: m
                    .attributes()
                    .and_then(|a| a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1),
            })
            .collect())
    }

    /// `DeleteMessage`.
    pub async fn delete(&self, url: &str, receipt: &str) -> Result<(), String> {
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| failed(DELETE, e))
    }
}

impl Queues for AwsCloud {
    /// `GetQueueUrl` (the name and owner account come from the ARN), then
    /// `GetQueueAttributes` for the visibility timeout and the redrive policy's target.
    async fn get_queue_attributes(
        &self,
        queue_arn: &str,
    ) -> shepherd_core::cloud::CloudResult<Option<shepherd_core::model::QueueAttributes>> {
        let client = &self.sqs;
        use aws_sdk_sqs::types::QueueAttributeName;
        use shepherd_core::cloud::CloudError;
        let mut parts = queue_arn.split(':');
        let (Some(account), Some(name)) = (parts.nth(4), parts.next()) else {
            return Err(CloudError::Rejected {
                api: Api::GetQueueUrl,
                code: "InvalidArn".to_owned(),
                message: format!("{queue_arn} is not an SQS queue ARN"),
            });
        };
        let url = match client
            .get_queue_url()
            .queue_name(name)
            .queue_owner_aws_account_id(account)
            .send()
            .await
        {
            Ok(out) => out.queue_url().unwrap_or_default().to_owned(),
            Err(error) => {
                let code =
                    aws_sdk_sqs::error::ProvideErrorMetadata::code(&error).unwrap_or_default();
                if code.contains("NonExistentQueue") || code.contains("QueueDoesNotExist") {
                    return Ok(None);
                }
                return Err(crate::error::from_sdk(Api::GetQueueUrl)(error));
            }
        };
        let out = client
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::VisibilityTimeout)
            .attribute_names(QueueAttributeName::RedrivePolicy)
            .send()
            .await
            .map_err(crate::error::from_sdk(Api::GetQueueAttributes))?;
        let attributes = out.attributes();
        let visibility_timeout_secs = attributes
            .and_then(|a| a.get(&QueueAttributeName::VisibilityTimeout))
            .and_then(|v| v.parse().ok())
            .unwrap_or(30);
        let dead_letter_queue = attributes
            .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
            .and_then(|policy| serde_json::from_str::<serde_json::Value>(policy).ok())
            .and_then(|policy| {
                policy
                    .get("deadLetterTargetArn")?
                    .as_str()
                    .map(str::to_owned)
            });
        Ok(Some(shepherd_core::model::QueueAttributes {
            visibility_timeout_secs,
            dead_letter_queue,
        }))
    }
}
