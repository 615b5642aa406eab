//! The schema and its migrations: each entry of [`MIGRATIONS`] moves the database one version up,
//! and `schema_version` records where it is.

use rusqlite::Connection;

/// The migrations, in order; version N is the state after the first N.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE state_machines (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    revision INTEGER NOT NULL,
    created_millis INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE revisions (
    arn TEXT NOT NULL,
    revision INTEGER NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (arn, revision)
) WITHOUT ROWID;
CREATE TABLE executions (
    arn TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL,
    revision INTEGER NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_millis INTEGER NOT NULL,
    stop_millis INTEGER,
    version INTEGER NOT NULL,
    snapshot TEXT NOT NULL,
    parent_arn TEXT
);
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_millis DESC, arn DESC);
CREATE INDEX executions_by_start ON executions (start_millis DESC, arn DESC);
CREATE INDEX executions_running ON executions (status) WHERE status = 'RUNNING';
CREATE TABLE history (
    execution_arn TEXT NOT NULL,
    id INTEGER NOT NULL,
    previous_id INTEGER NOT NULL,
    timestamp_millis INTEGER NOT NULL,
    type TEXT NOT NULL,
    details TEXT NOT NULL,
    PRIMARY KEY (execution_arn, id)
) WITHOUT ROWID;
CREATE TABLE work (
    id TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    due_millis INTEGER NOT NULL,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX work_due ON work (due_millis);
CREATE TABLE task_tokens (
    token TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    task_id TEXT NOT NULL
);
",
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
    crate::objects::MULTIPART_MIGRATION,
    // 10: topics (SNS semantics): topics, subscriptions, FIFO deduplication ids, the delivery outbox.
    crate::topics::MIGRATION,
];

/// Brings the database to the newest version, one migration per transaction.
pub fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    connection.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let current: i64 = connection.query_row("SELECT COALESCE(MAX(version), 0) FROM schema_version", [], |row| {
        row.get(0)
    })?;
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(current.max(0) as usize) {
        let transaction = connection.transaction()?;
        transaction.execute_batch(migration)?;
        transaction.execute("INSERT INTO schema_version (version) VALUES (?1)", [index as i64 + 1])?;
        transaction.commit()?;
    }
    Ok(())
}

/// The pragmas every connection gets: WAL so readers never block the writer, full sync so a
/// commit is on disk when it returns.
pub fn configure(connection: &Connection) -> rusqlite::Result<()> {
    connection.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
    )
}
