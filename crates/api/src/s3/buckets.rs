//! The service- and bucket-level operations: ListBuckets, CreateBucket, HeadBucket,
//! DeleteBucket, GetBucketLocation, ListObjects(V2), DeleteObjects, and the notification
//! configuration.

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sluice_buckets::{ListQuery, WriteCondition};
use sluice_store::objects::NotificationRule;

use super::error::{Code, S3Error, invalid_argument};
use super::xml::{DECLARATION, NAMESPACE, element, escape, parse};
use super::{S3Request, Service, iso_date, xml_response};

const OWNER: &str = "<Owner><ID>sluice</ID><DisplayName>sluice</DisplayName></Owner>";

/// `GET /`: ListBuckets.
pub(crate) async fn service_level(service: &Service, request: &S3Request) -> Result<Response, S3Error> {
    if request.method != Method::GET {
        return Err(S3Error::new(
            Code::MethodNotAllowed,
            "The specified method is not allowed against this resource.",
        ));
    }
    let mut body = format!("{DECLARATION}<ListAllMyBucketsResult xmlns=\"{NAMESPACE}\">{OWNER}<Buckets>");
    for bucket in service.buckets.list_buckets().await? {
        body.push_str(&format!(
            "<Bucket>{}{}</Bucket>",
            element("Name", &bucket.name),
            element("CreationDate", &iso_date(bucket.created_millis))
        ));
    }
    body.push_str("</Buckets></ListAllMyBucketsResult>");
    Ok(xml_response(body))
}

/// `/{bucket}`.
pub(crate) async fn bucket_level(
    service: &Service,
    request: &S3Request,
    now: DateTime<Utc>,
) -> Result<Response, S3Error> {
    let bucket = request.bucket.as_deref().unwrap_or_default();
    let buckets = &service.buckets;
    let method = &request.method;
    if request.param("notification").is_some() {
        return match *method {
            Method::GET => get_notifications(service, bucket).await,
            Method::PUT => put_notifications(service, bucket, request).await,
            _ => Err(not_allowed()),
        };
    }
    if request.param("uploads").is_some() && *method == Method::GET {
        return super::multipart::list_uploads(service, request, bucket).await;
    }
    for unsupported in [
        "uploads",
        "versioning",
        "policy",
        "acl",
        "cors",
        "lifecycle",
        "tagging",
        "website",
        "versions",
    ] {
        if request.param(unsupported).is_some() {
            return Err(S3Error::new(
                Code::NotImplemented,
                format!("Sluice does not implement the ?{unsupported} bucket operations"),
            ));
        }
    }
    match *method {
        Method::PUT => {
            buckets.create_bucket(bucket, now).await?;
            Ok((StatusCode::OK, [("location", format!("/{bucket}"))]).into_response())
        }
        Method::HEAD => {
            buckets.bucket(bucket).await?;
            Ok((StatusCode::OK, [("x-amz-bucket-region", "us-east-1")]).into_response())
        }
        Method::DELETE => {
            buckets.delete_bucket(bucket).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Method::GET if request.param("location").is_some() => {
            buckets.bucket(bucket).await?;
            Ok(xml_response(format!(
                "{DECLARATION}<LocationConstraint xmlns=\"{NAMESPACE}\"></LocationConstraint>"
            )))
        }
        Method::GET => list_objects(service, bucket, request).await,
        Method::POST if request.param("delete").is_some() => delete_objects(service, bucket, request, now).await,
        _ => Err(not_allowed()),
    }
}

fn not_allowed() -> S3Error {
    S3Error::new(
        Code::MethodNotAllowed,
        "The specified method is not allowed against this resource.",
    )
}

/// ListObjectsV2 (`list-type=2`) and the original ListObjects.
async fn list_objects(service: &Service, bucket: &str, request: &S3Request) -> Result<Response, S3Error> {
    let v2 = request.param("list-type") == Some("2");
    let max_keys = match request.param("max-keys") {
        None => 1000,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| invalid_argument("max-keys", "Provided max-keys not an integer or within integer range"))?
            .min(1000),
    };
    let prefix = request.param("prefix").unwrap_or_default().to_owned();
    let delimiter = request.param("delimiter").unwrap_or_default().to_owned();
    let start_after = request
        .param(if v2 { "start-after" } else { "marker" })
        .unwrap_or_default();
    let token = request.param("continuation-token").filter(|_| v2);
    let after = match token {
        Some(token) => URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| invalid_argument("continuation-token", "The continuation token provided is incorrect"))?,
        None => start_after.to_owned(),
    };
    let listing = service
        .buckets
        .list_objects(&ListQuery {
            bucket: bucket.to_owned(),
            prefix: prefix.clone(),
            delimiter: delimiter.clone(),
            after,
            max_keys,
        })
        .await?;
    let url_encoding = request.param("encoding-type") == Some("url");
    let text = |value: &str| {
        if url_encoding {
            escape(&sluice_buckets::notify::encode_key(value).replace('+', "%20"))
        } else {
            escape(value)
        }
    };
    let mut body = format!("{DECLARATION}<ListBucketResult xmlns=\"{NAMESPACE}\">");
    body.push_str(&element("Name", bucket));
    body.push_str(&format!("<Prefix>{}</Prefix>", text(&prefix)));
    if !delimiter.is_empty() {
        body.push_str(&format!("<Delimiter>{}</Delimiter>", text(&delimiter)));
    }
    body.push_str(&element("MaxKeys", &max_keys.to_string()));
    if url_encoding {
        body.push_str("<EncodingType>url</EncodingType>");
    }
    body.push_str(&element("IsTruncated", &listing.truncated.to_string()));
    if v2 {
        body.push_str(&element(
            "KeyCount",
            &(listing.objects.len() + listing.common_prefixes.len()).to_string(),
        ));
        if let Some(token) = token {
            body.push_str(&element("ContinuationToken", token));
        }
        if !start_after.is_empty() {
            body.push_str(&format!("<StartAfter>{}</StartAfter>", text(start_after)));
        }
        if let Some(next) = &listing.next_after {
            body.push_str(&element("NextContinuationToken", &URL_SAFE_NO_PAD.encode(next)));
        }
    } else {
        body.push_str(&format!("<Marker>{}</Marker>", text(start_after)));
        if let (Some(next), false) = (&listing.next_after, delimiter.is_empty()) {
            body.push_str(&format!("<NextMarker>{}</NextMarker>", text(next)));
        }
    }
    for object in &listing.objects {
        body.push_str(&format!(
            "<Contents><Key>{}</Key>{}{}{}<StorageClass>STANDARD</StorageClass>{}</Contents>",
            text(&object.key),
            element("LastModified", &iso_date(object.modified_millis)),
            element("ETag", &format!("\"{}\"", object.etag)),
            element("Size", &object.size.to_string()),
            if v2 { "" } else { OWNER },
        ));
    }
    for common in &listing.common_prefixes {
        body.push_str(&format!(
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            text(common)
        ));
    }
    body.push_str("</ListBucketResult>");
    Ok(xml_response(body))
}

/// DeleteObjects: up to 1000 keys, each answered on its own.
async fn delete_objects(
    service: &Service,
    bucket: &str,
    request: &S3Request,
    now: DateTime<Utc>,
) -> Result<Response, S3Error> {
    let root = parse(&request.body)?;
    let objects: Vec<&str> = root
        .all("Object")
        .map(|object| object.text_of("Key").unwrap_or_default())
        .collect();
    if objects.is_empty() || objects.len() > 1000 {
        return Err(S3Error::new(
            Code::MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema: Delete needs 1 to 1000 Object elements",
        ));
    }
    service.buckets.bucket(bucket).await?;
    let quiet = root.text_of("Quiet") == Some("true");
    let mut body = format!("{DECLARATION}<DeleteResult xmlns=\"{NAMESPACE}\">");
    for key in objects {
        match service
            .buckets
            .delete_object(bucket, key, WriteCondition::Always, now)
            .await
        {
            Ok(_) if quiet => {}
            Ok(_) => body.push_str(&format!("<Deleted>{}</Deleted>", element("Key", key))),
            Err(error) => {
                let error = S3Error::from(error);
                body.push_str(&format!(
                    "<Error>{}{}{}</Error>",
                    element("Key", key),
                    element("Code", error.code.as_str()),
                    element("Message", &error.message)
                ));
            }
        }
    }
    body.push_str("</DeleteResult>");
    Ok(xml_response(body))
}

/// The three kinds of destination S3 names, and the element holding each one's ARN.
const DESTINATIONS: &[(&str, &str)] = &[
    ("CloudFunctionConfiguration", "CloudFunction"),
    ("QueueConfiguration", "Queue"),
    ("TopicConfiguration", "Topic"),
];

async fn put_notifications(service: &Service, bucket: &str, request: &S3Request) -> Result<Response, S3Error> {
    let root = parse(&request.body)?;
    let mut rules = Vec::new();
    for (kind, arn_element) in DESTINATIONS {
        for configuration in root.all(kind) {
            let target = configuration.text_of(arn_element).unwrap_or_default().to_owned();
            let events: Vec<String> = configuration.all("Event").map(|event| event.text.clone()).collect();
            let (mut prefix, mut suffix) = (String::new(), String::new());
            if let Some(key) = configuration.child("Filter").and_then(|filter| filter.child("S3Key")) {
                for rule in key.all("FilterRule") {
                    let value = rule.text_of("Value").unwrap_or_default().to_owned();
                    match rule.text_of("Name").map(str::to_ascii_lowercase).as_deref() {
                        Some("prefix") => prefix = value,
                        Some("suffix") => suffix = value,
                        other => {
                            return Err(invalid_argument(
                                "FilterRule",
                                format!("filter rule name must be either prefix or suffix, not {other:?}"),
                            ));
                        }
                    }
                }
            }
            let id = configuration
                .text_of("Id")
                .map(str::to_owned)
                .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            rules.push(NotificationRule {
                id,
                target,
                events,
                prefix,
                suffix,
            });
        }
    }
    let check = |arn: &str| service.targets.check(arn);
    if let Some(problem) = sluice_buckets::rules::check(&rules, &check).into_iter().next() {
        let (_, arn_element) = destination(&rules[problem.index].target);
        let argument = match problem.field {
            "events" => "Event",
            "target" => arn_element,
            "id" => "Id",
            _ => "FilterRule",
        };
        return Err(invalid_argument(argument, problem.message));
    }
    service.buckets.set_notifications(bucket, rules).await?;
    Ok(StatusCode::OK.into_response())
}

/// The configuration kind and ARN element S3 writes a target's rule under.
fn destination(target: &str) -> (&'static str, &'static str) {
    match target.split(':').nth(2) {
        Some("sqs") => DESTINATIONS[1],
        Some("sns") => DESTINATIONS[2],
        _ => DESTINATIONS[0],
    }
}

async fn get_notifications(service: &Service, bucket: &str) -> Result<Response, S3Error> {
    let record = service.buckets.bucket(bucket).await?;
    let mut body = format!("{DECLARATION}<NotificationConfiguration xmlns=\"{NAMESPACE}\">");
    for rule in &record.notifications {
        let (kind, arn_element) = destination(&rule.target);
        body.push_str(&format!(
            "<{kind}>{}{}",
            element("Id", &rule.id),
            element(arn_element, &rule.target)
        ));
        for event in &rule.events {
            body.push_str(&element("Event", event));
        }
        if !rule.prefix.is_empty() || !rule.suffix.is_empty() {
            body.push_str("<Filter><S3Key>");
            for (name, value) in [("prefix", &rule.prefix), ("suffix", &rule.suffix)] {
                if !value.is_empty() {
                    body.push_str(&format!(
                        "<FilterRule>{}{}</FilterRule>",
                        element("Name", name),
                        element("Value", value)
                    ));
                }
            }
            body.push_str("</S3Key></Filter>");
        }
        body.push_str(&format!("</{kind}>"));
    }
    body.push_str("</NotificationConfiguration>");
    Ok(xml_response(body))
}
