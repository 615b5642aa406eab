//! Targets: AWS's `Target` structure, where each kind of ARN is delivered, and the [`Sink`]
//! other services (queues) plug in for the ARNs the bus does not know itself.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::transform::{self, Context, InputTransformer};

/// EventBridge's defaults: retry for a day, up to 185 times.
pub const DEFAULT_MAXIMUM_RETRY_ATTEMPTS: u32 = 185;
/// The default maximum event age, in seconds.
pub const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS: u32 = 86_400;

/// A rule's target, as `PutTargets` takes it and `ListTargetsByRule` answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Target {
    /// Unique within the rule.
    pub id: String,
    /// Where events go: a state machine, a function, an event bus, or what a [`Sink`] takes.
    pub arn: String,
    /// The role to deliver as (kept, not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// A constant JSON text delivered instead of the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<String>,
    /// The part of the event delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_path: Option<String>,
    /// A template filled from the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_transformer: Option<InputTransformer>,
    /// How long and how often to retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_policy: Option<RetryPolicy>,
    /// Where an event goes when retries run out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_config: Option<DeadLetterConfig>,
    /// The message group of a FIFO queue target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqs_parameters: Option<SqsParameters>,
}

/// `RetryPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RetryPolicy {
    /// 0 to 185 retries after the first attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_retry_attempts: Option<u32>,
    /// 60 to 86400 seconds after the event was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_event_age_in_seconds: Option<u32>,
}

/// `DeadLetterConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeadLetterConfig {
    /// The queue's ARN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arn: Option<String>,
}

/// `SqsParameters`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SqsParameters {
    /// The FIFO message group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_group_id: Option<String>,
}

/// What a delivery carries besides its payload: how to retry and where to give up to. Kept as
/// JSON in the delivery row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Attempts allowed in all (retries + 1).
    pub max_attempts: u32,
    /// Seconds after the event's acceptance after which it is not retried.
    pub max_age_seconds: u32,
    /// The dead-letter queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_arn: Option<String>,
    /// The FIFO message group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_group_id: Option<String>,
}

impl Target {
    /// Checks what the bus can check alone (the destination is checked by the bus).
    pub fn check(&self) -> Result<(), String> {
        if self.id.is_empty() || self.id.len() > 64 || !self.id.chars().all(is_name_character) {
            return Err(format!(
                "Target Id '{}' is not valid: 1 to 64 letters, digits, '.', '-' or '_'.",
                self.id
            ));
        }
        let given = [
            self.input.is_some(),
            self.input_path.is_some(),
            self.input_transformer.is_some(),
        ];
        if given.iter().filter(|given| **given).count() > 1 {
            return Err(format!(
                "Target {}: Input, InputPath and InputTransformer are mutually exclusive.",
                self.id
            ));
        }
        if let Some(input) = &self.input {
            if input.chars().count() > transform::MAX_INPUT {
                return Err(format!(
                    "Target {}: Input must be at most {} characters.",
                    self.id,
                    transform::MAX_INPUT
                ));
            }
            serde_json::from_str::<Value>(input)
                .map_err(|error| format!("Target {}: Input is not valid JSON: {error}", self.id))?;
        }
        if let Some(path) = &self.input_path {
            transform::check_input_path(path).map_err(|message| format!("Target {}: {message}", self.id))?;
        }
        if let Some(transformer) = &self.input_transformer {
            transformer
                .check()
                .map_err(|message| format!("Target {}: {message}", self.id))?;
        }
        if let Some(policy) = &self.retry_policy {
            if policy
                .maximum_retry_attempts
                .is_some_and(|attempts| attempts > DEFAULT_MAXIMUM_RETRY_ATTEMPTS)
            {
                return Err(format!(
                    "Target {}: RetryPolicy.MaximumRetryAttempts must be between 0 and 185.",
                    self.id
                ));
            }
            if policy
                .maximum_event_age_in_seconds
                .is_some_and(|age| !(60..=DEFAULT_MAXIMUM_EVENT_AGE_SECONDS).contains(&age))
            {
                return Err(format!(
                    "Target {}: RetryPolicy.MaximumEventAgeInSeconds must be between 60 and 86400.",
                    self.id
                ));
            }
        }
        Ok(())
    }

    /// A FIFO queue target (`arn:aws:sqs:…:NAME.fifo`) needs `SqsParameters.MessageGroupId`;
    /// EventBridge refuses the whole `PutTargets` request without it.
    pub fn check_sqs_parameters(&self) -> Result<(), String> {
        let fifo_queue = self.arn.starts_with("arn:") && self.arn.contains(":sqs:") && self.arn.ends_with(".fifo");
        if !fifo_queue {
            return Ok(());
        }
        match &self.sqs_parameters {
            None => Err(format!(
                "Parameter(s) SqsParameters must be specified for target: {}.",
                self.id
            )),
            Some(SqsParameters { message_group_id: None }) => Err(format!(
                "Parameter(s) MessageGroupId must be specified for target: {}.",
                self.id
            )),
            Some(_) => Ok(()),
        }
    }

    /// What this target receives for `event`.
    pub fn payload(&self, event: &Value, context: Context<'_>) -> Value {
        if let Some(input) = &self.input {
            return serde_json::from_str(input).unwrap_or(Value::Null);
        }
        if let Some(path) = &self.input_path {
            return path
                .parse::<sluice_jsonpath::Path>()
                .ok()
                .and_then(|path| path.select(event).ok())
                .unwrap_or(Value::Null);
        }
        if let Some(transformer) = &self.input_transformer {
            return transformer.apply(event, context);
        }
        event.clone()
    }

    /// The delivery policy of this target.
    pub fn policy(&self) -> Policy {
        let retry = self.retry_policy.as_ref();
        Policy {
            max_attempts: retry
                .and_then(|policy| policy.maximum_retry_attempts)
                .unwrap_or(DEFAULT_MAXIMUM_RETRY_ATTEMPTS)
                + 1,
            max_age_seconds: retry
                .and_then(|policy| policy.maximum_event_age_in_seconds)
                .unwrap_or(DEFAULT_MAXIMUM_EVENT_AGE_SECONDS),
            dead_letter_arn: self.dead_letter_config.as_ref().and_then(|config| config.arn.clone()),
            message_group_id: self
                .sqs_parameters
                .as_ref()
                .and_then(|parameters| parameters.message_group_id.clone()),
        }
    }
}

/// Whether `character` may be in a rule name or target id.
pub(crate) fn is_name_character(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '.' | '-' | '_')
}

/// Where an ARN delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `arn:aws:states:…:stateMachine:NAME`: a new execution with the payload as input.
    StateMachine(String),
    /// `arn:aws:lambda:…:function:NAME[:QUALIFIER]`: the engine's function of that name.
    Function(String),
    /// `arn:aws:events:…:event-bus/NAME`: the event, put on that bus.
    Bus(String),
    /// `arn:aws:logs:…:log-group:NAME[:*]`: the event, appended to that log group.
    LogGroup(String),
    /// Anything else: a [`Sink`], if one accepts it.
    Other,
}

impl Destination {
    /// Where `arn` delivers.
    pub fn of(arn: &str) -> Destination {
        let parts: Vec<&str> = arn.splitn(7, ':').collect();
        match parts[..] {
            ["arn", _, "states", _, _, "stateMachine", name] if !name.is_empty() => {
                Destination::StateMachine(arn.to_owned())
            }
            ["arn", _, "lambda", _, _, "function", name] if !name.is_empty() => {
                let name = name.split(':').next().unwrap_or(name);
                Destination::Function(name.to_owned())
            }
            ["arn", _, "logs", _, _, "log-group", name] => {
                let name = name.strip_suffix(":*").unwrap_or(name);
                if name.is_empty() {
                    Destination::Other
                } else {
                    Destination::LogGroup(name.to_owned())
                }
            }
            ["arn", _, "events", _, _, resource] => match resource.strip_prefix("event-bus/") {
                Some(name) if !name.is_empty() => Destination::Bus(name.to_owned()),
                _ => Destination::Other,
            },
            _ => Destination::Other,
        }
    }
}

/// One message for a [`Sink`].
#[derive(Debug, Clone, Copy)]
pub struct SinkMessage<'a> {
    /// The target's (or dead-letter queue's) ARN.
    pub arn: &'a str,
    /// The payload, as JSON text.
    pub body: &'a str,
    /// The FIFO message group, from the target's `SqsParameters`.
    pub message_group_id: Option<&'a str>,
    /// Stable across redeliveries of one delivery: a FIFO queue's deduplication id.
    pub deduplication_id: &'a str,
}

/// Delivers to ARNs the bus does not know itself (SQS queues, when that service is wired).
#[async_trait]
pub trait Sink: Send + Sync {
    /// Whether this sink can deliver to `arn`; `PutTargets` refuses ARNs no one accepts.
    fn accepts(&self, arn: &str) -> bool;

    /// Delivers one message; an error is retried by the target's policy.
    async fn deliver(&self, message: SinkMessage<'_>) -> Result<(), String>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        assert_eq!(
            Destination::of("arn:aws:states:us-east-1:123456789012:stateMachine:m"),
            Destination::StateMachine("arn:aws:states:us-east-1:123456789012:stateMachine:m".into())
        );
        assert_eq!(
            Destination::of("arn:aws:lambda:us-east-1:123456789012:function:f:live"),
            Destination::Function("f".into())
        );
        assert_eq!(
            Destination::of("arn:aws:events:us-east-1:123456789012:event-bus/orders"),
            Destination::Bus("orders".into())
        );
        assert_eq!(
            Destination::of("arn:aws:logs:us-east-1:123456789012:log-group:/aws/events/orders:*"),
            Destination::LogGroup("/aws/events/orders".into())
        );
        assert_eq!(
            Destination::of("arn:aws:logs:us-east-1:123456789012:log-group:audit"),
            Destination::LogGroup("audit".into())
        );
        assert_eq!(
            Destination::of("arn:aws:sqs:us-east-1:123456789012:q"),
            Destination::Other
        );
        assert_eq!(Destination::of("nonsense"), Destination::Other);
    }

    #[test]
    fn targets_are_checked() {
        let target = |json: &str| serde_json::from_str::<Target>(json).unwrap().check();
        assert!(target(r#"{"Id":"t","Arn":"a"}"#).is_ok());
        assert!(target(r#"{"Id":"t t","Arn":"a"}"#).unwrap_err().contains("Id"));
        assert!(
            target(r#"{"Id":"t","Arn":"a","Input":"{","InputPath":"$"}"#)
                .unwrap_err()
                .contains("mutually exclusive")
        );
        assert!(
            target(r#"{"Id":"t","Arn":"a","Input":"{"}"#)
                .unwrap_err()
                .contains("not valid JSON")
        );
        assert!(
            target(r#"{"Id":"t","Arn":"a","RetryPolicy":{"MaximumRetryAttempts":186}}"#)
                .unwrap_err()
                .contains("MaximumRetryAttempts")
        );
        assert!(
            target(r#"{"Id":"t","Arn":"a","RetryPolicy":{"MaximumEventAgeInSeconds":59}}"#)
                .unwrap_err()
                .contains("MaximumEventAgeInSeconds")
        );
    }

    #[test]
    fn fifo_queue_targets_need_a_message_group() {
        let target = |json: &str| serde_json::from_str::<Target>(json).unwrap().check_sqs_parameters();
        assert!(target(r#"{"Id":"q","Arn":"arn:aws:sqs:us-east-1:123456789012:q"}"#).is_ok());
        assert_eq!(
            target(r#"{"Id":"q","Arn":"arn:aws:sqs:us-east-1:123456789012:q.fifo"}"#).unwrap_err(),
            "Parameter(s) SqsParameters must be specified for target: q."
        );
        assert_eq!(
            target(r#"{"Id":"q","Arn":"arn:aws:sqs:us-east-1:123456789012:q.fifo","SqsParameters":{}}"#).unwrap_err(),
            "Parameter(s) MessageGroupId must be specified for target: q."
        );
        assert!(
            target(
                r#"{"Id":"q","Arn":"arn:aws:sqs:us-east-1:123456789012:q.fifo","SqsParameters":{"MessageGroupId":"g"}}"#
            )
            .is_ok()
        );
    }

    #[test]
    fn policies_default_as_eventbridge_does() {
        let target: Target = serde_json::from_str(r#"{"Id":"t","Arn":"a"}"#).unwrap();
        let policy = target.policy();
        assert_eq!((policy.max_attempts, policy.max_age_seconds), (186, 86_400));
        let target: Target =
            serde_json::from_str(r#"{"Id":"t","Arn":"a","RetryPolicy":{"MaximumRetryAttempts":0}}"#).unwrap();
        assert_eq!(target.policy().max_attempts, 1);
    }
}
