//! Sluice's embedded store: one SQLite file in the data directory. Writes go through one writer
//! thread that shares each commit among many callers; reads use their own connections, which WAL
//! lets run beside the writer.
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

mod archives;
mod bus;
mod checkpointer;
mod logs;
mod objects;
mod queues;
mod reads;
mod schedules;
mod schema;
mod tables;
mod topics;
mod writer;
mod writes;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use sluice_store::{
    Advance, Error, ExecutionFilter, ExecutionRecord, ExecutionStart, ExecutionSummary, HistoryEvent, HistoryPage,
    Pending, Result, Started, StateMachineRecord, StateMachineUpdate, Store, TaskTokenRecord, Work,
};

use writer::Writer;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Writer,
    readers: Arc<Mutex<Vec<Connection>>>,
}

impl SqliteStore {
    /// Opens (creating and migrating as needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let mut connection = Connection::open(path).map_err(backend)?;
        schema::configure(&connection).map_err(backend)?;
        schema::migrate(&mut connection).map_err(backend)?;
        // Checkpoints run beside the writer, not inside its commits.
        let hints = checkpointer::start(path).map_err(|error| Error::Backend(error.to_string()))?;
        connection
            .execute_batch("PRAGMA wal_autocheckpoint = 0;")
            .map_err(backend)?;
        let writer = Writer::start(connection, hints).map_err(|error| Error::Backend(error.to_string()))?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer,
            readers: Arc::new(Mutex::new(Vec::new())),
        })
    }

    /// Runs one statement on the writer, in a commit of its own.
    async fn execute(&self, sql: &'static str, values: Vec<rusqlite::types::Value>) -> Result<()> {
        self.writer
            .write(move |connection| {
                connection
                    .execute(sql, rusqlite::params_from_iter(values))
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    /// Runs a read on a read-only connection, off the async threads.
    async fn read<T: Send + 'static>(&self, read: impl FnOnce(&Connection) -> Result<T> + Send + 'static) -> Result<T> {
        let readers = self.readers.clone();
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || {
            let pooled = readers
                .lock()
                .map_err(|_| Error::Backend("the reader pool is poisoned".into()))?
                .pop();
            let connection = match pooled {
                Some(connection) => connection,
                None => {
                    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                    let connection = Connection::open_with_flags(&path, flags).map_err(backend)?;
                    connection
                        .execute_batch("PRAGMA busy_timeout = 5000")
                        .map_err(backend)?;
                    schema::stable_plans(&connection).map_err(backend)?;
                    connection
                }
            };
            let result = read(&connection);
            if let Ok(mut pool) = readers.lock() {
                pool.push(connection);
            }
            result
        })
        .await
        .map_err(|error| Error::Backend(format!("a read task failed: {error}")))?
    }
}

/// A SQLite failure as a store error.
pub(crate) fn backend(error: rusqlite::Error) -> Error {
    Error::Backend(error.to_string())
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_state_machine(&self, machine: StateMachineRecord) -> Result<()> {
        self.writer
            .write(move |connection| writes::create_state_machine(connection, &machine))
            .await
    }

    async fn update_state_machine(&self, update: StateMachineUpdate) -> Result<StateMachineRecord> {
        self.writer
            .write(move |connection| writes::update_state_machine(connection, &update))
            .await
    }

    async fn delete_state_machine(&self, arn: &str) -> Result<()> {
        let arn = arn.to_owned();
        self.writer
            .write(move |connection| writes::delete_state_machine(connection, &arn))
            .await
    }

    async fn state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>> {
        let arn = arn.to_owned();
        self.read(move |connection| reads::state_machine(connection, &arn))
            .await
    }

    async fn revision(&self, arn: &str, revision: u64) -> Result<Option<String>> {
        let arn = arn.to_owned();
        self.read(move |connection| reads::revision(connection, &arn, revision))
            .await
    }

    async fn list_state_machines(&self, after: Option<&str>, limit: usize) -> Result<Vec<StateMachineRecord>> {
        let after = after.map(str::to_owned);
        self.read(move |connection| reads::list_state_machines(connection, after.as_deref(), limit))
            .await
    }

    async fn start_execution(&self, start: ExecutionStart) -> Result<Started> {
        self.writer
            .write(move |connection| writes::start_execution(connection, &start))
            .await
    }

    async fn advance(&self, advances: Vec<Advance>) -> Result<Vec<Result<()>>> {
        self.writer
            .write(move |connection| writes::advance_all(connection, &advances))
            .await
    }

    fn queue_advance(&self, advances: Vec<Advance>) -> Pending<Vec<Result<()>>> {
        Box::pin(
            self.writer
                .queue(move |connection| writes::advance_all(connection, &advances)),
        )
    }

    async fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>> {
        let arn = arn.to_owned();
        self.read(move |connection| reads::execution(connection, &arn)).await
    }

    async fn list_executions(&self, filter: ExecutionFilter) -> Result<Vec<ExecutionSummary>> {
        self.read(move |connection| reads::list_executions(connection, &filter))
            .await
    }

    async fn history(&self, arn: &str, page: HistoryPage) -> Result<Vec<HistoryEvent>> {
        let arn = arn.to_owned();
        self.read(move |connection| reads::history(connection, &arn, page))
            .await
    }

    async fn claim_due_work(
        &self,
        owner: &str,
        now_millis: i64,
        lease_until_millis: i64,
        limit: usize,
    ) -> Result<Vec<Work>> {
        let owner = owner.to_owned();
        self.writer
            .write(move |connection| writes::claim_due_work(connection, &owner, now_millis, lease_until_millis, limit))
            .await
    }

    async fn release_leases(&self) -> Result<()> {
        self.writer.write(writes::release_leases).await
    }

    async fn renew_leases(&self, ids: Vec<String>, lease_until_millis: i64) -> Result<()> {
        self.writer
            .write(move |connection| writes::renew_leases(connection, &ids, lease_until_millis))
            .await
    }

    async fn next_due(&self) -> Result<Option<i64>> {
        self.read(reads::next_due).await
    }

    async fn task_token(&self, token: &str) -> Result<Option<TaskTokenRecord>> {
        let token = token.to_owned();
        self.read(move |connection| reads::task_token(connection, &token)).await
    }

    async fn running_executions(&self) -> Result<Vec<String>> {
        self.read(reads::running_executions).await
    }
}

#[cfg(test)]
mod tests {
    use super::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
        sluice_store::conformance::run_all(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tables_conformance() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
        sluice_store::tables::conformance::run_all(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn queue_conformance() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
        sluice_store::conformance::queues::run_all(&store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reopening_keeps_the_data_and_the_schema_version() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let path = directory.path().join("sluice.db");
        {
            let store = SqliteStore::open(&path).expect("the store opens");
            sluice_store::conformance::create_sample_machine(&store).await;
        }
        let store = SqliteStore::open(&path).expect("the store opens again");
        sluice_store::conformance::sample_machine_exists(&store).await;
    }
}
