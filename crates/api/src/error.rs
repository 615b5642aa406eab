//! AWS errors in one place: every error code the API answers with, its HTTP status, and the
//! AWS JSON 1.0 body (`{"__type": "<Code>", "message": "..."}`) that carries it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::protocol::JSON_1_0;

macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $code:ident => $status:literal,)*) => {
        /// An AWS error code. The one table of codes and their HTTP statuses.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $($(#[doc = $doc])* $code,)*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$code,)*];

            /// The code as AWS writes it in `__type`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$code => stringify!($code),)*
                }
            }

            /// The HTTP status AWS answers the code with.
            pub fn status(self) -> StatusCode {
                let status: u16 = match self {
                    $(ErrorCode::$code => $status,)*
                };
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    };
}

error_codes! {
    // Authentication, common to every AWS JSON service.
    /// No `Authorization` header (nor a presigned query).
    MissingAuthenticationTokenException => 403,
    /// The `Authorization` header is malformed or lacks a part, or no date header was sent.
    IncompleteSignatureException => 400,
    /// The access key is not one the server knows.
    UnrecognizedClientException => 400,
    /// The signature does not match, has expired, or is scoped to the wrong date, region or service.
    InvalidSignatureException => 400,
    // The protocol.
    /// The body is not JSON, or a member has the wrong JSON type.
    SerializationException => 400,
    /// `X-Amz-Target` names no operation the server knows.
    UnknownOperationException => 400,
    /// The request body is larger than the server accepts.
    RequestEntityTooLargeException => 413,
    /// A member breaks its constraints (required, length, range, enum).
    ValidationException => 400,
    /// The server failed.
    InternalFailure => 500,
    /// The server cannot answer now.
    ServiceUnavailable => 503,
    /// Too many requests.
    ThrottlingException => 400,
    // Step Functions.
    /// The state machine does not exist.
    StateMachineDoesNotExist => 400,
    /// A state machine of that name exists with another definition or role.
    StateMachineAlreadyExists => 400,
    /// The state machine is being deleted.
    StateMachineDeleting => 400,
    /// Too many state machines.
    StateMachineLimitExceeded => 400,
    /// The operation does not apply to this type of state machine (Express or Standard).
    StateMachineTypeNotSupported => 400,
    /// The execution does not exist.
    ExecutionDoesNotExist => 400,
    /// An execution of that name exists with another input.
    ExecutionAlreadyExists => 400,
    /// Too many running executions.
    ExecutionLimitExceeded => 400,
    /// An ARN is malformed or of the wrong resource type.
    InvalidArn => 400,
    /// A name has characters AWS does not allow.
    InvalidName => 400,
    /// The definition is not valid States Language.
    InvalidDefinition => 400,
    /// The execution input is not JSON.
    InvalidExecutionInput => 400,
    /// A task output is not JSON.
    InvalidOutput => 400,
    /// A task token or a page token is not valid.
    InvalidToken => 400,
    /// The logging configuration is not valid.
    InvalidLoggingConfiguration => 400,
    /// The tracing configuration is not valid.
    InvalidTracingConfiguration => 400,
    /// A parameter that one of several must be given is missing.
    MissingRequiredParameter => 400,
    /// The task of a token has ended.
    TaskDoesNotExist => 400,
    /// The task of a token timed out.
    TaskTimedOut => 400,
    /// Too many tags.
    TooManyTags => 400,
    /// A referenced resource does not exist.
    ResourceNotFound => 400,
    /// Concurrent updates conflict.
    ConflictException => 409,
    /// A service quota would be exceeded.
    ServiceQuotaExceededException => 402,
    // EventBridge.
    /// An event bus, rule or target (or, in DynamoDB, a table) does not exist.
    ResourceNotFoundException => 400,
    /// An event bus of that name exists.
    ResourceAlreadyExistsException => 400,
    /// The event pattern is not valid.
    InvalidEventPatternException => 400,
    /// EventBridge failed.
    InternalException => 500,
    /// A replay is not in a state that allows the operation.
    IllegalStatusException => 400,
    // CloudWatch Logs.
    /// A parameter is not valid (CloudWatch Logs' name for it).
    InvalidParameterException => 400,
    // DynamoDB (their `__type` carries the `com.amazonaws.dynamodb.v20120810#` namespace).
    /// The table exists already.
    ResourceInUseException => 400,
    /// A `ConditionExpression` did not hold.
    ConditionalCheckFailedException => 400,
    /// A transaction was cancelled; `CancellationReasons` says why.
    TransactionCanceledException => 400,
    /// A `ClientRequestToken` was used with other parameters.
    IdempotentParameterMismatchException => 400,
    /// The service failed (DynamoDB's name for `InternalFailure`).
    InternalServerError => 500,
    // SQS (each also has a legacy query code: see `ErrorCode::query_code`).
    /// The queue does not exist.
    QueueDoesNotExist => 400,
    /// A queue of that name exists with other attributes.
    QueueNameExists => 400,
    /// A parameter's value is not valid.
    InvalidParameterValue => 400,
    /// A required parameter is missing.
    MissingParameter => 400,
    /// An attribute name is unknown.
    InvalidAttributeName => 400,
    /// An attribute value is not valid.
    InvalidAttributeValue => 400,
    /// A message has characters SQS does not allow.
    InvalidMessageContents => 400,
    /// A receipt handle is not valid.
    ReceiptHandleIsInvalid => 400,
    /// The message is not in flight.
    MessageNotInflight => 400,
    /// Two batch entries share an id.
    BatchEntryIdsNotDistinct => 400,
    /// A batch has more than ten entries.
    TooManyEntriesInBatchRequest => 400,
    /// A batch has no entries.
    EmptyBatchRequest => 400,
    /// A batch entry id is not valid.
    InvalidBatchEntryId => 400,
    /// A batch is too long.
    BatchRequestTooLong => 400,
    /// The queue was purged in the last 60 seconds.
    PurgeQueueInProgress => 403,
    /// The operation is not supported.
    UnsupportedOperation => 400,
    /// A limit would be exceeded.
    OverLimit => 403,
}

impl ErrorCode {
    /// The legacy code of the query protocol that SQS sends beside the JSON code, in the
    /// `x-amzn-query-error: <code>;Sender` header; botocore reports it as the error's code.
    pub fn query_code(self) -> Option<&'static str> {
        Some(match self {
            ErrorCode::QueueDoesNotExist => "AWS.SimpleQueueService.NonExistentQueue",
            ErrorCode::QueueNameExists => "QueueAlreadyExists",
            ErrorCode::MessageNotInflight => "AWS.SimpleQueueService.MessageNotInflight",
            ErrorCode::BatchEntryIdsNotDistinct => "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
            ErrorCode::TooManyEntriesInBatchRequest => "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
            ErrorCode::EmptyBatchRequest => "AWS.SimpleQueueService.EmptyBatchRequest",
            ErrorCode::InvalidBatchEntryId => "AWS.SimpleQueueService.InvalidBatchEntryId",
            ErrorCode::BatchRequestTooLong => "AWS.SimpleQueueService.BatchRequestTooLong",
            ErrorCode::PurgeQueueInProgress => "AWS.SimpleQueueService.PurgeQueueInProgress",
            ErrorCode::UnsupportedOperation => "AWS.SimpleQueueService.UnsupportedOperation",
            ErrorCode::InvalidParameterValue => "InvalidParameterValue",
            ErrorCode::MissingParameter => "MissingParameter",
            ErrorCode::InvalidAttributeName => "InvalidAttributeName",
            ErrorCode::InvalidAttributeValue => "InvalidAttributeValue",
            ErrorCode::InvalidMessageContents => "InvalidMessageContents",
            ErrorCode::ReceiptHandleIsInvalid => "ReceiptHandleIsInvalid",
            ErrorCode::OverLimit => "OverLimit",
            _ => return None,
        })
    }
}

/// An error as AWS answers it: a code (which fixes the HTTP status) and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct ApiError {
    /// The AWS error code.
    pub code: ErrorCode,
    /// The human-readable message.
    pub message: String,
    /// The namespace some services put before the code in `__type` (`com.amazonaws.dynamodb.v20120810`).
    pub namespace: Option<&'static str>,
    /// Members sent beside the message (DynamoDB's `Item`, `CancellationReasons`).
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            namespace: None,
            details: serde_json::Map::new(),
        }
    }

    /// The body AWS JSON 1.0 sends: `{"__type": "<Code>", "message": "..."}`. botocore reads the
    /// code after the last `#`, so the plain code works as well as AWS's namespaced one.
    pub fn body(&self) -> String {
        let code = match self.namespace {
            Some(namespace) => format!("{namespace}#{}", self.code.as_str()),
            None => self.code.as_str().to_owned(),
        };
        let mut body = serde_json::Map::new();
        body.insert("__type".into(), code.into());
        body.insert("message".into(), self.message.clone().into());
        body.extend(self.details.clone());
        serde_json::Value::Object(body).to_string()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.code.status().is_server_error() {
            tracing::error!(code = self.code.as_str(), message = %self.message, "request failed");
        }
        let mut response = (
            self.code.status(),
            [(axum::http::header::CONTENT_TYPE, JSON_1_0)],
            self.body(),
        )
            .into_response();
        if let Some(query_code) = self.code.query_code()
            && let Ok(value) = axum::http::HeaderValue::from_str(&format!("{query_code};Sender"))
        {
            response.headers_mut().insert("x-amzn-query-error", value);
        }
        response
    }
}

/// Constraint violations of one request, reported together as AWS does:
/// `2 validation errors detected: Value 'x' at 'name' failed to satisfy constraint: …; …`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Violations {
    messages: Vec<String>,
}

impl Violations {
    /// Records that `member` (shown with `value`, or hidden when sensitive) breaks `constraint`.
    pub fn push(&mut self, member: &str, value: Shown<'_>, constraint: &str) {
        let value = match value {
            Shown::Null => "Value null at".to_owned(),
            Shown::Hidden => "Value at".to_owned(),
            Shown::Text(text) => format!("Value '{text}' at"),
        };
        self.messages
            .push(format!("{value} '{member}' failed to satisfy constraint: {constraint}"));
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// `Ok` when nothing was recorded; a `ValidationException` listing every violation otherwise.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.messages.len() {
            0 => Ok(()),
            1 => Err(ApiError::new(
                ErrorCode::ValidationException,
                format!("1 validation error detected: {}", self.messages[0]),
            )),
            count => Err(ApiError::new(
                ErrorCode::ValidationException,
                format!("{count} validation errors detected: {}", self.messages.join("; ")),
            )),
        }
    }
}

/// How a violating value appears in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown<'a> {
    /// The member is absent: `Value null at 'x'`.
    Null,
    /// The member is sensitive: `Value at 'x'`.
    Hidden,
    /// The value itself: `Value 'v' at 'x'`.
    Text(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: ErrorCode, status: u16) {
        assert_eq!(code.status().as_u16(), status, "{}", code.as_str());
    }

    #[test]
    fn statuses_follow_the_table() {
        check(ErrorCode::StateMachineDoesNotExist, 400);
        check(ErrorCode::MissingAuthenticationTokenException, 403);
        check(ErrorCode::RequestEntityTooLargeException, 413);
        check(ErrorCode::InternalFailure, 500);
        check(ErrorCode::ServiceUnavailable, 503);
        check(ErrorCode::ConflictException, 409);
        assert!(ErrorCode::ALL.iter().all(|code| !code.as_str().contains('#')));
    }

    #[test]
    fn body_is_aws_json() {
        let error = ApiError::new(ErrorCode::InvalidArn, "Invalid Arn: 'Invalid ARN prefix: x'");
        assert_eq!(
            error.body(),
            r#"{"__type":"InvalidArn","message":"Invalid Arn: 'Invalid ARN prefix: x'"}"#
        );
    }

    #[test]
    fn violations_are_counted_and_joined() {
        let mut violations = Violations::default();
        violations.push(
            "name",
            Shown::Text("a b"),
            "Member must have length less than or equal to 80",
        );
        violations.push(
            "input",
            Shown::Hidden,
            "Member must have length less than or equal to 262144",
        );
        violations.push("stateMachineArn", Shown::Null, "Member must not be null");
        let error = violations.finish().unwrap_err();
        assert_eq!(
            error.message,
            "3 validation errors detected: Value 'a b' at 'name' failed to satisfy constraint: Member must have \
             length less than or equal to 80; Value at 'input' failed to satisfy constraint: Member must have \
             length less than or equal to 262144; Value null at 'stateMachineArn' failed to satisfy constraint: \
             Member must not be null"
        );
    }
}
