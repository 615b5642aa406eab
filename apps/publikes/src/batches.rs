//! The linked list of batches: inserting a status into the head batch, closing the head batch,
//! and merging a closed batch's head pages into larger pages.
//!
//! Where the seed races, this does not:
//! - `current.json` and batches change only by compare-and-swap (`If-Match`), each version with a
//!   fresh nonce so that no two versions share an ETag.
//! - A status joins a batch by a compare-and-swap that also checks the batch is not closed;
//!   closing is itself a compare-and-swap, so after it no status joins, and the merge that follows
//!   sees every status that did.
//! - `data/private/inserted/{id}.json` is claimed with `If-None-Match: *` before a status joins,
//!   and says whether it did, so a redelivered or repeated like is stored once, in one batch.
//! - The merge takes the batch's pages in written order, adds any head page that only a prefix
//!   listing finds (page `000000`), and deletes only the head pages it merged.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use sluice_buckets::WriteCondition;

use crate::Error;
use crate::layout::*;
use crate::objects::{Objects, Versioned};

/// Statuses per merged page.
pub const STATUSES_PER_PAGE: usize = 10;

/// How many times a compare-and-swap is tried again before the caller gives up (the queue
/// redelivers the message, the state machine retries the task).
const ATTEMPTS: usize = 300;

/// What inserting a status did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Inserting {
    /// It joined this batch.
    Inserted {
        /// The batch.
        batch: String,
    },
    /// It was stored before, in this batch.
    Duplicate {
        /// The batch.
        batch: String,
    },
}

/// What closing the head batch did (the seed's `close_batch` output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Closing {
    /// Whether a batch was closed (nothing is closed when the head batch is empty).
    pub closed: bool,
    /// The batch closed.
    pub closed_head_id: Option<String>,
    /// The new head batch.
    pub new_head_id: Option<String>,
    /// `current.json` before.
    pub current_was: Current,
    /// `current.json` after.
    pub current: Current,
}

/// What merging a batch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Merging {
    /// The batch.
    pub batch_id: String,
    /// Statuses in its merged pages.
    pub statuses: usize,
    /// Of those, how many only the prefix listing found.
    pub late: usize,
    /// Whether it had been merged already (a retried merge only cleans up).
    pub already_merged: bool,
}

/// A new batch id: tenths of milliseconds since the epoch, as the seed makes them, and a suffix.
pub fn new_batch_id(suffix: &str) -> String {
    let tenths = Utc::now().timestamp_micros() / 100;
    let random: u16 = rand::random();
    format!("{tenths}{random:04x}{suffix}")
}

fn nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now_seconds() -> i64 {
    Utc::now().timestamp()
}

/// `current.json`, bootstrapping the first head batch when there is none.
pub async fn current(objects: &Objects) -> Result<(Versioned<Current>, String), Error> {
    for _ in 0..ATTEMPTS {
        let existing = objects.get::<Current>(CURRENT).await?;
        if let Some(found) = &existing
            && let Some(head) = found.value.head.clone()
        {
            return Ok((found.clone(), head));
        }
        let id = new_batch_id("-auto");
        let batch = Batch {
            id: id.clone(),
            head: true,
            closed: false,
            pages: Vec::new(),
            next: existing.as_ref().and_then(|found| found.value.last.clone()),
            opened_by: None,
            created_at: now_seconds(),
            updated_at: now_seconds(),
            update_nonce: nonce(),
        };
        if objects
            .put(&batch_key(&id), &batch, WriteCondition::IfNoneMatch, CACHE_SHORT)
            .await?
            .is_none()
        {
            continue;
        }
        let current = Current {
            head: Some(id),
            last: existing.as_ref().and_then(|found| found.value.last.clone()),
            updated_at: now_seconds(),
        };
        let condition = match &existing {
            Some(found) => WriteCondition::IfMatch(found.etag.clone()),
            None => WriteCondition::IfNoneMatch,
        };
        // Losing this race leaves an unreferenced empty batch, which nothing reads.
        objects.put(CURRENT, &current, condition, CACHE_SHORT).await?;
    }
    Err(Error::Contention(CURRENT.to_owned()))
}

/// Inserts a liked status into the head batch, once however often it is liked or delivered.
pub async fn insert_status(objects: &Objects, id: &str, ts: i64) -> Result<Inserting, Error> {
    if !is_status_id(id) {
        return Err(Error::Invalid(format!("status id {id:?} is not a string of digits")));
    }
    let marker_key = inserted_key(id);
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(20 + 10 * attempt.min(20) as u64)).await;
        }
        let (_, head) = current(objects).await?;
        // 1. Claim the status for the head batch, or find where it went.
        let marker = match objects.get::<Inserted>(&marker_key).await? {
            Some(marker) => marker,
            None => {
                let claim = Inserted {
                    id: id.to_owned(),
                    ts,
                    batch: head.clone(),
                    joined: false,
                };
                match objects
                    .put(&marker_key, &claim, WriteCondition::IfNoneMatch, CACHE_SHORT)
                    .await?
                {
                    Some(etag) => Versioned { value: claim, etag },
                    None => continue,
                }
            }
        };
        let batch_id = marker.value.batch.clone();
        let page = head_page_id(&batch_id, id);
        let Some(batch) = objects.get::<Batch>(&batch_key(&batch_id)).await? else {
            return Err(Error::Corrupt {
                key: marker_key,
                message: format!("names batch {batch_id}, which does not exist"),
            });
        };
        // 2. Already in its batch (a repeat, or a retry after a crash): make sure its head page
        // is there while the batch is unmerged.
        let in_batch = marker.value.joined
            || batch.value.pages.contains(&page)
            || (!batch.value.head && in_merged_pages(objects, &batch.value, id).await?);
        if in_batch {
            if batch.value.head {
                write_head_page(objects, &batch_id, &marker.value).await?;
            }
            return Ok(Inserting::Duplicate { batch: batch_id });
        }
        // 3. Its batch closed before it joined: move the claim to the head batch and go again.
        if batch.value.closed || !batch.value.head {
            if batch_id != head {
                let moved = Inserted {
                    batch: head.clone(),
                    joined: false,
                    ..marker.value.clone()
                };
                objects
                    .put(
                        &marker_key,
                        &moved,
                        WriteCondition::IfMatch(marker.etag.clone()),
                        CACHE_SHORT,
                    )
                    .await?;
            }
            continue;
        }
        // 4. Join the batch, newest first, unless it closed meanwhile.
        let mut joined = batch.value.clone();
        joined.pages.insert(0, page);
        joined.updated_at = now_seconds();
        joined.update_nonce = nonce();
        let condition = WriteCondition::IfMatch(batch.etag.clone());
        if objects
            .put(&batch_key(&batch_id), &joined, condition, CACHE_SHORT)
            .await?
            .is_some()
        {
            write_head_page(objects, &batch_id, &marker.value).await?;
            // Lets a repeat answer at once; if this is lost, a repeat looks in the batch instead.
            let done = Inserted {
                joined: true,
                ..marker.value.clone()
            };
            objects
                .put(
                    &marker_key,
                    &done,
                    WriteCondition::IfMatch(marker.etag.clone()),
                    CACHE_SHORT,
                )
                .await?;
            return Ok(Inserting::Inserted { batch: batch_id });
        }
    }
    Err(Error::Contention(format!("inserting status {id}")))
}

/// Whether a merged batch's pages hold a status.
async fn in_merged_pages(objects: &Objects, batch: &Batch, status: &str) -> Result<bool, Error> {
    for page in &batch.pages {
        if let Some(found) = objects.get::<Page>(&page_key(page)).await?
            && found.value.statuses.iter().any(|entry| entry.id == status)
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Writes a status's head page if it is not there.
async fn write_head_page(objects: &Objects, batch: &str, inserted: &Inserted) -> Result<(), Error> {
    let id = head_page_id(batch, &inserted.id);
    let page = Page {
        id: id.clone(),
        statuses: vec![Entry {
            id: inserted.id.clone(),
            ts: inserted.ts,
        }],
        created_at: now_seconds(),
    };
    objects
        .put(&page_key(&id), &page, WriteCondition::IfNoneMatch, CACHE_SHORT)
        .await?;
    Ok(())
}

/// Closes the head batch (under the rotation lock): marks it closed, so no status joins it any
/// more, makes a new head batch whose `next` is the closed one, and points `current.json` at it.
/// An empty head batch is left open unless `force`. `rotation` names the caller (the lock id):
/// run again by the same rotation after a crash, it answers what the first run did.
pub async fn close_batch(objects: &Objects, rotation: &str, force: bool) -> Result<Closing, Error> {
    for _ in 0..ATTEMPTS {
        let (current_was, head) = current(objects).await?;
        let key = batch_key(&head);
        let Some(batch) = objects.get::<Batch>(&key).await? else {
            return Err(Error::Corrupt {
                key: CURRENT.to_owned(),
                message: format!("names head batch {head}, which does not exist"),
            });
        };
        if batch.value.opened_by.as_deref() == Some(rotation) {
            return Ok(Closing {
                closed: batch.value.next.is_some(),
                closed_head_id: batch.value.next.clone(),
                new_head_id: Some(head),
                current: current_was.value.clone(),
                current_was: Current {
                    head: batch.value.next.clone(),
                    ..current_was.value
                },
            });
        }
        if batch.value.pages.is_empty() && !batch.value.closed && !force {
            return Ok(Closing {
                closed: false,
                closed_head_id: None,
                new_head_id: None,
                current: current_was.value.clone(),
                current_was: current_was.value,
            });
        }
        // 1. Close it: from here on no status joins it.
        if !batch.value.closed {
            let mut closed = batch.value.clone();
            closed.closed = true;
            closed.updated_at = now_seconds();
            closed.update_nonce = nonce();
            let condition = WriteCondition::IfMatch(batch.etag.clone());
            if objects.put(&key, &closed, condition, CACHE_SHORT).await?.is_none() {
                continue;
            }
        }
        // 2. The new head batch.
        let new_head = new_batch_id("");
        let fresh = Batch {
            id: new_head.clone(),
            head: true,
            closed: false,
            pages: Vec::new(),
            next: Some(head.clone()),
            opened_by: Some(rotation.to_owned()),
            created_at: now_seconds(),
            updated_at: now_seconds(),
            update_nonce: nonce(),
        };
        if objects
            .put(&batch_key(&new_head), &fresh, WriteCondition::IfNoneMatch, CACHE_SHORT)
            .await?
            .is_none()
        {
            continue;
        }
        // 3. Point current.json at it.
        let current = Current {
            head: Some(new_head.clone()),
            last: Some(head.clone()),
            updated_at: now_seconds(),
        };
        let condition = WriteCondition::IfMatch(current_was.etag.clone());
        if objects.put(CURRENT, &current, condition, CACHE_SHORT).await?.is_some() {
            return Ok(Closing {
                closed: true,
                closed_head_id: Some(head),
                new_head_id: Some(new_head),
                current_was: current_was.value,
                current,
            });
        }
    }
    Err(Error::Contention("closing the head batch".to_owned()))
}

/// Merges a closed batch's head pages into pages of [`STATUSES_PER_PAGE`] under
/// `pages/merged/{batch}/`, newest first, with late pages (found only by listing) in page
/// `000000`; then replaces the batch and deletes the head pages it merged. Safe to run again.
pub async fn merge_batch(objects: &Objects, batch_id: &str) -> Result<Merging, Error> {
    let key = batch_key(batch_id);
    for _ in 0..ATTEMPTS {
        let Some(batch) = objects.get::<Batch>(&key).await? else {
            return Err(Error::NotFound(format!("batch {batch_id}")));
        };
        let prefix = head_pages_prefix(batch_id);
        let listed = objects.list(&prefix).await?;
        // Already merged (a retry after a crash): only the cleanup may be left.
        if !batch.value.head {
            let mut merged = std::collections::HashSet::new();
            for page in &batch.value.pages {
                if let Some(found) = objects.get::<Page>(&page_key(page)).await? {
                    merged.extend(found.value.statuses.into_iter().map(|entry| entry.id));
                }
            }
            for listed_key in &listed {
                if listed_key
                    .strip_prefix(&prefix)
                    .and_then(|name| name.strip_suffix(".json"))
                    .is_some_and(|status| merged.contains(status))
                {
                    objects.delete(listed_key, WriteCondition::Always).await?;
                }
            }
            return Ok(Merging {
                batch_id: batch_id.to_owned(),
                statuses: merged.len(),
                late: 0,
                already_merged: true,
            });
        }
        if !batch.value.closed {
            return Err(Error::Invalid(format!(
                "batch {batch_id} is still open; close it first"
            )));
        }
        // 1. The batch's pages, oldest first, as written.
        let mut seen = std::collections::HashSet::new();
        let mut written = Vec::new();
        for page in batch.value.pages.iter().rev() {
            let Some(status) = page.rsplit('/').next() else {
                continue;
            };
            if seen.insert(status.to_owned()) {
                written.push(entry_of(objects, batch_id, status).await?);
            }
        }
        // 2. Pages that only the listing finds.
        let mut late = Vec::new();
        for listed_key in &listed {
            let Some(status) = listed_key
                .strip_prefix(&prefix)
                .and_then(|name| name.strip_suffix(".json"))
            else {
                continue;
            };
            if seen.insert(status.to_owned()) {
                late.push(entry_of(objects, batch_id, status).await?);
            }
        }
        late.sort_by_key(|entry| std::cmp::Reverse(entry.ts));
        // 3. The merged pages, newest first.
        written.reverse();
        let mut pages = Vec::new();
        if !late.is_empty() {
            pages.push((merged_page_id(batch_id, 0), late.clone()));
        }
        for (index, chunk) in written.chunks(STATUSES_PER_PAGE).enumerate() {
            pages.push((merged_page_id(batch_id, index + 1), chunk.to_vec()));
        }
        for (id, statuses) in &pages {
            let page = Page {
                id: id.clone(),
                statuses: statuses.clone(),
                created_at: now_seconds(),
            };
            objects
                .put(&page_key(id), &page, WriteCondition::Always, CACHE_LONG)
                .await?;
        }
        // 4. The batch, now pointing at them.
        let mut merged = batch.value.clone();
        merged.head = false;
        merged.pages = pages.iter().map(|(id, _)| id.clone()).collect();
        merged.updated_at = now_seconds();
        merged.update_nonce = nonce();
        let condition = WriteCondition::IfMatch(batch.etag.clone());
        if objects.put(&key, &merged, condition, CACHE_LONG).await?.is_none() {
            continue;
        }
        // 5. The head pages it merged, and no other.
        for (_, statuses) in &pages {
            for entry in statuses {
                objects
                    .delete(&page_key(&head_page_id(batch_id, &entry.id)), WriteCondition::Always)
                    .await?;
            }
        }
        return Ok(Merging {
            batch_id: batch_id.to_owned(),
            statuses: written.len() + late.len(),
            late: late.len(),
            already_merged: false,
        });
    }
    Err(Error::Contention(format!("merging batch {batch_id}")))
}

/// A status of a batch with the time it was liked: from its head page, or from its insertion
/// record when the page was not written (a crash between joining and writing it).
async fn entry_of(objects: &Objects, batch: &str, status: &str) -> Result<Entry, Error> {
    if let Some(page) = objects.get::<Page>(&page_key(&head_page_id(batch, status))).await?
        && let Some(entry) = page.value.statuses.into_iter().next()
    {
        return Ok(entry);
    }
    let ts = objects
        .get::<Inserted>(&inserted_key(status))
        .await?
        .map(|marker| marker.value.ts)
        .unwrap_or_default();
    Ok(Entry {
        id: status.to_owned(),
        ts,
    })
}
