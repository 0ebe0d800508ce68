//! The lease table on the emulator's DynamoDB: `shepherd lease-table create`, then two
//! replicas' electors driven against the real conditional writes.

mod support;

use std::time::Duration;

use shepherd_aws::DynamoLeases;
use shepherd_core::lease::{Elector, Intent, LeaseItem, LeaseSettings, LeaseTable, TableError};
use support::{Emulator, shepherd, stderr, stdout};

const TABLE: &str = "shepherd-leases";
const S: Duration = Duration::from_secs(1);

fn leases(endpoint: &str) -> DynamoLeases {
    let credentials =
        aws_sdk_dynamodb::config::Credentials::new("testing", "testing", None, None, "test");
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(credentials)
        .build();
    DynamoLeases::new(aws_sdk_dynamodb::Client::from_conf(config), TABLE)
}

/// One heartbeat of `elector` at `now` (virtual offsets; the table is real).
async fn beat(elector: &mut Elector, table: &DynamoLeases, now: Duration, fresh: &mut u32) {
    let mut version = || {
        *fresh += 1;
        format!("v{fresh}")
    };
    let mut intent = elector.tick(now, version());
    if intent == Intent::Read {
        let item = table.get(elector.target()).await.expect("GetItem");
        match elector.observed(item.as_ref(), now, version()) {
            Some(write) => intent = write,
            None => return,
        }
    }
    let (result, item) = match &intent {
        Intent::Acquire(item) => (table.put_new(item).await, item.clone()),
        Intent::Replace { expected, item } => (table.replace(expected, item).await, item.clone()),
        Intent::Read => unreachable!("a read was answered above"),
    };
    elector.written(&item, now, result);
}

#[tokio::test]
async fn two_replicas_share_one_lease_through_the_tables_conditional_writes() {
    let emulator = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    let created = shepherd(
        &emulator.endpoint,
        &["lease-table", "create", TABLE],
        dir.path(),
    );
    assert!(created.status.success(), "{}", stderr(&created));
    assert!(
        stdout(&created).contains("created lease table"),
        "{}",
        stdout(&created)
    );
    let again = shepherd(
        &emulator.endpoint,
        &["lease-table", "create", TABLE],
        dir.path(),
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("exists already"),
        "{}",
        stdout(&again)
    );

    let table = leases(&emulator.endpoint);
    let target = "123456789012/us-east-1";
    let settings = LeaseSettings::default();
    let mut a = Elector::new(target, "a", Some("10.0.0.1:8080".into()), settings.clone());
    let mut b = Elector::new(target, "b", None, settings);
    let mut fresh = 0;
    beat(&mut a, &table, Duration::ZERO, &mut fresh).await;
    beat(&mut b, &table, Duration::ZERO, &mut fresh).await;
    assert!(a.is_holder(S) && !b.is_holder(S));
    let stored = table.get(target).await.unwrap().expect("the item");
    assert_eq!(
        (
            stored.holder.as_str(),
            stored.duration,
            stored.address.as_deref()
        ),
        ("a", Duration::from_secs(20), Some("10.0.0.1:8080"))
    );

    // a renews; b, reading every heartbeat, never takes over.
    for tick in 1..8 {
        beat(&mut a, &table, 5 * S * tick, &mut fresh).await;
        beat(&mut b, &table, 5 * S * tick, &mut fresh).await;
        assert!(a.is_holder(5 * S * tick) && !b.is_holder(5 * S * tick));
    }
    // a's last renewal is at 35 s, which b reads at 35 s: b takes over 20 s later.
    let mut now = 35 * S;
    while !b.is_holder(now) {
        now += 5 * S;
        beat(&mut b, &table, now, &mut fresh).await;
        assert!(now <= 60 * S, "b did not take over");
    }
    assert_eq!(now, 55 * S);
    assert!(
        !a.is_holder(now),
        "a's lease ran out on its own clock first"
    );
    assert_eq!(table.get(target).await.unwrap().unwrap().holder, "b");

    // a wakes up: its renewal is refused by the condition, and it stands by.
    let stale = LeaseItem {
        target: target.into(),
        holder: "a".into(),
        version: "stale".into(),
        duration: 20 * S,
        address: None,
    };
    let refused = table.replace("not-the-version", &stale).await;
    assert_eq!(refused, Err(TableError::ConditionFailed));
    assert_eq!(
        table.put_new(&stale).await,
        Err(TableError::ConditionFailed)
    );
    assert_eq!(
        table.delete(target, "not-the-version").await,
        Err(TableError::ConditionFailed)
    );

    // b releases: the item is deleted on its version, and a takes it at its next read.
    let version = b.release().expect("b held it");
    table.delete(target, &version).await.expect("DeleteItem");
    assert_eq!(table.get(target).await.unwrap(), None);
    beat(&mut a, &table, now + 5 * S, &mut fresh).await;
    assert!(a.is_holder(now + 6 * S));
}
