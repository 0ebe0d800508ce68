//! SQS triggers: a deploy-request queue ("sync now", optionally naming functions or a
//! commit) and a queue of EventBridge "CloudWatch Alarm State Change" events, so that an
//! alarm that fires during a canary rolls it back at once instead of at the next poll.

use std::future::Future;

use serde::Deserialize;

use crate::handle::Trigger;

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub body: String,
    /// Handle for deleting the message.
    pub receipt: String,
    /// How often it has been received (`ApproximateReceiveCount`).
    pub receive_count: u32,
}

/// The SQS calls of the controller's triggers: SQS in production, a stand-in in tests.
pub trait MessageQueue: Send + Sync + 'static {
    /// Long-polls for up to 10 messages.
    fn receive(&self, url: &str) -> impl Future<Output = Result<Vec<Message>, String>> + Send;
    fn delete(&self, url: &str, receipt: &str) -> impl Future<Output = Result<(), String>> + Send;
}

/// A malformed message is dropped after this many receives (it never becomes valid; the
/// queue's own dead-letter redrive, when configured, usually takes it earlier).
pub const MALFORMED_DROP_AFTER: u32 = 3;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct DeployRequest {
    #[serde(default)]
    functions: Vec<String>,
    #[serde(default)]
    commit: Option<String>,
}

/// Reads a deploy request: `{"functions": ["orders-api"], "commit": "abc123"}`, both
/// optional (`{}` syncs everything).
pub fn parse_deploy_request(body: &str) -> Result<Trigger, String> {
    let request: DeployRequest =
        serde_json::from_str(body).map_err(|e| format!("not a deploy request: {e}"))?;
    Ok(Trigger::DeployRequest {
        functions: request.functions,
        commit: request.commit,
    })
}

#[derive(Deserialize)]
struct AlarmEvent {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: AlarmDetail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AlarmDetail {
    alarm_name: String,
    state: AlarmStateValue,
}

#[derive(Deserialize)]
struct AlarmStateValue {
    value: String,
}

/// Reads an EventBridge "CloudWatch Alarm State Change" event.
pub fn parse_alarm_event(body: &str) -> Result<Trigger, String> {
    let event: AlarmEvent =
        serde_json::from_str(body).map_err(|e| format!("not an alarm state change event: {e}"))?;
    if event.source != "aws.cloudwatch" || event.detail_type != "CloudWatch Alarm State Change" {
        return Err(format!(
            "unexpected event {} / {}",
            event.source, event.detail_type
        ));
    }
    let value = event.detail.state.value;
    let state = shepherd_core::model::AlarmState::from_cloudwatch(&value)
        .ok_or_else(|| format!("unknown alarm state {value}"))?;
    Ok(Trigger::AlarmChange {
        alarm: event.detail.alarm_name,
        state,
    })
}

/// Consumes one queue until `stop` resolves: each message becomes a trigger handed to
/// `enqueue` and is deleted only after that; malformed ones are logged and left for
/// redelivery, then dropped after [`MALFORMED_DROP_AFTER`] receives.
pub async fn consume<Q: MessageQueue>(
    queue: &Q,
    url: &str,
    parse: fn(&str) -> Result<Trigger, String>,
    enqueue: impl Fn(Trigger),
    stop: impl Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let received = tokio::select! {
            () = &mut stop => return,
            received = queue.receive(url) => received,
        };
        let messages = match received {
            Ok(messages) => messages,
            Err(error) => {
                tracing::warn!(queue = url, %error, "cannot receive from the queue; retrying in 5s");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                continue;
            }
        };
        for message in messages {
            match parse(&message.body) {
                Ok(trigger) => {
                    tracing::info!(queue = url, trigger = trigger.label(), "trigger received");
                    enqueue(trigger);
                }
                Err(error) if message.receive_count >= MALFORMED_DROP_AFTER => {
                    tracing::error!(queue = url, %error, receives = message.receive_count, "dropping a malformed message");
                }
                Err(error) => {
                    tracing::warn!(queue = url, %error, "malformed message left for redelivery");
                    continue;
                }
            }
            if let Err(error) = queue.delete(url, &message.receipt).await {
                tracing::warn!(queue = url, %error, "cannot delete a handled message");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_deploy_requests_and_alarm_events() {
        assert_eq!(
            parse_deploy_request(r#"{"functions": ["api"], "commit": "abc"}"#).unwrap(),
            Trigger::DeployRequest {
                functions: vec!["api".into()],
                commit: Some("abc".into())
            }
        );
        assert!(parse_deploy_request("{\"function\": 1}").is_err());
        let event = r#"{"version":"0","id":"x","detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch","account":"123456789012","time":"2026-11-26T14:00:00Z","region":"us-east-1","resources":[],"detail":{"alarmName":"api-errors","state":{"value":"ALARM","reason":"r","timestamp":"t"},"previousState":{"value":"OK"}}}"#;
        assert_eq!(
            parse_alarm_event(event).unwrap(),
            Trigger::AlarmChange {
                alarm: "api-errors".into(),
                state: shepherd_core::model::AlarmState::Alarm
            }
        );
        let unknown = event.replace(r#""value":"ALARM""#, r#""value":"SNOOZED""#);
        assert_eq!(
            parse_alarm_event(&unknown).unwrap_err(),
            "unknown alarm state SNOOZED"
        );
        assert!(parse_alarm_event("{}").is_err());
    }
}
