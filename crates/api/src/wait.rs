//! A Sluice extension for clients that need a Standard execution's result, the way AWS's
//! `StartSyncExecution` gives an Express one's: `DescribeExecution` sent with the header
//! `X-Sluice-Wait-Seconds: N` (a whole number from 0 to [`MAX_WAIT_SECONDS`]) answers once the
//! execution has ended, or after N seconds with it still `RUNNING`. Without the header,
//! `DescribeExecution` answers at once, as on AWS; AWS clients never send it.

use std::time::Duration;

use axum::http::HeaderMap;
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};
use crate::service::StepFunctions;

/// The header that asks `DescribeExecution` to wait.
pub const WAIT_HEADER: &str = "x-sluice-wait-seconds";

/// The longest a `DescribeExecution` waits.
pub const MAX_WAIT_SECONDS: u64 = 60;

/// Before `DescribeExecution`: waits as long as the header asks for the execution named in the
/// body to end. A missing or malformed `executionArn` is left for the operation to refuse.
pub(crate) async fn before_describe(
    service: &dyn StepFunctions,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let Some(value) = headers.get(WAIT_HEADER) else {
        return Ok(());
    };
    let seconds = value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok())
        .filter(|seconds| *seconds <= MAX_WAIT_SECONDS)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ValidationException,
                format!(
                    "The header X-Sluice-Wait-Seconds must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}, not {value:?}"
                ),
            )
        })?;
    let arn = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|request| request.get("executionArn")?.as_str().map(str::to_owned));
    if let Some(arn) = arn
        && seconds > 0
    {
        service.wait_for_execution(&arn, Duration::from_secs(seconds)).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
