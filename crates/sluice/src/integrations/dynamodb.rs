//! `arn:aws:states:::dynamodb:getItem|putItem|updateItem|deleteItem` (the optimized
//! integration) and `arn:aws:states:::aws-sdk:dynamodb:ACTION` (every operation the tables
//! have) on Sluice's tables. Parameters are the operation's request in DynamoDB JSON, as on AWS;
//! the result is its response (the optimized integration adds `SdkHttpMetadata` and
//! `SdkResponseMetadata`, as AWS's does). Errors are named `DynamoDB.CODE` (optimized) or
//! `DynamoDb.CODE` (SDK), with AWS's exception names: `ConditionalCheckFailedException`,
//! `ResourceNotFoundException`, `TransactionCanceledException`, … and, for a request DynamoDB
//! refuses as invalid, `DynamoDB.AmazonDynamoDBException` / `DynamoDb.DynamoDbException`.

use serde_json::{Value, json};
use sluice_asl::Failure;
use sluice_engine::{Integration, IntegrationCall};
use sluice_tables::{ErrorCode, Tables};

use super::{request_response_only, unsupported};

/// The actions of the optimized integration.
const OPTIMIZED: &[&str] = &["getItem", "putItem", "updateItem", "deleteItem"];

/// DynamoDB's integrations.
pub(super) struct DynamoDb {
    tables: Tables,
    /// The SDK integration (`aws-sdk:dynamodb`), or the optimized one (`dynamodb`).
    sdk: bool,
}

impl DynamoDb {
    pub(super) fn optimized(tables: Tables) -> DynamoDb {
        DynamoDb { tables, sdk: false }
    }

    pub(super) fn sdk(tables: Tables) -> DynamoDb {
        DynamoDb { tables, sdk: true }
    }

    /// The error name prefix and the name of a generic service error.
    fn names(&self) -> (&'static str, &'static str) {
        if self.sdk {
            ("DynamoDb", "DynamoDbException")
        } else {
            ("DynamoDB", "AmazonDynamoDBException")
        }
    }
}

#[async_trait::async_trait]
impl Integration for DynamoDb {
    async fn call(&self, call: IntegrationCall) -> Result<Value, Failure> {
        request_response_only(&call)?;
        let operation = pascal_case(&call.action);
        let known = if self.sdk {
            sluice_tables::OPERATIONS.contains(&operation.as_str())
        } else {
            OPTIMIZED.contains(&call.action.as_str())
        };
        if !known {
            let actions = if self.sdk {
                sluice_tables::OPERATIONS
                    .iter()
                    .map(|operation| camel_case(operation))
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                OPTIMIZED.join(", ")
            };
            return Err(unsupported(
                &call,
                &format!("arn:aws:states:::{} has the actions {actions}", call.service),
            ));
        }
        let (prefix, generic) = self.names();
        match self.tables.call(&operation, call.parameters).await {
            Ok(mut answer) => {
                if !self.sdk
                    && let Value::Object(members) = &mut answer
                {
                    members.insert("SdkHttpMetadata".into(), json!({ "HttpStatusCode": 200 }));
                    members.insert(
                        "SdkResponseMetadata".into(),
                        json!({ "RequestId": uuid::Uuid::new_v4().to_string() }),
                    );
                }
                Ok(answer)
            }
            Err(error) => {
                let (name, status) = match error.code {
                    ErrorCode::ValidationException | ErrorCode::SerializationException => (generic, 400),
                    ErrorCode::InternalServerError => ("InternalServerErrorException", 500),
                    other => (other.as_str(), 400),
                };
                let mut cause = format!(
                    "{} (Service: DynamoDb, Status Code: {status}, Error Code: {})",
                    error.message,
                    error.code.as_str()
                );
                if let Some(reasons) = error.details.get("CancellationReasons") {
                    cause.push_str(&format!(", CancellationReasons: {reasons}"));
                }
                Err(Failure::new(format!("{prefix}.{name}"), cause))
            }
        }
    }
}

/// `putItem` → `PutItem`.
fn pascal_case(action: &str) -> String {
    let mut characters = action.chars();
    match characters.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + characters.as_str(),
        None => String::new(),
    }
}

/// `PutItem` → `putItem`.
fn camel_case(operation: &str) -> String {
    let mut characters = operation.chars();
    match characters.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + characters.as_str(),
        None => String::new(),
    }
}
