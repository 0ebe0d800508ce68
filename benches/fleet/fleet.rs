//! The fleets the parts deploy: spec sets written to a folder, created in the emulator
//! with no budget, and read back.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use shepherd_aws::AwsCloud;
use shepherd_core::cloud::{Aliases as _, Api, CallClass};
use shepherd_core::lint::LintConfig;
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::execute::Outcome;
use shepherd_engine::metered::Metered;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{Desired, ReconcileOptions, apply, plan, resolve_desired};
use shepherd_engine::retry::RetryPolicy;
use shepherd_engine::stats::CallStats;

use crate::common::{ACCOUNT, Clients};

pub const ROLE: &str = "shepherd-fleet-bench";
pub const ALIAS: &str = "live";
/// The owner the sets are created with in-process (the engine's default), and so the
/// controllers' `--owner`.
pub const OWNER: &str = "default";
/// No budget: rates no endpoint reaches.
pub const UNLIMITED: Rates = Rates {
    get_function: 1e6,
    lambda_control: 1e6,
    cloudwatch: 1e6,
};

/// A one-step canary: 10% of the traffic, then promoted.
pub const ONE_STEP: &str = "  rollout:\n    steps:\n      - setWeight: 10\n";

pub fn number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
        .max(1)
}

/// A spec set in the folder `ROOT` (a repository for the controller, which reads
/// `specs/`): `count` functions `PREFIX-NNNN` in `specs/PREFIX/`, with alias `live` and
/// `extra` appended to each spec, sharing one small Python handler in `app/PREFIX/`.
pub struct Set {
    pub root: PathBuf,
    pub prefix: String,
    pub count: usize,
}

impl Set {
    pub fn write(root: &Path, prefix: &str, count: usize, extra: &str) -> Self {
        let set = Self {
            root: root.to_owned(),
            prefix: prefix.to_owned(),
            count,
        };
        set.write_code("first build");
        std::fs::create_dir_all(set.specs()).expect("create the spec folder");
        for name in set.names() {
            let spec = format!(
                "apiVersion: shepherd.dev/v1alpha1
kind: Function
metadata:
  name: {name}
spec:
  code:
    path: ../../app/{prefix}
  handler: handler.handler
  runtime: python3.12
  role: arn:aws:iam::{ACCOUNT}:role/{ROLE}
  alias:
    name: {ALIAS}
{extra}"
            );
            std::fs::write(set.specs().join(format!("{name}.yaml")), spec).expect("write a spec");
        }
        set
    }

    pub fn specs(&self) -> PathBuf {
        self.root.join("specs").join(&self.prefix)
    }

    pub fn names(&self) -> Vec<String> {
        (0..self.count)
            .map(|i| format!("{}-{i:04}", self.prefix))
            .collect()
    }

    /// New code for every function of the set: `marker` changes the zip's digest.
    pub fn write_code(&self, marker: &str) {
        let app = self.root.join("app").join(&self.prefix);
        std::fs::create_dir_all(&app).expect("create the code folder");
        std::fs::write(
            app.join("handler.py"),
            format!("def handler(event, context):\n    return {{'statusCode': 200}}\n# {marker}\n"),
        )
        .expect("write the code");
    }

    /// Validated and packaged, as `shepherd apply` does, with the code inside the folder.
    pub fn desired(&self) -> Desired {
        let report = shepherd_core::check_specs_within(
            &[self.specs()],
            Some(&self.root),
            &LintConfig::default(),
        );
        if let Some(error) = report
            .diagnostics
            .iter()
            .find(|d| d.severity == shepherd_core::diagnostic::Severity::Error)
        {
            panic!("a generated spec is invalid: {error}");
        }
        let desired = resolve_desired(&report.functions, &[]);
        assert!(desired.errors.is_empty(), "{:?}", desired.errors);
        desired
    }

    /// Creates the set in the emulator, with no budget.
    pub async fn create(&self, clients: &Clients) {
        let started = std::time::Instant::now();
        let cloud = metered(clients, UNLIMITED);
        let mut options = ReconcileOptions::default();
        options.execute.concurrency = 32;
        let desired = self.desired();
        let planned = plan(&cloud, &desired, &options).await;
        let reports = apply(&cloud, planned, &options, &Silent).await;
        let failed: Vec<String> = reports
            .iter()
            .filter(|r| !matches!(r.outcome, Outcome::Applied))
            .take(3)
            .map(|r| format!("{}: {:?}", r.name, r.outcome))
            .collect();
        assert!(failed.is_empty(), "setup failed: {failed:#?}");
        println!(
            "  setup: {} functions `{}-*` created with no budget in {:.0} s",
            self.count,
            self.prefix,
            started.elapsed().as_secs_f64()
        );
    }

    /// Every function's alias.
    pub async fn aliases(&self, cloud: &AwsCloud) -> Aliases {
        let mut out = BTreeMap::new();
        for name in self.names() {
            let alias = cloud
                .list_aliases(&name)
                .await
                .ok()
                .and_then(|a| a.into_iter().find(|a| a.name == ALIAS));
            if let Some(a) = alias {
                out.insert(name, (a.version, a.additional_version.map(|(v, _)| v)));
            }
        }
        out
    }
}

/// Each function's alias: (version, additional version).
pub type Aliases = BTreeMap<String, (String, Option<String>)>;

pub fn metered(clients: &Clients, rates: Rates) -> Metered<AwsCloud> {
    Metered::new(
        clients.cloud(),
        Arc::new(Budget::new(rates)),
        RetryPolicy::default(),
    )
}

/// Calls by class.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub lambda_control: u64,
    pub get_function: u64,
    pub other: u64,
    pub throttled: u64,
}

pub fn counts(stats: &CallStats) -> Counts {
    let mut counts = Counts::default();
    for (api, outcome, n) in stats.snapshot() {
        match api.class() {
            CallClass::LambdaControl => counts.lambda_control += n,
            CallClass::GetFunction => counts.get_function += n,
            _ => counts.other += n,
        }
        if outcome == "throttled" {
            counts.throttled += n;
        }
    }
    counts
}

/// Whether a `shepherd_aws_calls_total` line is of a Lambda control-plane call.
pub fn is_budgeted_line(line: &str) -> bool {
    line.split_once("api=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .and_then(|(name, _)| Api::ALL.iter().find(|a| a.name() == name))
        .is_some_and(|api| api.class() == CallClass::LambdaControl)
}

/// A git repository of `root` (its `app/` and `specs/`), committed; the controller's
/// own folder beside it.
pub fn git_repository(root: &Path) {
    use crate::common::controller::git;
    git(root, &["init", "--quiet", "--initial-branch", "main"]);
    git(root, &["add", "."]);
    git(root, &["commit", "--quiet", "-m", "fleet"]);
}
