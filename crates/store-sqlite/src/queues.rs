//! Queues on SQLite: the [`QueueStore`] implementation. Every change goes through the writer
//! thread, so that sends, receives and deletes of many callers share commits; a receive is a
//! write (it claims messages), so two receives never claim the same message. Queue lookups and
//! counts read on the read connections.

mod claims;
mod messages;

use std::collections::BTreeMap;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use sluice_store::queues::{
    Deletion, NewMessage, NewQueue, QueueCounts, QueueCreated, QueueRecord, QueueStore, QueueUpdate, Receipt, Receive,
    Sent, StoredMessage, VisibilityChange, VisibilityChanged,
};
use sluice_store::{Error, Result};

use crate::{SqliteStore, backend};

/// The queues' tables: queues; their messages, indexed for receives by visibility, for FIFO
/// receives by group and order, and for expiry; each FIFO group with the time its next message
/// may be received; deduplication ids with the end of their window.
pub(crate) const MIGRATION: &str = r"
CREATE TABLE queues (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    fifo INTEGER NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_millis INTEGER NOT NULL,
    modified_millis INTEGER NOT NULL,
    next_sequence INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE queue_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue_id INTEGER NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    system_attributes TEXT NOT NULL,
    md5_of_body TEXT NOT NULL,
    md5_of_attributes TEXT,
    group_id TEXT,
    deduplication_id TEXT,
    sequence_number INTEGER,
    sent_millis INTEGER NOT NULL,
    visible_millis INTEGER NOT NULL,
    expires_millis INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    first_received_millis INTEGER
);
CREATE INDEX queue_messages_visible ON queue_messages (queue_id, visible_millis);
CREATE INDEX queue_messages_group ON queue_messages (queue_id, group_id, id) WHERE group_id IS NOT NULL;
CREATE INDEX queue_messages_expiry ON queue_messages (expires_millis);
CREATE TABLE queue_groups (
    queue_id INTEGER NOT NULL,
    group_id TEXT NOT NULL,
    ready_millis INTEGER NOT NULL,
    PRIMARY KEY (queue_id, group_id)
) WITHOUT ROWID;
CREATE INDEX queue_groups_ready ON queue_groups (queue_id, ready_millis);
CREATE TABLE queue_deduplication (
    queue_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number INTEGER,
    until_millis INTEGER NOT NULL,
    PRIMARY KEY (queue_id, key)
) WITHOUT ROWID;
CREATE INDEX queue_deduplication_until ON queue_deduplication (until_millis);
";

const QUEUE_COLUMNS: &str = "id, name, fifo, attributes, tags, created_millis, modified_millis";

fn queue_row(row: &Row<'_>) -> rusqlite::Result<(QueueRecord, String, String)> {
    Ok((
        QueueRecord {
            id: row.get(0)?,
            name: row.get(1)?,
            fifo: row.get(2)?,
            attributes: BTreeMap::new(),
            tags: BTreeMap::new(),
            created_millis: row.get(5)?,
            modified_millis: row.get(6)?,
        },
        row.get(3)?,
        row.get(4)?,
    ))
}

/// Fills in the attribute and tag maps kept as JSON text.
fn decode_queue((mut queue, attributes, tags): (QueueRecord, String, String)) -> Result<QueueRecord> {
    queue.attributes = decode_map(&attributes)?;
    queue.tags = decode_map(&tags)?;
    Ok(queue)
}

fn decode_map(text: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text).map_err(|error| Error::Backend(format!("a stored map is not JSON: {error}")))
}

fn encode_map(map: &BTreeMap<String, String>) -> Result<String> {
    serde_json::to_string(map).map_err(|error| Error::Backend(format!("cannot encode a map: {error}")))
}

pub(crate) fn queue_by_name(connection: &Connection, name: &str) -> Result<Option<QueueRecord>> {
    let sql = format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE name = ?1");
    let row = connection
        .prepare_cached(&sql)
        .and_then(|mut statement| statement.query_row([name], queue_row).optional())
        .map_err(backend)?;
    row.map(decode_queue).transpose()
}

pub(crate) fn queue_by_id(connection: &Connection, id: i64) -> Result<Option<QueueRecord>> {
    let sql = format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE id = ?1");
    let row = connection
        .prepare_cached(&sql)
        .and_then(|mut statement| statement.query_row([id], queue_row).optional())
        .map_err(backend)?;
    row.map(decode_queue).transpose()
}

fn not_found(queue_id: i64) -> Error {
    Error::NotFound {
        what: "queue",
        key: queue_id.to_string(),
    }
}

/// Fails with `NotFound` unless the queue exists; answers whether it is FIFO.
pub(crate) fn require_queue(connection: &Connection, queue_id: i64) -> Result<bool> {
    connection
        .prepare_cached("SELECT fifo FROM queues WHERE id = ?1")
        .and_then(|mut statement| statement.query_row([queue_id], |row| row.get(0)).optional())
        .map_err(backend)?
        .ok_or_else(|| not_found(queue_id))
}

fn create_queue(connection: &Connection, queue: &NewQueue) -> Result<QueueCreated> {
    if let Some(existing) = queue_by_name(connection, &queue.name)? {
        return Ok(QueueCreated::Existing(existing));
    }
    let (attributes, tags) = (encode_map(&queue.attributes)?, encode_map(&queue.tags)?);
    connection
        .prepare_cached(
            "INSERT INTO queues (name, fifo, attributes, tags, created_millis, modified_millis)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )
        .and_then(|mut statement| {
            statement.execute(params![queue.name, queue.fifo, attributes, tags, queue.now_millis])
        })
        .map_err(backend)?;
    Ok(QueueCreated::New(QueueRecord {
        id: connection.last_insert_rowid(),
        name: queue.name.clone(),
        fifo: queue.fifo,
        attributes: queue.attributes.clone(),
        tags: queue.tags.clone(),
        created_millis: queue.now_millis,
        modified_millis: queue.now_millis,
    }))
}

fn update_queue(connection: &Connection, update: &QueueUpdate) -> Result<QueueRecord> {
    let changed = connection
        .execute(
            "UPDATE queues SET attributes = ?2, modified_millis = ?3 WHERE id = ?1",
            params![update.queue_id, encode_map(&update.attributes)?, update.now_millis],
        )
        .map_err(backend)?;
    if changed == 0 {
        return Err(not_found(update.queue_id));
    }
    if let Some(retention) = update.retention_millis {
        connection
            .execute(
                "UPDATE queue_messages SET expires_millis = sent_millis + ?2 WHERE queue_id = ?1",
                params![update.queue_id, retention],
            )
            .map_err(backend)?;
    }
    queue_by_id(connection, update.queue_id)?.ok_or_else(|| not_found(update.queue_id))
}

fn set_queue_tags(connection: &Connection, queue_id: i64, tags: &BTreeMap<String, String>) -> Result<()> {
    let changed = connection
        .execute(
            "UPDATE queues SET tags = ?2 WHERE id = ?1",
            params![queue_id, encode_map(tags)?],
        )
        .map_err(backend)?;
    if changed == 0 {
        return Err(not_found(queue_id));
    }
    Ok(())
}

/// Deletes a queue's messages and groups, and the queue too when `queue_itself`.
fn clear_queue(connection: &Connection, queue_id: i64, queue_itself: bool) -> Result<()> {
    require_queue(connection, queue_id)?;
    for sql in [
        "DELETE FROM queue_messages WHERE queue_id = ?1",
        "DELETE FROM queue_groups WHERE queue_id = ?1",
    ] {
        connection.execute(sql, [queue_id]).map_err(backend)?;
    }
    if queue_itself {
        connection
            .execute("DELETE FROM queue_deduplication WHERE queue_id = ?1", [queue_id])
            .map_err(backend)?;
        connection
            .execute("DELETE FROM queues WHERE id = ?1", [queue_id])
            .map_err(backend)?;
    }
    Ok(())
}

fn list_queues(connection: &Connection, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<QueueRecord>> {
    // The prefix is matched exactly (no LIKE wildcards): names from `prefix` up to the first
    // name that no longer starts with it.
    let sql = format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE name >= ?1 AND name > ?2 ORDER BY name");
    let mut statement = connection.prepare_cached(&sql).map_err(backend)?;
    let mut rows = statement.query(params![prefix, after.unwrap_or("")]).map_err(backend)?;
    let mut queues = Vec::new();
    while queues.len() < limit {
        let Some(row) = rows.next().map_err(backend)? else {
            break;
        };
        let queue = decode_queue(queue_row(row).map_err(backend)?)?;
        if !queue.name.starts_with(prefix) {
            break;
        }
        queues.push(queue);
    }
    Ok(queues)
}

fn queue_counts(connection: &Connection, queue_id: i64, now_millis: i64) -> Result<QueueCounts> {
    let visible: i64 = connection
        .prepare_cached("SELECT COUNT(*) FROM queue_messages WHERE queue_id = ?1 AND visible_millis <= ?2")
        .and_then(|mut statement| statement.query_row(params![queue_id, now_millis], |row| row.get(0)))
        .map_err(backend)?;
    let (in_flight, delayed): (i64, i64) = connection
        .prepare_cached(
            "SELECT COALESCE(SUM(receive_count > 0), 0), COALESCE(SUM(receive_count = 0), 0)
             FROM queue_messages WHERE queue_id = ?1 AND visible_millis > ?2",
        )
        .and_then(|mut statement| {
            statement.query_row(params![queue_id, now_millis], |row| Ok((row.get(0)?, row.get(1)?)))
        })
        .map_err(backend)?;
    Ok(QueueCounts {
        visible: visible as u64,
        in_flight: in_flight as u64,
        delayed: delayed as u64,
    })
}

fn next_visible(connection: &Connection, queue_id: i64, now_millis: i64) -> Result<Option<i64>> {
    let fifo = require_queue(connection, queue_id)?;
    // A FIFO queue's messages become receivable when their group does.
    let sql = if fifo {
        "SELECT MIN(ready_millis) FROM queue_groups WHERE queue_id = ?1 AND ready_millis > ?2"
    } else {
        "SELECT MIN(visible_millis) FROM queue_messages WHERE queue_id = ?1 AND visible_millis > ?2"
    };
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.query_row(params![queue_id, now_millis], |row| row.get(0)))
        .map_err(backend)
}

#[async_trait]
impl QueueStore for SqliteStore {
    async fn create_queue(&self, queue: NewQueue) -> Result<QueueCreated> {
        self.writer
            .write(move |connection| create_queue(connection, &queue))
            .await
    }

    async fn queue(&self, name: &str) -> Result<Option<QueueRecord>> {
        let name = name.to_owned();
        self.read(move |connection| queue_by_name(connection, &name)).await
    }

    async fn queue_by_id(&self, id: i64) -> Result<Option<QueueRecord>> {
        self.read(move |connection| queue_by_id(connection, id)).await
    }

    async fn list_queues(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<QueueRecord>> {
        let prefix = prefix.to_owned();
        let after = after.map(str::to_owned);
        self.read(move |connection| list_queues(connection, &prefix, after.as_deref(), limit))
            .await
    }

    async fn update_queue(&self, update: QueueUpdate) -> Result<QueueRecord> {
        self.writer
            .write(move |connection| update_queue(connection, &update))
            .await
    }

    async fn set_queue_tags(&self, queue_id: i64, tags: BTreeMap<String, String>) -> Result<()> {
        self.writer
            .write(move |connection| set_queue_tags(connection, queue_id, &tags))
            .await
    }

    async fn delete_queue(&self, queue_id: i64) -> Result<()> {
        self.writer
            .write(move |connection| clear_queue(connection, queue_id, true))
            .await
    }

    async fn purge_queue(&self, queue_id: i64) -> Result<()> {
        self.writer
            .write(move |connection| clear_queue(connection, queue_id, false))
            .await
    }

    async fn send_messages(&self, queue_id: i64, messages: Vec<NewMessage>, now_millis: i64) -> Result<Vec<Sent>> {
        self.writer
            .write(move |connection| messages::send(connection, queue_id, &messages, now_millis))
            .await
    }

    async fn receive_messages(&self, receive: Receive) -> Result<Vec<StoredMessage>> {
        self.writer
            .write(move |connection| claims::receive(connection, &receive))
            .await
    }

    async fn delete_messages(&self, queue_id: i64, receipts: Vec<Receipt>) -> Result<Vec<Deletion>> {
        self.writer
            .write(move |connection| messages::delete(connection, queue_id, &receipts))
            .await
    }

    async fn change_visibility(
        &self,
        queue_id: i64,
        changes: Vec<VisibilityChange>,
        now_millis: i64,
    ) -> Result<Vec<VisibilityChanged>> {
        self.writer
            .write(move |connection| messages::change_visibility(connection, queue_id, &changes, now_millis))
            .await
    }

    async fn queue_counts(&self, queue_id: i64, now_millis: i64) -> Result<QueueCounts> {
        self.read(move |connection| queue_counts(connection, queue_id, now_millis))
            .await
    }

    async fn next_visible(&self, queue_id: i64, now_millis: i64) -> Result<Option<i64>> {
        self.read(move |connection| next_visible(connection, queue_id, now_millis))
            .await
    }

    async fn expire(&self, now_millis: i64) -> Result<u64> {
        self.writer
            .write(move |connection| messages::expire(connection, now_millis))
            .await
    }
}
