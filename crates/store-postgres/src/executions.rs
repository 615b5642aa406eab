//! State machines, executions, their history, due work and task tokens.
//!
//! An advance is one guarded `UPDATE … WHERE version = $expected`: PostgreSQL's row lock makes a
//! second advance at the same version wait for the first and then find the version moved, so it
//! changes nothing and reports the conflict. Work is claimed with `FOR UPDATE SKIP LOCKED`, so
//! claims running at once on several nodes take disjoint rows.

use sluice_store::{
    Advance, Error, ExecutionFilter, ExecutionRecord, ExecutionStart, ExecutionStatus, ExecutionSummary, HistoryEvent,
    HistoryPage, MachineType, Result, Started, StateMachineRecord, StateMachineUpdate, TaskTokenRecord, Work,
};
use tokio_postgres::Row;

use crate::{Tx, execute, is_unique_violation, query, query_opt};

pub(crate) const MIGRATION: &str = r#"
CREATE TABLE state_machines (
    arn TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    role_arn TEXT NOT NULL,
    revision BIGINT NOT NULL,
    created_millis BIGINT NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX state_machines_by_name ON state_machines (name COLLATE "C") WHERE NOT deleted;
CREATE TABLE revisions (
    arn TEXT NOT NULL,
    revision BIGINT NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (arn, revision)
);
CREATE TABLE executions (
    arn TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL,
    revision BIGINT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    cause TEXT,
    start_millis BIGINT NOT NULL,
    stop_millis BIGINT,
    version BIGINT NOT NULL,
    snapshot TEXT NOT NULL,
    parent_arn TEXT
);
CREATE INDEX executions_by_machine ON executions (state_machine_arn, start_millis DESC, arn COLLATE "C" DESC);
CREATE INDEX executions_by_start ON executions (start_millis DESC, arn COLLATE "C" DESC);
CREATE INDEX executions_running ON executions (status) WHERE status = 'RUNNING';
CREATE TABLE history (
    execution_arn TEXT NOT NULL,
    id BIGINT NOT NULL,
    previous_id BIGINT NOT NULL,
    timestamp_millis BIGINT NOT NULL,
    type TEXT NOT NULL,
    details TEXT NOT NULL,
    PRIMARY KEY (execution_arn, id)
);
CREATE TABLE work (
    id TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    due_millis BIGINT NOT NULL,
    payload TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX work_due ON work (due_millis);
CREATE INDEX work_by_execution ON work (execution_arn);
CREATE TABLE task_tokens (
    token TEXT PRIMARY KEY,
    execution_arn TEXT NOT NULL,
    task_id TEXT NOT NULL
);
CREATE INDEX task_tokens_by_execution ON task_tokens (execution_arn);
"#;

const MACHINE_COLUMNS: &str = "m.arn, m.name, m.type, r.definition, m.role_arn, m.revision, m.created_millis";

fn machine_row(row: &Row) -> StateMachineRecord {
    let machine_type: String = row.get(2);
    StateMachineRecord {
        arn: row.get(0),
        name: row.get(1),
        machine_type: MachineType::parse(&machine_type).unwrap_or(MachineType::Standard),
        definition: row.get(3),
        role_arn: row.get(4),
        revision: row.get::<_, i64>(5) as u64,
        created_millis: row.get(6),
    }
}

fn status(text: &str) -> ExecutionStatus {
    ExecutionStatus::parse(text).unwrap_or(ExecutionStatus::Running)
}

pub(crate) async fn create_state_machine(tx: &Tx<'_>, machine: &StateMachineRecord) -> Result<()> {
    let existing = query_opt(
        tx,
        "SELECT deleted FROM state_machines WHERE arn = $1 FOR UPDATE",
        &[&machine.arn],
    )
    .await?;
    match existing.map(|row| row.get::<_, bool>(0)) {
        Some(false) => {
            return Err(Error::AlreadyExists {
                what: "state machine",
                key: machine.arn.clone(),
            });
        }
        Some(true) => {
            // A deleted machine's name can be used again; its old revisions go.
            execute(tx, "DELETE FROM state_machines WHERE arn = $1", &[&machine.arn]).await?;
            execute(tx, "DELETE FROM revisions WHERE arn = $1", &[&machine.arn]).await?;
        }
        None => {}
    }
    let statement = tx
        .prepare_cached(
            "INSERT INTO state_machines (arn, name, type, role_arn, revision, created_millis) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await
        .map_err(crate::backend)?;
    tx.execute(
        &statement,
        &[
            &machine.arn,
            &machine.name,
            &machine.machine_type.as_str(),
            &machine.role_arn,
            &(machine.revision as i64),
            &machine.created_millis,
        ],
    )
    .await
    .map_err(|error| {
        if is_unique_violation(&error) {
            Error::AlreadyExists {
                what: "state machine",
                key: machine.arn.clone(),
            }
        } else {
            crate::backend(error)
        }
    })?;
    execute(
        tx,
        "INSERT INTO revisions (arn, revision, definition) VALUES ($1, $2, $3)",
        &[&machine.arn, &(machine.revision as i64), &machine.definition],
    )
    .await?;
    Ok(())
}

pub(crate) async fn update_state_machine(tx: &Tx<'_>, update: &StateMachineUpdate) -> Result<StateMachineRecord> {
    let Some(mut machine) = state_machine(tx, &update.arn, true).await? else {
        return Err(Error::NotFound {
            what: "state machine",
            key: update.arn.clone(),
        });
    };
    if let Some(role_arn) = &update.role_arn {
        machine.role_arn = role_arn.clone();
    }
    if let Some(definition) = &update.definition
        && *definition != machine.definition
    {
        machine.revision += 1;
        machine.definition = definition.clone();
        execute(
            tx,
            "INSERT INTO revisions (arn, revision, definition) VALUES ($1, $2, $3)",
            &[&machine.arn, &(machine.revision as i64), &machine.definition],
        )
        .await?;
    }
    execute(
        tx,
        "UPDATE state_machines SET role_arn = $2, revision = $3 WHERE arn = $1",
        &[&machine.arn, &machine.role_arn, &(machine.revision as i64)],
    )
    .await?;
    Ok(machine)
}

pub(crate) async fn delete_state_machine(tx: &Tx<'_>, arn: &str) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE state_machines SET deleted = TRUE WHERE arn = $1 AND NOT deleted",
        &[&arn],
    )
    .await?;
    if changed == 0 {
        return Err(Error::NotFound {
            what: "state machine",
            key: arn.to_owned(),
        });
    }
    Ok(())
}

/// A state machine at its latest revision; `for_update` locks its row until the transaction ends.
pub(crate) async fn state_machine(tx: &Tx<'_>, arn: &str, for_update: bool) -> Result<Option<StateMachineRecord>> {
    let sql = if for_update {
        "SELECT m.arn, m.name, m.type, r.definition, m.role_arn, m.revision, m.created_millis
         FROM state_machines m JOIN revisions r ON r.arn = m.arn AND r.revision = m.revision
         WHERE m.arn = $1 AND NOT m.deleted FOR UPDATE OF m"
    } else {
        "SELECT m.arn, m.name, m.type, r.definition, m.role_arn, m.revision, m.created_millis
         FROM state_machines m JOIN revisions r ON r.arn = m.arn AND r.revision = m.revision
         WHERE m.arn = $1 AND NOT m.deleted"
    };
    Ok(query_opt(tx, sql, &[&arn]).await?.as_ref().map(machine_row))
}

pub(crate) async fn revision(tx: &Tx<'_>, arn: &str, revision: u64) -> Result<Option<String>> {
    Ok(query_opt(
        tx,
        "SELECT definition FROM revisions WHERE arn = $1 AND revision = $2",
        &[&arn, &(revision as i64)],
    )
    .await?
    .map(|row| row.get(0)))
}

pub(crate) async fn list_state_machines(
    tx: &Tx<'_>,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<StateMachineRecord>> {
    let sql = format!(
        "SELECT {MACHINE_COLUMNS} FROM state_machines m JOIN revisions r ON r.arn = m.arn AND r.revision = m.revision
         WHERE NOT m.deleted AND m.name COLLATE \"C\" > $1 ORDER BY m.name COLLATE \"C\" LIMIT $2"
    );
    let rows = query(tx, &sql, &[&after.unwrap_or(""), &(limit as i64)]).await?;
    Ok(rows.iter().map(machine_row).collect())
}

pub(crate) async fn execution(tx: &Tx<'_>, arn: &str) -> Result<Option<ExecutionRecord>> {
    let row = query_opt(
        tx,
        "SELECT arn, state_machine_arn, revision, name, status, input, output, error, cause, start_millis,
                stop_millis, version, snapshot, parent_arn
         FROM executions WHERE arn = $1",
        &[&arn],
    )
    .await?;
    Ok(row.map(|row| ExecutionRecord {
        arn: row.get(0),
        state_machine_arn: row.get(1),
        revision: row.get::<_, i64>(2) as u64,
        name: row.get(3),
        status: status(row.get(4)),
        input: row.get(5),
        output: row.get(6),
        error: row.get(7),
        cause: row.get(8),
        start_millis: row.get(9),
        stop_millis: row.get(10),
        version: row.get::<_, i64>(11) as u64,
        snapshot: row.get(12),
        parent_arn: row.get(13),
    }))
}

pub(crate) async fn list_executions(tx: &Tx<'_>, filter: &ExecutionFilter) -> Result<Vec<ExecutionSummary>> {
    let (after_start, after_arn) = match &filter.after {
        Some((start, arn)) => (*start, arn.as_str()),
        None => (i64::MAX, ""),
    };
    let rows = query(
        tx,
        "SELECT arn, state_machine_arn, name, status, start_millis, stop_millis FROM executions
         WHERE ($1::TEXT IS NULL OR state_machine_arn = $1) AND ($2::TEXT IS NULL OR status = $2)
           AND (start_millis < $3 OR (start_millis = $3 AND arn COLLATE \"C\" < $4) OR $4 = '')
         ORDER BY start_millis DESC, arn COLLATE \"C\" DESC LIMIT $5",
        &[
            &filter.state_machine_arn,
            &filter.status.map(ExecutionStatus::as_str),
            &after_start,
            &after_arn,
            &(filter.limit as i64),
        ],
    )
    .await?;
    Ok(rows
        .iter()
        .map(|row| ExecutionSummary {
            arn: row.get(0),
            state_machine_arn: row.get(1),
            name: row.get(2),
            status: status(row.get(3)),
            start_millis: row.get(4),
            stop_millis: row.get(5),
        })
        .collect())
}

pub(crate) async fn history(tx: &Tx<'_>, arn: &str, page: HistoryPage) -> Result<Vec<HistoryEvent>> {
    let sql = if page.reverse {
        "SELECT id, previous_id, timestamp_millis, type, details FROM history
         WHERE execution_arn = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
    } else {
        "SELECT id, previous_id, timestamp_millis, type, details FROM history
         WHERE execution_arn = $1 AND id > $2 ORDER BY id LIMIT $3"
    };
    let bound = match (page.after_event_id, page.reverse) {
        (Some(id), _) => id as i64,
        (None, false) => 0,
        (None, true) => i64::MAX,
    };
    let rows = query(tx, sql, &[&arn, &bound, &(page.limit as i64)]).await?;
    Ok(rows
        .iter()
        .map(|row| HistoryEvent {
            id: row.get::<_, i64>(0) as u64,
            previous_event_id: row.get::<_, i64>(1) as u64,
            timestamp_millis: row.get(2),
            event_type: row.get(3),
            details: row.get(4),
        })
        .collect())
}

pub(crate) async fn start_execution(tx: &Tx<'_>, start: &ExecutionStart) -> Result<Started> {
    let record = &start.record;
    // The insert decides: of two starts of one name, the second waits for the first's commit and
    // then inserts nothing.
    let inserted = execute(
        tx,
        "INSERT INTO executions (arn, state_machine_arn, revision, name, status, input, output, error, cause,
             start_millis, stop_millis, version, snapshot, parent_arn)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         ON CONFLICT (arn) DO NOTHING",
        &[
            &record.arn,
            &record.state_machine_arn,
            &(record.revision as i64),
            &record.name,
            &record.status.as_str(),
            &record.input,
            &record.output,
            &record.error,
            &record.cause,
            &record.start_millis,
            &record.stop_millis,
            &(record.version as i64),
            &record.snapshot,
            &record.parent_arn,
        ],
    )
    .await?;
    if inserted == 0 {
        let existing = execution(tx, &record.arn).await?.ok_or_else(|| Error::NotFound {
            what: "execution",
            key: record.arn.clone(),
        })?;
        return Ok(Started::Existing(Box::new(existing)));
    }
    append(tx, &record.arn, &start.events, &start.work, &start.tokens).await?;
    Ok(Started::New)
}

/// One advance, inside its own savepoint (the caller rolls it back on an error).
pub(crate) async fn advance_one(tx: &Tx<'_>, advance: &Advance) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE executions SET status = $3, output = $4, error = $5, cause = $6, stop_millis = $7, snapshot = $8,
             version = version + 1
         WHERE arn = $1 AND version = $2",
        &[
            &advance.arn,
            &(advance.expected_version as i64),
            &advance.status.as_str(),
            &advance.output,
            &advance.error,
            &advance.cause,
            &advance.stop_millis,
            &advance.snapshot,
        ],
    )
    .await?;
    if changed == 0 {
        let actual = query_opt(tx, "SELECT version FROM executions WHERE arn = $1", &[&advance.arn]).await?;
        return Err(match actual {
            Some(row) => Error::VersionConflict {
                arn: advance.arn.clone(),
                expected: advance.expected_version,
                actual: row.get::<_, i64>(0) as u64,
            },
            None => Error::NotFound {
                what: "execution",
                key: advance.arn.clone(),
            },
        });
    }
    if !advance.done_work.is_empty() {
        execute(tx, "DELETE FROM work WHERE id = ANY($1)", &[&advance.done_work]).await?;
    }
    if !advance.remove_tokens.is_empty() {
        execute(
            tx,
            "DELETE FROM task_tokens WHERE token = ANY($1)",
            &[&advance.remove_tokens],
        )
        .await?;
    }
    if advance.status != ExecutionStatus::Running {
        // A stopped execution has nothing left to do and no token left to answer.
        execute(tx, "DELETE FROM work WHERE execution_arn = $1", &[&advance.arn]).await?;
        execute(tx, "DELETE FROM task_tokens WHERE execution_arn = $1", &[&advance.arn]).await?;
        return append(tx, &advance.arn, &advance.events, &[], &[]).await;
    }
    append(
        tx,
        &advance.arn,
        &advance.events,
        &advance.add_work,
        &advance.add_tokens,
    )
    .await
}

/// Appends events, work and tokens of an execution.
async fn append(
    tx: &Tx<'_>,
    arn: &str,
    events: &[HistoryEvent],
    work: &[Work],
    tokens: &[TaskTokenRecord],
) -> Result<()> {
    if !events.is_empty() {
        let statement = tx
            .prepare_cached(
                "INSERT INTO history (execution_arn, id, previous_id, timestamp_millis, type, details)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await
            .map_err(crate::backend)?;
        for event in events {
            tx.execute(
                &statement,
                &[
                    &arn,
                    &(event.id as i64),
                    &(event.previous_event_id as i64),
                    &event.timestamp_millis,
                    &event.event_type,
                    &event.details,
                ],
            )
            .await
            .map_err(|error| {
                if is_unique_violation(&error) {
                    Error::AlreadyExists {
                        what: "history event",
                        key: format!("{arn}#{}", event.id),
                    }
                } else {
                    crate::backend(error)
                }
            })?;
        }
    }
    for item in work {
        execute(
            tx,
            "INSERT INTO work (id, execution_arn, due_millis, payload, attempts, lease_until) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &item.id,
                &item.execution_arn,
                &item.due_millis,
                &item.payload,
                &i64::from(item.attempts),
                &item.lease_until_millis,
            ],
        )
        .await?;
    }
    for token in tokens {
        execute(
            tx,
            "INSERT INTO task_tokens (token, execution_arn, task_id) VALUES ($1, $2, $3)",
            &[&token.token, &token.execution_arn, &token.task_id],
        )
        .await?;
    }
    Ok(())
}

/// Claims due, unleased work: rows another node is claiming right now are skipped, not waited on.
pub(crate) async fn claim_due_work(
    tx: &Tx<'_>,
    owner: &str,
    now_millis: i64,
    lease_until_millis: i64,
    limit: usize,
) -> Result<Vec<Work>> {
    let rows = query(
        tx,
        "WITH due AS (
             SELECT id FROM work WHERE due_millis <= $1 AND lease_until <= $1
             ORDER BY due_millis LIMIT $2 FOR UPDATE SKIP LOCKED
         )
         UPDATE work SET lease_owner = $3, lease_until = $4, attempts = work.attempts + 1
         FROM due WHERE work.id = due.id
         RETURNING work.id, work.execution_arn, work.due_millis, work.payload, work.attempts - 1",
        &[&now_millis, &(limit as i64), &owner, &lease_until_millis],
    )
    .await?;
    let mut claimed: Vec<Work> = rows
        .iter()
        .map(|row| Work {
            id: row.get(0),
            execution_arn: row.get(1),
            due_millis: row.get(2),
            payload: row.get(3),
            attempts: row.get::<_, i64>(4) as u32,
            lease_until_millis,
        })
        .collect();
    // UPDATE … RETURNING does not keep the CTE's order.
    claimed.sort_by(|left, right| {
        left.due_millis
            .cmp(&right.due_millis)
            .then_with(|| left.id.cmp(&right.id))
    });
    Ok(claimed)
}
