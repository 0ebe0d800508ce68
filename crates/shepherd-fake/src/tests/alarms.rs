use std::collections::BTreeMap;

use futures::executor::block_on;

use super::rejected_code;
use crate::FakeCloud;
use shepherd_core::cloud::*;
use shepherd_core::model::{AlarmDefinition, AlarmMetric, AlarmState};

fn alarm(name: &str) -> AlarmDefinition {
    AlarmDefinition {
        name: name.to_owned(),
        metric: AlarmMetric::Errors,
        statistic: "Sum".to_owned(),
        dimensions: BTreeMap::from([("FunctionName".to_owned(), "orders".to_owned())]),
        threshold: 1.0,
        period_secs: 60,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        description: "Managed by shepherd".to_owned(),
    }
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn a_new_alarm_has_insufficient_data_until_a_test_sets_its_state() {
    let cloud = FakeCloud::new();
    block_on(cloud.put_alarm(&alarm("orders-errors"))).unwrap();
    let created = cloud.alarm("orders-errors").unwrap();
    assert_eq!(created.state, AlarmState::InsufficientData);
    cloud.set_alarm_state("orders-errors", AlarmState::Alarm, "Threshold crossed");
    let described = block_on(cloud.describe_alarms(&names(&["orders-errors"]))).unwrap();
    assert_eq!(
        (described[0].state, described[0].state_reason.as_str()),
        (AlarmState::Alarm, "Threshold crossed")
    );
    assert_eq!(described[0].definition, alarm("orders-errors"));
}

#[test]
fn updating_an_alarm_replaces_its_definition_and_keeps_its_state() {
    let cloud = FakeCloud::new();
    block_on(cloud.put_alarm(&alarm("orders-errors"))).unwrap();
    cloud.set_alarm_state("orders-errors", AlarmState::Ok, "fine");
    let mut changed = alarm("orders-errors");
    changed.threshold = 5.0;
    block_on(cloud.put_alarm(&changed)).unwrap();
    let updated = cloud.alarm("orders-errors").unwrap();
    assert_eq!(
        (updated.definition.threshold, updated.state),
        (5.0, AlarmState::Ok)
    );
}

#[test]
fn describe_leaves_out_missing_alarms_and_sorts_by_name() {
    let cloud = FakeCloud::new();
    for name in ["b", "a"] {
        block_on(cloud.put_alarm(&alarm(name))).unwrap();
    }
    cloud.add_alarm(alarm("gateway-5xx"));
    let found = block_on(cloud.describe_alarms(&names(&["gateway-5xx", "b", "missing", "a", "b"])))
        .unwrap();
    let found: Vec<&str> = found.iter().map(|a| a.definition.name.as_str()).collect();
    assert_eq!(found, ["a", "b", "gateway-5xx"]);
    assert_eq!(cloud.alarm("gateway-5xx").unwrap().state, AlarmState::Ok);
    assert_eq!(
        cloud.calls(),
        ["PutMetricAlarm", "PutMetricAlarm", "DescribeAlarms"],
        "add_alarm is no call"
    );
}

#[test]
fn at_most_100_names_per_call() {
    let cloud = FakeCloud::new();
    let many: Vec<String> = (0..101).map(|i| format!("alarm-{i}")).collect();
    assert_eq!(
        rejected_code(block_on(cloud.describe_alarms(&many))),
        "ValidationError"
    );
    assert_eq!(
        block_on(cloud.describe_alarms(&many[..100])),
        Ok(Vec::new())
    );
    assert_eq!(
        rejected_code(block_on(cloud.delete_alarms(&many))),
        "ValidationError"
    );
}

#[test]
fn deleting_alarms_is_all_or_nothing() {
    let cloud = FakeCloud::new();
    block_on(cloud.put_alarm(&alarm("a"))).unwrap();
    block_on(cloud.put_alarm(&alarm("b"))).unwrap();
    let partly_missing = block_on(cloud.delete_alarms(&names(&["a", "missing"])));
    assert!(matches!(
        partly_missing,
        Err(CloudError::NotFound {
            api: Api::DeleteAlarms,
            ..
        })
    ));
    assert_eq!(cloud.alarm_names(), ["a", "b"]);
    block_on(cloud.delete_alarms(&names(&["a", "b"]))).unwrap();
    assert!(cloud.alarm_names().is_empty());
}

#[test]
fn alarm_definitions_are_checked() {
    let cloud = FakeCloud::new();
    let check = |change: &dyn Fn(&mut AlarmDefinition)| {
        let mut definition = alarm("x");
        change(&mut definition);
        block_on(cloud.put_alarm(&definition))
    };
    assert!(check(&|a| a.period_secs = 45).is_err());
    assert!(check(&|a| a.period_secs = 0).is_err());
    assert!(check(&|a| a.datapoints_to_alarm = 2).is_err());
    assert!(check(&|a| a.evaluation_periods = 0).is_err());
    assert!(check(&|a| a.statistic = "Median".to_owned()).is_err());
    assert!(check(&|a| a.threshold = f64::NAN).is_err());
    assert!(cloud.alarm_names().is_empty());
    for period in [10, 20, 30, 300] {
        check(&|a| a.period_secs = period).unwrap();
    }
    check(&|a| a.statistic = "p99.9".to_owned()).unwrap();
}

#[test]
#[should_panic(expected = "no alarm named")]
fn setting_the_state_of_a_missing_alarm_is_a_test_bug() {
    FakeCloud::new().set_alarm_state("missing", AlarmState::Alarm, "");
}
