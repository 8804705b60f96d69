//! The front end: source text to syntax tree. `lexer` is public for the
//! REPL's highlighter; nothing of the generated parser escapes this module.

mod actions;
pub mod ast;
mod grammar;
pub mod lexer;
mod report;
mod splitter;

use crate::error::Diagnostic;
use crate::source::SourceFile;

#[derive(Debug)]
pub struct ParseOutput {
    /// Every statement that parsed; a statement with an error is left out.
    pub program: ast::Program,
    /// `tsr::parse` and `tsr::limit` errors, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// The text ended inside an open bracket, block or string: a REPL
    /// should read another line rather than report the errors.
    pub incomplete: bool,
}

/// Parses a whole file, reporting every independent syntax error.
pub fn parse(file: &SourceFile) -> ParseOutput {
    splitter::parse_text(file.text())
}

/// Parses `text` from byte `start` on: the REPL appends each line to its
/// session's text and parses only the new part. Spans are
/// offsets into the whole text, and expression ids start at `first_id`, so
/// the trees of earlier lines keep theirs; returns the id after the last.
pub fn parse_tail(text: &str, start: usize, first_id: u32) -> (ParseOutput, u32) {
    splitter::parse_tail(text, start, first_id)
}

/// Parses a file statement by statement: each top-level statement goes to
/// `sink` as soon as it is complete, so a caller can check it and drop it
/// instead of holding the whole tree. Returns the diagnostics and whether
/// the text ended inside an open bracket, block or string.
pub fn parse_each(file: &SourceFile, sink: &mut dyn FnMut(ast::Stmt)) -> (Vec<Diagnostic>, bool) {
    splitter::parse_each(file.text(), sink)
}
