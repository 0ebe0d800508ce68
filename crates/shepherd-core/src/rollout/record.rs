//! The rollout record: the compact state of a rollout that shepherd writes in the alias's
//! description, in the same `UpdateAlias` call that sets the routing weights. Weights and
//! record therefore change together, and a restarted controller reads back exactly where
//! the rollout stands.
//!
//! Format (at most 256 characters, the limit of an alias description):
//! `shepherd/v1 phase=Progressing stable=2 canary=3 release=9f2c... step=1 since=1764151234 started=1764151200 hook=pre.0.1764154834 reason=...`
//!
//! `hook=` is there while a hook is the rollout's current step: its stage (`pre`, `post`),
//! its index in that stage's list, and, once it answered "pending", the deadline of its
//! callback. Hooks before the index have passed; with synthetic traffic, the index past
//! the last preTraffic hook stands for the batch sent before traffic.
//!
//! `traffic=` names the timed pause (its step index) whose batch of synthetic traffic was
//! sent, so that a restarted controller does not send it again.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Marks a description written by shepherd.
pub const RECORD_PREFIX: &str = "shepherd/v1";

/// An alias description is at most this long.
const DESCRIPTION_LIMIT: usize = 256;

/// Where a rollout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Shifting traffic step by step; pauses run on their own.
    Progressing,
    /// Holding: at a pause-until-promoted step, or paused by an operator.
    Paused,
    /// Done: the alias points at the new version with no weights.
    Healthy,
    /// A gating alarm fired and the alias went back to the stable version.
    RolledBack,
    /// An operator aborted, or a newer release superseded it; the alias went back.
    Aborted,
}

impl Phase {
    /// Whether the canary still receives traffic.
    pub fn in_flight(self) -> bool {
        matches!(self, Phase::Progressing | Phase::Paused)
    }

    /// Whether the rollout ended without promotion (its release is not retried by itself).
    pub fn failed(self) -> bool {
        matches!(self, Phase::RolledBack | Phase::Aborted)
    }

    fn as_str(self) -> &'static str {
        match self {
            Phase::Progressing => "Progressing",
            Phase::Paused => "Paused",
            Phase::Healthy => "Healthy",
            Phase::RolledBack => "RolledBack",
            Phase::Aborted => "Aborted",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [
            Phase::Progressing,
            Phase::Paused,
            Phase::Healthy,
            Phase::RolledBack,
            Phase::Aborted,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stage {
    /// Before the canary gets any traffic.
    PreTraffic,
    /// Once the canary has all of it, before the rollout is Healthy.
    PostTraffic,
}

impl Stage {
    fn code(self) -> &'static str {
        match self {
            Stage::PreTraffic => "pre",
            Stage::PostTraffic => "post",
        }
    }

    /// The name the spec gives the stage (`preTraffic`).
    pub fn spec_name(self) -> &'static str {
        match self {
            Stage::PreTraffic => "preTraffic",
            Stage::PostTraffic => "postTraffic",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.spec_name())
    }
}

/// The hook a rollout is at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookCursor {
    pub stage: Stage,
    /// Its index in the stage's list; the ones before it passed.
    pub index: usize,
    /// It answered "pending": its result is due through the callback by then (Unix
    /// seconds). `None`: it has not run yet, or ran without an answer being recorded.
    pub pending_until: Option<u64>,
}

impl HookCursor {
    /// The first hook of `stage`, not yet run.
    pub fn first(stage: Stage) -> Self {
        Self {
            stage,
            index: 0,
            pending_until: None,
        }
    }

    fn encode(&self) -> String {
        match self.pending_until {
            Some(until) => format!("{}.{}.{until}", self.stage.code(), self.index),
            None => format!("{}.{}", self.stage.code(), self.index),
        }
    }

    fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let stage = match parts.next()? {
            "pre" => Stage::PreTraffic,
            "post" => Stage::PostTraffic,
            _ => return None,
        };
        let index = parts.next()?.parse().ok()?;
        let pending_until = match parts.next() {
            Some(until) => Some(until.parse().ok()?),
            None => None,
        };
        parts.next().is_none().then_some(Self {
            stage,
            index,
            pending_until,
        })
    }
}

/// The persisted state of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RolloutRecord {
    pub phase: Phase,
    /// The version that served all traffic before the rollout.
    pub stable: String,
    /// The version being rolled out.
    pub canary: String,
    /// The release digest of the canary: which spec it embodies.
    pub release: String,
    /// The step in effect (an index into the expanded steps; `len` means all done).
    pub step: usize,
    /// When the current step began, Unix seconds.
    pub since: u64,
    /// When the rollout began, Unix seconds.
    pub started: u64,
    /// The hook the rollout is at, if it is at one.
    pub hook: Option<HookCursor>,
    /// The timed pause (step index) whose synthetic traffic was sent.
    pub traffic_sent: Option<usize>,
    /// Why it ended or paused, for people.
    pub reason: Option<String>,
}

impl RolloutRecord {
    /// The alias description holding this record.
    pub fn to_description(&self) -> String {
        let mut text = format!(
            "{RECORD_PREFIX} phase={} stable={} canary={} release={} step={} since={} started={}",
            self.phase, self.stable, self.canary, self.release, self.step, self.since, self.started
        );
        if let Some(hook) = &self.hook {
            text.push_str(" hook=");
            text.push_str(&hook.encode());
        }
        if let Some(step) = self.traffic_sent {
            text.push_str(&format!(" traffic={step}"));
        }
        if let Some(reason) = &self.reason {
            let room = DESCRIPTION_LIMIT.saturating_sub(text.len() + " reason=".len());
            let reason: String = reason
                .chars()
                .filter(|c| !c.is_control())
                .take(room)
                .collect();
            text.push_str(" reason=");
            text.push_str(&reason);
        }
        text
    }

    /// Reads a record back from an alias description; `None` when the description is not
    /// one of shepherd's.
    pub fn parse(description: &str) -> Option<Self> {
        let rest = description.strip_prefix(RECORD_PREFIX)?.trim_start();
        let (fields, reason) = match rest.split_once(" reason=") {
            Some((fields, reason)) => (fields, Some(reason.to_owned())),
            None => (rest, None),
        };
        let value = |key: &str| {
            fields
                .split(' ')
                .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
        };
        Some(Self {
            phase: Phase::parse(value("phase")?)?,
            stable: value("stable")?.to_owned(),
            canary: value("canary")?.to_owned(),
            release: value("release")?.to_owned(),
            step: value("step")?.parse().ok()?,
            since: value("since")?.parse().ok()?,
            started: value("started")?.parse().ok()?,
            hook: match value("hook") {
                Some(text) => Some(HookCursor::decode(text)?),
                None => None,
            },
            traffic_sent: match value("traffic") {
                Some(text) => Some(text.parse().ok()?),
                None => None,
            },
            reason,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RolloutRecord {
        RolloutRecord {
            phase: Phase::Progressing,
            stable: "2".into(),
            canary: "3".into(),
            release: "9f2c1a0b7d3e4f56".into(),
            step: 1,
            since: 1_764_151_234,
            started: 1_764_151_200,
            hook: None,
            traffic_sent: None,
            reason: None,
        }
    }

    #[test]
    fn round_trips_the_hook_cursor() {
        let mut r = record();
        for hook in [
            HookCursor::first(Stage::PreTraffic),
            HookCursor {
                stage: Stage::PostTraffic,
                index: 3,
                pending_until: Some(1_764_154_800),
            },
        ] {
            r.hook = Some(hook);
            r.reason = Some("preTraffic hook smoke answered pending".into());
            assert_eq!(RolloutRecord::parse(&r.to_description()), Some(r.clone()));
        }
        assert_eq!(
            RolloutRecord::parse(&format!("{} hook=mid.0", record().to_description())),
            None,
            "a cursor that does not parse is not silently dropped"
        );
    }

    #[test]
    fn round_trips_through_the_alias_description() {
        let mut r = record();
        assert_eq!(RolloutRecord::parse(&r.to_description()), Some(r.clone()));
        r.phase = Phase::RolledBack;
        r.reason = Some("alarm orders-api-errors: Threshold Crossed: 1 datapoint [5.0]".into());
        assert_eq!(RolloutRecord::parse(&r.to_description()), Some(r));
    }

    #[test]
    fn stays_within_the_description_limit() {
        let mut r = record();
        r.reason = Some("x".repeat(1000));
        let text = r.to_description();
        assert!(text.len() <= DESCRIPTION_LIMIT, "{}", text.len());
        assert_eq!(
            RolloutRecord::parse(&text).unwrap().phase,
            Phase::Progressing
        );
    }

    #[test]
    fn ignores_descriptions_that_are_not_records() {
        assert_eq!(RolloutRecord::parse(""), None);
        assert_eq!(RolloutRecord::parse("the live alias"), None);
        assert_eq!(RolloutRecord::parse("shepherd/v1 phase=Nope"), None);
    }
}
