//! Topics on SQLite: the [`TopicStore`] implementation. Every change goes through the writer
//! thread, so a publish's deliveries share a commit with its neighbours' and a claim never hands
//! one delivery to two callers; lookups read on the read connections.

use std::collections::BTreeMap;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use sluice_store::topics::{Publication, Published, SubscriptionRecord, TopicDelivery, TopicRecord, TopicStore};
use sluice_store::{Error, Result};

use crate::{SqliteStore, backend};

/// The topics' tables: topics with their FIFO sequence counter; subscriptions, unique by
/// (topic, protocol, endpoint); deduplication ids with the end of their window; and the
/// delivery outbox, ordered within an ordering key by `seq`.
pub(crate) const MIGRATION: &str = r"
CREATE TABLE topics (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_millis INTEGER NOT NULL,
    next_sequence INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE topic_subscriptions (
    arn TEXT PRIMARY KEY,
    topic TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    attributes TEXT NOT NULL,
    pending INTEGER NOT NULL,
    token TEXT,
    created_millis INTEGER NOT NULL,
    UNIQUE (topic, protocol, endpoint)
);
CREATE INDEX topic_subscriptions_by_topic ON topic_subscriptions (topic, arn);
CREATE TABLE topic_deduplication (
    topic TEXT NOT NULL,
    id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number INTEGER,
    expires_millis INTEGER NOT NULL,
    PRIMARY KEY (topic, id)
) WITHOUT ROWID;
CREATE INDEX topic_deduplication_expiry ON topic_deduplication (expires_millis);
CREATE TABLE topic_deliveries (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    subscription_arn TEXT NOT NULL,
    ordering_key TEXT,
    payload TEXT NOT NULL,
    sequence_number INTEGER,
    published_millis INTEGER NOT NULL,
    due_millis INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX topic_deliveries_due ON topic_deliveries (due_millis);
CREATE INDEX topic_deliveries_order ON topic_deliveries (ordering_key, seq) WHERE ordering_key IS NOT NULL;
CREATE INDEX topic_deliveries_by_subscription ON topic_deliveries (subscription_arn);
";

const TOPIC_COLUMNS: &str = "name, arn, attributes, created_millis";
const SUBSCRIPTION_COLUMNS: &str = "arn, topic, protocol, endpoint, attributes, pending, token, created_millis";
const DELIVERY_COLUMNS: &str =
    "id, subscription_arn, ordering_key, payload, sequence_number, published_millis, due_millis, attempts, lease_until";

fn attributes_of(text: String) -> rusqlite::Result<BTreeMap<String, String>> {
    serde_json::from_str(&text)
        .map_err(|error| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(error)))
}

fn attributes_text(attributes: &BTreeMap<String, String>) -> String {
    serde_json::to_string(attributes).unwrap_or_else(|_| "{}".to_owned())
}

fn topic_row(row: &Row<'_>) -> rusqlite::Result<TopicRecord> {
    Ok(TopicRecord {
        name: row.get(0)?,
        arn: row.get(1)?,
        attributes: attributes_of(row.get(2)?)?,
        created_millis: row.get(3)?,
    })
}

fn subscription_row(row: &Row<'_>) -> rusqlite::Result<SubscriptionRecord> {
    Ok(SubscriptionRecord {
        arn: row.get(0)?,
        topic: row.get(1)?,
        protocol: row.get(2)?,
        endpoint: row.get(3)?,
        attributes: attributes_of(row.get(4)?)?,
        pending: row.get::<_, i64>(5)? != 0,
        token: row.get(6)?,
        created_millis: row.get(7)?,
    })
}

fn delivery_row(row: &Row<'_>) -> rusqlite::Result<TopicDelivery> {
    Ok(TopicDelivery {
        id: row.get(0)?,
        subscription_arn: row.get(1)?,
        ordering_key: row.get(2)?,
        payload: row.get(3)?,
        sequence_number: row.get::<_, Option<i64>>(4)?.map(|number| number.max(0) as u64),
        published_millis: row.get(5)?,
        due_millis: row.get(6)?,
        attempts: row.get::<_, i64>(7)?.max(0) as u32,
        lease_until_millis: row.get(8)?,
    })
}

fn read_topic(connection: &Connection, name: &str) -> Result<Option<TopicRecord>> {
    connection
        .prepare_cached(&format!("SELECT {TOPIC_COLUMNS} FROM topics WHERE name = ?1"))
        .and_then(|mut statement| statement.query_row([name], topic_row).optional())
        .map_err(backend)
}

fn insert_deliveries(connection: &Connection, deliveries: &[TopicDelivery], sequence: Option<u64>) -> Result<()> {
    let mut statement = connection
        .prepare_cached(&format!(
            "INSERT INTO topic_deliveries ({DELIVERY_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ))
        .map_err(backend)?;
    for delivery in deliveries {
        let number = sequence.or(delivery.sequence_number).map(|number| number as i64);
        statement
            .execute(params![
                delivery.id,
                delivery.subscription_arn,
                delivery.ordering_key,
                delivery.payload,
                number,
                delivery.published_millis,
                delivery.due_millis,
                i64::from(delivery.attempts),
                delivery.lease_until_millis,
            ])
            .map_err(backend)?;
    }
    Ok(())
}

fn subscribe(
    connection: &Connection,
    subscription: &SubscriptionRecord,
    confirmation: Option<&TopicDelivery>,
) -> Result<SubscriptionRecord> {
    if read_topic(connection, &subscription.topic)?.is_none() {
        return Err(Error::NotFound {
            what: "topic",
            key: subscription.topic.clone(),
        });
    }
    let existing = connection
        .prepare_cached(&format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM topic_subscriptions WHERE topic = ?1 AND protocol = ?2 AND endpoint = ?3"
        ))
        .and_then(|mut statement| {
            statement
                .query_row(
                    params![subscription.topic, subscription.protocol, subscription.endpoint],
                    subscription_row,
                )
                .optional()
        })
        .map_err(backend)?;
    if let Some(existing) = existing {
        return Ok(existing);
    }
    connection
        .prepare_cached(&format!(
            "INSERT INTO topic_subscriptions ({SUBSCRIPTION_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ))
        .and_then(|mut statement| {
            statement.execute(params![
                subscription.arn,
                subscription.topic,
                subscription.protocol,
                subscription.endpoint,
                attributes_text(&subscription.attributes),
                i64::from(subscription.pending),
                subscription.token,
                subscription.created_millis,
            ])
        })
        .map_err(backend)?;
    if let Some(confirmation) = confirmation {
        insert_deliveries(connection, std::slice::from_ref(confirmation), None)?;
    }
    Ok(subscription.clone())
}

fn publish_one(connection: &Connection, publication: &Publication, now_millis: i64) -> Result<Published> {
    if read_topic(connection, &publication.topic)?.is_none() {
        return Err(Error::NotFound {
            what: "topic",
            key: publication.topic.clone(),
        });
    }
    let Some(deduplication) = &publication.deduplication else {
        insert_deliveries(connection, &publication.deliveries, None)?;
        return Ok(Published::Written { sequence_number: None });
    };
    let seen = connection
        .prepare_cached(
            "SELECT message_id, sequence_number FROM topic_deduplication
             WHERE topic = ?1 AND id = ?2 AND expires_millis > ?3",
        )
        .and_then(|mut statement| {
            statement
                .query_row(params![publication.topic, deduplication.id, now_millis], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, Option<i64>>(1)?))
                })
                .optional()
        })
        .map_err(backend)?;
    if let Some((message_id, number)) = seen {
        return Ok(Published::Duplicate {
            message_id,
            sequence_number: number.map(|number| number.max(0) as u64),
        });
    }
    let number: i64 = connection
        .prepare_cached(
            "UPDATE topics SET next_sequence = next_sequence + 1 WHERE name = ?1 RETURNING next_sequence - 1",
        )
        .and_then(|mut statement| statement.query_row([&publication.topic], |row| row.get(0)))
        .map_err(backend)?;
    connection
        .prepare_cached(
            "INSERT OR REPLACE INTO topic_deduplication (topic, id, message_id, sequence_number, expires_millis)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                publication.topic,
                deduplication.id,
                publication.message_id,
                number,
                deduplication.expires_millis
            ])
        })
        .map_err(backend)?;
    let sequence_number = Some(number.max(0) as u64);
    insert_deliveries(connection, &publication.deliveries, sequence_number)?;
    Ok(Published::Written { sequence_number })
}

fn claim(
    connection: &Connection,
    now_millis: i64,
    lease_until_millis: i64,
    limit: usize,
) -> Result<Vec<TopicDelivery>> {
    // A delivery with an ordering key is claimable only when no earlier one of its key is left,
    // whatever that one's state (leased, or waiting for its retry).
    let claimed: Vec<TopicDelivery> = connection
        .prepare_cached(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM topic_deliveries AS d
             WHERE d.due_millis <= ?1 AND d.lease_until <= ?1
               AND (d.ordering_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM topic_deliveries AS e WHERE e.ordering_key = d.ordering_key AND e.seq < d.seq))
             ORDER BY d.due_millis, d.seq LIMIT ?2"
        ))
        .and_then(|mut statement| {
            statement
                .query_map(params![now_millis, limit as i64], delivery_row)?
                .collect()
        })
        .map_err(backend)?;
    let mut lease = connection
        .prepare_cached("UPDATE topic_deliveries SET lease_until = ?2, attempts = attempts + 1 WHERE id = ?1")
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

fn delete_topic(connection: &Connection, name: &str) -> Result<bool> {
    let statements = [
        "DELETE FROM topic_deliveries WHERE subscription_arn IN (SELECT arn FROM topic_subscriptions WHERE topic = ?1)",
        "DELETE FROM topic_subscriptions WHERE topic = ?1",
        "DELETE FROM topic_deduplication WHERE topic = ?1",
    ];
    for sql in statements {
        connection.execute(sql, [name]).map_err(backend)?;
    }
    let removed = connection
        .execute("DELETE FROM topics WHERE name = ?1", [name])
        .map_err(backend)?;
    Ok(removed > 0)
}

#[async_trait]
impl TopicStore for SqliteStore {
    async fn create_topic(&self, topic: TopicRecord) -> Result<TopicRecord> {
        self.writer
            .write(move |connection| {
                if let Some(existing) = read_topic(connection, &topic.name)? {
                    return Ok(existing);
                }
                connection
                    .prepare_cached(&format!("INSERT INTO topics ({TOPIC_COLUMNS}) VALUES (?1, ?2, ?3, ?4)"))
                    .and_then(|mut statement| {
                        statement.execute(params![
                            topic.name,
                            topic.arn,
                            attributes_text(&topic.attributes),
                            topic.created_millis
                        ])
                    })
                    .map_err(backend)?;
                Ok(topic)
            })
            .await
    }

    async fn topic(&self, name: &str) -> Result<Option<TopicRecord>> {
        let name = name.to_owned();
        self.read(move |connection| read_topic(connection, &name)).await
    }

    async fn list_topics(&self, after: Option<&str>, limit: usize) -> Result<Vec<TopicRecord>> {
        let after = after.map(str::to_owned);
        self.read(move |connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {TOPIC_COLUMNS} FROM topics WHERE ?1 IS NULL OR name > ?1 ORDER BY name LIMIT ?2"
                ))
                .and_then(|mut statement| statement.query_map(params![after, limit as i64], topic_row)?.collect())
                .map_err(backend)
        })
        .await
    }

    async fn set_topic_attributes(&self, name: &str, attributes: BTreeMap<String, String>) -> Result<()> {
        let name = name.to_owned();
        self.writer
            .write(move |connection| {
                let changed = connection
                    .execute(
                        "UPDATE topics SET attributes = ?2 WHERE name = ?1",
                        params![name, attributes_text(&attributes)],
                    )
                    .map_err(backend)?;
                if changed == 0 {
                    return Err(Error::NotFound {
                        what: "topic",
                        key: name,
                    });
                }
                Ok(())
            })
            .await
    }

    async fn delete_topic(&self, name: &str) -> Result<bool> {
        let name = name.to_owned();
        self.writer
            .write(move |connection| delete_topic(connection, &name))
            .await
    }

    async fn subscribe(
        &self,
        subscription: SubscriptionRecord,
        confirmation: Option<TopicDelivery>,
    ) -> Result<SubscriptionRecord> {
        self.writer
            .write(move |connection| subscribe(connection, &subscription, confirmation.as_ref()))
            .await
    }

    async fn subscription(&self, arn: &str) -> Result<Option<SubscriptionRecord>> {
        let arn = arn.to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM topic_subscriptions WHERE arn = ?1"
                ))
                .and_then(|mut statement| statement.query_row([&arn], subscription_row).optional())
                .map_err(backend)
        })
        .await
    }

    async fn list_subscriptions(
        &self,
        topic: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SubscriptionRecord>> {
        let (topic, after) = (topic.map(str::to_owned), after.map(str::to_owned));
        self.read(move |connection| {
            connection
                .prepare_cached(&format!(
                    "SELECT {SUBSCRIPTION_COLUMNS} FROM topic_subscriptions
                     WHERE (?1 IS NULL OR topic = ?1) AND (?2 IS NULL OR arn > ?2) ORDER BY arn LIMIT ?3"
                ))
                .and_then(|mut statement| {
                    statement
                        .query_map(params![topic, after, limit as i64], subscription_row)?
                        .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn update_subscription(&self, subscription: SubscriptionRecord) -> Result<()> {
        self.writer
            .write(move |connection| {
                let changed = connection
                    .execute(
                        "UPDATE topic_subscriptions SET attributes = ?2, pending = ?3, token = ?4 WHERE arn = ?1",
                        params![
                            subscription.arn,
                            attributes_text(&subscription.attributes),
                            i64::from(subscription.pending),
                            subscription.token
                        ],
                    )
                    .map_err(backend)?;
                if changed == 0 {
                    return Err(Error::NotFound {
                        what: "subscription",
                        key: subscription.arn,
                    });
                }
                Ok(())
            })
            .await
    }

    async fn unsubscribe(&self, arn: &str) -> Result<bool> {
        let arn = arn.to_owned();
        self.writer
            .write(move |connection| {
                connection
                    .execute("DELETE FROM topic_deliveries WHERE subscription_arn = ?1", [&arn])
                    .map_err(backend)?;
                let removed = connection
                    .execute("DELETE FROM topic_subscriptions WHERE arn = ?1", [&arn])
                    .map_err(backend)?;
                Ok(removed > 0)
            })
            .await
    }

    async fn publish(&self, publications: Vec<Publication>, now_millis: i64) -> Result<Vec<Result<Published>>> {
        self.writer
            .write(move |connection| {
                let mut answers = Vec::with_capacity(publications.len());
                for publication in &publications {
                    // Each publication in its own savepoint: a refused one leaves nothing behind.
                    connection.execute_batch("SAVEPOINT publication").map_err(backend)?;
                    let answer = publish_one(connection, publication, now_millis);
                    let end = match answer {
                        Ok(_) => "RELEASE publication",
                        Err(_) => "ROLLBACK TO publication; RELEASE publication",
                    };
                    connection.execute_batch(end).map_err(backend)?;
                    answers.push(answer);
                }
                Ok(answers)
            })
            .await
    }

    async fn claim_topic_deliveries(
        &self,
        now_millis: i64,
        lease_until_millis: i64,
        limit: usize,
    ) -> Result<Vec<TopicDelivery>> {
        self.writer
            .write(move |connection| claim(connection, now_millis, lease_until_millis, limit))
            .await
    }

    async fn finish_topic_delivery(&self, id: &str) -> Result<()> {
        self.execute("DELETE FROM topic_deliveries WHERE id = ?1", vec![id.to_owned().into()])
            .await
    }

    async fn retry_topic_delivery(&self, id: &str, due_millis: i64) -> Result<()> {
        let id = id.to_owned();
        self.execute(
            "UPDATE topic_deliveries SET due_millis = ?2, lease_until = 0 WHERE id = ?1",
            vec![id.into(), due_millis.into()],
        )
        .await
    }

    async fn release_topic_delivery_leases(&self) -> Result<()> {
        self.execute(
            "UPDATE topic_deliveries SET lease_until = 0 WHERE lease_until > 0",
            Vec::new(),
        )
        .await
    }

    async fn next_topic_delivery_due(&self) -> Result<Option<i64>> {
        self.read(|connection| {
            connection
                .query_row(
                    "SELECT MIN(d.due_millis) FROM topic_deliveries AS d WHERE d.lease_until = 0
                       AND (d.ordering_key IS NULL OR NOT EXISTS (
                            SELECT 1 FROM topic_deliveries AS e WHERE e.ordering_key = d.ordering_key AND e.seq < d.seq))",
                    [],
                    |row| row.get(0),
                )
                .map_err(backend)
        })
        .await
    }

    async fn expire_topic_deduplication(&self, now_millis: i64) -> Result<u64> {
        self.writer
            .write(move |connection| {
                let removed = connection
                    .execute(
                        "DELETE FROM topic_deduplication WHERE expires_millis <= ?1",
                        [now_millis],
                    )
                    .map_err(backend)?;
                Ok(removed as u64)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use crate::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn topic_conformance() {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
        sluice_store::topics::conformance::run_all(&store).await;
    }
}
