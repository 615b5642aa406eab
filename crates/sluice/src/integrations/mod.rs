//! The Task resources Sluice's own services answer, registered with the engine: DynamoDB's
//! optimized and SDK integrations on the tables, S3's on the buckets, `sqs:sendMessage` on the
//! queues, `events:putEvents` on the bus, and Sluice's leases (`sluice:lease.*`). Parameters,
//! results and error names are AWS's, so `Retry` and `Catch` written for AWS work unchanged.
//! The reference is `docs/integrations.md`.

mod dynamodb;
mod events;
mod leases;
mod s3;
mod sqs;

use std::sync::Arc;

use serde_json::Value;
use sluice_asl::Failure;
use sluice_engine::{Engine, IntegrationCall, IntegrationPattern};

/// The services the integrations answer for, with what each is.
pub struct Services {
    /// The tables.
    pub tables: sluice_tables::Tables,
    /// The buckets.
    pub buckets: sluice_buckets::Buckets,
    /// The queues.
    pub queues: sluice_queues::Queues,
    /// The event bus.
    pub bus: sluice_bus::Bus,
    /// The leases.
    pub leases: sluice_leases::Leases,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Services").finish_non_exhaustive()
    }
}

/// Registers every integration with the engine.
pub fn register(engine: &Engine, services: Services) {
    engine.register_integration(
        "dynamodb",
        Arc::new(dynamodb::DynamoDb::optimized(services.tables.clone())),
    );
    engine.register_integration("aws-sdk:dynamodb", Arc::new(dynamodb::DynamoDb::sdk(services.tables)));
    engine.register_integration("s3", Arc::new(s3::S3::optimized(services.buckets.clone())));
    engine.register_integration("aws-sdk:s3", Arc::new(s3::S3::sdk(services.buckets)));
    engine.register_integration("sqs", Arc::new(sqs::Sqs::new(services.queues)));
    engine.register_integration("events", Arc::new(events::Events::new(services.bus)));
    engine.register_integration("sluice", Arc::new(leases::LeaseTasks::new(services.leases)));
}

/// `States.Runtime` for a call the integration cannot make at all (an unknown action, a pattern
/// it does not support): a mistake in the definition, not a service error.
fn unsupported(call: &IntegrationCall, supported: &str) -> Failure {
    Failure::new(
        sluice_asl::failure::names::RUNTIME,
        format!("The resource '{}' is not supported: {supported}", call.resource),
    )
}

/// Refuses a pattern other than request-response.
fn request_response_only(call: &IntegrationCall) -> Result<(), Failure> {
    if call.pattern == IntegrationPattern::RequestResponse {
        return Ok(());
    }
    Err(unsupported(
        call,
        &format!(
            "arn:aws:states:::{}:{} supports only the request-response pattern (no .sync or .waitForTaskToken)",
            call.service, call.action
        ),
    ))
}

/// A string parameter, if present; a parameter of another type is an error naming it.
fn optional_string<'a>(parameters: &'a Value, field: &str, error: &str) -> Result<Option<&'a str>, Failure> {
    match parameters.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(other) => Err(Failure::new(
            error,
            format!("The field '{field}' must be a string, not {other}"),
        )),
    }
}

/// A required string parameter.
fn required_string<'a>(parameters: &'a Value, field: &str, error: &str) -> Result<&'a str, Failure> {
    optional_string(parameters, field, error)?
        .ok_or_else(|| Failure::new(error, format!("The field '{field}' is required")))
}

#[cfg(test)]
mod tests;
