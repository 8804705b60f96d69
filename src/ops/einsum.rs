//! `einsum(spec, x1, x2, ...)` (LANGUAGE.md section 5, "einsum"): each
//! label of the spec is bound to its operands' axes, a label means one size
//! everywhere (a dim label its dim's size), the `...` parts broadcast as in
//! NumPy, and the output is built from the output labels. The spec's syntax
//! is `check::rules::einsum_spec`'s; diagnostics point inside the spec.
//!
//! Also home of [`PatternText`], which einops patterns share.

use std::num::Wrapping;
use std::ops::Range;

use ndarray::{Array3, ArrayViewD, Axis as NdAxis, IxDyn, LinalgScalar};

use super::shape::standard;
use super::{ArgRef, Bound, Builtin, Param};
use crate::check::env::Entry;
use crate::check::expr::promote;
use crate::check::rules::broadcast::broadcast;
use crate::check::rules::einsum_spec::{
    implicit_output, parse_einsum, EinsumSpec, OperandSpec, SpecError, SpecItem,
};
use crate::check::size::{AtomId, Size};
use crate::check::types::{show_axis, show_shape, Axis, DType, Item, Name, Shape, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::eval::interp::internal;
use crate::eval::value::{self as rt, Array, Value};
use crate::eval::Interp;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};

pub(super) static BUILTINS: &[Builtin] = &[Builtin {
    name: "einsum",
    params: &[Param::Required("spec"), Param::Rest("operands")],
    rule: einsum,
}];

/// A spec or pattern string literal: its decoded text, and where the
/// literal was written, so that diagnostics can point inside it.
pub(super) struct PatternText<'a> {
    pub text: &'a str,
    literal: Span,
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
pub(super) fn not_literal(cx: &mut Checker, e: &Expr, code: Code, what: &str) -> Type {
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
pub(super) fn dim_axis(cx: &Checker, name: &str) -> Option<Axis> {
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

/// One place a label is bound: an axis of an operand.
struct Use {
    operand: usize,
    range: Range<usize>,
    axis: Axis,
}

/// A label and every axis it is bound to.
struct Label<'s> {
    name: &'s str,
    /// The dim the label names, when it is one.
    dim: Option<Axis>,
    uses: Vec<Use>,
}

impl Label<'_> {
    /// The uses whose size differs from what the label stands for: its
    /// dim's size, or else its first use's.
    fn misfits(&self) -> impl Iterator<Item = &Use> {
        let size = match &self.dim {
            Some(dim) => Some(&dim.size),
            None => self.uses.first().map(|u| &u.axis.size),
        };
        self.uses.iter().filter(move |u| Some(&u.axis.size) != size)
    }

    /// The distinct names of the label's axes, a dim label's own first.
    fn names(&self) -> Vec<&Name> {
        let mut names: Vec<&Name> = Vec::new();
        let own = self.dim.iter().map(|dim| &dim.name);
        for name in own.chain(self.uses.iter().map(|u| &u.axis.name)).flatten() {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The output axis: a dim label's dim, else the first use's size with
    /// the first name any use has (10.8).
    fn output_axis(&self) -> Option<Axis> {
        if let Some(dim) = &self.dim {
            return Some(dim.clone());
        }
        let name = self.uses.iter().find_map(|u| u.axis.name.clone());
        let size = self.uses.first()?.axis.size.clone();
        Some(Axis { size, name })
    }
}

/// A `...` of an operand and the axes it stands for.
struct EllipsisPart {
    operand: usize,
    range: Range<usize>,
    items: Shape,
}

/// One call whose spec parsed and whose operands are tensors.
struct Call<'a> {
    pattern: PatternText<'a>,
    spec: EinsumSpec,
    args: &'a [ArgRef<'a>],
    tensors: Vec<Tensor>,
    /// Each operand's shape as printed.
    shapes: Vec<String>,
}

fn einsum(cx: &mut Checker, b: &Bound) -> Type {
    let args = b.rest(1);
    let types: Vec<Type> = args.iter().map(|a| cx.expr(a.value)).collect();
    let Some(spec_expr) = b.get(0) else {
        return Type::Unknown;
    };
    let Some(pattern) = PatternText::of(spec_expr) else {
        return not_literal(cx, spec_expr, Code::EinsumSpec, "the einsum spec");
    };
    let spec = match parse_einsum(pattern.text) {
        Ok(spec) => spec,
        Err(error) => return cx.fail(pattern.error(Code::EinsumSpec, error)),
    };
    if spec.operands.len() != args.len() {
        let d = count_error(cx, &pattern, &spec, args, &types, b.span);
        return cx.fail(d);
    }
    let mut tensors = Vec::with_capacity(types.len());
    for (ty, arg) in types.into_iter().zip(args) {
        match ty {
            Type::Tensor(t) => tensors.push(t),
            Type::Unknown => return Type::Unknown,
            other => return cx.not_a_tensor(&other, arg.span),
        }
    }
    if let Some((_, arg)) = tensors
        .iter()
        .zip(args)
        .find(|(t, _)| t.dtype == DType::Bool)
    {
        return cx.fail(super::args::bool_operand("einsum", arg.span));
    }
    let shapes = tensors.iter().map(|t| cx.show_shape(&t.shape)).collect();
    let call = Call {
        pattern,
        spec,
        args,
        tensors,
        shapes,
    };
    match call.result(cx) {
        Ok(ty) => ty,
        Err(d) => cx.fail(d),
    }
}

impl Call<'_> {
    /// The result type, or the call's one error; a contraction error is
    /// preferred to a broadcast of the `...` parts (section 5).
    fn result(&self, cx: &mut Checker) -> Result<Type, Diagnostic> {
        let (labels, parts) = self.bind(cx)?;
        let conflicts: Vec<&Label> = labels
            .iter()
            .filter(|l| l.misfits().next().is_some())
            .collect();
        if !conflicts.is_empty() {
            return Err(self.contraction_error(cx, &conflicts));
        }
        let batch = self.broadcast_ellipses(cx, &parts)?;
        let output = match &self.spec.output {
            Some(output) => output.clone(),
            None => implicit_output(&self.spec),
        };
        let mut shape = Shape::with_capacity(output.items.len());
        for item in &output.items {
            match item {
                SpecItem::Ellipsis { .. } => shape.extend(batch.iter().cloned()),
                SpecItem::Label { name, range } => {
                    let label = labels.iter().find(|l| l.name == name);
                    match label.and_then(Label::output_axis) {
                        Some(axis) => shape.push(Item::Axis(axis)),
                        None => {
                            let span = self.pattern.span(range.clone());
                            return Ok(cx.internal(span, "an einsum output label has no input"));
                        }
                    }
                }
            }
        }
        let mismatched: Vec<&Label> = labels.iter().filter(|l| l.names().len() > 1).collect();
        if !mismatched.is_empty() {
            let d = self.name_warning(cx, &mismatched);
            cx.report(d);
        }
        // A weak bool takes the first operand's type, then types promote.
        let mut dtype = Tensor::weak_scalar(DType::Bool);
        for t in &self.tensors {
            dtype.dtype = promote(&dtype, t);
            dtype.weak &= t.weak;
        }
        Ok(Type::Tensor(Tensor::new(dtype.dtype, shape)))
    }

    /// Binds every operand's labels to its axes, and its `...` to the rest.
    fn bind(&self, cx: &Checker) -> Result<(Vec<Label<'_>>, Vec<EllipsisPart>), Diagnostic> {
        let mut labels: Vec<Label> = Vec::new();
        let mut parts = Vec::new();
        let mut misfits = Vec::new();
        for (operand, (spec, tensor)) in self.spec.operands.iter().zip(&self.tensors).enumerate() {
            let Some((bound, part)) = bind_operand(spec, &tensor.shape) else {
                misfits.push(operand);
                continue;
            };
            if let Some((range, items)) = part {
                parts.push(EllipsisPart {
                    operand,
                    range,
                    items,
                });
            }
            for (name, range, axis) in bound {
                let use_ = Use {
                    operand,
                    range,
                    axis,
                };
                match labels.iter_mut().find(|l| l.name == name) {
                    Some(label) => label.uses.push(use_),
                    None => labels.push(Label {
                        name,
                        dim: dim_axis(cx, name),
                        uses: vec![use_],
                    }),
                }
            }
        }
        if misfits.is_empty() {
            Ok((labels, parts))
        } else {
            Err(self.rank_error(&misfits))
        }
    }

    /// A diagnostic whose message is the spec then `detail`, whose primary
    /// span is the first note's, with a label on each operand in `operands`
    /// saying its shape.
    fn diagnostic(
        &self,
        code: Code,
        detail: String,
        notes: Vec<(Span, String)>,
        mut operands: Vec<usize>,
    ) -> Diagnostic {
        let primary = notes
            .first()
            .map_or(self.pattern.literal, |(span, _)| *span);
        let message = format!("einsum `{}`{detail}", self.pattern.shown());
        let mut d = Diagnostic::new(code, primary, message);
        for (span, note) in notes {
            d = d.label(span, note);
        }
        operands.sort_unstable();
        operands.dedup();
        for o in operands {
            let span = self.args.get(o).map_or(self.pattern.literal, |a| a.span);
            d = d.label(span, self.shape(o).to_string());
        }
        d
    }

    fn shape(&self, operand: usize) -> &str {
        self.shapes.get(operand).map_or("[]", String::as_str)
    }

    /// Operands whose labels do not fit their shapes.
    fn rank_error(&self, misfits: &[usize]) -> Diagnostic {
        let (mut sentences, mut helps, mut notes) = (Vec::new(), Vec::new(), Vec::new());
        for &o in misfits {
            let (Some(spec), Some(tensor)) = (self.spec.operands.get(o), self.tensors.get(o))
            else {
                continue;
            };
            let text = self.pattern.slice(spec.range.clone());
            let (n, shape, named) = (o + 1, self.shape(o), spec.labels().count());
            let ellipsis = spec.ellipsis().is_some();
            let at_least = if ellipsis { "at least " } else { "" };
            let axes = match tensor.rank() {
                Some(rank) => plural(rank, "axis"),
                None => "a variadic run of axes".to_string(),
            };
            sentences.push(format!(
                "operand {n} has {axes} {shape} but `{text}` names {at_least}{named}"
            ));
            helps.push(match tensor.rank() {
                None => {
                    format!("write `...` for the run of operand {n}, and label the axes outside it")
                }
                Some(rank) if rank > named && !ellipsis => {
                    let sep = if self.spec.word_form { " " } else { "" };
                    format!(
                        "write {rank} labels for operand {n}, or `...` for the axes you do not \
                         name: `...{sep}{text}`"
                    )
                }
                Some(rank) if ellipsis => {
                    format!("label at most {} of operand {n}", plural(rank, "axis"))
                }
                Some(rank) => format!("write {} for operand {n}", plural(rank, "label")),
            });
            let names = format!("names {at_least}{}", plural(named, "axis"));
            notes.push((self.pattern.span(spec.range.clone()), names));
            if let Some(arg) = self.args.get(o) {
                notes.push((arg.span, format!("{shape}: {axes}")));
            }
        }
        let detail = format!(": {}", sentences.join("; "));
        self.diagnostic(Code::EinsumSpec, detail, notes, Vec::new())
            .help(helps.join("; "))
    }

    /// One diagnostic about `labels`, each described by `sentence`, with
    /// a note on every use inside the spec and on every operand involved.
    fn about_labels(
        &self,
        cx: &Checker,
        code: Code,
        labels: &[&Label],
        sentence: impl Fn(&Label) -> String,
    ) -> Diagnostic {
        let mut notes = Vec::new();
        let mut operands = Vec::new();
        for label in labels {
            for u in &label.uses {
                let axis = show_axis(&u.axis, cx);
                let note = format!("`{}` is {axis} in operand {}", label.name, u.operand + 1);
                notes.push((self.pattern.span(u.range.clone()), note));
                operands.push(u.operand);
            }
        }
        let sentences: Vec<String> = labels.iter().map(|l| sentence(l)).collect();
        let detail = format!(
            "{}: {}",
            self.operand_shapes(&operands),
            sentences.join("; ")
        );
        self.diagnostic(code, detail, notes, operands)
    }

    fn contraction_error(&self, cx: &Checker, conflicts: &[&Label]) -> Diagnostic {
        let d = self.about_labels(cx, Code::Contraction, conflicts, |label| {
            let name = label.name;
            match &label.dim {
                Some(dim) => {
                    let sizes: Vec<String> = label
                        .misfits()
                        .map(|u| cx.show_size(&u.axis.size))
                        .collect();
                    let dim = show_axis(dim, cx);
                    let sizes = join_and(&sizes);
                    format!("label `{name}` is the dim {dim}, but is bound to size {sizes}")
                }
                None => {
                    let sizes: Vec<String> = label
                        .uses
                        .iter()
                        .map(|u| cx.show_size(&u.axis.size))
                        .collect();
                    format!("label `{name}` is bound to sizes {}", join_and(&sizes))
                }
            }
        });
        let dim_label = conflicts
            .iter()
            .find_map(|l| Some((l.name, l.dim.as_ref()?)));
        match dim_label {
            Some((name, dim)) => d.help(format!(
                "`{name}` is a declared dim, so it labels only axes of its size {}: use \
                 another label for the others",
                show_axis(dim, cx)
            )),
            None => d,
        }
    }

    /// " on [3, 4] and [5, 6]": the shapes of the given operands.
    fn operand_shapes(&self, operands: &[usize]) -> String {
        let shapes: Vec<String> = self
            .shapes
            .iter()
            .enumerate()
            .filter(|(o, _)| operands.contains(o))
            .map(|(_, shape)| shape.clone())
            .collect();
        format!(" on {}", shapes.join(" and "))
    }

    /// Broadcasts the operands' `...` parts together, as NumPy does.
    fn broadcast_ellipses(
        &self,
        cx: &Checker,
        parts: &[EllipsisPart],
    ) -> Result<Shape, Diagnostic> {
        let mut shape = Shape::new();
        for (i, part) in parts.iter().enumerate() {
            match broadcast(&shape, &part.items) {
                Ok(b) => shape = b.shape,
                Err(_) => {
                    let seen = parts.get(..=i).unwrap_or(parts);
                    let shown: Vec<String> =
                        seen.iter().map(|p| show_shape(&p.items, cx)).collect();
                    let mut notes: Vec<(Span, String)> = seen
                        .iter()
                        .zip(&shown)
                        .map(|(p, s)| (self.pattern.span(p.range.clone()), format!("`...` is {s}")))
                        .collect();
                    // The part that does not broadcast is the primary label.
                    notes.rotate_right(1);
                    let operands: Vec<usize> = seen.iter().map(|p| p.operand).collect();
                    let detail = format!(
                        "{}: the axes under `...` do not broadcast: {}",
                        self.operand_shapes(&operands),
                        shown.join(" with ")
                    );
                    let help = "the axes under `...` align from the right; each pair must be \
                                equal, or one of them 1";
                    return Err(self
                        .diagnostic(Code::Broadcast, detail, notes, operands)
                        .help(help));
                }
            }
        }
        Ok(shape)
    }

    fn name_warning(&self, cx: &Checker, mismatched: &[&Label]) -> Diagnostic {
        let d = self.about_labels(cx, Code::NameMismatch, mismatched, |label| {
            let names: Vec<String> = label.names().iter().map(|n| n.to_string()).collect();
            match &label.dim {
                Some(_) => format!(
                    "label `{}` is the dim {}, but is bound to axes named {}",
                    label.name,
                    label.name,
                    join_and(names.get(1..).unwrap_or(&[]))
                ),
                None => format!(
                    "label `{}` is bound to axes {}",
                    label.name,
                    join_and(&names)
                ),
            }
        });
        d.help(
            "if the axes really are the same, rename one with `rename(x, [...])`; \
             otherwise give them different labels",
        )
    }
}

/// One operand's labels bound to its axes (name, range in the spec, axis),
/// and its `...` with the axes it stands for.
type Binding<'s> = (
    Vec<(&'s str, Range<usize>, Axis)>,
    Option<(Range<usize>, Shape)>,
);

/// Binds an operand as NumPy does: the labels before `...` to the leading
/// axes, those after it to the trailing ones. `None` when they do not fit
/// the rank, or a label would name an axis inside a variadic run (whose
/// length is unknown, so a spec without `...` never fits one).
fn bind_operand<'s>(spec: &'s OperandSpec, shape: &[Item]) -> Option<Binding<'s>> {
    let split = spec
        .items
        .iter()
        .position(|item| matches!(item, SpecItem::Ellipsis { .. }));
    let (before, after) = match split {
        Some(i) => (spec.items.get(..i)?, spec.items.get(i + 1..)?),
        None => (&spec.items[..], &[][..]),
    };
    let fixed = shape.iter().all(|item| matches!(item, Item::Axis(_)));
    let named = before.len() + after.len();
    if named > shape.len() || (split.is_none() && (!fixed || named != shape.len())) {
        return None;
    }
    let (head, rest) = shape.split_at(before.len());
    let (middle, tail) = rest.split_at(rest.len() - after.len());
    let mut bound = Vec::with_capacity(named);
    for pair in before.iter().zip(head).chain(after.iter().zip(tail)) {
        let (SpecItem::Label { name, range }, Item::Axis(axis)) = pair else {
            return None;
        };
        bound.push((name.as_str(), range.clone(), axis.clone()));
    }
    let part = split
        .and_then(|i| spec.items.get(i))
        .map(|item| (item.range(), middle.to_vec()));
    Some((bound, part))
}

fn count_error(
    cx: &Checker,
    pattern: &PatternText,
    spec: &EinsumSpec,
    args: &[ArgRef],
    types: &[Type],
    call: Span,
) -> Diagnostic {
    let (want, got) = (spec.operands.len(), args.len());
    let inputs = match (spec.operands.first(), spec.operands.last()) {
        (Some(first), Some(last)) => first.range.start..last.range.end,
        _ => 0..pattern.text.len(),
    };
    let span = pattern.span(inputs);
    let (operands, tensors) = (plural(want, "operand"), plural(got, "tensor"));
    let message = format!(
        "einsum `{}` describes {operands}, but {tensors} given",
        pattern.shown()
    );
    let mut d = Diagnostic::new(Code::EinsumSpec, span, message).label(span, operands);
    for (i, (arg, ty)) in args.iter().zip(types).enumerate() {
        let shown = match ty {
            Type::Tensor(t) => cx.show_shape(&t.shape),
            other => cx.show(other),
        };
        let note = if i < want {
            shown
        } else {
            format!("{shown}: not in the spec")
        };
        d = d.label(arg.span, note);
    }
    if got < want {
        d.label(call, tensors).help(format!(
            "pass {} after the spec, one per comma-separated operand, or remove operands from it",
            plural(want, "tensor")
        ))
    } else {
        d.help(format!(
            "write one comma-separated group of labels per tensor: {tensors} need {got} groups"
        ))
    }
}

/// `1 axis`, `2 axes`, `3 labels`.
fn plural(n: usize, word: &str) -> String {
    match (n, word) {
        (1, _) => format!("1 {word}"),
        (_, "axis") => format!("{n} axes"),
        _ => format!("{n} {word}s"),
    }
}

/// `a`, `a and b`, `a, b and c`, each item once.
fn join_and(items: &[String]) -> String {
    let mut distinct: Vec<&str> = Vec::with_capacity(items.len());
    for item in items {
        if !distinct.contains(&item.as_str()) {
            distinct.push(item);
        }
    }
    match distinct.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.to_string(),
        None => String::new(),
    }
}

pub(super) static KERNELS: &[(&str, super::Kernel)] = &[("einsum", einsum_kernel)];

fn einsum_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let spec = b
        .get(0)
        .and_then(|e| match &e.kind {
            ExprKind::Str(text) => parse_einsum(text).ok(),
            _ => None,
        })
        .ok_or_else(|| internal(b.span, "an einsum spec the checker did not accept"))?;
    let dtype = ev.out_dtype(b);
    let mut operands = Vec::with_capacity(b.rest(1).len());
    for arg in b.rest(1) {
        operands.push(ev.tensor(arg.value)?.cast(dtype));
    }
    let shapes: Vec<&[usize]> = operands.iter().map(rt::Tensor::shape).collect();
    let plan = Plan::new(&spec, &shapes)
        .ok_or_else(|| internal(b.span, "an einsum spec that does not fit its operands"))?;
    let failed = |what: &str| internal(b.span, what);
    macro_rules! arrays {
        ($variant:ident, $convert:expr) => {
            operands
                .iter()
                .map(|t| match t {
                    rt::Tensor::$variant(a) => Some($convert(a)),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| failed("an einsum operand of another element type"))?
        };
    }
    let result = match dtype {
        DType::F32 => rt::Tensor::F32(plan.run(arrays!(F32, Array::clone)).map_err(failed)?),
        DType::F64 => rt::Tensor::F64(plan.run(arrays!(F64, Array::clone)).map_err(failed)?),
        // Integer sums wrap, as NumPy's do.
        DType::I64 => {
            let wrapping = |a: &Array<i64>| a.mapv(Wrapping).into_shared();
            let product = plan.run(arrays!(I64, wrapping)).map_err(failed)?;
            rt::Tensor::I64(product.mapv(|w| w.0).into_shared())
        }
        DType::Bool => return Err(failed("einsum on bool")),
    };
    Ok(Value::Tensor(standard(result)))
}

/// An axis label at run time: a spec label, by its index among the
/// spec's labels, or the k-th axis under `...` counted from the right,
/// which every operand's `...` shares as NumPy broadcasts them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum AxisLabel {
    Named(usize),
    Batch(usize),
}

/// What an einsum computes: each operand's axis labels, and the output's.
struct Plan {
    inputs: Vec<Vec<AxisLabel>>,
    output: Vec<AxisLabel>,
}

/// An operand, or a partial product, with the label of each axis.
struct Term<T> {
    array: Array<T>,
    labels: Vec<AxisLabel>,
}

impl<T> Term<T> {
    fn position(&self, label: AxisLabel) -> Option<usize> {
        self.labels.iter().position(|l| *l == label)
    }

    fn size(&self, label: AxisLabel) -> usize {
        self.position(label)
            .and_then(|i| self.array.shape().get(i))
            .copied()
            .unwrap_or(1)
    }
}

fn label_of<'s>(names: &mut Vec<&'s str>, name: &'s str) -> AxisLabel {
    match names.iter().position(|n| *n == name) {
        Some(i) => AxisLabel::Named(i),
        None => {
            names.push(name);
            AxisLabel::Named(names.len() - 1)
        }
    }
}

impl Plan {
    /// Labels every axis of operands of `shapes`; `None` if the spec does
    /// not fit them (which the checker excludes).
    fn new(spec: &EinsumSpec, shapes: &[&[usize]]) -> Option<Plan> {
        if spec.operands.len() != shapes.len() {
            return None;
        }
        let mut names: Vec<&str> = Vec::new();
        let mut inputs = Vec::with_capacity(shapes.len());
        let mut batch_rank = 0;
        for (operand, shape) in spec.operands.iter().zip(shapes) {
            let named = operand.labels().count();
            let batch = match operand.ellipsis() {
                Some(_) => shape.len().checked_sub(named)?,
                None if named == shape.len() => 0,
                None => return None,
            };
            batch_rank = batch_rank.max(batch);
            let mut labels = Vec::with_capacity(shape.len());
            for item in &operand.items {
                match item {
                    SpecItem::Label { name, .. } => labels.push(label_of(&mut names, name)),
                    SpecItem::Ellipsis { .. } => {
                        labels.extend((0..batch).rev().map(AxisLabel::Batch))
                    }
                }
            }
            inputs.push(labels);
        }
        let written = spec.output.clone();
        let output_spec = written.unwrap_or_else(|| implicit_output(spec));
        let mut output = Vec::with_capacity(output_spec.items.len());
        for item in &output_spec.items {
            match item {
                SpecItem::Label { name, .. } => {
                    let i = names.iter().position(|n| n == name)?;
                    output.push(AxisLabel::Named(i));
                }
                SpecItem::Ellipsis { .. } => {
                    output.extend((0..batch_rank).rev().map(AxisLabel::Batch));
                }
            }
        }
        Some(Plan { inputs, output })
    }

    /// The labels still needed once operand `done` is folded in: the
    /// output's and those of the operands after it.
    fn needed_after(&self, done: usize) -> Vec<AxisLabel> {
        let rest = self.inputs.get(done + 1..).unwrap_or(&[]);
        let mut needed = self.output.clone();
        needed.extend(rest.iter().flatten());
        needed
    }

    /// Contracts the operands left to right, pairwise, each pair as one
    /// batched matrix product.
    fn run<T: LinalgScalar>(&self, arrays: Vec<Array<T>>) -> Result<Array<T>, &'static str> {
        let mut terms = arrays.into_iter().zip(&self.inputs).map(|(array, labels)| {
            diagonals(Term {
                array,
                labels: labels.clone(),
            })
        });
        let mut acc = terms.next().ok_or("an einsum without operands")??;
        for (i, term) in terms.enumerate() {
            acc = contract(acc, term?, &self.needed_after(i + 1))?;
        }
        let acc = sum_unless(acc, |l| self.output.contains(&l));
        let order = self
            .output
            .iter()
            .map(|&l| acc.position(l))
            .collect::<Option<Vec<usize>>>()
            .filter(|order| order.len() == acc.labels.len())
            .ok_or("an einsum output label missing from the product")?;
        Ok(acc.array.permuted_axes(IxDyn(&order)))
    }
}

/// A term with each label repeated within it replaced by the diagonal
/// (`"ii->i"`), the diagonal's axis last.
fn diagonals<T: Clone>(mut term: Term<T>) -> Result<Term<T>, &'static str> {
    while let Some((p, q)) = repeated(&term.labels) {
        let shape = term.array.shape();
        let n = shape[p];
        if shape[q] != n {
            return Err("an einsum diagonal of unequal sizes");
        }
        let mut rest: Vec<usize> = shape.to_vec();
        rest.remove(q);
        rest.remove(p);
        let views: Vec<ArrayViewD<T>> = (0..n)
            .map(|i| {
                term.array
                    .index_axis(NdAxis(q), i)
                    .index_axis_move(NdAxis(p), i)
            })
            .collect();
        let array = if n == 0 {
            rest.push(0);
            Array::from_shape_vec(IxDyn(&rest), Vec::new())
        } else {
            ndarray::stack(NdAxis(rest.len()), &views).map(|a| a.into_shared())
        };
        term.array = array.map_err(|_| "an einsum diagonal ndarray refused")?;
        let label = term.labels.remove(q);
        term.labels.remove(p);
        term.labels.push(label);
    }
    Ok(term)
}

/// The first pair of axes with the same label, if any.
fn repeated(labels: &[AxisLabel]) -> Option<(usize, usize)> {
    (0..labels.len()).find_map(|q| (0..q).find(|&p| labels[p] == labels[q]).map(|p| (p, q)))
}

/// Sums the axes whose labels `keep` rejects.
fn sum_unless<T: LinalgScalar>(mut term: Term<T>, keep: impl Fn(AxisLabel) -> bool) -> Term<T> {
    for k in (0..term.labels.len()).rev() {
        if !keep(term.labels[k]) {
            term.array = term.array.sum_axis(NdAxis(k)).into_shared();
            term.labels.remove(k);
        }
    }
    term
}

/// The product of two terms, summed over the labels they share that are
/// not `later` needed; their other labels follow: shared, then `a`'s
/// own, then `b`'s own.
fn contract<T: LinalgScalar>(
    a: Term<T>,
    b: Term<T>,
    later: &[AxisLabel],
) -> Result<Term<T>, &'static str> {
    let mut a = sum_unless(a, |l| later.contains(&l) || b.labels.contains(&l));
    let mut b = sum_unless(b, |l| later.contains(&l) || a.labels.contains(&l));
    // A summed `...` axis of size 1 broadcast against n: the sum factors,
    // so b is summed alone and a's unit axis dropped (or the reverse).
    for label in a.labels.clone() {
        let (Some(i), Some(j)) = (a.position(label), b.position(label)) else {
            continue;
        };
        let (m, n) = (a.array.shape()[i], b.array.shape()[j]);
        if later.contains(&label) || m == n {
            continue;
        }
        let (unit, other, k) = match (m, n) {
            (1, _) => (&mut a, &mut b, j),
            (_, 1) => (&mut b, &mut a, i),
            _ => return Err("einsum axes of different sizes"),
        };
        let u = unit.position(label).ok_or("an einsum label lost")?;
        unit.array = unit.array.clone().index_axis_move(NdAxis(u), 0);
        unit.labels.remove(u);
        other.array = other.array.sum_axis(NdAxis(k)).into_shared();
        other.labels.remove(k);
    }
    let shared = |l: &&AxisLabel| b.labels.contains(l);
    let batch: Vec<AxisLabel> = a
        .labels
        .iter()
        .filter(shared)
        .filter(|l| later.contains(l))
        .copied()
        .collect();
    let summed: Vec<AxisLabel> = a
        .labels
        .iter()
        .filter(shared)
        .filter(|l| !later.contains(l))
        .copied()
        .collect();
    let a_own: Vec<AxisLabel> = a
        .labels
        .iter()
        .filter(|l| !b.labels.contains(l))
        .copied()
        .collect();
    let b_own: Vec<AxisLabel> = b
        .labels
        .iter()
        .filter(|l| !a.labels.contains(l))
        .copied()
        .collect();
    let mut batch_shape = Vec::with_capacity(batch.len());
    for &l in &batch {
        batch_shape.push(match (a.size(l), b.size(l)) {
            (m, n) if m == n || n == 1 => m,
            (1, n) => n,
            _ => return Err("einsum axes of different sizes"),
        });
    }
    let sizes = |t: &Term<T>, labels: &[AxisLabel]| -> Vec<usize> {
        labels.iter().map(|&l| t.size(l)).collect()
    };
    let (a_sizes, b_sizes) = (sizes(&a, &a_own), sizes(&b, &b_own));
    let product = |s: &[usize]| s.iter().try_fold(1usize, |p, &n| p.checked_mul(n));
    let too_large = "an einsum product too large";
    let count = product(&batch_shape).ok_or(too_large)?;
    let m = product(&a_sizes).ok_or(too_large)?;
    let k = product(&sizes(&a, &summed)).ok_or(too_large)?;
    let n = product(&b_sizes).ok_or(too_large)?;
    let nonzero = [count, m, n]
        .iter()
        .try_fold(1usize, |p, &s| p.checked_mul(s.max(1)));
    if nonzero.is_none_or(|p| p > isize::MAX as usize) {
        return Err(too_large);
    }
    let lhs = matrices(&a, &batch, &batch_shape, [&a_own, &summed], (count, m, k))?;
    let rhs = matrices(&b, &batch, &batch_shape, [&summed, &b_own], (count, k, n))?;
    let mut out = Array3::<T>::zeros((count, m, n));
    for i in 0..count {
        let product = lhs
            .index_axis(NdAxis(0), i)
            .dot(&rhs.index_axis(NdAxis(0), i));
        out.index_axis_mut(NdAxis(0), i).assign(&product);
    }
    let mut shape = batch_shape;
    shape.extend(a_sizes);
    shape.extend(b_sizes);
    let array = out
        .into_dyn()
        .into_shape_with_order(IxDyn(&shape))
        .map_err(|_| "an einsum product shape ndarray refused")?
        .into_shared();
    let mut labels = batch;
    labels.extend(a_own);
    labels.extend(b_own);
    Ok(Term { array, labels })
}

/// A term's axes ordered as `batch` then the two groups, the batch axes
/// broadcast to `batch_shape`, as a stack of `dims` matrices (a copy).
fn matrices<T: Clone>(
    t: &Term<T>,
    batch: &[AxisLabel],
    batch_shape: &[usize],
    [rows, cols]: [&[AxisLabel]; 2],
    dims: (usize, usize, usize),
) -> Result<Array3<T>, &'static str> {
    let order = batch
        .iter()
        .chain(rows)
        .chain(cols)
        .map(|&l| t.position(l))
        .collect::<Option<Vec<usize>>>()
        .filter(|order| order.len() == t.labels.len())
        .ok_or("an einsum operand whose labels do not fit")?;
    let view = t.array.view().permuted_axes(IxDyn(&order));
    let mut full = batch_shape.to_vec();
    full.extend(view.shape().get(batch.len()..).unwrap_or(&[]));
    let broadcast = view
        .broadcast(IxDyn(&full))
        .ok_or("einsum batch axes that do not broadcast")?;
    let stacked = broadcast
        .to_shape(dims)
        .map_err(|_| "an einsum operand shape ndarray refused")?;
    Ok(stacked.into_owned())
}
