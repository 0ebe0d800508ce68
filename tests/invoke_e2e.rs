//! The adapter's `Invoke` on the emulator's Lambda backend that runs no code: a version is
//! invoked directly and answers with its payload, or with the result queued for it. (That
//! backend answers for any function name, so refusals are tested on the fake.)

mod support;

use shepherd_aws::AwsCloud;
use shepherd_core::cloud::Invoke;
use support::{Emulator, shepherd, stderr};

fn cloud(endpoint: &str) -> AwsCloud {
    let credentials =
        aws_sdk_lambda::config::Credentials::new("testing", "testing", None, None, "test");
    let lambda = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials.clone())
        .build();
    let cloudwatch = aws_sdk_cloudwatch::Config::builder()
        .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
        .region(aws_sdk_cloudwatch::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .build();
    AwsCloud::new(
        aws_sdk_lambda::Client::from_conf(lambda),
        aws_sdk_cloudwatch::Client::from_conf(cloudwatch),
    )
}

#[tokio::test]
async fn a_version_is_invoked_and_answers_with_its_payload_or_the_queued_result() {
    let emulator = Emulator::start();
    emulator.setup(&["lambda-without-docker"]);
    emulator.setup(&["role", "orders"]);
    let dir = tempfile::tempdir().unwrap();
    support::git_init(dir.path());
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    std::fs::write(
        dir.path().join("app/app.py"),
        "def handler(e, c):\n    return e\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("orders.yaml"),
        "apiVersion: shepherd.dev/v1alpha1\nkind: Function\nmetadata:\n  name: orders\nspec:\n  code:\n    path: app\n  handler: app.handler\n  runtime: python3.12\n  role: arn:aws:iam::123456789012:role/orders\n  alias:\n    name: live\n",
    )
    .unwrap();
    let applied = shepherd(&emulator.endpoint, &["apply", "."], dir.path());
    assert!(applied.status.success(), "{}", stderr(&applied));

    let aws = cloud(&emulator.endpoint);
    let echo = aws
        .invoke("orders", Some("1"), r#"{"ping":1}"#)
        .await
        .unwrap();
    assert_eq!(echo.status, 200, "{echo:?}");
    assert_eq!(echo.function_error, None);
    assert_eq!(echo.payload, r#"{"ping":1}"#);

    emulator.setup(&["lambda-result", r#"{"status": "Succeeded"}"#]);
    let queued = aws.invoke("orders", Some("live"), "{}").await.unwrap();
    assert_eq!(queued.payload, r#"{"status": "Succeeded"}"#, "{queued:?}");
}
