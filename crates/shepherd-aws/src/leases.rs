//! The lease table on DynamoDB (aws-sdk-dynamodb): one item per target, keyed by
//! `target`, written only with conditions, read with strong consistency.
//!
//! Item: `target` (S, the key), `holder` (S), `version` (S), `durationMs` (N),
//! `address` (S, optional), `renewedAt` (S, RFC 3339 wall time, for people only: no
//! decision reads it).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType,
};
use shepherd_core::lease::{LeaseItem, LeaseTable, TableError};

/// The key attribute of the lease table.
pub const KEY: &str = "target";

/// The condition of a renewal, takeover or release: the item still carries the version
/// the writer read or wrote (`#v` is `version`, `:expected` that version).
const VERSION_GUARD: &str = "#v = :expected";

/// Lease items in one DynamoDB table.
#[derive(Clone)]
pub struct DynamoLeases {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoLeases {
    /// From the standard AWS environment, with the same overrides as [`crate::AwsCloud`].
    pub async fn from_env(
        table: impl Into<String>,
        region: Option<String>,
        endpoint_url: Option<String>,
    ) -> Self {
        let config = crate::sdk_config(region, endpoint_url).await;
        Self {
            client: aws_sdk_dynamodb::Client::new(&config),
            table: table.into(),
        }
    }

    /// On a client configured elsewhere.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table (on-demand capacity); an existing table of that name is left as
    /// it is and reported as `Ok(false)`.
    pub async fn create_table(&self) -> Result<bool, String> {
        let key = KeySchemaElement::builder()
            .attribute_name(KEY)
            .key_type(KeyType::Hash)
            .build()
            .map_err(|e| e.to_string())?;
        let attribute = AttributeDefinition::builder()
            .attribute_name(KEY)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .map_err(|e| e.to_string())?;
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .key_schema(key)
            .attribute_definitions(attribute)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            Ok(_) => Ok(true),
            Err(e) if e.code() == Some("ResourceInUseException") => Ok(false),
            Err(e) => Err(format!(
                "CreateTable {}: {}",
                self.table,
                DisplayErrorContext(e)
            )),
        }
    }

    fn key(target: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([(KEY.to_owned(), AttributeValue::S(target.to_owned()))])
    }
}

fn attributes(item: &LeaseItem) -> HashMap<String, AttributeValue> {
    let mut map = DynamoLeases::key(&item.target);
    map.insert("holder".into(), AttributeValue::S(item.holder.clone()));
    map.insert("version".into(), AttributeValue::S(item.version.clone()));
    map.insert(
        "durationMs".into(),
        AttributeValue::N(item.duration.as_millis().to_string()),
    );
    if let Some(address) = &item.address {
        map.insert("address".into(), AttributeValue::S(address.clone()));
    }
    let renewed = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    map.insert("renewedAt".into(), AttributeValue::S(renewed));
    map
}

fn parse(map: &HashMap<String, AttributeValue>) -> Result<LeaseItem, TableError> {
    let text = |name: &str| map.get(name).and_then(|v| v.as_s().ok()).cloned();
    let bad = |what: &str| TableError::Unavailable(format!("lease item: {what}"));
    let duration = map
        .get("durationMs")
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| bad("no durationMs number"))?;
    Ok(LeaseItem {
        target: text(KEY).ok_or_else(|| bad("no target"))?,
        holder: text("holder").ok_or_else(|| bad("no holder"))?,
        version: text("version").ok_or_else(|| bad("no version"))?,
        duration: Duration::from_millis(duration),
        address: text("address"),
    })
}

/// A refused condition is `ConditionFailed`; anything else leaves the outcome unknown.
fn table_error<E, R>(call: &str, error: SdkError<E, R>) -> TableError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    if error.code() == Some("ConditionalCheckFailedException") {
        TableError::ConditionFailed
    } else {
        TableError::Unavailable(format!("{call}: {}", DisplayErrorContext(error)))
    }
}

impl LeaseTable for DynamoLeases {
    async fn get(&self, target: &str) -> Result<Option<LeaseItem>, TableError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(target)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| table_error("GetItem", e))?;
        out.item().map(parse).transpose()
    }

    async fn put_new(&self, item: &LeaseItem) -> Result<(), TableError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attributes(item)))
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", KEY)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| table_error("PutItem", e))
    }

    async fn replace(&self, expected: &str, item: &LeaseItem) -> Result<(), TableError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attributes(item)))
            .condition_expression(VERSION_GUARD)
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", AttributeValue::S(expected.to_owned()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| table_error("PutItem", e))
    }

    async fn delete(&self, target: &str, expected: &str) -> Result<(), TableError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::key(target)))
            .condition_expression(VERSION_GUARD)
            .expression_attribute_names("#v", "version")
            .expression_attribute_values(":expected", AttributeValue::S(expected.to_owned()))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| table_error("DeleteItem", e))
    }
}
