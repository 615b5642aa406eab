//! What EventBridge's archives and replays persist: archives (a bus, an optional pattern, a
//! retention), the events each archive kept, and replays with how far each has gone.
//!
//! An archived event is written in the same commit as the deliveries of the `PutEvents` that
//! accepted it ([`ArchiveStore::enqueue_archived`]), so an acknowledged event that an archive
//! matches is in the archive. A replay moves on with [`ArchiveStore::advance_replay`]: the
//! deliveries of a batch of replayed events and the replay's new position share a commit, guarded
//! by the position the replay expected, so each archived event is replayed once.

use async_trait::async_trait;

use crate::Result;
use crate::bus::Delivery;

/// An archive of a bus's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveRecord {
    /// Its name.
    pub name: String,
    /// `arn:aws:events:{region}:{account}:archive/{name}`.
    pub arn: String,
    /// The bus whose events it keeps (its ARN, as given).
    pub source_arn: String,
    /// The bus's name.
    pub bus: String,
    /// The pattern an event must match to be kept (all events when absent), as JSON text.
    pub event_pattern: Option<String>,
    /// The description.
    pub description: Option<String>,
    /// Days an event is kept; 0 keeps events forever.
    pub retention_days: u32,
    /// When it was created, in milliseconds since the epoch.
    pub created_millis: i64,
}

/// An event an archive kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedEvent {
    /// The archive.
    pub archive: String,
    /// Grows with each event archived, across the store.
    pub sequence: i64,
    /// The event's `time`, in milliseconds since the epoch.
    pub event_millis: i64,
    /// When it was archived.
    pub archived_millis: i64,
    /// The event, as JSON text.
    pub event: String,
}

/// A replay of an archive's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayRecord {
    /// Its name.
    pub name: String,
    /// `arn:aws:events:{region}:{account}:replay/{name}`.
    pub arn: String,
    /// The archive replayed (its ARN).
    pub archive_arn: String,
    /// The archive's name.
    pub archive: String,
    /// The description.
    pub description: Option<String>,
    /// `STARTING`, `RUNNING`, `CANCELLING`, `COMPLETED`, `CANCELLED` or `FAILED`.
    pub state: String,
    /// Why it is in that state.
    pub state_reason: Option<String>,
    /// Events whose time is at or after this are replayed.
    pub event_start_millis: i64,
    /// Events whose time is before this are replayed.
    pub event_end_millis: i64,
    /// The destination bus's ARN.
    pub destination_arn: String,
    /// The rules (their ARNs) replayed events go to; every rule of the bus when empty.
    pub filter_arns: Vec<String>,
    /// When the replay started.
    pub replay_start_millis: i64,
    /// When it ended.
    pub replay_end_millis: Option<i64>,
    /// The time of the last event replayed.
    pub last_replayed_millis: Option<i64>,
    /// The sequence of the last archived event replayed (0 before the first).
    pub position: i64,
}

/// Replayed events' deliveries and the replay's new position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayStep {
    /// The replay.
    pub name: String,
    /// The position the replay must still be at for the step to be written.
    pub expected_position: i64,
    /// Its position after the step.
    pub position: i64,
    /// The time of the last event the step replayed.
    pub last_replayed_millis: Option<i64>,
    /// The deliveries of the replayed events.
    pub deliveries: Vec<Delivery>,
}

/// Archives' and replays' storage. Backends implement it beside [`crate::BusStore`], in the
/// same database (an archived event shares a commit with its event's deliveries).
#[async_trait]
pub trait ArchiveStore: Send + Sync + 'static {
    /// Creates an archive; `AlreadyExists` when the name is taken.
    async fn create_archive(&self, archive: ArchiveRecord) -> Result<()>;

    /// Replaces an archive's description, pattern and retention; `NotFound` when missing.
    async fn update_archive(&self, archive: ArchiveRecord) -> Result<()>;

    /// Deletes an archive and its events; answers whether it existed.
    async fn delete_archive(&self, name: &str) -> Result<bool>;

    /// Every archive, in name order.
    async fn list_archives(&self) -> Result<Vec<ArchiveRecord>>;

    /// How many events an archive holds, and their bytes.
    async fn archive_size(&self, name: &str) -> Result<(u64, u64)>;

    /// Writes deliveries and archived events (their `sequence` is assigned) in one commit.
    async fn enqueue_archived(&self, deliveries: Vec<Delivery>, archived: Vec<ArchivedEvent>) -> Result<()>;

    /// An archive's events after sequence `after` whose time is in `start..end`, in sequence
    /// order, at most `limit`.
    async fn archived_events(
        &self,
        archive: &str,
        after: i64,
        start: i64,
        end: i64,
        limit: usize,
    ) -> Result<Vec<ArchivedEvent>>;

    /// Deletes the events of each archive older than its retention; answers how many.
    async fn expire_archived(&self, now_millis: i64) -> Result<u64>;

    /// Creates a replay; `AlreadyExists` when the name is taken.
    async fn create_replay(&self, replay: ReplayRecord) -> Result<()>;

    /// Writes a replay's state (all of it but its position); `NotFound` when missing.
    async fn update_replay(&self, replay: ReplayRecord) -> Result<()>;

    /// Every replay, in name order.
    async fn list_replays(&self) -> Result<Vec<ReplayRecord>>;

    /// Writes a step if the replay is at `expected_position` and still `RUNNING`; answers
    /// whether it was written.
    async fn advance_replay(&self, step: ReplayStep) -> Result<bool>;
}
