//! Buckets, object metadata, the object event outbox and the blob garbage list on SQLite
//! ([`BucketStore`]). Every write runs on the writer thread, so a condition is checked and the
//! write made with no other writer in between; its events go in with it.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};
use sluice_store::objects::{
    BucketDeleted, BucketRecord, BucketStore, Condition, KeyRange, NotificationRule, ObjectDelete, ObjectEvent,
    ObjectRecord, ObjectWrite, Outcome, PartRecord, UploadCompletion, UploadRange, UploadRecord,
};
use sluice_store::{Error, Result};

use crate::{SqliteStore, backend};

mod multipart;

/// The tables (appended to the migrations).
pub const MIGRATION: &str = r"
CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    created_millis INTEGER NOT NULL,
    notifications TEXT NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    user_metadata TEXT NOT NULL,
    headers TEXT NOT NULL,
    blob TEXT NOT NULL,
    modified_millis INTEGER NOT NULL,
    PRIMARY KEY (bucket, key)
) WITHOUT ROWID;
CREATE INDEX objects_by_blob ON objects (blob);
CREATE TABLE object_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    event_name TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    sequencer TEXT NOT NULL,
    time_millis INTEGER NOT NULL,
    rule_id TEXT NOT NULL,
    target TEXT NOT NULL,
    due_millis INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    lease_until INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX object_events_due ON object_events (due_millis);
CREATE TABLE blob_garbage (
    blob TEXT PRIMARY KEY,
    due_millis INTEGER NOT NULL
);
CREATE INDEX blob_garbage_due ON blob_garbage (due_millis);
";

/// Multipart uploads and their parts (appended to the migrations after [`MIGRATION`]).
pub const MULTIPART_MIGRATION: &str = r"
CREATE TABLE multipart_uploads (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    upload_id TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    user_metadata TEXT NOT NULL,
    headers TEXT NOT NULL,
    initiated_millis INTEGER NOT NULL,
    PRIMARY KEY (bucket, key, upload_id)
) WITHOUT ROWID;
CREATE TABLE multipart_parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    etag TEXT NOT NULL,
    size INTEGER NOT NULL,
    blob TEXT NOT NULL,
    modified_millis INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;
CREATE INDEX multipart_parts_by_blob ON multipart_parts (blob);
";

const OBJECT_COLUMNS: &str = "bucket, key, etag, size, content_type, user_metadata, headers, blob, modified_millis";

pub(crate) fn json_error(error: serde_json::Error) -> Error {
    Error::Backend(format!("a stored JSON column is corrupt: {error}"))
}

fn object_row(row: &Row<'_>) -> rusqlite::Result<(ObjectRecord, String, String)> {
    Ok((
        ObjectRecord {
            bucket: row.get(0)?,
            key: row.get(1)?,
            etag: row.get(2)?,
            size: row.get::<_, i64>(3)? as u64,
            content_type: row.get(4)?,
            user_metadata: Default::default(),
            headers: Default::default(),
            blob: row.get(7)?,
            modified_millis: row.get(8)?,
        },
        row.get(5)?,
        row.get(6)?,
    ))
}

fn finish_object((mut record, user_metadata, headers): (ObjectRecord, String, String)) -> Result<ObjectRecord> {
    record.user_metadata = serde_json::from_str(&user_metadata).map_err(json_error)?;
    record.headers = serde_json::from_str(&headers).map_err(json_error)?;
    Ok(record)
}

fn read_object(connection: &Connection, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
    let sql = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2");
    connection
        .prepare_cached(&sql)
        .and_then(|mut statement| statement.query_row(params![bucket, key], object_row).optional())
        .map_err(backend)?
        .map(finish_object)
        .transpose()
}

pub(crate) fn read_bucket(connection: &Connection, name: &str) -> Result<Option<BucketRecord>> {
    let row: Option<(String, i64, String)> = connection
        .prepare_cached("SELECT name, created_millis, notifications FROM buckets WHERE name = ?1")
        .and_then(|mut statement| {
            statement
                .query_row([name], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
                .optional()
        })
        .map_err(backend)?;
    row.map(|(name, created_millis, notifications)| {
        Ok(BucketRecord {
            name,
            created_millis,
            notifications: serde_json::from_str(&notifications).map_err(json_error)?,
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
fn record_events(connection: &Connection, change: &Change<'_>) -> Result<()> {
    let sequence: i64 = connection
        .prepare_cached("UPDATE buckets SET sequence = sequence + 1 WHERE name = ?1 RETURNING sequence")
        .and_then(|mut statement| statement.query_row([&change.bucket.name], |row| row.get(0)))
        .map_err(backend)?;
    let sequencer = format!("{sequence:016X}");
    for rule in &change.bucket.notifications {
        if !rule.matches(change.event_name, change.key) {
            continue;
        }
        connection
            .prepare_cached(
                "INSERT INTO object_events (bucket, key, event_name, size, etag, sequencer, time_millis, rule_id,
                     target, due_millis)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?7)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    change.bucket.name,
                    change.key,
                    change.event_name,
                    change.size as i64,
                    change.etag,
                    sequencer,
                    change.time_millis,
                    rule.id,
                    rule.target
                ])
            })
            .map_err(backend)?;
    }
    Ok(())
}

pub(crate) fn add_garbage(connection: &Connection, blob: &str, due_millis: i64) -> Result<()> {
    connection
        .prepare_cached("INSERT OR REPLACE INTO blob_garbage (blob, due_millis) VALUES (?1, ?2)")
        .and_then(|mut statement| statement.execute(params![blob, due_millis]))
        .map_err(backend)?;
    Ok(())
}

pub(crate) fn put_object(connection: &Connection, write: &ObjectWrite) -> Result<Outcome> {
    let record = &write.record;
    let Some(bucket) = read_bucket(connection, &record.bucket)? else {
        return Ok(Outcome::NoSuchBucket);
    };
    let current = read_object(connection, &record.bucket, &record.key)?;
    if let Some(refused) = refusal(&write.condition, current.as_ref()) {
        return Ok(refused);
    }
    let user_metadata = serde_json::to_string(&record.user_metadata).map_err(json_error)?;
    let headers = serde_json::to_string(&record.headers).map_err(json_error)?;
    connection
        .prepare_cached(
            "INSERT OR REPLACE INTO objects (bucket, key, etag, size, content_type, user_metadata, headers, blob,
                 modified_millis)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                record.bucket,
                record.key,
                record.etag,
                record.size as i64,
                record.content_type,
                user_metadata,
                headers,
                record.blob,
                record.modified_millis
            ])
        })
        .map_err(backend)?;
    if let Some(replaced) = &current
        && replaced.blob != record.blob
    {
        add_garbage(
            connection,
            &replaced.blob,
            record.modified_millis + write.garbage_delay_millis,
        )?;
    }
    record_events(
        connection,
        &Change {
            bucket: &bucket,
            key: &record.key,
            event_name: &write.event_name,
            size: record.size,
            etag: &record.etag,
            time_millis: record.modified_millis,
        },
    )?;
    Ok(Outcome::Done(current))
}

fn delete_object(connection: &Connection, delete: &ObjectDelete) -> Result<Outcome> {
    let Some(bucket) = read_bucket(connection, &delete.bucket)? else {
        return Ok(Outcome::NoSuchBucket);
    };
    let current = read_object(connection, &delete.bucket, &delete.key)?;
    if let Condition::IfMatch(_) = &delete.condition
        && let Some(refused) = refusal(&delete.condition, current.as_ref())
    {
        return Ok(refused);
    }
    let Some(current) = current else {
        return Ok(Outcome::Done(None));
    };
    connection
        .prepare_cached("DELETE FROM objects WHERE bucket = ?1 AND key = ?2")
        .and_then(|mut statement| statement.execute(params![delete.bucket, delete.key]))
        .map_err(backend)?;
    add_garbage(
        connection,
        &current.blob,
        delete.now_millis + delete.garbage_delay_millis,
    )?;
    record_events(
        connection,
        &Change {
            bucket: &bucket,
            key: &delete.key,
            event_name: "ObjectRemoved:Delete",
            size: 0,
            etag: "",
            time_millis: delete.now_millis,
        },
    )?;
    Ok(Outcome::Done(Some(current)))
}

fn create_bucket(connection: &Connection, bucket: &BucketRecord) -> Result<()> {
    if read_bucket(connection, &bucket.name)?.is_some() {
        return Err(Error::AlreadyExists {
            what: "bucket",
            key: bucket.name.clone(),
        });
    }
    let notifications = serde_json::to_string(&bucket.notifications).map_err(json_error)?;
    connection
        .execute(
            "INSERT INTO buckets (name, created_millis, notifications) VALUES (?1, ?2, ?3)",
            params![bucket.name, bucket.created_millis, notifications],
        )
        .map_err(backend)?;
    Ok(())
}

fn delete_bucket(connection: &Connection, name: &str) -> Result<BucketDeleted> {
    if read_bucket(connection, name)?.is_none() {
        return Ok(BucketDeleted::NoSuchBucket);
    }
    let any: Option<i64> = connection
        .query_row("SELECT 1 FROM objects WHERE bucket = ?1 LIMIT 1", [name], |row| {
            row.get(0)
        })
        .optional()
        .map_err(backend)?;
    if any.is_some() {
        return Ok(BucketDeleted::NotEmpty);
    }
    multipart::abort_all(connection, name)?;
    connection
        .execute("DELETE FROM buckets WHERE name = ?1", [name])
        .map_err(backend)?;
    Ok(BucketDeleted::Deleted)
}

fn claim_events(
    connection: &Connection,
    owner: &str,
    now_millis: i64,
    lease_until_millis: i64,
    limit: usize,
) -> Result<Vec<ObjectEvent>> {
    let mut statement = connection
        .prepare_cached(
            "UPDATE object_events SET lease_owner = ?1, lease_until = ?3
             WHERE id IN (SELECT id FROM object_events WHERE due_millis <= ?2 AND lease_until <= ?2
                          ORDER BY due_millis, id LIMIT ?4)
             RETURNING id, bucket, key, event_name, size, etag, sequencer, time_millis, rule_id, target, attempts",
        )
        .map_err(backend)?;
    let mut events: Vec<ObjectEvent> = statement
        .query_map(params![owner, now_millis, lease_until_millis, limit as i64], |row| {
            Ok(ObjectEvent {
                id: row.get(0)?,
                bucket: row.get(1)?,
                key: row.get(2)?,
                event_name: row.get(3)?,
                size: row.get::<_, i64>(4)? as u64,
                etag: row.get(5)?,
                sequencer: row.get(6)?,
                time_millis: row.get(7)?,
                rule_id: row.get(8)?,
                target: row.get(9)?,
                attempts: row.get::<_, i64>(10)? as u32,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(backend)?;
    events.sort_by_key(|event| event.id);
    Ok(events)
}

fn list_objects(connection: &Connection, range: &KeyRange) -> Result<Vec<ObjectRecord>> {
    // Keys that start with the prefix sort together from the prefix on; the scan stops at the
    // first key past them.
    let sql = format!(
        "SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket = ?1 AND key > ?2 AND key >= ?3 ORDER BY key LIMIT ?4"
    );
    let mut statement = connection.prepare_cached(&sql).map_err(backend)?;
    let rows = statement
        .query_map(
            params![range.bucket, range.after, range.prefix, range.limit as i64],
            object_row,
        )
        .map_err(backend)?;
    let mut records = Vec::new();
    for row in rows {
        let record = finish_object(row.map_err(backend)?)?;
        if !record.key.starts_with(&range.prefix) {
            break;
        }
        records.push(record);
    }
    Ok(records)
}

#[async_trait]
impl BucketStore for SqliteStore {
    async fn create_bucket(&self, bucket: BucketRecord) -> Result<()> {
        self.writer
            .write(move |connection| create_bucket(connection, &bucket))
            .await
    }

    async fn bucket(&self, name: &str) -> Result<Option<BucketRecord>> {
        let name = name.to_owned();
        self.read(move |connection| read_bucket(connection, &name)).await
    }

    async fn list_buckets(&self) -> Result<Vec<BucketRecord>> {
        let names: Vec<String> = self
            .read(|connection| {
                connection
                    .prepare_cached("SELECT name FROM buckets ORDER BY name")
                    .and_then(|mut statement| statement.query_map([], |row| row.get(0))?.collect())
                    .map_err(backend)
            })
            .await?;
        let mut buckets = Vec::with_capacity(names.len());
        for name in names {
            if let Some(bucket) = self.bucket(&name).await? {
                buckets.push(bucket);
            }
        }
        Ok(buckets)
    }

    async fn delete_bucket(&self, name: &str) -> Result<BucketDeleted> {
        let name = name.to_owned();
        self.writer
            .write(move |connection| delete_bucket(connection, &name))
            .await
    }

    async fn set_notifications(&self, bucket: &str, rules: Vec<NotificationRule>) -> Result<bool> {
        let bucket = bucket.to_owned();
        let rules = serde_json::to_string(&rules).map_err(json_error)?;
        self.writer
            .write(move |connection| {
                connection
                    .execute(
                        "UPDATE buckets SET notifications = ?2 WHERE name = ?1",
                        params![bucket, rules],
                    )
                    .map(|changed| changed == 1)
                    .map_err(backend)
            })
            .await
    }

    async fn put_object(&self, write: ObjectWrite) -> Result<Outcome> {
        self.writer
            .write(move |connection| put_object(connection, &write))
            .await
    }

    async fn delete_object(&self, delete: ObjectDelete) -> Result<Outcome> {
        self.writer
            .write(move |connection| delete_object(connection, &delete))
            .await
    }

    async fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.read(move |connection| read_object(connection, &bucket, &key))
            .await
    }

    async fn list_objects(&self, range: KeyRange) -> Result<Vec<ObjectRecord>> {
        self.read(move |connection| list_objects(connection, &range)).await
    }

    async fn claim_object_events(
        &self,
        owner: &str,
        now_millis: i64,
        lease_until_millis: i64,
        limit: usize,
    ) -> Result<Vec<ObjectEvent>> {
        let owner = owner.to_owned();
        self.writer
            .write(move |connection| claim_events(connection, &owner, now_millis, lease_until_millis, limit))
            .await
    }

    async fn finish_object_event(&self, id: i64) -> Result<()> {
        self.writer
            .write(move |connection| {
                connection
                    .execute("DELETE FROM object_events WHERE id = ?1", [id])
                    .map(drop)
                    .map_err(backend)
            })
            .await
    }

    async fn retry_object_event(&self, id: i64, due_millis: i64) -> Result<()> {
        self.writer
            .write(move |connection| {
                connection
                    .execute(
                        "UPDATE object_events SET due_millis = ?2, attempts = attempts + 1, lease_owner = NULL,
                             lease_until = 0
                         WHERE id = ?1",
                        params![id, due_millis],
                    )
                    .map(drop)
                    .map_err(backend)
            })
            .await
    }

    async fn release_object_event_leases(&self) -> Result<()> {
        self.writer
            .write(|connection| {
                connection
                    .execute(
                        "UPDATE object_events SET lease_owner = NULL, lease_until = 0 WHERE lease_owner IS NOT NULL",
                        [],
                    )
                    .map(drop)
                    .map_err(backend)
            })
            .await
    }

    async fn due_garbage(&self, now_millis: i64, limit: usize) -> Result<Vec<String>> {
        self.read(move |connection| {
            connection
                .prepare_cached("SELECT blob FROM blob_garbage WHERE due_millis <= ?1 ORDER BY due_millis LIMIT ?2")
                .and_then(|mut statement| {
                    statement
                        .query_map(params![now_millis, limit as i64], |row| row.get(0))?
                        .collect()
                })
                .map_err(backend)
        })
        .await
    }

    async fn forget_garbage(&self, blobs: Vec<String>) -> Result<()> {
        self.writer
            .write(move |connection| {
                for blob in &blobs {
                    connection
                        .prepare_cached("DELETE FROM blob_garbage WHERE blob = ?1")
                        .and_then(|mut statement| statement.execute([blob]))
                        .map_err(backend)?;
                }
                Ok(())
            })
            .await
    }

    async fn blob_in_use(&self, blob: &str) -> Result<bool> {
        let blob = blob.to_owned();
        self.read(move |connection| {
            connection
                .prepare_cached(
                    "SELECT 1 FROM objects WHERE blob = ?1
                     UNION ALL SELECT 1 FROM multipart_parts WHERE blob = ?1 LIMIT 1",
                )
                .and_then(|mut statement| statement.query_row([&blob], |_| Ok(())).optional())
                .map(|found| found.is_some())
                .map_err(backend)
        })
        .await
    }

    async fn create_upload(&self, upload: UploadRecord) -> Result<bool> {
        self.writer
            .write(move |connection| multipart::create(connection, &upload))
            .await
    }

    async fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Option<UploadRecord>> {
        let (bucket, key, upload_id) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        self.read(move |connection| multipart::read_upload(connection, &bucket, &key, &upload_id))
            .await
    }

    async fn put_part(&self, bucket: &str, key: &str, part: PartRecord, garbage_delay_millis: i64) -> Result<bool> {
        let (bucket, key) = (bucket.to_owned(), key.to_owned());
        self.writer
            .write(move |connection| multipart::put_part(connection, &bucket, &key, &part, garbage_delay_millis))
            .await
    }

    async fn list_parts(&self, upload_id: &str, after: u32, limit: usize) -> Result<Vec<PartRecord>> {
        let upload_id = upload_id.to_owned();
        self.read(move |connection| multipart::list_parts(connection, &upload_id, after, limit))
            .await
    }

    async fn list_uploads(&self, range: UploadRange) -> Result<Vec<UploadRecord>> {
        self.read(move |connection| multipart::list_uploads(connection, &range))
            .await
    }

    async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str, now_millis: i64) -> Result<bool> {
        let (bucket, key, upload_id) = (bucket.to_owned(), key.to_owned(), upload_id.to_owned());
        self.writer
            .write(move |connection| multipart::abort(connection, &bucket, &key, &upload_id, now_millis))
            .await
    }

    async fn complete_upload(&self, completion: UploadCompletion) -> Result<Outcome> {
        self.writer
            .write(move |connection| multipart::complete(connection, &completion))
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sluice_store::objects::conformance::{bucket, run_all, write};
    use sluice_store::objects::{BucketStore, Condition, Outcome};

    use crate::SqliteStore;

    fn open() -> (tempfile::TempDir, SqliteStore) {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
        (directory, store)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn conformance() {
        let (_directory, store) = open();
        run_all(&store).await;
    }

    /// 32 writers race `If-None-Match: *` on one key, 50 rounds: exactly one wins each round;
    /// then 32 race `If-Match` with the winner's ETag: exactly one wins again.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn racing_conditional_writers_have_one_winner() {
        let (_directory, store) = open();
        let store = Arc::new(store);
        store.create_bucket(bucket("race")).await.expect("created");
        for round in 0..50 {
            let key = format!("lock-{round}");
            let winners = race(&store, &key, "create", Condition::IfNoneMatch).await;
            assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
            let etag = format!("create-{}", winners[0]);
            let winners = race(&store, &key, "update", Condition::IfMatch(etag)).await;
            assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        }
    }

    /// Each writer's ETag is `{phase}-{writer}`, so that no two writes look alike.
    async fn race(store: &Arc<SqliteStore>, key: &str, phase: &str, condition: Condition) -> Vec<usize> {
        let mut tasks = Vec::new();
        for writer in 0..32 {
            let store = store.clone();
            let etag = format!("{phase}-{writer}");
            let write = write("race", key, &etag, &format!("{key}-{etag}"), condition.clone());
            tasks.push(tokio::spawn(async move { (writer, store.put_object(write).await) }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let (writer, outcome) = task.await.expect("the writer ran");
            match outcome.expect("answered") {
                Outcome::Done(_) => winners.push(writer),
                Outcome::PreconditionFailed => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        winners
    }
}
