//! Running a function: a synchronous `Invoke` of a version or alias (hooks, synthetic
//! traffic to a canary).

use aws_smithy_types::Blob;
use shepherd_core::cloud::{Invocation, Invoke};

use super::*;

/// A synchronous invocation answers when the function returns: up to its timeout, at most
/// 15 minutes, plus the time to start it. The control plane's 30 seconds would cut a
/// longer smoke test off and leave it without a verdict.
pub const INVOKE_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(15 * 60 + 60);

impl Invoke for AwsCloud {
    /// `Invoke` with `RequestResponse`; a function error is an answer (with
    /// `function_error` set), not a call failure.
    async fn invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
        payload: &str,
    ) -> CloudResult<Invocation> {
        let out = self
            .lambda
            .invoke()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_owned))
            .invocation_type(lt::InvocationType::RequestResponse)
            .payload(Blob::new(payload.as_bytes().to_vec()))
            .customize()
            .config_override(
                aws_sdk_lambda::config::Builder::default().timeout_config(
                    TimeoutConfig::builder()
                        .connect_timeout(CONNECT_TIMEOUT)
                        .operation_attempt_timeout(INVOKE_ATTEMPT_TIMEOUT)
                        .build(),
                ),
            )
            .send()
            .await
            .map_err(from_sdk(Api::Invoke))?;
        Ok(Invocation {
            status: u16::try_from(out.status_code()).unwrap_or_default(),
            function_error: out.function_error().map(str::to_owned),
            payload: out
                .payload()
                .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned())
                .unwrap_or_default(),
            executed_version: out.executed_version().map(str::to_owned),
        })
    }
}
