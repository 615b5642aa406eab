//! Sluice's scale-out store: every store trait on PostgreSQL. Each operation is one transaction
//! on a pooled connection (READ COMMITTED), made atomic as SQLite's single writer makes it:
//! guarded updates (`WHERE version = $n`), row locks on what a write reads before it writes,
//! `FOR UPDATE SKIP LOCKED` for claims, and transaction-scoped advisory locks on keys that may
//! not have a row yet (a table item, an object). Advances queued one after the other commit in
//! that order, many in one transaction, each in its own savepoint.
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

mod advancer;
mod archives;
mod bus;
mod executions;
mod logs;
mod objects;
mod queues;
mod schedules;
mod schema;
mod tables;
mod topics;

use std::str::FromStr;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use sluice_store::{
    Advance, Error, ExecutionFilter, ExecutionRecord, ExecutionStart, ExecutionSummary, HistoryEvent, HistoryPage,
    Pending, Result, Started, StateMachineRecord, StateMachineUpdate, Store, TaskTokenRecord, Work,
};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

/// A transaction (or a savepoint inside one) on a pooled connection.
pub(crate) type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// Parameters of a statement.
pub(crate) type Params<'a> = [&'a (dyn ToSql + Sync)];

/// How many connections one store opens at most.
const POOL_SIZE: usize = 16;

/// The PostgreSQL store.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: Pool,
    advancer: advancer::Advancer,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) and
    /// brings its schema to the newest version.
    pub async fn connect(url: &str) -> Result<PostgresStore> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|error| Error::Backend(format!("not a PostgreSQL URL: {error}")))?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|error| Error::Backend(format!("cannot build the connection pool: {error}")))?;
        let mut client = pool
            .get()
            .await
            .map_err(|error| Error::Backend(format!("cannot connect to PostgreSQL: {error}")))?;
        schema::migrate(&mut client).await?;
        drop(client);
        let advancer = advancer::Advancer::start(pool.clone());
        Ok(PostgresStore { pool, advancer })
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|error| Error::Backend(format!("no PostgreSQL connection: {error}")))
    }
}

/// Runs `$body` (an expression using the transaction `$tx`) in a transaction and commits it;
/// an error rolls it back. A serialization failure or deadlock runs the whole body again.
macro_rules! transaction {
    ($store:expr, |$tx:ident| $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut client = $store.client().await?;
            let $tx = client.transaction().await.map_err($crate::backend)?;
            let outcome = $body;
            let outcome = match outcome {
                Ok(value) => $tx.commit().await.map_err($crate::backend).map(|()| value),
                Err(error) => Err(error),
            };
            match outcome {
                Err(error) if $crate::retryable(&error) && attempt < 8 => continue,
                other => break other,
            }
        }
    }};
}
pub(crate) use transaction;

/// A PostgreSQL failure as a store error.
pub(crate) fn backend(error: tokio_postgres::Error) -> Error {
    let code = error.code().map(|code| code.code().to_owned());
    match code {
        Some(code) => Error::Backend(format!("{error} (SQLSTATE {code}): {}", source_message(&error))),
        None => Error::Backend(format!("{error}: {}", source_message(&error))),
    }
}

fn source_message(error: &tokio_postgres::Error) -> String {
    error
        .as_db_error()
        .map(|db| db.message().to_owned())
        .unwrap_or_default()
}

/// Whether a failed transaction may simply run again: a serialization failure or a deadlock.
pub(crate) fn retryable(error: &Error) -> bool {
    matches!(error, Error::Backend(message) if message.contains("(SQLSTATE 40001)") || message.contains("(SQLSTATE 40P01)"))
}

/// Whether a statement failed on a unique constraint.
pub(crate) fn is_unique_violation(error: &tokio_postgres::Error) -> bool {
    error.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

/// Runs a statement (prepared once per connection) and answers how many rows it changed.
pub(crate) async fn execute(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> Result<u64> {
    let statement = tx.prepare_cached(sql).await.map_err(backend)?;
    tx.execute(&statement, params).await.map_err(backend)
}

/// Runs a query (prepared once per connection) and answers its rows.
pub(crate) async fn query(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
    let statement = tx.prepare_cached(sql).await.map_err(backend)?;
    tx.query(&statement, params).await.map_err(backend)
}

/// Runs a query that answers at most one row.
pub(crate) async fn query_opt(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> Result<Option<Row>> {
    let statement = tx.prepare_cached(sql).await.map_err(backend)?;
    tx.query_opt(&statement, params).await.map_err(backend)
}

/// Runs a query that answers exactly one row.
pub(crate) async fn query_one(tx: &Tx<'_>, sql: &str, params: &Params<'_>) -> Result<Row> {
    let statement = tx.prepare_cached(sql).await.map_err(backend)?;
    tx.query_one(&statement, params).await.map_err(backend)
}

/// Takes a lock on `key` (within its namespace) until the transaction ends: for writes whose
/// row may not exist yet, so that two of them on one key still run one after the other.
pub(crate) async fn lock_key(tx: &Tx<'_>, namespace: &str, key: &[u8]) -> Result<()> {
    let mut text = Vec::with_capacity(namespace.len() + 1 + key.len());
    text.extend_from_slice(namespace.as_bytes());
    text.push(0);
    text.extend_from_slice(key);
    let hash = fnv64(&text);
    execute(tx, "SELECT pg_advisory_xact_lock($1)", &[&hash]).await?;
    Ok(())
}

/// FNV-1a, 64 bits, as a signed key for `pg_advisory_xact_lock`.
fn fnv64(bytes: &[u8]) -> i64 {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    hash as i64
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_state_machine(&self, machine: StateMachineRecord) -> Result<()> {
        transaction!(self, |tx| executions::create_state_machine(&tx, &machine).await)
    }

    async fn update_state_machine(&self, update: StateMachineUpdate) -> Result<StateMachineRecord> {
        transaction!(self, |tx| executions::update_state_machine(&tx, &update).await)
    }

    async fn delete_state_machine(&self, arn: &str) -> Result<()> {
        transaction!(self, |tx| executions::delete_state_machine(&tx, arn).await)
    }

    async fn state_machine(&self, arn: &str) -> Result<Option<StateMachineRecord>> {
        transaction!(self, |tx| executions::state_machine(&tx, arn, false).await)
    }

    async fn revision(&self, arn: &str, revision: u64) -> Result<Option<String>> {
        transaction!(self, |tx| executions::revision(&tx, arn, revision).await)
    }

    async fn list_state_machines(&self, after: Option<&str>, limit: usize) -> Result<Vec<StateMachineRecord>> {
        transaction!(self, |tx| executions::list_state_machines(&tx, after, limit).await)
    }

    async fn start_execution(&self, start: ExecutionStart) -> Result<Started> {
        transaction!(self, |tx| executions::start_execution(&tx, &start).await)
    }

    async fn advance(&self, advances: Vec<Advance>) -> Result<Vec<Result<()>>> {
        self.advancer.queue(advances).await
    }

    fn queue_advance(&self, advances: Vec<Advance>) -> Pending<Vec<Result<()>>> {
        Box::pin(self.advancer.queue(advances))
    }

    async fn execution(&self, arn: &str) -> Result<Option<ExecutionRecord>> {
        transaction!(self, |tx| executions::execution(&tx, arn).await)
    }

    async fn list_executions(&self, filter: ExecutionFilter) -> Result<Vec<ExecutionSummary>> {
        transaction!(self, |tx| executions::list_executions(&tx, &filter).await)
    }

    async fn history(&self, arn: &str, page: HistoryPage) -> Result<Vec<HistoryEvent>> {
        transaction!(self, |tx| executions::history(&tx, arn, page).await)
    }

    async fn claim_due_work(
        &self,
        owner: &str,
        now_millis: i64,
        lease_until_millis: i64,
        limit: usize,
    ) -> Result<Vec<Work>> {
        transaction!(self, |tx| executions::claim_due_work(
            &tx,
            owner,
            now_millis,
            lease_until_millis,
            limit
        )
        .await)
    }

    async fn release_leases(&self) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "UPDATE work SET lease_owner = NULL, lease_until = 0 WHERE lease_until > 0",
            &[]
        )
        .await
        .map(drop))
    }

    async fn renew_leases(&self, ids: Vec<String>, lease_until_millis: i64) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            // Rows an advance is writing now are skipped, not waited on: a renewal never takes
            // part in a deadlock, and the advance finishes or frees them anyway.
            "UPDATE work SET lease_until = $2 WHERE id IN (
                 SELECT id FROM work WHERE id = ANY($1) AND lease_until > 0 FOR UPDATE SKIP LOCKED)",
            &[&ids, &lease_until_millis]
        )
        .await
        .map(drop))
    }

    async fn next_due(&self) -> Result<Option<i64>> {
        transaction!(self, |tx| query_one(
            &tx,
            "SELECT MIN(GREATEST(due_millis, lease_until)) FROM work",
            &[]
        )
        .await
        .map(|row| row.get::<_, Option<i64>>(0)))
    }

    async fn task_token(&self, token: &str) -> Result<Option<TaskTokenRecord>> {
        transaction!(self, |tx| query_opt(
            &tx,
            "SELECT token, execution_arn, task_id FROM task_tokens WHERE token = $1",
            &[&token]
        )
        .await
        .map(|row| row.map(|row| TaskTokenRecord {
            token: row.get(0),
            execution_arn: row.get(1),
            task_id: row.get(2),
        })))
    }

    async fn running_executions(&self) -> Result<Vec<String>> {
        transaction!(self, |tx| query(
            &tx,
            "SELECT arn FROM executions WHERE status = 'RUNNING'",
            &[]
        )
        .await
        .map(|rows| rows.iter().map(|row| row.get(0)).collect()))
    }
}

#[cfg(test)]
mod tests;
