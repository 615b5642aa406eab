//! Topics declared in an app's manifest, `[topics.NAME]`:
//!
//! ```toml
//! [topics.orders]
//! attributes = { DisplayName = "Orders" }
//!
//! [[topics.orders.subscriptions]]
//! protocol = "sqs"
//! endpoint = "arn:aws:sqs:us-east-1:123456789012:orders-queue"
//! attributes = { RawMessageDelivery = "true", FilterPolicy = { kind = ["book"] } }
//! ```
//!
//! An attribute may be a string, a boolean or a number (written as SNS's text) or, for the
//! policies, a table or array (written as JSON). Every topic and subscription is checked before
//! anything is created; creating is idempotent, so a redeployment changes nothing that agrees.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::attributes::{
    asks_for_fifo, check_endpoint, check_subscription_attributes, check_topic_attribute, valid_topic_name,
};
use crate::subscribe::SubscribeRequest;
use crate::{Error, Result, Topics};

/// A topic as the manifest declares it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredTopic {
    /// The topic's attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, toml::Value>,
    /// Its subscriptions.
    #[serde(default)]
    pub subscriptions: Vec<DeclaredSubscription>,
}

/// A subscription as the manifest declares it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredSubscription {
    /// The protocol.
    pub protocol: String,
    /// The endpoint.
    pub endpoint: String,
    /// Its attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, toml::Value>,
}

/// A manifest value as SNS attribute text.
fn text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Boolean(boolean) => boolean.to_string(),
        toml::Value::Integer(number) => number.to_string(),
        toml::Value::Float(number) => number.to_string(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn texts(values: &BTreeMap<String, toml::Value>) -> BTreeMap<String, String> {
    values.iter().map(|(name, value)| (name.clone(), text(value))).collect()
}

/// Reads `[topics]` entries (as the engine's manifest keeps them, uninterpreted).
pub fn read(entries: &BTreeMap<String, toml::Value>) -> Result<BTreeMap<String, DeclaredTopic>> {
    entries
        .iter()
        .map(|(name, value)| {
            let topic = DeclaredTopic::deserialize(value.clone())
                .map_err(|error| Error::invalid(format!("topics.{name}: {error}")))?;
            Ok((name.clone(), topic))
        })
        .collect()
}

impl Topics {
    /// Checks declared topics without changing anything.
    pub fn check_declared(&self, declared: &BTreeMap<String, DeclaredTopic>) -> Result<()> {
        for (name, topic) in declared {
            let context = |error: Error| Error::invalid(format!("topics.{name}: {error}"));
            let attributes = texts(&topic.attributes);
            let fifo = asks_for_fifo(&attributes);
            if !valid_topic_name(name, fifo) {
                return Err(context(Error::invalid("Topic Name")));
            }
            for (key, value) in &attributes {
                check_topic_attribute(key, value, fifo, true).map_err(context)?;
            }
            for subscription in &topic.subscriptions {
                check_endpoint(&subscription.protocol, &subscription.endpoint, fifo).map_err(context)?;
                check_subscription_attributes(&texts(&subscription.attributes), &subscription.protocol, fifo)
                    .map_err(context)?;
            }
        }
        Ok(())
    }

    /// Creates declared topics and subscriptions (checked first); an existing topic takes the
    /// declared attributes, an existing subscription keeps its own. Answers the topic ARNs.
    pub async fn deploy_declared(&self, declared: &BTreeMap<String, DeclaredTopic>) -> Result<Vec<String>> {
        self.check_declared(declared)?;
        let mut arns = Vec::new();
        for (name, topic) in declared {
            let attributes = texts(&topic.attributes);
            let arn = match self.create_topic(name, &attributes).await {
                Ok(arn) => arn,
                Err(Error::Sns { .. }) => {
                    // It exists with other attributes: the manifest's win.
                    let arn = self.topic_arn(name);
                    for (key, value) in attributes.iter().filter(|(key, _)| key.as_str() != "FifoTopic") {
                        self.set_topic_attribute(&arn, key, Some(value)).await?;
                    }
                    arn
                }
                Err(other) => return Err(other),
            };
            for subscription in &topic.subscriptions {
                let request = SubscribeRequest {
                    topic_arn: arn.clone(),
                    protocol: subscription.protocol.clone(),
                    endpoint: Some(subscription.endpoint.clone()),
                    attributes: texts(&subscription.attributes),
                    return_subscription_arn: true,
                };
                match self.subscribe(request).await {
                    Ok(_) => {}
                    Err(Error::Sns { message, .. }) if message.contains("already exists") => {}
                    Err(error) => return Err(error),
                }
            }
            arns.push(arn);
        }
        Ok(arns)
    }
}
