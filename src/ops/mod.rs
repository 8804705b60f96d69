//! Builtins, one module per family: each op's signature, shape rule and
//! kernel side by side. A call is bound to its parameters here, then checked
//! (or run) by its family.

mod args;
mod combine;
mod construct;
pub(crate) mod einops;
pub mod einsum;
mod elementwise;
mod grad;
mod io;
pub mod linalg;
pub mod math;
pub(crate) mod nn;
mod reduce;
mod shape;

pub(crate) use args::bool_operand;
pub(crate) use einsum::einsum_values;
pub(crate) use io::show_value;
pub(crate) use math::erf;

use rustc_hash::FxHashMap as HashMap;
use std::sync::OnceLock;

use crate::check::types::Type;
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::eval::value::Value;
use crate::eval::Interp;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, NodeId};

/// One argument as written: `value` or `name=value` (a method's receiver is
/// the first positional argument).
#[derive(Clone, Copy)]
pub struct ArgRef<'a> {
    pub name: Option<&'a str>,
    pub value: &'a Expr,
    pub span: Span,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Param {
    Required(&'static str),
    Optional(&'static str),
    /// Takes every remaining positional argument.
    Rest(&'static str),
    /// Takes every keyword argument no other parameter is named for
    /// (einops' axis sizes, `k=2`).
    Keywords(&'static str),
}

/// A call bound to its parameters: `slots[i]` holds the i-th parameter's
/// argument (several for a `Rest` parameter).
pub struct Bound<'a> {
    pub name: &'a str,
    pub span: Span,
    /// The call expression, whose facts (its type) a kernel reads.
    pub id: NodeId,
    pub slots: Vec<Vec<ArgRef<'a>>>,
}

impl<'a> Bound<'a> {
    pub fn get(&self, i: usize) -> Option<&'a Expr> {
        self.slots.get(i).and_then(|s| s.first()).map(|a| a.value)
    }

    pub fn rest(&self, i: usize) -> &[ArgRef<'a>] {
        self.slots.get(i).map_or(&[], |s| s.as_slice())
    }

    /// The span of the i-th argument, or of the call when it is absent.
    pub fn span_of(&self, i: usize) -> Span {
        self.get(i).map_or(self.span, |e| e.span)
    }
}

type Rule = fn(&mut Checker, &Bound) -> Type;

struct Builtin {
    name: &'static str,
    params: &'static [Param],
    rule: Rule,
}

/// Every family: its builtins' signatures and rules, and their kernels.
/// A new family is added here, once.
type Family = (&'static [Builtin], &'static [(&'static str, Kernel)]);

const FAMILIES: [Family; 11] = [
    (construct::BUILTINS, construct::KERNELS),
    (elementwise::BUILTINS, elementwise::KERNELS),
    (reduce::BUILTINS, reduce::KERNELS),
    (shape::BUILTINS, shape::KERNELS),
    (combine::BUILTINS, combine::KERNELS),
    (grad::BUILTINS, grad::KERNELS),
    (io::BUILTINS, io::KERNELS),
    (einsum::BUILTINS, einsum::KERNELS),
    (einops::BUILTINS, einops::KERNELS),
    (linalg::BUILTINS, linalg::KERNELS),
    (nn::BUILTINS, nn::KERNELS),
];

fn registry() -> impl Iterator<Item = &'static Builtin> {
    FAMILIES.iter().flat_map(|(builtins, _)| builtins.iter())
}

fn find(name: &str) -> Option<&'static Builtin> {
    static BY_NAME: OnceLock<HashMap<&'static str, &'static Builtin>> = OnceLock::new();
    BY_NAME
        .get_or_init(|| registry().map(|b| (b.name, b)).collect())
        .get(name)
        .copied()
}

/// A builtin's run-time implementation: reads its bound arguments through
/// the interpreter and the checker's facts, and returns the result.
pub type Kernel = for<'a> fn(&mut Interp<'a>, &Bound<'a>) -> Result<Value, Diagnostic>;

/// The kernel of a builtin, if it has one yet.
pub fn kernel(name: &str) -> Option<Kernel> {
    static BY_NAME: OnceLock<HashMap<&'static str, Kernel>> = OnceLock::new();
    BY_NAME
        .get_or_init(|| {
            FAMILIES
                .iter()
                .flat_map(|(_, kernels)| kernels.iter().copied())
                .collect()
        })
        .get(name)
        .copied()
}

/// Binds a call for the evaluator; `None` only if the checker would have
/// rejected it.
pub fn bind_builtin<'a>(
    name: &str,
    args: &[ArgRef<'a>],
    span: Span,
    id: NodeId,
) -> Option<Bound<'a>> {
    bind(find(name)?, args, span, id).ok()
}

pub fn is_builtin(name: &str) -> bool {
    find(name).is_some()
}

pub fn builtin_names() -> Vec<&'static str> {
    registry().map(|b| b.name).collect()
}

/// A builtin's signature as `name(x, axis?, ...)`, for help and completion.
pub fn signature(name: &str) -> Option<String> {
    let b = find(name)?;
    let params: Vec<String> = b
        .params
        .iter()
        .map(|p| match p {
            Param::Required(n) => n.to_string(),
            Param::Optional(n) => format!("{n}?"),
            Param::Rest(n) => format!("{n}..."),
            Param::Keywords(n) => format!("{n}=..."),
        })
        .collect();
    Some(format!("{}({})", b.name, params.join(", ")))
}

pub fn check_builtin(
    cx: &mut Checker,
    name: &str,
    args: &[ArgRef],
    span: Span,
    id: NodeId,
) -> Option<Type> {
    let builtin = find(name)?;
    Some(match bind(builtin, args, span, id) {
        Ok(bound) => (builtin.rule)(cx, &bound),
        Err(d) => {
            cx.report(d);
            for arg in args {
                if !matches!(arg.value.kind, ExprKind::Name(_)) {
                    cx.expr(arg.value);
                }
            }
            Type::Unknown
        }
    })
}

/// Binds a call's arguments to the builtin's parameters: positional ones
/// in order, keywords by name (or into a `Keywords` parameter).
fn bind<'a>(
    b: &'static Builtin,
    args: &[ArgRef<'a>],
    span: Span,
    id: NodeId,
) -> Result<Bound<'a>, Diagnostic> {
    let mut slots: Vec<Vec<ArgRef<'a>>> = vec![Vec::new(); b.params.len()];
    let mut next = 0;
    let usage = || format!("usage: {}", signature(b.name).unwrap_or_default());
    for arg in args {
        let index = match arg.name {
            Some(key) => b
                .params
                .iter()
                .position(|p| !matches!(p, Param::Keywords(_)) && param_name(*p) == key)
                .or_else(|| {
                    b.params
                        .iter()
                        .position(|p| matches!(p, Param::Keywords(_)))
                }),
            None => {
                while next < b.params.len()
                    && (matches!(b.params[next], Param::Keywords(_))
                        || (!slots[next].is_empty() && !matches!(b.params[next], Param::Rest(_))))
                {
                    next += 1;
                }
                (next < b.params.len()).then_some(next)
            }
        };
        let Some(index) = index else {
            let message = match arg.name {
                Some(key) => format!("`{}` has no parameter `{key}`", b.name),
                None => format!("too many arguments to `{}`", b.name),
            };
            return Err(Diagnostic::new(Code::Arg, arg.span, message)
                .label(arg.span, "unexpected")
                .help(usage()));
        };
        let collects = matches!(b.params[index], Param::Rest(_) | Param::Keywords(_));
        if !slots[index].is_empty() && !collects {
            return Err(Diagnostic::new(
                Code::Arg,
                arg.span,
                format!("`{}` is given twice", param_name(b.params[index])),
            )
            .help(usage()));
        }
        slots[index].push(*arg);
    }
    for (param, slot) in b.params.iter().zip(&slots) {
        if let Param::Required(n) = param {
            if slot.is_empty() {
                return Err(Diagnostic::new(
                    Code::Arg,
                    span,
                    format!("`{}` needs an argument `{n}`", b.name),
                )
                .label(span, "missing an argument")
                .help(usage()));
            }
        }
    }
    Ok(Bound {
        name: b.name,
        span,
        id,
        slots,
    })
}

fn param_name(p: Param) -> &'static str {
    match p {
        Param::Required(n) | Param::Optional(n) | Param::Rest(n) | Param::Keywords(n) => n,
    }
}
