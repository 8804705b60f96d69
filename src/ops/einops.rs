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

use std::collections::BTreeMap;
use std::ops::Range;

use ndarray::{ArrayView1, Axis as NdAxis, IxDyn};

use super::construct::size_axis;
use super::einsum::{dim_axis, not_literal, PatternText};
use super::shape::{permuted, reshaped, standard};
use super::{ArgRef, Bound, Builtin, Param};
use crate::check::rules::rearrange_pattern::{
    check_axes, parse_einops, EinopsOp, EinopsPattern, GroupMember, PatternItem,
};
use crate::check::size::{AtomId, Size, SizeError};
use crate::check::suggest::closest;
use crate::check::types::{show_axis, Axis, DType, Item, Shape, Tensor, Type};
use crate::check::{limit_error, Checker, MAX_SIZE};
use crate::error::{Code, Diagnostic};
use crate::eval::interp::runtime_error;
use crate::eval::value::{self as rt, Array, Value};
use crate::eval::Interp;
use crate::map_tensor;
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

/// A member of a group, or an entry of a side seen as one.
enum Member<'p> {
    Axis(&'p str),
    Number(u64),
    Ellipsis,
}

fn members(item: &PatternItem) -> Vec<(Member<'_>, Range<usize>)> {
    match item {
        PatternItem::Axis { name, range } => vec![(Member::Axis(name), range.clone())],
        PatternItem::Number { value, range } => vec![(Member::Number(*value), range.clone())],
        PatternItem::Ellipsis { range } => vec![(Member::Ellipsis, range.clone())],
        PatternItem::Unit { .. } => Vec::new(),
        PatternItem::Group { members, .. } => members
            .iter()
            .filter_map(|m| match m {
                GroupMember::Axis { name, range } => Some((Member::Axis(name), range.clone())),
                GroupMember::Number { value, range } => {
                    Some((Member::Number(*value), range.clone()))
                }
                GroupMember::Ellipsis { range } => Some((Member::Ellipsis, range.clone())),
                GroupMember::Unit { .. } => None,
            })
            .collect(),
    }
}

/// A left-side entry with x's axis it binds, and that axis's position.
type LhsPair<'s> = (usize, &'s PatternItem, &'s Axis);

/// One call, once its arguments are known to be well formed.
struct Call<'a> {
    op: EinopsOp,
    pattern: PatternText<'a>,
    parsed: EinopsPattern,
    x: Tensor,
    x_span: Span,
    /// x's shape as printed.
    shown: String,
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
    let shown = cx.show_shape(&x.shape);
    let x_span = b.span_of(0);
    let parsed = match parse_einops(pattern.text).and_then(|p| check_axes(&p, op).map(|()| p)) {
        Ok(parsed) => parsed,
        Err(error) => {
            let d = pattern.error(Code::Rearrange, error);
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
        shown,
        given: BTreeMap::new(),
    };
    let result = call
        .collect_given(cx, &keywords)
        .and_then(|()| call.output(cx, reduction));
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

impl<'a> Call<'a> {
    /// A `tsr::rearrange` pointing at `range` of the pattern and at x.
    fn error(&self, range: Range<usize>, detail: String, note: String) -> Diagnostic {
        let span = self.pattern.span(range);
        let (op, shown, pattern) = (self.op, &self.shown, self.pattern.shown());
        let message = format!("cannot {op} {shown} with `{pattern}`: {detail}");
        Diagnostic::new(Code::Rearrange, span, message)
            .label(span, note)
            .label(self.x_span, self.shown.clone())
    }

    /// The sizes dims and keyword arguments give the pattern's axes. A
    /// keyword argument must size an axis of the pattern, and agree with
    /// a dim of the same name.
    fn collect_given(&mut self, cx: &Checker, keywords: &[Keyword<'a>]) -> Result<(), Diagnostic> {
        let sides = self.parsed.lhs.iter().chain(&self.parsed.rhs);
        let names: Vec<(&str, Range<usize>)> = sides
            .flat_map(members)
            .filter_map(|(member, range)| match member {
                Member::Axis(name) => Some((name, range)),
                Member::Number(_) | Member::Ellipsis => None,
            })
            .collect();
        if let Some(k) = keywords
            .iter()
            .find(|k| names.iter().all(|(n, _)| *n != k.name))
        {
            let help = match closest(k.name, names.iter().map(|(n, _)| *n)) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "give sizes only for axes the pattern names".to_string(),
            };
            let (op, shown, pattern) = (self.op, &self.shown, self.pattern.shown());
            let message = format!(
                "cannot {op} {shown}: `{}` is not an axis of `{pattern}`",
                k.name
            );
            let whole = self.pattern.span(0..self.pattern.text.len());
            return Err(Diagnostic::new(Code::Rearrange, k.span, message)
                .label(k.span, "not in the pattern")
                .label(whole, "the pattern")
                .label(self.x_span, self.shown.clone())
                .help(help));
        }
        let mut given = BTreeMap::new();
        for (name, range) in names {
            let dim = dim_axis(cx, name);
            let keyword = keywords.iter().find(|k| k.name == name);
            let entry = match (dim, keyword) {
                (Some(dim), Some(k)) if dim.size != k.axis.size => {
                    let (d, s) = (show_axis(&dim, cx), cx.show_size(&k.axis.size));
                    let detail = format!("`{name}` is the dim {d}, but `{name}={s}` is given");
                    return Err(self
                        .error(range, detail, format!("the dim {d}"))
                        .label(k.span, format!("{name}={s}")));
                }
                (Some(dim), _) => Given {
                    source: format!("the dim {}", show_axis(&dim, cx)),
                    axis: dim,
                    keyword: None,
                },
                (None, Some(k)) => Given {
                    source: format!("given as `{name}={}`", cx.show_size(&k.axis.size)),
                    axis: k.axis.clone(),
                    keyword: Some(k.span),
                },
                (None, None) => continue,
            };
            given.insert(name.to_string(), entry);
        }
        self.given = given;
        Ok(())
    }

    /// Binds the left side to x's axes, then builds the right side.
    fn output(&self, cx: &mut Checker, reduction: Option<&str>) -> Result<Type, Diagnostic> {
        let (pairs, ellipsis) = self.split_lhs()?;
        let mut bound: BTreeMap<&str, Axis> = BTreeMap::new();
        for (position, item, axis) in pairs {
            self.bind(cx, position, item, axis, &mut bound)?;
        }
        let mut shape = Shape::with_capacity(self.parsed.rhs.len());
        for item in &self.parsed.rhs {
            match item {
                PatternItem::Ellipsis { .. } => shape.extend(ellipsis.iter().cloned()),
                _ => shape.push(Item::Axis(self.merge(cx, item, ellipsis, &bound)?)),
            }
        }
        let dtype = self.dtype(cx, reduction)?;
        let contiguous = match self.op {
            EinopsOp::Rearrange => self.x.contiguous && self.keeps_order(),
            EinopsOp::Reduce | EinopsOp::Repeat => true,
        };
        Ok(Type::Tensor(Tensor {
            dtype,
            shape,
            contiguous,
            weak: false,
        }))
    }

    /// Pairs the left side's entries with x's axes (and their positions),
    /// and gives the axes `...` stands for.
    fn split_lhs(&self) -> Result<(Vec<LhsPair<'_>>, &[Item]), Diagnostic> {
        let (lhs, shape) = (&self.parsed.lhs, &self.x.shape);
        let split = lhs
            .iter()
            .position(|item| matches!(item, PatternItem::Ellipsis { .. }));
        let (before, after) = match split {
            Some(i) => (lhs.get(..i).unwrap_or(&[]), lhs.get(i + 1..).unwrap_or(&[])),
            None => (&lhs[..], &[][..]),
        };
        let named = before.len() + after.len();
        let fixed = shape.iter().all(|item| matches!(item, Item::Axis(_)));
        if named > shape.len() || (split.is_none() && (!fixed || named != shape.len())) {
            return Err(self.rank_error(split.is_some(), named, fixed));
        }
        let (head, rest) = shape.split_at(before.len());
        let (middle, tail) = rest.split_at(rest.len() - after.len());
        let positions = (0..before.len()).chain(shape.len() - after.len()..);
        let entries = before.iter().zip(head).chain(after.iter().zip(tail));
        let mut pairs = Vec::with_capacity(named);
        for (position, (item, shape_item)) in positions.zip(entries) {
            let Item::Axis(axis) = shape_item else {
                let detail = format!("axis {position} of x falls inside a variadic run");
                return Err(self
                    .error(item.range(), detail, "inside a run".to_string())
                    .help("use `...` for the run, and name only the axes outside it"));
            };
            pairs.push((position, item, axis));
        }
        Ok((pairs, middle))
    }

    fn rank_error(&self, has_ellipsis: bool, named: usize, fixed: bool) -> Diagnostic {
        let rank = self.x.shape.len();
        let range = self.parsed.lhs_range.clone();
        let side = self.pattern.slice(range.clone()).escape_debug().to_string();
        let at_least = if has_ellipsis { "at least " } else { "" };
        let note = format!("{at_least}{named} axes");
        if !fixed {
            let detail = format!("x has a variadic run of axes, which `{side}` does not name");
            let help = format!("write `...` for the run: `... {side}`");
            return self.error(range, detail, note).help(help);
        }
        let help = if rank > named && !has_ellipsis {
            format!("name all {rank} axes, or write `...` for those you do not name: `... {side}`")
        } else if has_ellipsis {
            format!("name at most {rank} axes besides `...`")
        } else {
            format!("write {rank} axes on the left of `->`")
        };
        let detail = format!("the left side `{side}` names {note}, but x has {rank}");
        self.error(range, detail, note).help(help)
    }

    /// Binds one left-side entry to x's axis at `position`: all its
    /// members' sizes but one must be given, and the last one is the
    /// exact quotient. A lone member is the whole axis and keeps its name.
    fn bind<'s>(
        &'s self,
        cx: &mut Checker,
        position: usize,
        item: &'s PatternItem,
        axis: &Axis,
        bound: &mut BTreeMap<&'s str, Axis>,
    ) -> Result<(), Diagnostic> {
        let members = members(item);
        let lone = matches!(members.as_slice(), [(Member::Axis(_), _)]);
        let mut known = Size::constant(1);
        let mut unknown: Vec<(&str, &Range<usize>)> = Vec::new();
        let mut keywords: Vec<Span> = Vec::new();
        for (member, range) in &members {
            let size = match member {
                Member::Axis(name) => {
                    let Some(g) = self.given.get(*name) else {
                        unknown.push((name, range));
                        continue;
                    };
                    keywords.extend(g.keyword);
                    let name_of = match (lone, g.keyword) {
                        (true, Some(_)) => axis.name.clone().or_else(|| g.axis.name.clone()),
                        _ => g.axis.name.clone(),
                    };
                    let size = g.axis.size.clone();
                    bound.insert(
                        name,
                        Axis {
                            size: size.clone(),
                            name: name_of,
                        },
                    );
                    size
                }
                Member::Number(value) => self.number(*value, range)?,
                Member::Ellipsis => {
                    let span = self.pattern.span(range.clone());
                    return Err(internal(span, "`(...)` on the left of an einops pattern"));
                }
            };
            known = self.settle(cx, known.mul(&size), range)?;
        }
        let text = self.pattern.slice(item.range());
        let at = format!("axis {position} of x is {}", show_axis(axis, cx));
        let with_keywords = |d: Diagnostic| {
            keywords
                .iter()
                .fold(d, |d, span| d.label(*span, "given here"))
        };
        let (name, size) = match unknown.as_slice() {
            [] if known == axis.size => return Ok(()),
            [] => {
                let known = cx.show_size(&known);
                let detail = match members.as_slice() {
                    [] => format!("`{text}` needs an axis of size 1, but {at}"),
                    [(Member::Number(_), _)] => {
                        format!("`{text}` needs an axis of size {known}, but {at}")
                    }
                    [(Member::Axis(name), _)] => match self.given.get(*name) {
                        Some(g) => format!("`{name}` is {}, but {at}", g.source),
                        None => format!("`{name}` is {known}, but {at}"),
                    },
                    _ => format!("the sizes in `{text}` multiply to {known}, but {at}"),
                };
                return Err(with_keywords(self.error(item.range(), detail, known)));
            }
            [(name, range)] => match axis.size.div_exact(&known) {
                Ok(size) => (*name, size),
                Err(SizeError::NotExact | SizeError::DivisionByZero) => {
                    let detail = format!(
                        "{at}, which the other sizes in `{text}` ({}) do not divide",
                        cx.show_size(&known)
                    );
                    let note = format!("`{name}` cannot be a whole number");
                    return Err(with_keywords(self.error((*range).clone(), detail, note)));
                }
                other => (*name, self.settle(cx, other, range)?),
            },
            [(first, _), (second, _), ..] => {
                let detail = format!(
                    "the sizes of `{first}` and `{second}` in `{text}` cannot both be \
                     inferred: {at}"
                );
                let listed: Vec<String> = unknown
                    .iter()
                    .take(unknown.len() - 1)
                    .map(|(name, _)| format!("{name}=..."))
                    .collect();
                let help = format!(
                    "give all but one of them as keyword arguments, e.g. `{}`",
                    listed.join(", ")
                );
                let note = "sizes unknown".to_string();
                return Err(self.error(item.range(), detail, note).help(help));
            }
        };
        let name_of = if lone { axis.name.clone() } else { None };
        bound.insert(
            name,
            Axis {
                size,
                name: name_of,
            },
        );
        Ok(())
    }

    /// One right-side entry as an axis: the product of its members' sizes,
    /// named only when it is a lone axis.
    fn merge(
        &self,
        cx: &mut Checker,
        item: &PatternItem,
        ellipsis: &[Item],
        bound: &BTreeMap<&str, Axis>,
    ) -> Result<Axis, Diagnostic> {
        let members = members(item);
        let mut size = Size::constant(1);
        let mut name = None;
        for (member, range) in &members {
            let factors = match member {
                Member::Axis(member_name) => {
                    let axis = self.rhs_axis(member_name, range, bound)?;
                    name = axis.name;
                    vec![axis.size]
                }
                Member::Number(value) => vec![self.number(*value, range)?],
                Member::Ellipsis => ellipsis
                    .iter()
                    .map(|item| match item {
                        Item::Axis(axis) => axis.size.clone(),
                        Item::Run(run) => Size::atom(AtomId::RunProduct(run.0)),
                    })
                    .collect(),
            };
            for factor in factors {
                size = self.settle(cx, size.mul(&factor), range)?;
            }
        }
        let lone = matches!(members.as_slice(), [(Member::Axis(_), _)]);
        Ok(Axis {
            size,
            name: name.filter(|_| lone),
        })
    }

    /// The right side's axis `name`: carried from the left, or, for
    /// `repeat`, a new axis of a given size.
    fn rhs_axis(
        &self,
        name: &str,
        range: &Range<usize>,
        bound: &BTreeMap<&str, Axis>,
    ) -> Result<Axis, Diagnostic> {
        if let Some(axis) = bound.get(name) {
            return Ok(axis.clone());
        }
        if self.op != EinopsOp::Repeat {
            // `check_axes` keeps every right-side axis of these on the left.
            let span = self.pattern.span(range.clone());
            return Err(internal(span, "an einops axis was never bound"));
        }
        match self.given.get(name) {
            Some(g) => Ok(g.axis.clone()),
            None => {
                let detail = format!("the size of the new axis `{name}` is not given");
                Err(self
                    .error(range.clone(), detail, "size unknown".to_string())
                    .help(format!("give its size as a keyword argument: `{name}=...`")))
            }
        }
    }

    /// A number of the pattern as a size.
    fn number(&self, value: u64, range: &Range<usize>) -> Result<Size, Diagnostic> {
        match i64::try_from(value) {
            Ok(v) if v <= MAX_SIZE => Ok(Size::constant(v)),
            _ => Err(limit_error(self.pattern.span(range.clone()), "this size")),
        }
    }

    /// The size of a product or quotient. One the normal form cannot hold
    /// (a division by a sum, or too complex) is accepted statically and
    /// checked at run time, as reshape's `-1` is; an overflow is an error.
    fn settle(
        &self,
        cx: &mut Checker,
        result: Result<Size, SizeError>,
        range: &Range<usize>,
    ) -> Result<Size, Diagnostic> {
        match result {
            Ok(size) => Ok(size),
            Err(SizeError::Overflow) => {
                Err(limit_error(self.pattern.span(range.clone()), "this size"))
            }
            Err(_) => Ok(cx.fresh_size()),
        }
    }

    /// The result's element type: that of the reductions of section 5.
    fn dtype(&self, cx: &Checker, reduction: Option<&str>) -> Result<DType, Diagnostic> {
        let dtype = self.x.dtype;
        Ok(match reduction {
            Some("mean") if dtype == DType::Bool => {
                let shown = cx.show(&Type::Tensor(self.x.clone()));
                let message = "`reduce` with \"mean\" does not take bool tensors";
                return Err(Diagnostic::new(Code::Dtype, self.x_span, message)
                    .label(self.x_span, shown)
                    .help("cast it first, e.g. `f32(x)`"));
            }
            Some("mean") => dtype.to_float(),
            Some("sum" | "prod") if dtype == DType::Bool => DType::I64,
            _ => dtype,
        })
    }

    /// Whether a rearrange keeps x's elementary axes in order, so that it
    /// only reshapes, and a contiguous x stays contiguous.
    fn keeps_order(&self) -> bool {
        axis_order(&self.parsed.lhs) == axis_order(&self.parsed.rhs)
    }
}

/// A side's axis names in order, `None` for `...`.
fn axis_order(items: &[PatternItem]) -> Vec<Option<&str>> {
    items
        .iter()
        .flat_map(members)
        .filter_map(|(member, _)| match member {
            Member::Axis(name) => Some(Some(name)),
            Member::Ellipsis => Some(None),
            Member::Number(_) => None,
        })
        .collect()
}

fn internal(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::Internal,
        span,
        format!("internal error in tsr: {what}"),
    )
}

pub(super) static KERNELS: &[(&str, super::Kernel)] = &[
    ("rearrange", rearrange_kernel),
    ("reduce", reduce_kernel),
    ("repeat", repeat_kernel),
];

fn rearrange_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    einops_kernel(ev, b, EinopsOp::Rearrange)
}

fn reduce_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    einops_kernel(ev, b, EinopsOp::Reduce)
}

fn repeat_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    einops_kernel(ev, b, EinopsOp::Repeat)
}

/// An elementary axis of a pattern: what an entry `(h w)` splits into.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Elementary<'p> {
    Named(&'p str),
    /// A number of the pattern, each occurrence its own axis.
    Anonymous(usize),
    /// The i-th axis `...` stands for.
    Batch(usize),
}

/// The sizes of a pattern's elementary axes, as the data, the keyword
/// arguments and the result's proved shape tell them.
#[derive(Default)]
struct Sizes<'p> {
    known: BTreeMap<Elementary<'p>, usize>,
    numbers: usize,
}

type Entry<'p> = Vec<Elementary<'p>>;

impl<'p> Sizes<'p> {
    /// Each entry of a side as the elementary axes it merges; a unit merges
    /// none, and a bare `...` is one entry per axis it stands for.
    fn entries(
        &mut self,
        items: &'p [PatternItem],
        batch: usize,
    ) -> Result<Vec<Entry<'p>>, String> {
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            match item {
                PatternItem::Axis { name, .. } => entries.push(vec![Elementary::Named(name)]),
                PatternItem::Unit { .. } => entries.push(Vec::new()),
                PatternItem::Number { value, .. } => entries.push(vec![self.number(*value)?]),
                PatternItem::Ellipsis { .. } => {
                    entries.extend((0..batch).map(|i| vec![Elementary::Batch(i)]));
                }
                PatternItem::Group { members, .. } => {
                    let mut group = Vec::with_capacity(members.len());
                    for member in members {
                        match member {
                            GroupMember::Axis { name, .. } => group.push(Elementary::Named(name)),
                            GroupMember::Unit { .. } => {}
                            GroupMember::Number { value, .. } => group.push(self.number(*value)?),
                            GroupMember::Ellipsis { .. } => {
                                group.extend((0..batch).map(Elementary::Batch));
                            }
                        }
                    }
                    entries.push(group);
                }
            }
        }
        Ok(entries)
    }

    fn number(&mut self, value: u64) -> Result<Elementary<'p>, String> {
        let size = usize::try_from(value).map_err(|_| format!("{value} is too large a size"))?;
        let axis = Elementary::Anonymous(self.numbers);
        self.numbers += 1;
        self.known.insert(axis, size);
        Ok(axis)
    }

    fn product(&self, entry: &[Elementary<'p>]) -> Option<usize> {
        entry
            .iter()
            .try_fold(1usize, |p, e| p.checked_mul(*self.known.get(e)?))
    }

    /// Finds every size an entry of known total leaves as its one unknown
    /// member, until none is left to find.
    fn solve(&mut self, constraints: &[(&Entry<'p>, usize)]) -> Result<(), String> {
        let mut progress = true;
        while progress {
            progress = false;
            for &(entry, total) in constraints {
                let unknown: Vec<Elementary> = entry
                    .iter()
                    .filter(|e| !self.known.contains_key(e))
                    .copied()
                    .collect();
                let [only] = unknown.as_slice() else { continue };
                let others = entry.iter().filter(|e| *e != only);
                let known = others
                    .map(|e| self.known.get(e).copied().unwrap_or(1))
                    .try_fold(1usize, usize::checked_mul)
                    .ok_or("the sizes multiply past the largest size")?;
                // With a zero beside it, any size fits: it stays unknown.
                if known == 0 {
                    continue;
                }
                if total % known != 0 {
                    return Err(format!(
                        "an axis of size {total} does not split into parts of {known}"
                    ));
                }
                self.known.insert(*only, total / known);
                progress = true;
            }
        }
        Ok(())
    }

    /// Every entry's size, which must match its total.
    fn check(&self, constraints: &[(&Entry<'p>, usize)]) -> Result<(), String> {
        for &(entry, total) in constraints {
            if let Some(axis) = entry.iter().find(|e| !self.known.contains_key(e)) {
                return Err(match axis {
                    Elementary::Named(name) => format!(
                        "the size of `{name}` cannot be told from the data: give it as `{name}=...`"
                    ),
                    _ => "an axis size cannot be told from the data".to_string(),
                });
            }
            let product = self.product(entry);
            if product != Some(total) {
                let shown =
                    product.map_or("more than the largest size".to_string(), |p| p.to_string());
                return Err(format!(
                    "the sizes of an entry multiply to {shown}, not to its axis's {total}"
                ));
            }
        }
        Ok(())
    }
}

/// rearrange, reduce and repeat as einops computes them: x reshaped to
/// the left side's elementary axes, permuted (reduced, or broadcast for
/// repeat's new axes), then reshaped to the right side's entries.
fn einops_kernel<'a>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    op: EinopsOp,
) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let text = b
        .get(1)
        .and_then(literal)
        .ok_or_else(|| internal(b.span, "an einops pattern that is not a literal"))?;
    let pattern = parse_einops(text)
        .map_err(|_| internal(b.span, "an einops pattern the checker did not accept"))?;
    let mut sizes = Sizes::default();
    for arg in b.rest(b.slots.len().saturating_sub(1)) {
        let Some(name) = arg.name else { continue };
        let size = ev.static_size(arg.value)?;
        let size = usize::try_from(size)
            .map_err(|_| runtime_error(arg.span, format!("the size of `{name}` is {size}")))?;
        sizes.known.insert(Elementary::Named(name), size);
    }
    let out_shape = ev.out_shape(b).ok();
    let fail = |detail: String| {
        let shown = format!("{:?}", x.shape());
        runtime_error(
            b.span,
            format!(
                "cannot {op} {shown} with `{}`: {detail}",
                text.escape_debug()
            ),
        )
    };
    let (lhs, rhs) = layout(&pattern, x.shape(), out_shape.as_deref(), &mut sizes).map_err(fail)?;
    let size_of = |e: &Elementary| sizes.known.get(e).copied().unwrap_or(1);
    let elementary: Vec<usize> = lhs.iter().flatten().map(size_of).collect();
    let target = match out_shape {
        Some(shape) => shape,
        None => rhs
            .iter()
            .map(|entry| sizes.product(entry))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| fail("the result is too large".to_string()))?,
    };
    let (lhs, rhs): (Entry, Entry) = (lhs.concat(), rhs.concat());
    let split = reshaped(&x, &elementary, b.span)?;
    let result = match op {
        EinopsOp::Rearrange => permuted(&split, &order(&lhs, &rhs, b.span)?, b.span)?,
        EinopsOp::Reduce => {
            let how = match b.get(2).map(|e| &e.kind) {
                Some(ExprKind::Str(how)) => how.as_str(),
                _ => return Err(internal(b.span, "a reduction the checker did not accept")),
            };
            let dropped: Vec<usize> = (0..lhs.len()).filter(|&i| !rhs.contains(&lhs[i])).collect();
            let folded = reduced(&split, &dropped, how, ev.out_dtype(b))
                .map_err(|detail| fail(detail.to_string()))?;
            let kept: Entry = lhs.iter().filter(|e| rhs.contains(e)).copied().collect();
            standard(permuted(&folded, &order(&kept, &rhs, b.span)?, b.span)?)
        }
        EinopsOp::Repeat => {
            let full: Vec<usize> = rhs.iter().map(size_of).collect();
            repeated(&split, &lhs, &rhs, &full, b.span)?
        }
    };
    reshaped(&result, &target, b.span).map(Value::Tensor)
}

/// Where each axis of `to` is in `from`.
fn order(from: &[Elementary], to: &[Elementary], span: Span) -> Result<Vec<usize>, Diagnostic> {
    to.iter()
        .map(|e| from.iter().position(|f| f == e))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| internal(span, "an einops axis on one side only"))
}

/// `t`, whose axes are `lhs`, with the axes `rhs` of sizes `full`: its
/// own axes permuted into place, the new ones broadcast (a copy).
fn repeated(
    t: &rt::Tensor,
    lhs: &[Elementary],
    rhs: &[Elementary],
    full: &[usize],
    span: Span,
) -> Result<rt::Tensor, Diagnostic> {
    let kept: Entry = rhs.iter().filter(|e| lhs.contains(e)).copied().collect();
    let mut t = permuted(t, &order(lhs, &kept, span)?, span)?;
    for (j, e) in rhs.iter().enumerate() {
        if !lhs.contains(e) {
            t = map_tensor!(&t, a => a.clone().insert_axis(NdAxis(j)));
        }
    }
    let failed = || internal(span, "a repeat that does not broadcast");
    Ok(map_tensor!(&t, a => a
        .broadcast(IxDyn(full))
        .ok_or_else(failed)?
        .to_owned()
        .into_shared()))
}

fn literal(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Str(text) => Some(text),
        _ => None,
    }
}

/// Both sides' entries, with every elementary size found: from x's
/// shape on the left, and the proved result shape on the right.
fn layout<'p>(
    pattern: &'p EinopsPattern,
    shape: &[usize],
    out_shape: Option<&[usize]>,
    sizes: &mut Sizes<'p>,
) -> Result<(Vec<Entry<'p>>, Vec<Entry<'p>>), String> {
    let has_ellipsis = |items: &[PatternItem]| {
        items
            .iter()
            .any(|item| matches!(item, PatternItem::Ellipsis { .. }))
    };
    let batch = if has_ellipsis(&pattern.lhs) {
        shape.len().checked_sub(pattern.lhs.len() - 1)
    } else {
        Some(0)
    };
    let lhs = sizes.entries(&pattern.lhs, batch.unwrap_or(0))?;
    if batch.is_none() || lhs.len() != shape.len() {
        return Err(format!(
            "the left side does not name x's {} axes",
            shape.len()
        ));
    }
    let rhs = sizes.entries(&pattern.rhs, batch.unwrap_or(0))?;
    let mut constraints: Vec<(&Entry, usize)> = lhs.iter().zip(shape.iter().copied()).collect();
    if let Some(out) = out_shape.filter(|out| out.len() == rhs.len()) {
        constraints.extend(rhs.iter().zip(out.iter().copied()));
    }
    sizes.solve(&constraints)?;
    sizes.check(&constraints)?;
    if let Some(axis) = rhs.iter().flatten().find(|e| !sizes.known.contains_key(e)) {
        let name = match axis {
            Elementary::Named(name) => *name,
            _ => "?",
        };
        return Err(format!("the size of the new axis `{name}` is not given"));
    }
    Ok((lhs, rhs))
}

/// `t` in `dtype`, reduced over the axes `dropped` with einops' `how`.
fn reduced(
    t: &rt::Tensor,
    dropped: &[usize],
    how: &str,
    dtype: DType,
) -> Result<rt::Tensor, &'static str> {
    const EMPTY: &str = "max and min of no elements are undefined";
    // A mean of integers is computed in f64, as NumPy's, then rounded.
    let work = if how == "mean" { DType::F64 } else { dtype };
    let t = t.cast(work);
    let result = match &t {
        rt::Tensor::F32(a) => {
            let lanes = fold_lanes(a, dropped, |lane| float_reduce(lane, how).map(|v| v as f32))?;
            rt::Tensor::F32(defined(lanes).ok_or(EMPTY)?)
        }
        rt::Tensor::F64(a) => rt::Tensor::F64(
            defined(fold_lanes(a, dropped, |lane| float_reduce(lane, how))?).ok_or(EMPTY)?,
        ),
        rt::Tensor::I64(a) => rt::Tensor::I64(
            defined(fold_lanes(a, dropped, |lane| int_reduce(lane, how))?).ok_or(EMPTY)?,
        ),
        rt::Tensor::Bool(a) => {
            let lanes = fold_lanes(a, dropped, |lane| match how {
                "max" => lane.iter().copied().reduce(|x, y| x | y),
                _ => lane.iter().copied().reduce(|x, y| x & y),
            })?;
            rt::Tensor::Bool(defined(lanes).ok_or(EMPTY)?)
        }
    };
    Ok(result.cast(dtype))
}

/// Applies `f` to every lane along the axes `dropped` (together), which
/// leaves the other axes in their order.
fn fold_lanes<T: Clone, R: Clone>(
    a: &Array<T>,
    dropped: &[usize],
    f: impl Fn(ArrayView1<T>) -> R,
) -> Result<Array<R>, &'static str> {
    let kept: Vec<usize> = (0..a.ndim()).filter(|i| !dropped.contains(i)).collect();
    let mut order = kept.clone();
    order.extend(dropped);
    let view = a.view().permuted_axes(IxDyn(&order));
    let mut shape: Vec<usize> = view.shape().get(..kept.len()).unwrap_or(&[]).to_vec();
    let lane = view
        .shape()
        .get(kept.len()..)
        .unwrap_or(&[])
        .iter()
        .product();
    shape.push(lane);
    let lanes = view
        .to_shape(IxDyn(&shape))
        .map_err(|_| "reduced lanes ndarray refused")?;
    Ok(lanes.map_axis(NdAxis(kept.len()), f).into_shared())
}

/// The lanes' results, if every one is defined.
fn defined<T: Clone>(lanes: Array<Option<T>>) -> Option<Array<T>> {
    let values: Vec<T> = lanes.iter().cloned().collect::<Option<_>>()?;
    Array::from_shape_vec(lanes.raw_dim(), values).ok()
}

/// A float reduction, computed in f64; max and min propagate NaN as
/// NumPy's do, and have no value on an empty lane.
fn float_reduce<T: Copy + Into<f64>>(lane: ArrayView1<T>, how: &str) -> Option<f64> {
    let values = lane.iter().map(|&v| v.into());
    let extreme = |pick: fn(f64, f64) -> f64| {
        values.clone().reduce(|x, y| {
            if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                pick(x, y)
            }
        })
    };
    // From +0.0, as NumPy's sum starts (Rust's `Sum` starts from -0.0).
    let sum = || values.clone().fold(0.0, |s, v| s + v);
    match how {
        "sum" => Some(sum()),
        "mean" => Some(sum() / lane.len() as f64),
        "prod" => Some(values.clone().product()),
        "max" => extreme(f64::max),
        _ => extreme(f64::min),
    }
}

/// An integer reduction; sums and products wrap, as NumPy's do.
fn int_reduce(lane: ArrayView1<i64>, how: &str) -> Option<i64> {
    let values = lane.iter().copied();
    match how {
        "sum" => Some(values.fold(0, i64::wrapping_add)),
        "prod" => Some(values.fold(1, i64::wrapping_mul)),
        "max" => values.max(),
        _ => values.min(),
    }
}
