//! The reads, run on read-only connections (and by writes that need to look first).

use rusqlite::{Connection, OptionalExtension, Row, params};
use sluice_store::{
    ExecutionFilter, ExecutionRecord, ExecutionStatus, ExecutionSummary, HistoryEvent, HistoryPage, MachineType,
    Result, StateMachineRecord, TaskTokenRecord,
};

use crate::backend;

const MACHINE_COLUMNS: &str = "m.arn, m.name, m.type, r.definition, m.role_arn, m.revision, m.created_millis";

fn machine_row(row: &Row<'_>) -> rusqlite::Result<StateMachineRecord> {
    let machine_type: String = row.get(2)?;
    Ok(StateMachineRecord {
        arn: row.get(0)?,
        name: row.get(1)?,
        machine_type: MachineType::parse(&machine_type).unwrap_or(MachineType::Standard),
        definition: row.get(3)?,
        role_arn: row.get(4)?,
        revision: row.get::<_, i64>(5)? as u64,
        created_millis: row.get(6)?,
    })
}

pub fn state_machine(connection: &Connection, arn: &str) -> Result<Option<StateMachineRecord>> {
    let sql = format!(
        "SELECT {MACHINE_COLUMNS} FROM state_machines m JOIN revisions r ON r.arn = m.arn AND r.revision = m.revision
         WHERE m.arn = ?1 AND m.deleted = 0"
    );
    connection
        .prepare_cached(&sql)
        .and_then(|mut s| s.query_row([arn], machine_row).optional())
        .map_err(backend)
}

pub fn revision(connection: &Connection, arn: &str, revision: u64) -> Result<Option<String>> {
    connection
        .prepare_cached("SELECT definition FROM revisions WHERE arn = ?1 AND revision = ?2")
        .and_then(|mut s| s.query_row(params![arn, revision as i64], |row| row.get(0)).optional())
        .map_err(backend)
}

pub fn list_state_machines(
    connection: &Connection,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<StateMachineRecord>> {
    let sql = format!(
        "SELECT {MACHINE_COLUMNS} FROM state_machines m JOIN revisions r ON r.arn = m.arn AND r.revision = m.revision
         WHERE m.deleted = 0 AND m.name > ?1 ORDER BY m.name LIMIT ?2"
    );
    connection
        .prepare_cached(&sql)
        .and_then(|mut s| {
            s.query_map(params![after.unwrap_or(""), limit as i64], machine_row)?
                .collect()
        })
        .map_err(backend)
}

fn status(text: &str) -> ExecutionStatus {
    ExecutionStatus::parse(text).unwrap_or(ExecutionStatus::Running)
}

pub fn execution(connection: &Connection, arn: &str) -> Result<Option<ExecutionRecord>> {
    connection
        .prepare_cached(
            "SELECT arn, state_machine_arn, revision, name, status, input, output, error, cause, start_millis,
                    stop_millis, version, snapshot, parent_arn
             FROM executions WHERE arn = ?1",
        )
        .and_then(|mut s| {
            s.query_row([arn], |row| {
                Ok(ExecutionRecord {
                    arn: row.get(0)?,
                    state_machine_arn: row.get(1)?,
                    revision: row.get::<_, i64>(2)? as u64,
                    name: row.get(3)?,
                    status: status(&row.get::<_, String>(4)?),
                    input: row.get(5)?,
                    output: row.get(6)?,
                    error: row.get(7)?,
                    cause: row.get(8)?,
                    start_millis: row.get(9)?,
                    stop_millis: row.get(10)?,
                    version: row.get::<_, i64>(11)? as u64,
                    snapshot: row.get(12)?,
                    parent_arn: row.get(13)?,
                })
            })
            .optional()
        })
        .map_err(backend)
}

pub fn list_executions(connection: &Connection, filter: &ExecutionFilter) -> Result<Vec<ExecutionSummary>> {
    let (after_start, after_arn) = match &filter.after {
        Some((start, arn)) => (*start, arn.as_str()),
        None => (i64::MAX, ""),
    };
    let sql = "SELECT arn, state_machine_arn, name, status, start_millis, stop_millis FROM executions
         WHERE (?1 IS NULL OR state_machine_arn = ?1) AND (?2 IS NULL OR status = ?2)
           AND (start_millis < ?3 OR (start_millis = ?3 AND arn < ?4) OR ?4 = '')
         ORDER BY start_millis DESC, arn DESC LIMIT ?5";
    connection
        .prepare_cached(sql)
        .and_then(|mut s| {
            s.query_map(
                params![
                    filter.state_machine_arn,
                    filter.status.map(ExecutionStatus::as_str),
                    after_start,
                    after_arn,
                    filter.limit as i64
                ],
                |row| {
                    Ok(ExecutionSummary {
                        arn: row.get(0)?,
                        state_machine_arn: row.get(1)?,
                        name: row.get(2)?,
                        status: status(&row.get::<_, String>(3)?),
                        start_millis: row.get(4)?,
                        stop_millis: row.get(5)?,
                    })
                },
            )?
            .collect()
        })
        .map_err(backend)
}

pub fn history(connection: &Connection, arn: &str, page: HistoryPage) -> Result<Vec<HistoryEvent>> {
    let sql = if page.reverse {
        "SELECT id, previous_id, timestamp_millis, type, details FROM history
         WHERE execution_arn = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3"
    } else {
        "SELECT id, previous_id, timestamp_millis, type, details FROM history
         WHERE execution_arn = ?1 AND id > ?2 ORDER BY id LIMIT ?3"
    };
    let bound = match (page.after_event_id, page.reverse) {
        (Some(id), _) => id as i64,
        (None, false) => 0,
        (None, true) => i64::MAX,
    };
    connection
        .prepare_cached(sql)
        .and_then(|mut s| {
            s.query_map(params![arn, bound, page.limit as i64], |row| {
                Ok(HistoryEvent {
                    id: row.get::<_, i64>(0)? as u64,
                    previous_event_id: row.get::<_, i64>(1)? as u64,
                    timestamp_millis: row.get(2)?,
                    event_type: row.get(3)?,
                    details: row.get(4)?,
                })
            })?
            .collect()
        })
        .map_err(backend)
}

pub fn next_due(connection: &Connection) -> Result<Option<i64>> {
    connection
        .query_row("SELECT MIN(MAX(due_millis, lease_until)) FROM work", [], |row| {
            row.get(0)
        })
        .map_err(backend)
}

pub fn task_token(connection: &Connection, token: &str) -> Result<Option<TaskTokenRecord>> {
    connection
        .prepare_cached("SELECT token, execution_arn, task_id FROM task_tokens WHERE token = ?1")
        .and_then(|mut s| {
            s.query_row([token], |row| {
                Ok(TaskTokenRecord {
                    token: row.get(0)?,
                    execution_arn: row.get(1)?,
                    task_id: row.get(2)?,
                })
            })
            .optional()
        })
        .map_err(backend)
}

pub fn running_executions(connection: &Connection) -> Result<Vec<String>> {
    connection
        .prepare_cached("SELECT arn FROM executions WHERE status = 'RUNNING'")
        .and_then(|mut s| s.query_map([], |row| row.get(0))?.collect())
        .map_err(backend)
}
