//! The controller's HTTP API as the CLI uses it with `--server`. With several replicas,
//! any one may be named: each target's statuses are read from its lease holder, and a
//! command a standby refuses (421, naming the holder) is sent to the holder once.

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

    /// `GET /api/v1/leases`: empty from a controller without a lease table (or one
    /// that predates leases).
    pub fn leases(&self) -> Vec<serde_json::Value> {
        let url = format!("{}/api/v1/leases", self.base);
        let mut request = self.agent.get(&url);
        if let Some(token) = &self.token {
            request = request.header("Authorization", &format!("Bearer {token}"));
        }
        let Ok(mut response) = request.call() else {
            return Vec::new();
        };
        if !response.status().is_success() {
            return Vec::new();
        }
        response
            .body_mut()
            .read_to_string()
            .ok()
            .and_then(|body| serde_json::from_str(&body).ok())
            .unwrap_or_default()
    }

    /// The same, against another replica.
    fn at(&self, base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
            token: self.token.clone(),
            agent: self.agent.clone(),
        }
    }

    /// `GET /api/v1/functions`: each target's functions from the replica holding its
    /// lease (this one for the targets it holds, or when it has no leases).
    pub fn functions(&self) -> Result<Vec<FunctionStatus>, String> {
        let mut functions = self.functions_here()?;
        let mut asked: Vec<(String, Vec<FunctionStatus>)> = Vec::new();
        for lease in self.leases() {
            if lease["holding"].as_bool() != Some(false) {
                continue;
            }
            let (Some(target), Some(url)) =
                (lease["target"].as_str(), lease["holder"]["url"].as_str())
            else {
                continue;
            };
            let url = url.trim_end_matches('/').to_owned();
            if url == self.base {
                continue;
            }
            if !asked.iter().any(|(u, _)| *u == url) {
                let theirs = self.at(&url).functions_here()?;
                asked.push((url.clone(), theirs));
            }
            let theirs = &asked.iter().find(|(u, _)| *u == url).expect("asked").1;
            functions.retain(|f| f.target.as_deref() != Some(target));
            functions.extend(
                theirs
                    .iter()
                    .filter(|f| f.target.as_deref() == Some(target))
                    .cloned(),
            );
        }
        functions.sort_by(|a, b| (&a.name, &a.target).cmp(&(&b.name, &b.target)));
        Ok(functions)
    }

    fn functions_here(&self) -> Result<Vec<FunctionStatus>, String> {
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

    /// `POST /api/v1/functions/NAME/COMMAND`, sent on to the holder once when this
    /// replica is a standby.
    pub fn command(&self, name: &str, command: Command) -> Result<String, String> {
        match self.command_here(name, command)? {
            Answer::Done(message) => Ok(message),
            Answer::Holder(url) if url.trim_end_matches('/') != self.base => {
                match self.at(&url).command_here(name, command)? {
                    Answer::Done(message) => Ok(message),
                    Answer::Holder(_) => Err(format!(
                        "{url} no longer holds the lease either; try again in a few seconds"
                    )),
                }
            }
            Answer::Holder(url) => Err(format!("{url} says it does not hold the lease")),
        }
    }

    fn command_here(&self, name: &str, command: Command) -> Result<Answer, String> {
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
        let json = serde_json::from_str::<serde_json::Value>(&body).ok();
        if status.as_u16() == 421
            && let Some(holder) = json.as_ref().and_then(|v| v["holder"]["url"].as_str())
        {
            return Ok(Answer::Holder(holder.to_owned()));
        }
        if !status.is_success() {
            return Err(format!("{status}: {}", error_message(&body)));
        }
        Ok(Answer::Done(
            json.and_then(|v| v["message"].as_str().map(str::to_owned))
                .unwrap_or(body),
        ))
    }
}

/// What a replica answered to a command.
enum Answer {
    Done(String),
    /// Another replica holds the lease: its URL.
    Holder(String),
}
