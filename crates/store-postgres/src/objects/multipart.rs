//! Multipart uploads on PostgreSQL: uploads and their parts, and the completion that turns an
//! upload into an object in one commit. A part's write, an abort and a completion lock the
//! upload's row first, so a completion sees the parts as they are when it commits (a part
//! uploaded again meanwhile waits, then finds the upload gone), on any node.

use sluice_store::Result;
use sluice_store::objects::{Outcome, PartRecord, UploadCompletion, UploadRange, UploadRecord};
use tokio_postgres::Row;

use super::{add_garbage, json_error, put_object, read_bucket};
use crate::{Tx, execute, query, query_opt};

/// Multipart uploads and their parts (appended to the migrations after [`super::MIGRATION`]).
pub(crate) const MIGRATION: &str = r#"
CREATE TABLE multipart_uploads (
    bucket TEXT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    upload_id TEXT COLLATE "C" NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    user_metadata TEXT NOT NULL,
    headers TEXT NOT NULL,
    initiated_millis BIGINT NOT NULL,
    PRIMARY KEY (bucket, key, upload_id)
);
CREATE TABLE multipart_parts (
    upload_id TEXT NOT NULL,
    part_number BIGINT NOT NULL,
    etag TEXT NOT NULL,
    size BIGINT NOT NULL,
    blob TEXT NOT NULL,
    modified_millis BIGINT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
CREATE INDEX multipart_parts_by_blob ON multipart_parts (blob);
"#;

const UPLOAD_COLUMNS: &str = "bucket, key, upload_id, content_type, user_metadata, headers, initiated_millis";
const PART_COLUMNS: &str = "upload_id, part_number, etag, size, blob, modified_millis";

fn upload_row(row: &Row) -> Result<UploadRecord> {
    Ok(UploadRecord {
        bucket: row.get(0),
        key: row.get(1),
        upload_id: row.get(2),
        content_type: row.get(3),
        user_metadata: serde_json::from_str(row.get(4)).map_err(json_error)?,
        headers: serde_json::from_str(row.get(5)).map_err(json_error)?,
        initiated_millis: row.get(6),
    })
}

fn part_row(row: &Row) -> PartRecord {
    PartRecord {
        upload_id: row.get(0),
        part_number: row.get::<_, i64>(1).clamp(0, i64::from(u32::MAX)) as u32,
        etag: row.get(2),
        size: row.get::<_, i64>(3).max(0) as u64,
        blob: row.get(4),
        modified_millis: row.get(5),
    }
}

pub(crate) async fn create(tx: &Tx<'_>, upload: &UploadRecord) -> Result<bool> {
    // The bucket's row is share-locked, so the bucket is not deleted under its new upload.
    if query_opt(
        tx,
        "SELECT 1 FROM buckets WHERE name = $1 FOR KEY SHARE",
        &[&upload.bucket],
    )
    .await?
    .is_none()
    {
        return Ok(false);
    }
    let user_metadata = serde_json::to_string(&upload.user_metadata).map_err(json_error)?;
    let headers = serde_json::to_string(&upload.headers).map_err(json_error)?;
    execute(
        tx,
        &format!("INSERT INTO multipart_uploads ({UPLOAD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"),
        &[
            &upload.bucket,
            &upload.key,
            &upload.upload_id,
            &upload.content_type,
            &user_metadata,
            &headers,
            &upload.initiated_millis,
        ],
    )
    .await?;
    Ok(true)
}

/// An upload; `lock` holds its row until the transaction ends.
pub(crate) async fn read_upload(
    tx: &Tx<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
    lock: bool,
) -> Result<Option<UploadRecord>> {
    let sql = format!(
        "SELECT {UPLOAD_COLUMNS} FROM multipart_uploads WHERE bucket = $1 AND key = $2 AND upload_id = $3{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    query_opt(tx, &sql, &[&bucket, &key, &upload_id])
        .await?
        .as_ref()
        .map(upload_row)
        .transpose()
}

async fn part_blob(tx: &Tx<'_>, upload_id: &str, part_number: u32) -> Result<Option<String>> {
    Ok(query_opt(
        tx,
        "SELECT blob FROM multipart_parts WHERE upload_id = $1 AND part_number = $2",
        &[&upload_id, &i64::from(part_number)],
    )
    .await?
    .map(|row| row.get(0)))
}

pub(crate) async fn put_part(
    tx: &Tx<'_>,
    bucket: &str,
    key: &str,
    part: &PartRecord,
    garbage_delay_millis: i64,
) -> Result<bool> {
    if read_upload(tx, bucket, key, &part.upload_id, true).await?.is_none() {
        return Ok(false);
    }
    if let Some(replaced) = part_blob(tx, &part.upload_id, part.part_number).await?
        && replaced != part.blob
    {
        add_garbage(tx, &replaced, part.modified_millis + garbage_delay_millis).await?;
    }
    execute(
        tx,
        &format!(
            "INSERT INTO multipart_parts ({PART_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (upload_id, part_number) DO UPDATE SET etag = excluded.etag, size = excluded.size,
                 blob = excluded.blob, modified_millis = excluded.modified_millis"
        ),
        &[
            &part.upload_id,
            &i64::from(part.part_number),
            &part.etag,
            &(part.size as i64),
            &part.blob,
            &part.modified_millis,
        ],
    )
    .await?;
    Ok(true)
}

pub(crate) async fn list_parts(tx: &Tx<'_>, upload_id: &str, after: u32, limit: usize) -> Result<Vec<PartRecord>> {
    let rows = query(
        tx,
        &format!(
            "SELECT {PART_COLUMNS} FROM multipart_parts WHERE upload_id = $1 AND part_number > $2
             ORDER BY part_number LIMIT $3"
        ),
        &[&upload_id, &i64::from(after), &(limit as i64)],
    )
    .await?;
    Ok(rows.iter().map(part_row).collect())
}

pub(crate) async fn list_uploads(tx: &Tx<'_>, range: &UploadRange) -> Result<Vec<UploadRecord>> {
    let rows = query(
        tx,
        &format!(
            "SELECT {UPLOAD_COLUMNS} FROM multipart_uploads
             WHERE bucket = $1 AND key >= $2
               AND (key > $3 OR (key = $3 AND $4::TEXT IS NOT NULL AND upload_id > $4))
             ORDER BY key, upload_id LIMIT $5"
        ),
        &[
            &range.bucket,
            &range.prefix,
            &range.after_key,
            &range.after_upload_id,
            &(range.limit as i64),
        ],
    )
    .await?;
    let mut uploads = Vec::new();
    for row in &rows {
        let upload = upload_row(row)?;
        if !upload.key.starts_with(&range.prefix) {
            break;
        }
        uploads.push(upload);
    }
    Ok(uploads)
}

/// Removes an upload and its parts, their blobs onto the garbage list due at `due_millis`.
async fn remove(tx: &Tx<'_>, upload_id: &str, due_millis: i64) -> Result<()> {
    let blobs = query(
        tx,
        "DELETE FROM multipart_parts WHERE upload_id = $1 RETURNING blob",
        &[&upload_id],
    )
    .await?;
    for row in &blobs {
        add_garbage(tx, row.get(0), due_millis).await?;
    }
    execute(tx, "DELETE FROM multipart_uploads WHERE upload_id = $1", &[&upload_id]).await?;
    Ok(())
}

pub(crate) async fn abort(tx: &Tx<'_>, bucket: &str, key: &str, upload_id: &str, now_millis: i64) -> Result<bool> {
    if read_upload(tx, bucket, key, upload_id, true).await?.is_none() {
        return Ok(false);
    }
    remove(tx, upload_id, now_millis).await?;
    Ok(true)
}

/// Aborts every upload of a bucket (which is being deleted, its row locked).
pub(crate) async fn abort_all(tx: &Tx<'_>, bucket: &str) -> Result<()> {
    let ids = query(
        tx,
        "SELECT upload_id FROM multipart_uploads WHERE bucket = $1 ORDER BY upload_id FOR UPDATE",
        &[&bucket],
    )
    .await?;
    for row in &ids {
        remove(tx, row.get(0), 0).await?;
    }
    Ok(())
}

pub(crate) async fn complete(tx: &Tx<'_>, completion: &UploadCompletion) -> Result<Outcome> {
    let record = &completion.write.record;
    // The bucket first (as every object write), then the upload: one order everywhere.
    if read_bucket(tx, &record.bucket, true).await?.is_none() {
        return Ok(Outcome::NoSuchBucket);
    }
    if read_upload(tx, &record.bucket, &record.key, &completion.upload_id, true)
        .await?
        .is_none()
    {
        return Ok(Outcome::NoSuchUpload);
    }
    for (number, blob) in &completion.parts {
        if part_blob(tx, &completion.upload_id, *number).await?.as_deref() != Some(blob.as_str()) {
            return Ok(Outcome::InvalidPart);
        }
    }
    let outcome = put_object(tx, &completion.write).await?;
    if let Outcome::Done(_) = &outcome {
        remove(
            tx,
            &completion.upload_id,
            record.modified_millis + completion.write.garbage_delay_millis,
        )
        .await?;
    }
    Ok(outcome)
}
