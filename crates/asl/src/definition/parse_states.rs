//! Parsing the fields of each state type except Choice (see `parse_choice`).

use std::sync::Arc;

use chrono::DateTime;
use serde_json::Value;

use super::fields::{Fields, kind};
use super::parse::{IoFields, Parser};
use super::states::{ItemBatcher, Jitter};
use super::{
    Catcher, Dynamic, Fail, Io, Map, Parallel, Pass, QueryLanguage, Resource, Retrier, StateKind, Succeed, Task,
    Tolerance, Wait, WaitFor,
};
use crate::diagnostics::Pointer;
use crate::failure::names;
use crate::payload::Template;

/// The largest `Seconds`, `IntervalSeconds` and similar AWS accepts.
const MAX_SECONDS: u64 = 99_999_999;

impl Parser {
    pub(super) fn pass(&mut self, fields: &mut Fields<'_>, language: QueryLanguage, io: &mut Io) -> Option<StateKind> {
        let allowed = IoFields {
            parameters: true,
            result_path: true,
            output: true,
            ..IoFields::default()
        };
        self.io(fields, language, io, allowed);
        let result = match language {
            QueryLanguage::JsonPath => fields.raw("Result").map(|value| Arc::new(value.clone())),
            QueryLanguage::Jsonata => None,
        };
        Some(StateKind::Pass(Pass { result }))
    }

    pub(super) fn task(&mut self, fields: &mut Fields<'_>, language: QueryLanguage, io: &mut Io) -> Option<StateKind> {
        let allowed = IoFields {
            parameters: true,
            result_selector: true,
            result_path: true,
            arguments: true,
            output: true,
        };
        self.io(fields, language, io, allowed);
        let resource = fields
            .required_string("Resource", &mut self.diagnostics)
            .map(Resource::new);
        let timeout_seconds = self.seconds(fields, "TimeoutSeconds", "TimeoutSecondsPath", language);
        let heartbeat_seconds = self.seconds(fields, "HeartbeatSeconds", "HeartbeatSecondsPath", language);
        if let (Some(Dynamic::Fixed(timeout)), Some(Dynamic::Fixed(heartbeat))) = (&timeout_seconds, &heartbeat_seconds)
            && heartbeat >= timeout
        {
            self.diagnostics.push(
                &fields.at("HeartbeatSeconds"),
                "must be smaller than \"TimeoutSeconds\"",
            );
        }
        let credentials = fields.raw("Credentials").map(|value| {
            let pointer = fields.at("Credentials");
            self.template(value, &pointer, language)
        });
        let (retry, catch) = self.recovery(fields, language);
        Some(StateKind::Task(Task {
            resource: resource?,
            timeout_seconds,
            heartbeat_seconds,
            credentials,
            retry,
            catch,
        }))
    }

    pub(super) fn wait(&mut self, fields: &mut Fields<'_>, language: QueryLanguage, io: &mut Io) -> Option<StateKind> {
        let allowed = IoFields {
            output: true,
            ..IoFields::default()
        };
        self.io(fields, language, io, allowed);
        let mut found = Vec::new();
        let names: &[&'static str] = match language {
            QueryLanguage::JsonPath => &["Seconds", "Timestamp", "SecondsPath", "TimestampPath"],
            QueryLanguage::Jsonata => &["Seconds", "Timestamp"],
        };
        for &name in names {
            if fields.has(name) {
                found.push(name);
            }
        }
        if found.len() != 1 {
            let message = match language {
                QueryLanguage::JsonPath => {
                    "must have exactly one of \"Seconds\", \"Timestamp\", \"SecondsPath\" and \"TimestampPath\""
                }
                QueryLanguage::Jsonata => "must have exactly one of \"Seconds\" and \"Timestamp\"",
            };
            self.diagnostics.push(&fields.pointer, message);
            return None;
        }
        let wait_for = match found[0] {
            "Seconds" => WaitFor::Seconds(self.seconds(fields, "Seconds", "SecondsPath", language)?),
            "SecondsPath" => WaitFor::Seconds(self.seconds(fields, "Seconds", "SecondsPath", language)?),
            _ => {
                let pointer = fields.at(found[0]);
                let value = fields.raw(found[0])?;
                WaitFor::Timestamp(self.timestamp(value, found[0] == "TimestampPath", &pointer, language)?)
            }
        };
        Some(StateKind::Wait(Wait { wait_for }))
    }

    fn timestamp(
        &mut self,
        value: &Value,
        is_path: bool,
        pointer: &Pointer,
        language: QueryLanguage,
    ) -> Option<Dynamic<DateTime<chrono::FixedOffset>>> {
        let Value::String(text) = value else {
            self.diagnostics
                .push(pointer, format!("must be a string, not {}", kind(value)));
            return None;
        };
        if language == QueryLanguage::Jsonata && crate::jsonata::is_expression(text) {
            return Some(Dynamic::Expression(self.template(value, pointer, language)));
        }
        if is_path {
            return self.reference_path(text, pointer).map(Dynamic::Path);
        }
        match crate::timestamp::parse(text) {
            Some(instant) => Some(Dynamic::Fixed(instant)),
            None => {
                self.diagnostics.push(
                    pointer,
                    format!("\"{text}\" is not an RFC 3339 timestamp such as \"2026-03-14T01:59:00Z\""),
                );
                None
            }
        }
    }

    /// A seconds field and its `…Path` form (at most one of them).
    pub(super) fn seconds(
        &mut self,
        fields: &mut Fields<'_>,
        name: &'static str,
        path_name: &'static str,
        language: QueryLanguage,
    ) -> Option<Dynamic<u64>> {
        let path = match language {
            QueryLanguage::JsonPath => fields.string(path_name, &mut self.diagnostics),
            QueryLanguage::Jsonata => None,
        };
        let pointer = fields.at(name);
        let fixed = match fields.raw(name) {
            None => None,
            Some(value @ Value::String(text))
                if language == QueryLanguage::Jsonata && crate::jsonata::is_expression(text) =>
            {
                Some(Dynamic::Expression(self.template(value, &pointer, language)))
            }
            Some(_) => {
                let minimum = u64::from(name != "Seconds");
                match fields.integer(name, MAX_SECONDS, &mut self.diagnostics) {
                    Some(seconds) if seconds < minimum => {
                        self.diagnostics.push(&pointer, "must be a positive integer");
                        None
                    }
                    other => other.map(Dynamic::Fixed),
                }
            }
        };
        match (fixed, path) {
            (Some(_), Some(_)) => {
                self.diagnostics.push(
                    &fields.pointer,
                    format!("cannot have both \"{name}\" and \"{path_name}\""),
                );
                None
            }
            (Some(fixed), None) => Some(fixed),
            (None, Some(text)) => self.reference_path(text, &fields.at(path_name)).map(Dynamic::Path),
            (None, None) => None,
        }
    }

    pub(super) fn succeed(
        &mut self,
        fields: &mut Fields<'_>,
        language: QueryLanguage,
        io: &mut Io,
    ) -> Option<StateKind> {
        let allowed = IoFields {
            output: true,
            ..IoFields::default()
        };
        self.io(fields, language, io, allowed);
        Some(StateKind::Succeed(Succeed {}))
    }

    pub(super) fn fail(&mut self, fields: &mut Fields<'_>, language: QueryLanguage) -> Option<StateKind> {
        let error = self.fail_field(fields, "Error", "ErrorPath", language);
        let cause = self.fail_field(fields, "Cause", "CausePath", language);
        Some(StateKind::Fail(Fail { error, cause }))
    }

    fn fail_field(
        &mut self,
        fields: &mut Fields<'_>,
        name: &'static str,
        path_name: &'static str,
        language: QueryLanguage,
    ) -> Option<Dynamic<String>> {
        let pointer = fields.at(name);
        let fixed = fields.string(name, &mut self.diagnostics).map(|text| {
            if language == QueryLanguage::Jsonata && crate::jsonata::is_expression(text) {
                Dynamic::Expression(self.template(&Value::String(text.to_owned()), &pointer, language))
            } else {
                Dynamic::Fixed(text.to_owned())
            }
        });
        let path = match language {
            QueryLanguage::JsonPath => fields.string(path_name, &mut self.diagnostics),
            QueryLanguage::Jsonata => None,
        };
        match (fixed, path) {
            (Some(_), Some(_)) => {
                self.diagnostics.push(
                    &fields.pointer,
                    format!("cannot have both \"{name}\" and \"{path_name}\""),
                );
                None
            }
            (Some(fixed), None) => Some(fixed),
            (None, Some(text)) => {
                // ErrorPath and CausePath take a path or an intrinsic function, as `.$` fields do.
                let at = fields.at(path_name);
                let template =
                    Template::dynamic(path_name, &Value::String(text.to_owned()), &at, &mut self.diagnostics);
                Some(Dynamic::Expression(template))
            }
            (None, None) => None,
        }
    }

    pub(super) fn parallel(
        &mut self,
        fields: &mut Fields<'_>,
        language: QueryLanguage,
        io: &mut Io,
    ) -> Option<StateKind> {
        let allowed = IoFields {
            parameters: true,
            result_selector: true,
            result_path: true,
            arguments: true,
            output: true,
        };
        self.io(fields, language, io, allowed);
        let pointer = fields.at("Branches");
        let mut branches = Vec::new();
        match fields.raw("Branches") {
            None => self.diagnostics.push(&pointer, "is required"),
            Some(Value::Array(list)) if list.is_empty() => {
                self.diagnostics.push(&pointer, "must have at least one branch")
            }
            Some(Value::Array(list)) => {
                for (position, branch) in list.iter().enumerate() {
                    if let Some(mut branch_fields) = Fields::of(branch, pointer.index(position), &mut self.diagnostics)
                    {
                        let graph = self.nested_graph(&mut branch_fields, language);
                        branch_fields.finish("a branch", &mut self.diagnostics);
                        branches.extend(graph.map(Arc::new));
                    }
                }
            }
            Some(other) => self
                .diagnostics
                .push(&pointer, format!("must be an array, not {}", kind(other))),
        }
        let (retry, catch) = self.recovery(fields, language);
        Some(StateKind::Parallel(Parallel { branches, retry, catch }))
    }

    /// A branch or item processor: `StartAt`, `States`, and its own `QueryLanguage` and `Comment`.
    fn nested_graph(&mut self, fields: &mut Fields<'_>, language: QueryLanguage) -> Option<super::Graph> {
        let _comment = fields.string("Comment", &mut self.diagnostics);
        let language = self.query_language_of_nested(fields, language);
        self.graph(fields, language)
    }

    fn query_language_of_nested(&mut self, fields: &mut Fields<'_>, inherited: QueryLanguage) -> QueryLanguage {
        match fields.string("QueryLanguage", &mut self.diagnostics) {
            Some("JSONata") => QueryLanguage::Jsonata,
            Some("JSONPath") => QueryLanguage::JsonPath,
            Some(other) => {
                self.diagnostics.push(
                    &fields.at("QueryLanguage"),
                    format!("must be \"JSONPath\" or \"JSONata\", not \"{other}\""),
                );
                inherited
            }
            None => inherited,
        }
    }

    pub(super) fn map(&mut self, fields: &mut Fields<'_>, language: QueryLanguage, io: &mut Io) -> Option<StateKind> {
        let allowed = IoFields {
            result_selector: true,
            result_path: true,
            output: true,
            ..IoFields::default()
        };
        self.io(fields, language, io, allowed);
        let processor_name = match (fields.has("ItemProcessor"), fields.has("Iterator")) {
            (true, true) => {
                self.diagnostics
                    .push(&fields.pointer, "cannot have both \"ItemProcessor\" and \"Iterator\"");
                return None;
            }
            (false, false) => {
                self.diagnostics.push(&fields.at("ItemProcessor"), "is required");
                return None;
            }
            (true, false) => "ItemProcessor",
            (false, true) => "Iterator",
        };
        let processor_pointer = fields.at(processor_name);
        let item_processor = fields.raw(processor_name).and_then(|value| {
            let mut processor = Fields::of(value, processor_pointer.clone(), &mut self.diagnostics)?;
            if let Some(config) = processor.raw("ProcessorConfig") {
                self.processor_config(config, &processor.at("ProcessorConfig"));
            }
            let graph = self.nested_graph(&mut processor, language);
            processor.finish("an item processor", &mut self.diagnostics);
            graph
        });
        let (items_path, items) = match language {
            QueryLanguage::JsonPath => {
                let items_path = fields.string("ItemsPath", &mut self.diagnostics).and_then(|text| {
                    let pointer = fields.at("ItemsPath");
                    match sluice_jsonpath::ReferencePath::parse(text) {
                        Ok(path) => Some(path),
                        Err(error) => {
                            self.diagnostics
                                .push(&pointer, format!("invalid reference path \"{text}\": {error}"));
                            None
                        }
                    }
                });
                (items_path, None)
            }
            QueryLanguage::Jsonata => {
                let pointer = fields.at("Items");
                (
                    None,
                    fields
                        .raw("Items")
                        .map(|value| self.template(value, &pointer, language)),
                )
            }
        };
        let item_selector = match (
            fields.has("ItemSelector"),
            language == QueryLanguage::JsonPath && fields.has("Parameters"),
        ) {
            (true, true) => {
                self.diagnostics
                    .push(&fields.pointer, "cannot have both \"ItemSelector\" and \"Parameters\"");
                None
            }
            (true, false) => fields.raw("ItemSelector").map(|value| {
                let pointer = fields.at("ItemSelector");
                self.template(value, &pointer, language)
            }),
            (false, true) => fields.raw("Parameters").map(|value| {
                let pointer = fields.at("Parameters");
                self.template(value, &pointer, language)
            }),
            (false, false) => None,
        };
        let max_concurrency = self.count(fields, "MaxConcurrency", "MaxConcurrencyPath", language);
        let tolerance = Tolerance {
            count: self.count(fields, "ToleratedFailureCount", "ToleratedFailureCountPath", language),
            percentage: self.percentage(fields, language),
        };
        let item_batcher = fields.raw("ItemBatcher").and_then(|value| {
            let pointer = fields.at("ItemBatcher");
            self.item_batcher(value, pointer, language)
        });
        for unsupported in ["ItemReader", "ResultWriter"] {
            if fields.has(unsupported) {
                let message = format!("\"{unsupported}\" (distributed Map over object storage) is not supported yet");
                self.diagnostics.push(&fields.at(unsupported), message);
            }
        }
        let _label = fields.string("Label", &mut self.diagnostics);
        let (retry, catch) = self.recovery(fields, language);
        Some(StateKind::Map(Map {
            item_processor: Arc::new(item_processor?),
            items_path,
            items,
            item_selector,
            max_concurrency,
            tolerance,
            item_batcher,
            retry,
            catch,
        }))
    }

    fn processor_config(&mut self, value: &Value, pointer: &Pointer) {
        let Some(mut config) = Fields::of(value, pointer.clone(), &mut self.diagnostics) else {
            return;
        };
        match config.string("Mode", &mut self.diagnostics) {
            None | Some("INLINE") | Some("DISTRIBUTED") => {}
            Some(other) => self.diagnostics.push(
                &config.at("Mode"),
                format!("must be \"INLINE\" or \"DISTRIBUTED\", not \"{other}\""),
            ),
        }
        match config.string("ExecutionType", &mut self.diagnostics) {
            None | Some("STANDARD") | Some("EXPRESS") => {}
            Some(other) => self.diagnostics.push(
                &config.at("ExecutionType"),
                format!("must be \"STANDARD\" or \"EXPRESS\", not \"{other}\""),
            ),
        }
        config.finish("a ProcessorConfig", &mut self.diagnostics);
    }

    /// A count field and its `…Path` form.
    fn count(
        &mut self,
        fields: &mut Fields<'_>,
        name: &'static str,
        path_name: &'static str,
        language: QueryLanguage,
    ) -> Option<Dynamic<u64>> {
        let path = match language {
            QueryLanguage::JsonPath => fields.string(path_name, &mut self.diagnostics),
            QueryLanguage::Jsonata => None,
        };
        let pointer = fields.at(name);
        let fixed = match fields.raw(name) {
            Some(value @ Value::String(text))
                if language == QueryLanguage::Jsonata && crate::jsonata::is_expression(text) =>
            {
                Some(Dynamic::Expression(self.template(value, &pointer, language)))
            }
            Some(_) => fields
                .integer(name, MAX_SECONDS, &mut self.diagnostics)
                .map(Dynamic::Fixed),
            None => None,
        };
        match (fixed, path) {
            (Some(_), Some(_)) => {
                self.diagnostics.push(
                    &fields.pointer,
                    format!("cannot have both \"{name}\" and \"{path_name}\""),
                );
                None
            }
            (Some(fixed), None) => Some(fixed),
            (None, Some(text)) => self.reference_path(text, &fields.at(path_name)).map(Dynamic::Path),
            (None, None) => None,
        }
    }

    fn percentage(&mut self, fields: &mut Fields<'_>, language: QueryLanguage) -> Option<Dynamic<f64>> {
        let (name, path_name) = ("ToleratedFailurePercentage", "ToleratedFailurePercentagePath");
        let path = match language {
            QueryLanguage::JsonPath => fields.string(path_name, &mut self.diagnostics),
            QueryLanguage::Jsonata => None,
        };
        let pointer = fields.at(name);
        let fixed = match fields.raw(name) {
            Some(value @ Value::String(text))
                if language == QueryLanguage::Jsonata && crate::jsonata::is_expression(text) =>
            {
                Some(Dynamic::Expression(self.template(value, &pointer, language)))
            }
            Some(_) => match fields.number(name, &mut self.diagnostics) {
                Some(percentage) if (0.0..=100.0).contains(&percentage) => Some(Dynamic::Fixed(percentage)),
                Some(_) => {
                    self.diagnostics.push(&pointer, "must be a number from 0 to 100");
                    None
                }
                None => None,
            },
            None => None,
        };
        match (fixed, path) {
            (Some(_), Some(_)) => {
                self.diagnostics.push(
                    &fields.pointer,
                    format!("cannot have both \"{name}\" and \"{path_name}\""),
                );
                None
            }
            (Some(fixed), None) => Some(fixed),
            (None, Some(text)) => self.reference_path(text, &fields.at(path_name)).map(Dynamic::Path),
            (None, None) => None,
        }
    }

    fn item_batcher(&mut self, value: &Value, pointer: Pointer, language: QueryLanguage) -> Option<ItemBatcher> {
        let mut batcher = Fields::of(value, pointer, &mut self.diagnostics)?;
        let max_items_per_batch = self.count(&mut batcher, "MaxItemsPerBatch", "MaxItemsPerBatchPath", language);
        let max_input_bytes_per_batch = self.count(
            &mut batcher,
            "MaxInputBytesPerBatch",
            "MaxInputBytesPerBatchPath",
            language,
        );
        let batch_input = batcher.raw("BatchInput").map(|value| {
            let at = batcher.at("BatchInput");
            self.template(value, &at, language)
        });
        if max_items_per_batch.is_none() && max_input_bytes_per_batch.is_none() {
            self.diagnostics.push(
                &batcher.pointer,
                "must have \"MaxItemsPerBatch\" or \"MaxInputBytesPerBatch\"",
            );
        }
        batcher.finish("an ItemBatcher", &mut self.diagnostics);
        Some(ItemBatcher {
            max_items_per_batch,
            max_input_bytes_per_batch,
            batch_input,
        })
    }

    /// `Retry` and `Catch`.
    pub(super) fn recovery(
        &mut self,
        fields: &mut Fields<'_>,
        language: QueryLanguage,
    ) -> (Vec<Retrier>, Vec<Catcher>) {
        let mut retry = Vec::new();
        let pointer = fields.at("Retry");
        if let Some(list) = self.list(fields, "Retry") {
            let last = list.len().saturating_sub(1);
            for (position, value) in list.iter().enumerate() {
                retry.extend(self.retrier(value, pointer.index(position), position == last));
            }
        }
        let mut catch = Vec::new();
        let pointer = fields.at("Catch");
        if let Some(list) = self.list(fields, "Catch") {
            let last = list.len().saturating_sub(1);
            for (position, value) in list.iter().enumerate() {
                catch.extend(self.catcher(value, pointer.index(position), position == last, language));
            }
        }
        (retry, catch)
    }

    fn list<'a>(&mut self, fields: &mut Fields<'a>, name: &'static str) -> Option<&'a Vec<Value>> {
        match fields.raw(name)? {
            Value::Array(list) => Some(list),
            other => {
                self.diagnostics
                    .push(&fields.at(name), format!("must be an array, not {}", kind(other)));
                None
            }
        }
    }

    fn retrier(&mut self, value: &Value, pointer: Pointer, is_last: bool) -> Option<Retrier> {
        let mut fields = Fields::of(value, pointer, &mut self.diagnostics)?;
        let error_equals = self.error_equals(&mut fields, is_last);
        let interval_seconds = fields
            .integer("IntervalSeconds", MAX_SECONDS, &mut self.diagnostics)
            .unwrap_or(1);
        if interval_seconds == 0 {
            self.diagnostics
                .push(&fields.at("IntervalSeconds"), "must be a positive integer");
        }
        let max_attempts = fields
            .integer("MaxAttempts", MAX_SECONDS, &mut self.diagnostics)
            .unwrap_or(3);
        let backoff_rate = fields.number("BackoffRate", &mut self.diagnostics).unwrap_or(2.0);
        if backoff_rate < 1.0 {
            self.diagnostics.push(&fields.at("BackoffRate"), "must be at least 1.0");
        }
        let max_delay_seconds = fields.integer("MaxDelaySeconds", 31_622_400, &mut self.diagnostics);
        if max_delay_seconds == Some(0) {
            self.diagnostics
                .push(&fields.at("MaxDelaySeconds"), "must be a positive integer");
        }
        let jitter = match fields.string("JitterStrategy", &mut self.diagnostics) {
            None | Some("NONE") => Jitter::None,
            Some("FULL") => Jitter::Full,
            Some(other) => {
                self.diagnostics.push(
                    &fields.at("JitterStrategy"),
                    format!("must be \"FULL\" or \"NONE\", not \"{other}\""),
                );
                Jitter::None
            }
        };
        let _comment = fields.string("Comment", &mut self.diagnostics);
        fields.finish("a retrier", &mut self.diagnostics);
        Some(Retrier {
            error_equals: error_equals?,
            interval_seconds,
            max_attempts,
            backoff_rate,
            max_delay_seconds,
            jitter,
        })
    }

    fn catcher(&mut self, value: &Value, pointer: Pointer, is_last: bool, language: QueryLanguage) -> Option<Catcher> {
        let mut fields = Fields::of(value, pointer, &mut self.diagnostics)?;
        let error_equals = self.error_equals(&mut fields, is_last);
        let next = fields.required_string("Next", &mut self.diagnostics);
        let result_path = match language {
            QueryLanguage::JsonPath => self.result_path(&mut fields, "ResultPath"),
            QueryLanguage::Jsonata => super::states::default_result_path(),
        };
        let output = match language {
            QueryLanguage::Jsonata => fields.raw("Output").map(|value| {
                let at = fields.at("Output");
                self.template(value, &at, language)
            }),
            QueryLanguage::JsonPath => None,
        };
        let assign = self.assign(&mut fields, language);
        let _comment = fields.string("Comment", &mut self.diagnostics);
        fields.finish("a catcher", &mut self.diagnostics);
        Some(Catcher {
            error_equals: error_equals?,
            next: next?.to_owned(),
            result_path,
            assign,
            output,
        })
    }

    /// `ErrorEquals`: a non-empty list of names; `States.ALL` alone, and only in the last entry.
    fn error_equals(&mut self, fields: &mut Fields<'_>, is_last: bool) -> Option<Vec<String>> {
        let pointer = fields.at("ErrorEquals");
        let Some(value) = fields.raw("ErrorEquals") else {
            self.diagnostics.push(&pointer, "is required");
            return None;
        };
        let Value::Array(list) = value else {
            self.diagnostics.push(
                &pointer,
                format!("must be an array of error names, not {}", kind(value)),
            );
            return None;
        };
        if list.is_empty() {
            self.diagnostics.push(&pointer, "must name at least one error");
            return None;
        }
        let mut names_found = Vec::with_capacity(list.len());
        for (position, entry) in list.iter().enumerate() {
            match entry {
                Value::String(name) => {
                    if name == names::ALL && list.len() > 1 {
                        self.diagnostics.push(
                            &pointer.index(position),
                            "\"States.ALL\" must appear alone in \"ErrorEquals\"",
                        );
                    }
                    if name == names::ALL && !is_last {
                        self.diagnostics.push(
                            &pointer.index(position),
                            "\"States.ALL\" must be in the last retrier or catcher",
                        );
                    }
                    names_found.push(name.clone());
                }
                other => self.diagnostics.push(
                    &pointer.index(position),
                    format!("must be a string, not {}", kind(other)),
                ),
            }
        }
        Some(names_found)
    }
}
