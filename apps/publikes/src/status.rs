//! store-status's work: fetch a status from an fxtwitter-compatible API and merge it into
//! `data/private/statuses/{id}.json` with `complete: true`.
//!
//! As Publikes does, 401, 403 and 404 (private, forbidden, gone) keep the old data and mark the
//! status complete; any other answer, or none, is an upstream error (`Publikes.Upstream`), which
//! the state machine retries with back-off.

use std::time::Duration;

use chrono::Utc;
use serde_json::Value;
use sluice_buckets::WriteCondition;

use crate::Error;
use crate::layout::{CACHE_SHORT, Status, is_status_id, status_key};
use crate::objects::Objects;

/// The User-Agent of the fetches.
pub const USER_AGENT: &str = "Publikes-Crawler (Sluice reference app)";

/// Fetches `id` from `fxtwitter_url` and stores it; answers the stored record.
pub async fn store_status(
    objects: &Objects,
    client: &reqwest::Client,
    fxtwitter_url: &str,
    id: &str,
) -> Result<Status, Error> {
    if !is_status_id(id) {
        return Err(Error::Invalid(format!("status_id {id:?} is not a string of digits")));
    }
    let url = format!("{}/status/{id}", fxtwitter_url.trim_end_matches('/'));
    let response = client
        .get(&url)
        .header(reqwest::header::USER_AGENT, USER_AGENT)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(|error| Error::Upstream(format!("GET {url}: {error}")))?;
    let status = response.status().as_u16();
    let fetched = match status {
        200 => {
            let body: Value = response
                .json()
                .await
                .map_err(|error| Error::Upstream(format!("GET {url} answered JSON that is not: {error}")))?;
            if body.get("tweet").is_none() {
                return Err(Error::Upstream(format!("GET {url} answered without a tweet: {body}")));
            }
            Some(body)
        }
        401 | 403 | 404 => None,
        other => return Err(Error::Upstream(format!("GET {url} answered {other}"))),
    };
    let key = status_key(id);
    for _ in 0..20 {
        let existing = objects.get::<Status>(&key).await?;
        let record = Status {
            id: id.to_owned(),
            complete: true,
            fxtwitter_data: fetched
                .clone()
                .or_else(|| existing.as_ref().and_then(|found| found.value.fxtwitter_data.clone())),
            error: None,
            saved_at: Utc::now().timestamp(),
        };
        let condition = match &existing {
            Some(found) => WriteCondition::IfMatch(found.etag.clone()),
            None => WriteCondition::IfNoneMatch,
        };
        if objects.put(&key, &record, condition, CACHE_SHORT).await?.is_some() {
            return Ok(record);
        }
    }
    Err(Error::Contention(key))
}

/// Records that fetching `id` failed for good (store-status's Catch): the status stays
/// incomplete, with the error, and keeps whatever data it had.
pub async fn record_failure(objects: &Objects, id: &str, error: Value) -> Result<Status, Error> {
    if !is_status_id(id) {
        return Err(Error::Invalid(format!("status_id {id:?} is not a string of digits")));
    }
    let key = status_key(id);
    for _ in 0..20 {
        let existing = objects.get::<Status>(&key).await?;
        let record = Status {
            id: id.to_owned(),
            complete: existing.as_ref().is_some_and(|found| found.value.complete),
            fxtwitter_data: existing.as_ref().and_then(|found| found.value.fxtwitter_data.clone()),
            error: Some(error.clone()),
            saved_at: Utc::now().timestamp(),
        };
        let condition = match &existing {
            Some(found) => WriteCondition::IfMatch(found.etag.clone()),
            None => WriteCondition::IfNoneMatch,
        };
        if objects.put(&key, &record, condition, CACHE_SHORT).await?.is_some() {
            return Ok(record);
        }
    }
    Err(Error::Contention(key))
}
