//! Topics as an event bus target: a rule's target `arn:aws:sns:…` publishes the event (after the
//! target's input transformation) to the topic, as EventBridge does. A FIFO topic gets the
//! target's `SqsParameters.MessageGroupId` as the message group and the bus delivery's id as the
//! deduplication id, so a redelivered event is published once.

use std::sync::Arc;

use async_trait::async_trait;
use sluice_bus::{Sink, SinkMessage};

use crate::{PublishRequest, Topics, topic_name_of};

/// The bus's [`Sink`] for topic ARNs; other ARNs go to `others` (the queues' sink, say).
#[derive(Clone)]
pub struct TopicSink {
    topics: Topics,
    others: Option<Arc<dyn Sink>>,
}

impl std::fmt::Debug for TopicSink {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TopicSink")
            .field("others", &self.others.is_some())
            .finish_non_exhaustive()
    }
}

impl TopicSink {
    /// Publishes to `topics`; hands ARNs that are not topics to `others`.
    pub fn new(topics: Topics, others: Option<Arc<dyn Sink>>) -> TopicSink {
        TopicSink { topics, others }
    }
}

fn is_topic(arn: &str) -> bool {
    arn.starts_with("arn:aws:sns:") && topic_name_of(arn).is_some()
}

#[async_trait]
impl Sink for TopicSink {
    fn accepts(&self, arn: &str) -> bool {
        is_topic(arn) || self.others.as_ref().is_some_and(|others| others.accepts(arn))
    }

    async fn deliver(&self, message: SinkMessage<'_>) -> Result<(), String> {
        if !is_topic(message.arn) {
            return match &self.others {
                Some(others) => others.deliver(message).await,
                None => Err(format!("No service delivers to {}", message.arn)),
            };
        }
        let fifo = message.arn.ends_with(".fifo");
        let request = PublishRequest {
            topic_arn: Some(message.arn.to_owned()),
            message: Some(message.body.to_owned()),
            group_id: message.message_group_id.map(str::to_owned),
            deduplication_id: fifo.then(|| message.deduplication_id.to_owned()),
            ..PublishRequest::default()
        };
        self.topics
            .publish(request)
            .await
            .map(|_| ())
            .map_err(|error| error.to_string())
    }
}
