//! `ReturnValues`: what UpdateItem, PutItem and DeleteItem send back.
//!
//! Spec: "UpdateItem — ReturnValues"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html#DDB-UpdateItem-request-ReturnValues>).
//! `UPDATED_OLD` and `UPDATED_NEW` return only the parts the update wrote, nested as in the item.

use std::str::FromStr;

use crate::path::DocumentPath;
use crate::projection::project;
use crate::update::UpdateOutcome;
use crate::value::Item;

/// The `ReturnValues` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReturnValues {
    /// `NONE`: nothing.
    #[default]
    None,
    /// `ALL_OLD`: the whole item before the write.
    AllOld,
    /// `UPDATED_OLD`: the written parts, before.
    UpdatedOld,
    /// `ALL_NEW`: the whole item after the write.
    AllNew,
    /// `UPDATED_NEW`: the written parts, after.
    UpdatedNew,
}

/// An unknown `ReturnValues` string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "1 validation error detected: Value '{value}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
)]
pub struct InvalidReturnValues {
    /// The value given.
    pub value: String,
}

impl FromStr for ReturnValues {
    type Err = InvalidReturnValues;

    fn from_str(value: &str) -> Result<ReturnValues, InvalidReturnValues> {
        Ok(match value {
            "NONE" => ReturnValues::None,
            "ALL_OLD" => ReturnValues::AllOld,
            "UPDATED_OLD" => ReturnValues::UpdatedOld,
            "ALL_NEW" => ReturnValues::AllNew,
            "UPDATED_NEW" => ReturnValues::UpdatedNew,
            _ => {
                return Err(InvalidReturnValues {
                    value: value.to_owned(),
                });
            }
        })
    }
}

impl ReturnValues {
    /// The `Attributes` to return for an update, from the item before (if any) and the
    /// outcome. `None` means no `Attributes` member (DynamoDB omits it when there is nothing).
    pub fn for_update(&self, old: Option<&Item>, outcome: &UpdateOutcome) -> Option<Item> {
        self.select(old, Some(&outcome.item), &outcome.updated_old, &outcome.updated_new)
    }

    /// The `Attributes` to return from the item before and after a write and the paths it
    /// wrote (in old and in new positions). PutItem and DeleteItem only allow `NONE` and
    /// `ALL_OLD`; the caller checks that.
    pub fn select(
        &self,
        old: Option<&Item>,
        new: Option<&Item>,
        updated_old: &[DocumentPath],
        updated_new: &[DocumentPath],
    ) -> Option<Item> {
        let result = match self {
            ReturnValues::None => return None,
            ReturnValues::AllOld => old?.clone(),
            ReturnValues::AllNew => new?.clone(),
            ReturnValues::UpdatedOld => project(old?, updated_old),
            ReturnValues::UpdatedNew => project(new?, updated_new),
        };
        (!result.is_empty()).then_some(result)
    }
}
