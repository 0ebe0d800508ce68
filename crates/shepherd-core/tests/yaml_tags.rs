//! Explicit YAML tags, and files of another tool. shepherd specs are plain YAML: a tag it
//! does not honour (CloudFormation's `!Ref`, `!Sub`, `!GetAtt`, ...) stops the file at the
//! tag instead of being dropped, and a CloudFormation or SAM template gets one error that
//! says what it is rather than an error for each of its fields.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{BASE, Scratch, Spec, check_text, render};
use shepherd_core::lint::LintConfig;
use shepherd_core::source::{self, Limits, Value};

const INTRINSIC: &str =
    "shepherd specs are plain YAML; CloudFormation intrinsic functions are not evaluated";

const TEMPLATE: &str = "this is a CloudFormation/SAM template, not a shepherd spec (apiVersion shepherd.dev/v1alpha1, kind Function); write a spec for each function instead, as described in docs/spec-reference.md";

/// The rendered diagnostics of one spec text.
fn diagnostics_of(text: &str) -> Vec<String> {
    check_text(text).diagnostics.iter().map(render).collect()
}

fn unsupported(position: &str, tag: &str) -> String {
    format!("{position}: unsupported YAML tag \"{tag}\": {INTRINSIC}")
}

#[test]
fn an_intrinsic_function_is_an_error_at_its_tag_not_a_literal_value() {
    let text = Spec::base().set("spec.handler", "!Ref Handler").text();
    let report = check_text(&text);
    let shown: Vec<_> = report.diagnostics.iter().map(render).collect();
    assert_eq!(shown, [unsupported("10:12", "!Ref")]);
    // Nothing of the file is read: the handler "Handler" must never be deployed.
    assert_eq!(report.documents, 0);
    assert!(report.functions.is_empty());
}

#[test]
fn a_tag_on_any_node_is_an_error() {
    let cases: &[(&str, String, String)] = &[
        (
            "a scalar",
            Spec::base().set("spec.description", "!Sub orders-${Stage}").text(),
            unsupported("18:16", "!Sub"),
        ),
        (
            "a flow sequence",
            format!("{BASE}  environment: !If [IsProd, {{A: b}}, {{A: c}}]\n"),
            unsupported("18:16", "!If"),
        ),
        (
            "a block mapping",
            format!("{BASE}  tags: !Custom\n    team: orders\n"),
            unsupported("18:9", "!Custom"),
        ),
        (
            "a block sequence",
            format!("{BASE}  layers: !Join\n    - a\n"),
            unsupported("18:11", "!Join"),
        ),
        (
            "an item of a list",
            format!("{BASE}  layers:\n    - !GetAtt Layer.Arn\n"),
            unsupported("19:7", "!GetAtt"),
        ),
        (
            "an empty value",
            format!("{BASE}  handler2: !Ref\n"),
            unsupported("18:13", "!Ref"),
        ),
        (
            "a key",
            format!("{BASE}  !Ref memory: 512\n"),
            unsupported("18:3", "!Ref"),
        ),
        (
            "a node with an anchor",
            format!("{BASE}  description: &d !Ref Description\n"),
            unsupported("18:19", "!Ref"),
        ),
        (
            "the document",
            format!("--- !Function\n{BASE}"),
            unsupported("1:5", "!Function"),
        ),
        (
            "a tag of a %TAG prefix",
            format!("%TAG !e! tag:example.com,2000:\n---\n{BASE}  description: !e!text x\n"),
            "20:16: unsupported YAML tag \"!<tag:example.com,2000:text>\": shepherd specs are plain YAML; CloudFormation intrinsic functions are not evaluated".to_owned(),
        ),
        (
            "the non-specific tag",
            format!("{BASE}  description: ! x\n"),
            unsupported("18:16", "!"),
        ),
    ];
    for (what, text, expected) in cases {
        assert_eq!(diagnostics_of(text), [expected.as_str()], "{what}:\n{text}");
    }
}

#[test]
fn the_first_bad_tag_is_reported_and_stops_the_whole_file() {
    let second = Spec::base()
        .set("metadata.name", "billing-api")
        .set("spec.handler", "!Ref Handler")
        .set("spec.role", "!GetAtt Role.Arn")
        .text();
    let text = format!("{BASE}---\n{second}");
    let report = check_text(&text);
    let shown: Vec<_> = report.diagnostics.iter().map(render).collect();
    assert_eq!(shown, [unsupported("28:12", "!Ref")]);
    // Like a syntax error: the valid first document is not read either.
    assert_eq!(report.documents, 0);

    // A syntax error is reported as such, even after a tag.
    assert_eq!(
        diagnostics_of("a: !Ref x\nb: [\n"),
        ["3:1: invalid YAML: while parsing a node, did not find expected node content"]
    );
}

#[test]
fn standard_tags_are_honoured() {
    let value = |text: &str| {
        let documents = source::parse_documents(&format!("v: {text}"), Limits::default())
            .unwrap_or_else(|e| panic!("{text}: {}", e.message));
        documents[0].get("v").unwrap().value.clone()
    };
    assert_eq!(value("!!str 512"), Value::String("512".into()));
    assert_eq!(value("!!str true"), Value::String("true".into()));
    assert_eq!(value("!!str"), Value::String(String::new()));
    assert_eq!(
        value("!<tag:yaml.org,2002:str> 5"),
        Value::String("5".into())
    );
    assert_eq!(value("!!int 512"), Value::Int(512));
    // The tag, not the quotes, decides.
    assert_eq!(value("!!int \"0x1F\""), Value::Int(31));
    assert_eq!(value("!!float 1"), Value::Float(1.0));
    assert_eq!(value("!!float '2.5'"), Value::Float(2.5));
    assert_eq!(value("!!bool 'false'"), Value::Bool(false));
    assert_eq!(value("!!null ~"), Value::Null);
    assert_eq!(value("!!null ''"), Value::Null);
    assert_eq!(
        value("!!seq [a]"),
        Value::Sequence(vec![source::Node {
            value: Value::String("a".into()),
            location: shepherd_core::diagnostic::Location::new(1, 11),
        }])
    );
    assert!(matches!(value("!!map {a: 1}"), Value::Mapping(entries) if entries.len() == 1));

    // Through validation: `memory: !!int "512"` is the integer 512.
    let text = Spec::base()
        .set("spec.memory", "!!int \"512\"")
        .set("spec.description", "!!str 42")
        .text();
    let report = check_text(&text);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert_eq!(report.functions[0].document.spec.memory, Some(512));
    assert_eq!(
        report.functions[0].document.spec.description.as_deref(),
        Some("42")
    );
}

#[test]
fn standard_tags_that_do_not_fit_their_value_or_are_not_read_are_errors() {
    let cases = [
        (
            "v: !!int abc\n",
            "1:4: YAML tag \"!!int\" does not match its value, a string \"abc\"",
        ),
        (
            "v: !!int 1.5\n",
            "1:4: YAML tag \"!!int\" does not match its value, a number (1.5)",
        ),
        (
            "v: !!bool 1\n",
            "1:4: YAML tag \"!!bool\" does not match its value, an integer (1)",
        ),
        (
            "v: !!null \"x\"\n",
            "1:4: YAML tag \"!!null\" does not match its value, a string \"x\"",
        ),
        (
            "v: !!float yes\n",
            "1:4: YAML tag \"!!float\" does not match its value, a string \"yes\"",
        ),
        (
            "v: !!seq {a: 1}\n",
            "1:4: YAML tag \"!!seq\" does not match its value, a mapping",
        ),
        (
            "v: !!map [a]\n",
            "1:4: YAML tag \"!!map\" does not match its value, a list",
        ),
        (
            "v: !!str [a]\n",
            "1:4: YAML tag \"!!str\" does not match its value, a list",
        ),
        (
            "v: !!int\n  a: 1\n",
            "1:4: YAML tag \"!!int\" does not match its value, a mapping",
        ),
        (
            "v: !!map x\n",
            "1:4: YAML tag \"!!map\" does not match its value, a string \"x\"",
        ),
        (
            "v: !!binary aGVsbG8=\n",
            "1:4: unsupported YAML tag \"!!binary\": shepherd reads only the standard tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq",
        ),
        (
            "v: !!timestamp 2024-01-01\n",
            "1:4: unsupported YAML tag \"!!timestamp\": shepherd reads only the standard tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq",
        ),
        (
            "v: !!set {a, b}\n",
            "1:4: unsupported YAML tag \"!!set\": shepherd reads only the standard tags !!str, !!int, !!float, !!bool, !!null, !!map and !!seq",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(diagnostics_of(text), [expected], "{text:?}");
    }
}

/// A SAM template as a team would have it before moving to shepherd.
const SAM_TEMPLATE: &str = "\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: Orders API

Globals:
  Function:
    Timeout: 10
    Runtime: python3.12

Parameters:
  Stage:
    Type: String
    AllowedValues: [staging, prod]

Conditions:
  IsProd: !Equals [!Ref Stage, prod]

Resources:
  OrdersFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub orders-api-${Stage}
      Handler: app.handler
      CodeUri: s3://example-artifacts/orders-api/orders-api-1.4.2.zip
      MemorySize: !If [IsProd, 1024, 256]
      Role: !GetAtt OrdersRole.Arn
      Environment:
        Variables:
          TABLE: !Ref OrdersTable
      Events:
        Api:
          Type: Api
          Properties:
            Path: /orders
            Method: post
  OrdersTable:
    Type: AWS::Serverless::SimpleTable

Outputs:
  OrdersFunctionArn:
    Value: !GetAtt OrdersFunction.Arn
";

#[test]
fn a_sam_template_gets_one_error_that_says_what_it_is() {
    let report = check_text(SAM_TEMPLATE);
    let shown: Vec<_> = report.diagnostics.iter().map(render).collect();
    assert_eq!(shown, [format!("1:1: {TEMPLATE}")]);
    assert_eq!(report.documents, 0);
}

#[test]
fn a_cloudformation_template_without_tags_gets_the_same_error_at_its_first_template_key() {
    let template = "\
# The orders stack, in the long form of the intrinsic functions.
AWSTemplateFormatVersion: \"2010-09-09\"
Description: Orders API function
Resources:
  OrdersFunction:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: orders-api
      Runtime: python3.12
      Handler: app.handler
      Role:
        Fn::GetAtt: [OrdersRole, Arn]
      Code:
        S3Bucket: example-artifacts
        S3Key: orders-api/orders-api-1.4.2.zip
";
    assert_eq!(diagnostics_of(template), [format!("2:1: {TEMPLATE}")]);

    // Any one of the three keys is enough; the first one written is the position.
    let resources_only = "Description: x\nResources:\n  Queue: {Type: AWS::SQS::Queue}\n";
    assert_eq!(diagnostics_of(resources_only), [format!("2:1: {TEMPLATE}")]);
    let transform_only = "Transform: AWS::Serverless-2016-10-31\n";
    assert_eq!(diagnostics_of(transform_only), [format!("1:1: {TEMPLATE}")]);
    // A template in JSON is YAML too.
    let json = "{\"AWSTemplateFormatVersion\": \"2010-09-09\", \"Resources\": {}}\n";
    assert_eq!(diagnostics_of(json), [format!("1:2: {TEMPLATE}")]);
}

#[test]
fn template_keys_in_a_shepherd_document_are_ordinary_unknown_fields() {
    let text = format!("{BASE}Resources: {{}}\n");
    assert_eq!(
        diagnostics_of(&text),
        ["18:1: Resources: unknown field; expected one of apiVersion, kind, metadata, spec"]
    );
    // A document that names shepherd's kind is a spec, whatever else it holds; its tags are
    // reported as tags.
    let text = "kind: Function\nResources:\n  Fn: !Ref X\n";
    assert_eq!(diagnostics_of(text), [unsupported("3:7", "!Ref")]);
}

/// The `# expect: ` lines of a broken example, as `tests/broken_examples.rs` in the root
/// package reads them.
fn expectations(file: &Path) -> Vec<String> {
    fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("read {}: {e}", file.display()))
        .lines()
        .filter_map(|line| line.strip_prefix("# expect: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_broken_examples_of_tags_and_templates_print_their_expectations() {
    let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/broken");
    for name in ["unknown-yaml-tag.yaml", "cloudformation-template.yaml"] {
        let file: PathBuf = broken.join(name);
        let report =
            shepherd_core::check_specs(std::slice::from_ref(&file), &LintConfig::default());
        let printed: Vec<_> = report.diagnostics.iter().map(render).collect();
        let expected = expectations(&file);
        assert!(!expected.is_empty(), "{name} states no expectation");
        assert_eq!(printed, expected, "{name}");
    }
}

#[test]
fn a_template_next_to_specs_does_not_hide_them() {
    let scratch = Scratch::new();
    scratch.write("orders.yaml", BASE);
    scratch.write("template.yaml", SAM_TEMPLATE);
    let report = shepherd_core::check_specs(&[scratch.path().to_owned()], &LintConfig::default());
    assert_eq!(report.functions.len(), 1);
    let shown: Vec<_> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [format!(
            "{}:1:1: {TEMPLATE}",
            scratch.path().join("template.yaml").display()
        )]
    );
}
