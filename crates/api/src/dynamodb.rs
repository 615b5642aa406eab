//! The DynamoDB API (`DynamoDB_20120810.*`, signing name `dynamodb`, AWS JSON 1.0) over
//! [`sluice_tables::Tables`]: the body goes to the tables as DynamoDB JSON, and errors come back
//! with DynamoDB's namespaced `__type` and their extra members (`Item`, `CancellationReasons`).

use axum::response::Response;
use serde_json::Value;
use sluice_tables::Tables;

use crate::error::{ApiError, ErrorCode};
use crate::protocol::reply;

/// The `X-Amz-Target` prefix of DynamoDB.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810";

/// The name DynamoDB requests are signed for.
pub const SIGNING_NAME: &str = "dynamodb";

/// The namespace of DynamoDB's error codes in `__type`.
pub const NAMESPACE: &str = "com.amazonaws.dynamodb.v20120810";

/// The largest request body: BatchWriteItem may carry 16 MB.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Answers one DynamoDB operation.
pub async fn dispatch(tables: &Tables, operation: &str, body: &[u8]) -> Result<Response, ApiError> {
    let namespaced = |error: ApiError| ApiError {
        namespace: Some(NAMESPACE),
        ..error
    };
    if !sluice_tables::OPERATIONS.contains(&operation) {
        return Err(namespaced(ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation: '{TARGET_PREFIX}.{operation}'"),
        )));
    }
    let request: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|error| {
            namespaced(ApiError::new(
                ErrorCode::SerializationException,
                format!("Malformed JSON: {error}"),
            ))
        })?
    };
    match tables.call(operation, request).await {
        Ok(answer) => reply(&answer),
        Err(error) => Err(namespaced(api_error(error))),
    }
}

/// A tables error as an API error of the one code table.
fn api_error(error: sluice_tables::Error) -> ApiError {
    use sluice_tables::ErrorCode as Tables;
    let code = match error.code {
        Tables::ValidationException => ErrorCode::ValidationException,
        Tables::SerializationException => ErrorCode::SerializationException,
        Tables::ResourceNotFoundException => ErrorCode::ResourceNotFoundException,
        Tables::ResourceInUseException => ErrorCode::ResourceInUseException,
        Tables::ConditionalCheckFailedException => ErrorCode::ConditionalCheckFailedException,
        Tables::TransactionCanceledException => ErrorCode::TransactionCanceledException,
        Tables::IdempotentParameterMismatchException => ErrorCode::IdempotentParameterMismatchException,
        _ => ErrorCode::InternalServerError,
    };
    ApiError {
        details: error.details,
        ..ApiError::new(code, error.message)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::router::{Options, router};
    use crate::stepfunctions::fake::Fake;
    use crate::testing::{GOOD, options, request_to, send};

    async fn call(app: &axum::Router, operation: &str, body: Value) -> (u16, Value) {
        let target = format!("{TARGET_PREFIX}.{operation}");
        send(
            app,
            request_to(SIGNING_NAME, &target, body.to_string().into_bytes(), Some(GOOD)),
        )
        .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dynamodb_operations_and_namespaced_errors() {
        let directory = tempfile::tempdir().unwrap();
        let store = sluice_store_sqlite::SqliteStore::open(&directory.path().join("sluice.db")).unwrap();
        let tables = Tables::new(Arc::new(store), sluice_tables::Options::default());
        let app = router(Options {
            tables: Some(tables),
            ..options(Arc::new(Fake::default()))
        });
        let (status, _) = call(
            &app,
            "CreateTable",
            json!({"TableName": "things", "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}], "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}], "BillingMode": "PAY_PER_REQUEST"}),
        )
        .await;
        assert_eq!(status, 200);
        let put = json!({"TableName": "things", "Item": {"id": {"S": "a"}}, "ConditionExpression": "attribute_not_exists(id)", "ReturnValuesOnConditionCheckFailure": "ALL_OLD"});
        assert_eq!(call(&app, "PutItem", put.clone()).await, (200, json!({})));
        assert_eq!(
            call(&app, "PutItem", put).await,
            (
                400,
                json!({
                    "__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                    "message": "The conditional request failed",
                    "Item": {"id": {"S": "a"}},
                })
            )
        );
        let (status, body) = call(&app, "DescribeTable", json!({"TableName": "none"})).await;
        assert_eq!(status, 400);
        assert_eq!(
            body["__type"],
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
        );
        let (status, body) = call(&app, "CreateGlobalTable", json!({})).await;
        assert_eq!(status, 400);
        assert_eq!(
            body["__type"],
            "com.amazonaws.dynamodb.v20120810#UnknownOperationException"
        );
    }
}
