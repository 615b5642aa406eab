//! `ListObjectsV2` over the store's key scans: prefix, delimiter (keys rolled up into common
//! prefixes, each counted once against `max-keys`), and a position to resume from.

use sluice_store::objects::{BucketStore, KeyRange, ObjectRecord};

use crate::Result;

/// How many keys one scan of the store reads.
const SCAN: usize = 1000;

/// Sorts after every key that starts with a common prefix: resuming after `prefix + SKIP`
/// skips the rest of that prefix's keys.
const SKIP: char = char::MAX;

/// A listing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// The bucket.
    pub bucket: String,
    /// Only keys with this prefix.
    pub prefix: String,
    /// Roll keys up at the first occurrence of this after the prefix (none when empty).
    pub delimiter: String,
    /// Only keys that sort after this (`start-after`, or where a previous page ended).
    pub after: String,
    /// At most this many keys and common prefixes together.
    pub max_keys: usize,
}

/// A page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The objects, in key order.
    pub objects: Vec<ObjectRecord>,
    /// The common prefixes, in order.
    pub common_prefixes: Vec<String>,
    /// Whether more follow.
    pub truncated: bool,
    /// Where the next page starts (as `after`), when truncated.
    pub next_after: Option<String>,
}

/// Lists one page.
pub async fn list(store: &dyn BucketStore, query: &ListQuery) -> Result<Listing> {
    let mut listing = Listing {
        objects: Vec::new(),
        common_prefixes: Vec::new(),
        truncated: false,
        next_after: None,
    };
    let mut after = query.after.clone();
    'scans: loop {
        let page = store
            .list_objects(KeyRange {
                bucket: query.bucket.clone(),
                prefix: query.prefix.clone(),
                after: after.clone(),
                limit: SCAN,
            })
            .await?;
        let exhausted = page.len() < SCAN;
        for record in page {
            let common = common_prefix(&record.key, &query.prefix, &query.delimiter);
            if common.is_some() && listing.common_prefixes.last().map(String::as_str) == common {
                // A key under the prefix just rolled up (only past the SKIP sentinel).
                after = record.key;
                continue;
            }
            if listing.objects.len() + listing.common_prefixes.len() >= query.max_keys {
                listing.truncated = true;
                listing.next_after = Some(after);
                return Ok(listing);
            }
            match common {
                Some(common) => {
                    after = format!("{common}{SKIP}");
                    listing.common_prefixes.push(common.to_owned());
                    continue 'scans;
                }
                None => {
                    after = record.key.clone();
                    listing.objects.push(record);
                }
            }
        }
        if exhausted {
            return Ok(listing);
        }
    }
}

/// The common prefix `key` rolls up into: up to and including the first delimiter after the
/// prefix.
pub(crate) fn common_prefix<'a>(key: &'a str, prefix: &str, delimiter: &str) -> Option<&'a str> {
    if delimiter.is_empty() {
        return None;
    }
    let rest = key.get(prefix.len()..)?;
    let at = rest.find(delimiter)?;
    key.get(..prefix.len() + at + delimiter.len())
}

#[cfg(test)]
mod tests {
    use super::common_prefix;

    #[test]
    fn common_prefixes_end_at_the_first_delimiter_after_the_prefix() {
        assert_eq!(common_prefix("a/b/c", "", "/"), Some("a/"));
        assert_eq!(common_prefix("a/b/c", "a/", "/"), Some("a/b/"));
        assert_eq!(common_prefix("a/b", "a/", "/"), None);
        assert_eq!(common_prefix("a--b--c", "", "--"), Some("a--"));
        assert_eq!(common_prefix("a/b", "", ""), None);
    }
}
