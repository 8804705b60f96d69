//! The grad family: `grad`, `value_and_grad`, `gradcheck`. The checker
//! proves each gradient has its argument's type.

use super::{ArgRef, Bound, Builtin, Param};
use crate::check::env::Entry;
use crate::check::types::{DType, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::syntax::ast::ExprKind;

use Param::{Optional, Required, Rest};

pub(super) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "grad",
        params: &[Required("f"), Rest("args")],
        rule: grad,
    },
    Builtin {
        name: "value_and_grad",
        params: &[Required("f"), Rest("args")],
        rule: grad,
    },
    Builtin {
        name: "gradcheck",
        params: &[
            Required("f"),
            Rest("args"),
            Optional("eps"),
            Optional("atol"),
            Optional("rtol"),
        ],
        rule: grad,
    },
];

fn grad(cx: &mut Checker, b: &Bound) -> Type {
    let Some(f) = b.get(0) else {
        return Type::Unknown;
    };
    let fn_id = match &f.kind {
        ExprKind::Name(n) => match cx.lookup(n) {
            Some(Entry::Fn(id)) => Some(*id),
            _ => None,
        },
        _ => None,
    };
    let Some(id) = fn_id else {
        let ty = cx.expr(f);
        if matches!(ty, Type::Unknown) {
            return Type::Unknown;
        }
        let shown = cx.show(&ty);
        return cx.fail(
            Diagnostic::new(
                Code::Grad,
                f.span,
                format!("`{}` differentiates a fn, not {shown}", b.name),
            )
            .label(f.span, shown)
            .help("define the function with `fn loss(...) -> [] { ... }` and pass its name"),
        );
    };
    for i in 2..5 {
        if cx.scalar_arg(b.get(i)).is_none() {
            return Type::Unknown;
        }
    }
    let args: Vec<ArgRef> = b.rest(1).to_vec();
    let types: Vec<Type> = args.iter().map(|a| cx.expr(a.value)).collect();
    let result = cx.call_fn_with(id, &args, &types, b.span);
    let name = cx.fns[id].name.clone();
    let value = match result {
        Type::Unknown => return Type::Unknown,
        Type::Tensor(t) if t.is_scalar() && t.dtype.is_float() => t,
        other => {
            let shown = cx.show(&other);
            return cx.fail(
                Diagnostic::new(Code::Grad, b.span, format!("`{name}` must return a float scalar to be differentiated, but it returns {shown}"))
                    .label(f.span, format!("returns {shown}"))
                    .help("reduce the result to a scalar loss, e.g. with `sum(...)` or `mean(...)`"),
            );
        }
    };
    let mut grads = Vec::with_capacity(args.len());
    for (arg, ty) in args.iter().zip(types) {
        match ty {
            Type::Tensor(t) if t.dtype.is_float() => grads.push(Type::Tensor(Tensor {
                weak: false,
                contiguous: true,
                ..t
            })),
            Type::Tensor(t) => {
                return cx.fail(
                    Diagnostic::new(
                        Code::Grad,
                        arg.span,
                        format!(
                            "cannot differentiate with respect to a {} argument",
                            t.dtype
                        ),
                    )
                    .label(arg.span, t.dtype.as_str())
                    .help("gradients exist for f32 and f64 arguments"),
                )
            }
            _ => return Type::Unknown,
        }
    }
    match b.name {
        "gradcheck" => Type::Tensor(Tensor::scalar(DType::Bool)),
        "value_and_grad" => {
            let mut items = vec![Type::Tensor(Tensor {
                weak: false,
                ..value
            })];
            items.extend(grads);
            Type::Tuple(items)
        }
        _ if grads.len() == 1 => grads.pop().unwrap_or(Type::Unknown),
        _ => Type::Tuple(grads),
    }
}

pub(super) static KERNELS: &[(&str, super::Kernel)] = &[
    ("grad", crate::eval::autodiff::grad_kernel),
    ("value_and_grad", crate::eval::autodiff::grad_kernel),
    ("gradcheck", crate::eval::autodiff::gradcheck_kernel),
];
