//! `shepherd run`'s settings: the configuration file, the flags, and the defaults, resolved
//! and checked once before anything starts.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use shepherd_controller::controller::Settings;
use shepherd_controller::server::{DEFAULT_MAX_CONNECTIONS, ReadAccess, ServerLimits};
use shepherd_controller::source::SourceConfig;
use shepherd_core::lease::LeaseSettings;
use shepherd_core::model::Owner;
use shepherd_core::plan::PlanOptions;
use shepherd_core::spec::HumanDuration;
use shepherd_core::validate::targets::Targets;
use shepherd_engine::budget::{ROUTINE_SHARE, Rates};
use shepherd_engine::execute::ExecuteOptions;
use shepherd_engine::reconcile::ReconcileOptions;

use super::hooks::{FileHooks, Hooks};
use super::targets::{FileTarget, Queues, TargetConfig, resolve_targets};
use crate::cli::RunArgs;

/// The shortest alarm poll: a faster one spends the CloudWatch budget for nothing.
const MIN_ALARM_POLL: Duration = Duration::from_secs(5);

/// `shepherd run`'s settings when neither a flag nor the configuration file gives one:
/// every default in one place (the shared ones come from the engine and the server).
struct RunDefaults {
    poll_interval: Duration,
    resync_interval: Duration,
    full_refresh_interval: Duration,
    alarm_poll: Duration,
    keep_versions: usize,
    concurrency: usize,
    lambda_rate: f64,
    resync_budget_share: f64,
    max_connections: usize,
}

impl RunDefaults {
    fn get() -> Self {
        Self {
            poll_interval: Duration::from_secs(60),
            resync_interval: Duration::from_secs(60),
            full_refresh_interval: Duration::from_secs(600),
            alarm_poll: PlanOptions::default().alarm_poll,
            keep_versions: PlanOptions::default().keep_versions,
            concurrency: ExecuteOptions::default().concurrency,
            lambda_rate: Rates::default().lambda_control,
            resync_budget_share: ROUTINE_SHARE,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The configuration file: every key mirrors a flag.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileConfig {
    #[serde(default)]
    source: FileSource,
    #[serde(default)]
    reconcile: FileReconcile,
    #[serde(default)]
    queues: Queues,
    listen: Option<String>,
    #[serde(default)]
    http: FileHttp,
    #[serde(default)]
    leases: FileLeases,
    #[serde(default)]
    targets: Vec<FileTarget>,
    default_target: Option<String>,
    #[serde(default)]
    hooks: FileHooks,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileLeases {
    table: Option<String>,
    duration: Option<HumanDuration>,
    heartbeat: Option<HumanDuration>,
    replica_id: Option<String>,
    advertise_url: Option<String>,
}

/// High availability: the lease table and this replica's part in it.
pub(super) struct LeaseOptions {
    pub table: String,
    pub settings: LeaseSettings,
    pub advertise_url: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileHttp {
    protect_status: Option<bool>,
    max_connections: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileSource {
    url: Option<String>,
    branch: Option<String>,
    path: Option<PathBuf>,
    poll_interval: Option<HumanDuration>,
    checkout_dir: Option<PathBuf>,
    owner: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileReconcile {
    resync_interval: Option<HumanDuration>,
    full_refresh_interval: Option<HumanDuration>,
    alarm_poll: Option<HumanDuration>,
    concurrency: Option<usize>,
    keep_versions: Option<usize>,
    lambda_rate: Option<f64>,
    resync_budget_share: Option<f64>,
    adopt: Option<bool>,
    prune: Option<bool>,
}

fn read_file(path: &Path) -> Result<FileConfig, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_yaml::from_str(&text).map_err(|e| match e.location() {
        Some(at) => format!("{}:{}:{}: {e}", path.display(), at.line(), at.column()),
        None => format!("{}: {e}", path.display()),
    })
}

/// Everything `run` needs, validated once.
pub(super) struct Resolved {
    pub settings: Settings,
    pub listen: String,
    pub read_access: ReadAccess,
    pub limits: ServerLimits,
    /// The controller's trigger queues (every target's).
    pub queues: Queues,
    pub resync_budget_share: f64,
    pub leases: Option<LeaseOptions>,
    /// This replica's id (in the lease table, and as the session name of assumed roles).
    pub replica: String,
    pub targets: Vec<TargetConfig>,
    pub target_names: Targets,
    pub hooks: Hooks,
}

/// A checkout folder of this controller's own under the temp folder: named after what it
/// checks out and where it listens (two controllers on one host listen on different
/// addresses), so that two controllers never share a checkout, and a restarted one finds
/// its own again.
fn default_checkout(source: &str, branch: &str, listen: &str) -> PathBuf {
    let digest = shepherd_core::model::short_digest(&(source, branch, listen));
    std::env::temp_dir().join(format!("shepherd-checkout-{digest}"))
}

fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "shepherd".to_owned())
}

/// The host name and a random suffix: two replicas on one host (or a pod restarted under
/// the same name) never share an id, so neither takes the other's lease for its own.
fn default_replica_id() -> String {
    let suffix =
        shepherd_core::model::short_digest(&(std::process::id(), std::time::SystemTime::now()));
    format!("{}-{}", host_name(), &suffix[..suffix.len().min(6)])
}

/// `http://HOST:PORT` with the port of `listen`.
fn default_advertise_url(listen: &str) -> String {
    let port = listen.rsplit_once(':').map_or("8080", |(_, port)| port);
    format!("http://{}:{port}", host_name())
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

pub(super) fn resolve(args: &RunArgs) -> Result<Resolved, String> {
    let file = match &args.config {
        Some(path) => read_file(path)?,
        None => FileConfig::default(),
    };
    let source =
        args.source.clone().or(file.source.url).ok_or(
            "no spec source: give --source (a git URL or a folder) or source.url in --config",
        )?;
    let branch = args
        .branch
        .clone()
        .or(file.source.branch)
        .unwrap_or_else(|| "main".to_owned());
    let path = args
        .path
        .clone()
        .or(file.source.path)
        .unwrap_or_else(|| PathBuf::from("."));
    let listen = args
        .listen
        .clone()
        .or(file.listen)
        .unwrap_or_else(|| "0.0.0.0:8080".to_owned());
    let checkout = args
        .checkout_dir
        .clone()
        .or(file.source.checkout_dir)
        .unwrap_or_else(|| default_checkout(&source, &branch, &listen));
    let is_git = ["https://", "http://", "ssh://", "git@", "file://"]
        .iter()
        .any(|p| source.starts_with(p))
        || Path::new(&source).join(".git").exists();
    let source = if is_git {
        SourceConfig::Git {
            url: source,
            branch,
            path,
            checkout,
        }
    } else {
        let folder = PathBuf::from(&source).join(&path);
        if !folder.is_dir() {
            return Err(format!("--source {}: no such folder", folder.display()));
        }
        SourceConfig::Directory {
            root: PathBuf::from(&source),
            path,
        }
    };
    let owner = match args.owner.clone().or(file.source.owner) {
        Some(text) => Owner::parse(&text).map_err(|e| format!("owner: {e}"))?,
        None => source.default_owner(),
    };
    // Each setting: the flag, else the file, else the default.
    let defaults = RunDefaults::get();
    let seconds = |d: HumanDuration| d.0;
    let poll_interval = args
        .poll_interval
        .or(file.source.poll_interval.map(seconds))
        .unwrap_or(defaults.poll_interval);
    let resync_interval = args
        .resync_interval
        .or(file.reconcile.resync_interval.map(seconds))
        .unwrap_or(defaults.resync_interval);
    let full_refresh = args
        .full_refresh_interval
        .or(file.reconcile.full_refresh_interval.map(seconds))
        .unwrap_or(defaults.full_refresh_interval);
    let alarm_poll = args
        .alarm_poll
        .or(file.reconcile.alarm_poll.map(seconds))
        .unwrap_or(defaults.alarm_poll);
    if alarm_poll < MIN_ALARM_POLL {
        return Err("reconcile.alarmPoll: at least 5s".to_owned());
    }
    let concurrency = args
        .aws
        .concurrency
        .or(file.reconcile.concurrency)
        .unwrap_or(defaults.concurrency);
    let lambda_rate = args
        .aws
        .lambda_rate
        .or(file.reconcile.lambda_rate)
        .unwrap_or(defaults.lambda_rate);
    if lambda_rate <= 0.0 {
        return Err("lambda rate: must be above 0".to_owned());
    }
    let resync_budget_share = args
        .resync_budget_share
        .or(file.reconcile.resync_budget_share)
        .unwrap_or(defaults.resync_budget_share);
    if !(resync_budget_share > 0.0 && resync_budget_share <= 1.0) {
        return Err("reconcile.resyncBudgetShare: a fraction above 0 and at most 1".to_owned());
    }
    let full_refresh_every = (full_refresh.as_secs_f64() / resync_interval.as_secs_f64())
        .round()
        .max(1.0) as u32;
    let reconcile = ReconcileOptions {
        plan: PlanOptions {
            adopt: args.adopt || file.reconcile.adopt.unwrap_or(false),
            prune: args.prune || file.reconcile.prune.unwrap_or(false),
            owner,
            keep_versions: args
                .keep_versions
                .or(file.reconcile.keep_versions)
                .unwrap_or(defaults.keep_versions),
            alarm_poll,
        },
        execute: ExecuteOptions {
            concurrency,
            ..ExecuteOptions::default()
        },
        ..ReconcileOptions::default()
    };
    let read_access = if args.protect_status || file.http.protect_status.unwrap_or(false) {
        ReadAccess::Token
    } else {
        ReadAccess::Open
    };
    let max_connections = args
        .http_max_connections
        .or(file.http.max_connections)
        .unwrap_or(defaults.max_connections);
    if max_connections == 0 {
        return Err("http.maxConnections: at least 1".to_owned());
    }
    let replica = non_empty(args.replica_id.clone().or(file.leases.replica_id.clone()))
        .unwrap_or_else(default_replica_id);
    let (targets, target_names) = resolve_targets(
        &file.targets,
        file.default_target.as_deref(),
        lambda_rate,
        &replica,
    )?;
    let leases = match non_empty(args.lease_table.clone().or(file.leases.table)) {
        Some(table) => {
            let defaults = LeaseSettings::default();
            let settings = LeaseSettings {
                duration: args
                    .lease_duration
                    .or(file.leases.duration.map(seconds))
                    .unwrap_or(defaults.duration),
                heartbeat: args
                    .lease_heartbeat
                    .or(file.leases.heartbeat.map(seconds))
                    .unwrap_or(defaults.heartbeat),
            };
            settings.check().map_err(|e| format!("leases: {e}"))?;
            let advertise_url = non_empty(args.advertise_url.clone().or(file.leases.advertise_url))
                .unwrap_or_else(|| default_advertise_url(&listen));
            Some(LeaseOptions {
                table,
                settings,
                advertise_url,
            })
        }
        None => None,
    };
    let hooks = file
        .hooks
        .resolve(leases.as_ref().map(|l| l.advertise_url.as_str()))?;
    Ok(Resolved {
        hooks,
        leases,
        replica,
        targets,
        target_names,
        read_access,
        limits: ServerLimits {
            max_connections,
            ..ServerLimits::default()
        },
        settings: Settings {
            source,
            lint_config: None,
            poll_interval,
            resync_interval,
            full_refresh_every,
            workers: concurrency.max(1),
            reconcile,
            target: Default::default(),
        },
        listen,
        queues: Queues {
            deploy_queue_url: non_empty(
                args.deploy_queue_url
                    .clone()
                    .or(file.queues.deploy_queue_url),
            ),
            alarm_queue_url: non_empty(
                args.alarm_queue_url.clone().or(file.queues.alarm_queue_url),
            ),
            drift_queue_url: non_empty(
                args.drift_queue_url.clone().or(file.queues.drift_queue_url),
            ),
        },
        resync_budget_share,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The configuration shipped in deploy/ is one `shepherd run` reads.
    #[test]
    fn the_deployed_configmap_is_a_valid_configuration() {
        let manifest = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/kubernetes/configmap.yaml"
        ))
        .unwrap();
        let (_, embedded) = manifest
            .split_once("config.yaml: |\n")
            .expect("a config.yaml key");
        let text: String = embedded
            .lines()
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let config: FileConfig = serde_yaml::from_str(&text).unwrap();
        assert!(config.source.url.is_some());
        assert_eq!(config.source.branch.as_deref(), Some("main"));
        assert!(config.reconcile.resync_interval.is_some());
    }

    #[test]
    fn two_controllers_on_one_host_get_checkouts_of_their_own() {
        let a = default_checkout("https://github.com/acme/specs.git", "main", "0.0.0.0:8080");
        let b = default_checkout("https://github.com/acme/specs.git", "main", "0.0.0.0:8081");
        let c = default_checkout("https://github.com/acme/other.git", "main", "0.0.0.0:8080");
        assert!(a != b && a != c && b != c, "{a:?} {b:?} {c:?}");
        assert_eq!(
            a,
            default_checkout("https://github.com/acme/specs.git", "main", "0.0.0.0:8080"),
            "a restarted controller finds its checkout again"
        );
    }

    fn resolved(config: &str, flags: &[&str]) -> Resolved {
        use clap::Parser;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, config).unwrap();
        let source = dir.path().to_str().unwrap();
        let mut args = vec!["shepherd", "run", "--config", path.to_str().unwrap()];
        args.extend(["--source", source]);
        args.extend(flags);
        let cli = crate::cli::Cli::try_parse_from(args).unwrap();
        let crate::cli::Command::Run(run) = cli.command else {
            unreachable!("a run command")
        };
        resolve(&run).unwrap()
    }

    #[test]
    fn each_setting_is_the_flag_else_the_file_else_the_default() {
        let file = "reconcile:\n  concurrency: 4\n  lambdaRate: 5\n  keepVersions: 2\n  resyncBudgetShare: 0.5\n";
        let from_file = resolved(file, &[]);
        assert_eq!(from_file.settings.workers, 4);
        assert_eq!(from_file.resync_budget_share, 0.5);
        let flag = resolved(file, &["--resync-budget-share", "0.2"]);
        assert_eq!(flag.resync_budget_share, 0.2);
        assert_eq!(from_file.targets[0].lambda_rate, 5.0);
        assert_eq!(from_file.settings.reconcile.plan.keep_versions, 2);
        // A flag wins even when it names the default value.
        let flags = resolved(file, &["--concurrency", "16", "--lambda-rate", "15"]);
        assert_eq!(flags.settings.workers, 16);
        assert_eq!(flags.targets[0].lambda_rate, 15.0);
        let defaults = resolved("", &[]);
        assert_eq!(defaults.settings.workers, 16);
        assert_eq!(defaults.targets[0].lambda_rate, 15.0);
        assert_eq!(defaults.resync_budget_share, ROUTINE_SHARE);
        assert_eq!(defaults.settings.reconcile.plan.keep_versions, 5);
        assert_eq!(defaults.settings.poll_interval, Duration::from_secs(60));
    }

    #[test]
    fn leases_are_off_without_a_table_and_take_the_flag_else_the_file_else_the_default() {
        assert!(resolved("", &[]).leases.is_none());
        let file = "leases:\n  table: shepherd-leases\n  duration: 30s\n";
        let leases = resolved(file, &["--lease-heartbeat", "10s"])
            .leases
            .unwrap();
        assert_eq!(leases.table, "shepherd-leases");
        assert_eq!(leases.settings.duration, Duration::from_secs(30));
        assert_eq!(leases.settings.heartbeat, Duration::from_secs(10));
        let defaults = resolved("", &["--lease-table", "t", "--listen", "0.0.0.0:9090"])
            .leases
            .unwrap();
        assert_eq!(defaults.settings, LeaseSettings::default());
        assert!(
            defaults.advertise_url.starts_with("http://")
                && defaults.advertise_url.ends_with(":9090")
        );
        assert!(resolved("", &[]).replica.starts_with(&host_name()));
        assert_ne!(
            default_replica_id(),
            default_replica_id(),
            "unique per start"
        );
    }

    #[test]
    fn a_heartbeat_too_slow_for_its_lease_is_refused() {
        use clap::Parser;
        let cli = crate::cli::Cli::try_parse_from([
            "shepherd",
            "run",
            "--source",
            ".",
            "--lease-table",
            "t",
            "--lease-heartbeat",
            "10s",
        ])
        .unwrap();
        let crate::cli::Command::Run(run) = cli.command else {
            unreachable!("a run command")
        };
        let error = resolve(&run).err().expect("refused");
        assert!(error.contains("heartbeat"), "{error}");
    }

    #[test]
    fn a_misspelt_key_is_reported_with_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        std::fs::write(&path, "source:\n  url: x\n  brnach: main\n").unwrap();
        let error = read_file(&path).unwrap_err();
        assert!(
            error.contains("config.yaml:3:3") && error.contains("brnach"),
            "{error}"
        );
    }
}
