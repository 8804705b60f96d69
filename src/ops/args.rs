//! Reading a builtin's arguments: tensors, static integers, axes positions,
//! strings, element types, and the checks several families share.

use super::Bound;
use crate::check::expr::Operand;
use crate::check::types::{show_axis, Axis, DType, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};

/// Warns when an op pairs two axes whose names differ, as `@` does when it
/// contracts them (spec 5): each side is an argument index and its axis.
pub(crate) fn name_mismatch(cx: &mut Checker, b: &Bound, sides: [(usize, &Axis); 2]) {
    let [(i, l), (j, r)] = sides;
    let (Some(p), Some(q)) = (&l.name, &r.name) else {
        return;
    };
    if p == q {
        return;
    }
    let (ls, rs) = (show_axis(l, cx), show_axis(r, cx));
    let message = format!(
        "`{}` pairs axis {ls} with axis {rs}: their sizes agree, their names differ",
        b.name
    );
    cx.report(
        Diagnostic::new(Code::NameMismatch, b.span, message)
            .label(b.span_of(i), format!("pairs {ls}"))
            .label(b.span_of(j), format!("pairs {rs}"))
            .help("if the axes really are the same, rename one with `rename(x, [...])`"),
    );
}

/// Evaluates the tensor arguments in `slots` (an absent optional one is
/// `None`) so each reports its own errors, then refuses bool ones in one
/// diagnostic that labels each of them (spec section 3).
pub(crate) fn tensor_args(
    cx: &mut Checker,
    b: &Bound,
    slots: &[usize],
) -> Option<Vec<Option<Tensor>>> {
    let mut out = Vec::with_capacity(slots.len());
    let mut failed = false;
    for &i in slots {
        match b.get(i).map(|e| cx.tensor_arg(e)) {
            None => out.push(None),
            Some(Some(t)) => out.push(Some(t)),
            Some(None) => failed = true,
        }
    }
    if failed {
        return None;
    }
    let is_bool = |t: &Option<Tensor>| t.as_ref().is_some_and(|t| t.dtype == DType::Bool);
    if !out.iter().any(is_bool) {
        return Some(out);
    }
    let message = format!("`{}` does not take bool tensors", b.name);
    let mut d = Diagnostic::new(Code::Dtype, b.span, message).help("cast it first, e.g. `f32(x)`");
    for (&i, t) in slots.iter().zip(&out) {
        if let Some(t) = t.as_ref().filter(|t| t.dtype == DType::Bool) {
            d = d.label(b.span_of(i), cx.show(&Type::Tensor(t.clone())));
        }
    }
    cx.report(d);
    None
}

/// The error for a bool tensor given to an op that computes on numbers.
pub(crate) fn bool_operand(op: &str, span: Span) -> Diagnostic {
    Diagnostic::new(
        Code::Dtype,
        span,
        format!("`{op}` does not take bool tensors"),
    )
    .label(span, "bool")
    .help("cast it first, e.g. `f32(x)`")
}

/// Argument `i`, of type `ty`, as an operand of a shared shape rule.
pub(crate) fn operand<'e>(b: &'e Bound, i: usize, ty: &'e Tensor) -> Operand<'e> {
    Operand {
        ty,
        span: b.span_of(i),
        expr: b.get(i),
    }
}

impl Checker<'_> {
    /// A tensor argument; `None` (already reported or not a tensor) fails the call.
    pub fn tensor_arg(&mut self, e: &Expr) -> Option<Tensor> {
        match self.expr(e) {
            Type::Tensor(t) => Some(t),
            other => {
                self.not_a_tensor(&other, e.span);
                None
            }
        }
    }

    pub fn string_arg(&mut self, e: &Expr, what: &str) -> Option<String> {
        match &e.kind {
            ExprKind::Str(s) => Some(s.clone()),
            _ => {
                self.report(
                    Diagnostic::new(
                        Code::Arg,
                        e.span,
                        format!("{what} must be a string literal"),
                    )
                    .label(e.span, "not a string literal"),
                );
                None
            }
        }
    }

    pub fn bool_arg(&mut self, e: Option<&Expr>, default: bool) -> Option<bool> {
        match e.map(|e| (&e.kind, e.span)) {
            None => Some(default),
            Some((ExprKind::Bool(b), _)) => Some(*b),
            Some((_, span)) => {
                self.report(Diagnostic::new(
                    Code::Arg,
                    span,
                    "expected `true` or `false`",
                ));
                None
            }
        }
    }

    /// A static integer argument (a size expression that is a constant).
    pub fn int_arg(&mut self, e: Option<&Expr>, default: i64) -> Option<i64> {
        let Some(e) = e else {
            return Some(default);
        };
        match self.static_size(e) {
            Ok(size) => match size.as_const() {
                Some(v) => Some(v),
                None => {
                    self.report(Diagnostic::new(
                        Code::Arg,
                        e.span,
                        "this must be a known integer",
                    ));
                    None
                }
            },
            Err(d) => {
                self.report(d);
                None
            }
        }
    }

    /// An axis position for an op that inserts an axis (`unsqueeze`, `stack`):
    /// an integer only, since the new axis has no name to look up (10.8).
    pub fn position_arg(&mut self, e: Option<&Expr>) -> Option<i64> {
        if let Some(
            e @ Expr {
                kind: ExprKind::Name(n),
                ..
            },
        ) = e
        {
            if matches!(self.lookup(n), Some(crate::check::env::Entry::Dim(_))) {
                self.report(
                    Diagnostic::new(
                        Code::Arg,
                        e.span,
                        format!("this position must be an integer, not the axis name {n}"),
                    )
                    .label(e.span, "an axis name")
                    .help("the new axis has no name yet: give its position as an integer"),
                );
                return None;
            }
        }
        self.int_arg(e, 0)
    }

    /// `dtype=f64` style arguments.
    pub fn dtype_arg(&mut self, e: Option<&Expr>, default: DType) -> Option<DType> {
        let Some(e) = e else {
            return Some(default);
        };
        match &e.kind {
            ExprKind::Name(n) => match DType::from_name(n) {
                Some(d) => Some(d),
                None => {
                    self.report(
                        Diagnostic::new(Code::Arg, e.span, format!("`{n}` is not an element type"))
                            .help("use bool, i64, f32 or f64"),
                    );
                    None
                }
            },
            _ => {
                self.report(Diagnostic::new(
                    Code::Arg,
                    e.span,
                    "expected an element type: bool, i64, f32 or f64",
                ));
                None
            }
        }
    }

    /// A scalar-valued tensor argument (e.g. `eps`, `full`'s value).
    pub fn scalar_arg(&mut self, e: Option<&Expr>) -> Option<Option<Tensor>> {
        let Some(e) = e else {
            return Some(None);
        };
        let t = self.tensor_arg(e)?;
        if !t.is_scalar() {
            let shown = self.show_shape(&t.shape);
            self.report(
                Diagnostic::new(
                    Code::Arg,
                    e.span,
                    format!("expected a scalar, found {shown}"),
                )
                .label(e.span, shown),
            );
            return None;
        }
        Some(Some(t))
    }
}
