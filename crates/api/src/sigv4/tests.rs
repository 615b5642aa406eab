//! SigV4 against AWS's published test suite (`aws-sig-v4-test-suite`: AKIDEXAMPLE, 20150830T123600Z,
//! us-east-1, service `service`), and against signed JSON requests.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use chrono::{DateTime, TimeZone, Utc};

use super::*;

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_DATE: &str = "20150830T123600Z";

fn suite_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2015, 8, 30, 12, 36, 0).single().unwrap()
}

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

fn credentials() -> Credentials {
    let mut credentials = Credentials::new();
    credentials.insert(ACCESS_KEY, SECRET);
    credentials
}

/// Signs a suite request and checks the signature AWS published for it.
fn check_suite(method: &str, path: &str, query: &str, signature: &str) {
    let map = headers(&[("host", "example.amazonaws.com"), ("x-amz-date", SUITE_DATE)]);
    let parts = Parts {
        method,
        path,
        query,
        headers: &map,
        body: b"",
    };
    let header = authorization_header(
        &parts,
        ACCESS_KEY,
        SECRET,
        "us-east-1",
        "service",
        SUITE_DATE,
        "host;x-amz-date",
    );
    let expected = format!(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature={signature}"
    );
    assert_eq!(header, expected);
    // The header verifies, too.
    let mut signed = map.clone();
    signed.insert("authorization", HeaderValue::from_str(&header).unwrap());
    let parts = Parts {
        headers: &signed,
        ..parts
    };
    let scope = Scope {
        service: "service",
        region: Some("us-east-1"),
    };
    assert!(verify(&parts, &credentials(), scope, suite_now()).is_ok());
}

#[test]
fn get_vanilla() {
    let map = headers(&[("host", "example.amazonaws.com"), ("x-amz-date", SUITE_DATE)]);
    let parts = Parts {
        method: "GET",
        path: "/",
        query: "",
        headers: &map,
        body: b"",
    };
    let canonical = canonical_request(&parts, "host;x-amz-date");
    assert_eq!(
        canonical,
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex_sha256(canonical.as_bytes()),
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    );
    check_suite(
        "GET",
        "/",
        "",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    );
}

#[test]
fn get_vanilla_query_order_key_case() {
    check_suite(
        "GET",
        "/",
        "Param2=value2&Param1=value1",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    );
}

#[test]
fn post_vanilla() {
    check_suite(
        "POST",
        "/",
        "",
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    );
}

#[test]
fn get_utf8() {
    check_suite(
        "GET",
        "/ሴ",
        "",
        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    );
}

#[test]
fn paths_are_normalized() {
    for (path, canonical) in [
        ("", "/"),
        ("/", "/"),
        ("//", "/"),
        ("//example//", "/example/"),
        ("/example/..", "/"),
        ("/example1/example2/../..", "/"),
        ("/./", "/"),
        ("/./example", "/example"),
        ("/example space/", "/example%20space/"),
        ("/a%2Fb", "/a%252Fb"),
    ] {
        assert_eq!(canonical_uri(path), canonical, "{path:?}");
    }
    assert_eq!(canonical::canonical_query("b=2&a=%41&c&a=1"), "a=1&a=A&b=2&c=");
}

/// A Step Functions request as botocore sends it.
fn json_request(body: &[u8], amz_date: &str) -> HeaderMap {
    let mut map = headers(&[
        ("host", "127.0.0.1:8080"),
        ("content-type", "application/x-amz-json-1.0"),
        ("x-amz-target", "AWSStepFunctions.ListStateMachines"),
        ("x-amz-date", amz_date),
    ]);
    let parts = Parts {
        method: "POST",
        path: "/",
        query: "",
        headers: &map,
        body,
    };
    let header = authorization_header(
        &parts,
        ACCESS_KEY,
        SECRET,
        "us-east-1",
        "states",
        amz_date,
        "content-type;host;x-amz-date;x-amz-target",
    );
    map.insert("authorization", HeaderValue::from_str(&header).unwrap());
    map
}

fn check_json(map: &HeaderMap, body: &[u8], now: DateTime<Utc>, expect: Result<(), (&str, &str)>) {
    let parts = Parts {
        method: "POST",
        path: "/",
        query: "",
        headers: map,
        body,
    };
    let scope = Scope {
        service: "states",
        region: Some("us-east-1"),
    };
    let got = verify(&parts, &credentials(), scope, now)
        .map(|_| ())
        .map_err(ApiError::from);
    match (got, expect) {
        (Ok(()), Ok(())) => {}
        (Err(error), Err((code, message))) => {
            assert_eq!(error.code.as_str(), code);
            assert!(error.message.starts_with(message), "{}", error.message);
        }
        (got, expect) => panic!("got {got:?}, expected {expect:?}"),
    }
}

#[test]
fn json_post_verifies() {
    let body = br#"{"maxResults":10}"#;
    check_json(&json_request(body, SUITE_DATE), body, suite_now(), Ok(()));
    // A declared payload hash is used instead of hashing the body.
    let mut map = json_request(body, SUITE_DATE);
    map.insert(
        "x-amz-content-sha256",
        HeaderValue::from_str(&hex_sha256(body)).unwrap(),
    );
    check_json(&map, body, suite_now(), Ok(()));
    map.insert("x-amz-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
    check_json(
        &map,
        body,
        suite_now(),
        Err(("InvalidSignatureException", "The request signature we calculated")),
    );
}

#[test]
fn refusals_have_aws_codes() {
    let body = br#"{"maxResults":10}"#;
    let signed = json_request(body, SUITE_DATE);
    // Tampered body.
    check_json(
        &signed,
        b"{}",
        suite_now(),
        Err(("InvalidSignatureException", "The request signature we calculated")),
    );
    // No header.
    let mut unsigned = signed.clone();
    unsigned.remove("authorization");
    check_json(
        &unsigned,
        body,
        suite_now(),
        Err(("MissingAuthenticationTokenException", "Missing Authentication")),
    );
    // Unknown key.
    let mut unknown = signed.clone();
    let header = signed["authorization"]
        .to_str()
        .unwrap()
        .replace("AKIDEXAMPLE", "AKIDOTHER");
    unknown.insert("authorization", HeaderValue::from_str(&header).unwrap());
    check_json(
        &unknown,
        body,
        suite_now(),
        Err(("UnrecognizedClientException", "The security token included")),
    );
    // Skew both ways.
    let late = suite_now() + TimeDelta::minutes(16);
    check_json(
        &signed,
        body,
        late,
        Err((
            "InvalidSignatureException",
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123700Z (20150830T125200Z - 15 min.)",
        )),
    );
    let early = suite_now() - TimeDelta::minutes(16);
    check_json(
        &signed,
        body,
        early,
        Err((
            "InvalidSignatureException",
            "Signature not yet current: 20150830T123600Z",
        )),
    );
    // Fifteen minutes is still fine.
    check_json(&signed, body, suite_now() + TimeDelta::minutes(15), Ok(()));
    // A malformed header.
    let mut malformed = signed.clone();
    malformed.insert(
        "authorization",
        HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830"),
    );
    check_json(
        &malformed,
        body,
        suite_now(),
        Err((
            "IncompleteSignatureException",
            "Authorization header requires 'Signature'",
        )),
    );
    // No date.
    let mut undated = signed.clone();
    undated.remove("x-amz-date");
    check_json(
        &undated,
        body,
        suite_now(),
        Err((
            "IncompleteSignatureException",
            "Authorization header requires existence",
        )),
    );
}

#[test]
fn scope_must_match() {
    let body = b"{}";
    // Signed for the next day: the scope's date no longer matches X-Amz-Date.
    let mut map = json_request(body, SUITE_DATE);
    let header = map["authorization"]
        .to_str()
        .unwrap()
        .replace("/20150830/", "/20150831/");
    map.insert("authorization", HeaderValue::from_str(&header).unwrap());
    check_json(
        &map,
        body,
        suite_now(),
        Err(("InvalidSignatureException", "Date in Credential scope does not match")),
    );
    // Another region.
    let parts = Parts {
        method: "POST",
        path: "/",
        query: "",
        headers: &json_request(body, SUITE_DATE),
        body,
    };
    let scope = Scope {
        service: "states",
        region: Some("eu-west-1"),
    };
    let error = verify(&parts, &credentials(), scope, suite_now()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Credential should be scoped to a valid region, not 'us-east-1'."
    );
    // Any region when the server names none.
    let scope = Scope {
        service: "states",
        region: None,
    };
    let signer = verify(&parts, &credentials(), scope, suite_now()).unwrap();
    assert_eq!(
        signer,
        Signer {
            access_key: ACCESS_KEY.to_owned(),
            region: "us-east-1".to_owned()
        }
    );
    // Another service.
    let scope = Scope {
        service: "sqs",
        region: None,
    };
    let error = verify(&parts, &credentials(), scope, suite_now()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Credential should be scoped to correct service: 'sqs'."
    );
}
