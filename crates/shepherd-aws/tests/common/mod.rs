//! Helpers shared by the mocked-client tests: real SDK clients whose HTTP answers come from
//! `aws-smithy-mocks` rules, so that requests and responses go through the SDK's own
//! serializers and parsers.

#![allow(dead_code)]

use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::primitives::SdkBody;
use aws_smithy_mocks::{Rule, RuleMode, mock_client};
use shepherd_aws::AwsCloud;

/// An `AwsCloud` over mocked Lambda and CloudWatch clients. The rules match in any order.
pub fn cloud(lambda_rules: &[&Rule], cloudwatch_rules: &[&Rule]) -> AwsCloud {
    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, lambda_rules);
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, cloudwatch_rules);
    AwsCloud::new(lambda, cloudwatch)
}

pub fn lambda_cloud(rules: &[&Rule]) -> AwsCloud {
    cloud(rules, &[])
}

pub fn cloudwatch_cloud(rules: &[&Rule]) -> AwsCloud {
    cloud(&[], rules)
}

/// A raw HTTP answer.
pub fn http(
    status: u16,
    headers: &[(&'static str, &'static str)],
    body: &'static str,
) -> HttpResponse {
    let mut response = HttpResponse::new(
        status.try_into().expect("a valid status"),
        SdkBody::from(body),
    );
    for (name, value) in headers {
        response.headers_mut().insert(*name, *value);
    }
    response
}

/// A Lambda (restJson1) error answer, as AWS sends it: the code in `X-Amzn-ErrorType`.
pub fn lambda_error(status: u16, code: &'static str, message: &'static str) -> HttpResponse {
    let body: &'static str =
        Box::leak(format!(r#"{{"Type":"User","message":"{message}"}}"#).into_boxed_str());
    let mut response = http(status, &[("Content-Type", "application/json")], body);
    response.headers_mut().insert("X-Amzn-ErrorType", code);
    response
}

/// A CloudWatch (awsQuery) error answer.
pub fn query_error(status: u16, code: &'static str, message: &'static str) -> HttpResponse {
    let body: &'static str = Box::leak(
        format!(
            "<ErrorResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">\
             <Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error>\
             <RequestId>r</RequestId></ErrorResponse>"
        )
        .into_boxed_str(),
    );
    http(status, &[("Content-Type", "text/xml")], body)
}
