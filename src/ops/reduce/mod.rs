//! Reductions over axes, and the softmax / normalisation family.

use super::{Bound, Builtin, Param};
use crate::check::size::Size;
use crate::check::types::{Axis, DType, Item, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::syntax::ast::{Expr, ExprKind};

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
    ("sum", kernels::reduce_kernel),
    ("prod", kernels::reduce_kernel),
    ("mean", kernels::reduce_kernel),
    ("max", kernels::reduce_kernel),
    ("min", kernels::reduce_kernel),
    ("argmax", kernels::reduce_kernel),
    ("argmin", kernels::reduce_kernel),
    ("logsumexp", kernels::reduce_kernel),
    ("norm", kernels::reduce_kernel),
    ("all", kernels::reduce_kernel),
    ("any", kernels::reduce_kernel),
    ("var", kernels::reduce_kernel),
    ("std", kernels::reduce_kernel),
    ("softmax", along::along_kernel),
    ("log_softmax", along::along_kernel),
    ("layernorm", along::along_kernel),
    ("batchnorm", along::along_kernel),
];

mod along;
mod kernels;
mod sum;
