//! Elementwise functions and casts: shape-preserving, or broadcasting for
//! several operands.

use ndarray::{Dimension, IxDyn};

use super::{Bound, Builtin, Param};
use crate::check::expr::{promote, Operand};
use crate::check::types::{DType, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::eval::interp::{internal, runtime_error, Eval};
use crate::eval::parallel::{self, zip2, zip3};
use crate::eval::value::{self, Array, Value};
use crate::eval::Interp;
use crate::map_tensor;
use crate::ops::math::{Binary, Unary};
use crate::source::Span;
use crate::with_unary;

use Param::Required;

const X: &[Param] = &[Required("x")];

pub(super) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "exp",
        params: X,
        rule: float_math,
    },
    Builtin {
        name: "log",
        params: X,
        rule: float_math,
    },
    Builtin {
        name: "sqrt",
        params: X,
        rule: float_math,
    },
    Builtin {
        name: "sin",
        params: X,
        rule: float_math,
    },
    Builtin {
        name: "cos",
        params: X,
        rule: float_math,
    },
    Builtin {
        name: "tanh",
        params: X,
        rule: float_math,
    },
    Builtin {
        name: "sigmoid",
        params: X,
        rule: float_math,
    },
    Builtin {
        name: "gelu",
        params: X,
        rule: float_math,
    },
    Builtin {
        name: "abs",
        params: X,
        rule: numeric,
    },
    Builtin {
        name: "relu",
        params: X,
        rule: numeric,
    },
    Builtin {
        name: "sign",
        params: X,
        rule: numeric,
    },
    Builtin {
        name: "floor",
        params: X,
        rule: numeric,
    },
    Builtin {
        name: "isnan",
        params: X,
        rule: isnan,
    },
    Builtin {
        name: "f32",
        params: X,
        rule: cast,
    },
    Builtin {
        name: "f64",
        params: X,
        rule: cast,
    },
    Builtin {
        name: "i64",
        params: X,
        rule: cast,
    },
    Builtin {
        name: "bool",
        params: X,
        rule: cast,
    },
    Builtin {
        name: "contiguous",
        params: X,
        rule: contiguous,
    },
    Builtin {
        name: "maximum",
        params: &[Required("a"), Required("b")],
        rule: binary,
    },
    Builtin {
        name: "minimum",
        params: &[Required("a"), Required("b")],
        rule: binary,
    },
    Builtin {
        name: "pow",
        params: &[Required("a"), Required("b")],
        rule: binary,
    },
    Builtin {
        name: "where",
        params: &[Required("cond"), Required("a"), Required("b")],
        rule: select,
    },
];

fn unary_arg(cx: &mut Checker, b: &Bound) -> Option<Tensor> {
    b.get(0).and_then(|e| cx.tensor_arg(e))
}

fn result(dtype: DType, x: Tensor) -> Type {
    Type::Tensor(Tensor {
        dtype,
        contiguous: true,
        ..x
    })
}

fn float_math(cx: &mut Checker, b: &Bound) -> Type {
    match unary_arg(cx, b) {
        Some(x) if x.dtype == DType::Bool => bool_error(cx, b),
        Some(x) => result(x.dtype.to_float(), x),
        None => Type::Unknown,
    }
}

fn numeric(cx: &mut Checker, b: &Bound) -> Type {
    match unary_arg(cx, b) {
        Some(x) if x.dtype == DType::Bool => bool_error(cx, b),
        Some(x) => result(x.dtype, x),
        None => Type::Unknown,
    }
}

fn bool_error(cx: &mut Checker, b: &Bound) -> Type {
    cx.fail(super::args::bool_operand(b.name, b.span_of(0)))
}

fn isnan(cx: &mut Checker, b: &Bound) -> Type {
    match unary_arg(cx, b) {
        Some(x) => result(DType::Bool, Tensor { weak: false, ..x }),
        None => Type::Unknown,
    }
}

fn cast(cx: &mut Checker, b: &Bound) -> Type {
    let dtype = DType::from_name(b.name).unwrap_or(DType::F32);
    match unary_arg(cx, b) {
        Some(x) => result(dtype, Tensor { weak: false, ..x }),
        None => Type::Unknown,
    }
}

fn contiguous(cx: &mut Checker, b: &Bound) -> Type {
    match unary_arg(cx, b) {
        Some(x) => result(x.dtype, x),
        None => Type::Unknown,
    }
}

fn binary(cx: &mut Checker, b: &Bound) -> Type {
    let (Some(l), Some(r)) = (b.get(0), b.get(1)) else {
        return Type::Unknown;
    };
    let (Some(lt), Some(rt)) = (cx.tensor_arg(l), cx.tensor_arg(r)) else {
        return Type::Unknown;
    };
    let dtype = promote(&lt, &rt);
    let operands = [
        Operand {
            ty: &lt,
            span: l.span,
            expr: Some(l),
        },
        Operand {
            ty: &rt,
            span: r.span,
            expr: Some(r),
        },
    ];
    match cx.broadcast_operands(&operands, b.span, b.name) {
        Some(shape) => Type::Tensor(Tensor {
            dtype,
            shape,
            contiguous: true,
            weak: lt.weak && rt.weak,
        }),
        None => Type::Unknown,
    }
}

fn select(cx: &mut Checker, b: &Bound) -> Type {
    let exprs: Vec<_> = (0..3).filter_map(|i| b.get(i)).collect();
    let tensors: Vec<Option<Tensor>> = exprs.iter().map(|e| cx.tensor_arg(e)).collect();
    let Some(tensors) = tensors.into_iter().collect::<Option<Vec<Tensor>>>() else {
        return Type::Unknown;
    };
    if tensors.len() != 3 {
        return Type::Unknown;
    }
    if tensors[0].dtype != DType::Bool {
        let dtype = tensors[0].dtype;
        return cx.fail(
            Diagnostic::new(
                Code::Dtype,
                exprs[0].span,
                format!("the condition of `where` must be bool, not {dtype}"),
            )
            .label(exprs[0].span, dtype.as_str())
            .help("compare it first, e.g. `where(x > 0, a, b)`"),
        );
    }
    let dtype = promote(&tensors[1], &tensors[2]);
    let operands: Vec<Operand> = tensors
        .iter()
        .zip(&exprs)
        .map(|(t, e)| Operand {
            ty: t,
            span: e.span,
            expr: Some(e),
        })
        .collect();
    match cx.broadcast_operands(&operands, b.span, "where") {
        Some(shape) => Type::Tensor(Tensor {
            dtype,
            shape,
            contiguous: true,
            weak: tensors[1].weak && tensors[2].weak,
        }),
        None => Type::Unknown,
    }
}

pub(super) static KERNELS: &[(&str, super::Kernel)] = &[
    ("exp", unary_kernel),
    ("log", unary_kernel),
    ("sqrt", unary_kernel),
    ("sin", unary_kernel),
    ("cos", unary_kernel),
    ("tanh", unary_kernel),
    ("sigmoid", unary_kernel),
    ("gelu", unary_kernel),
    ("abs", unary_kernel),
    ("relu", unary_kernel),
    ("sign", unary_kernel),
    ("floor", unary_kernel),
    ("isnan", isnan_kernel),
    ("f32", cast_kernel),
    ("f64", cast_kernel),
    ("i64", cast_kernel),
    ("bool", cast_kernel),
    ("contiguous", contiguous_kernel),
    ("maximum", binary_kernel),
    ("minimum", binary_kernel),
    ("pow", binary_kernel),
    ("where", where_kernel),
];

/// exp, log, sqrt, sin, cos, tanh, sigmoid, gelu; abs, relu, sign, floor
/// (which keep integers integers).
fn unary_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let op = Unary::from_name(b.name)
        .ok_or_else(|| internal(b.span, "a float function without a kernel"))?;
    let x = ev.arg_tensor(b, 0)?.cast(ev.out_dtype(b));
    if let value::Tensor::I64(a) = &x {
        let int: fn(i64) -> i64 = match op {
            Unary::Abs => i64::wrapping_abs,
            Unary::Relu => |v| v.max(0),
            Unary::Sign => i64::signum,
            _ => |v| v,
        };
        return Ok(Value::Tensor(value::Tensor::I64(parallel::map(a, int))));
    }
    map_float(&x, op, b.span).map(Value::Tensor)
}

/// Applies `op` to every element of a float tensor, in f64: an f32 result
/// is the f64 one rounded once.
pub fn map_float(x: &value::Tensor, op: Unary, span: Span) -> Eval<value::Tensor> {
    match x {
        value::Tensor::F32(a) => Ok(value::Tensor::F32(with_unary!(op, true, f => {
            parallel::map(a, move |v| f(f64::from(v)) as f32)
        }))),
        value::Tensor::F64(a) => Ok(value::Tensor::F64(with_unary!(op, false, f => {
            parallel::map(a, f)
        }))),
        _ => Err(internal(
            span,
            "a float function on a tensor that is not float",
        )),
    }
}

fn isnan_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let nan = match ev.arg_tensor(b, 0)? {
        value::Tensor::F32(a) => parallel::map(&a, f32::is_nan),
        value::Tensor::F64(a) => parallel::map(&a, f64::is_nan),
        other => Array::from_elem(IxDyn(other.shape()), false),
    };
    Ok(Value::Tensor(value::Tensor::Bool(nan)))
}

fn cast_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let dtype = ev.out_dtype(b);
    if dtype == DType::I64 {
        let unheld = match &x {
            value::Tensor::F32(a) => {
                first_unheld(a.indexed_iter().map(|(i, &v)| (i, f64::from(v))))
            }
            value::Tensor::F64(a) => first_unheld(a.indexed_iter().map(|(i, &v)| (i, v))),
            _ => None,
        };
        if let Some((index, v)) = unheld {
            let at = index
                .slice()
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>();
            let message = format!(
                "`i64`: element [{}] is {v}, which no i64 holds",
                at.join(", ")
            );
            return Err(Diagnostic::new(Code::Runtime, b.span, message)
                .label(b.span_of(0), format!("{:?} {}", x.shape(), x.dtype()))
                .help(
                    "replace it first, e.g. `where(isnan(x), 0.0, x)`, or clip to the i64 range",
                ));
        }
    }
    Ok(Value::Tensor(x.cast(dtype)))
}

/// The first float that truncates to no i64: NaN, an infinity, or a
/// value of magnitude 2^63 or more (NumPy returns garbage for these).
fn first_unheld(mut values: impl Iterator<Item = (IxDyn, f64)>) -> Option<(IxDyn, f64)> {
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    values.find(|&(_, v)| !(-LIMIT..LIMIT).contains(&v))
}

/// Shares the data when it is already in row-major order, as NumPy's
/// `ascontiguousarray` does; copies it otherwise.
fn contiguous_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    Ok(Value::Tensor(
        map_tensor!(x, a => if a.is_standard_layout() {
            a
        } else {
            a.as_standard_layout().into_owned().into_shared()
        }),
    ))
}

fn binary_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let op = match b.name {
        "maximum" => Binary::Maximum,
        "minimum" => Binary::Minimum,
        "pow" => Binary::Pow,
        _ => return Err(internal(b.span, "a binary function without a kernel")),
    };
    let (l, r) = (ev.arg_tensor(b, 0)?, ev.arg_tensor(b, 1)?);
    let (shape, dtype) = (ev.out_shape(b)?, ev.out_dtype(b));
    let result = match (l.cast(dtype), r.cast(dtype)) {
        (value::Tensor::F32(x), value::Tensor::F32(y)) => zip2(&x, &y, &shape, move |p, q| {
            op.apply(f64::from(p), f64::from(q)) as f32
        })
        .map(value::Tensor::F32),
        (value::Tensor::F64(x), value::Tensor::F64(y)) => {
            zip2(&x, &y, &shape, move |p, q| op.apply(p, q)).map(value::Tensor::F64)
        }
        (value::Tensor::I64(x), value::Tensor::I64(y)) => {
            if op == Binary::Pow && y.iter().any(|&e| e < 0) {
                return Err(runtime_error(
                    b.span_of(1),
                    "integers to negative integer powers are not allowed",
                )
                .help("make the base a float: `pow(f32(x), y)`"));
            }
            zip2(&x, &y, &shape, move |p, q| int_binary(op, p, q)).map(value::Tensor::I64)
        }
        (value::Tensor::Bool(x), value::Tensor::Bool(y)) => {
            zip2(&x, &y, &shape, move |p, q| bool_binary(op, p, q)).map(value::Tensor::Bool)
        }
        _ => None,
    };
    result
        .map(Value::Tensor)
        .ok_or_else(|| internal(b.span, "broadcasting failed after the checker proved it"))
}

/// `e` is never negative here; the power wraps as NumPy's does.
fn int_binary(op: Binary, x: i64, e: i64) -> i64 {
    match op {
        Binary::Maximum => x.max(e),
        Binary::Minimum => x.min(e),
        _ => crate::eval::operators::wrapping_pow(x, e),
    }
}

fn bool_binary(op: Binary, x: bool, y: bool) -> bool {
    match op {
        Binary::Maximum => x | y,
        Binary::Minimum => x & y,
        _ => x | !y,
    }
}

fn where_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let cond = ev.arg_tensor(b, 0)?;
    let (l, r) = (ev.arg_tensor(b, 1)?, ev.arg_tensor(b, 2)?);
    let (shape, dtype) = (ev.out_shape(b)?, ev.out_dtype(b));
    let value::Tensor::Bool(cond) = cond.cast(DType::Bool) else {
        return Err(internal(b.span, "a `where` condition that is not bool"));
    };
    let result = match (l.cast(dtype), r.cast(dtype)) {
        (value::Tensor::F32(x), value::Tensor::F32(y)) => {
            zip3(&cond, &x, &y, &shape, choose).map(value::Tensor::F32)
        }
        (value::Tensor::F64(x), value::Tensor::F64(y)) => {
            zip3(&cond, &x, &y, &shape, choose).map(value::Tensor::F64)
        }
        (value::Tensor::I64(x), value::Tensor::I64(y)) => {
            zip3(&cond, &x, &y, &shape, choose).map(value::Tensor::I64)
        }
        (value::Tensor::Bool(x), value::Tensor::Bool(y)) => {
            zip3(&cond, &x, &y, &shape, choose).map(value::Tensor::Bool)
        }
        _ => None,
    };
    result
        .map(Value::Tensor)
        .ok_or_else(|| internal(b.span, "broadcasting failed after the checker proved it"))
}

fn choose<T>(c: bool, x: T, y: T) -> T {
    if c {
        x
    } else {
        y
    }
}
