//! Best-practice lints from the AWS Lambda guidance. Each lint has an id, a one-line reason
//! and a default severity that a spec repository may change in its config file, or switch
//! off for one function with the `shepherd.dev/ignore-lints` annotation.

mod checks;
mod config;
pub(crate) mod secrets;

use crate::diagnostic::{Diagnostic, Severity};
use crate::spec::{FunctionSpec, IGNORE_LINTS_ANNOTATION};
use crate::validate::ValidFunction;

pub use checks::Finding;
pub use config::{CONFIG_FILE_NAME, Level, LintConfig};

/// A best-practice rule.
pub struct Lint {
    pub id: &'static str,
    pub default_level: Level,
    /// Why the rule exists, in one line.
    pub reason: &'static str,
    check: fn(&FunctionSpec) -> Vec<Finding>,
}

/// Every lint shepherd knows, in the order they are documented.
pub static LINTS: &[Lint] = &[
    Lint {
        id: "secret-in-environment",
        default_level: Level::Error,
        reason: "Secrets in environment variables leak through the console, logs and the spec repository; pass them by reference.",
        check: secrets::secret_in_environment,
    },
    Lint {
        id: "async-without-failure-destination",
        default_level: Level::Warning,
        reason: "Asynchronously invoked functions drop events that fail every retry unless a failure destination or dead-letter queue keeps them.",
        check: checks::async_without_failure_destination,
    },
    Lint {
        id: "tracing-disabled",
        default_level: Level::Warning,
        reason: "Without X-Ray tracing, latency and errors cannot be followed across services.",
        check: checks::tracing_disabled,
    },
    Lint {
        id: "rollout-without-alarm",
        default_level: Level::Warning,
        reason: "A progressive rollout with no gating alarm cannot roll back by itself.",
        check: checks::rollout_without_alarm,
    },
    Lint {
        id: "timeout-at-maximum",
        default_level: Level::Warning,
        reason: "A 15-minute timeout hides hung invocations and bills for them; set the longest the work should take.",
        check: checks::timeout_at_maximum,
    },
    Lint {
        id: "provisioned-concurrency-without-alias",
        default_level: Level::Warning,
        reason: "Provisioned concurrency belongs on an alias, so that it follows each new version.",
        check: checks::provisioned_concurrency_without_alias,
    },
    Lint {
        id: "memory-too-low-for-runtime",
        default_level: Level::Warning,
        reason: "JVM and .NET runtimes need more than 128 MB to start and run well.",
        check: checks::memory_too_low_for_runtime,
    },
    Lint {
        id: "logs-not-json",
        default_level: Level::Warning,
        reason: "JSON logs can be filtered by level and queried by field in CloudWatch Logs Insights.",
        check: checks::logs_not_json,
    },
    Lint {
        id: "missing-error-alarm",
        default_level: Level::Warning,
        reason: "Every function needs an alarm on its Errors metric, which also gates its rollouts.",
        check: checks::missing_error_alarm,
    },
];

/// Finds a lint by id.
pub fn find(id: &str) -> Option<&'static Lint> {
    LINTS.iter().find(|l| l.id == id)
}

/// Runs every enabled lint on every function.
pub fn run(functions: &[ValidFunction], config: &LintConfig) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for function in functions {
        let ignored = ignored_lints(function);
        for lint in LINTS {
            let severity = match config.level(lint) {
                Level::Off => continue,
                Level::Warning => Severity::Warning,
                Level::Error => Severity::Error,
            };
            if ignored.contains(&lint.id) {
                continue;
            }
            for finding in (lint.check)(&function.document.spec) {
                diagnostics.push(Diagnostic {
                    severity,
                    code: lint.id.to_owned(),
                    file: function.file.clone(),
                    location: function.locate(&finding.path),
                    path: finding.path,
                    message: finding.message,
                });
            }
        }
    }
    diagnostics
}

fn ignored_lints(function: &ValidFunction) -> Vec<&str> {
    function
        .document
        .metadata
        .annotations
        .get(IGNORE_LINTS_ANNOTATION)
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}
