//! Task resources served by other parts of Sluice: the engine knows them only as named services
//! (`s3`, `aws-sdk:dynamodb`, `sluice`, …) that answer a call with a result or a [`Failure`].
//! The binary registers them ([`Engine::register_integration`]); the engine does not depend on
//! buckets, tables or queues.
//!
//! A resource `arn:aws:states:::SERVICE:ACTION[.PATTERN]` names a service and an action:
//! `arn:aws:states:::dynamodb:putItem` is service `dynamodb`, action `putItem`;
//! `arn:aws:states:::aws-sdk:s3:getObject` is service `aws-sdk:s3`, action `getObject`;
//! `arn:aws:states:::sluice:lease.acquire` is service `sluice`, action `lease.acquire`.

use std::sync::Arc;

use serde_json::Value;
use sluice_asl::Failure;

use crate::Engine;

/// How a Task waits for its resource ([service integration patterns][patterns]).
///
/// [patterns]: https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pattern {
    /// The call's answer is the task's result.
    RequestResponse,
    /// `.waitForTaskToken`: the call hands the task token on; the task ends when someone answers
    /// it with `SendTaskSuccess` or `SendTaskFailure`.
    WaitForTaskToken,
    /// `.sync`: the task waits for the job the call started.
    Sync,
}

/// One call of an integration.
#[derive(Debug, Clone)]
pub struct Call {
    /// The whole resource ARN, for messages.
    pub resource: String,
    /// The service part: `s3`, `aws-sdk:s3`, `dynamodb`, `sluice`, ….
    pub service: String,
    /// The action: `getObject`, `putItem`, `lease.acquire`, ….
    pub action: String,
    /// How the task waits.
    pub pattern: Pattern,
    /// The task's parameters (after `Parameters`/`Arguments`).
    pub parameters: Value,
    /// The execution the task belongs to; `None` when TestState runs the task alone.
    pub execution_arn: Option<String>,
}

/// A service that answers Task resources.
#[async_trait::async_trait]
pub trait Integration: Send + Sync {
    /// Performs one call. A failure's error name is what `Retry` and `Catch` match, so use
    /// AWS's names (`DynamoDB.ConditionalCheckFailedException`, `S3.NoSuchKeyException`, …).
    /// For [`Pattern::WaitForTaskToken`] an `Ok` means the token was handed on.
    async fn call(&self, call: Call) -> Result<Value, Failure>;
}

/// Splits `arn:aws:states:::SERVICE:ACTION[.PATTERN]` into service, action and pattern; `None`
/// when the resource is not of that form.
pub fn parse_resource(resource: &str) -> Option<(String, String, Pattern)> {
    let rest = resource.strip_prefix("arn:aws:states:::")?;
    let (rest, pattern) = if let Some(rest) = rest.strip_suffix(".waitForTaskToken") {
        (rest, Pattern::WaitForTaskToken)
    } else if let Some(rest) = rest.strip_suffix(".sync:2").or_else(|| rest.strip_suffix(".sync")) {
        (rest, Pattern::Sync)
    } else {
        (rest, Pattern::RequestResponse)
    };
    let (service, action) = rest.rsplit_once(':')?;
    if service.is_empty() || action.is_empty() {
        return None;
    }
    Some((service.to_owned(), action.to_owned(), pattern))
}

impl Engine {
    /// Serves Task resources `arn:aws:states:::{service}:ACTION` with `integration`, replacing
    /// any integration registered for that service before.
    pub fn register_integration(&self, service: &str, integration: Arc<dyn Integration>) {
        self.inner
            .integrations
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(service.to_owned(), integration);
    }

    /// The integration registered for `service`.
    pub(crate) fn integration(&self, service: &str) -> Option<Arc<dyn Integration>> {
        self.inner
            .integrations
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(service)
            .cloned()
    }

    /// The services with an integration, sorted, for messages.
    pub(crate) fn integration_services(&self) -> Vec<String> {
        let mut services: Vec<String> = self
            .inner
            .integrations
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .keys()
            .cloned()
            .collect();
        services.sort();
        services
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(resource: &str, expect: Option<(&str, &str, Pattern)>) {
        let parsed = parse_resource(resource);
        let expect = expect.map(|(service, action, pattern)| (service.to_owned(), action.to_owned(), pattern));
        assert_eq!(parsed, expect, "{resource}");
    }

    #[test]
    fn resources_name_a_service_an_action_and_a_pattern() {
        check(
            "arn:aws:states:::dynamodb:putItem",
            Some(("dynamodb", "putItem", Pattern::RequestResponse)),
        );
        check(
            "arn:aws:states:::aws-sdk:s3:getObject",
            Some(("aws-sdk:s3", "getObject", Pattern::RequestResponse)),
        );
        check(
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            Some(("sqs", "sendMessage", Pattern::WaitForTaskToken)),
        );
        check(
            "arn:aws:states:::sluice:lease.acquire",
            Some(("sluice", "lease.acquire", Pattern::RequestResponse)),
        );
        check(
            "arn:aws:states:::glue:startJobRun.sync",
            Some(("glue", "startJobRun", Pattern::Sync)),
        );
        check("arn:aws:states:::nothing", None);
        check("arn:aws:lambda:us-east-1:1:function:f", None);
    }
}
