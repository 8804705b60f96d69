//! The run-time kernels of concat, stack, split, pad and unfold.

use ndarray::{ArrayViewD, Axis as NdAxis, IxDyn, ShapeError, SliceInfo, SliceInfoElem};

use crate::check::types::DType;
use crate::error::Diagnostic;
use crate::eval::args::filled;
use crate::eval::interp::{internal, runtime_error};
use crate::eval::value::{self as rt, Array, Value};
use crate::eval::Interp;
use crate::map_tensor;
use crate::ops::shape::{insert_position, standard};
use crate::ops::Bound;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};

pub(crate) static KERNELS: &[(&str, crate::ops::Kernel)] = &[
    ("concat", concat_kernel),
    ("stack", stack_kernel),
    ("split", split_kernel),
    ("pad", pad_kernel),
    ("unfold", unfold_kernel),
];

/// The items of a `[a, b, c]` argument, each evaluated on its own (the
/// list is not a tensor literal here: its items may differ in shape).
fn list_items<'a>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    i: usize,
) -> Result<Vec<rt::Tensor>, Diagnostic> {
    let Some(Expr {
        kind: ExprKind::List(items),
        ..
    }) = b.get(i)
    else {
        return Err(internal(b.span_of(i), "a list the checker did not accept"));
    };
    items.iter().map(|e| ev.tensor(e)).collect()
}

/// The first tensor of a `[a, b, c]` argument, whose type places an axis
/// argument for all of them.
fn first_item<'a>(b: &Bound<'a>) -> Option<&'a Expr> {
    match b.get(0).map(|e| &e.kind) {
        Some(ExprKind::List(items)) => items.first(),
        _ => None,
    }
}

/// A signed static size argument as a count.
fn count_arg(ev: &Interp, e: &Expr, what: &str) -> Result<usize, Diagnostic> {
    let v = ev.static_size(e)?;
    usize::try_from(v).map_err(|_| runtime_error(e.span, format!("{what} is {v}, below 0")))
}

#[derive(Clone, Copy)]
enum Join {
    /// Along an existing axis.
    Concat,
    /// Along a new axis.
    Stack,
}

fn join_arrays<T: Clone>(
    arrays: &[&Array<T>],
    axis: usize,
    how: Join,
) -> Result<Array<T>, ShapeError> {
    let views: Vec<ArrayViewD<T>> = arrays.iter().map(|a| a.view()).collect();
    let joined = match how {
        Join::Concat => ndarray::concatenate(NdAxis(axis), &views),
        Join::Stack => ndarray::stack(NdAxis(axis), &views),
    };
    joined.map(|a| a.into_shared())
}

/// The parts, in the result's element type, joined along `axis`.
/// The result is row-major, as the checker records a computed tensor
/// (ndarray's concatenate keeps the parts' layout).
fn joined(parts: &[rt::Tensor], dtype: DType, axis: usize, how: Join) -> Option<rt::Tensor> {
    let cast: Vec<rt::Tensor> = parts.iter().map(|t| t.cast(dtype)).collect();
    macro_rules! join_as {
        ($variant:ident) => {{
            let arrays: Vec<&Array<_>> = cast
                .iter()
                .map(|t| match t {
                    rt::Tensor::$variant(a) => Some(a),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            rt::Tensor::$variant(join_arrays(&arrays, axis, how).ok()?)
        }};
    }
    Some(standard(match dtype {
        DType::F32 => join_as!(F32),
        DType::F64 => join_as!(F64),
        DType::I64 => join_as!(I64),
        DType::Bool => join_as!(Bool),
    }))
}

fn concat_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let parts = list_items(ev, b, 0)?;
    let rank = parts.first().map_or(0, |t| t.shape().len());
    let axis = match (b.get(1), first_item(b)) {
        (Some(e), Some(first)) => ev
            .resolved_axis(e)
            .and_then(|axis| ev.data_position(first, axis, rank))
            .ok_or_else(|| internal(e.span, "an axis the checker did not resolve"))?,
        _ => 0,
    };
    let shapes: Vec<&[usize]> = parts.iter().map(rt::Tensor::shape).collect();
    let failed = || {
        runtime_error(
            b.span,
            format!("cannot concatenate {shapes:?} along axis {axis}"),
        )
    };
    let result = joined(&parts, ev.out_dtype(b), axis, Join::Concat).ok_or_else(failed)?;
    Ok(Value::Tensor(result))
}

fn stack_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let parts = list_items(ev, b, 0)?;
    let rank = parts.first().map_or(0, |t| t.shape().len());
    let first = first_item(b).ok_or_else(|| internal(b.span, "`stack` of no tensor"))?;
    let at = insert_position(ev, b, 1, first, rank)?;
    let shapes: Vec<&[usize]> = parts.iter().map(rt::Tensor::shape).collect();
    let failed = || runtime_error(b.span, format!("cannot stack {shapes:?} along axis {at}"));
    let result = joined(&parts, ev.out_dtype(b), at, Join::Stack).ok_or_else(failed)?;
    Ok(Value::Tensor(result))
}

fn split_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let Some(Expr {
        kind: ExprKind::List(items),
        ..
    }) = b.get(1)
    else {
        return Err(internal(
            b.span_of(1),
            "split sizes the checker did not accept",
        ));
    };
    let axis = match b.get(2) {
        Some(_) => ev.data_axis(b, 2, 0, x.shape().len())?,
        None => 0,
    };
    let length = x
        .shape()
        .get(axis)
        .copied()
        .ok_or_else(|| internal(b.span, "an axis out of range after checking"))?;
    let mut start = 0usize;
    let mut parts = Vec::with_capacity(items.len());
    for item in items {
        let size = count_arg(ev, item, "this size")?;
        let end = start.checked_add(size).filter(|&end| end <= length);
        let Some(end) = end else {
            return Err(runtime_error(
                item.span,
                format!("the split sizes overrun axis {axis} of size {length}"),
            ));
        };
        let slice = ndarray::Slice::from(start..end);
        // Each part is a view of x, as NumPy's split gives.
        let part = map_tensor!(&x, a => a.clone().slice_axis_move(NdAxis(axis), slice));
        parts.push(Value::Tensor(part));
        start = end;
    }
    Ok(Value::Tuple(parts.into()))
}

fn pad_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let value = ev.arg_number(b, 2, 0.0)?;
    let Some(Expr {
        kind: ExprKind::List(rows),
        ..
    }) = b.get(1)
    else {
        return Err(internal(
            b.span_of(1),
            "pad widths the checker did not accept",
        ));
    };
    let mut before = Vec::with_capacity(rows.len());
    for row in rows {
        let ExprKind::List(pair) = &row.kind else {
            return Err(internal(row.span, "a pad pair the checker did not accept"));
        };
        let [first, second] = pair.as_slice() else {
            return Err(internal(row.span, "a pad pair the checker did not accept"));
        };
        let start = count_arg(ev, first, "this pad width")?;
        count_arg(ev, second, "this pad width")?;
        before.push(start);
    }
    let rank = x.shape().len();
    if before.len() == 1 && rank > 1 {
        before = vec![before[0]; rank];
    }
    let shape = ev.out_shape(b)?;
    let fits = before.len() == rank
        && shape.len() == rank
        && (0..rank).all(|i| {
            before[i]
                .checked_add(x.shape()[i])
                .is_some_and(|end| end <= shape[i])
        });
    if !fits {
        return Err(internal(b.span, "pad widths that do not fit the result"));
    }
    let padded = match (filled(&shape, x.dtype(), value), &x) {
        (rt::Tensor::F32(out), rt::Tensor::F32(a)) => {
            rt::Tensor::F32(place(out, a, &before, b.span)?)
        }
        (rt::Tensor::F64(out), rt::Tensor::F64(a)) => {
            rt::Tensor::F64(place(out, a, &before, b.span)?)
        }
        (rt::Tensor::I64(out), rt::Tensor::I64(a)) => {
            rt::Tensor::I64(place(out, a, &before, b.span)?)
        }
        (rt::Tensor::Bool(out), rt::Tensor::Bool(a)) => {
            rt::Tensor::Bool(place(out, a, &before, b.span)?)
        }
        _ => return Err(internal(b.span, "a pad fill of another element type")),
    };
    Ok(Value::Tensor(padded))
}

/// Writes `a` into `out` from the offsets `start` (which the caller
/// proved keep `a` inside `out`).
fn place<T: Clone>(
    mut out: Array<T>,
    a: &Array<T>,
    start: &[usize],
    span: Span,
) -> Result<Array<T>, Diagnostic> {
    let region: Vec<SliceInfoElem> = start
        .iter()
        .zip(a.shape())
        .map(|(&s, &n)| SliceInfoElem::Slice {
            start: s as isize,
            end: Some((s + n) as isize),
            step: 1,
        })
        .collect();
    let region = SliceInfo::<Vec<SliceInfoElem>, IxDyn, IxDyn>::try_from(region)
        .map_err(|_| internal(span, "a pad region ndarray refused"))?;
    out.slice_mut(region).assign(a);
    Ok(out)
}

fn unfold_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let axis = ev.data_axis(b, 1, 0, x.shape().len())?;
    let (Some(size_e), Some(step_e)) = (b.get(2), b.get(3)) else {
        return Err(internal(b.span, "an unfold without its size and step"));
    };
    let size = count_arg(ev, size_e, "the window size")?;
    let step = count_arg(ev, step_e, "the step")?;
    if step == 0 {
        return Err(runtime_error(
            step_e.span,
            "the step of `unfold` must be positive",
        ));
    }
    let length = x
        .shape()
        .get(axis)
        .copied()
        .ok_or_else(|| internal(b.span_of(1), "an axis out of range after checking"))?;
    let Some(room) = length.checked_sub(size) else {
        return Err(runtime_error(
            size_e.span,
            format!("a window of {size} does not fit in axis {axis} of size {length}"),
        ));
    };
    let count = room / step + 1;
    let failed = |_| internal(b.span, "unfold windows ndarray refused");
    Ok(Value::Tensor(
        map_tensor!(&x, a => windows(a, axis, count, size, step).map_err(failed)?),
    ))
}

/// PyTorch's `unfold`: `count` windows of `size` along `axis`, `step`
/// apart, as a new last axis (the caller proved they fit). A copy, not
/// PyTorch's overlapping view, which an `ArcArray` cannot express.
fn windows<T: Clone>(
    a: &Array<T>,
    axis: usize,
    count: usize,
    size: usize,
    step: usize,
) -> Result<Array<T>, ShapeError> {
    let mut order: Vec<usize> = (0..a.ndim()).filter(|&i| i != axis).collect();
    order.push(axis);
    let views: Vec<ArrayViewD<T>> = (0..count)
        .map(|w| {
            let start = w * step;
            a.slice_axis(NdAxis(axis), ndarray::Slice::from(start..start + size))
                .permuted_axes(IxDyn(&order))
        })
        .collect();
    ndarray::stack(NdAxis(axis), &views).map(|stacked| stacked.into_shared())
}
