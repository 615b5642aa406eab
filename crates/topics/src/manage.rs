//! Topics themselves: `CreateTopic` (idempotent by name), `DeleteTopic`, `ListTopics` (pages of
//! 100), `GetTopicAttributes` and `SetTopicAttributes`.

use std::collections::BTreeMap;

use serde_json::json;
use sluice_store::topics::TopicRecord;

use crate::attributes::{asks_for_fifo, check_topic_attribute, valid_topic_name};
use crate::{Error, Result, Topics, from_store};

/// Topics per `ListTopics` page, as SNS.
const PAGE: usize = 100;

/// A page of `ListTopics`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTopics {
    /// Topic ARNs.
    pub arns: Vec<String>,
    /// The token of the next page.
    pub next_token: Option<String>,
}

/// A topic's attributes as `GetTopicAttributes` answers them.
pub type TopicAttributes = BTreeMap<String, String>;

/// Whether a stored topic is FIFO.
pub(crate) fn is_fifo(topic: &TopicRecord) -> bool {
    asks_for_fifo(&topic.attributes)
}

impl Topics {
    /// `CreateTopic`: the ARN of the new topic, or of the existing one of that name when the
    /// attributes given agree with it.
    pub async fn create_topic(&self, name: &str, attributes: &BTreeMap<String, String>) -> Result<String> {
        let fifo = asks_for_fifo(attributes);
        if !valid_topic_name(name, fifo) {
            return Err(Error::invalid(if fifo || name.ends_with(".fifo") {
                "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long."
            } else {
                "Topic Name"
            }));
        }
        for (key, value) in attributes {
            check_topic_attribute(key, value, fifo, true)?;
        }
        let mut stored_attributes = attributes.clone();
        if let Some(value) = stored_attributes.get_mut("FifoTopic") {
            *value = value.to_ascii_lowercase();
        }
        if !fifo {
            stored_attributes.remove("FifoTopic");
        }
        let record = TopicRecord {
            name: name.to_owned(),
            arn: self.topic_arn(name),
            attributes: stored_attributes.clone(),
            created_millis: self.now(),
        };
        let stored = self.store().create_topic(record).await?;
        let differs = stored_attributes
            .iter()
            .any(|(key, value)| stored.attributes.get(key) != Some(value));
        if differs {
            return Err(Error::invalid(
                "Attributes Reason: Topic already exists with different attributes",
            ));
        }
        Ok(stored.arn)
    }

    /// `DeleteTopic`: deleting a topic that does not exist succeeds, as in SNS.
    pub async fn delete_topic(&self, arn: &str) -> Result<()> {
        let name = crate::topic_name_of(arn).ok_or_else(|| Error::invalid("TopicArn"))?;
        self.store().delete_topic(name).await?;
        Ok(())
    }

    /// `ListTopics`: one page, after the token's topic.
    pub async fn list_topics(&self, next_token: Option<&str>) -> Result<ListedTopics> {
        let after = next_token.filter(|token| !token.is_empty());
        let mut topics = self.store().list_topics(after, PAGE + 1).await?;
        let next_token = if topics.len() > PAGE {
            topics.truncate(PAGE);
            topics.last().map(|topic| topic.name.clone())
        } else {
            None
        };
        Ok(ListedTopics {
            arns: topics.into_iter().map(|topic| topic.arn).collect(),
            next_token,
        })
    }

    /// `GetTopicAttributes`: what was set, and what SNS derives (owner, default policies,
    /// subscription counts).
    pub async fn get_topic_attributes(&self, arn: &str) -> Result<TopicAttributes> {
        let topic = self.topic_of(arn, "TopicArn").await?;
        let subscriptions = self
            .store()
            .list_subscriptions(Some(topic.name.as_str()), None, usize::MAX >> 1)
            .await?;
        let pending = subscriptions.iter().filter(|subscription| subscription.pending).count();
        let account = &self.options().account;
        let mut attributes = BTreeMap::new();
        attributes.insert("TopicArn".to_owned(), topic.arn.clone());
        attributes.insert("Owner".to_owned(), account.clone());
        attributes.insert("DisplayName".to_owned(), String::new());
        attributes.insert("Policy".to_owned(), default_policy(&topic.arn, account));
        attributes.insert(
            "SubscriptionsConfirmed".to_owned(),
            (subscriptions.len() - pending).to_string(),
        );
        attributes.insert("SubscriptionsPending".to_owned(), pending.to_string());
        attributes.insert("SubscriptionsDeleted".to_owned(), "0".to_owned());
        attributes.insert("EffectiveDeliveryPolicy".to_owned(), default_delivery_policy());
        if is_fifo(&topic) {
            attributes.insert("FifoTopic".to_owned(), "true".to_owned());
            attributes.insert("ContentBasedDeduplication".to_owned(), "false".to_owned());
        }
        for (key, value) in &topic.attributes {
            attributes.insert(key.clone(), value.clone());
        }
        if let Some(policy) = topic.attributes.get("DeliveryPolicy") {
            attributes.insert("EffectiveDeliveryPolicy".to_owned(), policy.clone());
        }
        Ok(attributes)
    }

    /// `SetTopicAttributes`: one attribute.
    pub async fn set_topic_attribute(&self, arn: &str, name: &str, value: Option<&str>) -> Result<()> {
        let topic = self.topic_of(arn, "TopicArn").await?;
        let value = value.unwrap_or_default();
        let fifo = is_fifo(&topic);
        check_topic_attribute(name, value, fifo, false)?;
        let mut attributes = topic.attributes.clone();
        attributes.insert(name.to_owned(), value.to_owned());
        self.store()
            .set_topic_attributes(&topic.name, attributes)
            .await
            .map_err(from_store)
    }
}

fn default_policy(topic_arn: &str, account: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": [
                "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                "SNS:ListSubscriptionsByTopic", "SNS:Publish"
            ],
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
        }]
    })
    .to_string()
}

fn default_delivery_policy() -> String {
    json!({
        "http": {
            "defaultHealthyRetryPolicy": {
                "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3,
                "numMaxDelayRetries": 0, "numNoDelayRetries": 0, "numMinDelayRetries": 0,
                "backoffFunction": "linear"
            },
            "disableSubscriptionOverrides": false,
            "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}
        }
    })
    .to_string()
}
