//! Cuts the token stream into statements and parses each on its own.
//!
//! The splitter tracks brackets itself, so it knows where every statement
//! ends before the grammar sees it: a newline ends a statement only when the
//! innermost open bracket is a block `{` (or none), newlines just before `{`
//! or `else` are ignored, and `;` ends a statement at the same level. Blocks
//! are parsed statement by statement as they close and handed to the
//! enclosing statement as a single token. A statement with an error is
//! dropped whole and parsing resumes at the next one, so every broken
//! statement gives exactly one diagnostic, and a bracket problem (unclosed,
//! unmatched, too deep) is found here, at the bracket, before any grammar
//! error could be reported somewhere downstream of it.

use logos::Logos;

use super::actions::Context;
use super::ast::{Block, Program, Stmt};
use super::grammar::StmtParser;
use super::lexer::{first_bad_escape, LexError, Tok};
use super::{report, ParseOutput};
use crate::error::{Code, Diagnostic};
use crate::source::Span;

/// Deepest bracket nesting, and deepest expression tree, accepted.
pub(crate) const MAX_NESTING: usize = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bracket {
    Paren,
    Square,
    /// A `{` inside `(` or `[` (or another dict).
    Dict,
    Block,
}

impl Bracket {
    fn opening(self) -> &'static str {
        match self {
            Bracket::Paren => "(",
            Bracket::Square => "[",
            Bracket::Dict | Bracket::Block => "{",
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Open {
    bracket: Bracket,
    span: Span,
}

/// A block being read (or the top level), with its current statement.
struct Frame<'a> {
    /// The block's `{`; unused at top level.
    open: Span,
    in_fn: bool,
    /// The bracket stack's length inside this block: brackets above it
    /// belong to the current statement.
    base: usize,
    stmts: Vec<Stmt>,
    /// Where the current statement's tokens start in the shared buffer.
    start: usize,
    first: Option<(Tok<'a>, Span)>,
    broken: bool,
}

impl Frame<'_> {
    fn new(open: Span, in_fn: bool, base: usize, start: usize) -> Self {
        Frame {
            open,
            in_fn,
            base,
            stmts: Vec::new(),
            start,
            first: None,
            broken: false,
        }
    }
}

pub(crate) fn parse_text(text: &str) -> ParseOutput {
    let mut splitter = Splitter {
        text,
        ctx: Context::default(),
        parser: StmtParser::new(),
        tokens: Vec::new(),
        brackets: Vec::new(),
        top: Frame::new(Span::default(), false, 0, 0),
        blocks: Vec::new(),
        pending_newline: None,
        diagnostics: Vec::new(),
        incomplete: false,
    };
    for (tok, range) in Tok::lexer(text).spanned() {
        splitter.feed(tok, Span::new(range.start, range.end));
    }
    splitter.finish()
}

struct Splitter<'a> {
    text: &'a str,
    ctx: Context,
    parser: StmtParser,
    /// The tokens of the current statement of every open frame, outermost
    /// first; each frame's `start` says where its own begin.
    tokens: Vec<(usize, Tok<'a>, usize)>,
    brackets: Vec<Open>,
    top: Frame<'a>,
    /// Open blocks, innermost last.
    blocks: Vec<Frame<'a>>,
    /// A newline that ends the statement unless `{` or `else` comes next.
    pending_newline: Option<Span>,
    diagnostics: Vec<Diagnostic>,
    incomplete: bool,
}

impl<'a> Splitter<'a> {
    fn frame(&mut self) -> &mut Frame<'a> {
        self.blocks.last_mut().unwrap_or(&mut self.top)
    }

    fn frame_ref(&self) -> &Frame<'a> {
        self.blocks.last().unwrap_or(&self.top)
    }

    fn at_statement_level(&self) -> bool {
        self.brackets.len() == self.frame_ref().base
    }

    fn feed(&mut self, tok: Result<Tok<'a>, LexError>, span: Span) {
        if self.brackets.len() > MAX_NESTING {
            self.skip_too_deep(tok, span);
            return;
        }
        match tok {
            Ok(Tok::Comment) => {}
            Ok(Tok::Newline) => {
                if self.at_statement_level() && self.pending_newline.is_none() {
                    self.pending_newline = Some(span);
                }
            }
            Ok(tok) => {
                self.resolve_newline(matches!(tok, Tok::LBrace | Tok::Else));
                self.token(tok, span);
            }
            Err(error) => {
                self.resolve_newline(false);
                self.lex_error(error, span);
            }
        }
    }

    /// Inside brackets nested past the limit the statement is already
    /// reported; only the brackets are followed, to find where it ends.
    fn skip_too_deep(&mut self, tok: Result<Tok<'a>, LexError>, span: Span) {
        match tok {
            Ok(Tok::LParen | Tok::LBracket | Tok::LBrace) => self.brackets.push(Open {
                bracket: Bracket::Dict,
                span,
            }),
            Ok(Tok::RParen | Tok::RBracket | Tok::RBrace) => {
                self.brackets.pop();
            }
            _ => {}
        }
    }

    fn resolve_newline(&mut self, continues: bool) {
        if let Some(newline) = self.pending_newline.take() {
            if !continues {
                self.end_statement(newline);
            }
        }
    }

    fn token(&mut self, tok: Tok<'a>, span: Span) {
        match tok {
            Tok::Semi if self.at_statement_level() => self.end_statement(span),
            Tok::LParen => self.open(Bracket::Paren, tok, span),
            Tok::LBracket => self.open(Bracket::Square, tok, span),
            Tok::LBrace if self.at_statement_level() => self.open(Bracket::Block, tok, span),
            Tok::LBrace => self.open(Bracket::Dict, tok, span),
            Tok::RParen => self.close(Bracket::Paren, tok, span),
            Tok::RBracket => self.close(Bracket::Square, tok, span),
            Tok::RBrace => self.close(Bracket::Dict, tok, span),
            _ => self.push(tok, span),
        }
    }

    fn note_first(&mut self, tok: Tok<'a>, span: Span) {
        let frame = self.frame();
        if frame.first.is_none() {
            frame.first = Some((tok, span));
        }
    }

    fn push(&mut self, tok: Tok<'a>, span: Span) {
        self.note_first(tok, span);
        if !self.frame_ref().broken {
            self.tokens
                .push((span.start as usize, tok, span.end as usize));
        }
    }

    fn open(&mut self, bracket: Bracket, tok: Tok<'a>, span: Span) {
        if self.brackets.len() >= MAX_NESTING {
            let diagnostic = Diagnostic::new(
                Code::Limit,
                span,
                format!("brackets nested more than {MAX_NESTING} deep"),
            )
            .label(span, format!("this is level {}", MAX_NESTING + 1));
            self.break_statement(diagnostic);
            self.brackets.push(Open { bracket, span });
            return;
        }
        if bracket == Bracket::Block {
            self.note_first(tok, span);
            let parent = self.frame_ref();
            let in_fn = parent.in_fn || matches!(parent.first, Some((Tok::Fn, _)));
            self.brackets.push(Open { bracket, span });
            let frame = Frame::new(span, in_fn, self.brackets.len(), self.tokens.len());
            self.blocks.push(frame);
        } else {
            self.push(tok, span);
            self.brackets.push(Open { bracket, span });
        }
    }

    /// A closing bracket. It closes the innermost matching bracket of the
    /// current statement, reporting any left open inside it; a `}` with no
    /// dict to close ends the current block.
    fn close(&mut self, bracket: Bracket, tok: Tok<'a>, span: Span) {
        let base = self.frame_ref().base;
        let matching = self
            .brackets
            .get(base..)
            .and_then(|open| open.iter().rposition(|open| open.bracket == bracket));
        match matching {
            Some(offset) => {
                self.report_unclosed(base + offset + 1);
                self.brackets.pop();
                self.push(tok, span);
            }
            None if bracket == Bracket::Dict && !self.blocks.is_empty() => {
                self.report_unclosed(base);
                self.close_block(span);
            }
            None => {
                let closing = self.text.get(span.range()).unwrap_or("");
                let diagnostic =
                    Diagnostic::new(Code::Parse, span, format!("unexpected `{closing}`"))
                        .label(span, "nothing here is open for this to close");
                self.break_statement(diagnostic);
            }
        }
    }

    /// Reports the brackets above `keep` as never closed, and drops them.
    fn report_unclosed(&mut self, keep: usize) {
        let Some(unclosed) = self.brackets.get(keep..) else {
            return;
        };
        if let Some((innermost, outer)) = unclosed.split_last() {
            let opening = innermost.bracket.opening();
            let mut diagnostic =
                Diagnostic::new(Code::Parse, innermost.span, format!("unclosed `{opening}`"))
                    .label(innermost.span, format!("this `{opening}` is never closed"));
            for open in outer.iter().rev() {
                let label = format!("this `{}` is not closed either", open.bracket.opening());
                diagnostic = diagnostic.label(open.span, label);
            }
            self.break_statement(diagnostic);
        }
        self.brackets.truncate(keep);
    }

    fn close_block(&mut self, close: Span) {
        self.end_statement(close);
        self.brackets.pop();
        let Some(frame) = self.blocks.pop() else {
            return;
        };
        let block = Block {
            stmts: frame.stmts,
            span: frame.open.to(close),
        };
        if !self.frame_ref().broken {
            let index = self.ctx.store_block(block);
            let token = (
                frame.open.start as usize,
                Tok::Block(index),
                close.end as usize,
            );
            self.tokens.push(token);
        }
    }

    /// Reports the current statement's error, unless it already has one.
    fn break_statement(&mut self, diagnostic: Diagnostic) {
        let frame = self.frame();
        if frame.broken {
            return;
        }
        frame.broken = true;
        let start = frame.start;
        self.tokens.truncate(start);
        self.diagnostics.push(diagnostic);
    }

    fn lex_error(&mut self, error: LexError, span: Span) {
        let slice = self.text.get(span.range()).unwrap_or("");
        let diagnostic = match error {
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
                let escape = first_bad_escape(slice)
                    .map(|range| {
                        let start = span.start as usize;
                        Span::new(start + range.start, start + range.end)
                    })
                    .unwrap_or(span);
                let shown = self.text.get(escape.range()).unwrap_or("");
                Diagnostic::new(
                    Code::Parse,
                    escape,
                    format!("unknown escape `{shown}` in a string"),
                )
                .label(escape, "unknown escape")
                .help(r#"the escapes are `\"`, `\\`, `\n` and `\t`"#)
            }
            LexError::UnclosedString => {
                self.incomplete = true;
                let quote = Span::new(span.start as usize, span.start as usize + 1);
                Diagnostic::new(Code::Parse, quote, "unclosed string")
                    .label(quote, "this string is never closed")
            }
        };
        self.break_statement(diagnostic);
    }

    /// Parses the current statement of the innermost frame; `end` is what
    /// ended it.
    fn end_statement(&mut self, end: Span) {
        let nesting = self.blocks.len();
        let frame = self.frame();
        let (start, broken, first, in_fn) = (frame.start, frame.broken, frame.first, frame.in_fn);
        frame.broken = false;
        frame.first = None;
        if broken || self.tokens.len() <= start {
            self.tokens.truncate(start);
            return;
        }
        if let Some(diagnostic) = misplaced(self.text, first, nesting > 0, in_fn) {
            self.tokens.truncate(start);
            self.diagnostics.push(diagnostic);
            return;
        }
        let max_depth = MAX_NESTING.saturating_sub(nesting);
        self.ctx
            .begin_statement(u32::try_from(max_depth).unwrap_or(u32::MAX));
        let parsed = self
            .parser
            .parse(&self.ctx, self.tokens.drain(start..).map(Ok));
        if nesting == 0 {
            self.ctx.clear_blocks();
        }
        match (self.ctx.too_deep(), parsed) {
            (Some(span), _) => self.diagnostics.push(
                Diagnostic::new(
                    Code::Limit,
                    span,
                    format!("expression nested more than {max_depth} deep"),
                )
                .label(span, "this expression is too deep")
                .help("split it into several `let` statements"),
            ),
            (None, Ok(stmt)) => self.frame().stmts.push(stmt),
            (None, Err(error)) => {
                let diagnostic = report::parse_error(error, self.text, end);
                self.diagnostics.push(diagnostic);
            }
        }
    }

    fn finish(mut self) -> ParseOutput {
        if let Some(newline) = self.pending_newline.take() {
            self.end_statement(newline);
        }
        let end = Span::new(self.text.len(), self.text.len());
        if !self.brackets.is_empty() {
            self.incomplete = true;
        }
        self.brackets.truncate(MAX_NESTING);
        loop {
            let base = self.frame_ref().base;
            self.report_unclosed(base);
            self.end_statement(end);
            let Some(frame) = self.blocks.pop() else {
                break;
            };
            self.brackets.truncate(base.saturating_sub(1));
            let diagnostic = Diagnostic::new(Code::Parse, frame.open, "unclosed `{`")
                .label(frame.open, "this `{` is never closed");
            self.break_statement(diagnostic);
        }
        let mut diagnostics = self.diagnostics;
        diagnostics.sort_by_key(|diagnostic| diagnostic.span.map(|span| span.start));
        ParseOutput {
            program: Program {
                stmts: self.top.stmts,
            },
            diagnostics,
            incomplete: self.incomplete,
        }
    }
}

/// A statement in a place it may not be: a declaration inside a block, or
/// `return` outside a function.
fn misplaced(
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
