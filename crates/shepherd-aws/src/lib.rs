//! shepherd's AWS adapter: the ports of [`shepherd_core::cloud`] implemented with the AWS
//! SDK for Rust, over Lambda and CloudWatch, with SQS (event source queues), S3 and ECR
//! (code identity) for reads. Each port is implemented where its calls are, with no layer
//! of forwarding in between.
//!
//! The adapter is deliberately thin. Each trait method makes one API call (a `List*` one
//! call per page), with the single documented exception of
//! `Functions::list_managed_functions`. The SDK's own retries are off: shepherd budgets and
//! retries every call itself (Lambda allows 15 control-plane requests per second per
//! account and region), which only works if every attempt goes through it. Errors are
//! classified in one place (the `error` module) into the kinds the engine acts on.
//!
//! - `convert`: SDK shapes to and from the model, AWS defaults filled in.
//! - `lambda` (`Functions`, `Aliases`, `Concurrency`, `EventSources`), `cloudwatch`
//!   (`Alarms`, `CanaryMetricsSource`), `sqs` (`Queues`), `s3` (`ObjectStore`), `ecr`
//!   (`ImageRegistry`): the calls.
//! - `web` (`Web`): HTTP hooks, the one port that is not AWS.
//! - `error`: `SdkError` to [`CloudError`](shepherd_core::cloud::CloudError).

mod cloudwatch;
mod convert;
mod ecr;
mod error;
mod lambda;
mod leases;
mod s3;
mod sqs;
mod web;

pub use leases::DynamoLeases;
pub use sqs::{SqsMessage, SqsQueue};
pub use web::{HookSecret, HookSecrets, SIGNATURE_HEADER, signature};

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use shepherd_core::cloud::USER_AGENT_APP;

/// Time to open a connection: an endpoint that does not accept one in this time is down.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for one attempt of a call, response included. Control-plane calls answer in well
/// under a second; this bounds a hung connection, not a slow API.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);

/// The AWS clients shepherd uses.
#[derive(Debug, Clone)]
pub struct AwsCloud {
    lambda: aws_sdk_lambda::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    ecr: aws_sdk_ecr::Client,
    /// The secrets HTTP hooks may name.
    hook_secrets: HookSecrets,
}

/// `app/shepherd` in every client's user agent (see [`USER_AGENT_APP`]).
pub fn app_name() -> aws_config::AppName {
    aws_config::AppName::new(USER_AGENT_APP).expect("a valid application name")
}

/// The environment's SDK configuration with shepherd's application name and the given
/// region and endpoint overrides, for the clients that keep the SDK's own retries (SQS,
/// the lease table).
pub(crate) async fn sdk_config(
    region: Option<String>,
    endpoint_url: Option<String>,
) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).app_name(app_name());
    if let Some(region) = region {
        loader = loader.region(Region::new(region));
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

/// A role to act as in a target's account (STS `AssumeRole`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedRole {
    pub arn: String,
    /// The external id the role's trust policy asks for, if any.
    pub external_id: Option<String>,
    /// Shown in CloudTrail as who made each call.
    pub session_name: String,
}

/// The credentials provider that acts as `role`, from the environment's credentials.
async fn assumed(
    role: &AssumedRole,
    region: Option<String>,
    endpoint_url: Option<String>,
) -> aws_config::sts::AssumeRoleProvider {
    // STS keeps the SDK's own retries: a failed session renewal is retried there, and the
    // calls that need it fail (and are retried by shepherd) meanwhile.
    let base = sdk_config(region, endpoint_url).await;
    let mut provider = aws_config::sts::AssumeRoleProvider::builder(role.arn.clone())
        .session_name(role.session_name.clone())
        .configure(&base);
    if let Some(id) = &role.external_id {
        provider = provider.external_id(id.clone());
    }
    provider.build().await
}

/// [`sdk_config`], acting as `role` when given.
pub(crate) async fn sdk_config_as(
    region: Option<String>,
    endpoint_url: Option<String>,
    role: Option<&AssumedRole>,
) -> aws_config::SdkConfig {
    let Some(role) = role else {
        return sdk_config(region, endpoint_url).await;
    };
    let provider = assumed(role, region.clone(), endpoint_url.clone()).await;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .app_name(app_name())
        .credentials_provider(provider);
    if let Some(region) = region {
        loader = loader.region(Region::new(region));
    }
    if let Some(url) = endpoint_url {
        loader = loader.endpoint_url(url);
    }
    loader.load().await
}

impl AwsCloud {
    /// Clients from the environment's configuration (credentials chain, `AWS_REGION`,
    /// `AWS_ENDPOINT_URL`), with `region` and `endpoint_url` taking precedence when given.
    /// SDK retries are disabled and timeouts set (see [`CONNECT_TIMEOUT`],
    /// [`ATTEMPT_TIMEOUT`]).
    pub async fn from_env(region: Option<String>, endpoint_url: Option<String>) -> AwsCloud {
        Self::for_target(region, endpoint_url, None).await
    }

    /// [`AwsCloud::from_env`], acting as `role` when given: the environment's credentials
    /// assume it (aws-config's `AssumeRoleProvider`), and the SDK's credentials cache
    /// renews the session before it expires.
    pub async fn for_target(
        region: Option<String>,
        endpoint_url: Option<String>,
        role: Option<&AssumedRole>,
    ) -> AwsCloud {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .app_name(app_name())
            .retry_config(RetryConfig::disabled())
            .timeout_config(timeouts());
        if let Some(region) = &region {
            loader = loader.region(Region::new(region.clone()));
        }
        let endpoint_given = endpoint_url.is_some();
        if let Some(endpoint_url) = &endpoint_url {
            loader = loader.endpoint_url(endpoint_url.clone());
        }
        if let Some(role) = role {
            loader = loader.credentials_provider(assumed(role, region, endpoint_url).await);
        }
        let sdk_config = loader.load().await;
        // An endpoint given by URL (a local emulator, a VPC endpoint) has no bucket
        // subdomains: name the bucket in the path.
        let s3 = aws_sdk_s3::config::Builder::from(&sdk_config)
            .force_path_style(endpoint_given)
            .build();
        AwsCloud {
            lambda: aws_sdk_lambda::Client::new(&sdk_config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&sdk_config),
            sqs: aws_sdk_sqs::Client::new(&sdk_config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            ecr: aws_sdk_ecr::Client::new(&sdk_config),
            hook_secrets: HookSecrets::default(),
        }
    }

    /// Wraps existing clients. Their retries are turned off whatever they were configured
    /// with, since shepherd must see every attempt; everything else is kept.
    pub fn new(lambda: aws_sdk_lambda::Client, cloudwatch: aws_sdk_cloudwatch::Client) -> AwsCloud {
        let lambda = aws_sdk_lambda::Client::from_conf(
            lambda
                .config()
                .to_builder()
                .retry_config(RetryConfig::disabled())
                .build(),
        );
        let cloudwatch = aws_sdk_cloudwatch::Client::from_conf(
            cloudwatch
                .config()
                .to_builder()
                .retry_config(RetryConfig::disabled())
                .build(),
        );
        // Queues and code identity are only read; clients of the same region without
        // credentials fail those reads clearly, and the planner carries on without them
        // (see `with_sqs`, `with_s3`, `with_ecr`).
        let region = lambda.config().region().map(|r| r.to_string());
        macro_rules! read_only_client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::Config::builder()
                        .behavior_version(BehaviorVersion::latest())
                        .region(region.clone().map($sdk::config::Region::new))
                        .build(),
                )
            };
        }
        AwsCloud {
            lambda,
            cloudwatch,
            sqs: read_only_client!(aws_sdk_sqs),
            s3: read_only_client!(aws_sdk_s3),
            ecr: read_only_client!(aws_sdk_ecr),
            hook_secrets: HookSecrets::default(),
        }
    }

    /// The secrets HTTP hooks may name (`hooks.secrets` of the controller's configuration).
    pub fn with_hook_secrets(mut self, secrets: HookSecrets) -> Self {
        self.hook_secrets = secrets;
        self
    }

    /// The SQS client for queue attributes.
    pub fn with_sqs(mut self, sqs: aws_sdk_sqs::Client) -> Self {
        self.sqs = sqs;
        self
    }

    /// The S3 client for the code's object identity.
    pub fn with_s3(mut self, s3: aws_sdk_s3::Client) -> Self {
        self.s3 = s3;
        self
    }

    /// The ECR client for the code's image digests.
    pub fn with_ecr(mut self, ecr: aws_sdk_ecr::Client) -> Self {
        self.ecr = ecr;
        self
    }

    pub fn lambda(&self) -> &aws_sdk_lambda::Client {
        &self.lambda
    }

    pub fn cloudwatch(&self) -> &aws_sdk_cloudwatch::Client {
        &self.cloudwatch
    }
}

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}
