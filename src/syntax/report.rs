//! Turns the generated parser's errors into `tsr::parse` diagnostics with
//! short expectation lists ("expected one of `)`, `,` or an operator").

use lalrpop_util::ParseError;

use super::actions::GrammarError;
use super::lexer::Tok;
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
            unexpected(span, &found, &expected)
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
    let message = match expected_phrase(expected) {
        Some(phrase) => format!("expected {phrase}, found {found}"),
        None => format!("unexpected {found}"),
    };
    Diagnostic::new(Code::Parse, span, message).label(span, format!("unexpected {found}"))
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
