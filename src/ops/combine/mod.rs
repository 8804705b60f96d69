//! Ops that join, split or extend axes: concat, stack, split, pad, unfold.

mod kernels;

pub(super) use kernels::KERNELS;

use super::construct::size_axis;
use super::{Bound, Builtin, Param};
use crate::check::size::Size;
use crate::check::types::{show_axis, Axis, Item, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};

use Param::{Optional, Required};

pub(super) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "concat",
        params: &[Required("xs"), Optional("axis")],
        rule: concat,
    },
    Builtin {
        name: "stack",
        params: &[Required("xs"), Optional("axis")],
        rule: stack,
    },
    Builtin {
        name: "split",
        params: &[Required("x"), Required("sizes"), Optional("axis")],
        rule: split,
    },
    Builtin {
        name: "pad",
        params: &[Required("x"), Required("widths"), Optional("value")],
        rule: pad,
    },
    Builtin {
        name: "unfold",
        params: &[
            Required("x"),
            Required("axis"),
            Required("size"),
            Required("step"),
        ],
        rule: unfold,
    },
];

/// The tensors of a `[a, b, c]` argument with their spans.
fn tensor_list(cx: &mut Checker, e: Option<&Expr>, what: &str) -> Option<Vec<(Tensor, Span)>> {
    let e = e?;
    let ExprKind::List(items) = &e.kind else {
        cx.report(Diagnostic::new(
            Code::Arg,
            e.span,
            format!("`{what}` takes a list of tensors: `{what}([a, b], axis)`"),
        ));
        return None;
    };
    if items.is_empty() {
        cx.report(Diagnostic::new(
            Code::Arg,
            e.span,
            format!("`{what}` needs at least one tensor"),
        ));
        return None;
    }
    let tensors: Vec<Option<(Tensor, Span)>> = items
        .iter()
        .map(|i| cx.tensor_arg(i).map(|t| (t, i.span)))
        .collect();
    tensors.into_iter().collect()
}

/// The axes other than `skip` must agree in size and name (no stretching).
fn agree(
    cx: &mut Checker,
    parts: &[(Tensor, Span)],
    skip: Option<usize>,
    span: Span,
    what: &str,
) -> bool {
    let (first, first_span) = &parts[0];
    for (t, s) in &parts[1..] {
        let ok = t.shape.len() == first.shape.len()
            && t.shape
                .iter()
                .zip(&first.shape)
                .enumerate()
                .all(|(i, (a, b))| {
                    Some(i) == skip
                        || match (a, b) {
                            (Item::Axis(a), Item::Axis(b)) => {
                                a.size == b.size
                                    && (a.name.is_none() || b.name.is_none() || a.name == b.name)
                            }
                            (a, b) => a == b,
                        }
                });
        if !ok {
            let (fs, ts) = (cx.show_shape(&first.shape), cx.show_shape(&t.shape));
            cx.report(
                Diagnostic::new(
                    Code::Broadcast,
                    span,
                    format!("`{what}` needs matching axes, but {fs} and {ts} differ"),
                )
                .label(*first_span, fs)
                .label(*s, ts),
            );
            return false;
        }
    }
    true
}

fn concat(cx: &mut Checker, b: &Bound) -> Type {
    let Some(parts) = tensor_list(cx, b.get(0), "concat") else {
        return Type::Unknown;
    };
    let axis_expr = b.get(1);
    let mut index = None;
    for (t, _) in &parts {
        let i = match axis_expr {
            None => Ok(0),
            Some(e) => cx.axis_index(&t.shape, e),
        };
        match i {
            Ok(i) if index.is_none_or(|j| j == i) && i < t.shape.len() => index = Some(i),
            Ok(_) => {
                return cx.fail(Diagnostic::new(
                    Code::Axis,
                    b.span_of(1),
                    "the named axis is at different positions in the inputs",
                ))
            }
            Err(d) => return cx.fail(d),
        }
    }
    let Some(axis) = index else {
        return Type::Unknown;
    };
    if !agree(cx, &parts, Some(axis), b.span, "concat") {
        return Type::Unknown;
    }
    let mut total = Size::constant(0);
    for (t, _) in &parts {
        let Some(a) = t.shape[axis].axis() else {
            return cx.fail(Diagnostic::new(
                Code::Axis,
                b.span_of(1),
                "cannot concatenate along a variadic run",
            ));
        };
        match total.add(&a.size) {
            Ok(s) => total = s,
            Err(_) => return cx.fail(crate::check::limit_error(b.span, "the concatenated size")),
        }
    }
    let mut shape = parts[0].0.shape.clone();
    shape[axis] = Item::Axis(Axis::anon(total));
    let dtype = parts
        .iter()
        .map(|(t, _)| t.dtype)
        .max()
        .unwrap_or(parts[0].0.dtype);
    Type::Tensor(Tensor::new(dtype, shape))
}

fn stack(cx: &mut Checker, b: &Bound) -> Type {
    let Some(parts) = tensor_list(cx, b.get(0), "stack") else {
        return Type::Unknown;
    };
    let Some(axis) = cx.position_arg(b.get(1)) else {
        return Type::Unknown;
    };
    let rank = parts[0].0.shape.len() as i64;
    let at = if axis < 0 { axis + rank + 1 } else { axis };
    if !(0..=rank).contains(&at) {
        return cx.fail(Diagnostic::new(
            Code::Axis,
            b.span_of(1),
            format!("axis {axis} is out of range for stacking tensors of {rank} axes"),
        ));
    }
    if !agree(cx, &parts, None, b.span, "stack") {
        return Type::Unknown;
    }
    let mut shape = parts[0].0.shape.clone();
    shape.insert(
        at as usize,
        Item::Axis(Axis::anon(Size::constant(parts.len() as i64))),
    );
    let dtype = parts
        .iter()
        .map(|(t, _)| t.dtype)
        .max()
        .unwrap_or(parts[0].0.dtype);
    Type::Tensor(Tensor::new(dtype, shape))
}

fn split(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = b.get(0).and_then(|e| cx.tensor_arg(e)) else {
        return Type::Unknown;
    };
    let Some(sizes) = b.get(1) else {
        return Type::Unknown;
    };
    let ExprKind::List(items) = &sizes.kind else {
        return cx.fail(Diagnostic::new(
            Code::Arg,
            sizes.span,
            "`split` takes a list of sizes: `split(x, [2, 3], axis)`",
        ));
    };
    let axis = match b.get(1 + 1) {
        None => Ok(0),
        Some(e) => cx.axis_index(&x.shape, e),
    };
    let axis = match axis {
        Ok(a) if a < x.shape.len() => a,
        Ok(_) => {
            return cx.fail(Diagnostic::new(
                Code::Axis,
                b.span,
                "`split` needs a tensor with at least one axis",
            ))
        }
        Err(d) => return cx.fail(d),
    };
    let Some(whole) = x.shape[axis].axis().cloned() else {
        return cx.fail(Diagnostic::new(
            Code::Axis,
            b.span_of(2),
            "cannot split a variadic run",
        ));
    };
    let mut total = Size::constant(0);
    let mut parts = Vec::with_capacity(items.len());
    for item in items {
        let piece = match size_axis(cx, item) {
            Ok(a) => a,
            Err(d) => return cx.fail(d),
        };
        total = match total.add(&piece.size) {
            Ok(t) => t,
            Err(_) => return cx.fail(crate::check::limit_error(item.span, "this size")),
        };
        let mut shape = x.shape.clone();
        shape[axis] = Item::Axis(piece);
        parts.push(Type::Tensor(Tensor::new(x.dtype, shape)));
    }
    if total != whole.size {
        let shown = show_axis(&whole, cx);
        let sum = cx.show_size(&total);
        return cx.fail(
            Diagnostic::new(
                Code::Arg,
                sizes.span,
                format!(
                    "the split sizes sum to {sum}, but axis {shown} has {}",
                    cx.show_size(&whole.size)
                ),
            )
            .label(sizes.span, format!("sum {sum}"))
            .label(b.span_of(0), cx.show_shape(&x.shape)),
        );
    }
    Type::Tuple(parts)
}

fn pad(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = b.get(0).and_then(|e| cx.tensor_arg(e)) else {
        return Type::Unknown;
    };
    let Some(widths) = b.get(1) else {
        return Type::Unknown;
    };
    if cx.scalar_arg(b.get(2)).is_none() {
        return Type::Unknown;
    }
    let pair_error = |span: Span| {
        Diagnostic::new(
            Code::Arg,
            span,
            "`pad` takes pairs: `pad(x, [[before, after], ...])`",
        )
    };
    let ExprKind::List(rows) = &widths.kind else {
        return cx.fail(pair_error(widths.span));
    };
    let mut pairs = Vec::with_capacity(rows.len());
    for row in rows {
        let ExprKind::List(pair) = &row.kind else {
            return cx.fail(pair_error(row.span));
        };
        let [before, after] = pair.as_slice() else {
            return cx.fail(pair_error(row.span));
        };
        match (cx.static_size(before), cx.static_size(after)) {
            (Ok(a), Ok(z)) => pairs.push((a, z)),
            (Err(d), _) | (_, Err(d)) => return cx.fail(d),
        }
    }
    let rank = x.shape.len();
    if pairs.len() == 1 && rank > 1 {
        pairs = vec![pairs[0].clone(); rank];
    }
    if pairs.len() != rank {
        let shown = cx.show_shape(&x.shape);
        return cx.fail(
            Diagnostic::new(
                Code::Arg,
                widths.span,
                format!(
                    "`pad` needs one pair per axis of {shown} (or a single pair), found {}",
                    pairs.len()
                ),
            )
            .label(widths.span, format!("{} pairs", pairs.len())),
        );
    }
    let mut shape = Vec::with_capacity(rank);
    for (item, (before, after)) in x.shape.iter().zip(pairs) {
        let Item::Axis(a) = item else {
            shape.push(item.clone());
            continue;
        };
        if before.as_const().is_some_and(|v| v < 0) || after.as_const().is_some_and(|v| v < 0) {
            return cx.fail(Diagnostic::new(
                Code::Arg,
                widths.span,
                "pad widths cannot be negative",
            ));
        }
        if before.as_const() == Some(0) && after.as_const() == Some(0) {
            shape.push(item.clone());
            continue;
        }
        match a.size.add(&before).and_then(|s| s.add(&after)) {
            Ok(size) => shape.push(Item::Axis(Axis::anon(size))),
            Err(_) => return cx.fail(crate::check::limit_error(widths.span, "the padded size")),
        }
    }
    Type::Tensor(Tensor {
        shape,
        contiguous: true,
        weak: false,
        ..x
    })
}

fn unfold(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = b.get(0).and_then(|e| cx.tensor_arg(e)) else {
        return Type::Unknown;
    };
    let axis = match b.get(1).map(|e| cx.axis_index(&x.shape, e)) {
        Some(Ok(a)) => a,
        Some(Err(d)) => return cx.fail(d),
        None => return Type::Unknown,
    };
    let (Some(size_e), Some(step_e)) = (b.get(2), b.get(3)) else {
        return Type::Unknown;
    };
    let window = match size_axis(cx, size_e) {
        Ok(a) => a,
        Err(d) => return cx.fail(d),
    };
    let step = match cx.static_size(step_e) {
        Ok(s) => s,
        Err(d) => return cx.fail(d),
    };
    if step.as_const().is_some_and(|v| v <= 0) {
        return cx.fail(Diagnostic::new(
            Code::Arg,
            step_e.span,
            "the step of `unfold` must be positive",
        ));
    }
    let Some(length) = x.shape[axis].axis().cloned() else {
        return Type::Unknown;
    };
    let windows = length
        .size
        .sub(&window.size)
        .and_then(|d| d.floor_div(&step))
        .and_then(|q| q.add(&Size::constant(1)));
    let windows = match windows {
        Ok(w) if w.as_const().is_some_and(|v| v < 1) => {
            let (l, w) = (show_axis(&length, cx), show_axis(&window, cx));
            return cx.fail(
                Diagnostic::new(
                    Code::Arg,
                    size_e.span,
                    format!("a window of {w} does not fit in axis {l}"),
                )
                .label(size_e.span, format!("window {w}")),
            );
        }
        Ok(w) => w,
        Err(_) => cx.fresh_size(),
    };
    let mut shape = x.shape.clone();
    shape[axis] = Item::Axis(Axis::anon(windows));
    shape.push(Item::Axis(window));
    Type::Tensor(Tensor {
        shape,
        contiguous: false,
        weak: false,
        ..x
    })
}
