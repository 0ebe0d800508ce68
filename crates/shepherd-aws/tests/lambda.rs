//! The Lambda calls against mocked SDK clients: what is sent, and how answers map to the
//! model.

mod common;

use std::collections::{BTreeMap, HashMap};

use aws_sdk_lambda::Client as Lambda;
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::operation::get_provisioned_concurrency_config::GetProvisionedConcurrencyConfigOutput;
use aws_sdk_lambda::operation::list_aliases::ListAliasesOutput;
use aws_sdk_lambda::operation::list_event_source_mappings::ListEventSourceMappingsOutput;
use aws_sdk_lambda::operation::list_versions_by_function::ListVersionsByFunctionOutput;
use aws_sdk_lambda::operation::publish_version::PublishVersionOutput;
use aws_sdk_lambda::operation::put_provisioned_concurrency_config::PutProvisionedConcurrencyConfigOutput;
use aws_sdk_lambda::operation::update_alias::UpdateAliasOutput;
use aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationOutput;
use aws_sdk_lambda::types as lt;
use aws_smithy_mocks::mock;
use common::{lambda_cloud, lambda_error};
use shepherd_core::cloud::*;
use shepherd_core::model::{
    AsyncConfig, FunctionConfig, FunctionState, LastUpdateStatus, LoggingConfig, MappingConfig,
    ObservedAlias, ObservedVersion, Package, ProvisionedConcurrency, ProvisionedStatus, Readable,
    VpcConfig,
};
use shepherd_core::spec::{
    ApplicationLogLevel, Architecture, LogFormat, SnapStart, SystemLogLevel, TracingMode,
};

const ARN: &str = "arn:aws:lambda:eu-west-1:123456789012:function:orders";
const ROLE: &str = "arn:aws:iam::123456789012:role/orders";

fn full_configuration() -> lt::FunctionConfiguration {
    lt::FunctionConfiguration::builder()
        .function_name("orders")
        .function_arn(ARN)
        .runtime(lt::Runtime::Python312)
        .handler("app.handler")
        .role(ROLE)
        .description("Takes orders")
        .memory_size(512)
        .timeout(30)
        .code_sha256("c2hhMjU2")
        .version("$LATEST")
        .package_type(lt::PackageType::Zip)
        .ephemeral_storage(lt::EphemeralStorage::builder().size(1024).build().unwrap())
        .environment(
            lt::EnvironmentResponse::builder()
                .variables("STAGE", "prod")
                .variables("TABLE", "orders")
                .build(),
        )
        .kms_key_arn("arn:aws:kms:eu-west-1:123456789012:key/k")
        .vpc_config(
            lt::VpcConfigResponse::builder()
                .subnet_ids("subnet-b")
                .subnet_ids("subnet-a")
                .security_group_ids("sg-1")
                .vpc_id("vpc-1")
                .ipv6_allowed_for_dual_stack(true)
                .build(),
        )
        .tracing_config(
            lt::TracingConfigResponse::builder()
                .mode(lt::TracingMode::Active)
                .build(),
        )
        .logging_config(
            lt::LoggingConfig::builder()
                .log_format(lt::LogFormat::Json)
                .application_log_level(lt::ApplicationLogLevel::Warn)
                .system_log_level(lt::SystemLogLevel::Info)
                .log_group("/custom/orders")
                .build(),
        )
        .snap_start(
            lt::SnapStartResponse::builder()
                .apply_on(lt::SnapStartApplyOn::PublishedVersions)
                .build(),
        )
        .layers(
            lt::Layer::builder()
                .arn("arn:aws:lambda:eu-west-1:123456789012:layer:l:1")
                .build(),
        )
        .dead_letter_config(
            lt::DeadLetterConfig::builder()
                .target_arn("arn:aws:sqs:eu-west-1:123456789012:dlq")
                .build(),
        )
        .architectures(lt::Architecture::Arm64)
        .state(lt::State::Active)
        .last_update_status(lt::LastUpdateStatus::Successful)
        .build()
}

#[tokio::test]
async fn get_function_maps_every_setting() {
    let rule = mock!(Lambda::get_function)
        .match_requests(|req| req.function_name() == Some("orders") && req.qualifier().is_none())
        .then_output(|| {
            GetFunctionOutput::builder()
                .configuration(full_configuration())
                .tags("shepherd.dev/managed-by", "shepherd")
                .tags("team", "payments")
                .concurrency(
                    lt::Concurrency::builder()
                        .reserved_concurrent_executions(20)
                        .build(),
                )
                .build()
        });
    let function = lambda_cloud(&[&rule])
        .get_function("orders")
        .await
        .unwrap()
        .expect("the function exists");
    assert_eq!(rule.num_calls(), 1);
    assert_eq!(function.name, "orders");
    assert_eq!(function.arn, ARN);
    assert_eq!(function.architecture, Architecture::Arm64);
    assert_eq!(function.state, FunctionState::Active);
    assert_eq!(function.last_update, LastUpdateStatus::Successful);
    assert_eq!(function.last_update_reason, None);
    assert_eq!(function.code_sha256, "c2hhMjU2");
    assert_eq!(function.reserved_concurrency, Some(20));
    assert_eq!(
        function.tags,
        BTreeMap::from([
            ("shepherd.dev/managed-by".to_owned(), "shepherd".to_owned()),
            ("team".to_owned(), "payments".to_owned()),
        ])
    );
    assert_eq!(
        function.config,
        FunctionConfig {
            description: "Takes orders".to_owned(),
            role: ROLE.to_owned(),
            package: Package::Zip {
                handler: "app.handler".to_owned(),
                runtime: "python3.12".to_owned(),
            },
            memory: 512,
            timeout_secs: 30,
            ephemeral_storage: 1024,
            environment: BTreeMap::from([
                ("STAGE".to_owned(), "prod".to_owned()),
                ("TABLE".to_owned(), "orders".to_owned()),
            ]),
            kms_key_arn: Some("arn:aws:kms:eu-west-1:123456789012:key/k".to_owned()),
            vpc: Some(VpcConfig {
                subnet_ids: vec!["subnet-a".to_owned(), "subnet-b".to_owned()],
                security_group_ids: vec!["sg-1".to_owned()],
                ipv6_allowed_for_dual_stack: true,
            }),
            tracing: TracingMode::Active,
            logging: Some(LoggingConfig {
                format: LogFormat::Json,
                application_log_level: Some(ApplicationLogLevel::Warn),
                system_log_level: Some(SystemLogLevel::Info),
                log_group: "/custom/orders".to_owned(),
            }),
            snap_start: SnapStart::PublishedVersions,
            layers: vec!["arn:aws:lambda:eu-west-1:123456789012:layer:l:1".to_owned()],
            dead_letter_target: Some("arn:aws:sqs:eu-west-1:123456789012:dlq".to_owned()),
        }
    );
    // The sub-resources are other calls, made by the caller when needed.
    assert!(function.aliases.is_empty());
    assert_eq!(function.versions, Readable::NotRead);
    assert_eq!(function.async_config, Readable::NotRead);
    assert_eq!(function.provisioned, Readable::NotRead);
    assert_eq!(function.recursive_loop, Readable::NotRead);
    assert_eq!(function.mappings, Readable::NotRead);
    assert_eq!(function.alarms, Readable::NotRead);
}

#[tokio::test]
async fn get_function_fills_defaults_and_leaves_unreported_logging_out() {
    // What the emulator answers: no LoggingConfig, no EphemeralStorage, no tracing, an
    // empty VpcConfig; plus states this model has no name for.
    let rule = mock!(Lambda::get_function).then_output(|| {
        GetFunctionOutput::builder()
            .configuration(
                lt::FunctionConfiguration::builder()
                    .function_name("orders")
                    .function_arn(ARN)
                    .role(ROLE)
                    .package_type(lt::PackageType::Image)
                    .code_sha256("digest")
                    .vpc_config(
                        lt::VpcConfigResponse::builder()
                            .set_subnet_ids(Some(vec![]))
                            .set_security_group_ids(Some(vec![]))
                            .build(),
                    )
                    .kms_key_arn("")
                    .state(lt::State::from("Deactivating"))
                    .last_update_status(lt::LastUpdateStatus::from("Paused"))
                    .state_reason("The function is being deactivated")
                    .build(),
            )
            .build()
    });
    let function = lambda_cloud(&[&rule])
        .get_function("orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(function.config.logging, None);
    assert_eq!(function.config.package, Package::Image);
    assert_eq!(function.config.description, "");
    assert_eq!(function.config.memory, 128);
    assert_eq!(function.config.timeout_secs, 3);
    assert_eq!(function.config.ephemeral_storage, 512);
    assert!(function.config.environment.is_empty());
    assert_eq!(function.config.kms_key_arn, None);
    assert_eq!(function.config.vpc, None);
    assert_eq!(function.config.tracing, TracingMode::PassThrough);
    assert_eq!(function.config.snap_start, SnapStart::Off);
    assert!(function.config.layers.is_empty());
    assert_eq!(function.config.dead_letter_target, None);
    assert_eq!(function.architecture, Architecture::X86_64);
    assert_eq!(
        function.state,
        FunctionState::Other("Deactivating".to_owned())
    );
    assert_eq!(
        function.last_update,
        LastUpdateStatus::Other("Paused".to_owned())
    );
    assert_eq!(
        function.last_update_reason.as_deref(),
        Some("The function is being deactivated")
    );
    assert!(function.tags.is_empty());
    assert_eq!(function.reserved_concurrency, None);
}

#[tokio::test]
async fn get_function_of_a_missing_function_is_none() {
    let rule = mock!(Lambda::get_function).then_http_response(|| {
        lambda_error(
            404,
            "ResourceNotFoundException",
            "Function not found: arn:aws:lambda:eu-west-1:123456789012:function:orders",
        )
    });
    assert_eq!(
        lambda_cloud(&[&rule]).get_function("orders").await.unwrap(),
        None
    );
}

#[tokio::test]
async fn get_function_refuses_to_guess_unreadable_tags() {
    let rule = mock!(Lambda::get_function).then_output(|| {
        GetFunctionOutput::builder()
            .configuration(full_configuration())
            .tags_error(
                lt::TagsError::builder()
                    .error_code("AccessDeniedException")
                    .message("not authorized to perform: lambda:ListTags")
                    .build()
                    .unwrap(),
            )
            .build()
    });
    let err = lambda_cloud(&[&rule])
        .get_function("orders")
        .await
        .unwrap_err();
    assert!(
        matches!(err, shepherd_core::cloud::CloudError::Rejected { ref code, .. } if code == "AccessDeniedException"),
        "{err:?}"
    );
}

#[tokio::test]
async fn list_aliases_reads_the_additional_version_weight() {
    let rule = mock!(Lambda::list_aliases)
        .match_requests(|req| req.function_name() == Some("orders"))
        .then_output(|| {
            ListAliasesOutput::builder()
                .aliases(
                    lt::AliasConfiguration::builder()
                        .name("live")
                        .function_version("3")
                        .description("callers")
                        .revision_id("rev-1")
                        .routing_config(
                            lt::AliasRoutingConfiguration::builder()
                                .additional_version_weights("4", 0.1)
                                .build(),
                        )
                        .build(),
                )
                .aliases(
                    lt::AliasConfiguration::builder()
                        .name("stable")
                        .function_version("2")
                        .revision_id("")
                        .build(),
                )
                .build()
        });
    let aliases = lambda_cloud(&[&rule]).list_aliases("orders").await.unwrap();
    assert_eq!(
        aliases,
        vec![
            ObservedAlias {
                name: "live".to_owned(),
                version: "3".to_owned(),
                additional_version: Some(("4".to_owned(), 0.1)),
                description: "callers".to_owned(),
                revision_id: Some("rev-1".to_owned()),
            },
            ObservedAlias {
                name: "stable".to_owned(),
                version: "2".to_owned(),
                additional_version: None,
                description: String::new(),
                revision_id: None,
            },
        ]
    );
}

#[tokio::test]
async fn list_versions_pages_and_skips_latest() {
    let first = mock!(Lambda::list_versions_by_function)
        .match_requests(|req| req.marker().is_none())
        .then_output(|| {
            ListVersionsByFunctionOutput::builder()
                .versions(
                    lt::FunctionConfiguration::builder()
                        .version("$LATEST")
                        .build(),
                )
                .versions(
                    lt::FunctionConfiguration::builder()
                        .version("1")
                        .code_sha256("a")
                        .description("r1")
                        .build(),
                )
                .next_marker("page-2")
                .build()
        });
    let second = mock!(Lambda::list_versions_by_function)
        .match_requests(|req| req.marker() == Some("page-2"))
        .then_output(|| {
            ListVersionsByFunctionOutput::builder()
                .versions(
                    lt::FunctionConfiguration::builder()
                        .version("2")
                        .code_sha256("b")
                        .build(),
                )
                .build()
        });
    let versions = lambda_cloud(&[&first, &second])
        .list_versions("orders")
        .await
        .unwrap();
    assert_eq!(
        versions,
        vec![
            ObservedVersion {
                version: "1".to_owned(),
                code_sha256: "a".to_owned(),
                description: "r1".to_owned(),
            },
            ObservedVersion {
                version: "2".to_owned(),
                code_sha256: "b".to_owned(),
                description: String::new(),
            },
        ]
    );
    assert_eq!((first.num_calls(), second.num_calls()), (1, 1));
}

#[tokio::test]
async fn update_alias_without_additional_version_clears_the_weights() {
    let rule = mock!(Lambda::update_alias)
        .match_requests(|req| {
            req.function_name() == Some("orders")
                && req.name() == Some("live")
                && req.function_version() == Some("4")
                && req.description() == Some("callers")
                // Present and empty: an absent RoutingConfig would keep the old weights.
                && req
                    .routing_config()
                    .and_then(|r| r.additional_version_weights())
                    .is_some_and(HashMap::is_empty)
        })
        .then_output(|| UpdateAliasOutput::builder().build());
    lambda_cloud(&[&rule])
        .update_alias("orders", "live", "4", None, "callers", None)
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn update_alias_with_additional_version_sends_its_weight() {
    let rule = mock!(Lambda::update_alias)
        .match_requests(|req| {
            req.function_version() == Some("3")
                && req
                    .routing_config()
                    .and_then(|r| r.additional_version_weights())
                    .is_some_and(|w| w.len() == 1 && w.get("4") == Some(&0.25))
        })
        .then_output(|| UpdateAliasOutput::builder().build());
    lambda_cloud(&[&rule])
        .update_alias("orders", "live", "3", Some(("4", 0.25)), "callers", None)
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn update_alias_sends_the_expected_revision_and_returns_the_new_one() {
    let rule = mock!(Lambda::update_alias)
        .match_requests(|req| req.revision_id() == Some("rev-1"))
        .then_output(|| UpdateAliasOutput::builder().revision_id("rev-2").build());
    let revision = lambda_cloud(&[&rule])
        .update_alias("orders", "live", "3", None, "callers", Some("rev-1"))
        .await
        .unwrap();
    assert_eq!(revision.as_deref(), Some("rev-2"));
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn provisioned_concurrency_put_then_in_progress_then_ready() {
    let put = mock!(Lambda::put_provisioned_concurrency_config)
        .match_requests(|req| {
            req.function_name() == Some("orders")
                && req.qualifier() == Some("live")
                && req.provisioned_concurrent_executions() == Some(10)
        })
        .then_output(|| {
            PutProvisionedConcurrencyConfigOutput::builder()
                .requested_provisioned_concurrent_executions(10)
                .status(lt::ProvisionedConcurrencyStatusEnum::InProgress)
                .build()
        });
    let get = mock!(Lambda::get_provisioned_concurrency_config)
        .match_requests(|req| {
            req.function_name() == Some("orders") && req.qualifier() == Some("live")
        })
        .sequence()
        .output(|| {
            GetProvisionedConcurrencyConfigOutput::builder()
                .requested_provisioned_concurrent_executions(10)
                .allocated_provisioned_concurrent_executions(0)
                .status(lt::ProvisionedConcurrencyStatusEnum::InProgress)
                .build()
        })
        .output(|| {
            GetProvisionedConcurrencyConfigOutput::builder()
                .requested_provisioned_concurrent_executions(10)
                .allocated_provisioned_concurrent_executions(10)
                .available_provisioned_concurrent_executions(10)
                .status(lt::ProvisionedConcurrencyStatusEnum::Ready)
                .build()
        })
        .build();
    let cloud = lambda_cloud(&[&put, &get]);
    cloud
        .put_provisioned_concurrency("orders", "live", 10)
        .await
        .unwrap();
    let first = cloud
        .get_provisioned_concurrency("orders", "live")
        .await
        .unwrap();
    assert_eq!(
        first,
        Some(ProvisionedConcurrency {
            qualifier: "live".to_owned(),
            requested: 10,
            allocated: 0,
            status: ProvisionedStatus::InProgress,
        })
    );
    let second = cloud
        .get_provisioned_concurrency("orders", "live")
        .await
        .unwrap();
    assert_eq!(
        second,
        Some(ProvisionedConcurrency {
            qualifier: "live".to_owned(),
            requested: 10,
            allocated: 10,
            status: ProvisionedStatus::Ready,
        })
    );
    assert_eq!((put.num_calls(), get.num_calls()), (1, 2));
}

#[tokio::test]
async fn provisioned_concurrency_failure_carries_its_reason() {
    let get = mock!(Lambda::get_provisioned_concurrency_config).then_output(|| {
        GetProvisionedConcurrencyConfigOutput::builder()
            .requested_provisioned_concurrent_executions(50)
            .allocated_provisioned_concurrent_executions(0)
            .status(lt::ProvisionedConcurrencyStatusEnum::Failed)
            .status_reason("FUNCTION_ERROR_INIT_FAILURE")
            .build()
    });
    let config = lambda_cloud(&[&get])
        .get_provisioned_concurrency("orders", "live")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        config.status,
        ProvisionedStatus::Failed("FUNCTION_ERROR_INIT_FAILURE".to_owned())
    );
}

#[tokio::test]
async fn provisioned_concurrency_absent_is_none() {
    let get = mock!(Lambda::get_provisioned_concurrency_config).then_http_response(|| {
        lambda_error(
            404,
            "ProvisionedConcurrencyConfigNotFoundException",
            "No Provisioned Concurrency Config found for this function",
        )
    });
    let config = lambda_cloud(&[&get])
        .get_provisioned_concurrency("orders", "live")
        .await
        .unwrap();
    assert_eq!(config, None);
}

#[tokio::test]
async fn list_provisioned_concurrency_reads_the_qualifier_from_the_arn() {
    use aws_sdk_lambda::operation::list_provisioned_concurrency_configs::ListProvisionedConcurrencyConfigsOutput;
    let list = mock!(Lambda::list_provisioned_concurrency_configs).then_output(|| {
        ListProvisionedConcurrencyConfigsOutput::builder()
            .provisioned_concurrency_configs(
                lt::ProvisionedConcurrencyConfigListItem::builder()
                    .function_arn(format!("{ARN}:live"))
                    .requested_provisioned_concurrent_executions(5)
                    .allocated_provisioned_concurrent_executions(5)
                    .status(lt::ProvisionedConcurrencyStatusEnum::Ready)
                    .build(),
            )
            .build()
    });
    let configs = lambda_cloud(&[&list])
        .list_provisioned_concurrency("orders")
        .await
        .unwrap();
    assert_eq!(
        configs,
        vec![ProvisionedConcurrency {
            qualifier: "live".to_owned(),
            requested: 5,
            allocated: 5,
            status: ProvisionedStatus::Ready,
        }]
    );
}

#[tokio::test]
async fn update_configuration_sends_every_setting_so_removed_ones_reset() {
    let rule = mock!(Lambda::update_function_configuration)
        .match_requests(|req| {
            req.function_name() == Some("orders")
                && req.handler() == Some("app.handler")
                && req.runtime() == Some(&lt::Runtime::Python312)
                && req.environment().and_then(|e| e.variables()).is_some_and(HashMap::is_empty)
                && req.layers == Some(Vec::new())
                && req.vpc_config().is_some_and(|v| {
                    v.subnet_ids == Some(Vec::new()) && v.security_group_ids == Some(Vec::new())
                })
                && req.kms_key_arn() == Some("")
                && req.dead_letter_config().and_then(|d| d.target_arn()) == Some("")
                && req.tracing_config().and_then(|t| t.mode()) == Some(&lt::TracingMode::PassThrough)
                && req.ephemeral_storage().map(|e| e.size()) == Some(512)
                && req.snap_start().and_then(|s| s.apply_on()) == Some(&lt::SnapStartApplyOn::None)
                // Not reported by the endpoint, so not desired either: not sent.
                && req.logging_config().is_none()
                && req.memory_size() == Some(256)
                && req.timeout() == Some(10)
                && req.role() == Some(ROLE)
                && req.description() == Some("")
        })
        .then_output(|| UpdateFunctionConfigurationOutput::builder().build());
    let config = FunctionConfig {
        description: String::new(),
        role: ROLE.to_owned(),
        package: Package::Zip {
            handler: "app.handler".to_owned(),
            runtime: "python3.12".to_owned(),
        },
        memory: 256,
        timeout_secs: 10,
        ephemeral_storage: 512,
        environment: BTreeMap::new(),
        kms_key_arn: None,
        vpc: None,
        tracing: TracingMode::PassThrough,
        logging: None,
        snap_start: SnapStart::Off,
        layers: Vec::new(),
        dead_letter_target: None,
    };
    lambda_cloud(&[&rule])
        .update_configuration("orders", &config)
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn update_configuration_of_an_image_function_sends_no_runtime() {
    let rule = mock!(Lambda::update_function_configuration)
        .match_requests(|req| {
            req.handler().is_none()
                && req.runtime().is_none()
                && req.logging_config().is_some_and(|l| {
                    l.log_format() == Some(&lt::LogFormat::Text)
                        && l.application_log_level().is_none()
                        && l.log_group() == Some("/aws/lambda/orders")
                })
        })
        .then_output(|| UpdateFunctionConfigurationOutput::builder().build());
    let config = FunctionConfig {
        description: String::new(),
        role: ROLE.to_owned(),
        package: Package::Image,
        memory: 128,
        timeout_secs: 3,
        ephemeral_storage: 512,
        environment: BTreeMap::new(),
        kms_key_arn: None,
        vpc: None,
        tracing: TracingMode::PassThrough,
        logging: Some(LoggingConfig {
            format: LogFormat::Text,
            application_log_level: None,
            system_log_level: None,
            log_group: "/aws/lambda/orders".to_owned(),
        }),
        snap_start: SnapStart::Off,
        layers: Vec::new(),
        dead_letter_target: None,
    };
    lambda_cloud(&[&rule])
        .update_configuration("orders", &config)
        .await
        .unwrap();
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn publish_version_sends_the_code_precondition() {
    let rule = mock!(Lambda::publish_version)
        .match_requests(|req| {
            req.function_name() == Some("orders")
                && req.code_sha256() == Some("c2hh")
                && req.description() == Some("shepherd release abc")
        })
        .then_output(|| {
            PublishVersionOutput::builder()
                .version("7")
                .code_sha256("c2hh")
                .description("shepherd release abc")
                .build()
        });
    let version = lambda_cloud(&[&rule])
        .publish_version("orders", "shepherd release abc", Some("c2hh"))
        .await
        .unwrap();
    assert_eq!(
        version,
        ObservedVersion {
            version: "7".to_owned(),
            code_sha256: "c2hh".to_owned(),
            description: "shepherd release abc".to_owned(),
        }
    );
}

#[tokio::test]
async fn list_mappings_keeps_sqs_mappings_only() {
    let rule = mock!(Lambda::list_event_source_mappings)
        .match_requests(|req| req.function_name() == Some("orders"))
        .then_output(|| {
            ListEventSourceMappingsOutput::builder()
                .event_source_mappings(
                    lt::EventSourceMappingConfiguration::builder()
                        .uuid("u-1")
                        .function_arn(format!("{ARN}:live"))
                        .event_source_arn("arn:aws:sqs:eu-west-1:123456789012:orders")
                        .batch_size(5)
                        .maximum_batching_window_in_seconds(2)
                        .state("Enabled")
                        .build(),
                )
                .event_source_mappings(
                    lt::EventSourceMappingConfiguration::builder()
                        .uuid("u-2")
                        .function_arn(ARN)
                        .event_source_arn("arn:aws:kinesis:eu-west-1:123456789012:stream/s")
                        .build(),
                )
                .build()
        });
    let mappings = lambda_cloud(&[&rule])
        .list_mappings(Some("orders"))
        .await
        .unwrap();
    assert_eq!(mappings.len(), 1);
    assert_eq!(mappings[0].uuid, "u-1");
    assert_eq!(mappings[0].function_arn, format!("{ARN}:live"));
    assert_eq!(
        mappings[0].config,
        MappingConfig {
            queue_arn: "arn:aws:sqs:eu-west-1:123456789012:orders".to_owned(),
            batch_size: 5,
            batching_window_secs: 2,
            enabled: true,
            maximum_concurrency: None,
            report_batch_item_failures: false,
            filters: Vec::new(),
        }
    );
}

#[tokio::test]
async fn create_mapping_targets_the_qualifier() {
    use aws_sdk_lambda::operation::create_event_source_mapping::CreateEventSourceMappingOutput;
    let rule = mock!(Lambda::create_event_source_mapping)
        .match_requests(|req| {
            req.function_name() == Some("orders:live")
                && req.event_source_arn() == Some("arn:aws:sqs:eu-west-1:123456789012:orders")
                && req.batch_size() == Some(10)
                && req.maximum_batching_window_in_seconds() == Some(0)
                && req.enabled() == Some(true)
                && req.scaling_config().and_then(|s| s.maximum_concurrency()) == Some(4)
                && req.function_response_types()
                    == [lt::FunctionResponseType::ReportBatchItemFailures]
        })
        .then_output(|| {
            CreateEventSourceMappingOutput::builder()
                .uuid("u-9")
                .build()
        });
    let uuid = lambda_cloud(&[&rule])
        .create_mapping(
            "orders",
            Some("live"),
            &MappingConfig {
                queue_arn: "arn:aws:sqs:eu-west-1:123456789012:orders".to_owned(),
                batch_size: 10,
                batching_window_secs: 0,
                enabled: true,
                maximum_concurrency: Some(4),
                report_batch_item_failures: true,
                filters: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(uuid, "u-9");
}

#[tokio::test]
async fn async_config_defaults_and_destinations() {
    use aws_sdk_lambda::operation::get_function_event_invoke_config::GetFunctionEventInvokeConfigOutput;
    let rule = mock!(Lambda::get_function_event_invoke_config)
        .match_requests(|req| req.qualifier() == Some("live"))
        .then_output(|| {
            GetFunctionEventInvokeConfigOutput::builder()
                .destination_config(
                    lt::DestinationConfig::builder()
                        .on_failure(
                            lt::OnFailure::builder()
                                .destination("arn:aws:sqs:eu-west-1:123456789012:failed")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let config = lambda_cloud(&[&rule])
        .get_async_config("orders", Some("live"))
        .await
        .unwrap();
    assert_eq!(
        config,
        Some(AsyncConfig {
            maximum_retry_attempts: 2,
            maximum_event_age_secs: 21_600,
            on_success: None,
            on_failure: Some("arn:aws:sqs:eu-west-1:123456789012:failed".to_owned()),
        })
    );
}

#[tokio::test]
async fn list_managed_functions_keeps_those_with_shepherds_tag() {
    use aws_sdk_lambda::operation::list_functions::ListFunctionsOutput;
    use aws_sdk_lambda::operation::list_tags::ListTagsOutput;
    let list = mock!(Lambda::list_functions).then_output(|| {
        ListFunctionsOutput::builder()
            .functions(
                lt::FunctionConfiguration::builder()
                    .function_name("orders")
                    .function_arn(ARN)
                    .build(),
            )
            .functions(
                lt::FunctionConfiguration::builder()
                    .function_name("other")
                    .function_arn("arn:aws:lambda:eu-west-1:123456789012:function:other")
                    .build(),
            )
            .build()
    });
    let managed = mock!(Lambda::list_tags)
        .match_requests(|req| req.resource() == Some(ARN))
        .then_output(|| {
            ListTagsOutput::builder()
                .tags("shepherd.dev/managed-by", "shepherd")
                .tags("shepherd.dev/owner", "github.com/acme/specs")
                .build()
        });
    let unmanaged = mock!(Lambda::list_tags)
        .then_output(|| ListTagsOutput::builder().tags("team", "x").build());
    let names = lambda_cloud(&[&list, &managed, &unmanaged])
        .list_managed_functions()
        .await
        .unwrap();
    assert_eq!(
        names,
        vec![shepherd_core::model::ManagedFunction {
            name: "orders".to_owned(),
            owner: Some("github.com/acme/specs".to_owned()),
        }]
    );
}
