//! Which of a function's sub-resources a pass reads, from what changed since the spec last
//! applied in full.

use shepherd_core::model::{DesiredFunction, ObservedFunction, Section, SectionDigests, tags};

use super::Refresh;

/// Versions are listed, to prune the old ones, when the version about to be published is a
/// multiple of this (and on every full refresh): the listing is a budgeted call that only
/// pruning needs, and pruning every few releases keeps at most this many versions more
/// than `keep_versions`.
pub const PRUNE_EVERY: u64 = 5;

/// Whether the publish about to happen is one that prunes: the recorded release's version
/// is one short of a multiple of [`PRUNE_EVERY`], or no release is recorded.
fn prune_due(function: &ObservedFunction) -> bool {
    let current = function
        .release_tag()
        .and_then(|r| r.version.parse::<u64>().ok());
    current.is_none_or(|v| (v + 1) % PRUNE_EVERY == 0)
}

/// The reads beyond `GetFunction` (and `ListAliases` when the spec has an alias), each a
/// call on the 15/s budget or a share of a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reads {
    pub versions: bool,
    /// Async config and the recursive-loop setting.
    pub invocation: bool,
    pub provisioned: bool,
    pub mappings: bool,
    /// The managed alarms.
    pub alarms: bool,
    /// The queues of the event sources (checked against the timeout and the mappings).
    pub queues: bool,
}

impl Reads {
    const ALL: Reads = Reads {
        versions: true,
        invocation: true,
        provisioned: true,
        mappings: true,
        alarms: true,
        queues: true,
    };

    /// Anything beyond the basics: the function is "read in full" for what changed.
    pub fn any(self) -> bool {
        self != Reads::default()
    }

    /// What to read of `function` for `desired`. The spec digest recorded matches: nothing
    /// (drift there is found by a full refresh). It differs: what the changed sections can
    /// touch, or everything when the sections were not recorded (a function applied
    /// before they were). A full refresh reads everything.
    pub fn of(desired: &DesiredFunction, function: &ObservedFunction, refresh: Refresh) -> Self {
        if refresh == Refresh::Full {
            return Reads::ALL;
        }
        if function.tag(tags::SPEC_DIGEST) == Some(desired.spec_digest.as_str()) {
            return Reads::default();
        }
        let recorded = function.tag(tags::SECTIONS).and_then(SectionDigests::parse);
        let Some(recorded) = recorded else {
            return Reads::ALL;
        };
        let Some(wanted) = SectionDigests::parse(&desired.sections) else {
            return Reads::ALL;
        };
        let changed = wanted.changed_since(Some(&recorded));
        let has = |section| changed.contains(&section);
        // A new version is published: provisioned concurrency moves to it, and now and
        // then the old versions are pruned.
        let publishes = has(Section::Code) || has(Section::Configuration);
        Reads {
            versions: publishes && prune_due(function),
            invocation: has(Section::Async),
            provisioned: has(Section::Concurrency)
                || (publishes && desired.provisioned_concurrency.is_some()),
            mappings: has(Section::EventSources),
            alarms: has(Section::Alarms),
            // The queue's visibility timeout is checked against the function's timeout.
            queues: has(Section::EventSources) || has(Section::Configuration),
        }
    }
}
