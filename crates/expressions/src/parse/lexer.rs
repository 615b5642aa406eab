//! Splits an expression into tokens, the way DynamoDB's lexer does: names start with a letter,
//! placeholders are `#` or `:` followed by letters, digits or `_`, and anything else is a
//! one-character token that the parser will reject with a syntax error.

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// `[A-Za-z][A-Za-z0-9_]*`: an attribute name, a keyword or a function name.
    Name,
    /// `#[A-Za-z0-9_]+`.
    NamePlaceholder,
    /// `:[A-Za-z0-9_]+`.
    ValuePlaceholder,
    /// `[0-9]+`: only valid as a list index.
    Integer,
    /// One of `= <> < <= > >= ( ) [ ] , . + -`.
    Punct,
    /// Any other character.
    Unknown,
}

/// A token and where it is in the text (byte offsets).
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) kind: TokenKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Tokenises the whole text. Never fails: unknown characters become [`TokenKind::Unknown`].
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut position = 0;
    let word = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    let run = |from: usize, accept: &dyn Fn(u8) -> bool| {
        let mut end = from;
        while end < bytes.len() && accept(bytes[end]) {
            end += 1;
        }
        end
    };
    while position < bytes.len() {
        let byte = bytes[position];
        if byte.is_ascii_whitespace() {
            position += 1;
            continue;
        }
        let (kind, end) = if byte.is_ascii_alphabetic() {
            (TokenKind::Name, run(position + 1, &word))
        } else if byte.is_ascii_digit() {
            (TokenKind::Integer, run(position + 1, &|b: u8| b.is_ascii_digit()))
        } else if byte == b'#' || byte == b':' {
            let end = run(position + 1, &word);
            if end == position + 1 {
                (TokenKind::Unknown, end)
            } else if byte == b'#' {
                (TokenKind::NamePlaceholder, end)
            } else {
                (TokenKind::ValuePlaceholder, end)
            }
        } else if (byte == b'<'
            && bytes
                .get(position + 1)
                .is_some_and(|next| *next == b'>' || *next == b'='))
            || (byte == b'>' && bytes.get(position + 1) == Some(&b'='))
        {
            (TokenKind::Punct, position + 2)
        } else if b"=<>()[],.+-".contains(&byte) {
            (TokenKind::Punct, position + 1)
        } else {
            // One whole character, even if it takes several bytes.
            let width = text[position..].chars().next().map_or(1, char::len_utf8);
            (TokenKind::Unknown, position + width)
        };
        tokens.push(Token {
            kind,
            start: position,
            end,
        });
        position = end;
    }
    tokens
}
