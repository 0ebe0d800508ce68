//! Running a function: a synchronous `Invoke` of a version or alias (hooks, synthetic
//! traffic to a canary).

use aws_smithy_types::Blob;
use shepherd_core::cloud::{Invocation, Invoke};

use super::*;

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
