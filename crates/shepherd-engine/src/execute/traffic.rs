//! Sending a batch of synthetic traffic: the canary version invoked directly (qualified by
//! its number, so the alias's users are not involved), at most `concurrency` at once, and
//! the batch's function errors against `maxErrors`, which pick the alias write the plan
//! prepared.
//!
//! Invocations that could not be made (throttled, AWS failing, the lease lost) say nothing
//! about the canary: they are not errors. A batch none of whose invocations could be made
//! is no verdict; the next pass sends it again (the planner bounds how long).

use futures::stream::{self, StreamExt};
use shepherd_core::cloud::{Cloud, CloudError};
use shepherd_core::plan::{Action, TrafficCall};

use super::hooks::{is_verdict, quote, with_reason};
use super::{Context, ExecuteError};

/// What a batch came to.
#[derive(Debug, Default)]
struct Tally {
    delivered: u32,
    errors: u32,
    /// The last function error's kind and answer.
    last_error: Option<String>,
    /// The last invocation that could not be made, and whether it says something about
    /// the canary or the payload (not found, refused) rather than about the moment.
    undelivered: u32,
    last_failure: Option<(CloudError, bool)>,
}

/// The alias write a batch's errors pick; a failure's reason gets the errors.
pub(super) async fn send<C: Cloud>(
    cloud: &C,
    call: &TrafficCall,
    outcomes: [&Action; 2],
    context: &Context,
) -> Result<Action, ExecuteError> {
    let [pass, fail] = outcomes;
    let traffic = &call.traffic;
    let invocations = stream::iter(0..traffic.invocations)
        .map(|_| cloud.invoke(&context.name, Some(&call.canary), &traffic.payload))
        .buffer_unordered(traffic.concurrency.max(1) as usize);
    let tally = invocations
        .fold(Tally::default(), |mut tally, result| async move {
            match result {
                Ok(invocation)
                    if invocation.function_error.is_some()
                        || !(200..300).contains(&invocation.status) =>
                {
                    tally.delivered += 1;
                    tally.errors += 1;
                    let kind = invocation
                        .function_error
                        .unwrap_or_else(|| format!("status {}", invocation.status));
                    tally.last_error = Some(format!("{kind}: {}", quote(&invocation.payload)));
                }
                Ok(_) => tally.delivered += 1,
                Err(error) => {
                    tally.undelivered += 1;
                    let verdict = is_verdict(&error);
                    tally.last_failure = Some((error, verdict));
                }
            }
            tally
        })
        .await;
    tracing::info!(
        version = %call.canary,
        delivered = tally.delivered,
        errors = tally.errors,
        undelivered = tally.undelivered,
        "synthetic traffic sent"
    );
    if tally.delivered == 0 {
        return match tally.last_failure {
            Some((error, true)) => Ok(with_reason(
                fail,
                &format!("cannot invoke version {}: {error}", call.canary),
            )),
            Some((error, false)) => Err(error.into()),
            None => Ok(pass.clone()),
        };
    }
    if let Some((error, _)) = &tally.last_failure {
        tracing::warn!(
            version = %call.canary,
            undelivered = tally.undelivered,
            %error,
            "some synthetic invocations could not be made"
        );
    }
    if tally.errors > traffic.max_errors {
        return Ok(with_reason(
            fail,
            &format!(
                "{} of {} invocations of version {} failed (maxErrors {}): {}",
                tally.errors,
                tally.delivered,
                call.canary,
                traffic.max_errors,
                tally.last_error.as_deref().unwrap_or("?")
            ),
        ));
    }
    Ok(pass.clone())
}
