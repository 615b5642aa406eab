//! EventBridge Scheduler (REST-JSON, signing name `scheduler`): `CreateSchedule`,
//! `GetSchedule`, `UpdateSchedule`, `DeleteSchedule` and `ListSchedules` on `/schedules[/{Name}]`
//! over [`sluice_bus::Bus`]. Member names, constraints and error statuses follow botocore's
//! `scheduler` model; timestamps travel as epoch seconds. Errors carry their code in
//! `x-amzn-ErrorType` and a `Message` in the body.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sluice_bus::scheduler::{FlexibleTimeWindow, ScheduleTarget};
use sluice_bus::{Bus, ScheduleDefinition, ScheduleInput, ScheduleView};

use crate::router::Options;
use crate::sigv4::{self, Parts, Scope};

/// The name Scheduler's requests are signed for.
pub const SIGNING_NAME: &str = "scheduler";

/// The largest request body accepted.
const BODY_LIMIT: usize = 1024 * 1024;

/// Whether `request` is for Scheduler: on `/schedules`, signed for `scheduler`.
pub fn is_scheduler(request: &Request) -> bool {
    let path = request.uri().path();
    let signed_for_scheduler = request
        .headers()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains(&format!("/{SIGNING_NAME}/aws4_request")));
    signed_for_scheduler && (path == "/schedules" || path.starts_with("/schedules/"))
}

/// Answers one Scheduler request.
pub async fn serve(State(options): State<Arc<Options>>, request: Request) -> Response {
    match handle(&options, request).await {
        Ok(response) => response,
        Err(error) => {
            tracing::debug!(code = error.code, message = %error.message, "Scheduler request refused");
            error.into_response()
        }
    }
}

/// A refused request: Scheduler's code (its status comes from the model) and a message.
#[derive(Debug)]
struct Refusal {
    code: &'static str,
    message: String,
}

impl Refusal {
    fn validation(message: impl Into<String>) -> Refusal {
        Refusal {
            code: "ValidationException",
            message: message.into(),
        }
    }

    fn status(&self) -> StatusCode {
        match self.code {
            "ResourceNotFoundException" => StatusCode::NOT_FOUND,
            "ConflictException" => StatusCode::CONFLICT,
            "InternalServerException" => StatusCode::INTERNAL_SERVER_ERROR,
            "ServiceQuotaExceededException" => StatusCode::PAYMENT_REQUIRED,
            "AccessDeniedException" | "InvalidSignatureException" | "IncompleteSignatureException" => {
                StatusCode::FORBIDDEN
            }
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = json!({ "Message": self.message }).to_string();
        let mut response = (status, [(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response();
        response
            .headers_mut()
            .insert("x-amzn-errortype", HeaderValue::from_static(self.code));
        response
    }
}

impl From<sluice_bus::Error> for Refusal {
    fn from(error: sluice_bus::Error) -> Refusal {
        use sluice_bus::Error;
        let code = match &error {
            Error::ResourceNotFound { .. } => "ResourceNotFoundException",
            Error::Conflict { .. } | Error::ResourceAlreadyExists { .. } => "ConflictException",
            Error::Validation { .. } | Error::InvalidEventPattern { .. } => "ValidationException",
            _ => "InternalServerException",
        };
        Refusal {
            code,
            message: error.to_string(),
        }
    }
}

async fn handle(options: &Options, request: Request) -> Result<Response, Refusal> {
    let Some(bus) = &options.events else {
        return Err(Refusal {
            code: "UnknownOperationException",
            message: "This server runs no scheduler".to_owned(),
        });
    };
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| Refusal::validation(format!("Request must be smaller than {BODY_LIMIT} bytes")))?;
    let signed = Parts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
    };
    let scope = Scope {
        service: SIGNING_NAME,
        region: options.region.as_deref(),
    };
    sigv4::verify(&signed, &options.credentials, scope, options.clock.now()).map_err(|error| {
        let error = crate::error::ApiError::from(error);
        Refusal {
            code: error.code.as_str(),
            message: error.message,
        }
    })?;
    let query = parse_query(parts.uri.query().unwrap_or_default());
    let path = parts.uri.path();
    let name = path.strip_prefix("/schedules/").map(percent_decode);
    match (parts.method.as_str(), name) {
        ("GET", None) => list(bus, &query),
        ("POST", Some(name)) => {
            let input = schedule_input(&name, &body)?;
            let arn = bus.create_schedule(input).await?;
            Ok(reply(&json!({ "ScheduleArn": arn })))
        }
        ("PUT", Some(name)) => {
            let input = schedule_input(&name, &body)?;
            let arn = bus.update_schedule(input).await?;
            Ok(reply(&json!({ "ScheduleArn": arn })))
        }
        ("GET", Some(name)) => {
            check_name(&name, "name")?;
            let view = bus.get_schedule(query.get("groupName").map(String::as_str), &name)?;
            Ok(reply(&schedule_shape(&view)))
        }
        ("DELETE", Some(name)) => {
            check_name(&name, "name")?;
            bus.delete_schedule(query.get("groupName").map(String::as_str), &name)
                .await?;
            Ok(reply(&json!({})))
        }
        _ => Err(Refusal {
            code: "UnknownOperationException",
            message: format!("No Scheduler operation is {} {path}", parts.method),
        }),
    }
}

/// `CreateSchedule`'s and `UpdateSchedule`'s body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScheduleBody {
    #[serde(default)]
    action_after_completion: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    client_token: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    end_date: Option<f64>,
    #[serde(default)]
    flexible_time_window: Option<FlexibleTimeWindow>,
    #[serde(default)]
    group_name: Option<String>,
    #[serde(default)]
    kms_key_arn: Option<String>,
    #[serde(default)]
    schedule_expression: Option<String>,
    #[serde(default)]
    schedule_expression_timezone: Option<String>,
    #[serde(default)]
    start_date: Option<f64>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    target: Option<ScheduleTarget>,
}

fn schedule_input(name: &str, body: &[u8]) -> Result<ScheduleInput, Refusal> {
    let body: ScheduleBody = serde_json::from_slice(if body.is_empty() { &b"{}"[..] } else { body })
        .map_err(|error| Refusal::validation(format!("The request body is not valid: {error}")))?;
    let mut problems = Vec::new();
    problems.extend(name_problem(name, "name"));
    if let Some(group) = &body.group_name {
        problems.extend(name_problem(group, "groupName"));
    }
    let missing =
        |member: &str| format!("Value null at '{member}' failed to satisfy constraint: Member must not be null");
    if body.schedule_expression.is_none() {
        problems.push(missing("scheduleExpression"));
    }
    if body.flexible_time_window.is_none() {
        problems.push(missing("flexibleTimeWindow"));
    }
    match &body.target {
        None => problems.push(missing("target")),
        Some(target) if target.role_arn.is_empty() => problems.push(missing("target.roleArn")),
        Some(target) if target.arn.is_empty() => problems.push(missing("target.arn")),
        Some(_) => {}
    }
    if let Some(expression) = &body.schedule_expression
        && !(1..=256).contains(&expression.chars().count())
    {
        problems.push(format!(
            "Value '{expression}' at 'scheduleExpression' failed to satisfy constraint: Member must have length between 1 and 256"
        ));
    }
    if let Some(zone) = &body.schedule_expression_timezone
        && !(1..=50).contains(&zone.chars().count())
    {
        problems.push(format!(
            "Value '{zone}' at 'scheduleExpressionTimezone' failed to satisfy constraint: Member must have length between 1 and 50"
        ));
    }
    let enabled = match body.state.as_deref() {
        None | Some("ENABLED") => true,
        Some("DISABLED") => false,
        Some(other) => {
            problems.push(format!(
                "Value '{other}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"
            ));
            true
        }
    };
    if !problems.is_empty() {
        let count = problems.len();
        let noun = if count == 1 { "error" } else { "errors" };
        return Err(Refusal::validation(format!(
            "{count} validation {noun} detected: {}",
            problems.join("; ")
        )));
    }
    let millis = |seconds: Option<f64>| seconds.map(|seconds| (seconds * 1000.0).round() as i64);
    let (Some(schedule_expression), Some(flexible_time_window), Some(target)) =
        (body.schedule_expression, body.flexible_time_window, body.target)
    else {
        return Err(Refusal::validation(
            "ScheduleExpression, FlexibleTimeWindow and Target are required.",
        ));
    };
    Ok(ScheduleInput {
        name: name.to_owned(),
        group: body.group_name,
        enabled,
        definition: ScheduleDefinition {
            schedule_expression,
            schedule_expression_timezone: body.schedule_expression_timezone,
            start_date: millis(body.start_date),
            end_date: millis(body.end_date),
            description: body.description,
            flexible_time_window,
            target,
            action_after_completion: body.action_after_completion,
            kms_key_arn: body.kms_key_arn,
        },
    })
}

fn list(bus: &Bus, query: &BTreeMap<String, String>) -> Result<Response, Refusal> {
    let limit = match query.get("MaxResults") {
        None => 100,
        Some(text) => match text.parse::<usize>() {
            Ok(limit @ 1..=100) => limit,
            _ => {
                return Err(Refusal::validation(format!(
                    "1 validation error detected: Value '{text}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100"
                )));
            }
        },
    };
    let enabled = match query.get("State").map(String::as_str) {
        None => None,
        Some("ENABLED") => Some(true),
        Some("DISABLED") => Some(false),
        Some(other) => {
            return Err(Refusal::validation(format!(
                "1 validation error detected: Value '{other}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"
            )));
        }
    };
    let page = bus.list_schedules(
        query.get("ScheduleGroup").map(String::as_str),
        query.get("NamePrefix").map(String::as_str),
        enabled,
        query.get("NextToken").map(String::as_str),
        limit,
    )?;
    let schedules: Vec<Value> = page
        .items
        .iter()
        .map(|view| {
            json!({
                "Arn": view.record.arn,
                "Name": view.record.name,
                "GroupName": view.record.group,
                "State": state(view),
                "CreationDate": seconds(view.record.created_millis),
                "LastModificationDate": seconds(view.record.modified_millis),
                "Target": { "Arn": view.definition.target.arn },
            })
        })
        .collect();
    let mut body = json!({ "Schedules": schedules });
    if let Some(token) = page.next_token {
        body["NextToken"] = json!(token);
    }
    Ok(reply(&body))
}

fn schedule_shape(view: &ScheduleView) -> Value {
    let definition = &view.definition;
    let mut shape = json!({
        "Arn": view.record.arn,
        "Name": view.record.name,
        "GroupName": view.record.group,
        "State": state(view),
        "CreationDate": seconds(view.record.created_millis),
        "LastModificationDate": seconds(view.record.modified_millis),
        "ScheduleExpression": definition.schedule_expression,
        "ScheduleExpressionTimezone": definition.schedule_expression_timezone.as_deref().unwrap_or("UTC"),
        "FlexibleTimeWindow": definition.flexible_time_window,
        "Target": definition.target,
        "ActionAfterCompletion": definition.action_after_completion.as_deref().unwrap_or("NONE"),
    });
    let optional = [
        ("StartDate", definition.start_date.map(seconds).map(Value::from)),
        ("EndDate", definition.end_date.map(seconds).map(Value::from)),
        ("Description", definition.description.clone().map(Value::from)),
        ("KmsKeyArn", definition.kms_key_arn.clone().map(Value::from)),
    ];
    for (member, value) in optional {
        if let Some(value) = value {
            shape[member] = value;
        }
    }
    shape
}

fn state(view: &ScheduleView) -> &'static str {
    if view.record.enabled { "ENABLED" } else { "DISABLED" }
}

fn seconds(millis: i64) -> f64 {
    millis as f64 / 1000.0
}

fn reply(body: &Value) -> Response {
    (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn check_name(name: &str, member: &str) -> Result<(), Refusal> {
    match name_problem(name, member) {
        None => Ok(()),
        Some(problem) => Err(Refusal::validation(format!("1 validation error detected: {problem}"))),
    }
}

/// What is wrong with a schedule or group name, in AWS's words.
fn name_problem(name: &str, member: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.'));
    (!valid).then(|| {
        format!(
            "Value '{name}' at '{member}' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-zA-Z-_.]+$"
        )
    })
}

/// The query's parameters, decoded.
fn parse_query(query: &str) -> BTreeMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// `%XX` escapes (and `+` as a space, as forms write it) decoded; bad escapes kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        decoded.push(byte);
                        index += 3;
                    }
                    None => {
                        decoded.push(b'%');
                        index += 1;
                    }
                }
            }
            b'+' => {
                decoded.push(b' ');
                index += 1;
            }
            byte => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_decoded() {
        let query = parse_query("NamePrefix=a%2Fb&State=ENABLED&MaxResults=5&x");
        assert_eq!(query["NamePrefix"], "a/b");
        assert_eq!(query["State"], "ENABLED");
        assert_eq!(query["x"], "");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("a+b%20c"), "a b c");
    }

    #[test]
    fn bodies_are_checked_with_every_problem_named() {
        let error = schedule_input("bad name", br#"{"State": "ON"}"#).unwrap_err();
        assert_eq!(error.code, "ValidationException");
        for fragment in [
            "5 validation errors",
            "'name'",
            "'scheduleExpression'",
            "'flexibleTimeWindow'",
            "'target'",
            "'state'",
        ] {
            assert!(error.message.contains(fragment), "{fragment}: {}", error.message);
        }
        let input = schedule_input(
            "ok",
            br#"{"ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": {"Mode": "OFF"},
                 "Target": {"Arn": "arn:aws:lambda:us-east-1:123456789012:function:f", "RoleArn": "r"},
                 "StartDate": 1764000000.5, "State": "DISABLED"}"#,
        )
        .unwrap();
        assert_eq!(input.definition.start_date, Some(1_764_000_000_500));
        assert!(!input.enabled);
        let error = schedule_input(
            "ok",
            br#"{"ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": {"Mode": "OFF"},
                 "Target": {"Arn": "arn:aws:lambda:us-east-1:123456789012:function:f"}}"#,
        )
        .unwrap_err();
        assert!(error.message.contains("target.roleArn"), "{}", error.message);
    }
}
