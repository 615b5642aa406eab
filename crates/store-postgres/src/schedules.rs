//! EventBridge Scheduler's schedules on PostgreSQL, in the bus's database: the [`BusStore`]
//! methods that keep them, and a fire written with its deliveries. A fire is a guarded update
//! (or delete) of the schedule's next fire time, so when several nodes compute the same fire,
//! the first to commit writes it and the others find the time moved.
//!
//! [`BusStore`]: sluice_store::bus::BusStore

use sluice_store::bus::{AfterFire, ScheduleRecord, ScheduledFire};
use sluice_store::{Error, Result};
use tokio_postgres::Row;

use crate::bus::insert_deliveries;
use crate::{Tx, execute, query, query_opt};

/// The migration that adds EventBridge Scheduler's schedules.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE schedules (
    group_name TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    arn TEXT NOT NULL,
    definition TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    created_millis BIGINT NOT NULL,
    modified_millis BIGINT NOT NULL,
    next_fire_millis BIGINT,
    PRIMARY KEY (group_name, name)
);
"#;

const SCHEDULE_COLUMNS: &str =
    "group_name, name, arn, definition, enabled, created_millis, modified_millis, next_fire_millis";

fn schedule_row(row: &Row) -> ScheduleRecord {
    ScheduleRecord {
        group: row.get(0),
        name: row.get(1),
        arn: row.get(2),
        definition: row.get(3),
        enabled: row.get(4),
        created_millis: row.get(5),
        modified_millis: row.get(6),
        next_fire_millis: row.get(7),
    }
}

pub(crate) async fn create(tx: &Tx<'_>, schedule: &ScheduleRecord) -> Result<()> {
    let inserted = execute(
        tx,
        &format!(
            "INSERT INTO schedules ({SCHEDULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (group_name, name) DO NOTHING"
        ),
        &[
            &schedule.group,
            &schedule.name,
            &schedule.arn,
            &schedule.definition,
            &schedule.enabled,
            &schedule.created_millis,
            &schedule.modified_millis,
            &schedule.next_fire_millis,
        ],
    )
    .await?;
    if inserted == 0 {
        return Err(Error::AlreadyExists {
            what: "schedule",
            key: format!("{}/{}", schedule.group, schedule.name),
        });
    }
    Ok(())
}

pub(crate) async fn update(tx: &Tx<'_>, schedule: &ScheduleRecord) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE schedules SET arn = $3, definition = $4, enabled = $5, modified_millis = $6,
             next_fire_millis = $7
         WHERE group_name = $1 AND name = $2",
        &[
            &schedule.group,
            &schedule.name,
            &schedule.arn,
            &schedule.definition,
            &schedule.enabled,
            &schedule.modified_millis,
            &schedule.next_fire_millis,
        ],
    )
    .await?;
    if changed == 0 {
        return Err(Error::NotFound {
            what: "schedule",
            key: format!("{}/{}", schedule.group, schedule.name),
        });
    }
    Ok(())
}

pub(crate) async fn delete(tx: &Tx<'_>, group: &str, name: &str) -> Result<bool> {
    Ok(execute(
        tx,
        "DELETE FROM schedules WHERE group_name = $1 AND name = $2",
        &[&group, &name],
    )
    .await?
        > 0)
}

pub(crate) async fn read(tx: &Tx<'_>, group: &str, name: &str) -> Result<Option<ScheduleRecord>> {
    Ok(query_opt(
        tx,
        &format!("SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE group_name = $1 AND name = $2"),
        &[&group, &name],
    )
    .await?
    .as_ref()
    .map(schedule_row))
}

pub(crate) async fn list(tx: &Tx<'_>) -> Result<Vec<ScheduleRecord>> {
    let rows = query(
        tx,
        &format!("SELECT {SCHEDULE_COLUMNS} FROM schedules ORDER BY group_name, name"),
        &[],
    )
    .await?;
    Ok(rows.iter().map(schedule_row).collect())
}

pub(crate) async fn fire(tx: &Tx<'_>, fire: &ScheduledFire) -> Result<bool> {
    let changed = match fire.after {
        AfterFire::Next(next) => {
            execute(
                tx,
                "UPDATE schedules SET next_fire_millis = $4
                 WHERE group_name = $1 AND name = $2 AND next_fire_millis = $3 AND enabled",
                &[&fire.group, &fire.name, &fire.expected_next_millis, &next],
            )
            .await?
        }
        AfterFire::Delete => {
            execute(
                tx,
                "DELETE FROM schedules
                 WHERE group_name = $1 AND name = $2 AND next_fire_millis = $3 AND enabled",
                &[&fire.group, &fire.name, &fire.expected_next_millis],
            )
            .await?
        }
    };
    if changed == 0 {
        return Ok(false);
    }
    insert_deliveries(tx, &fire.deliveries).await?;
    Ok(true)
}
