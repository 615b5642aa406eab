//! Intrinsics for data encoding and decoding (Base64Encode, Base64Decode) and for hash calculation
//! (Hash).
//!
//! See "Intrinsic functions for JSONPath states", sections "Intrinsics for data encoding and
//! decoding" and "Intrinsic for hash calculation":
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html#asl-intrsc-func-data-encode-decode>.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use md5::Md5;
use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::eval::Args;
use crate::failure::Failure;

/// The most characters Base64Encode, Base64Decode and Hash accept.
pub(super) const MAX_INPUT_CHARS: usize = 10_000;

/// Decodes with or without the trailing `=` padding.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `States.Base64Encode(data)`: the UTF-8 bytes of a string of at most 10,000 characters, in
/// standard Base64 with padding.
pub(super) fn base64_encode(args: &Args) -> Result<Value, Failure> {
    let data = limited_string(args, 0)?;
    Ok(Value::String(STANDARD.encode(data.as_bytes())))
}

/// `States.Base64Decode(data)`: the string whose UTF-8 bytes a Base64 string of at most 10,000
/// characters encodes.
pub(super) fn base64_decode(args: &Args) -> Result<Value, Failure> {
    let data = limited_string(args, 0)?;
    let bytes = LENIENT
        .decode(data.trim())
        .map_err(|error| args.fail(format!("the data is not valid Base64: {error}")))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| args.fail("the decoded data is not UTF-8 text"))
}

/// `States.Hash(data, algorithm)`: the lower-case hexadecimal digest of the UTF-8 bytes of a
/// string of at most 10,000 characters; the algorithm is one of `MD5`, `SHA-1`, `SHA-256`,
/// `SHA-384` and `SHA-512`, spelled exactly so.
pub(super) fn hash(args: &Args) -> Result<Value, Failure> {
    let data = limited_string(args, 0)?.as_bytes();
    let digest = match args.string(1)? {
        "MD5" => hex(&Md5::digest(data)),
        "SHA-1" => hex(&Sha1::digest(data)),
        "SHA-256" => hex(&Sha256::digest(data)),
        "SHA-384" => hex(&Sha384::digest(data)),
        "SHA-512" => hex(&Sha512::digest(data)),
        _ => return Err(args.invalid(1, "one of MD5, SHA-1, SHA-256, SHA-384 and SHA-512")),
    };
    Ok(Value::String(digest))
}

/// A string argument of at most [`MAX_INPUT_CHARS`] characters.
fn limited_string(args: &Args, index: usize) -> Result<&str, Failure> {
    let data = args.string(index)?;
    let length = data.chars().count();
    if length > MAX_INPUT_CHARS {
        return Err(args.fail(format!(
            "the data holds {length} characters, more than the {MAX_INPUT_CHARS} allowed"
        )));
    }
    Ok(data)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}
