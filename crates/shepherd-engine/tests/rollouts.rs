//! Rollouts on the in-memory fake, in virtual time: whole canary timelines run in
//! milliseconds, alarms fire at every step, operators act, and the process "dies" between
//! every pair of actions.

use std::time::Duration;

use shepherd_core::cloud::*;
use shepherd_core::model::AlarmState;
use shepherd_core::rollout::{Command, Phase};
use shepherd_engine::operator::{RolloutTarget, operate};
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{ReconcileOptions, apply, plan};
use shepherd_engine::rollouts::status;
use shepherd_engine::settle::apply_until_settled;
use shepherd_fake::FakeCloud;

mod common;
use common::*;

#[tokio::test(start_paused = true)]
async fn a_thirty_minute_canary_runs_in_virtual_time_and_promotes() {
    let (cloud, repo) = deployed("    strategy: Canary10Percent30Minutes").await;
    let started = tokio::time::Instant::now();
    cloud.reset_calls();
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(30 * 60),
        "the pause ran its course: {took:?}"
    );
    assert!(
        took < Duration::from_secs(31 * 60),
        "and not much longer: {took:?}"
    );
    let alias = cloud.alias("api", "live").unwrap();
    assert_eq!(
        (alias.version.as_str(), alias.additional_version),
        ("2", None)
    );
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
    // Start at 10%, promote: two alias writes.
    assert_eq!(cloud.call_count(Api::UpdateAlias), 2);
    // Alarms were looked at all through the pause, in batches.
    assert!(
        cloud.call_count(Api::DescribeAlarms) >= 30 * 60 / 5,
        "{}",
        cloud.call_count(Api::DescribeAlarms)
    );
}

#[tokio::test(start_paused = true)]
async fn a_linear_rollout_shifts_ten_percent_at_a_time() {
    let (cloud, repo) = deployed("    strategy: Linear10PercentEvery1Minute").await;
    let desired = repo.desired();
    let mut weights = Vec::new();
    for _ in 0..200 {
        pass(&cloud, &desired).await;
        let alias = cloud.alias("api", "live").unwrap();
        if let Some((_, w)) = alias.additional_version {
            let percent = (w * 100.0).round() as u32;
            if weights.last() != Some(&percent) {
                weights.push(percent);
            }
        }
        if record(&cloud).is_some_and(|r| r.phase == Phase::Healthy) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    assert_eq!(weights, [10, 20, 30, 40, 50, 60, 70, 80, 90]);
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
}

const STEPS: &str = "    steps:
      - setWeight: 5
      - pause: {duration: 1m}
      - setWeight: 30
      - pause: {duration: 1m}
      - setWeight: 60
      - pause: {duration: 1m}";

#[tokio::test(start_paused = true)]
async fn an_alarm_at_any_step_sends_all_traffic_back_to_the_stable_version() {
    for weight in [5.0, 30.0, 60.0] {
        let (cloud, repo) = deployed(STEPS).await;
        let desired = repo.desired();
        // Run until the canary has this weight.
        for _ in 0..100 {
            pass(&cloud, &desired).await;
            let current = cloud.alias("api", "live").unwrap().additional_version;
            if current.is_some_and(|(_, w)| (w * 100.0 - weight).abs() < 1e-6) {
                break;
            }
            tokio::time::sleep(Duration::from_secs(5)).await;
        }
        cloud.set_alarm_state("api-errors", AlarmState::Alarm, "Threshold Crossed");
        pass(&cloud, &desired).await;
        let alias = cloud.alias("api", "live").unwrap();
        assert_eq!(
            (alias.version.as_str(), &alias.additional_version),
            ("1", &None),
            "at {weight}%"
        );
        let r = record(&cloud).unwrap();
        assert_eq!(r.phase, Phase::RolledBack, "at {weight}%");
        assert!(r.reason.unwrap().contains("alarm api-errors fired"));
        // The bad release stays out: more passes change nothing.
        cloud.set_alarm_state("api-errors", AlarmState::Ok, "recovered");
        cloud.reset_calls();
        pass(&cloud, &desired).await;
        pass(&cloud, &desired).await;
        assert_eq!(
            cloud.write_calls(),
            Vec::<&str>::new(),
            "no redeploy loop at {weight}%"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn an_alarm_already_firing_before_the_rollout_does_not_block_it() {
    let (cloud, repo) = deployed(STEPS).await;
    // Fired (say) an hour before the fix was committed.
    let an_hour_ago = shepherd_engine::clock::unix_now() - 3600;
    cloud.set_alarm_state_since("api-errors", AlarmState::Alarm, "old incident", an_hour_ago);
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
    assert_eq!(cloud.alias("api", "live").unwrap().version, "2");
}

#[tokio::test(start_paused = true)]
async fn insufficient_data_is_not_a_failure() {
    let (cloud, repo) = deployed(STEPS).await;
    cloud.set_alarm_state("api-errors", AlarmState::InsufficientData, "no traffic");
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
}

#[tokio::test(start_paused = true)]
async fn promote_pause_resume_and_abort() {
    let steps = "    steps:
      - setWeight: 10
      - pause: {}
      - setWeight: 50
      - pause: {duration: 10m}";
    let (cloud, repo) = deployed(steps).await;
    let desired = repo.desired();
    let function = &RolloutTarget::from(&desired.functions[0]);
    pass(&cloud, &desired).await;
    pass(&cloud, &desired).await;
    assert_eq!(
        record(&cloud).unwrap().phase,
        Phase::Paused,
        "waits for promote"
    );
    tokio::time::sleep(Duration::from_secs(3600)).await;
    pass(&cloud, &desired).await;
    assert_eq!(
        record(&cloud).unwrap().phase,
        Phase::Paused,
        "still waiting an hour later"
    );

    operate(&cloud, function, Command::Promote { full: false })
        .await
        .unwrap();
    let alias = cloud.alias("api", "live").unwrap();
    assert_eq!(alias.additional_version, Some(("2".to_owned(), 0.5)));
    assert_eq!(
        operate(&cloud, function, Command::Pause).await.unwrap(),
        "paused api at 50%"
    );
    tokio::time::sleep(Duration::from_secs(3600)).await;
    pass(&cloud, &desired).await;
    assert_eq!(
        record(&cloud).unwrap().phase,
        Phase::Paused,
        "an operator's pause holds"
    );
    operate(&cloud, function, Command::Resume).await.unwrap();
    pass(&cloud, &desired).await;
    assert_eq!(
        record(&cloud).unwrap().phase,
        Phase::Progressing,
        "the pause starts over"
    );
    operate(&cloud, function, Command::Abort).await.unwrap();
    let alias = cloud.alias("api", "live").unwrap();
    assert_eq!(
        (alias.version.as_str(), alias.additional_version),
        ("1", None)
    );
    assert_eq!(record(&cloud).unwrap().phase, Phase::Aborted);
    pass(&cloud, &desired).await;
    assert_eq!(
        cloud.alias("api", "live").unwrap().version,
        "1",
        "an aborted release stays out"
    );

    operate(&cloud, function, Command::Retry).await.unwrap();
    pass(&cloud, &desired).await;
    pass(&cloud, &desired).await;
    assert_eq!(
        record(&cloud).unwrap().phase,
        Phase::Paused,
        "retried: the rollout starts again"
    );
    operate(&cloud, function, Command::Promote { full: true })
        .await
        .unwrap();
    let alias = cloud.alias("api", "live").unwrap();
    assert_eq!(
        (alias.version.as_str(), alias.additional_version),
        ("2", None)
    );
    let statuses = status(&cloud, &desired.functions).await;
    assert_eq!(statuses[0].phase(), Some(Phase::Healthy));
}

#[tokio::test(start_paused = true)]
async fn a_new_release_during_a_rollout_replaces_the_canary_in_flight() {
    let (cloud, repo) = deployed(STEPS).await;
    pass(&cloud, &repo.desired()).await;
    assert_eq!(
        cloud
            .alias("api", "live")
            .unwrap()
            .additional_version
            .unwrap()
            .0,
        "2"
    );
    repo.release("3");
    let desired = repo.desired();
    pass(&cloud, &desired).await;
    let alias = cloud.alias("api", "live").unwrap();
    assert_eq!(alias.version, "1", "the stable version keeps most traffic");
    assert_eq!(
        alias.additional_version.unwrap().0,
        "3",
        "only the newest release is a canary"
    );
    apply_until_settled(&cloud, &desired, &options(), &Silent).await;
    assert_eq!(cloud.alias("api", "live").unwrap().version, "3");
}

#[tokio::test(start_paused = true)]
async fn a_restart_between_any_two_actions_still_ends_the_rollout_correctly() {
    // Find how many actions the passes of a rollout have, then kill each pass in turn at
    // every point and let a "restarted" shepherd finish.
    for kill_at_pass in 0..6 {
        for keep in 0..6 {
            let (cloud, repo) = deployed(STEPS).await;
            let desired = repo.desired();
            for _ in 0..kill_at_pass {
                pass(&cloud, &desired).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
            killed_pass(&cloud, &desired, keep).await;
            tokio::time::sleep(Duration::from_secs(7)).await;
            apply_until_settled(&cloud, &desired, &options(), &Silent).await;
            let alias = cloud.alias("api", "live").unwrap();
            assert_eq!(
                (alias.version.as_str(), &alias.additional_version),
                ("2", &None),
                "killed in pass {kill_at_pass} after {keep} actions"
            );
            assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
            let published = cloud.versions("api").len();
            assert_eq!(
                published, 2,
                "no version published twice (pass {kill_at_pass}, {keep})"
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_restart_mid_rollback_finishes_the_rollback() {
    let (cloud, repo) = deployed(STEPS).await;
    let desired = repo.desired();
    pass(&cloud, &desired).await;
    cloud.set_alarm_state("api-errors", AlarmState::Alarm, "Threshold Crossed");
    // Killed before the rollback's alias write.
    killed_pass(&cloud, &desired, 0).await;
    assert!(
        cloud
            .alias("api", "live")
            .unwrap()
            .additional_version
            .is_some()
    );
    // The restarted shepherd finds the alarm still firing and rolls back.
    pass(&cloud, &desired).await;
    let alias = cloud.alias("api", "live").unwrap();
    assert_eq!(
        (alias.version.as_str(), alias.additional_version),
        ("1", None)
    );
    assert_eq!(record(&cloud).unwrap().phase, Phase::RolledBack);
}

#[tokio::test(start_paused = true)]
async fn provisioned_concurrency_is_warm_before_the_canary_gets_traffic_and_follows_the_promotion()
{
    let cloud = FakeCloud::default();
    cloud.set_provisioned_reads(4);
    let repo = Repo::new(STEPS);
    let spec = repo.dir.path().join("specs/api.yaml");
    let text = std::fs::read_to_string(&spec).unwrap().replace(
        "alias: {name: live}",
        "alias: {name: live, provisionedConcurrency: 3}",
    );
    std::fs::write(&spec, text).unwrap();
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert_eq!(cloud.provisioned("api", "1").map(|p| p.requested), Some(3));

    repo.release("2");
    cloud.reset_calls();
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    let calls = cloud.calls();
    let warm = calls
        .iter()
        .position(|c| *c == "PutProvisionedConcurrencyConfig")
        .unwrap();
    let first_shift = calls.iter().position(|c| *c == "UpdateAlias").unwrap();
    let ready_polls = calls[warm..first_shift]
        .iter()
        .filter(|c| **c == "GetProvisionedConcurrencyConfig")
        .count();
    assert!(
        warm < first_shift && ready_polls >= 4,
        "warmed until READY first: {calls:?}"
    );
    assert_eq!(cloud.alias("api", "live").unwrap().version, "2");
    assert_eq!(cloud.provisioned("api", "2").map(|p| p.requested), Some(3));
    assert_eq!(
        cloud.provisioned("api", "1"),
        None,
        "the old version's capacity is released"
    );
}

const ANALYSED: &str = "    steps:
      - setWeight: 10
      - pause: {duration: 5m}
    analysis:
      maxErrorRate: 1
      maxP99Duration: 800ms
      minInvocations: 50
      inconclusiveTimeout: 10m";

fn metrics(invocations: f64, errors: f64, p99_ms: f64) -> shepherd_core::model::VersionMetrics {
    shepherd_core::model::VersionMetrics {
        invocations,
        errors,
        p99_ms: Some(p99_ms),
    }
}

#[tokio::test(start_paused = true)]
async fn a_canary_whose_own_error_rate_is_too_high_is_rolled_back() {
    let (cloud, repo) = deployed(ANALYSED).await;
    cloud.set_version_metrics("api", "2", metrics(400.0, 12.0, 120.0));
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    let r = record(&cloud).unwrap();
    assert_eq!(r.phase, Phase::RolledBack);
    assert!(r.reason.unwrap().contains("error rate is 3.00%"));
    assert_eq!(cloud.alias("api", "live").unwrap().version, "1");
}

#[tokio::test(start_paused = true)]
async fn a_slow_canary_is_rolled_back() {
    let (cloud, repo) = deployed(ANALYSED).await;
    cloud.set_version_metrics("api", "2", metrics(400.0, 0.0, 2300.0));
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert!(
        record(&cloud)
            .unwrap()
            .reason
            .unwrap()
            .contains("p99 duration is 2300 ms")
    );
}

#[tokio::test(start_paused = true)]
async fn a_healthy_canary_with_enough_traffic_is_promoted() {
    let (cloud, repo) = deployed(ANALYSED).await;
    cloud.set_version_metrics("api", "2", metrics(400.0, 1.0, 120.0));
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert_eq!(record(&cloud).unwrap().phase, Phase::Healthy);
}

#[tokio::test(start_paused = true)]
async fn a_canary_with_too_little_traffic_waits_then_holds_for_an_operator() {
    let (cloud, repo) = deployed(ANALYSED).await;
    cloud.set_version_metrics("api", "2", metrics(7.0, 0.0, 100.0));
    let started = tokio::time::Instant::now();
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert!(
        started.elapsed() >= Duration::from_secs(15 * 60),
        "waited pause + timeout"
    );
    let r = record(&cloud).unwrap();
    assert_eq!(r.phase, Phase::Paused, "never silently healthy");
    assert!(
        r.reason
            .unwrap()
            .contains("inconclusive: the new version had 7 invocations")
    );
    assert_eq!(
        cloud
            .alias("api", "live")
            .unwrap()
            .additional_version
            .unwrap()
            .0,
        "2"
    );
}

#[tokio::test(start_paused = true)]
async fn emergency_commands_need_no_spec() {
    let steps = "    steps:
      - setWeight: 10
      - pause: {}
      - setWeight: 50
      - pause: {}";
    let (cloud, repo) = deployed(steps).await;
    let desired = repo.desired();
    pass(&cloud, &desired).await;
    pass(&cloud, &desired).await;
    assert_eq!(record(&cloud).unwrap().phase, Phase::Paused);

    // Known by name only: the rollout is found on the alias that holds its record.
    let nameless = RolloutTarget::named("api");
    let refused = operate(&cloud, &nameless, Command::Promote { full: false })
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.starts_with("promote needs the rollout's steps"),
        "{refused}"
    );
    assert_eq!(
        operate(&cloud, &nameless, Command::Abort).await.unwrap(),
        "aborted api: all traffic is back on version 1"
    );
    let alias = cloud.alias("api", "live").unwrap();
    assert_eq!(
        (alias.version.as_str(), alias.additional_version),
        ("1", None)
    );
    assert_eq!(record(&cloud).unwrap().phase, Phase::Aborted);

    let missing = operate(&cloud, &RolloutTarget::named("nope"), Command::Abort)
        .await
        .unwrap_err()
        .to_string();
    assert!(missing.contains("nope"), "{missing}");
}

#[tokio::test(start_paused = true)]
async fn metrics_that_cannot_be_read_never_promote_even_when_inconclusive_would() {
    let analysed = format!("{ANALYSED}\n      onInconclusive: Promote");
    let (cloud, repo) = deployed(&analysed).await;
    // Plenty of healthy traffic that cannot be read: CloudWatch fails every time.
    cloud.set_version_metrics("api", "2", metrics(500.0, 0.0, 100.0));
    let unavailable = shepherd_core::cloud::CloudError::Rejected {
        api: Api::GetMetricData,
        code: "AccessDenied".into(),
        message: "not authorized".into(),
    };
    cloud.fail_next(Api::GetMetricData, unavailable, 10_000);
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    let r = record(&cloud).unwrap();
    assert_eq!(r.phase, Phase::Paused, "{r:?}");
    assert!(
        r.reason
            .as_deref()
            .unwrap()
            .starts_with("metrics unavailable: GetMetricData: refused by AWS (AccessDenied)"),
        "{r:?}"
    );
    let alias = cloud.alias("api", "live").unwrap();
    assert_eq!(alias.version, "1", "the canary was not promoted");
}

/// The pass that starts a canary reads the function in full: its managed alarms and its
/// gating alarms (one of them made elsewhere) come in one DescribeAlarms batch, not two.
#[tokio::test(start_paused = true)]
async fn managed_and_gating_alarms_are_read_in_one_batch() {
    let (cloud, repo) = deployed(
        "    steps:\n      - setWeight: 10\n      - pause: {duration: 1h}\n    alarms: [team-slo]",
    )
    .await;
    cloud.reset_calls();
    // A full refresh reads the managed alarms; the release starting makes the gating ones
    // matter.
    let full = ReconcileOptions {
        refresh: shepherd_engine::observe::Refresh::Full,
        ..options()
    };
    let planned = plan(&cloud, &repo.desired(), &full).await;
    apply(&cloud, planned, &full, &Silent).await;
    assert!(
        cloud
            .alias("api", "live")
            .unwrap()
            .additional_version
            .is_some(),
        "the canary started"
    );
    assert_eq!(
        cloud.call_count(Api::DescribeAlarms),
        1,
        "{:?}",
        cloud.calls()
    );
}

/// Counts the passes of `apply --wait` that report a rollout moving on.
#[derive(Default)]
struct Passes(std::sync::atomic::AtomicUsize);

impl shepherd_engine::progress::ProgressSink for Passes {
    fn report(&self, event: shepherd_engine::progress::Progress<'_>) {
        if let shepherd_engine::progress::Progress::Rollout { status, .. } = event {
            assert!(
                status.record.is_some(),
                "the status knows the rollout: {status:?}"
            );
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

/// `apply --wait` observes the function once per look, and a pause costs no look: the
/// polls during it read the gating alarms only (CloudWatch), and the next look comes at the
/// pause's end. The status each look reports comes from its own observation and the
/// aliases it wrote, not from a second read.
#[tokio::test(start_paused = true)]
async fn a_pause_in_apply_wait_costs_alarm_reads_only() {
    let (cloud, repo) = deployed("    strategy: Canary10Percent5Minutes").await;
    cloud.reset_calls();
    let passes = Passes::default();
    let started = tokio::time::Instant::now();
    apply_until_settled(&cloud, &repo.desired(), &options(), &passes).await;
    let took = started.elapsed();
    assert!(
        (Duration::from_secs(300)..Duration::from_secs(310)).contains(&took),
        "{took:?}"
    );
    assert_eq!(cloud.alias("api", "live").unwrap().version, "2");
    let reported = passes.0.load(std::sync::atomic::Ordering::SeqCst);
    // The look that starts the canary, and the one at the pause's end that promotes: it
    // plans from the aliases as the first look wrote them, reading nothing of Lambda's.
    assert_eq!(reported, 1, "{:?}", cloud.calls());
    assert_eq!(cloud.call_count(Api::ListAliases), 1);
    // A poll every 5 s of the 5-minute pause reads the alarms.
    let polls = cloud.call_count(Api::DescribeAlarms);
    assert!((55..=62).contains(&polls), "{polls} alarm reads");
}

/// The calls on the 15/s budget a new build costs with a one-step canary, from the first
/// read to the promotion, commit marker included.
#[tokio::test(start_paused = true)]
async fn a_new_build_with_a_one_step_canary_costs_few_budgeted_calls() {
    let (cloud, repo) =
        deployed("    steps:\n      - setWeight: 10\n      - pause: {duration: 1m}").await;
    cloud.reset_calls();
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert_eq!(cloud.alias("api", "live").unwrap().version, "2");
    let budgeted: Vec<Api> = cloud
        .calls()
        .into_iter()
        .filter(|api| api.class() == CallClass::LambdaControl)
        .collect();
    // The look at the pause's end does not read the alias again: its promotion is
    // conditioned on the revision the canary's write left (see the next test).
    assert_eq!(
        budgeted,
        [
            Api::ListAliases,
            Api::UpdateFunctionCode,
            Api::PublishVersion,
            Api::UpdateAlias,
            Api::TagResource,
            Api::UpdateAlias,
        ]
    );
}

/// An operator pauses the canary while `apply --wait` sits in its pause, planning from the
/// alias as it wrote it: the promotion at the pause's end is refused by its revision
/// precondition, read again and planned again, and the operator's pause holds.
#[tokio::test(start_paused = true)]
async fn an_operators_pause_during_the_wait_is_never_promoted_over() {
    let (cloud, repo) =
        deployed("    steps:\n      - setWeight: 10\n      - pause: {duration: 1m}").await;
    let desired = repo.desired();
    let target = RolloutTarget::from(&desired.functions[0]);
    let operator = async {
        tokio::time::sleep(Duration::from_secs(30)).await;
        operate(&cloud, &target, Command::Pause).await.unwrap();
        cloud.reset_calls();
    };
    let options = options();
    let (reports, ()) = tokio::join!(
        apply_until_settled(&cloud, &desired, &options, &Silent),
        operator
    );
    let alias = cloud.alias("api", "live").unwrap();
    assert_eq!(record(&cloud).unwrap().phase, Phase::Paused, "{reports:?}");
    assert_eq!(
        (alias.version.as_str(), alias.additional_version),
        ("1", Some(("2".to_owned(), 0.1))),
        "still the operator's canary"
    );
    // The promotion tried on the remembered alias, then the read that found the pause.
    let lambda: Vec<Api> = cloud
        .calls()
        .into_iter()
        .filter(|api| api.class() == CallClass::LambdaControl)
        .collect();
    assert_eq!(lambda, [Api::UpdateAlias, Api::ListAliases], "{reports:?}");
}
