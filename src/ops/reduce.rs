//! Reductions over axes, and the softmax / normalisation family.

use ndarray::{ArrayView1, ArrayViewMut, ArrayViewMut1, Axis as NdAxis, Dimension, IxDyn, Order};

use super::{Bound, Builtin, Param};
use crate::check::size::Size;
use crate::check::types::{Axis, DType, Item, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::eval::interp::{internal, runtime_error, Eval};
use crate::eval::value::{self, Array, Element, Value};
use crate::eval::Interp;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};
use crate::with_array;
use value::Tensor::{Bool, F32, F64, I64};

use Param::{Optional, Required};

const REDUCE: &[Param] = &[Required("x"), Optional("axis"), Optional("keepdims")];
const MOMENT: &[Param] = &[
    Required("x"),
    Optional("axis"),
    Optional("keepdims"),
    Optional("ddof"),
];
const ALONG: &[Param] = &[Required("x"), Required("axis")];
const NORMALIZE: &[Param] = &[Required("x"), Required("axis"), Optional("eps")];

pub(super) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "sum",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "prod",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "mean",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "max",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "min",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "argmax",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "argmin",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "logsumexp",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "norm",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "all",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "any",
        params: REDUCE,
        rule: reduce,
    },
    Builtin {
        name: "var",
        params: MOMENT,
        rule: reduce,
    },
    Builtin {
        name: "std",
        params: MOMENT,
        rule: reduce,
    },
    Builtin {
        name: "softmax",
        params: ALONG,
        rule: along,
    },
    Builtin {
        name: "log_softmax",
        params: ALONG,
        rule: along,
    },
    Builtin {
        name: "layernorm",
        params: NORMALIZE,
        rule: along,
    },
    Builtin {
        name: "batchnorm",
        params: NORMALIZE,
        rule: along,
    },
];

fn result_dtype(name: &str, input: DType) -> DType {
    match name {
        "sum" | "prod" if input == DType::Bool => DType::I64,
        "argmax" | "argmin" => DType::I64,
        "all" | "any" => DType::Bool,
        "mean" | "var" | "std" | "norm" | "logsumexp" => input.to_float(),
        _ => input,
    }
}

fn reduce(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = b.get(0).and_then(|e| cx.tensor_arg(e)) else {
        return Type::Unknown;
    };
    let numeric_only = !matches!(
        b.name,
        "all" | "any" | "sum" | "prod" | "max" | "min" | "argmax" | "argmin"
    );
    if numeric_only && x.dtype == DType::Bool {
        return cx.fail(super::args::bool_operand(b.name, b.span_of(0)));
    }
    let Some(keepdims) = cx.bool_arg(b.get(2), false) else {
        return Type::Unknown;
    };
    if let Some(e) = b.get(3) {
        if cx.int_arg(Some(e), 0).is_none() {
            return Type::Unknown;
        }
    }
    let Some(axes) = reduced_axes(cx, &x, b.get(1)) else {
        return Type::Unknown;
    };
    let mut shape = Vec::with_capacity(x.shape.len());
    for (i, item) in x.shape.iter().enumerate() {
        match (axes.contains(&i), item) {
            (false, item) => shape.push(item.clone()),
            (true, Item::Axis(a)) if keepdims => shape.push(Item::Axis(Axis {
                size: Size::constant(1),
                name: a.name.clone(),
            })),
            (true, _) => {}
        }
    }
    if b.get(1).is_none() && !keepdims {
        shape.clear();
    }
    Type::Tensor(Tensor {
        dtype: result_dtype(b.name, x.dtype),
        shape,
        contiguous: true,
        weak: false,
    })
}

/// The axes a reduction removes: every axis when omitted.
pub fn reduced_axes(cx: &mut Checker, x: &Tensor, axis: Option<&Expr>) -> Option<Vec<usize>> {
    let Some(axis) = axis else {
        return Some((0..x.shape.len()).collect());
    };
    let exprs: Vec<&Expr> = match &axis.kind {
        ExprKind::List(items) => items.iter().collect(),
        _ => vec![axis],
    };
    let mut axes = Vec::with_capacity(exprs.len());
    for e in exprs {
        match cx.axis_index(&x.shape, e) {
            Ok(i) if axes.contains(&i) => {
                cx.report(
                    Diagnostic::new(Code::Axis, e.span, format!("axis {i} is named twice"))
                        .label(e.span, "repeated"),
                );
                return None;
            }
            Ok(i) => axes.push(i),
            Err(d) => {
                cx.report(d);
                return None;
            }
        }
    }
    Some(axes)
}

/// Shape-preserving ops along one axis: softmax, log_softmax, layernorm, batchnorm.
fn along(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = b.get(0).and_then(|e| cx.tensor_arg(e)) else {
        return Type::Unknown;
    };
    if x.dtype == DType::Bool {
        return cx.fail(super::args::bool_operand(b.name, b.span_of(0)));
    }
    let Some(axis) = b.get(1) else {
        return Type::Unknown;
    };
    if let Err(d) = cx.axis_index(&x.shape, axis) {
        return cx.fail(d);
    }
    if b.slots.len() > 2 && cx.scalar_arg(b.get(2)).is_none() {
        return Type::Unknown;
    }
    Type::Tensor(Tensor {
        dtype: x.dtype.to_float(),
        contiguous: true,
        weak: false,
        ..x
    })
}

pub(super) static KERNELS: &[(&str, super::Kernel)] = &[
    ("sum", reduce_kernel),
    ("prod", reduce_kernel),
    ("mean", reduce_kernel),
    ("max", reduce_kernel),
    ("min", reduce_kernel),
    ("argmax", reduce_kernel),
    ("argmin", reduce_kernel),
    ("logsumexp", reduce_kernel),
    ("norm", reduce_kernel),
    ("all", reduce_kernel),
    ("any", reduce_kernel),
    ("var", reduce_kernel),
    ("std", reduce_kernel),
    ("softmax", along_kernel),
    ("log_softmax", along_kernel),
    ("layernorm", along_kernel),
    ("batchnorm", along_kernel),
];

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
    fn fold<T: Clone, R: Clone>(
        &self,
        x: &Array<T>,
        mut f: impl FnMut(ArrayView1<T>) -> Eval<R>,
    ) -> Eval<Array<R>> {
        let kept = (0..x.ndim()).filter(|i| !self.axes.contains(i));
        let order: Vec<usize> = kept.clone().chain(self.axes.iter().copied()).collect();
        let outer: usize = kept.map(|i| x.len_of(NdAxis(i))).product();
        let inner: usize = self.axes.iter().map(|&i| x.len_of(NdAxis(i))).product();
        let moved = x.view().permuted_axes(IxDyn(&order));
        let rows = moved
            .to_shape(((outer, inner), Order::RowMajor))
            .map_err(|_| internal(self.span, "the groups of a reduction"))?;
        let values = rows.outer_iter().map(&mut f).collect::<Eval<Vec<R>>>()?;
        Array::from_shape_vec(IxDyn(&self.shape), values)
            .map(|a| a.into_shared())
            .map_err(|_| internal(self.span, "a reduction result unlike its proved shape"))
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

fn reduce_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
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
        "sum" if float => F64(groups.fold(&floats(&x), |g| Ok(total(g)))?),
        "sum" => I64(groups.fold(&integers(&x), |g| {
            Ok(g.iter().fold(0i64, |s, &v| s.wrapping_add(v)))
        })?),
        "prod" if float => F64(groups.fold(&floats(&x), |g| Ok(g.iter().product()))?),
        "prod" => I64(groups.fold(&integers(&x), |g| {
            Ok(g.iter().fold(1i64, |p, &v| p.wrapping_mul(v)))
        })?),
        "mean" => F64(groups.fold(&floats(&x), |g| Ok(mean(g)))?),
        "var" | "std" => {
            let ddof = ev.arg_int(b, 3, 0)?;
            let root = b.name == "std";
            F64(groups.fold(&floats(&x), |g| {
                let var = variance(g, ddof);
                Ok(if root { var.sqrt() } else { var })
            })?)
        }
        "norm" => F64(groups.fold(&floats(&x), |g| Ok(norm(g)))?),
        "logsumexp" => F64(groups.fold(&floats(&x), |g| Ok(logsumexp(g)))?),
        "all" => Bool(groups.fold(&truths(&x), |g| Ok(g.iter().all(|&v| v)))?),
        "any" => Bool(groups.fold(&truths(&x), |g| Ok(g.iter().any(|&v| v)))?),
        "max" | "min" | "argmax" | "argmin" => {
            groups.need_elements(&x)?;
            let greatest = matches!(b.name, "max" | "argmax");
            let position = b.name.starts_with("arg");
            match (float, position) {
                (true, true) => I64(groups.fold(&floats(&x), |g| {
                    groups.nonempty(extreme(g, greatest)).map(|(i, _)| i as i64)
                })?),
                (false, true) => I64(groups.fold(&integers(&x), |g| {
                    groups.nonempty(extreme(g, greatest)).map(|(i, _)| i as i64)
                })?),
                (true, false) => F64(groups.fold(&floats(&x), |g| {
                    groups.nonempty(extreme(g, greatest)).map(|(_, v)| v)
                })?),
                (false, false) => I64(groups.fold(&integers(&x), |g| {
                    groups.nonempty(extreme(g, greatest)).map(|(_, v)| v)
                })?),
            }
        }
        _ => return Err(internal(b.span, "a reduction without a kernel")),
    };
    Ok(Value::Tensor(result.cast(ev.out_dtype(b))))
}

/// Reductions of floats run in f64, whatever the input: f32 results are
/// the f64 ones rounded once, and integer means do not overflow.
fn floats(x: &value::Tensor) -> Array<f64> {
    match x {
        F64(a) => a.clone(),
        other => with_array!(other, a => a.mapv(Element::as_f64).into_shared()),
    }
}

/// Integer and bool tensors for the reductions that stay exact in i64.
fn integers(x: &value::Tensor) -> Array<i64> {
    match x {
        I64(a) => a.clone(),
        Bool(a) => a.mapv(i64::from).into_shared(),
        F32(a) => a.mapv(|v| v as i64).into_shared(),
        F64(a) => a.mapv(|v| v as i64).into_shared(),
    }
}

/// Truth as NumPy's: anything but zero, nan included.
fn truths(x: &value::Tensor) -> Array<bool> {
    with_array!(x, a => a.mapv(|v| v.as_f64() != 0.0).into_shared())
}

/// Neumaier's compensated sum: at least as accurate as NumPy's pairwise
/// summation, whatever the order of magnitudes.
fn accurate_sum(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut lost) = (0.0f64, 0.0f64);
    for v in values {
        let next = sum + v;
        lost += if sum.abs() >= v.abs() {
            (sum - next) + v
        } else {
            (v - next) + sum
        };
        sum = next;
    }
    // Past an infinity the compensation is inf - inf: the sum alone is right.
    if sum.is_finite() {
        sum + lost
    } else {
        sum
    }
}

fn total(g: ArrayView1<f64>) -> f64 {
    accurate_sum(g.iter().copied())
}

/// nan for an empty group, as NumPy's.
fn mean(g: ArrayView1<f64>) -> f64 {
    total(g) / g.len() as f64
}

/// Two passes (the mean first) so that a large mean does not cancel the
/// variance away. The divisor `n - ddof` stops at 0, as NumPy's.
fn variance(g: ArrayView1<f64>, ddof: i64) -> f64 {
    let mu = mean(g);
    let squares = accurate_sum(g.iter().map(|&v| (v - mu) * (v - mu)));
    let divisor = (g.len() as i64).saturating_sub(ddof).max(0);
    squares / divisor as f64
}

/// Scaled by the largest magnitude so that squares neither overflow nor
/// underflow.
fn norm(g: ArrayView1<f64>) -> f64 {
    let scale = g.iter().fold(0.0f64, |m, &v| {
        if m.is_nan() || v.is_nan() {
            f64::NAN
        } else {
            m.max(v.abs())
        }
    });
    if scale == 0.0 || !scale.is_finite() {
        return scale;
    }
    scale * accurate_sum(g.iter().map(|&v| (v / scale) * (v / scale))).sqrt()
}

/// `max + log Σ exp(x - max)`: no term overflows. All -inf (or none) is
/// -inf, any +inf is +inf, any nan is nan.
fn logsumexp(g: ArrayView1<f64>) -> f64 {
    let top = match extreme(g, true) {
        Some((_, top)) => top,
        None => return f64::NEG_INFINITY,
    };
    if !top.is_finite() {
        return top;
    }
    top + accurate_sum(g.iter().map(|&v| (v - top).exp())).ln()
}

/// The first greatest (or least) element and its position; nan wins, at
/// its first occurrence, as in NumPy's max and argmax.
fn extreme<T: PartialOrd + Copy>(g: ArrayView1<T>, greatest: bool) -> Option<(usize, T)> {
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

/// softmax, log_softmax and layernorm along one axis; batchnorm over every
/// axis but one. Computed in f64 and rounded once to the proved type.
fn along_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let axis = ev.data_axis(b, 1, 0, x.shape().len())?;
    let eps = ev.arg_number(b, 2, 1e-5)?;
    let mut y = floats(&x).into_owned();
    match b.name {
        "softmax" => y.lanes_mut(NdAxis(axis)).into_iter().for_each(softmax),
        "log_softmax" => y.lanes_mut(NdAxis(axis)).into_iter().for_each(log_softmax),
        "layernorm" => y
            .lanes_mut(NdAxis(axis))
            .into_iter()
            .for_each(|lane| standardize(lane, eps)),
        "batchnorm" => y
            .axis_iter_mut(NdAxis(axis))
            .for_each(|slice| standardize(slice, eps)),
        _ => return Err(internal(b.span, "a normalisation without a kernel")),
    }
    Ok(Value::Tensor(F64(y.into_shared()).cast(ev.out_dtype(b))))
}

/// `exp(x - max)` normalised: the max-subtraction keeps exp finite.
fn softmax(mut lane: ArrayViewMut1<f64>) {
    let top = extreme(lane.view(), true).map_or(0.0, |(_, v)| v);
    lane.mapv_inplace(|v| (v - top).exp());
    let total = accurate_sum(lane.iter().copied());
    lane.mapv_inplace(|v| v / total);
}

/// `x - logsumexp(x)`, never the log of a softmax that underflowed to 0.
fn log_softmax(mut lane: ArrayViewMut1<f64>) {
    let top = extreme(lane.view(), true).map_or(0.0, |(_, v)| v);
    let log_total = accurate_sum(lane.iter().map(|&v| (v - top).exp())).ln();
    lane.mapv_inplace(|v| v - top - log_total);
}

/// `(x - mean) / sqrt(var + eps)` with the population variance, no affine.
fn standardize<D: Dimension>(mut values: ArrayViewMut<f64, D>, eps: f64) {
    let n = values.len() as f64;
    let mu = accurate_sum(values.iter().copied()) / n;
    let var = accurate_sum(values.iter().map(|&v| (v - mu) * (v - mu))) / n;
    let denominator = (var + eps).sqrt();
    values.mapv_inplace(|v| (v - mu) / denominator);
}
