//! Sending, deleting, changing visibility and expiring messages, and keeping each FIFO group's
//! `ready_millis` (when its next message may be received) true after each change.

use rusqlite::{Connection, OptionalExtension, params};
use sluice_store::Result;
use sluice_store::queues::{Deletion, NewMessage, Receipt, Sent, VisibilityChange, VisibilityChanged};

use super::require_queue;
use crate::backend;

/// Sends messages to a queue in order: FIFO queues number them; a deduplication key seen
/// within its window answers with the original and stores nothing.
pub(crate) fn send(
    connection: &Connection,
    queue_id: i64,
    messages: &[NewMessage],
    now_millis: i64,
) -> Result<Vec<Sent>> {
    let fifo = require_queue(connection, queue_id)?;
    let mut results = Vec::with_capacity(messages.len());
    for message in messages {
        if let Some(key) = &message.deduplication_key {
            let original: Option<(String, Option<i64>)> = connection
                .prepare_cached(
                    "SELECT message_id, sequence_number FROM queue_deduplication
                     WHERE queue_id = ?1 AND key = ?2 AND until_millis > ?3",
                )
                .and_then(|mut statement| {
                    statement
                        .query_row(params![queue_id, key, now_millis], |row| Ok((row.get(0)?, row.get(1)?)))
                        .optional()
                })
                .map_err(backend)?;
            if let Some((message_id, sequence_number)) = original {
                results.push(Sent {
                    message_id,
                    sequence_number: sequence_number.map(|number| number as u64),
                    duplicate: true,
                });
                continue;
            }
        }
        let sequence_number: Option<i64> = if fifo {
            let number = connection
                .prepare_cached(
                    "UPDATE queues SET next_sequence = next_sequence + 1 WHERE id = ?1 RETURNING next_sequence - 1",
                )
                .and_then(|mut statement| statement.query_row([queue_id], |row| row.get(0)))
                .map_err(backend)?;
            Some(number)
        } else {
            None
        };
        insert(connection, queue_id, message, sequence_number, 0)?;
        if let Some(key) = &message.deduplication_key {
            connection
                .prepare_cached(
                    "INSERT OR REPLACE INTO queue_deduplication (queue_id, key, message_id, sequence_number, until_millis)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .and_then(|mut statement| {
                    statement.execute(params![
                        queue_id,
                        key,
                        message.message_id,
                        sequence_number,
                        message.deduplication_until_millis
                    ])
                })
                .map_err(backend)?;
        }
        results.push(Sent {
            message_id: message.message_id.clone(),
            sequence_number: sequence_number.map(|number| number as u64),
            duplicate: false,
        });
    }
    Ok(results)
}

/// Inserts one message row (and its FIFO group, if the group is new).
pub(crate) fn insert(
    connection: &Connection,
    queue_id: i64,
    message: &NewMessage,
    sequence_number: Option<i64>,
    receive_count: u32,
) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT INTO queue_messages (queue_id, message_id, body, attributes, system_attributes, md5_of_body,
                 md5_of_attributes, group_id, deduplication_id, sequence_number, sent_millis, visible_millis,
                 expires_millis, receive_count)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                queue_id,
                message.message_id,
                message.body,
                message.attributes,
                message.system_attributes,
                message.md5_of_body,
                message.md5_of_attributes,
                message.group_id,
                message.deduplication_id,
                sequence_number,
                message.sent_millis,
                message.visible_millis,
                message.expires_millis,
                receive_count,
            ])
        })
        .map_err(backend)?;
    if let Some(group) = &message.group_id {
        // A group that has messages keeps its readiness (its head is older); a new one is ready
        // when this message is visible.
        connection
            .prepare_cached("INSERT OR IGNORE INTO queue_groups (queue_id, group_id, ready_millis) VALUES (?1, ?2, ?3)")
            .and_then(|mut statement| statement.execute(params![queue_id, group, message.visible_millis]))
            .map_err(backend)?;
    }
    Ok(())
}

/// Recomputes when a FIFO group's next message may be received, or drops the group when it has
/// no message left. Messages are received from the head of their group in order, so the ones
/// received (and maybe in flight) are always the group's first: the group is ready when all of
/// those are visible again, or, when none was received, when its head is visible.
pub(crate) fn refresh_group(connection: &Connection, queue_id: i64, group: &str) -> Result<()> {
    let mut statement = connection
        .prepare_cached(
            "SELECT visible_millis, receive_count FROM queue_messages
             WHERE queue_id = ?1 AND group_id = ?2 ORDER BY id",
        )
        .map_err(backend)?;
    let mut rows = statement.query(params![queue_id, group]).map_err(backend)?;
    let mut ready: Option<i64> = None;
    while let Some(row) = rows.next().map_err(backend)? {
        let visible: i64 = row.get(0).map_err(backend)?;
        let receive_count: u32 = row.get(1).map_err(backend)?;
        if receive_count > 0 {
            ready = Some(ready.map_or(visible, |ready| ready.max(visible)));
        } else {
            ready.get_or_insert(visible);
            break;
        }
    }
    drop(rows);
    match ready {
        Some(ready) => connection
            .prepare_cached(
                "INSERT INTO queue_groups (queue_id, group_id, ready_millis) VALUES (?1, ?2, ?3)
                 ON CONFLICT (queue_id, group_id) DO UPDATE SET ready_millis = excluded.ready_millis",
            )
            .and_then(|mut statement| statement.execute(params![queue_id, group, ready])),
        None => connection
            .prepare_cached("DELETE FROM queue_groups WHERE queue_id = ?1 AND group_id = ?2")
            .and_then(|mut statement| statement.execute(params![queue_id, group])),
    }
    .map_err(backend)?;
    Ok(())
}

/// A message's queue, receive count, visibility and group.
type MessageState = (i64, u32, i64, Option<String>);

/// A message's state, by row.
fn message_state(connection: &Connection, row: i64) -> Result<Option<MessageState>> {
    connection
        .prepare_cached("SELECT queue_id, receive_count, visible_millis, group_id FROM queue_messages WHERE id = ?1")
        .and_then(|mut statement| {
            statement
                .query_row([row], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
                .optional()
        })
        .map_err(backend)
}

/// Deletes messages by their latest receipt; any other receipt changes nothing.
pub(crate) fn delete(connection: &Connection, queue_id: i64, receipts: &[Receipt]) -> Result<Vec<Deletion>> {
    require_queue(connection, queue_id)?;
    let mut results = Vec::with_capacity(receipts.len());
    // Each group touched is refreshed once, after all the deletes: a batch usually holds one
    // receive's messages, several of one group.
    let mut groups = std::collections::BTreeSet::new();
    for receipt in receipts {
        let state = message_state(connection, receipt.message)?;
        let Some((_, _, _, group)) =
            state.filter(|(queue, count, _, _)| *queue == queue_id && *count == receipt.receive_count)
        else {
            results.push(Deletion::Stale);
            continue;
        };
        connection
            .prepare_cached("DELETE FROM queue_messages WHERE id = ?1")
            .and_then(|mut statement| statement.execute([receipt.message]))
            .map_err(backend)?;
        groups.extend(group);
        results.push(Deletion::Deleted);
    }
    for group in groups {
        refresh_group(connection, queue_id, &group)?;
    }
    Ok(results)
}

/// Changes how long received messages stay invisible, counting from now.
pub(crate) fn change_visibility(
    connection: &Connection,
    queue_id: i64,
    changes: &[VisibilityChange],
    now_millis: i64,
) -> Result<Vec<VisibilityChanged>> {
    require_queue(connection, queue_id)?;
    let mut results = Vec::with_capacity(changes.len());
    let mut groups = std::collections::BTreeSet::new();
    for change in changes {
        let state = message_state(connection, change.receipt.message)?;
        let Some((_, _, visible, group)) =
            state.filter(|(queue, count, _, _)| *queue == queue_id && *count == change.receipt.receive_count)
        else {
            results.push(VisibilityChanged::Stale);
            continue;
        };
        if visible <= now_millis {
            results.push(VisibilityChanged::NotInFlight);
            continue;
        }
        connection
            .prepare_cached("UPDATE queue_messages SET visible_millis = ?2 WHERE id = ?1")
            .and_then(|mut statement| statement.execute(params![change.receipt.message, change.visible_until_millis]))
            .map_err(backend)?;
        groups.extend(group);
        results.push(VisibilityChanged::Changed);
    }
    for group in groups {
        refresh_group(connection, queue_id, &group)?;
    }
    Ok(results)
}

/// Drops messages past their retention (a bounded number per call) and deduplication ids past
/// their window.
pub(crate) fn expire(connection: &Connection, now_millis: i64) -> Result<u64> {
    const MOST: i64 = 10_000;
    let expired: Vec<(i64, i64, Option<String>)> = connection
        .prepare_cached("SELECT id, queue_id, group_id FROM queue_messages WHERE expires_millis <= ?1 LIMIT ?2")
        .and_then(|mut statement| {
            statement
                .query_map(params![now_millis, MOST], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?
                .collect()
        })
        .map_err(backend)?;
    let mut groups = std::collections::BTreeSet::new();
    for (row, queue_id, group) in &expired {
        connection
            .prepare_cached("DELETE FROM queue_messages WHERE id = ?1")
            .and_then(|mut statement| statement.execute([row]))
            .map_err(backend)?;
        if let Some(group) = group {
            groups.insert((*queue_id, group.clone()));
        }
    }
    for (queue_id, group) in groups {
        refresh_group(connection, queue_id, &group)?;
    }
    connection
        .prepare_cached("DELETE FROM queue_deduplication WHERE until_millis <= ?1")
        .and_then(|mut statement| statement.execute([now_millis]))
        .map_err(backend)?;
    Ok(expired.len() as u64)
}
