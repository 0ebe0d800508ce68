//! Invoking functions: each invocation is recorded (what ran and with what payload) and
//! answered with the next result scripted for the function, or by echoing the payload.

use std::collections::{BTreeMap, VecDeque};

use shepherd_core::cloud::{Api, CloudError, Invocation, WebRequest, WebResponse};
use shepherd_core::model::VersionMetrics;

use super::state::{LATEST, Outcome, Target, World, record};

/// What the fake's functions do when invoked.
#[derive(Debug, Clone, Default)]
pub(super) struct Runs {
    /// Results to answer with, per function, in order.
    pub scripted: BTreeMap<String, VecDeque<Invocation>>,
    /// Every invocation: (function, the version that ran, payload).
    pub seen: Vec<(String, String, String)>,
    /// Answers of HTTP endpoints, per URL, in order; a URL with none left is unreachable.
    pub web_scripted: BTreeMap<String, VecDeque<Result<WebResponse, CloudError>>>,
    /// Every HTTP call made.
    pub web_seen: Vec<WebRequest>,
}

/// The function name in a name or an ARN (`arn:aws:lambda:R:A:function:NAME[:Q]`), and
/// the qualifier an ARN carries.
fn name_of(function: &str) -> (&str, Option<&str>) {
    match function.split_once(":function:") {
        Some((_, rest)) => match rest.split_once(':') {
            Some((name, qualifier)) => (name, Some(qualifier)),
            None => (rest, None),
        },
        None => (function, None),
    }
}

impl World {
    pub(super) fn invoke(
        &mut self,
        function: &str,
        qualifier: Option<&str>,
        payload: &str,
    ) -> Outcome<Invocation> {
        let (name, in_arn) = name_of(function);
        let qualifier = qualifier.or(in_arn).unwrap_or(LATEST);
        let record = record(&mut self.functions, name)?;
        let executed = match record.resolve(qualifier)? {
            Target::Latest => LATEST.to_owned(),
            Target::Version(number) => number.to_string(),
            Target::Alias(alias) => record.aliases[&alias].version.clone(),
        };
        self.runs
            .seen
            .push((name.to_owned(), executed.clone(), payload.to_owned()));
        let scripted = self
            .runs
            .scripted
            .get_mut(name)
            .and_then(VecDeque::pop_front);
        let result = match scripted {
            Some(mut result) => {
                result.executed_version.get_or_insert(executed.clone());
                result
            }
            None => Invocation {
                status: 200,
                function_error: None,
                payload: payload.to_owned(),
                executed_version: Some(executed.clone()),
            },
        };
        // As CloudWatch does, the invocation counts in the version's metrics (which the
        // fake does not window by time).
        let metrics = self
            .metrics
            .entry((name.to_owned(), executed))
            .or_insert(VersionMetrics {
                invocations: 0.0,
                errors: 0.0,
                p99_ms: None,
            });
        metrics.invocations += 1.0;
        if result.function_error.is_some() {
            metrics.errors += 1.0;
        }
        Ok(result)
    }
}

impl Runs {
    /// An HTTP call: recorded, then answered with what is scripted for its URL.
    pub(super) fn web_call(&mut self, request: &WebRequest) -> Result<WebResponse, CloudError> {
        self.web_seen.push(request.clone());
        self.web_scripted
            .get_mut(&request.url)
            .and_then(VecDeque::pop_front)
            .unwrap_or_else(|| {
                Err(CloudError::Unreachable {
                    api: Api::HttpHook,
                    message: format!("nothing answers at {}", request.url),
                })
            })
    }
}
