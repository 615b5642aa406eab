//! EventBridge Scheduler's schedules, in the bus's database: the [`BusStore`] methods that keep
//! them, and a fire written with its deliveries.

use rusqlite::{Connection, OptionalExtension, Row, params};
use sluice_store::bus::{AfterFire, ScheduleRecord, ScheduledFire};
use sluice_store::{Error, Result};

use crate::bus::{exists, insert_deliveries};
use crate::{SqliteStore, backend};

/// The migration that adds EventBridge Scheduler's schedules.
pub const MIGRATION: &str = r"
CREATE TABLE schedules (
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    definition TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    created_millis INTEGER NOT NULL,
    modified_millis INTEGER NOT NULL,
    next_fire_millis INTEGER,
    PRIMARY KEY (group_name, name)
) WITHOUT ROWID;
";

pub(crate) const SCHEDULE_COLUMNS: &str =
    "group_name, name, arn, definition, enabled, created_millis, modified_millis, next_fire_millis";

pub(crate) fn schedule_row(row: &Row<'_>) -> rusqlite::Result<ScheduleRecord> {
    Ok(ScheduleRecord {
        group: row.get(0)?,
        name: row.get(1)?,
        arn: row.get(2)?,
        definition: row.get(3)?,
        enabled: row.get::<_, i64>(4)? != 0,
        created_millis: row.get(5)?,
        modified_millis: row.get(6)?,
        next_fire_millis: row.get(7)?,
    })
}

pub(crate) fn fire_scheduled(connection: &Connection, fire: &ScheduledFire) -> Result<bool> {
    let changed = match fire.after {
        AfterFire::Next(next) => connection
            .prepare_cached(
                "UPDATE schedules SET next_fire_millis = ?4
                 WHERE group_name = ?1 AND name = ?2 AND next_fire_millis = ?3 AND enabled = 1",
            )
            .and_then(|mut statement| {
                statement.execute(params![fire.group, fire.name, fire.expected_next_millis, next])
            }),
        AfterFire::Delete => connection
            .prepare_cached(
                "DELETE FROM schedules
                 WHERE group_name = ?1 AND name = ?2 AND next_fire_millis = ?3 AND enabled = 1",
            )
            .and_then(|mut statement| statement.execute(params![fire.group, fire.name, fire.expected_next_millis])),
    }
    .map_err(backend)?;
    if changed == 0 {
        return Ok(false);
    }
    insert_deliveries(connection, &fire.deliveries)?;
    Ok(true)
}

/// The writes of EventBridge Scheduler's schedules.
impl SqliteStore {
    pub(crate) async fn create_schedule_row(&self, schedule: ScheduleRecord) -> Result<()> {
        self.writer
            .write(move |connection| {
                if exists(
                    connection,
                    "SELECT 1 FROM schedules WHERE group_name = ?1 AND name = ?2",
                    params![schedule.group, schedule.name],
                )? {
                    return Err(Error::AlreadyExists {
                        what: "schedule",
                        key: format!("{}/{}", schedule.group, schedule.name),
                    });
                }
                connection
                    .execute(
                        &format!("INSERT INTO schedules ({SCHEDULE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                        params![
                            schedule.group,
                            schedule.name,
                            schedule.arn,
                            schedule.definition,
                            i64::from(schedule.enabled),
                            schedule.created_millis,
                            schedule.modified_millis,
                            schedule.next_fire_millis,
                        ],
                    )
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    pub(crate) async fn update_schedule_row(&self, schedule: ScheduleRecord) -> Result<()> {
        self.writer
            .write(move |connection| {
                let changed = connection
                    .execute(
                        "UPDATE schedules SET arn = ?3, definition = ?4, enabled = ?5, modified_millis = ?6,
                         next_fire_millis = ?7 WHERE group_name = ?1 AND name = ?2",
                        params![
                            schedule.group,
                            schedule.name,
                            schedule.arn,
                            schedule.definition,
                            i64::from(schedule.enabled),
                            schedule.modified_millis,
                            schedule.next_fire_millis,
                        ],
                    )
                    .map_err(backend)?;
                if changed == 0 {
                    return Err(Error::NotFound {
                        what: "schedule",
                        key: format!("{}/{}", schedule.group, schedule.name),
                    });
                }
                Ok(())
            })
            .await
    }
}

impl SqliteStore {
    pub(crate) async fn delete_schedule_row(&self, group: &str, name: &str) -> Result<bool> {
        let (group, name) = (group.to_owned(), name.to_owned());
        self.writer
            .write(move |connection| {
                connection
                    .execute(
                        "DELETE FROM schedules WHERE group_name = ?1 AND name = ?2",
                        params![group, name],
                    )
                    .map(|removed| removed > 0)
                    .map_err(backend)
            })
            .await
    }

    pub(crate) async fn schedule_row_by_key(&self, group: &str, name: &str) -> Result<Option<ScheduleRecord>> {
        let (group, name) = (group.to_owned(), name.to_owned());
        self.read(move |connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE group_name = ?1 AND name = ?2"
                ))
                .and_then(|mut statement| statement.query_row(params![group, name], schedule_row).optional())
                .map_err(backend)
        })
        .await
    }

    pub(crate) async fn schedule_rows(&self) -> Result<Vec<ScheduleRecord>> {
        self.read(|connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {SCHEDULE_COLUMNS} FROM schedules ORDER BY group_name, name"
                ))
                .and_then(|mut statement| statement.query_map([], schedule_row)?.collect())
                .map_err(backend)
        })
        .await
    }

    pub(crate) async fn fire_scheduled_row(&self, fire: ScheduledFire) -> Result<bool> {
        self.writer
            .write(move |connection| fire_scheduled(connection, &fire))
            .await
    }
}
