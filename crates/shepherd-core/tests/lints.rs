//! Every lint of `lint::LINTS`: when it fires and when it stays silent, its default level,
//! level overrides from `.shepherd.yaml`, and the `shepherd.dev/ignore-lints` annotation.

mod common;

use common::{Scratch, Spec, check_text, check_text_with, compare_diagnostics, counts, render};
use shepherd_core::diagnostic::Severity;
use shepherd_core::lint::{LINTS, Level, LintConfig};

struct Case {
    lint: &'static str,
    name: &'static str,
    edit: fn(Spec) -> Spec,
    expect: &'static [&'static str],
}

fn case(
    lint: &'static str,
    name: &'static str,
    edit: fn(Spec) -> Spec,
    expect: &'static [&'static str],
) -> Case {
    Case {
        lint,
        name,
        edit,
        expect,
    }
}

const SQS: &str = "arn:aws:sqs:us-east-1:123456789012";

fn cases() -> Vec<Case> {
    const SECRET: &str = "secret-in-environment";
    const ASYNC: &str = "async-without-failure-destination";
    const TRACING: &str = "tracing-disabled";
    const ROLLOUT: &str = "rollout-without-alarm";
    const TIMEOUT: &str = "timeout-at-maximum";
    const PROVISIONED: &str = "provisioned-concurrency-without-alias";
    const MEMORY: &str = "memory-too-low-for-runtime";
    const LOGS: &str = "logs-not-json";
    const ERROR_ALARM: &str = "missing-error-alarm";
    vec![
        // secret-in-environment: values that are secrets whatever the name.
        case(
            SECRET,
            "AWS access key id",
            |s| s.set("spec.environment", "UPSTREAM: AKIAIOSFODNN7EXAMPLE"),
            &[
                "19:15: spec.environment.UPSTREAM: the value looks like an AWS access key id; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "temporary AWS access key id",
            |s| s.set("spec.environment", "UPSTREAM: ASIAIOSFODNN7EXAMPLE"),
            &[
                "spec.environment.UPSTREAM: the value looks like an AWS access key id; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "private key",
            |s| {
                s.set(
                    "spec.environment",
                    "CERT: \"-----BEGIN RSA PRIVATE KEY-----\\nMIIE\"",
                )
            },
            &[
                "spec.environment.CERT: the value looks like a private key; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "GitHub token",
            |s| {
                s.set(
                    "spec.environment",
                    "GH: ghp_0123456789abcdefghijABCDEFGHIJ012345",
                )
            },
            &[
                "spec.environment.GH: the value looks like a GitHub token; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "GitHub fine-grained token",
            |s| {
                s.set(
                    "spec.environment",
                    "GH: github_pat_0123456789abcdefghijAB_CD",
                )
            },
            &[
                "spec.environment.GH: the value looks like a GitHub token; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "Slack token",
            |s| s.set("spec.environment", "HOOK: xoxb-1234567890-abcdef"),
            &[
                "spec.environment.HOOK: the value looks like a Slack token; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "Stripe key",
            |s| s.set("spec.environment", "PAYMENTS: sk_live_0123456789abcdefXYZ"),
            &[
                "spec.environment.PAYMENTS: the value looks like a Stripe secret key; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "Google API key",
            |s| {
                s.set(
                    "spec.environment",
                    "MAPS: AIzaSyA-0123456789abcdefghijklmnopqrstu",
                )
            },
            &[
                "spec.environment.MAPS: the value looks like a Google API key; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "JSON Web Token",
            |s| {
                s.set(
                    "spec.environment",
                    "SESSION: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
                )
            },
            &[
                "spec.environment.SESSION: the value looks like a JSON Web Token; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        // secret-in-environment: names that announce a secret, with a literal value.
        case(
            SECRET,
            "password literal",
            |s| s.set("spec.environment", "DB_PASSWORD: hunter2"),
            &[
                "19:18: spec.environment.DB_PASSWORD: DB_PASSWORD holds a literal value; pass secrets by reference in spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "secret, token, api key, private key and credentials literals",
            |s| {
                s.set(
                    "spec.environment",
                    "APP_SECRET: s3cr3t\nAUTH_TOKEN: abc\nPARTNER_APIKEY: k\nSIGNING_PRIVATE_KEY: k\nGCP_CREDENTIALS: \"{}\"\nPASSPHRASE: words",
                )
            },
            &[
                "spec.environment.APP_SECRET: APP_SECRET holds a literal value; pass secrets by reference in spec.secrets [secret-in-environment]",
                "spec.environment.AUTH_TOKEN: AUTH_TOKEN holds a literal value; pass secrets by reference in spec.secrets [secret-in-environment]",
                "spec.environment.PARTNER_APIKEY: PARTNER_APIKEY holds a literal value; pass secrets by reference in spec.secrets [secret-in-environment]",
                "spec.environment.SIGNING_PRIVATE_KEY: SIGNING_PRIVATE_KEY holds a literal value; pass secrets by reference in spec.secrets [secret-in-environment]",
                "spec.environment.GCP_CREDENTIALS: GCP_CREDENTIALS holds a literal value; pass secrets by reference in spec.secrets [secret-in-environment]",
                "spec.environment.PASSPHRASE: PASSPHRASE holds a literal value; pass secrets by reference in spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "lower-case names count too",
            |s| s.set("spec.environment", "db_password: hunter2"),
            &[
                "spec.environment.db_password: db_password holds a literal value; pass secrets by reference in spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "silent: names of references and settings",
            |s| {
                s.set(
                    "spec.environment",
                    "DB_PASSWORD_ARN: x\nDB_SECRET_NAME: orders/db\nTOKEN_TTL: \"300\"\nAPI_KEY_HEADER: X-Api-Key\nSECRET_PATH: db\nTOKEN_URL: https://auth.example.com/token\nPASSWORD_LENGTH: \"12\"",
                )
            },
            &[],
        ),
        case(
            SECRET,
            "silent: values that are references",
            |s| {
                s.set(
                    "spec.environment",
                    "DB_PASSWORD: /orders/db/password\nAPI_TOKEN: arn:aws:secretsmanager:us-east-1:123456789012:secret:t\nAPP_SECRET: \"{{resolve:secretsmanager:app}}\"",
                )
            },
            &[],
        ),
        case(
            SECRET,
            "silent: empty and blank values",
            |s| s.set("spec.environment", "DB_PASSWORD: \"\"\nAPI_TOKEN: \"  \""),
            &[],
        ),
        case(
            SECRET,
            "silent: ordinary variables",
            |s| {
                s.set(
                    "spec.environment",
                    "TABLE: orders\nLOG_LEVEL: info\nREGION_HINT: eu",
                )
            },
            &[],
        ),
        case(
            SECRET,
            "silent: secrets by reference",
            |s| {
                s.set(
                    "spec.secrets",
                    "DB_PASSWORD: {ssmParameter: /orders/db/password}",
                )
            },
            &[],
        ),
        // secret-in-environment: an AWS secret access key has no prefix, only its shape.
        case(
            SECRET,
            "AWS secret access key under any name",
            |s| {
                s.set(
                    "spec.environment",
                    "S3_CREDS: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                )
            },
            &[
                "19:15: spec.environment.S3_CREDS: the value looks like an AWS secret access key; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "AWS secret access key inside a longer value, under a name of a reference",
            |s| {
                s.set(
                    "spec.environment",
                    "BOTO_CONFIG_PATH: \"aws_secret_access_key=je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY region=eu-west-1\"",
                )
            },
            &[
                "spec.environment.BOTO_CONFIG_PATH: the value looks like an AWS secret access key; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "silent: 40 characters that are not a secret access key",
            |s| {
                s.set(
                    "spec.environment",
                    // A git SHA in either case, a 40-letter word, an identifier, a path,
                    // base64 of a 30-character phrase, repetition.
                    "GIT_SHA: 11f6ad8ec52a2984abaafd7c3b516503785c2072\nBUILD: 11F6AD8EC52A2984ABAAFD7C3B516503785C2072\nWORD: thequickbrownfoxjumpsoverthelazydogagain\nHANDLER_CLASS: OrderProcessingHandlerFunctionV2Release1\nPREFIX: parameter/orders/prod/DbPassword2Service\nMOTTO: VGhlIHF1aWNrIGJyb3duIGZveCBqdW1wcyBvdmVy\nFILL: Ab1Ab1Ab1Ab1Ab1Ab1Ab1Ab1Ab1Ab1Ab1Ab1Ab1A",
                )
            },
            &[],
        ),
        case(
            SECRET,
            "silent: ARNs, ids, digests, short base64, regions and buckets",
            |s| {
                s.set(
                    "spec.environment",
                    "QUEUE: arn:aws:sqs:us-east-1:123456789012:order-events\nKEY: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\nREQUEST: e41acadd-dbb1-4a54-b8db-f3541cd5fec1\nSHA256: 2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881\nSHA256_B64: LXEWQrcmsEQBYnyp+6wy9chTD7GQPMTbAiWHF5IaSIE=\nGREETING: aGVsbG8gd29ybGQ=\nTARGET_REGION: eu-west-1\nBUCKET: example-invoices\nARTIFACT: s3://orders-artifacts/orders/orders-1.0.0.zip",
                )
            },
            &[],
        ),
        // secret-in-environment: passwords inside URLs, masked in the message.
        case(
            SECRET,
            "password in a database URL",
            |s| {
                s.set(
                    "spec.environment",
                    "DATABASE_URL: postgres://admin:hunter2@db/prod",
                )
            },
            &[
                "19:19: spec.environment.DATABASE_URL: the value holds a password in the URL postgres://admin:****@db/prod; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "password without a user, and a query left out of the message",
            |s| {
                s.set(
                    "spec.environment",
                    "CACHE: \"redis://:s3cr3t@cache.internal:6379/0?password=s3cr3t\"",
                )
            },
            &[
                "spec.environment.CACHE: the value holds a password in the URL redis://:****@cache.internal:6379/0; never put secrets in the spec: use spec.secrets [secret-in-environment]",
            ],
        ),
        case(
            SECRET,
            "silent: URLs without a password, or with a placeholder for one",
            |s| {
                s.set(
                    "spec.environment",
                    "API: https://api.example.com/v1/orders?page=2\nDB: postgres://admin@db/prod\nWITH_PORT: https://example.com:8443/a@b\nFROM_ENV: \"postgres://admin:${DB_PASSWORD}@db/prod\"\nTEMPLATED: \"postgres://admin:{{db_password}}@db/prod\"\nMASKED: \"postgres://admin:****@db/prod\"",
                )
            },
            &[],
        ),
        // The runtime's credential variables are refused by validation, so no lint sees
        // them: the validation error says that the value leaked.
        case(
            SECRET,
            "a literal AWS_SECRET_ACCESS_KEY is reported as a leaked credential",
            |s| {
                s.set(
                    "spec.environment",
                    "AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                )
            },
            &[
                "19:28: spec.environment.AWS_SECRET_ACCESS_KEY: is reserved by the Lambda runtime and cannot be set; its value is a credential committed in plain text: revoke it and use the function's execution role",
            ],
        ),
        case(
            SECRET,
            "a session token and a key-shaped access key id too",
            |s| {
                s.set(
                    "spec.environment",
                    "AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE\nAWS_SESSION_TOKEN: IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ",
                )
            },
            &[
                "spec.environment.AWS_ACCESS_KEY_ID: is reserved by the Lambda runtime and cannot be set; its value is a credential committed in plain text: revoke it and use the function's execution role",
                "spec.environment.AWS_SESSION_TOKEN: is reserved by the Lambda runtime and cannot be set; its value is a credential committed in plain text: revoke it and use the function's execution role",
            ],
        ),
        case(
            SECRET,
            "reserved only: an empty key, a placeholder key id, a reference",
            |s| {
                s.set(
                    "spec.environment",
                    "AWS_ACCESS_KEY_ID: x\nAWS_REGION: AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY: \"\"",
                )
                .set("spec.secrets", "AWS_SESSION_TOKEN: {ssmParameter: /t}")
            },
            &[
                "spec.environment.AWS_ACCESS_KEY_ID: is reserved by the Lambda runtime and cannot be set",
                "spec.environment.AWS_REGION: is reserved by the Lambda runtime and cannot be set",
                "spec.environment.AWS_SECRET_ACCESS_KEY: is reserved by the Lambda runtime and cannot be set",
                "spec.secrets.AWS_SESSION_TOKEN: is reserved by the Lambda runtime and cannot be set",
            ],
        ),
        // async-without-failure-destination
        case(
            ASYNC,
            "async invocation without a failure destination",
            |s| s.set("spec.asyncInvocation", "{maximumRetryAttempts: 1}"),
            &[
                "18:3: warning: spec.asyncInvocation: events that fail every retry are dropped; set onFailure or deadLetterTarget [async-without-failure-destination]",
            ],
        ),
        case(
            ASYNC,
            "empty async invocation",
            |s| s.set("spec.asyncInvocation", "{}"),
            &[
                "warning: spec.asyncInvocation: events that fail every retry are dropped; set onFailure or deadLetterTarget [async-without-failure-destination]",
            ],
        ),
        case(
            ASYNC,
            "onSuccess does not count",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    &format!("{{onSuccess: {SQS}:done}}"),
                )
            },
            &[
                "warning: spec.asyncInvocation: events that fail every retry are dropped; set onFailure or deadLetterTarget [async-without-failure-destination]",
            ],
        ),
        case(
            ASYNC,
            "silent: onFailure",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    &format!("{{onFailure: {SQS}:failed}}"),
                )
            },
            &[],
        ),
        case(
            ASYNC,
            "silent: deadLetterTarget",
            |s| {
                s.set(
                    "spec.asyncInvocation",
                    &format!("{{deadLetterTarget: {SQS}:dlq}}"),
                )
            },
            &[],
        ),
        case(
            ASYNC,
            "queues without a dead-letter queue",
            |s| {
                s.set(
                    "spec.eventSources",
                    &format!("sqs:\n  - queue: {SQS}:a\n  - queue: {SQS}:b\n    deadLetterQueue: {SQS}:b-dlq\n  - queue: {SQS}:c"),
                )
            },
            &[
                "20:9: warning: spec.eventSources.sqs[0]: records that keep failing are retried until they expire; give the queue a dead-letter queue and declare it in deadLetterQueue [async-without-failure-destination]",
                "23:9: warning: spec.eventSources.sqs[2]: records that keep failing are retried until they expire; give the queue a dead-letter queue and declare it in deadLetterQueue [async-without-failure-destination]",
            ],
        ),
        case(
            ASYNC,
            "silent: queue with a dead-letter queue",
            |s| {
                s.set(
                    "spec.eventSources",
                    &format!("sqs:\n  - queue: {SQS}:a\n    deadLetterQueue: {SQS}:a-dlq"),
                )
            },
            &[],
        ),
        // tracing-disabled
        case(
            TRACING,
            "tracing left out",
            |s| s.remove("spec.tracing"),
            &[
                "5:1: warning: spec.tracing: X-Ray tracing is off; set tracing: Active [tracing-disabled]",
            ],
        ),
        case(
            TRACING,
            "tracing PassThrough",
            |s| s.set("spec.tracing", "PassThrough"),
            &[
                "13:12: warning: spec.tracing: X-Ray tracing is off; set tracing: Active [tracing-disabled]",
            ],
        ),
        case(TRACING, "silent: tracing Active", |s| s, &[]),
        // rollout-without-alarm
        case(
            ROLLOUT,
            "canary without any alarm",
            |s| {
                s.remove("spec.alarms")
                    .set("spec.alias", "{name: live}")
                    .set("spec.rollout", "{strategy: Canary10Percent5Minutes}")
            },
            &[
                "5:1: warning: spec.alarms: no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors [missing-error-alarm]",
                "17:3: warning: spec.rollout: no alarm gates this rollout, so a bad version is never rolled back by itself; add spec.alarms or rollout.alarms [rollout-without-alarm]",
            ],
        ),
        case(
            ROLLOUT,
            "hooks without any alarm, all at once",
            |s| {
                s.remove("spec.alarms")
                    .set("spec.alias", "{name: live}")
                    .set(
                        "spec.rollout",
                        "{hooks: {preTraffic: [{lambda: orders-smoke}]}}",
                    )
            },
            &[
                "warning: spec.alarms: no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors [missing-error-alarm]",
                "warning: spec.rollout: the hooks test the new version once, but no alarm watches it while it takes traffic, so a version that passes them and then fails is never rolled back by itself; add spec.alarms or rollout.alarms [rollout-without-alarm]",
            ],
        ),
        case(
            ROLLOUT,
            "steps with an empty alarms section",
            |s| {
                s.remove("spec.alarms")
                    .set("spec.alarms", "{}")
                    .set("spec.alias", "{name: live}")
                    .set("spec.rollout", "steps: [{setWeight: 10}]")
            },
            &[
                "warning: spec.alarms: no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors [missing-error-alarm]",
                "warning: spec.rollout: no alarm gates this rollout, so a bad version is never rolled back by itself; add spec.alarms or rollout.alarms [rollout-without-alarm]",
            ],
        ),
        case(
            ROLLOUT,
            "silent: a throttles alarm gates it",
            |s| {
                s.remove("spec.alarms")
                    .set("spec.alarms", "{throttles: {}}")
                    .set("spec.alias", "{name: live}")
                    .set("spec.rollout", "{strategy: Linear10PercentEvery1Minute}")
            },
            &[
                "warning: spec.alarms: no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors [missing-error-alarm]",
            ],
        ),
        case(
            ROLLOUT,
            "silent: an existing alarm gates it",
            |s| {
                s.remove("spec.alarms")
                    .set("spec.alarms", "{existing: [orders-5xx]}")
                    .set("spec.alias", "{name: live}")
                    .set("spec.rollout", "{strategy: Canary10Percent5Minutes}")
            },
            &[
                "warning: spec.alarms: no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors [missing-error-alarm]",
            ],
        ),
        case(
            ROLLOUT,
            "silent: rollout alarms gate it",
            |s| {
                s.remove("spec.alarms")
                    .set("spec.alias", "{name: live}")
                    .set(
                        "spec.rollout",
                        "{strategy: Canary10Percent5Minutes, alarms: [orders-slo]}",
                    )
            },
            &[
                "warning: spec.alarms: no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors [missing-error-alarm]",
            ],
        ),
        case(
            ROLLOUT,
            "silent: all at once needs no alarm",
            |s| {
                s.remove("spec.alarms")
                    .set("spec.rollout", "{strategy: AllAtOnce}")
            },
            &[
                "warning: spec.alarms: no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors [missing-error-alarm]",
            ],
        ),
        case(
            ROLLOUT,
            "silent: the function's error alarm gates it",
            |s| {
                s.set("spec.alias", "{name: live}")
                    .set("spec.rollout", "{strategy: Canary10Percent5Minutes}")
            },
            &[],
        ),
        // timeout-at-maximum
        case(
            TIMEOUT,
            "timeout of 15 minutes",
            |s| s.set("spec.timeout", "15m"),
            &[
                "18:12: warning: spec.timeout: a 15-minute timeout lets hung invocations run (and bill) for 15 minutes; set the longest the work should take [timeout-at-maximum]",
            ],
        ),
        case(
            TIMEOUT,
            "timeout of 900 seconds",
            |s| s.set("spec.timeout", "900"),
            &[
                "warning: spec.timeout: a 15-minute timeout lets hung invocations run (and bill) for 15 minutes; set the longest the work should take [timeout-at-maximum]",
            ],
        ),
        case(
            TIMEOUT,
            "silent: one second less",
            |s| s.set("spec.timeout", "14m59s"),
            &[],
        ),
        case(TIMEOUT, "silent: the default timeout", |s| s, &[]),
        // provisioned-concurrency-without-alias
        case(
            PROVISIONED,
            "provisioned concurrency on the version",
            |s| s.set("spec.provisionedConcurrency", "5"),
            &[
                "18:27: warning: spec.provisionedConcurrency: provisioned concurrency on a version is lost with every new version and callers must invoke that version; add an alias and set alias.provisionedConcurrency [provisioned-concurrency-without-alias]",
            ],
        ),
        case(
            PROVISIONED,
            "silent: provisioned concurrency on the alias",
            |s| s.set("spec.alias", "{name: live, provisionedConcurrency: 5}"),
            &[],
        ),
        // memory-too-low-for-runtime
        case(
            MEMORY,
            "Java with the default memory",
            |s| s.set("spec.runtime", "java21"),
            &[
                "5:1: warning: spec.memory: java21 starts slowly and runs short of memory at 128 MB; give it at least 512 MB [memory-too-low-for-runtime]",
            ],
        ),
        case(
            MEMORY,
            ".NET with 128 MB",
            |s| s.set("spec.runtime", "dotnet8").set("spec.memory", "128"),
            &[
                "18:11: warning: spec.memory: dotnet8 starts slowly and runs short of memory at 128 MB; give it at least 512 MB [memory-too-low-for-runtime]",
            ],
        ),
        case(
            MEMORY,
            "every JVM and .NET runtime",
            |s| s.set("spec.runtime", "java11").set("spec.memory", "128"),
            &[
                "warning: spec.memory: java11 starts slowly and runs short of memory at 128 MB; give it at least 512 MB [memory-too-low-for-runtime]",
            ],
        ),
        case(
            MEMORY,
            "silent: Java with more memory",
            |s| s.set("spec.runtime", "java17").set("spec.memory", "1024"),
            &[],
        ),
        case(
            MEMORY,
            "silent: Python with 128 MB",
            |s| s.set("spec.memory", "128"),
            &[],
        ),
        case(
            MEMORY,
            "silent: a container image has no runtime",
            |s| {
                s.remove("spec.code")
                    .remove("spec.handler")
                    .remove("spec.runtime")
                    .set(
                        "spec.code",
                        "image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/orders:1",
                    )
            },
            &[],
        ),
        // logs-not-json
        case(
            LOGS,
            "logging left out",
            |s| s.remove("spec.logging"),
            &[
                "5:1: warning: spec.logging: plain-text logs cannot be filtered by level or queried by field; set logging.format: JSON [logs-not-json]",
            ],
        ),
        case(
            LOGS,
            "Text format",
            |s| s.set("spec.logging.format", "Text"),
            &[
                "14:3: warning: spec.logging: plain-text logs cannot be filtered by level or queried by field; set logging.format: JSON [logs-not-json]",
            ],
        ),
        case(
            LOGS,
            "format left out",
            |s| {
                s.remove("spec.logging.format")
                    .set("spec.logging.logGroup", "/orders/api")
            },
            &[
                "warning: spec.logging: plain-text logs cannot be filtered by level or queried by field; set logging.format: JSON [logs-not-json]",
            ],
        ),
        case(LOGS, "silent: JSON format", |s| s, &[]),
        // missing-error-alarm
        case(
            ERROR_ALARM,
            "alarms left out",
            |s| s.remove("spec.alarms"),
            &[
                "5:1: warning: spec.alarms: no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors [missing-error-alarm]",
            ],
        ),
        case(
            ERROR_ALARM,
            "only other alarms",
            |s| {
                s.remove("spec.alarms.errors")
                    .set("spec.alarms.existing", "[orders-errors]")
            },
            &[
                "16:3: warning: spec.alarms: no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors [missing-error-alarm]",
            ],
        ),
        case(ERROR_ALARM, "silent: errors: {}", |s| s, &[]),
        // Several lints at one place keep the order of the catalogue.
        case(
            TRACING,
            "a bare function",
            |s| {
                s.remove("spec.tracing")
                    .remove("spec.logging")
                    .remove("spec.alarms")
            },
            &[
                "5:1: warning: spec.tracing: X-Ray tracing is off; set tracing: Active [tracing-disabled]",
                "5:1: warning: spec.logging: plain-text logs cannot be filtered by level or queried by field; set logging.format: JSON [logs-not-json]",
                "5:1: warning: spec.alarms: no Errors alarm: failures go unnoticed and rollouts cannot gate on them; add alarms.errors [missing-error-alarm]",
            ],
        ),
    ]
}

fn run(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let text = (case.edit)(Spec::base()).text();
        let report = check_text(&text);
        let context = format!("lint {} case {:?}, spec:\n{text}", case.lint, case.name);
        if let Err(failure) = compare_diagnostics(&context, &report, case.expect) {
            failures.push(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn lints_fire_and_stay_silent() {
    run(&cases());
}

/// No message quotes the secret it reports: diagnostics end up in CI logs and review
/// comments.
#[test]
fn secret_messages_do_not_quote_the_secret() {
    const KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let leaks = [
        ("DB_PASSWORD: hunter2".to_owned(), "hunter2"),
        (
            "DATABASE_URL: postgres://admin:hunter2@db/prod".to_owned(),
            "hunter2",
        ),
        (format!("S3_CREDS: {KEY}"), KEY),
        (format!("AWS_SECRET_ACCESS_KEY: {KEY}"), KEY),
        (
            "AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE".to_owned(),
            "AKIAIOSFODNN7EXAMPLE",
        ),
        (
            "AWS_SESSION_TOKEN: IQoJb3JpZ2luX2Vj".to_owned(),
            "IQoJb3JpZ2luX2Vj",
        ),
        (
            "GH: ghp_0123456789abcdefghijABCDEFGHIJ012345".to_owned(),
            "ghp_",
        ),
    ];
    for (variable, secret) in &leaks {
        let report = check_text(&Spec::base().set("spec.environment", variable).text());
        assert!(
            !report.diagnostics.is_empty(),
            "{variable}: nothing reported"
        );
        for diagnostic in &report.diagnostics {
            let shown = diagnostic.to_string();
            assert!(!shown.contains(secret), "{variable}: {shown}");
        }
    }
}

/// Every lint of the catalogue has a case above where it fires and one where it does not.
#[test]
fn every_lint_has_firing_and_silent_cases() {
    let cases = cases();
    for lint in LINTS {
        let tag = format!("[{}]", lint.id);
        let mine: Vec<_> = cases.iter().filter(|c| c.lint == lint.id).collect();
        assert!(
            mine.iter()
                .any(|c| c.expect.iter().any(|e| e.ends_with(&tag))),
            "no case where {} fires",
            lint.id
        );
        assert!(
            mine.iter()
                .any(|c| !c.expect.iter().any(|e| e.ends_with(&tag))),
            "no case where {} stays silent",
            lint.id
        );
    }
    for case in &cases {
        assert!(
            LINTS.iter().any(|l| l.id == case.lint),
            "case {:?} names an unknown lint {}",
            case.name,
            case.lint
        );
    }
}

#[test]
fn the_catalogue_has_unique_ids_and_documented_defaults() {
    let ids: Vec<_> = LINTS.iter().map(|l| l.id).collect();
    assert_eq!(
        ids,
        [
            "secret-in-environment",
            "async-without-failure-destination",
            "tracing-disabled",
            "rollout-without-alarm",
            "timeout-at-maximum",
            "provisioned-concurrency-without-alias",
            "memory-too-low-for-runtime",
            "logs-not-json",
            "missing-error-alarm",
        ]
    );
    for lint in LINTS {
        let expected = if lint.id == "secret-in-environment" {
            Level::Error
        } else {
            Level::Warning
        };
        assert_eq!(lint.default_level, expected, "{}", lint.id);
        assert_eq!(LintConfig::default().level(lint), expected, "{}", lint.id);
        assert!(
            lint.reason.ends_with('.') && !lint.reason.contains('\n'),
            "{}: the reason is one sentence on one line",
            lint.id
        );
        assert!(shepherd_core::lint::find(lint.id).is_some());
    }
    assert!(shepherd_core::lint::find("no-such-lint").is_none());
}

/// A spec on which `id` fires (and, for most, only `id`).
fn firing(id: &str) -> Spec {
    let base = Spec::base();
    match id {
        "secret-in-environment" => base.set("spec.environment", "DB_PASSWORD: hunter2"),
        "async-without-failure-destination" => base.set("spec.asyncInvocation", "{}"),
        "tracing-disabled" => base.remove("spec.tracing"),
        "rollout-without-alarm" => base
            .remove("spec.alarms")
            .set("spec.alias", "{name: live}")
            .set("spec.rollout", "{strategy: Canary10Percent5Minutes}"),
        "timeout-at-maximum" => base.set("spec.timeout", "15m"),
        "provisioned-concurrency-without-alias" => base.set("spec.provisionedConcurrency", "2"),
        "memory-too-low-for-runtime" => base.set("spec.runtime", "java21"),
        "logs-not-json" => base.remove("spec.logging"),
        "missing-error-alarm" => base.remove("spec.alarms"),
        other => panic!("no firing spec for {other}"),
    }
}

/// A lint configuration read from a `.shepherd.yaml` with `text`.
fn config(text: &str) -> LintConfig {
    let scratch = Scratch::new();
    let path = scratch.write(".shepherd.yaml", text);
    LintConfig::load(&path).unwrap_or_else(|errors| {
        let errors: Vec<_> = errors.iter().map(ToString::to_string).collect();
        panic!("config {text:?} is invalid: {errors:#?}")
    })
}

fn severities(report: &shepherd_core::validate::Report, id: &str) -> Vec<Severity> {
    report
        .diagnostics
        .iter()
        .filter(|d| d.code == id)
        .map(|d| d.severity)
        .collect()
}

#[test]
fn levels_can_be_raised_lowered_and_switched_off() {
    for lint in LINTS {
        let text = firing(lint.id).text();

        let report = check_text(&text);
        let default = match lint.default_level {
            Level::Error => Severity::Error,
            _ => Severity::Warning,
        };
        assert_eq!(
            severities(&report, lint.id),
            [default],
            "{} by default",
            lint.id
        );

        let as_error = config(&format!("lints:\n  {}: error\n", lint.id));
        let report = check_text_with(&text, &as_error);
        assert_eq!(
            severities(&report, lint.id),
            [Severity::Error],
            "{}: error",
            lint.id
        );
        assert!(
            !report.is_valid(),
            "{}: an error-level lint fails validation",
            lint.id
        );
        let shown = report
            .diagnostics
            .iter()
            .find(|d| d.code == lint.id)
            .map(render)
            .unwrap_or_default();
        assert!(
            !shown.contains("warning: ") && shown.ends_with(&format!("[{}]", lint.id)),
            "{shown}"
        );

        let as_warning = config(&format!("lints:\n  {}: warning\n", lint.id));
        let report = check_text_with(&text, &as_warning);
        assert_eq!(
            severities(&report, lint.id),
            [Severity::Warning],
            "{}: warning",
            lint.id
        );
        assert!(report.is_valid(), "{}: warnings alone are valid", lint.id);

        let off = config(&format!("lints:\n  {}: off\n", lint.id));
        let report = check_text_with(&text, &off);
        assert!(severities(&report, lint.id).is_empty(), "{}: off", lint.id);
    }
}

#[test]
fn a_level_applies_to_its_lint_only() {
    let text = firing("tracing-disabled").remove("spec.logging").text();
    let report = check_text_with(&text, &config("lints:\n  tracing-disabled: off\n"));
    let codes: Vec<_> = report.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["logs-not-json"]);

    let both = config("lints:\n  tracing-disabled: error\n  logs-not-json: off\n");
    let report = check_text_with(&text, &both);
    let shown: Vec<_> = report.diagnostics.iter().map(render).collect();
    assert_eq!(
        shown,
        ["5:1: spec.tracing: X-Ray tracing is off; set tracing: Active [tracing-disabled]"]
    );
    assert_eq!(counts(&report), (1, 0));
}

#[test]
fn the_ignore_lints_annotation_switches_lints_off_for_one_function() {
    let bare = |name: &str, annotation: Option<&str>| {
        let mut spec = Spec::base()
            .set("metadata.name", name)
            .remove("spec.tracing")
            .remove("spec.logging")
            .set("spec.timeout", "15m");
        if let Some(ids) = annotation {
            spec = spec.set(
                "metadata.annotations",
                &format!("{{shepherd.dev/ignore-lints: \"{ids}\"}}"),
            );
        }
        spec.text()
    };
    let scratch = Scratch::new();
    let text = [
        bare("plain", None),
        bare("one-off", Some("tracing-disabled")),
        bare(
            "several",
            Some(" logs-not-json ,timeout-at-maximum,, tracing-disabled "),
        ),
        bare("unknown-ids", Some("no-such-lint, tracing-disabld")),
    ]
    .join("---\n");
    let file = scratch.write("functions.yaml", &text);
    let report = shepherd_core::check_specs(&[file], &LintConfig::default());
    assert!(report.is_valid());
    // The lints that fired on one function, by id.
    let fired = |name: &str| -> Vec<&str> {
        let function = report
            .functions
            .iter()
            .find(|f| f.name() == name)
            .expect("function is valid");
        let start = function.node.location.line;
        let end = report
            .functions
            .iter()
            .map(|f| f.node.location.line)
            .filter(|&l| l > start)
            .min()
            .unwrap_or(u32::MAX);
        report
            .diagnostics
            .iter()
            .filter(|d| (start..end).contains(&d.location.line))
            .map(|d| d.code.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    assert_eq!(
        fired("plain"),
        ["logs-not-json", "timeout-at-maximum", "tracing-disabled"]
    );
    assert_eq!(fired("one-off"), ["logs-not-json", "timeout-at-maximum"]);
    assert!(fired("several").is_empty());
    assert_eq!(
        fired("unknown-ids"),
        ["logs-not-json", "timeout-at-maximum", "tracing-disabled"]
    );
}

#[test]
fn the_annotation_also_silences_error_level_lints() {
    let text = firing("secret-in-environment")
        .set(
            "metadata.annotations",
            "{shepherd.dev/ignore-lints: secret-in-environment}",
        )
        .text();
    let report = check_text(&text);
    assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
    assert!(report.is_valid());
}

#[test]
fn the_annotation_does_not_silence_validation_errors() {
    let text = Spec::base()
        .set(
            "metadata.annotations",
            "{shepherd.dev/ignore-lints: invalid}",
        )
        .set("spec.memory", "64")
        .text();
    let report = check_text(&text);
    let shown: Vec<_> = report.diagnostics.iter().map(render).collect();
    assert_eq!(
        shown,
        ["19:11: spec.memory: 64 is below the minimum of 128 MB"]
    );
}

/// Lints judge valid specs only: an invalid spec gets its errors, not advice on top.
#[test]
fn lints_do_not_run_on_invalid_functions() {
    let text = firing("tracing-disabled").set("spec.memory", "64").text();
    let report = check_text(&text);
    let codes: Vec<_> = report.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["invalid"]);
}

#[test]
fn config_mistakes_are_reported_with_their_position() {
    let cases: &[(&str, &[&str])] = &[
        (
            "lints:\n  tracing-disable: off\n",
            &["2:3: lints.tracing-disable: unknown lint; did you mean \"tracing-disabled\"?"],
        ),
        (
            "lints:\n  no-such-thing: off\n",
            &["2:3: lints.no-such-thing: unknown lint"],
        ),
        (
            "lints:\n  timeout-at-maximum: warn\n",
            &[
                "2:23: lints.timeout-at-maximum: expected error, warning or off, found a string \"warn\"",
            ],
        ),
        (
            "lints:\n  timeout-at-maximum: false\n",
            &[
                "2:23: lints.timeout-at-maximum: expected error, warning or off, found a boolean (false)",
            ],
        ),
        (
            "lints:\n  timeout-at-maximum: Error\n",
            &[
                "2:23: lints.timeout-at-maximum: expected error, warning or off, found a string \"Error\"",
            ],
        ),
        (
            "lint:\n  tracing-disabled: off\n",
            &["1:1: lint: unknown field; expected lints"],
        ),
        (
            "lints: [tracing-disabled]\n",
            &["1:1: lints: expected a mapping of lint ids to levels, found a list"],
        ),
        (
            "lints: off\n",
            &["1:8: lints: expected a mapping of lint ids to levels, found a string \"off\""],
        ),
        ("- lints\n", &["1:1: expected a mapping with a `lints` key"]),
        ("# nothing\n", &["1:1: empty file: no YAML document in it"]),
        (
            "lints:\n  tracing-disabled: off\n  tracing-disabled: error\n",
            &["3:3: duplicate key \"tracing-disabled\" (first written at line 2)"],
        ),
        (
            "lints:\n  tracing-disable: off\n  logs-not-json: loud\nextra: 1\n",
            &[
                "2:3: lints.tracing-disable: unknown lint; did you mean \"tracing-disabled\"?",
                "3:18: lints.logs-not-json: expected error, warning or off, found a string \"loud\"",
                "4:1: extra: unknown field; expected lints",
            ],
        ),
    ];
    let scratch = Scratch::new();
    for (text, expected) in cases {
        let path = scratch.write(".shepherd.yaml", text);
        let errors = LintConfig::load(&path).expect_err(text);
        let shown: Vec<_> = errors
            .iter()
            .map(|d| {
                assert_eq!(d.file, path);
                assert_eq!(d.severity, Severity::Error);
                render(d)
            })
            .collect();
        assert_eq!(&shown, expected, "config {text:?}");
    }
}

#[test]
fn an_empty_lints_mapping_keeps_the_defaults() {
    for text in ["lints: {}\n", "lints:\n  tracing-disabled: warning\n"] {
        let config = config(text);
        for lint in LINTS {
            assert_eq!(
                config.level(lint),
                lint.default_level,
                "{text:?}: {}",
                lint.id
            );
        }
    }
}

#[test]
fn a_missing_config_file_is_an_error() {
    let scratch = Scratch::new();
    let errors = LintConfig::load(&scratch.path().join(".shepherd.yaml")).expect_err("missing");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.starts_with("cannot read: "),
        "{}",
        errors[0].message
    );
}
