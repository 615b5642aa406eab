//! Function URLs through the router (no socket): the event a function gets, the response its
//! result becomes, and requests that go on to S3.

use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use sluice_engine::{FunctionError, Route, RouteKey, Routes};
use tower::ServiceExt;

use super::FunctionUrls;
use crate::router::router;
use crate::testing::*;

/// Routes to functions that answer from the event: `echo` returns it, `answer` returns the
/// event's body parsed as JSON (so a test chooses the result), `fail` fails.
struct Fake {
    routes: Routes,
}

#[async_trait]
impl FunctionUrls for Fake {
    fn find(&self, method: &str, path: &str) -> Option<Route> {
        self.routes.find(method, path)
    }

    async fn invoke(&self, function: &str, event: Value) -> Result<Value, FunctionError> {
        match function {
            "echo" => Ok(event),
            "answer" => Ok(serde_json::from_str(event["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)),
            _ => Err(FunctionError::new("Boom", "the function failed")),
        }
    }
}

fn app() -> axum::Router {
    let routes = Routes::default();
    for (key, function) in [
        ("POST /publikes/likes", "echo"),
        ("ANY /answer", "answer"),
        ("GET /fail", "fail"),
    ] {
        routes.register(RouteKey::parse(key).unwrap(), function);
    }
    let mut options = options(Arc::new(crate::stepfunctions::fake::Fake::default()));
    options.function_urls = Some(Arc::new(Fake { routes }));
    router(options)
}

async fn call(request: Request<Body>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let response = app().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter(|(name, _)| !matches!(name.as_str(), "x-amzn-requestid" | "content-length"))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
        .collect();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, body.to_vec())
}

async fn event_of(request: Request<Body>) -> Value {
    let (status, _, body) = call(request).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

async fn answer(result: Value) -> (u16, Vec<(String, String)>, String) {
    let request = Request::post("/answer")
        .header("content-type", "application/json")
        .body(Body::from(result.to_string()))
        .unwrap();
    let (status, headers, body) = call(request).await;
    (status, headers, String::from_utf8(body).unwrap())
}

#[tokio::test]
async fn the_event_is_payload_format_two() {
    let request = Request::post("/publikes/likes?a=1&b=x%20y&a=2&flag")
        .header("Host", "127.0.0.1:4566")
        .header("Content-Type", "application/json")
        .header("X-Publikes-Secret", "s3cret")
        .header("X-Many", "one")
        .header("X-Many", "two")
        .header("Cookie", "c1=v1; c2=v2")
        .header("User-Agent", "curl/8")
        .body(Body::from(r#"{"id":"1"}"#))
        .unwrap();
    let mut event = event_of(request).await;
    let context = event["requestContext"].take();
    assert_eq!(
        event,
        json!({
            "version": "2.0",
            "routeKey": "POST /publikes/likes",
            "rawPath": "/publikes/likes",
            "rawQueryString": "a=1&b=x%20y&a=2&flag",
            "headers": {
                "host": "127.0.0.1:4566",
                "content-type": "application/json",
                "x-publikes-secret": "s3cret",
                "x-many": "one,two",
                "user-agent": "curl/8",
            },
            "requestContext": null,
            "isBase64Encoded": false,
            "cookies": ["c1=v1", "c2=v2"],
            "queryStringParameters": {"a": "1,2", "b": "x y", "flag": ""},
            "body": r#"{"id":"1"}"#,
        })
    );
    assert_eq!(
        context["http"],
        json!({"method": "POST", "path": "/publikes/likes", "protocol": "HTTP/1.1",
               "sourceIp": "127.0.0.1", "userAgent": "curl/8"})
    );
    assert_eq!(context["routeKey"], "POST /publikes/likes");
    assert_eq!(context["time"], "23/Nov/2026:12:00:00 +0000");
    assert_eq!(context["timeEpoch"], server_now().timestamp_millis());
}

#[tokio::test]
async fn binary_bodies_are_base64() {
    let request = Request::post("/publikes/likes")
        .header("content-type", "application/octet-stream")
        .body(Body::from(vec![0u8, 159, 146, 150]))
        .unwrap();
    let event = event_of(request).await;
    assert_eq!(
        (&event["body"], &event["isBase64Encoded"]),
        (&json!("AJ+Slg=="), &json!(true))
    );
    let request = Request::post("/publikes/likes").body(Body::empty()).unwrap();
    let event = event_of(request).await;
    assert_eq!((event.get("body"), &event["isBase64Encoded"]), (None, &json!(false)));
}

#[tokio::test]
async fn results_map_to_responses() {
    let (status, headers, body) = answer(json!({"ok": true})).await;
    assert_eq!(status, 200);
    assert_eq!(headers, [("content-type".to_owned(), "application/json".to_owned())]);
    assert_eq!(body, r#"{"ok":true}"#);

    let (status, headers, body) = answer(json!({
        "statusCode": 202,
        "headers": {"content-type": "text/plain", "x-count": 3},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": "accepted",
    }))
    .await;
    assert_eq!(status, 202);
    let mut headers = headers;
    headers.sort();
    assert_eq!(
        headers,
        [
            ("content-type".to_owned(), "text/plain".to_owned()),
            ("set-cookie".to_owned(), "a=1; Path=/".to_owned()),
            ("set-cookie".to_owned(), "b=2".to_owned()),
            ("x-count".to_owned(), "3".to_owned()),
        ]
    );
    assert_eq!(body, "accepted");

    let (status, _, body) = answer(json!({"statusCode": 200, "body": "aGk=", "isBase64Encoded": true})).await;
    assert_eq!((status, body.as_str()), (200, "hi"));
    let (status, _, body) = answer(json!({"statusCode": 401})).await;
    assert_eq!((status, body.as_str()), (401, ""));
    let (status, _, body) = answer(json!("plain")).await;
    assert_eq!((status, body.as_str()), (200, "\"plain\""));
}

#[tokio::test]
async fn failures_and_malformed_responses_are_bad_gateway() {
    let (status, _, body) = call(Request::get("/fail").body(Body::empty()).unwrap()).await;
    assert_eq!((status, body.as_slice()), (502, b"Internal Server Error".as_slice()));
    for malformed in [
        json!({"statusCode": 99}),
        json!({"statusCode": "200"}),
        json!({"statusCode": 200, "body": "***", "isBase64Encoded": true}),
        json!({"statusCode": 200, "headers": {"bad header": "x"}}),
        json!({"statusCode": 200, "cookies": [1]}),
    ] {
        let (status, _, body) = answer(malformed.clone()).await;
        assert_eq!((status, body.as_str()), (502, "Internal Server Error"), "{malformed}");
    }
}

#[tokio::test]
async fn other_requests_go_on_to_s3_and_the_aws_apis() {
    // No route for GET: path-style S3, which serves no buckets in this router.
    let (status, _, body) = call(Request::get("/publikes/likes").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 501, "{}", String::from_utf8_lossy(&body));
    let (status, _, _) = call(Request::get("/health").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 200);
    let (status, _, _) = call(Request::get("/publikes/likes/").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 501, "paths match exactly");
}

#[tokio::test]
async fn oversized_requests_are_refused() {
    let huge = vec![b'x'; super::PAYLOAD_LIMIT + 1];
    let request = Request::post("/publikes/likes").body(Body::from(huge)).unwrap();
    let (status, _, _) = call(request).await;
    assert_eq!(status, 413);
}
