//! Queues on PostgreSQL: the [`QueueStore`] implementation. Every operation on a queue first
//! locks the queue's row: `FOR KEY SHARE` for a standard queue (so the queue is not deleted
//! under it, while its receives, sends and deletes run side by side), `FOR NO KEY UPDATE` for a
//! FIFO queue (its sequence numbers, deduplication ids and group readiness change one operation
//! at a time, on one node or many). Standard receives claim rows with `FOR UPDATE SKIP LOCKED`.

mod claims;
mod messages;

use std::collections::BTreeMap;

use async_trait::async_trait;
use sluice_store::queues::{
    Deletion, NewMessage, NewQueue, QueueCounts, QueueCreated, QueueRecord, QueueStore, QueueUpdate, Receipt, Receive,
    Sent, StoredMessage, VisibilityChange, VisibilityChanged,
};
use sluice_store::{Error, Result};
use tokio_postgres::Row;

use crate::{PostgresStore, Tx, execute, query, query_one, query_opt, transaction};

/// The queues' tables, as on SQLite: queues; their messages, indexed for receives by
/// visibility, for FIFO receives by group and order, and for expiry; each FIFO group with the
/// time its next message may be received; deduplication ids with the end of their window.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE queues (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    fifo BOOLEAN NOT NULL,
    attributes TEXT NOT NULL,
    tags TEXT NOT NULL,
    created_millis BIGINT NOT NULL,
    modified_millis BIGINT NOT NULL,
    next_sequence BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX queues_by_name ON queues (name COLLATE "C");
CREATE TABLE queue_messages (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue_id BIGINT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL,
    system_attributes TEXT NOT NULL,
    md5_of_body TEXT NOT NULL,
    md5_of_attributes TEXT,
    group_id TEXT,
    deduplication_id TEXT,
    sequence_number BIGINT,
    sent_millis BIGINT NOT NULL,
    visible_millis BIGINT NOT NULL,
    expires_millis BIGINT NOT NULL,
    receive_count BIGINT NOT NULL DEFAULT 0,
    first_received_millis BIGINT
);
CREATE INDEX queue_messages_visible ON queue_messages (queue_id, visible_millis);
CREATE INDEX queue_messages_group ON queue_messages (queue_id, group_id, id) WHERE group_id IS NOT NULL;
CREATE INDEX queue_messages_expiry ON queue_messages (expires_millis);
CREATE TABLE queue_groups (
    queue_id BIGINT NOT NULL,
    group_id TEXT NOT NULL,
    ready_millis BIGINT NOT NULL,
    PRIMARY KEY (queue_id, group_id)
);
CREATE INDEX queue_groups_ready ON queue_groups (queue_id, ready_millis);
CREATE TABLE queue_deduplication (
    queue_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number BIGINT,
    until_millis BIGINT NOT NULL,
    PRIMARY KEY (queue_id, key)
);
CREATE INDEX queue_deduplication_until ON queue_deduplication (until_millis);
"#;

const QUEUE_COLUMNS: &str = "id, name, fifo, attributes, tags, created_millis, modified_millis";

fn decode_queue(row: &Row) -> Result<QueueRecord> {
    Ok(QueueRecord {
        id: row.get(0),
        name: row.get(1),
        fifo: row.get(2),
        attributes: decode_map(row.get(3))?,
        tags: decode_map(row.get(4))?,
        created_millis: row.get(5),
        modified_millis: row.get(6),
    })
}

fn decode_map(text: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text).map_err(|error| Error::Backend(format!("a stored map is not JSON: {error}")))
}

fn encode_map(map: &BTreeMap<String, String>) -> Result<String> {
    serde_json::to_string(map).map_err(|error| Error::Backend(format!("cannot encode a map: {error}")))
}

async fn queue_by_name(tx: &Tx<'_>, name: &str) -> Result<Option<QueueRecord>> {
    let sql = format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE name = $1");
    query_opt(tx, &sql, &[&name])
        .await?
        .as_ref()
        .map(decode_queue)
        .transpose()
}

async fn queue_by_id(tx: &Tx<'_>, id: i64) -> Result<Option<QueueRecord>> {
    let sql = format!("SELECT {QUEUE_COLUMNS} FROM queues WHERE id = $1");
    query_opt(tx, &sql, &[&id])
        .await?
        .as_ref()
        .map(decode_queue)
        .transpose()
}

fn not_found(queue_id: i64) -> Error {
    Error::NotFound {
        what: "queue",
        key: queue_id.to_string(),
    }
}

/// Fails with `NotFound` unless the queue exists, and locks it for the transaction (see the
/// module's doc); answers whether it is FIFO.
pub(crate) async fn require_queue(tx: &Tx<'_>, queue_id: i64) -> Result<bool> {
    let fifo: bool = query_opt(tx, "SELECT fifo FROM queues WHERE id = $1 FOR KEY SHARE", &[&queue_id])
        .await?
        .ok_or_else(|| not_found(queue_id))?
        .get(0);
    if fifo {
        query_opt(tx, "SELECT 1 FROM queues WHERE id = $1 FOR NO KEY UPDATE", &[&queue_id]).await?;
    }
    Ok(fifo)
}

async fn create_queue(tx: &Tx<'_>, queue: &NewQueue) -> Result<QueueCreated> {
    let (attributes, tags) = (encode_map(&queue.attributes)?, encode_map(&queue.tags)?);
    // Of two creates of one name, the second waits for the first and then inserts nothing.
    let inserted = query_opt(
        tx,
        "INSERT INTO queues (name, fifo, attributes, tags, created_millis, modified_millis)
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING RETURNING id",
        &[&queue.name, &queue.fifo, &attributes, &tags, &queue.now_millis],
    )
    .await?;
    match inserted {
        Some(row) => Ok(QueueCreated::New(QueueRecord {
            id: row.get(0),
            name: queue.name.clone(),
            fifo: queue.fifo,
            attributes: queue.attributes.clone(),
            tags: queue.tags.clone(),
            created_millis: queue.now_millis,
            modified_millis: queue.now_millis,
        })),
        None => queue_by_name(tx, &queue.name)
            .await?
            .map(QueueCreated::Existing)
            .ok_or_else(|| Error::Backend(format!("the queue {} vanished while it was created", queue.name))),
    }
}

async fn update_queue(tx: &Tx<'_>, update: &QueueUpdate) -> Result<QueueRecord> {
    let changed = execute(
        tx,
        "UPDATE queues SET attributes = $2, modified_millis = $3 WHERE id = $1",
        &[&update.queue_id, &encode_map(&update.attributes)?, &update.now_millis],
    )
    .await?;
    if changed == 0 {
        return Err(not_found(update.queue_id));
    }
    if let Some(retention) = update.retention_millis {
        execute(
            tx,
            "UPDATE queue_messages SET expires_millis = sent_millis + $2 WHERE queue_id = $1",
            &[&update.queue_id, &retention],
        )
        .await?;
    }
    queue_by_id(tx, update.queue_id)
        .await?
        .ok_or_else(|| not_found(update.queue_id))
}

async fn set_queue_tags(tx: &Tx<'_>, queue_id: i64, tags: &BTreeMap<String, String>) -> Result<()> {
    let changed = execute(
        tx,
        "UPDATE queues SET tags = $2 WHERE id = $1",
        &[&queue_id, &encode_map(tags)?],
    )
    .await?;
    if changed == 0 {
        return Err(not_found(queue_id));
    }
    Ok(())
}

/// Deletes a queue's messages and groups, and the queue too when `queue_itself`.
async fn clear_queue(tx: &Tx<'_>, queue_id: i64, queue_itself: bool) -> Result<()> {
    if queue_itself {
        query_opt(tx, "SELECT 1 FROM queues WHERE id = $1 FOR UPDATE", &[&queue_id])
            .await?
            .ok_or_else(|| not_found(queue_id))?;
    } else {
        query_opt(tx, "SELECT 1 FROM queues WHERE id = $1 FOR NO KEY UPDATE", &[&queue_id])
            .await?
            .ok_or_else(|| not_found(queue_id))?;
    }
    execute(tx, "DELETE FROM queue_messages WHERE queue_id = $1", &[&queue_id]).await?;
    execute(tx, "DELETE FROM queue_groups WHERE queue_id = $1", &[&queue_id]).await?;
    if queue_itself {
        execute(tx, "DELETE FROM queue_deduplication WHERE queue_id = $1", &[&queue_id]).await?;
        execute(tx, "DELETE FROM queues WHERE id = $1", &[&queue_id]).await?;
    }
    Ok(())
}

async fn list_queues(tx: &Tx<'_>, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<QueueRecord>> {
    // The prefix is matched exactly (no LIKE wildcards), in byte order as on SQLite.
    let sql = format!(
        "SELECT {QUEUE_COLUMNS} FROM queues
         WHERE name COLLATE \"C\" >= $1 AND name COLLATE \"C\" > $2 AND starts_with(name, $1)
         ORDER BY name COLLATE \"C\" LIMIT $3"
    );
    let rows = query(tx, &sql, &[&prefix, &after.unwrap_or(""), &(limit as i64)]).await?;
    rows.iter().map(decode_queue).collect()
}

async fn queue_counts(tx: &Tx<'_>, queue_id: i64, now_millis: i64) -> Result<QueueCounts> {
    let row = query_one(
        tx,
        "SELECT COUNT(*) FILTER (WHERE visible_millis <= $2),
                COUNT(*) FILTER (WHERE visible_millis > $2 AND receive_count > 0),
                COUNT(*) FILTER (WHERE visible_millis > $2 AND receive_count = 0)
         FROM queue_messages WHERE queue_id = $1",
        &[&queue_id, &now_millis],
    )
    .await?;
    Ok(QueueCounts {
        visible: row.get::<_, i64>(0) as u64,
        in_flight: row.get::<_, i64>(1) as u64,
        delayed: row.get::<_, i64>(2) as u64,
    })
}

async fn next_visible(tx: &Tx<'_>, queue_id: i64, now_millis: i64) -> Result<Option<i64>> {
    let fifo: bool = query_opt(tx, "SELECT fifo FROM queues WHERE id = $1", &[&queue_id])
        .await?
        .ok_or_else(|| not_found(queue_id))?
        .get(0);
    // A FIFO queue's messages become receivable when their group does.
    let sql = if fifo {
        "SELECT MIN(ready_millis) FROM queue_groups WHERE queue_id = $1 AND ready_millis > $2"
    } else {
        "SELECT MIN(visible_millis) FROM queue_messages WHERE queue_id = $1 AND visible_millis > $2"
    };
    Ok(query_one(tx, sql, &[&queue_id, &now_millis]).await?.get(0))
}

#[async_trait]
impl QueueStore for PostgresStore {
    async fn create_queue(&self, queue: NewQueue) -> Result<QueueCreated> {
        transaction!(self, |tx| create_queue(&tx, &queue).await)
    }

    async fn queue(&self, name: &str) -> Result<Option<QueueRecord>> {
        transaction!(self, |tx| queue_by_name(&tx, name).await)
    }

    async fn queue_by_id(&self, id: i64) -> Result<Option<QueueRecord>> {
        transaction!(self, |tx| queue_by_id(&tx, id).await)
    }

    async fn list_queues(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<QueueRecord>> {
        transaction!(self, |tx| list_queues(&tx, prefix, after, limit).await)
    }

    async fn update_queue(&self, update: QueueUpdate) -> Result<QueueRecord> {
        transaction!(self, |tx| update_queue(&tx, &update).await)
    }

    async fn set_queue_tags(&self, queue_id: i64, tags: BTreeMap<String, String>) -> Result<()> {
        transaction!(self, |tx| set_queue_tags(&tx, queue_id, &tags).await)
    }

    async fn delete_queue(&self, queue_id: i64) -> Result<()> {
        transaction!(self, |tx| clear_queue(&tx, queue_id, true).await)
    }

    async fn purge_queue(&self, queue_id: i64) -> Result<()> {
        transaction!(self, |tx| clear_queue(&tx, queue_id, false).await)
    }

    async fn send_messages(&self, queue_id: i64, messages: Vec<NewMessage>, now_millis: i64) -> Result<Vec<Sent>> {
        transaction!(self, |tx| messages::send(&tx, queue_id, &messages, now_millis).await)
    }

    async fn receive_messages(&self, receive: Receive) -> Result<Vec<StoredMessage>> {
        transaction!(self, |tx| claims::receive(&tx, &receive).await)
    }

    async fn delete_messages(&self, queue_id: i64, receipts: Vec<Receipt>) -> Result<Vec<Deletion>> {
        transaction!(self, |tx| messages::delete(&tx, queue_id, &receipts).await)
    }

    async fn change_visibility(
        &self,
        queue_id: i64,
        changes: Vec<VisibilityChange>,
        now_millis: i64,
    ) -> Result<Vec<VisibilityChanged>> {
        transaction!(self, |tx| messages::change_visibility(
            &tx, queue_id, &changes, now_millis
        )
        .await)
    }

    async fn queue_counts(&self, queue_id: i64, now_millis: i64) -> Result<QueueCounts> {
        transaction!(self, |tx| queue_counts(&tx, queue_id, now_millis).await)
    }

    async fn next_visible(&self, queue_id: i64, now_millis: i64) -> Result<Option<i64>> {
        transaction!(self, |tx| next_visible(&tx, queue_id, now_millis).await)
    }

    async fn expire(&self, now_millis: i64) -> Result<u64> {
        transaction!(self, |tx| messages::expire(&tx, now_millis).await)
    }
}
