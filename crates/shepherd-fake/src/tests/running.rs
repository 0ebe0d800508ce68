use futures::executor::block_on;

use super::{NAME, cloud_with_function, publish_new};
use shepherd_core::cloud::*;

#[test]
fn invocations_run_the_version_asked_for_and_answer_as_scripted_or_echo() {
    let cloud = cloud_with_function();
    publish_new(&cloud, NAME);
    publish_new(&cloud, NAME);
    block_on(cloud.create_alias(NAME, "live", "1", "")).unwrap();

    // Unscripted: the payload comes back, from the version that ran.
    let echo = block_on(cloud.invoke(NAME, Some("2"), r#"{"ping":1}"#)).unwrap();
    assert_eq!(
        (
            echo.status,
            echo.payload.as_str(),
            echo.executed_version.as_deref()
        ),
        (200, r#"{"ping":1}"#, Some("2"))
    );
    // Scripted results, in order; an alias runs the version it points to, an ARN works too.
    cloud.script_invocation(
        NAME,
        Invocation {
            status: 200,
            function_error: Some("Unhandled".into()),
            payload: r#"{"errorMessage":"boom"}"#.into(),
            executed_version: None,
        },
    );
    let failed = block_on(cloud.invoke(NAME, Some("live"), "{}")).unwrap();
    assert_eq!(failed.function_error.as_deref(), Some("Unhandled"));
    assert_eq!(failed.executed_version.as_deref(), Some("1"));
    let arn = format!("arn:aws:lambda:us-east-1:123456789012:function:{NAME}:2");
    let by_arn = block_on(cloud.invoke(&arn, None, "x")).unwrap();
    assert_eq!(by_arn.executed_version.as_deref(), Some("2"));
    assert_eq!(
        cloud.invocations(NAME),
        [
            ("2".to_owned(), r#"{"ping":1}"#.to_owned()),
            ("1".to_owned(), "{}".to_owned()),
            ("2".to_owned(), "x".to_owned()),
        ]
    );
    // A version that does not exist, or a function that does not, is refused.
    let missing = block_on(cloud.invoke(NAME, Some("9"), "{}")).unwrap_err();
    assert!(
        matches!(missing, CloudError::NotFound { .. }),
        "{missing:?}"
    );
    let nobody = block_on(cloud.invoke("nobody", None, "{}")).unwrap_err();
    assert!(matches!(nobody, CloudError::NotFound { .. }), "{nobody:?}");
}
