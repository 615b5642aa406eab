//! Receipt handles and what they do: `DeleteMessage(Batch)` and
//! `ChangeMessageVisibility(Batch)`.
//!
//! A handle names one receive of one message: the queue, the message's row and the receive count
//! that receive left. As on SQS, deleting with a handle of an earlier receive succeeds without
//! deleting (the message was received again since); a handle that is not one this server gave
//! out, or one of another queue, is `ReceiptHandleIsInvalid`.

use base64::Engine;
use sluice_store::queues::{Deletion, Receipt, VisibilityChange, VisibilityChanged};

use crate::batch::{self, BatchEntry, BatchOutcome};
use crate::error::{Code, Error, Result};
use crate::{Queues, from_store};

const HANDLE_PREFIX: &str = "sluice-receipt";

/// The handle of one receive.
pub(crate) fn encode_handle(queue_id: i64, receipt: Receipt) -> String {
    let text = format!(
        "{HANDLE_PREFIX}:{queue_id}:{}:{}",
        receipt.message, receipt.receive_count
    );
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The receipt a handle names, if it is one of this queue's.
fn decode_handle(queue_id: i64, handle: &str) -> Result<Receipt> {
    let invalid = || {
        Error::new(
            Code::ReceiptHandleIsInvalid,
            format!("The input receipt handle \"{handle}\" is not a valid receipt handle."),
        )
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(handle)
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.split(':');
    let (Some(HANDLE_PREFIX), Some(queue), Some(message), Some(count), None) =
        (parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    let (Ok(queue), Ok(message), Ok(receive_count)) = (queue.parse::<i64>(), message.parse(), count.parse()) else {
        return Err(invalid());
    };
    if queue != queue_id {
        return Err(invalid());
    }
    Ok(Receipt { message, receive_count })
}

/// A visibility change to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeVisibility {
    /// The receipt handle.
    pub receipt_handle: String,
    /// Seconds from now (0–43200).
    pub visibility_timeout: i64,
}

impl Queues {
    /// `DeleteMessage`.
    pub async fn delete_message(&self, name: &str, receipt_handle: &str) -> Result<()> {
        let queue = self.message_queue(name).await?;
        let receipt = decode_handle(queue.id, receipt_handle)?;
        let results = self
            .store()
            .delete_messages(queue.id, vec![receipt])
            .await
            .map_err(from_store)?;
        if queue.fifo && results.contains(&Deletion::Deleted) {
            self.wake(queue.id);
        }
        Ok(())
    }

    /// `DeleteMessageBatch`: entries are receipt handles.
    pub async fn delete_message_batch(&self, name: &str, entries: Vec<BatchEntry<String>>) -> Result<BatchOutcome<()>> {
        batch::check(&entries, "DeleteMessageBatchRequestEntry")?;
        let queue = self.message_queue(name).await?;
        let mut outcome = BatchOutcome::default();
        let mut accepted = Vec::new();
        for entry in &entries {
            match decode_handle(queue.id, &entry.entry) {
                Ok(receipt) => accepted.push((entry.id.clone(), receipt)),
                Err(error) => outcome.fail(&entry.id, error)?,
            }
        }
        if !accepted.is_empty() {
            let receipts = accepted.iter().map(|(_, receipt)| *receipt).collect();
            let results = self
                .store()
                .delete_messages(queue.id, receipts)
                .await
                .map_err(from_store)?;
            if queue.fifo && results.contains(&Deletion::Deleted) {
                self.wake(queue.id);
            }
            outcome.successful = accepted.into_iter().map(|(id, _)| (id, ())).collect();
        }
        Ok(outcome)
    }

    /// `ChangeMessageVisibility`.
    pub async fn change_message_visibility(&self, name: &str, change: ChangeVisibility) -> Result<()> {
        let outcome = self
            .change_visibility_of(
                name,
                vec![BatchEntry {
                    id: "only".into(),
                    entry: change,
                }],
            )
            .await?;
        match outcome.failed.into_iter().next() {
            Some(failure) => Err(Error::new(failure.code, failure.message)),
            None => Ok(()),
        }
    }

    /// `ChangeMessageVisibilityBatch`.
    pub async fn change_message_visibility_batch(
        &self,
        name: &str,
        entries: Vec<BatchEntry<ChangeVisibility>>,
    ) -> Result<BatchOutcome<()>> {
        batch::check(&entries, "ChangeMessageVisibilityBatchRequestEntry")?;
        self.change_visibility_of(name, entries).await
    }

    async fn change_visibility_of(
        &self,
        name: &str,
        entries: Vec<BatchEntry<ChangeVisibility>>,
    ) -> Result<BatchOutcome<()>> {
        let queue = self.message_queue(name).await?;
        let now = self.now();
        let mut outcome = BatchOutcome::default();
        let mut accepted = Vec::new();
        for entry in &entries {
            let checked = decode_handle(queue.id, &entry.entry.receipt_handle).and_then(|receipt| {
                let timeout = entry.entry.visibility_timeout;
                if !(0..=43_200).contains(&timeout) {
                    return Err(Error::invalid(
                        "VisibilityTimeout",
                        timeout,
                        "Must be >= 0 and <= 43200, if provided.",
                    ));
                }
                Ok(VisibilityChange {
                    receipt,
                    visible_until_millis: now + timeout * 1000,
                })
            });
            match checked {
                Ok(change) => accepted.push((entry, change)),
                Err(error) => outcome.fail(&entry.id, error)?,
            }
        }
        if accepted.is_empty() {
            return Ok(outcome);
        }
        let changes = accepted.iter().map(|(_, change)| *change).collect();
        let results = self
            .store()
            .change_visibility(queue.id, changes, now)
            .await
            .map_err(from_store)?;
        for ((entry, _), result) in accepted.into_iter().zip(results) {
            match result {
                VisibilityChanged::Changed => outcome.successful.push((entry.id.clone(), ())),
                VisibilityChanged::NotInFlight => outcome.fail(
                    &entry.id,
                    Error::new(
                        Code::MessageNotInflight,
                        format!(
                            "Value {} for parameter ReceiptHandle is invalid. Reason: Message is not in flight.",
                            entry.entry.receipt_handle
                        ),
                    ),
                )?,
                VisibilityChanged::Stale => outcome.fail(
                    &entry.id,
                    Error::invalid(
                        "ReceiptHandle",
                        &entry.entry.receipt_handle,
                        "Message does not exist or is not available for visibility timeout change.",
                    ),
                )?,
            }
        }
        self.wake(queue.id);
        let order = |id: &str| entries.iter().position(|entry| entry.id == id).unwrap_or(usize::MAX);
        outcome.failed.sort_by_key(|failure| order(&failure.id));
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_round_trip_and_bad_ones_are_invalid() {
        let receipt = Receipt {
            message: 42,
            receive_count: 3,
        };
        let handle = encode_handle(7, receipt);
        assert_eq!(decode_handle(7, &handle).unwrap(), receipt);
        for bad in [handle.as_str(), "nonsense", "", "c2x1aWNlLXJlY2VpcHQ6Nzp4OjE="] {
            let queue = if bad == handle { 8 } else { 7 };
            let error = decode_handle(queue, bad).unwrap_err();
            assert_eq!(error.code(), Some(Code::ReceiptHandleIsInvalid), "{bad}");
        }
    }
}
