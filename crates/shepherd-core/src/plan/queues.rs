//! What an event source's queue must be for its mapping to work, checked at plan time
//! against the queue's own attributes: Lambda refuses a mapping whose function may run
//! longer than the queue hides a record, and AWS advises six times as long.

use crate::display::seconds;
use crate::model::{DesiredFunction, Observation};

/// Why the function's event sources cannot work (an error), and what a reviewer should
/// know about them (warnings).
#[derive(Debug, Default, PartialEq)]
pub(super) struct QueueFindings {
    pub error: Option<String>,
    pub warnings: Vec<String>,
}

/// AWS's guidance: the visibility timeout at least six times the function's timeout.
const VISIBILITY_FACTOR: u32 = 6;

pub(super) fn check_queues(desired: &DesiredFunction, observation: &Observation) -> QueueFindings {
    let mut findings = QueueFindings::default();
    let timeout = desired.config.timeout_secs;
    for (index, mapping) in desired.mappings.iter().enumerate() {
        let Some(queue) = observation.queues.get(&mapping.queue_arn) else {
            continue;
        };
        let name = mapping
            .queue_arn
            .rsplit(':')
            .next()
            .unwrap_or(&mapping.queue_arn);
        let field = format!("eventSources.sqs[{index}]");
        let visibility = queue.visibility_timeout_secs;
        let advised = timeout.saturating_mul(VISIBILITY_FACTOR);
        if timeout > visibility {
            findings.error.get_or_insert(format!(
                "{field}: the function's timeout ({}) is above the visibility timeout of queue {name} ({}); Lambda refuses such a mapping: raise the queue's visibility timeout to at least {} (6 times the timeout, as AWS advises) or lower the function's timeout",
                seconds(u64::from(timeout)),
                seconds(u64::from(visibility)),
                seconds(u64::from(advised))
            ));
        } else if visibility < advised {
            findings.warnings.push(format!(
                "{field}: the visibility timeout of queue {name} ({}) is below 6 times the function's timeout ({}, as AWS advises): a record can be delivered again while it is still being processed",
                seconds(u64::from(visibility)),
                seconds(u64::from(advised))
            ));
        }
        let declared = desired
            .sqs_dead_letter_queues
            .get(index)
            .and_then(Option::as_deref);
        if let Some(declared) = declared
            && queue.dead_letter_queue.as_deref() != Some(declared)
        {
            findings.warnings.push(match &queue.dead_letter_queue {
                Some(actual) => format!(
                    "{field}: the spec's deadLetterQueue is {declared}, but queue {name}'s redrive policy sends failed records to {actual}"
                ),
                None => format!(
                    "{field}: the spec's deadLetterQueue is {declared}, but queue {name} has no redrive policy: failed records are retried until they expire"
                ),
            });
        }
    }
    findings
}
