//! Timestamps as the States Language accepts them: RFC 3339 with an upper-case `T` and a zone,
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html>.

use chrono::{DateTime, FixedOffset};

/// Parses an RFC 3339 timestamp such as `2026-03-14T01:59:00Z` or `2026-03-14T01:59:00.123+01:00`.
///
/// AWS requires the upper-case `T` separator and an explicit offset (`Z` or `±hh:mm`).
pub fn parse(text: &str) -> Option<DateTime<FixedOffset>> {
    if !text.contains('T') || text.contains('t') || text.contains(' ') {
        return None;
    }
    DateTime::parse_from_rfc3339(text).ok()
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn accepts_rfc3339_with_zone() {
        assert!(parse("2026-03-14T01:59:00Z").is_some());
        assert!(parse("2026-03-14T01:59:00.123+01:00").is_some());
    }

    #[test]
    fn rejects_other_forms() {
        for text in [
            "2026-03-14",
            "2026-03-14 01:59:00Z",
            "2026-03-14T01:59:00",
            "2026-03-14t01:59:00z",
            "yesterday",
        ] {
            assert!(parse(text).is_none(), "{text}");
        }
    }
}
