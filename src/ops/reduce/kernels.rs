//! The run-time kernels of the reductions: groups of elements folded in
//! their own element type (no f64 copy of the input), groups in parallel,
//! and sums over leading axes read in memory order.

use ndarray::{ArrayView1, Axis as NdAxis, IxDyn, Order};
use rayon::prelude::*;

use super::sum::{accurate_sum, column_sums, lane_extreme, lane_sum, Accuracy};
use crate::error::Diagnostic;
use crate::eval::interp::{internal, runtime_error, Eval};
use crate::eval::parallel::{wide, PARALLEL_MIN};
use crate::eval::value::{self, Array, Element, Value};
use crate::eval::Interp;
use crate::ops::Bound;
use crate::source::Span;
use crate::with_array;
use value::Tensor::{Bool, F64, I64};

/// The elements of x that fold into each result element.
struct Groups<'s> {
    /// The reduced axes, ascending, so that a group lists its elements in
    /// row-major order (what `argmax` counts in).
    axes: Vec<usize>,
    /// The result's shape, as the checker proved it.
    shape: Vec<usize>,
    span: Span,
    name: &'s str,
}

impl Groups<'_> {
    /// Reduces each group with `f`: x viewed with the kept axes first and
    /// the reduced ones last, as a matrix with one group per row.
    fn fold<T, R>(
        &self,
        x: &Array<T>,
        f: impl Fn(ArrayView1<T>) -> Eval<R> + Sync + Send,
    ) -> Eval<Array<R>>
    where
        T: Copy + Send + Sync,
        R: Clone + Send,
    {
        let kept = (0..x.ndim()).filter(|i| !self.axes.contains(i));
        let order: Vec<usize> = kept.clone().chain(self.axes.iter().copied()).collect();
        let outer: usize = kept.map(|i| x.len_of(NdAxis(i))).product();
        let inner: usize = self.axes.iter().map(|&i| x.len_of(NdAxis(i))).product();
        let moved = x.view().permuted_axes(IxDyn(&order));
        let rows = moved
            .to_shape(((outer, inner), Order::RowMajor))
            .map_err(|_| internal(self.span, "the groups of a reduction"))?;
        let rows = rows.view();
        let values: Vec<R> = if x.len() >= PARALLEL_MIN && outer > 1 {
            rows.axis_iter(NdAxis(0))
                .into_par_iter()
                .map(&f)
                .collect::<Eval<Vec<R>>>()?
        } else {
            rows.outer_iter().map(&f).collect::<Eval<Vec<R>>>()?
        };
        self.finish(values)
    }

    fn finish<R>(&self, values: Vec<R>) -> Eval<Array<R>> {
        Array::from_shape_vec(IxDyn(&self.shape), values)
            .map_err(|_| internal(self.span, "a reduction result unlike its proved shape"))
    }

    /// Sums of floats in f64. Over leading axes of row-major data the
    /// columns are summed row by row, in memory order.
    fn sums<T: Element>(&self, x: &Array<T>) -> Eval<Array<f64>> {
        let leading = self.axes.iter().enumerate().all(|(i, &a)| i == a);
        let cols: usize = x.shape()[self.axes.len()..].iter().product();
        match x.as_slice() {
            Some(data) if leading && cols > 1 && !self.axes.is_empty() => {
                let mut out = vec![0.0; cols];
                column_sums(data, &mut out, Accuracy::of::<T>(), T::as_f64);
                self.finish(out)
            }
            _ => self.fold(x, |g| Ok(sum_of(g, T::as_f64))),
        }
    }

    /// max, min, argmax and argmin have no value for an empty group; NumPy
    /// refuses the reduction even when the result itself is empty.
    fn need_elements(&self, x: &value::Tensor) -> Eval<()> {
        let shape = x.shape();
        if self.axes.iter().all(|&i| shape[i] > 0) {
            return Ok(());
        }
        let message = match self.name {
            "argmax" | "argmin" => format!("`{}` of an empty sequence", self.name),
            _ => format!(
                "`{}` of a zero-size array, which has no identity",
                self.name
            ),
        };
        Err(runtime_error(self.span, message))
    }

    /// One group's result when the group is never empty.
    fn nonempty<T>(&self, v: Option<T>) -> Eval<T> {
        v.ok_or_else(|| internal(self.span, "an empty group after the check for one"))
    }
}

pub(super) fn reduce_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let rank = x.shape().len();
    let mut axes = ev.arg_axes(b, 1, rank)?;
    axes.sort_unstable();
    axes.dedup();
    let groups = Groups {
        axes,
        shape: ev.out_shape(b)?,
        span: b.span,
        name: b.name,
    };
    let float = x.dtype().is_float();
    let result = match b.name {
        "sum" if float => F64(with_array!(&x, a => groups.sums(a)?)),
        "sum" => I64(groups.fold(&integers(&x), |g| {
            Ok(g.iter().fold(0i64, |s, &v| s.wrapping_add(v)))
        })?),
        "prod" if float => F64(with_array!(&x, a => groups.fold(a, |g| {
            Ok(g.iter().map(|v| v.as_f64()).product())
        })?)),
        "prod" => I64(groups.fold(&integers(&x), |g| {
            Ok(g.iter().fold(1i64, |p, &v| p.wrapping_mul(v)))
        })?),
        "mean" => {
            let count: usize = groups.axes.iter().map(|&i| x.shape()[i]).product();
            let sums = with_array!(&x, a => groups.sums(a)?);
            F64(sums.mapv(|s| s / count as f64).into_shared())
        }
        "var" | "std" => {
            let ddof = ev.arg_int(b, 3, 0)?;
            let root = b.name == "std";
            F64(with_array!(&x, a => groups.fold(a, |g| {
                let var = variance(g, ddof);
                Ok(if root { var.sqrt() } else { var })
            })?))
        }
        "norm" => F64(with_array!(&x, a => groups.fold(a, |g| Ok(norm(g)))?)),
        "logsumexp" => F64(with_array!(&x, a => groups.fold(a, |g| Ok(logsumexp(g)))?)),
        "all" => Bool(with_array!(&x, a => groups.fold(a, |g| {
            Ok(g.iter().all(|v| v.as_f64() != 0.0))
        })?)),
        "any" => Bool(with_array!(&x, a => groups.fold(a, |g| {
            Ok(g.iter().any(|v| v.as_f64() != 0.0))
        })?)),
        "max" | "min" | "argmax" | "argmin" => {
            groups.need_elements(&x)?;
            let greatest = matches!(b.name, "max" | "argmax");
            match (float, b.name.starts_with("arg")) {
                (true, true) => I64(with_array!(&x, a => groups.fold(a, |g| {
                    groups.nonempty(extreme(g, greatest)).map(|(i, _)| i as i64)
                })?)),
                (false, true) => I64(groups.fold(&integers(&x), |g| {
                    groups.nonempty(extreme(g, greatest)).map(|(i, _)| i as i64)
                })?),
                (true, false) => F64(with_array!(&x, a => groups.fold(a, |g| {
                    let best = match g.as_slice() {
                        // A constant direction lets the loop compile to
                        // one compare per element.
                        Some(values) if greatest => wide(
                            #[inline(always)]
                            || lane_extreme(values, true),
                        ),
                        Some(values) => wide(
                            #[inline(always)]
                            || lane_extreme(values, false),
                        ),
                        None => extreme(g, greatest).map(|(_, v)| v),
                    };
                    groups.nonempty(best).map(Element::as_f64)
                })?)),
                (false, false) => I64(groups.fold(&integers(&x), |g| {
                    groups.nonempty(extreme(g, greatest)).map(|(_, v)| v)
                })?),
            }
        }
        _ => return Err(internal(b.span, "a reduction without a kernel")),
    };
    Ok(Value::Tensor(result.cast(ev.out_dtype(b))))
}

/// Integer and bool tensors for the reductions that stay exact in i64.
fn integers(x: &value::Tensor) -> Array<i64> {
    match x {
        I64(a) => a.clone(),
        other => with_array!(other, a => a.mapv(|v| v.as_f64() as i64).into_shared()),
    }
}

/// The sum of `f` over a group, in lanes when it is contiguous.
fn sum_of<T: Element>(g: ArrayView1<T>, f: impl Fn(T) -> f64 + Sync) -> f64 {
    match g.as_slice() {
        Some(values) => lane_sum(values, Accuracy::of::<T>(), f),
        None => accurate_sum(g.iter().map(|&v| f(v))),
    }
}

/// Two passes (the mean first) so that a large mean does not cancel the
/// variance away. The divisor `n - ddof` stops at 0, as NumPy's.
fn variance<T: Element>(g: ArrayView1<T>, ddof: i64) -> f64 {
    let mu = sum_of(g.view(), T::as_f64) / g.len() as f64;
    let squares = sum_of(g.view(), |v| {
        let d = v.as_f64() - mu;
        d * d
    });
    let divisor = (g.len() as i64).saturating_sub(ddof).max(0);
    squares / divisor as f64
}

/// Scaled by the largest magnitude so that squares neither overflow nor
/// underflow.
fn norm<T: Element>(g: ArrayView1<T>) -> f64 {
    let scale = g.iter().fold(0.0f64, |m, &v| {
        let v = v.as_f64();
        if m.is_nan() || v.is_nan() {
            f64::NAN
        } else {
            m.max(v.abs())
        }
    });
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    scale
        * sum_of(g, |v| {
            let v = v.as_f64() / scale;
            v * v
        })
        .sqrt()
}

/// `max + log Σ exp(x - max)`: no term overflows. All -inf (or none) is
/// -inf, any +inf is +inf, any nan is nan.
fn logsumexp<T: Element + PartialOrd>(g: ArrayView1<T>) -> f64 {
    if g.is_empty() {
        return f64::NEG_INFINITY;
    }
    let top = match g.as_slice() {
        Some(values) => lane_extreme(values, true).map_or(f64::NEG_INFINITY, T::as_f64),
        None => g.iter().fold(f64::NEG_INFINITY, |m, v| {
            super::super::math::maximum(m, v.as_f64())
        }),
    };
    if !top.is_finite() {
        return top;
    }
    top + sum_of(g, |v| (v.as_f64() - top).exp()).ln()
}

/// The first greatest (or least) element and its position; nan wins, at
/// its first occurrence, as in NumPy's max and argmax.
pub(super) fn extreme<T: PartialOrd + Copy>(
    g: ArrayView1<T>,
    greatest: bool,
) -> Option<(usize, T)> {
    let unordered = |v: T| v.partial_cmp(&v).is_none();
    let mut best: Option<(usize, T)> = None;
    for (i, &v) in g.iter().enumerate() {
        match best {
            Some((_, b)) if unordered(b) => break,
            Some((_, b)) if !unordered(v) && !(if greatest { v > b } else { v < b }) => {}
            _ => best = Some((i, v)),
        }
    }
    best
}
