//! `rearrange`, `reduce` and `repeat` with einops semantics (LANGUAGE.md
//! section 5, "Shape operations"). The pattern's syntax and the rules that
//! need only the pattern are `check::rules::rearrange_pattern`'s; here the
//! left side is bound to the input's axes, group members' sizes are found
//! (from keyword arguments, dims, or by exact division) and the right side
//! is built. Every inconsistency is `tsr::rearrange`, pointing inside the
//! pattern string and at the input with its shape.
//!
//! Each entry of a side is handled as a group of members: an axis `h` is
//! `(h)`, and `1` is `()`, since a unit member contributes nothing.

mod call;
mod kernels;

pub(crate) use kernels::reduce_groups;
pub(super) use kernels::KERNELS;

use std::collections::BTreeMap;

use super::construct::size_axis;
use super::einsum::{not_literal, PatternText};
use super::{ArgRef, Bound, Builtin, Param};
use crate::check::rules::rearrange_pattern::{check_axes, parse_einops, EinopsOp, EinopsPattern};
use crate::check::suggest::closest;
use crate::check::types::{Axis, Name, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};

use Param::{Keywords, Required};

pub(super) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "rearrange",
        params: &[Required("x"), Required("pattern"), Keywords("sizes")],
        rule: rearrange,
    },
    Builtin {
        name: "reduce",
        params: &[
            Required("x"),
            Required("pattern"),
            Required("op"),
            Keywords("sizes"),
        ],
        rule: reduce,
    },
    Builtin {
        name: "repeat",
        params: &[Required("x"), Required("pattern"), Keywords("sizes")],
        rule: repeat,
    },
];

const REDUCTIONS: [&str; 5] = ["sum", "mean", "max", "min", "prod"];

fn rearrange(cx: &mut Checker, b: &Bound) -> Type {
    einops(cx, b, EinopsOp::Rearrange)
}

fn reduce(cx: &mut Checker, b: &Bound) -> Type {
    einops(cx, b, EinopsOp::Reduce)
}

fn repeat(cx: &mut Checker, b: &Bound) -> Type {
    einops(cx, b, EinopsOp::Repeat)
}

/// A keyword argument `k=size`.
struct Keyword<'a> {
    name: &'a str,
    axis: Axis,
    span: Span,
}

/// A size the call gives a pattern axis: the dim of its name, or a keyword
/// argument (`h=2`; `h=H` also names the axis, spec 10.8).
struct Given {
    axis: Axis,
    /// Where the size comes from, for messages: "the dim H=2", "given as
    /// `h=2`".
    source: String,
    /// The keyword argument, when the size comes from one.
    keyword: Option<Span>,
}

/// One call, once its arguments are known to be well formed.
struct Call<'a> {
    op: EinopsOp,
    pattern: PatternText<'a>,
    parsed: EinopsPattern,
    x: Tensor,
    x_span: Span,
    given: BTreeMap<String, Given>,
}

fn einops(cx: &mut Checker, b: &Bound, op: EinopsOp) -> Type {
    let x = b.get(0).and_then(|e| cx.tensor_arg(e));
    // The keyword sizes are the last parameter's.
    let keywords = keyword_sizes(cx, b.rest(b.slots.len().saturating_sub(1)));
    let reduction = match op {
        EinopsOp::Reduce => b.get(2).and_then(|e| reduction_arg(cx, e)).map(Some),
        EinopsOp::Rearrange | EinopsOp::Repeat => Some(None),
    };
    let Some(pattern_expr) = b.get(1) else {
        return Type::Unknown;
    };
    let Some(pattern) = PatternText::of(pattern_expr) else {
        return not_literal(cx, pattern_expr, Code::Arg, "an einops pattern");
    };
    let (Some(x), Some(keywords), Some(reduction)) = (x, keywords, reduction) else {
        return Type::Unknown;
    };
    let x_span = b.span_of(0);
    let parsed = match parse_einops(pattern.text).and_then(|p| check_axes(&p, op).map(|()| p)) {
        Ok(parsed) => parsed,
        Err(error) => {
            let d = pattern.error(Code::Rearrange, error);
            let shown = cx.show_shape(&x.shape);
            let message = format!("cannot {op} {shown}: {}", d.message);
            return cx.fail(Diagnostic { message, ..d }.label(x_span, shown));
        }
    };
    let mut call = Call {
        op,
        pattern,
        parsed,
        x,
        x_span,
        given: BTreeMap::new(),
    };
    let result = call
        .collect_given(cx, &keywords)
        .and_then(|()| call.output(cx, reduction));
    if result.is_ok() && cx.options.record_facts {
        let dims = call
            .given
            .iter()
            .filter(|(_, given)| given.keyword.is_none())
            .map(|(name, given)| (Name::from(name.as_str()), given.axis.size.clone()))
            .collect();
        cx.facts.pattern_dims.insert(b.id, dims);
    }
    match result {
        Ok(ty) => ty,
        Err(d) => cx.fail(d),
    }
}

/// The keyword arguments as axis sizes; `None` once one is reported.
fn keyword_sizes<'a>(cx: &mut Checker, args: &[ArgRef<'a>]) -> Option<Vec<Keyword<'a>>> {
    let mut keywords: Vec<Keyword> = Vec::with_capacity(args.len());
    let mut ok = true;
    for arg in args {
        let Some(name) = arg.name else {
            continue;
        };
        if keywords.iter().any(|k| k.name == name) {
            let message = format!("the size of `{name}` is given twice");
            cx.report(Diagnostic::new(Code::Arg, arg.span, message).label(arg.span, "again"));
            ok = false;
            continue;
        }
        match size_axis(cx, arg.value) {
            Ok(axis) => keywords.push(Keyword {
                name,
                axis,
                span: arg.span,
            }),
            Err(d) => {
                cx.report(d);
                ok = false;
            }
        }
    }
    ok.then_some(keywords)
}

/// `reduce`'s OP: one of [`REDUCTIONS`], as a string literal.
fn reduction_arg(cx: &mut Checker, e: &Expr) -> Option<&'static str> {
    let ExprKind::Str(name) = &e.kind else {
        not_literal(cx, e, Code::Arg, "the reduction");
        return None;
    };
    if let Some(found) = REDUCTIONS.iter().find(|r| **r == name) {
        return Some(found);
    }
    let listed = REDUCTIONS.map(|r| format!("\"{r}\"")).join(", ");
    let help = match closest(name, REDUCTIONS) {
        Some(near) => format!("did you mean \"{near}\"? The reductions are {listed}"),
        None => format!("use one of {listed}"),
    };
    let message = format!("`reduce` has no reduction \"{}\"", name.escape_debug());
    cx.report(
        Diagnostic::new(Code::Arg, e.span, message)
            .label(e.span, "unknown")
            .help(help),
    );
    None
}
