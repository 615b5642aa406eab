//! Sluice's buckets: S3's semantics over blob storage ([`sluice_blob::Blobs`]) and the store's
//! object metadata ([`BucketStore`]). A put writes its bytes to a fresh, immutable blob first,
//! then commits the metadata, whose condition (`If-None-Match: *`, `If-Match`) the store decides
//! in the commit; a refused put deletes its blob. Object events go to an outbox in that same
//! commit and are delivered by [`notify`] to the targets the bucket's rules name.
//!
//! **Architecture Invariant:** metadata never names a blob that is not on disk: the blob is
//! written (and fsynced) before the commit that names it. A crash in between leaves only an
//! orphan blob, which [`Buckets::sweep_orphans`] removes.
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

pub mod deploy;
mod error;
pub mod listing;
pub mod multipart;
pub mod names;
pub mod notify;
pub mod rules;

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use md5::{Digest, Md5};
use sluice_blob::{Blobs, ByteStream};
use sluice_store::objects::{
    BucketDeleted, BucketRecord, BucketStore, Condition, ObjectDelete, ObjectRecord, ObjectWrite, Outcome,
};

pub use deploy::{DeclaredBucket, check_declared};
pub use error::{Error, Result};
pub use listing::{ListQuery, Listing};
pub use multipart::{CompletedPart, CreateUpload, UploadListing, UploadQuery};
pub use notify::{Target, Targets};
pub use sluice_store::objects::{
    Condition as WriteCondition, NotificationRule, ObjectRecord as Object, PartRecord, UploadRecord,
};

/// How the buckets behave.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long a replaced or deleted object's blob is kept for readers that found it before.
    pub garbage_delay: Duration,
    /// How old a blob that no object names must be before it counts as an orphan (a put that
    /// crashed between its blob and its commit), not a put still in flight.
    pub orphan_grace: Duration,
    /// The region in event records.
    pub region: String,
    /// This node's name, for event leases.
    pub node: String,
    /// Whether this node is alone on its store: at start it then frees the leases a previous
    /// run held at once. Nodes sharing a store let them lapse, as another node may hold them.
    pub exclusive_store: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            garbage_delay: Duration::from_secs(60),
            orphan_grace: Duration::from_secs(3600),
            region: "us-east-1".into(),
            node: "sluice-node".into(),
            exclusive_store: true,
        }
    }
}

/// The buckets service. Cheap to clone.
#[derive(Clone)]
pub struct Buckets {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Buckets {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Buckets")
            .field("blobs", &self.inner.blobs)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

struct Inner {
    store: Arc<dyn BucketStore>,
    blobs: Blobs,
    options: Options,
    /// Wakes the delivery loop after a commit that may have written events.
    wake: tokio::sync::Notify,
    /// Each bucket's key prefixes readable without a signature (its app's `public_read`).
    public_read: std::sync::RwLock<std::collections::HashMap<String, Vec<String>>>,
}

/// A put of one object.
#[derive(Debug, Clone)]
pub struct PutObject {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The bytes.
    pub body: Bytes,
    /// The media type (`binary/octet-stream` when none was sent, as S3 stores it).
    pub content_type: Option<String>,
    /// `x-amz-meta-*`, names in lower case.
    pub user_metadata: BTreeMap<String, String>,
    /// The other stored headers (`cache-control`, …).
    pub headers: BTreeMap<String, String>,
    /// `If-None-Match: *` or `If-Match`.
    pub condition: Condition,
    /// When.
    pub now: DateTime<Utc>,
}

/// Where a copy takes its metadata from (`x-amz-metadata-directive`).
#[derive(Debug, Clone)]
pub enum MetadataDirective {
    /// `COPY`: the source's.
    Copy,
    /// `REPLACE`: these.
    Replace {
        /// The media type.
        content_type: Option<String>,
        /// The user metadata.
        user_metadata: BTreeMap<String, String>,
        /// The other stored headers.
        headers: BTreeMap<String, String>,
    },
}

/// The default media type S3 gives an object stored without one.
pub const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

impl Buckets {
    /// Buckets on this store and blob storage.
    pub fn new(store: Arc<dyn BucketStore>, blobs: Blobs, options: Options) -> Buckets {
        Buckets {
            inner: Arc::new(Inner {
                store,
                blobs,
                options,
                wake: tokio::sync::Notify::new(),
                public_read: Default::default(),
            }),
        }
    }

    /// The options.
    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// `CreateBucket`.
    pub async fn create_bucket(&self, name: &str, now: DateTime<Utc>) -> Result<()> {
        names::check_bucket_name(name)?;
        let record = BucketRecord {
            name: name.to_owned(),
            created_millis: now.timestamp_millis(),
            notifications: Vec::new(),
        };
        match self.inner.store.create_bucket(record).await {
            Ok(()) => Ok(()),
            Err(sluice_store::Error::AlreadyExists { .. }) => Err(Error::BucketAlreadyOwnedByYou {
                bucket: name.to_owned(),
            }),
            Err(error) => Err(error.into()),
        }
    }

    /// `ListBuckets`.
    pub async fn list_buckets(&self) -> Result<Vec<BucketRecord>> {
        Ok(self.inner.store.list_buckets().await?)
    }

    /// `HeadBucket`: the bucket, or `NoSuchBucket`.
    pub async fn bucket(&self, name: &str) -> Result<BucketRecord> {
        self.inner.store.bucket(name).await?.ok_or_else(|| Error::NoSuchBucket {
            bucket: name.to_owned(),
        })
    }

    /// `DeleteBucket`: only an empty bucket.
    pub async fn delete_bucket(&self, name: &str) -> Result<()> {
        match self.inner.store.delete_bucket(name).await? {
            BucketDeleted::Deleted => Ok(()),
            BucketDeleted::NoSuchBucket => Err(Error::NoSuchBucket {
                bucket: name.to_owned(),
            }),
            BucketDeleted::NotEmpty => Err(Error::BucketNotEmpty {
                bucket: name.to_owned(),
            }),
        }
    }

    /// `PutBucketNotificationConfiguration`: replaces the bucket's rules.
    pub async fn set_notifications(&self, bucket: &str, rules: Vec<NotificationRule>) -> Result<()> {
        if self.inner.store.set_notifications(bucket, rules).await? {
            Ok(())
        } else {
            Err(Error::NoSuchBucket {
                bucket: bucket.to_owned(),
            })
        }
    }

    /// `PutObject`: the bytes to a new blob, then the metadata if its condition holds.
    pub async fn put_object(&self, put: PutObject) -> Result<ObjectRecord> {
        names::check_key(&put.key)?;
        // Fail fast before writing bytes; the commit checks again.
        self.bucket(&put.bucket).await?;
        let etag = hex_md5(&put.body);
        let record = ObjectRecord {
            bucket: put.bucket,
            key: put.key,
            etag,
            size: put.body.len() as u64,
            content_type: put.content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
            user_metadata: put.user_metadata,
            headers: put.headers,
            blob: String::new(),
            modified_millis: put.now.timestamp_millis(),
        };
        self.commit_new_version(record, put.body, put.condition, "ObjectCreated:Put")
            .await
    }

    /// `CopyObject`: the source's bytes to a new blob under the destination key.
    pub async fn copy_object(
        &self,
        source: &ObjectRecord,
        bucket: &str,
        key: &str,
        directive: MetadataDirective,
        condition: Condition,
        now: DateTime<Utc>,
    ) -> Result<ObjectRecord> {
        names::check_key(key)?;
        self.bucket(bucket).await?;
        let body = self.inner.blobs.read_all(&source.blob).await?;
        let (content_type, user_metadata, headers) = match directive {
            MetadataDirective::Copy => (
                source.content_type.clone(),
                source.user_metadata.clone(),
                source.headers.clone(),
            ),
            MetadataDirective::Replace {
                content_type,
                user_metadata,
                headers,
            } => (
                content_type.unwrap_or_else(|| DEFAULT_CONTENT_TYPE.to_owned()),
                user_metadata,
                headers,
            ),
        };
        let record = ObjectRecord {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            etag: source.etag.clone(),
            size: source.size,
            content_type,
            user_metadata,
            headers,
            blob: String::new(),
            modified_millis: now.timestamp_millis(),
        };
        self.commit_new_version(record, body, condition, "ObjectCreated:Copy")
            .await
    }

    async fn commit_new_version(
        &self,
        mut record: ObjectRecord,
        body: Bytes,
        condition: Condition,
        event_name: &str,
    ) -> Result<ObjectRecord> {
        // 1. The bytes, under a name no one else uses, on disk before anything names them.
        record.blob = Blobs::new_name(&record.bucket);
        let written_at = std::time::Instant::now();
        self.inner.blobs.write(&record.blob, body).await?;
        self.check_fresh(&record.blob, written_at).await?;
        // 2. The metadata, if the condition holds, with its events, in one commit.
        let write = ObjectWrite {
            record: record.clone(),
            condition: condition.clone(),
            event_name: event_name.to_owned(),
            garbage_delay_millis: self.inner.options.garbage_delay.as_millis() as i64,
        };
        let outcome = self.inner.store.put_object(write).await;
        let refused = match outcome {
            Ok(Outcome::Done(_)) => {
                self.inner.wake.notify_one();
                return Ok(record);
            }
            Ok(Outcome::NoSuchBucket) => Error::NoSuchBucket { bucket: record.bucket },
            Ok(Outcome::NoSuchKey) => Error::NoSuchKey { key: record.key },
            Ok(Outcome::PreconditionFailed) => Error::PreconditionFailed {
                condition: condition_header(&condition),
            },
            Ok(Outcome::NoSuchUpload | Outcome::InvalidPart) => {
                Error::Internal("a put was answered as a multipart completion".into())
            }
            Err(error) => Error::from(error),
        };
        // 3. A refused (or failed) write leaves no blob behind.
        self.forget_blob(&record.blob).await;
        Err(refused)
    }

    /// Refuses to commit a blob written longer ago than half the orphan grace: the orphan sweep
    /// may take any blob no object names once it is older than the grace, so a commit must
    /// never name one that old. (A write that slow is answered `InternalError`; the client
    /// retries.)
    async fn check_fresh(&self, blob: &str, written_at: std::time::Instant) -> Result<()> {
        if written_at.elapsed() <= self.inner.options.orphan_grace / 2 {
            return Ok(());
        }
        self.forget_blob(blob).await;
        Err(Error::Internal(format!(
            "writing the bytes took longer than half the orphan grace ({:?}); the write was not committed",
            self.inner.options.orphan_grace
        )))
    }

    /// Deletes the blob of a refused write; if that fails, the orphan sweep gets it.
    async fn forget_blob(&self, blob: &str) {
        if let Err(error) = self.inner.blobs.delete(blob).await {
            tracing::warn!(%blob, "cannot delete the blob of a refused write: {error}");
        }
    }

    /// The current version of an object, or `NoSuchBucket` / `NoSuchKey`.
    pub async fn object(&self, bucket: &str, key: &str) -> Result<ObjectRecord> {
        if let Some(record) = self.inner.store.object(bucket, key).await? {
            return Ok(record);
        }
        self.bucket(bucket).await?;
        Err(Error::NoSuchKey { key: key.to_owned() })
    }

    /// The bytes of an object's version, or of a range of them.
    pub async fn open(&self, record: &ObjectRecord, range: Option<Range<u64>>) -> Result<ByteStream> {
        if record.size == 0 {
            return Ok(Box::pin(futures_util::stream::empty()));
        }
        Ok(self.inner.blobs.read(&record.blob, range).await?)
    }

    /// `DeleteObject`: deleting a key that has no object succeeds, as on S3.
    pub async fn delete_object(
        &self,
        bucket: &str,
        key: &str,
        condition: Condition,
        now: DateTime<Utc>,
    ) -> Result<Option<ObjectRecord>> {
        let delete = ObjectDelete {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            condition: condition.clone(),
            now_millis: now.timestamp_millis(),
            garbage_delay_millis: self.inner.options.garbage_delay.as_millis() as i64,
        };
        match self.inner.store.delete_object(delete).await? {
            Outcome::Done(removed) => {
                self.inner.wake.notify_one();
                Ok(removed)
            }
            Outcome::NoSuchBucket => Err(Error::NoSuchBucket {
                bucket: bucket.to_owned(),
            }),
            Outcome::NoSuchKey => Err(Error::NoSuchKey { key: key.to_owned() }),
            Outcome::PreconditionFailed => Err(Error::PreconditionFailed {
                condition: condition_header(&condition),
            }),
            Outcome::NoSuchUpload | Outcome::InvalidPart => Err(Error::Internal(
                "a delete was answered as a multipart completion".into(),
            )),
        }
    }

    /// `ListObjectsV2`.
    pub async fn list_objects(&self, query: &ListQuery) -> Result<Listing> {
        self.bucket(&query.bucket).await?;
        listing::list(self.inner.store.as_ref(), query).await
    }

    /// Deletes the blobs of replaced and deleted objects whose delay has passed.
    pub async fn sweep_garbage(&self, now: DateTime<Utc>) -> Result<usize> {
        let mut swept = 0;
        loop {
            let due = self.inner.store.due_garbage(now.timestamp_millis(), 256).await?;
            if due.is_empty() {
                return Ok(swept);
            }
            for blob in &due {
                self.inner.blobs.delete(blob).await?;
            }
            swept += due.len();
            self.inner.store.forget_garbage(due).await?;
        }
    }

    /// Deletes blobs that no object names and that are older than the orphan grace: what a put
    /// left when it crashed between writing its blob and committing its metadata.
    pub async fn sweep_orphans(&self, now: DateTime<Utc>) -> Result<usize> {
        let grace = chrono::Duration::from_std(self.inner.options.orphan_grace)
            .map_err(|error| Error::Internal(error.to_string()))?;
        let mut swept = self.inner.blobs.sweep_staging(self.inner.options.orphan_grace)?;
        for blob in self.inner.blobs.list().await? {
            if blob.modified + grace > now || self.inner.store.blob_in_use(&blob.name).await? {
                continue;
            }
            self.inner.blobs.delete(&blob.name).await?;
            swept += 1;
        }
        Ok(swept)
    }

    /// Starts the background work: delivers object events to `targets` (leases a previous run
    /// held are freed first), and sweeps garbage and orphan blobs every `sweep_every`.
    pub async fn start(&self, targets: Arc<dyn Targets>, sweep_every: Duration) -> Result<()> {
        if self.inner.options.exclusive_store {
            self.inner.store.release_object_event_leases().await?;
        }
        let sweeper = self.clone();
        tokio::spawn(async move {
            loop {
                let now = Utc::now();
                if let Err(error) = sweeper.sweep_garbage(now).await {
                    tracing::warn!("the garbage sweep failed: {error}");
                }
                if let Err(error) = sweeper.sweep_orphans(now).await {
                    tracing::warn!("the orphan sweep failed: {error}");
                }
                tokio::time::sleep(sweep_every).await;
            }
        });
        let deliverer = self.clone();
        tokio::spawn(async move { notify::deliver_forever(deliverer, targets).await });
        Ok(())
    }

    fn store(&self) -> &dyn BucketStore {
        self.inner.store.as_ref()
    }
}

/// The header a failed condition came from.
fn condition_header(condition: &Condition) -> &'static str {
    match condition {
        Condition::IfMatch(_) => "If-Match",
        Condition::IfNoneMatch | Condition::Always => "If-None-Match",
    }
}

/// The hex MD5 of `bytes`: a single-part object's ETag.
pub fn hex_md5(bytes: &[u8]) -> String {
    Md5::digest(bytes).iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests;
