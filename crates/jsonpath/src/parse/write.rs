//! Writing parsed segments back out in canonical RFC 9535 bracket notation.

use super::{Segment, Selector};

/// Writes segments in RFC 9535 bracket notation, e.g. `['a'][0]..[*]`.
pub(crate) fn write_segments(out: &mut String, segments: &[Segment]) {
    for segment in segments {
        if segment.descendant {
            out.push_str("..");
        }
        out.push('[');
        for (i, selector) in segment.selectors.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match selector {
                Selector::Name(name) => push_quoted(out, name),
                Selector::Index(index) => out.push_str(&index.to_string()),
                Selector::Wildcard => out.push('*'),
                Selector::Slice(start, end, step) => {
                    if let Some(start) = start {
                        out.push_str(&start.to_string());
                    }
                    out.push(':');
                    if let Some(end) = end {
                        out.push_str(&end.to_string());
                    }
                    if let Some(step) = step {
                        out.push(':');
                        out.push_str(&step.to_string());
                    }
                }
                Selector::Filter(filter) => out.push_str(filter),
            }
        }
        out.push(']');
    }
}

/// Writes a name as an RFC 9535 single-quoted string.
pub(crate) fn push_quoted(out: &mut String, name: &str) {
    out.push('\'');
    for c in name.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('\'');
}
