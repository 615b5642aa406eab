//! Topic and subscription attributes: which names SNS takes, what their values must be, and
//! the names and topic kinds they apply to. Errors are SNS's `InvalidParameter` reasons.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::filter::{FilterPolicy, Scope};
use crate::retry::RetryPolicy;
use crate::{Error, Result};

/// The protocols Sluice delivers to. `sluice-states` is Sluice's own: it starts a state machine.
pub const PROTOCOLS: &[&str] = &["sqs", "lambda", "http", "https", "sluice-states"];

/// Protocols SNS has and Sluice does not deliver to.
const OTHER_SNS_PROTOCOLS: &[&str] = &["email", "email-json", "sms", "application", "firehose"];

/// Whether a topic name is valid: 1–256 letters, digits, `-` or `_`, with `.fifo` at the end
/// of a FIFO topic's (counted in the 256).
pub fn valid_topic_name(name: &str, fifo: bool) -> bool {
    let stem = if fifo {
        match name.strip_suffix(".fifo") {
            Some(stem) => stem,
            None => return false,
        }
    } else {
        name
    };
    !stem.is_empty()
        && name.len() <= 256
        && stem
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || character == '-' || character == '_')
}

fn boolean(name: &str, value: &str) -> Result<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::invalid(format!(
            "{name}: Invalid value [{value}]. Must be true or false."
        ))),
    }
}

fn json_object(name: &str, value: &str) -> Result<Value> {
    match serde_json::from_str::<Value>(value) {
        Ok(object @ Value::Object(_)) => Ok(object),
        _ => Err(Error::invalid(format!("{name}: the value is not a JSON object"))),
    }
}

/// Checks one topic attribute for a topic that is FIFO or not; `creating` allows `FifoTopic`.
pub fn check_topic_attribute(name: &str, value: &str, fifo: bool, creating: bool) -> Result<()> {
    const FEEDBACK_PREFIXES: &[&str] = &["HTTP", "Firehose", "Lambda", "SQS", "Application"];
    const FEEDBACK_SUFFIXES: &[&str] = &[
        "SuccessFeedbackRoleArn",
        "SuccessFeedbackSampleRate",
        "FailureFeedbackRoleArn",
    ];
    match name {
        "DisplayName" => {
            if value.chars().count() > 100 {
                return Err(Error::invalid("DisplayName: at most 100 characters"));
            }
        }
        "Policy" | "DataProtectionPolicy" | "ArchivePolicy" => {
            json_object(name, value)?;
            if name == "ArchivePolicy" && !fifo {
                return Err(Error::invalid(
                    "ArchivePolicy: message archiving is only for FIFO topics",
                ));
            }
        }
        "DeliveryPolicy" => {
            let policy = json_object(name, value)?;
            if let Some(retry) = policy.pointer("/http/defaultHealthyRetryPolicy") {
                RetryPolicy::from_json(retry).map_err(|reason| Error::invalid(format!("DeliveryPolicy: {reason}")))?;
            }
        }
        "KmsMasterKeyId" | "TracingConfig" | "SignatureVersion" => {
            if name == "TracingConfig" && !matches!(value, "PassThrough" | "Active") {
                return Err(Error::invalid("TracingConfig: must be PassThrough or Active"));
            }
            if name == "SignatureVersion" && !matches!(value, "1" | "2") {
                return Err(Error::invalid("SignatureVersion: must be 1 or 2"));
            }
        }
        "FifoTopic" => {
            if !creating {
                return Err(Error::invalid("AttributeName"));
            }
            boolean(name, value)?;
        }
        "ContentBasedDeduplication" => {
            boolean(name, value)?;
            if !fifo {
                return Err(Error::invalid(
                    "ContentBasedDeduplication: Content-based deduplication can only be set for FIFO topics",
                ));
            }
        }
        "FifoThroughputScope" => {
            if !fifo {
                return Err(Error::invalid("FifoThroughputScope: can only be set for FIFO topics"));
            }
            if !matches!(value, "Topic" | "MessageGroup") {
                return Err(Error::invalid("FifoThroughputScope: must be Topic or MessageGroup"));
            }
        }
        other
            if FEEDBACK_PREFIXES.iter().any(|prefix| {
                FEEDBACK_SUFFIXES
                    .iter()
                    .any(|suffix| other == format!("{prefix}{suffix}"))
            }) => {}
        _ => return Err(Error::invalid("AttributeName")),
    }
    Ok(())
}

/// Whether the given attributes ask for a FIFO topic.
pub fn asks_for_fifo(attributes: &BTreeMap<String, String>) -> bool {
    attributes
        .get("FifoTopic")
        .is_some_and(|value| value.eq_ignore_ascii_case("true"))
}

/// Checks a protocol and its endpoint for a topic that is FIFO or not.
pub fn check_endpoint(protocol: &str, endpoint: &str, fifo: bool) -> Result<()> {
    if OTHER_SNS_PROTOCOLS.contains(&protocol) {
        return Err(Error::invalid(format!(
            "Protocol: Sluice does not deliver to the {protocol} protocol; it delivers to {}",
            PROTOCOLS.join(", ")
        )));
    }
    if !PROTOCOLS.contains(&protocol) {
        return Err(Error::invalid(format!(
            "Amazon SNS does not support this protocol string: {protocol}"
        )));
    }
    let arn_kind = |service: &str, kind: Option<&str>| {
        let parts: Vec<&str> = endpoint.split(':').collect();
        parts.len() >= 6
            && parts[0] == "arn"
            && parts[2] == service
            && match kind {
                Some(kind) => parts[5] == kind && parts.len() >= 7 && !parts[6].is_empty(),
                None => parts.len() == 6 && !parts[5].is_empty(),
            }
    };
    let valid = match protocol {
        "sqs" => arn_kind("sqs", None),
        "lambda" => arn_kind("lambda", Some("function")),
        "sluice-states" => arn_kind("states", Some("stateMachine")),
        "http" => endpoint.starts_with("http://") && endpoint.len() > "http://".len(),
        _ => endpoint.starts_with("https://") && endpoint.len() > "https://".len(),
    };
    if !valid {
        let expected = match protocol {
            "sqs" => "an SQS queue ARN",
            "lambda" => "a Lambda function ARN",
            "sluice-states" => "a state machine ARN",
            "http" => "a URL beginning with http://",
            _ => "a URL beginning with https://",
        };
        return Err(Error::invalid(format!(
            "Endpoint Reason: the {protocol} protocol needs {expected}, not {endpoint:?}"
        )));
    }
    let fifo_queue = protocol == "sqs" && endpoint.ends_with(".fifo");
    if fifo && !fifo_queue {
        return Err(Error::invalid(
            "Endpoint Reason: FIFO SNS Topics currently only support FIFO SQS Queues as endpoints",
        ));
    }
    if !fifo && fifo_queue {
        return Err(Error::invalid(
            "Endpoint Reason: Please use FIFO SNS Topic to subscribe to FIFO SQS queues",
        ));
    }
    Ok(())
}

/// Checks a subscription's attributes together (a filter policy against its scope), for its
/// protocol and topic kind.
pub fn check_subscription_attributes(attributes: &BTreeMap<String, String>, protocol: &str, fifo: bool) -> Result<()> {
    for (name, value) in attributes {
        match name.as_str() {
            "RawMessageDelivery" => {
                boolean(name, value)?;
                if !matches!(protocol, "sqs" | "http" | "https") {
                    return Err(Error::invalid(format!(
                        "Delivery protocol [{protocol}] does not support raw message delivery."
                    )));
                }
            }
            "FilterPolicyScope" => {
                Scope::parse(value).map_err(Error::invalid)?;
            }
            "FilterPolicy" => {}
            "RedrivePolicy" => {
                let policy = json_object(name, value)?;
                let arn = policy
                    .get("deadLetterTargetArn")
                    .and_then(Value::as_str)
                    .ok_or_else(|| Error::invalid("RedrivePolicy: deadLetterTargetArn is missing"))?;
                let parts: Vec<&str> = arn.split(':').collect();
                if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sqs" || parts[5].is_empty() {
                    return Err(Error::invalid(format!(
                        "RedrivePolicy: deadLetterTargetArn is not an SQS queue ARN: {arn}"
                    )));
                }
                if fifo != arn.ends_with(".fifo") {
                    return Err(Error::invalid(
                        "RedrivePolicy: the dead-letter queue of a FIFO topic's subscription must be a FIFO queue, and of a standard topic's a standard queue",
                    ));
                }
            }
            "DeliveryPolicy" => {
                let policy = json_object(name, value)?;
                if let Some(retry) = policy.get("healthyRetryPolicy") {
                    RetryPolicy::from_json(retry)
                        .map_err(|reason| Error::invalid(format!("DeliveryPolicy: {reason}")))?;
                }
            }
            "SubscriptionRoleArn" | "ReplayPolicy" => {}
            _ => return Err(Error::invalid("AttributeName")),
        }
    }
    if let Some(policy) = attributes.get("FilterPolicy")
        && !policy.is_empty()
    {
        let scope = match attributes.get("FilterPolicyScope") {
            Some(scope) => Scope::parse(scope).map_err(Error::invalid)?,
            None => Scope::default(),
        };
        FilterPolicy::parse(policy, scope).map_err(|reason| Error::invalid(format!("FilterPolicy: {reason}")))?;
    }
    Ok(())
}

/// The filter policy a subscription's attributes hold (checked when they were set).
pub fn filter_policy(attributes: &BTreeMap<String, String>) -> Option<FilterPolicy> {
    let text = attributes.get("FilterPolicy").filter(|text| !text.is_empty())?;
    let scope = attributes
        .get("FilterPolicyScope")
        .and_then(|scope| Scope::parse(scope).ok())
        .unwrap_or_default();
    FilterPolicy::parse(text, scope).ok()
}

/// Whether a subscription's attributes ask for raw delivery.
pub fn raw_delivery(attributes: &BTreeMap<String, String>) -> bool {
    attributes
        .get("RawMessageDelivery")
        .is_some_and(|value| value.eq_ignore_ascii_case("true"))
}

/// The dead-letter queue's name a subscription's `RedrivePolicy` names.
pub fn dead_letter_queue(attributes: &BTreeMap<String, String>) -> Option<String> {
    let policy: Value = serde_json::from_str(attributes.get("RedrivePolicy")?).ok()?;
    let arn = policy.get("deadLetterTargetArn")?.as_str()?;
    arn.rsplit(':').next().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(result: Result<()>) -> String {
        result.expect_err("refused").to_string()
    }

    #[test]
    fn topic_names() {
        assert!(valid_topic_name("orders-1_a", false));
        assert!(!valid_topic_name("orders.fifo", false));
        assert!(valid_topic_name("orders.fifo", true));
        assert!(!valid_topic_name("orders", true));
        assert!(!valid_topic_name("", false));
        assert!(!valid_topic_name(&"a".repeat(257), false));
        assert!(valid_topic_name(&"a".repeat(256), false));
    }

    #[test]
    fn topic_attributes() {
        assert!(check_topic_attribute("DisplayName", "Orders", false, false).is_ok());
        assert_eq!(
            reason(check_topic_attribute("Colour", "red", false, true)),
            "Invalid parameter: AttributeName"
        );
        assert!(reason(check_topic_attribute("ContentBasedDeduplication", "true", false, true)).contains("FIFO"));
        assert!(reason(check_topic_attribute("FifoTopic", "true", true, false)).contains("AttributeName"));
        assert!(reason(check_topic_attribute("Policy", "{", false, false)).contains("Policy"));
        assert!(check_topic_attribute("SQSSuccessFeedbackRoleArn", "arn:aws:iam::1:role/r", false, false).is_ok());
    }

    #[test]
    fn endpoints() {
        assert!(check_endpoint("sqs", "arn:aws:sqs:us-east-1:123456789012:q", false).is_ok());
        assert!(check_endpoint("lambda", "arn:aws:lambda:us-east-1:123456789012:function:f", false).is_ok());
        assert!(
            check_endpoint(
                "sluice-states",
                "arn:aws:states:us-east-1:123456789012:stateMachine:m",
                false
            )
            .is_ok()
        );
        assert!(check_endpoint("http", "http://127.0.0.1:9/hook", false).is_ok());
        assert!(reason(check_endpoint("sqs", "q", false)).contains("SQS queue ARN"));
        assert!(reason(check_endpoint("https", "http://x", false)).contains("https://"));
        assert!(reason(check_endpoint("email", "a@b", false)).contains("does not deliver"));
        assert!(reason(check_endpoint("carrier-pigeon", "x", false)).contains("protocol string"));
        assert!(reason(check_endpoint("sqs", "arn:aws:sqs:us-east-1:1:q", true)).contains("FIFO SQS Queues"));
        assert!(reason(check_endpoint("sqs", "arn:aws:sqs:us-east-1:1:q.fifo", false)).contains("FIFO SNS Topic"));
    }

    #[test]
    fn subscription_attributes() {
        let check = |pairs: &[(&str, &str)], protocol: &str| {
            let attributes = pairs
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect();
            check_subscription_attributes(&attributes, protocol, false)
        };
        assert!(check(&[("RawMessageDelivery", "true")], "sqs").is_ok());
        assert!(reason(check(&[("RawMessageDelivery", "yes")], "sqs")).contains("Must be true or false"));
        assert!(reason(check(&[("RawMessageDelivery", "true")], "lambda")).contains("raw message delivery"));
        assert!(reason(check(&[("FilterPolicy", r#"{"a":{"b":["c"]}}"#)], "sqs")).contains("FilterPolicy"));
        assert!(
            check(
                &[
                    ("FilterPolicy", r#"{"a":{"b":["c"]}}"#),
                    ("FilterPolicyScope", "MessageBody")
                ],
                "sqs"
            )
            .is_ok()
        );
        assert!(reason(check(&[("RedrivePolicy", "{}")], "sqs")).contains("deadLetterTargetArn"));
        assert!(
            reason(check(
                &[("RedrivePolicy", r#"{"deadLetterTargetArn":"arn:aws:sns:x:1:t"}"#)],
                "sqs"
            ))
            .contains("not an SQS queue ARN")
        );
        assert_eq!(
            reason(check(&[("Colour", "red")], "sqs")),
            "Invalid parameter: AttributeName"
        );
    }
}
