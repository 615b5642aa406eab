//! insert-batch (the seed's `bin/insert-batch`): a list of statuses, liked while the collector
//! was not collecting them, becomes one batch of merged pages linked in behind the head batch,
//! under the rotation lock (the state machine `insert-batch` takes the lease; `publikes
//! insert-batch` starts it).
//!
//! The batch goes between the head batch and the batch closed last, and becomes `current.last`,
//! as the seed's steps have it. Every step can be run again after a crash, by the same
//! execution's retried task or by `publikes insert-batch --batch-id` with the same batch:
//! 1. The batch object is created empty (`If-None-Match: *`), naming who inserts it.
//! 2. Each status is claimed for it (`data/private/inserted/{id}.json`, `If-None-Match: *`,
//!    already joined): a status stored before, in any batch, is a duplicate and left out, and
//!    insert-status takes a claimed status for a duplicate from then on.
//! 3. Its merged pages are written, then the batch names them.
//! 4. It is linked: its `next` is the head batch's `next`, then the head batch's `next` is it
//!    (a compare-and-swap, as inserts change the head batch too), then `current.json`'s `last` is
//!    it, with the lease's fencing token (refused under a stale token).

use chrono::Utc;
use serde::{Deserialize, Serialize};
use sluice_buckets::WriteCondition;

use crate::Error;
use crate::batches::{STATUSES_PER_PAGE, check_fence, current, new_batch_id};
use crate::layout::*;
use crate::objects::{Objects, Versioned};

/// How many times a compare-and-swap is tried again before giving up.
const ATTEMPTS: usize = 300;

/// The longest batch id insert-batch takes.
const MAX_BATCH_ID: usize = 64;

/// What inserting a batch did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InsertingBatch {
    /// The batch.
    pub batch_id: String,
    /// The statuses it holds, newest first.
    pub inserted: Vec<String>,
    /// The statuses left out because they were stored before.
    pub duplicates: Vec<String>,
}

/// A batch id for insert-batch: as the seed makes them, with the suffix `-import`.
pub fn new_import_id() -> String {
    new_batch_id("-import")
}

/// Whether `id` can name a batch: 1 to 64 ASCII letters, digits and `-`.
pub fn is_batch_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_BATCH_ID && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
}

/// Inserts `statuses` (newest first) as the batch `batch_id`, for the lease holder `owner` with
/// fencing `token`. Safe to run again with the same arguments.
pub async fn insert_batch(
    objects: &Objects,
    batch_id: &str,
    statuses: &[Entry],
    owner: &str,
    token: u64,
) -> Result<InsertingBatch, Error> {
    if !is_batch_id(batch_id) {
        return Err(Error::Invalid(format!(
            "batch_id {batch_id:?} must be 1 to {MAX_BATCH_ID} ASCII letters, digits and '-'"
        )));
    }
    if statuses.is_empty() {
        return Err(Error::Invalid("statuses must name at least one status".to_owned()));
    }
    if let Some(bad) = statuses.iter().find(|entry| !is_status_id(&entry.id)) {
        return Err(Error::Invalid(format!(
            "statuses: {:?} is not a status id (a string of digits)",
            bad.id
        )));
    }
    let (current_was, _) = current(objects).await?;
    check_fence(&current_was.value, token)?;
    let inserter = format!("insert-batch/{owner}");
    // 1. The batch, empty, or the one a run before began.
    let key = batch_key(batch_id);
    let mut batch = match objects.get::<Batch>(&key).await? {
        Some(found)
            if found
                .value
                .opened_by
                .as_deref()
                .is_some_and(|by| by.starts_with("insert-batch/")) =>
        {
            found
        }
        Some(_) => {
            return Err(Error::Invalid(format!(
                "batch {batch_id} exists and was not made by insert-batch"
            )));
        }
        None => {
            let empty = Batch {
                id: batch_id.to_owned(),
                head: false,
                closed: true,
                pages: Vec::new(),
                next: None,
                opened_by: Some(inserter.clone()),
                created_at: Utc::now().timestamp(),
                updated_at: Utc::now().timestamp(),
                update_nonce: uuid::Uuid::new_v4().to_string(),
            };
            match objects
                .put(&key, &empty, WriteCondition::IfNoneMatch, CACHE_LONG)
                .await?
            {
                Some(etag) => Versioned { value: empty, etag },
                None => return Err(Error::Contention(key)),
            }
        }
    };
    // 2. Claim each status for it.
    let mut inserted = Vec::new();
    let mut duplicates = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in statuses {
        if !seen.insert(entry.id.clone()) {
            continue;
        }
        if claim(objects, batch_id, entry).await? {
            inserted.push(entry.clone());
        } else {
            duplicates.push(entry.id.clone());
        }
    }
    // 3. Its merged pages, newest first, and the batch naming them.
    let mut pages = Vec::new();
    for (index, chunk) in inserted.chunks(STATUSES_PER_PAGE).enumerate() {
        let id = merged_page_id(batch_id, index + 1);
        let page = Page {
            id: id.clone(),
            statuses: chunk.to_vec(),
            created_at: Utc::now().timestamp(),
        };
        objects
            .put(&page_key(&id), &page, WriteCondition::Always, CACHE_LONG)
            .await?;
        pages.push(id);
    }
    if batch.value.pages != pages {
        let mut named = batch.value.clone();
        named.pages = pages;
        named.updated_at = Utc::now().timestamp();
        named.update_nonce = uuid::Uuid::new_v4().to_string();
        let condition = WriteCondition::IfMatch(batch.etag.clone());
        let etag = objects
            .put(&key, &named, condition, CACHE_LONG)
            .await?
            .ok_or_else(|| Error::Contention(key.clone()))?;
        batch = Versioned { value: named, etag };
    }
    // 4. Linked in behind the head batch.
    link(objects, batch, token).await?;
    Ok(InsertingBatch {
        batch_id: batch_id.to_owned(),
        inserted: inserted.into_iter().map(|entry| entry.id).collect(),
        duplicates,
    })
}

/// Claims a status for the batch; `false` when it was stored before, in another batch.
async fn claim(objects: &Objects, batch_id: &str, entry: &Entry) -> Result<bool, Error> {
    let key = inserted_key(&entry.id);
    let claim = Inserted {
        id: entry.id.clone(),
        ts: entry.ts,
        batch: batch_id.to_owned(),
        joined: true,
    };
    for _ in 0..ATTEMPTS {
        if let Some(found) = objects.get::<Inserted>(&key).await? {
            return Ok(found.value.batch == batch_id);
        }
        if objects
            .put(&key, &claim, WriteCondition::IfNoneMatch, CACHE_SHORT)
            .await?
            .is_some()
        {
            return Ok(true);
        }
    }
    Err(Error::Contention(key))
}

/// Links `batch` behind the head batch and makes it `current.json`'s `last`.
async fn link(objects: &Objects, mut batch: Versioned<Batch>, token: u64) -> Result<(), Error> {
    let key = batch_key(&batch.value.id);
    for _ in 0..ATTEMPTS {
        let (current_was, head_id) = current(objects).await?;
        check_fence(&current_was.value, token)?;
        let head_key = batch_key(&head_id);
        let Some(head) = objects.get::<Batch>(&head_key).await? else {
            return Err(Error::Corrupt {
                key: CURRENT.to_owned(),
                message: format!("names head batch {head_id}, which does not exist"),
            });
        };
        if head.value.next.as_deref() != Some(batch.value.id.as_str()) {
            // a. Behind it, what was behind the head batch.
            if batch.value.next != head.value.next {
                let mut pointed = batch.value.clone();
                pointed.next = head.value.next.clone();
                pointed.update_nonce = uuid::Uuid::new_v4().to_string();
                let condition = WriteCondition::IfMatch(batch.etag.clone());
                let etag = objects
                    .put(&key, &pointed, condition, CACHE_LONG)
                    .await?
                    .ok_or_else(|| Error::Contention(key.clone()))?;
                batch = Versioned { value: pointed, etag };
            }
            // b. The head batch points at it (inserts may have changed the head batch: try again).
            let mut pointing = head.value.clone();
            pointing.next = Some(batch.value.id.clone());
            pointing.updated_at = Utc::now().timestamp();
            pointing.update_nonce = uuid::Uuid::new_v4().to_string();
            let condition = WriteCondition::IfMatch(head.etag.clone());
            if objects
                .put(&head_key, &pointing, condition, CACHE_SHORT)
                .await?
                .is_none()
            {
                continue;
            }
        }
        // c. current.json names it last, under this token.
        if current_was.value.last.as_deref() == Some(batch.value.id.as_str())
            && current_was.value.lock_token == Some(token)
        {
            return Ok(());
        }
        let updated = Current {
            last: Some(batch.value.id.clone()),
            updated_at: Utc::now().timestamp(),
            lock_token: Some(token),
            ..current_was.value.clone()
        };
        let condition = WriteCondition::IfMatch(current_was.etag.clone());
        if objects.put(CURRENT, &updated, condition, CACHE_SHORT).await?.is_some() {
            return Ok(());
        }
    }
    Err(Error::Contention(format!("linking batch {}", batch.value.id)))
}
