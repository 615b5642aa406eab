//! The seed's object layout in bucket `publikes`, and the JSON each object holds.
//!
//! - `data/public/current.json`: `{head, last, updated_at}`, the list's entry point.
//! - `data/public/batches/{id}.json`: `{id, head, closed, pages (newest first), next, …}`.
//! - `data/public/pages/head/{batch}/{status}.json`: one liked status while its batch is head.
//! - `data/public/pages/merged/{batch}/{NNNNNN}.json`: merged pages of a closed batch.
//! - `data/private/statuses/{id}.json`: the status's data from fxtwitter.
//! - `data/private/inserted/{id}.json`: which batch a status went into (the duplicate check).
//! - `data/private/locks/current`: the rotation lock, a lease.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Cache-Control of objects that change (`current.json`, head batches, the lock).
pub const CACHE_SHORT: &str = "public, s-maxage=300, max-age=0";
/// Cache-Control of objects that no longer change (merged batches and pages).
pub const CACHE_LONG: &str = "public, max-age=604800";

/// `data/public/current.json`.
pub const CURRENT: &str = "data/public/current.json";
/// `data/private/locks/current`.
pub const LOCK: &str = "data/private/locks/current";

/// The key of a batch.
pub fn batch_key(batch: &str) -> String {
    format!("data/public/batches/{batch}.json")
}

/// The id of a status's page while its batch is head (`head/{batch}/{status}`).
pub fn head_page_id(batch: &str, status: &str) -> String {
    format!("head/{batch}/{status}")
}

/// The id of a merged page (`merged/{batch}/{NNNNNN}`).
pub fn merged_page_id(batch: &str, number: usize) -> String {
    format!("merged/{batch}/{number:06}")
}

/// The key of a page.
pub fn page_key(page: &str) -> String {
    format!("data/public/pages/{page}.json")
}

/// The prefix of a batch's head pages.
pub fn head_pages_prefix(batch: &str) -> String {
    format!("data/public/pages/head/{batch}/")
}

/// The key of a status's data.
pub fn status_key(status: &str) -> String {
    format!("data/private/statuses/{status}.json")
}

/// The key of a status's insertion record.
pub fn inserted_key(status: &str) -> String {
    format!("data/private/inserted/{status}.json")
}

/// `data/public/current.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Current {
    /// The head batch, where new statuses go.
    pub head: Option<String>,
    /// The batch closed last.
    pub last: Option<String>,
    /// When it changed, in Unix seconds.
    pub updated_at: i64,
}

/// `data/public/batches/{id}.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    /// The batch id.
    pub id: String,
    /// Whether its pages are still head pages (not merged yet).
    pub head: bool,
    /// Whether it was closed: no status joins it any more.
    #[serde(default)]
    pub closed: bool,
    /// Page ids, newest first.
    pub pages: Vec<String>,
    /// The older batch, if any.
    pub next: Option<String>,
    /// When it was created, in Unix seconds.
    pub created_at: i64,
    /// When it changed, in Unix seconds.
    pub updated_at: i64,
    /// The rotation that made it (the lock id), so that a rotation run again after a crash
    /// finds the batch it made instead of closing another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened_by: Option<String>,
    /// Unique per version, so that two versions never share an ETag.
    #[serde(default)]
    pub update_nonce: String,
}

/// One status on a page: its id and when it was liked (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The status id.
    pub id: String,
    /// When it was liked.
    pub ts: i64,
}

/// `data/public/pages/{id}.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page {
    /// The page id.
    pub id: String,
    /// Its statuses, newest first.
    pub statuses: Vec<Entry>,
    /// When it was written, in Unix seconds.
    pub created_at: i64,
}

/// `data/private/inserted/{id}.json`: the batch a status was put in, and when it was liked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inserted {
    /// The status.
    pub id: String,
    /// When it was liked.
    pub ts: i64,
    /// The batch it was put in.
    pub batch: String,
    /// Whether it joined that batch (false while only claimed).
    #[serde(default)]
    pub joined: bool,
}

/// `data/private/statuses/{id}.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// The status id.
    pub id: String,
    /// Whether its data was fetched (or is known to be unavailable).
    pub complete: bool,
    /// fxtwitter's answer, when fetched.
    pub fxtwitter_data: Option<Value>,
    /// Why the last fetch failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// When it was saved, in Unix seconds.
    pub saved_at: i64,
}

/// A status id as fxtwitter and the seed use it: decimal digits, at most 32.
pub fn is_status_id(text: &str) -> bool {
    !text.is_empty() && text.len() <= 32 && text.bytes().all(|byte| byte.is_ascii_digit())
}
