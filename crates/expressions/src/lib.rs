//! DynamoDB's item model and expression language, pure: no I/O, no clock, no storage.
//!
//! - [`AttributeValue`] and [`Item`] with DynamoDB JSON (`{"S": "x"}`, `{"N": "1.5"}`, `B` as
//!   base64), validated as DynamoDB validates input; [`Number`] is DynamoDB's 38-digit decimal;
//!   [`item_size`] counts bytes as DynamoDB does for the 400 KB limit.
//! - [`KeySchema`] checks keys, and [`encode_sort_key`] gives bytes that sort as DynamoDB sorts.
//! - [`Placeholders`] holds a request's `ExpressionAttributeNames` and `ExpressionAttributeValues`;
//!   [`parse_condition`], [`parse_key_condition`], [`parse_update`] and [`parse_projection`] turn
//!   expressions into typed values, resolving placeholders; [`Placeholders::finish`] then rejects
//!   unused ones. Errors carry DynamoDB's `ValidationException` messages.
//! - [`Condition::evaluate`], [`UpdateExpression::apply`] and [`Projection::apply`] run them, and
//!   [`ReturnValues`] picks what to send back.
//!
//! ```
//! use serde_json::json;
//! use sluice_expressions::{Condition, ExpressionKind, Placeholders, item_from_json, item_to_json};
//! use sluice_expressions::{parse_condition, parse_update};
//!
//! // Seed 003 appends to a list without a read-modify-write race:
//! let mut placeholders = Placeholders::from_json(
//!     Some(&json!({"#l": "aggregator-ready-regions"})),
//!     Some(&json!({":empty": {"L": []}, ":new": {"L": [{"S": "us-east-1"}]}})),
//! )
//! .unwrap();
//! let update = parse_update("SET #l = list_append(if_not_exists(#l, :empty), :new)", &mut placeholders).unwrap();
//! placeholders.finish().unwrap();
//! let outcome = update.apply(None).unwrap();
//! assert_eq!(item_to_json(&outcome.item), json!({"aggregator-ready-regions": {"L": [{"S": "us-east-1"}]}}));
//!
//! // A conditional put: only if the item does not exist yet.
//! let mut placeholders = Placeholders::new(None, None).unwrap();
//! let condition: Condition = parse_condition(ExpressionKind::Condition, "attribute_not_exists(id)", &mut placeholders).unwrap();
//! assert!(condition.evaluate(None));
//! assert!(!condition.evaluate(Some(&item_from_json(&json!({"id": {"S": "lock"}})).unwrap())));
//!
//! // A bare reserved word is refused, as DynamoDB does.
//! let error = parse_condition(ExpressionKind::Condition, "status = :s", &mut placeholders).unwrap_err();
//! assert_eq!(error.to_string(), "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status");
//! ```
#![cfg_attr(not(test), forbid(clippy::unwrap_used))]

mod condition;
mod error;
mod key;
mod key_condition;
mod number;
mod parse;
mod path;
mod projection;
mod reserved;
mod return_values;
mod update;
mod value;

pub use condition::{Comparator, Condition, Operand, scalar_order};
pub use error::{Error, ExpressionKind};
pub use key::{KeyAttribute, KeyError, KeySchema, ScalarType, decode_sort_key, encode_sort_key};
pub use key_condition::{KeyCondition, SortKeyCondition, SortKeyOperator};
pub use number::{MAX_EXPONENT, MAX_PRECISION, MIN_EXPONENT, Number, NumberError};
pub use parse::{Placeholders, parse_condition, parse_key_condition, parse_projection, parse_update};
pub use path::{DocumentPath, PathElement};
pub use projection::{Projection, project};
pub use reserved::{RESERVED_WORDS, is_reserved};
pub use return_values::{InvalidReturnValues, ReturnValues};
pub use update::{SetOperand, SetValue, UpdateAction, UpdateExpression, UpdateOutcome};
pub use value::{
    AttributeType, AttributeValue, Item, MAX_ITEM_SIZE, MAX_NESTING_DEPTH, ValueError, item_from_json, item_size,
    item_to_json,
};
