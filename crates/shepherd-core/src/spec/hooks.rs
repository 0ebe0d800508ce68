//! Rollout hooks: checks the team runs against the new version before it gets traffic
//! (`preTraffic`, CodeDeploy's BeforeAllowTraffic) and once it has all of it
//! (`postTraffic`, AfterAllowTraffic). A failing hook rolls the release back.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::HumanDuration;

/// The hooks of a rollout, each list run in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Hooks {
    /// Run after the new version is published (and its provisioned concurrency ready),
    /// before the alias routes any traffic to it. A failure ends the release with no user
    /// affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub pre_traffic: Vec<Hook>,
    /// Run once the new version has 100% of the alias's traffic, before the rollout is
    /// Healthy. A failure rolls back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub post_traffic: Vec<Hook>,
}

/// One hook: exactly one of `lambda` or `http`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Hook {
    /// A name for status and the payload (default: the function or the URL's host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub name: Option<String>,
    /// A Lambda function (name or ARN, optionally qualified) invoked synchronously. It
    /// passes by returning `{"status": "Succeeded"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 170))]
    pub lambda: Option<String>,
    /// An HTTP endpoint called with the payload. It passes with a status of 202 or less.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpHook>,
    /// How long a hook that answered `{"status": "Pending"}` may take to report its result
    /// through the callback (default 1h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<HumanDuration>,
}

/// An HTTP hook. Its headers' values are secrets named in the controller's configuration
/// (`hooks.secrets`), never literal values in git.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpHook {
    /// `http://` or `https://`; the controller's `hooks.allowedUrls` must allow it.
    #[schemars(length(min = 8, max = 2048), pattern(r"^https?://"))]
    pub url: String,
    /// `POST` (default), `PUT` or `GET` (a GET sends no body).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
    /// Header name to secret, by reference.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, SecretName>,
    /// The secret that signs the body: `X-Shepherd-Signature-256: sha256=HEX` (HMAC-SHA256).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<SecretName>,
    /// Time for one attempt, response included (default 10s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<HumanDuration>,
    /// Further attempts after a timeout, a connection error or a 5xx (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 5))]
    pub retries: Option<u32>,
}

/// The HTTP methods a hook may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    Post,
    Put,
    Get,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Get => "GET",
        }
    }
}

/// A reference to a secret of the controller's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("x-expected" = "a secret by reference, {secret: NAME} (never a literal value)"))]
pub struct SecretName {
    /// The name under `hooks.secrets` in the controller's configuration.
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_.-]+$"))]
    pub secret: String,
}

impl Hooks {
    pub fn is_empty(&self) -> bool {
        self.pre_traffic.is_empty() && self.post_traffic.is_empty()
    }
}

impl Hook {
    /// The hook's name: given, or the function's name, or the URL's host.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        if let Some(function) = &self.lambda {
            let name = function
                .split_once(":function:")
                .map_or(function.as_str(), |(_, rest)| rest);
            return name.split(':').next().unwrap_or(name).to_owned();
        }
        self.http
            .as_ref()
            .map(|h| {
                let rest = h.url.split_once("://").map_or(h.url.as_str(), |(_, r)| r);
                rest.split(['/', ':', '?'])
                    .next()
                    .unwrap_or(rest)
                    .to_owned()
            })
            .unwrap_or_else(|| "hook".to_owned())
    }
}

/// Gates that wait (Flagger's confirm-* webhooks): HTTP checks polled on every pass of a
/// rollout in flight. Waiting at a closed gate is never a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gates {
    /// Each must be open (answer 2xx, at most 202) before every `setWeight` step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub before_step: Vec<Gate>,
    /// Each must be open before the new version gets all the traffic.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub before_promote: Vec<Gate>,
    /// A kill switch: when one is open, the rollout rolls back at once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 10))]
    pub rollback: Vec<Gate>,
}

/// One gate: an HTTP check, open when it answers a status of 202 or less.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gate {
    /// A name for status (default: the URL's host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64), pattern(r"^[A-Za-z0-9_-]+$"))]
    pub name: Option<String>,
    /// The check, called with the rollout's payload.
    pub http: HttpHook,
}

/// What a gate holds back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GateKind {
    BeforeStep,
    BeforePromote,
    Rollback,
}

impl GateKind {
    pub fn spec_name(self) -> &'static str {
        match self {
            GateKind::BeforeStep => "beforeStep",
            GateKind::BeforePromote => "beforePromote",
            GateKind::Rollback => "rollback",
        }
    }
}

impl Gates {
    pub fn is_empty(&self) -> bool {
        self.before_step.is_empty() && self.before_promote.is_empty() && self.rollback.is_empty()
    }

    /// Every gate with its kind, in the order they are polled.
    pub fn all(&self) -> impl Iterator<Item = (GateKind, &Gate)> {
        let tag = |kind: GateKind| move |gate| (kind, gate);
        (self.before_step.iter().map(tag(GateKind::BeforeStep)))
            .chain(self.before_promote.iter().map(tag(GateKind::BeforePromote)))
            .chain(self.rollback.iter().map(tag(GateKind::Rollback)))
    }
}

impl Gate {
    /// The gate's name: given, or the URL's host.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            Hook {
                name: None,
                lambda: None,
                http: Some(self.http.clone()),
                deadline: None,
            }
            .display_name()
        })
    }
}
