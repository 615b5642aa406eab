//! Archives' and replays' tables and [`ArchiveStore`] on PostgreSQL, in the bus's database: an
//! archived event shares the commit of its event's deliveries. An append to an archive takes the
//! archive's advisory lock, so its events' sequence numbers are handed out in commit order and a
//! replay that moved past a sequence never finds an older one committed behind it. A replay's
//! step is a guarded update of its position, so each archived event is replayed once across nodes.

use async_trait::async_trait;
use sluice_store::archives::{ArchiveRecord, ArchiveStore, ArchivedEvent, ReplayRecord, ReplayStep};
use sluice_store::bus::Delivery;
use sluice_store::{Error, Result};
use tokio_postgres::Row;

use crate::{PostgresStore, Tx, execute, lock_key, query, query_one, transaction};

/// The migration that adds archives and replays.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE event_archives (
    name TEXT COLLATE "C" PRIMARY KEY,
    arn TEXT NOT NULL,
    source_arn TEXT NOT NULL,
    bus TEXT NOT NULL,
    event_pattern TEXT,
    description TEXT,
    retention_days BIGINT NOT NULL,
    created_millis BIGINT NOT NULL
);
CREATE TABLE archived_events (
    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    archive TEXT NOT NULL,
    event_millis BIGINT NOT NULL,
    archived_millis BIGINT NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX archived_events_by_archive ON archived_events (archive, sequence);
CREATE TABLE event_replays (
    name TEXT COLLATE "C" PRIMARY KEY,
    arn TEXT NOT NULL,
    archive_arn TEXT NOT NULL,
    archive TEXT NOT NULL,
    description TEXT,
    state TEXT NOT NULL,
    state_reason TEXT,
    event_start_millis BIGINT NOT NULL,
    event_end_millis BIGINT NOT NULL,
    destination_arn TEXT NOT NULL,
    filter_arns TEXT NOT NULL,
    replay_start_millis BIGINT NOT NULL,
    replay_end_millis BIGINT,
    last_replayed_millis BIGINT,
    position BIGINT NOT NULL
);
"#;

const ARCHIVE_COLUMNS: &str = "name, arn, source_arn, bus, event_pattern, description, retention_days, created_millis";
const REPLAY_COLUMNS: &str = "name, arn, archive_arn, archive, description, state, state_reason, event_start_millis,
    event_end_millis, destination_arn, filter_arns, replay_start_millis, replay_end_millis, last_replayed_millis,
    position";

fn archive_row(row: &Row) -> ArchiveRecord {
    ArchiveRecord {
        name: row.get(0),
        arn: row.get(1),
        source_arn: row.get(2),
        bus: row.get(3),
        event_pattern: row.get(4),
        description: row.get(5),
        retention_days: row.get::<_, i64>(6).clamp(0, i64::from(u32::MAX)) as u32,
        created_millis: row.get(7),
    }
}

fn replay_row(row: &Row) -> Result<ReplayRecord> {
    let filter_arns: &str = row.get(10);
    Ok(ReplayRecord {
        name: row.get(0),
        arn: row.get(1),
        archive_arn: row.get(2),
        archive: row.get(3),
        description: row.get(4),
        state: row.get(5),
        state_reason: row.get(6),
        event_start_millis: row.get(7),
        event_end_millis: row.get(8),
        destination_arn: row.get(9),
        filter_arns: serde_json::from_str(filter_arns)
            .map_err(|error| Error::Backend(format!("a replay's filter ARNs are corrupt: {error}")))?,
        replay_start_millis: row.get(11),
        replay_end_millis: row.get(12),
        last_replayed_millis: row.get(13),
        position: row.get(14),
    })
}

async fn insert_archived(tx: &Tx<'_>, archived: &[ArchivedEvent]) -> Result<()> {
    // Each archive's lock, in name order (so two appenders never wait in a circle).
    let mut archives: Vec<&str> = archived.iter().map(|event| event.archive.as_str()).collect();
    archives.sort_unstable();
    archives.dedup();
    for archive in archives {
        lock_key(tx, "archive", archive.as_bytes()).await?;
    }
    for event in archived {
        execute(
            tx,
            "INSERT INTO archived_events (archive, event_millis, archived_millis, event) VALUES ($1, $2, $3, $4)",
            &[
                &event.archive,
                &event.event_millis,
                &event.archived_millis,
                &event.event,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn write_replay(tx: &Tx<'_>, replay: &ReplayRecord, insert: bool) -> Result<u64> {
    let filter_arns = serde_json::to_string(&replay.filter_arns).map_err(|error| Error::Backend(error.to_string()))?;
    let sql = if insert {
        format!(
            "INSERT INTO event_replays ({REPLAY_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (name) DO NOTHING"
        )
    } else {
        "UPDATE event_replays SET arn = $2, archive_arn = $3, archive = $4, description = $5, state = $6,
         state_reason = $7, event_start_millis = $8, event_end_millis = $9, destination_arn = $10, filter_arns = $11,
         replay_start_millis = $12, replay_end_millis = $13, last_replayed_millis = $14
         WHERE name = $1 AND $15::BIGINT = $15::BIGINT"
            .to_owned()
    };
    execute(
        tx,
        &sql,
        &[
            &replay.name,
            &replay.arn,
            &replay.archive_arn,
            &replay.archive,
            &replay.description,
            &replay.state,
            &replay.state_reason,
            &replay.event_start_millis,
            &replay.event_end_millis,
            &replay.destination_arn,
            &filter_arns,
            &replay.replay_start_millis,
            &replay.replay_end_millis,
            &replay.last_replayed_millis,
            &replay.position,
        ],
    )
    .await
}

#[async_trait]
impl ArchiveStore for PostgresStore {
    async fn create_archive(&self, archive: ArchiveRecord) -> Result<()> {
        transaction!(self, |tx| {
            let inserted = execute(
                &tx,
                &format!(
                    "INSERT INTO event_archives ({ARCHIVE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (name) DO NOTHING"
                ),
                &[
                    &archive.name,
                    &archive.arn,
                    &archive.source_arn,
                    &archive.bus,
                    &archive.event_pattern,
                    &archive.description,
                    &i64::from(archive.retention_days),
                    &archive.created_millis,
                ],
            )
            .await;
            match inserted {
                Ok(0) => Err(Error::AlreadyExists {
                    what: "archive",
                    key: archive.name.clone(),
                }),
                other => other.map(drop),
            }
        })
    }

    async fn update_archive(&self, archive: ArchiveRecord) -> Result<()> {
        transaction!(self, |tx| {
            let changed = execute(
                &tx,
                "UPDATE event_archives SET event_pattern = $2, description = $3, retention_days = $4 WHERE name = $1",
                &[
                    &archive.name,
                    &archive.event_pattern,
                    &archive.description,
                    &i64::from(archive.retention_days),
                ],
            )
            .await;
            match changed {
                Ok(0) => Err(Error::NotFound {
                    what: "archive",
                    key: archive.name.clone(),
                }),
                other => other.map(drop),
            }
        })
    }

    async fn delete_archive(&self, name: &str) -> Result<bool> {
        transaction!(self, |tx| {
            async {
                lock_key(&tx, "archive", name.as_bytes()).await?;
                execute(&tx, "DELETE FROM archived_events WHERE archive = $1", &[&name]).await?;
                Ok(execute(&tx, "DELETE FROM event_archives WHERE name = $1", &[&name]).await? > 0)
            }
            .await
        })
    }

    async fn list_archives(&self) -> Result<Vec<ArchiveRecord>> {
        transaction!(self, |tx| query(
            &tx,
            &format!("SELECT {ARCHIVE_COLUMNS} FROM event_archives ORDER BY name"),
            &[]
        )
        .await
        .map(|rows| rows.iter().map(archive_row).collect()))
    }

    async fn archive_size(&self, name: &str) -> Result<(u64, u64)> {
        transaction!(self, |tx| query_one(
            &tx,
            "SELECT COUNT(*), COALESCE(SUM(octet_length(event)), 0)::BIGINT FROM archived_events WHERE archive = $1",
            &[&name]
        )
        .await
        .map(|row| (row.get::<_, i64>(0).max(0) as u64, row.get::<_, i64>(1).max(0) as u64)))
    }

    async fn enqueue_archived(&self, deliveries: Vec<Delivery>, archived: Vec<ArchivedEvent>) -> Result<()> {
        transaction!(self, |tx| {
            async {
                crate::bus::insert_deliveries(&tx, &deliveries).await?;
                insert_archived(&tx, &archived).await
            }
            .await
        })
    }

    async fn archived_events(
        &self,
        archive: &str,
        after: i64,
        start: i64,
        end: i64,
        limit: usize,
    ) -> Result<Vec<ArchivedEvent>> {
        transaction!(self, |tx| query(
            &tx,
            "SELECT archive, sequence, event_millis, archived_millis, event FROM archived_events
             WHERE archive = $1 AND sequence > $2 AND event_millis >= $3 AND event_millis < $4
             ORDER BY sequence LIMIT $5",
            &[&archive, &after, &start, &end, &(limit as i64)]
        )
        .await
        .map(|rows| rows
            .iter()
            .map(|row| ArchivedEvent {
                archive: row.get(0),
                sequence: row.get(1),
                event_millis: row.get(2),
                archived_millis: row.get(3),
                event: row.get(4),
            })
            .collect()))
    }

    async fn expire_archived(&self, now_millis: i64) -> Result<u64> {
        transaction!(self, |tx| execute(
            &tx,
            "DELETE FROM archived_events AS events USING event_archives AS archives
             WHERE archives.name = events.archive AND archives.retention_days > 0
               AND events.archived_millis < $1 - archives.retention_days * 86400000",
            &[&now_millis]
        )
        .await)
    }

    async fn create_replay(&self, replay: ReplayRecord) -> Result<()> {
        transaction!(self, |tx| match write_replay(&tx, &replay, true).await {
            Ok(0) => Err(Error::AlreadyExists {
                what: "replay",
                key: replay.name.clone(),
            }),
            other => other.map(drop),
        })
    }

    async fn update_replay(&self, replay: ReplayRecord) -> Result<()> {
        transaction!(self, |tx| match write_replay(&tx, &replay, false).await {
            Ok(0) => Err(Error::NotFound {
                what: "replay",
                key: replay.name.clone(),
            }),
            other => other.map(drop),
        })
    }

    async fn list_replays(&self) -> Result<Vec<ReplayRecord>> {
        transaction!(self, |tx| query(
            &tx,
            &format!("SELECT {REPLAY_COLUMNS} FROM event_replays ORDER BY name"),
            &[]
        )
        .await
        .and_then(|rows| rows.iter().map(replay_row).collect()))
    }

    async fn advance_replay(&self, step: ReplayStep) -> Result<bool> {
        transaction!(self, |tx| {
            async {
                let moved = execute(
                    &tx,
                    "UPDATE event_replays SET position = $3,
                         last_replayed_millis = COALESCE($4, last_replayed_millis)
                     WHERE name = $1 AND position = $2 AND state = 'RUNNING'",
                    &[
                        &step.name,
                        &step.expected_position,
                        &step.position,
                        &step.last_replayed_millis,
                    ],
                )
                .await?;
                if moved == 0 {
                    return Ok(false);
                }
                crate::bus::insert_deliveries(&tx, &step.deliveries).await?;
                Ok(true)
            }
            .await
        })
    }
}
