//! Reading a request's members as DynamoDB's front end does: a member of the wrong JSON type is
//! a `SerializationException`; constraint violations (required, length, range, enumeration,
//! pattern) are collected and reported together as one `ValidationException`, naming each
//! member as AWS does (`tableName`, `keySchema.1.member.keyType`).

use serde_json::{Map, Value as Json};
use sluice_expressions::{
    Condition, ExpressionKind, Item, Placeholders, Projection, ReturnValues, ValueError, item_from_json,
    parse_condition, parse_projection,
};

use crate::error::{Error, ErrorCode};

/// The parameters of the old API, which Sluice does not take.
const LEGACY: &[&str] = &[
    "AttributesToGet",
    "AttributeUpdates",
    "ConditionalOperator",
    "Expected",
    "KeyConditions",
    "QueryFilter",
    "ScanFilter",
];

/// A request's members, read one by one.
#[derive(Debug)]
pub(crate) struct Request {
    members: Map<String, Json>,
    /// Where this object sits in the request, for messages (`transactItems.1.member.put`).
    prefix: String,
    violations: Vec<String>,
    wrong_type: Option<String>,
}

impl Request {
    /// The request body, which must be an object.
    pub(crate) fn new(body: Json) -> Result<Request, Error> {
        match body {
            Json::Object(members) => Ok(Request::nested(members, String::new())),
            Json::Null => Ok(Request::nested(Map::new(), String::new())),
            _ => Err(Error::new(
                ErrorCode::SerializationException,
                "The request body must be a JSON object.",
            )),
        }
    }

    /// A nested structure, named in messages after `prefix`.
    pub(crate) fn nested(members: Map<String, Json>, prefix: String) -> Request {
        Request {
            members,
            prefix,
            violations: Vec::new(),
            wrong_type: None,
        }
    }

    /// How AWS names a member in messages: camel case, under the prefix.
    pub(crate) fn wire_name(&self, member: &str) -> String {
        let mut characters = member.chars();
        let camel: String = match characters.next() {
            Some(first) => first.to_lowercase().chain(characters).collect(),
            None => String::new(),
        };
        if self.prefix.is_empty() {
            camel
        } else {
            format!("{}.{camel}", self.prefix)
        }
    }

    /// Records a constraint violation.
    pub(crate) fn violation(&mut self, member: &str, shown: Option<&str>, constraint: &str) {
        let value = match shown {
            Some(text) => format!("Value '{text}' at"),
            None => "Value null at".to_owned(),
        };
        let name = self.wire_name(member);
        self.violations
            .push(format!("{value} '{name}' failed to satisfy constraint: {constraint}"));
    }

    fn wrong<T>(&mut self, member: &str, expected: &str) -> Option<T> {
        let name = self.wire_name(member);
        self.wrong_type
            .get_or_insert_with(|| format!("Expected {expected} at '{name}'."));
        None
    }

    /// Takes a member's raw JSON (absent or null: `None`).
    pub(crate) fn take(&mut self, member: &str) -> Option<Json> {
        match self.members.remove(member)? {
            Json::Null => None,
            value => Some(value),
        }
    }

    /// An optional string.
    pub(crate) fn string(&mut self, member: &str) -> Option<String> {
        match self.take(member)? {
            Json::String(text) => Some(text),
            _ => self.wrong(member, "a string"),
        }
    }

    /// A required string (empty when absent; the absence is recorded).
    pub(crate) fn required_string(&mut self, member: &str) -> String {
        match self.string(member) {
            Some(text) => text,
            None => {
                self.violation(member, None, "Member must not be null");
                String::new()
            }
        }
    }

    /// A table name: required, 3 to 255 characters of `[a-zA-Z0-9_.-]` (an ARN's last part
    /// after `table/` is taken too, as DynamoDB takes table ARNs).
    pub(crate) fn table_name(&mut self, member: &str) -> String {
        let name = self.required_string(member);
        let name = match name.split_once(":table/") {
            Some((prefix, table)) if prefix.starts_with("arn:") => table.to_owned(),
            _ => name,
        };
        if !self.violations.is_empty() && name.is_empty() {
            return name;
        }
        if name.chars().count() < 3 {
            self.violation(
                member,
                Some(&name),
                "Member must have length greater than or equal to 3",
            );
        } else if name.chars().count() > 255 {
            self.violation(member, Some(&name), "Member must have length less than or equal to 255");
        }
        if !name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '_' | '.' | '-'))
        {
            self.violation(
                member,
                Some(&name),
                "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
            );
        }
        name
    }

    /// An optional boolean.
    pub(crate) fn boolean(&mut self, member: &str) -> Option<bool> {
        match self.take(member)? {
            Json::Bool(flag) => Some(flag),
            _ => self.wrong(member, "a boolean"),
        }
    }

    /// An optional integer in `min..=max`.
    pub(crate) fn integer(&mut self, member: &str, min: i64, max: i64) -> Option<i64> {
        let value = match self.take(member)? {
            Json::Number(number) => number.as_i64(),
            _ => None,
        };
        let Some(value) = value else {
            return self.wrong(member, "an integer");
        };
        if value < min {
            let constraint = format!("Member must have value greater than or equal to {min}");
            self.violation(member, Some(&value.to_string()), &constraint);
        } else if value > max {
            let constraint = format!("Member must have value less than or equal to {max}");
            self.violation(member, Some(&value.to_string()), &constraint);
        }
        Some(value)
    }

    /// An optional string from an enumeration (AWS's names, in the model's order).
    pub(crate) fn enumeration(&mut self, member: &str, names: &[&str]) -> Option<String> {
        let text = self.string(member)?;
        if !names.contains(&text.as_str()) {
            let constraint = format!("Member must satisfy enum value set: [{}]", names.join(", "));
            self.violation(member, Some(&text), &constraint);
            return None;
        }
        Some(text)
    }

    /// An optional object.
    pub(crate) fn object(&mut self, member: &str) -> Option<Map<String, Json>> {
        match self.take(member)? {
            Json::Object(object) => Some(object),
            _ => self.wrong(member, "an object"),
        }
    }

    /// An optional list.
    pub(crate) fn list(&mut self, member: &str) -> Option<Vec<Json>> {
        match self.take(member)? {
            Json::Array(list) => Some(list),
            _ => self.wrong(member, "a list"),
        }
    }

    /// A required list of `min..=max` elements (empty when absent or out of bounds).
    pub(crate) fn required_list(&mut self, member: &str, min: usize, max: usize) -> Vec<Json> {
        let Some(list) = self.list(member) else {
            if self.wrong_type.is_none() {
                self.violation(member, None, "Member must not be null");
            }
            return Vec::new();
        };
        if list.len() < min {
            let constraint = format!("Member must have length greater than or equal to {min}");
            self.violation(member, Some(&Json::Array(list.clone()).to_string()), &constraint);
        } else if list.len() > max {
            let constraint = format!("Member must have length less than or equal to {max}");
            self.violation(member, Some("[...]"), &constraint);
        }
        list
    }

    /// An optional item (or key) in DynamoDB JSON, checked as attribute values.
    pub(crate) fn item(&mut self, member: &str) -> Result<Option<Item>, Error> {
        let Some(json) = self.take(member) else {
            return Ok(None);
        };
        parse_item(&json).map(Some)
    }

    /// A required item (or key).
    pub(crate) fn required_item(&mut self, member: &str) -> Result<Item, Error> {
        match self.item(member)? {
            Some(item) => Ok(item),
            None => {
                self.violation(member, None, "Member must not be null");
                Ok(Item::new())
            }
        }
    }

    /// `ExpressionAttributeNames` and `ExpressionAttributeValues`.
    pub(crate) fn placeholders(&mut self) -> Result<Placeholders, Error> {
        let names = self.take("ExpressionAttributeNames");
        let values = self.take("ExpressionAttributeValues");
        Ok(Placeholders::from_json(names.as_ref(), values.as_ref())?)
    }

    /// An optional condition or filter expression.
    pub(crate) fn condition(
        &mut self,
        member: &str,
        kind: ExpressionKind,
        placeholders: &mut Placeholders,
    ) -> Result<Option<Condition>, Error> {
        match self.string(member) {
            Some(text) => Ok(Some(parse_condition(kind, &text, placeholders)?)),
            None => Ok(None),
        }
    }

    /// An optional `ProjectionExpression`.
    pub(crate) fn projection(&mut self, placeholders: &mut Placeholders) -> Result<Option<Projection>, Error> {
        match self.string("ProjectionExpression") {
            Some(text) => Ok(Some(parse_projection(&text, placeholders)?)),
            None => Ok(None),
        }
    }

    /// `ReturnValues`, limited to the values the operation allows (PutItem and DeleteItem take
    /// only `NONE` and `ALL_OLD`).
    pub(crate) fn return_values(&mut self, allowed: &[ReturnValues]) -> Result<ReturnValues, Error> {
        let Some(text) = self.enumeration(
            "ReturnValues",
            &["NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"],
        ) else {
            return Ok(ReturnValues::None);
        };
        let value: ReturnValues = text
            .parse()
            .map_err(|error: sluice_expressions::InvalidReturnValues| Error::validation(error.to_string()))?;
        if !allowed.contains(&value) {
            return Err(Error::validation("Return values set to invalid value"));
        }
        Ok(value)
    }

    /// `ReturnValuesOnConditionCheckFailure`: whether to send the item back (`ALL_OLD`).
    pub(crate) fn return_old_on_failure(&mut self) -> bool {
        self.enumeration("ReturnValuesOnConditionCheckFailure", &["ALL_OLD", "NONE"])
            .is_some_and(|value| value == "ALL_OLD")
    }

    /// Reads the members every operation takes and ignores: capacity and metrics reports.
    pub(crate) fn ignored_reports(&mut self) {
        self.enumeration("ReturnConsumedCapacity", &["INDEXES", "TOTAL", "NONE"]);
        self.enumeration("ReturnItemCollectionMetrics", &["SIZE", "NONE"]);
    }

    /// Fails on a parameter of the old API, naming it.
    pub(crate) fn refuse_legacy(&mut self) -> Result<(), Error> {
        match LEGACY.iter().find(|member| self.members.contains_key(**member)) {
            Some(member) => Err(Error::validation(format!(
                "Sluice does not support the legacy parameter {member}; use the expression parameters instead"
            ))),
            None => Ok(()),
        }
    }

    /// Fails with the first wrong type, or with every violation as one `ValidationException`.
    pub(crate) fn finish(self) -> Result<(), Error> {
        if let Some(message) = self.wrong_type {
            return Err(Error::new(ErrorCode::SerializationException, message));
        }
        match self.violations.len() {
            0 => Ok(()),
            1 => Err(Error::validation(format!(
                "1 validation error detected: {}",
                self.violations[0]
            ))),
            count => Err(Error::validation(format!(
                "{count} validation errors detected: {}",
                self.violations.join("; ")
            ))),
        }
    }

    /// Whether a wrong type or a violation was recorded.
    pub(crate) fn has_problems(&self) -> bool {
        self.wrong_type.is_some() || !self.violations.is_empty()
    }
}

/// An item (or key) in DynamoDB JSON: wrong JSON shapes are `SerializationException`s, broken
/// rules `ValidationException`s, as DynamoDB answers them.
pub(crate) fn parse_item(json: &Json) -> Result<Item, Error> {
    item_from_json(json).map_err(|error| match error {
        ValueError::WrongJson { .. } => Error::new(ErrorCode::SerializationException, error.to_string()),
        ValueError::ItemTooLarge => Error::validation("Item size has exceeded the maximum allowed size"),
        other => Error::validation(other.to_string()),
    })
}
