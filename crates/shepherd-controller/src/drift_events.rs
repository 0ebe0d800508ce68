//! Drift without polling: the CloudTrail management events of Lambda and CloudWatch, as an
//! EventBridge rule delivers them to an SQS queue (`detail-type: "AWS API Call via
//! CloudTrail"`). A write to a function, its aliases, its concurrency or its alarms made
//! outside shepherd queues that function for a full refresh at once, so that drift is
//! corrected in seconds while the periodic resync can be slow.
//!
//! shepherd's own calls are recognised by their user agent: every AWS client of shepherd
//! names its application (`USER_AGENT_APP`), which the SDK sends as `app/shepherd` and
//! CloudTrail records in `detail.userAgent`.

use serde::Deserialize;

use crate::handle::Trigger;

use shepherd_core::cloud::USER_AGENT_APP;

#[derive(Deserialize)]
struct Event {
    source: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    detail: Detail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail {
    event_name: String,
    #[serde(default)]
    user_agent: String,
    #[serde(default)]
    read_only: bool,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    request_parameters: Option<serde_json::Value>,
}

/// Reads an EventBridge "AWS API Call via CloudTrail" event of Lambda or CloudWatch into
/// a [`Trigger::CloudChange`] naming the functions and alarms it touched. Reads, failed
/// calls and calls that name nothing shepherd manages give a trigger that names nothing.
pub fn parse_cloudtrail_event(body: &str) -> Result<Trigger, String> {
    let event: Event =
        serde_json::from_str(body).map_err(|e| format!("not a CloudTrail API call event: {e}"))?;
    if event.detail_type != "AWS API Call via CloudTrail" {
        return Err(format!("unexpected event type {}", event.detail_type));
    }
    let detail = event.detail;
    let by_shepherd = is_shepherds(&detail.user_agent);
    let mut change = Trigger::CloudChange {
        event: api_name(&detail.event_name).to_owned(),
        functions: Vec::new(),
        alarms: Vec::new(),
        by_shepherd,
    };
    if detail.read_only || detail.error_code.is_some() {
        return Ok(change);
    }
    let parameters = detail.request_parameters.unwrap_or_default();
    let Trigger::CloudChange {
        functions, alarms, ..
    } = &mut change
    else {
        unreachable!("built above");
    };
    match event.source.as_str() {
        "aws.lambda" => {
            let named = ["functionName", "resource"]
                .iter()
                .filter_map(|key| parameters.get(key)?.as_str())
                .filter_map(function_name);
            functions.extend(named.map(str::to_owned));
        }
        "aws.monitoring" | "aws.cloudwatch" => {
            if let Some(name) = parameters.get("alarmName").and_then(|v| v.as_str()) {
                alarms.push(name.to_owned());
            }
            if let Some(names) = parameters.get("alarmNames").and_then(|v| v.as_array()) {
                alarms.extend(names.iter().filter_map(|v| Some(v.as_str()?.to_owned())));
            }
        }
        other => return Err(format!("unexpected event source {other}")),
    }
    functions.dedup();
    Ok(change)
}

/// Whether a CloudTrail `userAgent` is that of shepherd's SDK clients: the `app/` token
/// is exactly shepherd's (not a prefix of another application's name).
fn is_shepherds(user_agent: &str) -> bool {
    let own = format!("app/{USER_AGENT_APP}");
    user_agent.split_whitespace().any(|token| token == own)
}

/// CloudTrail names Lambda's calls with their API version (`UpdateAlias20150331`,
/// `UpdateFunctionConfiguration20150331v2`): the call's name without it.
fn api_name(event_name: &str) -> &str {
    let digits = event_name
        .char_indices()
        .find(|(_, c)| c.is_ascii_digit())
        .map_or(event_name.len(), |(i, _)| i);
    &event_name[..digits]
}

/// The function's name in a `functionName` or `resource` parameter: a name, a name with a
/// qualifier (`orders:live`), or a function ARN, with or without a qualifier. Other ARNs
/// (an event source mapping, a layer) name no function.
fn function_name(value: &str) -> Option<&str> {
    if let Some(rest) = value.strip_prefix("arn:") {
        // arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]
        let mut parts = rest.splitn(6, ':');
        let (_, service, _, _, kind) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        if service != "lambda" || kind != "function" {
            return None;
        }
        return parts.next()?.split(':').next().filter(|n| !n.is_empty());
    }
    value.split(':').next().filter(|n| !n.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lambda_event(name: &str, function: &str, agent: &str) -> String {
        serde_json::json!({
            "version": "0",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.lambda",
            "detail": {
                "eventSource": "lambda.amazonaws.com",
                "eventName": name,
                "userAgent": agent,
                "readOnly": false,
                "requestParameters": {"functionName": function, "memorySize": 1024}
            }
        })
        .to_string()
    }

    fn change(event: &str, functions: &[&str], alarms: &[&str], by_shepherd: bool) -> Trigger {
        Trigger::CloudChange {
            event: event.to_owned(),
            functions: functions.iter().map(|f| (*f).to_owned()).collect(),
            alarms: alarms.iter().map(|a| (*a).to_owned()).collect(),
            by_shepherd,
        }
    }

    #[test]
    fn a_console_change_names_the_function_whatever_form_it_takes() {
        let console = "console.amazonaws.com";
        for named in [
            "orders",
            "orders:live",
            "arn:aws:lambda:eu-west-1:123456789012:function:orders",
            "arn:aws:lambda:eu-west-1:123456789012:function:orders:7",
        ] {
            let event = lambda_event("UpdateFunctionConfiguration20150331v2", named, console);
            assert_eq!(
                parse_cloudtrail_event(&event).unwrap(),
                change("UpdateFunctionConfiguration", &["orders"], &[], false),
                "{named}"
            );
        }
    }

    #[test]
    fn shepherds_own_calls_are_recognised_by_their_user_agent() {
        let own =
            "aws-sdk-rust/1.3.9 ua/2.1 api/lambda#1.98.0 os/linux lang/rust#1.91.0 app/shepherd";
        let event = lambda_event("UpdateAlias20150331", "orders", own);
        assert_eq!(
            parse_cloudtrail_event(&event).unwrap(),
            change("UpdateAlias", &["orders"], &[], true)
        );
        // Another application whose name begins the same is not shepherd.
        let other = own.replace("app/shepherd", "app/shepherd-imitation");
        let event = lambda_event("UpdateAlias20150331", "orders", &other);
        assert_eq!(
            parse_cloudtrail_event(&event).unwrap(),
            change("UpdateAlias", &["orders"], &[], false)
        );
    }

    #[test]
    fn alarm_changes_name_their_alarms() {
        let event = serde_json::json!({
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.monitoring",
            "detail": {
                "eventName": "DeleteAlarms",
                "userAgent": "aws-cli/2.15",
                "requestParameters": {"alarmNames": ["orders-errors", "orders-throttles"]}
            }
        });
        assert_eq!(
            parse_cloudtrail_event(&event.to_string()).unwrap(),
            change(
                "DeleteAlarms",
                &[],
                &["orders-errors", "orders-throttles"],
                false
            )
        );
    }

    #[test]
    fn reads_failures_and_other_resources_name_nothing() {
        let mut read: serde_json::Value =
            serde_json::from_str(&lambda_event("GetFunction20150331v2", "orders", "cli")).unwrap();
        read["detail"]["readOnly"] = true.into();
        assert_eq!(
            parse_cloudtrail_event(&read.to_string()).unwrap(),
            change("GetFunction", &[], &[], false)
        );
        let mut failed: serde_json::Value =
            serde_json::from_str(&lambda_event("UpdateAlias20150331", "orders", "cli")).unwrap();
        failed["detail"]["errorCode"] = "AccessDenied".into();
        assert_eq!(
            parse_cloudtrail_event(&failed.to_string()).unwrap(),
            change("UpdateAlias", &[], &[], false)
        );
        let layer = lambda_event(
            "AddLayerVersionPermission20181031",
            "arn:aws:lambda:eu-west-1:123456789012:layer:deps",
            "cli",
        );
        assert_eq!(
            parse_cloudtrail_event(&layer).unwrap(),
            change("AddLayerVersionPermission", &[], &[], false)
        );
    }

    #[test]
    fn other_events_are_malformed_messages() {
        assert!(parse_cloudtrail_event("{}").is_err());
        let alarm = r#"{"detail-type":"CloudWatch Alarm State Change","source":"aws.cloudwatch","detail":{"eventName":"x"}}"#;
        assert!(parse_cloudtrail_event(alarm).is_err());
        let s3 = lambda_event("PutObject", "x", "cli").replace("aws.lambda", "aws.s3");
        assert!(parse_cloudtrail_event(&s3).is_err());
    }
}
