//! [`PatternText`], a spec or pattern string literal that diagnostics can
//! point inside, which einsum and the einops ops share, with the argument
//! helpers both use.

use std::ops::Range;

use crate::check::env::Entry;
use crate::check::rules::einsum_spec::SpecError;
use crate::check::size::{AtomId, Size};
use crate::check::types::{Axis, Name, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};

/// A spec or pattern string literal: its decoded text, and where the
/// literal was written, so that diagnostics can point inside it.
pub(crate) struct PatternText<'a> {
    pub text: &'a str,
    pub(super) literal: Span,
}

impl<'a> PatternText<'a> {
    pub fn of(e: &'a Expr) -> Option<PatternText<'a>> {
        match &e.kind {
            ExprKind::Str(text) => Some(PatternText {
                text,
                literal: e.span,
            }),
            _ => None,
        }
    }

    /// The source span of a byte range of the decoded text. With escapes in
    /// the literal, decoded offsets are not source offsets, so the whole
    /// literal is pointed at; so it is for an empty range, which would
    /// underline nothing.
    pub fn span(&self, range: Range<usize>) -> Span {
        let exact = self.literal.len() == self.text.len() + 2;
        if !exact || range.is_empty() || range.end > self.text.len() {
            return self.literal;
        }
        let start = self.literal.start as usize + 1;
        Span::new(start + range.start, start + range.end)
    }

    /// The text of a byte range, for messages.
    pub fn slice(&self, range: Range<usize>) -> &'a str {
        self.text.get(range).unwrap_or("")
    }

    /// The whole text, escaped so that a message stays on one line.
    pub fn shown(&self) -> String {
        self.text.escape_debug().to_string()
    }

    /// A malformed spec or pattern, reported with `code` inside the string.
    pub fn error(&self, code: Code, error: SpecError) -> Diagnostic {
        let span = self.span(error.range.clone());
        let note = match self.slice(error.range.clone()) {
            "" => "here".to_string(),
            text => format!("`{}`", text.escape_debug()),
        };
        let d = Diagnostic::new(code, span, error.message).label(span, note);
        match error.help {
            Some(help) => d.help(help),
            None => d,
        }
    }
}

/// The error for a spec or pattern that is not a string literal; silent
/// when the expression already failed.
pub(crate) fn not_literal(cx: &mut Checker, e: &Expr, code: Code, what: &str) -> Type {
    if matches!(cx.expr(e), Type::Unknown) {
        return Type::Unknown;
    }
    cx.fail(
        Diagnostic::new(code, e.span, format!("{what} must be a string literal"))
            .label(e.span, "not a string literal")
            .help(format!("write {what} inline, in quotes")),
    )
}

/// The size and name a label that is a dim (or a generic in a fn body)
/// stands for.
pub(crate) fn dim_axis(cx: &Checker, name: &str) -> Option<Axis> {
    let size = match cx.lookup(name)? {
        Entry::Dim(id) => cx.dims.get(*id as usize)?.size.clone(),
        Entry::Generic(g) => Size::atom(AtomId::Generic(*g)),
        Entry::Value { .. } | Entry::Fn(_) => return None,
    };
    Some(Axis {
        size,
        name: Some(Name::from(name)),
    })
}
