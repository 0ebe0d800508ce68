//! Two targets (two accounts, each a fake of its own) behind one fleet, in virtual time:
//! each account gets the functions whose specs name its target (or none, for the
//! default), one name lives in both, and a spec naming an unknown target applies nothing
//! anywhere.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use shepherd_controller::controller::{ControlLoop, Settings, TargetScope};
use shepherd_controller::fleet::Fleet;
use shepherd_controller::handle::{Controller, ReconcileResult};
use shepherd_controller::metrics::Metrics;
use shepherd_controller::source::SourceConfig;
use shepherd_core::model::Owner;
use shepherd_core::validate::targets::Targets;
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::metered::Metered;
use shepherd_engine::reconcile::ReconcileOptions;
use shepherd_engine::retry::RetryPolicy;
use shepherd_fake::FakeCloud;
use tokio_util::sync::CancellationToken;

fn spec(name: &str, target: Option<&str>) -> String {
    let target = target.map_or(String::new(), |t| format!("  target: {t}\n"));
    format!(
        "apiVersion: shepherd.dev/v1alpha1\nkind: Function\nmetadata:\n  name: {name}\n{target}spec:\n  code:\n    s3:\n      bucket: artifacts\n      key: {name}/1.0.0.zip\n  handler: app.handler\n  runtime: python3.12\n  role: arn:aws:iam::123456789012:role/{name}\n"
    )
}

fn control(
    root: &Path,
    targets: &Arc<Targets>,
    this: &str,
    aws: &FakeCloud,
) -> Arc<ControlLoop<FakeCloud>> {
    let mut reconcile = ReconcileOptions::default();
    reconcile.plan.owner = Owner::parse("team-a").unwrap();
    let settings = Settings {
        source: SourceConfig::Directory {
            root: root.to_owned(),
            path: ".".into(),
        },
        lint_config: None,
        poll_interval: Duration::from_secs(5),
        resync_interval: Duration::from_secs(600),
        full_refresh_every: 10,
        workers: 2,
        reconcile,
        target: TargetScope {
            targets: Arc::clone(targets),
            this: this.to_owned(),
        },
    };
    let cloud = Metered::new(
        aws.clone(),
        Arc::new(Budget::new(Rates::default())),
        RetryPolicy::default(),
    );
    ControlLoop::new(cloud, settings, Arc::new(Metrics::new()))
}

#[tokio::test(start_paused = true)]
async fn each_account_gets_its_targets_functions_and_an_unknown_target_applies_nothing() {
    let specs = tempfile::tempdir().unwrap();
    let write = |file: &str, text: String| std::fs::write(specs.path().join(file), text).unwrap();
    write("orders.yaml", spec("orders", None));
    write("orders-staging.yaml", spec("orders", Some("staging")));
    write("reports.yaml", spec("reports", Some("staging")));
    let targets = Arc::new(Targets {
        names: Some(vec!["prod".into(), "staging".into()]),
        default: Some("prod".into()),
    });
    let (prod, staging) = (FakeCloud::new(), FakeCloud::new());
    let fleet = Fleet::new(vec![
        control(specs.path(), &targets, "prod", &prod),
        control(specs.path(), &targets, "staging", &staging),
    ]);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(Arc::clone(&fleet).run(cancel.clone()));
    for _ in 0..600 {
        if fleet.is_ready() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fleet.is_ready());
    assert_eq!(prod.function_names(), ["orders"]);
    assert_eq!(staging.function_names(), ["orders", "reports"]);
    let listed: Vec<(String, Option<String>)> = fleet
        .functions()
        .into_iter()
        .map(|f| (f.name, f.target))
        .collect();
    assert_eq!(
        listed,
        [
            ("orders".into(), Some("prod".into())),
            ("orders".into(), Some("staging".into())),
            ("reports".into(), Some("staging".into())),
        ]
    );

    // A commit naming an unknown target is invalid for every target: nothing is applied.
    write("reports.yaml", spec("reports", Some("stagign")));
    write("invoices.yaml", spec("invoices", None));
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(prod.function_names(), ["orders"], "half-applied");
    for status in fleet.functions() {
        assert_eq!(
            status.last_result,
            Some(ReconcileResult::Invalid),
            "{status:?}"
        );
        assert!(
            status
                .diagnostics
                .iter()
                .any(|d| d.contains("unknown target \"stagign\"")),
            "{:?}",
            status.diagnostics
        );
    }
    cancel.cancel();
    task.await.unwrap();
}
