//! Batches: up to ten entries, each with an id unique in the batch; each entry succeeds or
//! fails on its own.

use std::collections::HashSet;

use crate::error::{Code, Error, Result};

/// One entry of a batch request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEntry<T> {
    /// The caller's id of the entry (1–80 letters, digits, `-`, `_`).
    pub id: String,
    /// The entry.
    pub entry: T,
}

/// An entry that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchFailure {
    /// The entry's id.
    pub id: String,
    /// Why.
    pub code: Code,
    /// What is wrong.
    pub message: String,
    /// Whether the caller is at fault.
    pub sender_fault: bool,
}

/// What a batch did: the entries that succeeded, with their results, and those that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome<T> {
    /// `(id, result)` of each entry that succeeded, in request order.
    pub successful: Vec<(String, T)>,
    /// Each entry that failed, in request order.
    pub failed: Vec<BatchFailure>,
}

impl<T> Default for BatchOutcome<T> {
    fn default() -> BatchOutcome<T> {
        BatchOutcome {
            successful: Vec::new(),
            failed: Vec::new(),
        }
    }
}

impl<T> BatchOutcome<T> {
    /// Records a failed entry; a store failure fails the whole batch instead.
    pub(crate) fn fail(&mut self, id: &str, error: Error) -> Result<()> {
        match error {
            Error::Sqs { code, message } => {
                self.failed.push(BatchFailure {
                    id: id.to_owned(),
                    code,
                    message,
                    sender_fault: true,
                });
                Ok(())
            }
            other => Err(other),
        }
    }
}

/// Checks a batch's shape: not empty, at most ten entries, valid and distinct ids. `entry_kind`
/// names the request entry type in the messages (`SendMessageBatchRequestEntry`).
pub(crate) fn check<T>(entries: &[BatchEntry<T>], entry_kind: &str) -> Result<()> {
    if entries.is_empty() {
        return Err(Error::new(
            Code::EmptyBatchRequest,
            format!("There should be at least one {entry_kind} in the request."),
        ));
    }
    if entries.len() > 10 {
        return Err(Error::new(
            Code::TooManyEntriesInBatchRequest,
            format!(
                "Maximum number of entries per request are 10. You have sent {}.",
                entries.len()
            ),
        ));
    }
    let mut seen = HashSet::new();
    for entry in entries {
        let valid = !entry.id.is_empty()
            && entry.id.len() <= 80
            && entry
                .id
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_'));
        if !valid {
            return Err(Error::new(
                Code::InvalidBatchEntryId,
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at \
                 most 80 letters long.",
            ));
        }
        if !seen.insert(entry.id.as_str()) {
            return Err(Error::new(
                Code::BatchEntryIdsNotDistinct,
                format!("Id {} repeated.", entry.id),
            ));
        }
    }
    Ok(())
}
