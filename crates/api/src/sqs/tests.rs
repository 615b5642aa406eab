//! The SQS wire protocol through the router: signed for `sqs`, over real queues on SQLite.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request};
use serde_json::{Value, json};
use sluice_queues::{Clock, Options as QueueOptions, Queues};
use tower::ServiceExt;

use crate::router::{Options, router};
use crate::sigv4::{self, Parts};
use crate::stepfunctions::fake::Fake;
use crate::testing::{ACCESS_KEY, SECRET, options, server_now};

fn app(folder: &std::path::Path) -> Router {
    let store = sluice_store_sqlite::SqliteStore::open(&folder.join("sluice.db")).unwrap();
    let queues = Queues::new(Arc::new(store), QueueOptions::default(), Clock::system());
    router(Options {
        queues: Some(queues),
        function_urls: None,
        topics: None,
        ..options(Arc::new(Fake::default()))
    })
}

/// Calls `AmazonSQS.<operation>`: the status, the `x-amzn-query-error` header, the body.
async fn call(app: &Router, operation: &str, body: Value) -> (u16, Option<String>, Value) {
    let body = body.to_string().into_bytes();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("localhost:4566"));
    headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
    headers.insert(
        "x-amz-target",
        HeaderValue::from_str(&format!("AmazonSQS.{operation}")).unwrap(),
    );
    let amz_date = server_now().format("%Y%m%dT%H%M%SZ").to_string();
    headers.insert("x-amz-date", HeaderValue::from_str(&amz_date).unwrap());
    let parts = Parts {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: &body,
    };
    let authorization = sigv4::authorization_header(
        &parts,
        ACCESS_KEY,
        SECRET,
        "us-east-1",
        "sqs",
        &amz_date,
        "content-type;host;x-amz-date;x-amz-target",
    );
    headers.insert("authorization", HeaderValue::from_str(&authorization).unwrap());
    let mut request = Request::post("/").body(Body::from(body)).unwrap();
    *request.headers_mut() = headers;
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let query_error = response
        .headers()
        .get("x-amzn-query-error")
        .map(|value| value.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, query_error, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn queues_send_and_receive_over_the_wire() {
    let folder = tempfile::tempdir().unwrap();
    let app = app(folder.path());
    let (status, _, created) = call(&app, "CreateQueue", json!({"QueueName": "wire"})).await;
    assert_eq!(
        (status, &created),
        (200, &json!({"QueueUrl": "http://localhost:4566/123456789012/wire"}))
    );
    let url = created["QueueUrl"].clone();
    let attributes = json!({"kind": {"DataType": "String", "StringValue": "greeting"}});
    let (status, _, sent) = call(
        &app,
        "SendMessage",
        json!({"QueueUrl": url, "MessageBody": "hello", "MessageAttributes": attributes}),
    )
    .await;
    assert_eq!(status, 200, "{sent}");
    assert_eq!(sent["MD5OfMessageBody"], "5d41402abc4b2a76b9719d911017c592");
    assert!(sent["MD5OfMessageAttributes"].is_string());
    let (_, _, received) = call(
        &app,
        "ReceiveMessage",
        json!({"QueueUrl": url, "MessageAttributeNames": ["All"], "MessageSystemAttributeNames": ["ApproximateReceiveCount"]}),
    )
    .await;
    let message = &received["Messages"][0];
    assert_eq!(message["Body"], "hello");
    assert_eq!(message["Attributes"], json!({"ApproximateReceiveCount": "1"}));
    assert_eq!(message["MessageAttributes"], attributes);
    assert_eq!(message["MD5OfMessageAttributes"], sent["MD5OfMessageAttributes"]);
    let (_, _, empty) = call(&app, "ReceiveMessage", json!({"QueueUrl": url})).await;
    assert_eq!(empty, json!({}));
    let handle = message["ReceiptHandle"].clone();
    let (status, _, deleted) = call(
        &app,
        "DeleteMessageBatch",
        json!({"QueueUrl": url, "Entries": [{"Id": "a", "ReceiptHandle": handle}, {"Id": "b", "ReceiptHandle": "junk"}]}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(deleted["Successful"], json!([{"Id": "a"}]));
    assert_eq!(deleted["Failed"][0]["Code"], "ReceiptHandleIsInvalid");
}

#[tokio::test]
async fn errors_carry_the_legacy_query_code() {
    let folder = tempfile::tempdir().unwrap();
    let app = app(folder.path());
    let (status, query_error, body) = call(&app, "GetQueueUrl", json!({"QueueName": "absent"})).await;
    assert_eq!(status, 400);
    assert_eq!(
        query_error.as_deref(),
        Some("AWS.SimpleQueueService.NonExistentQueue;Sender")
    );
    assert_eq!(body["__type"], "QueueDoesNotExist");
    let (_, query_error, body) = call(&app, "SendMessage", json!({"QueueUrl": "http://h/1/q"})).await;
    assert_eq!(query_error.as_deref(), Some("MissingParameter;Sender"));
    assert_eq!(body["message"], "The request must contain the parameter MessageBody.");
    let (_, _, body) = call(&app, "ReceiveMessage", json!({"QueueUrl": 5})).await;
    assert_eq!(body["__type"], "SerializationException");
}
