//! The reader: walks `current.json` → the head batch → each `next` batch, and each batch's pages,
//! as the static page does with plain GETs, and lists every status newest first. Head pages are
//! virtual (the status id is the page id's last part); merged pages are read.

use std::collections::HashSet;
use std::future::Future;

use serde::de::DeserializeOwned;

use crate::Error;
use crate::layout::{Batch, CURRENT, Current, Page, batch_key, page_key};

/// Every status id of the list, newest first, reading objects with `get` (a key to its bytes,
/// or `None` when there is no such object).
pub async fn walk<F, Fut>(mut get: F) -> Result<Vec<String>, Error>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Option<Vec<u8>>, Error>>,
{
    let mut statuses = Vec::new();
    let Some(current) = json::<Current>(CURRENT, get(CURRENT.to_owned()).await?)? else {
        return Ok(statuses);
    };
    let mut next = current.head.or(current.last);
    let mut visited = HashSet::new();
    while let Some(batch_id) = next {
        let key = batch_key(&batch_id);
        if !visited.insert(batch_id.clone()) {
            return Err(Error::Corrupt {
                key,
                message: "the batches form a cycle".to_owned(),
            });
        }
        let Some(batch) = json::<Batch>(&key, get(key.clone()).await?)? else {
            return Err(Error::NotFound(format!("batch {batch_id}")));
        };
        for page in &batch.pages {
            if page.starts_with("head/") {
                statuses.extend(page.rsplit('/').next().map(str::to_owned));
                continue;
            }
            let key = page_key(page);
            match json::<Page>(&key, get(key.clone()).await?)? {
                Some(found) => statuses.extend(found.statuses.into_iter().map(|entry| entry.id)),
                None => return Err(Error::NotFound(format!("page {page}"))),
            }
        }
        next = batch.next;
    }
    Ok(statuses)
}

fn json<T: DeserializeOwned>(key: &str, bytes: Option<Vec<u8>>) -> Result<Option<T>, Error> {
    bytes
        .map(|bytes| {
            serde_json::from_slice(&bytes).map_err(|error| Error::Corrupt {
                key: key.to_owned(),
                message: error.to_string(),
            })
        })
        .transpose()
}
