//! What Step Functions refuses in an expression that JSONata itself accepts, and the variable
//! names an expression mentions.
//!
//! AWS refuses, when the state machine is created: `$eval` (use `$parse`); `$$`; `$` and a
//! bare field name at the top level of an expression, where no context item exists (write
//! `$states.input.phone`, not `phone`). Only the first step of a path is read against the top
//! level: later steps, predicates, sort terms, `.( )` bodies and object groupings read their
//! own context and may name fields. A lambda body keeps the context it is defined in.

use jsonata_core::ast::{AstNode, PathStep, Stage};

/// What one walk found.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// The first restriction broken, as AWS words it.
    pub(crate) refusal: Option<String>,
    /// Every `$name` mentioned (without the `$`), once each, in order of appearance.
    pub(crate) variables: Vec<String>,
}

/// Walks `node`, an expression's whole tree.
pub(crate) fn check(node: &AstNode) -> Findings {
    let mut findings = Findings::default();
    walk(node, true, &mut findings);
    findings
}

impl Findings {
    fn refuse(&mut self, message: String) {
        self.refusal.get_or_insert(message);
    }

    fn refuse_eval(&mut self) {
        self.refuse("The function '$eval' is not supported; use '$parse' instead".into());
    }

    fn variable(&mut self, name: &str) {
        if name == "eval" {
            self.refuse_eval();
        }
        if !name.is_empty() && !self.variables.iter().any(|v| v == name) {
            self.variables.push(name.to_owned());
        }
    }
}

/// `top`: whether `node` is read against the top level, where no context item exists.
fn walk(node: &AstNode, top: bool, found: &mut Findings) {
    match node {
        AstNode::String(_)
        | AstNode::Number(_)
        | AstNode::Boolean(_)
        | AstNode::Null
        | AstNode::Undefined
        | AstNode::Placeholder
        | AstNode::Regex { .. }
        | AstNode::Wildcard
        | AstNode::Descendant
        | AstNode::Parent(_) => {}
        AstNode::Name(name) => {
            if top {
                found.refuse(format!("Reference to '{name}' at the top level is not supported"));
            }
        }
        AstNode::Variable(name) => {
            if name.is_empty() && top {
                found.refuse("Reference to '$' at the top level is not supported".into());
            }
            found.variable(name);
        }
        AstNode::ParentVariable(_) => found.refuse("Reference to '$$' is not supported".into()),
        AstNode::Path { steps } => {
            for (i, step) in steps.iter().enumerate() {
                walk_step(step, top && i == 0, found);
            }
        }
        AstNode::Binary { lhs, rhs, .. } => {
            walk(lhs, top, found);
            walk(rhs, top, found);
        }
        AstNode::Unary { operand, .. } => walk(operand, top, found),
        AstNode::Function { name, args, .. } => {
            // A workflow variable is JSON, never a function, so a called name is not looked up.
            if name == "eval" {
                found.refuse_eval();
            }
            walk_all(args, top, found);
        }
        AstNode::Call { procedure, args } => {
            walk(procedure, top, found);
            walk_all(args, top, found);
        }
        AstNode::Lambda { body, .. } => walk(body, top, found),
        AstNode::Array(items) | AstNode::Block(items) | AstNode::ArrayGroup(items) => {
            walk_all(items, top, found);
        }
        AstNode::Object(pairs) => {
            for (key, value) in pairs {
                walk(key, top, found);
                walk(value, top, found);
            }
        }
        AstNode::ObjectTransform { input, pattern } => {
            walk(input, top, found);
            for (key, value) in pattern {
                walk(key, false, found);
                walk(value, false, found);
            }
        }
        AstNode::Conditional {
            condition,
            then_branch,
            else_branch,
        } => {
            walk(condition, top, found);
            walk(then_branch, top, found);
            if let Some(else_branch) = else_branch {
                walk(else_branch, top, found);
            }
        }
        AstNode::FunctionApplication(body) => walk(body, false, found),
        AstNode::Sort { input, terms } => {
            walk(input, top, found);
            for (term, _) in terms {
                walk(term, false, found);
            }
        }
        AstNode::Transform {
            location,
            update,
            delete,
        } => {
            walk(location, false, found);
            walk(update, false, found);
            if let Some(delete) = delete {
                walk(delete, false, found);
            }
        }
    }
}

fn walk_all(nodes: &[AstNode], top: bool, found: &mut Findings) {
    for node in nodes {
        walk(node, top, found);
    }
}

fn walk_step(step: &PathStep, top: bool, found: &mut Findings) {
    walk(&step.node, top, found);
    for stage in &step.stages {
        if let Stage::Filter(predicate) = stage {
            walk(predicate, false, found);
        }
    }
}
