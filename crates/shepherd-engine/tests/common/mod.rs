//! What the rollout tests share: a spec repository on disk, the options, one pass, and
//! a pass killed after some of its actions.

#![allow(dead_code)]

use std::time::Duration;

use shepherd_core::lint::LintConfig;
use shepherd_core::rollout::RolloutRecord;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{Desired, ReconcileOptions, apply, plan, resolve_desired};
use shepherd_engine::settle::apply_until_settled;
use shepherd_fake::FakeCloud;

pub const SPEC: &str = r#"
apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata:
  name: api
spec:
  code: {path: ../app}
  handler: app.handler
  runtime: python3.12
  role: arn:aws:iam::123456789012:role/api
  alias: {name: live}
  alarms:
    errors: {threshold: 1}
  rollout:
ROLLOUT
"#;

pub struct Repo {
    pub dir: tempfile::TempDir,
}

impl Repo {
    pub fn new(rollout: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("specs")).unwrap();
        std::fs::create_dir_all(dir.path().join("app")).unwrap();
        let spec = SPEC.replace("ROLLOUT", rollout);
        std::fs::write(dir.path().join("specs/api.yaml"), spec).unwrap();
        let repo = Self { dir };
        repo.release("1");
        repo
    }

    /// Another function's spec file beside the one under test.
    pub fn add_spec(&self, file: &str, yaml: &str) {
        std::fs::write(self.dir.path().join("specs").join(file), yaml).unwrap();
    }

    pub fn release(&self, marker: &str) {
        let code = format!("def handler(event, context):\n    return '{marker}'\n");
        std::fs::write(self.dir.path().join("app/app.py"), code).unwrap();
    }

    pub fn desired(&self) -> Desired {
        let report = shepherd_core::check_specs_within(
            &[self.dir.path().join("specs")],
            Some(self.dir.path()),
            &LintConfig::default(),
        );
        assert!(report.is_valid(), "{:?}", report.diagnostics);
        resolve_desired(&report.functions, &[])
    }
}

pub fn options() -> ReconcileOptions {
    let mut options = ReconcileOptions::default();
    options.plan.alarm_poll = Duration::from_secs(5);
    options
}

pub fn record(cloud: &FakeCloud) -> Option<RolloutRecord> {
    RolloutRecord::parse(&cloud.alias("api", "live")?.description)
}

/// One reconcile pass: observe, plan, apply.
pub async fn pass(cloud: &FakeCloud, desired: &Desired) {
    let planned = plan(cloud, desired, &options()).await;
    apply(cloud, planned, &options(), &Silent).await;
}

/// A function live on release 1, then release 2 in the spec.
pub async fn deployed(rollout: &str) -> (FakeCloud, Repo) {
    let cloud = FakeCloud::default();
    let repo = Repo::new(rollout);
    apply_until_settled(&cloud, &repo.desired(), &options(), &Silent).await;
    assert_eq!(cloud.alias("api", "live").unwrap().version, "1");
    repo.release("2");
    (cloud, repo)
}

/// Executes only the first `keep` actions of the next pass, as a process killed mid-pass.
pub async fn killed_pass(cloud: &FakeCloud, desired: &Desired, keep: usize) -> usize {
    let mut planned = plan(cloud, desired, &options()).await;
    let total: usize = planned.plans.iter().map(|p| p.actions.len()).sum();
    for p in &mut planned.plans {
        p.actions.truncate(keep);
    }
    apply(cloud, planned, &options(), &Silent).await;
    total
}
