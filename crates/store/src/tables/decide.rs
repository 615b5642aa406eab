//! What a write does to the item as stored, decided without I/O so that every backend decides
//! the same way inside its own transaction.

use sluice_expressions::{Error as ExpressionError, Item, MAX_ITEM_SIZE, item_size};

use super::{Change, ItemWrite, Refusal, Written};

/// A write's decision: what the item becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Store `Written::new` (or delete the item when it is `None`).
    Store(Written),
    /// Leave the item as it is (a `ConditionCheck`, or a delete of nothing).
    Keep(Written),
}

impl Decision {
    /// What the write did.
    pub fn written(&self) -> &Written {
        match self {
            Decision::Store(written) | Decision::Keep(written) => written,
        }
    }

    /// What the write did, taken.
    pub fn into_written(self) -> Written {
        match self {
            Decision::Store(written) | Decision::Keep(written) => written,
        }
    }
}

/// Decides one write against the item as stored (`None`: absent or expired):
/// 1. the condition, if any, must hold for the stored item;
/// 2. a put replaces the item; a delete removes it; a check changes nothing;
/// 3. an update applies to the stored item (or to an empty one), and the key attributes are
///    put back, so that an update of an absent item creates it from its key;
/// 4. the new item must fit in 400 KB.
pub fn decide(old: Option<&Item>, write: &ItemWrite) -> Result<Decision, Refusal> {
    if let Some(condition) = &write.condition
        && !condition.evaluate(old)
    {
        return Err(Refusal::ConditionFailed { old: old.cloned() });
    }
    let old_item = old.cloned();
    match &write.change {
        Change::Check => Ok(Decision::Keep(Written {
            old: old_item.clone(),
            new: old_item,
            ..Written::default()
        })),
        Change::Delete => Ok(match old_item {
            Some(old) => Decision::Store(Written {
                old: Some(old),
                new: None,
                ..Written::default()
            }),
            None => Decision::Keep(Written::default()),
        }),
        Change::Put(item) => {
            if item_size(item) > MAX_ITEM_SIZE {
                return Err(Refusal::Invalid(ExpressionError::ItemTooLarge));
            }
            Ok(Decision::Store(Written {
                old: old_item,
                new: Some(item.clone()),
                ..Written::default()
            }))
        }
        Change::Update(update) => {
            let outcome = update.apply(old).map_err(Refusal::Invalid)?;
            let mut item = outcome.item;
            for (name, value) in &write.key {
                item.insert(name.clone(), value.clone());
            }
            if item_size(&item) > MAX_ITEM_SIZE {
                return Err(Refusal::Invalid(ExpressionError::ItemTooLarge));
            }
            Ok(Decision::Store(Written {
                old: old_item,
                new: Some(item),
                updated_old: outcome.updated_old,
                updated_new: outcome.updated_new,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sluice_expressions::{ExpressionKind, Placeholders, item_from_json, parse_condition, parse_update};

    use super::*;

    fn item(json: serde_json::Value) -> Item {
        item_from_json(&json).unwrap()
    }

    fn write(condition: Option<&str>, change: Change) -> ItemWrite {
        let mut placeholders = Placeholders::from_json(None, Some(&json!({":one": {"N": "1"}}))).unwrap();
        ItemWrite {
            table: "t".into(),
            key: item(json!({"id": {"S": "a"}})),
            condition: condition
                .map(|text| parse_condition(ExpressionKind::Condition, text, &mut placeholders).unwrap()),
            change,
        }
    }

    #[test]
    fn an_update_of_an_absent_item_creates_it_from_its_key() {
        let mut placeholders = Placeholders::from_json(None, Some(&json!({":one": {"N": "1"}}))).unwrap();
        let update = parse_update("ADD n :one", &mut placeholders).unwrap();
        let decision = decide(None, &write(None, Change::Update(update))).unwrap();
        assert_eq!(
            decision.written().new,
            Some(item(json!({"id": {"S": "a"}, "n": {"N": "1"}})))
        );
    }

    #[test]
    fn a_failed_condition_reports_the_stored_item() {
        let stored = item(json!({"id": {"S": "a"}}));
        let refusal = decide(Some(&stored), &write(Some("attribute_not_exists(id)"), Change::Delete)).unwrap_err();
        assert_eq!(refusal, Refusal::ConditionFailed { old: Some(stored) });
        assert!(matches!(
            decide(None, &write(Some("attribute_not_exists(id)"), Change::Check)),
            Ok(Decision::Keep(_))
        ));
    }
}
