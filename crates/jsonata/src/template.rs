//! A JSON value whose strings may be `{% … %}` expressions, parsed once.

use serde_json::{Map, Value};

use crate::expression::{Expression, Session};
use crate::{Bindings, Error, ParseError, expression_body};

/// A JSON value (a state's `Arguments`, `Output`, `Assign`, ...) whose string values may be
/// expressions, at any depth. Literal parts are copied as they are.
#[derive(Debug)]
pub struct Template {
    root: Node,
}

#[derive(Debug)]
enum Node {
    /// A part with no expression in it.
    Literal(Value),
    Expression(Expression),
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Template {
    /// Parses `value`, reporting every expression that cannot be used, each with a JSON
    /// pointer relative to `value`.
    pub fn parse(value: &Value) -> Result<Template, Vec<ParseError>> {
        let mut errors = Vec::new();
        let root = parse_node(value, &mut String::new(), &mut errors);
        if errors.is_empty() {
            Ok(Template { root })
        } else {
            Err(errors)
        }
    }

    /// Whether the value holds no expression at all (evaluating it copies it).
    pub fn is_literal(&self) -> bool {
        matches!(self.root, Node::Literal(_))
    }

    /// The value as a single expression, when it is one (a Choice `Condition`, a Wait
    /// `Seconds`).
    pub fn as_expression(&self) -> Option<&Expression> {
        match &self.root {
            Node::Expression(expression) => Some(expression),
            _ => None,
        }
    }

    /// Evaluates every expression and builds the value.
    ///
    /// An expression that yields nothing fails with [`Error::Undefined`], wherever it sits:
    /// AWS fails the state rather than leaving the member or element out.
    pub fn evaluate(&self, bindings: &Bindings<'_>) -> Result<Value, Error> {
        let session = Session::new(bindings);
        evaluate_node(&self.root, &session, &mut String::new())
    }
}

fn parse_node(value: &Value, pointer: &mut String, errors: &mut Vec<ParseError>) -> Node {
    match value {
        Value::String(text) => match expression_body(text) {
            Some(source) => match Expression::new(source) {
                Ok(expression) => Node::Expression(expression),
                Err(error) => {
                    errors.push(ParseError {
                        pointer: pointer.clone(),
                        message: error.message,
                    });
                    Node::Literal(Value::Null)
                }
            },
            None => Node::Literal(value.clone()),
        },
        Value::Array(items) => {
            let nodes: Vec<Node> = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let len = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    let node = parse_node(item, pointer, errors);
                    pointer.truncate(len);
                    node
                })
                .collect();
            if nodes.iter().all(|n| matches!(n, Node::Literal(_))) {
                Node::Literal(value.clone())
            } else {
                Node::Array(nodes)
            }
        }
        Value::Object(members) => {
            let nodes: Vec<(String, Node)> = members
                .iter()
                .map(|(key, member)| {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    let node = parse_node(member, pointer, errors);
                    pointer.truncate(len);
                    (key.clone(), node)
                })
                .collect();
            if nodes.iter().all(|(_, n)| matches!(n, Node::Literal(_))) {
                Node::Literal(value.clone())
            } else {
                Node::Object(nodes)
            }
        }
        _ => Node::Literal(value.clone()),
    }
}

/// `field` is where `node` sits, written as AWS names fields (`/key`, `[i]`).
fn evaluate_node(node: &Node, session: &Session<'_>, field: &mut String) -> Result<Value, Error> {
    match node {
        Node::Literal(value) => Ok(value.clone()),
        Node::Expression(expression) => expression.evaluate_in(session, field)?.ok_or_else(|| Error::Undefined {
            expression: expression.source().to_owned(),
            field: field.clone(),
        }),
        Node::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = field.len();
                field.push_str(&format!("[{i}]"));
                out.push(evaluate_node(item, session, field)?);
                field.truncate(len);
            }
            Ok(Value::Array(out))
        }
        Node::Object(members) => {
            let mut out = Map::with_capacity(members.len());
            for (key, member) in members {
                let len = field.len();
                field.push('/');
                field.push_str(key);
                out.insert(key.clone(), evaluate_node(member, session, field)?);
                field.truncate(len);
            }
            Ok(Value::Object(out))
        }
    }
}
