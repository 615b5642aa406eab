//! Queue attributes: which names SQS knows, the range of each, the defaults a new queue gets,
//! and the typed [`Config`] the operations read. A queue's stored attributes hold every settable
//! attribute with its value (defaults filled in), so what `GetQueueAttributes` shows and what the
//! operations use are the same strings.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Code, Error, Result};

/// The attributes that `CreateQueue` and `SetQueueAttributes` accept.
const SETTABLE: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
];

/// The attributes SQS computes; readable, not settable.
pub(crate) const COMPUTED: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

/// Attributes only FIFO queues have.
const FIFO_ONLY: &[&str] = &["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"];

/// The attributes of a new queue before the caller's are applied.
pub(crate) fn defaults(fifo: bool) -> BTreeMap<String, String> {
    let mut attributes: BTreeMap<String, String> = [
        ("DelaySeconds", "0"),
        ("MaximumMessageSize", "1048576"),
        ("MessageRetentionPeriod", "345600"),
        ("ReceiveMessageWaitTimeSeconds", "0"),
        ("VisibilityTimeout", "30"),
        ("SqsManagedSseEnabled", "true"),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value.to_owned()))
    .collect();
    if fifo {
        for (name, value) in [
            ("FifoQueue", "true"),
            ("ContentBasedDeduplication", "false"),
            ("DeduplicationScope", "queue"),
            ("FifoThroughputLimit", "perQueue"),
        ] {
            attributes.insert(name.to_owned(), value.to_owned());
        }
    }
    attributes
}

/// Checks attributes given to `CreateQueue` (`creating`) or `SetQueueAttributes` for a queue of
/// the given type; answers them normalised (booleans in lower case).
pub(crate) fn check(given: &BTreeMap<String, String>, fifo: bool, creating: bool) -> Result<BTreeMap<String, String>> {
    let mut checked = BTreeMap::new();
    for (name, value) in given {
        if !SETTABLE.contains(&name.as_str()) {
            return Err(Error::new(
                Code::InvalidAttributeName,
                format!("Unknown Attribute {name}."),
            ));
        }
        let invalid = |reason: &str| {
            Error::new(
                Code::InvalidAttributeValue,
                format!("Invalid value for the parameter {name}. Reason: {reason}"),
            )
        };
        if FIFO_ONLY.contains(&name.as_str()) && !fifo {
            return Err(invalid("Only FIFO queues have this attribute."));
        }
        let normalised = match name.as_str() {
            "DelaySeconds" => integer(value, 0, 900).map_err(|_| invalid("Must be an integer from 0 to 900."))?,
            "MaximumMessageSize" => {
                integer(value, 1024, 1_048_576).map_err(|_| invalid("Must be an integer from 1024 to 1048576."))?
            }
            "MessageRetentionPeriod" => {
                integer(value, 60, 1_209_600).map_err(|_| invalid("Must be an integer from 60 to 1209600."))?
            }
            "ReceiveMessageWaitTimeSeconds" => {
                integer(value, 0, 20).map_err(|_| invalid("Must be an integer from 0 to 20."))?
            }
            "VisibilityTimeout" => {
                integer(value, 0, 43_200).map_err(|_| invalid("Must be an integer from 0 to 43200."))?
            }
            "KmsDataKeyReusePeriodSeconds" => {
                integer(value, 60, 86_400).map_err(|_| invalid("Must be an integer from 60 to 86400."))?
            }
            "FifoQueue" => {
                let flag = boolean(value).ok_or_else(|| invalid("Must be true or false."))?;
                if !creating {
                    return Err(invalid("Modifying queue type is not supported."));
                }
                if flag != fifo {
                    return Err(Error::new(
                        Code::InvalidParameterValue,
                        "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, \
                         must end with .fifo suffix and be 1 to 80 in length.",
                    ));
                }
                flag.to_string()
            }
            "ContentBasedDeduplication" | "SqsManagedSseEnabled" => boolean(value)
                .ok_or_else(|| invalid("Must be true or false."))?
                .to_string(),
            "DeduplicationScope" => {
                one_of(value, &["messageGroup", "queue"]).map_err(|()| invalid("Must be messageGroup or queue."))?
            }
            "FifoThroughputLimit" => one_of(value, &["perQueue", "perMessageGroupId"])
                .map_err(|()| invalid("Must be perQueue or perMessageGroupId."))?,
            "RedrivePolicy" if value.is_empty() => String::new(),
            "RedrivePolicy" => {
                RedrivePolicy::parse(value).map_err(|reason| invalid(&reason))?;
                value.clone()
            }
            "Policy" | "RedriveAllowPolicy" if !value.is_empty() => {
                serde_json::from_str::<serde_json::Value>(value).map_err(|_| invalid("Must be a JSON document."))?;
                value.clone()
            }
            _ => value.clone(),
        };
        checked.insert(name.clone(), normalised);
    }
    if let (Some(scope), Some(limit)) = (checked.get("DeduplicationScope"), checked.get("FifoThroughputLimit"))
        && scope == "queue"
        && limit == "perMessageGroupId"
    {
        return Err(Error::new(
            Code::InvalidAttributeValue,
            "Invalid value for the parameter FifoThroughputLimit. Reason: perMessageGroupId is allowed only when \
             DeduplicationScope is messageGroup.",
        ));
    }
    Ok(checked)
}

fn integer(value: &str, min: i64, max: i64) -> Result<String, ()> {
    match value.trim().parse::<i64>() {
        Ok(number) if (min..=max).contains(&number) => Ok(number.to_string()),
        _ => Err(()),
    }
}

fn boolean(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn one_of(value: &str, allowed: &[&str]) -> Result<String, ()> {
    allowed
        .iter()
        .find(|candidate| **candidate == value)
        .map(|found| (*found).to_owned())
        .ok_or(())
}

/// Whether `name` is an attribute `GetQueueAttributes` knows (or `All`).
pub(crate) fn readable(name: &str) -> bool {
    name == "All" || SETTABLE.contains(&name) || COMPUTED.contains(&name)
}

/// `RedrivePolicy`: `{"deadLetterTargetArn": "...", "maxReceiveCount": N}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    /// The dead-letter queue's ARN.
    pub dead_letter_target_arn: String,
    /// How many receives a message gets before it moves.
    pub max_receive_count: u32,
}

impl RedrivePolicy {
    /// Parses the attribute's JSON text, naming what is wrong.
    pub fn parse(text: &str) -> Result<RedrivePolicy, String> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire {
            dead_letter_target_arn: Option<String>,
            max_receive_count: Option<serde_json::Value>,
        }
        let wire: Wire =
            serde_json::from_str(text).map_err(|error| format!("Redrive policy is not a JSON object: {error}."))?;
        let arn = wire
            .dead_letter_target_arn
            .ok_or("Redrive policy does not contain mandatory attribute: deadLetterTargetArn.")?;
        let count = match wire.max_receive_count {
            Some(serde_json::Value::Number(number)) => number.as_u64(),
            Some(serde_json::Value::String(text)) => text.parse::<u64>().ok(),
            Some(_) => None,
            None => return Err("Redrive policy does not contain mandatory attribute: maxReceiveCount.".to_owned()),
        };
        let count = count
            .filter(|count| (1..=1000).contains(count))
            .ok_or("Value for maxReceiveCount must be an integer from 1 to 1000.")?;
        if arn.split(':').count() != 6 || !arn.starts_with("arn:") {
            return Err(format!("Dead-letter target {arn} is not a queue ARN."));
        }
        Ok(RedrivePolicy {
            dead_letter_target_arn: arn,
            max_receive_count: count as u32,
        })
    }

    /// The dead-letter queue's name (the ARN's last part).
    pub fn dead_letter_queue_name(&self) -> &str {
        self.dead_letter_target_arn.rsplit(':').next().unwrap_or_default()
    }
}

/// What the operations read of a queue's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The default delay of a send, in seconds.
    pub delay_seconds: u32,
    /// The largest message, in bytes.
    pub maximum_message_size: usize,
    /// How long a message is kept, in seconds.
    pub retention_seconds: u32,
    /// The default long-polling wait of a receive, in seconds.
    pub wait_seconds: u32,
    /// The default visibility timeout of a receive, in seconds.
    pub visibility_timeout: u32,
    /// Whether a FIFO send without a deduplication id is deduplicated by its body's SHA-256.
    pub content_based_deduplication: bool,
    /// Whether deduplication ids are scoped to the message group.
    pub deduplicate_per_group: bool,
    /// The redrive policy.
    pub redrive: Option<RedrivePolicy>,
}

impl Config {
    /// Reads the stored attributes (checked when they were set; unreadable values take their
    /// defaults).
    pub fn of(attributes: &BTreeMap<String, String>) -> Config {
        let number = |name: &str, default: u32| {
            attributes
                .get(name)
                .and_then(|value| value.parse().ok())
                .unwrap_or(default)
        };
        Config {
            delay_seconds: number("DelaySeconds", 0),
            maximum_message_size: number("MaximumMessageSize", 1_048_576) as usize,
            retention_seconds: number("MessageRetentionPeriod", 345_600),
            wait_seconds: number("ReceiveMessageWaitTimeSeconds", 0),
            visibility_timeout: number("VisibilityTimeout", 30),
            content_based_deduplication: attributes.get("ContentBasedDeduplication").map(String::as_str)
                == Some("true"),
            deduplicate_per_group: attributes.get("DeduplicationScope").map(String::as_str) == Some("messageGroup"),
            redrive: attributes
                .get("RedrivePolicy")
                .filter(|text| !text.is_empty())
                .and_then(|text| RedrivePolicy::parse(text).ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_one(name: &str, value: &str, fifo: bool) -> Result<String, (Code, String)> {
        let given = BTreeMap::from([(name.to_owned(), value.to_owned())]);
        check(&given, fifo, true)
            .map(|checked| checked[name].clone())
            .map_err(|error| match error {
                Error::Sqs { code, message } => (code, message),
                Error::Store(error) => panic!("{error}"),
            })
    }

    #[test]
    fn ranges_and_names_are_checked() {
        assert_eq!(check_one("VisibilityTimeout", "45", false), Ok("45".to_owned()));
        assert_eq!(
            check_one("VisibilityTimeout", "43201", false),
            Err((
                Code::InvalidAttributeValue,
                "Invalid value for the parameter VisibilityTimeout. Reason: Must be an integer from 0 to 43200."
                    .to_owned()
            ))
        );
        assert_eq!(
            check_one("Colour", "red", false),
            Err((Code::InvalidAttributeName, "Unknown Attribute Colour.".to_owned()))
        );
        assert_eq!(
            check_one("ContentBasedDeduplication", "TRUE", true),
            Ok("true".to_owned())
        );
        assert!(check_one("ContentBasedDeduplication", "true", false).is_err());
        assert!(check_one("FifoQueue", "true", false).is_err());
        assert!(check_one("RedrivePolicy", r#"{"maxReceiveCount": 3}"#, false).is_err());
        assert!(
            check_one(
                "RedrivePolicy",
                r#"{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:d", "maxReceiveCount": "3"}"#,
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn redrive_policies_name_their_dead_letter_queue() {
        let policy = RedrivePolicy::parse(
            r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dead","maxReceiveCount":5}"#,
        )
        .unwrap();
        assert_eq!((policy.dead_letter_queue_name(), policy.max_receive_count), ("dead", 5));
        assert!(
            RedrivePolicy::parse(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:1:d","maxReceiveCount":0}"#).is_err()
        );
    }
}
