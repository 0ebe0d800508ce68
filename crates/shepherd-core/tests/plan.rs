//! The planner as a table of worlds: a spec (YAML, through `check_specs` and `resolve`),
//! what AWS reports, and the actions that make AWS match. Plain synchronous tests: the
//! planner is a pure function.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use shepherd_core::lint::LintConfig;
use shepherd_core::model::{
    CodeArtifact, DesiredFunction, FunctionState, LastUpdateStatus, ManagedFunction, Observation,
    ObservedAlias, ObservedFunction, ObservedMapping, ObservedVersion, Owner,
    ProvisionedConcurrency, ProvisionedStatus, ProvisionedTarget, Readable, resolve, tags,
};
use shepherd_core::plan::{
    Action, Change, FunctionPlan, PlanOptions, Qualifier, VERSION_DESCRIPTION_PREFIX, VersionRef,
    plan_all, plan_function, plan_prune,
};
use shepherd_core::spec::RecursiveLoop;
use shepherd_fake::{FakeCloud, function_arn};

// The world: specs and what AWS reports.

/// A valid spec with an alias; `extra` adds fields under `spec:` (two-space indented).
fn spec(extra: &str) -> String {
    format!(
        "\
apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata:
  name: orders
spec:
  code:
    s3:
      bucket: orders-artifacts
      key: orders/1.0.0.zip
  handler: app.handler
  runtime: python3.12
  role: arn:aws:iam::123456789012:role/orders
  alias:
    name: live
{extra}"
    )
}

/// The desired state of a spec text, its code taken from its S3 location.
fn desired(text: &str) -> DesiredFunction {
    desired_with(text, None)
}

/// The desired state of a spec text deployed from a local zip with these contents.
fn desired_zip(text: &str, contents: &str) -> DesiredFunction {
    let code = CodeArtifact::Zip {
        sha256: format!("sha256-of-{contents}="),
        bytes: Arc::new(contents.as_bytes().to_vec()),
    };
    desired_with(text, Some(code))
}

fn desired_with(text: &str, code: Option<CodeArtifact>) -> DesiredFunction {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("orders.yaml");
    std::fs::write(&file, text).expect("write the spec");
    let report = shepherd_core::check_specs(std::slice::from_ref(&file), &LintConfig::default());
    assert!(
        report.is_valid() && report.functions.len() == 1,
        "the spec is invalid: {:#?}\n{text}",
        report.diagnostics
    );
    let valid = &report.functions[0];
    let code = code.unwrap_or_else(|| {
        let s3 = valid.document.spec.code.s3.as_ref().expect("an S3 spec");
        CodeArtifact::s3(s3)
    });
    resolve(valid, code)
}

/// The version a converged function's alias points to.
const CURRENT: &str = "3";

/// The `CodeSha256` Lambda reports for what shepherd deployed.
fn deployed_sha(function: &DesiredFunction) -> String {
    function
        .code
        .known_sha256()
        .map_or_else(|| "lambda-computed-sha=".to_owned(), str::to_owned)
}

fn version(number: u32, description: &str) -> ObservedVersion {
    ObservedVersion {
        version: number.to_string(),
        code_sha256: format!("sha-{number}"),
        description: description.to_owned(),
    }
}

fn ours(number: u32) -> ObservedVersion {
    version(
        number,
        &format!("{VERSION_DESCRIPTION_PREFIX}digest{number}"),
    )
}

/// AWS exactly as a full apply of `function` leaves it, every sub-resource read: versions
/// 1 to 3 published by shepherd, the alias (if any) on 3.
fn converged(function: &DesiredFunction) -> ObservedFunction {
    let arn = function_arn(&function.name, None);
    let sha = deployed_sha(function);
    let mut all_tags = function.tags.clone();
    all_tags.insert(tags::MANAGED_BY.into(), tags::MANAGED_BY_VALUE.into());
    all_tags.insert(tags::OWNER.into(), Owner::default().to_string());
    all_tags.insert(
        tags::CODE.into(),
        format!("{}:{sha}", function.code.identity()),
    );
    all_tags.insert(tags::SPEC_DIGEST.into(), function.spec_digest.clone());
    all_tags.insert(tags::SECTIONS.into(), function.sections.clone());
    all_tags.insert(
        tags::RELEASE.into(),
        format!("{CURRENT}:{}", function.release_digest),
    );
    let aliases = function
        .alias
        .iter()
        .map(|a| ObservedAlias {
            name: a.name.clone(),
            version: CURRENT.into(),
            additional_version: None,
            description: String::new(),
            revision_id: Some("rev-1".into()),
        })
        .collect();
    let provisioned = function
        .provisioned_concurrency
        .map(|target| {
            let (qualifier, count) = match (target, &function.alias) {
                (ProvisionedTarget::Alias(n), Some(alias)) => (alias.name.clone(), n),
                (ProvisionedTarget::Alias(n) | ProvisionedTarget::Version(n), _) => {
                    (CURRENT.to_owned(), n)
                }
            };
            ProvisionedConcurrency {
                qualifier,
                requested: count,
                allocated: count,
                status: ProvisionedStatus::Ready,
            }
        })
        .into_iter()
        .collect();
    let invoked = match function.invoke_qualifier() {
        Some(q) => function_arn(&function.name, Some(q)),
        None => arn.clone(),
    };
    let mappings = function
        .mappings
        .iter()
        .enumerate()
        .map(|(i, config)| ObservedMapping {
            uuid: format!("mapping-{i}"),
            function_arn: invoked.clone(),
            config: config.clone(),
        })
        .collect();
    // The fake builds alarms as CloudWatch reports them.
    let cloudwatch = FakeCloud::new();
    let alarms = function
        .alarms
        .iter()
        .map(|definition| {
            cloudwatch.add_alarm(definition.clone());
            let alarm = cloudwatch.alarm(&definition.name).expect("just added");
            (definition.name.clone(), alarm)
        })
        .collect();
    ObservedFunction {
        name: function.name.clone(),
        arn,
        config: function.config.clone(),
        architecture: function.architecture,
        state: FunctionState::Active,
        last_update: LastUpdateStatus::Successful,
        last_update_reason: None,
        code_sha256: sha,
        tags: all_tags,
        reserved_concurrency: function.reserved_concurrency,
        aliases,
        versions: Readable::Known((1..=3).map(ours).collect()),
        async_config: Readable::Known(function.async_config.clone()),
        provisioned: Readable::Known(provisioned),
        recursive_loop: Readable::Known(function.recursive_loop),
        mappings: Readable::Known(mappings),
        alarms: Readable::Known(alarms),
    }
}

// Planning and reading plans.

fn plan(desired: &DesiredFunction, observed: Option<&ObservedFunction>) -> FunctionPlan {
    plan_with(desired, observed, &PlanOptions::default())
}

fn plan_with(
    desired: &DesiredFunction,
    observed: Option<&ObservedFunction>,
    options: &PlanOptions,
) -> FunctionPlan {
    plan_function(desired, observed, &Observation::default(), options)
}

fn kinds(plan: &FunctionPlan) -> Vec<&'static str> {
    plan.actions.iter().map(Action::kind).collect()
}

fn change(field: &str, from: &str, to: &str) -> Change {
    Change {
        field: field.to_owned(),
        from: from.to_owned(),
        to: to.to_owned(),
    }
}

fn deleted_versions(plan: &FunctionPlan) -> Vec<&str> {
    let mut deleted: Vec<&str> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::DeleteVersion { version } => Some(version.as_str()),
            _ => None,
        })
        .collect();
    deleted.sort_by_key(|v| v.parse::<u32>().unwrap_or(u32::MAX));
    deleted
}

/// Everything a spec can ask for besides the function itself.
const EVERYTHING: &str = concat!(
    // Under `alias:`, the last field of the base spec.
    "    provisionedConcurrency: 5\n",
    "  recursiveLoop: Allow\n",
    "  reservedConcurrency: 20\n",
    "  asyncInvocation:\n",
    "    maximumRetryAttempts: 1\n",
    "    onFailure: arn:aws:sqs:us-east-1:123456789012:orders-failures\n",
    "  eventSources:\n",
    "    sqs:\n",
    "      - queue: arn:aws:sqs:us-east-1:123456789012:orders\n",
    "  alarms:\n",
    "    errors: {}\n",
    "    throttles: {}\n",
    "  tags:\n",
    "    team: orders\n",
);

// Creating.

#[test]
fn a_new_function_is_created_then_published_aliased_configured_and_tagged_last() {
    let cases: [(&str, String, &[&str]); 4] = [
        (
            "no alias, nothing else",
            spec("").replace("  alias:\n    name: live\n", ""),
            &["create_function", "publish_version", "tag"],
        ),
        (
            "an alias",
            spec(""),
            &["create_function", "publish_version", "create_alias", "tag"],
        ),
        (
            "everything",
            spec(EVERYTHING),
            &[
                "create_function",
                "put_recursive_loop",
                "publish_version",
                "create_alias",
                "put_reserved_concurrency",
                "put_provisioned_concurrency",
                "put_async_config",
                "create_mapping",
                "put_alarm",
                "put_alarm",
                "tag",
            ],
        ),
        (
            "provisioned concurrency on the version, no alias",
            spec("  provisionedConcurrency: 2\n").replace("  alias:\n    name: live\n", ""),
            &[
                "create_function",
                "publish_version",
                "put_provisioned_concurrency",
                "tag",
            ],
        ),
    ];
    for (case, text, expected) in cases {
        let plan = plan(&desired(&text), None);
        assert_eq!(kinds(&plan), expected, "{case}");
        assert!(!plan.drift && plan.next.refusal().is_none(), "{case}");
    }
}

#[test]
fn a_new_function_is_marked_managed_at_creation_and_its_spec_digest_is_written_last() {
    let function = desired(&spec(EVERYTHING));
    let plan = plan(&function, None);
    let Some(Action::CreateFunction { tags: initial, .. }) = plan.actions.first() else {
        panic!("the first action creates the function: {:#?}", plan.actions);
    };
    assert_eq!(
        initial.get(tags::MANAGED_BY).map(String::as_str),
        Some(tags::MANAGED_BY_VALUE)
    );
    assert_eq!(initial.get("team").map(String::as_str), Some("orders"));
    assert!(
        !initial.contains_key(tags::SPEC_DIGEST),
        "the spec digest marks a complete apply: never at creation"
    );
    let Some(Action::Tag { set, release, .. }) = plan.actions.last() else {
        panic!("the last action tags: {:#?}", plan.actions);
    };
    assert_eq!(set.get(tags::SPEC_DIGEST), Some(&function.spec_digest));
    assert_eq!(release.as_ref(), Some(&function.release_digest));
    // Everything hangs off the alias, which points at the version this plan publishes.
    assert!(plan.actions.contains(&Action::CreateAlias {
        name: "live".into(),
        version: VersionRef::Published,
        description: String::new(),
    }));
    assert!(plan.actions.contains(&Action::PutProvisionedConcurrency {
        qualifier: Qualifier::Alias("live".into()),
        count: 5,
    }));
}

// Converged worlds.

#[test]
fn a_converged_world_plans_nothing() {
    let cases = [
        ("an alias", desired(&spec(""))),
        ("everything", desired(&spec(EVERYTHING))),
        (
            "no alias, provisioned concurrency on the version",
            desired(
                &spec("  provisionedConcurrency: 2\n").replace("  alias:\n    name: live\n", ""),
            ),
        ),
        ("a local zip", desired_zip(&spec(""), "v1")),
    ];
    for (case, function) in cases {
        let observed = converged(&function);
        let plan = plan(&function, Some(&observed));
        assert!(plan.is_empty(), "{case}: {:#?}", plan.actions);
        assert!(!plan.drift, "{case}");
        // The same with only GetFunction and ListAliases read, as a cheap refresh does.
        let shallow = ObservedFunction {
            versions: Readable::NotRead,
            async_config: Readable::NotRead,
            provisioned: Readable::NotRead,
            recursive_loop: Readable::NotRead,
            mappings: Readable::NotRead,
            alarms: Readable::NotRead,
            ..observed
        };
        let plan = plan_all(
            std::slice::from_ref(&function),
            &Observation {
                functions: BTreeMap::from([(function.name.clone(), shallow)]),
                ..Observation::default()
            },
            &PlanOptions::default(),
        );
        assert!(
            plan.iter().all(FunctionPlan::is_empty),
            "{case}, shallow: {plan:#?}"
        );
    }
}

// Configuration changes.

#[test]
fn each_configuration_change_updates_exactly_that_field_then_publishes_and_moves_the_alias() {
    let base = spec("");
    let swap = |from: &str, to: &str| {
        assert!(base.contains(from), "{from} is not in the base spec");
        base.replace(from, to)
    };
    let cases: Vec<(String, Change)> = vec![
        (spec("  memory: 256\n"), change("memory", "128", "256")),
        (spec("  timeout: 30s\n"), change("timeout", "3", "30")),
        (
            spec("  ephemeralStorage: 1024\n"),
            change("ephemeralStorage", "512", "1024"),
        ),
        (
            spec("  description: Orders\n"),
            change("description", "\"\"", "\"Orders\""),
        ),
        (
            swap("role/orders", "role/orders-v2"),
            change(
                "role",
                "\"arn:aws:iam::123456789012:role/orders\"",
                "\"arn:aws:iam::123456789012:role/orders-v2\"",
            ),
        ),
        (
            swap("handler: app.handler", "handler: app.main"),
            change("handler", "\"app.handler\"", "\"app.main\""),
        ),
        (
            swap("runtime: python3.12", "runtime: python3.13"),
            change("runtime", "\"python3.12\"", "\"python3.13\""),
        ),
        (
            spec("  environment:\n    STAGE: prod\n"),
            change("environment.STAGE", "(none)", "\"prod\""),
        ),
        (
            spec("  secrets:\n    DB_PASSWORD:\n      ssmParameter: /orders/db\n"),
            change("environment.DB_PASSWORD", "(none)", "\"/orders/db\""),
        ),
        (
            spec(
                "  kmsKeyArn: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\n",
            ),
            change(
                "kmsKeyArn",
                "(none)",
                "\"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"",
            ),
        ),
        (
            spec("  tracing: Active\n"),
            change("tracing", "PassThrough", "Active"),
        ),
        (
            spec("  snapStart: PublishedVersions\n"),
            change("snapStart", "Off", "PublishedVersions"),
        ),
        (
            spec("  layers:\n    - arn:aws:lambda:us-east-1:123456789012:layer:shared:3\n"),
            change(
                "layers",
                "[]",
                "[\"arn:aws:lambda:us-east-1:123456789012:layer:shared:3\"]",
            ),
        ),
    ];
    let before = desired(&base);
    let observed = converged(&before);
    for (text, expected) in cases {
        let after = desired(&text);
        let plan = plan(&after, Some(&observed));
        let field = expected.field.clone();
        assert_eq!(
            kinds(&plan),
            [
                "update_configuration",
                "publish_version",
                "update_alias",
                "tag"
            ],
            "{field}"
        );
        assert_eq!(
            plan.actions[0],
            Action::UpdateConfiguration {
                config: Box::new(after.config.clone()),
                changes: vec![expected],
            },
            "{field}"
        );
        let Action::UpdateAlias { version, .. } = &plan.actions[2] else {
            unreachable!("checked above");
        };
        assert_eq!(*version, VersionRef::Published, "{field}");
        assert!(!plan.drift, "{field}: a spec change is not drift");
    }
}

#[test]
fn fields_compared_as_a_whole_report_one_change_each() {
    let observed = converged(&desired(&spec("")));
    let cases = [
        (
            "  vpc:\n    subnetIds: [subnet-0123456789abcdef0]\n    securityGroupIds: [sg-0123456789abcdef0]\n",
            "vpc",
        ),
        ("  logging:\n    format: JSON\n", "logging"),
        (
            "  asyncInvocation:\n    deadLetterTarget: arn:aws:sqs:us-east-1:123456789012:orders-dlq\n",
            "deadLetterTarget",
        ),
    ];
    for (extra, field) in cases {
        let plan = plan(&desired(&spec(extra)), Some(&observed));
        let Some(Action::UpdateConfiguration { changes, .. }) = plan.actions.first() else {
            panic!("{field}: {:#?}", plan.actions);
        };
        let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, [field], "{changes:#?}");
    }
}

#[test]
fn logging_is_not_compared_when_aws_does_not_report_it() {
    let function = desired(&spec("  logging:\n    format: JSON\n"));
    let mut observed = converged(&function);
    observed.config.logging = None;
    assert!(plan(&function, Some(&observed)).is_empty());

    // When AWS reports it, a difference is a change.
    let mut observed = converged(&desired(&spec("")));
    assert!(observed.config.logging.is_some());
    observed
        .tags
        .insert(tags::SPEC_DIGEST.into(), function.spec_digest.clone());
    let plan = plan(&function, Some(&observed));
    assert_eq!(plan.actions[0].changes()[0].field, "logging");
}

// Code changes.

#[test]
fn new_code_is_deployed_published_and_routed_to_by_the_alias() {
    let old_zip = desired_zip(&spec(""), "v1");
    let new_zip = desired_zip(&spec(""), "v2");
    let old_s3 = desired(&spec(""));
    let new_s3 = desired(&spec("").replace("orders/1.0.0.zip", "orders/1.1.0.zip"));
    let cases = [
        ("the zip's SHA-256 differs", &old_zip, &new_zip),
        ("the S3 key differs", &old_s3, &new_s3),
    ];
    for (case, before, after) in cases {
        let plan = plan(after, Some(&converged(before)));
        assert_eq!(
            kinds(&plan),
            ["update_code", "publish_version", "update_alias", "tag"],
            "{case}"
        );
        let Action::UpdateCode { code, changes, .. } = &plan.actions[0] else {
            unreachable!("checked above");
        };
        assert_eq!(*code, after.code, "{case}");
        assert_eq!(changes.len(), 1, "{case}: {changes:#?}");
        assert_eq!(changes[0].field, "code", "{case}");
        assert_eq!(changes[0].from, deployed_sha(before), "{case}");
        // A zip's digest is known in advance and guards the publish.
        assert_eq!(
            plan.actions[1],
            Action::PublishVersion {
                release_digest: after.release_digest.clone(),
                expected_sha256: after.code.known_sha256().map(str::to_owned),
            },
            "{case}"
        );
        assert!(
            matches!(&plan.actions[2], Action::UpdateAlias { name, version: VersionRef::Published, additional: None, .. } if name == "live"),
            "{case}: {:#?}",
            plan.actions[2]
        );
    }
}

#[test]
fn code_deployed_behind_shepherds_back_to_the_same_s3_key_is_redeployed() {
    let function = desired(&spec(""));
    let mut observed = converged(&function);
    observed.code_sha256 = "someone-elses-build=".into();
    let plan = plan(&function, Some(&observed));
    assert_eq!(plan.actions[0].kind(), "update_code");
    assert!(plan.drift, "the spec did not change: AWS did");
}

// Fields removed from the spec.

#[test]
fn a_field_removed_from_the_spec_returns_to_the_aws_default() {
    let removed = |extra: &str| {
        let before = desired(&spec(extra));
        plan(&desired(&spec("")), Some(&converged(&before)))
    };
    let cases: Vec<(&str, &str, Action)> = vec![
        (
            "memory",
            "  memory: 1024\n",
            Action::UpdateConfiguration {
                config: Box::new(desired(&spec("")).config),
                changes: vec![change("memory", "1024", "128")],
            },
        ),
        (
            "an environment variable",
            "  environment:\n    STAGE: prod\n",
            Action::UpdateConfiguration {
                config: Box::new(desired(&spec("")).config),
                changes: vec![change("environment.STAGE", "\"prod\"", "(none)")],
            },
        ),
        (
            "reserved concurrency",
            "  reservedConcurrency: 50\n",
            Action::DeleteReservedConcurrency,
        ),
        (
            "provisioned concurrency",
            "    provisionedConcurrency: 5\n",
            Action::DeleteProvisionedConcurrency {
                qualifier: "live".into(),
            },
        ),
        (
            "async invocation",
            "  asyncInvocation:\n    maximumRetryAttempts: 0\n    onFailure: arn:aws:sqs:us-east-1:123456789012:f\n",
            Action::DeleteAsyncConfig {
                qualifier: Some("live".into()),
            },
        ),
        (
            "an SQS source",
            "  eventSources:\n    sqs:\n      - queue: arn:aws:sqs:us-east-1:123456789012:orders\n",
            Action::DeleteMapping {
                uuid: "mapping-0".into(),
                queue_arn: "arn:aws:sqs:us-east-1:123456789012:orders".into(),
            },
        ),
        (
            "alarms",
            "  alarms:\n    errors: {}\n    throttles: {}\n",
            Action::DeleteAlarms {
                names: vec!["orders-errors".into(), "orders-throttles".into()],
            },
        ),
        (
            "recursive loop",
            "  recursiveLoop: Allow\n",
            Action::PutRecursiveLoop {
                mode: RecursiveLoop::Terminate,
            },
        ),
    ];
    for (field, extra, expected) in cases {
        let plan = removed(extra);
        assert!(
            plan.actions.contains(&expected),
            "{field}: expected {expected:?} in {:#?}",
            plan.actions
        );
        let last = plan.actions.last().map(Action::kind);
        assert_eq!(
            last,
            Some("tag"),
            "{field}: the spec digest is written last"
        );
    }
}

#[test]
fn a_tag_removed_from_the_spec_is_removed_but_shepherds_own_tags_stay() {
    let before = desired(&spec("  tags:\n    team: orders\n"));
    let mut observed = converged(&before);
    observed
        .tags
        .insert("aws:cloudformation:stack-name".into(), "x".into());
    let plan = plan(&desired(&spec("")), Some(&observed));
    let Some(Action::Tag { remove, .. }) = plan.actions.last() else {
        panic!("{:#?}", plan.actions);
    };
    assert_eq!(remove, &["team".to_owned()]);
}

// Ownership.

#[test]
fn an_unmanaged_function_is_refused_unless_adopted() {
    let function = desired(&spec(""));
    let mut observed = converged(&function);
    observed.tags.clear();

    let refused = plan(&function, Some(&observed));
    assert!(refused.actions.is_empty(), "{:#?}", refused.actions);
    let reason = refusal(&refused).unwrap_or_default();
    assert!(reason.contains("not managed by shepherd") && reason.contains("--adopt"));
    assert!(!refused.is_empty(), "a refusal is something to report");

    let adopted = plan_with(
        &function,
        Some(&observed),
        &PlanOptions {
            adopt: true,
            ..PlanOptions::default()
        },
    );
    assert!(adopted.next.refusal().is_none());
    let Some(Action::Tag { set, .. }) = adopted.actions.last() else {
        panic!("{:#?}", adopted.actions);
    };
    assert_eq!(
        set.get(tags::MANAGED_BY).map(String::as_str),
        Some(tags::MANAGED_BY_VALUE)
    );
}

#[test]
fn another_owners_function_is_refused_unless_adopted_and_then_claimed() {
    let function = desired(&spec(""));
    let mut observed = converged(&function);
    observed
        .tags
        .insert(tags::OWNER.into(), "github.com/acme/other-specs".into());

    let refused = plan(&function, Some(&observed));
    assert!(refused.actions.is_empty(), "{:#?}", refused.actions);
    let reason = refusal(&refused).unwrap_or_default();
    assert!(
        reason.contains("another spec source")
            && reason.contains("\"github.com/acme/other-specs\"")
            && reason.contains("--adopt"),
        "{reason}"
    );

    let adopted = plan_with(
        &function,
        Some(&observed),
        &PlanOptions {
            adopt: true,
            ..PlanOptions::default()
        },
    );
    let Some(Action::Tag { set, .. }) = adopted.actions.last() else {
        panic!("{:#?}", adopted.actions);
    };
    assert_eq!(
        set.get(tags::OWNER).map(String::as_str),
        Some(Owner::default().as_str()),
        "an adopted function carries its new owner"
    );
}

#[test]
fn a_function_managed_before_owners_were_recorded_is_claimed_by_the_spec_that_names_it() {
    let function = desired(&spec(""));
    let mut observed = converged(&function);
    observed.tags.remove(tags::OWNER);
    let plan = plan(&function, Some(&observed));
    assert!(plan.next.refusal().is_none(), "{:?}", plan.next);
    assert_eq!(
        plan.actions,
        [Action::Tag {
            set: BTreeMap::from([
                (tags::OWNER.to_owned(), Owner::default().to_string()),
                (tags::SPEC_DIGEST.to_owned(), function.spec_digest.clone()),
            ]),
            remove: Vec::new(),
            release: None,
        }]
    );
}

#[test]
fn a_new_function_is_created_with_its_owner() {
    let function = desired(&spec(""));
    let owner = Owner::parse("team-a").unwrap();
    let plan = plan_with(
        &function,
        None,
        &PlanOptions {
            owner: owner.clone(),
            ..PlanOptions::default()
        },
    );
    let Some(Action::CreateFunction { tags: initial, .. }) = plan.actions.first() else {
        panic!("{:#?}", plan.actions);
    };
    assert_eq!(initial.get(tags::OWNER).map(String::as_str), Some("team-a"));
}

fn managed(name: &str, owner: Option<&str>) -> ManagedFunction {
    ManagedFunction {
        name: name.to_owned(),
        owner: owner.map(str::to_owned),
    }
}

#[test]
fn prune_deletes_only_this_owners_functions_that_the_spec_set_does_not_name() {
    let owner = Owner::parse("team-a").unwrap();
    let listed = [
        managed("orders", Some("team-a")),
        managed("old-reports", Some("team-a")),
        managed("billing", Some("team-b")),
        managed("legacy", None),
    ];
    let wanted = BTreeSet::from(["orders", "nightly"]);
    let plans = plan_prune(&wanted, &listed, &owner);
    let deleted: Vec<&str> = plans
        .iter()
        .filter(|p| !p.actions.is_empty())
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(deleted, ["old-reports"]);
    assert_eq!(
        plans[0].actions,
        [Action::DeleteFunction {
            owner: "team-a".to_owned()
        }]
    );
    let noted: Vec<(&str, String)> = plans
        .iter()
        .filter_map(|p| Some((p.name.as_str(), p.note()?)))
        .collect();
    assert_eq!(noted.len(), 1, "{plans:#?}");
    assert_eq!(noted[0].0, "legacy");
    assert!(noted[0].1.starts_with("not pruned"), "{}", noted[0].1);
    assert!(
        !plans.iter().any(|p| p.name == "billing"),
        "another owner's function is not even mentioned"
    );
    assert_eq!(
        plan_prune(&BTreeSet::new(), &listed, &owner),
        Vec::new(),
        "an empty spec set is a broken checkout, not an order to delete everything"
    );
}

// Old versions.

#[test]
fn version_pruning_keeps_the_newest_and_every_version_an_alias_routes_to() {
    struct Case {
        what: &'static str,
        keep: usize,
        versions: Vec<ObservedVersion>,
        /// Aliases besides `live` (which routes to 3): (name, version, additional).
        aliases: Vec<(&'static str, &'static str, Option<&'static str>)>,
        deleted: &'static [&'static str],
    }
    let cases = [
        Case {
            what: "at most keep_versions are kept",
            keep: 3,
            versions: (1..=8).map(ours).collect(),
            aliases: vec![("live", "8", None)],
            deleted: &["1", "2", "3", "4", "5"],
        },
        Case {
            what: "fewer than keep_versions: nothing to delete",
            keep: 5,
            versions: (1..=5).map(ours).collect(),
            aliases: vec![],
            deleted: &[],
        },
        Case {
            what: "the primary and additional versions of every alias are kept",
            keep: 2,
            versions: (1..=8).map(ours).collect(),
            aliases: vec![("live", "8", Some("2")), ("legacy", "1", None)],
            deleted: &["3", "4", "5", "6"],
        },
        Case {
            what: "versions shepherd did not publish are never deleted",
            keep: 1,
            versions: vec![
                version(1, "hand-made"),
                version(2, ""),
                ours(3),
                ours(4),
                ours(5),
            ],
            aliases: vec![("live", "5", None)],
            deleted: &["3", "4"],
        },
        Case {
            what: "keep_versions 0 still keeps what aliases use",
            keep: 0,
            versions: (1..=4).map(ours).collect(),
            aliases: vec![("live", "4", Some("3"))],
            deleted: &["1", "2"],
        },
    ];
    let function = desired(&spec(""));
    for case in cases {
        let mut observed = converged(&function);
        let newest = case.versions.iter().filter_map(|v| v.number()).max();
        let newest = newest.map(|n| n.to_string()).unwrap_or_default();
        observed.tags.insert(
            tags::RELEASE.into(),
            format!("{newest}:{}", function.release_digest),
        );
        observed.versions = Readable::Known(case.versions);
        observed.aliases = case
            .aliases
            .iter()
            .map(|(name, version, additional)| ObservedAlias {
                name: (*name).into(),
                version: (*version).into(),
                additional_version: additional.map(|v| (v.to_owned(), 0.1)),
                description: String::new(),
                revision_id: None,
            })
            .collect();
        if !observed.aliases.iter().any(|a| a.name == "live") {
            observed.aliases.push(ObservedAlias {
                name: "live".into(),
                version: newest.clone(),
                additional_version: None,
                description: String::new(),
                revision_id: None,
            });
        }
        let options = PlanOptions {
            keep_versions: case.keep,
            ..PlanOptions::default()
        };
        let plan = plan_with(&function, Some(&observed), &options);
        assert_eq!(deleted_versions(&plan), case.deleted, "{}", case.what);
    }
}

#[test]
fn the_version_about_to_be_published_takes_one_of_the_kept_slots() {
    let before = desired(&spec(""));
    let mut observed = converged(&before);
    observed.versions = Readable::Known((1..=5).map(ours).collect());
    observed.aliases[0].version = "5".into();
    observed
        .tags
        .insert(tags::RELEASE.into(), format!("5:{}", before.release_digest));
    let after = desired(&spec("  memory: 256\n"));
    let options = PlanOptions {
        keep_versions: 3,
        ..PlanOptions::default()
    };
    let plan = plan_with(&after, Some(&observed), &options);
    assert!(kinds(&plan).contains(&"publish_version"));
    assert_eq!(deleted_versions(&plan), ["1", "2", "3"]);
}

#[test]
fn versions_are_not_pruned_when_they_were_not_read() {
    let function = desired(&spec(""));
    let mut observed = converged(&function);
    observed.versions = Readable::NotRead;
    let options = PlanOptions {
        keep_versions: 0,
        ..PlanOptions::default()
    };
    let mut changed = function.clone();
    changed.config.memory = 512;
    let plan = plan_with(&changed, Some(&observed), &options);
    assert!(!plan.actions.is_empty());
    assert_eq!(deleted_versions(&plan), Vec::<&str>::new());
}

#[test]
fn a_failed_provisioned_allocation_is_requested_again() {
    let function = desired(&spec("    provisionedConcurrency: 5\n"));
    let mut observed = converged(&function);
    let Readable::Known(configs) = &mut observed.provisioned else {
        unreachable!("converged reads everything");
    };
    configs[0].allocated = 0;
    configs[0].status = ProvisionedStatus::Failed("FUNCTION_ERROR_INIT_FAILURE".into());
    let again = plan(&function, Some(&observed));
    assert_eq!(
        again.actions,
        [Action::PutProvisionedConcurrency {
            qualifier: Qualifier::Alias("live".into()),
            count: 5,
        }]
    );
    // Still allocating is not a failure: nothing to do.
    let Readable::Known(configs) = &mut observed.provisioned else {
        unreachable!("set above");
    };
    configs[0].status = ProvisionedStatus::InProgress;
    assert!(plan(&function, Some(&observed)).is_empty());
}

// Drift.

#[test]
fn drift_is_reported_only_when_the_recorded_spec_digest_matches_the_spec() {
    let function = desired(&spec(""));
    let mut changed_in_aws = converged(&function);
    changed_in_aws.config.memory = 2048;
    changed_in_aws.reserved_concurrency = Some(3);

    let plan_drifted = plan(&function, Some(&changed_in_aws));
    assert!(plan_drifted.drift);
    assert_eq!(
        kinds(&plan_drifted),
        [
            "update_configuration",
            "publish_version",
            "update_alias",
            "delete_reserved_concurrency",
            "tag"
        ]
    );
    assert_eq!(
        plan_drifted.actions[0].changes(),
        [change("memory", "2048", "128")]
    );

    // The same difference after a spec change is the spec's doing, not drift.
    let mut stale_digest = changed_in_aws.clone();
    stale_digest
        .tags
        .insert(tags::SPEC_DIGEST.into(), "0000000000000000".into());
    assert!(!plan(&function, Some(&stale_digest)).drift);

    // No difference, no drift, whatever the digest.
    assert!(!plan(&function, Some(&converged(&function))).drift);
}

// Event sources against their queues.

fn with_queue(function: &DesiredFunction, visibility: u32, dlq: Option<&str>) -> Observation {
    Observation {
        queues: BTreeMap::from([(
            "arn:aws:sqs:us-east-1:123456789012:orders".to_owned(),
            shepherd_core::model::QueueAttributes {
                visibility_timeout_secs: visibility,
                dead_letter_queue: dlq.map(str::to_owned),
            },
        )]),
        functions: BTreeMap::from([(function.name.clone(), converged(function))]),
        ..Observation::default()
    }
}

#[test]
fn an_event_source_is_checked_against_its_queue() {
    let function = desired(&spec(concat!(
        "  timeout: 30s\n",
        "  eventSources:\n",
        "    sqs:\n",
        "      - queue: arn:aws:sqs:us-east-1:123456789012:orders\n",
        "        deadLetterQueue: arn:aws:sqs:us-east-1:123456789012:orders-dlq\n",
    )));
    let observed = |o: &Observation| o.functions.get(&function.name).cloned();
    let options = PlanOptions::default();
    let dlq = Some("arn:aws:sqs:us-east-1:123456789012:orders-dlq");

    let short = with_queue(&function, 10, dlq);
    let plan = plan_function(&function, observed(&short).as_ref(), &short, &options);
    assert!(plan.actions.is_empty(), "{:#?}", plan.actions);
    assert_eq!(
        refusal(&plan).as_deref(),
        Some(
            "eventSources.sqs[0]: the function's timeout (30s) is above the visibility timeout of queue orders (10s); Lambda refuses such a mapping: raise the queue's visibility timeout to at least 3m (6 times the timeout, as AWS advises) or lower the function's timeout"
        )
    );

    let below_advice = with_queue(&function, 60, dlq);
    let plan = plan_function(
        &function,
        observed(&below_advice).as_ref(),
        &below_advice,
        &options,
    );
    assert!(plan.next.refusal().is_none());
    assert!(
        plan.note()
            .as_deref()
            .unwrap_or_default()
            .contains("is below 6 times the function's timeout (3m"),
        "{:?}",
        plan.note()
    );
    // A function about to be created is warned the same way.
    let create = plan_function(&function, None, &below_advice, &options);
    assert!(!create.actions.is_empty());
    assert_eq!(create.note(), plan.note());

    let elsewhere = with_queue(
        &function,
        180,
        Some("arn:aws:sqs:us-east-1:123456789012:other"),
    );
    let plan = plan_function(
        &function,
        observed(&elsewhere).as_ref(),
        &elsewhere,
        &options,
    );
    assert_eq!(
        plan.note().as_deref(),
        Some(
            "eventSources.sqs[0]: the spec's deadLetterQueue is arn:aws:sqs:us-east-1:123456789012:orders-dlq, but queue orders's redrive policy sends failed records to arn:aws:sqs:us-east-1:123456789012:other"
        )
    );

    let right = with_queue(&function, 180, dlq);
    let plan = plan_function(&function, observed(&right).as_ref(), &right, &options);
    assert_eq!((plan.next.refusal(), plan.note()), (None, None));
}

#[test]
fn filter_criteria_compare_as_json_and_changes_update_the_mapping() {
    let source = |filters: &str| {
        spec(&format!(
            "  timeout: 30s\n  eventSources:\n    sqs:\n      - queue: arn:aws:sqs:us-east-1:123456789012:orders\n{filters}"
        ))
    };
    let function = desired(&source(
        "        filterCriteria:\n          - {body: {type: [order-created], amount: [{numeric: ['>', 0]}]}}\n",
    ));
    assert_eq!(
        function.mappings[0].filters,
        [r#"{"body":{"amount":[{"numeric":[">",0]}],"type":["order-created"]}}"#]
    );
    let before = desired(&source(""));
    let plan = plan(&function, Some(&converged(&before)));
    let update = plan
        .actions
        .iter()
        .find(|a| a.kind() == "update_mapping")
        .unwrap_or_else(|| panic!("{:#?}", plan.actions));
    assert!(
        update.changes().iter().any(|c| c.field == "filterCriteria"),
        "{:#?}",
        update.changes()
    );
}

/// Why a plan refuses its function, as people read it.
fn refusal(plan: &FunctionPlan) -> Option<String> {
    plan.next.refusal().map(ToString::to_string)
}
