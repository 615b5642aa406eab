//! Function URLs: a request whose method and path an app declared as a route (`[routes."POST
//! /x"]`) invokes its function with Lambda's function-URL event (payload format 2.0) and answers
//! with the function's result mapped as a function URL maps it. Routes take precedence over the
//! S3 API's path-style URLs; a request no route declares goes on to S3.
//!
//! Routes use the `NONE` auth type: requests are not signed, and a function checks whatever
//! secret it wants. See <https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html>.

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sluice_engine::{FunctionError, Route};

use crate::router::Options;
use crate::sigv4::percent_decode;

/// The largest request and response payload: Lambda's 6 MB for synchronous invocations.
pub const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;

/// What function URLs are served over: the declared routes and the functions behind them.
#[async_trait]
pub trait FunctionUrls: Send + Sync {
    /// The route declared for a request's method and path, if any.
    fn find(&self, method: &str, path: &str) -> Option<Route>;

    /// Invokes a function with an event and waits for its result.
    async fn invoke(&self, function: &str, event: Value) -> Result<Value, FunctionError>;
}

/// The router's fallback: a declared route's function, or else the S3 REST API.
pub async fn serve(State(options): State<Arc<Options>>, request: Request) -> Response {
    let route = options
        .function_urls
        .as_ref()
        .and_then(|urls| Some((urls, urls.find(request.method().as_str(), request.uri().path())?)));
    match route {
        Some((urls, route)) => invoke(urls.as_ref(), &route, request, options.clock.now()).await,
        None => crate::router::rest(State(options), request).await,
    }
}

/// Runs one request through its route's function.
async fn invoke(urls: &dyn FunctionUrls, route: &Route, request: Request, now: DateTime<Utc>) -> Response {
    let source = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(address)| address.ip().to_string())
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, PAYLOAD_LIMIT).await else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let event = Event {
        route,
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &body,
        source_ip: &source,
        request_id: &request_id,
        now,
    }
    .to_json();
    let mut response = match urls.invoke(&route.function, event).await {
        Ok(result) => respond(result),
        Err(error) => {
            tracing::info!(route = %route.key, function = %route.function, error_type = %error.error_type, message = %error.message, "the route's function failed");
            plain(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
    };
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// The parts of a request that make its event.
struct Event<'a> {
    route: &'a Route,
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
    source_ip: &'a str,
    request_id: &'a str,
    now: DateTime<Utc>,
}

impl Event<'_> {
    /// The payload format 2.0 event: headers lower-cased with repeated ones joined by commas,
    /// cookies apart, query parameters decoded and joined the same way, and a body that is text
    /// when its content type is and it is UTF-8, base64 otherwise.
    fn to_json(&self) -> Value {
        let mut headers = Map::new();
        let mut cookies = Vec::new();
        for (name, value) in self.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            if name == header::COOKIE {
                cookies.extend(
                    value
                        .split(';')
                        .map(str::trim)
                        .filter(|cookie| !cookie.is_empty())
                        .map(|cookie| Value::String(cookie.to_owned())),
                );
                continue;
            }
            join(&mut headers, name.as_str(), value);
        }
        let mut parameters = Map::new();
        for pair in self.query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |text: &str| String::from_utf8_lossy(&percent_decode(&text.replace('+', " "))).into_owned();
            join(&mut parameters, &decode(name), decode(value));
        }
        let text = self
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(is_text)
            .then(|| std::str::from_utf8(self.body).ok())
            .flatten();
        let user_agent = self
            .headers
            .get(header::USER_AGENT)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let domain = self
            .headers
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("localhost");
        let mut event = json!({
            "version": "2.0",
            "routeKey": self.route.key.to_string(),
            "rawPath": self.path,
            "rawQueryString": self.query,
            "headers": headers,
            "requestContext": {
                "accountId": "anonymous",
                "apiId": self.route.function,
                "domainName": domain,
                "domainPrefix": domain.split('.').next().unwrap_or(domain),
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": self.source_ip,
                    "userAgent": user_agent,
                },
                "requestId": self.request_id,
                "routeKey": self.route.key.to_string(),
                "stage": "$default",
                "time": self.now.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
                "timeEpoch": self.now.timestamp_millis(),
            },
            "isBase64Encoded": false,
        });
        if !cookies.is_empty() {
            event["cookies"] = Value::Array(cookies);
        }
        if !parameters.is_empty() {
            event["queryStringParameters"] = Value::Object(parameters);
        }
        if !self.body.is_empty() {
            match text {
                Some(text) => event["body"] = Value::String(text.to_owned()),
                None => {
                    event["body"] = Value::String(BASE64.encode(self.body));
                    event["isBase64Encoded"] = Value::Bool(true);
                }
            }
        }
        event
    }
}

/// Adds a value to a map of comma-joined values.
fn join(map: &mut Map<String, Value>, name: &str, value: String) {
    match map.get_mut(name) {
        Some(Value::String(existing)) => {
            existing.push(',');
            existing.push_str(&value);
        }
        _ => {
            map.insert(name.to_owned(), Value::String(value));
        }
    }
}

/// Whether a content type's body is passed as text.
fn is_text(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("/json")
        || essence.ends_with("+json")
        || essence.ends_with("/xml")
        || essence.ends_with("+xml")
        || essence == "application/javascript"
        || essence == "application/x-www-form-urlencoded"
}

/// The response for a function's result: `{statusCode, headers, cookies, body,
/// isBase64Encoded}` as given, or any JSON without `statusCode` as a 200 `application/json`
/// body. A result that claims to be a response but is malformed is a 502, as on AWS.
fn respond(result: Value) -> Response {
    let inferred = match &result {
        Value::Object(fields) => !fields.contains_key("statusCode"),
        _ => true,
    };
    if inferred {
        let mut response = Response::new(Body::from(result.to_string()));
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        return response;
    }
    match explicit(&result) {
        Ok(response) => response,
        Err(problem) => {
            tracing::info!("a route's function answered a malformed response: {problem}");
            plain(StatusCode::BAD_GATEWAY, "Internal Server Error")
        }
    }
}

/// An explicit response, or what is wrong with it.
fn explicit(result: &Value) -> Result<Response, String> {
    let status = result["statusCode"]
        .as_u64()
        .and_then(|code| u16::try_from(code).ok())
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| format!("statusCode {} is not an HTTP status", result["statusCode"]))?;
    let body = match &result["body"] {
        Value::Null => Vec::new(),
        Value::String(text) if result["isBase64Encoded"] == Value::Bool(true) => BASE64
            .decode(text)
            .map_err(|error| format!("the body is not base64: {error}"))?,
        Value::String(text) => text.clone().into_bytes(),
        other => other.to_string().into_bytes(),
    };
    if body.len() > PAYLOAD_LIMIT {
        return Err(format!("the body is over {PAYLOAD_LIMIT} bytes"));
    }
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if let Some(headers) = result["headers"].as_object() {
        for (name, value) in headers {
            let value = match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("{name:?} is not a header name"))?;
            let value = HeaderValue::from_str(&value).map_err(|_| format!("{value:?} is not a header value"))?;
            response.headers_mut().insert(name, value);
        }
    }
    if let Some(cookies) = result["cookies"].as_array() {
        for cookie in cookies {
            let cookie = cookie.as_str().ok_or("cookies must be strings")?;
            let value = HeaderValue::from_str(cookie).map_err(|_| format!("{cookie:?} is not a cookie"))?;
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// A plain-text answer of the server's own.
fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain")], text).into_response()
}

#[cfg(test)]
mod tests;
