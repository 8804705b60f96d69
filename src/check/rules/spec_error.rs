//! The error both pattern parsers (einsum specs and einops patterns) return,
//! and the lexical and "did you mean" helpers they share. Ranges are byte offsets into
//! the pattern string as given, always on char boundaries, so the checker can
//! shift them by the string literal's start to point inside the literal.

use std::ops::Range;

/// A malformed einsum spec or einops pattern. `range` covers the offending
/// part of the pattern (empty only when there is nothing to point at, as
/// for an empty spec).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecError {
    pub message: String,
    pub range: Range<usize>,
    pub help: Option<String>,
}

impl SpecError {
    pub(crate) fn new(message: impl Into<String>, range: Range<usize>) -> SpecError {
        SpecError {
            message: message.into(),
            range,
            help: None,
        }
    }

    pub(crate) fn with_help(mut self, help: impl Into<String>) -> SpecError {
        self.help = Some(help.into());
        self
    }
}

/// `ch` quoted for a message; control characters are escaped so that a
/// message never carries a raw newline or NUL from the user's string.
pub(crate) fn quote_char(ch: char) -> String {
    format!("`{}`", ch.escape_debug())
}

/// Whether `word` is a tsr identifier, `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_identifier(word: &str) -> bool {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) if first.is_ascii_alphabetic() || first == '_' => {
            chars.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
        }
        _ => false,
    }
}

/// Whether `ch` may appear inside an identifier.
pub(crate) fn is_identifier_char(ch: char) -> bool {
    ch.is_ascii_alphanumeric() || ch == '_'
}

/// The range of `text` once surrounding whitespace is trimmed, where `text`
/// starts at byte `offset` of the pattern. A blank `text` gives the empty
/// range at its end.
pub(crate) fn trimmed_range(text: &str, offset: usize) -> Range<usize> {
    let leading = text.len() - text.trim_start().len();
    let start = offset + leading;
    start..start + text.trim().len()
}

/// Byte offsets of every `->` in `pattern`, left to right.
pub(crate) fn arrows(pattern: &str) -> Vec<Range<usize>> {
    pattern
        .match_indices("->")
        .map(|(start, arrow)| start..start + arrow.len())
        .collect()
}

/// How many `.` (up to three) start at byte `index` of `text`.
pub(crate) fn dot_run(text: &str, index: usize) -> usize {
    text.bytes()
        .skip(index)
        .take(3)
        .take_while(|byte| *byte == b'.')
        .count()
}

/// The error for one or two dots that do not make a `...`.
pub(crate) fn stray_dots(range: Range<usize>) -> SpecError {
    SpecError::new("`.` may only appear as part of `...`", range)
        .with_help("write `...` (three dots) for the remaining axes")
}

/// For a word such as `...b` or `a...b` that glues `...` to names, the same
/// word with `...` set apart by spaces, when that would be valid.
pub(crate) fn ellipsis_set_apart(word: &str) -> Option<String> {
    let parts: Vec<&str> = word
        .split("...")
        .flat_map(|part| ["...", part])
        .skip(1)
        .filter(|part| !part.is_empty())
        .collect();
    let one_ellipsis = parts.iter().filter(|part| **part == "...").count() == 1;
    let valid = parts
        .iter()
        .all(|part| *part == "..." || is_identifier(part));
    (one_ellipsis && valid).then(|| parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_the_lexer() {
        assert!(is_identifier("b"));
        assert!(is_identifier("_x1"));
        assert!(is_identifier("Dh"));
        assert!(!is_identifier(""));
        assert!(!is_identifier("2b"));
        assert!(!is_identifier("é"));
        assert!(!is_identifier("a-b"));
    }

    #[test]
    fn dot_run_counts_up_to_three_dots() {
        assert_eq!(dot_run("a..b", 1), 2);
        assert_eq!(dot_run(".....", 0), 3);
        assert_eq!(dot_run("ab", 1), 0);
        assert_eq!(dot_run("ab", 7), 0);
    }

    #[test]
    fn ellipsis_set_apart_only_suggests_valid_words() {
        assert_eq!(ellipsis_set_apart("...b").as_deref(), Some("... b"));
        assert_eq!(ellipsis_set_apart("a...b").as_deref(), Some("a ... b"));
        assert_eq!(ellipsis_set_apart("a..."), Some("a ...".to_string()));
        assert_eq!(ellipsis_set_apart("......"), None);
        assert_eq!(ellipsis_set_apart("....a"), None);
        assert_eq!(ellipsis_set_apart("...2"), None);
    }

    #[test]
    fn trimmed_range_skips_whitespace_on_both_sides() {
        assert_eq!(trimmed_range("  ab c ", 10), 12..16);
        assert_eq!(trimmed_range("   ", 4), 7..7);
        assert_eq!(trimmed_range("", 4), 4..4);
    }

    #[test]
    fn quote_char_escapes_control_characters() {
        assert_eq!(quote_char('x'), "`x`");
        assert_eq!(quote_char('\n'), "`\\n`");
    }
}
