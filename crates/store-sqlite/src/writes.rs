//! The writes, each run by the writer thread inside its own savepoint.

use rusqlite::{Connection, OptionalExtension, params};
use sluice_store::{
    Advance, Error, ExecutionStart, ExecutionStatus, HistoryEvent, Result, Started, StateMachineRecord,
    StateMachineUpdate, TaskTokenRecord, Work,
};

use crate::{backend, reads};

pub fn create_state_machine(connection: &Connection, machine: &StateMachineRecord) -> Result<()> {
    let existing: Option<i64> = connection
        .query_row(
            "SELECT deleted FROM state_machines WHERE arn = ?1",
            [&machine.arn],
            |row| row.get(0),
        )
        .optional()
        .map_err(backend)?;
    match existing {
        Some(0) => {
            return Err(Error::AlreadyExists {
                what: "state machine",
                key: machine.arn.clone(),
            });
        }
        Some(_) => {
            // A deleted machine's name can be used again; its old revisions go.
            connection
                .execute("DELETE FROM state_machines WHERE arn = ?1", [&machine.arn])
                .map_err(backend)?;
            connection
                .execute("DELETE FROM revisions WHERE arn = ?1", [&machine.arn])
                .map_err(backend)?;
        }
        None => {}
    }
    connection
        .prepare_cached(
            "INSERT INTO state_machines (arn, name, type, role_arn, revision, created_millis) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                machine.arn,
                machine.name,
                machine.machine_type.as_str(),
                machine.role_arn,
                machine.revision as i64,
                machine.created_millis
            ])
        })
        .map_err(backend)?;
    connection
        .execute(
            "INSERT INTO revisions (arn, revision, definition) VALUES (?1, ?2, ?3)",
            params![machine.arn, machine.revision as i64, machine.definition],
        )
        .map_err(backend)?;
    Ok(())
}

pub fn update_state_machine(connection: &Connection, update: &StateMachineUpdate) -> Result<StateMachineRecord> {
    let Some(mut machine) = reads::state_machine(connection, &update.arn)? else {
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
        connection
            .execute(
                "INSERT INTO revisions (arn, revision, definition) VALUES (?1, ?2, ?3)",
                params![machine.arn, machine.revision as i64, machine.definition],
            )
            .map_err(backend)?;
    }
    connection
        .execute(
            "UPDATE state_machines SET role_arn = ?2, revision = ?3 WHERE arn = ?1",
            params![machine.arn, machine.role_arn, machine.revision as i64],
        )
        .map_err(backend)?;
    Ok(machine)
}

pub fn delete_state_machine(connection: &Connection, arn: &str) -> Result<()> {
    let changed = connection
        .execute(
            "UPDATE state_machines SET deleted = 1 WHERE arn = ?1 AND deleted = 0",
            [arn],
        )
        .map_err(backend)?;
    if changed == 0 {
        return Err(Error::NotFound {
            what: "state machine",
            key: arn.to_owned(),
        });
    }
    Ok(())
}

pub fn start_execution(connection: &Connection, start: &ExecutionStart) -> Result<Started> {
    let record = &start.record;
    if let Some(existing) = reads::execution(connection, &record.arn)? {
        return Ok(Started::Existing(Box::new(existing)));
    }
    connection
        .prepare_cached(
            "INSERT INTO executions (arn, state_machine_arn, revision, name, status, input, output, error, cause,
                 start_millis, stop_millis, version, snapshot, parent_arn)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                record.arn,
                record.state_machine_arn,
                record.revision as i64,
                record.name,
                record.status.as_str(),
                record.input,
                record.output,
                record.error,
                record.cause,
                record.start_millis,
                record.stop_millis,
                record.version as i64,
                record.snapshot,
                record.parent_arn,
            ])
        })
        .map_err(backend)?;
    append(connection, &record.arn, &start.events, &start.work, &start.tokens)?;
    Ok(Started::New)
}

/// Applies each advance in its own savepoint, so a version conflict undoes only that one.
pub fn advance_all(connection: &Connection, advances: &[Advance]) -> Result<Vec<Result<()>>> {
    let mut results = Vec::with_capacity(advances.len());
    for advance in advances {
        connection.execute_batch("SAVEPOINT advance").map_err(backend)?;
        let result = advance_one(connection, advance);
        if result.is_err() {
            connection.execute_batch("ROLLBACK TO advance").map_err(backend)?;
        }
        connection.execute_batch("RELEASE advance").map_err(backend)?;
        results.push(result);
    }
    Ok(results)
}

fn advance_one(connection: &Connection, advance: &Advance) -> Result<()> {
    let changed = connection
        .prepare_cached(
            "UPDATE executions SET status = ?3, output = ?4, error = ?5, cause = ?6, stop_millis = ?7, snapshot = ?8,
                 version = version + 1
             WHERE arn = ?1 AND version = ?2",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                advance.arn,
                advance.expected_version as i64,
                advance.status.as_str(),
                advance.output,
                advance.error,
                advance.cause,
                advance.stop_millis,
                advance.snapshot,
            ])
        })
        .map_err(backend)?;
    if changed == 0 {
        let actual: Option<i64> = connection
            .query_row("SELECT version FROM executions WHERE arn = ?1", [&advance.arn], |row| {
                row.get(0)
            })
            .optional()
            .map_err(backend)?;
        return Err(match actual {
            Some(actual) => Error::VersionConflict {
                arn: advance.arn.clone(),
                expected: advance.expected_version,
                actual: actual as u64,
            },
            None => Error::NotFound {
                what: "execution",
                key: advance.arn.clone(),
            },
        });
    }
    for id in &advance.done_work {
        connection
            .prepare_cached("DELETE FROM work WHERE id = ?1")
            .and_then(|mut s| s.execute([id]))
            .map_err(backend)?;
    }
    for token in &advance.remove_tokens {
        connection
            .prepare_cached("DELETE FROM task_tokens WHERE token = ?1")
            .and_then(|mut s| s.execute([token]))
            .map_err(backend)?;
    }
    if advance.status != ExecutionStatus::Running {
        // A stopped execution has nothing left to do and no token left to answer.
        connection
            .execute("DELETE FROM work WHERE execution_arn = ?1", [&advance.arn])
            .map_err(backend)?;
        connection
            .execute("DELETE FROM task_tokens WHERE execution_arn = ?1", [&advance.arn])
            .map_err(backend)?;
        return append(connection, &advance.arn, &advance.events, &[], &[]);
    }
    append(
        connection,
        &advance.arn,
        &advance.events,
        &advance.add_work,
        &advance.add_tokens,
    )
}

/// Appends events, work and tokens of an execution.
fn append(
    connection: &Connection,
    arn: &str,
    events: &[HistoryEvent],
    work: &[Work],
    tokens: &[TaskTokenRecord],
) -> Result<()> {
    if !events.is_empty() {
        let mut statement = connection
            .prepare_cached(
                "INSERT INTO history (execution_arn, id, previous_id, timestamp_millis, type, details)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(backend)?;
        for event in events {
            statement
                .execute(params![
                    arn,
                    event.id as i64,
                    event.previous_event_id as i64,
                    event.timestamp_millis,
                    event.event_type,
                    event.details
                ])
                .map_err(|error| match error {
                    rusqlite::Error::SqliteFailure(failure, _)
                        if failure.code == rusqlite::ErrorCode::ConstraintViolation =>
                    {
                        Error::AlreadyExists {
                            what: "history event",
                            key: format!("{arn}#{}", event.id),
                        }
                    }
                    other => backend(other),
                })?;
        }
    }
    for item in work {
        connection
            .prepare_cached(
                "INSERT INTO work (id, execution_arn, due_millis, payload, attempts, lease_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    item.id,
                    item.execution_arn,
                    item.due_millis,
                    item.payload,
                    item.attempts,
                    item.lease_until_millis
                ])
            })
            .map_err(backend)?;
    }
    for token in tokens {
        connection
            .prepare_cached("INSERT INTO task_tokens (token, execution_arn, task_id) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![token.token, token.execution_arn, token.task_id]))
            .map_err(backend)?;
    }
    Ok(())
}

pub fn release_leases(connection: &Connection) -> Result<()> {
    connection
        .execute(
            "UPDATE work SET lease_owner = NULL, lease_until = 0 WHERE lease_until > 0",
            [],
        )
        .map_err(backend)?;
    Ok(())
}

pub fn renew_leases(connection: &Connection, ids: &[String], lease_until_millis: i64) -> Result<()> {
    let mut statement = connection
        .prepare_cached("UPDATE work SET lease_until = ?2 WHERE id = ?1 AND lease_until > 0")
        .map_err(backend)?;
    for id in ids {
        statement
            .execute(rusqlite::params![id, lease_until_millis])
            .map_err(backend)?;
    }
    Ok(())
}

pub fn claim_due_work(
    connection: &Connection,
    owner: &str,
    now_millis: i64,
    lease_until_millis: i64,
    limit: usize,
) -> Result<Vec<Work>> {
    let mut statement = connection
        .prepare_cached(
            "SELECT id, execution_arn, due_millis, payload, attempts FROM work
             WHERE due_millis <= ?1 AND lease_until <= ?1 ORDER BY due_millis LIMIT ?2",
        )
        .map_err(backend)?;
    let claimed: Vec<Work> = statement
        .query_map(params![now_millis, limit as i64], |row| {
            Ok(Work {
                id: row.get(0)?,
                execution_arn: row.get(1)?,
                due_millis: row.get(2)?,
                payload: row.get(3)?,
                attempts: row.get(4)?,
                lease_until_millis,
            })
        })
        .and_then(Iterator::collect)
        .map_err(backend)?;
    let mut lease = connection
        .prepare_cached("UPDATE work SET lease_owner = ?2, lease_until = ?3, attempts = attempts + 1 WHERE id = ?1")
        .map_err(backend)?;
    for item in &claimed {
        lease
            .execute(params![item.id, owner, lease_until_millis])
            .map_err(backend)?;
    }
    Ok(claimed)
}
