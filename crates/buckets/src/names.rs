//! Bucket names and object keys, checked once at the edge: a bucket name by S3's naming rules
//! (it becomes a blob folder), a key by S3's length limit and the characters XML can carry.

use crate::Error;

/// The longest key, in UTF-8 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Checks a bucket name against S3's rules for general purpose buckets.
pub fn check_bucket_name(name: &str) -> Result<(), Error> {
    let invalid = |reason| Error::InvalidBucketName {
        bucket: name.to_owned(),
        reason,
    };
    if !(3..=63).contains(&name.len()) {
        return Err(invalid("bucket names must be between 3 and 63 characters long"));
    }
    if !name
        .bytes()
        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'.' || byte == b'-')
    {
        return Err(invalid(
            "bucket names can consist only of lowercase letters, numbers, periods and hyphens",
        ));
    }
    let first_and_last = [name.as_bytes()[0], name.as_bytes()[name.len() - 1]];
    if !first_and_last
        .iter()
        .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit())
    {
        return Err(invalid("bucket names must begin and end with a letter or number"));
    }
    if name.contains("..") {
        return Err(invalid("bucket names must not contain two adjacent periods"));
    }
    if name.split('.').count() == 4 && name.split('.').all(|part| part.parse::<u8>().is_ok()) {
        return Err(invalid("bucket names must not be formatted as an IP address"));
    }
    Ok(())
}

/// Checks an object key: not empty, at most [`MAX_KEY_BYTES`], and no control characters
/// other than tab, line feed and carriage return (XML 1.0 cannot carry them in a listing).
/// Everything else, `..`, a leading `/` and backslashes included, is a valid S3 key: keys
/// never become file paths (blob names are made by `sluice-blob`).
pub fn check_key(key: &str) -> Result<(), Error> {
    if key.is_empty() {
        return Err(Error::InvalidArgument {
            name: "key".into(),
            message: "The object key must not be empty".into(),
        });
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(Error::KeyTooLong { length: key.len() });
    }
    if let Some(control) = key
        .chars()
        .find(|character| (*character as u32) < 0x20 && !matches!(character, '\t' | '\n' | '\r'))
    {
        return Err(Error::InvalidArgument {
            name: "key".into(),
            message: format!(
                "The object key must not contain the control character U+{:04X}",
                control as u32
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for good in ["abc", "my-bucket.data", "a1b2c3", &"a".repeat(63)] {
            assert!(check_bucket_name(good).is_ok(), "{good}");
        }
        for bad in [
            "ab",
            "ABC",
            "a_b",
            "-ab",
            "ab-",
            "a..b",
            "192.168.5.4",
            &"a".repeat(64),
            "a/b",
            "../x",
        ] {
            assert!(
                matches!(check_bucket_name(bad), Err(Error::InvalidBucketName { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn keys_are_checked_for_length_and_control_characters() {
        for good in [
            "a",
            "../../etc/passwd",
            "/absolute",
            "back\\slash",
            "a/./b",
            "é/😀",
            "tab\there",
        ] {
            assert!(check_key(good).is_ok(), "{good:?}");
        }
        assert!(matches!(check_key(""), Err(Error::InvalidArgument { .. })));
        assert!(matches!(check_key("nul\0byte"), Err(Error::InvalidArgument { .. })));
        assert!(matches!(
            check_key(&"k".repeat(1025)),
            Err(Error::KeyTooLong { length: 1025 })
        ));
        assert!(check_key(&"k".repeat(1024)).is_ok());
    }
}
