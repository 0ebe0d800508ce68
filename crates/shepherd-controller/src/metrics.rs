//! The controller's Prometheus metrics, with bounded labels.

use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Every series the controller exports.
pub struct Metrics {
    registry: Registry,
    /// Reconciles by trigger and result (`unchanged`, `applied`, `failed`, `invalid`).
    pub reconciles: IntCounterVec,
    /// Reconcile duration in seconds.
    pub reconcile_seconds: HistogramVec,
    /// AWS calls by API and outcome (`ok`, `throttled`, ...).
    pub aws_calls: IntCounterVec,
    /// Throttled AWS calls.
    pub throttles: IntCounterVec,
    /// Drift corrections by function.
    pub drift_corrections: IntCounterVec,
    /// Functions by rollout phase.
    pub rollouts: IntGaugeVec,
    /// Rollbacks by function.
    pub rollbacks: IntCounterVec,
    /// Current canary weight (percent) by function.
    pub canary_weight: GaugeVec,
    /// The last synced commit (value 1, the commit in a label).
    pub last_synced_commit: IntGaugeVec,
    /// Work items waiting in the queue.
    pub queue_depth: IntGauge,
    /// How long the last resync round takes: the interval, or longer when the fleet is too
    /// large for the routine share of the budget.
    pub resync_round_seconds: prometheus::Gauge,
    /// Trigger messages refused, by trigger (a deploy request naming unknown functions).
    pub rejected_triggers: IntCounterVec,
    /// CloudTrail events from the drift queue, by what became of them: `queued` (a
    /// managed function queued for a full refresh), `own` (shepherd's own call),
    /// `unmanaged` (it names nothing shepherd manages).
    pub drift_events: IntCounterVec,
    /// 1 on the replica holding the target's lease, 0 on the others.
    pub leader: IntGaugeVec,
    pub lease_acquisitions: IntCounterVec,
    pub lease_losses: IntCounterVec,
    /// AWS calls by target and service: each target's share of its own budget.
    pub target_calls: IntCounterVec,
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let reconciles = counter(
            "shepherd_reconciles_total",
            "Reconciles by trigger and result.",
            &["trigger", "result"],
        );
        let aws_calls = counter(
            "shepherd_aws_calls_total",
            "AWS calls by API and outcome.",
            &["api", "outcome"],
        );
        let throttles = counter(
            "shepherd_aws_throttles_total",
            "AWS calls that were throttled, by API.",
            &["api"],
        );
        let drift_corrections = counter(
            "shepherd_drift_corrections_total",
            "Drift corrections by function.",
            &["function"],
        );
        let rollbacks = counter(
            "shepherd_rollbacks_total",
            "Automatic rollbacks by function.",
            &["function"],
        );
        let rejected_triggers = counter(
            "shepherd_rejected_triggers_total",
            "Trigger messages refused (e.g. deploy requests naming unknown functions), by trigger.",
            &["trigger"],
        );
        let drift_events = counter(
            "shepherd_drift_events_total",
            "CloudTrail events from the drift queue, by result (queued, own, unmanaged).",
            &["result"],
        );
        let lease_acquisitions = counter(
            "shepherd_lease_acquisitions_total",
            "Times this replica took a target's lease, by target.",
            &["target"],
        );
        let lease_losses = counter(
            "shepherd_lease_losses_total",
            "Times this replica stopped holding a target's lease other than by releasing it, by target.",
            &["target"],
        );
        let target_calls = counter(
            "shepherd_target_aws_calls_total",
            "AWS calls by target (account and region, each with its own call budget) and service.",
            &["target", "service"],
        );
        let leader = IntGaugeVec::new(
            Opts::new(
                "shepherd_leader",
                "1 when this replica holds the target's lease (and acts on it), else 0.",
            ),
            &["target"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(leader.clone()))
            .expect("unique metric");
        let reconcile_seconds = HistogramVec::new(
            HistogramOpts::new(
                "shepherd_reconcile_duration_seconds",
                "Duration of a reconcile.",
            )
            .buckets(vec![
                0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            ]),
            &["trigger"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(reconcile_seconds.clone()))
            .expect("unique metric");
        let rollouts = IntGaugeVec::new(
            Opts::new("shepherd_rollouts", "Functions by rollout phase."),
            &["phase"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(rollouts.clone()))
            .expect("unique metric");
        let canary_weight = GaugeVec::new(
            Opts::new(
                "shepherd_canary_weight_percent",
                "Percent of traffic on the canary, by function.",
            ),
            &["function"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(canary_weight.clone()))
            .expect("unique metric");
        let last_synced_commit = IntGaugeVec::new(
            Opts::new(
                "shepherd_last_synced_commit_info",
                "The last commit synced (value 1).",
            ),
            &["commit"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(last_synced_commit.clone()))
            .expect("unique metric");
        let queue_depth =
            IntGauge::new("shepherd_queue_depth", "Work items waiting.").expect("valid metric");
        registry
            .register(Box::new(queue_depth.clone()))
            .expect("unique metric");
        let resync_round_seconds = prometheus::Gauge::new(
            "shepherd_resync_round_seconds",
            "How long a resync round takes (longer than the interval when the fleet is too large for the routine share of the budget).",
        )
        .expect("valid metric");
        registry
            .register(Box::new(resync_round_seconds.clone()))
            .expect("unique metric");
        Self {
            registry,
            resync_round_seconds,
            reconciles,
            reconcile_seconds,
            aws_calls,
            throttles,
            drift_corrections,
            rollouts,
            rollbacks,
            canary_weight,
            last_synced_commit,
            queue_depth,
            rejected_triggers,
            drift_events,
            leader,
            lease_acquisitions,
            lease_losses,
            target_calls,
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        let encoder = TextEncoder::new();
        if encoder
            .encode(&self.registry.gather(), &mut buffer)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
