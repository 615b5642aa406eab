//! The expression errors. Every one is a DynamoDB `ValidationException`; `Display` gives
//! DynamoDB's message as closely as it is known.

use std::fmt;

use crate::number::NumberError;
use crate::value::ValueError;

/// Which request parameter an expression came from; DynamoDB names it in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpressionKind {
    /// `ConditionExpression`.
    Condition,
    /// `FilterExpression`.
    Filter,
    /// `KeyConditionExpression`.
    KeyCondition,
    /// `UpdateExpression`.
    Update,
    /// `ProjectionExpression`.
    Projection,
}

impl fmt::Display for ExpressionKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            ExpressionKind::Condition => "ConditionExpression",
            ExpressionKind::Filter => "FilterExpression",
            ExpressionKind::KeyCondition => "KeyConditionExpression",
            ExpressionKind::Update => "UpdateExpression",
            ExpressionKind::Projection => "ProjectionExpression",
        })
    }
}

/// A rejected expression, placeholder map or evaluation.
///
/// All variants map to `ValidationException` (HTTP 400); a failed condition is not an error
/// here but `false` from the evaluator, which the service turns into
/// `ConditionalCheckFailedException`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The expression is empty or only whitespace.
    #[error("Invalid {kind}: The expression can not be empty;")]
    Empty {
        /// Which expression.
        kind: ExpressionKind,
    },
    /// A token the grammar does not allow where it stands.
    #[error("Invalid {kind}: Syntax error; token: \"{token}\", near: \"{near}\"")]
    Syntax {
        /// Which expression.
        kind: ExpressionKind,
        /// The offending token's text, or `<EOF>`.
        token: String,
        /// The text from the token before to the token after.
        near: String,
    },
    /// A bare attribute name is a reserved word.
    #[error("Invalid {kind}: Attribute name is a reserved keyword; reserved keyword: {keyword}")]
    ReservedKeyword {
        /// Which expression.
        kind: ExpressionKind,
        /// The name as written.
        keyword: String,
    },
    /// `#name` is not in `ExpressionAttributeNames`.
    #[error(
        "Invalid {kind}: An expression attribute name used in the document path is not defined; attribute name: {name}"
    )]
    UndefinedName {
        /// Which expression.
        kind: ExpressionKind,
        /// The placeholder, with its `#`.
        name: String,
    },
    /// `:value` is not in `ExpressionAttributeValues`.
    #[error(
        "Invalid {kind}: An expression attribute value used in expression is not defined; attribute value: {value}"
    )]
    UndefinedValue {
        /// Which expression.
        kind: ExpressionKind,
        /// The placeholder, with its `:`.
        value: String,
    },
    /// `ExpressionAttributeNames` has entries no expression uses.
    #[error("Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}", keys.join(", "))]
    UnusedNames {
        /// The unused placeholders, sorted.
        keys: Vec<String>,
    },
    /// `ExpressionAttributeValues` has entries no expression uses.
    #[error("Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}", keys.join(", "))]
    UnusedValues {
        /// The unused placeholders, sorted.
        keys: Vec<String>,
    },
    /// `ExpressionAttributeNames` was given but is empty.
    #[error("ExpressionAttributeNames must not be empty")]
    EmptyNames,
    /// `ExpressionAttributeValues` was given but is empty.
    #[error("ExpressionAttributeValues must not be empty")]
    EmptyValues,
    /// A key of `ExpressionAttributeNames` is not `#` followed by letters, digits or `_`.
    #[error("ExpressionAttributeNames contains invalid key: Syntax error; key: \"{key}\"")]
    InvalidNameKey {
        /// The key as given.
        key: String,
    },
    /// A key of `ExpressionAttributeValues` is not `:` followed by letters, digits or `_`.
    #[error("ExpressionAttributeValues contains invalid key: Syntax error; key: \"{key}\"")]
    InvalidValueKey {
        /// The key as given.
        key: String,
    },
    /// A value of `ExpressionAttributeValues` is not a valid attribute value.
    #[error("ExpressionAttributeValues contains invalid value: {reason} for key {key}")]
    InvalidValue {
        /// The placeholder.
        key: String,
        /// What is wrong with it.
        reason: ValueError,
    },
    /// A clause (`SET`, `REMOVE`, `ADD`, `DELETE`) appears twice.
    #[error("Invalid UpdateExpression: The \"{section}\" section can only be used once in an update expression;")]
    RepeatedSection {
        /// The clause, upper case.
        section: &'static str,
    },
    /// Two paths where one is the other or its ancestor.
    #[error(
        "Invalid {kind}: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}"
    )]
    PathsOverlap {
        /// Which expression.
        kind: ExpressionKind,
        /// The first path, as DynamoDB prints paths (`[a, b, [1]]`).
        one: String,
        /// The second path.
        two: String,
    },
    /// Two paths that use the same attribute both as a map and as a list.
    #[error(
        "Invalid {kind}: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}"
    )]
    PathsConflict {
        /// Which expression.
        kind: ExpressionKind,
        /// The first path.
        one: String,
        /// The second path.
        two: String,
    },
    /// A function name DynamoDB does not have (function names are case-sensitive).
    #[error("Invalid {kind}: Invalid function name; function: {function}")]
    InvalidFunction {
        /// Which expression.
        kind: ExpressionKind,
        /// The name as written.
        function: String,
    },
    /// A condition function in an update expression.
    #[error("Invalid UpdateExpression: The function is not allowed in an update expression; function: {function}")]
    FunctionNotAllowedInUpdate {
        /// The function.
        function: String,
    },
    /// An update function (`if_not_exists`, `list_append`) in a condition.
    #[error("Invalid {kind}: The function is not allowed in a condition expression; function: {function}")]
    FunctionNotAllowedInCondition {
        /// Which expression.
        kind: ExpressionKind,
        /// The function.
        function: String,
    },
    /// A function used where its result does not fit: `size(a)` as a condition,
    /// `attribute_exists(a) = :v`, or `list_append` nested in `list_append`.
    #[error("Invalid {kind}: The function is not allowed to be used this way in an expression; function: {function}")]
    FunctionMisused {
        /// Which expression.
        kind: ExpressionKind,
        /// The function.
        function: String,
    },
    /// A function called with the wrong number of arguments.
    #[error(
        "Invalid {kind}: Incorrect number of operands for operator or function; operator or function: {function}, number of operands: {count}"
    )]
    OperandCount {
        /// Which expression.
        kind: ExpressionKind,
        /// The function.
        function: String,
        /// How many it was given.
        count: usize,
    },
    /// A literal operand of the wrong type for an operator or function (`+`, `list_append`,
    /// `begins_with`, `attribute_type`, …).
    #[error(
        "Invalid {kind}: Incorrect operand type for operator or function; operator or function: {function}, operand type: {operand_type}"
    )]
    OperandType {
        /// Which expression.
        kind: ExpressionKind,
        /// The operator or function.
        function: String,
        /// The operand's type, short name (`S`, `M`, …).
        operand_type: String,
    },
    /// `ADD` with something other than a number or set, or `DELETE` with something other than
    /// a set.
    #[error(
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: {operator}, operand type: {operand_type}"
    )]
    ActionOperandType {
        /// `ADD` or `DELETE`.
        operator: &'static str,
        /// The operand's type, long name (`STRING`, `LIST`, …).
        operand_type: &'static str,
    },
    /// A function whose first argument must be a path got something else.
    #[error("Invalid {kind}: Operator or function requires a document path; operator or function: {function}")]
    RequiresPath {
        /// Which expression.
        kind: ExpressionKind,
        /// The function.
        function: String,
    },
    /// `attribute_type` with a type that is not one of DynamoDB's.
    #[error("Invalid {kind}: Invalid attribute type name found in type: {type_name}")]
    InvalidTypeName {
        /// Which expression.
        kind: ExpressionKind,
        /// The name as given.
        type_name: String,
    },
    /// `BETWEEN` with a lower bound above the upper bound.
    #[error(
        "Invalid {kind}: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: {lower}, upper bound operand: {upper}"
    )]
    BetweenBounds {
        /// Which expression.
        kind: ExpressionKind,
        /// The lower bound, described.
        lower: String,
        /// The upper bound, described.
        upper: String,
    },
    /// `BETWEEN` with bounds of different types.
    #[error(
        "Invalid {kind}: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: {lower}, upper bound operand: {upper}"
    )]
    BetweenTypes {
        /// Which expression.
        kind: ExpressionKind,
        /// The lower bound, described.
        lower: String,
        /// The upper bound, described.
        upper: String,
    },
    /// `IN` with more than 100 values.
    #[error("Invalid {kind}: The IN operator is provided with too many operands; number of operands: {count}")]
    TooManyInOperands {
        /// Which expression.
        kind: ExpressionKind,
        /// How many.
        count: usize,
    },
    /// A key condition uses an operator Query does not support (`OR`, `NOT`, `IN`, `<>`,
    /// `attribute_exists`, …).
    #[error("Invalid operator used in KeyConditionExpression: {operator}")]
    KeyInvalidOperator {
        /// The operator or function.
        operator: String,
    },
    /// A key condition whose first operand is not the key attribute.
    #[error(
        "Invalid condition in KeyConditionExpression: {operator} operator must have the key attribute as its first operand"
    )]
    KeyNotFirstOperand {
        /// The operator.
        operator: String,
    },
    /// A key condition with no attribute at all.
    #[error("Invalid condition in KeyConditionExpression: No key attribute specified")]
    KeyNoAttribute,
    /// A key condition comparing two attributes.
    #[error("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition")]
    KeyMultipleAttributes,
    /// A key condition using `size()`.
    #[error("KeyConditionExpressions cannot contain nested operations")]
    KeyNestedOperation,
    /// A key condition on a nested path.
    #[error("KeyConditionExpressions cannot have conditions on nested attributes")]
    KeyNestedAttribute,
    /// Two conditions on the same key attribute.
    #[error("KeyConditionExpressions must only contain one condition per key")]
    KeyRepeated,
    /// The partition key has no equality condition.
    #[error("Query condition missed key schema element: {name}")]
    KeyMissing {
        /// The key attribute missing.
        name: String,
    },
    /// A condition on a non-key attribute, or a non-equality on the partition key.
    #[error("Query key condition not supported")]
    KeyConditionNotSupported,
    /// A key condition value whose type is not the key's.
    #[error("One or more parameter values were invalid: Condition parameter type does not match schema type")]
    KeyTypeMismatch,
    /// An update writes a key attribute.
    #[error(
        "One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
    )]
    UpdatesKey {
        /// The key attribute.
        name: String,
    },
    /// An update's path does not fit the item: the parent is missing or of the wrong type.
    #[error("The document path provided in the update expression is invalid for update")]
    InvalidDocumentPath,
    /// An update reads an attribute the item does not have.
    #[error("The provided expression refers to an attribute that does not exist in the item")]
    MissingAttribute,
    /// An update combines values of the wrong types (`ADD` to a string, `a + b` on a list, …).
    #[error("An operand in the update expression has an incorrect data type")]
    IncorrectDataType,
    /// Arithmetic left the number range or precision.
    #[error(transparent)]
    Number(#[from] NumberError),
    /// An update produced an invalid value (for example a nesting too deep).
    #[error(transparent)]
    Value(#[from] ValueError),
    /// The updated item is larger than 400 KB.
    #[error("Item size to update has exceeded the maximum allowed size")]
    ItemTooLarge,
}

impl Error {
    /// The AWS error code: every expression error is a `ValidationException`.
    pub fn aws_code(&self) -> &'static str {
        "ValidationException"
    }
}
