//! Sending, deleting, changing visibility and expiring messages, and keeping each FIFO group's
//! `ready_millis` (when its next message may be received) true after each change.

use sluice_store::Result;
use sluice_store::queues::{Deletion, NewMessage, Receipt, Sent, VisibilityChange, VisibilityChanged};

use super::require_queue;
use crate::{Tx, execute, query, query_one, query_opt};

/// Sends messages to a queue in order: FIFO queues number them; a deduplication key seen
/// within its window answers with the original and stores nothing.
pub(crate) async fn send(tx: &Tx<'_>, queue_id: i64, messages: &[NewMessage], now_millis: i64) -> Result<Vec<Sent>> {
    let fifo = require_queue(tx, queue_id).await?;
    let mut results = Vec::with_capacity(messages.len());
    for message in messages {
        if let Some(key) = &message.deduplication_key {
            let original = query_opt(
                tx,
                "SELECT message_id, sequence_number FROM queue_deduplication
                 WHERE queue_id = $1 AND key = $2 AND until_millis > $3",
                &[&queue_id, key, &now_millis],
            )
            .await?;
            if let Some(row) = original {
                results.push(Sent {
                    message_id: row.get(0),
                    sequence_number: row.get::<_, Option<i64>>(1).map(|number| number as u64),
                    duplicate: true,
                });
                continue;
            }
        }
        let sequence_number = if fifo {
            Some(next_sequence(tx, queue_id).await?)
        } else {
            None
        };
        insert(tx, queue_id, message, sequence_number, 0).await?;
        if let Some(key) = &message.deduplication_key {
            execute(
                tx,
                "INSERT INTO queue_deduplication (queue_id, key, message_id, sequence_number, until_millis)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (queue_id, key) DO UPDATE SET message_id = excluded.message_id,
                     sequence_number = excluded.sequence_number, until_millis = excluded.until_millis",
                &[
                    &queue_id,
                    key,
                    &message.message_id,
                    &sequence_number,
                    &message.deduplication_until_millis,
                ],
            )
            .await?;
        }
        results.push(Sent {
            message_id: message.message_id.clone(),
            sequence_number: sequence_number.map(|number| number as u64),
            duplicate: false,
        });
    }
    Ok(results)
}

/// Takes a FIFO queue's next sequence number.
pub(crate) async fn next_sequence(tx: &Tx<'_>, queue_id: i64) -> Result<i64> {
    Ok(query_one(
        tx,
        "UPDATE queues SET next_sequence = next_sequence + 1 WHERE id = $1 RETURNING next_sequence - 1",
        &[&queue_id],
    )
    .await?
    .get(0))
}

/// Inserts one message row (and its FIFO group, if the group is new).
pub(crate) async fn insert(
    tx: &Tx<'_>,
    queue_id: i64,
    message: &NewMessage,
    sequence_number: Option<i64>,
    receive_count: i64,
) -> Result<()> {
    execute(
        tx,
        "INSERT INTO queue_messages (queue_id, message_id, body, attributes, system_attributes, md5_of_body,
             md5_of_attributes, group_id, deduplication_id, sequence_number, sent_millis, visible_millis,
             expires_millis, receive_count)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            &queue_id,
            &message.message_id,
            &message.body,
            &message.attributes,
            &message.system_attributes,
            &message.md5_of_body,
            &message.md5_of_attributes,
            &message.group_id,
            &message.deduplication_id,
            &sequence_number,
            &message.sent_millis,
            &message.visible_millis,
            &message.expires_millis,
            &receive_count,
        ],
    )
    .await?;
    if let Some(group) = &message.group_id {
        // A group that has messages keeps its readiness (its head is older); a new one is ready
        // when this message is visible.
        execute(
            tx,
            "INSERT INTO queue_groups (queue_id, group_id, ready_millis) VALUES ($1, $2, $3)
             ON CONFLICT (queue_id, group_id) DO NOTHING",
            &[&queue_id, group, &message.visible_millis],
        )
        .await?;
    }
    Ok(())
}

/// Recomputes when a FIFO group's next message may be received, or drops the group when it has
/// no message left. Messages are received from the head of their group in order, so the ones
/// received (and maybe in flight) are always the group's first: the group is ready when all of
/// those are visible again, or, when none was received, when its head is visible.
pub(crate) async fn refresh_group(tx: &Tx<'_>, queue_id: i64, group: &str) -> Result<()> {
    let row = query_one(
        tx,
        "WITH head AS (
             SELECT MIN(id) AS id FROM queue_messages WHERE queue_id = $1 AND group_id = $2 AND receive_count = 0
         )
         SELECT (SELECT MAX(visible_millis) FROM queue_messages, head
                 WHERE queue_id = $1 AND group_id = $2 AND receive_count > 0 AND (head.id IS NULL OR queue_messages.id < head.id)),
                (SELECT visible_millis FROM queue_messages, head WHERE queue_messages.id = head.id)",
        &[&queue_id, &group],
    )
    .await?;
    let received: Option<i64> = row.get(0);
    let head: Option<i64> = row.get(1);
    let ready = received.or(head);
    match ready {
        Some(ready) => {
            execute(
                tx,
                "INSERT INTO queue_groups (queue_id, group_id, ready_millis) VALUES ($1, $2, $3)
                 ON CONFLICT (queue_id, group_id) DO UPDATE SET ready_millis = excluded.ready_millis",
                &[&queue_id, &group, &ready],
            )
            .await?
        }
        None => {
            execute(
                tx,
                "DELETE FROM queue_groups WHERE queue_id = $1 AND group_id = $2",
                &[&queue_id, &group],
            )
            .await?
        }
    };
    Ok(())
}

/// A message's queue, receive count, visibility and group, locked until the transaction ends.
async fn message_state(tx: &Tx<'_>, row: i64) -> Result<Option<(i64, i64, i64, Option<String>)>> {
    Ok(query_opt(
        tx,
        "SELECT queue_id, receive_count, visible_millis, group_id FROM queue_messages WHERE id = $1 FOR UPDATE",
        &[&row],
    )
    .await?
    .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3))))
}

/// Deletes messages by their latest receipt; any other receipt changes nothing.
pub(crate) async fn delete(tx: &Tx<'_>, queue_id: i64, receipts: &[Receipt]) -> Result<Vec<Deletion>> {
    require_queue(tx, queue_id).await?;
    let mut results = Vec::with_capacity(receipts.len());
    for receipt in receipts {
        let state = message_state(tx, receipt.message).await?;
        let Some((_, _, _, group)) =
            state.filter(|(queue, count, _, _)| *queue == queue_id && *count == i64::from(receipt.receive_count))
        else {
            results.push(Deletion::Stale);
            continue;
        };
        execute(tx, "DELETE FROM queue_messages WHERE id = $1", &[&receipt.message]).await?;
        if let Some(group) = group {
            refresh_group(tx, queue_id, &group).await?;
        }
        results.push(Deletion::Deleted);
    }
    Ok(results)
}

/// Changes how long received messages stay invisible, counting from now.
pub(crate) async fn change_visibility(
    tx: &Tx<'_>,
    queue_id: i64,
    changes: &[VisibilityChange],
    now_millis: i64,
) -> Result<Vec<VisibilityChanged>> {
    require_queue(tx, queue_id).await?;
    let mut results = Vec::with_capacity(changes.len());
    for change in changes {
        let state = message_state(tx, change.receipt.message).await?;
        let Some((_, _, visible, group)) = state
            .filter(|(queue, count, _, _)| *queue == queue_id && *count == i64::from(change.receipt.receive_count))
        else {
            results.push(VisibilityChanged::Stale);
            continue;
        };
        if visible <= now_millis {
            results.push(VisibilityChanged::NotInFlight);
            continue;
        }
        execute(
            tx,
            "UPDATE queue_messages SET visible_millis = $2 WHERE id = $1",
            &[&change.receipt.message, &change.visible_until_millis],
        )
        .await?;
        if let Some(group) = group {
            refresh_group(tx, queue_id, &group).await?;
        }
        results.push(VisibilityChanged::Changed);
    }
    Ok(results)
}

/// Drops messages past their retention (a bounded number per call) and deduplication ids past
/// their window. FIFO queues with expired messages are locked first, as their other writes do.
pub(crate) async fn expire(tx: &Tx<'_>, now_millis: i64) -> Result<u64> {
    const MOST: i64 = 10_000;
    execute(
        tx,
        "SELECT 1 FROM queues WHERE fifo AND id IN (
             SELECT DISTINCT queue_id FROM queue_messages WHERE expires_millis <= $1 AND group_id IS NOT NULL
         ) ORDER BY id FOR NO KEY UPDATE",
        &[&now_millis],
    )
    .await?;
    let expired = query(
        tx,
        "DELETE FROM queue_messages WHERE id IN (
             SELECT id FROM queue_messages WHERE expires_millis <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED
         ) RETURNING queue_id, group_id",
        &[&now_millis, &MOST],
    )
    .await?;
    let groups: std::collections::BTreeSet<(i64, String)> = expired
        .iter()
        .filter_map(|row| row.get::<_, Option<String>>(1).map(|group| (row.get(0), group)))
        .collect();
    for (queue_id, group) in groups {
        refresh_group(tx, queue_id, &group).await?;
    }
    execute(
        tx,
        "DELETE FROM queue_deduplication WHERE until_millis <= $1",
        &[&now_millis],
    )
    .await?;
    Ok(expired.len() as u64)
}
