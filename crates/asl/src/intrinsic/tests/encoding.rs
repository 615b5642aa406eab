//! Base64Encode, Base64Decode and Hash, with the AWS documentation's examples.

use serde_json::json;

use super::{check, fails, ok};

#[test]
fn base64_encode_docs_example() {
    check(
        "States.Base64Encode($.input)",
        json!({"input": "Data to encode"}),
        ok(json!("RGF0YSB0byBlbmNvZGU=")),
    );
    check("States.Base64Encode('')", json!({}), ok(json!("")));
    check("States.Base64Encode('é')", json!({}), ok(json!("w6k=")));
}

#[test]
fn base64_decode_docs_example() {
    // The documentation prints "Decoded data" for this input, but its bytes say otherwise.
    check(
        "States.Base64Decode($.base64)",
        json!({"base64": "RGF0YSB0byBlbmNvZGU="}),
        ok(json!("Data to encode")),
    );
    check(
        "States.Base64Decode('RGF0YSB0byBlbmNvZGU')",
        json!({}),
        ok(json!("Data to encode")),
    );
    check(
        "States.Base64Decode(States.Base64Encode('round trip'))",
        json!({}),
        ok(json!("round trip")),
    );
}

#[test]
fn base64_decode_failures() {
    check(
        "States.Base64Decode('***')",
        json!({}),
        fails("States.Base64Decode: the data is not valid Base64"),
    );
    check(
        "States.Base64Decode('/w==')",
        json!({}),
        fails("States.Base64Decode: the decoded data is not UTF-8 text"),
    );
    check(
        "States.Base64Decode(1)",
        json!({}),
        fails("'data' of States.Base64Decode must be a string, got 1"),
    );
}

#[test]
fn base64_inputs_are_at_most_ten_thousand_characters() {
    let at_limit = json!({"s": "é".repeat(10_000)});
    let encoded = super::super::Call::parse("States.Base64Encode($.s)")
        .unwrap()
        .evaluate(&mut super::Scope::new(at_limit), &mut crate::SeededEntropy::new(1))
        .unwrap();
    assert_eq!(encoded.as_str().map(str::len), Some(26_668));
    let over = json!({"s": "a".repeat(10_001)});
    check(
        "States.Base64Encode($.s)",
        over.clone(),
        fails("States.Base64Encode: the data holds 10001 characters, more than the 10000 allowed"),
    );
    check(
        "States.Base64Decode($.s)",
        over,
        fails("States.Base64Decode: the data holds 10001 characters"),
    );
}

#[test]
fn hash_docs_example() {
    // The documentation prints "aaff4a450a104cd177d28d18d7485e8cae074b7", one digit short.
    check(
        "States.Hash($.Data, $.Algorithm)",
        json!({"Data": "input data", "Algorithm": "SHA-1"}),
        ok(json!("aaff4a450a104cd177d28d18d74485e8cae074b7")),
    );
}

#[test]
fn hash_every_algorithm() {
    let cases = [
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
        ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        (
            "SHA-256",
            "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3",
        ),
        (
            "SHA-384",
            "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562",
        ),
        (
            "SHA-512",
            "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
        ),
    ];
    for (algorithm, digest) in cases {
        check(
            "States.Hash('input data', $.a)",
            json!({"a": algorithm}),
            ok(json!(digest)),
        );
    }
    check(
        "States.Hash('héllo', 'SHA-256')",
        json!({}),
        ok(json!(
            "3c48591d8d098a4538f5e013dfcf406e948eac4d3277b10bf614e295d6068179"
        )),
    );
}

#[test]
fn hash_failures() {
    check(
        "States.Hash('x', 'SHA1')",
        json!({}),
        fails("'algorithm' of States.Hash must be one of MD5, SHA-1, SHA-256, SHA-384 and SHA-512, got a string"),
    );
    check(
        "States.Hash('x', 'sha-256')",
        json!({}),
        fails("'algorithm' of States.Hash must be one of"),
    );
    check(
        "States.Hash('x', 1)",
        json!({}),
        fails("'algorithm' of States.Hash must be a string, got 1"),
    );
    check(
        "States.Hash($.d, 'MD5')",
        json!({"d": {"a": 1}}),
        fails("'data' of States.Hash must be a string, got an object"),
    );
    check(
        "States.Hash($.d, 'MD5')",
        json!({"d": "a".repeat(10_001)}),
        fails("States.Hash: the data holds 10001 characters, more than the 10000 allowed"),
    );
}
