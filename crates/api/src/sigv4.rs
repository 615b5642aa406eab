//! AWS Signature Version 4, verified: the `Authorization` header is parsed, the access key looked
//! up, the date checked against the server clock, and the signature recomputed and compared in
//! constant time. Errors carry AWS's codes and messages.

mod canonical;
pub mod s3;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ErrorCode};

pub(crate) use canonical::percent_decode;
pub use canonical::{Parts, canonical_request, canonical_uri, hex_sha256, signing_key, string_to_sign};

/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far the request's date may be from the server clock.
pub const MAX_SKEW_MINUTES: i64 = 15;

const AMZ_DATE_FORMAT: &str = "%Y%m%dT%H%M%SZ";

/// The access keys the server accepts, each with its secret.
#[derive(Clone, Default)]
pub struct Credentials {
    secrets: HashMap<String, String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed.
        formatter
            .debug_struct("Credentials")
            .field("access_keys", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Credentials {
    /// No keys.
    pub fn new() -> Credentials {
        Credentials::default()
    }

    /// Accepts `access_key` signed with `secret`.
    pub fn insert(&mut self, access_key: impl Into<String>, secret: impl Into<String>) {
        self.secrets.insert(access_key.into(), secret.into());
    }

    /// The secret of `access_key`.
    pub fn secret(&self, access_key: &str) -> Option<&str> {
        self.secrets.get(access_key).map(String::as_str)
    }
}

/// What the signature must be scoped to.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The signing name of the service: `states`.
    pub service: &'a str,
    /// The region the server answers for; any region when none.
    pub region: Option<&'a str>,
}

/// Who signed a verified request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// The access key.
    pub access_key: String,
    /// The region of the credential scope.
    pub region: String,
}

/// Why a request's signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No `Authorization` header.
    #[error("Missing Authentication Token")]
    Missing,
    /// The header is malformed, lacks a part, or no date was sent.
    #[error("{message}")]
    Incomplete {
        /// AWS's message.
        message: String,
    },
    /// The access key is unknown.
    #[error("The security token included in the request is invalid.")]
    UnknownAccessKey {
        /// The access key.
        access_key: String,
    },
    /// The signature does not match.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret \
         Access Key and signing method. Consult the service documentation for details."
    )]
    Mismatch,
    /// The date is too far from the server clock, or the scope is wrong.
    #[error("{message}")]
    Invalid {
        /// AWS's message.
        message: String,
    },
}

impl From<Error> for ApiError {
    fn from(error: Error) -> ApiError {
        let code = match &error {
            Error::Missing => ErrorCode::MissingAuthenticationTokenException,
            Error::Incomplete { .. } => ErrorCode::IncompleteSignatureException,
            Error::UnknownAccessKey { .. } => ErrorCode::UnrecognizedClientException,
            Error::Mismatch | Error::Invalid { .. } => ErrorCode::InvalidSignatureException,
        };
        ApiError::new(code, error.to_string())
    }
}

/// Verifies the request's signature against `credentials`, at the server time `now`.
pub fn verify(
    parts: &Parts<'_>,
    credentials: &Credentials,
    scope: Scope<'_>,
    now: DateTime<Utc>,
) -> Result<Signer, Error> {
    // 1. Parse the Authorization header.
    let header = parts.headers.get("authorization").ok_or(Error::Missing)?;
    let header = header
        .to_str()
        .map_err(|_| incomplete("The Authorization header is not ASCII."))?;
    let authorization = parse_authorization(header)?;
    // 2. The request's date.
    let (amz_date, signed_at) = request_date(parts, header)?;
    // 3. The access key.
    let secret = credentials
        .secret(authorization.access_key)
        .ok_or_else(|| Error::UnknownAccessKey {
            access_key: authorization.access_key.to_owned(),
        })?;
    // 4. The clock skew.
    check_skew(signed_at, now)?;
    // 5. The scope: date, region, service.
    check_scope(&authorization, &amz_date, scope)?;
    // 6. The signature.
    let credential_scope = format!(
        "{}/{}/{}/aws4_request",
        authorization.date, authorization.region, authorization.service
    );
    let canonical = canonical_request(parts, authorization.signed_headers);
    let to_sign = string_to_sign(&amz_date, &credential_scope, &canonical);
    let key = signing_key(secret, authorization.date, authorization.region, authorization.service);
    let expected = canonical::signature(&key, &to_sign);
    if !bool::from(expected.as_bytes().ct_eq(authorization.signature.as_bytes())) {
        tracing::debug!(canonical_request = %canonical, string_to_sign = %to_sign, "signature mismatch");
        return Err(Error::Mismatch);
    }
    Ok(Signer {
        access_key: authorization.access_key.to_owned(),
        region: authorization.region.to_owned(),
    })
}

/// The `Authorization` header a client would send for `parts`, signed at `amz_date`
/// (`20150830T123600Z`) with `signed_headers` (`host;x-amz-date`, sorted, lower-case).
pub fn authorization_header(
    parts: &Parts<'_>,
    access_key: &str,
    secret: &str,
    region: &str,
    service: &str,
    amz_date: &str,
    signed_headers: &str,
) -> String {
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let credential_scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = string_to_sign(amz_date, &credential_scope, &canonical_request(parts, signed_headers));
    let signature = canonical::signature(&signing_key(secret, date, region, service), &to_sign);
    format!(
        "{ALGORITHM} Credential={access_key}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug)]
struct Authorization<'a> {
    access_key: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(header: &str) -> Result<Authorization<'_>, Error> {
    let (algorithm, rest) = header.trim().split_once(' ').unwrap_or((header.trim(), ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(&format!("Unsupported AWS 'algorithm': '{algorithm}'")));
    }
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", value)) => credential = Some(value),
            Some(("SignedHeaders", value)) => signed_headers = Some(value),
            Some(("Signature", value)) => signature = Some(value),
            _ => {}
        }
    }
    let mut missing = String::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if value.is_none() {
            missing.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) = (credential, signed_headers, signature) else {
        return Err(incomplete(&format!("{missing}Authorization={header}")));
    };
    let pieces: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = pieces[..] else {
        return Err(incomplete(&format!(
            "Credential should be scoped to a valid region, service and date: '{credential}'. Authorization={header}"
        )));
    };
    if terminator != "aws4_request" {
        return Err(Error::Invalid {
            message: format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."
            ),
        });
    }
    Ok(Authorization {
        access_key,
        date,
        region,
        service,
        signed_headers,
        signature,
    })
}

/// The date the request was signed at: `X-Amz-Date`, or else the HTTP `Date` header.
fn request_date(parts: &Parts<'_>, header: &str) -> Result<(String, DateTime<Utc>), Error> {
    if let Some(value) = parts.headers.get("x-amz-date") {
        let text = value.to_str().unwrap_or_default();
        let parsed = NaiveDateTime::parse_from_str(text, AMZ_DATE_FORMAT).map_err(|_| {
            incomplete(&format!(
                "Date must be in ISO-8601 'basic format'. Got '{text}'. See http://en.wikipedia.org/wiki/ISO_8601"
            ))
        })?;
        return Ok((text.to_owned(), parsed.and_utc()));
    }
    if let Some(value) = parts.headers.get("date") {
        let text = value.to_str().unwrap_or_default();
        let parsed = DateTime::parse_from_rfc2822(text)
            .map_err(|_| incomplete(&format!("Date must be an HTTP date. Got '{text}'.")))?
            .with_timezone(&Utc);
        return Ok((parsed.format(AMZ_DATE_FORMAT).to_string(), parsed));
    }
    Err(incomplete(&format!(
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization={header}"
    )))
}

fn check_skew(signed_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), Error> {
    let skew = TimeDelta::minutes(MAX_SKEW_MINUTES);
    let format = |time: DateTime<Utc>| time.format(AMZ_DATE_FORMAT).to_string();
    if signed_at < now - skew {
        return Err(Error::Invalid {
            message: format!(
                "Signature expired: {} is now earlier than {} ({} - {MAX_SKEW_MINUTES} min.)",
                format(signed_at),
                format(now - skew),
                format(now)
            ),
        });
    }
    if signed_at > now + skew {
        return Err(Error::Invalid {
            message: format!(
                "Signature not yet current: {} is still later than {} ({} + {MAX_SKEW_MINUTES} min.)",
                format(signed_at),
                format(now + skew),
                format(now)
            ),
        });
    }
    Ok(())
}

fn check_scope(authorization: &Authorization<'_>, amz_date: &str, scope: Scope<'_>) -> Result<(), Error> {
    let mut problems = Vec::new();
    if scope.region.is_some_and(|region| region != authorization.region) {
        problems.push(format!(
            "Credential should be scoped to a valid region, not '{}'.",
            authorization.region
        ));
    }
    if authorization.service != scope.service {
        problems.push(format!(
            "Credential should be scoped to correct service: '{}'.",
            scope.service
        ));
    }
    let request_day = amz_date.get(..8).unwrap_or(amz_date);
    if authorization.date != request_day {
        problems.push(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != \
             '{request_day}', from '{amz_date}'.",
            authorization.date
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid {
            message: problems.join(" "),
        })
    }
}

fn incomplete(message: &str) -> Error {
    Error::Incomplete {
        message: message.to_owned(),
    }
}
