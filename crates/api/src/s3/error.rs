//! S3's errors: one table of the codes the S3 API answers with and their HTTP statuses, and the
//! XML body that carries them (`<Error><Code>…</Code><Message>…</Message>…</Error>`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::xml::escape;

macro_rules! s3_codes {
    ($($(#[doc = $doc:literal])* $code:ident => $status:literal,)*) => {
        /// An S3 error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Code {
            $($(#[doc = $doc])* $code,)*
        }

        impl Code {
            /// The code as S3 writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                }
            }

            /// The HTTP status S3 answers it with.
            pub fn status(self) -> StatusCode {
                let status: u16 = match self {
                    $(Code::$code => $status,)*
                };
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    };
}

s3_codes! {
    /// No signature, an expired presigned URL, or a scope S3 refuses.
    AccessDenied => 403,
    /// The `Authorization` header is malformed.
    AuthorizationHeaderMalformed => 400,
    /// The access key is unknown.
    InvalidAccessKeyId => 403,
    /// The signature does not match.
    SignatureDoesNotMatch => 403,
    /// The body's SHA-256 is not the one signed.
    XAmzContentSHA256Mismatch => 400,
    /// `Content-MD5` or a checksum does not match the body.
    BadDigest => 400,
    /// The body ended before its declared length, or a chunk is malformed.
    IncompleteBody => 400,
    /// The bucket does not exist.
    NoSuchBucket => 404,
    /// The key does not exist.
    NoSuchKey => 404,
    /// A conditional read found the object unchanged (answered without a body).
    NotModified => 304,
    /// A condition header did not hold.
    PreconditionFailed => 412,
    /// The bucket exists and is yours.
    BucketAlreadyOwnedByYou => 409,
    /// The bucket has objects.
    BucketNotEmpty => 409,
    /// The bucket name breaks S3's rules.
    InvalidBucketName => 400,
    /// The key is longer than 1024 bytes.
    KeyTooLongError => 400,
    /// A header, parameter or field is not valid.
    InvalidArgument => 400,
    /// The request is not valid as a whole.
    InvalidRequest => 400,
    /// The range is outside the object.
    InvalidRange => 416,
    /// The XML body is not well-formed or not of the expected shape.
    MalformedXML => 400,
    /// The body is larger than the server takes in one request.
    EntityTooLarge => 400,
    /// The multipart upload does not exist.
    NoSuchUpload => 404,
    /// A completion names a part not uploaded, or with another ETag.
    InvalidPart => 400,
    /// A completion's parts are not in ascending order.
    InvalidPartOrder => 400,
    /// A part other than the last is smaller than 5 MiB.
    EntityTooSmall => 400,
    /// The method does not apply to the resource.
    MethodNotAllowed => 405,
    /// The operation is not one Sluice serves.
    NotImplemented => 501,
    /// The server failed.
    InternalError => 500,
}

/// An S3 error: its code, message, and the resource it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Error {
    /// The code.
    pub code: Code,
    /// The message.
    pub message: String,
    /// Extra elements (`BucketName`, `Key`, `Condition`, `ArgumentName`).
    pub details: Vec<(&'static str, String)>,
    /// Whether the request was a HEAD (whose answer has no body).
    pub head: bool,
}

impl S3Error {
    /// An error of `code` saying `message`.
    pub fn new(code: Code, message: impl Into<String>) -> S3Error {
        S3Error {
            code,
            message: message.into(),
            details: Vec::new(),
            head: false,
        }
    }

    /// Adds an element to the body.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> S3Error {
        self.details.push((name, value.into()));
        self
    }

    /// The XML body.
    pub fn body(&self, request_id: &str) -> String {
        let mut body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message>",
            self.code.as_str(),
            escape(&self.message)
        );
        for (name, value) in &self.details {
            body.push_str(&format!("<{name}>{}</{name}>", escape(value)));
        }
        body.push_str(&format!("<RequestId>{request_id}</RequestId></Error>"));
        body
    }
}

impl IntoResponse for S3Error {
    fn into_response(self) -> Response {
        if self.code.status().is_server_error() {
            tracing::error!(code = self.code.as_str(), message = %self.message, "S3 request failed");
        }
        let request_id = uuid::Uuid::new_v4().simple().to_string();
        let body = if self.head {
            String::new()
        } else {
            self.body(&request_id)
        };
        (
            self.code.status(),
            [
                (axum::http::header::CONTENT_TYPE, "application/xml"),
                (
                    axum::http::HeaderName::from_static("x-amz-request-id"),
                    request_id.as_str(),
                ),
            ],
            body,
        )
            .into_response()
    }
}

impl From<sluice_buckets::Error> for S3Error {
    fn from(error: sluice_buckets::Error) -> S3Error {
        use sluice_buckets::Error as E;
        let message = error.to_string();
        match error {
            E::NoSuchBucket { bucket } => S3Error::new(Code::NoSuchBucket, message).with("BucketName", bucket),
            E::NoSuchKey { key } => S3Error::new(Code::NoSuchKey, message).with("Key", key),
            E::PreconditionFailed { condition } => {
                S3Error::new(Code::PreconditionFailed, message).with("Condition", condition)
            }
            E::BucketAlreadyOwnedByYou { bucket } => {
                S3Error::new(Code::BucketAlreadyOwnedByYou, message).with("BucketName", bucket)
            }
            E::BucketNotEmpty { bucket } => S3Error::new(Code::BucketNotEmpty, message).with("BucketName", bucket),
            E::InvalidBucketName { bucket, .. } => {
                S3Error::new(Code::InvalidBucketName, message).with("BucketName", bucket)
            }
            E::KeyTooLong { .. } => S3Error::new(Code::KeyTooLongError, message),
            E::InvalidArgument { name, .. } => S3Error::new(Code::InvalidArgument, message).with("ArgumentName", name),
            E::InvalidRange { size } => {
                S3Error::new(Code::InvalidRange, message).with("ActualObjectSize", size.to_string())
            }
            E::NoSuchUpload { upload_id } => S3Error::new(Code::NoSuchUpload, message).with("UploadId", upload_id),
            E::InvalidPart { part_number } => {
                S3Error::new(Code::InvalidPart, message).with("PartNumber", part_number.to_string())
            }
            E::InvalidPartOrder { .. } => S3Error::new(Code::InvalidPartOrder, message),
            E::EntityTooSmall { size, .. } => S3Error::new(Code::EntityTooSmall, message)
                .with("ProposedSize", size.to_string())
                .with("MinSizeAllowed", sluice_buckets::multipart::MIN_PART_SIZE.to_string()),
            _ => S3Error::new(Code::InternalError, message),
        }
    }
}

impl From<crate::sigv4::Error> for S3Error {
    fn from(error: crate::sigv4::Error) -> S3Error {
        use crate::sigv4::Error as E;
        let code = match &error {
            E::Missing => Code::AccessDenied,
            E::Incomplete { .. } => Code::AuthorizationHeaderMalformed,
            E::UnknownAccessKey { .. } => Code::InvalidAccessKeyId,
            E::Mismatch => Code::SignatureDoesNotMatch,
            _ => Code::AccessDenied,
        };
        let message = match &error {
            E::Missing => "Access Denied: the request is not signed".to_owned(),
            E::UnknownAccessKey { .. } => {
                "The AWS Access Key Id you provided does not exist in our records.".to_owned()
            }
            other => other.to_string(),
        };
        S3Error::new(code, message)
    }
}

/// An `InvalidArgument` naming the header or parameter at fault.
pub fn invalid_argument(name: &str, message: impl Into<String>) -> S3Error {
    S3Error::new(Code::InvalidArgument, message).with("ArgumentName", name)
}
