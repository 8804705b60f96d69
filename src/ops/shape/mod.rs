//! Shape operations: reshape/view, permutations, squeeze/unsqueeze,
//! flatten, broadcast_to, rename, size queries.

mod kernels;
mod reshape;

pub(super) use kernels::{insert_position, permuted, reshaped, standard, KERNELS};

use super::construct::size_axis;
use super::{Bound, Builtin, Param};
use crate::check::rules::broadcast::broadcast;
use crate::check::size::{AtomId, Size};
use crate::check::types::{show_axis, Axis, DType, Item, Shape, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::syntax::ast::{Expr, ExprKind, UnaryOp};
use reshape::finish_reshape;

use Param::{Optional, Required};

pub(super) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "reshape",
        params: &[Required("x"), Required("shape")],
        rule: reshape,
    },
    Builtin {
        name: "view",
        params: &[Required("x"), Required("shape")],
        rule: reshape,
    },
    Builtin {
        name: "permute",
        params: &[Required("x"), Required("axes")],
        rule: permute,
    },
    Builtin {
        name: "transpose",
        params: &[Required("x"), Required("a"), Required("b")],
        rule: transpose,
    },
    Builtin {
        name: "moveaxis",
        params: &[Required("x"), Required("source"), Required("destination")],
        rule: moveaxis,
    },
    Builtin {
        name: "squeeze",
        params: &[Required("x"), Optional("axis")],
        rule: squeeze,
    },
    Builtin {
        name: "unsqueeze",
        params: &[Required("x"), Required("axis")],
        rule: unsqueeze,
    },
    Builtin {
        name: "flatten",
        params: &[Required("x"), Optional("start"), Optional("end")],
        rule: flatten,
    },
    Builtin {
        name: "broadcast_to",
        params: &[Required("x"), Required("shape")],
        rule: broadcast_to,
    },
    Builtin {
        name: "rename",
        params: &[Required("x"), Required("names")],
        rule: rename,
    },
    Builtin {
        name: "size",
        params: &[Required("x"), Required("axis")],
        rule: size,
    },
    Builtin {
        name: "is_contiguous",
        params: &[Required("x")],
        rule: is_contiguous,
    },
];

fn tensor0(cx: &mut Checker, b: &Bound) -> Option<Tensor> {
    b.get(0).and_then(|e| cx.tensor_arg(e))
}

fn is_minus_one(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(Some(-1)) => true,
        ExprKind::Unary {
            op: UnaryOp::Neg,
            operand,
        } => matches!(operand.kind, ExprKind::Int(Some(1))),
        _ => false,
    }
}

/// The element count of a shape, runs included as `|run|` atoms.
fn element_count(shape: &[Item]) -> Option<Size> {
    shape.iter().try_fold(Size::constant(1), |acc, item| {
        let size = match item {
            Item::Axis(a) => a.size.clone(),
            Item::Run(r) => Size::atom(AtomId::RunProduct(r.0)),
        };
        acc.mul(&size).ok()
    })
}

fn reshape(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = tensor0(cx, b) else {
        return Type::Unknown;
    };
    let Some(target) = b.get(1) else {
        return Type::Unknown;
    };
    let ExprKind::List(items) = &target.kind else {
        let Some(shape) = super::construct::shape_arg(cx, Some(target)) else {
            return Type::Unknown;
        };
        return finish_reshape(cx, b, x, shape, None);
    };
    let mut shape: Shape = Vec::with_capacity(items.len());
    let mut inferred = None;
    for (i, item) in items.iter().enumerate() {
        if is_minus_one(item) {
            if inferred.is_some() {
                return cx.fail(
                    Diagnostic::new(Code::Reshape, item.span, "only one axis may be -1")
                        .label(item.span, "second -1"),
                );
            }
            inferred = Some(i);
            shape.push(Item::Axis(Axis::unit()));
            continue;
        }
        match size_axis(cx, item) {
            Ok(axis) => shape.push(Item::Axis(axis)),
            Err(d) => return cx.fail(d),
        }
    }
    finish_reshape(cx, b, x, shape, inferred)
}

fn reorder(x: Tensor, order: &[usize]) -> Type {
    let identity = order.iter().enumerate().all(|(i, p)| i == *p);
    let shape = order.iter().map(|&i| x.shape[i].clone()).collect();
    Type::Tensor(Tensor {
        shape,
        contiguous: x.contiguous && identity,
        weak: false,
        dtype: x.dtype,
    })
}

fn permute(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = tensor0(cx, b) else {
        return Type::Unknown;
    };
    let Some(axes) = b.get(1) else {
        return Type::Unknown;
    };
    let ExprKind::List(items) = &axes.kind else {
        return cx.fail(Diagnostic::new(
            Code::Permute,
            axes.span,
            "`permute` takes a list of axes, e.g. `[0, 2, 1]` or `[B, T, D]`",
        ));
    };
    let rank = x.shape.len();
    if items.len() != rank {
        let xs = cx.show_shape(&x.shape);
        return cx.fail(
            Diagnostic::new(
                Code::Permute,
                axes.span,
                format!(
                    "`permute` needs all {rank} axes of {xs}, but {} are given",
                    items.len()
                ),
            )
            .label(b.span_of(0), xs.clone())
            .label(axes.span, format!("{} axes", items.len())),
        );
    }
    let mut order = Vec::with_capacity(rank);
    for item in items {
        match cx.axis_index(&x.shape, item) {
            Ok(i) if order.contains(&i) => {
                let xs = cx.show_shape(&x.shape);
                return cx.fail(
                    Diagnostic::new(
                        Code::Permute,
                        item.span,
                        format!("axis {i} appears twice: not a permutation of {xs}"),
                    )
                    .label(item.span, "repeated"),
                );
            }
            Ok(i) => order.push(i),
            Err(d) => {
                return cx.fail(Diagnostic {
                    code: Code::Permute,
                    ..d
                })
            }
        }
    }
    reorder(x, &order)
}

fn transpose(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = tensor0(cx, b) else {
        return Type::Unknown;
    };
    let (Some(a), Some(c)) = (b.get(1), b.get(2)) else {
        return Type::Unknown;
    };
    let (i, j) = match (cx.axis_index(&x.shape, a), cx.axis_index(&x.shape, c)) {
        (Ok(i), Ok(j)) => (i, j),
        (Err(d), _) | (_, Err(d)) => return cx.fail(d),
    };
    let mut order: Vec<usize> = (0..x.shape.len()).collect();
    order.swap(i, j);
    reorder(x, &order)
}

fn moveaxis(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = tensor0(cx, b) else {
        return Type::Unknown;
    };
    let (Some(a), Some(c)) = (b.get(1), b.get(2)) else {
        return Type::Unknown;
    };
    let (src, dst) = match (cx.axis_index(&x.shape, a), cx.axis_index(&x.shape, c)) {
        (Ok(i), Ok(j)) => (i, j),
        (Err(d), _) | (_, Err(d)) => return cx.fail(d),
    };
    let mut order: Vec<usize> = (0..x.shape.len()).filter(|&i| i != src).collect();
    order.insert(dst, src);
    reorder(x, &order)
}

fn squeeze(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = tensor0(cx, b) else {
        return Type::Unknown;
    };
    let shape: Shape = match b.get(1) {
        None => x
            .shape
            .iter()
            .filter(|i| !i.axis().is_some_and(Axis::is_one))
            .cloned()
            .collect(),
        Some(e) => {
            let i = match cx.axis_index(&x.shape, e) {
                Ok(i) => i,
                Err(d) => return cx.fail(d),
            };
            if let Some(a) = x.shape[i].axis().filter(|a| !a.is_one()) {
                let shown = show_axis(a, cx);
                return cx.fail(
                    Diagnostic::new(
                        Code::Axis,
                        e.span,
                        format!("cannot squeeze axis {i} ({shown}): its size is not 1"),
                    )
                    .label(e.span, shown),
                );
            }
            let mut shape = x.shape.clone();
            shape.remove(i);
            shape
        }
    };
    Type::Tensor(Tensor {
        shape,
        weak: false,
        ..x
    })
}

fn unsqueeze(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = tensor0(cx, b) else {
        return Type::Unknown;
    };
    let Some(axis) = cx.position_arg(b.get(1)) else {
        return Type::Unknown;
    };
    let rank = x.shape.len() as i64;
    let at = if axis < 0 { axis + rank + 1 } else { axis };
    if !(0..=rank).contains(&at) {
        return cx.fail(
            Diagnostic::new(
                Code::Axis,
                b.span_of(1),
                format!(
                    "axis {axis} is out of range for inserting into {} axes",
                    rank
                ),
            )
            .label(b.span_of(1), format!("axis {axis}"))
            .help(format!("positions run from {} to {rank}", -rank - 1)),
        );
    }
    let mut shape = x.shape.clone();
    shape.insert(at as usize, Item::Axis(Axis::unit()));
    Type::Tensor(Tensor {
        shape,
        weak: false,
        ..x
    })
}

fn flatten(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = tensor0(cx, b) else {
        return Type::Unknown;
    };
    if x.shape.is_empty() {
        return Type::Tensor(Tensor::new(x.dtype, vec![Item::Axis(Axis::unit())]));
    }
    let index = |cx: &mut Checker, i: usize, default: i64| -> Option<usize> {
        let e = b.get(i);
        let v = match e {
            Some(e) => match cx.axis_index(&x.shape, e) {
                Ok(v) => return Some(v),
                Err(d) => {
                    cx.report(d);
                    return None;
                }
            },
            None => default,
        };
        Some(if v < 0 {
            (v + x.shape.len() as i64) as usize
        } else {
            v as usize
        })
    };
    let (Some(start), Some(end)) = (index(cx, 1, 0), index(cx, 2, -1)) else {
        return Type::Unknown;
    };
    if start > end {
        return cx.fail(Diagnostic::new(
            Code::Axis,
            b.span,
            format!("`flatten` start axis {start} comes after end axis {end}"),
        ));
    }
    if start == end {
        // Flattening one axis changes nothing, its name included.
        return Type::Tensor(Tensor { weak: false, ..x });
    }
    let Some(merged) = element_count(&x.shape[start..=end]) else {
        return cx.fail(crate::check::limit_error(b.span, "the element count"));
    };
    let mut shape = x.shape[..start].to_vec();
    shape.push(Item::Axis(Axis::anon(merged)));
    shape.extend_from_slice(&x.shape[end + 1..]);
    Type::Tensor(Tensor {
        shape,
        weak: false,
        ..x
    })
}

fn broadcast_to(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = tensor0(cx, b) else {
        return Type::Unknown;
    };
    let Some(shape) = super::construct::shape_arg(cx, b.get(1)) else {
        return Type::Unknown;
    };
    match broadcast(&shape, &x.shape) {
        Ok(r) if crate::check::expr::same_sizes(&r.shape, &shape) => Type::Tensor(Tensor {
            shape: r.shape,
            contiguous: false,
            weak: false,
            dtype: x.dtype,
        }),
        _ => {
            let (xs, ts) = (cx.show_shape(&x.shape), cx.show_shape(&shape));
            cx.fail(
                Diagnostic::new(
                    Code::Broadcast,
                    b.span,
                    format!("{xs} cannot be broadcast to {ts}"),
                )
                .label(b.span_of(0), xs)
                .label(b.span_of(1), ts),
            )
        }
    }
}

fn rename(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = tensor0(cx, b) else {
        return Type::Unknown;
    };
    let Some(names) = b.get(1) else {
        return Type::Unknown;
    };
    let ExprKind::List(items) = &names.kind else {
        return cx.fail(Diagnostic::new(
            Code::Arg,
            names.span,
            "`rename` takes a list, e.g. `[B, _, D]`",
        ));
    };
    let xs = cx.show_shape(&x.shape);
    if items.len() != x.shape.len() {
        return cx.fail(
            Diagnostic::new(
                Code::Arg,
                names.span,
                format!("`rename` needs one entry per axis of {xs}"),
            )
            .label(b.span_of(0), xs)
            .label(names.span, format!("{} entries", items.len())),
        );
    }
    let mut shape = x.shape.clone();
    for (item, slot) in items.iter().zip(shape.iter_mut()) {
        if matches!(&item.kind, ExprKind::Name(n) if n == "_") {
            continue;
        }
        let Item::Axis(old) = slot else { continue };
        let new = match size_axis(cx, item) {
            Ok(a) => a,
            Err(d) => return cx.fail(d),
        };
        if new.size != old.size {
            let (o, n) = (show_axis(old, cx), show_axis(&new, cx));
            return cx.fail(
                Diagnostic::new(
                    Code::Arg,
                    item.span,
                    format!("cannot rename axis {o} to {n}: the sizes differ"),
                )
                .label(item.span, n),
            );
        }
        *slot = Item::Axis(Axis {
            size: old.size.clone(),
            name: new.name,
        });
    }
    Type::Tensor(Tensor {
        shape,
        weak: false,
        ..x
    })
}

fn size(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = tensor0(cx, b) else {
        return Type::Unknown;
    };
    match b.get(1).map(|e| cx.axis_index(&x.shape, e)) {
        Some(Ok(_)) => Type::Tensor(Tensor::weak_scalar(DType::I64)),
        Some(Err(d)) => cx.fail(d),
        None => Type::Unknown,
    }
}

fn is_contiguous(cx: &mut Checker, b: &Bound) -> Type {
    match tensor0(cx, b) {
        Some(_) => Type::Tensor(Tensor::scalar(DType::Bool)),
        None => Type::Unknown,
    }
}
