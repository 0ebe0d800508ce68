//! The checks behind each lint: plain functions from a valid spec to findings.

use std::sync::OnceLock;

use regex::{Regex, RegexSet};

use crate::diagnostic::FieldPath;
use crate::spec::{FunctionSpec, LogFormat, TracingMode};

/// Something a lint found, at a field.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub path: FieldPath,
    pub message: String,
}

fn finding(path: &[&str], message: impl Into<String>) -> Finding {
    Finding {
        path: FieldPath::keys(path),
        message: message.into(),
    }
}

/// Values that are secrets whatever the variable is called.
fn secret_value_patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            (r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", "an AWS access key id"),
            (r"-----BEGIN [A-Z ]*PRIVATE KEY", "a private key"),
            (r"\bgh[pousr]_[A-Za-z0-9]{36,}", "a GitHub token"),
            (r"\bgithub_pat_[A-Za-z0-9_]{22,}", "a GitHub token"),
            (r"\bxox[abprs]-[A-Za-z0-9-]{10,}", "a Slack token"),
            (r"\b[sr]k_live_[A-Za-z0-9]{16,}", "a Stripe secret key"),
            (r"\bAIza[0-9A-Za-z_-]{35}\b", "a Google API key"),
            (
                r"^eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$",
                "a JSON Web Token",
            ),
        ]
        .into_iter()
        .map(|(pattern, what)| (Regex::new(pattern).expect("valid secret pattern"), what))
        .collect()
    })
}

/// Variable names that announce a secret, unless they name a reference to one.
fn secret_name_patterns() -> &'static (RegexSet, Regex) {
    static PATTERNS: OnceLock<(RegexSet, Regex)> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let names = RegexSet::new([
            r"(?i)PASSWORD|PASSWD|PASSPHRASE",
            r"(?i)SECRET",
            r"(?i)TOKEN",
            r"(?i)API_?KEY",
            r"(?i)PRIVATE_?KEY",
            r"(?i)CREDENTIALS?",
        ])
        .expect("valid name patterns");
        let references = Regex::new(
            r"(?i)_(ARN|NAME|PATH|PARAM|PARAMETER|ID|URL|URI|ENDPOINT|TTL|FILE|HEADER|ENABLED|LENGTH|EXPIRY|TIMEOUT|REGION)$",
        )
        .expect("valid reference pattern");
        (names, references)
    })
}

fn looks_like_reference(value: &str) -> bool {
    value.starts_with("arn:aws") || value.starts_with('/') || value.starts_with("{{resolve:")
}

pub fn secret_in_environment(spec: &FunctionSpec) -> Vec<Finding> {
    let (names, references) = secret_name_patterns();
    let mut findings = Vec::new();
    for (name, value) in &spec.environment {
        let path = ["spec", "environment", name.as_str()];
        if let Some((_, what)) = secret_value_patterns()
            .iter()
            .find(|(re, _)| re.is_match(value))
        {
            findings.push(finding(
                &path,
                format!(
                    "the value looks like {what}; never put secrets in the spec: use spec.secrets"
                ),
            ));
        } else if names.is_match(name)
            && !references.is_match(name)
            && !value.trim().is_empty()
            && !looks_like_reference(value)
        {
            findings.push(finding(
                &path,
                format!("{name} holds a literal value; pass secrets by reference in spec.secrets"),
            ));
        }
    }
    findings
}

pub fn async_without_failure_destination(spec: &FunctionSpec) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(config) = &spec.async_invocation
        && config.on_failure.is_none()
        && config.dead_letter_target.is_none()
    {
        findings.push(finding(
            &["spec", "asyncInvocation"],
            "events that fail every retry are dropped; set onFailure or deadLetterTarget",
        ));
    }
    for (i, source) in spec.sqs_sources().iter().enumerate() {
        if source.dead_letter_queue.is_none() {
            findings.push(Finding {
                path: FieldPath::keys(&["spec", "eventSources", "sqs"]).index(i),
                message: "records that keep failing are retried until they expire; give the queue a dead-letter queue and declare it in deadLetterQueue".to_owned(),
            });
        }
    }
    findings
}

pub fn tracing_disabled(spec: &FunctionSpec) -> Vec<Finding> {
    if spec.tracing == Some(TracingMode::Active) {
        return Vec::new();
    }
    vec![finding(
        &["spec", "tracing"],
        "X-Ray tracing is off; set tracing: Active",
    )]
}

pub fn rollout_without_alarm(spec: &FunctionSpec) -> Vec<Finding> {
    let Some(rollout) = spec.rollout.as_ref().filter(|r| r.is_progressive()) else {
        return Vec::new();
    };
    let own_alarms = spec.alarms.as_ref().is_some_and(|a| {
        a.errors.is_some()
            || a.throttles.is_some()
            || a.duration.is_some()
            || !a.existing.is_empty()
    });
    if own_alarms || !rollout.alarms.is_empty() {
        return Vec::new();
    }
    vec![finding(
        &["spec", "rollout"],
        "no alarm gates this rollout, so a bad version is never rolled back by itself; add spec.alarms or rollout.alarms",
    )]
}

pub fn timeout_at_maximum(spec: &FunctionSpec) -> Vec<Finding> {
    if spec.timeout.is_some_and(|t| t.as_secs() >= 900) {
        return vec![finding(
            &["spec", "timeout"],
            "a 15-minute timeout lets hung invocations run (and bill) for 15 minutes; set the longest the work should take",
        )];
    }
    Vec::new()
}

pub fn provisioned_concurrency_without_alias(spec: &FunctionSpec) -> Vec<Finding> {
    if spec.provisioned_concurrency.is_some() && spec.alias.is_none() {
        return vec![finding(
            &["spec", "provisionedConcurrency"],
            "provisioned concurrency on a version is lost with every new version and callers must invoke that version; add an alias and set alias.provisionedConcurrency",
        )];
    }
    Vec::new()
}

pub fn memory_too_low_for_runtime(spec: &FunctionSpec) -> Vec<Finding> {
    let Some(runtime) = spec.runtime.filter(|r| r.is_jvm_or_dotnet()) else {
        return Vec::new();
    };
    if spec.memory.unwrap_or(128) > 128 {
        return Vec::new();
    }
    vec![finding(
        &["spec", "memory"],
        format!(
            "{} starts slowly and runs short of memory at 128 MB; give it at least 512 MB",
            runtime.as_str()
        ),
    )]
}

pub fn logs_not_json(spec: &FunctionSpec) -> Vec<Finding> {
    if spec.logging.as_ref().and_then(|l| l.format) == Some(LogFormat::Json) {
        return Vec::new();
    }
    vec![finding(
        &["spec", "logging"],
        "plain-text logs cannot be filtered by level or queried by field; set logging.format: JSON",
    )]
}

pub fn missing_error_alarm(spec: &FunctionSpec) -> Vec<Finding> {
    if spec.alarms.as_ref().is_some_and(|a| a.errors.is_some()) {
        return Vec::new();
    }
    vec![finding(
        &["spec", "alarms"],
        "no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors",
    )]
}
