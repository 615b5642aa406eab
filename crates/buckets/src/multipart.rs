//! Multipart uploads (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>):
//! each part is written to its own blob and recorded; the completion checks the parts named
//! against those uploaded, joins their bytes into one fresh blob, and commits the object (its
//! condition decided in that commit, as a put's is) while the upload and its parts go. The
//! object's ETag is S3's: the MD5 of the parts' binary MD5s, then `-` and the number of parts.

use std::ops::Range;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use sluice_blob::Blobs;
use sluice_store::objects::{
    Condition, ObjectRecord, ObjectWrite, Outcome, PartRecord, UploadCompletion, UploadRange, UploadRecord,
};

use crate::{Buckets, Error, Result, condition_header, hex_md5, names};

/// The smallest part but the last, in bytes (5 MiB).
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;

/// The highest part number.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// A new multipart upload: the object it will create, less its bytes.
#[derive(Debug, Clone)]
pub struct CreateUpload {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The media type (`binary/octet-stream` when none was sent).
    pub content_type: Option<String>,
    /// `x-amz-meta-*`.
    pub user_metadata: std::collections::BTreeMap<String, String>,
    /// The other stored headers.
    pub headers: std::collections::BTreeMap<String, String>,
    /// When.
    pub now: DateTime<Utc>,
}

/// A page of `ListMultipartUploads`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadListing {
    /// The uploads, by key and then by when they were created.
    pub uploads: Vec<UploadRecord>,
    /// The common prefixes the delimiter rolled keys up into.
    pub common_prefixes: Vec<String>,
    /// Whether more follow.
    pub truncated: bool,
    /// Where the next page starts: a key marker and an upload id marker.
    pub next: Option<(String, String)>,
}

/// A `ListMultipartUploads` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadQuery {
    /// The bucket.
    pub bucket: String,
    /// Only keys with this prefix.
    pub prefix: String,
    /// Roll keys up at the first occurrence of this after the prefix (none when empty).
    pub delimiter: String,
    /// `key-marker`.
    pub key_marker: String,
    /// `upload-id-marker` (only with a key marker).
    pub upload_id_marker: Option<String>,
    /// At most this many uploads and common prefixes together.
    pub max_uploads: usize,
}

/// A part as the completion names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// Its number.
    pub part_number: u32,
    /// Its ETag, without quotes.
    pub etag: String,
}

impl Buckets {
    /// `CreateMultipartUpload`.
    pub async fn create_upload(&self, create: CreateUpload) -> Result<UploadRecord> {
        names::check_key(&create.key)?;
        // Ids sort in the order uploads were created, as S3 lists them.
        let upload_id = format!("{:016x}{}", create.now.timestamp_micros().max(0), Blobs::unique_id());
        let record = UploadRecord {
            bucket: create.bucket,
            key: create.key,
            upload_id,
            content_type: create
                .content_type
                .unwrap_or_else(|| crate::DEFAULT_CONTENT_TYPE.to_owned()),
            user_metadata: create.user_metadata,
            headers: create.headers,
            initiated_millis: create.now.timestamp_millis(),
        };
        if self.store().create_upload(record.clone()).await? {
            Ok(record)
        } else {
            Err(Error::NoSuchBucket { bucket: record.bucket })
        }
    }

    /// The upload, or `NoSuchBucket` / `NoSuchUpload`.
    pub async fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<UploadRecord> {
        if let Some(upload) = self.store().upload(bucket, key, upload_id).await? {
            return Ok(upload);
        }
        self.bucket(bucket).await?;
        Err(Error::NoSuchUpload {
            upload_id: upload_id.to_owned(),
        })
    }

    /// `UploadPart`: the bytes to a new blob, then the part's record (replacing a part of the
    /// same number).
    pub async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        body: Bytes,
        now: DateTime<Utc>,
    ) -> Result<PartRecord> {
        check_part_number(part_number)?;
        self.upload(bucket, key, upload_id).await?;
        let part = PartRecord {
            upload_id: upload_id.to_owned(),
            part_number,
            etag: hex_md5(&body),
            size: body.len() as u64,
            blob: Blobs::new_name(bucket),
            modified_millis: now.timestamp_millis(),
        };
        let written_at = std::time::Instant::now();
        self.inner.blobs.write(&part.blob, body).await?;
        self.check_fresh(&part.blob, written_at).await?;
        let delay = self.inner.options.garbage_delay.as_millis() as i64;
        match self.store().put_part(bucket, key, part.clone(), delay).await {
            Ok(true) => Ok(part),
            outcome => {
                self.forget_blob(&part.blob).await;
                outcome?;
                Err(Error::NoSuchUpload {
                    upload_id: upload_id.to_owned(),
                })
            }
        }
    }

    /// `UploadPartCopy`: a part holding a range of an existing object's bytes.
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_part_copy(
        &self,
        source: &ObjectRecord,
        range: Option<Range<u64>>,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: u32,
        now: DateTime<Utc>,
    ) -> Result<PartRecord> {
        check_part_number(part_number)?;
        self.upload(bucket, key, upload_id).await?;
        let body = if source.size == 0 {
            Bytes::new()
        } else {
            use futures_util::StreamExt;
            let mut stream = self.inner.blobs.read(&source.blob, range).await?;
            let mut bytes = Vec::new();
            while let Some(chunk) = stream.next().await {
                bytes.extend_from_slice(&chunk.map_err(|error| Error::Internal(error.to_string()))?);
            }
            Bytes::from(bytes)
        };
        self.upload_part(bucket, key, upload_id, part_number, body, now).await
    }

    /// `ListParts`: the upload and a page of its parts after `after`; whether more follow.
    pub async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        after: u32,
        max_parts: usize,
    ) -> Result<(UploadRecord, Vec<PartRecord>, bool)> {
        let upload = self.upload(bucket, key, upload_id).await?;
        let mut parts = self.store().list_parts(upload_id, after, max_parts + 1).await?;
        let truncated = parts.len() > max_parts;
        parts.truncate(max_parts);
        Ok((upload, parts, truncated))
    }

    /// `ListMultipartUploads`.
    pub async fn list_uploads(&self, query: &UploadQuery) -> Result<UploadListing> {
        /// How many uploads one scan of the store reads.
        const SCAN: usize = 1000;
        self.bucket(&query.bucket).await?;
        let mut listing = UploadListing {
            uploads: Vec::new(),
            common_prefixes: Vec::new(),
            truncated: false,
            next: None,
        };
        let mut after = (query.key_marker.clone(), query.upload_id_marker.clone());
        'scans: loop {
            let page = self
                .store()
                .list_uploads(UploadRange {
                    bucket: query.bucket.clone(),
                    prefix: query.prefix.clone(),
                    after_key: after.0.clone(),
                    after_upload_id: after.1.clone(),
                    limit: SCAN,
                })
                .await?;
            let exhausted = page.len() < SCAN;
            for upload in page {
                if listing.uploads.len() + listing.common_prefixes.len() >= query.max_uploads {
                    listing.truncated = true;
                    listing.next = Some((after.0, after.1.unwrap_or_default()));
                    return Ok(listing);
                }
                match crate::listing::common_prefix(&upload.key, &query.prefix, &query.delimiter) {
                    Some(common) => {
                        listing.common_prefixes.push(common.to_owned());
                        after = (format!("{common}{}", char::MAX), None);
                        continue 'scans;
                    }
                    None => {
                        after = (upload.key.clone(), Some(upload.upload_id.clone()));
                        listing.uploads.push(upload);
                    }
                }
            }
            if exhausted {
                return Ok(listing);
            }
        }
    }

    /// `AbortMultipartUpload`: the upload and its parts go; their blobs are swept.
    pub async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str, now: DateTime<Utc>) -> Result<()> {
        if self
            .store()
            .abort_upload(bucket, key, upload_id, now.timestamp_millis())
            .await?
        {
            return Ok(());
        }
        self.bucket(bucket).await?;
        Err(Error::NoSuchUpload {
            upload_id: upload_id.to_owned(),
        })
    }

    /// `CompleteMultipartUpload`: checks the parts named, joins their bytes into one blob, and
    /// commits the object if `condition` holds.
    pub async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        named: &[CompletedPart],
        condition: Condition,
        now: DateTime<Utc>,
    ) -> Result<ObjectRecord> {
        let upload = self.upload(bucket, key, upload_id).await?;
        let uploaded = self.store().list_parts(upload_id, 0, MAX_PART_NUMBER as usize).await?;
        // 1. The parts named: ascending, each uploaded with that ETag, all but the last 5 MiB.
        let mut used: Vec<&PartRecord> = Vec::with_capacity(named.len());
        for (index, wanted) in named.iter().enumerate() {
            if let Some(previous) = index.checked_sub(1).map(|before| named[before].part_number)
                && wanted.part_number <= previous
            {
                return Err(Error::InvalidPartOrder {
                    part_number: wanted.part_number,
                    previous,
                });
            }
            let part = uploaded
                .iter()
                .find(|part| part.part_number == wanted.part_number && part.etag == wanted.etag)
                .ok_or(Error::InvalidPart {
                    part_number: wanted.part_number,
                })?;
            used.push(part);
        }
        if let Some(small) = used.iter().rev().skip(1).find(|part| part.size < MIN_PART_SIZE) {
            return Err(Error::EntityTooSmall {
                part_number: small.part_number,
                size: small.size,
            });
        }
        // 2. The bytes, joined into a blob that no one else names yet.
        let blob = Blobs::new_name(bucket);
        let blobs: Vec<String> = used.iter().map(|part| part.blob.clone()).collect();
        let written_at = std::time::Instant::now();
        self.inner.blobs.concat(&blob, &blobs).await?;
        self.check_fresh(&blob, written_at).await?;
        // 3. The object, if the condition holds and the parts are still those joined.
        let record = ObjectRecord {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            etag: multipart_etag(used.iter().map(|part| part.etag.as_str())),
            size: used.iter().map(|part| part.size).sum(),
            content_type: upload.content_type,
            user_metadata: upload.user_metadata,
            headers: upload.headers,
            blob,
            modified_millis: now.timestamp_millis(),
        };
        let completion = UploadCompletion {
            upload_id: upload_id.to_owned(),
            write: ObjectWrite {
                record: record.clone(),
                condition: condition.clone(),
                event_name: "ObjectCreated:CompleteMultipartUpload".to_owned(),
                garbage_delay_millis: self.inner.options.garbage_delay.as_millis() as i64,
            },
            parts: used.iter().map(|part| (part.part_number, part.blob.clone())).collect(),
        };
        let refused = match self.store().complete_upload(completion).await {
            Ok(Outcome::Done(_)) => {
                self.inner.wake.notify_one();
                return Ok(record);
            }
            Ok(Outcome::NoSuchBucket) => Error::NoSuchBucket {
                bucket: bucket.to_owned(),
            },
            Ok(Outcome::NoSuchKey) => Error::NoSuchKey { key: key.to_owned() },
            Ok(Outcome::PreconditionFailed) => Error::PreconditionFailed {
                condition: condition_header(&condition),
            },
            Ok(Outcome::NoSuchUpload) => Error::NoSuchUpload {
                upload_id: upload_id.to_owned(),
            },
            Ok(Outcome::InvalidPart) => Error::InvalidPart {
                part_number: named.first().map(|part| part.part_number).unwrap_or_default(),
            },
            Err(error) => Error::from(error),
        };
        self.forget_blob(&record.blob).await;
        Err(refused)
    }
}

/// S3's ETag of a multipart object: the hex MD5 of the parts' binary MD5s, `-`, their count.
pub fn multipart_etag<'a>(part_etags: impl Iterator<Item = &'a str>) -> String {
    let mut digest = Md5::new();
    let mut count = 0;
    for etag in part_etags {
        let binary: Vec<u8> = (0..etag.len() / 2)
            .filter_map(|at| u8::from_str_radix(etag.get(at * 2..at * 2 + 2)?, 16).ok())
            .collect();
        digest.update(&binary);
        count += 1;
    }
    let hex: String = digest.finalize().iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{hex}-{count}")
}

fn check_part_number(part_number: u32) -> Result<()> {
    if (1..=MAX_PART_NUMBER).contains(&part_number) {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            name: "partNumber".into(),
            message: format!("Part number must be an integer between 1 and 10000, inclusive, not {part_number}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::multipart_etag;

    #[test]
    fn the_multipart_etag_is_the_md5_of_the_part_md5s() {
        // Two parts "a" and "b": md5(md5("a") ++ md5("b")), as S3 computes it.
        let a = crate::hex_md5(b"a");
        let b = crate::hex_md5(b"b");
        let mut joined = Vec::new();
        for etag in [&a, &b] {
            for at in 0..16 {
                joined.push(u8::from_str_radix(&etag[at * 2..at * 2 + 2], 16).expect("hex"));
            }
        }
        let expected = format!("{}-2", crate::hex_md5(&joined));
        assert_eq!(multipart_etag([a.as_str(), b.as_str()].into_iter()), expected);
    }
}
