//! The integrations called directly on the embedded store: AWS's shapes and error names.

use std::sync::Arc;

use serde_json::{Value, json};
use sluice_engine::{Integration, IntegrationCall};

use super::*;

struct Fixture {
    tables: sluice_tables::Tables,
    buckets: sluice_buckets::Buckets,
    leases: sluice_leases::Leases,
    _directory: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let directory = tempfile::tempdir().expect("a folder");
    let store = Arc::new(sluice_store_sqlite::SqliteStore::open(&directory.path().join("sluice.db")).expect("a store"));
    let blobs = sluice_blob::Blobs::local(&directory.path().join("blobs")).expect("blobs");
    let tables = sluice_tables::Tables::new(store.clone(), sluice_tables::Options::default());
    let buckets = sluice_buckets::Buckets::new(store, blobs, sluice_buckets::Options::default());
    let leases = sluice_leases::Leases::open(tables.clone(), sluice_leases::Options::default())
        .await
        .expect("leases");
    Fixture {
        tables,
        buckets,
        leases,
        _directory: directory,
    }
}

async fn call(integration: &dyn Integration, resource: &str, parameters: Value) -> Result<Value, Failure> {
    let (service, action, pattern) = sluice_engine::integrations::parse_resource(resource).expect("a resource");
    integration
        .call(IntegrationCall {
            resource: resource.to_owned(),
            service,
            action,
            pattern,
            parameters,
            execution_arn: Some("arn:aws:states:us-east-1:123456789012:execution:m:e".into()),
        })
        .await
}

#[tokio::test]
async fn dynamodb_answers_with_aws_shapes_and_error_names() {
    let fixture = fixture().await;
    let optimized = dynamodb::DynamoDb::optimized(fixture.tables.clone());
    let sdk = dynamodb::DynamoDb::sdk(fixture.tables.clone());
    call(
        &sdk,
        "arn:aws:states:::aws-sdk:dynamodb:createTable",
        json!({
            "TableName": "things",
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    )
    .await
    .expect("created");
    let put =
        json!({"TableName": "things", "Item": {"pk": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(pk)"});
    let first = call(&optimized, "arn:aws:states:::dynamodb:putItem", put.clone())
        .await
        .expect("put");
    assert_eq!(first["SdkHttpMetadata"]["HttpStatusCode"], 200);
    let again = call(&optimized, "arn:aws:states:::dynamodb:putItem", put.clone())
        .await
        .unwrap_err();
    assert_eq!(again.error, "DynamoDB.ConditionalCheckFailedException");
    let again = call(&sdk, "arn:aws:states:::aws-sdk:dynamodb:putItem", put)
        .await
        .unwrap_err();
    assert_eq!(again.error, "DynamoDb.ConditionalCheckFailedException");
    let missing = call(
        &optimized,
        "arn:aws:states:::dynamodb:getItem",
        json!({"TableName": "nope", "Key": {"pk": {"S": "a"}}}),
    )
    .await
    .unwrap_err();
    assert_eq!(missing.error, "DynamoDB.ResourceNotFoundException");
    let invalid = call(
        &optimized,
        "arn:aws:states:::dynamodb:updateItem",
        json!({"TableName": "things", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET"}),
    )
    .await
    .unwrap_err();
    assert_eq!(invalid.error, "DynamoDB.AmazonDynamoDBException");
    let query = call(
        &optimized,
        "arn:aws:states:::dynamodb:query",
        json!({"TableName": "things"}),
    )
    .await
    .unwrap_err();
    assert_eq!(
        query.error, "States.Runtime",
        "the optimized integration has four actions"
    );
    let scanned = call(
        &sdk,
        "arn:aws:states:::aws-sdk:dynamodb:scan",
        json!({"TableName": "things"}),
    )
    .await
    .expect("scanned");
    assert_eq!(scanned["Count"], 1);
    assert!(scanned.get("SdkHttpMetadata").is_none());
}

#[tokio::test]
async fn s3_answers_with_aws_shapes_and_error_names() {
    let fixture = fixture().await;
    let s3 = s3::S3::sdk(fixture.buckets.clone());
    call(
        &s3,
        "arn:aws:states:::aws-sdk:s3:createBucket",
        json!({"Bucket": "bucket"}),
    )
    .await
    .expect("created");
    let put = json!({"Bucket": "bucket", "Key": "k", "Body": {"hello": "world"}, "IfNoneMatch": "*", "Metadata": {"Who": "me"}});
    let etag = call(&s3, "arn:aws:states:::aws-sdk:s3:putObject", put.clone())
        .await
        .expect("put")["ETag"]
        .clone();
    let refused = call(&s3, "arn:aws:states:::aws-sdk:s3:putObject", put)
        .await
        .unwrap_err();
    assert_eq!(refused.error, "S3.S3Exception");
    assert!(
        refused
            .cause
            .as_deref()
            .unwrap_or_default()
            .contains("PreconditionFailed")
    );
    let got = call(
        &s3,
        "arn:aws:states:::s3:getObject",
        json!({"Bucket": "bucket", "Key": "k"}),
    )
    .await
    .expect("got");
    assert_eq!(got["Body"], r#"{"hello":"world"}"#);
    assert_eq!(got["ETag"], etag);
    assert_eq!(got["Metadata"], json!({"who": "me"}));
    let ranged = call(
        &s3,
        "arn:aws:states:::aws-sdk:s3:getObject",
        json!({"Bucket": "bucket", "Key": "k", "Range": "bytes=2-6"}),
    )
    .await
    .expect("a range");
    assert_eq!(ranged["Body"], "hello");
    let missing = call(
        &s3,
        "arn:aws:states:::aws-sdk:s3:headObject",
        json!({"Bucket": "bucket", "Key": "x"}),
    )
    .await
    .unwrap_err();
    assert_eq!(missing.error, "S3.NoSuchKeyException");
    let no_bucket = call(
        &s3,
        "arn:aws:states:::aws-sdk:s3:getObject",
        json!({"Bucket": "nothing", "Key": "x"}),
    )
    .await
    .unwrap_err();
    assert_eq!(no_bucket.error, "S3.NoSuchBucketException");
    let no_key = call(
        &s3,
        "arn:aws:states:::aws-sdk:s3:getObject",
        json!({"Bucket": "bucket"}),
    )
    .await
    .unwrap_err();
    assert_eq!(no_key.error, "S3.SdkClientException");
    assert!(no_key.cause.as_deref().unwrap_or_default().contains("'Key'"));
    call(
        &s3,
        "arn:aws:states:::aws-sdk:s3:copyObject",
        json!({"Bucket": "bucket", "Key": "dir/copy", "CopySource": "bucket/k"}),
    )
    .await
    .expect("copied");
    let listed = call(
        &s3,
        "arn:aws:states:::aws-sdk:s3:listObjectsV2",
        json!({"Bucket": "bucket", "Delimiter": "/", "MaxKeys": 1}),
    )
    .await
    .expect("listed");
    assert_eq!(listed["KeyCount"], 1);
    assert_eq!(listed["CommonPrefixes"], json!([{"Prefix": "dir/"}]));
    assert_eq!(listed["IsTruncated"], true);
    let rest = call(
        &s3,
        "arn:aws:states:::aws-sdk:s3:listObjectsV2",
        json!({"Bucket": "bucket", "Delimiter": "/", "ContinuationToken": listed["NextContinuationToken"]}),
    )
    .await
    .expect("listed");
    assert_eq!(rest["Contents"][0]["Key"], "k");
    call(
        &s3,
        "arn:aws:states:::aws-sdk:s3:deleteObject",
        json!({"Bucket": "bucket", "Key": "k"}),
    )
    .await
    .expect("deleted");
    let gone = call(
        &s3,
        "arn:aws:states:::aws-sdk:s3:getObject",
        json!({"Bucket": "bucket", "Key": "k"}),
    )
    .await
    .unwrap_err();
    assert_eq!(gone.error, "S3.NoSuchKeyException");
}

#[tokio::test]
async fn lease_tasks_default_the_owner_to_the_execution() {
    let fixture = fixture().await;
    let leases = leases::LeaseTasks::new(fixture.leases.clone());
    let granted = call(
        &leases,
        "arn:aws:states:::sluice:lease.acquire",
        json!({"Name": "job", "TtlSeconds": 30}),
    )
    .await
    .expect("granted");
    assert_eq!(granted["Owner"], "arn:aws:states:us-east-1:123456789012:execution:m:e");
    assert_eq!(granted["Token"], 1);
    let held = call(
        &leases,
        "arn:aws:states:::sluice:lease.acquire",
        json!({"Name": "job", "Owner": "other"}),
    )
    .await
    .unwrap_err();
    assert_eq!(held.error, "Sluice.LeaseHeld");
    let not_owner = call(
        &leases,
        "arn:aws:states:::sluice:lease.release",
        json!({"Name": "job", "Owner": "other"}),
    )
    .await
    .unwrap_err();
    assert_eq!(not_owner.error, "Sluice.NotLeaseOwner");
    let bad = call(
        &leases,
        "arn:aws:states:::sluice:lease.acquire",
        json!({"Name": "job", "WaitSeconds": 99999}),
    )
    .await
    .unwrap_err();
    assert_eq!(bad.error, "Sluice.InvalidLeaseRequest");
    call(
        &leases,
        "arn:aws:states:::sluice:lease.renew",
        json!({"Name": "job", "Token": 1}),
    )
    .await
    .expect("renewed");
    let released = call(&leases, "arn:aws:states:::sluice:lease.release", json!({"Name": "job"}))
        .await
        .expect("released");
    assert_eq!(released["Released"], true);
}
