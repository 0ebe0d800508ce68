//! Runtime settings of a function: runtime, networking, observability, secrets.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::patterns;

/// A Lambda managed runtime identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Runtime {
    #[serde(rename = "nodejs18.x")]
    Nodejs18,
    #[serde(rename = "nodejs20.x")]
    Nodejs20,
    #[serde(rename = "nodejs22.x")]
    Nodejs22,
    #[serde(rename = "nodejs24.x")]
    Nodejs24,
    #[serde(rename = "python3.9")]
    Python39,
    #[serde(rename = "python3.10")]
    Python310,
    #[serde(rename = "python3.11")]
    Python311,
    #[serde(rename = "python3.12")]
    Python312,
    #[serde(rename = "python3.13")]
    Python313,
    #[serde(rename = "python3.14")]
    Python314,
    #[serde(rename = "java11")]
    Java11,
    #[serde(rename = "java17")]
    Java17,
    #[serde(rename = "java21")]
    Java21,
    #[serde(rename = "java25")]
    Java25,
    #[serde(rename = "dotnet8")]
    Dotnet8,
    #[serde(rename = "dotnet10")]
    Dotnet10,
    #[serde(rename = "ruby3.2")]
    Ruby32,
    #[serde(rename = "ruby3.3")]
    Ruby33,
    #[serde(rename = "ruby3.4")]
    Ruby34,
    #[serde(rename = "provided.al2")]
    ProvidedAl2,
    #[serde(rename = "provided.al2023")]
    ProvidedAl2023,
}

impl Runtime {
    /// The identifier Lambda uses, e.g. `python3.12`.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Nodejs18 => "nodejs18.x",
            Runtime::Nodejs20 => "nodejs20.x",
            Runtime::Nodejs22 => "nodejs22.x",
            Runtime::Nodejs24 => "nodejs24.x",
            Runtime::Python39 => "python3.9",
            Runtime::Python310 => "python3.10",
            Runtime::Python311 => "python3.11",
            Runtime::Python312 => "python3.12",
            Runtime::Python313 => "python3.13",
            Runtime::Python314 => "python3.14",
            Runtime::Java11 => "java11",
            Runtime::Java17 => "java17",
            Runtime::Java21 => "java21",
            Runtime::Java25 => "java25",
            Runtime::Dotnet8 => "dotnet8",
            Runtime::Dotnet10 => "dotnet10",
            Runtime::Ruby32 => "ruby3.2",
            Runtime::Ruby33 => "ruby3.3",
            Runtime::Ruby34 => "ruby3.4",
            Runtime::ProvidedAl2 => "provided.al2",
            Runtime::ProvidedAl2023 => "provided.al2023",
        }
    }

    /// JVM and .NET runtimes, which start slowly and need more than the minimum memory.
    pub fn is_jvm_or_dotnet(self) -> bool {
        matches!(
            self,
            Runtime::Java11
                | Runtime::Java17
                | Runtime::Java21
                | Runtime::Java25
                | Runtime::Dotnet8
                | Runtime::Dotnet10
        )
    }

    /// Runtimes that support SnapStart: Java 11 and later, Python 3.12 and later, .NET 8 and
    /// later.
    pub fn supports_snap_start(self) -> bool {
        matches!(
            self,
            Runtime::Java11
                | Runtime::Java17
                | Runtime::Java21
                | Runtime::Java25
                | Runtime::Python312
                | Runtime::Python313
                | Runtime::Python314
                | Runtime::Dotnet8
                | Runtime::Dotnet10
        )
    }
}

/// The instruction set the function runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Architecture {
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "arm64")]
    Arm64,
}

/// X-Ray tracing: `Active` samples and traces requests; `PassThrough` (AWS's default) only
/// forwards an incoming trace header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum TracingMode {
    Active,
    PassThrough,
}

/// The format of the function's logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum LogFormat {
    #[serde(rename = "JSON")]
    Json,
    Text,
}

/// The lowest level of application logs sent to CloudWatch (JSON format only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ApplicationLogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
    Fatal,
}

/// The lowest level of Lambda platform logs sent to CloudWatch (JSON format only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum SystemLogLevel {
    Debug,
    Info,
    Warn,
}

/// Logging configuration. AWS's default is `Text` to `/aws/lambda/NAME`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Logging {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<LogFormat>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_log_level: Option<ApplicationLogLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_log_level: Option<SystemLogLevel>,
    /// The CloudWatch log group; default `/aws/lambda/FUNCTION_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub log_group: Option<String>,
}

/// SnapStart: snapshot initialised execution environments of published versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum SnapStart {
    PublishedVersions,
    #[serde(rename = "None")]
    Off,
}

/// What Lambda does when it detects a recursive invocation loop (AWS default `Terminate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum RecursiveLoop {
    Terminate,
    Allow,
}

/// Attaches the function to a VPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Vpc {
    #[schemars(length(min = 1, max = 16), inner(pattern(patterns::SUBNET_ID)))]
    pub subnet_ids: Vec<String>,
    #[schemars(length(min = 1, max = 5), inner(pattern(patterns::SECURITY_GROUP_ID)))]
    pub security_group_ids: Vec<String>,
    /// Allow outbound IPv6 traffic on dual-stack subnets (AWS default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_allowed_for_dual_stack: Option<bool>,
}

/// A secret given to the function by reference: the environment variable holds the secret's
/// ARN or name, never its value, and the function reads the value at run time (for example
/// through the AWS Parameters and Secrets Lambda extension). Exactly one field is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretRef {
    /// A Secrets Manager secret ARN or name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::SECRET_ID), extend("x-expected" = "a Secrets Manager secret ARN or name"))]
    pub secrets_manager: Option<String>,
    /// An SSM Parameter Store parameter name (starting with `/`) or ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(patterns::SSM_PARAMETER), extend("x-expected" = "an SSM parameter name such as /app/key, or its ARN"))]
    pub ssm_parameter: Option<String>,
}

impl SecretRef {
    /// The reference written into the environment variable.
    pub fn reference(&self) -> Option<&str> {
        self.secrets_manager
            .as_deref()
            .or(self.ssm_parameter.as_deref())
    }
}
