//! One JSONata expression, parsed once, evaluated with a fresh evaluator each time.

use std::cell::Cell;
use std::rc::Rc;

use jsonata_core::ast::AstNode;
use jsonata_core::evaluator::{Context, Evaluator, EvaluatorError, EvaluatorOptions};
use jsonata_core::parser;
use jsonata_core::value::JValue;
use serde_json::Value;

use crate::convert::{from_jvalue, to_jvalue};
use crate::functions::{self, Impure};
use crate::{Bindings, Error, ParseError, check};

/// How long one expression may run, in milliseconds. AWS bounds evaluation too; this bound
/// only catches runaway expressions (a recursion without a base case).
const TIMEOUT_MS: u64 = 5_000;

/// One JSONata expression: the text between `{%` and `%}`.
#[derive(Debug)]
pub struct Expression {
    source: String,
    ast: AstNode,
    /// The `$name`s the expression mentions, other than `states`.
    variables: Vec<String>,
}

impl Expression {
    /// Parses `source`, an expression without its `{% %}`, refusing what Step Functions
    /// refuses (see the crate documentation). The error's pointer is `""`.
    pub fn new(source: &str) -> Result<Expression, ParseError> {
        let refuse = |message: String| ParseError {
            pointer: String::new(),
            message,
        };
        if source.is_empty() {
            return Err(refuse("The JSONata expression is empty".into()));
        }
        let ast = parser::parse(source).map_err(|e| refuse(e.to_string()))?;
        let findings = check::check(&ast);
        if let Some(message) = findings.refusal {
            return Err(refuse(message));
        }
        let mut variables = findings.variables;
        variables.retain(|v| v != "states");
        Ok(Expression {
            source: source.to_owned(),
            ast,
            variables,
        })
    }

    /// The expression's text, without its `{% %}`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The workflow variables the expression mentions (without the `$`), in order of first
    /// mention. A name bound inside the expression (`$x := 1`, a lambda parameter) is listed
    /// too.
    pub fn variables(&self) -> &[String] {
        &self.variables
    }

    /// Evaluates the expression; `Ok(None)` when it yields nothing (undefined).
    pub fn evaluate(&self, bindings: &Bindings<'_>) -> Result<Option<Value>, Error> {
        self.evaluate_in(&Session::new(bindings), "")
    }

    /// Evaluates the expression within `session`; errors name `field`.
    pub(crate) fn evaluate_in(&self, session: &Session<'_>, field: &str) -> Result<Option<Value>, Error> {
        let failed = |e: EvaluatorError| Error::Evaluation {
            expression: self.source.clone(),
            field: field.to_owned(),
            message: e.message().to_owned(),
        };
        let mut context = Context::new();
        context.bind("states".into(), session.states.clone());
        for name in &self.variables {
            if let Some(value) = (session.bindings.variables)(name) {
                context.bind(name.clone(), to_jvalue(&value));
            }
        }
        let options = EvaluatorOptions {
            timeout_ms: Some(TIMEOUT_MS),
            ..EvaluatorOptions::default()
        };
        let mut evaluator = Evaluator::with_options(context, options);
        functions::register(&mut evaluator, &session.impure).map_err(failed)?;
        let result = evaluator.evaluate(&self.ast, &JValue::Undefined).map_err(failed)?;
        Ok(from_jvalue(&result))
    }
}

/// What one evaluation of a template shares across its expressions: `$states` converted once,
/// and one stream of random draws.
pub(crate) struct Session<'a> {
    bindings: &'a Bindings<'a>,
    states: JValue,
    impure: Impure,
}

impl<'a> Session<'a> {
    pub(crate) fn new(bindings: &'a Bindings<'a>) -> Self {
        Session {
            bindings,
            states: to_jvalue(bindings.states),
            impure: Impure {
                now_millis: bindings.now_millis,
                seed: bindings.random_seed,
                draws: Rc::new(Cell::new(0)),
            },
        }
    }
}
