//! softmax, log_softmax and layernorm along one axis: each row read once
//! into an f64 buffer, normalised there and written once in the result's
//! element type, rows in parallel. batchnorm normalises over every axis
//! but one.

use ndarray::{ArrayViewMut, Axis as NdAxis, Dimension, IxDyn};
use rayon::prelude::*;

use super::sum::{lane_extreme, lane_sum, Accuracy};
use crate::check::types::DType;
use crate::error::Diagnostic;
use crate::eval::interp::internal;
use crate::eval::parallel::{wide, PARALLEL_MIN};
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
    T: Element,
    O: Copy + Default + Send + Sync,
{
    let last = x.ndim() - 1;
    let mut moved = x.view();
    moved.swap_axes(axis, last);
    let moved = moved.as_standard_layout();
    let shape = moved.shape().to_vec();
    let lane = shape[last];
    let mut out = vec![O::default(); moved.len()];
    if let (Some(data), true) = (moved.as_slice(), lane > 0) {
        let f32_result = std::mem::size_of::<O>() == 4;
        let one = |buffer: &mut Vec<f64>, (target, source): (&mut [O], &[T])| {
            buffer.clear();
            buffer.extend(source.iter().map(|v| v.as_f64()));
            wide(
                #[inline(always)]
                || normalise(buffer, row, f32_result),
            );
            for (t, &v) in target.iter_mut().zip(buffer.iter()) {
                *t = round(v);
            }
        };
        let pairs = out.chunks_mut(lane).zip(data.chunks(lane));
        if data.len() < PARALLEL_MIN {
            let mut buffer = Vec::with_capacity(lane);
            pairs.for_each(|pair| one(&mut buffer, pair));
        } else {
            out.par_chunks_mut(lane)
                .zip(data.par_chunks(lane))
                .for_each_init(|| Vec::with_capacity(lane), one);
        }
    }
    let mut result = Array::from_shape_vec(IxDyn(&shape), out)
        .unwrap_or_else(|_| Array::from_elem(IxDyn(&shape), O::default()));
    result.swap_axes(axis, last);
    result
}

#[inline(always)]
/// One lane, in place. An f32 result takes its exps from
/// `exp_rounded_to_f32`, which agrees with glibc's once rounded.
fn normalise(values: &mut [f64], row: Row, f32_result: bool) {
    let exp = |v: f64| {
        if f32_result {
            exp_rounded_to_f32(v)
        } else {
            v.exp()
        }
    };
    let n = values.len() as f64;
    let accuracy = if f32_result {
        Accuracy::ForF32
    } else {
        Accuracy::Compensated
    };
    match row {
        // exp(x - max) normalised: the max-subtraction keeps exp finite.
        Row::Softmax => {
            let top = lane_extreme(values, true, |v| v);
            values.iter_mut().for_each(|v| *v = exp(*v - top));
            let total = lane_sum(values, accuracy, |v| v);
            values.iter_mut().for_each(|v| *v /= total);
        }
        // x - logsumexp(x), never the log of a softmax that underflowed to 0.
        Row::LogSoftmax => {
            let top = lane_extreme(values, true, |v| v);
            let log_total = lane_sum(values, accuracy, |v| exp(v - top)).ln();
            values.iter_mut().for_each(|v| *v = *v - top - log_total);
        }
        // (x - mean) / sqrt(var + eps), the population variance, no affine.
        Row::Layernorm(eps) => {
            let mu = lane_sum(values, accuracy, |v| v) / n;
            let var = lane_sum(values, accuracy, |v| (v - mu) * (v - mu)) / n;
            let denominator = (var + eps).sqrt();
            values.iter_mut().for_each(|v| *v = (*v - mu) / denominator);
        }
    }
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
