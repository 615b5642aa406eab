//! HTTP functions against a small server on 127.0.0.1, stopped by the test.

use std::time::Duration;

use serde_json::{Value, json};
use sluice_engine::functions::HttpFunction;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `count` requests: echoes `{"got": <body>}` with 200, or a Lambda-style error with 500
/// when the body has `"fail": true`.
async fn serve(count: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        for _ in 0..count {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            let body = loop {
                let read = socket.read(&mut buffer).await.unwrap_or(0);
                if read == 0 {
                    break Vec::new();
                }
                request.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|line| {
                            line.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().to_owned())
                        })
                        .and_then(|value| value.parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break request[end + 4..end + 4 + length].to_vec();
                    }
                }
            };
            let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let (status, answer) = if event["fail"] == json!(true) {
                (
                    "500 Internal Server Error",
                    json!({"errorType": "Upstream", "errorMessage": "it failed"}),
                )
            } else {
                ("200 OK", json!({"got": event}))
            };
            let answer = answer.to_string();
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                answer.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    format!("http://{address}/fn")
}

#[tokio::test]
async fn posts_the_event_and_reads_results_and_errors() {
    let url = serve(2).await;
    let function = HttpFunction::new(url, Duration::from_secs(5));
    assert_eq!(function.invoke(json!({"a": 1})).await, Ok(json!({"got": {"a": 1}})));
    let error = function.invoke(json!({"fail": true})).await.expect_err("a 500 fails");
    assert_eq!(
        (error.error_type.as_str(), error.message.as_str()),
        ("Upstream", "it failed")
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_clear_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
    let address = listener.local_addr().expect("an address");
    drop(listener);
    let function = HttpFunction::new(format!("http://{address}/gone"), Duration::from_secs(2));
    let error = function.invoke(json!({})).await.expect_err("nothing listens");
    assert_eq!(error.error_type, "Http.Unreachable");
    assert!(error.message.contains(&address.to_string()), "{}", error.message);
}
