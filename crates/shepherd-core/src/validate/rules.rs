//! Rules that span fields or need more than the schema can say: exactly-one-of choices,
//! limits on durations and sizes, and the constraints AWS enforces between settings.

use std::path::Path;
use std::time::Duration;

use crate::diagnostic::FieldPath;
use crate::lint::secrets;
use crate::model::{lambda, tags};
use crate::source::confine;
use crate::spec::{
    AlarmWindow, CodeSource, FunctionDocument, FunctionSpec, HumanDuration, LogFormat,
    RESERVED_PREFIX, SnapStart,
};

/// The total size AWS allows for a function's environment variables.
pub const ENVIRONMENT_LIMIT_BYTES: usize = 4096;

/// Variables the Lambda runtime sets itself; a function cannot override them.
const RESERVED_ENV_VARS: &[&str] = &[
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

/// The reserved variables through which the runtime hands a function its execution role's
/// credentials.
const CREDENTIAL_ENV_VARS: &[&str] = &[
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// A rule violation: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub path: FieldPath,
    pub message: String,
}

struct Rules<'a> {
    /// The function's name (`metadata.name`).
    name: &'a str,
    spec: &'a FunctionSpec,
    spec_dir: &'a Path,
    root: &'a Path,
    out: Vec<Violation>,
}

impl Rules<'_> {
    fn error(&mut self, path: &[&str], message: impl Into<String>) {
        self.out.push(Violation {
            path: FieldPath::keys(path),
            message: message.into(),
        });
    }

    fn error_at(&mut self, path: FieldPath, message: impl Into<String>) {
        self.out.push(Violation {
            path,
            message: message.into(),
        });
    }

    /// A duration that must be whole seconds within `[min, max]`.
    fn duration_in_range(&mut self, path: FieldPath, value: HumanDuration, min: u64, max: u64) {
        if !value.is_whole_seconds() {
            self.error_at(path, format!("{value} is not a whole number of seconds"));
        } else if value.as_secs() < min {
            let min = HumanDuration::from_secs(min);
            self.error_at(path, format!("{value} is below the minimum of {min}"));
        } else if value.as_secs() > max {
            let max = HumanDuration::from_secs(max);
            self.error_at(path, format!("{value} is above the maximum of {max}"));
        }
    }
}

/// Checks one schema-valid document. `spec_dir` is the folder of its file, against which a
/// local code path is resolved; the code must stay inside `root`.
pub fn check(document: &FunctionDocument, spec_dir: &Path, root: &Path) -> Vec<Violation> {
    let mut rules = Rules {
        name: &document.metadata.name,
        spec: &document.spec,
        spec_dir,
        root,
        out: Vec::new(),
    };
    code(&mut rules);
    limits(&mut rules);
    environment(&mut rules);
    tags(&mut rules);
    logging_and_snap_start(&mut rules);
    concurrency(&mut rules);
    event_sources(&mut rules);
    alarms(&mut rules);
    rollout(&mut rules);
    rules.out
}

fn code(r: &mut Rules) {
    let spec = r.spec;
    let code = &spec.code;
    match code.source() {
        None => {
            let set: Vec<&str> = [
                code.s3.as_ref().map(|_| "s3"),
                code.image.as_ref().map(|_| "image"),
                code.path.as_ref().map(|_| "path"),
            ]
            .into_iter()
            .flatten()
            .collect();
            let found = if set.is_empty() {
                "none is".to_owned()
            } else {
                format!("{} are", set.join(" and "))
            };
            r.error(
                &["spec", "code"],
                format!("set exactly one of s3, image or path; {found} set"),
            );
        }
        Some(CodeSource::Image(_)) => {
            for (field, is_set) in [
                ("handler", spec.handler.is_some()),
                ("runtime", spec.runtime.is_some()),
                ("layers", !spec.layers.is_empty()),
            ] {
                if is_set {
                    r.error(
                        &["spec", field],
                        "does not apply to container images (code.image); remove it",
                    );
                }
            }
        }
        Some(source) => {
            for (field, missing) in [
                ("handler", spec.handler.is_none()),
                ("runtime", spec.runtime.is_none()),
            ] {
                if missing {
                    r.error(
                        &["spec", field],
                        "is required for zip packages (code.s3 or code.path)",
                    );
                }
            }
            if let CodeSource::Path(path) = source {
                local_code_path(r, path);
            }
        }
    }
}

/// A local code path: inside the spec source, every link in it too (see
/// [`crate::source::confine`]), and a folder or a zip file.
fn local_code_path(r: &mut Rules, path: &str) {
    let field = &["spec", "code", "path"];
    let real = match confine::resolve_code_path(r.root, r.spec_dir, path) {
        Ok(real) => real,
        Err(message) => {
            r.error(field, message);
            return;
        }
    };
    let is_dir = real.is_dir();
    if !is_dir && !path.ends_with(".zip") {
        r.error(
            field,
            format!("\"{path}\" must be a directory or a .zip file"),
        );
        return;
    }
    if let Err(message) = confine::code_files(r.root, &real, confine::Walk::Confinement) {
        r.error(field, format!("\"{path}\": {message}"));
    }
}

fn limits(r: &mut Rules) {
    if let Some(timeout) = r.spec.timeout {
        let range = &lambda::TIMEOUT_SECS;
        let (min, max) = (u64::from(*range.start()), u64::from(*range.end()));
        r.duration_in_range(FieldPath::keys(&["spec", "timeout"]), timeout, min, max);
    }
    if let Some(age) = r
        .spec
        .async_invocation
        .as_ref()
        .and_then(|a| a.maximum_event_age)
    {
        let path = FieldPath::keys(&["spec", "asyncInvocation", "maximumEventAge"]);
        let range = &lambda::ASYNC_EVENT_AGE_SECS;
        let (min, max) = (u64::from(*range.start()), u64::from(*range.end()));
        r.duration_in_range(path, age, min, max);
    }
}

fn environment(r: &mut Rules) {
    let spec = r.spec;
    let mut size = 0;
    let variables = spec
        .environment
        .iter()
        .map(|(k, v)| (k, v.as_str(), "environment"))
        .chain(
            spec.secrets
                .iter()
                .map(|(k, s)| (k, s.reference().unwrap_or(""), "secrets")),
        );
    for (name, value, section) in variables {
        size += name.len() + value.len();
        let path = FieldPath::keys(&["spec", section, name]);
        if !regex_env_name(name) {
            r.error_at(
                path,
                "variable names start with a letter and hold only letters, digits and underscores",
            );
        } else if RESERVED_ENV_VARS.contains(&name.as_str()) {
            let message = if section == "environment" && leaks_credential(name, value) {
                "is reserved by the Lambda runtime and cannot be set; its value is a credential committed in plain text: revoke it and use the function's execution role"
            } else {
                "is reserved by the Lambda runtime and cannot be set"
            };
            r.error_at(path, message);
        }
    }
    for (name, secret) in &spec.secrets {
        let path = FieldPath::keys(&["spec", "secrets", name]);
        if spec.environment.contains_key(name) {
            r.error_at(
                path.clone(),
                "is also set in spec.environment; a variable is either a value or a secret",
            );
        }
        if secret.secrets_manager.is_some() == secret.ssm_parameter.is_some() {
            r.error_at(path, "set exactly one of secretsManager or ssmParameter");
        }
    }
    if size > ENVIRONMENT_LIMIT_BYTES {
        r.error(
            &["spec", "environment"],
            format!("variables take {size} bytes, more than Lambda's limit of 4 KB ({ENVIRONMENT_LIMIT_BYTES} bytes, secrets included)"),
        );
    }
}

/// Whether a credential variable holds what the secret lint would call a secret (any
/// literal secret key or session token; an access key id only if it is shaped like one).
/// The error makes the document invalid, so no lint runs on it: said here, or a committed
/// key would be reported only as a variable in the wrong place, and fixed by deleting the
/// line while the key stays valid in the repository's history.
fn leaks_credential(name: &str, value: &str) -> bool {
    CREDENTIAL_ENV_VARS.contains(&name) && secrets::secret_message(name, value).is_some()
}

fn regex_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn tags(r: &mut Rules) {
    let spec = r.spec;
    if spec.tags.len() > tags::SPEC_LIMIT {
        r.error(
            &["spec", "tags"],
            format!(
                "{} tags, more than the {} a spec may set (Lambda allows {} a function, and shepherd writes {} of its own)",
                spec.tags.len(),
                tags::SPEC_LIMIT,
                tags::LAMBDA_LIMIT,
                tags::OWN.len()
            ),
        );
    }
    for (key, value) in &spec.tags {
        let path = FieldPath::keys(&["spec", "tags", key]);
        if key.starts_with("aws:") || key.starts_with(RESERVED_PREFIX) {
            r.error_at(
                path,
                format!("tag keys starting with \"aws:\" or \"{RESERVED_PREFIX}\" are reserved"),
            );
        } else if key.is_empty() || key.chars().count() > 128 {
            r.error_at(path, "tag keys are 1-128 characters");
        } else if value.chars().count() > 256 {
            r.error_at(path, "tag values are at most 256 characters");
        }
    }
}

fn logging_and_snap_start(r: &mut Rules) {
    let spec = r.spec;
    if let Some(logging) = &spec.logging {
        let json = logging.format == Some(LogFormat::Json);
        for (field, is_set) in [
            (
                "applicationLogLevel",
                logging.application_log_level.is_some(),
            ),
            ("systemLogLevel", logging.system_log_level.is_some()),
        ] {
            if is_set && !json {
                r.error(&["spec", "logging", field], "log levels need format: JSON");
            }
        }
    }
    if spec.snap_start != Some(SnapStart::PublishedVersions) {
        return;
    }
    let path = &["spec", "snapStart"];
    if spec.code.is_image() {
        r.error(path, "SnapStart does not support container images");
    } else if let Some(runtime) = spec.runtime.filter(|rt| !rt.supports_snap_start()) {
        r.error(
            path,
            format!(
                "SnapStart does not support {}; it needs Java 11+, Python 3.12+ or .NET 8+",
                runtime.as_str()
            ),
        );
    }
    let provisioned = spec.provisioned_concurrency.is_some()
        || spec
            .alias
            .as_ref()
            .is_some_and(|a| a.provisioned_concurrency.is_some());
    if provisioned {
        r.error(
            path,
            "SnapStart cannot be combined with provisioned concurrency",
        );
    }
    if spec
        .ephemeral_storage
        .is_some_and(|mb| mb > lambda::DEFAULT_EPHEMERAL_STORAGE_MB)
    {
        r.error(path, "SnapStart needs ephemeral storage of 512 MB");
    }
}

fn concurrency(r: &mut Rules) {
    let spec = r.spec;
    let alias_pc = spec.alias.as_ref().and_then(|a| a.provisioned_concurrency);
    if spec.provisioned_concurrency.is_some() && spec.alias.is_some() {
        r.error(
            &["spec", "provisionedConcurrency"],
            "the function has an alias: set alias.provisionedConcurrency instead",
        );
    }
    let (provisioned, path): (Option<u32>, &[&str]) = match alias_pc {
        Some(pc) => (Some(pc), &["spec", "alias", "provisionedConcurrency"]),
        None => (
            spec.provisioned_concurrency,
            &["spec", "provisionedConcurrency"],
        ),
    };
    if let (Some(pc), Some(reserved)) = (provisioned, spec.reserved_concurrency)
        && pc > reserved
    {
        r.error(
            path,
            format!("{pc} exceeds the reserved concurrency of {reserved}"),
        );
    }
}

fn event_sources(r: &mut Rules) {
    let sources = r.spec.sqs_sources();
    for (i, source) in sources.iter().enumerate() {
        let base = FieldPath::keys(&["spec", "eventSources", "sqs"]).index(i);
        if sources[..i].iter().any(|s| s.queue == source.queue) {
            r.error_at(
                base.key("queue"),
                "this queue is already a source of the function",
            );
        }
        if let Some(window) = source.batching_window {
            r.duration_in_range(base.key("batchingWindow"), window, 0, 300);
        }
        let batch = source.batch_size.unwrap_or(lambda::DEFAULT_SQS_BATCH_SIZE);
        let window = source.batching_window.map_or(0, HumanDuration::as_secs);
        if source.is_fifo() {
            if batch > 10 {
                r.error_at(
                    base.key("batchSize"),
                    format!("{batch} is above the maximum of 10 for FIFO queues"),
                );
            }
            if source.batching_window.is_some() {
                r.error_at(
                    base.key("batchingWindow"),
                    "FIFO queues do not support a batching window",
                );
            }
        } else if batch > 10 && window == 0 {
            r.error_at(
                base.key("batchSize"),
                format!("a batch size of {batch} (above 10) needs a batchingWindow of at least 1s"),
            );
        }
    }
}

fn alarms(r: &mut Rules) {
    let Some(alarms) = &r.spec.alarms else {
        return;
    };
    let windows = [
        ("errors", alarms.errors.as_ref().map(|a| a.window())),
        ("throttles", alarms.throttles.as_ref().map(|a| a.window())),
        ("duration", alarms.duration.as_ref().map(|a| a.window())),
    ];
    for (name, window) in windows {
        if let Some(window) = window {
            alarm_window(r, FieldPath::keys(&["spec", "alarms", name]), window);
        }
    }
    let timeout = r.spec.timeout.unwrap_or(HumanDuration::from_secs(3));
    if let Some(duration) = &alarms.duration
        && let Some(threshold) = duration.threshold.filter(|t| *t > timeout)
    {
        r.error(
                &["spec", "alarms", "duration", "threshold"],
                format!("{threshold} is above the function's timeout of {timeout}, so the alarm could never fire"),
            );
    }
}

fn alarm_window(r: &mut Rules, path: FieldPath, window: AlarmWindow) {
    let period = window.period.unwrap_or(HumanDuration::from_secs(60));
    let secs = period.as_secs();
    if !period.is_whole_seconds()
        || !(matches!(secs, 10 | 20 | 30) || (secs > 0 && secs.is_multiple_of(60)))
    {
        r.error_at(
            path.key("period"),
            format!("{period} is not a CloudWatch period: use 10s, 20s, 30s or a multiple of 60s"),
        );
    }
    let evaluations = window.evaluation_periods.unwrap_or(1);
    if secs.saturating_mul(u64::from(evaluations)) > 86_400 {
        r.error_at(
            path.key("evaluationPeriods"),
            "period times evaluationPeriods may not exceed one day",
        );
    }
    if let Some(datapoints) = window.datapoints_to_alarm
        && datapoints > evaluations
    {
        r.error_at(
            path.key("datapointsToAlarm"),
            format!("{datapoints} is more than evaluationPeriods ({evaluations})"),
        );
    }
}

/// Each hook names exactly one of `lambda` or `http`, and never the function itself (it
/// would test itself with its own traffic, and its canary would invoke itself).
fn hooks(r: &mut Rules, rollout: &crate::spec::Rollout) {
    let own = r.name.to_owned();
    for (stage, list) in [
        ("preTraffic", &rollout.hooks.pre_traffic),
        ("postTraffic", &rollout.hooks.post_traffic),
    ] {
        for (i, hook) in list.iter().enumerate() {
            let path = FieldPath::keys(&["spec", "rollout", "hooks", stage]).index(i);
            match (&hook.lambda, &hook.http) {
                (Some(_), Some(_)) | (None, None) => {
                    r.error_at(path.clone(), "a hook sets exactly one of lambda or http");
                }
                (Some(function), None) => {
                    let named = function
                        .split_once(":function:")
                        .map_or(function.as_str(), |(_, rest)| rest);
                    if named.split(':').next() == Some(own.as_str()) {
                        r.error_at(
                            path.key("lambda"),
                            format!("{function} is this function itself; a hook must be another function"),
                        );
                    }
                }
                (None, Some(_)) => {}
            }
            if hook.deadline.is_some_and(|d| d.0 > MAX_HOOK_DEADLINE) {
                r.error_at(path.key("deadline"), "a hook's deadline is at most 24h");
            }
            if let Some(http) = &hook.http {
                http_timeout(r, http, path.key("http"));
            }
        }
        unique_names(
            r,
            &["spec", "rollout", "hooks", stage],
            list.iter().map(|h| h.display_name()),
        );
    }
    for (kind, list) in [
        ("beforeStep", &rollout.gates.before_step),
        ("beforePromote", &rollout.gates.before_promote),
        ("rollback", &rollout.gates.rollback),
    ] {
        for (i, gate) in list.iter().enumerate() {
            let path = FieldPath::keys(&["spec", "rollout", "gates", kind]).index(i);
            http_timeout(r, &gate.http, path.key("http"));
        }
        unique_names(
            r,
            &["spec", "rollout", "gates", kind],
            list.iter().map(|g| g.display_name()),
        );
    }
}

/// A rollout's synthetic traffic: one payload, that can be read and fits.
fn synthetic_traffic(r: &mut Rules, traffic: &crate::spec::Traffic) {
    let path = FieldPath::keys(&["spec", "rollout", "traffic"]);
    match (&traffic.payload, &traffic.payload_file) {
        (Some(_), Some(_)) => r.error_at(path, "set either payload or payloadFile, not both"),
        (Some(payload), None) => {
            if let Err(message) = super::payload::check_inline(payload) {
                r.error_at(path.key("payload"), message);
            }
        }
        (None, Some(file)) => {
            if let Err(message) = super::payload::read_payload_file(r.root, r.spec_dir, file) {
                r.error_at(path.key("payloadFile"), message);
            }
        }
        (None, None) => {}
    }
}

/// The longest a hook may stay pending.
const MAX_HOOK_DEADLINE: Duration = Duration::from_secs(24 * 3600);

/// The longest attempt of an HTTP hook or gate: a reconcile (and a gate poll) waits for it.
const MAX_HTTP_TIMEOUT: Duration = Duration::from_secs(30);

fn http_timeout(r: &mut Rules, http: &crate::spec::HttpHook, path: FieldPath) {
    if http.timeout.is_some_and(|t| t.0 > MAX_HTTP_TIMEOUT) {
        r.error_at(
            path.key("timeout"),
            "at most 30s: the rollout waits for every attempt; a longer check answers Pending and reports through the callback",
        );
    }
}

/// Names in one list are unique: status, and the gate a step waits for, name them.
fn unique_names(r: &mut Rules, path: &[&str], names: impl Iterator<Item = String>) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, name) in names.enumerate() {
        if !seen.insert(name.clone()) {
            r.error_at(
                FieldPath::keys(path).index(i),
                format!("another entry of this list is named {name} already; give it a name"),
            );
        }
    }
}

fn rollout(r: &mut Rules) {
    let spec = r.spec;
    let Some(rollout) = &spec.rollout else {
        return;
    };
    if rollout.strategy.is_some() && rollout.steps.is_some() {
        r.error(
            &["spec", "rollout"],
            "set either strategy or steps, not both",
        );
    }
    if rollout.is_progressive() && r.spec.alias.is_none() {
        r.error(
            &["spec", "rollout"],
            "a rollout needs an alias: set spec.alias",
        );
    }
    hooks(r, rollout);
    if let Some(traffic) = &rollout.traffic {
        synthetic_traffic(r, traffic);
    }
    if !rollout.gates.is_empty() && rollout.expanded_steps().is_empty() {
        r.error(
            &["spec", "rollout", "gates"],
            "gates hold the steps of a rollout, and this one has none; set steps or a strategy other than AllAtOnce",
        );
    }
    let Some(steps) = &rollout.steps else {
        return;
    };
    let mut last_weight = 0.0;
    let mut weights = 0;
    for (i, step) in steps.iter().enumerate() {
        let path = FieldPath::keys(&["spec", "rollout", "steps"]).index(i);
        match (step.set_weight, &step.pause) {
            (Some(weight), None) => {
                weights += 1;
                if weight <= 0.0 || weight >= 100.0 {
                    r.error_at(
                        path.key("setWeight"),
                        format!(
                            "{weight} must be above 0 and below 100 (100% is implied at the end)"
                        ),
                    );
                } else if weight <= last_weight {
                    r.error_at(
                        path.key("setWeight"),
                        format!("{weight} must be greater than the previous weight, {last_weight}"),
                    );
                }
                last_weight = weight;
            }
            (None, Some(pause)) => {
                if let Some(duration) = pause.duration
                    && duration.0 < Duration::from_secs(1)
                {
                    r.error_at(
                        path.key("pause").key("duration"),
                        "a pause lasts at least 1s",
                    );
                }
            }
            _ => r.error_at(path, "a step sets exactly one of setWeight or pause"),
        }
    }
    // A step that sets a weight and also pauses is reported above; it is not also "no weight".
    if weights == 0 && steps.iter().all(|s| s.set_weight.is_none()) {
        r.error(
            &["spec", "rollout", "steps"],
            "the steps never set a weight; add a setWeight step",
        );
    }
}
