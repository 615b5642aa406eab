//! Receiving: claiming visible messages until a time, so that no other receive gets them while
//! they are invisible. Standard queues take the messages visible longest first, skipping rows
//! another receive holds (`FOR UPDATE SKIP LOCKED`); FIFO queues (locked whole by
//! `require_queue`) take ready groups (nothing in flight) and each group's messages from its
//! head, in order. On the way, messages past their retention are dropped and messages received
//! too often move to the dead-letter queue.

use sluice_store::Result;
use sluice_store::queues::{NewMessage, Receipt, Receive, Redrive, StoredMessage};
use tokio_postgres::Row;

use super::messages::{insert, next_sequence, refresh_group};
use super::require_queue;
use crate::{Tx, execute, query, query_opt};

const MESSAGE_COLUMNS: &str = "id, message_id, body, attributes, system_attributes, md5_of_body, md5_of_attributes,
     group_id, deduplication_id, sequence_number, sent_millis, first_received_millis, receive_count, visible_millis,
     expires_millis";

/// A message row as a receive sees it, before the claim.
struct Candidate {
    message: StoredMessage,
    visible_millis: i64,
    expires_millis: i64,
}

fn candidate(row: &Row) -> Candidate {
    let receive_count = row.get::<_, i64>(12) as u32;
    Candidate {
        message: StoredMessage {
            receipt: Receipt {
                message: row.get(0),
                receive_count,
            },
            message_id: row.get(1),
            body: row.get(2),
            attributes: row.get(3),
            system_attributes: row.get(4),
            md5_of_body: row.get(5),
            md5_of_attributes: row.get(6),
            group_id: row.get(7),
            deduplication_id: row.get(8),
            sequence_number: row.get::<_, Option<i64>>(9).map(|number| number as u64),
            sent_millis: row.get(10),
            first_received_millis: row.get(11),
            receive_count,
        },
        visible_millis: row.get(13),
        expires_millis: row.get(14),
    }
}

/// What became of a visible candidate.
enum Outcome {
    /// Claimed and answered.
    Claimed(Box<StoredMessage>),
    /// Dropped (past retention) or moved to the dead-letter queue.
    Gone,
}

/// Claims up to `receive.max_messages` messages.
pub(crate) async fn receive(tx: &Tx<'_>, receive: &Receive) -> Result<Vec<StoredMessage>> {
    let fifo = require_queue(tx, receive.queue_id).await?;
    let redrive = match receive.redrive {
        // A dead-letter queue that no longer exists redrives nothing.
        Some(redrive) => query_opt(
            tx,
            "SELECT fifo FROM queues WHERE id = $1 FOR KEY SHARE",
            &[&redrive.dead_letter_queue_id],
        )
        .await?
        .map(|row| (redrive, row.get::<_, bool>(0))),
        None => None,
    };
    if fifo {
        receive_fifo(tx, receive, redrive).await
    } else {
        receive_standard(tx, receive, redrive).await
    }
}

async fn receive_standard(
    tx: &Tx<'_>,
    receive: &Receive,
    redrive: Option<(Redrive, bool)>,
) -> Result<Vec<StoredMessage>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM queue_messages WHERE queue_id = $1 AND visible_millis <= $2
         ORDER BY visible_millis LIMIT $3 FOR UPDATE SKIP LOCKED"
    );
    let mut received = Vec::new();
    // Claimed messages turn invisible and dropped ones go, so each round sees new candidates;
    // a round that claims all it read is the last one needed.
    loop {
        let wanted = receive.max_messages - received.len();
        let rows = query(tx, &sql, &[&receive.queue_id, &receive.now_millis, &(wanted as i64)]).await?;
        let read = rows.len();
        let mut gone = 0;
        for row in &rows {
            match take(tx, receive, redrive, candidate(row)).await? {
                Outcome::Claimed(message) => received.push(*message),
                Outcome::Gone => gone += 1,
            }
        }
        if gone == 0 || read < wanted || received.len() >= receive.max_messages {
            return Ok(received);
        }
    }
}

async fn receive_fifo(tx: &Tx<'_>, receive: &Receive, redrive: Option<(Redrive, bool)>) -> Result<Vec<StoredMessage>> {
    let mut received = Vec::new();
    let mut visited = std::collections::HashSet::new();
    let message_sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM queue_messages WHERE queue_id = $1 AND group_id = $2 AND id > $3
         ORDER BY id LIMIT 1"
    );
    'groups: while received.len() < receive.max_messages {
        let groups: Vec<String> = query(
            tx,
            "SELECT group_id FROM queue_groups WHERE queue_id = $1 AND ready_millis <= $2
             ORDER BY ready_millis, group_id COLLATE \"C\" LIMIT 32",
            &[&receive.queue_id, &receive.now_millis],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect();
        let fresh: Vec<String> = groups
            .into_iter()
            .filter(|group| visited.insert(group.clone()))
            .collect();
        if fresh.is_empty() {
            break;
        }
        for group in fresh {
            // The group's messages from its head, in order, while they are visible.
            let mut after = 0_i64;
            while received.len() < receive.max_messages {
                let next = query_opt(tx, &message_sql, &[&receive.queue_id, &group, &after]).await?;
                let Some(candidate) = next.as_ref().map(candidate) else {
                    break;
                };
                after = candidate.message.receipt.message;
                if candidate.visible_millis > receive.now_millis && candidate.expires_millis > receive.now_millis {
                    break;
                }
                if let Outcome::Claimed(message) = take(tx, receive, redrive, candidate).await? {
                    received.push(*message);
                }
            }
            refresh_group(tx, receive.queue_id, &group).await?;
            if received.len() >= receive.max_messages {
                break 'groups;
            }
        }
    }
    Ok(received)
}

/// Claims one visible candidate, or drops it (past retention), or moves it to the dead-letter
/// queue (received as often as the redrive policy allows).
async fn take(
    tx: &Tx<'_>,
    receive: &Receive,
    redrive: Option<(Redrive, bool)>,
    candidate: Candidate,
) -> Result<Outcome> {
    let row = candidate.message.receipt.message;
    if candidate.expires_millis <= receive.now_millis {
        execute(tx, "DELETE FROM queue_messages WHERE id = $1", &[&row]).await?;
        return Ok(Outcome::Gone);
    }
    if let Some((redrive, dead_letter_fifo)) = redrive
        && candidate.message.receive_count >= redrive.max_receive_count
    {
        move_to_dead_letter(tx, receive.now_millis, redrive, dead_letter_fifo, &candidate.message).await?;
        execute(tx, "DELETE FROM queue_messages WHERE id = $1", &[&row]).await?;
        return Ok(Outcome::Gone);
    }
    execute(
        tx,
        "UPDATE queue_messages SET receive_count = receive_count + 1, visible_millis = $2,
             first_received_millis = COALESCE(first_received_millis, $3)
         WHERE id = $1",
        &[&row, &receive.visible_until_millis, &receive.now_millis],
    )
    .await?;
    let mut message = candidate.message;
    message.receive_count += 1;
    message.receipt.receive_count = message.receive_count;
    message.first_received_millis.get_or_insert(receive.now_millis);
    Ok(Outcome::Claimed(Box::new(message)))
}

/// Moves a message to a dead-letter queue, keeping its id, body, attributes and group. As on
/// AWS, a standard message keeps its send time (its retention runs from it); a FIFO message is
/// enqueued anew, with a sequence number of the dead-letter queue.
async fn move_to_dead_letter(
    tx: &Tx<'_>,
    now_millis: i64,
    redrive: Redrive,
    dead_letter_fifo: bool,
    message: &StoredMessage,
) -> Result<()> {
    let sequence_number = if dead_letter_fifo {
        Some(next_sequence(tx, redrive.dead_letter_queue_id).await?)
    } else {
        None
    };
    let sent_millis = if dead_letter_fifo {
        now_millis
    } else {
        message.sent_millis
    };
    let moved = NewMessage {
        message_id: message.message_id.clone(),
        body: message.body.clone(),
        attributes: message.attributes.clone(),
        system_attributes: message.system_attributes.clone(),
        md5_of_body: message.md5_of_body.clone(),
        md5_of_attributes: message.md5_of_attributes.clone(),
        group_id: message.group_id.clone().filter(|_| dead_letter_fifo),
        deduplication_id: message.deduplication_id.clone().filter(|_| dead_letter_fifo),
        deduplication_key: None,
        deduplication_until_millis: 0,
        sent_millis,
        visible_millis: now_millis,
        expires_millis: sent_millis + redrive.dead_letter_retention_millis,
    };
    insert(tx, redrive.dead_letter_queue_id, &moved, sequence_number, 0).await
}
