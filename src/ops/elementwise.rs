//! Elementwise functions and casts: shape-preserving, or broadcasting for
//! several operands.

use super::{Bound, Builtin, Param};
use crate::check::expr::{promote, Operand};
use crate::check::types::{DType, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};

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

pub(super) static KERNELS: &[(&str, super::Kernel)] = &[];
