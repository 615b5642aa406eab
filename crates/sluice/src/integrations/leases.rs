//! Sluice's leases as Task resources: `arn:aws:states:::sluice:lease.acquire`,
//! `…:lease.renew` and `…:lease.release`. Parameters: `Name` (required), `Owner` (the execution's
//! ARN when absent), `TtlSeconds` (acquire and renew; 60 when absent), `WaitSeconds` (acquire;
//! how long to wait for a held lease, 0 to fail at once, at most 3600) and `Token` (renew and
//! release: only that grant). Errors: `Sluice.LeaseHeld`, `Sluice.NotLeaseOwner`,
//! `Sluice.InvalidLeaseRequest`, `Sluice.LeaseStoreFailed`.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sluice_asl::Failure;
use sluice_engine::{Integration, IntegrationCall};
use sluice_leases::{Error, Lease, Leases};

use super::{optional_string, request_response_only, required_string, unsupported};

const INVALID: &str = "Sluice.InvalidLeaseRequest";
/// The longest an acquire task may wait.
const MAX_WAIT_SECONDS: f64 = 3600.0;
/// The time to live when a task gives none.
const DEFAULT_TTL_SECONDS: f64 = 60.0;

/// The leases' Task resources.
pub(super) struct LeaseTasks {
    leases: Leases,
}

impl LeaseTasks {
    pub(super) fn new(leases: Leases) -> LeaseTasks {
        LeaseTasks { leases }
    }
}

#[async_trait::async_trait]
impl Integration for LeaseTasks {
    async fn call(&self, call: IntegrationCall) -> Result<Value, Failure> {
        request_response_only(&call)?;
        let parameters = &call.parameters;
        let name = required_string(parameters, "Name", INVALID)?;
        let owner = match (optional_string(parameters, "Owner", INVALID)?, &call.execution_arn) {
            (Some(owner), _) => owner.to_owned(),
            (None, Some(execution)) => execution.clone(),
            (None, None) => {
                return Err(Failure::new(
                    INVALID,
                    "The field 'Owner' is required when the task runs outside an execution",
                ));
            }
        };
        let token = match parameters.get("Token") {
            None | Some(Value::Null) => None,
            Some(value) => Some(value.as_u64().ok_or_else(|| {
                Failure::new(
                    INVALID,
                    format!("The field 'Token' must be a fencing token (a whole number), not {value}"),
                )
            })?),
        };
        let result = match call.action.as_str() {
            "lease.acquire" => {
                let ttl = seconds(parameters, "TtlSeconds", DEFAULT_TTL_SECONDS, f64::MAX)?;
                let wait = seconds(parameters, "WaitSeconds", 0.0, MAX_WAIT_SECONDS)?;
                self.leases.acquire(name, &owner, ttl, wait).await.map(granted)
            }
            "lease.renew" => {
                let ttl = seconds(parameters, "TtlSeconds", DEFAULT_TTL_SECONDS, f64::MAX)?;
                self.leases.renew_as(name, &owner, token, ttl).await.map(granted)
            }
            "lease.release" => self
                .leases
                .release_as(name, &owner, token)
                .await
                .map(|()| json!({ "Name": name, "Owner": owner, "Released": true })),
            _ => {
                return Err(unsupported(
                    &call,
                    "arn:aws:states:::sluice has the actions lease.acquire, lease.renew and lease.release",
                ));
            }
        };
        result.map_err(|error: Error| Failure::new(error.error_name(), error.to_string()))
    }
}

/// A task's answer for a grant.
fn granted(lease: Lease) -> Value {
    let expires = DateTime::<Utc>::from_timestamp_millis(lease.expires_at_millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    json!({
        "Name": lease.name,
        "Owner": lease.owner,
        "Token": lease.token,
        "ExpiresAt": expires,
    })
}

/// A number of seconds (fractions allowed) from 0 to `most`, or `default` when absent.
fn seconds(parameters: &Value, field: &str, default: f64, most: f64) -> Result<Duration, Failure> {
    let value = match parameters.get(field) {
        None | Some(Value::Null) => default,
        Some(value) => value.as_f64().ok_or_else(|| {
            Failure::new(
                INVALID,
                format!("The field '{field}' must be a number of seconds, not {value}"),
            )
        })?,
    };
    if !(0.0..=most).contains(&value) {
        return Err(Failure::new(
            INVALID,
            format!("The field '{field}' must be from 0 to {most} seconds, not {value}"),
        ));
    }
    Duration::try_from_secs_f64(value)
        .map_err(|error| Failure::new(INVALID, format!("The field '{field}' is not a duration: {error}")))
}
