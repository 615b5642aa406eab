//! The event bus's tables and [`BusStore`] on them. A schedule's fire is a guarded update of the
//! rule's next fire time (so of several nodes computing one fire, one writes it); deliveries are
//! claimed with `FOR UPDATE SKIP LOCKED`.

use async_trait::async_trait;
use sluice_store::bus::{
    BusRecord, BusStore, Deleted, Delivery, RuleRecord, ScheduleFire, ScheduleRecord, ScheduledFire, TargetRecord,
};
use sluice_store::{Error, Result};
use tokio_postgres::Row;

use crate::{Params, PostgresStore, Tx, execute, is_unique_violation, query, query_one, query_opt, transaction};

/// The migration that adds the bus's tables.
pub(crate) const MIGRATION: &str = r"
CREATE TABLE event_buses (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    created_millis BIGINT NOT NULL
);
CREATE TABLE event_rules (
    bus TEXT NOT NULL,
    name TEXT NOT NULL,
    arn TEXT NOT NULL,
    event_pattern TEXT,
    schedule TEXT,
    enabled BOOLEAN NOT NULL,
    description TEXT,
    role_arn TEXT,
    next_fire_millis BIGINT,
    PRIMARY KEY (bus, name)
);
CREATE TABLE event_targets (
    bus TEXT NOT NULL,
    rule TEXT NOT NULL,
    id TEXT NOT NULL,
    arn TEXT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (bus, rule, id)
);
CREATE TABLE event_deliveries (
    id TEXT PRIMARY KEY,
    bus TEXT NOT NULL,
    rule TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_arn TEXT NOT NULL,
    payload TEXT NOT NULL,
    event_millis BIGINT NOT NULL,
    due_millis BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    policy TEXT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX event_deliveries_due ON event_deliveries (due_millis);
";

const RULE_COLUMNS: &str = "bus, name, arn, event_pattern, schedule, enabled, description, role_arn, next_fire_millis";
const DELIVERY_COLUMNS: &str =
    "id, bus, rule, target_id, target_arn, payload, event_millis, due_millis, attempts, policy, lease_until";

fn bus_row(row: &Row) -> BusRecord {
    BusRecord {
        name: row.get(0),
        arn: row.get(1),
        created_millis: row.get(2),
    }
}

fn rule_row(row: &Row) -> RuleRecord {
    RuleRecord {
        bus: row.get(0),
        name: row.get(1),
        arn: row.get(2),
        event_pattern: row.get(3),
        schedule: row.get(4),
        enabled: row.get(5),
        description: row.get(6),
        role_arn: row.get(7),
        next_fire_millis: row.get(8),
    }
}

fn target_row(row: &Row) -> TargetRecord {
    TargetRecord {
        bus: row.get(0),
        rule: row.get(1),
        id: row.get(2),
        arn: row.get(3),
        definition: row.get(4),
    }
}

fn delivery_row(row: &Row) -> Delivery {
    Delivery {
        id: row.get(0),
        bus: row.get(1),
        rule: row.get(2),
        target_id: row.get(3),
        target_arn: row.get(4),
        payload: row.get(5),
        event_millis: row.get(6),
        due_millis: row.get(7),
        attempts: row.get::<_, i64>(8).max(0) as u32,
        policy: row.get(9),
        lease_until_millis: row.get(10),
    }
}

pub(crate) async fn insert_deliveries(tx: &Tx<'_>, deliveries: &[Delivery]) -> Result<()> {
    let sql = format!(
        "INSERT INTO event_deliveries ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    for delivery in deliveries {
        execute(
            tx,
            &sql,
            &[
                &delivery.id,
                &delivery.bus,
                &delivery.rule,
                &delivery.target_id,
                &delivery.target_arn,
                &delivery.payload,
                &delivery.event_millis,
                &delivery.due_millis,
                &i64::from(delivery.attempts),
                &delivery.policy,
                &delivery.lease_until_millis,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn put_rule(tx: &Tx<'_>, rule: &RuleRecord) -> Result<()> {
    // The bus's row stays locked, so the bus is not deleted under its new rule.
    if query_opt(
        tx,
        "SELECT 1 FROM event_buses WHERE name = $1 FOR KEY SHARE",
        &[&rule.bus],
    )
    .await?
    .is_none()
    {
        return Err(Error::NotFound {
            what: "event bus",
            key: rule.bus.clone(),
        });
    }
    execute(
        tx,
        &format!(
            "INSERT INTO event_rules ({RULE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (bus, name) DO UPDATE SET arn = excluded.arn, event_pattern = excluded.event_pattern,
                 schedule = excluded.schedule, enabled = excluded.enabled, description = excluded.description,
                 role_arn = excluded.role_arn, next_fire_millis = excluded.next_fire_millis"
        ),
        &[
            &rule.bus,
            &rule.name,
            &rule.arn,
            &rule.event_pattern,
            &rule.schedule,
            &rule.enabled,
            &rule.description,
            &rule.role_arn,
            &rule.next_fire_millis,
        ],
    )
    .await?;
    Ok(())
}

async fn put_targets(tx: &Tx<'_>, targets: &[TargetRecord]) -> Result<()> {
    for target in targets {
        if query_opt(
            tx,
            "SELECT 1 FROM event_rules WHERE bus = $1 AND name = $2 FOR KEY SHARE",
            &[&target.bus, &target.rule],
        )
        .await?
        .is_none()
        {
            return Err(Error::NotFound {
                what: "rule",
                key: format!("{}/{}", target.bus, target.rule),
            });
        }
        execute(
            tx,
            "INSERT INTO event_targets (bus, rule, id, arn, definition) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (bus, rule, id) DO UPDATE SET arn = excluded.arn, definition = excluded.definition",
            &[&target.bus, &target.rule, &target.id, &target.arn, &target.definition],
        )
        .await?;
    }
    Ok(())
}

async fn fire_schedule(tx: &Tx<'_>, fire: &ScheduleFire) -> Result<bool> {
    let moved = execute(
        tx,
        "UPDATE event_rules SET next_fire_millis = $4
         WHERE bus = $1 AND name = $2 AND next_fire_millis = $3 AND enabled",
        &[&fire.bus, &fire.rule, &fire.expected_next_millis, &fire.next_millis],
    )
    .await?;
    if moved == 0 {
        return Ok(false);
    }
    insert_deliveries(tx, &fire.deliveries).await?;
    Ok(true)
}

async fn claim_deliveries(
    tx: &Tx<'_>,
    now_millis: i64,
    lease_until_millis: i64,
    limit: usize,
) -> Result<Vec<Delivery>> {
    let rows = query(
        tx,
        &format!(
            "WITH due AS (
                 SELECT id FROM event_deliveries WHERE due_millis <= $1 AND lease_until <= $1
                 ORDER BY due_millis, id LIMIT $2 FOR UPDATE SKIP LOCKED
             )
             UPDATE event_deliveries d SET lease_until = $3, attempts = d.attempts + 1
             FROM due WHERE d.id = due.id
             RETURNING {}",
            DELIVERY_COLUMNS
                .split(", ")
                .map(|column| format!("d.{column}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        &[&now_millis, &(limit as i64), &lease_until_millis],
    )
    .await?;
    let mut claimed: Vec<Delivery> = rows.iter().map(delivery_row).collect();
    claimed.sort_by(|left, right| (left.due_millis, &left.id).cmp(&(right.due_millis, &right.id)));
    Ok(claimed)
}

/// Deletes the row `delete` names unless `used` finds a row that depends on it. The row is
/// locked first, so a dependant added at the same time either waits or is seen.
async fn delete_if_unused(tx: &Tx<'_>, lock: &str, used: &str, delete: &str, keys: &Params<'_>) -> Result<Deleted> {
    if query_opt(tx, lock, keys).await?.is_none() {
        return Ok(Deleted::Missing);
    }
    if query_opt(tx, used, keys).await?.is_some() {
        return Ok(Deleted::InUse);
    }
    let removed = execute(tx, delete, keys).await?;
    Ok(if removed == 0 {
        Deleted::Missing
    } else {
        Deleted::Deleted
    })
}

#[async_trait]
impl BusStore for PostgresStore {
    async fn create_bus(&self, bus: BusRecord) -> Result<()> {
        transaction!(self, |tx| {
            let statement = tx
                .prepare_cached("INSERT INTO event_buses (name, arn, created_millis) VALUES ($1, $2, $3)")
                .await
                .map_err(crate::backend)?;
            tx.execute(&statement, &[&bus.name, &bus.arn, &bus.created_millis])
                .await
                .map(drop)
                .map_err(|error| {
                    if is_unique_violation(&error) {
                        Error::AlreadyExists {
                            what: "event bus",
                            key: bus.name.clone(),
                        }
                    } else {
                        crate::backend(error)
                    }
                })
        })
    }

    async fn delete_bus(&self, name: &str) -> Result<Deleted> {
        transaction!(self, |tx| delete_if_unused(
            &tx,
            "SELECT 1 FROM event_buses WHERE name = $1 FOR UPDATE",
            "SELECT 1 FROM event_rules WHERE bus = $1 LIMIT 1",
            "DELETE FROM event_buses WHERE name = $1",
            &[&name],
        )
        .await)
    }

    async fn bus(&self, name: &str) -> Result<Option<BusRecord>> {
        transaction!(self, |tx| query_opt(
            &tx,
            "SELECT name, arn, created_millis FROM event_buses WHERE name = $1",
            &[&name]
        )
        .await
        .map(|row| row.as_ref().map(bus_row)))
    }

    async fn list_buses(&self) -> Result<Vec<BusRecord>> {
        transaction!(self, |tx| query(
            &tx,
            "SELECT name, arn, created_millis FROM event_buses ORDER BY name COLLATE \"C\"",
            &[]
        )
        .await
        .map(|rows| rows.iter().map(bus_row).collect()))
    }

    async fn put_rule(&self, rule: RuleRecord) -> Result<()> {
        transaction!(self, |tx| put_rule(&tx, &rule).await)
    }

    async fn delete_rule(&self, bus: &str, name: &str) -> Result<Deleted> {
        transaction!(self, |tx| delete_if_unused(
            &tx,
            "SELECT 1 FROM event_rules WHERE bus = $1 AND name = $2 FOR UPDATE",
            "SELECT 1 FROM event_targets WHERE bus = $1 AND rule = $2 LIMIT 1",
            "DELETE FROM event_rules WHERE bus = $1 AND name = $2",
            &[&bus, &name],
        )
        .await)
    }

    async fn rule(&self, bus: &str, name: &str) -> Result<Option<RuleRecord>> {
        transaction!(self, |tx| query_opt(
            &tx,
            &format!("SELECT {RULE_COLUMNS} FROM event_rules WHERE bus = $1 AND name = $2"),
            &[&bus, &name]
        )
        .await
        .map(|row| row.as_ref().map(rule_row)))
    }

    async fn list_rules(&self, bus: Option<&str>) -> Result<Vec<RuleRecord>> {
        transaction!(self, |tx| query(
            &tx,
            &format!(
                "SELECT {RULE_COLUMNS} FROM event_rules WHERE $1::TEXT IS NULL OR bus = $1
                 ORDER BY bus COLLATE \"C\", name COLLATE \"C\""
            ),
            &[&bus]
        )
        .await
        .map(|rows| rows.iter().map(rule_row).collect()))
    }

    async fn put_targets(&self, targets: Vec<TargetRecord>) -> Result<()> {
        transaction!(self, |tx| put_targets(&tx, &targets).await)
    }

    async fn remove_targets(&self, bus: &str, rule: &str, ids: Vec<String>) -> Result<Vec<String>> {
        transaction!(self, |tx| {
            let mut removed = Vec::new();
            let mut failure = None;
            for id in &ids {
                match execute(
                    &tx,
                    "DELETE FROM event_targets WHERE bus = $1 AND rule = $2 AND id = $3",
                    &[&bus, &rule, id],
                )
                .await
                {
                    Ok(0) => {}
                    Ok(_) => removed.push(id.clone()),
                    Err(error) => {
                        failure = Some(error);
                        break;
                    }
                }
            }
            match failure {
                Some(error) => Err(error),
                None => Ok(removed),
            }
        })
    }

    async fn targets(&self, bus: &str, rule: &str) -> Result<Vec<TargetRecord>> {
        transaction!(self, |tx| query(
            &tx,
            "SELECT bus, rule, id, arn, definition FROM event_targets WHERE bus = $1 AND rule = $2
             ORDER BY id COLLATE \"C\"",
            &[&bus, &rule]
        )
        .await
        .map(|rows| rows.iter().map(target_row).collect()))
    }

    async fn enqueue_deliveries(&self, deliveries: Vec<Delivery>) -> Result<()> {
        transaction!(self, |tx| insert_deliveries(&tx, &deliveries).await)
    }

    async fn fire_schedule(&self, fire: ScheduleFire) -> Result<bool> {
        transaction!(self, |tx| fire_schedule(&tx, &fire).await)
    }

    async fn claim_deliveries(&self, now_millis: i64, lease_until_millis: i64, limit: usize) -> Result<Vec<Delivery>> {
        transaction!(self, |tx| claim_deliveries(&tx, now_millis, lease_until_millis, limit)
            .await)
    }

    async fn finish_delivery(&self, id: &str) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "DELETE FROM event_deliveries WHERE id = $1",
            &[&id]
        )
        .await
        .map(drop))
    }

    async fn retry_delivery(&self, id: &str, due_millis: i64) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "UPDATE event_deliveries SET due_millis = $2, lease_until = 0 WHERE id = $1",
            &[&id, &due_millis]
        )
        .await
        .map(drop))
    }

    async fn release_delivery_leases(&self) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "UPDATE event_deliveries SET lease_until = 0 WHERE lease_until > 0",
            &[]
        )
        .await
        .map(drop))
    }

    async fn next_delivery_due(&self) -> Result<Option<i64>> {
        transaction!(self, |tx| query_one(
            &tx,
            "SELECT MIN(due_millis) FROM event_deliveries WHERE lease_until = 0",
            &[]
        )
        .await
        .map(|row| row.get(0)))
    }

    async fn pending_deliveries(&self) -> Result<u64> {
        transaction!(self, |tx| query_one(&tx, "SELECT COUNT(*) FROM event_deliveries", &[])
            .await
            .map(|row| row.get::<_, i64>(0).max(0) as u64))
    }

    async fn create_schedule(&self, schedule: ScheduleRecord) -> Result<()> {
        transaction!(self, |tx| crate::schedules::create(&tx, &schedule).await)
    }

    async fn update_schedule(&self, schedule: ScheduleRecord) -> Result<()> {
        transaction!(self, |tx| crate::schedules::update(&tx, &schedule).await)
    }

    async fn delete_schedule(&self, group: &str, name: &str) -> Result<bool> {
        transaction!(self, |tx| crate::schedules::delete(&tx, group, name).await)
    }

    async fn schedule(&self, group: &str, name: &str) -> Result<Option<ScheduleRecord>> {
        transaction!(self, |tx| crate::schedules::read(&tx, group, name).await)
    }

    async fn list_schedules(&self) -> Result<Vec<ScheduleRecord>> {
        transaction!(self, |tx| crate::schedules::list(&tx).await)
    }

    async fn fire_scheduled(&self, fire: ScheduledFire) -> Result<bool> {
        transaction!(self, |tx| crate::schedules::fire(&tx, &fire).await)
    }
}
