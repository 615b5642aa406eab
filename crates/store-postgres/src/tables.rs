//! The tables on PostgreSQL: table definitions in `item_tables`, items in `items` keyed by
//! (table, encoded partition key, encoded sort key), in `bytea`, whose order is the bytes' order
//! as on SQLite. A call's writes run in one transaction: each item's key is locked first (a
//! transaction-scoped advisory lock, in key order, so two calls never wait on each other in a
//! circle, and an absent item is locked too), then every condition is checked against the item
//! as stored and the writes are made, all or none.

use std::collections::HashMap;
use std::ops::Bound;

use async_trait::async_trait;
use sluice_expressions::{Item, item_size, item_to_json};
use sluice_store::tables::stored::{encoded_key, parse_item, schema_from_text, schema_to_text};
use sluice_store::tables::{
    Decision, IdempotencyToken, ItemKey, ItemPage, ItemRange, ItemWrite, Outcome, PageLimit, Refusal, ScanRange,
    TOKEN_LIFETIME_MILLIS, TTL_IGNORED_AFTER_SECONDS, TableRecord, TableStore, TableUsage, Written, decide, expiry_of,
};
use sluice_store::{Error, Result};
use tokio_postgres::types::ToSql;

use crate::{PostgresStore, Tx, execute, lock_key, query, query_one, query_opt, transaction};

/// The tables' migration, as on SQLite: `expires` (epoch seconds) is set when the table's time
/// to live names a number attribute; `segment` is the partition key's hash, for Scan's segments.
pub(crate) const MIGRATION: &str = r"
CREATE TABLE item_tables (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key_schema TEXT NOT NULL,
    ttl_attribute TEXT,
    created_millis BIGINT NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE items (
    table_id BIGINT NOT NULL,
    partition_key BYTEA NOT NULL,
    sort_key BYTEA NOT NULL,
    item TEXT NOT NULL,
    size BIGINT NOT NULL,
    expires BIGINT,
    segment BIGINT NOT NULL,
    PRIMARY KEY (table_id, partition_key, sort_key)
);
CREATE INDEX items_expiring ON items (expires) WHERE expires IS NOT NULL;
CREATE TABLE item_transactions (
    token TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    created_millis BIGINT NOT NULL
);
";

/// SQL that keeps only items that have not expired, given `$now` and `$now - ignored`.
fn not_expired(now: usize, ignored_before: usize) -> String {
    format!("(expires IS NULL OR expires > ${now} OR expires <= ${ignored_before})")
}

#[async_trait]
impl TableStore for PostgresStore {
    async fn create_table(&self, table: TableRecord) -> Result<()> {
        transaction!(self, |tx| create_table(&tx, &table).await)
    }

    async fn delete_table(&self, name: &str) -> Result<TableRecord> {
        transaction!(self, |tx| delete_table(&tx, name).await)
    }

    async fn table(&self, name: &str) -> Result<Option<TableRecord>> {
        transaction!(self, |tx| table_row(&tx, name, false)
            .await
            .map(|row| row.map(|(_, record)| record)))
    }

    async fn table_usage(&self, name: &str, now_seconds: i64) -> Result<TableUsage> {
        transaction!(self, |tx| table_usage(&tx, name, now_seconds).await)
    }

    async fn list_tables(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        transaction!(self, |tx| query(
            &tx,
            "SELECT name FROM item_tables WHERE name COLLATE \"C\" > $1 ORDER BY name COLLATE \"C\" LIMIT $2",
            &[&after.unwrap_or_default(), &(limit as i64)]
        )
        .await
        .map(|rows| rows.iter().map(|row| row.get(0)).collect()))
    }

    async fn set_time_to_live(&self, name: &str, attribute: Option<String>) -> Result<()> {
        transaction!(self, |tx| set_time_to_live(&tx, name, attribute.as_deref()).await)
    }

    async fn get_items(&self, keys: Vec<(String, Item)>, now_seconds: i64) -> Result<Vec<Option<Item>>> {
        // REPEATABLE READ: every item comes from the same snapshot.
        let mut client = self.client().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(crate::backend)?;
        let mut tables = Tables::default();
        let mut items = Vec::with_capacity(keys.len());
        for (table, key) in &keys {
            let Some((table_id, record)) = tables.get(&tx, table, false).await? else {
                return Err(not_found(table));
            };
            let encoded = encoded_key(&record.key_schema, key)?;
            items.push(stored_item(&tx, table_id, &encoded, now_seconds).await?);
        }
        tx.commit().await.map_err(crate::backend)?;
        Ok(items)
    }

    async fn write_items(
        &self,
        writes: Vec<ItemWrite>,
        now_millis: i64,
        token: Option<IdempotencyToken>,
    ) -> Result<Outcome> {
        transaction!(self, |tx| write_items(&tx, &writes, now_millis, token.as_ref()).await)
    }

    async fn query(&self, range: ItemRange) -> Result<ItemPage> {
        transaction!(self, |tx| query_items(&tx, &range).await)
    }

    async fn scan(&self, range: ScanRange) -> Result<ItemPage> {
        transaction!(self, |tx| scan(&tx, &range).await)
    }

    async fn remove_expired(&self, now_millis: i64, limit: usize) -> Result<usize> {
        transaction!(self, |tx| remove_expired(&tx, now_millis, limit).await)
    }
}

fn not_found(table: &str) -> Error {
    Error::NotFound {
        what: "table",
        key: table.to_owned(),
    }
}

/// Table rows read once per call.
#[derive(Default)]
struct Tables {
    rows: HashMap<String, Option<(i64, TableRecord)>>,
}

impl Tables {
    async fn get(&mut self, tx: &Tx<'_>, name: &str, lock: bool) -> Result<Option<(i64, TableRecord)>> {
        if let Some(row) = self.rows.get(name) {
            return Ok(row.clone());
        }
        let row = table_row(tx, name, lock).await?;
        self.rows.insert(name.to_owned(), row.clone());
        Ok(row)
    }
}

/// A table's row; `lock` keeps it from being deleted (or its time to live changed) until the
/// transaction ends.
async fn table_row(tx: &Tx<'_>, name: &str, lock: bool) -> Result<Option<(i64, TableRecord)>> {
    let sql = if lock {
        "SELECT id, key_schema, ttl_attribute, created_millis, description FROM item_tables WHERE name = $1 FOR SHARE"
    } else {
        "SELECT id, key_schema, ttl_attribute, created_millis, description FROM item_tables WHERE name = $1"
    };
    let Some(row) = query_opt(tx, sql, &[&name]).await? else {
        return Ok(None);
    };
    let record = TableRecord {
        name: name.to_owned(),
        key_schema: schema_from_text(row.get(1))?,
        ttl_attribute: row.get(2),
        created_millis: row.get(3),
        description: row.get(4),
    };
    Ok(Some((row.get(0), record)))
}

async fn create_table(tx: &Tx<'_>, table: &TableRecord) -> Result<()> {
    let inserted = execute(
        tx,
        "INSERT INTO item_tables (name, key_schema, ttl_attribute, created_millis, description)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING",
        &[
            &table.name,
            &schema_to_text(&table.key_schema),
            &table.ttl_attribute,
            &table.created_millis,
            &table.description,
        ],
    )
    .await?;
    if inserted == 0 {
        return Err(Error::AlreadyExists {
            what: "table",
            key: table.name.clone(),
        });
    }
    Ok(())
}

async fn delete_table(tx: &Tx<'_>, name: &str) -> Result<TableRecord> {
    let Some(row) = query_opt(tx, "SELECT id FROM item_tables WHERE name = $1 FOR UPDATE", &[&name]).await? else {
        return Err(not_found(name));
    };
    let id: i64 = row.get(0);
    let (_, record) = table_row(tx, name, false).await?.ok_or_else(|| not_found(name))?;
    execute(tx, "DELETE FROM items WHERE table_id = $1", &[&id]).await?;
    execute(tx, "DELETE FROM item_tables WHERE id = $1", &[&id]).await?;
    Ok(record)
}

async fn table_usage(tx: &Tx<'_>, name: &str, now_seconds: i64) -> Result<TableUsage> {
    let Some((id, _)) = table_row(tx, name, false).await? else {
        return Err(not_found(name));
    };
    let sql = format!(
        "SELECT COUNT(*), COALESCE(SUM(size), 0)::BIGINT FROM items WHERE table_id = $1 AND {}",
        not_expired(2, 3)
    );
    let row = query_one(
        tx,
        &sql,
        &[&id, &now_seconds, &(now_seconds - TTL_IGNORED_AFTER_SECONDS)],
    )
    .await?;
    Ok(TableUsage {
        item_count: row.get::<_, i64>(0).max(0) as u64,
        size_bytes: row.get::<_, i64>(1).max(0) as u64,
    })
}

async fn set_time_to_live(tx: &Tx<'_>, name: &str, attribute: Option<&str>) -> Result<()> {
    let Some(row) = query_opt(tx, "SELECT id FROM item_tables WHERE name = $1 FOR UPDATE", &[&name]).await? else {
        return Err(not_found(name));
    };
    let id: i64 = row.get(0);
    execute(
        tx,
        "UPDATE item_tables SET ttl_attribute = $1 WHERE id = $2",
        &[&attribute, &id],
    )
    .await?;
    let Some(attribute) = attribute else {
        execute(tx, "UPDATE items SET expires = NULL WHERE table_id = $1", &[&id]).await?;
        return Ok(());
    };
    // Items stored before take their expiry from the attribute now.
    let rows = query(
        tx,
        "SELECT partition_key, sort_key, item FROM items WHERE table_id = $1 FOR UPDATE",
        &[&id],
    )
    .await?;
    for row in rows {
        let (partition, sort): (Vec<u8>, Vec<u8>) = (row.get(0), row.get(1));
        let expires = expiry_of(Some(attribute), &parse_item(row.get(2))?);
        execute(
            tx,
            "UPDATE items SET expires = $1 WHERE table_id = $2 AND partition_key = $3 AND sort_key = $4",
            &[&expires, &id, &partition, &sort],
        )
        .await?;
    }
    Ok(())
}

/// The item stored under a key, unless it has expired.
async fn stored_item(tx: &Tx<'_>, table_id: i64, key: &ItemKey, now_seconds: i64) -> Result<Option<Item>> {
    let sql = format!(
        "SELECT item FROM items WHERE table_id = $1 AND partition_key = $2 AND sort_key = $3 AND {}",
        not_expired(4, 5)
    );
    let row = query_opt(
        tx,
        &sql,
        &[
            &table_id,
            &key.partition,
            &key.sort,
            &now_seconds,
            &(now_seconds - TTL_IGNORED_AFTER_SECONDS),
        ],
    )
    .await?;
    row.map(|row| parse_item(row.get(0))).transpose()
}

async fn write_items(
    tx: &Tx<'_>,
    writes: &[ItemWrite],
    now_millis: i64,
    token: Option<&IdempotencyToken>,
) -> Result<Outcome> {
    let now_seconds = now_millis.div_euclid(1000);
    // 1. A token seen within its lifetime answers without writing. The token is locked, so a
    //    repeat running at the same time waits for this call and then sees it.
    if let Some(token) = token {
        lock_key(tx, "item-transaction", token.token.as_bytes()).await?;
        let seen = query_opt(
            tx,
            "SELECT request, created_millis FROM item_transactions WHERE token = $1",
            &[&token.token],
        )
        .await?;
        if let Some(row) = seen
            && row.get::<_, i64>(1) > now_millis - TOKEN_LIFETIME_MILLIS
        {
            return Ok(if row.get::<_, &str>(0) == token.request {
                Outcome::Repeated
            } else {
                Outcome::TokenMismatch
            });
        }
    }
    // 2. Lock every item the call touches, in one order (table, key), before reading any.
    let mut tables = Tables::default();
    let mut keys = Vec::with_capacity(writes.len());
    for write in writes {
        let key = match tables.get(tx, &write.table, true).await? {
            Some((table_id, record)) => Some((table_id, encoded_key(&record.key_schema, &write.key)?)),
            None => None,
        };
        keys.push(key);
    }
    let mut order: Vec<&(i64, ItemKey)> = keys.iter().flatten().collect();
    order.sort();
    order.dedup();
    for (table_id, key) in order {
        let mut locked = table_id.to_be_bytes().to_vec();
        locked.extend_from_slice(&(key.partition.len() as u64).to_be_bytes());
        locked.extend_from_slice(&key.partition);
        locked.extend_from_slice(&key.sort);
        lock_key(tx, "item", &locked).await?;
    }
    // 3. Decide every write against the items as stored (and as earlier writes of this call
    //    leave them), writing nothing yet.
    let mut pending: HashMap<(i64, ItemKey), Option<Item>> = HashMap::new();
    let mut decisions = Vec::with_capacity(writes.len());
    let mut refusals: Vec<Option<Refusal>> = Vec::with_capacity(writes.len());
    for (write, key) in writes.iter().zip(keys) {
        let Some((table_id, key)) = key else {
            decisions.push(None);
            refusals.push(Some(Refusal::TableNotFound));
            continue;
        };
        let ttl_attribute = tables
            .get(tx, &write.table, true)
            .await?
            .and_then(|(_, record)| record.ttl_attribute);
        let old = match pending.get(&(table_id, key.clone())) {
            Some(item) => item.clone(),
            None => stored_item(tx, table_id, &key, now_seconds).await?,
        };
        match decide(old.as_ref(), write) {
            Ok(decision) => {
                if let Decision::Store(written) = &decision {
                    pending.insert((table_id, key.clone()), written.new.clone());
                }
                decisions.push(Some((table_id, ttl_attribute, key, decision)));
                refusals.push(None);
            }
            Err(refusal) => {
                decisions.push(None);
                refusals.push(Some(refusal));
            }
        }
    }
    if refusals.iter().any(Option::is_some) {
        return Ok(Outcome::Cancelled(refusals));
    }
    // 4. Every write holds: make them.
    let mut written: Vec<Written> = Vec::with_capacity(decisions.len());
    for (table_id, ttl_attribute, key, decision) in decisions.into_iter().flatten() {
        if let Decision::Store(change) = &decision {
            match &change.new {
                Some(item) => put_row(tx, table_id, ttl_attribute.as_deref(), &key, item).await?,
                None => {
                    execute(
                        tx,
                        "DELETE FROM items WHERE table_id = $1 AND partition_key = $2 AND sort_key = $3",
                        &[&table_id, &key.partition, &key.sort],
                    )
                    .await?;
                }
            }
        }
        written.push(decision.into_written());
    }
    if let Some(token) = token {
        execute(
            tx,
            "INSERT INTO item_transactions (token, request, created_millis) VALUES ($1, $2, $3)
             ON CONFLICT (token) DO UPDATE SET request = excluded.request, created_millis = excluded.created_millis",
            &[&token.token, &token.request, &now_millis],
        )
        .await?;
    }
    Ok(Outcome::Applied(written))
}

async fn put_row(tx: &Tx<'_>, table_id: i64, ttl_attribute: Option<&str>, key: &ItemKey, item: &Item) -> Result<()> {
    execute(
        tx,
        "INSERT INTO items (table_id, partition_key, sort_key, item, size, expires, segment)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (table_id, partition_key, sort_key) DO UPDATE SET item = excluded.item, size = excluded.size,
             expires = excluded.expires, segment = excluded.segment",
        &[
            &table_id,
            &key.partition,
            &key.sort,
            &item_to_json(item).to_string(),
            &(item_size(item) as i64),
            &expiry_of(ttl_attribute, item),
            &i64::from(key.segment_hash()),
        ],
    )
    .await?;
    Ok(())
}

/// A statement's parameters, owned.
type Values = Vec<Box<dyn ToSql + Sync + Send>>;

async fn query_items(tx: &Tx<'_>, range: &ItemRange) -> Result<ItemPage> {
    let Some((table_id, _)) = table_row(tx, &range.table, false).await? else {
        return Err(not_found(&range.table));
    };
    let mut sql = format!(
        "SELECT item, size FROM items WHERE table_id = $1 AND partition_key = $2 AND {}",
        not_expired(3, 4)
    );
    let mut values: Values = vec![
        Box::new(table_id),
        Box::new(range.partition.clone()),
        Box::new(range.page.now_seconds),
        Box::new(range.page.now_seconds - TTL_IGNORED_AFTER_SECONDS),
    ];
    for (bound, included, excluded) in [(&range.lower, ">=", ">"), (&range.upper, "<=", "<")] {
        let (operator, value) = match bound {
            Bound::Included(value) => (included, value),
            Bound::Excluded(value) => (excluded, value),
            Bound::Unbounded => continue,
        };
        values.push(Box::new(value.clone()));
        sql.push_str(&format!(" AND sort_key {operator} ${}", values.len()));
    }
    sql.push_str(if range.forward {
        " ORDER BY sort_key ASC"
    } else {
        " ORDER BY sort_key DESC"
    });
    page(tx, sql, values, range.page).await
}

async fn scan(tx: &Tx<'_>, range: &ScanRange) -> Result<ItemPage> {
    let Some((table_id, _)) = table_row(tx, &range.table, false).await? else {
        return Err(not_found(&range.table));
    };
    let mut sql = format!(
        "SELECT item, size FROM items WHERE table_id = $1 AND {}",
        not_expired(2, 3)
    );
    let mut values: Values = vec![
        Box::new(table_id),
        Box::new(range.page.now_seconds),
        Box::new(range.page.now_seconds - TTL_IGNORED_AFTER_SECONDS),
    ];
    if let Some(after) = &range.after {
        values.push(Box::new(after.partition.clone()));
        values.push(Box::new(after.sort.clone()));
        sql.push_str(&format!(
            " AND (partition_key, sort_key) > (${}, ${})",
            values.len() - 1,
            values.len()
        ));
    }
    if let Some((segment, total)) = range.segment {
        values.push(Box::new(i64::from(total.max(1))));
        values.push(Box::new(i64::from(segment)));
        sql.push_str(&format!(" AND segment % ${} = ${}", values.len() - 1, values.len()));
    }
    sql.push_str(" ORDER BY partition_key, sort_key");
    page(tx, sql, values, range.page).await
}

/// Runs a page query: items until the count or byte limit, then whether one more row follows.
/// The query reads at most one row more than the page holds.
async fn page(tx: &Tx<'_>, mut sql: String, mut values: Values, limit: PageLimit) -> Result<ItemPage> {
    values.push(Box::new(limit.items.saturating_add(1).min(i64::MAX as usize) as i64));
    sql.push_str(&format!(" LIMIT ${}", values.len()));
    let parameters: Vec<&(dyn ToSql + Sync)> = values.iter().map(|value| &**value as &(dyn ToSql + Sync)).collect();
    let rows = query(tx, &sql, &parameters).await?;
    let mut page = ItemPage::default();
    let mut bytes = 0usize;
    for row in rows {
        if page.items.len() >= limit.items || bytes >= limit.bytes {
            page.more = true;
            break;
        }
        page.items.push(parse_item(row.get(0))?);
        bytes += row.get::<_, i64>(1).max(0) as usize;
    }
    Ok(page)
}

async fn remove_expired(tx: &Tx<'_>, now_millis: i64, limit: usize) -> Result<usize> {
    let now_seconds = now_millis.div_euclid(1000);
    let removed = execute(
        tx,
        "DELETE FROM items WHERE (table_id, partition_key, sort_key) IN (
            SELECT table_id, partition_key, sort_key FROM items
            WHERE expires IS NOT NULL AND expires <= $1 AND expires > $2 LIMIT $3 FOR UPDATE SKIP LOCKED)",
        &[
            &now_seconds,
            &(now_seconds - TTL_IGNORED_AFTER_SECONDS),
            &(limit as i64),
        ],
    )
    .await?;
    execute(
        tx,
        "DELETE FROM item_transactions WHERE created_millis <= $1",
        &[&(now_millis - TOKEN_LIFETIME_MILLIS)],
    )
    .await?;
    Ok(removed as usize)
}
