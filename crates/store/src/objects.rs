//! Buckets and the metadata of their objects, in domain terms: which version of each key is
//! current (its ETag, size, content type, user metadata and the blob that holds its bytes), the
//! notification rules of each bucket, the outbox of object events, and the blobs no object uses
//! any more. The bytes themselves live in blob storage; this is the index that decides.
//!
//! **Architecture Invariant:** a conditional write (`If-None-Match: *`, `If-Match`) is decided
//! inside the commit that writes it, and the events it causes are written by that same commit:
//! an acknowledged write has its notifications, a refused one has none.

pub mod conformance;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::Result;

/// A bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketRecord {
    /// Its name (validated by the caller).
    pub name: String,
    /// When it was created.
    pub created_millis: i64,
    /// Where its object events go.
    pub notifications: Vec<NotificationRule>,
}

/// One notification rule: events of these names on keys with this prefix and suffix go to a
/// target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRule {
    /// The rule's id (S3's `Id`).
    pub id: String,
    /// The ARN the events go to: a function, a state machine, a queue, a bus.
    pub target: String,
    /// S3's event names: `s3:ObjectCreated:*`, `s3:ObjectRemoved:Delete`, ….
    pub events: Vec<String>,
    /// The key prefix the rule wants (empty for all).
    #[serde(default)]
    pub prefix: String,
    /// The key suffix the rule wants (empty for all).
    #[serde(default)]
    pub suffix: String,
}

impl NotificationRule {
    /// Whether an event named `event_name` (`ObjectCreated:Put`, without `s3:`) on `key` goes to
    /// this rule's target.
    pub fn matches(&self, event_name: &str, key: &str) -> bool {
        let wanted = self.events.iter().any(|pattern| {
            let pattern = pattern.strip_prefix("s3:").unwrap_or(pattern);
            match pattern.strip_suffix('*') {
                Some(family) => event_name.starts_with(family),
                None => pattern == event_name,
            }
        });
        wanted && key.starts_with(&self.prefix) && key.ends_with(&self.suffix)
    }
}

/// The current version of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRecord {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The entity tag, without quotes: the MD5 in hex for a single-part put.
    pub etag: String,
    /// The size in bytes.
    pub size: u64,
    /// The media type.
    pub content_type: String,
    /// The user metadata (`x-amz-meta-NAME`), names in lower case.
    pub user_metadata: BTreeMap<String, String>,
    /// Other stored headers: `cache-control`, `content-disposition`, `content-encoding`,
    /// `content-language`, `expires`.
    pub headers: BTreeMap<String, String>,
    /// Where the bytes are in blob storage.
    pub blob: String,
    /// When this version was written.
    pub modified_millis: i64,
}

/// The condition a write or delete holds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// None: the write replaces whatever is there.
    Always,
    /// `If-None-Match: *`: only if the key has no object.
    IfNoneMatch,
    /// `If-Match: <etag>`: only if the key's current object has this ETag.
    IfMatch(String),
}

/// A write of one object's new version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectWrite {
    /// The new version.
    pub record: ObjectRecord,
    /// What must hold for it to be written.
    pub condition: Condition,
    /// The event it causes, without `s3:`: `ObjectCreated:Put`, `ObjectCreated:Copy`, ….
    pub event_name: String,
    /// How long after the write the replaced version's blob may be deleted (readers that
    /// looked it up before may still be reading it).
    pub garbage_delay_millis: i64,
}

/// How a conditional write or delete ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Written (or deleted); the version it replaced (or removed), if any.
    Done(Option<ObjectRecord>),
    /// The bucket does not exist.
    NoSuchBucket,
    /// `If-Match` named a key that has no object.
    NoSuchKey,
    /// The condition did not hold.
    PreconditionFailed,
    /// A completion named a multipart upload that does not exist (any more).
    NoSuchUpload,
    /// A completion's parts are not the upload's parts as they are now (one was uploaded
    /// again since the completion read them).
    InvalidPart,
}

/// A multipart upload in progress: the object it will create, less its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The upload's id; ids sort in the order uploads were created.
    pub upload_id: String,
    /// The media type the object will have.
    pub content_type: String,
    /// The user metadata the object will have.
    pub user_metadata: BTreeMap<String, String>,
    /// The other stored headers the object will have.
    pub headers: BTreeMap<String, String>,
    /// When the upload was created.
    pub initiated_millis: i64,
}

/// One uploaded part of a multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartRecord {
    /// The upload.
    pub upload_id: String,
    /// 1 to 10,000.
    pub part_number: u32,
    /// The part's ETag, without quotes (its MD5 in hex).
    pub etag: String,
    /// Its size in bytes.
    pub size: u64,
    /// The blob holding its bytes.
    pub blob: String,
    /// When it was uploaded.
    pub modified_millis: i64,
}

/// The completion of a multipart upload: the object's version to write (its blob holds the
/// parts' bytes), if its condition holds and the upload's parts are still those it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadCompletion {
    /// The upload.
    pub upload_id: String,
    /// The object's new version, its condition and its event.
    pub write: ObjectWrite,
    /// The parts used, by number, with the blob each was read from.
    pub parts: Vec<(u32, String)>,
}

/// Where a page of multipart uploads starts: after this key, or after this upload of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRange {
    /// The bucket.
    pub bucket: String,
    /// The prefix keys must have.
    pub prefix: String,
    /// Uploads of keys after this one (empty: from the first)…
    pub after_key: String,
    /// …and, when given, uploads of `after_key` itself whose id sorts after this one.
    pub after_upload_id: Option<String>,
    /// At most this many.
    pub limit: usize,
}

/// A delete of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectDelete {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// `Always` or `IfMatch`.
    pub condition: Condition,
    /// When.
    pub now_millis: i64,
    /// As in [`ObjectWrite`].
    pub garbage_delay_millis: i64,
}

/// How a bucket delete ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketDeleted {
    /// Deleted.
    Deleted,
    /// No such bucket.
    NoSuchBucket,
    /// The bucket still has objects.
    NotEmpty,
}

/// An object event waiting in the outbox for its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectEvent {
    /// The outbox row.
    pub id: i64,
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// `ObjectCreated:Put`, `ObjectRemoved:Delete`, ….
    pub event_name: String,
    /// The object's size (0 for removals).
    pub size: u64,
    /// The object's ETag (empty for removals).
    pub etag: String,
    /// Orders the events of one key: larger is later (S3's `sequencer`, hex).
    pub sequencer: String,
    /// When the change was committed.
    pub time_millis: i64,
    /// The notification rule's id.
    pub rule_id: String,
    /// The ARN the event goes to.
    pub target: String,
    /// Delivery attempts before this one.
    pub attempts: u32,
}

/// A page of keys: those in `bucket` that start with `prefix` and sort after `after` (by
/// their UTF-8 bytes), at most `limit`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// The bucket.
    pub bucket: String,
    /// The prefix keys must have.
    pub prefix: String,
    /// Keys must sort after this one (empty: from the first).
    pub after: String,
    /// At most this many.
    pub limit: usize,
}

/// Buckets, object metadata, the event outbox and the blob garbage list.
#[async_trait]
pub trait BucketStore: Send + Sync + 'static {
    /// Creates a bucket; `AlreadyExists` if it exists.
    async fn create_bucket(&self, bucket: BucketRecord) -> Result<()>;

    /// A bucket by name.
    async fn bucket(&self, name: &str) -> Result<Option<BucketRecord>>;

    /// Every bucket, in name order.
    async fn list_buckets(&self) -> Result<Vec<BucketRecord>>;

    /// Deletes an empty bucket.
    async fn delete_bucket(&self, name: &str) -> Result<BucketDeleted>;

    /// Replaces a bucket's notification rules; `false` when the bucket does not exist.
    async fn set_notifications(&self, bucket: &str, rules: Vec<NotificationRule>) -> Result<bool>;

    /// Writes an object's new version if its condition holds, with the events the bucket's rules
    /// want and the replaced blob on the garbage list, in one commit.
    async fn put_object(&self, write: ObjectWrite) -> Result<Outcome>;

    /// Deletes an object if its condition holds, with its events and its blob on the garbage
    /// list, in one commit. Deleting a key that has no object is `Done(None)`.
    async fn delete_object(&self, delete: ObjectDelete) -> Result<Outcome>;

    /// The current version of an object.
    async fn object(&self, bucket: &str, key: &str) -> Result<Option<ObjectRecord>>;

    /// Objects in key order (UTF-8 byte order, as S3 lists).
    async fn list_objects(&self, range: KeyRange) -> Result<Vec<ObjectRecord>>;

    /// Events due at `now_millis` that no live lease holds, leased to `owner` until
    /// `lease_until_millis`, oldest first.
    async fn claim_object_events(
        &self,
        owner: &str,
        now_millis: i64,
        lease_until_millis: i64,
        limit: usize,
    ) -> Result<Vec<ObjectEvent>>;

    /// Removes a delivered event.
    async fn finish_object_event(&self, id: i64) -> Result<()>;

    /// Makes an event due again at `due_millis`, counting the attempt.
    async fn retry_object_event(&self, id: i64, due_millis: i64) -> Result<()>;

    /// Frees every event lease (at the start of a node that is alone on its store).
    async fn release_object_event_leases(&self) -> Result<()>;

    /// Blobs no object uses any more whose delay has passed, at most `limit`.
    async fn due_garbage(&self, now_millis: i64, limit: usize) -> Result<Vec<String>>;

    /// Forgets garbage blobs once they are deleted.
    async fn forget_garbage(&self, blobs: Vec<String>) -> Result<()>;

    /// Whether an object's current version or an upload's part uses this blob.
    async fn blob_in_use(&self, blob: &str) -> Result<bool>;

    /// Creates a multipart upload; `false` when its bucket does not exist.
    async fn create_upload(&self, upload: UploadRecord) -> Result<bool>;

    /// A multipart upload of this bucket and key.
    async fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<Option<UploadRecord>>;

    /// Records an uploaded part, replacing a part of the same number (whose blob goes on the
    /// garbage list after `garbage_delay_millis`); `false` when the upload does not exist.
    async fn put_part(&self, bucket: &str, key: &str, part: PartRecord, garbage_delay_millis: i64) -> Result<bool>;

    /// An upload's parts with numbers after `after`, in order, at most `limit`.
    async fn list_parts(&self, upload_id: &str, after: u32, limit: usize) -> Result<Vec<PartRecord>>;

    /// Uploads in progress, by key and then id.
    async fn list_uploads(&self, range: UploadRange) -> Result<Vec<UploadRecord>>;

    /// Aborts an upload: its rows go, its parts' blobs onto the garbage list; `false` when it
    /// does not exist.
    async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str, now_millis: i64) -> Result<bool>;

    /// Completes an upload in one commit: checks that it exists and that its parts are those
    /// the completion used, decides the write's condition, writes the object and its events,
    /// removes the upload, and puts every part's blob and the replaced version's on the
    /// garbage list. A refused completion changes nothing.
    async fn complete_upload(&self, completion: UploadCompletion) -> Result<Outcome>;
}

#[cfg(test)]
mod tests {
    use super::NotificationRule;

    fn rule(events: &[&str], prefix: &str, suffix: &str) -> NotificationRule {
        NotificationRule {
            id: "r".into(),
            target: "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
            events: events.iter().map(|event| (*event).to_owned()).collect(),
            prefix: prefix.into(),
            suffix: suffix.into(),
        }
    }

    #[test]
    fn rules_match_event_families_prefixes_and_suffixes() {
        let created = rule(&["s3:ObjectCreated:*"], "incoming/", ".json");
        assert!(created.matches("ObjectCreated:Put", "incoming/a.json"));
        assert!(created.matches("ObjectCreated:Copy", "incoming/b/c.json"));
        assert!(!created.matches("ObjectRemoved:Delete", "incoming/a.json"));
        assert!(!created.matches("ObjectCreated:Put", "other/a.json"));
        assert!(!created.matches("ObjectCreated:Put", "incoming/a.txt"));
        let exact = rule(&["s3:ObjectRemoved:Delete"], "", "");
        assert!(exact.matches("ObjectRemoved:Delete", "x"));
        assert!(!exact.matches("ObjectRemoved:DeleteMarkerCreated", "x"));
    }
}
