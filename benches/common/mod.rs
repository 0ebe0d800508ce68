//! Shared by the emulator, rollback, controller, idle and fleet benchmarks: AWS clients for the
//! emulator with test credentials of their own (so no environment needs changing), alarm
//! and alias helpers, the `shepherd` release binary, a controller to run, and figures.

#![allow(dead_code)]

pub mod controller;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shepherd_aws::AwsCloud;
use shepherd_core::cloud::Aliases;
use shepherd_core::cloud::{Api, CallClass};
use shepherd_engine::stats::CallStats;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// Whether cargo ran the bench (`cargo bench`): without `--bench` (as
/// `cargo test --all-targets` runs bench targets) it must return at once.
pub fn wanted(name: &str) -> bool {
    if std::env::args().any(|a| a == "--bench") {
        return true;
    }
    println!(
        "{name} benchmark: skipped (run it with `cargo bench -p shepherd-e2e --bench {name}`)"
    );
    false
}

pub fn machine() -> String {
    format!(
        "machine: {} cores, load average {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    )
}

/// The release `shepherd` binary (`SHEPHERD_BIN` overrides), if built.
pub fn release_bin() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SHEPHERD_BIN") {
        return Some(PathBuf::from(path));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let path = target.join("release").join("shepherd");
    path.exists().then_some(path)
}

/// Clients of the emulator, with test credentials.
pub struct Clients {
    pub lambda: aws_sdk_lambda::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sqs: aws_sdk_sqs::Client,
}

impl Clients {
    pub fn new(endpoint: &str) -> Self {
        let credentials =
            aws_sdk_lambda::config::Credentials::new("testing", "testing", None, None, "bench");
        let lambda = aws_sdk_lambda::Config::builder()
            .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
            .region(aws_sdk_lambda::config::Region::new(REGION))
            .endpoint_url(endpoint)
            .credentials_provider(credentials.clone())
            .build();
        let cloudwatch = aws_sdk_cloudwatch::Config::builder()
            .behavior_version(aws_sdk_cloudwatch::config::BehaviorVersion::latest())
            .region(aws_sdk_cloudwatch::config::Region::new(REGION))
            .endpoint_url(endpoint)
            .credentials_provider(credentials.clone())
            .build();
        let sqs = aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .region(aws_sdk_sqs::config::Region::new(REGION))
            .endpoint_url(endpoint)
            .credentials_provider(credentials)
            .build();
        Self {
            lambda: aws_sdk_lambda::Client::from_conf(lambda),
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(cloudwatch),
            sqs: aws_sdk_sqs::Client::from_conf(sqs),
        }
    }

    /// shepherd's `Cloud` on these clients (SDK retries off, as in `shepherd`).
    pub fn cloud(&self) -> AwsCloud {
        AwsCloud::new(self.lambda.clone(), self.cloudwatch.clone())
    }

    /// `SetAlarmState`, as CloudWatch does when the metric crosses the threshold.
    pub async fn set_alarm(&self, name: &str, state: &str) {
        self.cloudwatch
            .set_alarm_state()
            .alarm_name(name)
            .state_value(aws_sdk_cloudwatch::types::StateValue::from(state))
            .state_reason("set by the benchmark")
            .send()
            .await
            .expect("SetAlarmState");
    }

    /// What an EventBridge rule delivers to the alarm queue for an alarm state change.
    pub async fn send_alarm_event(&self, queue_url: &str, alarm: &str, state: &str) {
        let body = serde_json::json!({
            "version": "0",
            "id": "bench",
            "detail-type": "CloudWatch Alarm State Change",
            "source": "aws.cloudwatch",
            "account": ACCOUNT,
            "region": REGION,
            "resources": [format!("arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{alarm}")],
            "detail": {
                "alarmName": alarm,
                "state": {"value": state, "reason": "set by the benchmark"},
                "previousState": {"value": "OK"},
            },
        });
        self.sqs
            .send_message()
            .queue_url(queue_url)
            .message_body(body.to_string())
            .send()
            .await
            .expect("SendMessage");
    }
}

/// The alias's version and additional version (with its weight, 0-1).
pub async fn alias(
    cloud: &AwsCloud,
    function: &str,
    alias: &str,
) -> Option<(String, Option<(String, f64)>)> {
    let aliases = cloud.list_aliases(function).await.ok()?;
    aliases
        .into_iter()
        .find(|a| a.name == alias)
        .map(|a| (a.version, a.additional_version))
}

/// Polls the alias every `every` until `done` holds; `None` after `limit`.
pub async fn wait_for_alias(
    cloud: &AwsCloud,
    function: &str,
    name: &str,
    every: Duration,
    limit: Duration,
    done: impl Fn(&str, Option<&(String, f64)>) -> bool,
) -> Option<(String, Option<(String, f64)>)> {
    let start = std::time::Instant::now();
    loop {
        if let Some(state) = alias(cloud, function, name).await
            && done(&state.0, state.1.as_ref())
        {
            return Some(state);
        }
        if start.elapsed() > limit {
            return None;
        }
        tokio::time::sleep(every).await;
    }
}

/// Nanoseconds since the Unix epoch.
pub fn unix_nanos(at: SystemTime) -> i128 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128)
}

/// Figures of a sample of durations.
pub struct Summary {
    sorted: Vec<Duration>,
}

impl Summary {
    pub fn new(samples: &[Duration]) -> Self {
        let mut sorted = samples.to_vec();
        sorted.sort();
        Self { sorted }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn min(&self) -> Duration {
        self.sorted.first().copied().unwrap_or_default()
    }

    pub fn max(&self) -> Duration {
        self.sorted.last().copied().unwrap_or_default()
    }

    /// Nearest rank: the smallest sample with at least `p`% of the samples at or below it.
    pub fn percentile(&self, p: f64) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * self.sorted.len() as f64).ceil().max(1.0) as usize;
        self.sorted[rank.min(self.sorted.len()) - 1]
    }

    pub fn median(&self) -> Duration {
        self.percentile(50.0)
    }

    pub fn mean(&self) -> Duration {
        if self.sorted.is_empty() {
            return Duration::ZERO;
        }
        self.sorted.iter().sum::<Duration>() / self.sorted.len() as u32
    }

    /// `min 12 ms, median 40 ms, p90 .., p99 .., max ..` in `unit` ("ms" or "s").
    pub fn line(&self, unit: &str) -> String {
        let show = |d: Duration| match unit {
            "s" => format!("{:.2} s", d.as_secs_f64()),
            _ => format!("{:.0} ms", d.as_secs_f64() * 1e3),
        };
        format!(
            "n={}: min {}, median {}, mean {}, p90 {}, p99 {}, max {}",
            self.len(),
            show(self.min()),
            show(self.median()),
            show(self.mean()),
            show(self.percentile(90.0)),
            show(self.percentile(99.0)),
            show(self.max())
        )
    }
}

pub fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT MET" }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Nanoseconds since the epoch of an RFC 3339 UTC timestamp as tracing writes it
/// (`2026-11-26T15:10:00.123456Z`).
pub fn parse_rfc3339(text: &str) -> Option<i128> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut date = date.split('-').map(|p| p.parse::<i64>());
    let (year, month, day) = (date.next()?.ok()?, date.next()?.ok()?, date.next()?.ok()?);
    let (hms, fraction) = time.split_once('.').unwrap_or((time, "0"));
    let mut hms = hms.split(':').map(|p| p.parse::<i64>());
    let (hour, minute, second) = (hms.next()?.ok()?, hms.next()?.ok()?, hms.next()?.ok()?);
    let digits: String = fraction.chars().take(9).collect();
    let nanos = format!("{digits:0<9}").parse::<i64>().ok()?;
    let seconds = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    Some(i128::from(seconds) * 1_000_000_000 + i128::from(nanos))
}

/// Calls by API, most frequent first: `CreateFunction 200, PublishVersion 200, ...`.
pub fn by_api(stats: &CallStats, class: impl Fn(CallClass) -> bool) -> String {
    let mut apis: BTreeMap<Api, u64> = BTreeMap::new();
    for (api, _, n) in stats.snapshot() {
        if class(api.class()) {
            *apis.entry(api).or_default() += n;
        }
    }
    let mut apis: Vec<_> = apis.into_iter().collect();
    apis.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.name().cmp(b.0.name())));
    apis.iter()
        .map(|(api, n)| format!("{api} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
