//! The SNS query protocol through the router: form bodies signed for `sns`, XML answers and
//! `ErrorResponse` errors, over real topics and queues on SQLite.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request};
use sluice_engine::{Engine, Functions};
use sluice_queues::Queues;
use sluice_topics::Topics;
use tower::ServiceExt;

use crate::router::{Options, router};
use crate::sigv4::{self, Parts};
use crate::stepfunctions::fake::Fake;
use crate::testing::{ACCESS_KEY, SECRET, options, server_now};

fn app(folder: &std::path::Path) -> Router {
    let store = Arc::new(sluice_store_sqlite::SqliteStore::open(&folder.join("sluice.db")).unwrap());
    let queues = Queues::new(
        store.clone(),
        sluice_queues::Options::default(),
        sluice_queues::Clock::system(),
    );
    let engine = Engine::new(store.clone(), Functions::default(), sluice_engine::Options::default());
    let topics = Topics::new(
        store,
        queues.clone(),
        engine,
        sluice_topics::Options::default(),
        sluice_topics::Clock::system(),
    );
    router(Options {
        queues: Some(queues),
        topics: Some(topics),
        ..options(Arc::new(Fake::default()))
    })
}

/// Sends a form body signed for `signing_name` (unsigned when none): the status and the XML.
async fn call_as(app: &Router, signing_name: Option<&str>, form: &str) -> (u16, String) {
    let body = form.as_bytes().to_vec();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("localhost:4566"));
    headers.insert(
        "content-type",
        HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
    );
    if let Some(signing_name) = signing_name {
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
            signing_name,
            &amz_date,
            "content-type;host;x-amz-date",
        );
        headers.insert("authorization", HeaderValue::from_str(&authorization).unwrap());
    }
    let mut request = Request::post("/").body(Body::from(body)).unwrap();
    *request.headers_mut() = headers;
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    assert!(response.headers().contains_key("x-amzn-requestid"));
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

async fn call(app: &Router, form: &str) -> (u16, String) {
    call_as(app, Some("sns"), form).await
}

fn between<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml.find(&open).map(|index| index + open.len()).unwrap_or(0);
    let end = xml[start..]
        .find(&format!("</{tag}>"))
        .map_or(xml.len(), |index| start + index);
    &xml[start..end]
}

#[tokio::test]
async fn topics_are_served_in_the_query_protocol() {
    let folder = tempfile::tempdir().unwrap();
    let app = app(folder.path());
    let (status, created) = call(&app, "Action=CreateTopic&Version=2010-03-31&Name=orders").await;
    assert_eq!(status, 200, "{created}");
    assert!(created.contains("<CreateTopicResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"));
    let arn = between(&created, "TopicArn");
    assert_eq!(arn, "arn:aws:sns:us-east-1:123456789012:orders");
    assert!(created.contains("<ResponseMetadata><RequestId>"));
    let (_, listed) = call(&app, "Action=ListTopics&Version=2010-03-31").await;
    assert!(listed.contains(&format!("<Topics><member><TopicArn>{arn}</TopicArn></member></Topics>")));
    let encoded = arn.replace(':', "%3A");
    let (status, attributes) = call(
        &app,
        &format!("Action=GetTopicAttributes&Version=2010-03-31&TopicArn={encoded}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(attributes.contains("<entry><key>Owner</key><value>123456789012</value></entry>"));
    let (status, published) = call(
        &app,
        &format!(
            "Action=Publish&Version=2010-03-31&TopicArn={encoded}&Message=hi&MessageAttributes.entry.1.Name=kind&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=a"
        ),
    )
    .await;
    assert_eq!(status, 200, "{published}");
    assert_eq!(between(&published, "MessageId").len(), 36);
}

#[tokio::test]
async fn errors_are_error_responses() {
    let folder = tempfile::tempdir().unwrap();
    let app = app(folder.path());
    let (status, missing) = call(
        &app,
        "Action=GetTopicAttributes&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Anone",
    )
    .await;
    assert_eq!(status, 404);
    assert!(missing.starts_with("<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"));
    assert_eq!(between(&missing, "Code"), "NotFound");
    assert_eq!(between(&missing, "Message"), "Topic does not exist");
    assert_eq!(between(&missing, "Type"), "Sender");
    let (status, bad) = call(&app, "Action=CreateTopic&Name=no%20spaces").await;
    assert_eq!((status, between(&bad, "Code")), (400, "InvalidParameter"));
    assert_eq!(between(&bad, "Message"), "Invalid parameter: Topic Name");
    let (status, unknown) = call(&app, "Action=Frobnicate").await;
    assert_eq!((status, between(&unknown, "Code")), (400, "InvalidAction"));
    let (status, unsigned) = call_as(&app, None, "Action=ListTopics").await;
    assert_eq!(
        (status, between(&unsigned, "Code")),
        (403, "MissingAuthenticationToken")
    );
    let (status, wrong_service) = call_as(&app, Some("sqs"), "Action=ListTopics").await;
    assert_eq!(
        (status, between(&wrong_service, "Code")),
        (400, "SignatureDoesNotMatch")
    );
}
