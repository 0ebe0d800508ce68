//! The targets of `shepherd run` (`targets:` in its configuration): each an AWS account and
//! region, reached with the controller's own credentials or by assuming a role, with a call
//! budget of its own. Without `targets:`, one target named `default`: the account and
//! region of the controller's credentials.

use serde::Deserialize;
use shepherd_aws::AssumedRole;
use shepherd_controller::drift_events::parse_cloudtrail_event;
use shepherd_controller::handle::Trigger;
use shepherd_controller::triggers::{parse_alarm_event, parse_deploy_request};
use shepherd_core::validate::targets::Targets;

/// SQS queues of triggers (`queues:`, or a target's own): deploy requests, alarm state
/// changes, CloudTrail events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Queues {
    pub deploy_queue_url: Option<String>,
    pub alarm_queue_url: Option<String>,
    pub drift_queue_url: Option<String>,
}

/// How a queue's messages are read.
pub type Parse = fn(&str) -> Result<Trigger, String>;

impl Queues {
    /// Each queue given, with how its messages are read.
    pub fn parsers(&self) -> Vec<(String, Parse)> {
        let queues = [
            (
                &self.deploy_queue_url,
                parse_deploy_request as fn(&str) -> _,
            ),
            (&self.alarm_queue_url, parse_alarm_event as fn(&str) -> _),
            (
                &self.drift_queue_url,
                parse_cloudtrail_event as fn(&str) -> _,
            ),
        ];
        queues
            .into_iter()
            .filter_map(|(url, parse)| {
                url.as_ref()
                    .filter(|u| !u.trim().is_empty())
                    .map(|u| (u.clone(), parse))
            })
            .collect()
    }
}

/// The one target of a configuration without `targets:`.
pub const DEFAULT_TARGET: &str = "default";

/// One entry of `targets:`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileTarget {
    pub name: String,
    /// The region of its functions [default: the controller's].
    pub region: Option<String>,
    /// The role to assume in the target's account [default: the controller's credentials].
    pub role_arn: Option<String>,
    /// The external id the role's trust policy asks for.
    pub external_id: Option<String>,
    /// Lambda control-plane calls per second in this target [default: reconcile.lambdaRate].
    pub lambda_rate: Option<f64>,
    /// Queues of this target's own (in its account, read with its role by its holder).
    #[serde(default)]
    pub queues: Queues,
}

/// A target, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetConfig {
    pub name: String,
    pub region: Option<String>,
    pub role: Option<AssumedRole>,
    pub lambda_rate: f64,
    pub queues: Queues,
}

fn valid_name(name: &str) -> bool {
    let inner = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(inner)
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn valid_role_arn(arn: &str) -> bool {
    arn.strip_prefix("arn:aws")
        .and_then(|rest| rest.split_once(":iam::"))
        .and_then(|(_, rest)| rest.split_once(":role/"))
        .is_some_and(|(account, name)| {
            account.len() == 12 && account.chars().all(|c| c.is_ascii_digit()) && !name.is_empty()
        })
}

/// The session name shown in the target's CloudTrail: `shepherd-REPLICA`, in the characters
/// and length STS allows.
fn session_name(replica: &str) -> String {
    let allowed = |c: &char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(*c);
    format!(
        "shepherd-{}",
        replica.chars().filter(allowed).collect::<String>()
    )
    .chars()
    .take(64)
    .collect()
}

/// Checks `targets:` and `defaultTarget`; `lambda_rate` is the controller's rate.
pub fn resolve_targets(
    file: &[FileTarget],
    default_target: Option<&str>,
    lambda_rate: f64,
    replica: &str,
) -> Result<(Vec<TargetConfig>, Targets), String> {
    if file.is_empty() {
        if let Some(default) = default_target {
            return Err(format!(
                "defaultTarget: {default}: no targets are configured (targets:)"
            ));
        }
        let single = TargetConfig {
            name: DEFAULT_TARGET.to_owned(),
            region: None,
            role: None,
            lambda_rate,
            queues: Queues::default(),
        };
        return Ok((vec![single], Targets::single(DEFAULT_TARGET)));
    }
    let mut targets = Vec::new();
    for (i, target) in file.iter().enumerate() {
        let at = format!("targets[{i}]");
        if !valid_name(&target.name) {
            return Err(format!(
                "{at}.name: {:?}: lower-case letters, digits and inner hyphens, up to 63",
                target.name
            ));
        }
        if targets.iter().any(|t: &TargetConfig| t.name == target.name) {
            return Err(format!("{at}.name: {} is named twice", target.name));
        }
        if let Some(arn) = &target.role_arn
            && !valid_role_arn(arn)
        {
            return Err(format!(
                "{at}.roleArn: {arn:?} is not a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"
            ));
        }
        if target.external_id.is_some() && target.role_arn.is_none() {
            return Err(format!("{at}.externalId: only with roleArn"));
        }
        let rate = target.lambda_rate.unwrap_or(lambda_rate);
        if rate <= 0.0 {
            return Err(format!("{at}.lambdaRate: must be above 0"));
        }
        targets.push(TargetConfig {
            name: target.name.clone(),
            region: target.region.clone(),
            role: target.role_arn.clone().map(|arn| AssumedRole {
                arn,
                external_id: target.external_id.clone(),
                session_name: session_name(replica),
            }),
            lambda_rate: rate,
            queues: target.queues.clone(),
        });
    }
    let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
    let default = match default_target {
        Some(name) if !names.iter().any(|n| n == name) => {
            return Err(format!("defaultTarget: {name} is not among the targets"));
        }
        Some(name) => Some(name.to_owned()),
        // One target is every spec's.
        None if names.len() == 1 => Some(names[0].clone()),
        None => None,
    };
    Ok((
        targets,
        Targets {
            names: Some(names),
            default,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, role: Option<&str>) -> FileTarget {
        FileTarget {
            name: name.to_owned(),
            region: Some("eu-west-1".into()),
            role_arn: role.map(str::to_owned),
            external_id: None,
            lambda_rate: None,
            queues: Queues::default(),
        }
    }

    #[test]
    fn without_targets_there_is_one_named_default() {
        let (targets, names) = resolve_targets(&[], None, 15.0, "r").unwrap();
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].name, "default");
        assert_eq!(names, Targets::single("default"));
    }

    #[test]
    fn targets_are_checked_and_assume_their_roles() {
        let file = [
            target("prod", Some("arn:aws:iam::111111111111:role/shepherd")),
            target("staging", None),
        ];
        let (targets, names) = resolve_targets(&file, Some("prod"), 10.0, "pod-1:x").unwrap();
        assert_eq!(names.default.as_deref(), Some("prod"));
        let role = targets[0].role.as_ref().unwrap();
        assert_eq!(role.session_name, "shepherd-pod-1x");
        assert_eq!(targets[1].role, None);
        assert_eq!(targets[1].lambda_rate, 10.0);
        let error = |file: &[FileTarget], default: Option<&str>| {
            resolve_targets(file, default, 10.0, "r").unwrap_err()
        };
        assert!(error(&file, Some("dev")).contains("not among the targets"));
        assert!(error(&[target("Prod", None)], None).contains("targets[0].name"));
        assert!(error(&[target("a", None), target("a", None)], None).contains("twice"));
        assert!(error(&[target("a", Some("arn:aws:iam::1:role/x"))], None).contains("roleArn"));
        // Several targets and no default: each spec must name its target.
        let (_, names) = resolve_targets(&file, None, 10.0, "r").unwrap();
        assert_eq!(names.default, None);
    }
}
