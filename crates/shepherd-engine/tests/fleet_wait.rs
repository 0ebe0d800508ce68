//! `apply --wait` over a fleet, on the fake behind the production budget, in virtual time:
//! each function moves on its own clock, so one canary's alarm is acted on at its next
//! look while the rest of the fleet's release saturates the budget.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use shepherd_core::cloud::CallClass;
use shepherd_core::lint::LintConfig;
use shepherd_core::model::AlarmState;
use shepherd_core::rollout::{Phase, RolloutRecord};
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::metered::Metered;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{Desired, ReconcileOptions, resolve_desired};
use shepherd_engine::retry::RetryPolicy;
use shepherd_engine::settle::apply_until_settled;
use shepherd_fake::FakeCloud;
use tokio::time::Instant;

const FLEET: usize = 200;
const POLL: Duration = Duration::from_secs(5);

fn spec(name: &str) -> String {
    spec_with(
        name,
        "      - setWeight: 10\n      - pause: {duration: 10m}\n",
    )
}

fn spec_with(name: &str, steps: &str) -> String {
    format!(
        "apiVersion: shepherd.dev/v1alpha1\n\
         kind: Function\n\
         metadata:\n  name: {name}\n\
         spec:\n\
         \x20 code: {{path: ../app}}\n\
         \x20 handler: app.handler\n\
         \x20 runtime: python3.12\n\
         \x20 role: arn:aws:iam::123456789012:role/{name}\n\
         \x20 alias: {{name: live}}\n\
         \x20 alarms:\n    errors: {{threshold: 1}}\n\
         \x20 rollout:\n    steps:\n{steps}"
    )
}

fn release(dir: &Path, marker: &str) {
    let code = format!("def handler(event, context):\n    return '{marker}'\n");
    std::fs::write(dir.join("app/app.py"), code).unwrap();
}

fn desired(dir: &Path) -> Desired {
    let report =
        shepherd_core::check_specs_within(&[dir.join("specs")], Some(dir), &LintConfig::default());
    assert!(report.is_valid(), "{:?}", report.diagnostics);
    resolve_desired(&report.functions, &[])
}

fn options() -> ReconcileOptions {
    let mut options = ReconcileOptions::default();
    options.plan.alarm_poll = POLL;
    options
}

/// Waits, looking every 100 ms, until `done` holds; returns when it did.
async fn until(mut done: impl FnMut() -> bool) -> Instant {
    while !done() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Instant::now()
}

#[tokio::test(start_paused = true)]
async fn an_alarm_on_one_canary_rolls_it_back_at_its_next_look_while_the_fleet_saturates_the_budget()
 {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("specs")).unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    let names: Vec<String> = (0..FLEET).map(|i| format!("fn-{i:03}")).collect();
    for name in &names {
        std::fs::write(dir.path().join(format!("specs/{name}.yaml")), spec(name)).unwrap();
    }
    release(dir.path(), "1");
    let aws = FakeCloud::new();
    let shepherd = Metered::new(
        aws.clone(),
        Arc::new(Budget::new(Rates::default())),
        RetryPolicy::default(),
    );
    apply_until_settled(&shepherd, &desired(dir.path()), &options(), &Silent).await;
    release(dir.path(), "2");
    let started = Instant::now();
    let watched = "fn-000";
    let canary = || {
        aws.alias(watched, "live")
            .is_some_and(|a| a.additional_version.is_some())
    };
    let back = || {
        aws.alias(watched, "live")
            .is_some_and(|a| a.version == "1" && a.additional_version.is_none())
    };
    let others_released = || {
        names[1..]
            .iter()
            .filter(|n| {
                aws.alias(n, "live")
                    .is_some_and(|a| a.additional_version.is_some())
            })
            .count()
    };
    let watch = async {
        until(canary).await;
        // Let the rest of the fleet's release fill the budget, then fire the alarm.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let fired = Instant::now();
        let released_then = others_released();
        aws.set_alarm_state("fn-000-errors", AlarmState::Alarm, "Threshold Crossed");
        let rolled_back = until(back).await;
        (fired, rolled_back, released_then, others_released())
    };
    let desired = desired(dir.path());
    let ((), (fired, rolled_back, released_then, released_after)) = tokio::join!(
        async {
            apply_until_settled(&shepherd, &desired, &options(), &Silent).await;
        },
        watch
    );
    let latency = rolled_back - fired;
    assert!(
        released_after < FLEET - 1,
        "the fleet's release still saturated the budget when the rollback came \
         ({released_then} then {released_after} of {} canaries started)",
        FLEET - 1
    );
    assert!(
        latency <= POLL + Duration::from_secs(1),
        "the alias came back {latency:?} after the alarm (poll every {POLL:?}), \
         {:?} into the release",
        fired - started
    );
    let record = RolloutRecord::parse(&aws.alias(watched, "live").unwrap().description).unwrap();
    assert_eq!(record.phase, Phase::RolledBack);
    // The others were not held back by it: each promoted after its own pause.
    for name in &names[1..] {
        let alias = aws.alias(name, "live").unwrap();
        assert_eq!(
            (alias.version.as_str(), alias.additional_version),
            ("2", None),
            "{name}"
        );
    }
}

/// A canary with no pause is promoted at the look right after its weight is set, not a
/// second later: the release of a fleet ends when the budget has served its calls.
#[tokio::test(start_paused = true)]
async fn a_one_step_canary_fleet_ends_when_the_budget_has_served_its_calls() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("specs")).unwrap();
    std::fs::create_dir_all(dir.path().join("app")).unwrap();
    let names: Vec<String> = (0..40).map(|i| format!("fn-{i:03}")).collect();
    for name in &names {
        let spec = spec_with(name, "      - setWeight: 10\n");
        std::fs::write(dir.path().join(format!("specs/{name}.yaml")), spec).unwrap();
    }
    release(dir.path(), "1");
    let aws = FakeCloud::new();
    let rates = Rates::default();
    let metered = || {
        Metered::new(
            aws.clone(),
            Arc::new(Budget::new(rates)),
            RetryPolicy::default(),
        )
    };
    apply_until_settled(&metered(), &desired(dir.path()), &options(), &Silent).await;
    release(dir.path(), "2");
    // A fresh budget, as a new run starts with: one token in the bucket.
    let shepherd = metered();
    aws.reset_calls();
    let started = Instant::now();
    apply_until_settled(&shepherd, &desired(dir.path()), &options(), &Silent).await;
    let took = started.elapsed();
    for name in &names {
        let alias = aws.alias(name, "live").unwrap();
        assert_eq!(
            (alias.version.as_str(), alias.additional_version),
            ("2", None),
            "{name}"
        );
    }
    let budgeted = aws
        .calls()
        .iter()
        .filter(|api| api.class() == CallClass::LambdaControl)
        .count();
    let served = Duration::from_secs_f64((budgeted - 1) as f64 / rates.lambda_control);
    assert!(
        took <= served + Duration::from_millis(250),
        "the release took {took:?}; its {budgeted} budgeted calls take {served:?} at {}/s",
        rates.lambda_control
    );
}
