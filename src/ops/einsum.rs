//! `einsum(spec, x1, x2, ...)` (LANGUAGE.md section 5, "einsum"): each
//! label of the spec is bound to its operands' axes, a label means one size
//! everywhere (a dim label its dim's size), the `...` parts broadcast as in
//! NumPy, and the output is built from the output labels. The spec's syntax
//! is `check::rules::einsum_spec`'s; diagnostics point inside the spec.
//!
//! Also home of [`PatternText`], which einops patterns share.

use std::ops::Range;

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
    /// The size every use must have.
    fn size(&self) -> Option<&Size> {
        match &self.dim {
            Some(dim) => Some(&dim.size),
            None => self.uses.first().map(|u| &u.axis.size),
        }
    }

    fn has_size_conflict(&self) -> bool {
        let size = self.size();
        self.uses.iter().any(|u| Some(&u.axis.size) != size)
    }

    /// The distinct names of the label's axes (a dim label's own first).
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

    /// The output axis: a dim label's dim, else the first named use.
    fn output_axis(&self) -> Option<Axis> {
        if let Some(dim) = &self.dim {
            return Some(dim.clone());
        }
        let first = self.uses.first()?;
        let name = self.uses.iter().find_map(|u| u.axis.name.clone());
        Some(Axis {
            size: first.axis.size.clone(),
            name,
        })
    }
}

/// A `...` of an operand and the axes it stands for.
struct EllipsisPart {
    operand: usize,
    range: Range<usize>,
    items: Shape,
}

/// An operand whose labels do not fit its shape.
struct RankMismatch {
    operand: usize,
    /// The shape has a variadic run where labels would have to name axes.
    run: bool,
}

/// The operands of one call, their shapes shown once.
struct Call<'a> {
    pattern: PatternText<'a>,
    spec: EinsumSpec,
    args: &'a [ArgRef<'a>],
    tensors: Vec<Tensor>,
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
    if let Some((t, arg)) = tensors.iter().zip(args).find(|(t, _)| t.dtype == DType::Bool) {
        let shown = cx.show(&Type::Tensor(t.clone()));
        return cx.fail(
            Diagnostic::new(Code::Dtype, arg.span, "einsum does not take bool tensors")
                .label(arg.span, shown)
                .help("cast it first, e.g. `f32(x)`"),
        );
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
    fn result(&self, cx: &mut Checker) -> Result<Type, Diagnostic> {
        let (labels, parts) = self.bind(cx)?;
        let conflicts: Vec<&Label> = labels.iter().filter(|l| l.has_size_conflict()).collect();
        if !conflicts.is_empty() {
            return Err(self.contraction_error(cx, &conflicts));
        }
        let broadcast_shape = self.broadcast_ellipses(cx, &parts)?;
        let output = match &self.spec.output {
            Some(output) => output.clone(),
            None => implicit_output(&self.spec),
        };
        let mut shape = Shape::with_capacity(output.items.len());
        for item in &output.items {
            match item {
                SpecItem::Ellipsis { .. } => shape.extend(broadcast_shape.iter().cloned()),
                SpecItem::Label { name, range } => {
                    let axis = labels
                        .iter()
                        .find(|l| l.name == name)
                        .and_then(Label::output_axis);
                    match axis {
                        Some(axis) => shape.push(Item::Axis(axis)),
                        None => {
                            return Ok(cx.internal(
                                self.pattern.span(range.clone()),
                                "an einsum output label has no input axis",
                            ))
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
        let dtype = self.tensors.iter().skip(1).fold(
            self.tensors.first().map_or(DType::F32, |t| t.dtype),
            |dtype, t| promote(&Tensor::new(dtype, Vec::new()), t),
        );
        Ok(Type::Tensor(Tensor::new(dtype, shape)))
    }

    /// Binds every operand's labels to its axes, and its `...` to the rest.
    fn bind(&self, cx: &Checker) -> Result<(Vec<Label<'_>>, Vec<EllipsisPart>), Diagnostic> {
        let mut labels: Vec<Label> = Vec::new();
        let mut parts = Vec::new();
        let mut mismatches = Vec::new();
        for (operand, (spec, tensor)) in self.spec.operands.iter().zip(&self.tensors).enumerate() {
            let (bound, part) = match bind_operand(spec, &tensor.shape) {
                Ok(bound) => bound,
                Err(run) => {
                    mismatches.push(RankMismatch { operand, run });
                    continue;
                }
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
        if mismatches.is_empty() {
            Ok((labels, parts))
        } else {
            Err(self.rank_error(&mismatches))
        }
    }

    fn operand_text(&self, operand: usize) -> (&str, Span) {
        let range = self
            .spec
            .operands
            .get(operand)
            .map_or(0..0, |spec| spec.range.clone());
        (self.pattern.slice(range.clone()), self.pattern.span(range))
    }

    fn arg_span(&self, operand: usize) -> Span {
        self.args.get(operand).map_or(self.pattern.literal, |a| a.span)
    }

    fn shape(&self, operand: usize) -> &str {
        self.shapes.get(operand).map_or("[]", String::as_str)
    }

    fn rank_error(&self, mismatches: &[RankMismatch]) -> Diagnostic {
        let mut sentences = Vec::new();
        let mut helps = Vec::new();
        let mut labels = Vec::new();
        for m in mismatches {
            let (text, text_span) = self.operand_text(m.operand);
            let spec = self.spec.operands.get(m.operand);
            let has_ellipsis = spec.is_some_and(|s| s.ellipsis().is_some());
            let named = spec.map_or(0, |s| s.labels().count());
            let rank = self.tensors.get(m.operand).map_or(0, |t| t.shape.len());
            let shape = self.shape(m.operand);
            let n = m.operand + 1;
            let at_least = if has_ellipsis { "at least " } else { "" };
            if m.run {
                sentences.push(format!(
                    "operand {n} {shape} has a variadic run of axes where `{text}` names axes"
                ));
                helps.push(format!(
                    "use `...` for the run in operand {n}, and label only the axes outside it"
                ));
            } else {
                sentences.push(format!(
                    "operand {n} has {rank} axes {shape} but `{text}` names {at_least}{named}"
                ));
                helps.push(if rank > named && !has_ellipsis {
                    let sep = if self.spec.word_form { " " } else { "" };
                    format!(
                        "write {rank} labels for operand {n} {shape}, or `...` for the axes \
                         you do not name: `...{sep}{text}`"
                    )
                } else {
                    format!("write {at_least}{rank} labels for operand {n} {shape}")
                });
            }
            labels.push((text_span, format!("names {at_least}{named} axes")));
            labels.push((self.arg_span(m.operand), format!("{shape}: {rank} axes")));
        }
        let primary = labels.first().map_or(self.pattern.literal, |(span, _)| *span);
        let mut d = Diagnostic::new(
            Code::EinsumSpec,
            primary,
            format!("einsum `{}`: {}", self.pattern.shown(), sentences.join("; ")),
        );
        for (span, note) in labels {
            d = d.label(span, note);
        }
        d.help(helps.join("; "))
    }

    fn contraction_error(&self, cx: &Checker, conflicts: &[&Label]) -> Diagnostic {
        let mut sentences = Vec::new();
        let mut labels: Vec<(Span, String)> = Vec::new();
        let mut operands: Vec<usize> = Vec::new();
        let mut help = None;
        for label in conflicts {
            let name = label.name;
            let mut sizes: Vec<String> = Vec::new();
            for u in &label.uses {
                let size = cx.show_size(&u.axis.size);
                if !sizes.contains(&size) {
                    sizes.push(size);
                }
                let axis = show_axis(&u.axis, cx);
                let note = format!("`{name}` is {axis} in operand {}", u.operand + 1);
                labels.push((self.pattern.span(u.range.clone()), note));
                if !operands.contains(&u.operand) {
                    operands.push(u.operand);
                }
            }
            sentences.push(match &label.dim {
                Some(dim) => {
                    let dim = show_axis(dim, cx);
                    help.get_or_insert(format!(
                        "`{name}` is a declared dim, so it labels axes of size {dim} only: \
                         use another label for the other axes"
                    ));
                    format!(
                        "label `{name}` is the dim {dim} but is bound to sizes {}",
                        sizes.join(", ")
                    )
                }
                None => format!(
                    "label `{name}` is bound to sizes {}",
                    join_and(&sizes)
                ),
            });
        }
        operands.sort_unstable();
        let shapes: Vec<&str> = operands.iter().map(|&o| self.shape(o)).collect();
        let primary = labels.first().map_or(self.pattern.literal, |(span, _)| *span);
        let mut d = Diagnostic::new(
            Code::Contraction,
            primary,
            format!(
                "einsum `{}` on {}: {}",
                self.pattern.shown(),
                shapes.join(" and "),
                sentences.join("; ")
            ),
        );
        for (span, note) in labels {
            d = d.label(span, note);
        }
        for &o in &operands {
            d = d.label(self.arg_span(o), self.shape(o).to_string());
        }
        match help {
            Some(help) => d.help(help),
            None => d,
        }
    }

    /// Broadcasts the operands' `...` parts together, as NumPy does.
    fn broadcast_ellipses(&self, cx: &Checker, parts: &[EllipsisPart]) -> Result<Shape, Diagnostic> {
        let mut shape = Shape::new();
        for (i, part) in parts.iter().enumerate() {
            match broadcast(&shape, &part.items) {
                Ok(b) => shape = b.shape,
                Err(_) => {
                    let seen = parts.get(..=i).unwrap_or(parts);
                    let shown: Vec<String> =
                        seen.iter().map(|p| show_shape(&p.items, cx)).collect();
                    let span = self.pattern.span(part.range.clone());
                    let mut d = Diagnostic::new(
                        Code::Broadcast,
                        span,
                        format!(
                            "einsum `{}`: the axes under `...` do not broadcast: {}",
                            self.pattern.shown(),
                            shown.join(" with ")
                        ),
                    );
                    d = d.label(span, format!("`...` is {}", show_shape(&part.items, cx)));
                    for (p, s) in seen.iter().zip(&shown).filter(|(p, _)| p.range != part.range)
                    {
                        d = d.label(self.pattern.span(p.range.clone()), format!("`...` is {s}"));
                    }
                    for p in seen {
                        d = d.label(self.arg_span(p.operand), self.shape(p.operand).to_string());
                    }
                    return Err(d.help(
                        "the axes `...` stands for align from the right; each pair must be \
                         equal, or one of them 1",
                    ));
                }
            }
        }
        Ok(shape)
    }

    fn name_warning(&self, cx: &Checker, mismatched: &[&Label]) -> Diagnostic {
        let mut sentences = Vec::new();
        let mut labels: Vec<(Span, String)> = Vec::new();
        let mut operands: Vec<usize> = Vec::new();
        for label in mismatched {
            let names: Vec<String> = label.names().iter().map(|n| n.to_string()).collect();
            sentences.push(match &label.dim {
                Some(_) => format!(
                    "label `{}` is the dim {} but is bound to axes named {}",
                    label.name,
                    label.name,
                    join_and(names.get(1..).unwrap_or(&[]))
                ),
                None => format!("label `{}` is bound to axes {}", label.name, join_and(&names)),
            });
            for u in &label.uses {
                let note = format!("`{}` is {}", label.name, show_axis(&u.axis, cx));
                labels.push((self.pattern.span(u.range.clone()), note));
                if !operands.contains(&u.operand) {
                    operands.push(u.operand);
                }
            }
        }
        operands.sort_unstable();
        let primary = labels.first().map_or(self.pattern.literal, |(span, _)| *span);
        let mut d = Diagnostic::new(
            Code::NameMismatch,
            primary,
            format!("einsum `{}`: {}", self.pattern.shown(), sentences.join("; ")),
        );
        for (span, note) in labels {
            d = d.label(span, note);
        }
        for &o in &operands {
            d = d.label(self.arg_span(o), self.shape(o).to_string());
        }
        d.help(
            "if the axes really are the same, rename one with `rename(x, [...])`; \
             otherwise give them different labels",
        )
    }
}

/// The labels of one operand bound to its axes (name, range in the spec,
/// axis) and its `...` with the axes it stands for. `Err(run)` when the
/// labels do not fit the shape: `run` when a label would fall inside a
/// variadic run, or the rank is unknown for lack of `...`.
type Binding<'s> = (Vec<(&'s str, Range<usize>, Axis)>, Option<(Range<usize>, Shape)>);

fn bind_operand<'s>(spec: &'s OperandSpec, shape: &[Item]) -> Result<Binding<'s>, bool> {
    let split = spec
        .items
        .iter()
        .position(|item| matches!(item, SpecItem::Ellipsis { .. }));
    let (before, after) = match split {
        Some(i) => (
            spec.items.get(..i).unwrap_or(&[]),
            spec.items.get(i + 1..).unwrap_or(&[]),
        ),
        None => (&spec.items[..], &[][..]),
    };
    let fixed = shape.iter().all(|item| matches!(item, Item::Axis(_)));
    let named = before.len() + after.len();
    if split.is_none() && !fixed {
        return Err(true);
    }
    if named > shape.len() || (split.is_none() && named != shape.len()) {
        return Err(false);
    }
    let tail = shape.len() - after.len();
    let (head_items, rest) = shape.split_at(before.len());
    let (middle, tail_items) = rest.split_at(tail - before.len());
    let mut bound = Vec::with_capacity(named);
    let pairs = before.iter().zip(head_items).chain(after.iter().zip(tail_items));
    for (item, shape_item) in pairs {
        let (SpecItem::Label { name, range }, Item::Axis(axis)) = (item, shape_item) else {
            return Err(true);
        };
        bound.push((name.as_str(), range.clone(), axis.clone()));
    }
    let part = split
        .and_then(|i| spec.items.get(i))
        .map(|item| (item.range(), middle.to_vec()));
    Ok((bound, part))
}

/// `a`, `a and b`, `a, b and c`.
fn join_and(items: &[String]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

fn count_error(
    cx: &Checker,
    pattern: &PatternText,
    spec: &EinsumSpec,
    args: &[ArgRef],
    types: &[Type],
    call: Span,
) -> Diagnostic {
    let want = spec.operands.len();
    let got = args.len();
    let inputs = match (spec.operands.first(), spec.operands.last()) {
        (Some(first), Some(last)) => first.range.start..last.range.end,
        _ => 0..pattern.text.len(),
    };
    let span = pattern.span(inputs.clone());
    let texts: Vec<String> = spec
        .operands
        .iter()
        .map(|o| format!("`{}`", pattern.slice(o.range.clone()).escape_debug()))
        .collect();
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let mut d = Diagnostic::new(
        Code::EinsumSpec,
        span,
        format!(
            "einsum `{}` describes {} ({}), but {} given",
            pattern.shown(),
            plural(want, "operand"),
            texts.join(", "),
            if got == 1 { "1 tensor is".to_string() } else { format!("{got} tensors are") }
        ),
    )
    .label(span, plural(want, "operand"));
    for (i, (arg, ty)) in args.iter().zip(types).enumerate() {
        let note = if i < want { cx.show(ty) } else { format!("{}: not in the spec", cx.show(ty)) };
        d = d.label(arg.span, note);
    }
    if got < want {
        d.label(call, plural(got, "tensor")).help(format!(
            "pass {} after the spec, one per comma-separated operand, or remove operands \
             from the spec",
            plural(want, "tensor")
        ))
    } else {
        d.help(format!(
            "write one comma-separated group of labels per tensor: {} need {} groups",
            plural(got, "tensor"),
            got
        ))
    }
}
