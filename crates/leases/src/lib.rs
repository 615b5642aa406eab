//! Sluice's leases: a lock with an owner, a time to live and a fencing token.
//!
//! A lease is one item in a table (`sluice-leases` by default, visible through the DynamoDB API),
//! and every grant, renewal and release is one conditional `UpdateItem`: the store checks the
//! condition against the item as stored, in the same transaction that writes it, so two callers
//! can never both be granted a lease, on any backend the tables run on. The item keeps its token
//! after a release, and each grant adds one to it, so tokens only grow: a holder that passes its
//! token to what it writes lets the writer refuse anything older (fencing).
//!
//! - [`Leases::acquire`] grants a lease nobody holds, whose grant has expired, or that the caller
//!   holds already (a new grant, with a new token); otherwise it waits, as long as the caller
//!   allows, and then fails with [`Error::Held`].
//! - [`Leases::renew`] and [`Leases::release`] succeed only for the holder of an unexpired grant
//!   (release also after expiry, while nobody took the lease over); otherwise [`Error::NotOwner`].
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use sluice_leases::{Error, Leases, Options};
//!
//! let directory = tempfile::tempdir().unwrap();
//! let store = sluice_store_sqlite::SqliteStore::open(&directory.path().join("sluice.db")).unwrap();
//! let tables = sluice_tables::Tables::new(Arc::new(store), sluice_tables::Options::default());
//! let leases = Leases::open(tables, Options::default()).await.unwrap();
//!
//! let lease = leases.try_acquire("rotation", "worker-1", Duration::from_secs(30)).await.unwrap();
//! let refused = leases.try_acquire("rotation", "worker-2", Duration::from_secs(30)).await;
//! assert!(matches!(refused, Err(Error::Held { .. })));
//! let lease = leases.renew(&lease, Duration::from_secs(30)).await.unwrap();
//! leases.release(&lease).await.unwrap();
//! let next = leases.try_acquire("rotation", "worker-2", Duration::from_secs(30)).await.unwrap();
//! assert!(next.token > lease.token);
//! # });
//! ```
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

mod error;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value as Json, json};
use sluice_tables::{ErrorCode, TableDefinition, Tables};
use tokio::sync::Notify;

pub use error::{Error, Result};

/// The longest time to live a grant may have: a year.
pub const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 3600);
/// The longest lease name and owner, in bytes.
pub const MAX_NAME_BYTES: usize = 1024;

/// Where the leases are kept.
#[derive(Debug, Clone)]
pub struct Options {
    /// The table (created if missing): partition key `name` (S), no time to live, because an
    /// expired lease must keep its token.
    pub table: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            table: "sluice-leases".into(),
        }
    }
}

/// The clock, in milliseconds since the epoch; passed in so tests can move time.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A grant of a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The lease's name.
    pub name: String,
    /// Who holds it.
    pub owner: String,
    /// The fencing token of this grant: larger than every token granted before for this name.
    pub token: u64,
    /// When the grant ends unless renewed, in milliseconds since the epoch.
    pub expires_at_millis: i64,
}

/// The leases service. Cheap to clone; clones share the wake-ups of waiting acquirers.
#[derive(Clone)]
pub struct Leases {
    tables: Tables,
    table: String,
    clock: Clock,
    /// Wakes acquirers waiting in this process when a lease is released.
    released: Arc<Notify>,
}

impl std::fmt::Debug for Leases {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Leases")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

/// The item's attribute names.
const NAME: &str = "name";
const OWNER: &str = "owner";
const EXPIRES: &str = "expires_at";
const TOKEN: &str = "token";

impl Leases {
    /// The leases in `options.table`, which is created if it does not exist (and refused if it
    /// exists with another key).
    pub async fn open(tables: Tables, options: Options) -> Result<Leases> {
        use sluice_expressions::{KeyAttribute, KeySchema, ScalarType};
        let definition = TableDefinition {
            name: options.table.clone(),
            key_schema: KeySchema {
                partition: KeyAttribute {
                    name: NAME.into(),
                    scalar_type: ScalarType::S,
                },
                sort: None,
            },
            ttl_attribute: None,
        };
        tables.ensure_table(&definition).await?;
        let clock: Clock = Arc::new(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|elapsed| elapsed.as_millis() as i64)
                .unwrap_or_default()
        });
        Ok(Leases {
            tables,
            table: options.table,
            clock,
            released: Arc::new(Notify::new()),
        })
    }

    /// The same leases on another clock.
    pub fn with_clock(self, clock: Clock) -> Leases {
        Leases { clock, ..self }
    }

    /// The table the leases are kept in.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Grants `name` to `owner` for `ttl` if nobody else holds it; fails at once with
    /// [`Error::Held`] otherwise.
    pub async fn try_acquire(&self, name: &str, owner: &str, ttl: Duration) -> Result<Lease> {
        check_name("Name", name)?;
        check_name("Owner", owner)?;
        let ttl = check_ttl(ttl)?;
        let now = self.now();
        let request = json!({
            "TableName": self.table,
            "Key": { NAME: { "S": name } },
            "UpdateExpression": "SET #owner = :owner, #expires = :expires ADD #token :one",
            "ConditionExpression": "attribute_not_exists(#owner) OR #expires <= :now OR #owner = :owner",
            "ExpressionAttributeNames": { "#owner": OWNER, "#expires": EXPIRES, "#token": TOKEN },
            "ExpressionAttributeValues": {
                ":owner": { "S": owner },
                ":expires": { "N": (now + ttl).to_string() },
                ":now": { "N": now.to_string() },
                ":one": { "N": "1" },
            },
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        });
        match self.tables.call("UpdateItem", request).await {
            Ok(answer) => lease_from(name, &answer["Attributes"]),
            Err(error) if error.code == ErrorCode::ConditionalCheckFailedException => {
                let holder = error.details.get("Item").and_then(|item| lease_from(name, item).ok());
                Err(match holder {
                    Some(holder) => Error::Held {
                        name: name.to_owned(),
                        holder: holder.owner,
                        remaining: Duration::from_millis((holder.expires_at_millis - now).max(0) as u64),
                        token: holder.token,
                    },
                    None => Error::Tables(error),
                })
            }
            Err(error) => Err(Error::Tables(error)),
        }
    }

    /// Grants `name` to `owner` for `ttl`, waiting up to `wait` for its holder to release it or
    /// for its grant to expire; [`Error::Held`] if neither happens in time. A release in this
    /// process wakes the waiters at once; a release elsewhere is seen at the next attempt
    /// (attempts back off from 5 ms to 250 ms, and never sleep past the holder's expiry).
    pub async fn acquire(&self, name: &str, owner: &str, ttl: Duration, wait: Duration) -> Result<Lease> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut backoff = Duration::from_millis(5);
        loop {
            // Listen before trying, so that a release between the attempt and the sleep wakes us.
            let released = self.released.notified();
            tokio::pin!(released);
            released.as_mut().enable();
            match self.try_acquire(name, owner, ttl).await {
                Err(Error::Held { remaining, .. }) => {
                    let now = tokio::time::Instant::now();
                    if now >= deadline {
                        return self.try_acquire(name, owner, ttl).await;
                    }
                    let jitter = Duration::from_micros(rand::random_range(0..=backoff.as_micros() as u64 / 2));
                    let pause = (backoff + jitter)
                        .min(remaining + Duration::from_millis(1))
                        .min(deadline - now);
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = released => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_millis(250));
                }
                other => return other,
            }
        }
    }

    /// Extends `lease` to `ttl` from now. Only its holder can, while the grant has not expired
    /// and no newer grant (token) exists; [`Error::NotOwner`] otherwise.
    pub async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Lease> {
        self.renew_as(&lease.name, &lease.owner, Some(lease.token), ttl).await
    }

    /// Extends the lease `name` held by `owner` to `ttl` from now; with a `token`, only that grant.
    pub async fn renew_as(&self, name: &str, owner: &str, token: Option<u64>, ttl: Duration) -> Result<Lease> {
        check_name("Name", name)?;
        check_name("Owner", owner)?;
        let ttl = check_ttl(ttl)?;
        let now = self.now();
        let mut condition = "#owner = :owner AND #expires > :now".to_owned();
        let mut names = json!({ "#owner": OWNER, "#expires": EXPIRES });
        let mut values = json!({
            ":owner": { "S": owner },
            ":expires": { "N": (now + ttl).to_string() },
            ":now": { "N": now.to_string() },
        });
        if let Some(token) = token {
            condition.push_str(" AND #token = :token");
            names["#token"] = json!(TOKEN);
            values[":token"] = json!({ "N": token.to_string() });
        }
        let request = json!({
            "TableName": self.table,
            "Key": { NAME: { "S": name } },
            "UpdateExpression": "SET #expires = :expires",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        });
        match self.tables.call("UpdateItem", request).await {
            Ok(answer) => lease_from(name, &answer["Attributes"]),
            Err(error) => Err(self.not_owner(name, owner, token, now, error)),
        }
    }

    /// Releases `lease`: the next acquirer does not wait for it to expire. Only its holder can,
    /// and only this grant (token); [`Error::NotOwner`] otherwise.
    pub async fn release(&self, lease: &Lease) -> Result<()> {
        self.release_as(&lease.name, &lease.owner, Some(lease.token)).await
    }

    /// Releases the lease `name` held by `owner`; with a `token`, only that grant. An expired
    /// grant nobody took over can still be released.
    pub async fn release_as(&self, name: &str, owner: &str, token: Option<u64>) -> Result<()> {
        check_name("Name", name)?;
        check_name("Owner", owner)?;
        let now = self.now();
        let mut condition = "#owner = :owner".to_owned();
        let mut names = json!({ "#owner": OWNER, "#expires": EXPIRES });
        let mut values = json!({ ":owner": { "S": owner } });
        if let Some(token) = token {
            condition.push_str(" AND #token = :token");
            names["#token"] = json!(TOKEN);
            values[":token"] = json!({ "N": token.to_string() });
        }
        let request = json!({
            "TableName": self.table,
            "Key": { NAME: { "S": name } },
            "UpdateExpression": "REMOVE #owner, #expires",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        });
        match self.tables.call("UpdateItem", request).await {
            Ok(_) => {
                // One waiter is enough: it takes the lease, or someone else did and the rest keep polling.
                self.released.notify_one();
                Ok(())
            }
            Err(error) => Err(self.not_owner(name, owner, token, now, error)),
        }
    }

    /// The current grant of `name`, if someone holds it and it has not expired.
    pub async fn holder(&self, name: &str) -> Result<Option<Lease>> {
        check_name("Name", name)?;
        let answer = self
            .tables
            .call(
                "GetItem",
                json!({ "TableName": self.table, "Key": { NAME: { "S": name } }, "ConsistentRead": true }),
            )
            .await?;
        let now = self.now();
        Ok(answer
            .get("Item")
            .and_then(|item| lease_from(name, item).ok())
            .filter(|lease| lease.expires_at_millis > now))
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// The error for a renew or release whose condition failed, saying why from the item as it was.
    fn not_owner(&self, name: &str, owner: &str, token: Option<u64>, now: i64, error: sluice_tables::Error) -> Error {
        if error.code != ErrorCode::ConditionalCheckFailedException {
            return Error::Tables(error);
        }
        let current = error.details.get("Item").and_then(|item| lease_from(name, item).ok());
        let reason = match current {
            None => "nobody holds it".to_owned(),
            Some(current) if current.owner != owner => format!("it is held by '{}'", current.owner),
            Some(current) if token.is_some_and(|token| token != current.token) => format!(
                "it was granted again since (fencing token {} is current, not {})",
                current.token,
                token.unwrap_or_default()
            ),
            Some(current) if current.expires_at_millis <= now => format!(
                "its grant expired {} ms ago; acquire it again",
                now - current.expires_at_millis
            ),
            Some(_) => "the lease changed while the request was made".to_owned(),
        };
        Error::NotOwner {
            name: name.to_owned(),
            owner: owner.to_owned(),
            reason,
        }
    }
}

/// A grant from a lease item in DynamoDB JSON; an item with no holder is an error.
fn lease_from(name: &str, item: &Json) -> Result<Lease> {
    let missing = |what: &str| Error::Invalid {
        field: "Name",
        message: format!("the lease item '{name}' has no {what}"),
    };
    let owner = item[OWNER]["S"].as_str().ok_or_else(|| missing(OWNER))?;
    let number = |attribute: &str| -> Option<i64> { item[attribute]["N"].as_str()?.parse().ok() };
    let expires_at_millis = number(EXPIRES).ok_or_else(|| missing(EXPIRES))?;
    let token = number(TOKEN).ok_or_else(|| missing(TOKEN))?;
    Ok(Lease {
        name: name.to_owned(),
        owner: owner.to_owned(),
        token: token.max(0) as u64,
        expires_at_millis,
    })
}

fn check_name(field: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::Invalid {
            field,
            message: "must not be empty".into(),
        });
    }
    if value.len() > MAX_NAME_BYTES {
        return Err(Error::Invalid {
            field,
            message: format!("is {} bytes long; the most is {MAX_NAME_BYTES}", value.len()),
        });
    }
    Ok(())
}

/// A time to live in whole milliseconds, from 1 ms to [`MAX_TTL`].
fn check_ttl(ttl: Duration) -> Result<i64> {
    if ttl < Duration::from_millis(1) || ttl > MAX_TTL {
        return Err(Error::Invalid {
            field: "TtlSeconds",
            message: format!(
                "the time to live must be from 1 ms to {} days, not {ttl:?}",
                MAX_TTL.as_secs() / 86400
            ),
        });
    }
    Ok(ttl.as_millis() as i64)
}

#[cfg(test)]
mod tests;
