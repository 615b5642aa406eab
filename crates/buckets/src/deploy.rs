//! The buckets an app declares (`[buckets.NAME]` in its `sluice.toml`): checked whole before
//! anything of the app is deployed, then created if missing, with the declared notification
//! rules replacing the bucket's.

use chrono::{DateTime, Utc};
use sluice_store::objects::NotificationRule;

use crate::{Buckets, Error, Result, names, rules};

/// A bucket an app declares, with the rules for its object events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredBucket {
    /// The bucket's name.
    pub name: String,
    /// Where its object events go; the rules' ids are unique within the bucket.
    pub notifications: Vec<NotificationRule>,
}

/// Checks declared buckets: their names by S3's rules and their notification rules as
/// `PutBucketNotificationConfiguration` checks them. Every problem is reported, each naming
/// its manifest field (`buckets.NAME.notifications[0].events: …`).
pub fn check_declared(
    declared: &[DeclaredBucket],
    target_exists: &dyn Fn(&str) -> std::result::Result<(), String>,
) -> std::result::Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for bucket in declared {
        if let Err(error) = names::check_bucket_name(&bucket.name) {
            let reason = match &error {
                Error::InvalidBucketName { reason, .. } => reason.to_string(),
                other => other.to_string(),
            };
            problems.push(format!("buckets.{}: {reason}", bucket.name));
        }
        for problem in rules::check(&bucket.notifications, target_exists) {
            problems.push(format!(
                "buckets.{}.notifications[{}].{}: {}",
                bucket.name, problem.index, problem.field, problem.message
            ));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

impl Buckets {
    /// Creates the declared buckets that do not exist and sets every declared bucket's
    /// notification rules (an app's manifest is the source of its buckets' rules). Call
    /// [`check_declared`] first. Answers the names of the buckets it created.
    pub async fn deploy_declared(&self, declared: &[DeclaredBucket], now: DateTime<Utc>) -> Result<Vec<String>> {
        let mut created = Vec::new();
        for bucket in declared {
            match self.create_bucket(&bucket.name, now).await {
                Ok(()) => created.push(bucket.name.clone()),
                Err(Error::BucketAlreadyOwnedByYou { .. }) => {}
                Err(error) => return Err(error),
            }
            self.set_notifications(&bucket.name, bucket.notifications.clone())
                .await?;
        }
        Ok(created)
    }
}
