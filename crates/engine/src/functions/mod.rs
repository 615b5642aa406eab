//! Functions: the work a Task state runs. Three kinds: an in-process Rust handler registered by
//! a binary that embeds Sluice, a command (any executable: the event as JSON on stdin, the result
//! as JSON on stdout), and an HTTP endpoint (the event POSTed as JSON).

mod command;
mod http;

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use serde_json::{Value, json};

pub use command::CommandFunction;
pub use http::HttpFunction;

/// How a function failed, as Lambda reports it: an error type and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// The error name a Retry or Catch matches (`errorType`).
    pub error_type: String,
    /// What went wrong (`errorMessage`).
    pub message: String,
}

impl FunctionError {
    /// An error with a type and a message.
    pub fn new(error_type: impl Into<String>, message: impl Into<String>) -> FunctionError {
        FunctionError {
            error_type: error_type.into(),
            message: message.into(),
        }
    }

    /// The cause a Task failure carries: Lambda's error payload as JSON text.
    pub fn cause(&self) -> String {
        json!({ "errorMessage": self.message, "errorType": self.error_type }).to_string()
    }
}

/// The future an in-process handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, FunctionError>> + Send>>;

/// An in-process handler: an async function from the event to the result.
pub type Handler = Arc<dyn Fn(Value) -> HandlerFuture + Send + Sync>;

/// One function.
#[derive(Clone)]
pub enum Function {
    /// Rust code in this process.
    InProcess(Handler),
    /// An executable.
    Command(CommandFunction),
    /// An HTTP endpoint.
    Http(HttpFunction),
}

impl std::fmt::Debug for Function {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Function::InProcess(_) => formatter.write_str("Function::InProcess"),
            Function::Command(command) => formatter.debug_tuple("Function::Command").field(command).finish(),
            Function::Http(http) => formatter.debug_tuple("Function::Http").field(&http.url).finish(),
        }
    }
}

impl Function {
    /// An in-process function from an async closure.
    pub fn in_process<F, Fut>(handler: F) -> Function
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
    {
        Function::InProcess(Arc::new(move |event| Box::pin(handler(event))))
    }

    /// The kind of function, as the metrics label it: `in_process`, `command` or `http`.
    pub fn kind(&self) -> &'static str {
        match self {
            Function::InProcess(_) => "in_process",
            Function::Command(_) => "command",
            Function::Http(_) => "http",
        }
    }

    /// Runs the function on an event.
    pub async fn invoke(&self, event: Value) -> Result<Value, FunctionError> {
        match self {
            Function::InProcess(handler) => handler(event).await,
            Function::Command(command) => command.invoke(event).await,
            Function::Http(http) => http.invoke(event).await,
        }
    }
}

/// The functions an engine can call, by name.
#[derive(Debug, Clone, Default)]
pub struct Functions {
    by_name: Arc<RwLock<HashMap<String, Function>>>,
}

impl Functions {
    /// Registers (or replaces) a function.
    pub fn register(&self, name: impl Into<String>, function: Function) {
        if let Ok(mut by_name) = self.by_name.write() {
            by_name.insert(name.into(), function);
        }
    }

    /// The function of that name.
    pub fn get(&self, name: &str) -> Option<Function> {
        self.by_name.read().ok().and_then(|by_name| by_name.get(name).cloned())
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .by_name
            .read()
            .map(|by_name| by_name.keys().cloned().collect())
            .unwrap_or_default();
        names.sort();
        names
    }
}
