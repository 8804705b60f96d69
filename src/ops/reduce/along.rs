//! softmax, log_softmax and layernorm along one axis: each row read in
//! its own element type (a softmax row's exps kept in an f64 buffer) and
//! written once in the result's, rows in parallel. batchnorm normalises
//! over every axis but one.

use ndarray::{ArrayViewMut, Axis as NdAxis, Dimension, IxDyn};

use super::sum::{lane_extreme, lane_sum, Accuracy};
use crate::check::types::DType;
use crate::error::Diagnostic;
use crate::eval::interp::internal;
use crate::eval::parallel::filled;
use crate::eval::value::{self, Array, Element, Value};
use crate::eval::Interp;
use crate::ops::math::exp_rounded_to_f32;
use crate::ops::Bound;
use crate::with_array;

#[derive(Clone, Copy)]
enum Row {
    Softmax,
    LogSoftmax,
    Layernorm(f64),
}

pub(super) fn along_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let axis = ev.data_axis(b, 1, 0, x.shape().len())?;
    let eps = ev.arg_number(b, 2, 1e-5)?;
    let row = match b.name {
        "softmax" => Row::Softmax,
        "log_softmax" => Row::LogSoftmax,
        "layernorm" => Row::Layernorm(eps),
        "batchnorm" => {
            return Ok(Value::Tensor(
                batchnorm(&x, axis, eps).cast(ev.out_dtype(b)),
            ))
        }
        _ => return Err(internal(b.span, "a normalisation without a kernel")),
    };
    let result = match ev.out_dtype(b) {
        DType::F32 => value::Tensor::F32(with_array!(&x, a => rows(a, axis, row, |v| v as f32))),
        _ => value::Tensor::F64(with_array!(&x, a => rows(a, axis, row, |v| v))),
    };
    Ok(Value::Tensor(result))
}

/// Applies `row` to every lane of x along `axis`, each computed in f64 and
/// rounded once by `round`.
fn rows<T, O>(x: &Array<T>, axis: usize, row: Row, round: impl Fn(f64) -> O + Sync) -> Array<O>
where
    T: Element + PartialOrd,
    O: Copy + Default + Send + Sync,
{
    let last = x.ndim() - 1;
    let mut moved = x.view();
    moved.swap_axes(axis, last);
    let moved = moved.as_standard_layout();
    let shape = moved.shape().to_vec();
    let lane = shape[last];
    let data = moved.as_slice().unwrap_or(&[]);
    // The exp is chosen here, outside the loops: a choice inside them is
    // if-converted, and libm's exp called for every element either way.
    let out = if std::mem::size_of::<O>() == 4 {
        lanes(data, lane, row, Accuracy::ForF32, exp_rounded_to_f32, round)
    } else {
        lanes(data, lane, row, Accuracy::Compensated, f64::exp, round)
    };
    let mut result = Array::from_shape_vec(IxDyn(&shape), out)
        .unwrap_or_else(|_| Array::from_elem(IxDyn(&shape), O::default()));
    result.swap_axes(axis, last);
    result
}

/// `row` applied to each lane of row-major `data`, one block per lane; the
/// buffer holds a softmax lane's exps.
fn lanes<T, O>(
    data: &[T],
    lane: usize,
    row: Row,
    accuracy: Accuracy,
    exp: impl Fn(f64) -> f64 + Sync,
    round: impl Fn(f64) -> O + Sync,
) -> Vec<O>
where
    T: Element + PartialOrd,
    O: Copy + Default + Send,
{
    filled(
        data.len(),
        lane,
        || Vec::with_capacity(lane),
        #[inline(always)]
        |buffer: &mut Vec<f64>, start, target| {
            let source = data.get(start..start + target.len()).unwrap_or(&[]);
            normalise(source, buffer, row, accuracy, &exp, target, &round);
        },
    )
}

/// One nonempty lane from `source` into `target`, three passes over it at
/// most: its max (or mean), its exps (or squares) summed, and the result.
#[inline(always)]
fn normalise<T, O>(
    source: &[T],
    buffer: &mut Vec<f64>,
    row: Row,
    accuracy: Accuracy,
    exp: &(impl Fn(f64) -> f64 + Sync),
    target: &mut [O],
    round: &impl Fn(f64) -> O,
) where
    T: Element + PartialOrd,
{
    let n = source.len() as f64;
    match row {
        // exp(x - max), then scaled by the reciprocal of its sum: within
        // an f64 ulp of the quotient, far below what rounding to f32 or a
        // test against NumPy sees, and a multiply rather than a divide.
        // The max-subtraction keeps every exp finite.
        Row::Softmax => {
            let top = greatest(source);
            buffer.clear();
            buffer.resize(source.len(), 0.0);
            for (e, &v) in buffer.iter_mut().zip(source) {
                *e = exp(v.as_f64() - top);
            }
            let scale = 1.0 / lane_sum(buffer, accuracy, |v| v);
            for (t, &e) in target.iter_mut().zip(buffer.iter()) {
                *t = round(e * scale);
            }
        }
        // x - logsumexp(x), never the log of a softmax that underflowed to 0.
        Row::LogSoftmax => {
            let top = greatest(source);
            let log_total = lane_sum(source, accuracy, |v| exp(v.as_f64() - top)).ln();
            for (t, &v) in target.iter_mut().zip(source) {
                *t = round(v.as_f64() - top - log_total);
            }
        }
        // (x - mean) / sqrt(var + eps), the population variance, no affine.
        Row::Layernorm(eps) => {
            let mu = lane_sum(source, accuracy, T::as_f64) / n;
            let var = lane_sum(source, accuracy, |v| (v.as_f64() - mu) * (v.as_f64() - mu)) / n;
            let denominator = (var + eps).sqrt();
            for (t, &v) in target.iter_mut().zip(source) {
                *t = round((v.as_f64() - mu) / denominator);
            }
        }
    }
}

/// The lane's max in f64 (nan if any is nan), compared in its own type.
#[inline(always)]
fn greatest<T: Element + PartialOrd>(source: &[T]) -> f64 {
    lane_extreme(source, true).map_or(f64::NEG_INFINITY, T::as_f64)
}

/// Training-mode batchnorm: each slice along `axis` standardised whole.
fn batchnorm(x: &value::Tensor, axis: usize, eps: f64) -> value::Tensor {
    let mut y = with_array!(x, a => a.mapv(Element::as_f64));
    y.axis_iter_mut(NdAxis(axis))
        .for_each(|slice| standardize(slice, eps));
    value::Tensor::F64(y.into_shared())
}

fn standardize<D: Dimension>(mut values: ArrayViewMut<f64, D>, eps: f64) {
    let n = values.len() as f64;
    let mu = super::sum::accurate_sum(values.iter().copied()) / n;
    let var = super::sum::accurate_sum(values.iter().map(|&v| (v - mu) * (v - mu))) / n;
    let denominator = (var + eps).sqrt();
    values.mapv_inplace(|v| (v - mu) / denominator);
}
