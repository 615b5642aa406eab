//! `wildcard` values: `*` matches any run of characters (including none); `\*` is a literal
//! asterisk and `\\` a literal backslash. AWS rejects two consecutive `*` and a backslash before
//! anything else; the positions in its messages count bytes from 1.

/// A parsed wildcard value: the literal pieces between the `*`s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wildcard {
    /// Never empty: a value without `*` has one piece; `*` alone has two empty pieces.
    pieces: Vec<String>,
}

impl Wildcard {
    /// Parses a wildcard value, or returns EventBridge's message for it.
    pub(crate) fn parse(text: &str) -> Result<Wildcard, String> {
        let mut pieces = vec![String::new()];
        let mut characters = text.char_indices().peekable();
        while let Some((offset, character)) = characters.next() {
            match character {
                '*' => {
                    if matches!(characters.peek(), Some((_, '*'))) {
                        return Err(format!("Consecutive wildcard characters at pos {}", offset + 1));
                    }
                    pieces.push(String::new());
                }
                '\\' => match characters.next() {
                    Some((_, escaped @ ('*' | '\\'))) => push(&mut pieces, escaped),
                    _ => return Err(format!("Invalid escape character at pos {}", offset + 1)),
                },
                other => push(&mut pieces, other),
            }
        }
        Ok(Wildcard { pieces })
    }

    /// The longest literal piece: every matching value contains it, so it can key an index.
    pub(crate) fn longest_piece(&self) -> &str {
        self.pieces
            .iter()
            .max_by_key(|piece| piece.len())
            .map_or("", String::as_str)
    }

    /// Whether `value` matches. Greedy leftmost matching of the middle pieces is exact for `*`-only
    /// globs, so this is linear in the value times the number of pieces.
    pub(crate) fn matches(&self, value: &str) -> bool {
        let (first, rest) = match self.pieces.split_first() {
            Some(split) => split,
            None => return false,
        };
        let Some((last, middle)) = rest.split_last() else {
            return value == first;
        };
        if value.len() < first.len() + last.len()
            || !value.starts_with(first.as_str())
            || !value.ends_with(last.as_str())
        {
            return false;
        }
        let mut remaining = &value[first.len()..value.len() - last.len()];
        for piece in middle {
            match remaining.find(piece.as_str()) {
                Some(found) => remaining = &remaining[found + piece.len()..],
                None => return false,
            }
        }
        true
    }
}

fn push(pieces: &mut [String], character: char) {
    if let Some(piece) = pieces.last_mut() {
        piece.push(character);
    }
}

#[cfg(test)]
mod tests {
    use super::Wildcard;

    fn check(pattern: &str, value: &str, expect: bool) {
        let wildcard = Wildcard::parse(pattern).unwrap();
        assert_eq!(wildcard.matches(value), expect, "{pattern:?} against {value:?}");
    }

    #[test]
    fn stars_match_any_run() {
        check("*.png", "image.png", true);
        check("*.png", ".png", true);
        check("*.png", "image.png.jpg", false);
        check("Simple*Service", "Simple Notification Service", true);
        check("Simple*Service", "SimpleService", true);
        check("Simple*Service", "Simple Service Queue", false);
        check("*/lib/*", "/usr/lib/x", true);
        check("a*b*c", "abc", true);
        check("a*b*c", "aXbYbZc", true);
        check("a*b*c", "acb", false);
        check("ab*ba", "aba", false);
        check("*", "", true);
        check("", "", true);
        check("", "x", false);
        check("exact", "exact", true);
        check("é*ü", "éaü", true);
    }

    #[test]
    fn escapes_are_literal() {
        check(r"a\*b", "a*b", true);
        check(r"a\*b", "axb", false);
        check(r"a\\b", r"a\b", true);
        check(r"a\\*", r"a\xyz", true);
    }

    #[test]
    fn bad_wildcards_say_where() {
        assert_eq!(
            Wildcard::parse("abc**def").unwrap_err(),
            "Consecutive wildcard characters at pos 4"
        );
        assert_eq!(
            Wildcard::parse(r"a\bc").unwrap_err(),
            "Invalid escape character at pos 2"
        );
        assert_eq!(
            Wildcard::parse(r"abc\").unwrap_err(),
            "Invalid escape character at pos 4"
        );
        assert!(Wildcard::parse(r"\**").is_ok());
    }
}
