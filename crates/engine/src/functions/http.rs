//! HTTP functions: the event is POSTed as JSON to a URL; a 2xx answer's JSON body is the result.
//! Any other answer is a failure whose error is read from a Lambda-style
//! `{"errorType": …, "errorMessage": …}` body, or else named after the status.

use std::time::Duration;

use serde_json::Value;

use super::FunctionError;

/// An HTTP endpoint called once per invocation.
#[derive(Debug, Clone)]
pub struct HttpFunction {
    /// Where to POST the event.
    pub url: String,
    /// How long one call may take.
    pub timeout: Duration,
    client: reqwest::Client,
}

/// The error type of a call that could not be made or answered in time.
pub const UNREACHABLE: &str = "Http.Unreachable";

impl HttpFunction {
    /// A function at `url`.
    pub fn new(url: impl Into<String>, timeout: Duration) -> HttpFunction {
        HttpFunction {
            url: url.into(),
            timeout,
            client: reqwest::Client::new(),
        }
    }

    /// POSTs the event and reads the result.
    pub async fn invoke(&self, event: Value) -> Result<Value, FunctionError> {
        let response = self
            .client
            .post(&self.url)
            .timeout(self.timeout)
            .json(&event)
            .send()
            .await
            .map_err(|error| FunctionError::new(UNREACHABLE, format!("POST {} failed: {error}", self.url)))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|error| {
            FunctionError::new(
                UNREACHABLE,
                format!("reading the answer of {} failed: {error}", self.url),
            )
        })?;
        if status.is_success() {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&body).map_err(|error| {
                FunctionError::new(
                    "Http.InvalidResponse",
                    format!("the answer of {} is not JSON: {error}", self.url),
                )
            });
        }
        if let Ok(Value::Object(error)) = serde_json::from_slice::<Value>(&body)
            && let Some(error_type) = error.get("errorType").and_then(Value::as_str)
        {
            let message = error.get("errorMessage").and_then(Value::as_str).unwrap_or_default();
            return Err(FunctionError::new(error_type, message));
        }
        let text = String::from_utf8_lossy(&body);
        Err(FunctionError::new(
            format!("Http.{}", status.as_u16()),
            format!("{} answered {status}: {text}", self.url),
        ))
    }
}
