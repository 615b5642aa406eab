//! The event bus's tables and [`BusStore`] on them: writes go through the writer thread (so a
//! `PutEvents` batch of deliveries shares a commit with its neighbours), reads use the read pool.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use sluice_store::bus::{
    BusRecord, BusStore, Deleted, Delivery, RuleRecord, ScheduleFire, ScheduleRecord, ScheduledFire, TargetRecord,
};
use sluice_store::{Error, Result};

use crate::{SqliteStore, backend};

/// The migration that adds the bus's tables.
pub const MIGRATION: &str = r"
CREATE TABLE event_buses (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    created_millis INTEGER NOT NULL
);
CREATE TABLE event_rules (
    bus TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    event_pattern TEXT,
    schedule TEXT,
    enabled INTEGER NOT NULL,
    description TEXT,
    role_arn TEXT,
    next_fire_millis INTEGER,
    PRIMARY KEY (bus, name)
) WITHOUT ROWID;
CREATE TABLE event_targets (
    bus TEXT NOT NULL,
    rule TEXT NOT NULL,
    id TEXT NOT NULL,
    arn TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (bus, rule, id)
) WITHOUT ROWID;
CREATE TABLE event_deliveries (
    id TEXT PRIMARY KEY,
    bus TEXT NOT NULL,
    rule TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_arn TEXT NOT NULL,
    payload TEXT NOT NULL,
    event_millis INTEGER NOT NULL,
    due_millis INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    policy TEXT NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX event_deliveries_due ON event_deliveries (due_millis);
";

const RULE_COLUMNS: &str = "bus, name, arn, event_pattern, schedule, enabled, description, role_arn, next_fire_millis";
const DELIVERY_COLUMNS: &str =
    "id, bus, rule, target_id, target_arn, payload, event_millis, due_millis, attempts, policy, lease_until";

fn bus_row(row: &Row<'_>) -> rusqlite::Result<BusRecord> {
    Ok(BusRecord {
        name: row.get(0)?,
        arn: row.get(1)?,
        created_millis: row.get(2)?,
    })
}

fn rule_row(row: &Row<'_>) -> rusqlite::Result<RuleRecord> {
    Ok(RuleRecord {
        bus: row.get(0)?,
        name: row.get(1)?,
        arn: row.get(2)?,
        event_pattern: row.get(3)?,
        schedule: row.get(4)?,
        enabled: row.get::<_, i64>(5)? != 0,
        description: row.get(6)?,
        role_arn: row.get(7)?,
        next_fire_millis: row.get(8)?,
    })
}

fn target_row(row: &Row<'_>) -> rusqlite::Result<TargetRecord> {
    Ok(TargetRecord {
        bus: row.get(0)?,
        rule: row.get(1)?,
        id: row.get(2)?,
        arn: row.get(3)?,
        definition: row.get(4)?,
    })
}

fn delivery_row(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: row.get(0)?,
        bus: row.get(1)?,
        rule: row.get(2)?,
        target_id: row.get(3)?,
        target_arn: row.get(4)?,
        payload: row.get(5)?,
        event_millis: row.get(6)?,
        due_millis: row.get(7)?,
        attempts: row.get::<_, i64>(8)?.max(0) as u32,
        policy: row.get(9)?,
        lease_until_millis: row.get(10)?,
    })
}

fn read_rule(connection: &Connection, bus: &str, name: &str) -> Result<Option<RuleRecord>> {
    connection
        .prepare_cached(&format!(
            "SELECT {RULE_COLUMNS} FROM event_rules WHERE bus = ?1 AND name = ?2"
        ))
        .and_then(|mut statement| statement.query_row(params![bus, name], rule_row).optional())
        .map_err(backend)
}

pub(crate) fn exists(connection: &Connection, sql: &str, parameters: impl rusqlite::Params) -> Result<bool> {
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.exists(parameters))
        .map_err(backend)
}

pub(crate) fn insert_deliveries(connection: &Connection, deliveries: &[Delivery]) -> Result<()> {
    let mut statement = connection
        .prepare_cached(&format!(
            "INSERT INTO event_deliveries ({DELIVERY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ))
        .map_err(backend)?;
    for delivery in deliveries {
        statement
            .execute(params![
                delivery.id,
                delivery.bus,
                delivery.rule,
                delivery.target_id,
                delivery.target_arn,
                delivery.payload,
                delivery.event_millis,
                delivery.due_millis,
                i64::from(delivery.attempts),
                delivery.policy,
                delivery.lease_until_millis,
            ])
            .map_err(backend)?;
    }
    Ok(())
}

fn put_rule(connection: &Connection, rule: &RuleRecord) -> Result<()> {
    if !exists(connection, "SELECT 1 FROM event_buses WHERE name = ?1", [&rule.bus])? {
        return Err(Error::NotFound {
            what: "event bus",
            key: rule.bus.clone(),
        });
    }
    connection
        .prepare_cached(&format!(
            "INSERT OR REPLACE INTO event_rules ({RULE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))
        .and_then(|mut statement| {
            statement.execute(params![
                rule.bus,
                rule.name,
                rule.arn,
                rule.event_pattern,
                rule.schedule,
                i64::from(rule.enabled),
                rule.description,
                rule.role_arn,
                rule.next_fire_millis,
            ])
        })
        .map_err(backend)?;
    Ok(())
}

fn put_targets(connection: &Connection, targets: &[TargetRecord]) -> Result<()> {
    let mut statement = connection
        .prepare_cached(
            "INSERT OR REPLACE INTO event_targets (bus, rule, id, arn, definition) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(backend)?;
    for target in targets {
        if !exists(
            connection,
            "SELECT 1 FROM event_rules WHERE bus = ?1 AND name = ?2",
            params![target.bus, target.rule],
        )? {
            return Err(Error::NotFound {
                what: "rule",
                key: format!("{}/{}", target.bus, target.rule),
            });
        }
        statement
            .execute(params![
                target.bus,
                target.rule,
                target.id,
                target.arn,
                target.definition
            ])
            .map_err(backend)?;
    }
    Ok(())
}

fn fire_schedule(connection: &Connection, fire: &ScheduleFire) -> Result<bool> {
    let moved = connection
        .prepare_cached(
            "UPDATE event_rules SET next_fire_millis = ?4
             WHERE bus = ?1 AND name = ?2 AND next_fire_millis = ?3 AND enabled = 1",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                fire.bus,
                fire.rule,
                fire.expected_next_millis,
                fire.next_millis
            ])
        })
        .map_err(backend)?;
    if moved == 0 {
        return Ok(false);
    }
    insert_deliveries(connection, &fire.deliveries)?;
    Ok(true)
}

fn claim_deliveries(
    connection: &Connection,
    now_millis: i64,
    lease_until_millis: i64,
    limit: usize,
) -> Result<Vec<Delivery>> {
    let claimed: Vec<Delivery> = connection
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM event_deliveries
             WHERE due_millis <= ?1 AND lease_until <= ?1 ORDER BY due_millis, id LIMIT ?2"
        ))
        .and_then(|mut statement| {
            statement
                .query_map(params![now_millis, limit as i64], delivery_row)?
                .collect()
        })
        .map_err(backend)?;
    let mut lease = connection
        .prepare_cached("UPDATE event_deliveries SET lease_until = ?2, attempts = attempts + 1 WHERE id = ?1")
        .map_err(backend)?;
    let mut leased = Vec::with_capacity(claimed.len());
    for mut delivery in claimed {
        lease
            .execute(params![delivery.id, lease_until_millis])
            .map_err(backend)?;
        delivery.attempts += 1;
        delivery.lease_until_millis = lease_until_millis;
        leased.push(delivery);
    }
    Ok(leased)
}

fn delete_if_unused(connection: &Connection, used: &str, delete: &str, keys: &[&str]) -> Result<Deleted> {
    if exists(connection, used, rusqlite::params_from_iter(keys))? {
        return Ok(Deleted::InUse);
    }
    let removed = connection
        .execute(delete, rusqlite::params_from_iter(keys))
        .map_err(backend)?;
    Ok(if removed == 0 {
        Deleted::Missing
    } else {
        Deleted::Deleted
    })
}

#[async_trait]
impl BusStore for SqliteStore {
    async fn create_bus(&self, bus: BusRecord) -> Result<()> {
        self.writer
            .write(move |connection| {
                if exists(connection, "SELECT 1 FROM event_buses WHERE name = ?1", [&bus.name])? {
                    return Err(Error::AlreadyExists {
                        what: "event bus",
                        key: bus.name.clone(),
                    });
                }
                connection
                    .execute(
                        "INSERT INTO event_buses (name, arn, created_millis) VALUES (?1, ?2, ?3)",
                        params![bus.name, bus.arn, bus.created_millis],
                    )
                    .map_err(backend)?;
                Ok(())
            })
            .await
    }

    async fn delete_bus(&self, name: &str) -> Result<Deleted> {
        let name = name.to_owned();
        self.writer
            .write(move |connection| {
                delete_if_unused(
                    connection,
                    "SELECT 1 FROM event_rules WHERE bus = ?1",
                    "DELETE FROM event_buses WHERE name = ?1",
                    &[&name],
                )
            })
            .await
    }

    async fn bus(&self, name: &str) -> Result<Option<BusRecord>> {
        let name = name.to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached("SELECT name, arn, created_millis FROM event_buses WHERE name = ?1")
                .and_then(|mut statement| statement.query_row([&name], bus_row).optional())
                .map_err(backend)
        })
        .await
    }

    async fn list_buses(&self) -> Result<Vec<BusRecord>> {
        self.read(|connection| {
            connection
                .prepare_cached("SELECT name, arn, created_millis FROM event_buses ORDER BY name")
                .and_then(|mut statement| statement.query_map([], bus_row)?.collect())
                .map_err(backend)
        })
        .await
    }

    async fn put_rule(&self, rule: RuleRecord) -> Result<()> {
        self.writer.write(move |connection| put_rule(connection, &rule)).await
    }

    async fn delete_rule(&self, bus: &str, name: &str) -> Result<Deleted> {
        let (bus, name) = (bus.to_owned(), name.to_owned());
        self.writer
            .write(move |connection| {
                delete_if_unused(
                    connection,
                    "SELECT 1 FROM event_targets WHERE bus = ?1 AND rule = ?2",
                    "DELETE FROM event_rules WHERE bus = ?1 AND name = ?2",
                    &[&bus, &name],
                )
            })
            .await
    }

    async fn rule(&self, bus: &str, name: &str) -> Result<Option<RuleRecord>> {
        let (bus, name) = (bus.to_owned(), name.to_owned());
        self.read(move |connection| read_rule(connection, &bus, &name)).await
    }

    async fn list_rules(&self, bus: Option<&str>) -> Result<Vec<RuleRecord>> {
        let bus = bus.map(str::to_owned);
        self.read(move |connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {RULE_COLUMNS} FROM event_rules WHERE ?1 IS NULL OR bus = ?1 ORDER BY bus, name"
                ))
                .and_then(|mut statement| statement.query_map([&bus], rule_row)?.collect())
                .map_err(backend)
        })
        .await
    }

    async fn put_targets(&self, targets: Vec<TargetRecord>) -> Result<()> {
        self.writer
            .write(move |connection| put_targets(connection, &targets))
            .await
    }

    async fn remove_targets(&self, bus: &str, rule: &str, ids: Vec<String>) -> Result<Vec<String>> {
        let (bus, rule) = (bus.to_owned(), rule.to_owned());
        self.writer
            .write(move |connection| {
                let mut statement = connection
                    .prepare_cached("DELETE FROM event_targets WHERE bus = ?1 AND rule = ?2 AND id = ?3")
                    .map_err(backend)?;
                let mut removed = Vec::new();
                for id in ids {
                    if statement.execute(params![bus, rule, id]).map_err(backend)? > 0 {
                        removed.push(id);
                    }
                }
                Ok(removed)
            })
            .await
    }

    async fn targets(&self, bus: &str, rule: &str) -> Result<Vec<TargetRecord>> {
        let (bus, rule) = (bus.to_owned(), rule.to_owned());
        self.read(move |connection| {
            connection
                .prepare_cached(
                    "SELECT bus, rule, id, arn, definition FROM event_targets WHERE bus = ?1 AND rule = ?2 ORDER BY id",
                )
                .and_then(|mut statement| statement.query_map(params![bus, rule], target_row)?.collect())
                .map_err(backend)
        })
        .await
    }

    async fn enqueue_deliveries(&self, deliveries: Vec<Delivery>) -> Result<()> {
        self.writer
            .write(move |connection| insert_deliveries(connection, &deliveries))
            .await
    }

    async fn fire_schedule(&self, fire: ScheduleFire) -> Result<bool> {
        self.writer
            .write(move |connection| fire_schedule(connection, &fire))
            .await
    }

    async fn claim_deliveries(&self, now_millis: i64, lease_until_millis: i64, limit: usize) -> Result<Vec<Delivery>> {
        self.writer
            .write(move |connection| claim_deliveries(connection, now_millis, lease_until_millis, limit))
            .await
    }

    async fn finish_delivery(&self, id: &str) -> Result<()> {
        self.execute("DELETE FROM event_deliveries WHERE id = ?1", vec![id.to_owned().into()])
            .await
    }

    async fn retry_delivery(&self, id: &str, due_millis: i64) -> Result<()> {
        let id = id.to_owned();
        self.execute(
            "UPDATE event_deliveries SET due_millis = ?2, lease_until = 0 WHERE id = ?1",
            vec![id.into(), due_millis.into()],
        )
        .await
    }

    async fn release_delivery_leases(&self) -> Result<()> {
        self.execute(
            "UPDATE event_deliveries SET lease_until = 0 WHERE lease_until > 0",
            Vec::new(),
        )
        .await
    }

    async fn next_delivery_due(&self) -> Result<Option<i64>> {
        self.read(|connection| {
            connection
                .query_row(
                    "SELECT MIN(due_millis) FROM event_deliveries WHERE lease_until = 0",
                    [],
                    |row| row.get(0),
                )
                .map_err(backend)
        })
        .await
    }

    async fn pending_deliveries(&self) -> Result<u64> {
        self.read(|connection| {
            connection
                .query_row("SELECT COUNT(*) FROM event_deliveries", [], |row| row.get::<_, i64>(0))
                .map(|count| count.max(0) as u64)
                .map_err(backend)
        })
        .await
    }

    async fn create_schedule(&self, schedule: ScheduleRecord) -> Result<()> {
        self.create_schedule_row(schedule).await
    }

    async fn update_schedule(&self, schedule: ScheduleRecord) -> Result<()> {
        self.update_schedule_row(schedule).await
    }

    async fn delete_schedule(&self, group: &str, name: &str) -> Result<bool> {
        self.delete_schedule_row(group, name).await
    }

    async fn schedule(&self, group: &str, name: &str) -> Result<Option<ScheduleRecord>> {
        self.schedule_row_by_key(group, name).await
    }

    async fn list_schedules(&self) -> Result<Vec<ScheduleRecord>> {
        self.schedule_rows().await
    }

    async fn fire_scheduled(&self, fire: ScheduledFire) -> Result<bool> {
        self.fire_scheduled_row(fire).await
    }
}

#[cfg(test)]
mod tests {
    use crate::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bus_conformance() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
        sluice_store::bus_conformance::run_all(&store).await;
    }
}
