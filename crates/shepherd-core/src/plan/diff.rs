//! Field-by-field comparison of desired and observed settings.

use std::fmt::Debug;

use super::action::Change;
use crate::model::{FunctionConfig, MappingConfig, Package};

fn show<T: Debug>(value: &T) -> String {
    let text = format!("{value:?}");
    // `Some(x)` reads as `x`; `None` as `(none)`.
    match text.strip_prefix("Some(").and_then(|t| t.strip_suffix(')')) {
        Some(inner) => inner.to_owned(),
        None if text == "None" => "(none)".to_owned(),
        None => text,
    }
}

fn compare<T: PartialEq + Debug>(out: &mut Vec<Change>, field: &str, from: &T, to: &T) {
    if from != to {
        out.push(Change {
            field: field.to_owned(),
            from: show(from),
            to: show(to),
        });
    }
}

/// The configuration fields that differ. Logging is compared only when AWS reported it.
pub fn config_changes(observed: &FunctionConfig, desired: &FunctionConfig) -> Vec<Change> {
    let mut out = Vec::new();
    compare(
        &mut out,
        "description",
        &observed.description,
        &desired.description,
    );
    compare(&mut out, "role", &observed.role, &desired.role);
    match (&observed.package, &desired.package) {
        (
            Package::Zip {
                handler: h1,
                runtime: r1,
            },
            Package::Zip {
                handler: h2,
                runtime: r2,
            },
        ) => {
            compare(&mut out, "handler", h1, h2);
            compare(&mut out, "runtime", r1, r2);
        }
        (from, to) => compare(&mut out, "packageType", from, to),
    }
    compare(&mut out, "memory", &observed.memory, &desired.memory);
    compare(
        &mut out,
        "timeout",
        &observed.timeout_secs,
        &desired.timeout_secs,
    );
    compare(
        &mut out,
        "ephemeralStorage",
        &observed.ephemeral_storage,
        &desired.ephemeral_storage,
    );
    environment_changes(&mut out, observed, desired);
    compare(
        &mut out,
        "kmsKeyArn",
        &observed.kms_key_arn,
        &desired.kms_key_arn,
    );
    compare(&mut out, "vpc", &observed.vpc, &desired.vpc);
    compare(&mut out, "tracing", &observed.tracing, &desired.tracing);
    if let (Some(from), Some(to)) = (&observed.logging, &desired.logging) {
        compare(&mut out, "logging", from, to);
    }
    compare(
        &mut out,
        "snapStart",
        &observed.snap_start,
        &desired.snap_start,
    );
    compare(&mut out, "layers", &observed.layers, &desired.layers);
    compare(
        &mut out,
        "deadLetterTarget",
        &observed.dead_letter_target,
        &desired.dead_letter_target,
    );
    out
}

/// One change per variable, so that plan output shows which variable changed.
fn environment_changes(out: &mut Vec<Change>, observed: &FunctionConfig, desired: &FunctionConfig) {
    // The common case, checked without building a field name per variable.
    if observed.environment == desired.environment {
        return;
    }
    let keys = observed
        .environment
        .keys()
        .chain(desired.environment.keys());
    let mut seen = std::collections::BTreeSet::new();
    for key in keys {
        if !seen.insert(key) {
            continue;
        }
        compare(
            out,
            &format!("environment.{key}"),
            &observed.environment.get(key),
            &desired.environment.get(key),
        );
    }
}

pub fn mapping_changes(observed: &MappingConfig, desired: &MappingConfig) -> Vec<Change> {
    let mut out = Vec::new();
    compare(
        &mut out,
        "batchSize",
        &observed.batch_size,
        &desired.batch_size,
    );
    compare(
        &mut out,
        "batchingWindow",
        &observed.batching_window_secs,
        &desired.batching_window_secs,
    );
    compare(&mut out, "enabled", &observed.enabled, &desired.enabled);
    compare(
        &mut out,
        "maximumConcurrency",
        &observed.maximum_concurrency,
        &desired.maximum_concurrency,
    );
    compare(
        &mut out,
        "reportBatchItemFailures",
        &observed.report_batch_item_failures,
        &desired.report_batch_item_failures,
    );
    compare(
        &mut out,
        "filterCriteria",
        &observed.filters,
        &desired.filters,
    );
    out
}
