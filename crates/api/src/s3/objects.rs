//! The object-level operations: PutObject (with `If-None-Match: *` and `If-Match`), CopyObject,
//! GetObject and HeadObject (ranges, conditional reads), DeleteObject.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sluice_buckets::{MetadataDirective, Object, PutObject, WriteCondition};

use super::error::{Code, S3Error, invalid_argument};
use super::xml::{DECLARATION, NAMESPACE, element};
use super::{S3Request, Service, http_date, iso_date, xml_response};

/// The headers an object keeps besides its content type and user metadata.
const STORED_HEADERS: &[&str] = &[
    "cache-control",
    "content-disposition",
    "content-encoding",
    "content-language",
    "expires",
];

/// `/{bucket}/{key}`.
pub(crate) async fn object_level(
    service: &Service,
    request: &S3Request,
    now: DateTime<Utc>,
) -> Result<Response, S3Error> {
    let bucket = request.bucket.as_deref().unwrap_or_default();
    let key = request.key.as_deref().unwrap_or_default();
    if let Some(answer) = super::multipart::object_level(service, request, now).await {
        return answer;
    }
    match request.method {
        Method::PUT if request.headers.contains_key("x-amz-copy-source") => {
            copy(service, request, bucket, key, now).await
        }
        Method::PUT => put(service, request, bucket, key, now).await,
        Method::GET | Method::HEAD => get(service, request, bucket, key).await,
        Method::DELETE => {
            let condition = match request.header("if-match") {
                Some(etag) => WriteCondition::IfMatch(unquote(etag).to_owned()),
                None => WriteCondition::Always,
            };
            service.buckets.delete_object(bucket, key, condition, now).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(S3Error::new(
            Code::MethodNotAllowed,
            "The specified method is not allowed against this resource.",
        )),
    }
}

/// The write condition of `If-None-Match` / `If-Match`.
pub(super) fn write_condition(request: &S3Request) -> Result<WriteCondition, S3Error> {
    match (request.header("if-none-match"), request.header("if-match")) {
        (Some(_), Some(_)) => Err(invalid_argument(
            "If-None-Match",
            "If-None-Match and If-Match cannot both be given on a write",
        )),
        (Some("*"), None) => Ok(WriteCondition::IfNoneMatch),
        (Some(other), None) => Err(S3Error::new(
            Code::NotImplemented,
            format!(
                "A header you provided implies functionality that is not implemented: If-None-Match must be *, not {other}"
            ),
        )),
        (None, Some(etag)) => Ok(WriteCondition::IfMatch(unquote(etag).to_owned())),
        (None, None) => Ok(WriteCondition::Always),
    }
}

/// The content type, user metadata and stored headers a request sets.
pub(super) type Metadata = (Option<String>, BTreeMap<String, String>, BTreeMap<String, String>);

/// The content type, user metadata and stored headers a request sets.
pub(super) fn metadata(headers: &HeaderMap) -> Result<Metadata, S3Error> {
    let text = |name: &str, value: &HeaderValue| {
        value
            .to_str()
            .map(str::to_owned)
            .map_err(|_| invalid_argument(name, format!("The header {name} must be ASCII text")))
    };
    let content_type = headers
        .get("content-type")
        .map(|value| text("content-type", value))
        .transpose()?;
    let mut user = BTreeMap::new();
    let mut stored = BTreeMap::new();
    for (name, value) in headers {
        if let Some(meta) = name.as_str().strip_prefix("x-amz-meta-") {
            user.insert(meta.to_owned(), text(name.as_str(), value)?);
        } else if STORED_HEADERS.contains(&name.as_str()) {
            let value = text(name.as_str(), value)?;
            // `aws-chunked` describes the request's transfer, not the object.
            let value = if name == "content-encoding" {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|coding| *coding != "aws-chunked")
                    .collect::<Vec<_>>()
                    .join(",")
            } else {
                value
            };
            if !value.is_empty() {
                stored.insert(name.as_str().to_owned(), value);
            }
        }
    }
    let size: usize = user.iter().map(|(name, value)| name.len() + value.len()).sum();
    if size > 2048 {
        return Err(S3Error::new(
            Code::InvalidArgument,
            format!("Your metadata headers exceed the maximum allowed metadata size: {size} bytes, the most is 2048"),
        )
        .with("ArgumentName", "x-amz-meta-*"));
    }
    Ok((content_type, user, stored))
}

async fn put(
    service: &Service,
    request: &S3Request,
    bucket: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Response, S3Error> {
    let (content_type, user_metadata, headers) = metadata(&request.headers)?;
    let written = service
        .buckets
        .put_object(PutObject {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            body: request.body.clone(),
            content_type,
            user_metadata,
            headers,
            condition: write_condition(request)?,
            now,
        })
        .await?;
    Ok((StatusCode::OK, [("etag", format!("\"{}\"", written.etag))]).into_response())
}

async fn copy(
    service: &Service,
    request: &S3Request,
    bucket: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Response, S3Error> {
    let (source_bucket, source_key) = copy_source(request)?;
    let source = service.buckets.object(&source_bucket, &source_key).await?;
    // The copy-source conditions.
    check_read_conditions(&source, &request.headers, "x-amz-copy-source-")?;
    let directive = match request.header("x-amz-metadata-directive").unwrap_or("COPY") {
        "COPY" => {
            if source_bucket == bucket && source_key == key {
                return Err(S3Error::new(
                    Code::InvalidRequest,
                    "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
                ));
            }
            MetadataDirective::Copy
        }
        "REPLACE" => {
            let (content_type, user_metadata, headers) = metadata(&request.headers)?;
            MetadataDirective::Replace {
                content_type,
                user_metadata,
                headers,
            }
        }
        other => {
            return Err(invalid_argument(
                "x-amz-metadata-directive",
                format!("Unknown metadata directive {other:?}: use COPY or REPLACE"),
            ));
        }
    };
    let written = service
        .buckets
        .copy_object(&source, bucket, key, directive, write_condition(request)?, now)
        .await?;
    Ok(xml_response(format!(
        "{DECLARATION}<CopyObjectResult xmlns=\"{NAMESPACE}\">{}{}</CopyObjectResult>",
        element("LastModified", &iso_date(written.modified_millis)),
        element("ETag", &format!("\"{}\"", written.etag))
    )))
}

/// The bucket and key of `x-amz-copy-source` (`bucket/key` or `/bucket/key`, percent-encoded).
pub(super) fn copy_source(request: &S3Request) -> Result<(String, String), S3Error> {
    let source = request.header("x-amz-copy-source").unwrap_or_default();
    let decoded = String::from_utf8(crate::sigv4::percent_decode(
        source.split('?').next().unwrap_or_default(),
    ))
    .map_err(|_| invalid_argument("x-amz-copy-source", "The copy source is not valid UTF-8"))?;
    let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
    match decoded.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => Ok((bucket.to_owned(), key.to_owned())),
        _ => Err(invalid_argument(
            "x-amz-copy-source",
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )),
    }
}

async fn get(service: &Service, request: &S3Request, bucket: &str, key: &str) -> Result<Response, S3Error> {
    let object = service.buckets.object(bucket, key).await?;
    if let Err(refusal) = check_read_conditions(&object, &request.headers, "") {
        if refusal.code == Code::PreconditionFailed || request.method == Method::HEAD {
            return Err(refusal);
        }
        // Not modified.
        return Ok(not_modified(&object));
    }
    let range = match request.header("range") {
        Some(range) if request.method == Method::GET || request.method == Method::HEAD => {
            parse_range(range, object.size)?
        }
        _ => None,
    };
    let mut response = Response::builder();
    let headers = response
        .headers_mut()
        .ok_or_else(|| S3Error::new(Code::InternalError, "a response"))?;
    object_headers(&object, headers);
    let (status, length) = match &range {
        Some(range) => {
            insert(
                headers,
                "content-range",
                &format!("bytes {}-{}/{}", range.start, range.end - 1, object.size),
            );
            (StatusCode::PARTIAL_CONTENT, range.end - range.start)
        }
        None => (StatusCode::OK, object.size),
    };
    insert(headers, "content-length", &length.to_string());
    let body = if request.method == Method::HEAD || length == 0 {
        Body::empty()
    } else {
        Body::from_stream(service.buckets.open(&object, range).await?)
    };
    response
        .status(status)
        .body(body)
        .map_err(|error| S3Error::new(Code::InternalError, error.to_string()))
}

fn not_modified(object: &Object) -> Response {
    let mut response = StatusCode::NOT_MODIFIED.into_response();
    insert(response.headers_mut(), "etag", &format!("\"{}\"", object.etag));
    insert(
        response.headers_mut(),
        "last-modified",
        &http_date(object.modified_millis),
    );
    response
}

fn object_headers(object: &Object, headers: &mut HeaderMap) {
    insert(headers, "etag", &format!("\"{}\"", object.etag));
    insert(headers, "last-modified", &http_date(object.modified_millis));
    insert(headers, "content-type", &object.content_type);
    insert(headers, "accept-ranges", "bytes");
    for (name, value) in &object.headers {
        insert(headers, name, value);
    }
    for (name, value) in &object.user_metadata {
        insert(headers, &format!("x-amz-meta-{name}"), value);
    }
}

fn insert(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
        headers.insert(name, value);
    }
}

/// `"etag"` → `etag`.
pub(super) fn unquote(etag: &str) -> &str {
    let etag = etag.trim();
    etag.strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or(etag)
}

/// Whether a list of ETags (`"a", "b"` or `*`) names this object's.
fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',')
        .map(unquote)
        .any(|candidate| candidate == "*" || candidate == etag)
}

fn parse_http_date(name: &str, value: &str) -> Result<i64, S3Error> {
    DateTime::parse_from_rfc2822(value)
        .map(|time| time.timestamp())
        .map_err(|_| invalid_argument(name, format!("{name} must be an HTTP date, not {value:?}")))
}

/// RFC 7232's order: If-Match, else If-Unmodified-Since (412); If-None-Match, else
/// If-Modified-Since (304). `prefix` is `x-amz-copy-source-` for a copy's source.
pub(super) fn check_read_conditions(object: &Object, headers: &HeaderMap, prefix: &str) -> Result<(), S3Error> {
    let header = |name: &str| {
        headers
            .get(format!("{prefix}{name}"))
            .and_then(|value| value.to_str().ok())
    };
    let modified = object.modified_millis / 1000;
    let failed = |condition: &str| {
        S3Error::new(
            Code::PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold",
        )
        .with("Condition", format!("{prefix}{condition}"))
    };
    match (header("if-match"), header("if-unmodified-since")) {
        (Some(list), _) if !etag_matches(list, &object.etag) => return Err(failed("If-Match")),
        (None, Some(since)) if modified > parse_http_date("If-Unmodified-Since", since)? => {
            return Err(failed("If-Unmodified-Since"));
        }
        _ => {}
    }
    let not_modified = match (header("if-none-match"), header("if-modified-since")) {
        (Some(list), _) => etag_matches(list, &object.etag),
        (None, Some(since)) => modified <= parse_http_date("If-Modified-Since", since)?,
        (None, None) => false,
    };
    if not_modified {
        if !prefix.is_empty() {
            return Err(failed("If-None-Match"));
        }
        return Err(S3Error::new(Code::NotModified, "Not Modified"));
    }
    Ok(())
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n`; a header S3 ignores (not bytes, several ranges, not
/// numbers) gives the whole object; a range past the end is `InvalidRange`.
fn parse_range(header: &str, size: u64) -> Result<Option<std::ops::Range<u64>>, S3Error> {
    let Some(spec) = header.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Ok(None);
    };
    let unsatisfiable = || S3Error::from(sluice_buckets::Error::InvalidRange { size });
    let range = match (first.trim(), last.trim()) {
        ("", suffix) => {
            let Ok(suffix) = suffix.parse::<u64>() else {
                return Ok(None);
            };
            if suffix == 0 {
                return Err(unsatisfiable());
            }
            size.saturating_sub(suffix)..size
        }
        (first, last) => {
            let Ok(first) = first.parse::<u64>() else {
                return Ok(None);
            };
            let end = match last {
                "" => size,
                last => match last.parse::<u64>() {
                    Ok(last) if last >= first => (last + 1).min(size),
                    _ => return Ok(None),
                },
            };
            if first >= size {
                return Err(unsatisfiable());
            }
            first..end
        }
    };
    if range.start >= range.end {
        return Err(unsatisfiable());
    }
    Ok(Some(range))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_follow_rfc_7233_as_s3_does() {
        assert_eq!(parse_range("bytes=0-4", 10).expect("ok"), Some(0..5));
        assert_eq!(parse_range("bytes=5-", 10).expect("ok"), Some(5..10));
        assert_eq!(parse_range("bytes=-3", 10).expect("ok"), Some(7..10));
        assert_eq!(parse_range("bytes=-30", 10).expect("ok"), Some(0..10));
        assert_eq!(parse_range("bytes=8-100", 10).expect("ok"), Some(8..10));
        assert_eq!(parse_range("bytes=0-1,3-4", 10).expect("ok"), None);
        assert_eq!(parse_range("items=0-1", 10).expect("ok"), None);
        assert!(parse_range("bytes=10-", 10).is_err());
        assert!(parse_range("bytes=0-", 0).is_err());
    }
}
