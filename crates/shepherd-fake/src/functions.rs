//! Functions, their code and configuration, versions, reserved concurrency and tags.

use std::collections::BTreeMap;

use super::state::{
    FakeFunction, FakeVersion, FunctionRecord, LATEST, Outcome, Refusal, World, code_sha256,
    exists, function_arn, in_use, invalid, missing_function, record,
};
use shepherd_core::model::lambda;
use shepherd_core::model::{
    CodeArtifact, FunctionConfig, FunctionState, LastUpdateStatus, ManagedFunction,
    ObservedFunction, ObservedVersion, Package, tags,
};
use shepherd_core::spec::{Architecture, RecursiveLoop};

/// Lambda's limit on tags per function.
const MAX_TAGS: usize = 50;

impl World {
    /// `GetFunction`: each read lets time pass for the function (see `Knobs::settle_reads`).
    pub(super) fn get_function(&mut self, name: &str) -> Option<ObservedFunction> {
        let record = self.functions.get_mut(name)?;
        let observed = record.observed();
        record.tick();
        Some(observed)
    }

    pub(super) fn list_versions(&self, name: &str) -> Outcome<Vec<ObservedVersion>> {
        let record = self
            .functions
            .get(name)
            .ok_or_else(|| missing_function(name))?;
        Ok(record
            .versions
            .values()
            .map(FakeVersion::observed)
            .collect())
    }

    pub(super) fn list_managed_functions(&self) -> Vec<ManagedFunction> {
        self.functions
            .values()
            .filter(|r| {
                r.function.tags.get(tags::MANAGED_BY).map(String::as_str)
                    == Some(tags::MANAGED_BY_VALUE)
            })
            .map(|r| ManagedFunction {
                name: r.function.name.clone(),
                owner: r.function.tags.get(tags::OWNER).cloned(),
            })
            .collect()
    }

    pub(super) fn create_function(
        &mut self,
        name: &str,
        config: &FunctionConfig,
        architecture: Architecture,
        code: &CodeArtifact,
        tags: &BTreeMap<String, String>,
    ) -> Outcome<()> {
        check_function_name(name)?;
        if self.functions.contains_key(name) {
            return Err(exists(format!("Function already exist: {name}")));
        }
        check_config(config)?;
        check_package(config, code)?;
        check_tags(tags)?;
        let mut config = config.clone();
        if let Some(keep) = self.knobs.keeps {
            keep(&mut config);
        }
        let sha256 = code_sha256(&self.objects, code);
        let function = FakeFunction {
            name: name.to_owned(),
            config,
            architecture,
            code: code.clone(),
            code_sha256: sha256,
            tags: tags.clone(),
            reserved_concurrency: None,
            state: FunctionState::Pending,
            last_update: LastUpdateStatus::Successful,
            last_update_reason: None,
            recursive_loop: RecursiveLoop::Terminate,
        };
        let record = FunctionRecord::new(function, self.knobs.settle_reads);
        self.functions.insert(name.to_owned(), record);
        Ok(())
    }

    pub(super) fn update_configuration(
        &mut self,
        name: &str,
        config: &FunctionConfig,
    ) -> Outcome<()> {
        let record = record(&mut self.functions, name)?;
        record.ensure_settled()?;
        check_config(config)?;
        if is_image(&config.package) != is_image(&record.function.config.package) {
            return Err(invalid("The package type of a function cannot be changed"));
        }
        let before = record.function.clone();
        // Lambda reports the new configuration while the update is in progress.
        record.function.config = config.clone();
        if let Some(keep) = self.knobs.keeps {
            keep(&mut record.function.config);
        }
        let failure = self.knobs.fail_next_update.take();
        record.begin_update(before, self.knobs.settle_reads, failure);
        Ok(())
    }

    pub(super) fn update_code(
        &mut self,
        name: &str,
        code: &CodeArtifact,
        architecture: Architecture,
    ) -> Outcome<String> {
        let sha256 = code_sha256(&self.objects, code);
        let record = record(&mut self.functions, name)?;
        record.ensure_settled()?;
        check_package(&record.function.config, code)?;
        let before = record.function.clone();
        record.function.code = code.clone();
        record.function.code_sha256.clone_from(&sha256);
        record.function.architecture = architecture;
        let failure = self.knobs.fail_next_update.take();
        record.begin_update(before, self.knobs.settle_reads, failure);
        Ok(sha256)
    }

    /// Publishes `$LATEST`, or returns the last version when it already embodies `$LATEST`
    /// (Lambda's answer to a publish with nothing changed).
    pub(super) fn publish_version(
        &mut self,
        name: &str,
        description: &str,
        expected_sha256: Option<&str>,
    ) -> Outcome<ObservedVersion> {
        let record = record(&mut self.functions, name)?;
        record.ensure_settled()?;
        let current = &record.function.code_sha256;
        if let Some(expected) = expected_sha256.filter(|e| *e != current) {
            return Err(Refusal::Precondition(format!(
                "CodeSHA256 ({expected}) is different from current CodeSHA256 in $LATEST \
                 ({current}). Please try again with the CodeSHA256 of the current $LATEST."
            )));
        }
        if let Some(last) = record
            .latest_version()
            .filter(|v| v.embodies(&record.function))
        {
            return Ok(last.observed());
        }
        record.last_version += 1;
        let f = &record.function;
        let version = FakeVersion {
            version: record.last_version.to_string(),
            code_sha256: f.code_sha256.clone(),
            description: description.to_owned(),
            config: f.config.clone(),
            architecture: f.architecture,
            code: f.code.clone(),
        };
        let observed = version.observed();
        record.versions.insert(record.last_version, version);
        Ok(observed)
    }

    /// `DeleteFunction` with a version qualifier. Lambda refuses to delete a version an
    /// alias routes to; its provisioned concurrency and async config go with it.
    pub(super) fn delete_version(&mut self, name: &str, version: &str) -> Outcome<()> {
        let record = record(&mut self.functions, name)?;
        if version == LATEST {
            return Err(invalid(
                "$LATEST version cannot be deleted without deleting the function.",
            ));
        }
        let number = version
            .parse::<u64>()
            .ok()
            .filter(|n| record.versions.contains_key(n))
            .ok_or_else(|| {
                Refusal::NotFound(format!(
                    "Function not found: {}",
                    function_arn(name, Some(version))
                ))
            })?;
        let referencing: Vec<&str> = record
            .aliases
            .values()
            .filter(|a| {
                a.version == version
                    || a.additional_version
                        .as_ref()
                        .is_some_and(|(v, _)| v == version)
            })
            .map(|a| a.name.as_str())
            .collect();
        if !referencing.is_empty() {
            return Err(in_use(format!(
                "Unable to delete version because the following aliases reference it: [{}]",
                referencing.join(", ")
            )));
        }
        record.versions.remove(&number);
        record.provisioned.remove(version);
        record.async_configs.remove(version);
        Ok(())
    }

    /// Deletes the function with its versions, aliases and configs. Event source mappings
    /// survive, as in Lambda (they must be deleted on their own).
    pub(super) fn delete_function(&mut self, name: &str) -> Outcome<()> {
        self.functions
            .remove(name)
            .map(drop)
            .ok_or_else(|| missing_function(name))
    }

    pub(super) fn put_reserved_concurrency(
        &mut self,
        name: &str,
        count: Option<u32>,
    ) -> Outcome<()> {
        record(&mut self.functions, name)?
            .function
            .reserved_concurrency = count;
        Ok(())
    }

    pub(super) fn tag_function(
        &mut self,
        arn: &str,
        tags: &BTreeMap<String, String>,
    ) -> Outcome<()> {
        check_tags(tags)?;
        let record = record(&mut self.functions, tagged_function(arn)?)?;
        let mut merged = record.function.tags.clone();
        merged.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
        if merged.len() > MAX_TAGS {
            return Err(invalid(format!(
                "A function can have at most {MAX_TAGS} tags"
            )));
        }
        record.function.tags = merged;
        Ok(())
    }

    pub(super) fn untag_function(&mut self, arn: &str, keys: &[String]) -> Outcome<()> {
        let record = record(&mut self.functions, tagged_function(arn)?)?;
        for key in keys {
            record.function.tags.remove(key);
        }
        Ok(())
    }
}

/// The function name in a tagging ARN. Lambda tags functions, not versions or aliases.
fn tagged_function(arn: &str) -> Outcome<&str> {
    let prefix = function_arn("", None);
    let name = arn.strip_prefix(&prefix).ok_or_else(|| {
        invalid(format!(
            "{arn} is not a Lambda function ARN in this account and region"
        ))
    })?;
    if name.is_empty() || name.contains(':') {
        return Err(invalid(format!(
            "Tags can only be set on an unqualified function ARN: {arn}"
        )));
    }
    Ok(name)
}

fn is_image(package: &Package) -> bool {
    matches!(package, Package::Image)
}

fn check_function_name(name: &str) -> Outcome<()> {
    let valid = (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(invalid(format!("Invalid function name: {name:?}")))
    }
}

/// The package type is set at creation: image code for an image function, a zip otherwise.
fn check_package(config: &FunctionConfig, code: &CodeArtifact) -> Outcome<()> {
    if code.unavailable().is_some() {
        return Err(invalid("Code is required: the package could not be built."));
    }
    if is_image(&config.package) == matches!(code, CodeArtifact::Image { .. }) {
        Ok(())
    } else if is_image(&config.package) {
        Err(invalid(
            "Please provide ImageUri when updating a function with packageType Image.",
        ))
    } else {
        Err(invalid(
            "Please don't provide ImageUri when updating a function with packageType Zip.",
        ))
    }
}

/// The limits Lambda enforces on `CreateFunction` and `UpdateFunctionConfiguration`.
fn check_config(config: &FunctionConfig) -> Outcome<()> {
    let in_range = |value: u32, range: std::ops::RangeInclusive<u32>, field: &str| {
        if range.contains(&value) {
            Ok(())
        } else {
            Err(invalid(format!(
                "{field} {value} is outside the range {}-{}",
                range.start(),
                range.end()
            )))
        }
    };
    in_range(config.memory, lambda::MEMORY_MB, "MemorySize")?;
    in_range(config.timeout_secs, lambda::TIMEOUT_SECS, "Timeout")?;
    in_range(
        config.ephemeral_storage,
        lambda::EPHEMERAL_STORAGE_MB,
        "EphemeralStorage",
    )?;
    if config.layers.len() > 5 {
        return Err(invalid("A function can use at most 5 layers"));
    }
    let environment: usize = config
        .environment
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    if environment > 4096 {
        return Err(invalid(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit.",
        ));
    }
    if !(config.role.starts_with("arn:aws:iam::") && config.role.contains(":role/")) {
        return Err(invalid(format!(
            "The role defined for the function cannot be assumed by Lambda: {:?}",
            config.role
        )));
    }
    let incomplete = matches!(&config.package, Package::Zip { handler, runtime }
        if handler.is_empty() || runtime.is_empty());
    if incomplete {
        return Err(invalid(
            "Runtime and Handler are required for a .zip deployment package",
        ));
    }
    Ok(())
}

fn check_tags(tags: &BTreeMap<String, String>) -> Outcome<()> {
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!(
            "A function can have at most {MAX_TAGS} tags"
        )));
    }
    for (key, value) in tags {
        if key.starts_with("aws:") {
            return Err(invalid(format!(
                "Tag keys starting with aws: are reserved: {key}"
            )));
        }
        if !(1..=128).contains(&key.len()) || value.len() > 256 {
            return Err(invalid(format!("Invalid tag {key}={value}")));
        }
    }
    Ok(())
}
