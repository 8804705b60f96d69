//! The run-time kernels of the shape operations, and the helpers other
//! families' kernels reshape, permute and lay out their results with.

use ndarray::{Axis as NdAxis, IxDyn};

use super::is_minus_one;
use crate::check::types::Type;
use crate::error::Diagnostic;
use crate::eval::interp::{internal, runtime_error};
use crate::eval::value::{self as rt, Array, Value};
use crate::eval::Interp;
use crate::ops::Bound;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};
use crate::{map_tensor, with_array};

pub(crate) static KERNELS: &[(&str, crate::ops::Kernel)] = &[
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
pub(crate) fn reshaped(
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
pub(crate) fn permuted(
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
pub(crate) fn standard(t: rt::Tensor) -> rt::Tensor {
    if with_array!(&t, a => a.is_standard_layout()) {
        return t;
    }
    map_tensor!(&t, a => a.as_standard_layout().into_owned().into_shared())
}

/// Where a new axis goes for position argument `i` (negative from the
/// end) of an op that inserts one into tensors like `x`, of `rank` axes.
pub(crate) fn insert_position(
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
    if crate::eval::operators::broadcast_shape(x.shape(), &shape).as_deref() != Some(&shape[..]) {
        return Err(failed());
    }
    let view = Value::broadcast(x, &shape);
    // While a tape records, values are tensors it can follow.
    match ev.trace {
        Some(_) => ev.dense(view, b.span),
        None => Ok(view),
    }
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
    ev.lazy_expr(x)?;
    let contiguous = matches!(ev.fact(x), Some(Type::Tensor(t)) if t.contiguous);
    Ok(Value::Tensor(rt::Tensor::Bool(Array::from_elem(
        IxDyn(&[]),
        contiguous,
    ))))
}
