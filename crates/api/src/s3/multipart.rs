//! The multipart upload operations: CreateMultipartUpload (`POST ?uploads`), UploadPart and
//! UploadPartCopy (`PUT ?partNumber&uploadId`), CompleteMultipartUpload (`POST ?uploadId`, with
//! `If-None-Match: *` / `If-Match`), AbortMultipartUpload (`DELETE ?uploadId`), ListParts
//! (`GET ?uploadId`) and ListMultipartUploads (`GET /{bucket}?uploads`).

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use sluice_buckets::{CompletedPart, CreateUpload, UploadQuery};

use super::error::{Code, S3Error, invalid_argument};
use super::objects::{check_read_conditions, copy_source, metadata, unquote, write_condition};
use super::xml::{DECLARATION, NAMESPACE, element, escape, parse};
use super::{S3Request, Service, iso_date, xml_response};

const OWNER: &str = "<Owner><ID>sluice</ID><DisplayName>sluice</DisplayName></Owner>";
const INITIATOR: &str = "<Initiator><ID>sluice</ID><DisplayName>sluice</DisplayName></Initiator>";

/// The most parts or uploads one listing answers.
const MAX_LISTED: usize = 1000;

/// A multipart operation on `/{bucket}/{key}`, if the request is one.
pub(crate) async fn object_level(
    service: &Service,
    request: &S3Request,
    now: DateTime<Utc>,
) -> Option<Result<Response, S3Error>> {
    let bucket = request.bucket.as_deref().unwrap_or_default();
    let key = request.key.as_deref().unwrap_or_default();
    let upload_id = request.param("uploadId");
    let answer = match (&request.method, upload_id) {
        (&Method::POST, None) if request.param("uploads").is_some() => create(service, request, bucket, key, now).await,
        (_, None) => return None,
        (&Method::PUT, Some(id)) => upload_part(service, request, bucket, key, id, now).await,
        (&Method::POST, Some(id)) => complete(service, request, bucket, key, id, now).await,
        (&Method::DELETE, Some(id)) => service
            .buckets
            .abort_upload(bucket, key, id, now)
            .await
            .map(|()| StatusCode::NO_CONTENT.into_response())
            .map_err(S3Error::from),
        (&Method::GET, Some(id)) => list_parts(service, request, bucket, key, id).await,
        (_, Some(_)) => Err(S3Error::new(
            Code::MethodNotAllowed,
            "The specified method is not allowed against this resource.",
        )),
    };
    Some(answer)
}

async fn create(
    service: &Service,
    request: &S3Request,
    bucket: &str,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Response, S3Error> {
    let (content_type, user_metadata, headers) = metadata(&request.headers)?;
    let upload = service
        .buckets
        .create_upload(CreateUpload {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            content_type,
            user_metadata,
            headers,
            now,
        })
        .await?;
    Ok(xml_response(format!(
        "{DECLARATION}<InitiateMultipartUploadResult xmlns=\"{NAMESPACE}\">{}{}{}</InitiateMultipartUploadResult>",
        element("Bucket", bucket),
        element("Key", key),
        element("UploadId", &upload.upload_id)
    )))
}

fn part_number(request: &S3Request) -> Result<u32, S3Error> {
    let text = request
        .param("partNumber")
        .ok_or_else(|| invalid_argument("partNumber", "An UploadPart request needs a partNumber parameter"))?;
    text.parse::<u32>()
        .ok()
        .filter(|number| (1..=sluice_buckets::multipart::MAX_PART_NUMBER).contains(number))
        .ok_or_else(|| {
            invalid_argument(
                "partNumber",
                format!("Part number must be an integer between 1 and 10000, inclusive, not {text:?}"),
            )
        })
}

async fn upload_part(
    service: &Service,
    request: &S3Request,
    bucket: &str,
    key: &str,
    upload_id: &str,
    now: DateTime<Utc>,
) -> Result<Response, S3Error> {
    let number = part_number(request)?;
    if !request.headers.contains_key("x-amz-copy-source") {
        let part = service
            .buckets
            .upload_part(bucket, key, upload_id, number, request.body.clone(), now)
            .await?;
        return Ok((StatusCode::OK, [("etag", format!("\"{}\"", part.etag))]).into_response());
    }
    let (source_bucket, source_key) = copy_source(request)?;
    let source = service.buckets.object(&source_bucket, &source_key).await?;
    check_read_conditions(&source, &request.headers, "x-amz-copy-source-")?;
    let range = match request.header("x-amz-copy-source-range") {
        None => None,
        Some(header) => Some(copy_range(header, source.size)?),
    };
    let part = service
        .buckets
        .upload_part_copy(&source, range, bucket, key, upload_id, number, now)
        .await?;
    Ok(xml_response(format!(
        "{DECLARATION}<CopyPartResult xmlns=\"{NAMESPACE}\">{}{}</CopyPartResult>",
        element("LastModified", &iso_date(part.modified_millis)),
        element("ETag", &format!("\"{}\"", part.etag))
    )))
}

/// `bytes=first-last`, both given and inside the source, as UploadPartCopy takes it.
fn copy_range(header: &str, size: u64) -> Result<std::ops::Range<u64>, S3Error> {
    let malformed = || {
        invalid_argument(
            "x-amz-copy-source-range",
            format!(
                "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy, not {header:?}"
            ),
        )
    };
    let (first, last) = header
        .trim()
        .strip_prefix("bytes=")
        .and_then(|spec| spec.split_once('-'))
        .ok_or_else(malformed)?;
    let (Ok(first), Ok(last)) = (first.parse::<u64>(), last.parse::<u64>()) else {
        return Err(malformed());
    };
    if first > last {
        return Err(malformed());
    }
    if last >= size {
        return Err(S3Error::new(
            Code::InvalidRange,
            format!("Range specified is not valid for source object of size: {size}"),
        )
        .with("ActualObjectSize", size.to_string()));
    }
    Ok(first..last + 1)
}

async fn complete(
    service: &Service,
    request: &S3Request,
    bucket: &str,
    key: &str,
    upload_id: &str,
    now: DateTime<Utc>,
) -> Result<Response, S3Error> {
    let condition = write_condition(request)?;
    let root = parse(&request.body)?;
    let malformed = |detail: String| {
        S3Error::new(
            Code::MalformedXML,
            format!(
                "The XML you provided was not well-formed or did not validate against our published schema: {detail}"
            ),
        )
    };
    if root.name != "CompleteMultipartUpload" {
        return Err(malformed(format!(
            "the root element is {}, not CompleteMultipartUpload",
            root.name
        )));
    }
    let mut parts = Vec::new();
    for part in root.all("Part") {
        let number = part
            .text_of("PartNumber")
            .and_then(|text| text.trim().parse::<u32>().ok())
            .ok_or_else(|| malformed("each Part needs a PartNumber between 1 and 10000".into()))?;
        let etag = part
            .text_of("ETag")
            .ok_or_else(|| malformed(format!("Part {number} has no ETag")))?;
        parts.push(CompletedPart {
            part_number: number,
            etag: unquote(etag).to_owned(),
        });
    }
    if parts.is_empty() {
        return Err(malformed("CompleteMultipartUpload needs at least one Part".into()));
    }
    let object = service
        .buckets
        .complete_upload(bucket, key, upload_id, &parts, condition, now)
        .await?;
    let host = request.header("host").unwrap_or("127.0.0.1");
    let location = format!("http://{host}/{bucket}/{}", sluice_buckets::notify::encode_key(key));
    Ok(xml_response(format!(
        "{DECLARATION}<CompleteMultipartUploadResult xmlns=\"{NAMESPACE}\">{}{}{}{}</CompleteMultipartUploadResult>",
        element("Location", &location),
        element("Bucket", bucket),
        element("Key", key),
        element("ETag", &format!("\"{}\"", object.etag))
    )))
}

/// A listing's `max-…` parameter: at most 1000.
fn max_param(request: &S3Request, name: &str) -> Result<usize, S3Error> {
    match request.param(name) {
        None => Ok(MAX_LISTED),
        Some(text) => text
            .parse::<usize>()
            .map(|max| max.min(MAX_LISTED))
            .map_err(|_| invalid_argument(name, format!("Provided {name} not an integer or within integer range"))),
    }
}

async fn list_parts(
    service: &Service,
    request: &S3Request,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Response, S3Error> {
    let max_parts = max_param(request, "max-parts")?;
    let marker = match request.param("part-number-marker") {
        None => 0,
        Some(text) => text
            .parse::<u32>()
            .map_err(|_| invalid_argument("part-number-marker", "Provided part-number-marker not an integer"))?,
    };
    let (_, parts, truncated) = service
        .buckets
        .list_parts(bucket, key, upload_id, marker, max_parts)
        .await?;
    let mut body = format!("{DECLARATION}<ListPartsResult xmlns=\"{NAMESPACE}\">");
    body.push_str(&element("Bucket", bucket));
    body.push_str(&element("Key", key));
    body.push_str(&element("UploadId", upload_id));
    body.push_str(INITIATOR);
    body.push_str(OWNER);
    body.push_str("<StorageClass>STANDARD</StorageClass>");
    body.push_str(&element("PartNumberMarker", &marker.to_string()));
    if let Some(last) = parts.last() {
        body.push_str(&element("NextPartNumberMarker", &last.part_number.to_string()));
    }
    body.push_str(&element("MaxParts", &max_parts.to_string()));
    body.push_str(&element("IsTruncated", &truncated.to_string()));
    for part in &parts {
        body.push_str(&format!(
            "<Part>{}{}{}{}</Part>",
            element("PartNumber", &part.part_number.to_string()),
            element("LastModified", &iso_date(part.modified_millis)),
            element("ETag", &format!("\"{}\"", part.etag)),
            element("Size", &part.size.to_string())
        ));
    }
    body.push_str("</ListPartsResult>");
    Ok(xml_response(body))
}

/// `GET /{bucket}?uploads`: ListMultipartUploads.
pub(crate) async fn list_uploads(service: &Service, request: &S3Request, bucket: &str) -> Result<Response, S3Error> {
    let query = UploadQuery {
        bucket: bucket.to_owned(),
        prefix: request.param("prefix").unwrap_or_default().to_owned(),
        delimiter: request.param("delimiter").unwrap_or_default().to_owned(),
        key_marker: request.param("key-marker").unwrap_or_default().to_owned(),
        upload_id_marker: request
            .param("upload-id-marker")
            .filter(|id| !id.is_empty() && request.param("key-marker").is_some_and(|key| !key.is_empty()))
            .map(str::to_owned),
        max_uploads: max_param(request, "max-uploads")?,
    };
    let listing = service.buckets.list_uploads(&query).await?;
    let url_encoding = request.param("encoding-type") == Some("url");
    let text = |value: &str| {
        if url_encoding {
            escape(&sluice_buckets::notify::encode_key(value).replace('+', "%20"))
        } else {
            escape(value)
        }
    };
    let mut body = format!("{DECLARATION}<ListMultipartUploadsResult xmlns=\"{NAMESPACE}\">");
    body.push_str(&element("Bucket", bucket));
    body.push_str(&format!("<KeyMarker>{}</KeyMarker>", text(&query.key_marker)));
    body.push_str(&element(
        "UploadIdMarker",
        query.upload_id_marker.as_deref().unwrap_or_default(),
    ));
    if let Some((key, id)) = &listing.next {
        body.push_str(&format!("<NextKeyMarker>{}</NextKeyMarker>", text(key)));
        body.push_str(&element("NextUploadIdMarker", id));
    }
    body.push_str(&format!("<Prefix>{}</Prefix>", text(&query.prefix)));
    if !query.delimiter.is_empty() {
        body.push_str(&format!("<Delimiter>{}</Delimiter>", text(&query.delimiter)));
    }
    body.push_str(&element("MaxUploads", &query.max_uploads.to_string()));
    if url_encoding {
        body.push_str("<EncodingType>url</EncodingType>");
    }
    body.push_str(&element("IsTruncated", &listing.truncated.to_string()));
    for upload in &listing.uploads {
        body.push_str(&format!(
            "<Upload><Key>{}</Key>{}{INITIATOR}{OWNER}<StorageClass>STANDARD</StorageClass>{}</Upload>",
            text(&upload.key),
            element("UploadId", &upload.upload_id),
            element("Initiated", &iso_date(upload.initiated_millis))
        ));
    }
    for common in &listing.common_prefixes {
        body.push_str(&format!(
            "<CommonPrefixes><Prefix>{}</Prefix></CommonPrefixes>",
            text(common)
        ));
    }
    body.push_str("</ListMultipartUploadsResult>");
    Ok(xml_response(body))
}

#[cfg(test)]
mod tests {
    use super::copy_range;

    #[test]
    fn copy_ranges_are_exact_and_inside_the_source() {
        assert_eq!(copy_range("bytes=0-4", 10).expect("ok"), 0..5);
        assert_eq!(copy_range("bytes=9-9", 10).expect("ok"), 9..10);
        assert!(copy_range("bytes=5-", 10).is_err());
        assert!(copy_range("bytes=-5", 10).is_err());
        assert!(copy_range("bytes=6-5", 10).is_err());
        assert!(copy_range("bytes=0-10", 10).is_err());
        assert!(copy_range("items=0-1", 10).is_err());
    }
}
