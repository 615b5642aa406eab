//! The rotation lock `data/private/locks/current`: a lease taken with a conditional write, not the
//! seed's check-then-put. Taking it is a create (`If-None-Match: *`); a holder that died leaves a
//! lease that expires, which the next taker replaces with `If-Match` on its ETag; releasing is a
//! delete with `If-Match`, so nobody releases a lock another holds.

use chrono::Utc;
use serde::{Deserialize, Serialize};
use sluice_buckets::WriteCondition;

use crate::Error;
use crate::layout::{CACHE_SHORT, LOCK};
use crate::objects::Objects;

/// What the lock object holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    /// Who holds it (`sfn/rotate-batch/{execution}` or `bin/insert-batch/{host}/{pid}/{random}`).
    pub lock_id: String,
    /// When it lapses, in Unix milliseconds.
    pub expires_at: i64,
}

/// A lock held: its holder and the ETag that releases it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Held {
    /// The holder.
    pub lock_id: String,
    /// The lock object's ETag.
    pub etag: String,
}

/// Takes the lock for `lock_id` for `lease_millis`, or answers `None` when someone else holds
/// a lease that has not lapsed. Taking it again with the same id (a retried task) succeeds.
pub async fn acquire(objects: &Objects, lock_id: &str, lease_millis: i64) -> Result<Option<Held>, Error> {
    for _ in 0..8 {
        let lease = Lease {
            lock_id: lock_id.to_owned(),
            expires_at: Utc::now().timestamp_millis() + lease_millis,
        };
        if let Some(etag) = objects
            .put(LOCK, &lease, WriteCondition::IfNoneMatch, CACHE_SHORT)
            .await?
        {
            return Ok(Some(Held {
                lock_id: lock_id.to_owned(),
                etag,
            }));
        }
        let Some(current) = objects.get::<Lease>(LOCK).await? else {
            continue;
        };
        let ours = current.value.lock_id == lock_id;
        if !ours && current.value.expires_at > Utc::now().timestamp_millis() {
            return Ok(None);
        }
        let condition = WriteCondition::IfMatch(current.etag.clone());
        if let Some(etag) = objects.put(LOCK, &lease, condition, CACHE_SHORT).await? {
            if !ours {
                tracing::warn!(stale = %current.value.lock_id, taker = lock_id, "took over a lapsed rotation lock");
            }
            return Ok(Some(Held {
                lock_id: lock_id.to_owned(),
                etag,
            }));
        }
    }
    Err(Error::Contention("the rotation lock".to_owned()))
}

/// Releases a lock taken by `acquire`; releasing one that was taken over does nothing.
pub async fn release(objects: &Objects, held: &Held) -> Result<bool, Error> {
    objects.delete(LOCK, WriteCondition::IfMatch(held.etag.clone())).await
}

/// Releases the lock if `lock_id` holds it, whatever its ETag (a Catch that does not know it).
pub async fn release_by_id(objects: &Objects, lock_id: &str) -> Result<bool, Error> {
    match objects.get::<Lease>(LOCK).await? {
        Some(current) if current.value.lock_id == lock_id => {
            objects.delete(LOCK, WriteCondition::IfMatch(current.etag)).await
        }
        _ => Ok(false),
    }
}
