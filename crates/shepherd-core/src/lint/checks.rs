//! The checks behind each lint: plain functions from a valid spec to findings. The secret
//! lint, which validation also consults, has its own module, `secrets`.

use crate::diagnostic::FieldPath;
use crate::model::lambda;
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
    if !rollout.hooks.is_empty() {
        // Hooks check the new version once; nothing watches it while it serves.
        return vec![finding(
            &["spec", "rollout"],
            "the hooks test the new version once, but no alarm watches it while it takes traffic, so a version that passes them and then fails is never rolled back by itself; add spec.alarms or rollout.alarms",
        )];
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
    if spec.memory.unwrap_or(lambda::DEFAULT_MEMORY_MB) > lambda::DEFAULT_MEMORY_MB {
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
