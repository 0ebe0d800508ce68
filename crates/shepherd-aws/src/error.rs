//! The one place where SDK errors become [`CloudError`]s.
//!
//! The engine decides what to do from the kind alone (retry with backoff, wait for the
//! function to settle, treat as absent, give up), so the classification must not depend on
//! which service or operation failed: the Lambda and CloudWatch clients share the SDK's
//! error type, and both go through [`classify`].

use std::time::Duration;

use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{BuildError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use shepherd_core::cloud::{Api, CloudError};

/// Error codes that mean "slow down". Lambda answers `TooManyRequestsException` (HTTP 429);
/// CloudWatch's awsQuery protocol answers `Throttling` with HTTP 400, so the status alone is
/// not enough.
const THROTTLING_CODES: &[&str] = &[
    "TooManyRequestsException",
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
];

/// Error codes that mean "busy, try again once the resource settles". Lambda answers
/// `ResourceConflictException` while an update is in progress, and `ResourceInUseException`
/// for an event source mapping that is still being created or updated.
const CONFLICT_CODES: &[&str] = &["ResourceConflictException", "ResourceInUseException"];

/// Error codes that mean "does not exist". CloudWatch says `ResourceNotFound`; Lambda says
/// `ResourceNotFoundException`, and `ProvisionedConcurrencyConfigNotFoundException` for a
/// qualifier without provisioned concurrency.
const NOT_FOUND_CODES: &[&str] = &[
    "ResourceNotFoundException",
    "ResourceNotFound",
    "ProvisionedConcurrencyConfigNotFoundException",
];

/// Error codes that, with a message saying so, mean "what you create exists already".
const ALREADY_EXISTS_CODES: &[&str] = &[
    "ResourceConflictException",
    "ResourceAlreadyExistsException",
];

const PRECONDITION_CODES: &[&str] = &["PreconditionFailedException"];

/// Returns a closure for `map_err` that classifies the SDK error of the call `api`.
pub(crate) fn from_sdk<E>(api: Api) -> impl FnOnce(SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    move |err| classify(api, &err)
}

/// Classifies one failed call.
pub(crate) fn classify<E>(api: Api, err: &SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let details = || DisplayErrorContext(err).to_string();
    match err {
        // The request never left: a bug or a bad parameter (an invalid endpoint, missing
        // credentials). Sending it again builds the same request.
        SdkError::ConstructionFailure(_) => {
            return CloudError::Rejected {
                api,
                code: "RequestConstructionFailed".to_owned(),
                message: details(),
            };
        }
        // No answer at all: connection refused or reset, DNS, the attempt timeout. The
        // innermost cause says it best (`Connection refused (os error 111)`); the whole
        // chain is a dump nobody reads.
        SdkError::TimeoutError(_) => {
            return CloudError::Transport {
                api,
                message: "the request timed out".to_owned(),
            };
        }
        SdkError::DispatchFailure(failure) => {
            let cause = root_cause(err);
            let connector = failure.as_connector_error();
            let unreachable = connector.is_some_and(|c| c.is_io())
                && (cause.contains("refused")
                    || cause.contains("failed to lookup")
                    || cause.contains("dns error")
                    || cause.contains("Name or service not known"));
            return if unreachable {
                CloudError::Unreachable {
                    api,
                    message: cause,
                }
            } else {
                CloudError::Transport {
                    api,
                    message: cause,
                }
            };
        }
        _ => {}
    }
    let response = err.raw_response();
    let status = response.map(|r| r.status().as_u16());
    let code = err.code().filter(|c| !c.is_empty());
    let message = err
        .message()
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(details);
    let classified = classify_parts(
        api,
        status,
        code,
        message.clone(),
        response.and_then(retry_after),
    );
    // A response that arrived but could not be read (cut short, garbled) with a status
    // that says nothing more specific: count it as a transport failure, which is retried.
    if matches!(err, SdkError::ResponseError(_))
        && matches!(classified, CloudError::Rejected { .. })
    {
        return CloudError::Transport { api, message };
    }
    classified
}

/// The innermost error of a chain, in lower case: what actually went wrong.
fn root_cause(err: &dyn std::error::Error) -> String {
    let mut cause = err;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let text = cause.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

/// Classifies an error response from its parts. Separate from [`classify`] so that the
/// rules can be read (and tested) without building SDK errors.
pub(crate) fn classify_parts(
    api: Api,
    status: Option<u16>,
    code: Option<&str>,
    message: String,
    retry_after: Option<Duration>,
) -> CloudError {
    let has_code = |codes: &[&str]| code.is_some_and(|c| codes.contains(&c));
    if status == Some(429) || has_code(THROTTLING_CODES) {
        return CloudError::Throttled { api, retry_after };
    }
    // Lambda answers a create of what exists with the same code as a busy function,
    // `ResourceConflictException`: only the message tells them apart.
    if has_code(ALREADY_EXISTS_CODES) && message.contains("already exist") {
        return CloudError::AlreadyExists { api, message };
    }
    if has_code(CONFLICT_CODES) {
        return CloudError::Conflict { api, message };
    }
    if has_code(NOT_FOUND_CODES) {
        return CloudError::NotFound { api, message };
    }
    if has_code(PRECONDITION_CODES) {
        return CloudError::PreconditionFailed { api, message };
    }
    match status {
        Some(status @ 500..=599) => CloudError::Server {
            api,
            status,
            message,
        },
        // A 404 without a modeled error code is not AWS saying "no such resource" (that
        // always carries a code): it is an endpoint that does not route the API at all,
        // such as the local emulator's HTML page for calls it does not implement.
        Some(404) if code.is_none() => CloudError::Unsupported { api },
        _ => CloudError::Rejected {
            api,
            code: code.map(str::to_owned).unwrap_or_else(|| {
                status.map_or_else(|| "Unknown".to_owned(), |s| format!("HTTP {s}"))
            }),
            message,
        },
    }
}

/// The delay AWS asks for. Lambda sends `retryAfterSeconds` in the `Retry-After` header
/// (whole seconds); accept fractions too.
fn retry_after(response: &HttpResponse) -> Option<Duration> {
    let value = response.headers().get("Retry-After")?.trim();
    let seconds: f64 = value.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// A request shepherd could not even build (a required field missing): a bug in the
/// caller's input, never worth retrying.
pub(crate) fn invalid_request(api: Api, err: BuildError) -> CloudError {
    CloudError::Rejected {
        api,
        code: "InvalidRequest".to_owned(),
        message: err.to_string(),
    }
}

/// A successful response that lacks a field shepherd needs.
pub(crate) fn incomplete(api: Api, field: &str) -> CloudError {
    CloudError::Rejected {
        api,
        code: "IncompleteResponse".to_owned(),
        message: format!("the response has no {field}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(status: u16, code: Option<&str>) -> CloudError {
        classify_parts(Api::GetFunction, Some(status), code, "m".to_owned(), None)
    }

    #[test]
    fn throttling_is_recognised_by_status_or_code() {
        assert!(matches!(parts(429, None), CloudError::Throttled { .. }));
        assert!(matches!(
            parts(400, Some("Throttling")),
            CloudError::Throttled { .. }
        ));
        assert!(matches!(
            parts(400, Some("ThrottlingException")),
            CloudError::Throttled { .. }
        ));
    }

    #[test]
    fn a_conflict_that_says_the_resource_exists_is_already_exists_not_busy() {
        let exists = |code: &str, message: &str| {
            classify_parts(
                Api::CreateAlias,
                Some(409),
                Some(code),
                message.to_owned(),
                None,
            )
        };
        assert!(matches!(
            exists(
                "ResourceConflictException",
                "Alias already exists: arn:aws:lambda:..."
            ),
            CloudError::AlreadyExists { .. }
        ));
        assert!(matches!(
            exists(
                "ResourceConflictException",
                "Function already exist: orders"
            ),
            CloudError::AlreadyExists { .. }
        ));
        assert!(matches!(
            exists(
                "ResourceConflictException",
                "The operation cannot be performed at this time. An update is in progress"
            ),
            CloudError::Conflict { .. }
        ));
    }

    #[test]
    fn codes_win_over_status() {
        assert!(matches!(
            parts(409, Some("ResourceConflictException")),
            CloudError::Conflict { .. }
        ));
        assert!(matches!(
            parts(404, Some("ResourceNotFoundException")),
            CloudError::NotFound { .. }
        ));
        assert!(matches!(
            parts(404, Some("ProvisionedConcurrencyConfigNotFoundException")),
            CloudError::NotFound { .. }
        ));
        assert!(matches!(
            parts(412, Some("PreconditionFailedException")),
            CloudError::PreconditionFailed { .. }
        ));
    }

    #[test]
    fn statuses_without_known_codes() {
        assert!(matches!(
            parts(503, None),
            CloudError::Server { status: 503, .. }
        ));
        assert!(matches!(
            parts(500, Some("ServiceException")),
            CloudError::Server { status: 500, .. }
        ));
        assert_eq!(
            parts(404, None),
            CloudError::Unsupported {
                api: Api::GetFunction
            }
        );
        assert_eq!(
            parts(400, Some("InvalidParameterValueException")),
            CloudError::Rejected {
                api: Api::GetFunction,
                code: "InvalidParameterValueException".to_owned(),
                message: "m".to_owned()
            }
        );
        assert!(matches!(
            parts(403, None),
            CloudError::Rejected { ref code, .. } if code == "HTTP 403"
        ));
    }
}
