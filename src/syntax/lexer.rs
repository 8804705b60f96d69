//! Tokens. `Tok` is what the parser consumes; `Token` is the coarse,
//! never-failing view the REPL highlighter colours.

use logos::Logos;

use crate::source::Span;

/// Why logos could not produce a token. Logos gives errors no position, so
/// whoever reads the lexer pairs them with `Lexer::span`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum LexError {
    #[default]
    UnexpectedChar,
    /// A string containing an escape other than `\" \\ \n \t`; the whole
    /// string is consumed so lexing resumes after it.
    BadEscape,
    /// A string still open at the end of the text.
    UnclosedString,
}

/// The parser's token. `Block` is never lexed: the statement splitter puts
/// it in place of a whole `{ ... }` block it has already parsed.
#[derive(Logos, Clone, Copy, Debug, PartialEq)]
#[logos(error = LexError)]
#[logos(skip r"[ \t\r\f\u{FEFF}]+")]
pub(crate) enum Tok<'a> {
    #[regex(r"#[^\n]*", allow_greedy = true)]
    Comment,
    #[token("\n")]
    Newline,

    #[token("dim")]
    Dim,
    #[token("input")]
    Input,
    #[token("let")]
    Let,
    #[token("fn")]
    Fn,
    #[token("return")]
    Return,
    #[token("for")]
    For,
    #[token("in")]
    In,
    #[token("if")]
    If,
    #[token("else")]
    Else,
    #[token("true")]
    True,
    #[token("false")]
    False,

    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice())]
    Ident(&'a str),
    #[token("_", priority = 3)]
    Underscore,
    /// The digits; too large for an `i64` is not a lexing error.
    #[regex(r"[0-9]+", |lex| lex.slice())]
    Int(&'a str),
    #[regex(r"[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?", |lex| lex.slice().parse::<f64>().ok())]
    #[regex(r"[0-9]+[eE][+-]?[0-9]+", |lex| lex.slice().parse::<f64>().ok())]
    Float(f64),
    /// The text between the quotes, escapes not yet decoded.
    #[token("\"", string_body)]
    Str(&'a str),

    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("**")]
    StarStar,
    #[token("@")]
    At,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("=")]
    Assign,
    #[token(":")]
    Colon,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(".")]
    Dot,
    #[token("..")]
    DotDot,
    #[token("...")]
    Ellipsis,
    #[token("->")]
    Arrow,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,

    /// An already parsed block, by its index in the parse context.
    Block(usize),
}

/// Consumes a string after its opening quote. Scanning bytes is enough:
/// `"` and `\` are ASCII, so they never occur inside a multi-byte character.
fn string_body<'a>(lex: &mut logos::Lexer<'a, Tok<'a>>) -> Result<&'a str, LexError> {
    let rest = lex.remainder();
    let bytes = rest.as_bytes();
    let mut bad_escape = false;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'"' => {
                lex.bump(i + 1);
                return match rest.get(..i) {
                    Some(body) if !bad_escape => Ok(body),
                    _ => Err(LexError::BadEscape),
                };
            }
            b'\\' => {
                bad_escape |= !matches!(bytes.get(i + 1), Some(b'"' | b'\\' | b'n' | b't') | None);
                i += 2;
            }
            _ => i += 1,
        }
    }
    lex.bump(rest.len());
    Err(LexError::UnclosedString)
}

/// Decodes the escapes of a string body the lexer accepted.
pub(crate) fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// The byte range (within `string`, quotes included) of its first escape
/// that is not `\" \\ \n \t`.
pub(crate) fn first_bad_escape(string: &str) -> Option<std::ops::Range<usize>> {
    let mut chars = string.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            continue;
        }
        match chars.next() {
            Some((_, '"' | '\\' | 'n' | 't')) | None => {}
            Some((j, escaped)) => return Some(i..j + escaped.len_utf8()),
        }
    }
    None
}

/// A token as the highlighter sees it. Every byte of the text that is not
/// whitespace belongs to exactly one token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Token<'a> {
    Keyword(&'a str),
    /// An identifier, `_` and builtin names included.
    Ident(&'a str),
    Number(&'a str),
    /// A string literal with its quotes, possibly unclosed or with a bad escape.
    Str(&'a str),
    Punct(&'a str),
    Comment(&'a str),
    Newline,
    /// A character that starts no token.
    Error(&'a str),
}

/// Splits `text` into tokens. Never fails: what cannot be lexed becomes
/// `Token::Error`.
pub fn tokens(text: &str) -> Vec<(Token<'_>, Span)> {
    Tok::lexer(text)
        .spanned()
        .map(|(tok, range)| {
            let slice = text.get(range.clone()).unwrap_or("");
            let token = match tok {
                Ok(tok) => classify(tok, slice),
                Err(LexError::UnexpectedChar) => Token::Error(slice),
                Err(LexError::BadEscape | LexError::UnclosedString) => Token::Str(slice),
            };
            (token, Span::new(range.start, range.end))
        })
        .collect()
}

fn classify<'a>(tok: Tok<'a>, slice: &'a str) -> Token<'a> {
    match tok {
        Tok::Comment => Token::Comment(slice),
        Tok::Newline => Token::Newline,
        Tok::Dim
        | Tok::Input
        | Tok::Let
        | Tok::Fn
        | Tok::Return
        | Tok::For
        | Tok::In
        | Tok::If
        | Tok::Else
        | Tok::True
        | Tok::False => Token::Keyword(slice),
        Tok::Ident(_) | Tok::Underscore => Token::Ident(slice),
        Tok::Int(_) | Tok::Float(_) => Token::Number(slice),
        Tok::Str(_) => Token::Str(slice),
        Tok::Plus
        | Tok::Minus
        | Tok::Star
        | Tok::Slash
        | Tok::StarStar
        | Tok::At
        | Tok::EqEq
        | Tok::NotEq
        | Tok::Lt
        | Tok::Le
        | Tok::Gt
        | Tok::Ge
        | Tok::Assign
        | Tok::Colon
        | Tok::Comma
        | Tok::Semi
        | Tok::Dot
        | Tok::DotDot
        | Tok::Ellipsis
        | Tok::Arrow
        | Tok::LParen
        | Tok::RParen
        | Tok::LBracket
        | Tok::RBracket
        | Tok::LBrace
        | Tok::RBrace
        | Tok::Block(_) => Token::Punct(slice),
    }
}
