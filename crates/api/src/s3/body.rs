//! The payload of an S3 request, decoded and checked: a plain body against the signed SHA-256
//! and `Content-MD5`, or an `aws-chunked` body (the streaming forms current SDKs send), whose
//! chunks are checked against their signatures and whose trailer checksum is verified.

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use md5::{Digest, Md5};

use super::error::{Code, S3Error, invalid_argument};
use crate::sigv4::hex_sha256;
use crate::sigv4::s3::{Verified, chunk_signature, same_signature};

/// `x-amz-content-sha256` of a streaming body whose chunks are signed.
const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
/// … with a trailer.
const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
/// … unsigned, with a trailer (botocore's default over HTTP).
const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

/// The object bytes of a request.
pub fn decode(headers: &HeaderMap, raw: Bytes, verified: &Verified) -> Result<Bytes, S3Error> {
    let declared = header(headers, "x-amz-content-sha256").unwrap_or(crate::sigv4::s3::UNSIGNED_PAYLOAD);
    let mut trailers = Vec::new();
    let body = match declared {
        STREAMING_SIGNED | STREAMING_SIGNED_TRAILER => dechunk(&raw, Some(verified), &mut trailers)?,
        STREAMING_UNSIGNED_TRAILER => dechunk(&raw, None, &mut trailers)?,
        crate::sigv4::s3::UNSIGNED_PAYLOAD => raw,
        hash if hash.len() == 64 && hash.bytes().all(|byte| byte.is_ascii_hexdigit()) => {
            if !hash.eq_ignore_ascii_case(&hex_sha256(&raw)) {
                return Err(S3Error::new(
                    Code::XAmzContentSHA256Mismatch,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ));
            }
            raw
        }
        other => {
            return Err(invalid_argument(
                "x-amz-content-sha256",
                format!("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a SHA-256 hash, not {other:?}"),
            ));
        }
    };
    if let Some(length) = header(headers, "x-amz-decoded-content-length") {
        let length: usize = length.parse().map_err(|_| {
            invalid_argument(
                "x-amz-decoded-content-length",
                "x-amz-decoded-content-length must be a number",
            )
        })?;
        if length != body.len() {
            return Err(S3Error::new(
                Code::IncompleteBody,
                format!(
                    "The body has {} bytes, not the {length} x-amz-decoded-content-length declares",
                    body.len()
                ),
            ));
        }
    }
    if let Some(digest) = header(headers, "content-md5")
        && STANDARD.encode(Md5::digest(&body)) != digest
    {
        return Err(S3Error::new(
            Code::BadDigest,
            "The Content-MD5 you specified did not match what we received.",
        ));
    }
    // A checksum may come as a header or (streaming) as a trailer.
    let mut checksums: Vec<(String, String)> = trailers;
    for (name, value) in headers {
        if name.as_str().starts_with("x-amz-checksum-") && name.as_str() != "x-amz-checksum-type" {
            checksums.push((name.as_str().to_owned(), value.to_str().unwrap_or_default().to_owned()));
        }
    }
    for (name, value) in checksums {
        if name == "x-amz-checksum-crc32" && STANDARD.encode(crc32(&body).to_be_bytes()) != value {
            return Err(S3Error::new(
                Code::BadDigest,
                "The CRC32 you specified did not match the calculated checksum.",
            ));
        }
        if name == "x-amz-checksum-sha256" && STANDARD.encode(sha2::Sha256::digest(&body)) != value {
            return Err(S3Error::new(
                Code::BadDigest,
                "The SHA256 you specified did not match the calculated checksum.",
            ));
        }
    }
    Ok(body)
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// Decodes `aws-chunked`: `SIZE[;chunk-signature=SIG]\r\nDATA\r\n` … `0…\r\n` then trailer lines
/// and an empty line. Signed chunks are checked in chain from the request's signature.
fn dechunk(raw: &[u8], verified: Option<&Verified>, trailers: &mut Vec<(String, String)>) -> Result<Bytes, S3Error> {
    let incomplete = |detail: &str| {
        S3Error::new(
            Code::IncompleteBody,
            format!("The aws-chunked body is malformed: {detail}"),
        )
    };
    let mut body = Vec::with_capacity(raw.len());
    let mut previous = verified.map(|verified| verified.seed_signature.clone());
    let mut at = 0;
    loop {
        let line_end = find_crlf(raw, at).ok_or_else(|| incomplete("a chunk header has no line end"))?;
        let line = std::str::from_utf8(&raw[at..line_end]).map_err(|_| incomplete("a chunk header is not text"))?;
        at = line_end + 2;
        let (size, extension) = line.split_once(';').unwrap_or((line, ""));
        let size = usize::from_str_radix(size.trim(), 16).map_err(|_| incomplete("a chunk size is not hex"))?;
        let data = raw
            .get(at..at + size)
            .ok_or_else(|| incomplete("a chunk is shorter than its size"))?;
        if let (Some(verified), Some(chain)) = (verified, previous.as_mut()) {
            let given = extension.strip_prefix("chunk-signature=").unwrap_or_default();
            let expected = chunk_signature(verified, chain, data);
            if !same_signature(&expected, given) {
                return Err(S3Error::new(
                    Code::SignatureDoesNotMatch,
                    "The chunk signature we calculated does not match the signature you provided.",
                ));
            }
            *chain = expected;
        }
        body.extend_from_slice(data);
        at += size;
        if size == 0 {
            break;
        }
        if raw.get(at..at + 2) != Some(b"\r\n") {
            return Err(incomplete("a chunk does not end with CRLF"));
        }
        at += 2;
    }
    // Trailer lines up to an empty line (or the end).
    while let Some(line_end) = find_crlf(raw, at) {
        let line = String::from_utf8_lossy(&raw[at..line_end]).into_owned();
        at = line_end + 2;
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            trailers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    Ok(Bytes::from(body))
}

fn find_crlf(raw: &[u8], from: usize) -> Option<usize> {
    raw.get(from..)?
        .windows(2)
        .position(|pair| pair == b"\r\n")
        .map(|at| from + at)
}

/// CRC-32 (IEEE 802.3, reflected, as zlib computes it).
pub fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut index = 0;
        while index < 256 {
            let mut value = index as u32;
            let mut bit = 0;
            while bit < 8 {
                value = if value & 1 == 1 {
                    (value >> 1) ^ 0xEDB8_8320
                } else {
                    value >> 1
                };
                bit += 1;
            }
            table[index] = value;
            index += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &byte in bytes {
        crc = TABLE[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8);
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn unsigned_chunks_decode_with_their_trailer() {
        let checksum = STANDARD.encode(crc32(b"hello world").to_be_bytes());
        let raw = format!("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:{checksum}\r\n\r\n");
        let mut trailers = Vec::new();
        let body = dechunk(raw.as_bytes(), None, &mut trailers).expect("decoded");
        assert_eq!(&body[..], b"hello world");
        assert_eq!(trailers, [("x-amz-checksum-crc32".to_owned(), checksum)]);
        let truncated = dechunk(b"5\r\nhel", None, &mut Vec::new()).expect_err("refused");
        assert_eq!(truncated.code, Code::IncompleteBody);
    }
}
