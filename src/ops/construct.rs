//! Constructors: zeros ones full randn rand arange linspace eye triu tril seed.

use ndarray::{Array2, IxDyn};

use super::{Bound, Builtin, Param};
use crate::check::env::Entry;
use crate::check::size::Size;
use crate::check::types::{Axis, DType, Item, Name, Shape, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::eval::interp::{internal, runtime_error, Eval};
use crate::eval::value::{self, Array, Tensor::F64, Tensor::I64, Value};
use crate::eval::Interp;
use crate::map_tensor;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};

use Param::{Optional, Required};

pub(super) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "zeros",
        params: &[Required("shape"), Optional("dtype")],
        rule: filled,
    },
    Builtin {
        name: "ones",
        params: &[Required("shape"), Optional("dtype")],
        rule: filled,
    },
    Builtin {
        name: "randn",
        params: &[Required("shape"), Optional("dtype")],
        rule: random,
    },
    Builtin {
        name: "rand",
        params: &[Required("shape"), Optional("dtype")],
        rule: random,
    },
    Builtin {
        name: "full",
        params: &[Required("shape"), Required("value"), Optional("dtype")],
        rule: full,
    },
    Builtin {
        name: "arange",
        params: &[
            Required("start"),
            Optional("stop"),
            Optional("step"),
            Optional("dtype"),
        ],
        rule: arange,
    },
    Builtin {
        name: "linspace",
        params: &[
            Required("start"),
            Required("stop"),
            Required("n"),
            Optional("dtype"),
        ],
        rule: linspace,
    },
    Builtin {
        name: "eye",
        params: &[Required("n"), Optional("dtype")],
        rule: eye,
    },
    Builtin {
        name: "triu",
        params: &[Required("x"), Optional("k")],
        rule: triangle,
    },
    Builtin {
        name: "tril",
        params: &[Required("x"), Optional("k")],
        rule: triangle,
    },
    Builtin {
        name: "seed",
        params: &[Required("n")],
        rule: seed,
    },
];

fn filled(cx: &mut Checker, b: &Bound) -> Type {
    let (Some(shape), Some(dtype)) = (shape_arg(cx, b.get(0)), cx.dtype_arg(b.get(1), DType::F32))
    else {
        return Type::Unknown;
    };
    Type::tensor(dtype, shape)
}

fn random(cx: &mut Checker, b: &Bound) -> Type {
    let (Some(shape), Some(dtype)) = (shape_arg(cx, b.get(0)), cx.dtype_arg(b.get(1), DType::F32))
    else {
        return Type::Unknown;
    };
    if !dtype.is_float() {
        return cx.fail(Diagnostic::new(
            Code::Dtype,
            b.span_of(1),
            format!("`{}` makes floats, not {dtype}", b.name),
        ));
    }
    Type::tensor(dtype, shape)
}

fn full(cx: &mut Checker, b: &Bound) -> Type {
    let shape = shape_arg(cx, b.get(0));
    let value = cx.scalar_arg(b.get(1));
    let (Some(shape), Some(Some(value))) = (shape, value) else {
        return Type::Unknown;
    };
    let default = if value.dtype == DType::I64 && value.weak {
        DType::F32
    } else {
        value.dtype
    };
    let Some(dtype) = cx.dtype_arg(b.get(2), default) else {
        return Type::Unknown;
    };
    Type::tensor(dtype, shape)
}

fn arange(cx: &mut Checker, b: &Bound) -> Type {
    let exprs: Vec<&Expr> = (0..3).filter_map(|i| b.get(i)).collect();
    let float = exprs.iter().any(|e| is_float_literal(e));
    let mut sizes = Vec::new();
    for e in &exprs {
        if float {
            if cx.scalar_arg(Some(e)).is_none() {
                return Type::Unknown;
            }
            continue;
        }
        match cx.static_size(e) {
            Ok(s) => sizes.push(s),
            Err(d) => return cx.fail(d),
        }
    }
    let Some(dtype) = cx.dtype_arg(b.get(3), if float { DType::F32 } else { DType::I64 }) else {
        return Type::Unknown;
    };
    let literals: Option<Vec<f64>> = exprs.iter().map(|e| literal_number(e)).collect();
    let length = if let (true, Some(v)) = (float, literals) {
        let (start, stop, step) = match v.as_slice() {
            [n] => (0.0, *n, 1.0),
            [a, z] => (*a, *z, 1.0),
            [a, z, s] => (*a, *z, *s),
            _ => return Type::Unknown,
        };
        if step == 0.0 {
            return cx.fail(Diagnostic::new(
                Code::Arg,
                b.span_of(2),
                "`arange` step cannot be zero",
            ));
        }
        // NumPy's length: ceil((stop - start) / step), at least 0.
        let n = ((stop - start) / step).ceil().max(0.0);
        if !n.is_finite() || n > crate::check::MAX_SIZE as f64 {
            return cx.fail(crate::check::limit_error(
                b.span,
                "the length of this `arange`",
            ));
        }
        Size::constant(n as i64)
    } else if float || sizes.iter().any(|s| !s.is_const()) {
        match (b.get(1), b.get(2)) {
            (None, None) if !float => sizes.first().cloned().unwrap_or_else(|| cx.fresh_size()),
            (Some(_), None) if !float => {
                sizes[1].sub(&sizes[0]).unwrap_or_else(|_| cx.fresh_size())
            }
            _ => cx.fresh_size(),
        }
    } else {
        let v: Vec<i64> = sizes.iter().filter_map(Size::as_const).collect();
        let (start, stop, step) = match v.as_slice() {
            [n] => (0, *n, 1),
            [a, z] => (*a, *z, 1),
            [a, z, s] => (*a, *z, *s),
            _ => return Type::Unknown,
        };
        if step == 0 {
            return cx.fail(Diagnostic::new(
                Code::Arg,
                b.span_of(2),
                "`arange` step cannot be zero",
            ));
        }
        let n = (stop - start + step - step.signum())
            .checked_div(step)
            .unwrap_or(0)
            .max(0);
        Size::constant(n)
    };
    let name = match (b.get(0), b.get(1)) {
        (
            Some(Expr {
                kind: ExprKind::Name(n),
                ..
            }),
            None,
        ) if matches!(cx.lookup(n), Some(Entry::Dim(_))) => Some(Name::from(n.as_str())),
        _ => None,
    };
    Type::tensor(dtype, vec![Item::Axis(Axis { size: length, name })])
}

fn linspace(cx: &mut Checker, b: &Bound) -> Type {
    for i in 0..2 {
        if cx.scalar_arg(b.get(i)).is_none() {
            return Type::Unknown;
        }
    }
    let Some(n) = b.get(2) else {
        return Type::Unknown;
    };
    let axis = match size_axis(cx, n) {
        Ok(a) => a,
        Err(d) => return cx.fail(d),
    };
    let Some(dtype) = cx.dtype_arg(b.get(3), DType::F32) else {
        return Type::Unknown;
    };
    Type::tensor(dtype, vec![Item::Axis(axis)])
}

fn eye(cx: &mut Checker, b: &Bound) -> Type {
    let Some(n) = b.get(0) else {
        return Type::Unknown;
    };
    let axis = match size_axis(cx, n) {
        Ok(a) => a,
        Err(d) => return cx.fail(d),
    };
    let Some(dtype) = cx.dtype_arg(b.get(1), DType::F32) else {
        return Type::Unknown;
    };
    Type::tensor(dtype, vec![Item::Axis(axis.clone()), Item::Axis(axis)])
}

fn triangle(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = b.get(0).and_then(|e| cx.tensor_arg(e)) else {
        return Type::Unknown;
    };
    if cx.int_arg(b.get(1), 0).is_none() {
        return Type::Unknown;
    }
    if x.rank().is_some_and(|r| r < 2) {
        let shown = cx.show_shape(&x.shape);
        return cx.fail(
            Diagnostic::new(
                Code::Arg,
                b.span_of(0),
                format!("`{}` needs at least 2 axes, found {shown}", b.name),
            )
            .label(b.span_of(0), shown),
        );
    }
    Type::Tensor(Tensor {
        contiguous: true,
        weak: false,
        ..x
    })
}

fn seed(cx: &mut Checker, b: &Bound) -> Type {
    match b.get(0).map(|e| cx.expr(e)) {
        Some(Type::Tensor(t)) if t.is_scalar() && t.dtype == DType::I64 => Type::Nothing,
        Some(Type::Unknown) | None => Type::Unknown,
        Some(other) => {
            let shown = cx.show(&other);
            cx.fail(Diagnostic::new(
                Code::Arg,
                b.span_of(0),
                format!("`seed` takes an integer, not {shown}"),
            ))
        }
    }
}

/// An axis sized by a static expression; a bare dim names it (10.8).
pub fn size_axis(cx: &mut Checker, e: &Expr) -> Result<Axis, Diagnostic> {
    let size = cx.static_size(e)?;
    if size.as_const().is_some_and(|v| v < 0) {
        return Err(
            Diagnostic::new(Code::Arg, e.span, "a size cannot be negative")
                .label(e.span, "negative"),
        );
    }
    let name = match &e.kind {
        ExprKind::Name(n)
            if matches!(cx.lookup(n), Some(Entry::Dim(_)) | Some(Entry::Generic(_))) =>
        {
            Some(Name::from(n.as_str()))
        }
        _ => None,
    };
    Ok(Axis { size, name })
}

/// A shape slot: `[B, T, 3]`, `x.shape`, or `[]`.
pub fn shape_arg(cx: &mut Checker, e: Option<&Expr>) -> Option<Shape> {
    let e = e?;
    match &e.kind {
        ExprKind::List(items) => {
            let mut shape = Vec::with_capacity(items.len());
            let mut ok = true;
            for item in items {
                match size_axis(cx, item) {
                    Ok(axis) => shape.push(Item::Axis(axis)),
                    Err(d) => {
                        cx.report(d);
                        ok = false;
                    }
                }
            }
            if let Err(d) = crate::check::check_element_count(&shape, e.span) {
                cx.report(d);
                return None;
            }
            ok.then_some(shape)
        }
        _ => match cx.expr(e) {
            Type::ShapeValue(shape) => Some(shape),
            Type::Unknown => None,
            other => {
                let shown = cx.show(&other);
                cx.report(
                    Diagnostic::new(
                        Code::Arg,
                        e.span,
                        format!("expected a shape like `[B, T]`, found {shown}"),
                    )
                    .label(e.span, shown),
                );
                None
            }
        },
    }
}

fn is_float_literal(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Float(_) => true,
        ExprKind::Unary { operand, .. } => is_float_literal(operand),
        _ => false,
    }
}

/// The value of a number literal, possibly negated.
fn literal_number(e: &Expr) -> Option<f64> {
    match &e.kind {
        ExprKind::Float(v) => Some(*v),
        ExprKind::Int(Some(v)) => Some(*v as f64),
        ExprKind::Unary { operand, .. } => literal_number(operand).map(|v| -v),
        _ => None,
    }
}

pub(super) static KERNELS: &[(&str, super::Kernel)] = &[
    ("zeros", filled_kernel),
    ("ones", filled_kernel),
    ("full", full_kernel),
    ("randn", random_kernel),
    ("rand", random_kernel),
    ("arange", arange_kernel),
    ("linspace", linspace_kernel),
    ("eye", eye_kernel),
    ("triu", triangle_kernel),
    ("tril", triangle_kernel),
    ("seed", seed_kernel),
];

fn filled_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let fill = if b.name == "ones" { 1.0 } else { 0.0 };
    let value = value::Tensor::scalar_f64(ev.out_dtype(b), fill);
    repeat(ev, b, value)
}

/// The value is converted to the result's type before it is repeated, so
/// a large i64 keeps every digit.
fn full_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let value = ev.arg_tensor(b, 1)?.cast(ev.out_dtype(b));
    repeat(ev, b, value)
}

/// The result's proved shape filled with the one element of `value`.
fn repeat(ev: &Interp, b: &Bound, value: value::Tensor) -> Result<Value, Diagnostic> {
    let shape = ev.out_shape(b)?;
    ev.fits_in_memory(&shape, value.dtype().width(), b.span)?;
    let missing = || internal(b.span, "a fill value without an element");
    Ok(Value::Tensor(map_tensor!(value, a => {
        let v = a.iter().next().cloned().ok_or_else(missing)?;
        Array::from_elem(IxDyn(&shape), v)
    })))
}

/// Random numbers are drawn in f64 whatever the result's type.
fn random_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let shape = ev.out_shape(b)?;
    ev.fits_in_memory(&shape, F64_BYTES, b.span)?;
    let dtype = ev.out_dtype(b);
    Ok(Value::Tensor(ev.random(&shape, dtype, b.name == "randn")))
}

/// arange, linspace, eye and the random constructors compute in i64 or
/// f64 before they convert to the result's type.
const F64_BYTES: u64 = 8;

/// `arange(n)`, `arange(a, b)`, `arange(a, b, step)`: integers when every
/// bound is (static sizes), floats when one is written as a float.
fn arange_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let bounds: Vec<&Expr> = (0..3).filter_map(|i| b.get(i)).collect();
    let values = if bounds.iter().any(|e| is_float_literal(e)) {
        let mut floats = Vec::with_capacity(bounds.len());
        for e in &bounds {
            let v = ev.tensor(e)?.item();
            floats
                .push(v.ok_or_else(|| internal(e.span, "an `arange` bound that is not a scalar"))?);
        }
        Bounds::Float(triple(&floats, 0.0, 1.0, b.span)?)
    } else {
        let ints = bounds
            .iter()
            .map(|e| ev.static_size(e))
            .collect::<Eval<Vec<i64>>>()?;
        Bounds::Int(triple(&ints, 0, 1, b.span)?)
    };
    // The checker knows the length unless it depends on the values (float
    // bounds that are not literals, a step over symbolic bounds).
    let length = match ev.out_shape(b) {
        Ok(shape) => shape.first().copied().unwrap_or(0),
        Err(_) => values.length(b.span)?,
    };
    ev.fits_in_memory(&[length], F64_BYTES, b.span)?;
    let data = match values {
        Bounds::Int((start, _, step)) => I64(Array::from_shape_fn(IxDyn(&[length]), |i| {
            start.wrapping_add((i[0] as i64).wrapping_mul(step))
        })),
        Bounds::Float((start, _, step)) => F64(Array::from_shape_fn(IxDyn(&[length]), |i| {
            start + i[0] as f64 * step
        })),
    };
    Ok(Value::Tensor(data.cast(ev.out_dtype(b))))
}

/// `(start, stop, step)` from one, two or three bounds, as Python's range.
fn triple<T: Copy>(v: &[T], zero: T, one: T, span: Span) -> Eval<(T, T, T)> {
    match *v {
        [n] => Ok((zero, n, one)),
        [a, z] => Ok((a, z, one)),
        [a, z, s] => Ok((a, z, s)),
        _ => Err(internal(span, "an `arange` without bounds")),
    }
}

enum Bounds {
    Int((i64, i64, i64)),
    Float((f64, f64, f64)),
}

impl Bounds {
    /// NumPy's length: `ceil((stop - start) / step)`, at least 0.
    fn length(&self, span: Span) -> Eval<usize> {
        let n = match *self {
            Bounds::Int((start, stop, step)) if step != 0 => {
                let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
                ((stop - start + step - step.signum()) / step).max(0) as f64
            }
            Bounds::Float((start, stop, step)) if step != 0.0 => {
                ((stop - start) / step).ceil().max(0.0)
            }
            _ => return Err(runtime_error(span, "the step of this `arange` is zero")),
        };
        if n.is_nan() || n > crate::check::MAX_SIZE as f64 {
            return Err(runtime_error(
                span,
                "this `arange` would have more elements than tsr's limit of 2^48",
            ));
        }
        Ok(n as usize)
    }
}

/// NumPy's `start + i * step` with the last value exactly `stop`; integer
/// results are floored, as NumPy 2 does.
fn linspace_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let (start, stop) = (ev.arg_number(b, 0, 0.0)?, ev.arg_number(b, 1, 0.0)?);
    let n = ev.out_shape(b)?.first().copied().unwrap_or(0);
    ev.fits_in_memory(&[n], F64_BYTES, b.span)?;
    let dtype = ev.out_dtype(b);
    let step = (stop - start) / n.saturating_sub(1).max(1) as f64;
    let values = Array::from_shape_fn(IxDyn(&[n]), |i| {
        let v = if i[0] + 1 == n && n > 1 {
            stop
        } else {
            start + i[0] as f64 * step
        };
        if dtype == DType::I64 {
            v.floor()
        } else {
            v
        }
    });
    Ok(Value::Tensor(F64(values).cast(dtype)))
}

fn eye_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let &[n, m] = ev.out_shape(b)?.as_slice() else {
        return Err(internal(
            b.span,
            "an `eye` whose proved shape is not a matrix",
        ));
    };
    ev.fits_in_memory(&[n, m], F64_BYTES, b.span)?;
    let values = Array2::from_shape_fn((n, m), |(i, j)| if i == j { 1.0 } else { 0.0 });
    Ok(Value::Tensor(
        F64(values.into_dyn().into_shared()).cast(ev.out_dtype(b)),
    ))
}

/// triu keeps the elements on and above the k-th diagonal of each matrix
/// (the last two axes), tril those on and below it; the rest become 0.
fn triangle_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let k = ev.arg_int(b, 1, 0)?;
    let shape = x.shape().to_vec();
    let [batch @ .., rows, cols] = shape.as_slice() else {
        return Err(runtime_error(
            b.span_of(0),
            format!("`{}` needs at least 2 axes, found {shape:?}", b.name),
        ));
    };
    let upper = b.name == "triu";
    let keep = |i: usize, j: usize| {
        let offset = j as i64 - i as i64;
        if upper {
            offset >= k
        } else {
            offset <= k
        }
    };
    let matrices = (batch.iter().product::<usize>(), *rows, *cols);
    let failed = || internal(b.span, "reshaping the matrices of a triangle");
    let masked = map_tensor!(x, a => {
        let mut m = a
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order(matrices)
            .map_err(|_| failed())?;
        for mut matrix in m.outer_iter_mut() {
            for ((i, j), v) in matrix.indexed_iter_mut() {
                if !keep(i, j) {
                    *v = Default::default();
                }
            }
        }
        m.into_shape_with_order(IxDyn(&shape))
            .map_err(|_| failed())?
            .into_shared()
    });
    Ok(Value::Tensor(masked))
}

/// The random numbers that follow depend only on `n`; a negative seed is
/// read as its two's complement.
fn seed_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let n = match ev.arg_tensor(b, 0)? {
        I64(a) => a.iter().next().copied(),
        other => other.item().map(|v| v as i64),
    };
    let n = n.ok_or_else(|| internal(b.span_of(0), "a seed that is not a scalar"))?;
    ev.reseed(n as u64);
    Ok(Value::Nothing)
}
