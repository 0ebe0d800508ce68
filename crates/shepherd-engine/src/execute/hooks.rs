//! Running a rollout hook: the payload that tells it what it tests, the call (a Lambda
//! invoked synchronously, or an HTTP endpoint), and its verdict, which picks the alias
//! write the plan prepared for it.
//!
//! A hook runs at least once: a crash after it ran and before its result was written runs
//! it again on the next pass, so hooks must be safe to repeat (as CodeDeploy's are).

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use shepherd_core::cloud::{Cloud, CloudError, WebRequest};
use shepherd_core::plan::{Action, HookCall};
use shepherd_core::rollout::execution_id;
use shepherd_core::spec::{HttpHook, HttpMethod};

use super::{Context, ExecuteError, ExecuteOptions, arn};
use crate::clock::unix_now;

/// What the controller tells hooks besides the hook itself: where the callback is and
/// how its token is made, which URLs HTTP hooks may call, the target and the commit.
#[derive(Debug, Clone, Default)]
pub struct HookSettings {
    /// The controller's URL as hooks reach it (`https://shepherd.example.com`); `None`:
    /// the payload carries only the callback's path.
    pub callback_url: Option<String>,
    /// The key of the callback tokens; `None`: no callback (a pending hook can only time
    /// out).
    pub callback_key: Option<String>,
    /// URL prefixes HTTP hooks may call; an HTTP hook to any other URL fails. Empty: no
    /// HTTP hook may run (a spec repository must not make the controller call whatever
    /// it names, such as a cloud metadata endpoint).
    pub allowed_urls: Vec<String>,
    /// The target the controller works on, when there are several (named in execution
    /// ids).
    pub target: Option<String>,
    /// The git commit of the desired state.
    pub commit: Option<String>,
}

/// A hook's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    /// It will report through the callback.
    Pending,
    Failed(String),
}

/// The token a callback for `execution` must present: HMAC-SHA256 of the execution id
/// under the callback key, in hex. Valid while that execution is the one the rollout
/// waits for, so at most once.
pub fn callback_token(key: &str, execution: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(execution.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// What a hook or a gate is asked about: the rollout, in the fields both payloads share.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Subject<'a> {
    pub function: &'a str,
    pub alias: &'a str,
    pub stable_version: &'a str,
    pub canary_version: &'a str,
    /// The new version's share of traffic, in percent.
    pub weight: f64,
    pub step: usize,
    /// The hook's stage or the gate's kind.
    pub phase: &'static str,
    pub release: &'a str,
    pub commit: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a> {
    #[serde(flatten)]
    subject: Subject<'a>,
    /// The canary's qualified ARN, to invoke the candidate directly.
    canary_arn: String,
    hook: &'a str,
    execution_id: &'a str,
    /// When a pending answer times out, Unix seconds.
    deadline: u64,
    callback: Option<Callback>,
}

#[derive(Serialize)]
struct Callback {
    url: String,
    token: String,
}

/// The alias write a hook's verdict picks; a failure's reason gets the hook's.
pub(super) async fn run<C: Cloud>(
    cloud: &C,
    call: &HookCall,
    outcomes: [&Action; 3],
    context: &mut Context,
    options: &ExecuteOptions,
) -> Result<Action, ExecuteError> {
    let [pass, pending, fail] = outcomes;
    let settings = &options.hooks;
    let execution = execution_id(
        settings.target.as_deref(),
        &context.name,
        call.cursor,
        call.started,
    );
    let function_arn = arn(cloud, context).await?;
    let callback = settings.callback_key.as_deref().map(|key| Callback {
        url: format!(
            "{}/api/v1/hooks/{execution}",
            settings
                .callback_url
                .as_deref()
                .unwrap_or("")
                .trim_end_matches('/')
        ),
        token: callback_token(key, &execution),
    });
    let payload = Payload {
        subject: Subject {
            function: &context.name,
            alias: &call.alias,
            stable_version: &call.stable,
            canary_version: &call.canary,
            weight: call.weight,
            step: call.step,
            phase: call.cursor.stage.spec_name(),
            release: &call.release,
            commit: settings.commit.as_deref(),
        },
        canary_arn: format!("{function_arn}:{}", call.canary),
        hook: &call.name,
        execution_id: &execution,
        deadline: unix_now().saturating_add(call.deadline_secs),
        callback,
    };
    let body = serde_json::to_string(&payload).expect("a payload serializes");
    let verdict = match (&call.hook.lambda, &call.hook.http) {
        (Some(function), _) => invoke(cloud, function, &body).await?,
        (None, Some(_)) => call_http(cloud, call, body, settings).await?,
        (None, None) => Verdict::Failed("the hook names neither lambda nor http".to_owned()),
    };
    tracing::info!(hook = %call.name, stage = %call.cursor.stage, ?verdict, "hook ran");
    Ok(match verdict {
        Verdict::Passed => pass.clone(),
        Verdict::Pending => pending.clone(),
        Verdict::Failed(why) => with_reason(fail, &why),
    })
}

/// `fail` with the hook's reason after its own.
pub(super) fn with_reason(fail: &Action, why: &str) -> Action {
    let mut fail = fail.clone();
    if let Action::UpdateAlias {
        record: Some(template),
        ..
    } = &mut fail
    {
        let prefix = template.reason.take().unwrap_or_default();
        template.reason = Some(format!("{prefix}: {why}"));
    }
    fail
}

/// The most of a hook's answer quoted in a reason.
const QUOTED: usize = 160;

pub(super) fn quote(text: &str) -> String {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    match text.char_indices().nth(QUOTED) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// A Lambda hook: `{"status": "Succeeded"}` passes, `{"status": "Pending"}` reports later,
/// anything else fails. A call that did not reach the function (throttled, AWS failing)
/// is an error: the hook runs again on the next pass.
async fn invoke<C: Cloud>(cloud: &C, function: &str, body: &str) -> Result<Verdict, ExecuteError> {
    let invocation = match cloud.invoke(function, None, body).await {
        Ok(invocation) => invocation,
        Err(error) if is_verdict(&error) => {
            return Ok(Verdict::Failed(format!(
                "cannot invoke {function}: {error}"
            )));
        }
        Err(error) => return Err(error.into()),
    };
    if let Some(kind) = &invocation.function_error {
        return Ok(Verdict::Failed(format!(
            "{function} failed ({kind}): {}",
            quote(&invocation.payload)
        )));
    }
    Ok(answer(&invocation.payload).unwrap_or_else(|| {
        Verdict::Failed(format!(
            "{function} returned no status (expected {{\"status\": \"Succeeded\"}}): {}",
            quote(&invocation.payload)
        ))
    }))
}

/// Whether a failed `Invoke` says something about the hook (it does not exist, may not
/// be invoked, refuses the payload), rather than about the controller or AWS at the moment
/// (throttling, a server error, credentials that could not be had), which the next pass
/// tries again.
pub(super) fn is_verdict(error: &CloudError) -> bool {
    match error {
        CloudError::NotFound { .. } | CloudError::Unsupported { .. } => true,
        CloudError::Rejected { code, .. } => [
            "AccessDenied",
            "ResourceNotFound",
            "InvalidParameterValue",
            "InvalidRequestContent",
            "RequestTooLarge",
            "UnsupportedMediaType",
        ]
        .iter()
        .any(|verdict| code.starts_with(verdict)),
        _ => false,
    }
}

/// The verdict a `{"status": ..., "reason": ...}` document gives, if it is one.
fn answer(text: &str) -> Option<Verdict> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    let reason = value
        .get("reason")
        .and_then(|r| r.as_str())
        .map_or_else(|| "no reason given".to_owned(), quote);
    match value.get("status")?.as_str()? {
        "Succeeded" => Some(Verdict::Passed),
        "Pending" => Some(Verdict::Pending),
        "Failed" => Some(Verdict::Failed(reason)),
        _ => None,
    }
}

/// An HTTP hook: a status of 202 or less passes (a body of `{"status": "Pending"}` reports
/// later), anything else fails. Timeouts, dropped connections and 5xx are tried again up
/// to `retries` times, with a short pause.
async fn call_http<C: Cloud>(
    cloud: &C,
    call: &HookCall,
    body: String,
    settings: &HookSettings,
) -> Result<Verdict, ExecuteError> {
    let http = call.hook.http.as_ref().expect("an http hook");
    if settings.allowed_urls.is_empty() {
        // Nothing may be called here (`shepherd apply`, or a controller configured
        // without HTTP hooks): the release waits without traffic, it is not failed.
        return Err(ExecuteError::HookNotRunnable {
            hook: call.name.clone(),
            why:
                "HTTP hooks need hooks.allowedUrls in the controller's configuration (shepherd run)"
                    .to_owned(),
        });
    }
    if let Err(why) = allowed(settings, &http.url) {
        return Ok(Verdict::Failed(why));
    }
    let request = web_request(http, body);
    let attempts = http.retries.unwrap_or(0) + 1;
    let mut last = String::new();
    for attempt in 1..=attempts {
        if attempt > 1 {
            tokio::time::sleep(Duration::from_secs(u64::from(attempt))).await;
        }
        match cloud.call(&request).await {
            Ok(response) if response.status >= 500 => {
                last = format!("HTTP {}: {}", response.status, quote(&response.body));
            }
            Ok(response) if response.status <= 202 => {
                // The status decides, unless the body says it is pending, or says, as a
                // Lambda hook would, that the check failed.
                return Ok(match answer(&response.body) {
                    Some(verdict @ (Verdict::Pending | Verdict::Failed(_))) => verdict,
                    _ => Verdict::Passed,
                });
            }
            Ok(response) => {
                return Ok(Verdict::Failed(format!(
                    "{} answered HTTP {}: {}",
                    http.url,
                    response.status,
                    quote(&response.body)
                )));
            }
            Err(error @ CloudError::Fenced { .. }) => return Err(error.into()),
            Err(error @ CloudError::Rejected { .. }) => {
                return Ok(Verdict::Failed(error.to_string()));
            }
            Err(error) => last = error.to_string(),
        }
    }
    Ok(Verdict::Failed(format!(
        "{} failed {attempts} time(s), last: {last}",
        http.url
    )))
}

/// Whether the controller's configuration lets hooks and gates call `url`.
pub(crate) fn allowed(settings: &HookSettings, url: &str) -> Result<(), String> {
    if settings
        .allowed_urls
        .iter()
        .any(|prefix| !prefix.is_empty() && url.starts_with(prefix.as_str()))
    {
        return Ok(());
    }
    Err(format!(
        "{url} is not allowed by the controller's hooks.allowedUrls"
    ))
}

/// The request of an HTTP hook or gate, with `body` (none for a GET).
pub(crate) fn web_request(http: &HttpHook, body: String) -> WebRequest {
    let method = http.method.unwrap_or(HttpMethod::Post);
    WebRequest {
        method: method.as_str(),
        url: http.url.clone(),
        secret_headers: http
            .headers
            .iter()
            .map(|(name, secret)| (name.clone(), secret.secret.clone()))
            .collect(),
        signing_secret: http.signing_secret.as_ref().map(|s| s.secret.clone()),
        body: if method == HttpMethod::Get {
            String::new()
        } else {
            body
        },
        timeout: http.timeout.map_or(Duration::from_secs(10), |t| t.0),
    }
}

/// What a hook's or gate's answer says, quoted for a reason.
pub(crate) fn quoted(text: &str) -> String {
    quote(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_answers_of_hooks() {
        assert_eq!(answer(r#"{"status":"Succeeded"}"#), Some(Verdict::Passed));
        assert_eq!(answer(r#"{"status":"Pending"}"#), Some(Verdict::Pending));
        assert_eq!(
            answer(r#"{"status":"Failed","reason":"checkout returned 500"}"#),
            Some(Verdict::Failed("checkout returned 500".into()))
        );
        assert_eq!(answer(r#"{"status":"ok"}"#), None);
        assert_eq!(answer("null"), None);
        assert_eq!(answer("not json"), None);
    }

    #[test]
    fn tokens_are_per_execution() {
        let a = callback_token("key", "orders-api.pre0.1");
        assert_eq!(a.len(), 64);
        assert_ne!(a, callback_token("key", "orders-api.pre0.2"));
        assert_ne!(a, callback_token("other", "orders-api.pre0.1"));
    }
}
