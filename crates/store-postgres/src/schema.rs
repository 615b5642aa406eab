//! The schema and its migrations: each entry of [`MIGRATIONS`] moves the database one version
//! up, in its own transaction, and `schema_version` records where it is. Nodes starting together
//! migrate one at a time (an advisory lock), so each migration runs once.

use sluice_store::Result;

use crate::backend;

/// The migrations, in order; version N is the state after the first N.
const MIGRATIONS: &[&str] = &[
    // 1: state machines, executions, their history, due work, task tokens.
    crate::executions::MIGRATION,
    // 2: the event bus: buses, rules, their targets, and the delivery outbox.
    crate::bus::MIGRATION,
    // 3: tables (DynamoDB semantics): definitions, items, transaction tokens.
    crate::tables::MIGRATION,
    // 4: buckets (S3 semantics): buckets, object metadata, the object event outbox, blob garbage.
    crate::objects::MIGRATION,
    // 5: queues (SQS semantics): queues, messages, FIFO groups, deduplication ids.
    crate::queues::MIGRATION,
    // 6: EventBridge Scheduler's schedules (one target each, a durable next fire time).
    crate::schedules::MIGRATION,
    // 7: CloudWatch Logs: log groups, streams, append-only events (the bus's log targets).
    crate::logs::MIGRATION,
    // 8: EventBridge archives (with their events) and replays.
    crate::archives::MIGRATION,
    // 9: multipart uploads of objects and their parts.
    crate::objects::multipart::MIGRATION,
    // 10: topics (SNS semantics): topics, subscriptions, FIFO deduplication ids, the delivery outbox.
    crate::topics::MIGRATION,
];

/// The advisory lock key that orders migrations across nodes ("sluice" in ASCII).
const MIGRATION_LOCK: i64 = 0x736c_7569_6365;

/// Brings the database to the newest version.
pub async fn migrate(client: &mut deadpool_postgres::Object) -> Result<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend)?;
    let outcome = run(client).await;
    let unlocked = client
        .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(backend);
    outcome?;
    unlocked.map(drop)
}

async fn run(client: &mut deadpool_postgres::Object) -> Result<()> {
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await
        .map_err(backend)?;
    let current: i64 = client
        .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
        .await
        .map_err(backend)?
        .get(0);
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let transaction = client.transaction().await.map_err(backend)?;
        transaction.batch_execute(migration).await.map_err(backend)?;
        transaction
            .execute(
                "INSERT INTO schema_version (version) VALUES ($1)",
                &[&(index as i64 + 1)],
            )
            .await
            .map_err(backend)?;
        transaction.commit().await.map_err(backend)?;
    }
    Ok(())
}

/// The newest version this build knows.
#[cfg(test)]
pub fn newest() -> i64 {
    MIGRATIONS.len() as i64
}
