//! The S3 REST API, path-style (`/{bucket}/{key}`), on the same port as the AWS JSON protocols:
//! requests without `X-Amz-Target` land here. Each is verified (SigV4 for `s3`, in its header or
//! presigned in its query), its body decoded, and its operation chosen by method, path and
//! query, then served by [`sluice_buckets::Buckets`].

mod body;
mod buckets;
pub mod error;
mod multipart;
mod objects;
pub mod xml;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use sluice_buckets::{Buckets, Targets};

use crate::router::Options;
use crate::sigv4::{self, Parts, Scope};
use error::{Code, S3Error};

/// The name S3 requests are signed for.
pub const SIGNING_NAME: &str = "s3";

/// The largest body one request may carry: 256 MiB (bodies are held in memory).
pub const MAX_BODY: usize = 256 * 1024 * 1024;

/// What the S3 API serves with.
#[derive(Clone)]
pub struct Service {
    /// The buckets.
    pub buckets: Buckets,
    /// Where notifications can go (checked when a configuration is put).
    pub targets: Arc<dyn Targets>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Service")
            .field("buckets", &self.buckets)
            .finish_non_exhaustive()
    }
}

/// A request, parsed: the bucket and key from the path, the query's parameters decoded.
#[derive(Debug)]
pub(crate) struct S3Request {
    pub method: Method,
    pub bucket: Option<String>,
    pub key: Option<String>,
    pub query: Vec<(String, String)>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl S3Request {
    /// A query parameter's value (empty for a bare `?name`).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(candidate, _)| candidate == name)
            .map(|(_, value)| value.as_str())
    }

    /// A header's value, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// The handler for every S3-shaped request.
pub async fn serve(State(options): State<Arc<Options>>, request: Request) -> Response {
    let head = request.method() == Method::HEAD;
    match handle(&options, request).await {
        Ok(response) => response,
        Err(mut error) => {
            error.head = head;
            tracing::debug!(code = error.code.as_str(), message = %error.message, "S3 request refused");
            error.into_response()
        }
    }
}

async fn handle(options: &Options, request: Request) -> Result<Response, S3Error> {
    let Some(service) = &options.buckets else {
        return Err(S3Error::new(Code::NotImplemented, "This server serves no buckets"));
    };
    let (parts, body) = request.into_parts();
    let raw = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        S3Error::new(
            Code::EntityTooLarge,
            format!("Your proposed upload exceeds the maximum allowed size of {MAX_BODY} bytes for one request"),
        )
    })?;
    let signed = Parts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or_default(),
        headers: &parts.headers,
        body: &raw,
    };
    let scope = Scope {
        service: SIGNING_NAME,
        region: options.region.as_deref(),
    };
    let verified = sigv4::s3::verify(&signed, &options.credentials, scope, options.clock.now())?;
    let body = body::decode(&parts.headers, raw, &verified)?;
    let (bucket, key) = split_path(parts.uri.path())?;
    let request = S3Request {
        method: parts.method,
        bucket,
        key,
        query: parse_query(parts.uri.query().unwrap_or_default()),
        headers: parts.headers,
        body,
    };
    let now = options.clock.now();
    match (&request.bucket, &request.key) {
        (None, _) => buckets::service_level(service, &request).await,
        (Some(_), None) => buckets::bucket_level(service, &request, now).await,
        (Some(_), Some(_)) => objects::object_level(service, &request, now).await,
    }
    .map(IntoResponse::into_response)
}

/// `/bucket/key…` into the bucket and the key, percent-decoded.
fn split_path(path: &str) -> Result<(Option<String>, Option<String>), S3Error> {
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() {
        return Ok((None, None));
    }
    let (bucket, key) = match path.split_once('/') {
        Some((bucket, key)) => (bucket, Some(key)),
        None => (path, None),
    };
    let decode = |text: &str, what: &str| {
        String::from_utf8(crate::sigv4::percent_decode(text))
            .map_err(|_| error::invalid_argument(what, format!("The {what} is not valid UTF-8")))
    };
    let bucket = decode(bucket, "bucket")?;
    let key = match key {
        Some("") | None => None,
        Some(key) => Some(decode(key, "key")?),
    };
    Ok((Some(bucket), key))
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |text: &str| {
                let text = text.replace('+', " ");
                String::from_utf8_lossy(&crate::sigv4::percent_decode(&text)).into_owned()
            };
            (decode(name), decode(value))
        })
        .collect()
}

/// An HTTP date (`Last-Modified`).
pub(crate) fn http_date(millis: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}

/// An ISO 8601 time as S3's XML writes it.
pub(crate) fn iso_date(millis: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// An XML answer.
pub(crate) fn xml_response(body: String) -> Response {
    ([(axum::http::header::CONTENT_TYPE, "application/xml")], body).into_response()
}
