//! The `hooks:` section of the configuration: which URLs HTTP hooks may call, the
//! secrets their headers and signatures may name, and where their callback is.
//!
//! ```yaml
//! hooks:
//!   allowedUrls: ["https://ci.example.com/hooks/"]
//!   callbackUrl: https://shepherd.example.com
//!   secrets:
//!     ci-token: {env: CI_TOKEN}
//!     hooks-hmac: {file: /var/run/secrets/hooks-hmac, urls: ["https://ci.example.com/"]}
//! ```
//!
//! A secret with `urls` is sent only to those prefixes, so one team's spec cannot send
//! another team's token to an endpoint it reads.
//!
//! The callback key comes from `SHEPHERD_HOOK_CALLBACK_KEY`, else `SHEPHERD_API_TOKEN`.
//! Secrets are read once, at start; one that cannot be read stops the start, naming it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use shepherd_aws::{HookSecret, HookSecrets};
use shepherd_engine::execute::HookSettings;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct FileHooks {
    #[serde(default)]
    allowed_urls: Vec<String>,
    callback_url: Option<String>,
    #[serde(default)]
    secrets: BTreeMap<String, SecretSource>,
}

/// Where a secret's value is: an environment variable or a file (a mounted secret).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SecretSource {
    env: Option<String>,
    file: Option<PathBuf>,
    /// URL prefixes it may be sent to (any allowed URL when empty).
    #[serde(default)]
    urls: Vec<String>,
}

/// The hooks' configuration, resolved.
#[derive(Clone, Default)]
pub(super) struct Hooks {
    /// Without the target and the commit, which each control loop and pass fill in.
    pub settings: HookSettings,
    pub secrets: HookSecrets,
}

impl FileHooks {
    pub(super) fn resolve(self, advertise_url: Option<&str>) -> Result<Hooks, String> {
        for prefix in &self.allowed_urls {
            // A prefix that ends in the host would allow `https://ci.example.com.evil.io`.
            let scheme_end = prefix.find("://").map(|i| i + 3);
            let has_path = scheme_end.is_some_and(|start| prefix[start..].contains('/'));
            if !(prefix.starts_with("https://") || prefix.starts_with("http://")) || !has_path {
                return Err(format!(
                    "hooks.allowedUrls: {prefix} must be an http(s) URL with a path, such as https://ci.example.com/"
                ));
            }
        }
        let mut secrets = BTreeMap::new();
        for (name, source) in self.secrets {
            let value = match (&source.env, &source.file) {
                (Some(var), None) => std::env::var(var).map_err(|_| {
                    format!("hooks.secrets.{name}: environment variable {var} is not set")
                })?,
                (None, Some(path)) => std::fs::read_to_string(path)
                    .map(|v| v.trim_end_matches(['\r', '\n']).to_owned())
                    .map_err(|e| format!("hooks.secrets.{name}: {}: {e}", path.display()))?,
                _ => {
                    return Err(format!(
                        "hooks.secrets.{name}: set exactly one of env or file"
                    ));
                }
            };
            if value.is_empty() {
                return Err(format!("hooks.secrets.{name}: the secret is empty"));
            }
            secrets.insert(
                name,
                HookSecret {
                    value,
                    urls: source.urls,
                },
            );
        }
        let key = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Hooks {
            settings: HookSettings {
                callback_url: self
                    .callback_url
                    .or_else(|| advertise_url.map(str::to_owned)),
                callback_key: key("SHEPHERD_HOOK_CALLBACK_KEY")
                    .or_else(|| key("SHEPHERD_API_TOKEN")),
                allowed_urls: self.allowed_urls,
                target: None,
                commit: None,
            },
            secrets: HookSecrets::new(secrets),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<Hooks, String> {
        serde_yaml::from_str::<FileHooks>(yaml)
            .unwrap()
            .resolve(None)
    }

    #[test]
    fn prefixes_must_end_past_the_host() {
        assert!(parse("allowedUrls: ['https://ci.example.com']").is_err());
        assert!(parse("allowedUrls: ['ci.example.com/']").is_err());
        let hooks = parse("allowedUrls: ['https://ci.example.com/']").unwrap();
        assert_eq!(hooks.settings.allowed_urls, ["https://ci.example.com/"]);
    }

    #[test]
    fn secrets_come_from_files_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hmac");
        std::fs::write(&file, "s3cret\n").unwrap();
        let yaml = format!("secrets: {{hmac: {{file: {}}}}}", file.display());
        assert!(parse(&yaml).is_ok());
        let error = parse("secrets: {ci: {env: SHEPHERD_TEST_UNSET_VARIABLE}}")
            .err()
            .unwrap();
        assert!(error.contains("hooks.secrets.ci"), "{error}");
        assert!(parse("secrets: {ci: {}}").is_err());
    }
}
