//! Golden digests: the spec digest and release digest of fixed specs, pinned. Every
//! function in AWS carries these digests in its tags; a refactor that changed them would
//! make shepherd see every function of a fleet as changed (and republish on a release
//! digest change). A deliberate change of either digest must change these values, in a
//! release note.

use shepherd_core::lint::LintConfig;
use shepherd_core::model::{CodeArtifact, DesiredFunction, resolve};

fn desired(extra: &str) -> DesiredFunction {
    let text = format!(
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
  memory: 512
  timeout: 10s
  environment:
    STAGE: prod
  alias:
    name: live
  alarms:
    errors: {{threshold: 1}}
{extra}"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("orders.yaml");
    std::fs::write(&file, &text).expect("write the spec");
    let report = shepherd_core::check_specs(std::slice::from_ref(&file), &LintConfig::default());
    assert!(report.is_valid(), "{:#?}\n{text}", report.diagnostics);
    let valid = &report.functions[0];
    let s3 = valid.document.spec.code.s3.as_ref().expect("an S3 spec");
    resolve(valid, CodeArtifact::s3(s3))
}

#[test]
fn digests_of_fixed_specs_never_change_by_accident() {
    let cases = [
        ("no rollout", ""),
        (
            "a preset",
            "  rollout:\n    strategy: Canary10Percent5Minutes\n",
        ),
        (
            "explicit steps",
            "  rollout:\n    steps:\n      - setWeight: 2.5\n      - pause: {duration: 90s}\n      - setWeight: 50\n      - pause: {duration: 1500ms}\n      - setWeight: 75\n      - pause: {}\n",
        ),
    ];
    let digests: Vec<(&str, String, String)> = cases
        .iter()
        .map(|(case, extra)| {
            let d = desired(extra);
            (*case, d.spec_digest, d.release_digest)
        })
        .collect();
    let expected = [
        ("no rollout", "ca2ea3b9ef1cc0e7", "e69b4c8ef8b6f912"),
        ("a preset", "9726fd192825fb5e", "e69b4c8ef8b6f912"),
        ("explicit steps", "97fcfdd6eeb270c5", "e69b4c8ef8b6f912"),
    ];
    let expected: Vec<(&str, String, String)> = expected
        .iter()
        .map(|(c, s, r)| (*c, (*s).to_owned(), (*r).to_owned()))
        .collect();
    assert_eq!(digests, expected);
}
