//! Sluice's tables: DynamoDB's API (`DynamoDB_20120810.*`) with DynamoDB's semantics, stored in
//! the engine's store through [`sluice_store::tables::TableStore`].
//!
//! [`Tables::call`] takes an operation name and its request in DynamoDB JSON, as the wire
//! carries it and as a state machine's `arn:aws:states:::dynamodb:*` task passes its
//! parameters, and answers with the response JSON or an [`Error`] carrying DynamoDB's code and
//! message. Expressions are parsed and checked by `sluice-expressions`; conditions are checked
//! by the store inside the write's transaction, so a conditional write or an
//! `ADD`/`list_append` update never loses to a concurrent one.
//!
//! Not done: secondary indexes (a request naming `IndexName` or creating an index is refused with
//! a `ValidationException`), streams, backups, and the legacy parameters (`Expected`,
//! `AttributesToGet`, `KeyConditions`, …), which are refused by name.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use serde_json::json;
//! use sluice_tables::{Options, Tables};
//!
//! let directory = tempfile::tempdir().unwrap();
//! let store = sluice_store_sqlite::SqliteStore::open(&directory.path().join("sluice.db")).unwrap();
//! let tables = Tables::new(Arc::new(store), Options::default());
//! tables.call("CreateTable", json!({
//!     "TableName": "regions",
//!     "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
//!     "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
//!     "BillingMode": "PAY_PER_REQUEST",
//! })).await.unwrap();
//! let answer = tables.call("UpdateItem", json!({
//!     "TableName": "regions",
//!     "Key": {"id": {"S": "test-1"}},
//!     "UpdateExpression": "SET #l = list_append(if_not_exists(#l, :empty), :new)",
//!     "ExpressionAttributeNames": {"#l": "ready"},
//!     "ExpressionAttributeValues": {":empty": {"L": []}, ":new": {"L": [{"S": "eu-west-1"}]}},
//!     "ReturnValues": "ALL_NEW",
//! })).await.unwrap();
//! assert_eq!(answer["Attributes"]["ready"], json!({"L": [{"S": "eu-west-1"}]}));
//! # });
//! ```
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

mod batch;
mod control;
mod error;
mod items;
mod read;
mod request;
mod transact;

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;
use sluice_store::tables::{TableRecord, TableStore};

pub use control::TableDefinition;
pub use error::{Error, ErrorCode};

/// The operations [`Tables::call`] answers.
pub const OPERATIONS: &[&str] = &[
    "CreateTable",
    "DescribeTable",
    "ListTables",
    "DeleteTable",
    "UpdateTimeToLive",
    "DescribeTimeToLive",
    "PutItem",
    "GetItem",
    "DeleteItem",
    "UpdateItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
];

/// Where the tables say they are: the region and account in table ARNs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The region (`us-east-1` by default).
    pub region: String,
    /// The account (`123456789012` by default).
    pub account: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            region: "us-east-1".into(),
            account: "123456789012".into(),
        }
    }
}

/// The clock, in milliseconds since the epoch; passed in so tests can move time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The tables service. Cheap to clone.
#[derive(Clone)]
pub struct Tables {
    store: Arc<dyn TableStore>,
    options: Options,
    clock: Clock,
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Tables")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Tables {
    /// The service over a store, on the system clock.
    pub fn new(store: Arc<dyn TableStore>, options: Options) -> Tables {
        let clock: Clock = Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_millis() as i64)
                .unwrap_or_default()
        });
        Tables { store, options, clock }
    }

    /// The same service on another clock.
    pub fn with_clock(self, clock: Clock) -> Tables {
        Tables { clock, ..self }
    }

    /// Answers one operation: `request` is its body in DynamoDB JSON; the answer is the
    /// response body. An operation this service does not have is a `ValidationException`
    /// naming it (the API layer answers unknown targets before calling).
    pub async fn call(&self, operation: &str, request: Json) -> Result<Json, Error> {
        match operation {
            "CreateTable" => self.create_table(request).await,
            "DescribeTable" => self.describe_table(request).await,
            "ListTables" => self.list_tables(request).await,
            "DeleteTable" => self.delete_table(request).await,
            "UpdateTimeToLive" => self.update_time_to_live(request).await,
            "DescribeTimeToLive" => self.describe_time_to_live(request).await,
            "PutItem" => self.put_item(request).await,
            "GetItem" => self.get_item(request).await,
            "DeleteItem" => self.delete_item(request).await,
            "UpdateItem" => self.update_item(request).await,
            "Query" => self.query(request).await,
            "Scan" => self.scan(request).await,
            "BatchGetItem" => self.batch_get_item(request).await,
            "BatchWriteItem" => self.batch_write_item(request).await,
            "TransactWriteItems" => self.transact_write_items(request).await,
            "TransactGetItems" => self.transact_get_items(request).await,
            other => Err(Error::validation(format!("Sluice's tables have no operation {other}"))),
        }
    }

    /// Removes expired items every `interval` until the runtime stops. Reads never see expired
    /// items, so this only reclaims space.
    pub fn spawn_expiry(&self, interval: Duration) -> tokio::task::JoinHandle<()> {
        let tables = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                loop {
                    match tables.store.remove_expired(tables.now_millis(), 1000).await {
                        Ok(1000) => continue,
                        Ok(removed) => {
                            if removed > 0 {
                                tracing::debug!(removed, "expired items removed");
                            }
                            break;
                        }
                        Err(error) => {
                            tracing::warn!("cannot remove expired items: {error}");
                            break;
                        }
                    }
                }
            }
        })
    }

    fn now_millis(&self) -> i64 {
        (self.clock)()
    }

    fn now_seconds(&self) -> i64 {
        self.now_millis().div_euclid(1000)
    }

    /// A table for an item operation: `ResourceNotFoundException` ("Requested resource not
    /// found") when there is none.
    async fn table(&self, name: &str) -> Result<TableRecord, Error> {
        self.store.table(name).await?.ok_or_else(Error::no_table)
    }
}
