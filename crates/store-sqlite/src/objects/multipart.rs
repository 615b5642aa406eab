//! Multipart uploads on SQLite: uploads and their parts, and the completion that turns an
//! upload into an object in one commit.

use rusqlite::{Connection, OptionalExtension, Row, params};
use sluice_store::Result;
use sluice_store::objects::{Outcome, PartRecord, UploadCompletion, UploadRange, UploadRecord};

use super::{add_garbage, json_error, put_object, read_bucket};
use crate::backend;

const UPLOAD_COLUMNS: &str = "bucket, key, upload_id, content_type, user_metadata, headers, initiated_millis";
const PART_COLUMNS: &str = "upload_id, part_number, etag, size, blob, modified_millis";

fn upload_row(row: &Row<'_>) -> rusqlite::Result<(UploadRecord, String, String)> {
    Ok((
        UploadRecord {
            bucket: row.get(0)?,
            key: row.get(1)?,
            upload_id: row.get(2)?,
            content_type: row.get(3)?,
            user_metadata: Default::default(),
            headers: Default::default(),
            initiated_millis: row.get(6)?,
        },
        row.get(4)?,
        row.get(5)?,
    ))
}

fn finish_upload((mut record, user_metadata, headers): (UploadRecord, String, String)) -> Result<UploadRecord> {
    record.user_metadata = serde_json::from_str(&user_metadata).map_err(json_error)?;
    record.headers = serde_json::from_str(&headers).map_err(json_error)?;
    Ok(record)
}

fn part_row(row: &Row<'_>) -> rusqlite::Result<PartRecord> {
    Ok(PartRecord {
        upload_id: row.get(0)?,
        part_number: row.get::<_, i64>(1)? as u32,
        etag: row.get(2)?,
        size: row.get::<_, i64>(3)? as u64,
        blob: row.get(4)?,
        modified_millis: row.get(5)?,
    })
}

pub(crate) fn create(connection: &Connection, upload: &UploadRecord) -> Result<bool> {
    if read_bucket(connection, &upload.bucket)?.is_none() {
        return Ok(false);
    }
    let user_metadata = serde_json::to_string(&upload.user_metadata).map_err(json_error)?;
    let headers = serde_json::to_string(&upload.headers).map_err(json_error)?;
    connection
        .prepare_cached(&format!(
            "INSERT INTO multipart_uploads ({UPLOAD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        ))
        .and_then(|mut statement| {
            statement.execute(params![
                upload.bucket,
                upload.key,
                upload.upload_id,
                upload.content_type,
                user_metadata,
                headers,
                upload.initiated_millis
            ])
        })
        .map_err(backend)?;
    Ok(true)
}

pub(crate) fn read_upload(
    connection: &Connection,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Option<UploadRecord>> {
    connection
        .prepare_cached(&format!(
            "SELECT {UPLOAD_COLUMNS} FROM multipart_uploads WHERE bucket = ?1 AND key = ?2 AND upload_id = ?3"
        ))
        .and_then(|mut statement| {
            statement
                .query_row(params![bucket, key, upload_id], upload_row)
                .optional()
        })
        .map_err(backend)?
        .map(finish_upload)
        .transpose()
}

fn part_blob(connection: &Connection, upload_id: &str, part_number: u32) -> Result<Option<String>> {
    connection
        .prepare_cached("SELECT blob FROM multipart_parts WHERE upload_id = ?1 AND part_number = ?2")
        .and_then(|mut statement| {
            statement
                .query_row(params![upload_id, part_number], |row| row.get(0))
                .optional()
        })
        .map_err(backend)
}

pub(crate) fn put_part(
    connection: &Connection,
    bucket: &str,
    key: &str,
    part: &PartRecord,
    garbage_delay_millis: i64,
) -> Result<bool> {
    if read_upload(connection, bucket, key, &part.upload_id)?.is_none() {
        return Ok(false);
    }
    if let Some(replaced) = part_blob(connection, &part.upload_id, part.part_number)?
        && replaced != part.blob
    {
        add_garbage(connection, &replaced, part.modified_millis + garbage_delay_millis)?;
    }
    connection
        .prepare_cached(&format!(
            "INSERT OR REPLACE INTO multipart_parts ({PART_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
        ))
        .and_then(|mut statement| {
            statement.execute(params![
                part.upload_id,
                part.part_number,
                part.etag,
                part.size as i64,
                part.blob,
                part.modified_millis
            ])
        })
        .map_err(backend)?;
    Ok(true)
}

pub(crate) fn list_parts(
    connection: &Connection,
    upload_id: &str,
    after: u32,
    limit: usize,
) -> Result<Vec<PartRecord>> {
    connection
        .prepare_cached(&format!(
            "SELECT {PART_COLUMNS} FROM multipart_parts WHERE upload_id = ?1 AND part_number > ?2
             ORDER BY part_number LIMIT ?3"
        ))
        .and_then(|mut statement| {
            statement
                .query_map(params![upload_id, after, limit as i64], part_row)?
                .collect()
        })
        .map_err(backend)
}

pub(crate) fn list_uploads(connection: &Connection, range: &UploadRange) -> Result<Vec<UploadRecord>> {
    let sql = format!(
        "SELECT {UPLOAD_COLUMNS} FROM multipart_uploads
         WHERE bucket = ?1 AND key >= ?2 AND (key > ?3 OR (key = ?3 AND ?4 IS NOT NULL AND upload_id > ?4))
         ORDER BY key, upload_id LIMIT ?5"
    );
    let mut statement = connection.prepare_cached(&sql).map_err(backend)?;
    let rows = statement
        .query_map(
            params![
                range.bucket,
                range.prefix,
                range.after_key,
                range.after_upload_id,
                range.limit as i64
            ],
            upload_row,
        )
        .map_err(backend)?;
    let mut uploads = Vec::new();
    for row in rows {
        let upload = finish_upload(row.map_err(backend)?)?;
        if !upload.key.starts_with(&range.prefix) {
            break;
        }
        uploads.push(upload);
    }
    Ok(uploads)
}

/// Removes an upload and its parts, their blobs onto the garbage list due at `due_millis`.
fn remove(connection: &Connection, upload_id: &str, due_millis: i64) -> Result<()> {
    let blobs: Vec<String> = connection
        .prepare_cached("SELECT blob FROM multipart_parts WHERE upload_id = ?1")
        .and_then(|mut statement| statement.query_map([upload_id], |row| row.get(0))?.collect())
        .map_err(backend)?;
    for blob in &blobs {
        add_garbage(connection, blob, due_millis)?;
    }
    connection
        .prepare_cached("DELETE FROM multipart_parts WHERE upload_id = ?1")
        .and_then(|mut statement| statement.execute([upload_id]))
        .map_err(backend)?;
    connection
        .prepare_cached("DELETE FROM multipart_uploads WHERE upload_id = ?1")
        .and_then(|mut statement| statement.execute([upload_id]))
        .map_err(backend)?;
    Ok(())
}

pub(crate) fn abort(
    connection: &Connection,
    bucket: &str,
    key: &str,
    upload_id: &str,
    now_millis: i64,
) -> Result<bool> {
    if read_upload(connection, bucket, key, upload_id)?.is_none() {
        return Ok(false);
    }
    remove(connection, upload_id, now_millis)?;
    Ok(true)
}

/// Aborts every upload of a bucket (which is being deleted).
pub(crate) fn abort_all(connection: &Connection, bucket: &str) -> Result<()> {
    let ids: Vec<String> = connection
        .prepare_cached("SELECT upload_id FROM multipart_uploads WHERE bucket = ?1")
        .and_then(|mut statement| statement.query_map([bucket], |row| row.get(0))?.collect())
        .map_err(backend)?;
    for id in ids {
        remove(connection, &id, 0)?;
    }
    Ok(())
}

pub(crate) fn complete(connection: &Connection, completion: &UploadCompletion) -> Result<Outcome> {
    let record = &completion.write.record;
    if read_bucket(connection, &record.bucket)?.is_none() {
        return Ok(Outcome::NoSuchBucket);
    }
    if read_upload(connection, &record.bucket, &record.key, &completion.upload_id)?.is_none() {
        return Ok(Outcome::NoSuchUpload);
    }
    for (number, blob) in &completion.parts {
        if part_blob(connection, &completion.upload_id, *number)?.as_deref() != Some(blob.as_str()) {
            return Ok(Outcome::InvalidPart);
        }
    }
    let outcome = put_object(connection, &completion.write)?;
    if let Outcome::Done(_) = &outcome {
        remove(
            connection,
            &completion.upload_id,
            record.modified_millis + completion.write.garbage_delay_millis,
        )?;
    }
    Ok(outcome)
}
