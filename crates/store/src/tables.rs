//! What the tables (DynamoDB semantics) persist: table definitions and items, keyed by
//! (table, partition key bytes, sort key bytes) with keys encoded by
//! [`sluice_expressions::encode_sort_key`], so a Query is a range scan over an ordered index.
//!
//! **Architecture Invariant:** a write's condition is evaluated by the backend inside the
//! transaction that writes it, against the item as stored at that moment, so check-and-write is
//! atomic; [`TableStore::write_items`] applies all its writes or none.
//! **Architecture Invariant:** an item whose time to live has passed is invisible to every read
//! and to conditions, as if deleted, before [`TableStore::remove_expired`] removes it.

mod decide;

pub mod conformance;
pub mod stored;

use std::ops::Bound;

use async_trait::async_trait;
use sluice_expressions::{AttributeValue, Condition, DocumentPath, Item, KeySchema, UpdateExpression, encode_sort_key};

pub use decide::{Decision, decide};

use crate::Result;

/// Items whose time to live passed more than five years ago are not expired: DynamoDB ignores
/// such values ("Items with an expiration time older than five years in the past are not
/// deleted"), so a table of millisecond timestamps does not vanish.
pub const TTL_IGNORED_AFTER_SECONDS: i64 = 5 * 365 * 24 * 60 * 60;

/// A table's definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableRecord {
    /// The table name.
    pub name: String,
    /// The primary key.
    pub key_schema: KeySchema,
    /// The attribute holding each item's expiry (epoch seconds), when time to live is enabled.
    pub ttl_attribute: Option<String>,
    /// When the table was created, in milliseconds since the epoch.
    pub created_millis: i64,
    /// What the service keeps about the table (JSON text; the store never looks inside).
    pub description: String,
}

/// How many items a table holds and their total size, as DescribeTable reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableUsage {
    /// Items that have not expired.
    pub item_count: u64,
    /// Their total size in bytes ([`sluice_expressions::item_size`]).
    pub size_bytes: u64,
}

/// An item's primary key, encoded: the partition key's bytes and the sort key's (empty when the
/// table has no sort key; key values are never empty).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    /// The partition key, encoded.
    pub partition: Vec<u8>,
    /// The sort key, encoded; empty without a sort key.
    pub sort: Vec<u8>,
}

impl ItemKey {
    /// The encoded key of an item (or of a `Key` parameter) under `schema`; `None` if a key
    /// attribute is missing or not a key type.
    pub fn of(schema: &KeySchema, item: &Item) -> Option<ItemKey> {
        let partition = encode_sort_key(item.get(&schema.partition.name)?)?;
        let sort = match &schema.sort {
            Some(sort) => encode_sort_key(item.get(&sort.name)?)?,
            None => Vec::new(),
        };
        Some(ItemKey { partition, sort })
    }

    /// A stable 32-bit hash of the partition key (FNV-1a), which parallel scans split on.
    pub fn segment_hash(&self) -> u32 {
        self.partition.iter().fold(0x811c_9dc5_u32, |hash, byte| {
            (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193)
        })
    }
}

/// The epoch second at which an item expires under a table's time to live: the attribute's
/// value, if it is a number (fractions are dropped, as DynamoDB drops them).
pub fn expiry_of(ttl_attribute: Option<&str>, item: &Item) -> Option<i64> {
    match item.get(ttl_attribute?)? {
        AttributeValue::N(number) => number
            .to_string()
            .parse::<f64>()
            .ok()
            .map(|seconds| seconds.floor() as i64),
        _ => None,
    }
}

/// Whether an item with this expiry is expired at `now_seconds`.
pub fn is_expired(expires: Option<i64>, now_seconds: i64) -> bool {
    expires.is_some_and(|expires| expires <= now_seconds && expires > now_seconds - TTL_IGNORED_AFTER_SECONDS)
}

/// What a write does to its item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Replaces the item (or creates it).
    Put(Item),
    /// Applies an update expression; creates the item from its key when absent.
    Update(UpdateExpression),
    /// Deletes the item (nothing if absent).
    Delete,
    /// Changes nothing: only the condition matters (TransactWriteItems' `ConditionCheck`).
    Check,
}

/// One item write, with its condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemWrite {
    /// The table.
    pub table: String,
    /// The item's key attributes, already checked against the table's schema.
    pub key: Item,
    /// Must hold for the item as stored (absent items have no attributes) or the write is refused.
    pub condition: Option<Condition>,
    /// What to do.
    pub change: Change,
}

/// What one applied write did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Written {
    /// The item before (`None` if there was none, or it had expired).
    pub old: Option<Item>,
    /// The item after (`None` if deleted or never there).
    pub new: Option<Item>,
    /// For updates: the paths written, in the old item.
    pub updated_old: Vec<DocumentPath>,
    /// For updates: the paths written, in the new item.
    pub updated_new: Vec<DocumentPath>,
}

/// Why one write of a call was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The condition did not hold; `old` is the item as stored.
    ConditionFailed {
        /// The item the condition was evaluated against.
        old: Option<Item>,
    },
    /// The change does not fit the item (an update's path or types, or the size limit).
    Invalid(sluice_expressions::Error),
    /// The table does not exist.
    TableNotFound,
}

/// The outcome of [`TableStore::write_items`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every write applied, in one commit; one [`Written`] per write, in order.
    Applied(Vec<Written>),
    /// Nothing was written: one entry per write, in order, `Some` for each that was refused.
    Cancelled(Vec<Option<Refusal>>),
    /// The idempotency token was used for this same request less than ten minutes ago: nothing
    /// was written again.
    Repeated,
    /// The idempotency token was used for another request less than ten minutes ago.
    TokenMismatch,
}

/// A TransactWriteItems `ClientRequestToken`, which makes a transaction idempotent for ten
/// minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyToken {
    /// The token.
    pub token: String,
    /// The request it came with (any canonical text); a repeat must match it.
    pub request: String,
}

/// How long an idempotency token is remembered.
pub const TOKEN_LIFETIME_MILLIS: i64 = 10 * 60 * 1000;

/// A Query: the items of one partition whose sort keys lie in a range, in sort key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRange {
    /// The table.
    pub table: String,
    /// The encoded partition key.
    pub partition: Vec<u8>,
    /// The lowest encoded sort key.
    pub lower: Bound<Vec<u8>>,
    /// The highest encoded sort key.
    pub upper: Bound<Vec<u8>>,
    /// Ascending (`true`) or descending sort key order.
    pub forward: bool,
    /// The page limits.
    pub page: PageLimit,
}

/// A Scan: every item of a table (or of one segment of it), in key order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRange {
    /// The table.
    pub table: String,
    /// Start after this key (exclusive).
    pub after: Option<ItemKey>,
    /// `(segment, total_segments)`: only items whose [`ItemKey::segment_hash`] modulo the total
    /// is the segment.
    pub segment: Option<(u32, u32)>,
    /// The page limits.
    pub page: PageLimit,
}

/// Where a page of items stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit {
    /// At most this many items.
    pub items: usize,
    /// Stop once the items read reach this many bytes (DynamoDB's 1 MB).
    pub bytes: usize,
    /// The time, for expiry, in epoch seconds.
    pub now_seconds: i64,
}

/// A page of items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemPage {
    /// The items, in order.
    pub items: Vec<Item>,
    /// Whether the page stopped at a limit with items left after it.
    pub more: bool,
}

/// The tables' storage.
#[async_trait]
pub trait TableStore: Send + Sync + 'static {
    /// Creates a table; `AlreadyExists` when the name is taken.
    async fn create_table(&self, table: TableRecord) -> Result<()>;

    /// Deletes a table and all its items; `NotFound` when there is none. Returns what it was.
    async fn delete_table(&self, name: &str) -> Result<TableRecord>;

    /// A table by name.
    async fn table(&self, name: &str) -> Result<Option<TableRecord>>;

    /// How many unexpired items a table holds and their size; `NotFound` for no table.
    async fn table_usage(&self, name: &str, now_seconds: i64) -> Result<TableUsage>;

    /// Table names in order, after `after`, at most `limit`.
    async fn list_tables(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>>;

    /// Enables time to live on an attribute (or disables it with `None`); items already stored
    /// take their expiry from the attribute at once. `NotFound` for no table.
    async fn set_time_to_live(&self, name: &str, attribute: Option<String>) -> Result<()>;

    /// Items by table and key (attributes as in the `Key` parameter), read in one snapshot;
    /// `None` for an item that does not exist or has expired, `NotFound` for a missing table.
    async fn get_items(&self, keys: Vec<(String, Item)>, now_seconds: i64) -> Result<Vec<Option<Item>>>;

    /// Applies writes to distinct items all or nothing, each condition checked against the item
    /// as stored in the same transaction. With a token, a repeat of the same request within
    /// [`TOKEN_LIFETIME_MILLIS`] writes nothing again.
    async fn write_items(
        &self,
        writes: Vec<ItemWrite>,
        now_millis: i64,
        token: Option<IdempotencyToken>,
    ) -> Result<Outcome>;

    /// A page of a partition's items in sort key order; `NotFound` for no table.
    async fn query(&self, range: ItemRange) -> Result<ItemPage>;

    /// A page of a table's items in key order; `NotFound` for no table.
    async fn scan(&self, range: ScanRange) -> Result<ItemPage>;

    /// Deletes up to `limit` expired items (and forgets idempotency tokens past their
    /// lifetime); returns how many items went.
    async fn remove_expired(&self, now_millis: i64, limit: usize) -> Result<usize>;
}
