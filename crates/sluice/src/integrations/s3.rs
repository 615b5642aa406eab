//! `arn:aws:states:::aws-sdk:s3:ACTION` (getObject, putObject, headObject, deleteObject,
//! copyObject, listObjectsV2, createBucket, deleteBucket) and the optimized
//! `arn:aws:states:::s3:getObject|putObject` on Sluice's buckets. Parameters are the SDK's
//! request members in PascalCase (`Bucket`, `Key`, `Body`, `IfNoneMatch`, …) and results its
//! response members (`Body` as text, `ETag` quoted, `LastModified` in ISO 8601). Errors are
//! named as the SDK's exceptions: `S3.NoSuchKeyException`, `S3.NoSuchBucketException`,
//! `S3.BucketAlreadyOwnedByYouException`, and `S3.S3Exception` for the rest (a failed
//! `IfNoneMatch`/`IfMatch` is `S3.S3Exception` with `Error Code: PreconditionFailed` in its cause,
//! as on AWS); a bad parameter is `S3.SdkClientException` naming it.

use std::collections::BTreeMap;
use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, SecondsFormat, Utc};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};
use sluice_asl::Failure;
use sluice_buckets::{Buckets, Error, ListQuery, MetadataDirective, Object, PutObject, WriteCondition};
use sluice_engine::{Integration, IntegrationCall};

use super::{optional_string, request_response_only, required_string, unsupported};

/// The error of a parameter the SDK would refuse before sending.
const CLIENT_ERROR: &str = "S3.SdkClientException";

/// The actions of the SDK integration.
const SDK_ACTIONS: &[&str] = &[
    "getObject",
    "putObject",
    "headObject",
    "deleteObject",
    "copyObject",
    "listObjectsV2",
    "createBucket",
    "deleteBucket",
];

/// S3's integrations.
pub(super) struct S3 {
    buckets: Buckets,
    /// The SDK integration (`aws-sdk:s3`), or the optimized one (`s3`).
    sdk: bool,
}

impl S3 {
    pub(super) fn optimized(buckets: Buckets) -> S3 {
        S3 { buckets, sdk: false }
    }

    pub(super) fn sdk(buckets: Buckets) -> S3 {
        S3 { buckets, sdk: true }
    }
}

#[async_trait::async_trait]
impl Integration for S3 {
    async fn call(&self, call: IntegrationCall) -> Result<Value, Failure> {
        request_response_only(&call)?;
        let actions: &[&str] = if self.sdk { SDK_ACTIONS } else { &SDK_ACTIONS[..2] };
        if !actions.contains(&call.action.as_str()) {
            return Err(unsupported(
                &call,
                &format!(
                    "arn:aws:states:::{} has the actions {}",
                    call.service,
                    actions.join(", ")
                ),
            ));
        }
        let parameters = &call.parameters;
        if !parameters.is_object() {
            return Err(Failure::new(CLIENT_ERROR, "The parameters must be a JSON object"));
        }
        let now = Utc::now();
        match call.action.as_str() {
            "getObject" => self.get_object(parameters, true).await,
            "headObject" => self.get_object(parameters, false).await,
            "putObject" => self.put_object(parameters, now).await,
            "deleteObject" => {
                let bucket = required_string(parameters, "Bucket", CLIENT_ERROR)?;
                let key = required_string(parameters, "Key", CLIENT_ERROR)?;
                let condition = condition(parameters)?;
                self.buckets
                    .delete_object(bucket, key, condition, now)
                    .await
                    .map_err(failure)?;
                Ok(json!({}))
            }
            "copyObject" => self.copy_object(parameters, now).await,
            "listObjectsV2" => self.list_objects(parameters).await,
            "createBucket" => {
                let bucket = required_string(parameters, "Bucket", CLIENT_ERROR)?;
                self.buckets.create_bucket(bucket, now).await.map_err(failure)?;
                Ok(json!({ "Location": format!("/{bucket}") }))
            }
            _ => {
                let bucket = required_string(parameters, "Bucket", CLIENT_ERROR)?;
                self.buckets.delete_bucket(bucket).await.map_err(failure)?;
                Ok(json!({}))
            }
        }
    }
}

impl S3 {
    async fn get_object(&self, parameters: &Value, with_body: bool) -> Result<Value, Failure> {
        let bucket = required_string(parameters, "Bucket", CLIENT_ERROR)?;
        let key = required_string(parameters, "Key", CLIENT_ERROR)?;
        let object = self.buckets.object(bucket, key).await.map_err(failure)?;
        if let Some(etag) = optional_string(parameters, "IfMatch", CLIENT_ERROR)?
            && !etag_matches(etag, &object.etag)
        {
            return Err(precondition_failed());
        }
        if let Some(etag) = optional_string(parameters, "IfNoneMatch", CLIENT_ERROR)?
            && etag_matches(etag, &object.etag)
        {
            return Err(Failure::new(
                "S3.S3Exception",
                "Not Modified (Service: S3, Status Code: 304, Error Code: NotModified)",
            ));
        }
        let range = match optional_string(parameters, "Range", CLIENT_ERROR)? {
            Some(text) => Some(parse_range(text, object.size)?),
            None => None,
        };
        let mut answer = describe(&object);
        if let Some(range) = &range {
            answer["ContentLength"] = json!(range.end - range.start);
            answer["ContentRange"] = json!(format!("bytes {}-{}/{}", range.start, range.end - 1, object.size));
        }
        if with_body {
            let mut stream = self.buckets.open(&object, range).await.map_err(failure)?;
            let mut body = Vec::new();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|error| failure(Error::Internal(error.to_string())))?;
                body.extend_from_slice(&chunk);
            }
            answer["Body"] = json!(String::from_utf8_lossy(&body));
        }
        Ok(answer)
    }

    async fn put_object(&self, parameters: &Value, now: DateTime<Utc>) -> Result<Value, Failure> {
        let bucket = required_string(parameters, "Bucket", CLIENT_ERROR)?;
        let key = required_string(parameters, "Key", CLIENT_ERROR)?;
        // A JSON body is stored as its JSON text, as Step Functions does.
        let body = match parameters.get("Body") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(text)) => text.clone().into_bytes(),
            Some(other) => other.to_string().into_bytes(),
        };
        let put = PutObject {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            body: body.into(),
            content_type: optional_string(parameters, "ContentType", CLIENT_ERROR)?.map(str::to_owned),
            user_metadata: metadata(parameters)?,
            headers: BTreeMap::new(),
            condition: condition(parameters)?,
            now,
        };
        let object = self.buckets.put_object(put).await.map_err(failure)?;
        Ok(json!({ "ETag": format!("\"{}\"", object.etag) }))
    }

    async fn copy_object(&self, parameters: &Value, now: DateTime<Utc>) -> Result<Value, Failure> {
        let bucket = required_string(parameters, "Bucket", CLIENT_ERROR)?;
        let key = required_string(parameters, "Key", CLIENT_ERROR)?;
        let source = required_string(parameters, "CopySource", CLIENT_ERROR)?;
        let source = percent_decode(source.trim_start_matches('/'));
        let Some((source_bucket, source_key)) = source.split_once('/') else {
            return Err(Failure::new(
                CLIENT_ERROR,
                format!("The field 'CopySource' must be 'bucket/key', not '{source}'"),
            ));
        };
        let source_object = self.buckets.object(source_bucket, source_key).await.map_err(failure)?;
        let directive = match optional_string(parameters, "MetadataDirective", CLIENT_ERROR)? {
            None | Some("COPY") => MetadataDirective::Copy,
            Some("REPLACE") => MetadataDirective::Replace {
                content_type: optional_string(parameters, "ContentType", CLIENT_ERROR)?.map(str::to_owned),
                user_metadata: metadata(parameters)?,
                headers: BTreeMap::new(),
            },
            Some(other) => {
                return Err(Failure::new(
                    CLIENT_ERROR,
                    format!("The field 'MetadataDirective' must be COPY or REPLACE, not '{other}'"),
                ));
            }
        };
        let copied = self
            .buckets
            .copy_object(&source_object, bucket, key, directive, condition(parameters)?, now)
            .await
            .map_err(failure)?;
        Ok(json!({
            "CopyObjectResult": {
                "ETag": format!("\"{}\"", copied.etag),
                "LastModified": timestamp(copied.modified_millis),
            }
        }))
    }

    async fn list_objects(&self, parameters: &Value) -> Result<Value, Failure> {
        let bucket = required_string(parameters, "Bucket", CLIENT_ERROR)?;
        let prefix = optional_string(parameters, "Prefix", CLIENT_ERROR)?.unwrap_or_default();
        let delimiter = optional_string(parameters, "Delimiter", CLIENT_ERROR)?.unwrap_or_default();
        let start_after = optional_string(parameters, "StartAfter", CLIENT_ERROR)?;
        let token = optional_string(parameters, "ContinuationToken", CLIENT_ERROR)?;
        let max_keys = match parameters.get("MaxKeys") {
            None | Some(Value::Null) => 1000,
            Some(value) => value
                .as_u64()
                .ok_or_else(|| {
                    Failure::new(
                        CLIENT_ERROR,
                        format!("The field 'MaxKeys' must be a whole number, not {value}"),
                    )
                })?
                .min(1000) as usize,
        };
        let after = match token {
            Some(token) => URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| {
                    failure(Error::InvalidArgument {
                        name: "continuation-token".into(),
                        message: "The continuation token provided is incorrect".into(),
                    })
                })?,
            None => start_after.unwrap_or_default().to_owned(),
        };
        let listing = self
            .buckets
            .list_objects(&ListQuery {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
                delimiter: delimiter.to_owned(),
                after,
                max_keys,
            })
            .await
            .map_err(failure)?;
        let contents: Vec<Value> = listing
            .objects
            .iter()
            .map(|object| {
                json!({
                    "ETag": format!("\"{}\"", object.etag),
                    "Key": object.key,
                    "LastModified": timestamp(object.modified_millis),
                    "Size": object.size,
                    "StorageClass": "STANDARD",
                })
            })
            .collect();
        let prefixes: Vec<Value> = listing
            .common_prefixes
            .iter()
            .map(|prefix| json!({ "Prefix": prefix }))
            .collect();
        let mut answer = Map::new();
        answer.insert("IsTruncated".into(), json!(listing.truncated));
        answer.insert("KeyCount".into(), json!(contents.len() + prefixes.len()));
        if !contents.is_empty() {
            answer.insert("Contents".into(), Value::Array(contents));
        }
        if !prefixes.is_empty() {
            answer.insert("CommonPrefixes".into(), Value::Array(prefixes));
        }
        answer.insert("MaxKeys".into(), json!(max_keys));
        answer.insert("Name".into(), json!(bucket));
        answer.insert("Prefix".into(), json!(prefix));
        if !delimiter.is_empty() {
            answer.insert("Delimiter".into(), json!(delimiter));
        }
        if let Some(token) = token {
            answer.insert("ContinuationToken".into(), json!(token));
        }
        if let Some(start_after) = start_after {
            answer.insert("StartAfter".into(), json!(start_after));
        }
        if let Some(next) = listing.next_after.filter(|_| listing.truncated) {
            answer.insert("NextContinuationToken".into(), json!(URL_SAFE_NO_PAD.encode(next)));
        }
        Ok(Value::Object(answer))
    }
}

/// GetObject's and HeadObject's members, without the body.
fn describe(object: &Object) -> Value {
    json!({
        "AcceptRanges": "bytes",
        "ContentLength": object.size,
        "ContentType": object.content_type,
        "ETag": format!("\"{}\"", object.etag),
        "LastModified": timestamp(object.modified_millis),
        "Metadata": object.user_metadata,
    })
}

fn timestamp(millis: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// `IfNoneMatch: "*"` or `IfMatch: ETAG` as a write condition.
fn condition(parameters: &Value) -> Result<WriteCondition, Failure> {
    let if_none_match = optional_string(parameters, "IfNoneMatch", CLIENT_ERROR)?;
    let if_match = optional_string(parameters, "IfMatch", CLIENT_ERROR)?;
    match (if_none_match, if_match) {
        (Some(_), Some(_)) => Err(Failure::new(
            "S3.S3Exception",
            "Only one of IfMatch and IfNoneMatch may be given (Service: S3, Status Code: 501, Error Code: NotImplemented)",
        )),
        (Some("*"), None) => Ok(WriteCondition::IfNoneMatch),
        (Some(other), None) => Err(Failure::new(
            "S3.S3Exception",
            format!(
                "IfNoneMatch on a write takes only '*', not '{other}' (Service: S3, Status Code: 501, Error Code: NotImplemented)"
            ),
        )),
        (None, Some(etag)) => Ok(WriteCondition::IfMatch(etag.trim_matches('"').to_owned())),
        (None, None) => Ok(WriteCondition::Always),
    }
}

/// `Metadata`: a map of strings, names stored in lower case as S3 does.
fn metadata(parameters: &Value) -> Result<BTreeMap<String, String>, Failure> {
    match parameters.get("Metadata") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(members)) => members
            .iter()
            .map(|(name, value)| match value {
                Value::String(text) => Ok((name.to_ascii_lowercase(), text.clone())),
                other => Err(Failure::new(
                    CLIENT_ERROR,
                    format!("The field 'Metadata.{name}' must be a string, not {other}"),
                )),
            })
            .collect(),
        Some(other) => Err(Failure::new(
            CLIENT_ERROR,
            format!("The field 'Metadata' must be a map of strings, not {other}"),
        )),
    }
}

fn etag_matches(given: &str, etag: &str) -> bool {
    given == "*" || given.split(',').any(|one| one.trim().trim_matches('"') == etag)
}

fn precondition_failed() -> Failure {
    failure(Error::PreconditionFailed { condition: "If-Match" })
}

/// `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-SUFFIX` within an object of `size` bytes.
fn parse_range(text: &str, size: u64) -> Result<Range<u64>, Failure> {
    let invalid = || {
        Failure::new(
            CLIENT_ERROR,
            format!("The field 'Range' must be bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX, not '{text}'"),
        )
    };
    let spec = text.strip_prefix("bytes=").ok_or_else(invalid)?;
    let (first, last) = spec.split_once('-').ok_or_else(invalid)?;
    let number = |text: &str| text.parse::<u64>().map_err(|_| invalid());
    let range = match (first, last) {
        ("", suffix) => {
            let suffix = number(suffix)?;
            size.saturating_sub(suffix)..size
        }
        (first, "") => number(first)?..size,
        (first, last) => {
            let (first, last) = (number(first)?, number(last)?);
            if last < first {
                return Err(invalid());
            }
            first..(last + 1).min(size)
        }
    };
    if range.start >= size {
        return Err(failure(Error::InvalidRange { size }));
    }
    Ok(range)
}

/// `%XX` escapes decoded (a `CopySource` is URL-encoded).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%'
            && let Some(hex) = text.get(index + 1..index + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            decoded.push(byte);
            index += 3;
            continue;
        }
        decoded.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

/// A bucket error as the SDK integration names it.
fn failure(error: Error) -> Failure {
    let (name, code, status) = match &error {
        Error::NoSuchKey { .. } => ("NoSuchKeyException", "NoSuchKey", 404),
        Error::NoSuchBucket { .. } => ("NoSuchBucketException", "NoSuchBucket", 404),
        Error::BucketAlreadyOwnedByYou { .. } => ("BucketAlreadyOwnedByYouException", "BucketAlreadyOwnedByYou", 409),
        Error::PreconditionFailed { .. } => ("S3Exception", "PreconditionFailed", 412),
        Error::BucketNotEmpty { .. } => ("S3Exception", "BucketNotEmpty", 409),
        Error::InvalidBucketName { .. } => ("S3Exception", "InvalidBucketName", 400),
        Error::KeyTooLong { .. } => ("S3Exception", "KeyTooLongError", 400),
        Error::InvalidArgument { .. } => ("S3Exception", "InvalidArgument", 400),
        Error::InvalidRange { .. } => ("S3Exception", "InvalidRange", 416),
        _ => ("S3Exception", "InternalError", 500),
    };
    Failure::new(
        format!("S3.{name}"),
        format!("{error} (Service: S3, Status Code: {status}, Error Code: {code})"),
    )
}
