//! CloudWatch Logs' tables and [`LogStore`] on them: appends go through the writer thread (an
//! append shares a commit with its neighbours), reads use the read pool.

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use sluice_store::logs::{LogAppend, LogEventRecord, LogGroupRecord, LogQuery, LogStore, LogStreamRecord};
use sluice_store::{Error, Result};

use crate::{SqliteStore, backend};

/// The migration that adds the log tables.
pub const MIGRATION: &str = r"
CREATE TABLE log_groups (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    created_millis INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE log_streams (
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    created_millis INTEGER NOT NULL,
    first_event_millis INTEGER,
    last_event_millis INTEGER,
    last_ingestion_millis INTEGER,
    PRIMARY KEY (group_name, name)
) WITHOUT ROWID;
CREATE TABLE log_events (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    group_name TEXT NOT NULL,
    stream TEXT NOT NULL,
    timestamp_millis INTEGER NOT NULL,
    message TEXT NOT NULL,
    ingestion_millis INTEGER NOT NULL
);
CREATE INDEX log_events_by_time ON log_events (group_name, timestamp_millis, sequence);
CREATE TABLE log_appends (
    idempotency_key TEXT PRIMARY KEY
) WITHOUT ROWID;
";

fn group_exists(connection: &Connection, name: &str) -> Result<bool> {
    connection
        .prepare_cached("SELECT 1 FROM log_groups WHERE name = ?1")
        .and_then(|mut statement| statement.exists([name]))
        .map_err(backend)
}

fn stream_exists(connection: &Connection, group: &str, name: &str) -> Result<bool> {
    connection
        .prepare_cached("SELECT 1 FROM log_streams WHERE group_name = ?1 AND name = ?2")
        .and_then(|mut statement| statement.exists(params![group, name]))
        .map_err(backend)
}

fn stream_row(row: &Row<'_>) -> rusqlite::Result<LogStreamRecord> {
    Ok(LogStreamRecord {
        group: row.get(0)?,
        name: row.get(1)?,
        created_millis: row.get(2)?,
        first_event_millis: row.get(3)?,
        last_event_millis: row.get(4)?,
        last_ingestion_millis: row.get(5)?,
    })
}

fn event_row(row: &Row<'_>) -> rusqlite::Result<LogEventRecord> {
    Ok(LogEventRecord {
        sequence: row.get(0)?,
        group: row.get(1)?,
        stream: row.get(2)?,
        timestamp_millis: row.get(3)?,
        message: row.get(4)?,
        ingestion_millis: row.get(5)?,
    })
}

fn append(connection: &Connection, append: &LogAppend) -> Result<Option<i64>> {
    if let Some(key) = &append.idempotency_key {
        let inserted = connection
            .prepare_cached("INSERT OR IGNORE INTO log_appends (idempotency_key) VALUES (?1)")
            .and_then(|mut statement| statement.execute([key]))
            .map_err(backend)?;
        if inserted == 0 {
            return Ok(None);
        }
    }
    let group_missing = !group_exists(connection, &append.group)?;
    let stream_missing = group_missing || !stream_exists(connection, &append.group, &append.stream)?;
    match (&append.create_with_arn, group_missing, stream_missing) {
        (_, false, false) => {}
        (Some(arn), _, _) => {
            if group_missing {
                connection
                    .execute(
                        "INSERT INTO log_groups (name, arn, created_millis) VALUES (?1, ?2, ?3)",
                        params![append.group, arn, append.ingestion_millis],
                    )
                    .map_err(backend)?;
            }
            connection
                .execute(
                    "INSERT INTO log_streams (group_name, name, created_millis) VALUES (?1, ?2, ?3)",
                    params![append.group, append.stream, append.ingestion_millis],
                )
                .map_err(backend)?;
        }
        (None, true, _) => {
            return Err(Error::NotFound {
                what: "log group",
                key: append.group.clone(),
            });
        }
        (None, false, true) => {
            return Err(Error::NotFound {
                what: "log stream",
                key: format!("{}/{}", append.group, append.stream),
            });
        }
    }
    let mut insert = connection
        .prepare_cached(
            "INSERT INTO log_events (group_name, stream, timestamp_millis, message, ingestion_millis)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(backend)?;
    let mut last = None;
    for event in &append.events {
        insert
            .execute(params![
                append.group,
                append.stream,
                event.timestamp_millis,
                event.message,
                append.ingestion_millis
            ])
            .map_err(backend)?;
        last = Some(connection.last_insert_rowid());
    }
    if let (Some(first), Some(latest)) = (
        append.events.iter().map(|event| event.timestamp_millis).min(),
        append.events.iter().map(|event| event.timestamp_millis).max(),
    ) {
        connection
            .prepare_cached(
                "UPDATE log_streams SET
                     first_event_millis = MIN(COALESCE(first_event_millis, ?3), ?3),
                     last_event_millis = MAX(COALESCE(last_event_millis, ?4), ?4),
                     last_ingestion_millis = ?5
                 WHERE group_name = ?1 AND name = ?2",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    append.group,
                    append.stream,
                    first,
                    latest,
                    append.ingestion_millis
                ])
            })
            .map_err(backend)?;
    }
    Ok(last)
}

fn read_events(connection: &Connection, query: &LogQuery) -> Result<Vec<LogEventRecord>> {
    if !group_exists(connection, &query.group)? {
        return Err(Error::NotFound {
            what: "log group",
            key: query.group.clone(),
        });
    }
    let mut sql = String::from(
        "SELECT sequence, group_name, stream, timestamp_millis, message, ingestion_millis
         FROM log_events WHERE group_name = ?1",
    );
    let mut values: Vec<rusqlite::types::Value> = vec![query.group.clone().into()];
    // Adds a value and answers its placeholder.
    fn bind(values: &mut Vec<rusqlite::types::Value>, value: rusqlite::types::Value) -> String {
        values.push(value);
        format!("?{}", values.len())
    }
    if let Some(start) = query.start_millis {
        let placeholder = bind(&mut values, start.into());
        sql.push_str(&format!(" AND timestamp_millis >= {placeholder}"));
    }
    if let Some(end) = query.end_millis {
        let placeholder = bind(&mut values, end.into());
        sql.push_str(&format!(" AND timestamp_millis < {placeholder}"));
    }
    if let Some(prefix) = &query.stream_prefix {
        let placeholder = bind(&mut values, prefix.clone().into());
        sql.push_str(&format!(
            " AND substr(stream, 1, length({placeholder})) = {placeholder}"
        ));
    }
    if !query.streams.is_empty() {
        let placeholders: Vec<String> = query
            .streams
            .iter()
            .map(|stream| bind(&mut values, stream.clone().into()))
            .collect();
        sql.push_str(&format!(" AND stream IN ({})", placeholders.join(", ")));
    }
    if let Some((timestamp, sequence)) = query.after {
        let comparison = if query.backward { "<" } else { ">" };
        let timestamp = bind(&mut values, timestamp.into());
        let sequence = bind(&mut values, sequence.into());
        sql.push_str(&format!(
            " AND (timestamp_millis, sequence) {comparison} ({timestamp}, {sequence})"
        ));
    }
    let order = if query.backward { "DESC" } else { "ASC" };
    sql.push_str(&format!(
        " ORDER BY timestamp_millis {order}, sequence {order} LIMIT {}",
        query.limit.min(1_000_000)
    ));
    connection
        .prepare(&sql)
        .and_then(|mut statement| {
            statement
                .query_map(rusqlite::params_from_iter(values), event_row)?
                .collect()
        })
        .map_err(backend)
}

#[async_trait]
impl LogStore for SqliteStore {
    async fn create_log_group(&self, group: LogGroupRecord) -> Result<()> {
        self.writer
            .write(move |connection| {
                if group_exists(connection, &group.name)? {
                    return Err(Error::AlreadyExists {
                        what: "log group",
                        key: group.name.clone(),
                    });
                }
                connection
                    .execute(
                        "INSERT INTO log_groups (name, arn, created_millis) VALUES (?1, ?2, ?3)",
                        params![group.name, group.arn, group.created_millis],
                    )
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn delete_log_group(&self, name: &str) -> Result<bool> {
        let name = name.to_owned();
        self.writer
            .write(move |connection| {
                connection
                    .execute("DELETE FROM log_events WHERE group_name = ?1", [&name])
                    .map_err(backend)?;
                connection
                    .execute("DELETE FROM log_streams WHERE group_name = ?1", [&name])
                    .map_err(backend)?;
                connection
                    .execute("DELETE FROM log_groups WHERE name = ?1", [&name])
                    .map(|removed| removed > 0)
                    .map_err(backend)
            })
            .await
    }

    async fn log_groups(&self) -> Result<Vec<LogGroupRecord>> {
        self.read(|connection| {
            connection
                .prepare_cached("SELECT name, arn, created_millis FROM log_groups ORDER BY name")
                .and_then(|mut statement| {
                    statement
                        .query_map([], |row| {
                            Ok(LogGroupRecord {
                                name: row.get(0)?,
                                arn: row.get(1)?,
                                created_millis: row.get(2)?,
                            })
                        })?
                        .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn create_log_stream(&self, group: &str, name: &str, created_millis: i64) -> Result<()> {
        let (group, name) = (group.to_owned(), name.to_owned());
        self.writer
            .write(move |connection| {
                if !group_exists(connection, &group)? {
                    return Err(Error::NotFound {
                        what: "log group",
                        key: group.clone(),
                    });
                }
                if stream_exists(connection, &group, &name)? {
                    return Err(Error::AlreadyExists {
                        what: "log stream",
                        key: format!("{group}/{name}"),
                    });
                }
                connection
                    .execute(
                        "INSERT INTO log_streams (group_name, name, created_millis) VALUES (?1, ?2, ?3)",
                        params![group, name, created_millis],
                    )
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn log_streams(&self, group: &str) -> Result<Vec<LogStreamRecord>> {
        let group = group.to_owned();
        self.read(move |connection| {
            if !group_exists(connection, &group)? {
                return Err(Error::NotFound {
                    what: "log group",
                    key: group.clone(),
                });
            }
            connection
                .prepare_cached(
                    "SELECT group_name, name, created_millis, first_event_millis, last_event_millis,
                            last_ingestion_millis
                     FROM log_streams WHERE group_name = ?1 ORDER BY name",
                )
                .and_then(|mut statement| statement.query_map([&group], stream_row)?.collect())
                .map_err(backend)
        })
        .await
    }

    async fn append_log_events(&self, request: LogAppend) -> Result<Option<i64>> {
        self.writer.write(move |connection| append(connection, &request)).await
    }

    async fn log_events(&self, query: LogQuery) -> Result<Vec<LogEventRecord>> {
        self.read(move |connection| read_events(connection, &query)).await
    }
}

#[cfg(test)]
mod tests {
    use crate::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn log_conformance() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
        sluice_store::logs_conformance::run_all(&store).await;
    }
}
