//! Pruning over the in-memory fake: only this owner's functions that the whole spec set no
//! longer names are deleted, and a pass in which any function of the set failed to package
//! or to be observed deletes nothing.

use std::sync::Arc;

use shepherd_core::cloud::*;
use shepherd_core::lint::LintConfig;
use shepherd_core::model::{Owner, tags};
use shepherd_core::validate::ValidFunction;
use shepherd_engine::budget::{Budget, Rates};
use shepherd_engine::execute::{FunctionReport, Outcome};
use shepherd_engine::metered::Metered;
use shepherd_engine::progress::Silent;
use shepherd_engine::reconcile::{PRUNE, ReconcileOptions, apply, plan_spec_set, resolve_desired};
use shepherd_engine::retry::RetryPolicy;
use shepherd_fake::{FakeCloud, function_arn};

struct World {
    specs: tempfile::TempDir,
    aws: FakeCloud,
    shepherd: Metered<FakeCloud>,
}

fn spec(name: &str, code: &str) -> String {
    format!(
        "apiVersion: shepherd.dev/v1alpha1\n\
         kind: Function\n\
         metadata:\n  name: {name}\n\
         spec:\n\
         \x20 code:\n{code}\
         \x20 handler: app.handler\n\
         \x20 runtime: python3.12\n\
         \x20 role: arn:aws:iam::123456789012:role/{name}\n"
    )
}

fn s3(name: &str) -> String {
    format!("    s3:\n      bucket: artifacts\n      key: {name}/1.0.0.zip\n")
}

impl World {
    fn new() -> Self {
        let aws = FakeCloud::new();
        let shepherd = Metered::new(
            aws.clone(),
            Arc::new(Budget::new(Rates::default())),
            RetryPolicy::default(),
        );
        Self {
            specs: tempfile::tempdir().unwrap(),
            aws,
            shepherd,
        }
    }

    fn write(&self, file: &str, text: &str) {
        let path = self.specs.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn valid(&self) -> Vec<ValidFunction> {
        let report =
            shepherd_core::check_specs(&[self.specs.path().to_path_buf()], &LintConfig::default());
        assert!(report.is_valid(), "{:#?}", report.diagnostics);
        report.functions
    }

    fn options(prune: bool) -> ReconcileOptions {
        let mut options = ReconcileOptions::default();
        options.plan.prune = prune;
        options.plan.owner = Owner::parse("team-a").unwrap();
        options
    }

    /// `shepherd apply [--prune]` of the functions given.
    async fn apply(&self, functions: &[ValidFunction], prune: bool) -> Vec<FunctionReport> {
        let options = Self::options(prune);
        let desired = resolve_desired(functions, &[]);
        let planned = plan_spec_set(&self.shepherd, &desired, &options).await;
        apply(&self.shepherd, planned, &options, &Silent).await
    }
}

fn failure<'a>(reports: &'a [FunctionReport], name: &str) -> &'a str {
    match reports.iter().find(|r| r.name == name).map(|r| &r.outcome) {
        Some(Outcome::Failed { error, .. }) => error,
        other => panic!("{name}: {other:?} in {reports:#?}"),
    }
}

/// Three functions applied, then `old-reports` left out of the specs.
async fn world_with_a_function_to_prune() -> World {
    let world = World::new();
    world.write("orders.yaml", &spec("orders", &s3("orders")));
    world.write("old-reports.yaml", &spec("old-reports", &s3("old-reports")));
    world.write("app/reports/app.py", "def handler(e, c):\n    return 1\n");
    world.write("reports.yaml", &spec("reports", "    path: app/reports\n"));
    world.apply(&world.valid(), false).await;
    std::fs::remove_file(world.specs.path().join("old-reports.yaml")).unwrap();
    world
}

#[tokio::test(start_paused = true)]
async fn prune_deletes_this_owners_functions_the_spec_set_no_longer_names() {
    let world = world_with_a_function_to_prune().await;
    // Another spec source's function, and one deployed before owners were recorded.
    world.write("billing.yaml", &spec("billing", &s3("billing")));
    let billing: Vec<_> = world
        .valid()
        .into_iter()
        .filter(|f| f.name() == "billing")
        .collect();
    let mut other = World::options(false);
    other.plan.owner = Owner::parse("team-b").unwrap();
    let desired = resolve_desired(&billing, &[]);
    let planned = plan_spec_set(&world.shepherd, &desired, &other).await;
    apply(&world.shepherd, planned, &other, &Silent).await;
    std::fs::remove_file(world.specs.path().join("billing.yaml")).unwrap();
    world.aws.with_function_mut("orders", |f| {
        f.tags.remove(tags::OWNER);
    });
    world.write("orders.yaml", &spec("orders", &s3("orders")));

    let reports = world.apply(&world.valid(), true).await;
    assert_eq!(
        world.aws.function_names(),
        ["billing", "orders", "reports"],
        "{reports:#?}"
    );
    let pruned = reports.iter().find(|r| r.name == "old-reports").unwrap();
    assert_eq!(pruned.outcome, Outcome::Applied, "{pruned:#?}");
}

#[tokio::test(start_paused = true)]
async fn a_function_whose_code_cannot_be_packaged_is_reported_and_nothing_is_pruned() {
    let world = world_with_a_function_to_prune().await;
    let functions = world.valid();
    // The code folder breaks after validation (a newer checkout): a dangling link.
    let app = world.specs.path().join("app/reports");
    std::fs::remove_file(app.join("app.py")).unwrap();
    std::os::unix::fs::symlink(app.join("missing.py"), app.join("app.py")).unwrap();

    let reports = world.apply(&functions, true).await;
    assert!(
        failure(&reports, "reports").contains("app.py"),
        "{reports:#?}"
    );
    assert!(
        failure(&reports, PRUNE).starts_with("nothing pruned: 1 function of the spec set failed"),
        "{reports:#?}"
    );
    assert_eq!(
        world.aws.function_names(),
        ["old-reports", "orders", "reports"]
    );
    assert_eq!(world.aws.call_count(Api::DeleteFunction), 0);
}

#[tokio::test(start_paused = true)]
async fn a_function_that_cannot_be_observed_is_reported_and_nothing_is_pruned() {
    let world = world_with_a_function_to_prune().await;
    let server_error = CloudError::Server {
        api: Api::GetFunction,
        status: 500,
        message: "InternalFailure".into(),
    };
    // One function at a time, and as many failures as the retry policy makes attempts:
    // the first function observed (`orders`) cannot be read, the others can.
    let mut options = World::options(true);
    options.execute.concurrency = 1;
    let attempts = RetryPolicy::default().max_attempts as usize;
    world
        .aws
        .fail_next(Api::GetFunction, server_error, attempts);

    let desired = resolve_desired(&world.valid(), &[]);
    let planned = plan_spec_set(&world.shepherd, &desired, &options).await;
    let reports = apply(&world.shepherd, planned, &options, &Silent).await;
    assert!(
        failure(&reports, "orders").contains("HTTP 500"),
        "{reports:#?}"
    );
    assert!(
        failure(&reports, PRUNE).starts_with("nothing pruned"),
        "{reports:#?}"
    );
    let reports_outcome = &reports
        .iter()
        .find(|r| r.name == "reports")
        .unwrap()
        .outcome;
    assert_eq!(*reports_outcome, Outcome::Unchanged, "the others were read");
    assert_eq!(
        world.aws.function_names(),
        ["old-reports", "orders", "reports"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_function_claimed_by_another_owner_after_the_listing_is_not_deleted() {
    let world = world_with_a_function_to_prune().await;
    let options = World::options(true);
    let desired = resolve_desired(&world.valid(), &[]);
    let planned = plan_spec_set(&world.shepherd, &desired, &options).await;
    // Between the listing and the deletion, another source takes the function over.
    let taken = std::collections::BTreeMap::from([(tags::OWNER.to_owned(), "team-b".to_owned())]);
    futures::executor::block_on(shepherd_core::cloud::Functions::tag_function(
        &world.aws,
        &function_arn("old-reports", None),
        &taken,
    ))
    .unwrap();
    let reports = apply(&world.shepherd, planned, &options, &Silent).await;
    assert!(
        failure(&reports, "old-reports").contains("no longer carries shepherd.dev/owner=team-a"),
        "{reports:#?}"
    );
    assert!(world.aws.function("old-reports").is_some());
}
