//! Queues declared by an app (`[queues.NAME]` in `sluice.toml`): checked all together first, so
//! that a deployment with a bad queue changes nothing, then created or brought to the declared
//! attributes.

use std::collections::BTreeMap;

use crate::attributes::{self, RedrivePolicy};
use crate::error::{Error, Result};
use crate::manage::check_name;
use crate::{Queues, from_store};

/// A queue an app declares: its name and the attributes it sets. A name ending in `.fifo`
/// makes a FIFO queue without `FifoQueue = true`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredQueue {
    /// The name.
    pub name: String,
    /// Attributes by AWS name.
    pub attributes: BTreeMap<String, String>,
}

impl DeclaredQueue {
    fn fifo(&self) -> bool {
        self.name.ends_with(".fifo")
    }

    /// The attributes with `FifoQueue` implied by the name.
    fn create_attributes(&self) -> BTreeMap<String, String> {
        let mut attributes = self.attributes.clone();
        if self.fifo() {
            attributes
                .entry("FifoQueue".to_owned())
                .or_insert_with(|| "true".to_owned());
        }
        attributes
    }
}

impl Queues {
    /// Checks declared queues without changing anything: names, attributes, and that each
    /// redrive policy names a queue that exists or is declared, of the same type. Errors name
    /// the queue.
    pub async fn check_declared(&self, declared: &[DeclaredQueue]) -> Result<()> {
        for queue in declared {
            let fail = |error: Error| match error {
                Error::Sqs { code, message } => Error::new(code, format!("queues.{}: {message}", queue.name)),
                other => other,
            };
            let attributes = queue.create_attributes();
            let fifo = queue.fifo();
            check_name(&queue.name, fifo).map_err(fail)?;
            let existing = self.store().queue(&queue.name).await?;
            if let Some(existing) = &existing
                && existing.fifo != fifo
            {
                return Err(fail(Error::invalid(
                    "FifoQueue",
                    fifo,
                    "Modifying queue type is not supported.",
                )));
            }
            let checked = attributes::check(&attributes, fifo, true).map_err(fail)?;
            if let Some(text) = checked.get("RedrivePolicy").filter(|text| !text.is_empty()) {
                let policy = RedrivePolicy::parse(text)
                    .map_err(|reason| fail(Error::invalid("RedrivePolicy", text, &reason)))?;
                let target = policy.dead_letter_queue_name();
                let target_fifo = match declared.iter().find(|other| other.name == target) {
                    Some(other) => Some(other.fifo()),
                    None => self.store().queue(target).await?.map(|found| found.fifo),
                };
                match target_fifo {
                    None => {
                        return Err(fail(Error::invalid(
                            "RedrivePolicy",
                            text,
                            "Dead letter target does not exist.",
                        )));
                    }
                    Some(target_fifo) if target_fifo != fifo => {
                        return Err(fail(Error::invalid(
                            "RedrivePolicy",
                            text,
                            "Dead-letter queue must be same type of queue as the source.",
                        )));
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(())
    }

    /// Creates the declared queues that do not exist and sets the declared attributes of those
    /// that do; dead-letter queues first. Call [`Queues::check_declared`] first. Answers the
    /// names.
    pub async fn deploy_declared(&self, declared: &[DeclaredQueue]) -> Result<Vec<String>> {
        let mut ordered: Vec<&DeclaredQueue> = declared.iter().collect();
        ordered.sort_by_key(|queue| queue.attributes.contains_key("RedrivePolicy"));
        let mut names = Vec::new();
        for queue in ordered {
            match self.store().queue(&queue.name).await? {
                None => {
                    self.create_queue(&queue.name, &queue.create_attributes(), &BTreeMap::new())
                        .await?;
                }
                Some(existing) => {
                    let mut changed = queue.attributes.clone();
                    changed.remove("FifoQueue");
                    changed.retain(|key, value| existing.attributes.get(key) != Some(value));
                    if !changed.is_empty() {
                        self.set_queue_attributes(&queue.name, &changed)
                            .await
                            .map_err(|error| match error {
                                Error::Store(error) => from_store(error),
                                other => other,
                            })?;
                    }
                }
            }
            names.push(queue.name.clone());
        }
        Ok(names)
    }
}
