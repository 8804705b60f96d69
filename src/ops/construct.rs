//! Constructors: zeros ones full randn rand arange linspace eye triu tril seed.

use super::{Bound, Builtin, Param};
use crate::check::env::Entry;
use crate::check::size::Size;
use crate::check::types::{Axis, DType, Item, Name, Shape, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
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

pub(super) static KERNELS: &[(&str, super::Kernel)] = &[];
