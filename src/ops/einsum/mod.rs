//! `einsum(spec, x1, x2, ...)` (LANGUAGE.md section 5, "einsum"): each
//! label of the spec is bound to its operands' axes, a label means one size
//! everywhere (a dim label its dim's size), the `...` parts broadcast as in
//! NumPy, and the output is built from the output labels. The spec's syntax
//! is `check::rules::einsum_spec`'s; diagnostics point inside the spec.
//!
//! Also home of [`PatternText`], which einops patterns share.

mod kernels;
mod pattern;
pub mod plan;

pub(crate) use kernels::einsum_values;
pub(super) use kernels::KERNELS;
pub(super) use pattern::{dim_axis, not_literal, PatternText};

use std::ops::Range;

use super::{ArgRef, Bound, Builtin, Param};
use crate::check::expr::promote;
use crate::check::rules::broadcast::broadcast;
use crate::check::rules::einsum_spec::{
    implicit_output, parse_einsum, EinsumSpec, OperandSpec, SpecItem,
};
use crate::check::types::{show_axis, show_shape, Axis, DType, Item, Name, Shape, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::source::Span;

pub(super) static BUILTINS: &[Builtin] = &[Builtin {
    name: "einsum",
    params: &[Param::Required("spec"), Param::Rest("operands")],
    rule: einsum,
}];

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
    let call = Call {
        pattern,
        spec,
        args,
        tensors,
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
            Err(self.rank_error(cx, &misfits))
        }
    }

    /// A diagnostic whose message is the spec then `detail`, whose primary
    /// span is the first note's, with a label on each operand in `operands`
    /// saying its shape.
    fn diagnostic(
        &self,
        cx: &Checker,
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
            d = d.label(span, self.shape(cx, o));
        }
        d
    }

    /// An operand's shape as printed, for diagnostics only: a call that
    /// checks prints nothing.
    fn shape(&self, cx: &Checker, operand: usize) -> String {
        self.tensors
            .get(operand)
            .map_or_else(|| "[]".to_string(), |t| cx.show_shape(&t.shape))
    }

    /// Operands whose labels do not fit their shapes.
    fn rank_error(&self, cx: &Checker, misfits: &[usize]) -> Diagnostic {
        let (mut sentences, mut helps, mut notes) = (Vec::new(), Vec::new(), Vec::new());
        for &o in misfits {
            let (Some(spec), Some(tensor)) = (self.spec.operands.get(o), self.tensors.get(o))
            else {
                continue;
            };
            let text = self.pattern.slice(spec.range.clone());
            let (n, shape, named) = (o + 1, self.shape(cx, o), spec.labels().count());
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
        self.diagnostic(cx, Code::EinsumSpec, detail, notes, Vec::new())
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
            self.operand_shapes(cx, &operands),
            sentences.join("; ")
        );
        self.diagnostic(cx, code, detail, notes, operands)
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
    fn operand_shapes(&self, cx: &Checker, operands: &[usize]) -> String {
        let shapes: Vec<String> = self
            .tensors
            .iter()
            .enumerate()
            .filter(|(o, _)| operands.contains(o))
            .map(|(_, t)| cx.show_shape(&t.shape))
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
                        self.operand_shapes(cx, &operands),
                        shown.join(" with ")
                    );
                    let help = "the axes under `...` align from the right; each pair must be \
                                equal, or one of them 1";
                    return Err(self
                        .diagnostic(cx, Code::Broadcast, detail, notes, operands)
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
