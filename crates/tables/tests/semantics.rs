//! The tables' semantics through `Tables::call`, on the SQLite store: every case is an operation,
//! its request, and the expected answer or error.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::{Value as Json, json};
use sluice_store_sqlite::SqliteStore;
use sluice_tables::{ErrorCode, Options, Tables};

struct Fixture {
    tables: Tables,
    now: Arc<AtomicI64>,
    _directory: tempfile::TempDir,
}

fn fixture() -> Fixture {
    let directory = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(&directory.path().join("sluice.db")).expect("the store opens");
    let now = Arc::new(AtomicI64::new(1_700_000_000_000));
    let clock = now.clone();
    let tables =
        Tables::new(Arc::new(store), Options::default()).with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
    Fixture {
        tables,
        now,
        _directory: directory,
    }
}

impl Fixture {
    async fn ok(&self, operation: &str, request: Json) -> Json {
        match self.tables.call(operation, request.clone()).await {
            Ok(answer) => answer,
            Err(error) => panic!("{operation} {request} failed: {error:?}"),
        }
    }

    async fn fails(&self, operation: &str, request: Json, code: ErrorCode, message: &str) -> sluice_tables::Error {
        match self.tables.call(operation, request.clone()).await {
            Ok(answer) => panic!("{operation} {request} answered {answer}"),
            Err(error) => {
                assert_eq!(
                    (error.code, error.message.as_str()),
                    (code, message),
                    "{operation} {request}"
                );
                error
            }
        }
    }

    async fn table(&self, name: &str, sort: Option<(&str, &str)>) {
        let mut schema = vec![json!({"AttributeName": "pk", "KeyType": "HASH"})];
        let mut definitions = vec![json!({"AttributeName": "pk", "AttributeType": "S"})];
        if let Some((sort, scalar)) = sort {
            schema.push(json!({"AttributeName": sort, "KeyType": "RANGE"}));
            definitions.push(json!({"AttributeName": sort, "AttributeType": scalar}));
        }
        self.ok(
            "CreateTable",
            json!({"TableName": name, "KeySchema": schema, "AttributeDefinitions": definitions, "BillingMode": "PAY_PER_REQUEST"}),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_table_checks_as_dynamodb_does() {
    let fixture = fixture();
    fixture.table("orders", Some(("sk", "N"))).await;
    let described = fixture.ok("DescribeTable", json!({"TableName": "orders"})).await;
    assert_eq!(described["Table"]["TableStatus"], "ACTIVE");
    assert_eq!(
        described["Table"]["TableArn"],
        "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    );
    assert_eq!(
        described["Table"]["KeySchema"][1],
        json!({"AttributeName": "sk", "KeyType": "RANGE"})
    );
    assert_eq!(
        described["Table"]["BillingModeSummary"]["BillingMode"],
        "PAY_PER_REQUEST"
    );
    let request = json!({
        "TableName": "orders",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    });
    fixture
        .fails(
            "CreateTable",
            request,
            ErrorCode::ResourceInUseException,
            "Table already exists: orders",
        )
        .await;
    let cases = [
        (
            json!({"TableName": "x", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}),
            "1 validation error detected: Value 'x' at 'tableName' failed to satisfy constraint: Member must have length greater than or equal to 3",
        ),
        (
            json!({"TableName": "abc", "AttributeDefinitions": [], "BillingMode": "PAY_PER_REQUEST"}),
            "1 validation error detected: Value null at 'keySchema' failed to satisfy constraint: Member must not be null",
        ),
        (
            json!({"TableName": "abc", "KeySchema": [{"AttributeName": "pk", "KeyType": "RANGE"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}),
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ),
        (
            json!({"TableName": "abc", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "x", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}),
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ),
        (
            json!({"TableName": "abc", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "other", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}),
            "Invalid KeySchema: Some index key attribute have no definition",
        ),
        (
            json!({"TableName": "abc", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "X"}], "BillingMode": "PAY_PER_REQUEST"}),
            "1 validation error detected: Value 'X' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]",
        ),
    ];
    for (request, message) in cases {
        fixture
            .fails("CreateTable", request, ErrorCode::ValidationException, message)
            .await;
    }
    fixture
        .fails(
            "DescribeTable",
            json!({"TableName": "missing"}),
            ErrorCode::ResourceNotFoundException,
            "Requested resource not found: Table: missing not found",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_tables_pages() {
    let fixture = fixture();
    for name in ["t-a", "t-b", "t-c"] {
        fixture.table(name, None).await;
    }
    let first = fixture.ok("ListTables", json!({"Limit": 2})).await;
    assert_eq!(
        first,
        json!({"TableNames": ["t-a", "t-b"], "LastEvaluatedTableName": "t-b"})
    );
    let rest = fixture
        .ok("ListTables", json!({"ExclusiveStartTableName": "t-b"}))
        .await;
    assert_eq!(rest, json!({"TableNames": ["t-c"]}));
    let deleted = fixture.ok("DeleteTable", json!({"TableName": "t-c"})).await;
    assert_eq!(deleted["TableDescription"]["TableStatus"], "DELETING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_are_written_conditionally_with_return_values() {
    let fixture = fixture();
    fixture.table("items", None).await;
    let put = json!({
        "TableName": "items",
        "Item": {"pk": {"S": "a"}, "n": {"N": "1"}},
        "ConditionExpression": "attribute_not_exists(pk)",
    });
    assert_eq!(fixture.ok("PutItem", put.clone()).await, json!({}));
    let mut again = put.clone();
    again["ReturnValuesOnConditionCheckFailure"] = json!("ALL_OLD");
    let error = fixture
        .fails(
            "PutItem",
            again,
            ErrorCode::ConditionalCheckFailedException,
            "The conditional request failed",
        )
        .await;
    assert_eq!(error.details["Item"], json!({"pk": {"S": "a"}, "n": {"N": "1"}}));
    let updated = fixture
        .ok(
            "UpdateItem",
            json!({
                "TableName": "items",
                "Key": {"pk": {"S": "a"}},
                "UpdateExpression": "SET n = n + :one, tags = :tags",
                "ConditionExpression": "n = :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":tags": {"SS": ["x"]}},
                "ReturnValues": "UPDATED_NEW",
            }),
        )
        .await;
    assert_eq!(updated, json!({"Attributes": {"n": {"N": "2"}, "tags": {"SS": ["x"]}}}));
    let got = fixture
        .ok(
            "GetItem",
            json!({"TableName": "items", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "#n", "ExpressionAttributeNames": {"#n": "n"}, "ConsistentRead": true}),
        )
        .await;
    assert_eq!(got, json!({"Item": {"n": {"N": "2"}}}));
    let deleted = fixture
        .ok(
            "DeleteItem",
            json!({"TableName": "items", "Key": {"pk": {"S": "a"}}, "ReturnValues": "ALL_OLD"}),
        )
        .await;
    assert_eq!(deleted["Attributes"]["n"], json!({"N": "2"}));
    assert_eq!(
        fixture
            .ok("GetItem", json!({"TableName": "items", "Key": {"pk": {"S": "a"}}}))
            .await,
        json!({})
    );
    // UpdateItem creates the item from its key.
    let created = fixture
        .ok(
            "UpdateItem",
            json!({"TableName": "items", "Key": {"pk": {"S": "new"}}, "UpdateExpression": "ADD c :one", "ExpressionAttributeValues": {":one": {"N": "1"}}, "ReturnValues": "ALL_NEW"}),
        )
        .await;
    assert_eq!(created, json!({"Attributes": {"c": {"N": "1"}, "pk": {"S": "new"}}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_dynamodb_errors_and_writes_nothing() {
    let fixture = fixture();
    fixture.table("items", None).await;
    let cases = [
        (
            "PutItem",
            json!({"TableName": "nowhere", "Item": {"pk": {"S": "a"}}}),
            ErrorCode::ResourceNotFoundException,
            "Requested resource not found",
        ),
        (
            "PutItem",
            json!({"TableName": "items", "Item": {"other": {"S": "a"}}}),
            ErrorCode::ValidationException,
            "One or more parameter values were invalid: Missing the key pk in the item",
        ),
        (
            "PutItem",
            json!({"TableName": "items", "Item": {"pk": {"N": "1"}}}),
            ErrorCode::ValidationException,
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
        ),
        (
            "GetItem",
            json!({"TableName": "items", "Key": {"pk": {"S": "a"}, "x": {"S": "b"}}}),
            ErrorCode::ValidationException,
            "The provided key element does not match the schema",
        ),
        (
            "UpdateItem",
            json!({"TableName": "items", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET pk = :v", "ExpressionAttributeValues": {":v": {"S": "b"}}}),
            ErrorCode::ValidationException,
            "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key",
        ),
        (
            "UpdateItem",
            json!({"TableName": "items", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET status = :v", "ExpressionAttributeValues": {":v": {"S": "b"}}}),
            ErrorCode::ValidationException,
            "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status",
        ),
        (
            "UpdateItem",
            json!({"TableName": "items", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET x = :v", "ExpressionAttributeValues": {":v": {"S": "b"}, ":w": {"S": "c"}}}),
            ErrorCode::ValidationException,
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}",
        ),
        (
            "UpdateItem",
            json!({"TableName": "items", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET x = y + :v", "ExpressionAttributeValues": {":v": {"N": "1"}}}),
            ErrorCode::ValidationException,
            "The provided expression refers to an attribute that does not exist in the item",
        ),
        (
            "PutItem",
            json!({"TableName": "items", "Item": {"pk": {"S": "a"}, "big": {"S": "x".repeat(400 * 1024)}}}),
            ErrorCode::ValidationException,
            "Item size has exceeded the maximum allowed size",
        ),
        (
            "PutItem",
            json!({"Item": {"pk": {"S": "a"}}}),
            ErrorCode::ValidationException,
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
        ),
        (
            "PutItem",
            json!({"TableName": "items", "Item": {"pk": {"S": "a"}}, "ReturnValues": "ALL_NEW"}),
            ErrorCode::ValidationException,
            "Return values set to invalid value",
        ),
        (
            "PutItem",
            json!({"TableName": "items", "Item": {"pk": {"S": "a"}}, "Expected": {}}),
            ErrorCode::ValidationException,
            "Sluice does not support the legacy parameter Expected; use the expression parameters instead",
        ),
        (
            "Query",
            json!({"TableName": "items", "IndexName": "byDate", "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "a"}}}),
            ErrorCode::ValidationException,
            "The table does not have the specified index: byDate",
        ),
    ];
    for (operation, request, code, message) in cases {
        fixture.fails(operation, request, code, message).await;
    }
    fixture
        .fails(
            "PutItem",
            json!({"TableName": "items", "Item": {"pk": {"S": 1}}}),
            ErrorCode::SerializationException,
            "NUMBER_VALUE cannot be converted to String",
        )
        .await;
    let scanned = fixture.ok("Scan", json!({"TableName": "items"})).await;
    assert_eq!(scanned["Count"], 0, "nothing was written: {scanned}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_follow_key_conditions_filters_and_pages() {
    let fixture = fixture();
    fixture.table("events", Some(("at", "N"))).await;
    for at in 1..=10 {
        fixture
            .ok(
                "PutItem",
                json!({"TableName": "events", "Item": {"pk": {"S": "p"}, "at": {"N": at.to_string()}, "odd": {"BOOL": at % 2 == 1}}}),
            )
            .await;
    }
    let query = |extra: Json| {
        let mut request = json!({
            "TableName": "events",
            "KeyConditionExpression": "pk = :p AND #at BETWEEN :low AND :high",
            "ExpressionAttributeNames": {"#at": "at"},
            "ExpressionAttributeValues": {":p": {"S": "p"}, ":low": {"N": "3"}, ":high": {"N": "8"}},
        });
        for (key, value) in extra.as_object().cloned().unwrap_or_default() {
            request[key] = value;
        }
        request
    };
    let numbers = |answer: &Json| -> Vec<String> {
        answer["Items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["at"]["N"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = fixture.ok("Query", query(json!({}))).await;
    assert_eq!(numbers(&all), ["3", "4", "5", "6", "7", "8"]);
    let backwards = fixture
        .ok("Query", query(json!({"ScanIndexForward": false, "Limit": 4})))
        .await;
    assert_eq!(numbers(&backwards), ["8", "7", "6", "5"]);
    assert_eq!(
        backwards["LastEvaluatedKey"],
        json!({"pk": {"S": "p"}, "at": {"N": "5"}})
    );
    let rest = fixture
        .ok(
            "Query",
            query(json!({"ScanIndexForward": false, "ExclusiveStartKey": backwards["LastEvaluatedKey"]})),
        )
        .await;
    assert_eq!(numbers(&rest), ["4", "3"]);
    assert!(rest.get("LastEvaluatedKey").is_none());
    let mut filtered = query(json!({"FilterExpression": "odd = :yes", "Limit": 3}));
    filtered["ExpressionAttributeValues"][":yes"] = json!({"BOOL": true});
    let filtered = fixture.ok("Query", filtered).await;
    assert_eq!(
        (filtered["Count"].clone(), filtered["ScannedCount"].clone()),
        (json!(2), json!(3))
    );
    let counted = fixture.ok("Query", query(json!({"Select": "COUNT"}))).await;
    assert_eq!(counted, json!({"Count": 6, "ScannedCount": 6}));
    let mut on_key = query(json!({"FilterExpression": "#at > :low"}));
    on_key["ExpressionAttributeValues"][":low"] = json!({"N": "3"});
    fixture
        .fails(
            "Query",
            on_key,
            ErrorCode::ValidationException,
            "Filter Expression can only contain non-primary key attributes: Primary key attribute: at",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_page_through_segments() {
    let fixture = fixture();
    fixture.table("many", None).await;
    for index in 0..30 {
        fixture
            .ok(
                "PutItem",
                json!({"TableName": "many", "Item": {"pk": {"S": format!("k{index}")}}}),
            )
            .await;
    }
    let mut total = 0;
    for segment in 0..4 {
        let mut start: Option<Json> = None;
        loop {
            let mut request = json!({"TableName": "many", "Segment": segment, "TotalSegments": 4, "Limit": 3});
            if let Some(start) = start.take() {
                request["ExclusiveStartKey"] = start;
            }
            let page = fixture.ok("Scan", request).await;
            total += page["Count"].as_u64().unwrap();
            match page.get("LastEvaluatedKey") {
                Some(key) => start = Some(key.clone()),
                None => break,
            }
        }
    }
    assert_eq!(total, 30);
    fixture
        .fails(
            "Scan",
            json!({"TableName": "many", "Segment": 4, "TotalSegments": 4}),
            ErrorCode::ValidationException,
            "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: 4 is not less than TotalSegments: 4",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_and_transactions() {
    let fixture = fixture();
    fixture.table("a-table", None).await;
    fixture.table("b-table", None).await;
    fixture
        .ok(
            "BatchWriteItem",
            json!({"RequestItems": {
                "a-table": [{"PutRequest": {"Item": {"pk": {"S": "1"}}}}, {"PutRequest": {"Item": {"pk": {"S": "2"}}}}],
                "b-table": [{"PutRequest": {"Item": {"pk": {"S": "1"}, "v": {"N": "5"}}}}],
            }}),
        )
        .await;
    let got = fixture
        .ok(
            "BatchGetItem",
            json!({"RequestItems": {
                "a-table": {"Keys": [{"pk": {"S": "1"}}, {"pk": {"S": "3"}}]},
                "b-table": {"Keys": [{"pk": {"S": "1"}}], "ProjectionExpression": "v"},
            }}),
        )
        .await;
    assert_eq!(
        got,
        json!({"Responses": {"a-table": [{"pk": {"S": "1"}}], "b-table": [{"v": {"N": "5"}}]}, "UnprocessedKeys": {}})
    );
    fixture
        .fails(
            "BatchWriteItem",
            json!({"RequestItems": {"a-table": [{"PutRequest": {"Item": {"pk": {"S": "1"}}}}, {"DeleteRequest": {"Key": {"pk": {"S": "1"}}}}]}}),
            ErrorCode::ValidationException,
            "Provided list of item keys contains duplicates",
        )
        .await;
    let transaction = |v: &str| {
        json!({"TransactItems": [
            {"Put": {"TableName": "a-table", "Item": {"pk": {"S": "9"}}}},
            {"ConditionCheck": {"TableName": "b-table", "Key": {"pk": {"S": "1"}}, "ConditionExpression": "v = :v", "ExpressionAttributeValues": {":v": {"N": v}}, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
            {"Update": {"TableName": "a-table", "Key": {"pk": {"S": "2"}}, "UpdateExpression": "ADD c :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ]})
    };
    let error = fixture
        .fails(
            "TransactWriteItems",
            transaction("6"),
            ErrorCode::TransactionCanceledException,
            "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, None]",
        )
        .await;
    assert_eq!(
        error.details["CancellationReasons"],
        json!([{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed", "Item": {"pk": {"S": "1"}, "v": {"N": "5"}}}, {"Code": "None"}])
    );
    let nothing = fixture
        .ok("GetItem", json!({"TableName": "a-table", "Key": {"pk": {"S": "9"}}}))
        .await;
    assert_eq!(nothing, json!({}), "a cancelled transaction writes nothing");
    let mut with_token = transaction("5");
    with_token["ClientRequestToken"] = json!("token-1");
    fixture.ok("TransactWriteItems", with_token.clone()).await;
    fixture.ok("TransactWriteItems", with_token.clone()).await;
    let read = fixture
        .ok(
            "TransactGetItems",
            json!({"TransactItems": [
                {"Get": {"TableName": "a-table", "Key": {"pk": {"S": "9"}}}},
                {"Get": {"TableName": "a-table", "Key": {"pk": {"S": "2"}}, "ProjectionExpression": "c"}},
                {"Get": {"TableName": "b-table", "Key": {"pk": {"S": "missing"}}}},
            ]}),
        )
        .await;
    assert_eq!(
        read,
        json!({"Responses": [{"Item": {"pk": {"S": "9"}}}, {"Item": {"c": {"N": "1"}}}, {}]}),
        "the repeated token did not add again"
    );
    fixture
        .fails(
            "TransactWriteItems",
            json!({"TransactItems": [
                {"Put": {"TableName": "a-table", "Item": {"pk": {"S": "x"}}}},
                {"Delete": {"TableName": "a-table", "Key": {"pk": {"S": "x"}}}},
            ]}),
            ErrorCode::ValidationException,
            "Transaction request cannot include multiple operations on one item",
        )
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_to_live_hides_expired_items() {
    let fixture = fixture();
    fixture.table("sessions", None).await;
    let now = fixture.now.load(Ordering::SeqCst) / 1000;
    fixture
        .ok(
            "UpdateTimeToLive",
            json!({"TableName": "sessions", "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": true}}),
        )
        .await;
    let described = fixture.ok("DescribeTimeToLive", json!({"TableName": "sessions"})).await;
    assert_eq!(
        described,
        json!({"TimeToLiveDescription": {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}})
    );
    fixture
        .ok(
            "PutItem",
            json!({"TableName": "sessions", "Item": {"pk": {"S": "s"}, "expires": {"N": (now + 60).to_string()}}}),
        )
        .await;
    let key = json!({"TableName": "sessions", "Key": {"pk": {"S": "s"}}});
    assert!(fixture.ok("GetItem", key.clone()).await.get("Item").is_some());
    fixture.now.fetch_add(61_000, Ordering::SeqCst);
    assert_eq!(fixture.ok("GetItem", key.clone()).await, json!({}), "expired");
    let scanned = fixture.ok("Scan", json!({"TableName": "sessions"})).await;
    assert_eq!(scanned["Count"], 0);
}

/// Seed 003: concurrent `list_append(if_not_exists(...))` and `ADD` updates lose nothing, and
/// of N writers racing `attribute_not_exists`, exactly one wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_lose_nothing_and_one_conditional_put_wins() {
    let fixture = fixture();
    fixture.table("races", None).await;
    let mut tasks = Vec::new();
    for writer in 0..64 {
        let tables = fixture.tables.clone();
        tasks.push(tokio::spawn(async move {
            tables
                .call(
                    "UpdateItem",
                    json!({
                        "TableName": "races",
                        "Key": {"pk": {"S": "test-run"}},
                        "UpdateExpression": "SET #l = list_append(if_not_exists(#l, :empty), :region) ADD ready :one, regions :set",
                        "ExpressionAttributeNames": {"#l": "aggregator-ready-regions"},
                        "ExpressionAttributeValues": {
                            ":empty": {"L": []},
                            ":region": {"L": [{"S": format!("region-{writer}")}]},
                            ":one": {"N": "1"},
                            ":set": {"SS": [format!("region-{writer}")]},
                        },
                    }),
                )
                .await
        }));
    }
    for task in tasks {
        task.await.expect("the task ran").expect("the update applied");
    }
    let item = fixture
        .ok(
            "GetItem",
            json!({"TableName": "races", "Key": {"pk": {"S": "test-run"}}}),
        )
        .await;
    assert_eq!(
        item["Item"]["aggregator-ready-regions"]["L"].as_array().map(Vec::len),
        Some(64)
    );
    assert_eq!(item["Item"]["ready"], json!({"N": "64"}));
    assert_eq!(item["Item"]["regions"]["SS"].as_array().map(Vec::len), Some(64));

    for round in 0..10 {
        let mut tasks = Vec::new();
        for writer in 0..32 {
            let tables = fixture.tables.clone();
            tasks.push(tokio::spawn(async move {
                tables
                    .call(
                        "PutItem",
                        json!({
                            "TableName": "races",
                            "Item": {"pk": {"S": format!("lock-{round}")}, "owner": {"N": writer.to_string()}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }),
                    )
                    .await
            }));
        }
        let mut winners = 0;
        for task in tasks {
            match task.await.expect("the task ran") {
                Ok(_) => winners += 1,
                Err(error) => assert_eq!(error.code, ErrorCode::ConditionalCheckFailedException),
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
}
