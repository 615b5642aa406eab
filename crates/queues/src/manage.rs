//! Queue management: create (idempotent for the same attributes), look up, describe, change,
//! list, tag, purge and delete.

use std::collections::BTreeMap;

use base64::Engine;
use sluice_store::queues::{NewQueue, QueueCreated, QueueRecord, QueueUpdate};

use crate::attributes::{self, Config, RedrivePolicy};
use crate::error::{Code, Error, Result};
use crate::{Queues, from_store};

/// How long after a purge another purge of the same queue is refused.
const PURGE_INTERVAL_MILLIS: i64 = 60_000;

/// The most tags a queue has.
const MAX_TAGS: usize = 50;

/// A page of `ListQueues`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedQueues {
    /// Queue names, in name order.
    pub names: Vec<String>,
    /// The token of the next page, when there is one (only when a maximum was asked for).
    pub next_token: Option<String>,
}

/// A queue as `GetQueueAttributes` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDescription {
    /// The queue's name.
    pub name: String,
    /// The attributes asked for.
    pub attributes: BTreeMap<String, String>,
}

impl Queues {
    /// `CreateQueue`: creates a queue, or answers the existing one when every attribute given
    /// matches it (`QueueNameExists` otherwise). A FIFO queue is asked for with `FifoQueue=true`
    /// and a name ending in `.fifo`.
    pub async fn create_queue(
        &self,
        name: &str,
        given: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<QueueRecord> {
        let fifo = given
            .get("FifoQueue")
            .is_some_and(|value| value.eq_ignore_ascii_case("true"));
        check_name(name, fifo)?;
        let checked = attributes::check(given, fifo, true)?;
        check_tags(tags)?;
        self.check_redrive(&checked, fifo).await?;
        let mut attributes = attributes::defaults(fifo);
        attributes.extend(checked.clone());
        let created = self
            .store()
            .create_queue(NewQueue {
                name: name.to_owned(),
                fifo,
                attributes,
                tags: tags.clone(),
                now_millis: self.now(),
            })
            .await?;
        self.forget(name);
        match created {
            QueueCreated::New(queue) => Ok(queue),
            QueueCreated::Existing(queue) => {
                let differs = checked
                    .iter()
                    .find(|(key, value)| queue.attributes.get(*key).unwrap_or(&String::new()) != *value);
                if let Some((key, _)) = differs {
                    return Err(Error::new(
                        Code::QueueNameExists,
                        format!("A queue already exists with the same name and a different value for attribute {key}"),
                    ));
                }
                Ok(queue)
            }
        }
    }

    /// `GetQueueUrl`: the queue of that name, or `QueueDoesNotExist`.
    pub async fn get_queue(&self, name: &str) -> Result<QueueRecord> {
        self.queue(name).await
    }

    /// `GetQueueAttributes`: the attributes named (`All` for every one), with the computed
    /// ones (message counts, timestamps in seconds, the ARN).
    pub async fn get_queue_attributes(&self, name: &str, names: &[String]) -> Result<QueueDescription> {
        if let Some(unknown) = names.iter().find(|wanted| !attributes::readable(wanted)) {
            return Err(Error::new(
                Code::InvalidAttributeName,
                format!("Unknown Attribute {unknown}."),
            ));
        }
        let queue = self.queue(name).await?;
        let all = names.iter().any(|wanted| wanted == "All");
        let wanted = |key: &str| all || names.iter().any(|wanted| wanted == key);
        let mut shown: BTreeMap<String, String> = queue
            .attributes
            .iter()
            .filter(|(key, value)| wanted(key) && !value.is_empty())
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        if attributes::COMPUTED.iter().any(|key| wanted(key)) {
            let counts = self
                .store()
                .queue_counts(queue.id, self.now())
                .await
                .map_err(from_store)?;
            let computed = [
                ("ApproximateNumberOfMessages", counts.visible.to_string()),
                ("ApproximateNumberOfMessagesNotVisible", counts.in_flight.to_string()),
                ("ApproximateNumberOfMessagesDelayed", counts.delayed.to_string()),
                ("CreatedTimestamp", (queue.created_millis / 1000).to_string()),
                ("LastModifiedTimestamp", (queue.modified_millis / 1000).to_string()),
                ("QueueArn", self.arn(&queue.name)),
            ];
            for (key, value) in computed {
                if wanted(key) {
                    shown.insert(key.to_owned(), value);
                }
            }
        }
        Ok(QueueDescription {
            name: queue.name,
            attributes: shown,
        })
    }

    /// `SetQueueAttributes`. A new retention period applies to the messages already queued.
    pub async fn set_queue_attributes(&self, name: &str, given: &BTreeMap<String, String>) -> Result<()> {
        let queue = self.queue(name).await?;
        let checked = attributes::check(given, queue.fifo, false)?;
        self.check_redrive(&checked, queue.fifo).await?;
        let retention_millis = checked
            .get("MessageRetentionPeriod")
            .filter(|value| queue.attributes.get("MessageRetentionPeriod") != Some(*value))
            .and_then(|value| value.parse::<i64>().ok())
            .map(|seconds| seconds * 1000);
        let mut attributes = queue.attributes.clone();
        attributes.extend(checked);
        self.store()
            .update_queue(QueueUpdate {
                queue_id: queue.id,
                attributes,
                retention_millis,
                now_millis: self.now(),
            })
            .await
            .map_err(from_store)?;
        self.forget(name);
        self.wake(queue.id);
        Ok(())
    }

    /// `ListQueues`: names starting with `prefix`, in name order; pages of `max_results`
    /// (1–1000) when given, else up to 1000 and no token.
    pub async fn list_queues(
        &self,
        prefix: Option<&str>,
        max_results: Option<i64>,
        next_token: Option<&str>,
    ) -> Result<ListedQueues> {
        if let Some(max) = max_results
            && !(1..=1000).contains(&max)
        {
            return Err(Error::invalid(
                "MaxResults",
                max,
                "MaxResults must be an integer between 1 and 1000.",
            ));
        }
        let after = match next_token {
            None => None,
            Some(token) => Some(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(token)
                    .ok()
                    .and_then(|bytes| String::from_utf8(bytes).ok())
                    .ok_or_else(|| Error::invalid("NextToken", token, "Invalid NextToken value."))?,
            ),
        };
        let limit = max_results.unwrap_or(1000) as usize;
        let mut queues = self
            .store()
            .list_queues(prefix.unwrap_or_default(), after.as_deref(), limit + 1)
            .await?;
        let more = queues.len() > limit;
        queues.truncate(limit);
        let next_token = match (more, max_results, queues.last()) {
            (true, Some(_), Some(last)) => {
                Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.name.as_bytes()))
            }
            _ => None,
        };
        Ok(ListedQueues {
            names: queues.into_iter().map(|queue| queue.name).collect(),
            next_token,
        })
    }

    /// `DeleteQueue`: the queue and its messages go at once.
    pub async fn delete_queue(&self, name: &str) -> Result<()> {
        let queue = self.queue(name).await?;
        let deleted = self.store().delete_queue(queue.id).await.map_err(from_store);
        self.forget(name);
        deleted?;
        self.wake(queue.id);
        Ok(())
    }

    /// `PurgeQueue`: deletes every message; once per 60 seconds per queue.
    pub async fn purge_queue(&self, name: &str) -> Result<()> {
        let queue = self.queue(name).await?;
        let now = self.now();
        {
            let mut purges = self
                .inner
                .purges
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(last) = purges.get(&queue.id)
                && now - last < PURGE_INTERVAL_MILLIS
            {
                return Err(Error::new(
                    Code::PurgeQueueInProgress,
                    format!("Only one PurgeQueue operation on {name} is allowed every 60 seconds."),
                ));
            }
            purges.insert(queue.id, now);
        }
        self.store().purge_queue(queue.id).await.map_err(from_store)
    }

    /// `TagQueue`: adds or replaces tags.
    pub async fn tag_queue(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<()> {
        let queue = self.queue(name).await?;
        let mut merged = queue.tags.clone();
        merged.extend(tags.clone());
        check_tags(&merged)?;
        self.store().set_queue_tags(queue.id, merged).await.map_err(from_store)
    }

    /// `UntagQueue`: removes tags by key.
    pub async fn untag_queue(&self, name: &str, keys: &[String]) -> Result<()> {
        let queue = self.queue(name).await?;
        let mut tags = queue.tags.clone();
        for key in keys {
            tags.remove(key);
        }
        self.store().set_queue_tags(queue.id, tags).await.map_err(from_store)
    }

    /// `ListQueueTags`.
    pub async fn list_queue_tags(&self, name: &str) -> Result<BTreeMap<String, String>> {
        Ok(self.queue(name).await?.tags)
    }

    /// `ListDeadLetterSourceQueues`: the queues whose redrive policy names this one.
    pub async fn list_dead_letter_source_queues(&self, name: &str) -> Result<Vec<String>> {
        let queue = self.queue(name).await?;
        let arn = self.arn(&queue.name);
        let mut sources = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = self.store().list_queues("", after.as_deref(), 500).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.name.clone());
            for candidate in page {
                if Config::of(&candidate.attributes)
                    .redrive
                    .is_some_and(|policy| policy.dead_letter_target_arn == arn)
                {
                    sources.push(candidate.name);
                }
            }
        }
        Ok(sources)
    }

    /// A redrive policy must name an existing queue of the same type.
    async fn check_redrive(&self, checked: &BTreeMap<String, String>, fifo: bool) -> Result<()> {
        let Some(text) = checked.get("RedrivePolicy").filter(|text| !text.is_empty()) else {
            return Ok(());
        };
        let policy = RedrivePolicy::parse(text).map_err(|reason| Error::invalid("RedrivePolicy", text, &reason))?;
        let target = self.store().queue(policy.dead_letter_queue_name()).await?;
        match target {
            None => Err(Error::invalid(
                "RedrivePolicy",
                text,
                "Dead letter target does not exist.",
            )),
            Some(target) if target.fifo != fifo => Err(Error::invalid(
                "RedrivePolicy",
                text,
                "Dead-letter queue must be same type of queue as the source.",
            )),
            Some(_) => Ok(()),
        }
    }
}

/// Queue names: 1–80 letters, digits, `-` and `_`; a FIFO queue's name ends with `.fifo`
/// (counted in the 80).
pub(crate) fn check_name(name: &str, fifo: bool) -> Result<()> {
    let base = if fifo { name.strip_suffix(".fifo") } else { Some(name) };
    let valid = base.is_some_and(|base| {
        !base.is_empty()
            && name.len() <= 80
            && base
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_'))
    });
    if valid {
        return Ok(());
    }
    if fifo || name.ends_with(".fifo") {
        return Err(Error::new(
            Code::InvalidParameterValue,
            "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end \
             with .fifo suffix and be 1 to 80 in length.",
        ));
    }
    Err(Error::new(
        Code::InvalidParameterValue,
        "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
    ))
}

fn check_tags(tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(Error::invalid(
            "Tags",
            tags.len(),
            &format!("A queue can have at most {MAX_TAGS} tags."),
        ));
    }
    if let Some((key, _)) = tags
        .iter()
        .find(|(key, value)| key.is_empty() || key.len() > 128 || value.len() > 256)
    {
        return Err(Error::invalid(
            "Tags",
            key,
            "Tag keys have 1 to 128 characters and values at most 256.",
        ));
    }
    Ok(())
}
