//! What Sluice persists, in domain terms: state machines and their revisions, executions with
//! their snapshot and history, the work that is due (task invocations and timers), and task
//! tokens. Backends (SQLite now, PostgreSQL later) implement [`Store`]; nothing above this trait
//! knows which one runs, and one conformance suite (`conformance`) checks them all.
//!
//! **Durability:** when a method returns `Ok`, what it wrote is on disk.
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

pub mod archives;
pub mod archives_conformance;
pub mod bus;
pub mod bus_conformance;
pub mod conformance;
pub mod logs;
pub mod logs_conformance;
pub mod objects;
pub mod queues;
pub mod tables;
pub mod topics;
mod types;

pub use archives::ArchiveStore;
pub use bus::BusStore;
pub use logs::LogStore;
pub use types::*;

use async_trait::async_trait;

/// A failure of the store itself, or a condition that did not hold.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The execution changed since it was read: its version is not the one the write expected.
    #[error("the execution {arn} is at version {actual}, not {expected}")]
    VersionConflict {
        /// The execution.
        arn: String,
        /// The version the write expected.
        expected: u64,
        /// The version stored.
        actual: u64,
    },
    /// A row the operation needs does not exist.
    #[error("{what} does not exist: {key}")]
    NotFound {
        /// What kind of row.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// A row with that key exists already.
    #[error("{what} already exists: {key}")]
    AlreadyExists {
        /// What kind of row.
        what: &'static str,
        /// Its key.
        key: String,
    },
    /// The backend failed (I/O, corruption, a closed connection).
    #[error("storage failed: {0}")]
    Backend(String),
}

/// A result of a store operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A write that is queued and not yet known to be committed: it resolves once it is on disk.
pub type Pending<T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'static>>;

/// Everything the engine persists.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates a state machine with its first revision; fails with `AlreadyExists` when the name
    /// is taken.
    async fn create_state_machine(&self, machine: StateMachineRecord) -> Result<()>;

    /// Replaces a state machine's definition (and role, type) with a new revision; running
    /// executions keep the revision they started with.
    async fn update_state_machine(&self, update: StateMachineUpdate) -> Result<StateMachineRecord>;

    /// Marks a state machine deleted: it is no longer listed or startable; its executions finish.
    async fn delete_state_machine(&self, arn: &str) -> Result<()>;

    /// A state machine by ARN (the latest revision).
    async fn state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>>;

    /// One revision of a state machine's definition.
    async fn revision(&self, arn: &str, revision: u64) -> Result<Option<String>>;

    /// State machines in name order, after `after` (a name), at most `limit`.
    async fn list_state_machines(&self, after: Option<&str>, limit: usize) -> Result<Vec<StateMachineRecord>>;

    /// Starts an execution: its row, its first events, its first work, in one transaction.
    /// Idempotent by (state machine, name) as AWS is: the existing execution is returned as
    /// [`Started::Existing`] and nothing is written.
    async fn start_execution(&self, start: ExecutionStart) -> Result<Started>;

    /// Advances executions: each [`Advance`] applies only if the execution is still at its
    /// expected version. Many advances share one commit. The results are in the same order.
    async fn advance(&self, advances: Vec<Advance>) -> Result<Vec<Result<()>>>;

    /// [`Store::advance`] in two halves: the advances are queued before this call returns, and
    /// the answer resolves once they are committed. Advances queued one after the other are
    /// committed in that order, possibly in the same commit, so a caller may queue an
    /// execution's next advance (expecting the version the last one makes) before the last is
    /// on disk. If the last is refused, the next fails its version check.
    fn queue_advance(&self, advances: Vec<Advance>) -> Pending<Vec<Result<()>>>;

    /// An execution by ARN, with its snapshot.
    async fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>>;

    /// Executions matching the filter, newest first.
    async fn list_executions(&self, filter: ExecutionFilter) -> Result<Vec<ExecutionSummary>>;

    /// History events of an execution, from `after_event_id` on (exclusive), in order or
    /// reversed, at most `limit`.
    async fn history(&self, arn: &str, page: HistoryPage) -> Result<Vec<HistoryEvent>>;

    /// Work due at or before `now_millis` that no live lease holds, leased to `owner` until
    /// `lease_until_millis`, at most `limit` items, earliest first.
    async fn claim_due_work(
        &self,
        owner: &str,
        now_millis: i64,
        lease_until_millis: i64,
        limit: usize,
    ) -> Result<Vec<Work>>;

    /// Frees every lease, for a store only one node uses, at that node's start: work the last
    /// run held when it stopped is due again.
    async fn release_leases(&self) -> Result<()>;

    /// Extends the leases of these work items (those still leased) to `lease_until_millis`: a
    /// live node renews the work it runs, so only a dead node's leases run out and another node
    /// takes its work.
    async fn renew_leases(&self, ids: Vec<String>, lease_until_millis: i64) -> Result<()>;

    /// When the next unleased work item is due, if any.
    async fn next_due(&self) -> Result<Option<i64>>;

    /// The execution and task a task token belongs to.
    async fn task_token(&self, token: &str) -> Result<Option<TaskTokenRecord>>;

    /// Executions that are still running, to resume after a restart.
    async fn running_executions(&self) -> Result<Vec<String>>;
}
