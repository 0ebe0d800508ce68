//! Human-written durations: `30s`, `5m`, `1h30m`, `500ms`, or a plain integer of seconds.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// The forms a duration may take in a spec; the schema check uses it to explain errors.
pub const DURATION_PATTERN: &str = r"^\s*([0-9]+\s*(ms|s|m|h|d)\s*)+$";

/// A duration written as `30s`, `5m`, `1h30m` or `500ms` (units ms, s, m, h, d), or an
/// integer number of seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    pub fn as_secs(self) -> u64 {
        self.0.as_secs()
    }

    pub fn is_whole_seconds(self) -> bool {
        self.0.subsec_nanos() == 0
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let valid_units = regex_free_check(&compact);
        if !valid_units {
            return Err(format!(
                "\"{text}\" is not a duration such as 30s, 5m or 1h30m"
            ));
        }
        match humantime::parse_duration(&compact) {
            Ok(duration) => Ok(Self(duration)),
            // Too large to represent (`99999999999999999999d`): the longest duration, so that
            // the range checks report it at its field instead of the document failing to
            // deserialize with no position.
            Err(humantime::DurationError::NumberOverflow) => Ok(Self::from_secs(u64::MAX)),
            Err(e) => Err(format!("\"{text}\" is not a duration: {e}")),
        }
    }
}

/// Digits followed by one of the units, repeated: the same rule as [`DURATION_PATTERN`].
fn regex_free_check(text: &str) -> bool {
    let mut rest = text;
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let unit = ["ms", "s", "m", "h", "d"]
            .into_iter()
            .find(|u| rest.starts_with(u));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

impl fmt::Display for HumanDuration {
    /// The shortest spelling: `90s` prints as `1m30s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = humantime::format_duration(self.0).to_string();
        write!(f, "{}", text.replace(' ', ""))
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = HumanDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as 30s, 5m or 1h30m, or a number of seconds")
            }
            fn visit_u64<E: de::Error>(self, secs: u64) -> Result<HumanDuration, E> {
                Ok(HumanDuration::from_secs(secs))
            }
            fn visit_i64<E: de::Error>(self, secs: i64) -> Result<HumanDuration, E> {
                u64::try_from(secs)
                    .map(HumanDuration::from_secs)
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<HumanDuration, E> {
                HumanDuration::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration such as `30s`, `5m`, `1h30m` or `500ms` (units ms, s, m, h, d), or an integer number of seconds.",
            "type": ["string", "integer"],
            "pattern": DURATION_PATTERN,
            "minimum": 0,
            "x-expected": "a duration such as 30s, 5m or 1h30m"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_durations() {
        assert_eq!(HumanDuration::parse("30s").unwrap().as_secs(), 30);
        assert_eq!(HumanDuration::parse("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(HumanDuration::parse("1h 30m").unwrap().as_secs(), 5400);
        assert_eq!(HumanDuration::parse("2d").unwrap().as_secs(), 172_800);
        assert!(!HumanDuration::parse("500ms").unwrap().is_whole_seconds());
        assert!(HumanDuration::parse("5 minutes").is_err());
        assert!(HumanDuration::parse("").is_err());
        assert!(HumanDuration::parse("m").is_err());
        assert_eq!(HumanDuration::from_secs(90).to_string(), "1m30s");
        let regex = regex::Regex::new(DURATION_PATTERN).unwrap();
        for ok in ["30s", "1h30m", "1h 30m", "500ms"] {
            assert!(
                regex.is_match(ok) && HumanDuration::parse(ok).is_ok(),
                "{ok}"
            );
        }
        for bad in ["5 minutes", "1y", "s", "-1s"] {
            assert!(
                !regex.is_match(bad) && HumanDuration::parse(bad).is_err(),
                "{bad}"
            );
        }
    }
}
