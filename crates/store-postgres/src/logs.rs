//! CloudWatch Logs' tables and [`LogStore`] on PostgreSQL. Appends take one advisory lock, so
//! event sequence numbers are handed out in commit order across nodes: a reader that resumes
//! after the last sequence it saw never misses an event committed later with a smaller one.

use async_trait::async_trait;
use sluice_store::logs::{LogAppend, LogEventRecord, LogGroupRecord, LogQuery, LogStore, LogStreamRecord};
use sluice_store::{Error, Result};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::{PostgresStore, Tx, execute, lock_key, query, query_opt, transaction};

/// The migration that adds the log tables.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE log_groups (
    name TEXT COLLATE "C" PRIMARY KEY,
    arn TEXT NOT NULL,
    created_millis BIGINT NOT NULL
);
CREATE TABLE log_streams (
    group_name TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    created_millis BIGINT NOT NULL,
    first_event_millis BIGINT,
    last_event_millis BIGINT,
    last_ingestion_millis BIGINT,
    PRIMARY KEY (group_name, name)
);
CREATE TABLE log_events (
    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    group_name TEXT COLLATE "C" NOT NULL,
    stream TEXT COLLATE "C" NOT NULL,
    timestamp_millis BIGINT NOT NULL,
    message TEXT NOT NULL,
    ingestion_millis BIGINT NOT NULL
);
CREATE INDEX log_events_by_time ON log_events (group_name, timestamp_millis, sequence);
CREATE TABLE log_appends (
    idempotency_key TEXT PRIMARY KEY
);
"#;

/// Whether the group exists; `lock` share-locks its row so it is not deleted before the commit.
async fn group_exists(tx: &Tx<'_>, name: &str, lock: bool) -> Result<bool> {
    let sql = if lock {
        "SELECT 1 FROM log_groups WHERE name = $1 FOR KEY SHARE"
    } else {
        "SELECT 1 FROM log_groups WHERE name = $1"
    };
    Ok(query_opt(tx, sql, &[&name]).await?.is_some())
}

async fn stream_exists(tx: &Tx<'_>, group: &str, name: &str) -> Result<bool> {
    Ok(query_opt(
        tx,
        "SELECT 1 FROM log_streams WHERE group_name = $1 AND name = $2",
        &[&group, &name],
    )
    .await?
    .is_some())
}

fn stream_row(row: &Row) -> LogStreamRecord {
    LogStreamRecord {
        group: row.get(0),
        name: row.get(1),
        created_millis: row.get(2),
        first_event_millis: row.get(3),
        last_event_millis: row.get(4),
        last_ingestion_millis: row.get(5),
    }
}

fn event_row(row: &Row) -> LogEventRecord {
    LogEventRecord {
        sequence: row.get(0),
        group: row.get(1),
        stream: row.get(2),
        timestamp_millis: row.get(3),
        message: row.get(4),
        ingestion_millis: row.get(5),
    }
}

async fn append(tx: &Tx<'_>, append: &LogAppend) -> Result<Option<i64>> {
    if let Some(key) = &append.idempotency_key {
        // A second append with the key waits for the first's commit, then inserts nothing.
        let inserted = execute(
            tx,
            "INSERT INTO log_appends (idempotency_key) VALUES ($1) ON CONFLICT DO NOTHING",
            &[key],
        )
        .await?;
        if inserted == 0 {
            return Ok(None);
        }
    }
    if let Some(arn) = &append.create_with_arn {
        execute(
            tx,
            "INSERT INTO log_groups (name, arn, created_millis) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&append.group, arn, &append.ingestion_millis],
        )
        .await?;
    }
    if !group_exists(tx, &append.group, true).await? {
        return Err(Error::NotFound {
            what: "log group",
            key: append.group.clone(),
        });
    }
    if append.create_with_arn.is_some() {
        execute(
            tx,
            "INSERT INTO log_streams (group_name, name, created_millis) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&append.group, &append.stream, &append.ingestion_millis],
        )
        .await?;
    } else if !stream_exists(tx, &append.group, &append.stream).await? {
        return Err(Error::NotFound {
            what: "log stream",
            key: format!("{}/{}", append.group, append.stream),
        });
    }
    if append.events.is_empty() {
        return Ok(None);
    }
    // Sequence numbers in commit order: one appender at a time takes them.
    lock_key(tx, "log-events", b"").await?;
    let mut last = None;
    for event in &append.events {
        let row = crate::query_one(
            tx,
            "INSERT INTO log_events (group_name, stream, timestamp_millis, message, ingestion_millis)
             VALUES ($1, $2, $3, $4, $5) RETURNING sequence",
            &[
                &append.group,
                &append.stream,
                &event.timestamp_millis,
                &event.message,
                &append.ingestion_millis,
            ],
        )
        .await?;
        last = Some(row.get::<_, i64>(0));
    }
    if let (Some(first), Some(latest)) = (
        append.events.iter().map(|event| event.timestamp_millis).min(),
        append.events.iter().map(|event| event.timestamp_millis).max(),
    ) {
        execute(
            tx,
            "UPDATE log_streams SET
                 first_event_millis = LEAST(COALESCE(first_event_millis, $3), $3),
                 last_event_millis = GREATEST(COALESCE(last_event_millis, $4), $4),
                 last_ingestion_millis = $5
             WHERE group_name = $1 AND name = $2",
            &[&append.group, &append.stream, &first, &latest, &append.ingestion_millis],
        )
        .await?;
    }
    Ok(last)
}

async fn read_events(tx: &Tx<'_>, request: &LogQuery) -> Result<Vec<LogEventRecord>> {
    if !group_exists(tx, &request.group, false).await? {
        return Err(Error::NotFound {
            what: "log group",
            key: request.group.clone(),
        });
    }
    let mut sql = String::from(
        "SELECT sequence, group_name, stream, timestamp_millis, message, ingestion_millis
         FROM log_events WHERE group_name = $1",
    );
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(request.group.clone())];
    // Adds a value and answers its placeholder.
    fn bind(values: &mut Vec<Box<dyn ToSql + Sync + Send>>, value: Box<dyn ToSql + Sync + Send>) -> String {
        values.push(value);
        format!("${}", values.len())
    }
    if let Some(start) = request.start_millis {
        let placeholder = bind(&mut values, Box::new(start));
        sql.push_str(&format!(" AND timestamp_millis >= {placeholder}"));
    }
    if let Some(end) = request.end_millis {
        let placeholder = bind(&mut values, Box::new(end));
        sql.push_str(&format!(" AND timestamp_millis < {placeholder}"));
    }
    if let Some(prefix) = &request.stream_prefix {
        let placeholder = bind(&mut values, Box::new(prefix.clone()));
        sql.push_str(&format!(" AND starts_with(stream, {placeholder})"));
    }
    if !request.streams.is_empty() {
        let placeholder = bind(&mut values, Box::new(request.streams.clone()));
        sql.push_str(&format!(" AND stream = ANY({placeholder})"));
    }
    if let Some((timestamp, sequence)) = request.after {
        let comparison = if request.backward { "<" } else { ">" };
        let timestamp = bind(&mut values, Box::new(timestamp));
        let sequence = bind(&mut values, Box::new(sequence));
        sql.push_str(&format!(
            " AND (timestamp_millis, sequence) {comparison} ({timestamp}, {sequence})"
        ));
    }
    let order = if request.backward { "DESC" } else { "ASC" };
    sql.push_str(&format!(
        " ORDER BY timestamp_millis {order}, sequence {order} LIMIT {}",
        request.limit.min(1_000_000)
    ));
    let parameters: Vec<&(dyn ToSql + Sync)> = values
        .iter()
        .map(|value| value.as_ref() as &(dyn ToSql + Sync))
        .collect();
    Ok(query(tx, &sql, &parameters).await?.iter().map(event_row).collect())
}

#[async_trait]
impl LogStore for PostgresStore {
    async fn create_log_group(&self, group: LogGroupRecord) -> Result<()> {
        transaction!(self, |tx| {
            let inserted = execute(
                &tx,
                "INSERT INTO log_groups (name, arn, created_millis) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                &[&group.name, &group.arn, &group.created_millis],
            )
            .await;
            match inserted {
                Ok(0) => Err(Error::AlreadyExists {
                    what: "log group",
                    key: group.name.clone(),
                }),
                Ok(_) => Ok(()),
                Err(error) => Err(error),
            }
        })
    }

    async fn delete_log_group(&self, name: &str) -> Result<bool> {
        transaction!(self, |tx| {
            async {
                // The group's row first: appends hold it share-locked until they commit.
                if query_opt(&tx, "SELECT 1 FROM log_groups WHERE name = $1 FOR UPDATE", &[&name])
                    .await?
                    .is_none()
                {
                    return Ok(false);
                }
                execute(&tx, "DELETE FROM log_events WHERE group_name = $1", &[&name]).await?;
                execute(&tx, "DELETE FROM log_streams WHERE group_name = $1", &[&name]).await?;
                execute(&tx, "DELETE FROM log_groups WHERE name = $1", &[&name]).await?;
                Ok(true)
            }
            .await
        })
    }

    async fn log_groups(&self) -> Result<Vec<LogGroupRecord>> {
        transaction!(self, |tx| query(
            &tx,
            "SELECT name, arn, created_millis FROM log_groups ORDER BY name",
            &[]
        )
        .await
        .map(|rows| rows
            .iter()
            .map(|row| LogGroupRecord {
                name: row.get(0),
                arn: row.get(1),
                created_millis: row.get(2),
            })
            .collect()))
    }

    async fn create_log_stream(&self, group: &str, name: &str, created_millis: i64) -> Result<()> {
        transaction!(self, |tx| {
            async {
                if !group_exists(&tx, group, true).await? {
                    return Err(Error::NotFound {
                        what: "log group",
                        key: group.to_owned(),
                    });
                }
                let inserted = execute(
                    &tx,
                    "INSERT INTO log_streams (group_name, name, created_millis) VALUES ($1, $2, $3)
                     ON CONFLICT DO NOTHING",
                    &[&group, &name, &created_millis],
                )
                .await?;
                if inserted == 0 {
                    return Err(Error::AlreadyExists {
                        what: "log stream",
                        key: format!("{group}/{name}"),
                    });
                }
                Ok(())
            }
            .await
        })
    }

    async fn log_streams(&self, group: &str) -> Result<Vec<LogStreamRecord>> {
        transaction!(self, |tx| {
            async {
                if !group_exists(&tx, group, false).await? {
                    return Err(Error::NotFound {
                        what: "log group",
                        key: group.to_owned(),
                    });
                }
                let rows = query(
                    &tx,
                    "SELECT group_name, name, created_millis, first_event_millis, last_event_millis,
                            last_ingestion_millis
                     FROM log_streams WHERE group_name = $1 ORDER BY name",
                    &[&group],
                )
                .await?;
                Ok(rows.iter().map(stream_row).collect())
            }
            .await
        })
    }

    async fn append_log_events(&self, request: LogAppend) -> Result<Option<i64>> {
        transaction!(self, |tx| append(&tx, &request).await)
    }

    async fn log_events(&self, request: LogQuery) -> Result<Vec<LogEventRecord>> {
        transaction!(self, |tx| read_events(&tx, &request).await)
    }
}
