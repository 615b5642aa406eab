//! What subscribers receive, in SNS's shapes: the JSON envelope of a notification (`sqs`,
//! `http(s)`, and Sluice's `sluice-states` as input), the subscription confirmation request, and
//! the Lambda event (`Records[].Sns`).
//!
//! `Signature` is an HMAC-SHA256, in base64, of SNS's string to sign under a key the server makes
//! at start; SNS signs with an RSA key whose certificate `SigningCertURL` names, which Sluice does
//! not have, so clients that verify signatures against AWS's certificates must not do so here.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::publish::MessageAttribute;

/// What a delivery row carries, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "Kind")]
pub enum Payload {
    /// A published message.
    Notification(Notification),
    /// The request to confirm an HTTP subscription.
    SubscriptionConfirmation {
        /// Unique.
        message_id: String,
        /// The topic.
        topic_arn: String,
        /// The token `ConfirmSubscription` takes.
        token: String,
        /// When it was made (SNS's format).
        timestamp: String,
    },
}

/// A published message, as one subscription gets it (the protocol's text already chosen from a
/// `MessageStructure` of `json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// The message id `Publish` answered.
    pub message_id: String,
    /// The topic.
    pub topic_arn: String,
    /// The subject, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// The message.
    pub message: String,
    /// When it was published (SNS's format).
    pub timestamp: String,
    /// Its attributes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, MessageAttribute>,
    /// The FIFO message group (or a standard topic's, passed to SQS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// The FIFO deduplication id (given or computed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deduplication_id: Option<String>,
}

/// SNS's timestamp format: `2012-05-02T00:54:06.655Z`.
pub fn timestamp(millis: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Percent-encodes a query value.
pub fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// The links and key an envelope needs.
#[derive(Debug, Clone, Copy)]
pub struct Signing<'a> {
    /// The server's URL.
    pub endpoint_url: &'a str,
    /// The key signatures are made with.
    pub key: &'a [u8],
}

impl Signing<'_> {
    fn certificate_url(&self) -> String {
        format!("{}/SimpleNotificationService-sluice.pem", self.endpoint_url)
    }

    fn unsubscribe_url(&self, subscription_arn: &str) -> String {
        format!(
            "{}/?Action=Unsubscribe&SubscriptionArn={}",
            self.endpoint_url,
            encode(subscription_arn)
        )
    }

    /// The link that confirms a subscription.
    pub fn subscribe_url(&self, topic_arn: &str, token: &str) -> String {
        format!(
            "{}/?Action=ConfirmSubscription&TopicArn={}&Token={}",
            self.endpoint_url,
            encode(topic_arn),
            encode(token)
        )
    }

    /// The signature of SNS's string to sign: each present field's name and value, one per line,
    /// in SNS's order.
    fn sign(&self, fields: &[(&str, Option<&str>)]) -> String {
        let mut text = String::new();
        for (name, value) in fields {
            if let Some(value) = value {
                text.push_str(name);
                text.push('\n');
                text.push_str(value);
                text.push('\n');
            }
        }
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.key) else {
            return String::new();
        };
        mac.update(text.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }
}

/// The attributes in the envelope's shape: `{"name": {"Type": ..., "Value": ...}}`.
fn envelope_attributes(attributes: &BTreeMap<String, MessageAttribute>) -> Map<String, Value> {
    attributes
        .iter()
        .map(|(name, attribute)| {
            let value = attribute
                .string_value
                .clone()
                .or_else(|| attribute.binary_value.clone())
                .unwrap_or_default();
            (name.clone(), json!({ "Type": attribute.data_type, "Value": value }))
        })
        .collect()
}

/// The notification envelope (`Type: Notification`) a subscription receives as JSON text's
/// object.
pub fn notification(
    notification: &Notification,
    sequence_number: Option<u64>,
    subscription_arn: &str,
    signing: Signing<'_>,
) -> Value {
    let sequence = sequence_number.map(sequence_text);
    let signature = signing.sign(&[
        ("Message", Some(notification.message.as_str())),
        ("MessageId", Some(notification.message_id.as_str())),
        ("Subject", notification.subject.as_deref()),
        ("Timestamp", Some(notification.timestamp.as_str())),
        ("TopicArn", Some(notification.topic_arn.as_str())),
        ("Type", Some("Notification")),
    ]);
    let mut envelope = Map::new();
    envelope.insert("Type".into(), json!("Notification"));
    envelope.insert("MessageId".into(), json!(notification.message_id));
    if let Some(sequence) = sequence {
        envelope.insert("SequenceNumber".into(), json!(sequence));
    }
    envelope.insert("TopicArn".into(), json!(notification.topic_arn));
    if let Some(subject) = &notification.subject {
        envelope.insert("Subject".into(), json!(subject));
    }
    envelope.insert("Message".into(), json!(notification.message));
    envelope.insert("Timestamp".into(), json!(notification.timestamp));
    envelope.insert("SignatureVersion".into(), json!("1"));
    envelope.insert("Signature".into(), json!(signature));
    envelope.insert("SigningCertURL".into(), json!(signing.certificate_url()));
    envelope.insert(
        "UnsubscribeURL".into(),
        json!(signing.unsubscribe_url(subscription_arn)),
    );
    if !notification.attributes.is_empty() {
        envelope.insert(
            "MessageAttributes".into(),
            Value::Object(envelope_attributes(&notification.attributes)),
        );
    }
    Value::Object(envelope)
}

/// The subscription confirmation request an HTTP endpoint receives.
pub fn confirmation(message_id: &str, topic_arn: &str, token: &str, timestamp: &str, signing: Signing<'_>) -> Value {
    let message = format!(
        "You have chosen to subscribe to the topic {topic_arn}.\nTo confirm the subscription, visit the SubscribeURL included in this message."
    );
    let subscribe_url = signing.subscribe_url(topic_arn, token);
    let signature = signing.sign(&[
        ("Message", Some(message.as_str())),
        ("MessageId", Some(message_id)),
        ("SubscribeURL", Some(subscribe_url.as_str())),
        ("Timestamp", Some(timestamp)),
        ("Token", Some(token)),
        ("TopicArn", Some(topic_arn)),
        ("Type", Some("SubscriptionConfirmation")),
    ]);
    json!({
        "Type": "SubscriptionConfirmation",
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": message,
        "SubscribeURL": subscribe_url,
        "Timestamp": timestamp,
        "SignatureVersion": "1",
        "Signature": signature,
        "SigningCertURL": signing.certificate_url(),
    })
}

/// The event a `lambda` subscription's function receives.
pub fn lambda_event(notification: &Notification, subscription_arn: &str, signing: Signing<'_>) -> Value {
    let envelope = self::notification(notification, None, subscription_arn, signing);
    let field = |name: &str| envelope.get(name).cloned().unwrap_or(Value::Null);
    json!({
        "Records": [{
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": subscription_arn,
            "Sns": {
                "Type": "Notification",
                "MessageId": notification.message_id,
                "TopicArn": notification.topic_arn,
                "Subject": notification.subject,
                "Message": notification.message,
                "Timestamp": notification.timestamp,
                "SignatureVersion": "1",
                "Signature": field("Signature"),
                "SigningCertUrl": field("SigningCertURL"),
                "UnsubscribeUrl": field("UnsubscribeURL"),
                "MessageAttributes": Value::Object(envelope_attributes(&notification.attributes)),
            }
        }]
    })
}

/// A sequence number as SNS writes it: a long decimal string.
pub fn sequence_text(number: u64) -> String {
    format!("{number:020}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signing() -> Signing<'static> {
        Signing {
            endpoint_url: "http://127.0.0.1:4566",
            key: b"key",
        }
    }

    fn message() -> Notification {
        Notification {
            message_id: "m-1".into(),
            topic_arn: "arn:aws:sns:us-east-1:123456789012:orders".into(),
            subject: None,
            message: "hello".into(),
            timestamp: timestamp(1_335_920_046_655),
            attributes: BTreeMap::from([(
                "kind".to_owned(),
                MessageAttribute {
                    data_type: "String".into(),
                    string_value: Some("book".into()),
                    binary_value: None,
                },
            )]),
            group_id: None,
            deduplication_id: None,
        }
    }

    #[test]
    fn the_envelope_has_sns_fields_in_sns_order() {
        let envelope = notification(
            &message(),
            None,
            "arn:aws:sns:us-east-1:123456789012:orders:s",
            signing(),
        );
        let keys: Vec<&str> = envelope.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "Type",
                "MessageId",
                "TopicArn",
                "Message",
                "Timestamp",
                "SignatureVersion",
                "Signature",
                "SigningCertURL",
                "UnsubscribeURL",
                "MessageAttributes"
            ]
        );
        assert_eq!(envelope["Timestamp"], "2012-05-02T00:54:06.655Z");
        assert_eq!(
            envelope["MessageAttributes"]["kind"],
            json!({"Type": "String", "Value": "book"})
        );
        assert_eq!(
            envelope["UnsubscribeURL"],
            "http://127.0.0.1:4566/?Action=Unsubscribe&SubscriptionArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aorders%3As"
        );
        let numbered = notification(&message(), Some(7), "s", signing());
        assert_eq!(numbered["SequenceNumber"], "00000000000000000007");
    }

    #[test]
    fn the_lambda_event_is_records_of_sns() {
        let event = lambda_event(&message(), "arn:sub", signing());
        let record = &event["Records"][0];
        assert_eq!(record["EventSource"], "aws:sns");
        assert_eq!(record["EventSubscriptionArn"], "arn:sub");
        assert_eq!(record["Sns"]["Subject"], Value::Null);
        assert_eq!(record["Sns"]["Message"], "hello");
        assert!(record["Sns"]["SigningCertUrl"].as_str().unwrap().ends_with(".pem"));
        assert_eq!(record["Sns"]["MessageAttributes"]["kind"]["Value"], "book");
    }

    #[test]
    fn the_confirmation_links_to_confirm_subscription() {
        let request = confirmation("m", "arn:aws:sns:us-east-1:1:t", "tok en", "now", signing());
        assert_eq!(request["Type"], "SubscriptionConfirmation");
        assert_eq!(
            request["SubscribeURL"],
            "http://127.0.0.1:4566/?Action=ConfirmSubscription&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Token=tok%20en"
        );
    }
}
