//! HTTP routes (Sluice's function URLs): a request's method and path, declared in an app's
//! manifest as `[routes."POST /publikes/likes"] function = "like"`, name the function that
//! answers it. The API builds the Lambda function-URL event and maps the result; this module only
//! keeps the table and parses route keys.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// The methods a route may name; `ANY` matches every method.
pub const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "ANY"];

/// Paths the server answers itself, which no route may take.
const RESERVED_PATHS: &[&str] = &["/", "/health", "/metrics"];

/// A route key: `METHOD /path`, as API Gateway's HTTP APIs write it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouteKey {
    /// An upper-case method from [`METHODS`].
    pub method: String,
    /// The exact path, starting with `/`.
    pub path: String,
}

impl RouteKey {
    /// Parses `POST /publikes/likes`, or says what is wrong with it.
    pub fn parse(text: &str) -> Result<RouteKey, String> {
        let Some((method, path)) = text.split_once(' ') else {
            return Err(format!(
                "route {text:?} must be a method and a path, like \"POST /publikes/likes\""
            ));
        };
        if !METHODS.contains(&method) {
            return Err(format!(
                "route {text:?}: the method must be one of {}, not {method:?}",
                METHODS.join(", ")
            ));
        }
        if !path.starts_with('/') {
            return Err(format!("route {text:?}: the path must start with /"));
        }
        if let Some(bad) = path
            .chars()
            .find(|character| character.is_whitespace() || matches!(character, '?' | '#' | '{' | '}'))
        {
            return Err(format!(
                "route {text:?}: the path must be a plain path without {bad:?} (no query, fragment or parameters)"
            ));
        }
        if RESERVED_PATHS.contains(&path) {
            return Err(format!("route {text:?}: the server answers {path} itself"));
        }
        Ok(RouteKey {
            method: method.to_owned(),
            path: path.to_owned(),
        })
    }
}

impl std::fmt::Display for RouteKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{} {}", self.method, self.path)
    }
}

/// A route a request matched: its key and the function that answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The declared key (`ANY /x` when that is what matched).
    pub key: RouteKey,
    /// The function's name.
    pub function: String,
}

/// The routes declared so far. Cheap to clone: clones share the table.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    by_key: Arc<RwLock<BTreeMap<RouteKey, String>>>,
}

impl Routes {
    /// Declares (or replaces) a route.
    pub fn register(&self, key: RouteKey, function: impl Into<String>) {
        if let Ok(mut by_key) = self.by_key.write() {
            by_key.insert(key, function.into());
        }
    }

    /// The route for a request: the one declared for its method, else the path's `ANY` route.
    pub fn find(&self, method: &str, path: &str) -> Option<Route> {
        let by_key = self.by_key.read().ok()?;
        [method, "ANY"].into_iter().find_map(|candidate| {
            let key = RouteKey {
                method: candidate.to_owned(),
                path: path.to_owned(),
            };
            by_key.get(&key).map(|function| Route {
                key,
                function: function.clone(),
            })
        })
    }

    /// Every route, sorted by key.
    pub fn all(&self) -> Vec<Route> {
        self.by_key
            .read()
            .map(|by_key| {
                by_key
                    .iter()
                    .map(|(key, function)| Route {
                        key: key.clone(),
                        function: function.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: Result<(&str, &str), &str>) {
        let parsed = RouteKey::parse(text);
        match (parsed, expect) {
            (Ok(key), Ok((method, path))) => assert_eq!((key.method.as_str(), key.path.as_str()), (method, path)),
            (Err(message), Err(fragment)) => assert!(message.contains(fragment), "{message}"),
            (other, expect) => panic!("{text:?}: got {other:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn route_keys() {
        check("POST /publikes/likes", Ok(("POST", "/publikes/likes")));
        check("ANY /hook", Ok(("ANY", "/hook")));
        check("/publikes/likes", Err("must be a method and a path"));
        check("post /x", Err("the method must be one of"));
        check("POST x", Err("must start with /"));
        check("GET /items/{id}", Err("plain path"));
        check("GET /x?y=1", Err("plain path"));
        check("POST /", Err("answers / itself"));
        check("GET /health", Err("answers /health itself"));
    }

    #[test]
    fn a_method_route_wins_over_any() {
        let routes = Routes::default();
        routes.register(RouteKey::parse("ANY /hook").unwrap(), "catch-all");
        routes.register(RouteKey::parse("POST /hook").unwrap(), "post");
        assert_eq!(routes.find("POST", "/hook").unwrap().function, "post");
        let any = routes.find("DELETE", "/hook").unwrap();
        assert_eq!(
            (any.function.as_str(), any.key.to_string().as_str()),
            ("catch-all", "ANY /hook")
        );
        assert_eq!(routes.find("POST", "/hook/"), None);
        assert_eq!(routes.all().len(), 2);
    }
}
