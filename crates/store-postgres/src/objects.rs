//! Buckets, object metadata, the object event outbox and the blob garbage list on PostgreSQL
//! ([`BucketStore`]). A write to a bucket locks the bucket's row first (its event sequencer
//! moves with every change anyway), so a condition is checked and the write made with no other
//! write of that bucket in between, on any node; its events go in with it.

use async_trait::async_trait;
use sluice_store::objects::{
    BucketDeleted, BucketRecord, BucketStore, Condition, KeyRange, NotificationRule, ObjectDelete, ObjectEvent,
    ObjectRecord, ObjectWrite, Outcome, PartRecord, UploadCompletion, UploadRange, UploadRecord,
};
use sluice_store::{Error, Result};
use tokio_postgres::Row;

use crate::{PostgresStore, Tx, execute, query, query_one, query_opt, transaction};

pub(crate) mod multipart;

/// The tables (appended to the migrations).
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    created_millis BIGINT NOT NULL,
    notifications TEXT NOT NULL,
    sequence BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE objects (
    bucket TEXT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    etag TEXT NOT NULL,
    size BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    user_metadata TEXT NOT NULL,
    headers TEXT NOT NULL,
    blob TEXT NOT NULL,
    modified_millis BIGINT NOT NULL,
    PRIMARY KEY (bucket, key)
);
CREATE INDEX objects_by_blob ON objects (blob);
CREATE TABLE object_events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    event_name TEXT NOT NULL,
    size BIGINT NOT NULL,
    etag TEXT NOT NULL,
    sequencer TEXT NOT NULL,
    time_millis BIGINT NOT NULL,
    rule_id TEXT NOT NULL,
    target TEXT NOT NULL,
    due_millis BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX object_events_due ON object_events (due_millis);
CREATE TABLE blob_garbage (
    blob TEXT PRIMARY KEY,
    due_millis BIGINT NOT NULL
);
CREATE INDEX blob_garbage_due ON blob_garbage (due_millis);
"#;

const OBJECT_COLUMNS: &str = "bucket, key, etag, size, content_type, user_metadata, headers, blob, modified_millis";

pub(crate) fn json_error(error: serde_json::Error) -> Error {
    Error::Backend(format!("a stored JSON column is corrupt: {error}"))
}

fn object_row(row: &Row) -> Result<ObjectRecord> {
    Ok(ObjectRecord {
        bucket: row.get(0),
        key: row.get(1),
        etag: row.get(2),
        size: row.get::<_, i64>(3) as u64,
        content_type: row.get(4),
        user_metadata: serde_json::from_str(row.get(5)).map_err(json_error)?,
        headers: serde_json::from_str(row.get(6)).map_err(json_error)?,
        blob: row.get(7),
        modified_millis: row.get(8),
    })
}

async fn read_object(tx: &Tx<'_>, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
    let sql = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = $1 AND key = $2");
    query_opt(tx, &sql, &[&bucket, &key])
        .await?
        .as_ref()
        .map(object_row)
        .transpose()
}

/// A bucket; `lock` holds its row until the transaction ends, for a write of its objects.
pub(crate) async fn read_bucket(tx: &Tx<'_>, name: &str, lock: bool) -> Result<Option<BucketRecord>> {
    let sql = if lock {
        "SELECT name, created_millis, notifications FROM buckets WHERE name = $1 FOR NO KEY UPDATE"
    } else {
        "SELECT name, created_millis, notifications FROM buckets WHERE name = $1"
    };
    query_opt(tx, sql, &[&name])
        .await?
        .map(|row| {
            Ok(BucketRecord {
                name: row.get(0),
                created_millis: row.get(1),
                notifications: serde_json::from_str(row.get(2)).map_err(json_error)?,
            })
        })
        .transpose()
}

/// The refusal, when the current version does not satisfy the condition.
fn refusal(condition: &Condition, current: Option<&ObjectRecord>) -> Option<Outcome> {
    match (condition, current) {
        (Condition::Always, _) | (Condition::IfNoneMatch, None) => None,
        (Condition::IfNoneMatch, Some(_)) => Some(Outcome::PreconditionFailed),
        (Condition::IfMatch(_), None) => Some(Outcome::NoSuchKey),
        (Condition::IfMatch(etag), Some(current)) if *etag == current.etag => None,
        (Condition::IfMatch(_), Some(_)) => Some(Outcome::PreconditionFailed),
    }
}

/// What an event's outbox rows share.
struct Change<'a> {
    bucket: &'a BucketRecord,
    key: &'a str,
    event_name: &'a str,
    size: u64,
    etag: &'a str,
    time_millis: i64,
}

/// Writes one outbox row per rule that wants the change, with the bucket's next sequencer.
async fn record_events(tx: &Tx<'_>, change: &Change<'_>) -> Result<()> {
    let sequence: i64 = query_one(
        tx,
        "UPDATE buckets SET sequence = sequence + 1 WHERE name = $1 RETURNING sequence",
        &[&change.bucket.name],
    )
    .await?
    .get(0);
    let sequencer = format!("{sequence:016X}");
    for rule in &change.bucket.notifications {
        if !rule.matches(change.event_name, change.key) {
            continue;
        }
        execute(
            tx,
            "INSERT INTO object_events (bucket, key, event_name, size, etag, sequencer, time_millis, rule_id,
                 target, due_millis)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7)",
            &[
                &change.bucket.name,
                &change.key,
                &change.event_name,
                &(change.size as i64),
                &change.etag,
                &sequencer,
                &change.time_millis,
                &rule.id,
                &rule.target,
            ],
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn add_garbage(tx: &Tx<'_>, blob: &str, due_millis: i64) -> Result<()> {
    execute(
        tx,
        "INSERT INTO blob_garbage (blob, due_millis) VALUES ($1, $2)
         ON CONFLICT (blob) DO UPDATE SET due_millis = excluded.due_millis",
        &[&blob, &due_millis],
    )
    .await?;
    Ok(())
}

pub(crate) async fn put_object(tx: &Tx<'_>, write: &ObjectWrite) -> Result<Outcome> {
    let record = &write.record;
    let Some(bucket) = read_bucket(tx, &record.bucket, true).await? else {
        return Ok(Outcome::NoSuchBucket);
    };
    let current = read_object(tx, &record.bucket, &record.key).await?;
    if let Some(refused) = refusal(&write.condition, current.as_ref()) {
        return Ok(refused);
    }
    let user_metadata = serde_json::to_string(&record.user_metadata).map_err(json_error)?;
    let headers = serde_json::to_string(&record.headers).map_err(json_error)?;
    execute(
        tx,
        "INSERT INTO objects (bucket, key, etag, size, content_type, user_metadata, headers, blob, modified_millis)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (bucket, key) DO UPDATE SET etag = excluded.etag, size = excluded.size,
             content_type = excluded.content_type, user_metadata = excluded.user_metadata,
             headers = excluded.headers, blob = excluded.blob, modified_millis = excluded.modified_millis",
        &[
            &record.bucket,
            &record.key,
            &record.etag,
            &(record.size as i64),
            &record.content_type,
            &user_metadata,
            &headers,
            &record.blob,
            &record.modified_millis,
        ],
    )
    .await?;
    if let Some(replaced) = &current
        && replaced.blob != record.blob
    {
        add_garbage(tx, &replaced.blob, record.modified_millis + write.garbage_delay_millis).await?;
    }
    record_events(
        tx,
        &Change {
            bucket: &bucket,
            key: &record.key,
            event_name: &write.event_name,
            size: record.size,
            etag: &record.etag,
            time_millis: record.modified_millis,
        },
    )
    .await?;
    Ok(Outcome::Done(current))
}

async fn delete_object(tx: &Tx<'_>, delete: &ObjectDelete) -> Result<Outcome> {
    let Some(bucket) = read_bucket(tx, &delete.bucket, true).await? else {
        return Ok(Outcome::NoSuchBucket);
    };
    let current = read_object(tx, &delete.bucket, &delete.key).await?;
    if let Condition::IfMatch(_) = &delete.condition
        && let Some(refused) = refusal(&delete.condition, current.as_ref())
    {
        return Ok(refused);
    }
    let Some(current) = current else {
        return Ok(Outcome::Done(None));
    };
    execute(
        tx,
        "DELETE FROM objects WHERE bucket = $1 AND key = $2",
        &[&delete.bucket, &delete.key],
    )
    .await?;
    add_garbage(tx, &current.blob, delete.now_millis + delete.garbage_delay_millis).await?;
    record_events(
        tx,
        &Change {
            bucket: &bucket,
            key: &delete.key,
            event_name: "ObjectRemoved:Delete",
            size: 0,
            etag: "",
            time_millis: delete.now_millis,
        },
    )
    .await?;
    Ok(Outcome::Done(Some(current)))
}

async fn create_bucket(tx: &Tx<'_>, bucket: &BucketRecord) -> Result<()> {
    let notifications = serde_json::to_string(&bucket.notifications).map_err(json_error)?;
    let inserted = execute(
        tx,
        "INSERT INTO buckets (name, created_millis, notifications) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        &[&bucket.name, &bucket.created_millis, &notifications],
    )
    .await?;
    if inserted == 0 {
        return Err(Error::AlreadyExists {
            what: "bucket",
            key: bucket.name.clone(),
        });
    }
    Ok(())
}

async fn delete_bucket(tx: &Tx<'_>, name: &str) -> Result<BucketDeleted> {
    if query_opt(tx, "SELECT 1 FROM buckets WHERE name = $1 FOR UPDATE", &[&name])
        .await?
        .is_none()
    {
        return Ok(BucketDeleted::NoSuchBucket);
    }
    if query_opt(tx, "SELECT 1 FROM objects WHERE bucket = $1 LIMIT 1", &[&name])
        .await?
        .is_some()
    {
        return Ok(BucketDeleted::NotEmpty);
    }
    multipart::abort_all(tx, name).await?;
    execute(tx, "DELETE FROM buckets WHERE name = $1", &[&name]).await?;
    Ok(BucketDeleted::Deleted)
}

async fn claim_events(
    tx: &Tx<'_>,
    owner: &str,
    now_millis: i64,
    lease_until_millis: i64,
    limit: usize,
) -> Result<Vec<ObjectEvent>> {
    let rows = query(
        tx,
        "UPDATE object_events SET lease_owner = $1, lease_until = $3
         WHERE id IN (SELECT id FROM object_events WHERE due_millis <= $2 AND lease_until <= $2
                      ORDER BY due_millis, id LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING id, bucket, key, event_name, size, etag, sequencer, time_millis, rule_id, target, attempts",
        &[&owner, &now_millis, &lease_until_millis, &(limit as i64)],
    )
    .await?;
    let mut events: Vec<ObjectEvent> = rows
        .iter()
        .map(|row| ObjectEvent {
            id: row.get(0),
            bucket: row.get(1),
            key: row.get(2),
            event_name: row.get(3),
            size: row.get::<_, i64>(4) as u64,
            etag: row.get(5),
            sequencer: row.get(6),
            time_millis: row.get(7),
            rule_id: row.get(8),
            target: row.get(9),
            attempts: row.get::<_, i64>(10) as u32,
        })
        .collect();
    events.sort_by_key(|event| event.id);
    Ok(events)
}

async fn list_objects(tx: &Tx<'_>, range: &KeyRange) -> Result<Vec<ObjectRecord>> {
    // Keys are compared by their bytes (`COLLATE "C"`), as S3 lists them.
    let sql = format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = $1 AND key > $2 AND key >= $3 AND starts_with(key, $3)
         ORDER BY key LIMIT $4"
    );
    let rows = query(
        tx,
        &sql,
        &[&range.bucket, &range.after, &range.prefix, &(range.limit as i64)],
    )
    .await?;
    rows.iter().map(object_row).collect()
}

#[async_trait]
impl BucketStore for PostgresStore {
    async fn create_bucket(&self, bucket: BucketRecord) -> Result<()> {
        transaction!(self, |tx| create_bucket(&tx, &bucket).await)
    }

    async fn bucket(&self, name: &str) -> Result<Option<BucketRecord>> {
        transaction!(self, |tx| read_bucket(&tx, name, false).await)
    }

    async fn list_buckets(&self) -> Result<Vec<BucketRecord>> {
        transaction!(self, |tx| {
            let rows = query(
                &tx,
                "SELECT name, created_millis, notifications FROM buckets ORDER BY name COLLATE \"C\"",
                &[],
            )
            .await;
            rows.and_then(|rows| {
                rows.iter()
                    .map(|row| {
                        Ok(BucketRecord {
                            name: row.get(0),
                            created_millis: row.get(1),
                            notifications: serde_json::from_str(row.get(2)).map_err(json_error)?,
                        })
                    })
                    .collect()
            })
        })
    }

    async fn delete_bucket(&self, name: &str) -> Result<BucketDeleted> {
        transaction!(self, |tx| delete_bucket(&tx, name).await)
    }

    async fn set_notifications(&self, bucket: &str, rules: Vec<NotificationRule>) -> Result<bool> {
        let rules = serde_json::to_string(&rules).map_err(json_error)?;
        transaction!(self, |tx| execute(
            &tx,
            "UPDATE buckets SET notifications = $2 WHERE name = $1",
            &[&bucket, &rules]
        )
        .await
        .map(|changed| changed == 1))
    }

    async fn put_object(&self, write: ObjectWrite) -> Result<Outcome> {
        transaction!(self, |tx| put_object(&tx, &write).await)
    }

    async fn delete_object(&self, delete: ObjectDelete) -> Result<Outcome> {
        transaction!(self, |tx| delete_object(&tx, &delete).await)
    }

    async fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
        transaction!(self, |tx| read_object(&tx, bucket, key).await)
    }

    async fn list_objects(&self, range: KeyRange) -> Result<Vec<ObjectRecord>> {
        transaction!(self, |tx| list_objects(&tx, &range).await)
    }

    async fn claim_object_events(
        &self,
        owner: &str,
        now_millis: i64,
        lease_until_millis: i64,
        limit: usize,
    ) -> Result<Vec<ObjectEvent>> {
        transaction!(self, |tx| claim_events(
            &tx,
            owner,
            now_millis,
            lease_until_millis,
            limit
        )
        .await)
    }

    async fn finish_object_event(&self, id: i64) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "DELETE FROM object_events WHERE id = $1",
            &[&id]
        )
        .await
        .map(drop))
    }

    async fn retry_object_event(&self, id: i64, due_millis: i64) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "UPDATE object_events SET due_millis = $2, attempts = attempts + 1, lease_owner = NULL, lease_until = 0
             WHERE id = $1",
            &[&id, &due_millis]
        )
        .await
        .map(drop))
    }

    async fn release_object_event_leases(&self) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "UPDATE object_events SET lease_owner = NULL, lease_until = 0 WHERE lease_owner IS NOT NULL",
            &[]
        )
        .await
        .map(drop))
    }

    async fn due_garbage(&self, now_millis: i64, limit: usize) -> Result<Vec<String>> {
        transaction!(self, |tx| query(
            &tx,
            "SELECT blob FROM blob_garbage WHERE due_millis <= $1 ORDER BY due_millis LIMIT $2",
            &[&now_millis, &(limit as i64)]
        )
        .await
        .map(|rows| rows.iter().map(|row| row.get(0)).collect()))
    }

    async fn forget_garbage(&self, blobs: Vec<String>) -> Result<()> {
        transaction!(self, |tx| execute(
            &tx,
            "DELETE FROM blob_garbage WHERE blob = ANY($1)",
            &[&blobs]
        )
        .await
        .map(drop))
    }

    async fn blob_in_use(&self, blob: &str) -> Result<bool> {
        transaction!(self, |tx| query_opt(
            &tx,
            "SELECT 1 FROM objects WHERE blob = $1 UNION ALL SELECT 1 FROM multipart_parts WHERE blob = $1 LIMIT 1",
            &[&blob]
        )
        .await
        .map(|row| row.is_some()))
    }

    async fn create_upload(&self, upload: UploadRecord) -> Result<bool> {
        transaction!(self, |tx| multipart::create(&tx, &upload).await)
    }

    async fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Option<UploadRecord>> {
        transaction!(self, |tx| multipart::read_upload(&tx, bucket, key, upload_id, false)
            .await)
    }

    async fn put_part(&self, bucket: &str, key: &str, part: PartRecord, garbage_delay_millis: i64) -> Result<bool> {
        transaction!(self, |tx| multipart::put_part(
            &tx,
            bucket,
            key,
            &part,
            garbage_delay_millis
        )
        .await)
    }

    async fn list_parts(&self, upload_id: &str, after: u32, limit: usize) -> Result<Vec<PartRecord>> {
        transaction!(self, |tx| multipart::list_parts(&tx, upload_id, after, limit).await)
    }

    async fn list_uploads(&self, range: UploadRange) -> Result<Vec<UploadRecord>> {
        transaction!(self, |tx| multipart::list_uploads(&tx, &range).await)
    }

    async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str, now_millis: i64) -> Result<bool> {
        transaction!(self, |tx| multipart::abort(&tx, bucket, key, upload_id, now_millis)
            .await)
    }

    async fn complete_upload(&self, completion: UploadCompletion) -> Result<Outcome> {
        transaction!(self, |tx| multipart::complete(&tx, &completion).await)
    }
}
