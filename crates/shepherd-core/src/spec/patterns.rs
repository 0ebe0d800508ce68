//! The textual forms of AWS identifiers, shared by the schema and by validation.

pub const FUNCTION_NAME: &str = r"^[a-zA-Z0-9_-]{1,64}$";
/// A target's name (an account and region the controller manages): lower-case letters,
/// digits and inner hyphens, up to 63.
pub const TARGET_NAME: &str = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$";
pub const ALIAS_NAME: &str = r"^(?:[a-zA-Z_-][a-zA-Z0-9_-]*|[0-9]+[a-zA-Z_-][a-zA-Z0-9_-]*)$";
pub const ROLE_ARN: &str = r"^arn:aws[a-zA-Z-]*:iam::[0-9]{12}:role/[a-zA-Z0-9+=,.@_/-]+$";
pub const LAYER_ARN: &str =
    r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[a-zA-Z0-9_-]+:[0-9]+$";
pub const KMS_KEY_ARN: &str = r"^arn:aws[a-zA-Z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$";
pub const SQS_QUEUE_ARN: &str =
    r"^arn:aws[a-zA-Z-]*:sqs:[a-z0-9-]+:[0-9]{12}:[a-zA-Z0-9_-]{1,80}(\.fifo)?$";
/// Async destinations (`onSuccess`, `onFailure`): an SQS queue, SNS topic, Lambda function
/// or EventBridge bus.
pub const DESTINATION_ARN: &str =
    r"^arn:aws[a-zA-Z-]*:(sqs|sns|lambda|events):[a-z0-9-]+:[0-9]{12}:.+$";
/// A function's dead-letter target: AWS accepts only an SQS queue or an SNS topic.
pub const DEAD_LETTER_ARN: &str = r"^arn:aws[a-zA-Z-]*:(sqs|sns):[a-z0-9-]+:[0-9]{12}:.+$";
pub const SUBNET_ID: &str = r"^subnet-[0-9a-f]{8,17}$";
pub const SECURITY_GROUP_ID: &str = r"^sg-[0-9a-f]{8,17}$";
pub const ENV_VAR_NAME: &str = r"^[a-zA-Z][a-zA-Z0-9_]*$";
pub const PERCENTILE: &str = r"^p([0-9]{1,2}(\.[0-9]{1,2})?|100)$";
pub const S3_BUCKET: &str = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$";
pub const SECRET_ID: &str =
    r"^(arn:aws[a-zA-Z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:)?[a-zA-Z0-9/_+=.@-]+$";
pub const SSM_PARAMETER: &str =
    r"^(arn:aws[a-zA-Z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter)?/[a-zA-Z0-9/_.-]+$";
