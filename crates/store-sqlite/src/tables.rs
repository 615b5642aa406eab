//! The tables on SQLite: table definitions in `item_tables`, items in `items` keyed by
//! (table, encoded partition key, encoded sort key). Writes run on the writer thread, so a
//! condition is checked and its write made in one transaction; a call's writes share its
//! savepoint, so they land together or not at all.

use std::collections::HashMap;
use std::ops::Bound;

use async_trait::async_trait;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use sluice_expressions::{Item, item_size, item_to_json};
use sluice_store::tables::stored::{encoded_key, parse_item, schema_from_text, schema_to_text};
use sluice_store::tables::{
    Decision, IdempotencyToken, ItemKey, ItemPage, ItemRange, ItemWrite, Outcome, PageLimit, Refusal, ScanRange,
    TOKEN_LIFETIME_MILLIS, TTL_IGNORED_AFTER_SECONDS, TableRecord, TableStore, TableUsage, Written, decide, expiry_of,
};
use sluice_store::{Error, Result};

use crate::{SqliteStore, backend};

/// The tables' migration. Items are keyed by the encoded partition and sort keys, so a Query is
/// a range scan of the primary key; `expires` (epoch seconds) is set when the table's time to
/// live names a number attribute; `segment` is the partition key's hash, for Scan's segments.
pub const MIGRATION: &str = r"
CREATE TABLE item_tables (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key_schema TEXT NOT NULL,
    ttl_attribute TEXT,
    created_millis INTEGER NOT NULL,
    description TEXT NOT NULL
);
CREATE TABLE items (
    table_id INTEGER NOT NULL,
    partition_key BLOB NOT NULL,
    sort_key BLOB NOT NULL,
    item TEXT NOT NULL,
    size INTEGER NOT NULL,
    expires INTEGER,
    segment INTEGER NOT NULL,
    PRIMARY KEY (table_id, partition_key, sort_key)
) WITHOUT ROWID;
CREATE INDEX items_expiring ON items (expires) WHERE expires IS NOT NULL;
CREATE TABLE item_transactions (
    token TEXT PRIMARY KEY,
    request TEXT NOT NULL,
    created_millis INTEGER NOT NULL
);
";

/// SQL that keeps only items that have not expired at `?now` (a named parameter).
const NOT_EXPIRED: &str = "(expires IS NULL OR expires > :now OR expires <= :now - :ignored)";

#[async_trait]
impl TableStore for SqliteStore {
    async fn create_table(&self, table: TableRecord) -> Result<()> {
        self.writer
            .write(move |connection| create_table(connection, &table))
            .await
    }

    async fn delete_table(&self, name: &str) -> Result<TableRecord> {
        let name = name.to_owned();
        self.writer
            .write(move |connection| delete_table(connection, &name))
            .await
    }

    async fn table(&self, name: &str) -> Result<Option<TableRecord>> {
        let name = name.to_owned();
        self.read(move |connection| Ok(table_row(connection, &name)?.map(|(_, record)| record)))
            .await
    }

    async fn table_usage(&self, name: &str, now_seconds: i64) -> Result<TableUsage> {
        let name = name.to_owned();
        self.read(move |connection| table_usage(connection, &name, now_seconds))
            .await
    }

    async fn list_tables(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>> {
        let after = after.unwrap_or_default().to_owned();
        self.read(move |connection| {
            let mut statement = connection
                .prepare_cached("SELECT name FROM item_tables WHERE name > ?1 ORDER BY name LIMIT ?2")
                .map_err(backend)?;
            let names = statement
                .query_map(params![after, limit as i64], |row| row.get(0))
                .map_err(backend)?;
            names.collect::<rusqlite::Result<Vec<String>>>().map_err(backend)
        })
        .await
    }

    async fn set_time_to_live(&self, name: &str, attribute: Option<String>) -> Result<()> {
        let name = name.to_owned();
        self.writer
            .write(move |connection| set_time_to_live(connection, &name, attribute.as_deref()))
            .await
    }

    async fn get_items(&self, keys: Vec<(String, Item)>, now_seconds: i64) -> Result<Vec<Option<Item>>> {
        self.read(move |connection| {
            // One read transaction: every item comes from the same snapshot.
            let transaction = connection.unchecked_transaction().map_err(backend)?;
            let mut tables = Tables::default();
            let mut items = Vec::with_capacity(keys.len());
            for (table, key) in &keys {
                let Some((table_id, record)) = tables.get(&transaction, table)? else {
                    return Err(not_found(table));
                };
                let encoded = encoded_key(&record.key_schema, key)?;
                items.push(stored_item(&transaction, table_id, &encoded, now_seconds)?);
            }
            transaction.finish().map_err(backend)?;
            Ok(items)
        })
        .await
    }

    async fn write_items(
        &self,
        writes: Vec<ItemWrite>,
        now_millis: i64,
        token: Option<IdempotencyToken>,
    ) -> Result<Outcome> {
        self.writer
            .write(move |connection| write_items(connection, &writes, now_millis, token.as_ref()))
            .await
    }

    async fn query(&self, range: ItemRange) -> Result<ItemPage> {
        self.read(move |connection| query(connection, &range)).await
    }

    async fn scan(&self, range: ScanRange) -> Result<ItemPage> {
        self.read(move |connection| scan(connection, &range)).await
    }

    async fn remove_expired(&self, now_millis: i64, limit: usize) -> Result<usize> {
        self.writer
            .write(move |connection| remove_expired(connection, now_millis, limit))
            .await
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
    fn get(&mut self, connection: &Connection, name: &str) -> Result<Option<(i64, TableRecord)>> {
        if let Some(row) = self.rows.get(name) {
            return Ok(row.clone());
        }
        let row = table_row(connection, name)?;
        self.rows.insert(name.to_owned(), row.clone());
        Ok(row)
    }
}

fn table_row(connection: &Connection, name: &str) -> Result<Option<(i64, TableRecord)>> {
    let row = connection
        .prepare_cached(
            "SELECT id, key_schema, ttl_attribute, created_millis, description FROM item_tables WHERE name = ?1",
        )
        .and_then(|mut statement| {
            statement
                .query_row([name], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, Option<String>>(2)?,
                        row.get::<_, i64>(3)?,
                        row.get::<_, String>(4)?,
                    ))
                })
                .optional()
        })
        .map_err(backend)?;
    let Some((id, schema, ttl_attribute, created_millis, description)) = row else {
        return Ok(None);
    };
    let record = TableRecord {
        name: name.to_owned(),
        key_schema: schema_from_text(&schema)?,
        ttl_attribute,
        created_millis,
        description,
    };
    Ok(Some((id, record)))
}

fn create_table(connection: &Connection, table: &TableRecord) -> Result<()> {
    if table_row(connection, &table.name)?.is_some() {
        return Err(Error::AlreadyExists {
            what: "table",
            key: table.name.clone(),
        });
    }
    connection
        .execute(
            "INSERT INTO item_tables (name, key_schema, ttl_attribute, created_millis, description) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                table.name,
                schema_to_text(&table.key_schema),
                table.ttl_attribute,
                table.created_millis,
                table.description
            ],
        )
        .map_err(backend)?;
    Ok(())
}

fn delete_table(connection: &Connection, name: &str) -> Result<TableRecord> {
    let Some((id, record)) = table_row(connection, name)? else {
        return Err(not_found(name));
    };
    connection
        .execute("DELETE FROM items WHERE table_id = ?1", [id])
        .map_err(backend)?;
    connection
        .execute("DELETE FROM item_tables WHERE id = ?1", [id])
        .map_err(backend)?;
    Ok(record)
}

fn table_usage(connection: &Connection, name: &str, now_seconds: i64) -> Result<TableUsage> {
    let Some((id, _)) = table_row(connection, name)? else {
        return Err(not_found(name));
    };
    let sql = format!("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM items WHERE table_id = :table AND {NOT_EXPIRED}");
    let (count, bytes): (i64, i64) = connection
        .prepare_cached(&sql)
        .and_then(|mut statement| {
            statement.query_row(
                rusqlite::named_params! {":table": id, ":now": now_seconds, ":ignored": TTL_IGNORED_AFTER_SECONDS},
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
        })
        .map_err(backend)?;
    Ok(TableUsage {
        item_count: count.max(0) as u64,
        size_bytes: bytes.max(0) as u64,
    })
}

fn set_time_to_live(connection: &Connection, name: &str, attribute: Option<&str>) -> Result<()> {
    let Some((id, _)) = table_row(connection, name)? else {
        return Err(not_found(name));
    };
    connection
        .execute(
            "UPDATE item_tables SET ttl_attribute = ?1 WHERE id = ?2",
            params![attribute, id],
        )
        .map_err(backend)?;
    let Some(attribute) = attribute else {
        connection
            .execute("UPDATE items SET expires = NULL WHERE table_id = ?1", [id])
            .map_err(backend)?;
        return Ok(());
    };
    // Items stored before take their expiry from the attribute now.
    let rows: Vec<(Vec<u8>, Vec<u8>, String)> = {
        let mut statement = connection
            .prepare("SELECT partition_key, sort_key, item FROM items WHERE table_id = ?1")
            .map_err(backend)?;
        let rows = statement
            .query_map([id], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
            .map_err(backend)?;
        rows.collect::<rusqlite::Result<_>>().map_err(backend)?
    };
    let mut update = connection
        .prepare_cached("UPDATE items SET expires = ?1 WHERE table_id = ?2 AND partition_key = ?3 AND sort_key = ?4")
        .map_err(backend)?;
    for (partition, sort, text) in rows {
        let expires = expiry_of(Some(attribute), &parse_item(&text)?);
        update.execute(params![expires, id, partition, sort]).map_err(backend)?;
    }
    Ok(())
}

/// The item stored under a key, unless it has expired.
fn stored_item(connection: &Connection, table_id: i64, key: &ItemKey, now_seconds: i64) -> Result<Option<Item>> {
    let sql = format!(
        "SELECT item FROM items WHERE table_id = :table AND partition_key = :partition AND sort_key = :sort AND {NOT_EXPIRED}"
    );
    let text: Option<String> = connection
        .prepare_cached(&sql)
        .and_then(|mut statement| {
            statement
                .query_row(
                    rusqlite::named_params! {
                        ":table": table_id,
                        ":partition": key.partition,
                        ":sort": key.sort,
                        ":now": now_seconds,
                        ":ignored": TTL_IGNORED_AFTER_SECONDS,
                    },
                    |row| row.get(0),
                )
                .optional()
        })
        .map_err(backend)?;
    text.as_deref().map(parse_item).transpose()
}

fn write_items(
    connection: &Connection,
    writes: &[ItemWrite],
    now_millis: i64,
    token: Option<&IdempotencyToken>,
) -> Result<Outcome> {
    let now_seconds = now_millis.div_euclid(1000);
    // 1. A token seen within its lifetime answers without writing.
    if let Some(token) = token {
        let seen: Option<(String, i64)> = connection
            .query_row(
                "SELECT request, created_millis FROM item_transactions WHERE token = ?1",
                [&token.token],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()
            .map_err(backend)?;
        if let Some((request, created_millis)) = seen
            && created_millis > now_millis - TOKEN_LIFETIME_MILLIS
        {
            return Ok(if request == token.request {
                Outcome::Repeated
            } else {
                Outcome::TokenMismatch
            });
        }
    }
    // 2. Decide every write against the items as stored (and as earlier writes of this call
    //    leave them), writing nothing yet.
    let mut tables = Tables::default();
    let mut pending: HashMap<(i64, ItemKey), Option<Item>> = HashMap::new();
    let mut decisions = Vec::with_capacity(writes.len());
    let mut refusals: Vec<Option<Refusal>> = Vec::with_capacity(writes.len());
    for write in writes {
        let Some((table_id, record)) = tables.get(connection, &write.table)? else {
            decisions.push(None);
            refusals.push(Some(Refusal::TableNotFound));
            continue;
        };
        let key = encoded_key(&record.key_schema, &write.key)?;
        let old = match pending.get(&(table_id, key.clone())) {
            Some(item) => item.clone(),
            None => stored_item(connection, table_id, &key, now_seconds)?,
        };
        match decide(old.as_ref(), write) {
            Ok(decision) => {
                if let Decision::Store(written) = &decision {
                    pending.insert((table_id, key.clone()), written.new.clone());
                }
                decisions.push(Some((table_id, record.ttl_attribute.clone(), key, decision)));
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
    // 3. Every write holds: make them.
    let mut written: Vec<Written> = Vec::with_capacity(decisions.len());
    for (table_id, ttl_attribute, key, decision) in decisions.into_iter().flatten() {
        if let Decision::Store(change) = &decision {
            match &change.new {
                Some(item) => put_row(connection, table_id, ttl_attribute.as_deref(), &key, item)?,
                None => {
                    connection
                        .prepare_cached(
                            "DELETE FROM items WHERE table_id = ?1 AND partition_key = ?2 AND sort_key = ?3",
                        )
                        .and_then(|mut statement| statement.execute(params![table_id, key.partition, key.sort]))
                        .map_err(backend)?;
                }
            }
        }
        written.push(decision.into_written());
    }
    if let Some(token) = token {
        connection
            .execute(
                "INSERT OR REPLACE INTO item_transactions (token, request, created_millis) VALUES (?1, ?2, ?3)",
                params![token.token, token.request, now_millis],
            )
            .map_err(backend)?;
    }
    Ok(Outcome::Applied(written))
}

fn put_row(
    connection: &Connection,
    table_id: i64,
    ttl_attribute: Option<&str>,
    key: &ItemKey,
    item: &Item,
) -> Result<()> {
    connection
        .prepare_cached(
            "INSERT OR REPLACE INTO items (table_id, partition_key, sort_key, item, size, expires, segment) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                table_id,
                key.partition,
                key.sort,
                item_to_json(item).to_string(),
                item_size(item) as i64,
                expiry_of(ttl_attribute, item),
                i64::from(key.segment_hash()),
            ])
        })
        .map_err(backend)?;
    Ok(())
}

fn query(connection: &Connection, range: &ItemRange) -> Result<ItemPage> {
    let Some((table_id, _)) = table_row(connection, &range.table)? else {
        return Err(not_found(&range.table));
    };
    let mut sql = format!(
        "SELECT item, size FROM items WHERE table_id = ?1 AND partition_key = ?2 AND {}",
        not_expired(3, 4)
    );
    let mut values: Vec<SqlValue> = vec![
        SqlValue::Integer(table_id),
        SqlValue::Blob(range.partition.clone()),
        SqlValue::Integer(range.page.now_seconds),
        SqlValue::Integer(TTL_IGNORED_AFTER_SECONDS),
    ];
    for (bound, included, excluded) in [(&range.lower, ">=", ">"), (&range.upper, "<=", "<")] {
        let (operator, value) = match bound {
            Bound::Included(value) => (included, value),
            Bound::Excluded(value) => (excluded, value),
            Bound::Unbounded => continue,
        };
        values.push(SqlValue::Blob(value.clone()));
        sql.push_str(&format!(" AND sort_key {operator} ?{}", values.len()));
    }
    sql.push_str(if range.forward {
        " ORDER BY sort_key ASC"
    } else {
        " ORDER BY sort_key DESC"
    });
    page(connection, &sql, values, range.page)
}

/// [`NOT_EXPIRED`] with positional parameters: the time now and the age past which expiry is
/// ignored.
fn not_expired(now: usize, ignored: usize) -> String {
    format!("(expires IS NULL OR expires > ?{now} OR expires <= ?{now} - ?{ignored})")
}

fn scan(connection: &Connection, range: &ScanRange) -> Result<ItemPage> {
    let Some((table_id, _)) = table_row(connection, &range.table)? else {
        return Err(not_found(&range.table));
    };
    let mut sql = format!(
        "SELECT item, size FROM items WHERE table_id = ?1 AND {}",
        not_expired(2, 3)
    );
    let mut values: Vec<SqlValue> = vec![
        SqlValue::Integer(table_id),
        SqlValue::Integer(range.page.now_seconds),
        SqlValue::Integer(TTL_IGNORED_AFTER_SECONDS),
    ];
    if let Some(after) = &range.after {
        values.push(SqlValue::Blob(after.partition.clone()));
        values.push(SqlValue::Blob(after.sort.clone()));
        sql.push_str(&format!(
            " AND (partition_key, sort_key) > (?{}, ?{})",
            values.len() - 1,
            values.len()
        ));
    }
    if let Some((segment, total)) = range.segment {
        values.push(SqlValue::Integer(i64::from(total.max(1))));
        values.push(SqlValue::Integer(i64::from(segment)));
        sql.push_str(&format!(" AND segment % ?{} = ?{}", values.len() - 1, values.len()));
    }
    sql.push_str(" ORDER BY partition_key, sort_key");
    page(connection, &sql, values, range.page)
}

/// Runs a page query: items until the count or byte limit, then whether one more row follows.
fn page(connection: &Connection, sql: &str, values: Vec<SqlValue>, limit: PageLimit) -> Result<ItemPage> {
    let mut statement = connection.prepare_cached(sql).map_err(backend)?;
    let mut rows = statement.query(params_from_iter(values)).map_err(backend)?;
    let mut page = ItemPage::default();
    let mut bytes = 0usize;
    while let Some(row) = rows.next().map_err(backend)? {
        if page.items.len() >= limit.items || bytes >= limit.bytes {
            page.more = true;
            break;
        }
        let text: String = row.get(0).map_err(backend)?;
        let size: i64 = row.get(1).map_err(backend)?;
        page.items.push(parse_item(&text)?);
        bytes += size.max(0) as usize;
    }
    Ok(page)
}

fn remove_expired(connection: &Connection, now_millis: i64, limit: usize) -> Result<usize> {
    let now_seconds = now_millis.div_euclid(1000);
    let removed = connection
        .execute(
            "DELETE FROM items WHERE (table_id, partition_key, sort_key) IN (
                SELECT table_id, partition_key, sort_key FROM items
                WHERE expires IS NOT NULL AND expires <= ?1 AND expires > ?1 - ?2 LIMIT ?3)",
            params![now_seconds, TTL_IGNORED_AFTER_SECONDS, limit as i64],
        )
        .map_err(backend)?;
    connection
        .execute(
            "DELETE FROM item_transactions WHERE created_millis <= ?1",
            [now_millis - TOKEN_LIFETIME_MILLIS],
        )
        .map_err(backend)?;
    Ok(removed)
}
