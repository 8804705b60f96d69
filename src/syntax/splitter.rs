//! Cuts the token stream into statements and parses each on its own.
//!
//! The splitter tracks brackets itself, so it knows where every statement
//! ends before the grammar sees it: a newline ends a statement only when the
//! innermost open bracket is a block `{` (or none), newlines just before `{`
//! or `else` are ignored, and `;` ends a statement at the same level. Blocks
//! are parsed statement by statement as they close and handed to the
//! enclosing statement as a single token. A statement with an error is
//! dropped whole and parsing resumes at the next one, so every broken
//! statement gives exactly one diagnostic: its first syntax error, or else
//! the bracket problem (unclosed, unmatched, too deep) or bad character
//! that broke it, reported where that is.

use logos::Logos;

use lalrpop_util::ParseError;

use super::actions::{Context, GrammarError};
use super::ast::{Block, Program, Stmt};
use super::grammar::StmtParser;
use super::lexer::{LexError, Tok};
use super::{report, ParseOutput};
use crate::error::Diagnostic;
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
    /// Errors inside this block are not reported: it is the body of a
    /// misplaced `{`, whose one error has been.
    silent: bool,
    /// The current statement's last token, kept even once it is broken.
    last: Option<Tok<'a>>,
    broken: bool,
}

impl Frame<'_> {
    fn new(open: Span, in_fn: bool, silent: bool, base: usize, start: usize) -> Self {
        Frame {
            open,
            in_fn,
            base,
            stmts: Vec::new(),
            start,
            first: None,
            silent,
            last: None,
            broken: false,
        }
    }
}

pub(crate) fn parse_text(text: &str) -> ParseOutput {
    parse_tail(text, 0, 0).0
}

/// Parses `text` from byte `start` on, as [`parse_text`] does; spans stay
/// offsets into the whole text and expression ids start at `first_id`.
/// Also returns the id after the last one given.
pub(crate) fn parse_tail(text: &str, start: usize, first_id: u32) -> (ParseOutput, u32) {
    let mut stmts = Vec::new();
    let (diagnostics, incomplete, next_id) =
        parse_from(text, start, first_id, &mut |stmt| stmts.push(stmt));
    let output = ParseOutput {
        program: Program { stmts },
        diagnostics,
        incomplete,
    };
    (output, next_id)
}

/// Parses `text`, handing each top-level statement to `sink` as soon as it
/// is complete; returns the diagnostics and whether the text was incomplete.
pub(crate) fn parse_each(text: &str, sink: &mut dyn FnMut(Stmt)) -> (Vec<Diagnostic>, bool) {
    let (diagnostics, incomplete, _) = parse_from(text, 0, 0, sink);
    (diagnostics, incomplete)
}

fn parse_from(
    text: &str,
    start: usize,
    first_id: u32,
    sink: &mut dyn FnMut(Stmt),
) -> (Vec<Diagnostic>, bool, u32) {
    let start = start.min(text.len());
    let mut splitter = Splitter {
        sink,
        text,
        ctx: Context::starting_at(first_id),
        parser: StmtParser::new(),
        tokens: Vec::new(),
        brackets: Vec::new(),
        top: Frame::new(Span::default(), false, false, 0, 0),
        blocks: Vec::new(),
        pending_newline: None,
        line_start: true,
        diagnostics: Vec::new(),
        incomplete: false,
    };
    let tail = text.get(start..).unwrap_or("");
    for (tok, range) in Tok::lexer(tail).spanned() {
        splitter.feed(tok, Span::new(start + range.start, start + range.end));
    }
    let next_id = splitter.ctx.next_id();
    let (diagnostics, incomplete) = splitter.finish();
    (diagnostics, incomplete, next_id)
}

struct Splitter<'a, 's> {
    /// Where finished top-level statements go.
    sink: &'s mut dyn FnMut(Stmt),
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
    /// No token but comments since the last newline (or the start).
    line_start: bool,
    diagnostics: Vec<Diagnostic>,
    incomplete: bool,
}

impl<'a> Splitter<'a, '_> {
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
        // A statement keyword opening a line inside brackets most likely
        // starts the next statement after a bracket left open; in the middle
        // of a line it is only a misplaced token, which the grammar reports.
        if self.line_start
            && matches!(tok, Ok(tok) if starts_statement(tok))
            && !self.at_statement_level()
        {
            self.abandon_statement();
        }
        match tok {
            Ok(Tok::Comment) => {}
            Ok(Tok::Newline) => {
                self.line_start = true;
                if self.at_statement_level() && self.pending_newline.is_none() {
                    self.pending_newline = Some(span);
                }
            }
            Ok(tok) => {
                self.line_start = false;
                self.resolve_newline(matches!(tok, Tok::LBrace | Tok::Else));
                self.token(tok, span);
            }
            Err(error) => {
                self.line_start = false;
                self.resolve_newline(false);
                self.lex_error(error, span);
            }
        }
    }

    /// Inside brackets nested past the limit the statement is already
    /// reported; only the brackets are followed, to find where it ends.
    /// Blocks there have no frames, so even a statement keyword is skipped.
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
            Tok::LBrace if self.at_statement_level() && self.frame_ref().last.is_none() => {
                self.break_statement(report::bare_block(span));
                self.open_block(tok, span, true);
            }
            Tok::LBrace if self.at_statement_level() && self.expects_operand() => {
                self.break_statement(report::misplaced_brace(span));
                self.open_block(tok, span, true);
            }
            Tok::LBrace if self.at_statement_level() => self.open_block(tok, span, false),
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
        frame.last = Some(tok);
    }

    /// After `=`, an operator, `,` or `return` an operand must follow, so a
    /// `{` there is not a block.
    fn expects_operand(&self) -> bool {
        matches!(
            self.frame_ref().last,
            Some(
                Tok::Assign
                    | Tok::Plus
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
                    | Tok::Comma
                    | Tok::Colon
                    | Tok::DotDot
                    | Tok::Return
                    | Tok::In
            )
        )
    }

    fn push(&mut self, tok: Tok<'a>, span: Span) {
        self.note_first(tok, span);
        if !self.frame_ref().broken {
            self.tokens
                .push((span.start as usize, tok, span.end as usize));
        }
    }

    fn open(&mut self, bracket: Bracket, tok: Tok<'a>, span: Span) {
        if !self.within_limit(bracket, span) {
            return;
        }
        self.push(tok, span);
        self.brackets.push(Open { bracket, span });
    }

    /// Opens a block. A block where none belongs (alone, or where an operand
    /// is due) is `silent`: it is still read as a block, so a `}` on a later
    /// line closes it, but its contents add no errors to the one reported.
    fn open_block(&mut self, tok: Tok<'a>, span: Span, silent: bool) {
        if !self.within_limit(Bracket::Block, span) {
            return;
        }
        self.note_first(tok, span);
        let parent = self.frame_ref();
        let in_fn = parent.in_fn || matches!(parent.first, Some((Tok::Fn, _)));
        let silent = parent.silent || silent;
        self.brackets.push(Open {
            bracket: Bracket::Block,
            span,
        });
        let frame = Frame::new(span, in_fn, silent, self.brackets.len(), self.tokens.len());
        self.blocks.push(frame);
    }

    /// Whether a bracket may open here; past the nesting limit it is
    /// reported and pushed with nothing else, so that only brackets are
    /// followed until it closes.
    fn within_limit(&mut self, bracket: Bracket, span: Span) -> bool {
        if self.brackets.len() < MAX_NESTING {
            return true;
        }
        self.break_statement(report::nested_too_deep(span, MAX_NESTING));
        self.brackets.push(Open { bracket, span });
        false
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
                self.break_statement(report::unmatched(closing, span));
            }
        }
    }

    /// A keyword that only starts statements, seen inside brackets: the
    /// current statement left a bracket open, and the keyword starts the next.
    fn abandon_statement(&mut self) {
        let base = self.frame_ref().base;
        self.report_unclosed(base);
        self.end_statement(Span::default());
    }

    /// Reports the brackets above `keep` as never closed, and drops them.
    fn report_unclosed(&mut self, keep: usize) {
        let unclosed = self.brackets.get(keep..).unwrap_or_default();
        if let (Some(innermost), Some(outermost)) = (unclosed.last(), unclosed.first()) {
            let outer =
                (unclosed.len() > 1).then_some((outermost.bracket.opening(), outermost.span));
            let diagnostic = report::unclosed(innermost.bracket.opening(), innermost.span, outer);
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

    fn report(&mut self, diagnostic: Diagnostic) {
        if !self.frame_ref().silent {
            self.diagnostics.push(diagnostic);
        }
    }

    /// Reports the current statement's error, unless it already has one.
    /// A syntax error in the tokens read so far comes first in the text, so
    /// it is the one reported.
    fn break_statement(&mut self, diagnostic: Diagnostic) {
        let frame = self.frame();
        if frame.broken {
            return;
        }
        frame.broken = true;
        let start = frame.start;
        let earlier = match self.parse_tokens(start) {
            Err(error @ (ParseError::UnrecognizedToken { .. } | ParseError::User { .. })) => {
                Some(report::parse_error(error, self.text, Span::default()))
            }
            _ => None,
        };
        self.report(earlier.unwrap_or(diagnostic));
    }

    /// Parses (and removes) the current statement's tokens, which start at
    /// `start`; the statement's depth budget shrinks with its nesting.
    fn parse_tokens(&mut self, start: usize) -> Result<Box<Stmt>, GrammarError<'a>> {
        let max_depth = MAX_NESTING.saturating_sub(self.blocks.len());
        self.ctx
            .begin_statement(u32::try_from(max_depth).unwrap_or(u32::MAX));
        let parsed = self
            .parser
            .parse(&self.ctx, self.tokens.drain(start..).map(Ok));
        if self.blocks.is_empty() {
            self.ctx.clear_blocks();
        }
        parsed
    }

    fn lex_error(&mut self, error: LexError, span: Span) {
        if error == LexError::UnclosedString {
            self.incomplete = true;
        }
        self.break_statement(report::lex_error(error, self.text, span));
    }

    /// Parses the current statement of the innermost frame; `end` is what
    /// ended it.
    fn end_statement(&mut self, end: Span) {
        let nesting = self.blocks.len();
        let frame = self.frame();
        let (start, broken, first, in_fn) = (frame.start, frame.broken, frame.first, frame.in_fn);
        frame.broken = false;
        frame.first = None;
        frame.last = None;
        if broken || self.tokens.len() <= start {
            self.tokens.truncate(start);
            return;
        }
        if let Some(diagnostic) = report::misplaced(self.text, first, nesting > 0, in_fn) {
            self.tokens.truncate(start);
            self.report(diagnostic);
            return;
        }
        let parsed = self.parse_tokens(start);
        match (self.ctx.too_deep(), parsed) {
            (Some(span), _) => {
                let diagnostic = report::nested_too_deep(span, self.ctx.max_depth() as usize);
                self.report(diagnostic);
            }
            (None, Ok(stmt)) if nesting == 0 => (self.sink)(*stmt),
            (None, Ok(stmt)) => self.frame().stmts.push(*stmt),
            (None, Err(error)) => {
                let diagnostic = report::parse_error(error, self.text, end);
                self.report(diagnostic);
            }
        }
    }

    fn finish(mut self) -> (Vec<Diagnostic>, bool) {
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
            self.break_statement(report::unclosed("{", frame.open, None));
        }
        let mut diagnostics = self.diagnostics;
        diagnostics.sort_by_key(|diagnostic| diagnostic.span.map(|span| span.start));
        (diagnostics, self.incomplete)
    }
}

/// Keywords that can only begin a statement, never appear inside one.
fn starts_statement(tok: Tok<'_>) -> bool {
    matches!(
        tok,
        Tok::Dim | Tok::Input | Tok::Let | Tok::Fn | Tok::For | Tok::If | Tok::Return
    )
}
