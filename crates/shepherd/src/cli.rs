//! Command-line arguments, parsed once at start.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use shepherd_core::spec::HumanDuration;

/// shepherd keeps AWS Lambda functions in the state described by YAML specs in git:
/// code, configuration, versions, aliases and concurrency, with canary rollouts that roll
/// back by themselves when alarms fire.
#[derive(Debug, Parser)]
#[command(name = "shepherd", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Log level (error, warn, info, debug, trace) or a tracing filter such as
    /// `shepherd=debug`.
    #[arg(long, global = true, env = "SHEPHERD_LOG", default_value = "warn")]
    pub log_level: String,
    /// Log format on standard error.
    #[arg(long, global = true, value_enum, env = "SHEPHERD_LOG_FORMAT", default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check specs for errors and best-practice warnings, without touching AWS.
    ///
    /// Reads every *.yaml and *.yml file under each PATH (hidden files and folders are
    /// skipped) and reports every problem as FILE:LINE:COLUMN: FIELD: MESSAGE.
    /// Exits 0 when the specs are valid (warnings are printed but allowed), 1 when not.
    #[command(
        after_help = "Examples:\n  shepherd validate examples/specs\n  shepherd validate functions/orders.yaml --format json"
    )]
    Validate(ValidateArgs),
    /// Show what `apply` would change in AWS, function by function, without changing it.
    ///
    /// Exits 0 when AWS already matches the specs, 2 when changes are pending, 1 on
    /// errors (invalid specs, functions that cannot be read or are not managed).
    #[command(
        after_help = "Examples:\n  shepherd plan examples/specs\n  shepherd plan specs/ --only orders-api --format json\n  AWS_PROFILE=staging shepherd plan specs/ --region eu-west-1"
    )]
    Plan(PlanArgs),
    /// Make AWS match the specs: create and update functions, publish versions, move
    /// aliases, set concurrency, async config, event sources, alarms and tags.
    ///
    /// Invalid specs change nothing. One function's failure does not stop the others;
    /// the run ends with a summary per function. Exits 0 when everything applied, 1 when
    /// anything failed.
    #[command(
        after_help = "Examples:\n  shepherd apply examples/specs\n  shepherd apply specs/ --only orders-api\n  shepherd apply specs/ --dry-run"
    )]
    Apply(ApplyArgs),
    /// Run the controller: keep AWS in the state of a spec repository (git or a folder),
    /// with webhooks, SQS triggers, a status API and Prometheus metrics.
    ///
    /// Every setting can come from a YAML file (--config) and be overridden by a flag.
    /// Secrets come from the environment only: SHEPHERD_GITHUB_WEBHOOK_SECRET,
    /// SHEPHERD_GITLAB_TOKEN, SHEPHERD_WEBHOOK_SECRET and SHEPHERD_API_TOKEN. SIGTERM or
    /// SIGINT stops taking work and lets the reconciles in flight finish; a second one
    /// exits at once.
    #[command(
        after_help = "Examples:\n  shepherd run --source https://github.com/acme/lambda-specs.git --path specs\n  shepherd run --source ./examples/specs --listen 127.0.0.1:8080\n  shepherd run --config /etc/shepherd/config.yaml"
    )]
    Run(Box<RunArgs>),
    /// Show each function's alias and rollout: phase, step, weights, pause left, alarms.
    ///
    /// With --wait, keep looking until no rollout is in flight, then exit 0 when every
    /// rollout ended healthy and 1 when one rolled back or was aborted (for CI gates).
    #[command(
        after_help = "Examples:\n  shepherd status --specs examples/specs\n  shepherd status orders-api --specs specs/ --wait"
    )]
    Status(StatusArgs),
    /// Move a rollout to its next step now; --full: straight to 100%.
    Promote(PromoteArgs),
    /// Send all traffic back to the stable version now. The release is not rolled out
    /// again until the spec changes or `shepherd retry`.
    Abort(RolloutArgs),
    /// Hold a rollout at its current step (alarms still roll it back).
    Pause(RolloutArgs),
    /// Continue a paused rollout; the current pause starts over.
    Resume(RolloutArgs),
    /// Roll out again a release that was rolled back or aborted (on the next apply).
    Retry(RolloutArgs),
    /// Print the JSON Schema of a Function spec, for editors and other tools.
    ///
    /// Point your editor's YAML language server at it, for example with a first line of
    /// `# yaml-language-server: $schema=../docs/spec.schema.json` in a spec file.
    Schema,
    /// List the best-practice lints with their default levels and reasons.
    Lints,
    /// The DynamoDB table of leader leases (`shepherd run --lease-table`).
    #[command(subcommand)]
    LeaseTable(LeaseTableCommand),
}

#[derive(Debug, Subcommand)]
pub enum LeaseTableCommand {
    /// Create the lease table: key `target` (string), on-demand capacity. An existing
    /// table of that name is left as it is.
    #[command(after_help = "Examples:\n  shepherd lease-table create shepherd-leases")]
    Create(LeaseTableArgs),
}

#[derive(Debug, Args)]
pub struct LeaseTableArgs {
    /// The table's name.
    #[arg(value_name = "TABLE")]
    pub table: String,
    /// AWS region [default: from AWS_REGION or the profile].
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Send AWS calls to this endpoint, e.g. a local emulator at http://127.0.0.1:5000.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Spec files or directories (searched recursively).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Output format: human-readable text, or JSON for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Lint configuration file [default: .shepherd.yaml in the first PATH that is a directory].
    #[arg(long, value_name = "FILE", env = "SHEPHERD_CONFIG")]
    pub config: Option<PathBuf>,
    /// The folder local code paths must stay inside [default: the top of the git
    /// repository holding each PATH, else that PATH].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Where the specs are and which of them to act on.
#[derive(Debug, Args)]
pub struct SpecArgs {
    /// Spec files or directories (searched recursively).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// The target these specs are for: only the specs whose `metadata.target` names it are
    /// used, with the credentials and region of this run. Without it, only the specs that
    /// name no target.
    #[arg(long, value_name = "NAME", env = "SHEPHERD_TARGET")]
    pub target: Option<String>,
    /// Lint configuration file [default: .shepherd.yaml in the first PATH that is a directory].
    #[arg(long, value_name = "FILE", env = "SHEPHERD_CONFIG")]
    pub config: Option<PathBuf>,
    /// Act only on this function (repeatable).
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// Take over functions the specs name that exist but were not created by shepherd, or
    /// that another spec source owns.
    #[arg(long)]
    pub adopt: bool,
    /// Delete this owner's functions that the specs no longer name. An empty spec set, or
    /// one in which a function failed to package or to be read, never prunes.
    #[arg(long)]
    pub prune: bool,
    /// Who manages these functions, recorded in the `shepherd.dev/owner` tag; functions of
    /// other owners are never changed or pruned [default: the specs' git repository and
    /// folder, e.g. `github.com/acme/specs/prod`, or the folder's path outside git].
    #[arg(long, env = "SHEPHERD_OWNER", value_name = "OWNER")]
    pub owner: Option<String>,
    /// The folder local code paths must stay inside [default: the top of the git
    /// repository holding each PATH, else that PATH].
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Published versions to keep besides those an alias points to (old ones are pruned
    /// on every fifth publish and on a full refresh).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub keep_versions: usize,
    /// `changed` reads what the recorded spec digests point to; `full` reads every
    /// sub-resource to find drift anywhere.
    #[arg(long, value_enum, default_value_t = RefreshArg::Changed)]
    pub refresh: RefreshArg,
    /// How often a rollout looks at its gating alarms during a pause (at least 5s).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_poll)]
    pub alarm_poll: Duration,
}

/// Parses a duration such as `10s`; alarm polls more often than every 5s would only
/// spend the API budget.
fn parse_poll(text: &str) -> Result<Duration, String> {
    let duration = HumanDuration::parse(text)?.0;
    if duration < Duration::from_secs(5) {
        return Err(format!("{text} is below the minimum of 5s"));
    }
    Ok(duration)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RefreshArg {
    Changed,
    Full,
}

/// How to reach AWS. Credentials and defaults come from the standard AWS environment
/// variables, profiles and instance roles.
#[derive(Debug, Args)]
pub struct AwsArgs {
    /// AWS region [default: from AWS_REGION or the profile].
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,
    /// Send AWS calls to this endpoint, e.g. a local emulator at http://127.0.0.1:5000.
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Lambda control-plane calls per second, shared by all functions (AWS allows 15 per
    /// account and region) [default: 15].
    #[arg(long, value_name = "PER_SECOND", env = "SHEPHERD_LAMBDA_RATE")]
    pub lambda_rate: Option<f64>,
    /// Functions worked on at once [default: 16].
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Output format: a readable diff, or JSON for tools.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Show the plan and stop, changing nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Keep reconciling until every rollout has finished (promoted, rolled back, or
    /// waiting for promote); exit 1 if one rolled back.
    #[arg(long)]
    pub wait: bool,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Which specs describe the functions (for their rollout steps).
#[derive(Debug, Args)]
pub struct SpecsArg {
    /// Spec files or directories.
    #[arg(long = "specs", value_name = "PATH", default_value = ".")]
    pub specs: Vec<PathBuf>,
    /// The target of the function: only the specs whose `metadata.target` names it are
    /// read. Without it, only the specs that name no target.
    #[arg(long, value_name = "NAME", env = "SHEPHERD_TARGET")]
    pub target: Option<String>,
    /// Lint configuration file.
    #[arg(long, value_name = "FILE", env = "SHEPHERD_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// The function.
    pub name: String,
    #[command(flatten)]
    pub specs: SpecsArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub server: ServerArg,
}

/// Talk to a running controller (`shepherd run`) instead of to AWS.
#[derive(Debug, Args)]
pub struct ServerArg {
    /// The controller's HTTP address, e.g. http://localhost:8080.
    #[arg(long = "server", env = "SHEPHERD_SERVER", value_name = "URL")]
    pub url: Option<String>,
    /// The bearer token of the controller's rollout commands.
    #[arg(
        long,
        env = "SHEPHERD_API_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    #[command(flatten)]
    pub rollout: RolloutArgs,
    /// Skip the remaining steps: the new version gets 100% now.
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Functions to show (all when none).
    pub names: Vec<String>,
    #[command(flatten)]
    pub specs: SpecsArg,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub server: ServerArg,
    /// Refresh every few seconds until interrupted.
    #[arg(long, conflicts_with = "wait")]
    pub watch: bool,
    /// Wait until no rollout is in flight; exit 0 if all are healthy, 1 if one rolled
    /// back or was aborted (or could not be read), 2 if `--timeout` ran out first.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this long (exit 2), as `kubectl wait --timeout` does.
    #[arg(long, value_name = "DURATION", requires = "wait", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// YAML configuration file; flags override its values.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The spec repository: a git URL (https, ssh, file://) or a local folder.
    #[arg(long, env = "SHEPHERD_SOURCE", value_name = "URL_OR_PATH")]
    pub source: Option<String>,
    /// The branch to deploy [default: main].
    #[arg(long)]
    pub branch: Option<String>,
    /// The folder of the repository that holds the specs [default: .].
    #[arg(long, value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Where the git checkout is kept [default: a folder under the system's temp dir].
    #[arg(long, value_name = "DIR")]
    pub checkout_dir: Option<PathBuf>,
    /// How often the source is fetched [default: 1m].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub poll_interval: Option<Duration>,
    /// How often every function is reconciled [default: 1m].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub resync_interval: Option<Duration>,
    /// How often a resync reads every sub-resource to find drift anywhere [default: 10m].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub full_refresh_interval: Option<Duration>,
    /// The share of the call budget the resync and full refreshes may use, from 0 to 1;
    /// the rest stays for releases, rollouts and rollbacks [default: 0.33].
    #[arg(long, value_name = "FRACTION")]
    pub resync_budget_share: Option<f64>,
    /// How often a rollout looks at its alarms during a pause [default: 10s, at least 5s].
    #[arg(long, value_name = "DURATION", value_parser = parse_poll)]
    pub alarm_poll: Option<Duration>,
    /// Published versions kept besides those aliases point to, pruned on every fifth
    /// publish and each full refresh [default: 5].
    #[arg(long, value_name = "N")]
    pub keep_versions: Option<usize>,
    /// Take over functions the specs name that exist but were not created by shepherd, or
    /// that another spec source owns.
    #[arg(long)]
    pub adopt: bool,
    /// Delete this owner's functions that the specs no longer name (a separate step over
    /// the whole spec set, skipped while any function fails to package).
    #[arg(long)]
    pub prune: bool,
    /// Who manages these functions, recorded in the `shepherd.dev/owner` tag [default: the
    /// source URL without credentials, and --path, e.g. `github.com/acme/specs/prod`].
    #[arg(long, env = "SHEPHERD_OWNER", value_name = "OWNER")]
    pub owner: Option<String>,
    /// Address of the HTTP server (health, metrics, API, webhooks) [default: 0.0.0.0:8080].
    #[arg(long, value_name = "ADDRESS")]
    pub listen: Option<String>,
    /// Put the status API (`GET /api/v1/functions...`) behind the API token too. Off by
    /// default: it is read-only and holds no secrets; turn it on when the port faces the
    /// internet.
    #[arg(long, env = "SHEPHERD_PROTECT_STATUS")]
    pub protect_status: bool,
    /// HTTP connections served at once; at the bound, the one idle the longest makes room
    /// [default: 512].
    #[arg(long, value_name = "N", env = "SHEPHERD_HTTP_MAX_CONNECTIONS")]
    pub http_max_connections: Option<usize>,
    /// SQS queue of deploy requests (`{"functions": [...], "commit": "..."}`).
    #[arg(long, value_name = "URL")]
    pub deploy_queue_url: Option<String>,
    /// SQS queue of EventBridge "CloudWatch Alarm State Change" events.
    #[arg(long, value_name = "URL")]
    pub alarm_queue_url: Option<String>,
    /// SQS queue of EventBridge "AWS API Call via CloudTrail" events of Lambda and
    /// CloudWatch: a managed function changed outside shepherd is refreshed at once.
    #[arg(long, value_name = "URL")]
    pub drift_queue_url: Option<String>,
    /// High availability: the DynamoDB table of leader leases (`shepherd lease-table
    /// create`). Run several replicas with the same table: only the holder of the lease
    /// acts, and another takes over when it stops.
    #[arg(long, env = "SHEPHERD_LEASE_TABLE", value_name = "TABLE")]
    pub lease_table: Option<String>,
    /// How long a lease lasts without renewal [default: 20s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lease_duration: Option<Duration>,
    /// How often the holder renews its lease and standbys read it [default: 5s].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lease_heartbeat: Option<Duration>,
    /// This replica's id in the lease table [default: the host name and a random suffix].
    #[arg(long, env = "SHEPHERD_REPLICA_ID", value_name = "ID")]
    pub replica_id: Option<String>,
    /// Where other replicas reach this one's HTTP API (commands sent to a standby are
    /// answered with the holder's URL) [default: http://HOSTNAME:PORT].
    #[arg(long, env = "SHEPHERD_ADVERTISE_URL", value_name = "URL")]
    pub advertise_url: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = HumanDuration::parse(text)?.0;
    if duration < Duration::from_secs(1) {
        return Err(format!("{text} is below the minimum of 1s"));
    }
    Ok(duration)
}
