//! The harness of the API's HTTP tests: a router over the in-memory Step Functions, signed
//! requests, and one `check` helper that compares an operation's answer with the expected one.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use tower::ServiceExt;

use crate::router::{Clock, Options, router};
use crate::service::StepFunctions;
use crate::sigv4::{self, Credentials, Parts};
use crate::stepfunctions::fake::Fake;

pub(crate) const ACCESS_KEY: &str = "AKIDEXAMPLE";
pub(crate) const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub(crate) const MACHINE: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:hello";
pub(crate) const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:hello:run-1";
pub(crate) const ROLE: &str = "arn:aws:iam::123456789012:role/sfn";
pub(crate) const DEFINITION: &str = r#"{"StartAt":"Start","States":{"Start":{"Type":"Pass","End":true}}}"#;

/// Held by the tests that run a real engine, one at a time, so that the metrics they record in
/// the process-wide recorder do not mix.
pub(crate) static ENGINE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub(crate) fn server_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).single().unwrap()
}

pub(crate) fn app() -> Router {
    router(options(Arc::new(Fake::default())))
}

/// The options of a test router over `step_functions`: the test keys, the fixed clock, no metrics.
pub(crate) fn options(step_functions: Arc<dyn StepFunctions>) -> Options {
    let mut credentials = Credentials::new();
    credentials.insert(ACCESS_KEY, SECRET);
    Options {
        step_functions,
        admin: None,
        events: None,
        credentials,
        clock: Clock::fixed(server_now()),
        region: Some("us-east-1".to_owned()),
        metrics: None,
        tables: None,
        buckets: None,
        queues: None,
        function_urls: None,
        topics: None,
    }
}

/// How to sign a request.
pub(crate) struct Signing<'a> {
    pub(crate) access_key: &'a str,
    pub(crate) secret: &'a str,
    pub(crate) at: DateTime<Utc>,
}

pub(crate) const GOOD: Signing<'static> = Signing {
    access_key: ACCESS_KEY,
    secret: SECRET,
    at: DateTime::UNIX_EPOCH,
};

pub(crate) fn request(target: &str, body: Vec<u8>, signing: Option<Signing<'_>>) -> Request<Body> {
    request_to("states", target, body, signing)
}

/// A request to the service signed as `signing_name`.
pub(crate) fn request_to(
    signing_name: &str,
    target: &str,
    body: Vec<u8>,
    signing: Option<Signing<'_>>,
) -> Request<Body> {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("localhost:8080"));
    headers.insert("content-type", HeaderValue::from_static("application/x-amz-json-1.0"));
    headers.insert("x-amz-target", HeaderValue::from_str(target).unwrap());
    if let Some(signing) = signing {
        let at = if signing.at == DateTime::UNIX_EPOCH {
            server_now()
        } else {
            signing.at
        };
        let amz_date = at.format("%Y%m%dT%H%M%SZ").to_string();
        headers.insert("x-amz-date", HeaderValue::from_str(&amz_date).unwrap());
        let parts = Parts {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body: &body,
        };
        let signed_headers = "content-type;host;x-amz-date;x-amz-target";
        let authorization = sigv4::authorization_header(
            &parts,
            signing.access_key,
            signing.secret,
            "us-east-1",
            signing_name,
            &amz_date,
            signed_headers,
        );
        headers.insert("authorization", HeaderValue::from_str(&authorization).unwrap());
    }
    let mut request = Request::post("/").body(Body::from(body)).unwrap();
    *request.headers_mut() = headers;
    request
}

pub(crate) async fn send(app: &Router, request: Request<Body>) -> (u16, Value) {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    assert!(response.headers().contains_key("x-amzn-requestid"));
    assert_eq!(response.headers()["content-type"], "application/x-amz-json-1.0");
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap())
}

pub(crate) async fn call(app: &Router, operation: &str, body: Value) -> (u16, Value) {
    let target = format!("AWSStepFunctions.{operation}");
    send(app, request(&target, body.to_string().into_bytes(), Some(GOOD))).await
}

/// Calls `operation` and checks the answer: `Ok(body)` for a 200, `Err((code, message start))`.
pub(crate) async fn check(app: &Router, operation: &str, body: Value, expect: Result<Value, (&str, &str)>) {
    let (status, got) = call(app, operation, body).await;
    match expect {
        Ok(expected) => assert_eq!((status, got), (200, expected), "{operation}"),
        Err((code, message)) => {
            assert_eq!(got["__type"], code, "{operation}: {got}");
            let text = got["message"].as_str().unwrap();
            assert!(text.starts_with(message), "{operation}: {text}");
            assert!(status >= 400, "{operation}");
        }
    }
}

pub(crate) async fn refusal(app: &Router, request: Request<Body>) -> (u16, String, String) {
    let (status, body) = send(app, request).await;
    (
        status,
        body["__type"].as_str().unwrap().to_owned(),
        body["message"].as_str().unwrap().to_owned(),
    )
}
