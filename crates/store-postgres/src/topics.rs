//! Topics on PostgreSQL: the [`TopicStore`] implementation. A publish share-locks its topic's
//! row (a FIFO publish locks it for update, as it moves the topic's sequence counter), so a
//! topic is not deleted under a publish and a FIFO topic's deliveries are numbered and queued in
//! commit order on any node. Claims take the head of each ordering key with
//! `FOR UPDATE SKIP LOCKED`: concurrent claimers get different deliveries, and the next of a key
//! stays unclaimable while an earlier one is left.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sluice_store::topics::{Publication, Published, SubscriptionRecord, TopicDelivery, TopicRecord, TopicStore};
use sluice_store::{Error, Result};
use tokio_postgres::Row;

use crate::{PostgresStore, Tx, execute, query, query_one, query_opt, transaction};

/// The topics' tables: topics with their FIFO sequence counter; subscriptions, unique by
/// (topic, protocol, endpoint); deduplication ids with the end of their window; and the
/// delivery outbox, ordered within an ordering key by `seq`.
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE topics (
    name TEXT COLLATE "C" PRIMARY KEY,
    arn TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_millis BIGINT NOT NULL,
    next_sequence BIGINT NOT NULL DEFAULT 1
);
CREATE TABLE topic_subscriptions (
    arn TEXT COLLATE "C" PRIMARY KEY,
    topic TEXT NOT NULL,
    protocol TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    attributes TEXT NOT NULL,
    pending BOOLEAN NOT NULL,
    token TEXT,
    created_millis BIGINT NOT NULL,
    UNIQUE (topic, protocol, endpoint)
);
CREATE INDEX topic_subscriptions_by_topic ON topic_subscriptions (topic, arn);
CREATE TABLE topic_deduplication (
    topic TEXT NOT NULL,
    id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sequence_number BIGINT,
    expires_millis BIGINT NOT NULL,
    PRIMARY KEY (topic, id)
);
CREATE INDEX topic_deduplication_expiry ON topic_deduplication (expires_millis);
CREATE TABLE topic_deliveries (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    subscription_arn TEXT NOT NULL,
    ordering_key TEXT,
    payload TEXT NOT NULL,
    sequence_number BIGINT,
    published_millis BIGINT NOT NULL,
    due_millis BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX topic_deliveries_due ON topic_deliveries (due_millis);
CREATE INDEX topic_deliveries_order ON topic_deliveries (ordering_key, seq) WHERE ordering_key IS NOT NULL;
CREATE INDEX topic_deliveries_by_subscription ON topic_deliveries (subscription_arn);
"#;

const TOPIC_COLUMNS: &str = "name, arn, attributes, created_millis";
const SUBSCRIPTION_COLUMNS: &str = "arn, topic, protocol, endpoint, attributes, pending, token, created_millis";
const DELIVERY_COLUMNS: &str =
    "id, subscription_arn, ordering_key, payload, sequence_number, published_millis, due_millis, attempts, lease_until";

fn attributes_of(text: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text).map_err(|error| Error::Backend(format!("stored attributes are corrupt: {error}")))
}

fn attributes_text(attributes: &BTreeMap<String, String>) -> Result<String> {
    serde_json::to_string(attributes).map_err(|error| Error::Backend(format!("cannot store attributes: {error}")))
}

fn topic_row(row: &Row) -> Result<TopicRecord> {
    Ok(TopicRecord {
        name: row.get(0),
        arn: row.get(1),
        attributes: attributes_of(row.get(2))?,
        created_millis: row.get(3),
    })
}

fn subscription_row(row: &Row) -> Result<SubscriptionRecord> {
    Ok(SubscriptionRecord {
        arn: row.get(0),
        topic: row.get(1),
        protocol: row.get(2),
        endpoint: row.get(3),
        attributes: attributes_of(row.get(4))?,
        pending: row.get(5),
        token: row.get(6),
        created_millis: row.get(7),
    })
}

fn delivery_row(row: &Row) -> TopicDelivery {
    TopicDelivery {
        id: row.get(0),
        subscription_arn: row.get(1),
        ordering_key: row.get(2),
        payload: row.get(3),
        sequence_number: row.get::<_, Option<i64>>(4).map(|number| number.max(0) as u64),
        published_millis: row.get(5),
        due_millis: row.get(6),
        attempts: row.get::<_, i64>(7).max(0) as u32,
        lease_until_millis: row.get(8),
    }
}

/// A topic; `lock` is the row lock to take (`FOR KEY SHARE`, `FOR NO KEY UPDATE`), if any.
async fn read_topic(tx: &Tx<'_>, name: &str, lock: &str) -> Result<Option<TopicRecord>> {
    let sql = format!("SELECT {TOPIC_COLUMNS} FROM topics WHERE name = $1 {lock}");
    query_opt(tx, &sql, &[&name]).await?.as_ref().map(topic_row).transpose()
}

async fn insert_deliveries(tx: &Tx<'_>, deliveries: &[TopicDelivery], sequence: Option<u64>) -> Result<()> {
    let sql = format!("INSERT INTO topic_deliveries ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
    for delivery in deliveries {
        let number = sequence.or(delivery.sequence_number).map(|number| number as i64);
        execute(
            tx,
            &sql,
            &[
                &delivery.id,
                &delivery.subscription_arn,
                &delivery.ordering_key,
                &delivery.payload,
                &number,
                &delivery.published_millis,
                &delivery.due_millis,
                &i64::from(delivery.attempts),
                &delivery.lease_until_millis,
            ],
        )
        .await?;
    }
    Ok(())
}

async fn subscribe(
    tx: &Tx<'_>,
    subscription: &SubscriptionRecord,
    confirmation: Option<&TopicDelivery>,
) -> Result<SubscriptionRecord> {
    if read_topic(tx, &subscription.topic, "FOR KEY SHARE").await?.is_none() {
        return Err(Error::NotFound {
            what: "topic",
            key: subscription.topic.clone(),
        });
    }
    // A racing subscribe of the same endpoint waits on the unique index, then inserts nothing.
    let inserted = execute(
        tx,
        &format!(
            "INSERT INTO topic_subscriptions ({SUBSCRIPTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (topic, protocol, endpoint) DO NOTHING"
        ),
        &[
            &subscription.arn,
            &subscription.topic,
            &subscription.protocol,
            &subscription.endpoint,
            &attributes_text(&subscription.attributes)?,
            &subscription.pending,
            &subscription.token,
            &subscription.created_millis,
        ],
    )
    .await?;
    if inserted == 0 {
        let existing = query_one(
            tx,
            &format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM topic_subscriptions
                 WHERE topic = $1 AND protocol = $2 AND endpoint = $3"
            ),
            &[&subscription.topic, &subscription.protocol, &subscription.endpoint],
        )
        .await?;
        return subscription_row(&existing);
    }
    if let Some(confirmation) = confirmation {
        insert_deliveries(tx, std::slice::from_ref(confirmation), None).await?;
    }
    Ok(subscription.clone())
}

async fn publish_one(tx: &Tx<'_>, publication: &Publication, now_millis: i64) -> Result<Published> {
    let lock = if publication.deduplication.is_some() {
        "FOR NO KEY UPDATE"
    } else {
        "FOR KEY SHARE"
    };
    if read_topic(tx, &publication.topic, lock).await?.is_none() {
        return Err(Error::NotFound {
            what: "topic",
            key: publication.topic.clone(),
        });
    }
    let Some(deduplication) = &publication.deduplication else {
        insert_deliveries(tx, &publication.deliveries, None).await?;
        return Ok(Published::Written { sequence_number: None });
    };
    let seen = query_opt(
        tx,
        "SELECT message_id, sequence_number FROM topic_deduplication
         WHERE topic = $1 AND id = $2 AND expires_millis > $3",
        &[&publication.topic, &deduplication.id, &now_millis],
    )
    .await?;
    if let Some(seen) = seen {
        return Ok(Published::Duplicate {
            message_id: seen.get(0),
            sequence_number: seen.get::<_, Option<i64>>(1).map(|number| number.max(0) as u64),
        });
    }
    let number: i64 = query_one(
        tx,
        "UPDATE topics SET next_sequence = next_sequence + 1 WHERE name = $1 RETURNING next_sequence - 1",
        &[&publication.topic],
    )
    .await?
    .get(0);
    execute(
        tx,
        "INSERT INTO topic_deduplication (topic, id, message_id, sequence_number, expires_millis)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (topic, id) DO UPDATE SET message_id = excluded.message_id,
             sequence_number = excluded.sequence_number, expires_millis = excluded.expires_millis",
        &[
            &publication.topic,
            &deduplication.id,
            &publication.message_id,
            &number,
            &deduplication.expires_millis,
        ],
    )
    .await?;
    let sequence_number = Some(number.max(0) as u64);
    insert_deliveries(tx, &publication.deliveries, sequence_number).await?;
    Ok(Published::Written { sequence_number })
}

async fn publish(tx: &Tx<'_>, publications: &[Publication], now_millis: i64) -> Result<Vec<Result<Published>>> {
    let mut answers = Vec::with_capacity(publications.len());
    for publication in publications {
        // Each publication in its own savepoint: a refused one leaves nothing behind.
        tx.batch_execute("SAVEPOINT publication")
            .await
            .map_err(crate::backend)?;
        let answer = match publish_one(tx, publication, now_millis).await {
            // A deadlock or serialization failure runs the whole transaction again.
            Err(error) if crate::retryable(&error) => return Err(error),
            other => other,
        };
        let end = match answer {
            Ok(_) => "RELEASE SAVEPOINT publication",
            Err(_) => "ROLLBACK TO SAVEPOINT publication; RELEASE SAVEPOINT publication",
        };
        tx.batch_execute(end).await.map_err(crate::backend)?;
        answers.push(answer);
    }
    Ok(answers)
}

async fn claim(tx: &Tx<'_>, now_millis: i64, lease_until_millis: i64, limit: usize) -> Result<Vec<TopicDelivery>> {
    // A delivery with an ordering key is claimable only when no earlier one of its key is left,
    // whatever that one's state (leased, or waiting for its retry).
    let rows = query(
        tx,
        &format!(
            "WITH claimable AS (
                 SELECT d.seq FROM topic_deliveries AS d
                 WHERE d.due_millis <= $1 AND d.lease_until <= $1
                   AND (d.ordering_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM topic_deliveries AS e WHERE e.ordering_key = d.ordering_key AND e.seq < d.seq))
                 ORDER BY d.due_millis, d.seq LIMIT $3
                 FOR UPDATE SKIP LOCKED)
             UPDATE topic_deliveries AS t SET lease_until = $2, attempts = t.attempts + 1
             FROM claimable WHERE t.seq = claimable.seq
             RETURNING {}, t.seq",
            DELIVERY_COLUMNS
                .split(", ")
                .map(|column| format!("t.{column}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        &[&now_millis, &lease_until_millis, &(limit as i64)],
    )
    .await?;
    let mut claimed: Vec<(i64, TopicDelivery)> = rows.iter().map(|row| (row.get(9), delivery_row(row))).collect();
    claimed.sort_by_key(|(seq, delivery)| (delivery.due_millis, *seq));
    Ok(claimed.into_iter().map(|(_, delivery)| delivery).collect())
}

async fn delete_topic(tx: &Tx<'_>, name: &str) -> Result<bool> {
    if read_topic(tx, name, "FOR UPDATE").await?.is_none() {
        return Ok(false);
    }
    let statements = [
        "DELETE FROM topic_deliveries WHERE subscription_arn IN (SELECT arn FROM topic_subscriptions WHERE topic = $1)",
        "DELETE FROM topic_subscriptions WHERE topic = $1",
        "DELETE FROM topic_deduplication WHERE topic = $1",
        "DELETE FROM topics WHERE name = $1",
    ];
    for sql in statements {
        execute(tx, sql, &[&name]).await?;
    }
    Ok(true)
}

#[async_trait]
impl TopicStore for PostgresStore {
    async fn create_topic(&self, topic: TopicRecord) -> Result<TopicRecord> {
        transaction!(self, |tx| {
            async {
                let inserted = execute(
                    &tx,
                    &format!("INSERT INTO topics ({TOPIC_COLUMNS}) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING"),
                    &[
                        &topic.name,
                        &topic.arn,
                        &attributes_text(&topic.attributes)?,
                        &topic.created_millis,
                    ],
                )
                .await?;
                if inserted > 0 {
                    return Ok(topic.clone());
                }
                read_topic(&tx, &topic.name, "")
                    .await?
                    .ok_or_else(|| Error::Backend(format!("the topic {} vanished as it was created", topic.name)))
            }
            .await
        })
    }

    async fn topic(&self, name: &str) -> Result<Option<TopicRecord>> {
        transaction!(self, |tx| read_topic(&tx, name, "").await)
    }

    async fn list_topics(&self, after: Option<&str>, limit: usize) -> Result<Vec<TopicRecord>> {
        transaction!(self, |tx| query(
            &tx,
            &format!("SELECT {TOPIC_COLUMNS} FROM topics WHERE $1::TEXT IS NULL OR name > $1 ORDER BY name LIMIT $2"),
            &[&after, &(limit as i64)]
        )
        .await
        .and_then(|rows| rows.iter().map(topic_row).collect()))
    }

    async fn set_topic_attributes(&self, name: &str, attributes: BTreeMap<String, String>) -> Result<()> {
        transaction!(self, |tx| {
            async {
                let changed = execute(
                    &tx,
                    "UPDATE topics SET attributes = $2 WHERE name = $1",
                    &[&name, &attributes_text(&attributes)?],
                )
                .await?;
                if changed == 0 {
                    return Err(Error::NotFound {
                        what: "topic",
                        key: name.to_owned(),
                    });
                }
                Ok(())
            }
            .await
        })
    }

    async fn delete_topic(&self, name: &str) -> Result<bool> {
        transaction!(self, |tx| delete_topic(&tx, name).await)
    }

    async fn subscribe(
        &self,
        subscription: SubscriptionRecord,
        confirmation: Option<TopicDelivery>,
    ) -> Result<SubscriptionRecord> {
        transaction!(self, |tx| subscribe(&tx, &subscription, confirmation.as_ref()).await)
    }

    async fn subscription(&self, arn: &str) -> Result<Option<SubscriptionRecord>> {
        transaction!(self, |tx| query_opt(
            &tx,
            &format!("SELECT {SUBSCRIPTION_COLUMNS} FROM topic_subscriptions WHERE arn = $1"),
            &[&arn]
        )
        .await
        .and_then(|row| row.as_ref().map(subscription_row).transpose()))
    }

    async fn list_subscriptions(
        &self,
        topic: Option<&str>,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<SubscriptionRecord>> {
        transaction!(self, |tx| query(
            &tx,
            &format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM topic_subscriptions
                 WHERE ($1::TEXT IS NULL OR topic = $1) AND ($2::TEXT IS NULL OR arn > $2) ORDER BY arn LIMIT $3"
            ),
            &[&topic, &after, &(limit as i64)]
        )
        .await
        .and_then(|rows| rows.iter().map(subscription_row).collect()))
    }

    async fn update_subscription(&self, subscription: SubscriptionRecord) -> Result<()> {
        transaction!(self, |tx| {
            async {
                let changed = execute(
                    &tx,
                    "UPDATE topic_subscriptions SET attributes = $2, pending = $3, token = $4 WHERE arn = $1",
                    &[
                        &subscription.arn,
                        &attributes_text(&subscription.attributes)?,
                        &subscription.pending,
                        &subscription.token,
                    ],
                )
                .await?;
                if changed == 0 {
                    return Err(Error::NotFound {
                        what: "subscription",
                        key: subscription.arn.clone(),
                    });
                }
                Ok(())
            }
            .await
        })
    }

    async fn unsubscribe(&self, arn: &str) -> Result<bool> {
        transaction!(self, |tx| {
            async {
                execute(&tx, "DELETE FROM topic_deliveries WHERE subscription_arn = $1", &[&arn]).await?;
                Ok(execute(&tx, "DELETE FROM topic_subscriptions WHERE arn = $1", &[&arn]).await? > 0)
            }
            .await
        })
    }

    async fn publish(&self, publications: Vec<Publication>, now_millis: i64) -> Result<Vec<Result<Published>>> {
        transaction!(self, |tx| publish(&tx, &publications, now_millis).await)
    }

    async fn claim_topic_deliveries(
        &self,
        now_millis: i64,
        lease_until_millis: i64,
        limit: usize,
    ) -> Result<Vec<TopicDelivery>> {
        transaction!(self, |tx| claim(&tx, now_millis, lease_until_millis, limit).await)
    }

    async fn finish_topic_delivery(&self, id: &str) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "DELETE FROM topic_deliveries WHERE id = $1",
            &[&id]
        )
        .await
        .map(drop))
    }

    async fn retry_topic_delivery(&self, id: &str, due_millis: i64) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "UPDATE topic_deliveries SET due_millis = $2, lease_until = 0 WHERE id = $1",
            &[&id, &due_millis]
        )
        .await
        .map(drop))
    }

    async fn release_topic_delivery_leases(&self) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "UPDATE topic_deliveries SET lease_until = 0 WHERE lease_until > 0",
            &[]
        )
        .await
        .map(drop))
    }

    async fn next_topic_delivery_due(&self) -> Result<Option<i64>> {
        transaction!(self, |tx| query_one(
            &tx,
            "SELECT MIN(d.due_millis) FROM topic_deliveries AS d WHERE d.lease_until = 0
               AND (d.ordering_key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM topic_deliveries AS e WHERE e.ordering_key = d.ordering_key AND e.seq < d.seq))",
            &[]
        )
        .await
        .map(|row| row.get(0)))
    }

    async fn expire_topic_deduplication(&self, now_millis: i64) -> Result<u64> {
        transaction!(self, |tx| execute(
            &tx,
            "DELETE FROM topic_deduplication WHERE expires_millis <= $1",
            &[&now_millis]
        )
        .await)
    }
}
