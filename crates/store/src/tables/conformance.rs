//! The conformance suite for [`TableStore`] backends: call [`run_all`] with a fresh store. Each
//! check panics with what it expected.

use std::ops::Bound;

use serde_json::json;
use sluice_expressions::{
    ExpressionKind, Item, KeyAttribute, KeySchema, Placeholders, ScalarType, encode_sort_key, item_from_json,
    parse_condition, parse_update,
};

use super::{
    Change, IdempotencyToken, ItemKey, ItemRange, ItemWrite, Outcome, PageLimit, Refusal, ScanRange, TableRecord,
    TableStore,
};
use crate::Error;
use crate::conformance::futures_join_all;

const NOW_MILLIS: i64 = 1_700_000_000_000;
const NOW: i64 = NOW_MILLIS / 1000;

/// Runs every check against `store`, which must hold no tables.
pub async fn run_all(store: &dyn TableStore) {
    tables_are_created_listed_and_deleted(store).await;
    items_are_put_read_and_deleted(store).await;
    conditions_are_checked_with_the_write(store).await;
    updates_create_and_change_items(store).await;
    concurrent_appends_and_counters_lose_nothing(store).await;
    concurrent_conditional_puts_have_one_winner(store).await;
    transactions_are_all_or_nothing(store).await;
    idempotency_tokens_repeat_nothing(store).await;
    queries_scan_key_ranges_in_order(store).await;
    scans_page_and_split_into_segments(store).await;
    expired_items_are_invisible_then_removed(store).await;
}

fn schema(partition: &str, sort: Option<(&str, ScalarType)>) -> KeySchema {
    KeySchema {
        partition: KeyAttribute {
            name: partition.to_owned(),
            scalar_type: ScalarType::S,
        },
        sort: sort.map(|(name, scalar_type)| KeyAttribute {
            name: name.to_owned(),
            scalar_type,
        }),
    }
}

async fn create(store: &dyn TableStore, name: &str, key_schema: KeySchema) {
    store
        .create_table(TableRecord {
            name: name.to_owned(),
            key_schema,
            ttl_attribute: None,
            created_millis: NOW_MILLIS,
            description: "{}".to_owned(),
        })
        .await
        .expect("the table is created");
}

fn item(json: serde_json::Value) -> Item {
    item_from_json(&json).expect("a valid item")
}

fn key(id: &str) -> Item {
    item(json!({"id": {"S": id}}))
}

fn write(table: &str, key: Item, condition: Option<&str>, change: Change) -> ItemWrite {
    let mut placeholders = Placeholders::from_json(None, None).expect("no placeholders");
    ItemWrite {
        table: table.to_owned(),
        key,
        condition: condition.map(|text| {
            parse_condition(ExpressionKind::Condition, text, &mut placeholders).expect("a valid condition")
        }),
        change,
    }
}

fn update(text: &str, values: serde_json::Value) -> Change {
    let mut placeholders = Placeholders::from_json(None, Some(&values)).expect("valid placeholders");
    Change::Update(parse_update(text, &mut placeholders).expect("a valid update"))
}

async fn apply(store: &dyn TableStore, writes: Vec<ItemWrite>) -> Outcome {
    store.write_items(writes, NOW_MILLIS, None).await.expect("a write")
}

async fn get(store: &dyn TableStore, table: &str, key: Item) -> Option<Item> {
    store
        .get_items(vec![(table.to_owned(), key)], NOW)
        .await
        .expect("a read")
        .pop()
        .flatten()
}

fn page(items: usize) -> PageLimit {
    PageLimit {
        items,
        bytes: 1024 * 1024,
        now_seconds: NOW,
    }
}

async fn tables_are_created_listed_and_deleted(store: &dyn TableStore) {
    create(store, "alpha", schema("id", None)).await;
    create(store, "beta", schema("id", Some(("n", ScalarType::N)))).await;
    let again = store
        .create_table(TableRecord {
            name: "alpha".into(),
            key_schema: schema("id", None),
            ttl_attribute: None,
            created_millis: NOW_MILLIS,
            description: "{}".into(),
        })
        .await;
    assert!(matches!(again, Err(Error::AlreadyExists { .. })), "{again:?}");
    assert_eq!(store.list_tables(None, 10).await.expect("a list"), ["alpha", "beta"]);
    assert_eq!(store.list_tables(Some("alpha"), 10).await.expect("a list"), ["beta"]);
    let beta = store.table("beta").await.expect("a read").expect("beta exists");
    assert_eq!(beta.key_schema, schema("id", Some(("n", ScalarType::N))));
    apply(store, vec![write("alpha", key("x"), None, Change::Put(key("x")))]).await;
    store.delete_table("alpha").await.expect("deleted");
    assert!(matches!(store.delete_table("alpha").await, Err(Error::NotFound { .. })));
    assert!(store.table("alpha").await.expect("a read").is_none());
    // A table made again under the same name starts empty.
    create(store, "alpha", schema("id", None)).await;
    assert_eq!(get(store, "alpha", key("x")).await, None);
    store.delete_table("alpha").await.expect("deleted");
    store.delete_table("beta").await.expect("deleted");
}

async fn items_are_put_read_and_deleted(store: &dyn TableStore) {
    create(store, "items", schema("id", None)).await;
    let stored = item(json!({"id": {"S": "a"}, "tags": {"SS": ["x", "y"]}, "n": {"N": "1.50"}}));
    let outcome = apply(store, vec![write("items", key("a"), None, Change::Put(stored.clone()))]).await;
    let Outcome::Applied(written) = outcome else {
        panic!("the put applies: {outcome:?}")
    };
    assert_eq!(
        (written[0].old.clone(), written[0].new.clone()),
        (None, Some(stored.clone()))
    );
    assert_eq!(get(store, "items", key("a")).await, Some(stored.clone()));
    let usage = store.table_usage("items", NOW).await.expect("usage");
    assert_eq!(usage.item_count, 1);
    let outcome = apply(store, vec![write("items", key("a"), None, Change::Delete)]).await;
    let Outcome::Applied(written) = outcome else {
        panic!("the delete applies: {outcome:?}")
    };
    assert_eq!(written[0].old, Some(stored));
    assert_eq!(get(store, "items", key("a")).await, None);
    let missing = store.get_items(vec![("nowhere".into(), key("a"))], NOW).await;
    assert!(matches!(missing, Err(Error::NotFound { .. })), "{missing:?}");
    let outcome = apply(store, vec![write("nowhere", key("a"), None, Change::Delete)]).await;
    assert_eq!(outcome, Outcome::Cancelled(vec![Some(Refusal::TableNotFound)]));
}

async fn conditions_are_checked_with_the_write(store: &dyn TableStore) {
    let first = item(json!({"id": {"S": "c"}, "v": {"N": "1"}}));
    let put = |condition| write("items", key("c"), condition, Change::Put(first.clone()));
    assert!(matches!(
        apply(store, vec![put(Some("attribute_not_exists(id)"))]).await,
        Outcome::Applied(_)
    ));
    let outcome = apply(store, vec![put(Some("attribute_not_exists(id)"))]).await;
    assert_eq!(
        outcome,
        Outcome::Cancelled(vec![Some(Refusal::ConditionFailed {
            old: Some(first.clone())
        })])
    );
    let outcome = apply(
        store,
        vec![write("items", key("c"), Some("attribute_exists(gone)"), Change::Delete)],
    )
    .await;
    assert!(matches!(outcome, Outcome::Cancelled(_)), "{outcome:?}");
    assert_eq!(get(store, "items", key("c")).await, Some(first));
}

async fn updates_create_and_change_items(store: &dyn TableStore) {
    let mut placeholders = Placeholders::from_json(
        Some(&json!({"#l": "regions"})),
        Some(&json!({":empty": {"L": []}, ":new": {"L": [{"S": "r1"}]}, ":one": {"N": "1"}})),
    )
    .expect("placeholders");
    let expression = parse_update(
        "SET #l = list_append(if_not_exists(#l, :empty), :new) ADD n :one",
        &mut placeholders,
    )
    .expect("an update");
    let outcome = apply(store, vec![write("items", key("u"), None, Change::Update(expression))]).await;
    let Outcome::Applied(written) = outcome else {
        panic!("the update applies: {outcome:?}")
    };
    let expected = item(json!({"id": {"S": "u"}, "regions": {"L": [{"S": "r1"}]}, "n": {"N": "1"}}));
    assert_eq!(written[0].new, Some(expected.clone()));
    assert_eq!(written[0].updated_new.len(), 2);
    assert_eq!(get(store, "items", key("u")).await, Some(expected));
    // An update that does not fit the item is refused and changes nothing.
    let bad = update("SET x = x + :one", json!({":one": {"N": "1"}}));
    let outcome = apply(store, vec![write("items", key("u"), None, bad)]).await;
    assert!(
        matches!(&outcome, Outcome::Cancelled(reasons) if matches!(reasons[0], Some(Refusal::Invalid(_)))),
        "{outcome:?}"
    );
}

async fn concurrent_appends_and_counters_lose_nothing(store: &dyn TableStore) {
    let writers = 32;
    let attempts = (0..writers).map(|writer| {
        let mut placeholders = Placeholders::from_json(
            Some(&json!({"#l": "regions"})),
            Some(&json!({
                ":empty": {"L": []},
                ":new": {"L": [{"S": format!("region-{writer}")}]},
                ":one": {"N": "1"},
                ":member": {"SS": [format!("m{writer}")]},
            })),
        )
        .expect("placeholders");
        let expression = parse_update(
            "SET #l = list_append(if_not_exists(#l, :empty), :new) ADD hits :one, members :member",
            &mut placeholders,
        )
        .expect("an update");
        store.write_items(
            vec![write("items", key("race"), None, Change::Update(expression))],
            NOW_MILLIS,
            None,
        )
    });
    for outcome in futures_join_all(attempts).await {
        assert!(matches!(outcome, Ok(Outcome::Applied(_))), "{outcome:?}");
    }
    let stored = get(store, "items", key("race")).await.expect("the item exists");
    let sluice_expressions::AttributeValue::L(regions) = &stored["regions"] else {
        panic!("a list: {stored:?}")
    };
    assert_eq!(regions.len(), writers, "no append is lost");
    assert_eq!(stored["hits"], item(json!({"n": {"N": writers.to_string()}}))["n"]);
    let sluice_expressions::AttributeValue::Ss(members) = &stored["members"] else {
        panic!("a string set: {stored:?}")
    };
    assert_eq!(members.len(), writers, "no set member is lost");
}

async fn concurrent_conditional_puts_have_one_winner(store: &dyn TableStore) {
    for round in 0..5 {
        let lock = format!("lock-{round}");
        let attempts = (0..16).map(|writer| {
            let owner = item(json!({"id": {"S": lock}, "owner": {"N": writer.to_string()}}));
            store.write_items(
                vec![write(
                    "items",
                    key(&lock),
                    Some("attribute_not_exists(id)"),
                    Change::Put(owner),
                )],
                NOW_MILLIS,
                None,
            )
        });
        let outcomes = futures_join_all(attempts).await;
        let winners = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, Ok(Outcome::Applied(_))))
            .count();
        assert_eq!(winners, 1, "exactly one writer takes {lock}: {outcomes:?}");
    }
}

async fn transactions_are_all_or_nothing(store: &dyn TableStore) {
    let one = item(json!({"id": {"S": "t1"}}));
    let two = item(json!({"id": {"S": "t2"}}));
    let outcome = apply(
        store,
        vec![
            write("items", key("t1"), None, Change::Put(one.clone())),
            write("items", key("c"), Some("attribute_not_exists(id)"), Change::Check),
            write("items", key("t2"), None, Change::Put(two.clone())),
        ],
    )
    .await;
    let Outcome::Cancelled(reasons) = outcome else {
        panic!("the transaction is cancelled: {outcome:?}")
    };
    assert!(reasons[0].is_none() && reasons[2].is_none());
    assert!(matches!(reasons[1], Some(Refusal::ConditionFailed { old: Some(_) })));
    assert_eq!(get(store, "items", key("t1")).await, None, "nothing was written");
    let outcome = apply(
        store,
        vec![
            write("items", key("t1"), None, Change::Put(one.clone())),
            write("items", key("c"), Some("attribute_exists(id)"), Change::Check),
            write("items", key("t2"), None, Change::Put(two.clone())),
        ],
    )
    .await;
    assert!(matches!(outcome, Outcome::Applied(_)), "{outcome:?}");
    let both = store
        .get_items(vec![("items".into(), key("t1")), ("items".into(), key("t2"))], NOW)
        .await
        .expect("a read");
    assert_eq!(both, vec![Some(one), Some(two)]);
}

async fn idempotency_tokens_repeat_nothing(store: &dyn TableStore) {
    let token = |request: &str| IdempotencyToken {
        token: "token-1".into(),
        request: request.into(),
    };
    let counter = || {
        write(
            "items",
            key("idem"),
            None,
            update("ADD n :one", json!({":one": {"N": "1"}})),
        )
    };
    let first = store
        .write_items(vec![counter()], NOW_MILLIS, Some(token("a")))
        .await
        .expect("a write");
    assert!(matches!(first, Outcome::Applied(_)));
    let again = store
        .write_items(vec![counter()], NOW_MILLIS + 1000, Some(token("a")))
        .await
        .expect("a write");
    assert_eq!(again, Outcome::Repeated);
    let other = store
        .write_items(vec![counter()], NOW_MILLIS + 1000, Some(token("b")))
        .await
        .expect("a write");
    assert_eq!(other, Outcome::TokenMismatch);
    let stored = get(store, "items", key("idem")).await.expect("the item");
    assert_eq!(stored["n"], item(json!({"n": {"N": "1"}}))["n"]);
    // After ten minutes the token is forgotten.
    let later = store
        .write_items(vec![counter()], NOW_MILLIS + 11 * 60 * 1000, Some(token("b")))
        .await
        .expect("a write");
    assert!(matches!(later, Outcome::Applied(_)));
}

async fn queries_scan_key_ranges_in_order(store: &dyn TableStore) {
    create(store, "events", schema("id", Some(("n", ScalarType::N)))).await;
    let numbers = ["-10", "-1.5", "0", "2", "10", "100", "1e3"];
    let writes = numbers
        .iter()
        .map(|n| {
            let event = item(json!({"id": {"S": "p"}, "n": {"N": n}}));
            write("events", event.clone(), None, Change::Put(event))
        })
        .chain(std::iter::once({
            let other = item(json!({"id": {"S": "q"}, "n": {"N": "5"}}));
            write("events", other.clone(), None, Change::Put(other))
        }))
        .collect();
    apply(store, writes).await;
    let encode = |n: &str| encode_sort_key(&item(json!({"n": {"N": n}}))["n"]).expect("a key");
    let numbers_of = |items: &[Item]| -> Vec<String> {
        items
            .iter()
            .map(|item| match &item["n"] {
                sluice_expressions::AttributeValue::N(n) => n.to_string(),
                other => panic!("a number: {other:?}"),
            })
            .collect()
    };
    let range = |lower, upper, forward, items| ItemRange {
        table: "events".into(),
        partition: encode_sort_key(&key("p")["id"]).expect("a key"),
        lower,
        upper,
        forward,
        page: page(items),
    };
    let all = store
        .query(range(Bound::Unbounded, Bound::Unbounded, true, 100))
        .await
        .expect("a query");
    assert_eq!(numbers_of(&all.items), ["-10", "-1.5", "0", "2", "10", "100", "1000"]);
    assert!(!all.more);
    let between = store
        .query(range(
            Bound::Excluded(encode("0")),
            Bound::Included(encode("100")),
            false,
            2,
        ))
        .await
        .expect("a query");
    assert_eq!(numbers_of(&between.items), ["100", "10"]);
    assert!(between.more, "a limited page says more follow");
    let missing = store
        .query(ItemRange {
            table: "nowhere".into(),
            ..range(Bound::Unbounded, Bound::Unbounded, true, 1)
        })
        .await;
    assert!(matches!(missing, Err(Error::NotFound { .. })));
}

async fn scans_page_and_split_into_segments(store: &dyn TableStore) {
    create(store, "scanned", schema("id", None)).await;
    let writes = (0..50)
        .map(|index| {
            let key = key(&format!("k{index:02}"));
            write("scanned", key.clone(), None, Change::Put(key))
        })
        .collect();
    apply(store, writes).await;
    let schema = schema("id", None);
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .scan(ScanRange {
                table: "scanned".into(),
                after: after.clone(),
                segment: None,
                page: page(7),
            })
            .await
            .expect("a scan");
        after = page.items.last().and_then(|last| ItemKey::of(&schema, last));
        seen.extend(page.items);
        if !page.more {
            break;
        }
    }
    assert_eq!(seen.len(), 50, "paging sees every item once");
    let mut segmented = 0;
    for segment in 0..3 {
        let page = store
            .scan(ScanRange {
                table: "scanned".into(),
                after: None,
                segment: Some((segment, 3)),
                page: page(100),
            })
            .await
            .expect("a scan");
        segmented += page.items.len();
    }
    assert_eq!(segmented, 50, "the segments split the table");
    let small = store
        .scan(ScanRange {
            table: "scanned".into(),
            after: None,
            segment: None,
            page: PageLimit {
                items: 100,
                bytes: 10,
                now_seconds: NOW,
            },
        })
        .await
        .expect("a scan");
    assert_eq!(small.items.len(), 2, "the byte limit stops the page once reached");
    assert!(small.more);
}

async fn expired_items_are_invisible_then_removed(store: &dyn TableStore) {
    create(store, "expiring", schema("id", None)).await;
    let writes = [
        ("old", NOW - 10),
        ("new", NOW + 3600),
        ("ancient", NOW - 6 * 365 * 86400),
    ]
    .iter()
    .map(|(id, expires)| {
        let stored = item(json!({"id": {"S": id}, "ttl": {"N": expires.to_string()}}));
        write("expiring", key(id), None, Change::Put(stored))
    })
    .collect();
    apply(store, writes).await;
    assert!(
        get(store, "expiring", key("old")).await.is_some(),
        "no time to live yet"
    );
    store
        .set_time_to_live("expiring", Some("ttl".into()))
        .await
        .expect("enabled");
    assert_eq!(
        get(store, "expiring", key("old")).await,
        None,
        "expired items are invisible"
    );
    assert!(get(store, "expiring", key("new")).await.is_some());
    assert!(
        get(store, "expiring", key("ancient")).await.is_some(),
        "too old to count"
    );
    // A conditional create sees the expired item as absent.
    let outcome = apply(
        store,
        vec![write(
            "expiring",
            key("old"),
            Some("attribute_not_exists(id)"),
            Change::Put(key("old")),
        )],
    )
    .await;
    assert!(matches!(outcome, Outcome::Applied(_)), "{outcome:?}");
    let expired = item(json!({"id": {"S": "gone"}, "ttl": {"N": (NOW - 1).to_string()}}));
    apply(store, vec![write("expiring", key("gone"), None, Change::Put(expired))]).await;
    assert_eq!(store.table_usage("expiring", NOW).await.expect("usage").item_count, 3);
    let removed = store.remove_expired(NOW_MILLIS, 100).await.expect("removed");
    assert_eq!(removed, 1);
    store.set_time_to_live("expiring", None).await.expect("disabled");
    assert!(get(store, "expiring", key("ancient")).await.is_some());
}
