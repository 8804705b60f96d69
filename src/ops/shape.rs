//! Shape operations: reshape/view, permutations, squeeze/unsqueeze,
//! flatten, broadcast_to, rename, size queries.

use ndarray::{Axis as NdAxis, IxDyn};

use super::construct::size_axis;
use super::{Bound, Builtin, Param};
use crate::check::rules::broadcast::broadcast;
use crate::check::size::{AtomId, Size};
use crate::check::types::{show_axis, Axis, DType, Item, Shape, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::eval::interp::{internal, runtime_error};
use crate::eval::value::{self as rt, Array, Value};
use crate::eval::Interp;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, UnaryOp};
use crate::{map_tensor, with_array};

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

fn finish_reshape(
    cx: &mut Checker,
    b: &Bound,
    x: Tensor,
    mut shape: Shape,
    inferred: Option<usize>,
) -> Type {
    let (Some(total), Some(known)) = (element_count(&x.shape), element_count(&shape)) else {
        return cx.fail(crate::check::limit_error(b.span, "the element count"));
    };
    let target = target_text(cx, &shape, inferred);
    let count_error = |cx: &Checker, detail: String| {
        let (xs, ts) = (cx.show_shape(&x.shape), target.clone());
        Diagnostic::new(
            Code::Reshape,
            b.span,
            format!("cannot reshape {xs} into {ts}: {detail}"),
        )
        .label(
            b.span_of(0),
            format!("{xs}: {} elements", cx.show_size(&total)),
        )
        .label(b.span_of(1), ts)
    };
    match inferred {
        Some(i) => {
            let size = match total.div_exact(&known) {
                Ok(s) => s,
                Err(crate::check::size::SizeError::NotExact)
                | Err(crate::check::size::SizeError::DivisionByZero) => {
                    let detail = format!(
                        "{} elements do not divide into groups of {}",
                        cx.show_size(&total),
                        cx.show_size(&known)
                    );
                    return cx.fail(count_error(cx, detail));
                }
                Err(_) => cx.fresh_size(),
            };
            shape[i] = Item::Axis(Axis::anon(size));
        }
        None if total != known => {
            let detail = format!(
                "{} elements vs {}",
                cx.show_size(&total),
                cx.show_size(&known)
            );
            return cx.fail(count_error(cx, detail));
        }
        None => {}
    }
    if b.name == "view" && !x.contiguous {
        let xs = cx.show_shape(&x.shape);
        let text = b.get(0).map_or_else(|| "x".to_string(), |e| cx.describe(e));
        return cx.fail(
            Diagnostic::new(
                Code::View,
                b.span,
                format!("`view` needs a contiguous tensor, but {xs} is a permuted or strided view"),
            )
            .label(b.span_of(0), format!("{xs}, not contiguous"))
            .help(format!(
                "use `reshape({text}, ...)`, which copies when it must, or `view(contiguous({text}), ...)`"
            )),
        );
    }
    reshape_order_warning(cx, b, &x.shape, &shape);
    Type::Tensor(Tensor::new(x.dtype, shape))
}

/// The requested shape as written, with `-1` where a size is inferred.
fn target_text(cx: &Checker, shape: &Shape, inferred: Option<usize>) -> String {
    let parts: Vec<String> = shape
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            _ if Some(i) == inferred => "-1".to_string(),
            Item::Axis(a) => show_axis(a, cx),
            Item::Run(_) => cx
                .show_shape(&vec![item.clone()])
                .trim_matches(['[', ']'])
                .to_string(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Warns when a named axis is scrambled by a reshape (section 5).
fn reshape_order_warning(cx: &mut Checker, b: &Bound, from: &[Item], to: &[Item]) {
    let (Some(from_axes), Some(to_axes)) = (axes_of(from), axes_of(to)) else {
        return;
    };
    let groups_from = groups(&from_axes, &to_axes);
    let Some((gf, gt)) = groups_from else { return };
    for (j, t) in to_axes.iter().enumerate() {
        let Some(name) = &t.name else { continue };
        // The k-th axis named N in the result comes from the k-th one in x.
        let k = to_axes[..j]
            .iter()
            .filter(|a| a.name.as_ref() == Some(name))
            .count();
        let Some(i) = from_axes
            .iter()
            .enumerate()
            .filter(|(_, a)| a.name.as_ref() == Some(name))
            .nth(k)
            .map(|(i, _)| i)
        else {
            continue;
        };
        let crowded = |group: usize, axes: &[&Axis], of: &[usize]| {
            axes.iter()
                .zip(of)
                .filter(|(a, g)| **g == group && !a.is_one())
                .count()
                > 1
        };
        if gf[i] != gt[j] || crowded(gf[i], &from_axes, &gf) || crowded(gt[j], &to_axes, &gt) {
            let perm = bring_into_order(&from_axes, &to_axes);
            let (fs, ts) = (cx.show_shape(&from.to_vec()), cx.show_shape(&to.to_vec()));
            let mut d = Diagnostic::new(
                Code::ReshapeOrder,
                b.span,
                format!("this reshape of {fs} into {ts} scrambles axis {name}: its elements are not where {name} ends up"),
            )
            .label(b.span_of(0), fs)
            .label(b.span_of(1), ts);
            if let Some(perm) = perm {
                let x = b.get(0).map_or_else(|| "x".to_string(), |e| cx.describe(e));
                d = d.help(format!(
                    "permute first: `reshape(permute({x}, [{perm}]), ...)`"
                ));
            }
            cx.report(d);
            return;
        }
    }
}

fn axes_of(shape: &[Item]) -> Option<Vec<&Axis>> {
    shape.iter().map(Item::axis).collect()
}

/// Groups two shapes into the smallest runs whose sizes multiply equal.
fn groups(from: &[&Axis], to: &[&Axis]) -> Option<(Vec<usize>, Vec<usize>)> {
    let prefix = |axes: &[&Axis]| -> Option<Vec<Size>> {
        let mut out = vec![Size::constant(1)];
        for a in axes {
            let next = out.last()?.mul(&a.size).ok()?;
            out.push(next);
        }
        Some(out)
    };
    let (pf, pt) = (prefix(from)?, prefix(to)?);
    let mut gf = vec![0; from.len()];
    let mut gt = vec![0; to.len()];
    let (mut i, mut j, mut group) = (0, 0, 0);
    while i < from.len() || j < to.len() {
        let (ii, jj) = (i..=from.len())
            .flat_map(|ii| (j..=to.len()).map(move |jj| (ii, jj)))
            .find(|&(ii, jj)| {
                (ii > i || i == from.len()) && (jj > j || j == to.len()) && pf[ii] == pt[jj]
            })
            .unwrap_or((from.len(), to.len()));
        gf[i..ii].iter_mut().for_each(|g| *g = group);
        gt[j..jj].iter_mut().for_each(|g| *g = group);
        i = ii;
        j = jj;
        group += 1;
    }
    Some((gf, gt))
}

/// The permutation of `from` that orders its named axes as `to` does.
fn bring_into_order(from: &[&Axis], to: &[&Axis]) -> Option<String> {
    // Axes the result names go in the result's order; the others (merged
    // into a new axis, like H and Dh into D) follow, in their own order.
    let position = |a: &Axis| {
        a.name
            .as_ref()
            .and_then(|n| to.iter().position(|t| t.name.as_ref() == Some(n)))
    };
    let mut order: Vec<usize> = (0..from.len()).collect();
    order.sort_by_key(|&i| (position(from[i]).is_none(), position(from[i]), i));
    let identity = order.iter().enumerate().all(|(i, p)| i == *p);
    (!identity).then(|| {
        let shown: Vec<String> = order.iter().map(|p| p.to_string()).collect();
        shown.join(", ")
    })
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
    let xs = cx.show_shape(&x.shape);
    if items.len() != rank {
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
                return cx.fail(
                    Diagnostic::new(
                        Code::Permute,
                        item.span,
                        format!("axis {i} appears twice: not a permutation of {xs}"),
                    )
                    .label(item.span, "repeated"),
                )
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

pub(super) static KERNELS: &[(&str, super::Kernel)] = &[
    ("reshape", reshape_kernel),
    ("view", reshape_kernel),
    ("permute", permute_kernel),
    ("transpose", transpose_kernel),
    ("moveaxis", moveaxis_kernel),
    ("squeeze", squeeze_kernel),
    ("unsqueeze", unsqueeze_kernel),
    ("flatten", flatten_kernel),
    ("broadcast_to", broadcast_to_kernel),
    ("rename", rename_kernel),
    ("size", size_kernel),
    ("is_contiguous", is_contiguous_kernel),
];

/// `t` with `shape` (the same element count): a view when `t` is in
/// row-major order, else a row-major copy, as NumPy's reshape.
pub(super) fn reshaped(
    t: &rt::Tensor,
    shape: &[usize],
    span: Span,
) -> Result<rt::Tensor, Diagnostic> {
    fn go<T: Clone>(a: &Array<T>, shape: &[usize]) -> Option<Array<T>> {
        // The same shape is NumPy's view, even of a permuted array.
        if a.shape() == shape {
            return Some(a.clone());
        }
        match a.clone().into_shape_with_order(IxDyn(shape)) {
            Ok(view) => Some(view),
            Err(_) => a
                .as_standard_layout()
                .into_owned()
                .into_shared()
                .into_shape_with_order(IxDyn(shape))
                .ok(),
        }
    }
    let failed = || {
        runtime_error(
            span,
            format!("cannot reshape {:?} into {shape:?}", t.shape()),
        )
    };
    Ok(map_tensor!(t, a => go(a, shape).ok_or_else(failed)?))
}

/// `t` with its axes in `order` (a view); `order` must be a permutation
/// of t's axes.
pub(super) fn permuted(
    t: &rt::Tensor,
    order: &[usize],
    span: Span,
) -> Result<rt::Tensor, Diagnostic> {
    let rank = t.shape().len();
    let mut seen = vec![false; rank];
    for &axis in order {
        match seen.get_mut(axis) {
            Some(slot) if !*slot => *slot = true,
            _ => return Err(internal(span, "a permutation the checker did not prove")),
        }
    }
    if order.len() != rank {
        return Err(internal(span, "a permutation the checker did not prove"));
    }
    Ok(map_tensor!(t, a => a.clone().permuted_axes(IxDyn(order))))
}

/// `t` as a row-major copy, unless it already is one.
pub(super) fn standard(t: rt::Tensor) -> rt::Tensor {
    if with_array!(&t, a => a.is_standard_layout()) {
        return t;
    }
    map_tensor!(&t, a => a.as_standard_layout().into_owned().into_shared())
}

/// Where a new axis goes for position argument `i` (negative from the
/// end) of an op that inserts one into tensors like `x`, of `rank` axes.
pub(super) fn insert_position(
    ev: &Interp,
    b: &Bound,
    i: usize,
    x: &Expr,
    rank: usize,
) -> Result<usize, Diagnostic> {
    let axis = ev.arg_int(b, i, 0)?;
    let items = match ev.fact(x) {
        Some(Type::Tensor(t)) => t.shape.len(),
        _ => rank,
    };
    let at = if axis < 0 {
        axis + items as i64 + 1
    } else {
        axis
    };
    usize::try_from(at)
        .ok()
        .and_then(|at| ev.data_position(x, at, rank))
        .filter(|&at| at <= rank)
        .ok_or_else(|| internal(b.span_of(i), "an axis out of range after checking"))
}

fn reshape_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let shape = match ev.out_shape(b) {
        Ok(shape) => shape,
        Err(unknown) => target_from_data(ev, b, x.len())?.ok_or(unknown)?,
    };
    reshaped(&x, &shape, b.span).map(Value::Tensor)
}

/// The target of a reshape whose `-1` the checker could not size
/// statically: the written sizes, and the `-1` from x's element count.
/// `None` when the target is not written as a list.
fn target_from_data(
    ev: &Interp,
    b: &Bound,
    count: usize,
) -> Result<Option<Vec<usize>>, Diagnostic> {
    let Some(Expr {
        kind: ExprKind::List(items),
        ..
    }) = b.get(1)
    else {
        return Ok(None);
    };
    let mut shape = Vec::with_capacity(items.len());
    let mut inferred = None;
    let mut known: usize = 1;
    for (i, item) in items.iter().enumerate() {
        if is_minus_one(item) {
            inferred = Some(i);
            shape.push(1);
            continue;
        }
        let size = usize::try_from(ev.static_size(item)?)
            .map_err(|_| runtime_error(item.span, "a size cannot be negative"))?;
        known = known.saturating_mul(size);
        shape.push(size);
    }
    let fits = match inferred {
        Some(i) if known != 0 && count % known == 0 => {
            shape[i] = count / known;
            true
        }
        Some(_) => false,
        None => known == count,
    };
    if !fits {
        return Err(runtime_error(
            b.span,
            format!("cannot reshape {count} elements into {shape:?}"),
        ));
    }
    Ok(Some(shape))
}

fn permute_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let Some(Expr {
        kind: ExprKind::List(items),
        ..
    }) = b.get(1)
    else {
        return Err(internal(b.span, "a permute the checker did not accept"));
    };
    let order = items
        .iter()
        .map(|e| {
            ev.resolved_axis(e)
                .ok_or_else(|| internal(e.span, "an axis the checker did not resolve"))
        })
        .collect::<Result<Vec<usize>, Diagnostic>>()?;
    permuted(&x, &order, b.span).map(Value::Tensor)
}

fn transpose_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let rank = x.shape().len();
    let (i, j) = (ev.data_axis(b, 1, 0, rank)?, ev.data_axis(b, 2, 0, rank)?);
    let mut order: Vec<usize> = (0..rank).collect();
    order.swap(i, j);
    permuted(&x, &order, b.span).map(Value::Tensor)
}

fn moveaxis_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let rank = x.shape().len();
    let source = ev.data_axis(b, 1, 0, rank)?;
    let destination = ev.data_axis(b, 2, 0, rank)?;
    let mut order: Vec<usize> = (0..rank).filter(|&i| i != source).collect();
    order.insert(destination, source);
    permuted(&x, &order, b.span).map(Value::Tensor)
}

fn squeeze_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let dropped = match b.get(1) {
        Some(_) => vec![ev.data_axis(b, 1, 0, x.shape().len())?],
        None => unit_axes_dropped(x.shape(), &ev.out_shape(b)?)
            .ok_or_else(|| internal(b.span, "a squeeze the data does not fit"))?,
    };
    // From the last, so that the earlier positions stay valid.
    let mut t = x;
    for &axis in dropped.iter().rev() {
        if t.shape().get(axis) != Some(&1) {
            return Err(runtime_error(
                b.span,
                format!(
                    "cannot squeeze axis {axis} of {:?}: its size is not 1",
                    t.shape()
                ),
            ));
        }
        t = map_tensor!(&t, a => a.clone().index_axis_move(NdAxis(axis), 0));
    }
    Ok(Value::Tensor(t))
}

/// The positions of the size-1 axes to drop from `from` to leave `to`.
/// Dropping a size-1 axis moves no element, so whichever ones are chosen
/// give the same result: the earliest match is taken.
fn unit_axes_dropped(from: &[usize], to: &[usize]) -> Option<Vec<usize>> {
    let mut kept = to.iter().peekable();
    let mut dropped = Vec::new();
    for (i, &n) in from.iter().enumerate() {
        if kept.peek() == Some(&&n) {
            kept.next();
        } else if n == 1 {
            dropped.push(i);
        } else {
            return None;
        }
    }
    kept.peek().is_none().then_some(dropped)
}

fn unsqueeze_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let tensor = b
        .get(0)
        .ok_or_else(|| internal(b.span, "a missing tensor"))?;
    let at = insert_position(ev, b, 1, tensor, x.shape().len())?;
    Ok(Value::Tensor(
        map_tensor!(&x, a => a.clone().insert_axis(NdAxis(at))),
    ))
}

fn flatten_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let shape = ev.out_shape(b)?;
    reshaped(&x, &shape, b.span).map(Value::Tensor)
}

fn broadcast_to_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let shape = ev.out_shape(b)?;
    let failed = || {
        runtime_error(
            b.span,
            format!("{:?} cannot be broadcast to {shape:?}", x.shape()),
        )
    };
    // A copy for now: an `ArcArray` cannot hold NumPy's zero-stride view.
    Ok(Value::Tensor(map_tensor!(&x, a => a
        .broadcast(IxDyn(&shape))
        .ok_or_else(failed)?
        .to_owned()
        .into_shared())))
}

fn rename_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    ev.arg_value(b, 0)
}

fn size_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let axis = ev.data_axis(b, 1, 0, x.shape().len())?;
    let size = x.shape()[axis];
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    Ok(Value::Tensor(rt::Tensor::I64(Array::from_elem(
        IxDyn(&[]),
        size,
    ))))
}

/// The checker's contiguity fact, as section 5 defines `is_contiguous`:
/// a program's answer does not depend on how a kernel laid out its data.
fn is_contiguous_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = b
        .get(0)
        .ok_or_else(|| internal(b.span, "is_contiguous without an argument"))?;
    ev.expr(x)?;
    let contiguous = matches!(ev.fact(x), Some(Type::Tensor(t)) if t.contiguous);
    Ok(Value::Tensor(rt::Tensor::Bool(Array::from_elem(
        IxDyn(&[]),
        contiguous,
    ))))
}
