//! Parses key condition expressions with the condition grammar, then checks that they are what
//! Query accepts: one or two simple conditions joined by `AND`, each on a top-level key attribute,
//! equality on the partition key, and values of the key's type.

use crate::condition::{Comparator, Condition, Operand};
use crate::error::{Error, ExpressionKind};
use crate::key::KeySchema;
use crate::key_condition::{KeyCondition, SortKeyCondition, SortKeyOperator};
use crate::parse::{Parser, Placeholders};
use crate::value::AttributeValue;

/// Parses a `KeyConditionExpression` against the table's (or index's) key schema.
pub fn parse_key_condition(
    text: &str,
    schema: &KeySchema,
    placeholders: &mut Placeholders,
) -> Result<KeyCondition, Error> {
    let mut parser = Parser::new(ExpressionKind::KeyCondition, text, placeholders)?;
    let condition = parser.condition()?;
    let condition = parser.finish(condition)?;
    check_operators(&condition)?;
    let mut conditions = Vec::new();
    flatten(condition, &mut conditions);
    let mut simple: Vec<(String, SortKeyOperator)> = Vec::new();
    for condition in conditions {
        let (name, operator) = simple_condition(condition)?;
        if simple.iter().any(|(existing, _)| *existing == name) {
            return Err(Error::KeyRepeated);
        }
        simple.push((name, operator));
    }
    against_schema(simple, schema)
}

/// Rejects `OR`, `NOT`, `IN`, `<>` and the functions Query does not take, outermost first.
fn check_operators(condition: &Condition) -> Result<(), Error> {
    let invalid = |operator: &str| {
        Err(Error::KeyInvalidOperator {
            operator: operator.to_owned(),
        })
    };
    match condition {
        Condition::Or(..) => invalid("OR"),
        Condition::Not(_) => invalid("NOT"),
        Condition::In { .. } => invalid("IN"),
        Condition::Compare {
            comparator: Comparator::Ne,
            ..
        } => invalid("<>"),
        Condition::AttributeExists(_) => invalid("attribute_exists"),
        Condition::AttributeNotExists(_) => invalid("attribute_not_exists"),
        Condition::AttributeType(..) => invalid("attribute_type"),
        Condition::Contains(..) => invalid("contains"),
        Condition::And(left, right) => {
            check_operators(left)?;
            check_operators(right)
        }
        Condition::Compare { .. } | Condition::Between { .. } | Condition::BeginsWith(..) => Ok(()),
    }
}

fn flatten(condition: Condition, conditions: &mut Vec<Condition>) {
    match condition {
        Condition::And(left, right) => {
            flatten(*left, conditions);
            flatten(*right, conditions);
        }
        other => conditions.push(other),
    }
}

/// The key attribute a condition's first operand names, or the reason it names none.
fn key_operand(operand: Operand) -> Result<Option<String>, Error> {
    match operand {
        Operand::Size(_) => Err(Error::KeyNestedOperation),
        Operand::Path(path) if !path.is_top_level() => Err(Error::KeyNestedAttribute),
        Operand::Path(path) => Ok(Some(path.attribute_name().to_owned())),
        Operand::Value(_) => Ok(None),
    }
}

/// A value operand on the other side of a key condition.
fn value_operand(operand: Operand) -> Result<AttributeValue, Error> {
    match operand {
        Operand::Value(value) => Ok(value),
        Operand::Path(_) => Err(Error::KeyMultipleAttributes),
        Operand::Size(_) => Err(Error::KeyNestedOperation),
    }
}

fn simple_condition(condition: Condition) -> Result<(String, SortKeyOperator), Error> {
    match condition {
        Condition::Compare {
            left,
            comparator,
            right,
        } => {
            // `:v < key` is accepted and read as `key > :v`.
            let (left, comparator, right) = match (&left, &right) {
                (Operand::Value(_), Operand::Path(_) | Operand::Size(_)) => (right, flip(comparator), left),
                _ => (left, comparator, right),
            };
            let name = key_operand(left)?.ok_or(Error::KeyNoAttribute)?;
            let value = value_operand(right)?;
            let operator = match comparator {
                Comparator::Eq => SortKeyOperator::Eq(value),
                Comparator::Lt => SortKeyOperator::Lt(value),
                Comparator::Le => SortKeyOperator::Le(value),
                Comparator::Gt => SortKeyOperator::Gt(value),
                Comparator::Ge => SortKeyOperator::Ge(value),
                Comparator::Ne => {
                    return Err(Error::KeyInvalidOperator {
                        operator: "<>".to_owned(),
                    });
                }
            };
            Ok((name, operator))
        }
        Condition::Between { operand, lower, upper } => {
            let not_first = || Error::KeyNotFirstOperand {
                operator: "BETWEEN".to_owned(),
            };
            if !matches!(operand, Operand::Path(_)) {
                return Err(not_first());
            }
            let name = key_operand(operand)?.ok_or_else(not_first)?;
            let lower = value_operand(lower)?;
            let upper = value_operand(upper)?;
            Ok((name, SortKeyOperator::Between(lower, upper)))
        }
        Condition::BeginsWith(value, prefix) => {
            let not_first = || Error::KeyNotFirstOperand {
                operator: "begins_with".to_owned(),
            };
            if !matches!(value, Operand::Path(_)) {
                return Err(not_first());
            }
            let name = key_operand(value)?.ok_or_else(not_first)?;
            Ok((name, SortKeyOperator::BeginsWith(value_operand(prefix)?)))
        }
        // `check_operators` has rejected everything else.
        _ => Err(Error::KeyConditionNotSupported),
    }
}

fn flip(comparator: Comparator) -> Comparator {
    match comparator {
        Comparator::Lt => Comparator::Gt,
        Comparator::Le => Comparator::Ge,
        Comparator::Gt => Comparator::Lt,
        Comparator::Ge => Comparator::Le,
        other => other,
    }
}

fn against_schema(conditions: Vec<(String, SortKeyOperator)>, schema: &KeySchema) -> Result<KeyCondition, Error> {
    let mut partition = None;
    let mut sort = None;
    let mut other = false;
    for (name, operator) in conditions {
        if name == schema.partition.name {
            partition = Some(operator);
        } else if schema.sort.as_ref().is_some_and(|key| key.name == name) {
            sort = Some(SortKeyCondition { name, operator });
        } else {
            other = true;
        }
    }
    let Some(partition) = partition else {
        return Err(Error::KeyMissing {
            name: schema.partition.name.clone(),
        });
    };
    if other {
        return match &schema.sort {
            Some(key) if sort.is_none() => Err(Error::KeyMissing { name: key.name.clone() }),
            _ => Err(Error::KeyConditionNotSupported),
        };
    }
    let SortKeyOperator::Eq(partition_value) = partition else {
        return Err(Error::KeyConditionNotSupported);
    };
    if partition_value.attribute_type() != schema.partition.scalar_type.attribute_type() {
        return Err(Error::KeyTypeMismatch);
    }
    if let (Some(condition), Some(key)) = (&sort, &schema.sort) {
        let expected = key.scalar_type.attribute_type();
        let values: Vec<&AttributeValue> = match &condition.operator {
            SortKeyOperator::Between(low, high) => vec![low, high],
            SortKeyOperator::Eq(value)
            | SortKeyOperator::Lt(value)
            | SortKeyOperator::Le(value)
            | SortKeyOperator::Gt(value)
            | SortKeyOperator::Ge(value)
            | SortKeyOperator::BeginsWith(value) => vec![value],
        };
        if let SortKeyOperator::BeginsWith(prefix) = &condition.operator
            && !matches!(prefix, AttributeValue::S(_) | AttributeValue::B(_))
        {
            return Err(Error::OperandType {
                kind: ExpressionKind::KeyCondition,
                function: "begins_with".to_owned(),
                operand_type: prefix.attribute_type().to_string(),
            });
        }
        if values.iter().any(|value| value.attribute_type() != expected) {
            return Err(Error::KeyTypeMismatch);
        }
        if let SortKeyOperator::BeginsWith(_) = &condition.operator
            && expected == crate::value::AttributeType::N
        {
            return Err(Error::OperandType {
                kind: ExpressionKind::KeyCondition,
                function: "begins_with".to_owned(),
                operand_type: "N".to_owned(),
            });
        }
    }
    Ok(KeyCondition {
        partition_key: schema.partition.name.clone(),
        partition_value,
        sort,
    })
}
