//! `Web`: calls to the team's own HTTP endpoints (rollout hooks), with ureq on the
//! blocking pool. Secrets are filled in here, from the controller's configuration, by the
//! names the spec gives; a name that is not configured fails the call without sending it.
//! Redirects are not followed, so an allowed URL cannot send the request elsewhere.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use shepherd_core::cloud::{Api, CloudError, CloudResult, Web, WebRequest, WebResponse};

use crate::AwsCloud;

/// The header that carries the body's signature.
pub const SIGNATURE_HEADER: &str = "X-Shepherd-Signature-256";

/// The most of an answer's body read.
const BODY_LIMIT: u64 = 16 * 1024;

/// The secrets HTTP hooks may name, by name, each with the URL prefixes it may be sent to
/// (any allowed URL when none are given).
#[derive(Clone, Default)]
pub struct HookSecrets(Arc<BTreeMap<String, HookSecret>>);

/// One secret and where it may go.
#[derive(Clone, Default)]
pub struct HookSecret {
    pub value: String,
    pub urls: Vec<String>,
}

impl std::fmt::Debug for HookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Names only: values never reach a log.
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl HookSecrets {
    pub fn new(secrets: BTreeMap<String, HookSecret>) -> Self {
        Self(Arc::new(secrets))
    }

    /// The value of secret `name` for a request to `url`.
    fn get(&self, name: &str, url: &str) -> CloudResult<&str> {
        let refused = |message: String| CloudError::Rejected {
            api: Api::HttpHook,
            code: "UnknownSecret".to_owned(),
            message,
        };
        let secret = self.0.get(name).ok_or_else(|| {
            refused(format!(
                "secret {name} is not in the controller's hooks.secrets"
            ))
        })?;
        if !secret.urls.is_empty() && !secret.urls.iter().any(|p| url.starts_with(p.as_str())) {
            return Err(refused(format!(
                "secret {name} may not be sent to {url} (hooks.secrets.{name}.urls)"
            )));
        }
        Ok(&secret.value)
    }
}

/// `sha256=HEX` of the HMAC-SHA256 of `body` under `key`.
pub fn signature(key: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn send(request: &WebRequest, secrets: &HookSecrets) -> CloudResult<WebResponse> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(request.timeout))
        .user_agent("shepherd-hooks")
        .build()
        .into();
    let mut builder = ureq::http::Request::builder()
        .method(request.method)
        .uri(&request.url)
        .header("Content-Type", "application/json");
    for (header, secret) in &request.secret_headers {
        builder = builder.header(header.as_str(), secrets.get(secret, &request.url)?);
    }
    if let Some(secret) = &request.signing_secret {
        builder = builder.header(
            SIGNATURE_HEADER,
            signature(secrets.get(secret, &request.url)?, &request.body),
        );
    }
    let rejected = |message: String| CloudError::Rejected {
        api: Api::HttpHook,
        code: "BadRequest".to_owned(),
        message,
    };
    let http_request = builder
        .body(request.body.clone())
        .map_err(|e| rejected(e.to_string()))?;
    let mut response = agent.run(http_request).map_err(|error| match error {
        ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => CloudError::Unreachable {
            api: Api::HttpHook,
            message: error.to_string(),
        },
        ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl => rejected(error.to_string()),
        other => CloudError::Transport {
            api: Api::HttpHook,
            message: other.to_string(),
        },
    })?;
    let mut body = String::new();
    let _ = response
        .body_mut()
        .as_reader()
        .take(BODY_LIMIT)
        .read_to_string(&mut body);
    Ok(WebResponse {
        status: response.status().as_u16(),
        body,
    })
}

impl Web for AwsCloud {
    async fn call(&self, request: &WebRequest) -> CloudResult<WebResponse> {
        let request = request.clone();
        let secrets = self.hook_secrets.clone();
        tokio::task::spawn_blocking(move || send(&request, &secrets))
            .await
            .unwrap_or_else(|e| {
                Err(CloudError::Transport {
                    api: Api::HttpHook,
                    message: e.to_string(),
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_github() {
        // The example of GitHub's webhook documentation.
        assert_eq!(
            signature("It's a Secret to Everybody", "Hello, World!"),
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        );
    }

    #[test]
    fn an_unknown_secret_sends_nothing() {
        let request = WebRequest {
            method: "POST",
            url: "http://127.0.0.1:9/never".to_owned(),
            secret_headers: vec![("Authorization".to_owned(), "missing".to_owned())],
            signing_secret: None,
            body: "{}".to_owned(),
            timeout: std::time::Duration::from_secs(1),
        };
        let error = send(&request, &HookSecrets::default()).unwrap_err();
        assert!(matches!(error, CloudError::Rejected { .. }), "{error}");
        // A secret bound to other URLs is not sent either.
        let bound = HookSecrets::new(BTreeMap::from([(
            "missing".to_owned(),
            HookSecret {
                value: "s3cret".into(),
                urls: vec!["https://ci.example.com/".into()],
            },
        )]));
        let error = send(&request, &bound).unwrap_err();
        assert!(error.to_string().contains("may not be sent"), "{error}");
        assert!(
            !format!("{bound:?}").contains("s3cret"),
            "values never printed"
        );
    }
}
