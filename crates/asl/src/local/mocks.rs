//! Mocked task responses in the format of AWS Step Functions Local's mock configuration,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html>:
//! `StateMachines.<name>.TestCases.<case>` maps state names to entries of `MockedResponses`,
//! whose keys (`"0"`, `"1-2"`, …) give a `Return` or a `Throw` per invocation.

use std::collections::HashMap;

use serde_json::Value;

use crate::Failure;

/// The mocked responses of one test case, by state name.
#[derive(Debug, Clone, Default)]
pub struct Mocks {
    by_state: HashMap<String, MockedResponse>,
    /// Where the mocks came from, for error messages: `test case "X" of state machine "Y"`.
    origin: String,
}

/// One entry of `MockedResponses`: responses by invocation number.
#[derive(Debug, Clone, Default)]
struct MockedResponse {
    name: String,
    ranges: Vec<(u64, u64, Response)>,
}

/// What a mocked task does on one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// `Return`: the task succeeds with this result.
    Return(Value),
    /// `Throw`: the task fails with this error.
    Throw(Failure),
}

/// A mock configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration has no such state machine or test case.
    #[error(
        "the mocks have no test case \"{test_case}\" for the state machine \"{state_machine}\" (at /StateMachines/{state_machine}/TestCases/{test_case})"
    )]
    NoTestCase {
        /// The state machine name looked up.
        state_machine: String,
        /// The test case looked up.
        test_case: String,
    },
    /// A part of the configuration has the wrong shape.
    #[error("{pointer}: {message}")]
    Invalid {
        /// The JSON pointer of the offending value.
        pointer: String,
        /// What is wrong.
        message: String,
    },
}

impl Mocks {
    /// The mocks of one test case of one state machine.
    pub fn from_config(config: &Value, state_machine: &str, test_case: &str) -> Result<Mocks, Error> {
        let no_test_case = || Error::NoTestCase {
            state_machine: state_machine.to_owned(),
            test_case: test_case.to_owned(),
        };
        let case = config
            .get("StateMachines")
            .and_then(|machines| machines.get(state_machine))
            .and_then(|machine| machine.get("TestCases"))
            .and_then(|cases| cases.get(test_case))
            .ok_or_else(no_test_case)?;
        let case_pointer = format!("/StateMachines/{state_machine}/TestCases/{test_case}");
        let Value::Object(case) = case else {
            return Err(invalid(
                &case_pointer,
                "must be an object mapping state names to mocked responses",
            ));
        };
        let mut by_state = HashMap::new();
        for (state, response_name) in case {
            let Value::String(response_name) = response_name else {
                return Err(invalid(
                    &format!("{case_pointer}/{state}"),
                    "must be the name of an entry of MockedResponses",
                ));
            };
            let pointer = format!("/MockedResponses/{response_name}");
            let entry = config
                .get("MockedResponses")
                .and_then(|responses| responses.get(response_name))
                .ok_or_else(|| {
                    invalid(
                        &format!("{case_pointer}/{state}"),
                        &format!("no mocked response named \"{response_name}\" in MockedResponses"),
                    )
                })?;
            by_state.insert(state.clone(), parse_response(response_name, entry, &pointer)?);
        }
        Ok(Mocks {
            by_state,
            origin: format!("test case \"{test_case}\" of state machine \"{state_machine}\""),
        })
    }

    /// The response of the `invocation`-th call (from 0) of the Task state `state`.
    pub fn respond(&self, state: &str, invocation: u64) -> Result<Response, String> {
        let origin = if self.origin.is_empty() {
            "no mocks were given"
        } else {
            self.origin.as_str()
        };
        let Some(mocked) = self.by_state.get(state) else {
            return Err(format!("the Task state \"{state}\" has no mocked response ({origin})"));
        };
        mocked
            .ranges
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&invocation))
            .map(|(_, _, response)| response.clone())
            .ok_or_else(|| {
                format!(
                    "the mocked response \"{}\" of the Task state \"{state}\" has no entry for invocation {invocation} ({origin})",
                    mocked.name
                )
            })
    }
}

fn parse_response(name: &str, entry: &Value, pointer: &str) -> Result<MockedResponse, Error> {
    let Value::Object(entry) = entry else {
        return Err(invalid(
            pointer,
            "must be an object whose keys are invocation numbers such as \"0\" or \"1-2\"",
        ));
    };
    let mut ranges = Vec::new();
    for (key, response) in entry {
        let at = format!("{pointer}/{key}");
        let (first, last) = parse_range(key)
            .ok_or_else(|| invalid(&at, "the key must be an invocation number (\"0\") or range (\"1-2\")"))?;
        let response = match (response.get("Return"), response.get("Throw")) {
            (Some(value), None) => Response::Return(value.clone()),
            (None, Some(throw)) => {
                let error = throw
                    .get("Error")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid(&format!("{at}/Throw/Error"), "must be a string"))?;
                let cause = throw.get("Cause").and_then(Value::as_str).map(str::to_owned);
                Response::Throw(Failure {
                    error: error.to_owned(),
                    cause,
                })
            }
            _ => return Err(invalid(&at, "must have exactly one of \"Return\" and \"Throw\"")),
        };
        ranges.push((first, last, response));
    }
    Ok(MockedResponse {
        name: name.to_owned(),
        ranges,
    })
}

fn parse_range(key: &str) -> Option<(u64, u64)> {
    match key.split_once('-') {
        Some((first, last)) => {
            let (first, last) = (first.trim().parse().ok()?, last.trim().parse().ok()?);
            (first <= last).then_some((first, last))
        }
        None => key.trim().parse().ok().map(|number| (number, number)),
    }
}

fn invalid(pointer: &str, message: &str) -> Error {
    Error::Invalid {
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    }
}
