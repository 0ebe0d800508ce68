//! Validation of every field of the spec: its type, range, pattern or enum, and every rule
//! across fields (validate/rules.rs). Each case edits the valid base spec and lists the exact
//! diagnostics expected, in reading order: with their position (`18:11: spec.memory: ...`)
//! for a representative subset, as `PATH: MESSAGE` for the rest.
//!
//! `every_schema_field_has_a_failing_case` keeps the table complete: each field of the JSON
//! Schema must be the subject of at least one diagnostic below.

mod common;

use std::collections::BTreeSet;

use common::{Scratch, Spec, check_text, compare_diagnostics, render};
use serde_json::Value as Json;
use shepherd_core::diagnostic::PathSegment;
use shepherd_core::lint::LintConfig;

struct Case {
    name: &'static str,
    edit: fn(Spec) -> Spec,
    expect: &'static [&'static str],
}

/// Shorthand for a table row.
fn case(name: &'static str, edit: fn(Spec) -> Spec, expect: &'static [&'static str]) -> Case {
    Case { name, edit, expect }
}

/// Runs a table; returns the normalized paths its diagnostics were about.
fn run(cases: &[Case]) -> BTreeSet<String> {
    let schema = shepherd_core::spec::json_schema();
    let mut covered = BTreeSet::new();
    let mut failures = Vec::new();
    for case in cases {
        let text = (case.edit)(Spec::base()).text();
        let report = check_text(&text);
        let context = format!("case {:?}, spec:\n{text}", case.name);
        if let Err(failure) = compare_diagnostics(&context, &report, case.expect) {
            failures.push(failure);
        } else if report.is_valid() != case.expect.iter().all(|e| e.contains("warning: ")) {
            failures.push(format!("{context}\n  validity: {}", report.is_valid()));
        }
        for diagnostic in &report.diagnostics {
            let mut path = normalize(&schema, diagnostic.path.segments());
            if let Some(field) = diagnostic
                .message
                .strip_prefix("missing required field \"")
                .and_then(|m| m.strip_suffix('"'))
            {
                path = if path.is_empty() {
                    field.to_owned()
                } else {
                    format!("{path}.{field}")
                };
            }
            covered.insert(path);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    covered
}

fn resolve<'a>(root: &'a Json, mut schema: &'a Json) -> &'a Json {
    while let Some(reference) = schema.get("$ref").and_then(Json::as_str) {
        let name = reference.trim_start_matches("#/$defs/");
        schema = &root["$defs"][name];
    }
    schema
}

/// `spec.environment.DB_HOST` -> `spec.environment.*`, `spec.layers[3]` -> `spec.layers[]`.
fn normalize(root: &Json, segments: &[PathSegment]) -> String {
    let mut out = String::new();
    let mut schema = Some(resolve(root, root));
    for segment in segments {
        match segment {
            PathSegment::Key(key) => {
                let property = schema
                    .and_then(|s| s.get("properties"))
                    .and_then(|p| p.get(key));
                let (name, next) = match property {
                    Some(next) => (key.as_str(), Some(next)),
                    None => match schema.and_then(|s| s.get("additionalProperties")) {
                        Some(extra @ Json::Object(_)) => ("*", Some(extra)),
                        _ => (key.as_str(), None),
                    },
                };
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
                schema = next.map(|n| resolve(root, n));
            }
            PathSegment::Index(_) => {
                out.push_str("[]");
                schema = schema
                    .and_then(|s| s.get("items"))
                    .map(|n| resolve(root, n));
            }
        }
    }
    out
}

/// Every field path the schema describes, normalized like [`normalize`].
fn schema_paths(root: &Json, schema: &Json, path: &str, out: &mut BTreeSet<String>) {
    let schema = resolve(root, schema);
    if let Some(properties) = schema.get("properties").and_then(Json::as_object) {
        for (key, property) in properties {
            let child = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            out.insert(child.clone());
            schema_paths(root, property, &child, out);
        }
    }
    if let Some(items) = schema.get("items") {
        let child = format!("{path}[]");
        out.insert(child.clone());
        schema_paths(root, items, &child, out);
    }
    if let Some(extra @ Json::Object(_)) = schema.get("additionalProperties") {
        let child = format!("{path}.*");
        out.insert(child.clone());
        schema_paths(root, extra, &child, out);
    }
}

const SQS: &str = "arn:aws:sqs:us-east-1:123456789012";

fn document_cases() -> Vec<Case> {
    vec![
        case("the base spec is valid", |s| s, &[]),
        case(
            "wrong apiVersion",
            |s| s.set("apiVersion", "shepherd.dev/v1"),
            &[
                "1:13: apiVersion: \"shepherd.dev/v1\" is not a valid value; did you mean \"shepherd.dev/v1alpha1\"?",
            ],
        ),
        case(
            "apiVersion far off",
            |s| s.set("apiVersion", "v2"),
            &["1:13: apiVersion: \"v2\" is not one of shepherd.dev/v1alpha1"],
        ),
        case(
            "apiVersion of the wrong type",
            |s| s.set("apiVersion", "1"),
            &["1:13: apiVersion: expected one of shepherd.dev/v1alpha1, found an integer (1)"],
        ),
        case(
            "wrong kind",
            |s| s.set("kind", "Functon"),
            &["2:7: kind: \"Functon\" is not a valid value; did you mean \"Function\"?"],
        ),
        case(
            "kind of another tool",
            |s| s.set("kind", "Deployment"),
            &["2:7: kind: \"Deployment\" is not one of Function"],
        ),
        case(
            "missing apiVersion and kind",
            |s| s.remove("apiVersion").remove("kind"),
            &[
                "1:1: missing required field \"apiVersion\"",
                "1:1: missing required field \"kind\"",
            ],
        ),
        case(
            "missing metadata",
            |s| s.remove("metadata"),
            &["1:1: missing required field \"metadata\""],
        ),
        case(
            "missing spec",
            |s| s.remove("spec"),
            &["1:1: missing required field \"spec\""],
        ),
        case(
            "unknown top-level field",
            |s| s.set("specs", "{}"),
            &["18:1: specs: unknown field; did you mean \"spec\"?"],
        ),
        case(
            "unknown top-level field, no suggestion",
            |s| s.set("status", "{}"),
            &["18:1: status: unknown field; expected one of apiVersion, kind, metadata, spec"],
        ),
        case(
            "metadata of the wrong type",
            |s| s.set("metadata", "orders-api"),
            &["3:11: metadata: expected a mapping, found a string \"orders-api\""],
        ),
        case(
            "spec of the wrong type",
            |s| s.remove("spec").set("spec", "[]"),
            &["5:1: spec: expected a mapping, found a list"],
        ),
        case(
            "an empty spec",
            |s| s.remove("spec").set("spec", "{}"),
            &[
                "5:1: spec: missing required field \"code\"",
                "5:1: spec: missing required field \"role\"",
            ],
        ),
        case(
            "a null spec",
            |s| s.remove("spec").set("spec", ""),
            &["5:1: spec: expected a mapping, found null"],
        ),
    ]
}

#[test]
fn document_shape() {
    run(&document_cases());
}

#[test]
fn a_document_that_is_not_a_mapping() {
    for (text, message) in [
        ("- a\n- b\n", "1:1: expected a mapping, found a list"),
        (
            "just text\n",
            "1:1: expected a mapping, found a string \"just text\"",
        ),
        ("42\n", "1:1: expected a mapping, found an integer (42)"),
    ] {
        let report = check_text(text);
        let rendered: Vec<_> = report.diagnostics.iter().map(render).collect();
        assert_eq!(rendered, [message], "{text:?}");
    }
}

fn metadata_cases() -> Vec<Case> {
    vec![
        case(
            "name with spaces",
            |s| s.set("metadata.name", "orders api"),
            &[
                "4:9: metadata.name: expected a function name of 1-64 letters, digits, hyphens or underscores, found \"orders api\"",
            ],
        ),
        case(
            "name of 65 characters",
            |s| s.set("metadata.name", &"a".repeat(65)),
            &[
                "metadata.name: expected a function name of 1-64 letters, digits, hyphens or underscores, found \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
            ],
        ),
        case(
            "name of 64 characters is fine",
            |s| s.set("metadata.name", &"a".repeat(64)),
            &[],
        ),
        case(
            "name as a number",
            |s| s.set("metadata.name", "42"),
            &[
                "4:9: metadata.name: expected a function name of 1-64 letters, digits, hyphens or underscores, found an integer (42)",
            ],
        ),
        case(
            "quoted numeric name is fine",
            |s| s.set("metadata.name", "\"42\""),
            &[],
        ),
        case(
            "missing name",
            |s| {
                s.remove("metadata.name")
                    .set("metadata.labels", "{team: orders}")
            },
            &["3:1: metadata: missing required field \"name\""],
        ),
        case(
            "target with capitals",
            |s| s.set("metadata.target", "Prod-EU"),
            &[
                "5:11: metadata.target: expected a target name of lower-case letters, digits and hyphens, found \"Prod-EU\"",
            ],
        ),
        case(
            "a target name is fine",
            |s| s.set("metadata.target", "prod-eu-west-1"),
            &[],
        ),
        case(
            "unknown metadata field",
            |s| s.set("metadata.namespace", "prod"),
            &["5:3: metadata.namespace: unknown field; did you mean \"name\"?"],
        ),
        case(
            "labels must be a mapping",
            |s| s.set("metadata.labels", "[team]"),
            &["metadata.labels: expected a mapping, found a list"],
        ),
        case(
            "label values are strings",
            |s| s.set("metadata.labels", "{team: orders, tier: 1}"),
            &["5:32: metadata.labels.tier: expected a string, found an integer (1)"],
        ),
        case(
            "annotations must be a mapping",
            |s| s.set("metadata.annotations", "note"),
            &["metadata.annotations: expected a mapping, found a string \"note\""],
        ),
        case(
            "annotation values are strings",
            |s| {
                s.set(
                    "metadata.annotations",
                    "{shepherd.dev/ignore-lints: [tracing-disabled]}",
                )
            },
            &["metadata.annotations.shepherd.dev/ignore-lints: expected a string, found a list"],
        ),
    ]
}

#[test]
fn metadata() {
    run(&metadata_cases());
}

fn code_cases() -> Vec<Case> {
    vec![
        case(
            "code of the wrong type",
            |s| {
                s.remove("spec.code")
                    .set("spec.code", "s3://bucket/key.zip")
            },
            &["spec.code: expected a mapping, found a string \"s3://bucket/key.zip\""],
        ),
        case(
            "no code source",
            |s| s.remove("spec.code").set("spec.code", "{}"),
            &["14:3: spec.code: set exactly one of s3, image or path; none is set"],
        ),
        case(
            "two code sources",
            |s| s.set("spec.code.path", "./build"),
            &["6:3: spec.code: set exactly one of s3, image or path; s3 and path are set"],
        ),
        case(
            "three code sources",
            |s| {
                s.set("spec.code.path", "./build").set(
                    "spec.code.image",
                    "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1",
                )
            },
            &["spec.code: set exactly one of s3, image or path; s3 and image and path are set"],
        ),
        case(
            "unknown code field",
            |s| s.set("spec.code.zip", "orders.zip"),
            &["10:5: spec.code.zip: unknown field; expected one of image, path, s3"],
        ),
        case(
            "misspelt code field",
            |s| s.set("spec.code.imgae", "orders:1"),
            &["spec.code.imgae: unknown field; did you mean \"image\"?"],
        ),
        case(
            "s3 of the wrong type",
            |s| {
                s.remove("spec.code.s3")
                    .set("spec.code.s3", "orders-artifacts/orders.zip")
            },
            &["spec.code.s3: expected a mapping, found a string \"orders-artifacts/orders.zip\""],
        ),
        case(
            "bucket with capitals",
            |s| s.set("spec.code.s3.bucket", "Orders_Artifacts"),
            &["8:15: spec.code.s3.bucket: expected an S3 bucket name, found \"Orders_Artifacts\""],
        ),
        case(
            "bucket too short",
            |s| s.set("spec.code.s3.bucket", "ab"),
            &["spec.code.s3.bucket: expected an S3 bucket name, found \"ab\""],
        ),
        case(
            "missing bucket and key",
            |s| {
                s.remove("spec.code.s3.bucket")
                    .remove("spec.code.s3")
                    .set("spec.code.s3", "{}")
            },
            &[
                "7:5: spec.code.s3: missing required field \"bucket\"",
                "7:5: spec.code.s3: missing required field \"key\"",
            ],
        ),
        case(
            "empty key",
            |s| s.set("spec.code.s3.key", "\"\""),
            &["9:12: spec.code.s3.key: must not be empty"],
        ),
        case(
            "key too long",
            |s| s.set("spec.code.s3.key", &"k".repeat(1025)),
            &["spec.code.s3.key: is 1025 characters long, more than the maximum of 1024"],
        ),
        case(
            "key as a number",
            |s| s.set("spec.code.s3.key", "1234"),
            &["spec.code.s3.key: expected a string, found an integer (1234)"],
        ),
        case(
            "empty objectVersion",
            |s| s.set("spec.code.s3.objectVersion", "\"\""),
            &["spec.code.s3.objectVersion: must not be empty"],
        ),
        case(
            "objectVersion too long",
            |s| s.set("spec.code.s3.objectVersion", &"v".repeat(1025)),
            &["spec.code.s3.objectVersion: is 1025 characters long, more than the maximum of 1024"],
        ),
        case(
            "empty image",
            |s| image(s).set("spec.code.image", "\"\""),
            &["13:12: spec.code.image: must not be empty"],
        ),
        case(
            "image too long",
            |s| image(s).set("spec.code.image", &"i".repeat(513)),
            &["spec.code.image: is 513 characters long, more than the maximum of 512"],
        ),
        case(
            "empty path",
            |s| s.remove("spec.code.s3").set("spec.code.path", "\"\""),
            &["spec.code.path: must not be empty"],
        ),
        case("an image without handler and runtime is fine", image, &[]),
        case(
            "image with handler and runtime",
            |s| {
                image(s)
                    .set("spec.handler", "app.handler")
                    .set("spec.runtime", "python3.12")
            },
            &[
                "14:12: spec.handler: does not apply to container images (code.image); remove it",
                "15:12: spec.runtime: does not apply to container images (code.image); remove it",
            ],
        ),
        case(
            "image with layers",
            |s| {
                image(s).set(
                    "spec.layers",
                    "[arn:aws:lambda:us-east-1:123456789012:layer:common:3]",
                )
            },
            &["spec.layers: does not apply to container images (code.image); remove it"],
        ),
        case(
            "zip without runtime",
            |s| s.remove("spec.runtime"),
            &["5:1: spec.runtime: is required for zip packages (code.s3 or code.path)"],
        ),
        case(
            "zip without handler and runtime",
            |s| s.remove("spec.runtime").remove("spec.handler"),
            &[
                "spec.handler: is required for zip packages (code.s3 or code.path)",
                "spec.runtime: is required for zip packages (code.s3 or code.path)",
            ],
        ),
        case(
            "schema and rule errors are reported together",
            |s| s.set("spec.code.path", "./build").set("spec.memory", "64"),
            &[
                "6:3: spec.code: set exactly one of s3, image or path; s3 and path are set",
                "19:11: spec.memory: 64 is below the minimum of 128 MB",
            ],
        ),
    ]
}

/// The base spec with its code as a container image (no handler, runtime).
fn image(s: Spec) -> Spec {
    s.remove("spec.code")
        .remove("spec.handler")
        .remove("spec.runtime")
        .set(
            "spec.code",
            "image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1.4.2",
        )
}

#[test]
fn code() {
    run(&code_cases());
}

/// `code.path` is resolved against the spec file's folder, inside the given root.
#[test]
fn local_code_paths() {
    let scratch = Scratch::new();
    scratch.write("app/handler.py", "def handler(e, c): pass\n");
    scratch.write("dist/app.zip", "PK");
    scratch.write("notes.txt", "not code");
    let specs = scratch.path().join("specs");
    let spec_with = |path: &str| {
        Spec::base()
            .remove("spec.code.s3")
            .set("spec.code.path", path)
            .text()
    };
    let cases = [
        ("../app", Vec::<String>::new()),
        ("../dist/app.zip", vec![]),
        (
            "../notes.txt",
            vec![
                "7:11: spec.code.path: \"../notes.txt\" must be a directory or a .zip file"
                    .to_owned(),
            ],
        ),
        (
            "app",
            vec![format!(
                "7:11: spec.code.path: \"app\" does not exist (paths are relative to the spec file's folder, {})",
                specs.display()
            )],
        ),
    ];
    for (index, (path, expected)) in cases.into_iter().enumerate() {
        let file = scratch.write(&format!("specs/fn-{index}.yaml"), spec_with(path));
        let report = shepherd_core::check_specs_within(
            &[file],
            Some(scratch.path()),
            &LintConfig::default(),
        );
        let rendered: Vec<_> = report.diagnostics.iter().map(render).collect();
        assert_eq!(rendered, expected, "code.path {path:?}");
    }
}

/// `rollout.traffic.payloadFile` is read like local code: relative to the spec file,
/// inside the root, and it must be a JSON file.
#[test]
fn traffic_payload_files() {
    let scratch = Scratch::new();
    scratch.write("specs/events/order.json", "{\"order\": 1}");
    scratch.write("specs/events/broken.json", "{order");
    let specs = scratch.path().join("specs");
    let cases = [
        ("events/order.json", Vec::<String>::new()),
        (
            "events/none.json",
            vec![format!(
                "spec.rollout.traffic.payloadFile: \"events/none.json\" does not exist (paths are relative to the spec file's folder, {})",
                specs.display()
            )],
        ),
        (
            "/etc/passwd",
            vec![format!(
                "spec.rollout.traffic.payloadFile: \"/etc/passwd\" is an absolute path; a payload file is named relative to the spec file and stays inside the spec source ({})",
                scratch.path().canonicalize().unwrap().display()
            )],
        ),
        (
            "../../outside.json",
            vec![format!(
                "spec.rollout.traffic.payloadFile: \"../../outside.json\" is outside the spec source ({}); a payload file must be inside it",
                scratch.path().canonicalize().unwrap().display()
            )],
        ),
        (
            "events",
            vec!["spec.rollout.traffic.payloadFile: \"events\" is not a file".to_owned()],
        ),
        (
            "events/broken.json",
            vec!["spec.rollout.traffic.payloadFile: \"events/broken.json\" is not JSON: key must be a string at line 1 column 2".to_owned()],
        ),
    ];
    for (index, (path, expected)) in cases.into_iter().enumerate() {
        let spec = with_alias(Spec::base())
            .set(
                "spec.rollout.traffic",
                &format!("{{payloadFile: '{path}'}}"),
            )
            .text();
        let file = scratch.write(&format!("specs/fn-{index}.yaml"), spec);
        let report = shepherd_core::check_specs_within(
            &[file],
            Some(scratch.path()),
            &LintConfig::default(),
        );
        let rendered: Vec<String> = report
            .diagnostics
            .iter()
            .map(render)
            .map(|d| {
                d.split_once(": ")
                    .map_or(d.clone(), |(_, rest)| rest.to_owned())
            })
            .collect();
        assert_eq!(rendered, expected, "payloadFile {path:?}");
    }
}

fn function_cases() -> Vec<Case> {
    vec![
        case(
            "handler with a space",
            |s| s.set("spec.handler", "\"app handler\""),
            &["10:12: spec.handler: expected a handler such as app.handler, found \"app handler\""],
        ),
        case(
            "empty handler",
            |s| s.set("spec.handler", "\"\""),
            &["spec.handler: must not be empty"],
        ),
        case(
            "handler too long",
            |s| s.set("spec.handler", &"h".repeat(129)),
            &["spec.handler: is 129 characters long, more than the maximum of 128"],
        ),
        case(
            "runtime typo",
            |s| s.set("spec.runtime", "python3.21"),
            &[
                "11:12: spec.runtime: \"python3.21\" is not a valid value; did you mean \"python3.12\"?",
            ],
        ),
        case(
            "runtime without .x",
            |s| s.set("spec.runtime", "nodejs20"),
            &["spec.runtime: \"nodejs20\" is not a valid value; did you mean \"nodejs20.x\"?"],
        ),
        case(
            "unknown runtime",
            |s| s.set("spec.runtime", "cobol"),
            &[
                "spec.runtime: \"cobol\" is not one of nodejs18.x, nodejs20.x, nodejs22.x, nodejs24.x, python3.9, python3.10, python3.11, python3.12, python3.13, python3.14, java11, java17, java21, java25, dotnet8, dotnet10, ruby3.2, ruby3.3, ruby3.4, provided.al2, provided.al2023",
            ],
        ),
        case(
            "runtime as a number",
            |s| s.set("spec.runtime", "3.12"),
            &[
                "spec.runtime: expected one of nodejs18.x, nodejs20.x, nodejs22.x, nodejs24.x, python3.9, python3.10, python3.11, python3.12, python3.13, python3.14, java11, java17, java21, java25, dotnet8, dotnet10, ruby3.2, ruby3.3, ruby3.4, provided.al2, provided.al2023, found a number (3.12)",
            ],
        ),
        case(
            "two architectures",
            |s| s.set("spec.architectures", "[arm64, x86_64]"),
            &["18:3: spec.architectures: has 2 items, more than the maximum of 1"],
        ),
        case(
            "no architecture",
            |s| s.set("spec.architectures", "[]"),
            &["spec.architectures: must not be empty"],
        ),
        case(
            "architecture not in a list",
            |s| s.set("spec.architectures", "arm64"),
            &["18:18: spec.architectures: expected a list, found a string \"arm64\""],
        ),
        case(
            "architecture typo",
            |s| s.set("spec.architectures", "[arm]"),
            &[
                "18:19: spec.architectures[0]: \"arm\" is not a valid value; did you mean \"arm64\"?",
            ],
        ),
        case(
            "role that is not a role ARN",
            |s| s.set("spec.role", "orders-api"),
            &[
                "12:9: spec.role: expected an IAM role ARN such as arn:aws:iam::123456789012:role/NAME, found \"orders-api\"",
            ],
        ),
        case(
            "role ARN with a short account",
            |s| s.set("spec.role", "arn:aws:iam::1234:role/orders"),
            &[
                "spec.role: expected an IAM role ARN such as arn:aws:iam::123456789012:role/NAME, found \"arn:aws:iam::1234:role/orders\"",
            ],
        ),
        case(
            "role ARN in another partition is fine",
            |s| s.set("spec.role", "arn:aws-cn:iam::123456789012:role/path/orders"),
            &[],
        ),
        case(
            "missing role",
            |s| s.remove("spec.role"),
            &["5:1: spec: missing required field \"role\""],
        ),
        case(
            "missing code",
            |s| s.remove("spec.code"),
            &["5:1: spec: missing required field \"code\""],
        ),
        case(
            "layer that is not a layer version ARN",
            |s| {
                s.set(
                    "spec.layers",
                    "[arn:aws:lambda:us-east-1:123456789012:layer:common]",
                )
            },
            &[
                "18:12: spec.layers[0]: expected a value matching ^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[a-zA-Z0-9_-]+:[0-9]+$, found \"arn:aws:lambda:us-east-1:123456789012:layer:common\"",
            ],
        ),
        case(
            "six layers",
            |s| {
                let layers: Vec<String> = "abcdef"
                    .chars()
                    .map(|l| format!("- arn:aws:lambda:us-east-1:123456789012:layer:{l}:1"))
                    .collect();
                s.set("spec.layers", &layers.join("\n"))
            },
            &["18:3: spec.layers: has 6 items, more than the maximum of 5"],
        ),
        case(
            "layers not in a list",
            |s| {
                s.set(
                    "spec.layers",
                    "arn:aws:lambda:us-east-1:123456789012:layer:a:1",
                )
            },
            &[
                "spec.layers: expected a list, found a string \"arn:aws:lambda:us-east-1:123456789012...\"",
            ],
        ),
        case(
            "description too long",
            |s| s.set("spec.description", &"d".repeat(257)),
            &["spec.description: is 257 characters long, more than the maximum of 256"],
        ),
        case(
            "description as a list",
            |s| s.set("spec.description", "[a, b]"),
            &["spec.description: expected a string, found a list"],
        ),
        case(
            "unknown spec field with a suggestion",
            |s| s.set("spec.memroy", "512"),
            &["18:3: spec.memroy: unknown field; did you mean \"memory\"?"],
        ),
        case(
            "unknown spec field in the wrong case",
            |s| s.set("spec.Timeout", "30s"),
            &["spec.Timeout: unknown field; did you mean \"timeout\"?"],
        ),
        case(
            "kmsKeyArn that is not a KMS ARN",
            |s| s.set("spec.kmsKeyArn", "alias/orders"),
            &["18:14: spec.kmsKeyArn: expected a KMS key ARN, found \"alias/orders\""],
        ),
        case(
            "kmsKeyArn of a key or an alias is fine",
            |s| {
                s.set(
                    "spec.kmsKeyArn",
                    "arn:aws:kms:us-east-1:123456789012:alias/orders",
                )
            },
            &[],
        ),
        case(
            "tracing typo",
            |s| s.set("spec.tracing", "active"),
            &["13:12: spec.tracing: \"active\" is not a valid value; did you mean \"Active\"?"],
        ),
        case(
            "tracing as a boolean",
            |s| s.set("spec.tracing", "true"),
            &["spec.tracing: expected one of Active, PassThrough, found a boolean (true)"],
        ),
        case(
            "recursiveLoop in lower case",
            |s| s.set("spec.recursiveLoop", "allow"),
            &["spec.recursiveLoop: \"allow\" is not a valid value; did you mean \"Allow\"?"],
        ),
        case(
            "recursiveLoop unknown",
            |s| s.set("spec.recursiveLoop", "Ignore"),
            &["spec.recursiveLoop: \"Ignore\" is not one of Terminate, Allow"],
        ),
    ]
}

#[test]
fn function_settings() {
    run(&function_cases());
}

fn limit_cases() -> Vec<Case> {
    vec![
        case(
            "memory below the minimum",
            |s| s.set("spec.memory", "64"),
            &["18:11: spec.memory: 64 is below the minimum of 128 MB"],
        ),
        case(
            "memory above the maximum",
            |s| s.set("spec.memory", "10241"),
            &["18:11: spec.memory: 10241 is above the maximum of 10240 MB"],
        ),
        case(
            "memory at the bounds",
            |s| s.set("spec.memory", "10240"),
            &[],
        ),
        case(
            "memory negative",
            |s| s.set("spec.memory", "-1"),
            &["spec.memory: -1 is below the minimum of 128 MB"],
        ),
        case(
            "memory as a string",
            |s| s.set("spec.memory", "\"512\""),
            &["18:11: spec.memory: expected an integer, found a string \"512\""],
        ),
        case(
            "memory with a unit",
            |s| s.set("spec.memory", "512MB"),
            &["spec.memory: expected an integer, found a string \"512MB\""],
        ),
        case(
            "memory as a fraction",
            |s| s.set("spec.memory", "512.5"),
            &["spec.memory: expected an integer, found a number (512.5)"],
        ),
        case(
            "memory null",
            |s| s.set("spec.memory", "null"),
            &["spec.memory: expected an integer, found null"],
        ),
        case(
            "memory empty is reported at its key",
            |s| s.set("spec.memory", "").set("spec.timeout", "30s"),
            &["18:3: spec.memory: expected an integer, found null"],
        ),
        case(
            "memory in hexadecimal is fine",
            |s| s.set("spec.memory", "0x200"),
            &[],
        ),
        case(
            "timeout of zero",
            |s| s.set("spec.timeout", "0"),
            &["18:12: spec.timeout: 0s is below the minimum of 1s"],
        ),
        case(
            "timeout above 15 minutes",
            |s| s.set("spec.timeout", "16m"),
            &["18:12: spec.timeout: 16m is above the maximum of 15m"],
        ),
        case(
            "timeout above 15 minutes in seconds",
            |s| s.set("spec.timeout", "901"),
            &["spec.timeout: 15m1s is above the maximum of 15m"],
        ),
        case(
            "timeout too large to represent",
            |s| s.set("spec.timeout", "99999999999999999999d"),
            &[
                "18:12: spec.timeout: 584542046090years7months15days17h5m3s is above the maximum of 15m",
            ],
        ),
        case(
            "timeout with milliseconds",
            |s| s.set("spec.timeout", "1500ms"),
            &["spec.timeout: 1s500ms is not a whole number of seconds"],
        ),
        case(
            "timeout in words",
            |s| s.set("spec.timeout", "5 minutes"),
            &[
                "18:12: spec.timeout: expected a duration such as 30s, 5m or 1h30m, found \"5 minutes\"",
            ],
        ),
        case(
            "timeout negative",
            |s| s.set("spec.timeout", "-5"),
            &["spec.timeout: -5 is below the minimum of 0"],
        ),
        case(
            "timeout as a fraction",
            |s| s.set("spec.timeout", "1.5"),
            &["spec.timeout: expected a duration such as 30s, 5m or 1h30m, found a number (1.5)"],
        ),
        case(
            "timeout as a boolean",
            |s| s.set("spec.timeout", "true"),
            &["spec.timeout: expected a duration such as 30s, 5m or 1h30m, found a boolean (true)"],
        ),
        case(
            "timeout with a space between units is fine",
            |s| s.set("spec.timeout", "\"14m 30s\""),
            &[],
        ),
        case(
            "timeout in seconds is fine",
            |s| s.set("spec.timeout", "30"),
            &[],
        ),
        case(
            "ephemeral storage below the minimum",
            |s| s.set("spec.ephemeralStorage", "256"),
            &["18:21: spec.ephemeralStorage: 256 is below the minimum of 512 MB"],
        ),
        case(
            "ephemeral storage above the maximum",
            |s| s.set("spec.ephemeralStorage", "20000"),
            &["18:21: spec.ephemeralStorage: 20000 is above the maximum of 10240 MB"],
        ),
        case(
            "ephemeral storage with a unit",
            |s| s.set("spec.ephemeralStorage", "1GB"),
            &["spec.ephemeralStorage: expected an integer, found a string \"1GB\""],
        ),
        case(
            "several range errors at once",
            |s| {
                s.set("spec.memory", "64")
                    .set("spec.timeout", "16m")
                    .set("spec.ephemeralStorage", "20000")
            },
            &[
                "18:11: spec.memory: 64 is below the minimum of 128 MB",
                "19:12: spec.timeout: 16m is above the maximum of 15m",
                "20:21: spec.ephemeralStorage: 20000 is above the maximum of 10240 MB",
            ],
        ),
    ]
}

#[test]
fn limits() {
    run(&limit_cases());
}

fn environment_cases() -> Vec<Case> {
    vec![
        case(
            "environment as a list",
            |s| s.set("spec.environment", "[A=1]"),
            &["spec.environment: expected a mapping, found a list"],
        ),
        case(
            "environment value as a number",
            |s| s.set("spec.environment", "RETRIES: 3"),
            &["19:14: spec.environment.RETRIES: expected a string, found an integer (3)"],
        ),
        case(
            "environment value as a boolean",
            |s| s.set("spec.environment", "DEBUG: true"),
            &["spec.environment.DEBUG: expected a string, found a boolean (true)"],
        ),
        case(
            "environment value empty",
            |s| s.set("spec.environment", "EMPTY:\nOTHER: x"),
            &["19:5: spec.environment.EMPTY: expected a string, found null"],
        ),
        case(
            "environment variable name starting with a digit",
            |s| s.set("spec.environment", "1ST: x"),
            &[
                "19:10: spec.environment.1ST: variable names start with a letter and hold only letters, digits and underscores",
            ],
        ),
        case(
            "environment variable name with a dash",
            |s| s.set("spec.environment", "MY-VAR: x"),
            &[
                "spec.environment.MY-VAR: variable names start with a letter and hold only letters, digits and underscores",
            ],
        ),
        case(
            "reserved environment variable",
            |s| s.set("spec.environment", "AWS_REGION: eu-west-1"),
            &[
                "19:17: spec.environment.AWS_REGION: is reserved by the Lambda runtime and cannot be set",
            ],
        ),
        case(
            "reserved credentials variable, whose literal value is a leaked secret",
            |s| s.set("spec.environment", "AWS_SECRET_ACCESS_KEY: x"),
            &[
                "spec.environment.AWS_SECRET_ACCESS_KEY: is reserved by the Lambda runtime and cannot be set; its value is a credential committed in plain text: revoke it and use the function's execution role",
            ],
        ),
        case(
            "_HANDLER is reserved",
            |s| s.set("spec.environment", "\"_HANDLER\": x"),
            &[
                "spec.environment._HANDLER: variable names start with a letter and hold only letters, digits and underscores",
            ],
        ),
        case(
            "environment over 4 KB",
            |s| s.set("spec.environment", &format!("BIG: {}", "x".repeat(4094))),
            &[
                "18:3: spec.environment: variables take 4097 bytes, more than Lambda's limit of 4 KB (4096 bytes, secrets included)",
            ],
        ),
        case(
            "environment of exactly 4 KB is fine",
            |s| s.set("spec.environment", &format!("BIG: {}", "x".repeat(4093))),
            &[],
        ),
        case(
            "secrets count towards the 4 KB",
            |s| {
                s.set("spec.environment", &format!("BIG: {}", "x".repeat(4040)))
                    .set("spec.secrets", "TOKEN: {ssmParameter: /orders/a/rather/long/parameter/name/for/the/api/token}")
            },
            &[
                "spec.environment: variables take 4102 bytes, more than Lambda's limit of 4 KB (4096 bytes, secrets included)",
            ],
        ),
        case(
            "secret as a plain string",
            |s| s.set("spec.secrets", "DB_PASSWORD: /orders/db/password"),
            &[
                "19:18: spec.secrets.DB_PASSWORD: expected a mapping, found a string \"/orders/db/password\"",
            ],
        ),
        case(
            "secrets as a list",
            |s| s.set("spec.secrets", "[DB_PASSWORD]"),
            &["spec.secrets: expected a mapping, found a list"],
        ),
        case(
            "secret with both sources",
            |s| {
                s.set(
                    "spec.secrets",
                    "DB_PASSWORD: {secretsManager: orders/db, ssmParameter: /orders/db}",
                )
            },
            &["19:5: spec.secrets.DB_PASSWORD: set exactly one of secretsManager or ssmParameter"],
        ),
        case(
            "secret with no source",
            |s| s.set("spec.secrets", "DB_PASSWORD: {}"),
            &["spec.secrets.DB_PASSWORD: set exactly one of secretsManager or ssmParameter"],
        ),
        case(
            "secret with an unknown source",
            |s| s.set("spec.secrets", "DB_PASSWORD: {vault: secret/orders}"),
            &[
                "spec.secrets.DB_PASSWORD.vault: unknown field; expected one of secretsManager, ssmParameter",
            ],
        ),
        case(
            "secretsManager that is not a secret",
            |s| {
                s.set(
                    "spec.secrets",
                    "DB_PASSWORD: {secretsManager: \"orders db\"}",
                )
            },
            &[
                "spec.secrets.DB_PASSWORD.secretsManager: expected a Secrets Manager secret ARN or name, found \"orders db\"",
            ],
        ),
        case(
            "ssmParameter without a leading slash",
            |s| s.set("spec.secrets", "DB_PASSWORD: {ssmParameter: orders/db}"),
            &[
                "19:33: spec.secrets.DB_PASSWORD.ssmParameter: expected an SSM parameter name such as /app/key, or its ARN, found \"orders/db\"",
            ],
        ),
        case(
            "secrets by ARN are fine",
            |s| {
                s.set("spec.secrets", "A: {secretsManager: \"arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/a-AbCdEf\"}\nB: {ssmParameter: \"arn:aws:ssm:us-east-1:123456789012:parameter/orders/b\"}")
            },
            &[],
        ),
        case(
            "a variable both plain and secret",
            |s| {
                s.set("spec.environment", "DB_PASSWORD: \"\"")
                    .set("spec.secrets", "DB_PASSWORD: {ssmParameter: /orders/db}")
            },
            &[
                "spec.secrets.DB_PASSWORD: is also set in spec.environment; a variable is either a value or a secret",
            ],
        ),
        case(
            "reserved secret name",
            |s| {
                s.set(
                    "spec.secrets",
                    "AWS_SESSION_TOKEN: {ssmParameter: /orders/t}",
                )
            },
            &[
                "spec.secrets.AWS_SESSION_TOKEN: is reserved by the Lambda runtime and cannot be set",
            ],
        ),
        case(
            "invalid secret name",
            |s| s.set("spec.secrets", "db.password: {ssmParameter: /orders/t}"),
            &[
                "spec.secrets.db.password: variable names start with a letter and hold only letters, digits and underscores",
            ],
        ),
    ]
}

#[test]
fn environment_and_secrets() {
    run(&environment_cases());
}

fn network_and_logging_cases() -> Vec<Case> {
    vec![
        case(
            "vpc without security groups",
            |s| s.set("spec.vpc", "{subnetIds: [subnet-0123abcd]}"),
            &["18:3: spec.vpc: missing required field \"securityGroupIds\""],
        ),
        case(
            "vpc without subnets",
            |s| s.set("spec.vpc", "{securityGroupIds: [sg-0123abcd]}"),
            &["spec.vpc: missing required field \"subnetIds\""],
        ),
        case(
            "vpc with empty lists",
            |s| s.set("spec.vpc", "subnetIds: []\nsecurityGroupIds: []"),
            &[
                "19:5: spec.vpc.subnetIds: must not be empty",
                "20:5: spec.vpc.securityGroupIds: must not be empty",
            ],
        ),
        case(
            "vpc with bad ids",
            |s| {
                s.set(
                    "spec.vpc",
                    "subnetIds: [subnet-123]\nsecurityGroupIds: [sg-xyz12345]",
                )
            },
            &[
                "19:17: spec.vpc.subnetIds[0]: expected a value matching ^subnet-[0-9a-f]{8,17}$, found \"subnet-123\"",
                "20:24: spec.vpc.securityGroupIds[0]: expected a value matching ^sg-[0-9a-f]{8,17}$, found \"sg-xyz12345\"",
            ],
        ),
        case(
            "vpc with too many subnets and groups",
            |s| {
                let subnets: Vec<String> = (0..17).map(|i| format!("subnet-{i:08x}")).collect();
                let groups: Vec<String> = (0..6).map(|i| format!("sg-{i:08x}")).collect();
                s.set(
                    "spec.vpc",
                    &format!(
                        "subnetIds: [{}]\nsecurityGroupIds: [{}]",
                        subnets.join(", "),
                        groups.join(", ")
                    ),
                )
            },
            &[
                "spec.vpc.subnetIds: has 17 items, more than the maximum of 16",
                "spec.vpc.securityGroupIds: has 6 items, more than the maximum of 5",
            ],
        ),
        case(
            "vpc ipv6 flag as a string",
            |s| {
                s.set(
                    "spec.vpc",
                    "subnetIds: [subnet-0123abcd]\nsecurityGroupIds: [sg-0123abcd]\nipv6AllowedForDualStack: yes",
                )
            },
            &[
                "21:30: spec.vpc.ipv6AllowedForDualStack: expected a boolean (true or false), found a string \"yes\"",
            ],
        ),
        case(
            "vpc as an id",
            |s| s.set("spec.vpc", "vpc-0123abcd"),
            &["18:8: spec.vpc: expected a mapping, found a string \"vpc-0123abcd\""],
        ),
        case(
            "vpc with an unknown field",
            |s| {
                s.set(
                    "spec.vpc",
                    "subnetIds: [subnet-0123abcd]\nsecurityGroupIds: [sg-0123abcd]\nsubnets: []",
                )
            },
            &["spec.vpc.subnets: unknown field; did you mean \"subnetIds\"?"],
        ),
        case(
            "log format typo",
            |s| s.set("spec.logging.format", "Json"),
            &["15:13: spec.logging.format: \"Json\" is not a valid value; did you mean \"JSON\"?"],
        ),
        case(
            "logging as a string",
            |s| s.remove("spec.logging").set("spec.logging", "JSON"),
            &["spec.logging: expected a mapping, found a string \"JSON\""],
        ),
        case(
            "application log level in lower case",
            |s| s.set("spec.logging.applicationLogLevel", "info"),
            &[
                "16:26: spec.logging.applicationLogLevel: \"info\" is not a valid value; did you mean \"INFO\"?",
            ],
        ),
        case(
            "system log level ERROR does not exist",
            |s| s.set("spec.logging.systemLogLevel", "ERROR"),
            &["spec.logging.systemLogLevel: \"ERROR\" is not one of DEBUG, INFO, WARN"],
        ),
        case(
            "empty log group",
            |s| s.set("spec.logging.logGroup", "\"\""),
            &["spec.logging.logGroup: must not be empty"],
        ),
        case(
            "log group too long",
            |s| s.set("spec.logging.logGroup", &format!("/{}", "g".repeat(512))),
            &["spec.logging.logGroup: is 513 characters long, more than the maximum of 512"],
        ),
        case(
            "log levels with Text format",
            |s| {
                s.set("spec.logging.format", "Text")
                    .set("spec.logging.applicationLogLevel", "INFO")
                    .set("spec.logging.systemLogLevel", "WARN")
            },
            &[
                "16:26: spec.logging.applicationLogLevel: log levels need format: JSON",
                "17:21: spec.logging.systemLogLevel: log levels need format: JSON",
            ],
        ),
        case(
            "log levels without a format (Text by default)",
            |s| {
                s.remove("spec.logging.format")
                    .set("spec.logging.applicationLogLevel", "INFO")
            },
            &["spec.logging.applicationLogLevel: log levels need format: JSON"],
        ),
        case(
            "tags over Lambda's limit of 50",
            |s| {
                let tags: Vec<String> = (0..51).map(|i| format!("t{i}: v")).collect();
                s.set("spec.tags", &tags.join("\n"))
            },
            &[
                "18:3: spec.tags: 51 tags, more than the 43 a spec may set (Lambda allows 50 a function, and shepherd writes 7 of its own)",
            ],
        ),
        case(
            "tags that leave no room for shepherd's own",
            |s| {
                let tags: Vec<String> = (0..44).map(|i| format!("t{i}: v")).collect();
                s.set("spec.tags", &tags.join("\n"))
            },
            &[
                "18:3: spec.tags: 44 tags, more than the 43 a spec may set (Lambda allows 50 a function, and shepherd writes 7 of its own)",
            ],
        ),
        case(
            "tag keys reserved by AWS and shepherd",
            |s| s.set("spec.tags", "\"aws:createdBy\": me\nshepherd.dev/owner: me"),
            &[
                "19:22: spec.tags.aws:createdBy: tag keys starting with \"aws:\" or \"shepherd.dev/\" are reserved",
                "20:25: spec.tags.shepherd.dev/owner: tag keys starting with \"aws:\" or \"shepherd.dev/\" are reserved",
            ],
        ),
        case(
            "tag key too long",
            |s| s.set("spec.tags", &format!("{}: v", "k".repeat(129))),
            &[
                "spec.tags.kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk: tag keys are 1-128 characters",
            ],
        ),
        case(
            "empty tag key",
            |s| s.set("spec.tags", "\"\": v"),
            &["spec.tags.: tag keys are 1-128 characters"],
        ),
        case(
            "tag value too long",
            |s| s.set("spec.tags", &format!("team: {}", "v".repeat(257))),
            &["spec.tags.team: tag values are at most 256 characters"],
        ),
        case(
            "tag value as a number",
            |s| s.set("spec.tags", "cost-center: 4711"),
            &["19:18: spec.tags.cost-center: expected a string, found an integer (4711)"],
        ),
        case(
            "tags as a list",
            |s| s.set("spec.tags", "[a, b]"),
            &["spec.tags: expected a mapping, found a list"],
        ),
    ]
}

#[test]
fn network_logging_and_tags() {
    run(&network_and_logging_cases());
}

fn concurrency_cases() -> Vec<Case> {
    vec![
        case(
            "reserved concurrency negative",
            |s| s.set("spec.reservedConcurrency", "-1"),
            &["18:24: spec.reservedConcurrency: -1 is below the minimum of 0"],
        ),
        case(
            "reserved concurrency beyond u32",
            |s| s.set("spec.reservedConcurrency", "5000000000"),
            &["spec.reservedConcurrency: 5000000000 is above the maximum of 4294967295"],
        ),
        case(
            "reserved concurrency of zero is fine",
            |s| s.set("spec.reservedConcurrency", "0"),
            &[],
        ),
        case(
            "provisioned concurrency of zero",
            |s| s.set("spec.alias", "{name: live, provisionedConcurrency: 0}"),
            &["18:47: spec.alias.provisionedConcurrency: 0 is below the minimum of 1"],
        ),
        case(
            "function provisioned concurrency of zero",
            |s| s.set("spec.provisionedConcurrency", "0"),
            &["spec.provisionedConcurrency: 0 is below the minimum of 1"],
        ),
        case(
            "provisioned above reserved, on the alias",
            |s| {
                s.set("spec.reservedConcurrency", "5")
                    .set("spec.alias", "{name: live, provisionedConcurrency: 10}")
            },
            &["19:47: spec.alias.provisionedConcurrency: 10 exceeds the reserved concurrency of 5"],
        ),
        case(
            "provisioned above reserved, on the function",
            |s| {
                s.set("spec.reservedConcurrency", "5")
                    .set("spec.provisionedConcurrency", "10")
            },
            &["19:27: spec.provisionedConcurrency: 10 exceeds the reserved concurrency of 5"],
        ),
        case(
            "provisioned equal to reserved is fine",
            |s| {
                s.set("spec.reservedConcurrency", "10")
                    .set("spec.alias", "{name: live, provisionedConcurrency: 10}")
            },
            &[],
        ),
        case(
            "provisioned on the function although it has an alias",
            |s| {
                s.set("spec.provisionedConcurrency", "2")
                    .set("spec.alias", "{name: live}")
            },
            &[
                "18:27: spec.provisionedConcurrency: the function has an alias: set alias.provisionedConcurrency instead",
            ],
        ),
        case(
            "alias without a name",
            |s| s.set("spec.alias", "{provisionedConcurrency: 2}"),
            &["18:3: spec.alias: missing required field \"name\""],
        ),
        case(
            "alias name of digits only",
            |s| s.set("spec.alias", "{name: \"42\"}"),
            &[
                "spec.alias.name: expected an alias name of letters, digits, hyphens or underscores, not only digits, found \"42\"",
            ],
        ),
        case(
            "alias name with a dot",
            |s| s.set("spec.alias", "{name: v1.2}"),
            &[
                "spec.alias.name: expected an alias name of letters, digits, hyphens or underscores, not only digits, found \"v1.2\"",
            ],
        ),
        case(
            "alias name too long",
            |s| s.set("spec.alias.name", &"a".repeat(129)),
            &["spec.alias.name: is 129 characters long, more than the maximum of 128"],
        ),
        case(
            "alias name starting with digits is fine",
            |s| s.set("spec.alias", "{name: 2024-live}"),
            &[],
        ),
        case(
            "alias description (shepherd keeps the rollout's state there)",
            |s| s.set("spec.alias", "{name: live, description: live traffic}"),
            &[
                "18:23: spec.alias.description: unknown field; expected one of name, provisionedConcurrency",
            ],
        ),
        case(
            "alias as a string",
            |s| s.set("spec.alias", "live"),
            &["spec.alias: expected a mapping, found a string \"live\""],
        ),
        case(
            "SnapStart with provisioned concurrency",
            |s| {
                s.set("spec.snapStart", "PublishedVersions")
                    .set("spec.alias", "{name: live, provisionedConcurrency: 2}")
            },
            &["18:14: spec.snapStart: SnapStart cannot be combined with provisioned concurrency"],
        ),
        case(
            "SnapStart with provisioned concurrency on the function",
            |s| {
                s.set("spec.snapStart", "PublishedVersions")
                    .set("spec.provisionedConcurrency", "2")
            },
            &["spec.snapStart: SnapStart cannot be combined with provisioned concurrency"],
        ),
        case(
            "SnapStart on an unsupported runtime",
            |s| {
                s.set("spec.runtime", "python3.11")
                    .set("spec.snapStart", "PublishedVersions")
            },
            &[
                "spec.snapStart: SnapStart does not support python3.11; it needs Java 11+, Python 3.12+ or .NET 8+",
            ],
        ),
        case(
            "SnapStart on a container image",
            |s| image(s).set("spec.snapStart", "PublishedVersions"),
            &["spec.snapStart: SnapStart does not support container images"],
        ),
        case(
            "SnapStart with more ephemeral storage",
            |s| {
                s.set("spec.snapStart", "PublishedVersions")
                    .set("spec.ephemeralStorage", "1024")
            },
            &["spec.snapStart: SnapStart needs ephemeral storage of 512 MB"],
        ),
        case(
            "SnapStart on Java with 512 MB storage is fine",
            |s| {
                s.set("spec.runtime", "java21")
                    .set("spec.memory", "1024")
                    .set("spec.snapStart", "PublishedVersions")
                    .set("spec.ephemeralStorage", "512")
            },
            &[],
        ),
        case(
            "SnapStart None with provisioned concurrency is fine",
            |s| {
                s.set("spec.snapStart", "None")
                    .set("spec.alias", "{name: live, provisionedConcurrency: 2}")
            },
            &[],
        ),
        case(
            "SnapStart typo",
            |s| s.set("spec.snapStart", "PublishedVersion"),
            &[
                "spec.snapStart: \"PublishedVersion\" is not a valid value; did you mean \"PublishedVersions\"?",
            ],
        ),
    ]
}

#[test]
fn concurrency_alias_and_snap_start() {
    run(&concurrency_cases());
}

fn async_cases() -> Vec<Case> {
    vec![
        case(
            "retries above 2",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    "maximumRetryAttempts: 3\nonFailure: arn:aws:sqs:us-east-1:123456789012:failed",
                )
            },
            &["19:27: spec.asyncInvocation.maximumRetryAttempts: 3 is above the maximum of 2"],
        ),
        case(
            "retries negative",
            |s| {
                s.set("spec.asyncInvocation", "maximumRetryAttempts: -1\nonFailure: arn:aws:sqs:us-east-1:123456789012:failed")
            },
            &["spec.asyncInvocation.maximumRetryAttempts: -1 is below the minimum of 0"],
        ),
        case(
            "retries as a string",
            |s| {
                s.set("spec.asyncInvocation", "maximumRetryAttempts: two\nonFailure: arn:aws:sqs:us-east-1:123456789012:failed")
            },
            &[
                "spec.asyncInvocation.maximumRetryAttempts: expected an integer, found a string \"two\"",
            ],
        ),
        case(
            "event age below a minute",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    "maximumEventAge: 59s\nonFailure: arn:aws:sqs:us-east-1:123456789012:failed",
                )
            },
            &["19:22: spec.asyncInvocation.maximumEventAge: 59s is below the minimum of 1m"],
        ),
        case(
            "event age above 6 hours",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    "maximumEventAge: 7h\nonFailure: arn:aws:sqs:us-east-1:123456789012:failed",
                )
            },
            &["spec.asyncInvocation.maximumEventAge: 7h is above the maximum of 6h"],
        ),
        case(
            "event age with milliseconds",
            |s| {
                s.set("spec.asyncInvocation", "maximumEventAge: 90500ms\nonFailure: arn:aws:sqs:us-east-1:123456789012:failed")
            },
            &["spec.asyncInvocation.maximumEventAge: 1m30s500ms is not a whole number of seconds"],
        ),
        case(
            "event age not a duration",
            |s| {
                s.set("spec.asyncInvocation", "maximumEventAge: forever\nonFailure: arn:aws:sqs:us-east-1:123456789012:failed")
            },
            &[
                "spec.asyncInvocation.maximumEventAge: expected a duration such as 30s, 5m or 1h30m, found \"forever\"",
            ],
        ),
        case(
            "event age at the bounds is fine",
            |s| {
                s.set("spec.asyncInvocation", "maximumEventAge: 6h\nmaximumRetryAttempts: 0\nonFailure: arn:aws:sqs:us-east-1:123456789012:failed")
            },
            &[],
        ),
        case(
            "destinations that are not destination ARNs",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    "onSuccess: arn:aws:s3:::orders\nonFailure: orders-failures",
                )
            },
            &[
                "19:16: spec.asyncInvocation.onSuccess: expected an SQS, SNS, Lambda or EventBridge ARN, found \"arn:aws:s3:::orders\"",
                "20:16: spec.asyncInvocation.onFailure: expected an SQS, SNS, Lambda or EventBridge ARN, found \"orders-failures\"",
            ],
        ),
        case(
            "destinations to every kind of target are fine",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    "onSuccess: arn:aws:events:us-east-1:123456789012:event-bus/default\nonFailure: arn:aws:lambda:us-east-1:123456789012:function:failures",
                )
            },
            &[],
        ),
        case(
            "dead-letter target that is a Lambda function",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    "deadLetterTarget: arn:aws:lambda:us-east-1:123456789012:function:dlq",
                )
            },
            &[
                "19:23: spec.asyncInvocation.deadLetterTarget: expected an SQS queue or SNS topic ARN, found \"arn:aws:lambda:us-east-1:123456789012:function:dlq\"",
            ],
        ),
        case(
            "dead-letter target on SNS is fine",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    "deadLetterTarget: arn:aws:sns:us-east-1:123456789012:dlq",
                )
            },
            &[],
        ),
        case(
            "asyncInvocation with an unknown field",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    "maxRetries: 1\nonFailure: arn:aws:sqs:us-east-1:123456789012:failed",
                )
            },
            &[
                "spec.asyncInvocation.maxRetries: unknown field; expected one of deadLetterTarget, maximumEventAge, maximumRetryAttempts, onFailure, onSuccess",
            ],
        ),
        case(
            "asyncInvocation as a boolean",
            |s| s.set("spec.asyncInvocation", "true"),
            &["spec.asyncInvocation: expected a mapping, found a boolean (true)"],
        ),
    ]
}

#[test]
fn async_invocation() {
    run(&async_cases());
}

fn sqs_cases() -> Vec<Case> {
    vec![
        case(
            "eventSources with an unknown kind",
            |s| s.set("spec.eventSources", "kinesis: []"),
            &["19:5: spec.eventSources.kinesis: unknown field; expected one of sqs"],
        ),
        case(
            "sqs as a mapping",
            |s| {
                s.set(
                    "spec.eventSources",
                    &format!("sqs: {{queue: {SQS}:orders}}"),
                )
            },
            &["19:5: spec.eventSources.sqs: expected a list, found a mapping"],
        ),
        case(
            "eventSources as a list",
            |s| s.set("spec.eventSources", "[sqs]"),
            &["spec.eventSources: expected a mapping, found a list"],
        ),
        case(
            "sqs source as a queue ARN",
            |s| s.set("spec.eventSources", &format!("sqs: [{SQS}:orders]")),
            &[
                "19:11: spec.eventSources.sqs[0]: expected a mapping, found a string \"arn:aws:sqs:us-east-1:123456789012:or...\"",
            ],
        ),
        case(
            "queue that is not an SQS ARN",
            |s| {
                s.set(
                    "spec.eventSources",
                    "sqs:\n  - queue: https://sqs.us-east-1.amazonaws.com/123456789012/orders",
                )
            },
            &[
                "20:16: spec.eventSources.sqs[0].queue: expected an SQS queue ARN, found \"https://sqs.us-east-1.amazonaws.com/123456789012/orders\"",
            ],
        ),
        case(
            "source without a queue",
            |s| s.set("spec.eventSources", "sqs:\n  - batchSize: 5"),
            &["20:9: spec.eventSources.sqs[0]: missing required field \"queue\""],
        ),
        case(
            "filter criteria that are not a list",
            |s| s.set("spec.eventSources", &sqs_with("filterCriteria: {body: {}}")),
            &["spec.eventSources.sqs[0].filterCriteria: expected a list, found a mapping"],
        ),
        case(
            "a filter that is not a mapping",
            |s| {
                s.set(
                    "spec.eventSources",
                    &sqs_with("filterCriteria: ['{\"body\": {}}']"),
                )
            },
            &[
                "spec.eventSources.sqs[0].filterCriteria[0]: expected a mapping, found a string \"{\"body\": {}}\"",
            ],
        ),
        case(
            "more than five filters",
            |s| {
                s.set(
                    "spec.eventSources",
                    &sqs_with("filterCriteria: [{a: 1}, {b: 1}, {c: 1}, {d: 1}, {e: 1}, {f: 1}]"),
                )
            },
            &["spec.eventSources.sqs[0].filterCriteria: has 6 items, more than the maximum of 5"],
        ),
        case(
            "batch size of zero",
            |s| s.set("spec.eventSources", &sqs_with("batchSize: 0")),
            &["21:20: spec.eventSources.sqs[0].batchSize: 0 is below the minimum of 1"],
        ),
        case(
            "batch size above 10000",
            |s| {
                s.set(
                    "spec.eventSources",
                    &sqs_with("batchSize: 10001\nbatchingWindow: 1s"),
                )
            },
            &["spec.eventSources.sqs[0].batchSize: 10001 is above the maximum of 10000"],
        ),
        case(
            "batch size above 10 without a batching window",
            |s| s.set("spec.eventSources", &sqs_with("batchSize: 100")),
            &[
                "21:20: spec.eventSources.sqs[0].batchSize: a batch size of 100 (above 10) needs a batchingWindow of at least 1s",
            ],
        ),
        case(
            "batch size above 10 with a zero batching window",
            |s| {
                s.set(
                    "spec.eventSources",
                    &sqs_with("batchSize: 11\nbatchingWindow: 0s"),
                )
            },
            &[
                "spec.eventSources.sqs[0].batchSize: a batch size of 11 (above 10) needs a batchingWindow of at least 1s",
            ],
        ),
        case(
            "batch size above 10 with a window is fine",
            |s| {
                s.set(
                    "spec.eventSources",
                    &sqs_with("batchSize: 10000\nbatchingWindow: 5m"),
                )
            },
            &[],
        ),
        case(
            "batching window above 5 minutes",
            |s| s.set("spec.eventSources", &sqs_with("batchingWindow: 301")),
            &["21:25: spec.eventSources.sqs[0].batchingWindow: 5m1s is above the maximum of 5m"],
        ),
        case(
            "batching window with milliseconds",
            |s| s.set("spec.eventSources", &sqs_with("batchingWindow: 500ms")),
            &["spec.eventSources.sqs[0].batchingWindow: 500ms is not a whole number of seconds"],
        ),
        case(
            "batching window not a duration",
            |s| s.set("spec.eventSources", &sqs_with("batchingWindow: soon")),
            &[
                "spec.eventSources.sqs[0].batchingWindow: expected a duration such as 30s, 5m or 1h30m, found \"soon\"",
            ],
        ),
        case(
            "FIFO queue with a batch above 10",
            |s| s.set("spec.eventSources", &fifo_with("batchSize: 20")),
            &[
                "21:20: spec.eventSources.sqs[0].batchSize: 20 is above the maximum of 10 for FIFO queues",
            ],
        ),
        case(
            "FIFO queue with a batching window",
            |s| s.set("spec.eventSources", &fifo_with("batchingWindow: 5s")),
            &[
                "21:25: spec.eventSources.sqs[0].batchingWindow: FIFO queues do not support a batching window",
            ],
        ),
        case(
            "the same queue twice",
            |s| {
                s.set(
                    "spec.eventSources",
                    &format!(
                        "sqs:\n  - queue: {SQS}:orders\n    deadLetterQueue: {SQS}:dlq\n  - queue: {SQS}:orders\n    deadLetterQueue: {SQS}:dlq"
                    )
                    ,
                )
            },
            &[
                "22:16: spec.eventSources.sqs[1].queue: this queue is already a source of the function",
            ],
        ),
        case(
            "maximum concurrency of 1",
            |s| s.set("spec.eventSources", &sqs_with("maximumConcurrency: 1")),
            &["spec.eventSources.sqs[0].maximumConcurrency: 1 is below the minimum of 2"],
        ),
        case(
            "maximum concurrency above 1000",
            |s| s.set("spec.eventSources", &sqs_with("maximumConcurrency: 1001")),
            &["spec.eventSources.sqs[0].maximumConcurrency: 1001 is above the maximum of 1000"],
        ),
        case(
            "enabled as a string",
            |s| s.set("spec.eventSources", &sqs_with("enabled: \"false\"")),
            &[
                "21:18: spec.eventSources.sqs[0].enabled: expected a boolean (true or false), found a string \"false\"",
            ],
        ),
        case(
            "reportBatchItemFailures as a string",
            |s| {
                s.set(
                    "spec.eventSources",
                    &sqs_with("reportBatchItemFailures: yes"),
                )
            },
            &[
                "spec.eventSources.sqs[0].reportBatchItemFailures: expected a boolean (true or false), found a string \"yes\"",
            ],
        ),
        case(
            "dead-letter queue that is not an SQS ARN",
            |s| {
                s.set(
                    "spec.eventSources",
                    &format!("sqs:\n  - queue: {SQS}:orders\n    deadLetterQueue: arn:aws:sns:us-east-1:123456789012:dlq"),
                )
            },
            &[
                "21:26: spec.eventSources.sqs[0].deadLetterQueue: expected an SQS queue ARN, found \"arn:aws:sns:us-east-1:123456789012:dlq\"",
            ],
        ),
        case(
            "source with an unknown field",
            |s| s.set("spec.eventSources", &sqs_with("batchingWindowSeconds: 5")),
            &[
                "spec.eventSources.sqs[0].batchingWindowSeconds: unknown field; did you mean \"batchingWindow\"?",
            ],
        ),
        case(
            "every source is checked",
            |s| {
                s.set(
                    "spec.eventSources",
                    &format!(
                        "sqs:\n  - queue: {SQS}:a\n    batchSize: 50\n    deadLetterQueue: {SQS}:dlq\n  - queue: {SQS}:b.fifo\n    batchSize: 11\n    deadLetterQueue: {SQS}:dlq.fifo"
                    )
                    ,
                )
            },
            &[
                "21:20: spec.eventSources.sqs[0].batchSize: a batch size of 50 (above 10) needs a batchingWindow of at least 1s",
                "24:20: spec.eventSources.sqs[1].batchSize: 11 is above the maximum of 10 for FIFO queues",
            ],
        ),
    ]
}

/// An SQS source (with its dead-letter queue declared) plus extra lines.
fn sqs_with(extra: &str) -> String {
    format!(
        "sqs:\n  - queue: {SQS}:orders\n    {}\n    deadLetterQueue: {SQS}:orders-dlq",
        extra.replace('\n', "\n    ")
    )
}

fn fifo_with(extra: &str) -> String {
    format!(
        "sqs:\n  - queue: {SQS}:orders.fifo\n    {}\n    deadLetterQueue: {SQS}:orders-dlq.fifo",
        extra.replace('\n', "\n    ")
    )
}

#[test]
fn sqs_event_sources() {
    run(&sqs_cases());
}

fn alarm_cases() -> Vec<Case> {
    vec![
        case(
            "alarms as a list",
            |s| s.remove("spec.alarms").set("spec.alarms", "[errors]"),
            &["spec.alarms: expected a mapping, found a list"],
        ),
        case(
            "unknown alarm",
            |s| s.set("spec.alarms.latency", "{}"),
            &[
                "18:5: spec.alarms.latency: unknown field; expected one of duration, errors, existing, throttles",
            ],
        ),
        case(
            "count threshold below 1",
            |s| s.set("spec.alarms.errors", "{threshold: 0}"),
            &["17:25: spec.alarms.errors.threshold: 0 is below the minimum of 1"],
        ),
        case(
            "count threshold as a string",
            |s| s.set("spec.alarms.throttles", "{threshold: many}"),
            &["spec.alarms.throttles.threshold: expected a number, found a string \"many\""],
        ),
        case(
            "fractional count threshold is fine",
            |s| s.set("spec.alarms.errors", "{threshold: 2.5}"),
            &[],
        ),
        case(
            "alarm period that CloudWatch does not offer",
            |s| s.set("spec.alarms.errors", "{period: 45s}"),
            &[
                "17:22: spec.alarms.errors.period: 45s is not a CloudWatch period: use 10s, 20s, 30s or a multiple of 60s",
            ],
        ),
        case(
            "alarm period of zero",
            |s| s.set("spec.alarms.throttles", "{period: 0}"),
            &[
                "spec.alarms.throttles.period: 0s is not a CloudWatch period: use 10s, 20s, 30s or a multiple of 60s",
            ],
        ),
        case(
            "alarm period with milliseconds",
            |s| s.set("spec.alarms.duration", "{period: 1500ms, threshold: 1s}"),
            &[
                "spec.alarms.duration.period: 1s500ms is not a CloudWatch period: use 10s, 20s, 30s or a multiple of 60s",
            ],
        ),
        case(
            "alarm period not a duration",
            |s| s.set("spec.alarms.errors", "{period: hourly}"),
            &[
                "spec.alarms.errors.period: expected a duration such as 30s, 5m or 1h30m, found \"hourly\"",
            ],
        ),
        case(
            "high-resolution and minute periods are fine",
            |s| {
                s.set("spec.alarms.errors", "{period: 10s}")
                    .set("spec.alarms.throttles", "{period: 2h}")
            },
            &[],
        ),
        case(
            "evaluation periods of zero",
            |s| s.set("spec.alarms.errors", "{evaluationPeriods: 0}"),
            &["spec.alarms.errors.evaluationPeriods: 0 is below the minimum of 1"],
        ),
        case(
            "evaluation periods above 100",
            |s| s.set("spec.alarms.throttles", "{evaluationPeriods: 101}"),
            &["spec.alarms.throttles.evaluationPeriods: 101 is above the maximum of 100"],
        ),
        case(
            "evaluation window over a day",
            |s| s.set("spec.alarms.errors", "{period: 1h, evaluationPeriods: 25}"),
            &[
                "17:45: spec.alarms.errors.evaluationPeriods: period times evaluationPeriods may not exceed one day",
            ],
        ),
        case(
            "evaluation window of exactly a day is fine",
            |s| s.set("spec.alarms.errors", "{period: 1h, evaluationPeriods: 24}"),
            &[],
        ),
        case(
            "more datapoints than evaluation periods",
            |s| {
                s.set(
                    "spec.alarms.errors",
                    "{evaluationPeriods: 3, datapointsToAlarm: 5}",
                )
            },
            &["17:55: spec.alarms.errors.datapointsToAlarm: 5 is more than evaluationPeriods (3)"],
        ),
        case(
            "datapoints without evaluation periods (1 by default)",
            |s| s.set("spec.alarms.throttles", "{datapointsToAlarm: 2}"),
            &["spec.alarms.throttles.datapointsToAlarm: 2 is more than evaluationPeriods (1)"],
        ),
        case(
            "datapoints of zero",
            |s| s.set("spec.alarms.duration", "{datapointsToAlarm: 0}"),
            &["spec.alarms.duration.datapointsToAlarm: 0 is below the minimum of 1"],
        ),
        case(
            "datapoints above 100",
            |s| s.set("spec.alarms.errors", "{datapointsToAlarm: 101}"),
            &["spec.alarms.errors.datapointsToAlarm: 101 is above the maximum of 100"],
        ),
        case(
            "duration evaluation periods above 100",
            |s| s.set("spec.alarms.duration", "{evaluationPeriods: 101}"),
            &["spec.alarms.duration.evaluationPeriods: 101 is above the maximum of 100"],
        ),
        case(
            "throttles datapoints above 100",
            |s| s.set("spec.alarms.throttles", "{datapointsToAlarm: 101}"),
            &["spec.alarms.throttles.datapointsToAlarm: 101 is above the maximum of 100"],
        ),
        case(
            "throttles period not a duration",
            |s| s.set("spec.alarms.throttles", "{period: 1 hour}"),
            &[
                "spec.alarms.throttles.period: expected a duration such as 30s, 5m or 1h30m, found \"1 hour\"",
            ],
        ),
        case(
            "percentile without p",
            |s| s.set("spec.alarms.duration", "{percentile: \"99\"}"),
            &[
                "18:28: spec.alarms.duration.percentile: expected a percentile such as p90 or p99.9, found \"99\"",
            ],
        ),
        case(
            "percentile above 100",
            |s| s.set("spec.alarms.duration", "{percentile: p101}"),
            &[
                "spec.alarms.duration.percentile: expected a percentile such as p90 or p99.9, found \"p101\"",
            ],
        ),
        case(
            "fractional percentile is fine",
            |s| {
                s.set(
                    "spec.alarms.duration",
                    "{percentile: p99.95, threshold: 2s}",
                )
            },
            &[],
        ),
        case(
            "duration threshold not a duration",
            |s| s.set("spec.alarms.duration", "{threshold: fast}"),
            &[
                "spec.alarms.duration.threshold: expected a duration such as 30s, 5m or 1h30m, found \"fast\"",
            ],
        ),
        case(
            "duration threshold above the timeout",
            |s| {
                s.set("spec.timeout", "30s")
                    .set("spec.alarms.duration", "{threshold: 1m}")
            },
            &[
                "18:27: spec.alarms.duration.threshold: 1m is above the function's timeout of 30s, so the alarm could never fire",
            ],
        ),
        case(
            "duration threshold above the default timeout of 3s",
            |s| s.set("spec.alarms.duration", "{threshold: 5s}"),
            &[
                "spec.alarms.duration.threshold: 5s is above the function's timeout of 3s, so the alarm could never fire",
            ],
        ),
        case(
            "duration threshold equal to the timeout is fine",
            |s| {
                s.set("spec.timeout", "30s")
                    .set("spec.alarms.duration", "{threshold: 30s}")
            },
            &[],
        ),
        case(
            "empty existing alarm name",
            |s| s.set("spec.alarms.existing", "[\"\"]"),
            &["18:16: spec.alarms.existing[0]: must not be empty"],
        ),
        case(
            "existing alarm name too long",
            |s| s.set("spec.alarms.existing", &format!("[{}]", "a".repeat(256))),
            &["spec.alarms.existing[0]: is 256 characters long, more than the maximum of 255"],
        ),
        case(
            "existing alarms as a string",
            |s| s.set("spec.alarms.existing", "orders-5xx"),
            &["spec.alarms.existing: expected a list, found a string \"orders-5xx\""],
        ),
        case(
            "an alarm as a number",
            |s| s.set("spec.alarms.throttles", "1"),
            &["spec.alarms.throttles: expected a mapping, found an integer (1)"],
        ),
        case(
            "errors alarm as a string",
            |s| s.set("spec.alarms.errors", "on"),
            &["spec.alarms.errors: expected a mapping, found a string \"on\""],
        ),
        case(
            "duration alarm as a list",
            |s| s.set("spec.alarms.duration", "[p99]"),
            &["spec.alarms.duration: expected a mapping, found a list"],
        ),
    ]
}

#[test]
fn alarms() {
    run(&alarm_cases());
}

fn rollout_cases() -> Vec<Case> {
    vec![
        case(
            "traffic as a string",
            |s| with_alias(s).set("spec.rollout.traffic", "lots"),
            &["spec.rollout.traffic: expected a mapping, found a string \"lots\""],
        ),
        case(
            "a traffic payload too large",
            |s| {
                with_alias(s).set(
                    "spec.rollout.traffic",
                    &format!("{{payload: {{blob: '{}'}}}}", "x".repeat(300 * 1024)),
                )
            },
            &[
                "spec.rollout.traffic.payload: the payload is larger than 256 KB; synthetic traffic sends test events",
            ],
        ),
        case(
            "a traffic payload and a payload file",
            |s| with_alias(s).set("spec.rollout.traffic", "{payload: {}, payloadFile: e.json}"),
            &["spec.rollout.traffic: set either payload or payloadFile, not both"],
        ),
        case(
            "an empty traffic payload file",
            |s| with_alias(s).set("spec.rollout.traffic", "{payloadFile: ''}"),
            &["spec.rollout.traffic.payloadFile: must not be empty"],
        ),
        case(
            "no traffic invocations",
            |s| with_alias(s).set("spec.rollout.traffic", "{invocations: 0}"),
            &["spec.rollout.traffic.invocations: 0 is below the minimum of 1"],
        ),
        case(
            "too much traffic concurrency",
            |s| with_alias(s).set("spec.rollout.traffic", "{concurrency: 50}"),
            &["spec.rollout.traffic.concurrency: 50 is above the maximum of 20"],
        ),
        case(
            "traffic max errors as a string",
            |s| with_alias(s).set("spec.rollout.traffic", "{maxErrors: some}"),
            &["spec.rollout.traffic.maxErrors: expected an integer, found a string \"some\""],
        ),
        case(
            "traffic without an alias",
            |s| s.set("spec.rollout.traffic", "{invocations: 5}"),
            &["spec.rollout: a rollout needs an alias: set spec.alias"],
        ),
        case(
            "strategy typo",
            |s| with_alias(s).set("spec.rollout.strategy", "Canary10Percent5Minute"),
            &[
                "20:15: spec.rollout.strategy: \"Canary10Percent5Minute\" is not a valid value; did you mean \"Canary10Percent5Minutes\"?",
            ],
        ),
        case(
            "every preset is accepted",
            |s| with_alias(s).set("spec.rollout.strategy", "Linear10PercentEvery10Minutes"),
            &[],
        ),
        case(
            "progressive rollout without an alias",
            |s| s.set("spec.rollout.strategy", "Canary10Percent5Minutes"),
            &["18:3: spec.rollout: a rollout needs an alias: set spec.alias"],
        ),
        case(
            "steps without an alias",
            |s| s.set("spec.rollout.steps", "- setWeight: 10"),
            &["18:3: spec.rollout: a rollout needs an alias: set spec.alias"],
        ),
        case(
            "AllAtOnce without an alias is fine",
            |s| s.set("spec.rollout.strategy", "AllAtOnce"),
            &[],
        ),
        case(
            "strategy and steps",
            |s| {
                with_alias(s)
                    .set("spec.rollout.strategy", "Canary10Percent5Minutes")
                    .set("spec.rollout.steps", "- setWeight: 10")
            },
            &["19:3: spec.rollout: set either strategy or steps, not both"],
        ),
        case(
            "empty steps",
            |s| with_alias(s).set("spec.rollout.steps", "[]"),
            &["20:5: spec.rollout.steps: must not be empty"],
        ),
        case(
            "more than 100 steps",
            |s| {
                let steps: Vec<String> = (1..=101)
                    .map(|i| format!("{{setWeight: {}}}", f64::from(i) * 0.5))
                    .collect();
                with_alias(s).set("spec.rollout.steps", &format!("[{}]", steps.join(", ")))
            },
            &["spec.rollout.steps: has 101 items, more than the maximum of 100"],
        ),
        case(
            "steps as a mapping",
            |s| with_alias(s).set("spec.rollout.steps", "{setWeight: 10}"),
            &["spec.rollout.steps: expected a list, found a mapping"],
        ),
        case(
            "decreasing weights",
            |s| {
                with_alias(s).set(
                    "spec.rollout.steps",
                    "- setWeight: 20\n- pause: {duration: 1m}\n- setWeight: 10",
                )
            },
            &[
                "23:20: spec.rollout.steps[2].setWeight: 10 must be greater than the previous weight, 20",
            ],
        ),
        case(
            "repeated weight",
            |s| with_alias(s).set("spec.rollout.steps", "- setWeight: 20\n- setWeight: 20"),
            &["spec.rollout.steps[1].setWeight: 20 must be greater than the previous weight, 20"],
        ),
        case(
            "weight of 100",
            |s| with_alias(s).set("spec.rollout.steps", "- setWeight: 50\n- setWeight: 100"),
            &[
                "22:20: spec.rollout.steps[1].setWeight: 100 must be above 0 and below 100 (100% is implied at the end)",
            ],
        ),
        case(
            "weight above 100",
            |s| with_alias(s).set("spec.rollout.steps", "- setWeight: 150"),
            &[
                "spec.rollout.steps[0].setWeight: 150 must be above 0 and below 100 (100% is implied at the end)",
            ],
        ),
        case(
            "weight of 0",
            |s| with_alias(s).set("spec.rollout.steps", "- setWeight: 0"),
            &[
                "spec.rollout.steps[0].setWeight: 0 must be above 0 and below 100 (100% is implied at the end)",
            ],
        ),
        case(
            "weight as a string",
            |s| with_alias(s).set("spec.rollout.steps", "- setWeight: 10%"),
            &["21:20: spec.rollout.steps[0].setWeight: expected a number, found a string \"10%\""],
        ),
        case(
            "fractional weights are fine",
            |s| with_alias(s).set("spec.rollout.steps", "- setWeight: 0.5\n- setWeight: 99.5"),
            &[],
        ),
        case(
            "step with both setWeight and pause",
            |s| {
                with_alias(s).set(
                    "spec.rollout.steps",
                    "- setWeight: 10\n  pause: {duration: 1m}",
                )
            },
            &["21:9: spec.rollout.steps[0]: a step sets exactly one of setWeight or pause"],
        ),
        case(
            "empty step",
            |s| with_alias(s).set("spec.rollout.steps", "- setWeight: 10\n- {}"),
            &["spec.rollout.steps[1]: a step sets exactly one of setWeight or pause"],
        ),
        case(
            "step with an unknown field",
            |s| with_alias(s).set("spec.rollout.steps", "- weight: 10"),
            &[
                "21:9: spec.rollout.steps[0].weight: unknown field; expected one of pause, setWeight",
            ],
        ),
        case(
            "step as a number",
            |s| with_alias(s).set("spec.rollout.steps", "- 10"),
            &["spec.rollout.steps[0]: expected a mapping, found an integer (10)"],
        ),
        case(
            "steps that never set a weight",
            |s| with_alias(s).set("spec.rollout.steps", "- pause: {}"),
            &["20:5: spec.rollout.steps: the steps never set a weight; add a setWeight step"],
        ),
        case(
            "pause shorter than a second",
            |s| {
                with_alias(s).set(
                    "spec.rollout.steps",
                    "- setWeight: 10\n- pause: {duration: 500ms}",
                )
            },
            &["22:27: spec.rollout.steps[1].pause.duration: a pause lasts at least 1s"],
        ),
        case(
            "pause not a duration",
            |s| {
                with_alias(s).set(
                    "spec.rollout.steps",
                    "- setWeight: 10\n- pause: {duration: a while}",
                )
            },
            &[
                "spec.rollout.steps[1].pause.duration: expected a duration such as 30s, 5m or 1h30m, found \"a while\"",
            ],
        ),
        case(
            "pause as a duration, not a mapping",
            |s| with_alias(s).set("spec.rollout.steps", "- setWeight: 10\n- pause: 5m"),
            &["22:16: spec.rollout.steps[1].pause: expected a mapping, found a string \"5m\""],
        ),
        case(
            "pause with an unknown field",
            |s| {
                with_alias(s).set(
                    "spec.rollout.steps",
                    "- setWeight: 10\n- pause: {until: promoted}",
                )
            },
            &["spec.rollout.steps[1].pause.until: unknown field; expected one of duration"],
        ),
        case(
            "a pause until promoted is fine",
            |s| {
                with_alias(s).set(
                    "spec.rollout.steps",
                    "- setWeight: 10\n- pause: {}\n- setWeight: 50\n- pause: {duration: 10m}",
                )
            },
            &[],
        ),
        case(
            "empty rollout alarm name",
            |s| with_alias(s).set("spec.rollout.alarms", "[\"\"]"),
            &["spec.rollout.alarms[0]: must not be empty"],
        ),
        case(
            "rollout alarm name too long",
            |s| with_alias(s).set("spec.rollout.alarms", &format!("[{}]", "a".repeat(256))),
            &["spec.rollout.alarms[0]: is 256 characters long, more than the maximum of 255"],
        ),
        case(
            "rollout alarms as a string",
            |s| with_alias(s).set("spec.rollout.alarms", "orders-5xx"),
            &["spec.rollout.alarms: expected a list, found a string \"orders-5xx\""],
        ),
        case(
            "autoRollback as a string",
            |s| with_alias(s).set("spec.rollout.autoRollback", "no"),
            &[
                "20:19: spec.rollout.autoRollback: expected a boolean (true or false), found a string \"no\"",
            ],
        ),
        case(
            "hooks as a number",
            |s| with_alias(s).set("spec.rollout.hooks", "5"),
            &["spec.rollout.hooks: expected a mapping, found an integer (5)"],
        ),
        case(
            "hooks with an unknown field",
            |s| with_alias(s).set("spec.rollout.hooks.before", "[]"),
            &["spec.rollout.hooks.before: unknown field; expected one of postTraffic, preTraffic"],
        ),
        case(
            "preTraffic hooks as a string",
            |s| with_alias(s).set("spec.rollout.hooks.preTraffic", "smoke"),
            &["spec.rollout.hooks.preTraffic: expected a list, found a string \"smoke\""],
        ),
        case(
            "postTraffic hooks as a string",
            |s| with_alias(s).set("spec.rollout.hooks.postTraffic", "smoke"),
            &["spec.rollout.hooks.postTraffic: expected a list, found a string \"smoke\""],
        ),
        case(
            "a hook with neither lambda nor http",
            |s| with_alias(s).set("spec.rollout.hooks.preTraffic", "[{name: smoke}]"),
            &["spec.rollout.hooks.preTraffic[0]: a hook sets exactly one of lambda or http"],
        ),
        case(
            "a hook invoking the function itself",
            |s| with_alias(s).set("spec.rollout.hooks.preTraffic", "[{lambda: orders-api}]"),
            &[
                "spec.rollout.hooks.preTraffic[0].lambda: orders-api is this function itself; a hook must be another function",
            ],
        ),
        case(
            "a hook name with a space",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{name: 'smoke test', lambda: orders-smoke}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].name: expected a value matching ^[A-Za-z0-9_-]+$, found \"smoke test\"",
            ],
        ),
        case(
            "a hook with an empty lambda",
            |s| with_alias(s).set("spec.rollout.hooks.preTraffic", "[{lambda: ''}]"),
            &["spec.rollout.hooks.preTraffic[0].lambda: must not be empty"],
        ),
        case(
            "a hook deadline that is not a duration",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{lambda: orders-smoke, deadline: soon}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].deadline: expected a duration such as 30s, 5m or 1h30m, found \"soon\"",
            ],
        ),
        case(
            "a hook with an unknown field",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{lambda: orders-smoke, when: now}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].when: unknown field; expected one of deadline, http, lambda, name",
            ],
        ),
        case(
            "an http hook as a string",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{http: 'https://ci.example.com'}]",
                )
            },
            &[
                "spec.rollout.hooks.postTraffic[0].http: expected a mapping, found a string \"https://ci.example.com\"",
            ],
        ),
        case(
            "an http hook url without a scheme",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{http: {url: ci.example.com/hooks}}]",
                )
            },
            &[
                "spec.rollout.hooks.postTraffic[0].http.url: expected a value matching ^https?://, found \"ci.example.com/hooks\"",
            ],
        ),
        case(
            "an http hook with an unknown method",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{http: {url: 'https://ci.example.com/h', method: DELETE}}]",
                )
            },
            &[
                "spec.rollout.hooks.postTraffic[0].http.method: \"DELETE\" is not one of POST, PUT, GET",
            ],
        ),
        case(
            "an http hook header with a literal value",
            |s| {
                with_alias(s).set("spec.rollout.hooks.postTraffic", "[{http: {url: 'https://ci.example.com/h', headers: {Authorization: 'Bearer abc'}}}]")
            },
            &[
                "spec.rollout.hooks.postTraffic[0].http.headers.Authorization: expected a secret by reference, {secret: NAME} (never a literal value), found a string \"Bearer abc\"",
            ],
        ),
        case(
            "an http hook secret name with a slash",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{http: {url: 'https://ci.example.com/h', signingSecret: {secret: 'a/b'}}}]",
                )
            },
            &[
                "spec.rollout.hooks.postTraffic[0].http.signingSecret.secret: expected a value matching ^[A-Za-z0-9_.-]+$, found \"a/b\"",
            ],
        ),
        case(
            "an http hook timeout that is not a duration",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{http: {url: 'https://ci.example.com/h', timeout: long}}]",
                )
            },
            &[
                "spec.rollout.hooks.postTraffic[0].http.timeout: expected a duration such as 30s, 5m or 1h30m, found \"long\"",
            ],
        ),
        case(
            "an http hook with too many retries",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{http: {url: 'https://ci.example.com/h', retries: 9}}]",
                )
            },
            &["spec.rollout.hooks.postTraffic[0].http.retries: 9 is above the maximum of 5"],
        ),
        case(
            "an http hook with an unknown field",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{http: {url: 'https://ci.example.com/h', body: x}}]",
                )
            },
            &[
                "spec.rollout.hooks.postTraffic[0].http.body: unknown field; expected one of headers, method, retries, signingSecret, timeout, url",
            ],
        ),
        case(
            "an http hook headers as a list",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{http: {url: 'https://ci.example.com/h', headers: [a]}}]",
                )
            },
            &["spec.rollout.hooks.postTraffic[0].http.headers: expected a mapping, found a list"],
        ),
        case(
            "an http hook header secret with a space",
            |s| {
                with_alias(s).set("spec.rollout.hooks.postTraffic", "[{http: {url: 'https://ci.example.com/h', headers: {X-Token: {secret: 'a b'}}}}]")
            },
            &[
                "spec.rollout.hooks.postTraffic[0].http.headers.X-Token.secret: expected a value matching ^[A-Za-z0-9_.-]+$, found \"a b\"",
            ],
        ),
        case(
            "an http hook signing secret as a string",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{http: {url: 'https://ci.example.com/h', signingSecret: hmac}}]",
                )
            },
            &[
                "spec.rollout.hooks.postTraffic[0].http.signingSecret: expected a secret by reference, {secret: NAME} (never a literal value), found a string \"hmac\"",
            ],
        ),
        case(
            "a hook as a string",
            |s| with_alias(s).set("spec.rollout.hooks.postTraffic", "[smoke]"),
            &["spec.rollout.hooks.postTraffic[0]: expected a mapping, found a string \"smoke\""],
        ),
        case(
            "a hook with neither lambda nor http (postTraffic)",
            |s| with_alias(s).set("spec.rollout.hooks.postTraffic", "[{name: smoke}]"),
            &["spec.rollout.hooks.postTraffic[0]: a hook sets exactly one of lambda or http"],
        ),
        case(
            "a hook invoking the function itself (postTraffic)",
            |s| with_alias(s).set("spec.rollout.hooks.postTraffic", "[{lambda: orders-api}]"),
            &[
                "spec.rollout.hooks.postTraffic[0].lambda: orders-api is this function itself; a hook must be another function",
            ],
        ),
        case(
            "a hook name with a space (postTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{name: 'smoke test', lambda: orders-smoke}]",
                )
            },
            &[
                "spec.rollout.hooks.postTraffic[0].name: expected a value matching ^[A-Za-z0-9_-]+$, found \"smoke test\"",
            ],
        ),
        case(
            "a hook with an empty lambda (postTraffic)",
            |s| with_alias(s).set("spec.rollout.hooks.postTraffic", "[{lambda: ''}]"),
            &["spec.rollout.hooks.postTraffic[0].lambda: must not be empty"],
        ),
        case(
            "a hook deadline that is not a duration (postTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{lambda: orders-smoke, deadline: soon}]",
                )
            },
            &[
                "spec.rollout.hooks.postTraffic[0].deadline: expected a duration such as 30s, 5m or 1h30m, found \"soon\"",
            ],
        ),
        case(
            "a hook with an unknown field (postTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{lambda: orders-smoke, when: now}]",
                )
            },
            &[
                "spec.rollout.hooks.postTraffic[0].when: unknown field; expected one of deadline, http, lambda, name",
            ],
        ),
        case(
            "an http hook as a string (preTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{http: 'https://ci.example.com'}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].http: expected a mapping, found a string \"https://ci.example.com\"",
            ],
        ),
        case(
            "an http hook url without a scheme (preTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{http: {url: ci.example.com/hooks}}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].http.url: expected a value matching ^https?://, found \"ci.example.com/hooks\"",
            ],
        ),
        case(
            "an http hook with an unknown method (preTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{http: {url: 'https://ci.example.com/h', method: DELETE}}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].http.method: \"DELETE\" is not one of POST, PUT, GET",
            ],
        ),
        case(
            "an http hook header with a literal value (preTraffic)",
            |s| {
                with_alias(s).set("spec.rollout.hooks.preTraffic", "[{http: {url: 'https://ci.example.com/h', headers: {Authorization: 'Bearer abc'}}}]")
            },
            &[
                "spec.rollout.hooks.preTraffic[0].http.headers.Authorization: expected a secret by reference, {secret: NAME} (never a literal value), found a string \"Bearer abc\"",
            ],
        ),
        case(
            "an http hook secret name with a slash (preTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{http: {url: 'https://ci.example.com/h', signingSecret: {secret: 'a/b'}}}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].http.signingSecret.secret: expected a value matching ^[A-Za-z0-9_.-]+$, found \"a/b\"",
            ],
        ),
        case(
            "an http hook timeout that is not a duration (preTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{http: {url: 'https://ci.example.com/h', timeout: long}}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].http.timeout: expected a duration such as 30s, 5m or 1h30m, found \"long\"",
            ],
        ),
        case(
            "an http hook with too many retries (preTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{http: {url: 'https://ci.example.com/h', retries: 9}}]",
                )
            },
            &["spec.rollout.hooks.preTraffic[0].http.retries: 9 is above the maximum of 5"],
        ),
        case(
            "an http hook with an unknown field (preTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{http: {url: 'https://ci.example.com/h', body: x}}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].http.body: unknown field; expected one of headers, method, retries, signingSecret, timeout, url",
            ],
        ),
        case(
            "an http hook headers as a list (preTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{http: {url: 'https://ci.example.com/h', headers: [a]}}]",
                )
            },
            &["spec.rollout.hooks.preTraffic[0].http.headers: expected a mapping, found a list"],
        ),
        case(
            "an http hook header secret with a space (preTraffic)",
            |s| {
                with_alias(s).set("spec.rollout.hooks.preTraffic", "[{http: {url: 'https://ci.example.com/h', headers: {X-Token: {secret: 'a b'}}}}]")
            },
            &[
                "spec.rollout.hooks.preTraffic[0].http.headers.X-Token.secret: expected a value matching ^[A-Za-z0-9_.-]+$, found \"a b\"",
            ],
        ),
        case(
            "an http hook signing secret as a string (preTraffic)",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{http: {url: 'https://ci.example.com/h', signingSecret: hmac}}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].http.signingSecret: expected a secret by reference, {secret: NAME} (never a literal value), found a string \"hmac\"",
            ],
        ),
        case(
            "a hook as a string (preTraffic)",
            |s| with_alias(s).set("spec.rollout.hooks.preTraffic", "[smoke]"),
            &["spec.rollout.hooks.preTraffic[0]: expected a mapping, found a string \"smoke\""],
        ),
        case(
            "gates as a string (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates.beforeStep", "smoke")
            },
            &["spec.rollout.gates.beforeStep: expected a list, found a string \"smoke\""],
        ),
        case(
            "a gate as a string (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates.beforeStep", "[smoke]")
            },
            &["spec.rollout.gates.beforeStep[0]: expected a mapping, found a string \"smoke\""],
        ),
        case(
            "a gate name with a space (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforeStep",
                        "[{name: 'a b', http: {url: 'https://ci.example.com/g'}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforeStep[0].name: expected a value matching ^[A-Za-z0-9_-]+$, found \"a b\"",
            ],
        ),
        case(
            "a gate without http (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates.beforeStep", "[{name: ci}]")
            },
            &["spec.rollout.gates.beforeStep[0]: missing required field \"http\""],
        ),
        case(
            "a gate http as a string (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforeStep",
                        "[{http: 'https://ci.example.com/g'}]",
                    )
            },
            &[
                "spec.rollout.gates.beforeStep[0].http: expected a mapping, found a string \"https://ci.example.com/g\"",
            ],
        ),
        case(
            "a gate url without a scheme (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforeStep",
                        "[{http: {url: ci.example.com/g}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforeStep[0].http.url: expected a value matching ^https?://, found \"ci.example.com/g\"",
            ],
        ),
        case(
            "a gate with an unknown method (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforeStep",
                        "[{http: {url: 'https://ci.example.com/g', method: PATCH}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforeStep[0].http.method: \"PATCH\" is not one of POST, PUT, GET",
            ],
        ),
        case(
            "a gate headers as a list (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforeStep",
                        "[{http: {url: 'https://ci.example.com/g', headers: [a]}}]",
                    )
            },
            &["spec.rollout.gates.beforeStep[0].http.headers: expected a mapping, found a list"],
        ),
        case(
            "a gate header with a literal value (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforeStep",
                        "[{http: {url: 'https://ci.example.com/g', headers: {X-Token: abc}}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforeStep[0].http.headers.X-Token: expected a secret by reference, {secret: NAME} (never a literal value), found a string \"abc\"",
            ],
        ),
        case(
            "a gate header secret with a space (beforeStep)",
            |s| {
                with_alias(s).set("spec.rollout.steps", "[{setWeight: 10}]").set("spec.rollout.gates.beforeStep", "[{http: {url: 'https://ci.example.com/g', headers: {X-Token: {secret: 'a b'}}}}]")
            },
            &[
                "spec.rollout.gates.beforeStep[0].http.headers.X-Token.secret: expected a value matching ^[A-Za-z0-9_.-]+$, found \"a b\"",
            ],
        ),
        case(
            "a gate signing secret as a string (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforeStep",
                        "[{http: {url: 'https://ci.example.com/g', signingSecret: hmac}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforeStep[0].http.signingSecret: expected a secret by reference, {secret: NAME} (never a literal value), found a string \"hmac\"",
            ],
        ),
        case(
            "a gate signing secret name with a slash (beforeStep)",
            |s| {
                with_alias(s).set("spec.rollout.steps", "[{setWeight: 10}]").set("spec.rollout.gates.beforeStep", "[{http: {url: 'https://ci.example.com/g', signingSecret: {secret: 'a/b'}}}]")
            },
            &[
                "spec.rollout.gates.beforeStep[0].http.signingSecret.secret: expected a value matching ^[A-Za-z0-9_.-]+$, found \"a/b\"",
            ],
        ),
        case(
            "a gate timeout that is not a duration (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforeStep",
                        "[{http: {url: 'https://ci.example.com/g', timeout: long}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforeStep[0].http.timeout: expected a duration such as 30s, 5m or 1h30m, found \"long\"",
            ],
        ),
        case(
            "a gate with too many retries (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforeStep",
                        "[{http: {url: 'https://ci.example.com/g', retries: 9}}]",
                    )
            },
            &["spec.rollout.gates.beforeStep[0].http.retries: 9 is above the maximum of 5"],
        ),
        case(
            "a gate with an unknown field (beforeStep)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforeStep",
                        "[{http: {url: 'https://ci.example.com/g'}, when: now}]",
                    )
            },
            &["spec.rollout.gates.beforeStep[0].when: unknown field; expected one of http, name"],
        ),
        case(
            "gates as a string (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates.beforePromote", "smoke")
            },
            &["spec.rollout.gates.beforePromote: expected a list, found a string \"smoke\""],
        ),
        case(
            "a gate as a string (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates.beforePromote", "[smoke]")
            },
            &["spec.rollout.gates.beforePromote[0]: expected a mapping, found a string \"smoke\""],
        ),
        case(
            "a gate name with a space (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforePromote",
                        "[{name: 'a b', http: {url: 'https://ci.example.com/g'}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforePromote[0].name: expected a value matching ^[A-Za-z0-9_-]+$, found \"a b\"",
            ],
        ),
        case(
            "a gate without http (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates.beforePromote", "[{name: ci}]")
            },
            &["spec.rollout.gates.beforePromote[0]: missing required field \"http\""],
        ),
        case(
            "a gate http as a string (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforePromote",
                        "[{http: 'https://ci.example.com/g'}]",
                    )
            },
            &[
                "spec.rollout.gates.beforePromote[0].http: expected a mapping, found a string \"https://ci.example.com/g\"",
            ],
        ),
        case(
            "a gate url without a scheme (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforePromote",
                        "[{http: {url: ci.example.com/g}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforePromote[0].http.url: expected a value matching ^https?://, found \"ci.example.com/g\"",
            ],
        ),
        case(
            "a gate with an unknown method (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforePromote",
                        "[{http: {url: 'https://ci.example.com/g', method: PATCH}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforePromote[0].http.method: \"PATCH\" is not one of POST, PUT, GET",
            ],
        ),
        case(
            "a gate headers as a list (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforePromote",
                        "[{http: {url: 'https://ci.example.com/g', headers: [a]}}]",
                    )
            },
            &["spec.rollout.gates.beforePromote[0].http.headers: expected a mapping, found a list"],
        ),
        case(
            "a gate header with a literal value (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforePromote",
                        "[{http: {url: 'https://ci.example.com/g', headers: {X-Token: abc}}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforePromote[0].http.headers.X-Token: expected a secret by reference, {secret: NAME} (never a literal value), found a string \"abc\"",
            ],
        ),
        case(
            "a gate header secret with a space (beforePromote)",
            |s| {
                with_alias(s).set("spec.rollout.steps", "[{setWeight: 10}]").set("spec.rollout.gates.beforePromote", "[{http: {url: 'https://ci.example.com/g', headers: {X-Token: {secret: 'a b'}}}}]")
            },
            &[
                "spec.rollout.gates.beforePromote[0].http.headers.X-Token.secret: expected a value matching ^[A-Za-z0-9_.-]+$, found \"a b\"",
            ],
        ),
        case(
            "a gate signing secret as a string (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforePromote",
                        "[{http: {url: 'https://ci.example.com/g', signingSecret: hmac}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforePromote[0].http.signingSecret: expected a secret by reference, {secret: NAME} (never a literal value), found a string \"hmac\"",
            ],
        ),
        case(
            "a gate signing secret name with a slash (beforePromote)",
            |s| {
                with_alias(s).set("spec.rollout.steps", "[{setWeight: 10}]").set("spec.rollout.gates.beforePromote", "[{http: {url: 'https://ci.example.com/g', signingSecret: {secret: 'a/b'}}}]")
            },
            &[
                "spec.rollout.gates.beforePromote[0].http.signingSecret.secret: expected a value matching ^[A-Za-z0-9_.-]+$, found \"a/b\"",
            ],
        ),
        case(
            "a gate timeout that is not a duration (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforePromote",
                        "[{http: {url: 'https://ci.example.com/g', timeout: long}}]",
                    )
            },
            &[
                "spec.rollout.gates.beforePromote[0].http.timeout: expected a duration such as 30s, 5m or 1h30m, found \"long\"",
            ],
        ),
        case(
            "a gate with too many retries (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforePromote",
                        "[{http: {url: 'https://ci.example.com/g', retries: 9}}]",
                    )
            },
            &["spec.rollout.gates.beforePromote[0].http.retries: 9 is above the maximum of 5"],
        ),
        case(
            "a gate with an unknown field (beforePromote)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.beforePromote",
                        "[{http: {url: 'https://ci.example.com/g'}, when: now}]",
                    )
            },
            &[
                "spec.rollout.gates.beforePromote[0].when: unknown field; expected one of http, name",
            ],
        ),
        case(
            "gates as a string (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates.rollback", "smoke")
            },
            &["spec.rollout.gates.rollback: expected a list, found a string \"smoke\""],
        ),
        case(
            "a gate as a string (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates.rollback", "[smoke]")
            },
            &["spec.rollout.gates.rollback[0]: expected a mapping, found a string \"smoke\""],
        ),
        case(
            "a gate name with a space (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{name: 'a b', http: {url: 'https://ci.example.com/g'}}]",
                    )
            },
            &[
                "spec.rollout.gates.rollback[0].name: expected a value matching ^[A-Za-z0-9_-]+$, found \"a b\"",
            ],
        ),
        case(
            "a gate without http (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates.rollback", "[{name: ci}]")
            },
            &["spec.rollout.gates.rollback[0]: missing required field \"http\""],
        ),
        case(
            "a gate http as a string (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{http: 'https://ci.example.com/g'}]",
                    )
            },
            &[
                "spec.rollout.gates.rollback[0].http: expected a mapping, found a string \"https://ci.example.com/g\"",
            ],
        ),
        case(
            "a gate url without a scheme (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{http: {url: ci.example.com/g}}]",
                    )
            },
            &[
                "spec.rollout.gates.rollback[0].http.url: expected a value matching ^https?://, found \"ci.example.com/g\"",
            ],
        ),
        case(
            "a gate with an unknown method (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{http: {url: 'https://ci.example.com/g', method: PATCH}}]",
                    )
            },
            &["spec.rollout.gates.rollback[0].http.method: \"PATCH\" is not one of POST, PUT, GET"],
        ),
        case(
            "a gate headers as a list (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{http: {url: 'https://ci.example.com/g', headers: [a]}}]",
                    )
            },
            &["spec.rollout.gates.rollback[0].http.headers: expected a mapping, found a list"],
        ),
        case(
            "a gate header with a literal value (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{http: {url: 'https://ci.example.com/g', headers: {X-Token: abc}}}]",
                    )
            },
            &[
                "spec.rollout.gates.rollback[0].http.headers.X-Token: expected a secret by reference, {secret: NAME} (never a literal value), found a string \"abc\"",
            ],
        ),
        case(
            "a gate header secret with a space (rollback)",
            |s| {
                with_alias(s).set("spec.rollout.steps", "[{setWeight: 10}]").set("spec.rollout.gates.rollback", "[{http: {url: 'https://ci.example.com/g', headers: {X-Token: {secret: 'a b'}}}}]")
            },
            &[
                "spec.rollout.gates.rollback[0].http.headers.X-Token.secret: expected a value matching ^[A-Za-z0-9_.-]+$, found \"a b\"",
            ],
        ),
        case(
            "a gate signing secret as a string (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{http: {url: 'https://ci.example.com/g', signingSecret: hmac}}]",
                    )
            },
            &[
                "spec.rollout.gates.rollback[0].http.signingSecret: expected a secret by reference, {secret: NAME} (never a literal value), found a string \"hmac\"",
            ],
        ),
        case(
            "a gate signing secret name with a slash (rollback)",
            |s| {
                with_alias(s).set("spec.rollout.steps", "[{setWeight: 10}]").set("spec.rollout.gates.rollback", "[{http: {url: 'https://ci.example.com/g', signingSecret: {secret: 'a/b'}}}]")
            },
            &[
                "spec.rollout.gates.rollback[0].http.signingSecret.secret: expected a value matching ^[A-Za-z0-9_.-]+$, found \"a/b\"",
            ],
        ),
        case(
            "a gate timeout that is not a duration (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{http: {url: 'https://ci.example.com/g', timeout: long}}]",
                    )
            },
            &[
                "spec.rollout.gates.rollback[0].http.timeout: expected a duration such as 30s, 5m or 1h30m, found \"long\"",
            ],
        ),
        case(
            "a gate with too many retries (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{http: {url: 'https://ci.example.com/g', retries: 9}}]",
                    )
            },
            &["spec.rollout.gates.rollback[0].http.retries: 9 is above the maximum of 5"],
        ),
        case(
            "a gate with an unknown field (rollback)",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{http: {url: 'https://ci.example.com/g'}, when: now}]",
                    )
            },
            &["spec.rollout.gates.rollback[0].when: unknown field; expected one of http, name"],
        ),
        case(
            "gates as a number",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates", "5")
            },
            &["spec.rollout.gates: expected a mapping, found an integer (5)"],
        ),
        case(
            "gates with an unknown field",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set("spec.rollout.gates.confirm", "[]")
            },
            &[
                "spec.rollout.gates.confirm: unknown field; expected one of beforePromote, beforeStep, rollback",
            ],
        ),
        case(
            "gates without steps",
            |s| {
                with_alias(s).set(
                    "spec.rollout.gates.rollback",
                    "[{http: {url: 'https://ci.example.com/kill'}}]",
                )
            },
            &[
                "spec.rollout.gates: gates hold the steps of a rollout, and this one has none; set steps or a strategy other than AllAtOnce",
            ],
        ),
        case(
            "two hooks with the same name",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{lambda: smoke}, {lambda: smoke}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[1]: another entry of this list is named smoke already; give it a name",
            ],
        ),
        case(
            "two gates with the same default name",
            |s| {
                with_alias(s).set("spec.rollout.steps", "[{setWeight: 10}]").set("spec.rollout.gates.beforeStep", "[{http: {url: 'https://ci.example.com/a'}}, {http: {url: 'https://ci.example.com/b'}}]")
            },
            &[
                "spec.rollout.gates.beforeStep[1]: another entry of this list is named ci.example.com already; give it a name",
            ],
        ),
        case(
            "a hook deadline above a day",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.postTraffic",
                    "[{lambda: smoke, deadline: 2d}]",
                )
            },
            &["spec.rollout.hooks.postTraffic[0].deadline: a hook's deadline is at most 24h"],
        ),
        case(
            "an http hook timeout above 30s",
            |s| {
                with_alias(s).set(
                    "spec.rollout.hooks.preTraffic",
                    "[{http: {url: 'https://ci.example.com/h', timeout: 5m}}]",
                )
            },
            &[
                "spec.rollout.hooks.preTraffic[0].http.timeout: at most 30s: the rollout waits for every attempt; a longer check answers Pending and reports through the callback",
            ],
        ),
        case(
            "a gate timeout above 30s",
            |s| {
                with_alias(s)
                    .set("spec.rollout.steps", "[{setWeight: 10}]")
                    .set(
                        "spec.rollout.gates.rollback",
                        "[{http: {url: 'https://ci.example.com/k', timeout: 1m}}]",
                    )
            },
            &[
                "spec.rollout.gates.rollback[0].http.timeout: at most 30s: the rollout waits for every attempt; a longer check answers Pending and reports through the callback",
            ],
        ),
        case(
            "rollout with an unknown field",
            |s| with_alias(s).set("spec.rollout.canary", "10"),
            &[
                "spec.rollout.canary: unknown field; expected one of alarms, analysis, autoRollback, gates, hooks, steps, strategy, traffic",
            ],
        ),
        case(
            "analysis error rate above 100",
            |s| with_alias(s).set("spec.rollout.analysis.maxErrorRate", "150"),
            &["spec.rollout.analysis.maxErrorRate: 150 is above the maximum of 100"],
        ),
        case(
            "analysis p99 duration not a duration",
            |s| with_alias(s).set("spec.rollout.analysis.maxP99Duration", "fast"),
            &[
                "spec.rollout.analysis.maxP99Duration: expected a duration such as 30s, 5m or 1h30m, found \"fast\"",
            ],
        ),
        case(
            "analysis minimum invocations of zero",
            |s| with_alias(s).set("spec.rollout.analysis.minInvocations", "0"),
            &["spec.rollout.analysis.minInvocations: 0 is below the minimum of 1"],
        ),
        case(
            "analysis inconclusive timeout not a duration",
            |s| with_alias(s).set("spec.rollout.analysis.inconclusiveTimeout", "later"),
            &[
                "spec.rollout.analysis.inconclusiveTimeout: expected a duration such as 30s, 5m or 1h30m, found \"later\"",
            ],
        ),
        case(
            "analysis with a misspelt inconclusive rule",
            |s| with_alias(s).set("spec.rollout.analysis.onInconclusive", "Rollback"),
            &[
                "spec.rollout.analysis.onInconclusive: \"Rollback\" is not a valid value; did you mean \"RollBack\"?",
            ],
        ),
        case(
            "analysis as a number",
            |s| with_alias(s).set("spec.rollout.analysis", "5"),
            &["spec.rollout.analysis: expected a mapping, found an integer (5)"],
        ),
        case(
            "analysis with an unknown field",
            |s| with_alias(s).set("spec.rollout.analysis.window", "5m"),
            &[
                "spec.rollout.analysis.window: unknown field; expected one of inconclusiveTimeout, maxErrorRate, maxP99Duration, minInvocations, onInconclusive",
            ],
        ),
        case(
            "rollout as a string",
            |s| with_alias(s).set("spec.rollout", "Canary10Percent5Minutes"),
            &["spec.rollout: expected a mapping, found a string \"Canary10Percent5Minutes\""],
        ),
        case(
            "every step is checked",
            |s| {
                with_alias(s).set(
                    "spec.rollout.steps",
                    "- setWeight: 20\n- setWeight: 10\n- setWeight: 100\n- setWeight: 5\n  pause: {}\n- pause: {duration: 500ms}",
                )
            },
            &[
                "22:20: spec.rollout.steps[1].setWeight: 10 must be greater than the previous weight, 20",
                "23:20: spec.rollout.steps[2].setWeight: 100 must be above 0 and below 100 (100% is implied at the end)",
                "24:9: spec.rollout.steps[3]: a step sets exactly one of setWeight or pause",
                "26:27: spec.rollout.steps[4].pause.duration: a pause lasts at least 1s",
            ],
        ),
    ]
}

/// The base spec with an alias, so that rollouts are allowed.
fn with_alias(s: Spec) -> Spec {
    s.set("spec.alias", "{name: live}")
}

#[test]
fn rollout() {
    run(&rollout_cases());
}

#[test]
fn function_names_are_unique_across_documents_and_files() {
    let scratch = Scratch::new();
    let base = Spec::base().text();
    let other = Spec::base().set("metadata.name", "billing-api").text();
    let two = format!("{base}---\n{other}---\n{base}");
    let first = scratch.write("a/first.yaml", &two);
    scratch.write("b/second.yaml", &other);
    let report = shepherd_core::check_specs(&[scratch.path().to_owned()], &LintConfig::default());
    let rendered: Vec<_> = report.diagnostics.iter().map(ToString::to_string).collect();
    let second = scratch.path().join("b/second.yaml");
    assert_eq!(
        rendered,
        [
            format!(
                "{}:40:9: metadata.name: function \"orders-api\" is already defined at {}:4:9",
                first.display(),
                first.display()
            ),
            format!(
                "{}:4:9: metadata.name: function \"billing-api\" is already defined at {}:22:9",
                second.display(),
                first.display()
            ),
        ]
    );
    // The first definition of each name stays valid; the duplicates do not count.
    assert_eq!(report.documents, 4);
    assert_eq!(report.files, 2);
}

/// Every field of the JSON Schema is the subject of at least one failing case above, so a
/// field added to the spec without a test fails here.
#[test]
fn every_schema_field_has_a_failing_case() {
    let schema = shepherd_core::spec::json_schema();
    let mut expected = BTreeSet::new();
    schema_paths(&schema, &schema, "", &mut expected);

    let tables = [
        document_cases(),
        metadata_cases(),
        code_cases(),
        function_cases(),
        limit_cases(),
        environment_cases(),
        network_and_logging_cases(),
        concurrency_cases(),
        async_cases(),
        sqs_cases(),
        alarm_cases(),
        rollout_cases(),
    ];
    let mut covered = BTreeSet::new();
    for table in &tables {
        covered.extend(run(table));
    }
    let missing: Vec<_> = expected.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "fields of the schema without a failing validation case: {missing:#?}"
    );
}

/// Every variable the Lambda runtime reserves is refused, in `environment` and `secrets`. A
/// literal secret key or session token is also named as a leaked credential; an `x` is not
/// shaped like an access key id.
#[test]
fn every_reserved_variable_is_refused() {
    const LEAKED: &[&str] = &["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];
    const RESERVED: &[&str] = &[
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    ];
    for name in RESERVED {
        for (section, value) in [("environment", "x"), ("secrets", "{ssmParameter: /x}")] {
            let text = Spec::base()
                .set(&format!("spec.{section}"), &format!("{name}: {value}"))
                .text();
            let report = check_text(&text);
            let shown: Vec<_> = report.diagnostics.iter().map(render).collect();
            assert_eq!(shown.len(), 1, "{section}.{name}: {shown:#?}");
            let leaked = if section == "environment" && LEAKED.contains(name) {
                "; its value is a credential committed in plain text: revoke it and use the function's execution role"
            } else {
                ""
            };
            assert!(
                shown[0].ends_with(&format!(
                    "spec.{section}.{name}: is reserved by the Lambda runtime and cannot be set{leaked}"
                )),
                "{section}.{name}: {}",
                shown[0]
            );
        }
    }
    // A name that only starts like a reserved one is fine.
    let text = Spec::base()
        .set("spec.environment", "AWS_REGION_HINT: eu")
        .text();
    assert!(check_text(&text).diagnostics.is_empty());
}

/// Generated from the schema: every field, set to a value of the wrong type, is reported at
/// its path as `expected ..., found ...`. (JSON is YAML, so the spec is written as JSON.)
#[test]
fn every_field_checks_its_type() {
    let schema = shepherd_core::spec::json_schema();
    let mut paths = BTreeSet::new();
    schema_paths(&schema, &schema, "", &mut paths);
    let base = shepherd_core::source::parse_documents(common::BASE, Default::default())
        .expect("the base parses")[0]
        .to_json();

    let mut failures = Vec::new();
    for path in &paths {
        let Some(field) = field_schema(&schema, path) else {
            failures.push(format!("{path}: not found in the schema"));
            continue;
        };
        // A field that takes any value (a payload) has no wrong type.
        if field
            .as_object()
            .is_some_and(|o| o.keys().all(|k| k == "description" || k == "default"))
        {
            continue;
        }
        let types = field.get("type").cloned().unwrap_or(Json::Null);
        let takes_strings = types == "string"
            || types
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "string"));
        // A list where a string is expected, a string anywhere else.
        let (wrong, found) = if takes_strings {
            (Json::Array(vec![]), "found a list")
        } else {
            (Json::String("x".into()), "found a string \"x\"")
        };
        let mut document = base.clone();
        insert(&mut document, path, wrong);
        let text = serde_json::to_string_pretty(&document).unwrap();
        let report = check_text(&text);
        let reported = report.diagnostics.iter().any(|d| {
            normalize(&schema, d.path.segments()) == *path
                && d.message.starts_with("expected ")
                && d.message.ends_with(found)
        });
        if !reported {
            let shown: Vec<_> = report.diagnostics.iter().map(render).collect();
            failures.push(format!(
                "{path}: no \"expected ..., {found}\" in {shown:#?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The schema of the field at a normalized path (`spec.layers[]`, `spec.tags.*`).
fn field_schema<'a>(root: &'a Json, path: &str) -> Option<&'a Json> {
    let mut schema = resolve(root, root);
    for segment in split_path(path) {
        let next = match segment {
            "[]" => schema.get("items")?,
            "*" => schema.get("additionalProperties")?,
            key => schema.get("properties")?.get(key)?,
        };
        schema = resolve(root, next);
    }
    Some(schema)
}

/// `spec.sqs[].queue` -> `spec`, `sqs`, `[]`, `queue`.
fn split_path(path: &str) -> Vec<&str> {
    let mut segments = Vec::new();
    for part in path.split('.') {
        match part.strip_suffix("[]") {
            Some(key) => segments.extend([key, "[]"]),
            None => segments.push(part),
        }
    }
    segments
}

/// Sets `value` at a normalized path, creating mappings, one-item lists and a `KEY` entry
/// of free-form maps on the way.
fn insert(document: &mut Json, path: &str, value: Json) {
    let segments = split_path(path);
    let mut current = document;
    for (i, segment) in segments.iter().enumerate() {
        let last = i == segments.len() - 1;
        let next_is_list = segments.get(i + 1) == Some(&"[]");
        let empty = || {
            if next_is_list {
                Json::Array(vec![])
            } else {
                Json::Object(Default::default())
            }
        };
        current = match *segment {
            "[]" => {
                if !current.is_array() {
                    *current = Json::Array(vec![]);
                }
                let items = current.as_array_mut().unwrap();
                if items.is_empty() {
                    items.push(empty());
                }
                &mut items[0]
            }
            key => {
                let key = if key == "*" { "KEY" } else { key };
                if !current.is_object() {
                    *current = Json::Object(Default::default());
                }
                current
                    .as_object_mut()
                    .unwrap()
                    .entry(key)
                    .or_insert_with(empty)
            }
        };
        if last {
            *current = value;
            return;
        }
    }
}
