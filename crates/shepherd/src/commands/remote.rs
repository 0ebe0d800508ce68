//! The controller's HTTP API as the CLI uses it with `--server`.

use std::time::Duration;

use shepherd_controller::handle::FunctionStatus;
use shepherd_core::rollout::Command;
use ureq::Agent;

/// A running controller.
pub struct Remote {
    base: String,
    token: Option<String>,
    agent: Agent,
}

fn error_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned())
}

impl Remote {
    pub fn new(base: &str, token: Option<String>) -> Self {
        let agent: Agent = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .into();
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            agent,
        }
    }

    /// `GET /api/v1/functions`.
    pub fn functions(&self) -> Result<Vec<FunctionStatus>, String> {
        let url = format!("{}/api/v1/functions", self.base);
        let mut request = self.agent.get(&url);
        // Reads may be behind the token too (`shepherd run --protect-status`).
        if let Some(token) = &self.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let mut response = request.call().map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("{url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{url}: {status}: {}", error_message(&body)));
        }
        serde_json::from_str(&body).map_err(|e| format!("{url}: unexpected answer: {e}"))
    }

    /// `POST /api/v1/functions/NAME/COMMAND`.
    pub fn command(&self, name: &str, command: Command) -> Result<String, String> {
        let (verb, query) = match command {
            Command::Promote { full: true } => ("promote", "?full=true"),
            Command::Promote { full: false } => ("promote", ""),
            Command::Abort => ("abort", ""),
            Command::Pause => ("pause", ""),
            Command::Resume => ("resume", ""),
            Command::Retry => ("retry", ""),
        };
        let url = format!("{}/api/v1/functions/{name}/{verb}{query}", self.base);
        let token = self
            .token
            .as_deref()
            .ok_or("the controller's commands need its API token: --token or SHEPHERD_API_TOKEN")?;
        let mut response = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Bearer {token}"))
            .send_empty()
            .map_err(|e| format!("{url}: {e}"))?;
        let status = response.status();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("{url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("{status}: {}", error_message(&body)));
        }
        Ok(serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_owned))
            .unwrap_or(body))
    }
}
