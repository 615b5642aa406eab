//! SigV4 as S3 has it: the path is not normalised and is encoded once, the payload hash is
//! whatever `x-amz-content-sha256` says (a hex hash, `UNSIGNED-PAYLOAD`, or a streaming form
//! whose chunks carry their own signatures), and a request may instead be presigned in its query
//! (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use subtle::ConstantTimeEq;

use super::canonical::{self, Parts, collapse_spaces, percent_decode, uri_encode};
use super::{
    AMZ_DATE_FORMAT, Authorization, Credentials, Error, Scope, Signer, check_scope, check_skew, incomplete,
    parse_authorization, request_date,
};

/// The payload hash of a request whose body is not signed.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The longest a presigned URL may live: seven days.
pub const MAX_EXPIRES_SECONDS: i64 = 7 * 24 * 3600;

/// A verified S3 request: who signed it, and what its chunk signatures chain from.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Who signed.
    pub signer: Signer,
    /// The signing key (for chunk signatures).
    pub signing_key: Vec<u8>,
    /// The request's signature: the seed of the chunk signature chain.
    pub seed_signature: String,
    /// `X-Amz-Date`.
    pub amz_date: String,
    /// `DATE/REGION/s3/aws4_request`.
    pub credential_scope: String,
}

/// Verifies an S3 request signed in its `Authorization` header or presigned in its query.
pub fn verify(
    parts: &Parts<'_>,
    credentials: &Credentials,
    scope: Scope<'_>,
    now: DateTime<Utc>,
) -> Result<Verified, Error> {
    if parts.headers.contains_key("authorization") {
        return verify_header(parts, credentials, scope, now);
    }
    if parts.query.contains("X-Amz-Signature=") {
        return verify_query(parts, credentials, scope, now);
    }
    Err(Error::Missing)
}

fn verify_header(
    parts: &Parts<'_>,
    credentials: &Credentials,
    scope: Scope<'_>,
    now: DateTime<Utc>,
) -> Result<Verified, Error> {
    let header = parts
        .headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| incomplete("The Authorization header is not ASCII."))?;
    let authorization = parse_authorization(header)?;
    let (amz_date, signed_at) = request_date(parts, header)?;
    check_skew(signed_at, now)?;
    let payload_hash = parts
        .headers
        .get("x-amz-content-sha256")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| Error::Invalid {
            message: "Missing required header for this request: x-amz-content-sha256".into(),
        })?
        .to_owned();
    let query = canonical::canonical_query(parts.query);
    check(
        parts,
        credentials,
        scope,
        &authorization,
        &amz_date,
        &query,
        &payload_hash,
    )
}

fn verify_query(
    parts: &Parts<'_>,
    credentials: &Credentials,
    scope: Scope<'_>,
    now: DateTime<Utc>,
) -> Result<Verified, Error> {
    let mut fields = std::collections::HashMap::new();
    let mut unsigned_query = Vec::new();
    for pair in parts.query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = String::from_utf8_lossy(&percent_decode(value)).into_owned();
        fields.insert(name.to_owned(), decoded);
        if name != "X-Amz-Signature" {
            unsigned_query.push(pair);
        }
    }
    let field = |name: &str| {
        fields.get(name).cloned().ok_or_else(|| Error::Invalid {
            message: format!("Query-string authentication requires the {name} parameter"),
        })
    };
    let algorithm = field("X-Amz-Algorithm")?;
    if algorithm != super::ALGORITHM {
        return Err(incomplete(&format!("Unsupported AWS 'algorithm': '{algorithm}'")));
    }
    let credential = field("X-Amz-Credential")?;
    let signed_headers = field("X-Amz-SignedHeaders")?;
    let signature = field("X-Amz-Signature")?;
    let amz_date = field("X-Amz-Date")?;
    let expires: i64 = field("X-Amz-Expires")?.parse().map_err(|_| Error::Invalid {
        message: "X-Amz-Expires should be a number".into(),
    })?;
    if !(1..=MAX_EXPIRES_SECONDS).contains(&expires) {
        return Err(Error::Invalid {
            message: format!("X-Amz-Expires must be between 1 and {MAX_EXPIRES_SECONDS} seconds"),
        });
    }
    let signed_at = NaiveDateTime::parse_from_str(&amz_date, AMZ_DATE_FORMAT)
        .map_err(|_| {
            incomplete(&format!(
                "X-Amz-Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
            ))
        })?
        .and_utc();
    if now > signed_at + TimeDelta::seconds(expires) {
        return Err(Error::Invalid {
            message: "Request has expired".into(),
        });
    }
    if signed_at > now + TimeDelta::minutes(super::MAX_SKEW_MINUTES) {
        return Err(Error::Invalid {
            message: "Request is not yet valid".into(),
        });
    }
    let header = format!(
        "{} Credential={credential}, SignedHeaders={signed_headers}, Signature={signature}",
        super::ALGORITHM
    );
    let authorization = parse_authorization(&header)?;
    let query = canonical::canonical_query(&unsigned_query.join("&"));
    check(
        parts,
        credentials,
        scope,
        &authorization,
        &amz_date,
        &query,
        UNSIGNED_PAYLOAD,
    )
}

/// Looks the key up, checks the scope, and compares the signature of the canonical request.
fn check(
    parts: &Parts<'_>,
    credentials: &Credentials,
    scope: Scope<'_>,
    authorization: &Authorization<'_>,
    amz_date: &str,
    canonical_query: &str,
    payload_hash: &str,
) -> Result<Verified, Error> {
    let secret = credentials
        .secret(authorization.access_key)
        .ok_or_else(|| Error::UnknownAccessKey {
            access_key: authorization.access_key.to_owned(),
        })?;
    check_scope(authorization, amz_date, scope)?;
    let credential_scope = format!(
        "{}/{}/{}/aws4_request",
        authorization.date, authorization.region, authorization.service
    );
    let canonical = canonical_request(parts, canonical_query, authorization.signed_headers, payload_hash);
    let to_sign = canonical::string_to_sign(amz_date, &credential_scope, &canonical);
    let key = canonical::signing_key(secret, authorization.date, authorization.region, authorization.service);
    let expected = canonical::signature(&key, &to_sign);
    if !bool::from(expected.as_bytes().ct_eq(authorization.signature.as_bytes())) {
        tracing::debug!(canonical_request = %canonical, string_to_sign = %to_sign, "S3 signature mismatch");
        return Err(Error::Mismatch);
    }
    Ok(Verified {
        signer: Signer {
            access_key: authorization.access_key.to_owned(),
            region: authorization.region.to_owned(),
        },
        signing_key: key,
        seed_signature: expected,
        amz_date: amz_date.to_owned(),
        credential_scope,
    })
}

/// S3's canonical request: the path decoded and encoded once (`/` kept), not normalised.
fn canonical_request(parts: &Parts<'_>, canonical_query: &str, signed_headers: &str, payload_hash: &str) -> String {
    let mut headers = String::new();
    for name in signed_headers.split(';') {
        let values: Vec<String> = parts
            .headers
            .get_all(name)
            .iter()
            .map(|value| collapse_spaces(&String::from_utf8_lossy(value.as_bytes())))
            .collect();
        headers.push_str(name);
        headers.push(':');
        headers.push_str(&values.join(","));
        headers.push('\n');
    }
    format!(
        "{}\n{}\n{canonical_query}\n{headers}\n{signed_headers}\n{payload_hash}",
        parts.method,
        canonical_uri(parts.path)
    )
}

/// The path decoded, then each byte but the unreserved ones and `/` encoded.
pub fn canonical_uri(path: &str) -> String {
    percent_decode(path)
        .split(|&byte| byte == b'/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// The signature a chunk of a `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` body must carry, given the
/// previous chunk's (the request's for the first).
pub fn chunk_signature(verified: &Verified, previous: &str, chunk: &[u8]) -> String {
    let to_sign = format!(
        "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{previous}\n{}\n{}",
        verified.amz_date,
        verified.credential_scope,
        canonical::hex_sha256(b""),
        canonical::hex_sha256(chunk)
    );
    canonical::signature(&verified.signing_key, &to_sign)
}

/// Whether two signatures are equal, in constant time.
pub fn same_signature(expected: &str, given: &str) -> bool {
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::canonical_uri;

    #[test]
    fn s3_paths_are_encoded_once_and_never_normalised() {
        assert_eq!(canonical_uri("/bucket/a%20b/../c"), "/bucket/a%20b/../c");
        assert_eq!(canonical_uri("/bucket/a+b!"), "/bucket/a%2Bb%21");
        assert_eq!(canonical_uri("/bucket//x"), "/bucket//x");
    }
}
