//! Synthetic traffic to the canary: invocations of the new version itself (qualified by
//! its version number) before it gets any traffic and at the start of each timed pause,
//! so that a canary of a quiet function is judged on real invocations.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Invocations sent per batch unless the spec says.
pub const DEFAULT_TRAFFIC_INVOCATIONS: u32 = 10;
/// Invocations in flight at once unless the spec says.
pub const DEFAULT_TRAFFIC_CONCURRENCY: u32 = 1;
/// The largest payload, in bytes: test events, not bulk data (Lambda's own limit for a
/// synchronous invocation is 6 MB).
pub const MAX_TRAFFIC_PAYLOAD_BYTES: usize = 256 * 1024;

/// Synchronous invocations of the new version, sent by shepherd.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Traffic {
    /// The event each invocation sends, written inline (any YAML value, sent as JSON).
    /// Give this or `payloadFile`; neither sends `{}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
    /// A JSON file holding the event, relative to the spec file and inside the spec
    /// repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1024))]
    pub payload_file: Option<String>,
    /// Invocations per batch (default 10): one batch before traffic, one at the start of
    /// each timed pause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000))]
    pub invocations: Option<u32>,
    /// Invocations in flight at once (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 20))]
    pub concurrency: Option<u32>,
    /// Function errors a batch may have; one more rolls the release back (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub max_errors: Option<u32>,
}
