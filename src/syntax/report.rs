//! The wording of every front-end diagnostic: the generated parser's errors,
//! with short expectation lists ("expected one of `)`, `,` or an operator"),
//! and the splitter's own findings.

use lalrpop_util::ParseError;

use super::actions::GrammarError;
use super::lexer::{first_bad_escape, LexError, Tok};
use crate::error::{Code, Diagnostic};
use crate::source::Span;

/// Terminal names that can start an expression; listed together they read
/// as "an expression".
const EXPRESSION_START: &[&str] = &[
    "identifier",
    "_",
    "integer",
    "float",
    "string",
    "true",
    "false",
    "(",
    "[",
    "{",
    "-",
];

/// Terminal names that can continue an expression; listed together they read
/// as "an operator".
const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "@", "**", "==", "!=", "<", "<=", ">", ">=", ".", "[", "(",
];

/// Longer lists are cut here: past a handful, the list no longer helps.
const MAX_LISTED: usize = 6;

/// A parse error of one statement. `end` is what ended the statement (a
/// newline, `;`, `}` or the end of the text), where an error about missing
/// tokens is reported.
pub(crate) fn parse_error(error: GrammarError<'_>, text: &str, end: Span) -> Diagnostic {
    match error {
        ParseError::UnrecognizedToken {
            token: (l, tok, r),
            expected,
        } => {
            let span = match tok {
                Tok::Block(_) => Span::new(l, l + 1),
                _ => Span::new(l, r),
            };
            let found = describe(text, span);
            let diagnostic = unexpected(span, &found, &expected);
            match tok {
                tok if is_comparison(tok) => diagnostic
                    .help("comparisons do not chain: write `a < b` and `b < c` separately"),
                Tok::Fn => diagnostic.help(
                    "a fn has a name and is defined as a statement: write `fn f(...) { ... }` \
                     before this line and pass `f`",
                ),
                _ => diagnostic,
            }
        }
        ParseError::UnrecognizedEof { expected, .. } => {
            let found = match text.get(end.range()) {
                Some("\n") => "end of line".to_owned(),
                Some("") | None => "end of file".to_owned(),
                Some(other) => format!("`{other}`"),
            };
            unexpected(end, &found, &expected)
        }
        ParseError::ExtraToken { token: (l, _, r) } => {
            let span = Span::new(l, r);
            let found = describe(text, span);
            Diagnostic::new(Code::Parse, span, format!("unexpected {found}"))
                .label(span, "unexpected token")
        }
        ParseError::InvalidToken { location } => {
            let span = Span::new(location, location);
            Diagnostic::new(Code::Parse, span, "invalid token").label(span, "invalid token")
        }
        ParseError::User { error } => {
            Diagnostic::new(Code::Parse, error.span, "cannot assign to this expression")
                .label(error.span, "not a name or an indexed name")
                .help("assign to a name `x = ...` or to part of one `x[i] = ...`")
        }
    }
}

fn unexpected(span: Span, found: &str, expected: &[String]) -> Diagnostic {
    // Nothing can be shifted only where the statement is complete.
    let phrase = expected_phrase(expected).unwrap_or_else(|| "end of statement".to_owned());
    let message = format!("expected {phrase}, found {found}");
    Diagnostic::new(Code::Parse, span, message).label(span, format!("unexpected {found}"))
}

fn is_comparison(tok: Tok<'_>) -> bool {
    matches!(
        tok,
        Tok::EqEq | Tok::NotEq | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge
    )
}

/// The source text of a token, quoted and cut short.
fn describe(text: &str, span: Span) -> String {
    let token = text.get(span.range()).unwrap_or("");
    let first_line = token.lines().next().unwrap_or("");
    let shown: String = first_line.chars().take(24).collect();
    if shown.len() < token.len() {
        format!("`{shown}...`")
    } else {
        format!("`{shown}`")
    }
}

fn expected_phrase(expected: &[String]) -> Option<String> {
    let names: Vec<&str> = expected.iter().map(|name| name.trim_matches('"')).collect();
    let expression = names.contains(&"identifier") && names.contains(&"integer");
    let operator = names.contains(&"+") && names.contains(&"*");
    let mut items: Vec<String> = names
        .iter()
        .filter(|name| !(expression && EXPRESSION_START.contains(name)))
        .filter(|name| !(operator && OPERATORS.contains(name)))
        .map(|name| display(name))
        .collect();
    items.truncate(MAX_LISTED);
    if expression {
        items.push("an expression".to_owned());
    }
    if operator {
        items.push("an operator".to_owned());
    }
    match items.as_slice() {
        [] => None,
        [only] => Some(only.clone()),
        [init @ .., last] => Some(format!("one of {} or {last}", init.join(", "))),
    }
}

fn display(name: &str) -> String {
    match name {
        "identifier" => "an identifier".to_owned(),
        "integer" => "an integer".to_owned(),
        "float" => "a number".to_owned(),
        "string" => "a string".to_owned(),
        "block" => "`{`".to_owned(),
        other => format!("`{other}`"),
    }
}

pub(crate) fn lex_error(error: LexError, text: &str, span: Span) -> Diagnostic {
    let slice = text.get(span.range()).unwrap_or("");
    match error {
        LexError::UnexpectedChar => {
            let shown: String = slice.chars().flat_map(char::escape_debug).collect();
            let diagnostic =
                Diagnostic::new(Code::Parse, span, format!("unexpected character `{shown}`"))
                    .label(span, "no token starts with this character");
            match slice {
                "|" | "&" | "!" | "%" => {
                    diagnostic.help(format!("`{slice}` is not an operator in tsr"))
                }
                _ => diagnostic,
            }
        }
        LexError::BadEscape => {
            let start = span.start as usize;
            let escape = first_bad_escape(slice)
                .map(|range| Span::new(start + range.start, start + range.end))
                .unwrap_or(span);
            let shown = text.get(escape.range()).unwrap_or("");
            Diagnostic::new(
                Code::Parse,
                escape,
                format!("unknown escape `{shown}` in a string"),
            )
            .label(escape, "unknown escape")
            .help(r#"the escapes are `\"`, `\\`, `\n` and `\t`"#)
        }
        LexError::UnclosedString => {
            let quote = Span::new(span.start as usize, span.start as usize + 1);
            Diagnostic::new(Code::Parse, quote, "unclosed string")
                .label(quote, "this string is never closed")
        }
    }
}

/// A bracket never closed; `outer` is the outermost one also left open.
pub(crate) fn unclosed(opening: &str, span: Span, outer: Option<(&str, Span)>) -> Diagnostic {
    let diagnostic = Diagnostic::new(Code::Parse, span, format!("unclosed `{opening}`"))
        .label(span, format!("this `{opening}` is never closed"));
    match outer {
        Some((opening, span)) => diagnostic.label(span, format!("nor is this `{opening}`")),
        None => diagnostic,
    }
}

pub(crate) fn unmatched(closing: &str, span: Span) -> Diagnostic {
    Diagnostic::new(Code::Parse, span, format!("unexpected `{closing}`"))
        .label(span, "nothing here is open for this to close")
}

pub(crate) fn bare_block(span: Span) -> Diagnostic {
    Diagnostic::new(Code::Parse, span, "expected a statement, found `{`")
        .label(span, "a block cannot stand alone")
        .help("blocks belong to `fn`, `for`, `if` and `else`")
}

/// A `{` where an operand is due: a dict, or a block used as an expression.
pub(crate) fn misplaced_brace(span: Span) -> Diagnostic {
    Diagnostic::new(Code::Parse, span, "expected an expression, found `{`")
        .label(span, "a block is not an expression")
        .help("a dict `{\"key\": value}` is only allowed inside `(...)` or `[...]`")
}

/// Brackets, or an expression or `else if` chain, nested past the limit.
pub(crate) fn nested_too_deep(span: Span, limit: usize) -> Diagnostic {
    Diagnostic::new(
        Code::Limit,
        span,
        format!("nested more than {limit} levels deep"),
    )
    .label(span, "this is too deeply nested")
    .help("split it into several statements")
}

/// A statement in a place it may not be: a declaration inside a block, or
/// `return` outside a function.
pub(crate) fn misplaced(
    text: &str,
    first: Option<(Tok<'_>, Span)>,
    nested: bool,
    in_fn: bool,
) -> Option<Diagnostic> {
    let (tok, span) = first?;
    let keyword = text.get(span.range()).unwrap_or("");
    match tok {
        Tok::Dim | Tok::Input | Tok::Fn if nested => Some(
            Diagnostic::new(
                Code::Parse,
                span,
                format!("`{keyword}` is only allowed at the top level"),
            )
            .label(span, "inside a block")
            .help(format!("move this `{keyword}` out of the block")),
        ),
        Tok::Return if !in_fn => Some(
            Diagnostic::new(Code::Parse, span, "`return` outside a function")
                .label(span, "not inside a `fn` body"),
        ),
        _ => None,
    }
}
