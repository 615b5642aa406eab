//! Archives' and replays' tables and [`ArchiveStore`] on them, in the bus's database: an archived
//! event shares the commit of its event's deliveries.

use async_trait::async_trait;
use rusqlite::{Connection, Row, params};
use sluice_store::archives::{ArchiveRecord, ArchiveStore, ArchivedEvent, ReplayRecord, ReplayStep};
use sluice_store::bus::Delivery;
use sluice_store::{Error, Result};

use crate::{SqliteStore, backend};

/// The migration that adds archives and replays.
pub const MIGRATION: &str = r"
CREATE TABLE event_archives (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    source_arn TEXT NOT NULL,
    bus TEXT NOT NULL,
    event_pattern TEXT,
    description TEXT,
    retention_days INTEGER NOT NULL,
    created_millis INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE archived_events (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    archive TEXT NOT NULL,
    event_millis INTEGER NOT NULL,
    archived_millis INTEGER NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX archived_events_by_archive ON archived_events (archive, sequence);
CREATE TABLE event_replays (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    archive_arn TEXT NOT NULL,
    archive TEXT NOT NULL,
    description TEXT,
    state TEXT NOT NULL,
    state_reason TEXT,
    event_start_millis INTEGER NOT NULL,
    event_end_millis INTEGER NOT NULL,
    destination_arn TEXT NOT NULL,
    filter_arns TEXT NOT NULL,
    replay_start_millis INTEGER NOT NULL,
    replay_end_millis INTEGER,
    last_replayed_millis INTEGER,
    position INTEGER NOT NULL
) WITHOUT ROWID;
";

const ARCHIVE_COLUMNS: &str = "name, arn, source_arn, bus, event_pattern, description, retention_days, created_millis";
const REPLAY_COLUMNS: &str = "name, arn, archive_arn, archive, description, state, state_reason, event_start_millis,
    event_end_millis, destination_arn, filter_arns, replay_start_millis, replay_end_millis, last_replayed_millis,
    position";

fn archive_row(row: &Row<'_>) -> rusqlite::Result<ArchiveRecord> {
    Ok(ArchiveRecord {
        name: row.get(0)?,
        arn: row.get(1)?,
        source_arn: row.get(2)?,
        bus: row.get(3)?,
        event_pattern: row.get(4)?,
        description: row.get(5)?,
        retention_days: row.get::<_, i64>(6)?.clamp(0, i64::from(u32::MAX)) as u32,
        created_millis: row.get(7)?,
    })
}

fn replay_row(row: &Row<'_>) -> rusqlite::Result<ReplayRecord> {
    let filter_arns: String = row.get(10)?;
    Ok(ReplayRecord {
        name: row.get(0)?,
        arn: row.get(1)?,
        archive_arn: row.get(2)?,
        archive: row.get(3)?,
        description: row.get(4)?,
        state: row.get(5)?,
        state_reason: row.get(6)?,
        event_start_millis: row.get(7)?,
        event_end_millis: row.get(8)?,
        destination_arn: row.get(9)?,
        filter_arns: serde_json::from_str(&filter_arns).unwrap_or_default(),
        replay_start_millis: row.get(11)?,
        replay_end_millis: row.get(12)?,
        last_replayed_millis: row.get(13)?,
        position: row.get(14)?,
    })
}

fn exists(connection: &Connection, sql: &str, key: &str) -> Result<bool> {
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.exists([key]))
        .map_err(backend)
}

fn insert_archived(connection: &Connection, archived: &[ArchivedEvent]) -> Result<()> {
    let mut statement = connection
        .prepare_cached(
            "INSERT INTO archived_events (archive, event_millis, archived_millis, event) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(backend)?;
    for event in archived {
        statement
            .execute(params![
                event.archive,
                event.event_millis,
                event.archived_millis,
                event.event
            ])
            .map_err(backend)?;
    }
    Ok(())
}

fn write_replay(connection: &Connection, replay: &ReplayRecord, insert: bool) -> Result<usize> {
    let filter_arns = serde_json::to_string(&replay.filter_arns).map_err(|error| Error::Backend(error.to_string()))?;
    let sql = if insert {
        format!(
            "INSERT INTO event_replays ({REPLAY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
        )
    } else {
        "UPDATE event_replays SET arn = ?2, archive_arn = ?3, archive = ?4, description = ?5, state = ?6,
         state_reason = ?7, event_start_millis = ?8, event_end_millis = ?9, destination_arn = ?10, filter_arns = ?11,
         replay_start_millis = ?12, replay_end_millis = ?13, last_replayed_millis = ?14
         WHERE name = ?1 AND ?15 = ?15"
            .to_owned()
    };
    connection
        .execute(
            &sql,
            params![
                replay.name,
                replay.arn,
                replay.archive_arn,
                replay.archive,
                replay.description,
                replay.state,
                replay.state_reason,
                replay.event_start_millis,
                replay.event_end_millis,
                replay.destination_arn,
                filter_arns,
                replay.replay_start_millis,
                replay.replay_end_millis,
                replay.last_replayed_millis,
                replay.position,
            ],
        )
        .map_err(backend)
}

#[async_trait]
impl ArchiveStore for SqliteStore {
    async fn create_archive(&self, archive: ArchiveRecord) -> Result<()> {
        self.writer
            .write(move |connection| {
                if exists(
                    connection,
                    "SELECT 1 FROM event_archives WHERE name = ?1",
                    &archive.name,
                )? {
                    return Err(Error::AlreadyExists {
                        what: "archive",
                        key: archive.name.clone(),
                    });
                }
                connection
                    .execute(
                        &format!(
                            "INSERT INTO event_archives ({ARCHIVE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                        ),
                        params![
                            archive.name,
                            archive.arn,
                            archive.source_arn,
                            archive.bus,
                            archive.event_pattern,
                            archive.description,
                            i64::from(archive.retention_days),
                            archive.created_millis,
                        ],
                    )
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn update_archive(&self, archive: ArchiveRecord) -> Result<()> {
        self.writer
            .write(move |connection| {
                let changed = connection
                    .execute(
                        "UPDATE event_archives SET event_pattern = ?2, description = ?3, retention_days = ?4
                         WHERE name = ?1",
                        params![
                            archive.name,
                            archive.event_pattern,
                            archive.description,
                            i64::from(archive.retention_days)
                        ],
                    )
                    .map_err(backend)?;
                if changed == 0 {
                    return Err(Error::NotFound {
                        what: "archive",
                        key: archive.name.clone(),
                    });
                }
                Ok(())
            })
            .await
    }

    async fn delete_archive(&self, name: &str) -> Result<bool> {
        let name = name.to_owned();
        self.writer
            .write(move |connection| {
                connection
                    .execute("DELETE FROM archived_events WHERE archive = ?1", [&name])
                    .map_err(backend)?;
                connection
                    .execute("DELETE FROM event_archives WHERE name = ?1", [&name])
                    .map(|removed| removed > 0)
                    .map_err(backend)
            })
            .await
    }

    async fn list_archives(&self) -> Result<Vec<ArchiveRecord>> {
        self.read(|connection| {
            connection
                .prepare_cached(&format!("SELECT {ARCHIVE_COLUMNS} FROM event_archives ORDER BY name"))
                .and_then(|mut statement| statement.query_map([], archive_row)?.collect())
                .map_err(backend)
        })
        .await
    }

    async fn archive_size(&self, name: &str) -> Result<(u64, u64)> {
        let name = name.to_owned();
        self.read(move |connection| {
            connection
                .query_row(
                    "SELECT COUNT(*), COALESCE(SUM(length(event)), 0) FROM archived_events WHERE archive = ?1",
                    [&name],
                    |row| Ok((row.get::<_, i64>(0)?.max(0) as u64, row.get::<_, i64>(1)?.max(0) as u64)),
                )
                .map_err(backend)
        })
        .await
    }

    async fn enqueue_archived(&self, deliveries: Vec<Delivery>, archived: Vec<ArchivedEvent>) -> Result<()> {
        self.writer
            .write(move |connection| {
                crate::bus::insert_deliveries(connection, &deliveries)?;
                insert_archived(connection, &archived)
            })
            .await
    }

    async fn archived_events(
        &self,
        archive: &str,
        after: i64,
        start: i64,
        end: i64,
        limit: usize,
    ) -> Result<Vec<ArchivedEvent>> {
        let archive = archive.to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached(
                    "SELECT archive, sequence, event_millis, archived_millis, event FROM archived_events
                     WHERE archive = ?1 AND sequence > ?2 AND event_millis >= ?3 AND event_millis < ?4
                     ORDER BY sequence LIMIT ?5",
                )
                .and_then(|mut statement| {
                    statement
                        .query_map(params![archive, after, start, end, limit as i64], |row| {
                            Ok(ArchivedEvent {
                                archive: row.get(0)?,
                                sequence: row.get(1)?,
                                event_millis: row.get(2)?,
                                archived_millis: row.get(3)?,
                                event: row.get(4)?,
                            })
                        })?
                        .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn expire_archived(&self, now_millis: i64) -> Result<u64> {
        self.writer
            .write(move |connection| {
                connection
                    .execute(
                        "DELETE FROM archived_events WHERE sequence IN (
                             SELECT events.sequence FROM archived_events AS events
                             JOIN event_archives AS archives ON archives.name = events.archive
                             WHERE archives.retention_days > 0
                               AND events.archived_millis < ?1 - archives.retention_days * 86400000)",
                        [now_millis],
                    )
                    .map(|removed| removed as u64)
                    .map_err(backend)
            })
            .await
    }

    async fn create_replay(&self, replay: ReplayRecord) -> Result<()> {
        self.writer
            .write(move |connection| {
                if exists(connection, "SELECT 1 FROM event_replays WHERE name = ?1", &replay.name)? {
                    return Err(Error::AlreadyExists {
                        what: "replay",
                        key: replay.name.clone(),
                    });
                }
                write_replay(connection, &replay, true).map(drop)
            })
            .await
    }

    async fn update_replay(&self, replay: ReplayRecord) -> Result<()> {
        self.writer
            .write(move |connection| {
                if write_replay(connection, &replay, false)? == 0 {
                    return Err(Error::NotFound {
                        what: "replay",
                        key: replay.name.clone(),
                    });
                }
                Ok(())
            })
            .await
    }

    async fn list_replays(&self) -> Result<Vec<ReplayRecord>> {
        self.read(|connection| {
            connection
                .prepare_cached(&format!("SELECT {REPLAY_COLUMNS} FROM event_replays ORDER BY name"))
                .and_then(|mut statement| statement.query_map([], replay_row)?.collect())
                .map_err(backend)
        })
        .await
    }

    async fn advance_replay(&self, step: ReplayStep) -> Result<bool> {
        self.writer
            .write(move |connection| {
                let moved = connection
                    .execute(
                        "UPDATE event_replays SET position = ?3,
                             last_replayed_millis = COALESCE(?4, last_replayed_millis)
                         WHERE name = ?1 AND position = ?2 AND state = 'RUNNING'",
                        params![
                            step.name,
                            step.expected_position,
                            step.position,
                            step.last_replayed_millis
                        ],
                    )
                    .map_err(backend)?;
                if moved == 0 {
                    return Ok(false);
                }
                crate::bus::insert_deliveries(connection, &step.deliveries)?;
                Ok(true)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use crate::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn archive_conformance() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
        sluice_store::archives_conformance::run_all(&store).await;
    }
}
