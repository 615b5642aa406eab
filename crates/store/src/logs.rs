//! What CloudWatch Logs' subset persists: log groups, their streams, and the append-only events
//! of each stream. An event is never changed once appended; each has a sequence number that grows
//! across the whole store, so a reader can resume after the last one it saw.

use async_trait::async_trait;

use crate::Result;

/// A log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupRecord {
    /// Its name.
    pub name: String,
    /// `arn:aws:logs:{region}:{account}:log-group:{name}`.
    pub arn: String,
    /// When it was created, in milliseconds since the epoch.
    pub created_millis: i64,
}

/// A log stream of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogStreamRecord {
    /// The group.
    pub group: String,
    /// Its name, unique within the group.
    pub name: String,
    /// When it was created, in milliseconds since the epoch.
    pub created_millis: i64,
    /// The earliest event's timestamp.
    pub first_event_millis: Option<i64>,
    /// The latest event's timestamp.
    pub last_event_millis: Option<i64>,
    /// When the latest event was appended.
    pub last_ingestion_millis: Option<i64>,
}

/// One event to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewLogEvent {
    /// The event's own time, in milliseconds since the epoch.
    pub timestamp_millis: i64,
    /// The message.
    pub message: String,
}

/// An appended event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEventRecord {
    /// Grows with each append, across the store.
    pub sequence: i64,
    /// The group.
    pub group: String,
    /// The stream.
    pub stream: String,
    /// The event's own time.
    pub timestamp_millis: i64,
    /// The message.
    pub message: String,
    /// When it was appended.
    pub ingestion_millis: i64,
}

/// An append: events to one stream, in one commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogAppend {
    /// The group.
    pub group: String,
    /// The stream.
    pub stream: String,
    /// The events, in order.
    pub events: Vec<NewLogEvent>,
    /// When they are appended.
    pub ingestion_millis: i64,
    /// Creates the group (with this ARN) and the stream when missing; otherwise a missing one
    /// is `NotFound`.
    pub create_with_arn: Option<String>,
    /// An append with a key already used appends nothing (a redelivered event is logged once).
    pub idempotency_key: Option<String>,
}

/// Which events to read, in (timestamp, sequence) order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// The group.
    pub group: String,
    /// Only these streams (all when empty).
    pub streams: Vec<String>,
    /// Only streams whose names start with this.
    pub stream_prefix: Option<String>,
    /// Events at or after this timestamp.
    pub start_millis: Option<i64>,
    /// Events before this timestamp.
    pub end_millis: Option<i64>,
    /// Events after this (timestamp, sequence) position, going forward; before it, backward.
    pub after: Option<(i64, i64)>,
    /// Newest first (from the end) instead of oldest first.
    pub backward: bool,
    /// At most this many.
    pub limit: usize,
}

/// CloudWatch Logs' storage. Backends implement it beside [`crate::Store`].
#[async_trait]
pub trait LogStore: Send + Sync + 'static {
    /// Creates a log group; `AlreadyExists` when the name is taken.
    async fn create_log_group(&self, group: LogGroupRecord) -> Result<()>;

    /// Deletes a log group with its streams and events; answers whether it existed.
    async fn delete_log_group(&self, name: &str) -> Result<bool>;

    /// Every log group, in name order.
    async fn log_groups(&self) -> Result<Vec<LogGroupRecord>>;

    /// Creates a stream; `NotFound` without the group, `AlreadyExists` when the name is taken.
    async fn create_log_stream(&self, group: &str, name: &str, created_millis: i64) -> Result<()>;

    /// The streams of a group, in name order; `NotFound` without the group.
    async fn log_streams(&self, group: &str) -> Result<Vec<LogStreamRecord>>;

    /// Appends events to a stream in one commit; answers the last sequence written (`None`
    /// when nothing was: no events, or an idempotency key already used).
    async fn append_log_events(&self, append: LogAppend) -> Result<Option<i64>>;

    /// Reads events; `NotFound` without the group.
    async fn log_events(&self, query: LogQuery) -> Result<Vec<LogEventRecord>>;
}
