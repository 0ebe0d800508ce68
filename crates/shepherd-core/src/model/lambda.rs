//! Lambda's defaults and limits, in one place: the model fills in what a spec leaves out
//! with the same values the adapter assumes when a response leaves a field out, and the
//! validation, the lints and the fake check the same ranges Lambda enforces.

use std::ops::RangeInclusive;

/// `MemorySize` when none is set, in MB.
pub const DEFAULT_MEMORY_MB: u32 = 128;
/// `MemorySize` Lambda accepts, in MB.
pub const MEMORY_MB: RangeInclusive<u32> = 128..=10_240;

/// `Timeout` when none is set, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u32 = 3;
/// `Timeout` Lambda accepts, in seconds (15 minutes at most).
pub const TIMEOUT_SECS: RangeInclusive<u32> = 1..=900;

/// `EphemeralStorage` (`/tmp`) when none is set, in MB; also the most SnapStart allows.
pub const DEFAULT_EPHEMERAL_STORAGE_MB: u32 = 512;
/// `EphemeralStorage` Lambda accepts, in MB.
pub const EPHEMERAL_STORAGE_MB: RangeInclusive<u32> = 512..=10_240;

/// `MaximumRetryAttempts` of asynchronous invocation when none is set.
pub const DEFAULT_ASYNC_RETRIES: u8 = 2;
/// `MaximumEventAgeInSeconds` of asynchronous invocation when none is set: six hours.
pub const DEFAULT_ASYNC_EVENT_AGE_SECS: u32 = 21_600;
/// `MaximumEventAgeInSeconds` Lambda accepts.
pub const ASYNC_EVENT_AGE_SECS: RangeInclusive<u32> = 60..=21_600;

/// `BatchSize` of an SQS event source when none is set.
pub const DEFAULT_SQS_BATCH_SIZE: u32 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema's ranges are written as literals (schemars attributes); they must be
    /// Lambda's.
    #[test]
    fn the_spec_schema_allows_the_ranges_lambda_does() {
        let schema = crate::spec::json_schema();
        let fields = schema
            .pointer("/$defs/FunctionSpec/properties")
            .expect("the schema of spec");
        for (field, range) in [
            ("memory", &MEMORY_MB),
            ("ephemeralStorage", &EPHEMERAL_STORAGE_MB),
        ] {
            let field_schema = &fields[field];
            assert_eq!(
                field_schema["minimum"],
                u64::from(*range.start()),
                "{field}"
            );
            assert_eq!(field_schema["maximum"], u64::from(*range.end()), "{field}");
        }
    }
}
