//! The HTTP front: `POST /` for the AWS JSON protocols, dispatched by the `X-Amz-Target` prefix
//! after SigV4 verification; `POST /` without `X-Amz-Target` and with a form body for AWS's query
//! protocol (SNS, signing name `sns`); SNS's unsigned confirmation and unsubscribe links on
//! `GET /?Action=…`; `GET /health`; the apps' routes (function URLs); and S3.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use crate::admin::{self, Admin};
use crate::dynamodb;
use crate::error::{ApiError, ErrorCode};
use crate::protocol::split_target;
use crate::service::StepFunctions;
use crate::sigv4::{self, Credentials, Parts, Scope};
use crate::sns;
use crate::sqs;
use crate::stepfunctions;

#[cfg(test)]
mod tests;

/// The largest request body accepted: 1 MiB (the largest definition) and room for the rest.
pub const BODY_LIMIT: usize = 1024 * 1024 + 64 * 1024;

/// What the router serves with.
#[derive(Clone)]
pub struct Options {
    /// Step Functions.
    pub step_functions: Arc<dyn StepFunctions>,
    /// Sluice's own API (`SluiceAdmin.*`); unknown operations when absent.
    pub admin: Option<Arc<dyn Admin>>,
    /// EventBridge (`AWSEvents.*`) and EventBridge Scheduler (`/schedules`); unknown operations
    /// when absent.
    pub events: Option<sluice_bus::Bus>,
    /// The access keys accepted.
    pub credentials: Credentials,
    /// The server clock, against which signatures expire.
    pub clock: Clock,
    /// The region the server answers for; requests signed for any region are accepted when none.
    pub region: Option<String>,
    /// The metrics recorder's handle, rendered on `GET /metrics`; that route answers 404 when none.
    pub metrics: Option<crate::metrics::PrometheusHandle>,
    /// The tables (`DynamoDB_20120810.*`); unknown operations when absent.
    pub tables: Option<sluice_tables::Tables>,
    /// The buckets served by the S3 REST API; S3 requests answer `NotImplemented` when none.
    pub buckets: Option<Arc<crate::s3::Service>>,
    /// SQS (`AmazonSQS.*`); unknown operations when absent.
    pub queues: Option<sluice_queues::Queues>,
    /// The apps' HTTP routes (function URLs), served before S3; none when absent.
    pub function_urls: Option<Arc<dyn crate::FunctionUrls>>,
    /// SNS (the query protocol); `InvalidAction` when absent.
    pub topics: Option<sluice_topics::Topics>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Options")
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// The server clock, passed in so that tests can fix it.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl std::fmt::Debug for Clock {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_tuple("Clock").field(&self.now()).finish()
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(Arc::new(Utc::now))
    }

    /// A clock that always reads `now`.
    pub fn fixed(now: DateTime<Utc>) -> Clock {
        Clock(Arc::new(move || now))
    }

    /// A clock that reads `now()`.
    pub fn from_fn(now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Clock {
        Clock(Arc::new(now))
    }

    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        (self.0)()
    }
}

/// The router: `POST /` (AWS JSON protocols), `GET /health` (`ok`), `GET /metrics`
/// (Prometheus text, unsigned), the apps' declared routes (function URLs), `/schedules` signed for
/// `scheduler` to EventBridge Scheduler, and everything else, S3-shaped, to the S3 REST API.
pub fn router(options: Options) -> Router {
    Router::new()
        .route("/", post(aws_json).get(root_get).fallback(rest))
        .fallback(crate::function_urls::serve)
        .route("/health", get(health))
        .route("/metrics", get(crate::metrics::render))
        .with_state(Arc::new(options))
}

/// The protocols served on `POST /`.
#[derive(Debug, Clone, Copy)]
enum Protocol {
    /// `AWSStepFunctions.*`.
    StepFunctions,
    /// `SluiceAdmin.*`.
    Admin,
    /// `AWSEvents.*`.
    Events,
    /// `DynamoDB_20120810.*`.
    DynamoDb,
    /// `AmazonSQS.*`.
    Sqs,
    /// `Logs_20140328.*` (CloudWatch Logs).
    Logs,
}

/// One AWS JSON service: its `X-Amz-Target` prefix, the name its requests are signed for, and
/// its protocol. SQS (`AmazonSQS`, `sqs`), EventBridge (`AWSEvents`, `events`) and DynamoDB
/// (`DynamoDB_20120810`, `dynamodb`) join here.
#[derive(Debug)]
struct Target {
    prefix: &'static str,
    signing_name: &'static str,
    protocol: Protocol,
    /// The largest body its requests may have.
    body_limit: usize,
}

const TARGETS: &[Target] = &[
    Target {
        prefix: stepfunctions::TARGET_PREFIX,
        signing_name: stepfunctions::SIGNING_NAME,
        protocol: Protocol::StepFunctions,
        body_limit: BODY_LIMIT,
    },
    Target {
        prefix: admin::TARGET_PREFIX,
        signing_name: admin::SIGNING_NAME,
        protocol: Protocol::Admin,
        body_limit: BODY_LIMIT,
    },
    Target {
        prefix: dynamodb::TARGET_PREFIX,
        signing_name: dynamodb::SIGNING_NAME,
        protocol: Protocol::DynamoDb,
        body_limit: dynamodb::BODY_LIMIT,
    },
    Target {
        prefix: crate::events::TARGET_PREFIX,
        signing_name: crate::events::SIGNING_NAME,
        protocol: Protocol::Events,
        body_limit: BODY_LIMIT,
    },
    Target {
        prefix: sqs::TARGET_PREFIX,
        signing_name: sqs::SIGNING_NAME,
        protocol: Protocol::Sqs,
        body_limit: BODY_LIMIT,
    },
    Target {
        prefix: crate::logs::TARGET_PREFIX,
        signing_name: crate::logs::SIGNING_NAME,
        protocol: Protocol::Logs,
        body_limit: BODY_LIMIT,
    },
];

/// Requests that are not AWS JSON: EventBridge Scheduler's REST-JSON (on `/schedules`, signed
/// for `scheduler`), and everything else as S3.
pub(crate) async fn rest(state: State<Arc<Options>>, request: Request) -> Response {
    if crate::scheduler::is_scheduler(&request) {
        return crate::scheduler::serve(state, request).await;
    }
    crate::s3::serve(state, request).await
}

async fn health() -> &'static str {
    "ok"
}

async fn aws_json(State(options): State<Arc<Options>>, request: Request) -> Response {
    if is_query(&request) {
        return query(&options, request).await;
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut response = match handle(&options, request).await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(%request_id, code = error.code.as_str(), message = %error.message, "refused");
            error.into_response()
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

async fn handle(options: &Options, request: Request) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    // 1. The service and operation, from X-Amz-Target.
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let unknown = || {
        ApiError::new(
            ErrorCode::UnknownOperationException,
            format!("Unknown operation: '{target}'"),
        )
    };
    let (prefix, operation) = split_target(target).ok_or_else(unknown)?;
    let service = TARGETS
        .iter()
        .find(|candidate| candidate.prefix == prefix)
        .ok_or_else(unknown)?;
    // 2. The body, within the limit.
    let body = axum::body::to_bytes(body, service.body_limit).await.map_err(|_| {
        ApiError::new(
            ErrorCode::RequestEntityTooLargeException,
            format!(
                "Request must be smaller than {} bytes for the {operation} operation",
                service.body_limit
            ),
        )
    })?;
    // 3. The signature.
    let signed = Parts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
    };
    let scope = Scope {
        service: service.signing_name,
        region: options.region.as_deref(),
    };
    let signer = sigv4::verify(&signed, &options.credentials, scope, options.clock.now())?;
    tracing::debug!(access_key = %signer.access_key, target, "signed request");
    // 4. The operation, after the wait Sluice's extension asks for.
    if matches!(service.protocol, Protocol::StepFunctions) && operation == "DescribeExecution" {
        crate::wait::before_describe(options.step_functions.as_ref(), &parts.headers, &body).await?;
    }
    match service.protocol {
        Protocol::StepFunctions => stepfunctions::dispatch(options.step_functions.as_ref(), operation, &body).await,
        Protocol::Admin => match &options.admin {
            Some(service) => admin::dispatch(service.as_ref(), operation, &body).await,
            None => Err(unknown()),
        },
        Protocol::Events => match &options.events {
            Some(bus) => crate::events::dispatch(bus, operation, &body).await,
            None => Err(unknown()),
        },
        Protocol::Logs => match options.events.as_ref().and_then(sluice_bus::Bus::logs) {
            Some(logs) => crate::logs::dispatch(logs, operation, &body).await,
            None => Err(unknown()),
        },
        Protocol::DynamoDb => match &options.tables {
            Some(tables) => dynamodb::dispatch(tables, operation, &body).await,
            None => Err(unknown()),
        },
        Protocol::Sqs => match &options.queues {
            Some(queues) => {
                let host = parts
                    .headers
                    .get(axum::http::header::HOST)
                    .and_then(|value| value.to_str().ok())
                    .unwrap_or("localhost");
                sqs::dispatch(queues, host, operation, &body).await
            }
            None => Err(unknown()),
        },
    }
}

/// Whether a `POST /` speaks the query protocol: no `X-Amz-Target`, a form body.
fn is_query(request: &Request) -> bool {
    let headers = request.headers();
    !headers.contains_key("x-amz-target")
        && headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"))
}

/// The query protocol's name for an authentication error.
fn query_code(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::MissingAuthenticationTokenException => "MissingAuthenticationToken",
        ErrorCode::IncompleteSignatureException => "IncompleteSignature",
        ErrorCode::UnrecognizedClientException => "InvalidClientTokenId",
        ErrorCode::InvalidSignatureException => "SignatureDoesNotMatch",
        other => other.as_str(),
    }
}

/// A query-protocol request (SNS): the body within the limit, the signature for `sns`, then
/// the action.
async fn query(options: &Options, request: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let mut response = query_response(options, request, &request_id).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

async fn query_response(options: &Options, request: Request, request_id: &str) -> Response {
    use axum::http::StatusCode;
    let Some(topics) = &options.topics else {
        return sns::error_response(
            "InvalidAction",
            StatusCode::BAD_REQUEST,
            "This server speaks the query protocol for SNS only, and SNS is not served.",
            request_id,
        );
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return sns::error_response(
            "RequestEntityTooLarge",
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("Request must be smaller than {BODY_LIMIT} bytes"),
            request_id,
        );
    };
    let signed = Parts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
    };
    let scope = Scope {
        service: sns::SIGNING_NAME,
        region: options.region.as_deref(),
    };
    if let Err(error) = sigv4::verify(&signed, &options.credentials, scope, options.clock.now()) {
        let error = ApiError::from(error);
        tracing::debug!(%request_id, code = error.code.as_str(), message = %error.message, "refused");
        return sns::error_response(query_code(error.code), error.code.status(), &error.message, request_id);
    }
    let params = sns::params(&body);
    sns::dispatch(topics, &params, request_id).await
}

/// `GET /`: SNS's confirmation and unsubscribe links (unsigned, as SNS's are), else S3.
async fn root_get(State(options): State<Arc<Options>>, request: Request) -> Response {
    let params = sns::params(request.uri().query().unwrap_or_default().as_bytes());
    let action = params.get("Action").map(String::as_str);
    match (&options.topics, action) {
        (Some(topics), Some("ConfirmSubscription" | "Unsubscribe")) => {
            let request_id = uuid::Uuid::new_v4().to_string();
            sns::dispatch(topics, &params, &request_id).await
        }
        _ => crate::s3::serve(State(options), request).await,
    }
}
