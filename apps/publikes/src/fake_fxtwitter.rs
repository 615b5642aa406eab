//! A fake fxtwitter API for tests: `GET /status/{id}` answers `{"code": 200, "message": "OK",
//! "tweet": {…}}` made from the id, on 127.0.0.1 only. Ids ending in `404` answer 404
//! (`NOT_FOUND`), ids ending in `500` answer 500 (`API_FAIL`) every time, and ids ending in `503`
//! fail twice before they answer, to exercise store-status's Retry. It stops after a number of
//! requests or a time, whichever comes first, so a test can never leave it running.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

/// How long the fake serves at most.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    /// Requests answered before it stops.
    pub max_requests: usize,
    /// Time before it stops.
    pub max_time: Duration,
}

#[derive(Default)]
struct Counters {
    total: usize,
    by_id: HashMap<String, usize>,
}

/// Serves the fake on `127.0.0.1:{port}` (0 for any free port) until its bounds are reached;
/// answers the address it listens on and the task that serves.
pub async fn spawn(port: u16, bounds: Bounds) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    let counters = Arc::new(Mutex::new(Counters::default()));
    let done = Arc::new(tokio::sync::Notify::new());
    let state = (counters, done.clone(), bounds.max_requests);
    let router = Router::new().route("/status/{id}", get(status)).with_state(state);
    let task = tokio::spawn(async move {
        let stop = async move {
            tokio::select! {
                () = done.notified() => {}
                () = tokio::time::sleep(bounds.max_time) => {}
            }
        };
        if let Err(error) = axum::serve(listener, router).with_graceful_shutdown(stop).await {
            tracing::warn!("the fake fxtwitter stopped: {error}");
        }
    });
    Ok((address, task))
}

type Shared = (Arc<Mutex<Counters>>, Arc<tokio::sync::Notify>, usize);

async fn status(State((counters, done, max_requests)): State<Shared>, Path(id): Path<String>) -> Response {
    let seen = match counters.lock() {
        Ok(mut counters) => {
            counters.total += 1;
            if counters.total >= max_requests {
                done.notify_one();
            }
            let seen = counters.by_id.entry(id.clone()).or_default();
            *seen += 1;
            *seen
        }
        Err(_) => 1,
    };
    if id.ends_with("404") {
        let body = json!({"code": 404, "message": "NOT_FOUND", "tweet": null});
        return json_response(StatusCode::NOT_FOUND, &body);
    }
    if id.ends_with("500") || (id.ends_with("503") && seen <= 2) {
        let body = json!({"code": 500, "message": "API_FAIL", "tweet": null});
        return json_response(StatusCode::INTERNAL_SERVER_ERROR, &body);
    }
    let body = json!({
        "code": 200,
        "message": "OK",
        "tweet": {
            "id": id,
            "url": format!("https://x.com/someone/status/{id}"),
            "text": format!("status {id}"),
            "author": {"id": "1", "name": "Someone", "screen_name": "someone"},
            "likes": 1,
            "replies": 0,
        }
    });
    json_response(StatusCode::OK, &body)
}

fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
