//! Digests of the desired state by section, recorded with the spec digest
//! ([`super::tags::SECTIONS`]), so that a change of one section reads only what that section
//! can touch: a new build reads no async config, provisioned concurrency, recursion setting,
//! event source or managed alarm, each a call on the 15/s budget.

use std::collections::BTreeSet;

use super::DesiredFunction;
use super::digest::short_digest;

/// A part of the desired state with a digest of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    Code,
    Configuration,
    /// Async invocation and the recursive-loop setting: how the function is invoked.
    Async,
    /// Reserved and provisioned concurrency.
    Concurrency,
    EventSources,
    Alarms,
    /// The alias and how a release rolls out on it.
    Rollout,
    Tags,
}

impl Section {
    pub const ALL: [Section; 8] = [
        Section::Code,
        Section::Configuration,
        Section::Async,
        Section::Concurrency,
        Section::EventSources,
        Section::Alarms,
        Section::Rollout,
        Section::Tags,
    ];

    /// Its name in the tag.
    pub fn key(self) -> &'static str {
        match self {
            Section::Code => "code",
            Section::Configuration => "config",
            Section::Async => "async",
            Section::Concurrency => "concurrency",
            Section::EventSources => "events",
            Section::Alarms => "alarms",
            Section::Rollout => "rollout",
            Section::Tags => "tags",
        }
    }
}

/// The digest of each section, in [`Section::ALL`]'s order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectionDigests([String; 8]);

/// Characters of each section's digest in the tag: eight hex digits tell a change apart
/// well enough (a collision costs a read skipped until the next full refresh, which reads
/// everything), and keep the tag at about 130 of the 256 characters AWS allows.
const DIGITS: usize = 8;

impl SectionDigests {
    pub fn of(desired: &DesiredFunction) -> Self {
        let alias = desired.alias.as_ref().map(|a| a.name.as_str());
        let digest = |section: Section| -> String {
            let mut full = match section {
                Section::Code => short_digest(&(&desired.code, desired.architecture)),
                Section::Configuration => short_digest(&desired.config),
                Section::Async => {
                    short_digest(&(&desired.async_config, desired.recursive_loop, alias))
                }
                Section::Concurrency => short_digest(&(
                    desired.reserved_concurrency,
                    desired.provisioned_concurrency,
                    alias,
                )),
                Section::EventSources => short_digest(&(&desired.mappings, alias)),
                Section::Alarms => short_digest(&desired.alarms),
                Section::Rollout => short_digest(&(
                    alias,
                    desired.rollout_steps_digest_form(),
                    desired.auto_rollback,
                    &desired.analysis,
                    &desired.gating_alarms,
                )),
                Section::Tags => short_digest(&desired.tags),
            };
            full.truncate(DIGITS);
            full
        };
        Self(Section::ALL.map(digest))
    }

    /// The tag's value: `code:1a2b3c4d config:... tags:...` (spaces and colons are
    /// allowed in tag values; semicolons are not).
    pub fn tag_value(&self) -> String {
        Section::ALL
            .iter()
            .zip(&self.0)
            .map(|(section, digest)| format!("{}:{digest}", section.key()))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// Reads a recorded tag; `None` when it is not one (another format, a damaged value).
    pub fn parse(value: &str) -> Option<Self> {
        let mut digests: [String; 8] = Default::default();
        let mut parts = value.split(' ');
        for (section, slot) in Section::ALL.iter().zip(&mut digests) {
            let (key, digest) = parts.next()?.split_once(':')?;
            if key != section.key() || digest.len() != DIGITS {
                return None;
            }
            *slot = digest.to_owned();
        }
        parts.next().is_none().then_some(Self(digests))
    }

    /// The sections that differ from `recorded`: all of them when nothing is recorded.
    pub fn changed_since(&self, recorded: Option<&SectionDigests>) -> BTreeSet<Section> {
        Section::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| recorded.is_none_or(|r| r.0[*i] != self.0[*i]))
            .map(|(_, section)| *section)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digests(values: [&str; 8]) -> SectionDigests {
        SectionDigests(values.map(str::to_owned))
    }

    #[test]
    fn the_tag_reads_back_and_fits_a_tag_value() {
        let d = digests([
            "00000000", "11111111", "22222222", "33333333", "44444444", "55555555", "66666666",
            "77777777",
        ]);
        let value = d.tag_value();
        assert!(value.len() <= 256, "{}", value.len());
        assert!(
            value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " _.:/=+-@".contains(c)),
            "only characters a tag value may hold: {value}"
        );
        assert_eq!(SectionDigests::parse(&value), Some(d));
    }

    #[test]
    fn a_damaged_or_foreign_tag_is_not_read() {
        for value in [
            "",
            "code:0000",
            "config:00000000 code:00000000",
            "code:00000000 config:00000000 async:00000000 concurrency:00000000 events:00000000 alarms:00000000 rollout:00000000 tags:00000000 extra:00000000",
        ] {
            assert_eq!(SectionDigests::parse(value), None, "{value}");
        }
    }

    #[test]
    fn only_the_sections_that_differ_are_changed_and_all_when_none_is_recorded() {
        let before = digests(["a"; 8]);
        let mut after = before.clone();
        after.0[0] = "b".to_owned();
        after.0[2] = "b".to_owned();
        assert_eq!(
            after.changed_since(Some(&before)),
            BTreeSet::from([Section::Code, Section::Async])
        );
        assert_eq!(after.changed_since(None).len(), Section::ALL.len());
        assert!(after.changed_since(Some(&after)).is_empty());
    }
}
