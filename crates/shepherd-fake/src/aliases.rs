//! Aliases with weighted routing, and provisioned concurrency, which Lambda ties to them:
//! an alias with weights cannot carry provisioned concurrency, and the other way round.

use super::state::{
    FunctionRecord, LATEST, Outcome, Provisioned, Refusal, Target, World, exists, function_arn,
    in_use, invalid, record,
};
use shepherd_core::model::{ObservedAlias, ProvisionedConcurrency, ProvisionedStatus};

const WEIGHTS_WITH_PROVISIONED: &str =
    "Alias with weights can not be used with Provisioned Concurrency";

impl World {
    pub(super) fn list_aliases(&mut self, name: &str) -> Outcome<Vec<ObservedAlias>> {
        let record = record(&mut self.functions, name)?;
        Ok(record.aliases.values().cloned().collect())
    }

    pub(super) fn create_alias(
        &mut self,
        name: &str,
        alias: &str,
        version: &str,
        description: &str,
    ) -> Outcome<()> {
        let revision = self.next_id();
        let record = record(&mut self.functions, name)?;
        check_alias_name(alias)?;
        if record.aliases.contains_key(alias) {
            return Err(exists(format!(
                "Alias already exists: {}",
                function_arn(name, Some(alias))
            )));
        }
        check_version(record, version)?;
        record.aliases.insert(
            alias.to_owned(),
            ObservedAlias {
                name: alias.to_owned(),
                version: version.to_owned(),
                additional_version: None,
                description: description.to_owned(),
                revision_id: Some(revision),
            },
        );
        Ok(())
    }

    pub(super) fn update_alias(
        &mut self,
        name: &str,
        alias: &str,
        version: &str,
        additional: Option<(&str, f64)>,
        description: &str,
        expected: Option<&str>,
    ) -> Outcome<Option<String>> {
        let revision = self.next_id();
        let reads = self.knobs.provisioned_reads;
        let record = record(&mut self.functions, name)?;
        let Some(current) = record.aliases.get(alias) else {
            return Err(Refusal::NotFound(format!(
                "Alias not found: {}",
                function_arn(name, Some(alias))
            )));
        };
        if let Some(expected) = expected
            && current.revision_id.as_deref() != Some(expected)
        {
            return Err(Refusal::Precondition(format!(
                "The Revision Id provided does not match the latest Revision Id. Call the \
                 GetAlias API to retrieve the latest Revision Id: {}",
                function_arn(name, Some(alias))
            )));
        }
        check_version(record, version)?;
        if let Some((other, weight)) = additional {
            check_routing(record, alias, version, other, weight)?;
        }
        let moved = current.version != version;
        let updated = ObservedAlias {
            name: alias.to_owned(),
            version: version.to_owned(),
            additional_version: additional.map(|(v, w)| (v.to_owned(), w)),
            description: description.to_owned(),
            revision_id: Some(revision.clone()),
        };
        record.aliases.insert(alias.to_owned(), updated);
        // Provisioned concurrency on an alias follows its version: Lambda allocates it
        // again for the new version.
        if let Some(provisioned) = record.provisioned.get_mut(alias).filter(|_| moved) {
            provisioned.start(reads, None);
        }
        Ok(Some(revision))
    }

    pub(super) fn put_provisioned(
        &mut self,
        name: &str,
        qualifier: &str,
        count: u32,
    ) -> Outcome<()> {
        let reads = self.knobs.provisioned_reads;
        let record = record(&mut self.functions, name)?;
        if qualifier == LATEST {
            return Err(invalid(
                "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
            ));
        }
        let target = record.resolve(qualifier)?;
        if count == 0 {
            return Err(invalid(
                "ProvisionedConcurrentExecutions must be at least 1",
            ));
        }
        let weighted = matches!(&target, Target::Alias(alias)
            if record.aliases[alias].additional_version.is_some());
        if weighted {
            return Err(invalid(WEIGHTS_WITH_PROVISIONED));
        }
        let Some(version) = record.version_of(&target) else {
            return Err(invalid(format!(
                "Provisioned Concurrency Configs cannot be applied to unpublished function \
                 versions: {qualifier} points to $LATEST"
            )));
        };
        // One config per version: an alias's config and its version's would be two.
        let clash = record.provisioned.keys().find(|other| {
            other.as_str() != qualifier
                && record
                    .resolve(other)
                    .ok()
                    .and_then(|t| record.version_of(&t))
                    == Some(version)
        });
        if let Some(other) = clash {
            return Err(in_use(format!(
                "Provisioned Concurrency Config already exists for version {version} through \
                 {other}"
            )));
        }
        if let Some(reserved) = record.function.reserved_concurrency {
            let others: u32 = record
                .provisioned
                .iter()
                .filter(|(q, _)| q.as_str() != qualifier)
                .map(|(_, p)| p.config.requested)
                .sum();
            if others + count > reserved {
                return Err(invalid(format!(
                    "Requested Provisioned Concurrency ({}) exceeds the function's reserved \
                     concurrency ({reserved})",
                    others + count
                )));
            }
        }
        let failure = self.knobs.fail_next_provisioned.take();
        let provisioned = record
            .provisioned
            .entry(qualifier.to_owned())
            .or_insert_with(|| Provisioned {
                config: ProvisionedConcurrency {
                    qualifier: qualifier.to_owned(),
                    requested: count,
                    allocated: 0,
                    status: ProvisionedStatus::InProgress,
                },
                reads_left: 0,
                failure: None,
            });
        provisioned.config.requested = count;
        provisioned.start(reads, failure);
        Ok(())
    }

    pub(super) fn delete_provisioned(&mut self, name: &str, qualifier: &str) -> Outcome<()> {
        let record = record(&mut self.functions, name)?;
        record
            .provisioned
            .remove(qualifier)
            .map(drop)
            .ok_or_else(|| {
                Refusal::NotFound(format!(
                    "No Provisioned Concurrency Config found for this function: {}",
                    function_arn(name, Some(qualifier))
                ))
            })
    }

    /// Each list is a read of every config: allocations progress.
    pub(super) fn list_provisioned(&mut self, name: &str) -> Outcome<Vec<ProvisionedConcurrency>> {
        let record = record(&mut self.functions, name)?;
        Ok(record
            .provisioned
            .values_mut()
            .map(Provisioned::read)
            .collect())
    }

    pub(super) fn get_provisioned(
        &mut self,
        name: &str,
        qualifier: &str,
    ) -> Outcome<Option<ProvisionedConcurrency>> {
        let record = record(&mut self.functions, name)?;
        record.resolve(qualifier)?;
        Ok(record.provisioned.get_mut(qualifier).map(Provisioned::read))
    }
}

/// Alias names: letters, digits, `-` and `_`, not all digits (that would be a version).
fn check_alias_name(alias: &str) -> Outcome<()> {
    let valid = (1..=128).contains(&alias.len())
        && alias
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !alias.chars().all(|c| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(invalid(format!("Invalid alias name: {alias:?}")))
    }
}

/// An alias points to `$LATEST` or to a published version that exists.
fn check_version(record: &FunctionRecord, version: &str) -> Outcome<()> {
    match record.resolve(version)? {
        Target::Latest | Target::Version(_) => Ok(()),
        Target::Alias(_) => Err(invalid(format!(
            "An alias must point to a version, not to {version}"
        ))),
    }
}

/// Weighted routing: one other published version, never `$LATEST`, with the same role
/// and dead-letter config, on an alias without provisioned concurrency.
fn check_routing(
    record: &FunctionRecord,
    alias: &str,
    version: &str,
    other: &str,
    weight: f64,
) -> Outcome<()> {
    if !(0.0..=1.0).contains(&weight) {
        return Err(invalid(format!(
            "Routing weight {weight} is outside the range 0.0-1.0"
        )));
    }
    if version == LATEST || other == LATEST {
        return Err(invalid(
            "$LATEST is not supported for an alias pointing to more than 1 version",
        ));
    }
    if other == version {
        return Err(invalid(format!(
            "Invalid function version {other}. The additional version must differ from the \
             alias's primary version."
        )));
    }
    let Target::Version(other_number) = record.resolve(other)? else {
        return Err(invalid(format!("Invalid function version {other}")));
    };
    let secondary = &record.versions[&other_number].config;
    let mismatched = version
        .parse::<u64>()
        .ok()
        .and_then(|n| record.versions.get(&n))
        .is_some_and(|primary| {
            primary.config.role != secondary.role
                || primary.config.dead_letter_target != secondary.dead_letter_target
        });
    if mismatched {
        return Err(invalid(
            "The versions of an alias with weights must have the same execution role and \
             dead-letter config",
        ));
    }
    if record.provisioned.contains_key(alias) {
        return Err(invalid(WEIGHTS_WITH_PROVISIONED));
    }
    Ok(())
}
