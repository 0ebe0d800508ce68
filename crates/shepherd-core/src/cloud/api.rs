//! Every AWS API shepherd calls, as one `enum`: its name, the service it belongs to, its
//! class for the call budget, and whether it writes. Errors, the metered wrapper, the call
//! statistics and the fake all name calls by it, so no API name is spelled twice.

use std::fmt;

/// The kind of call, for budgeting: Lambda allows GetFunction 100 requests/s and all other
/// control-plane calls together 15/s per account and region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallClass {
    /// `GetFunction`: its own, larger quota.
    GetFunction,
    /// Every other Lambda control-plane call, reads and writes alike.
    LambdaControl,
    /// CloudWatch calls.
    CloudWatch,
    /// SQS calls (queue attributes): thousands per second are allowed, so not budgeted.
    Sqs,
    /// S3 `HeadObject`: thousands per second per prefix are allowed, so not budgeted.
    S3,
    /// ECR `DescribeImages`: one call per repository per pass (a call names up to 100
    /// tags), far below its quota, so not budgeted.
    Ecr,
    /// Lambda `Invoke`: the data plane, bounded by the function's concurrency rather than
    /// a request rate, so not budgeted (callers bound their own concurrency).
    Invoke,
}

macro_rules! apis {
    ($($service:ident { $($api:ident: $kind:ident),+ $(,)? })+) => {
        /// An AWS API shepherd calls.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Api {
            $($($api,)+)+
        }

        impl Api {
            /// Every API, in declaration order.
            pub const ALL: &'static [Api] = &[$($(Api::$api,)+)+];

            /// The API's name, as AWS spells it (`UpdateFunctionCode`).
            pub fn name(self) -> &'static str {
                match self {
                    $($(Api::$api => stringify!($api),)+)+
                }
            }

            /// The service, as IAM prefixes its actions (`lambda`).
            pub fn service(self) -> &'static str {
                match self {
                    $($(Api::$api => stringify!($service),)+)+
                }
            }

            /// Whether the call changes something in AWS.
            pub fn is_write(self) -> bool {
                match self {
                    $($(Api::$api => apis!(@write $kind),)+)+
                }
            }
        }
    };
    (@write read) => { false };
    (@write write) => { true };
}

apis! {
    lambda {
        GetFunction: read,
        ListFunctions: read,
        ListTags: read,
        ListAliases: read,
        ListVersionsByFunction: read,
        GetFunctionEventInvokeConfig: read,
        ListProvisionedConcurrencyConfigs: read,
        GetProvisionedConcurrencyConfig: read,
        GetFunctionRecursionConfig: read,
        ListEventSourceMappings: read,
        // Runs code: fenced like a write, so a replica without the lease never invokes.
        Invoke: write,
        CreateFunction: write,
        UpdateFunctionConfiguration: write,
        UpdateFunctionCode: write,
        PublishVersion: write,
        DeleteFunction: write,
        CreateAlias: write,
        UpdateAlias: write,
        PutFunctionConcurrency: write,
        DeleteFunctionConcurrency: write,
        PutProvisionedConcurrencyConfig: write,
        DeleteProvisionedConcurrencyConfig: write,
        PutFunctionEventInvokeConfig: write,
        DeleteFunctionEventInvokeConfig: write,
        PutFunctionRecursionConfig: write,
        CreateEventSourceMapping: write,
        UpdateEventSourceMapping: write,
        DeleteEventSourceMapping: write,
        TagResource: write,
        UntagResource: write,
    }
    cloudwatch {
        DescribeAlarms: read,
        GetMetricData: read,
        PutMetricAlarm: write,
        DeleteAlarms: write,
    }
    sqs {
        GetQueueUrl: read,
        GetQueueAttributes: read,
        ReceiveMessage: read,
        DeleteMessage: write,
    }
    s3 {
        HeadObject: read,
    }
    ecr {
        DescribeImages: read,
    }
    // Not AWS: a call to one of the team's own endpoints (an HTTP hook). A write, because
    // it may act (a smoke test, a deploy gate), so it is fenced like one.
    https {
        HttpHook: write,
    }
}

impl Api {
    /// The budget class of the call.
    pub fn class(self) -> CallClass {
        match (self, self.service()) {
            (Api::GetFunction, _) => CallClass::GetFunction,
            (Api::Invoke | Api::HttpHook, _) => CallClass::Invoke,
            (_, "cloudwatch") => CallClass::CloudWatch,
            (_, "sqs") => CallClass::Sqs,
            (_, "s3") => CallClass::S3,
            (_, "ecr") => CallClass::Ecr,
            _ => CallClass::LambdaControl,
        }
    }

    /// The API of a name, as AWS spells it.
    pub fn from_name(name: &str) -> Option<Api> {
        Api::ALL.iter().copied().find(|api| api.name() == name)
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// So that a list of calls reads as the API names it holds, in tests and logs alike.
impl PartialEq<&str> for Api {
    fn eq(&self, other: &&str) -> bool {
        self.name() == *other
    }
}

impl serde::Serialize for Api {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_classes_and_writes() {
        assert_eq!(Api::UpdateFunctionCode.to_string(), "UpdateFunctionCode");
        assert_eq!(Api::from_name("ListAliases"), Some(Api::ListAliases));
        assert_eq!(Api::from_name("Nope"), None);
        assert_eq!(Api::GetFunction.class(), CallClass::GetFunction);
        assert_eq!(Api::ListAliases.class(), CallClass::LambdaControl);
        assert_eq!(Api::DescribeAlarms.class(), CallClass::CloudWatch);
        assert_eq!(Api::HeadObject.class(), CallClass::S3);
        assert!(Api::UpdateAlias.is_write() && !Api::ListAliases.is_write());
        assert!(Api::DeleteMessage.is_write() && !Api::HeadObject.is_write());
        // The old rule by prefix, kept as a check of the table.
        for api in Api::ALL {
            let read = ["Get", "List", "Describe", "Head", "Receive"]
                .iter()
                .any(|p| api.name().starts_with(p));
            assert_eq!(api.is_write(), !read, "{api}");
        }
    }
}
