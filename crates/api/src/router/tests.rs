//! The router end to end (no socket): signatures, the protocol's errors, and `/health`.

use axum::body::Body;
use axum::http::Request;
use chrono::TimeDelta;
use serde_json::json;
use tower::ServiceExt;

use crate::router::BODY_LIMIT;
use crate::testing::*;

#[tokio::test]
async fn signed_requests_succeed_and_others_are_refused() {
    let app = app();
    let target = "AWSStepFunctions.ListStateMachines";
    let body = || b"{}".to_vec();
    let (status, listed) = send(&app, request(target, body(), Some(GOOD))).await;
    assert_eq!((status, listed), (200, json!({"stateMachines": []})));
    let (status, code, message) = refusal(&app, request(target, body(), None)).await;
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (
            403,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token"
        )
    );
    let stranger = Signing {
        access_key: "AKIDSTRANGER",
        ..GOOD
    };
    let (status, code, message) = refusal(&app, request(target, body(), Some(stranger))).await;
    assert_eq!((status, code.as_str()), (400, "UnrecognizedClientException"));
    assert_eq!(message, "The security token included in the request is invalid.");
    let forger = Signing {
        secret: "not-the-secret",
        ..GOOD
    };
    let (status, code, message) = refusal(&app, request(target, body(), Some(forger))).await;
    assert_eq!((status, code.as_str()), (400, "InvalidSignatureException"));
    assert!(
        message.starts_with("The request signature we calculated does not match"),
        "{message}"
    );
    let stale = Signing {
        at: server_now() - TimeDelta::minutes(20),
        ..GOOD
    };
    let (status, code, message) = refusal(&app, request(target, body(), Some(stale))).await;
    assert_eq!((status, code.as_str()), (400, "InvalidSignatureException"));
    assert_eq!(
        message,
        "Signature expired: 20261123T114000Z is now earlier than 20261123T114500Z (20261123T120000Z - 15 min.)"
    );
}

#[tokio::test]
async fn protocol_errors() {
    let app = app();
    let (status, code, _) = refusal(
        &app,
        request("AWSStepFunctions.ListStateMachines", b"{oops".to_vec(), Some(GOOD)),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "SerializationException"));
    let (status, code, _) = refusal(&app, request("AWSStepFunctions.Frobnicate", b"{}".to_vec(), Some(GOOD))).await;
    assert_eq!((status, code.as_str()), (400, "UnknownOperationException"));
    let (status, code, _) = refusal(
        &app,
        request("NoSuchService_20991231.Frobnicate", b"{}".to_vec(), Some(GOOD)),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "UnknownOperationException"));
    let huge = vec![b' '; BODY_LIMIT + 1];
    let (status, code, _) = refusal(&app, request("AWSStepFunctions.ListStateMachines", huge, Some(GOOD))).await;
    assert_eq!((status, code.as_str()), (413, "RequestEntityTooLargeException"));
    check(
        &app,
        "ListStateMachines",
        json!({"name": 1, "maxResults": "ten"}),
        Err(("SerializationException", "Expected an integer at 'maxResults'.")),
    )
    .await;
}

#[tokio::test]
async fn health_is_ok() {
    let response = app()
        .oneshot(Request::get("/health").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        axum::body::to_bytes(response.into_body(), 16).await.unwrap().as_ref(),
        b"ok"
    );
}
