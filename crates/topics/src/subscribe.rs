//! Subscriptions: `Subscribe` (idempotent by topic, protocol and endpoint; HTTP endpoints wait
//! for `ConfirmSubscription`), `Unsubscribe`, `ListSubscriptions`, `ListSubscriptionsByTopic`,
//! and `Get`/`SetSubscriptionAttributes`.

use std::collections::BTreeMap;

use sluice_store::topics::{SubscriptionRecord, TopicDelivery};

use crate::attributes::{check_endpoint, check_subscription_attributes};
use crate::envelope::{Payload, timestamp};
use crate::manage::is_fifo;
use crate::{Error, Result, Topics, from_store};

/// Subscriptions per list page, as SNS.
const PAGE: usize = 100;

/// What `Subscribe` takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeRequest {
    /// The topic's ARN.
    pub topic_arn: String,
    /// The protocol.
    pub protocol: String,
    /// The endpoint.
    pub endpoint: Option<String>,
    /// Attributes to set.
    pub attributes: BTreeMap<String, String>,
    /// Answer the ARN even while the subscription waits for confirmation.
    pub return_subscription_arn: bool,
}

/// What `Subscribe` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribed {
    /// The subscription's ARN, or `pending confirmation`.
    pub subscription_arn: String,
}

/// A page of `ListSubscriptions` or `ListSubscriptionsByTopic`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedSubscriptions {
    /// The subscriptions (a pending one's ARN reads `PendingConfirmation`).
    pub subscriptions: Vec<SubscriptionRecord>,
    /// The token of the next page.
    pub next_token: Option<String>,
}

impl Topics {
    /// `Subscribe`.
    pub async fn subscribe(&self, request: SubscribeRequest) -> Result<Subscribed> {
        let topic = self.topic_of(&request.topic_arn, "TopicArn").await?;
        let fifo = is_fifo(&topic);
        let protocol = request.protocol.to_ascii_lowercase();
        let endpoint = request
            .endpoint
            .filter(|endpoint| !endpoint.is_empty())
            .ok_or_else(|| Error::invalid("Endpoint Reason: an endpoint is required"))?;
        check_endpoint(&protocol, &endpoint, fifo)?;
        check_subscription_attributes(&request.attributes, &protocol, fifo)?;
        let pending = matches!(protocol.as_str(), "http" | "https");
        let token = pending.then(|| format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()));
        let now = self.now();
        let record = SubscriptionRecord {
            arn: format!("{}:{}", topic.arn, uuid::Uuid::new_v4()),
            topic: topic.name.clone(),
            protocol: protocol.clone(),
            endpoint,
            attributes: request.attributes.clone(),
            pending,
            token: token.clone(),
            created_millis: now,
        };
        let confirmation = token.as_ref().map(|token| {
            let payload = Payload::SubscriptionConfirmation {
                message_id: uuid::Uuid::new_v4().to_string(),
                topic_arn: topic.arn.clone(),
                token: token.clone(),
                timestamp: timestamp(now),
            };
            TopicDelivery {
                id: uuid::Uuid::new_v4().to_string(),
                subscription_arn: record.arn.clone(),
                ordering_key: None,
                payload: serde_json::to_string(&payload).unwrap_or_default(),
                sequence_number: None,
                published_millis: now,
                due_millis: now,
                attempts: 0,
                lease_until_millis: 0,
            }
        });
        let stored = self.store().subscribe(record, confirmation).await.map_err(from_store)?;
        if stored.attributes != request.attributes && !request.attributes.is_empty() {
            return Err(Error::invalid(
                "Attributes Reason: Subscription already exists with different attributes",
            ));
        }
        self.inner.wake.notify_one();
        let subscription_arn = if stored.pending && !request.return_subscription_arn {
            "pending confirmation".to_owned()
        } else {
            stored.arn
        };
        Ok(Subscribed { subscription_arn })
    }

    /// `ConfirmSubscription`: the subscription of `topic_arn` whose token this is.
    pub async fn confirm_subscription(&self, topic_arn: &str, token: &str) -> Result<String> {
        let topic = self.topic_of(topic_arn, "TopicArn").await?;
        let subscriptions = self
            .store()
            .list_subscriptions(Some(topic.name.as_str()), None, usize::MAX >> 1)
            .await?;
        let found = subscriptions
            .into_iter()
            .find(|subscription| subscription.token.as_deref() == Some(token))
            .ok_or_else(|| Error::invalid("Token"))?;
        if found.pending {
            let mut confirmed = found.clone();
            confirmed.pending = false;
            self.store().update_subscription(confirmed).await.map_err(from_store)?;
        }
        Ok(found.arn)
    }

    /// `Unsubscribe`: unsubscribing a subscription that does not exist succeeds, as in SNS.
    pub async fn unsubscribe(&self, subscription_arn: &str) -> Result<()> {
        check_subscription_arn(subscription_arn)?;
        self.store().unsubscribe(subscription_arn).await?;
        Ok(())
    }

    /// `ListSubscriptions` (`topic_arn` none) or `ListSubscriptionsByTopic`.
    pub async fn list_subscriptions(
        &self,
        topic_arn: Option<&str>,
        next_token: Option<&str>,
    ) -> Result<ListedSubscriptions> {
        let topic = match topic_arn {
            Some(arn) => Some(self.topic_of(arn, "TopicArn").await?.name),
            None => None,
        };
        let after = next_token.filter(|token| !token.is_empty());
        let mut subscriptions = self
            .store()
            .list_subscriptions(topic.as_deref(), after, PAGE + 1)
            .await?;
        let next_token = if subscriptions.len() > PAGE {
            subscriptions.truncate(PAGE);
            subscriptions.last().map(|subscription| subscription.arn.clone())
        } else {
            None
        };
        Ok(ListedSubscriptions {
            subscriptions,
            next_token,
        })
    }

    /// `GetSubscriptionAttributes`.
    pub async fn get_subscription_attributes(&self, subscription_arn: &str) -> Result<BTreeMap<String, String>> {
        let subscription = self.subscription(subscription_arn).await?;
        let mut attributes = BTreeMap::new();
        attributes.insert("SubscriptionArn".to_owned(), subscription.arn.clone());
        attributes.insert("TopicArn".to_owned(), self.topic_arn(&subscription.topic));
        attributes.insert("Owner".to_owned(), self.options().account.clone());
        attributes.insert("Protocol".to_owned(), subscription.protocol.clone());
        attributes.insert("Endpoint".to_owned(), subscription.endpoint.clone());
        attributes.insert("PendingConfirmation".to_owned(), subscription.pending.to_string());
        attributes.insert("ConfirmationWasAuthenticated".to_owned(), "true".to_owned());
        attributes.insert("RawMessageDelivery".to_owned(), "false".to_owned());
        attributes.insert(
            "SubscriptionPrincipal".to_owned(),
            format!("arn:aws:iam::{}:root", self.options().account),
        );
        for (key, value) in &subscription.attributes {
            attributes.insert(key.clone(), value.clone());
        }
        if attributes.contains_key("FilterPolicy") && !attributes.contains_key("FilterPolicyScope") {
            attributes.insert("FilterPolicyScope".to_owned(), "MessageAttributes".to_owned());
        }
        Ok(attributes)
    }

    /// `SetSubscriptionAttributes`: one attribute; an empty `FilterPolicy` removes the policy.
    pub async fn set_subscription_attribute(
        &self,
        subscription_arn: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<()> {
        let mut subscription = self.subscription(subscription_arn).await?;
        let fifo = self
            .store()
            .topic(&subscription.topic)
            .await?
            .as_ref()
            .is_some_and(is_fifo);
        let value = value.unwrap_or_default();
        let mut attributes = subscription.attributes.clone();
        if name == "FilterPolicy" && value.is_empty() {
            attributes.remove("FilterPolicy");
        } else {
            attributes.insert(name.to_owned(), value.to_owned());
        }
        check_subscription_attributes(&attributes, &subscription.protocol, fifo)?;
        subscription.attributes = attributes;
        self.store().update_subscription(subscription).await.map_err(from_store)
    }

    pub(crate) async fn subscription(&self, arn: &str) -> Result<SubscriptionRecord> {
        check_subscription_arn(arn)?;
        self.store()
            .subscription(arn)
            .await?
            .ok_or_else(|| Error::not_found("Subscription does not exist"))
    }
}

/// A subscription ARN: the topic's ARN and one more part.
fn check_subscription_arn(arn: &str) -> Result<()> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() == 7 && parts[0] == "arn" && parts[2] == "sns" && !parts[6].is_empty() {
        Ok(())
    } else {
        Err(Error::invalid("SubscriptionArn"))
    }
}
