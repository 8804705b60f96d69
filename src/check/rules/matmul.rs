//! `@` as numpy.matmul: 1-D promotion, contraction, batch broadcasting.

use crate::check::env::Checker;
use crate::check::expr::{promote, Operand};
use crate::check::types::{show_axis, Axis, DType, Item, Shape, Tensor, Type};
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::ExprKind;

impl Checker<'_> {
    pub fn matmul(&mut self, l: Operand, r: Operand, span: Span) -> Type {
        for o in [l, r] {
            if o.ty.dtype == DType::Bool {
                return self.fail(crate::ops::bool_operand("@", o.span));
            }
            if o.ty.is_scalar() {
                return self.fail(
                    Diagnostic::new(
                        Code::Arg,
                        o.span,
                        "matmul needs operands with at least one axis",
                    )
                    .label(o.span, "a scalar")
                    .help("multiply by a scalar with `*`"),
                );
            }
        }
        let (ls, rs) = (&l.ty.shape, &r.ty.shape);
        let l_vec = ls.len() == 1 && matches!(ls[0], Item::Axis(_));
        let r_vec = rs.len() == 1 && matches!(rs[0], Item::Axis(_));
        let (l_batch, l_rows, l_inner) = split_lhs(ls, l_vec);
        let (r_batch, r_inner, r_cols) = split_rhs(rs, r_vec);
        let (Some(li), Some(ri)) = (l_inner, r_inner) else {
            return self.fail(Diagnostic::new(
                Code::Axis,
                span,
                "the contracted axes of this matmul fall inside a variadic run",
            ));
        };
        if li.size != ri.size {
            return self.fail(self.contraction_error(l, r, li, ri, span));
        }
        let dtype = promote(l.ty, r.ty);
        let l_op = Tensor::new(dtype, l_batch.to_vec());
        let r_op = Tensor::new(dtype, r_batch.to_vec());
        let tail: Vec<Item> = l_rows.into_iter().chain(r_cols).cloned().collect();
        let batch = self.broadcast_parts(
            &[Operand { ty: &l_op, ..l }, Operand { ty: &r_op, ..r }],
            &[&l.ty.shape, &r.ty.shape],
            &tail,
            span,
            "@ (batch axes)",
        );
        let Some(mut shape) = batch else {
            return Type::Unknown;
        };
        if let (Some(a), Some(b)) = (&li.name, &ri.name) {
            if a != b {
                let (x, y) = (show_axis(li, self), show_axis(ri, self));
                self.report(
                    Diagnostic::new(
                        Code::NameMismatch,
                        span,
                        format!("this matmul contracts axis {x} with axis {y}"),
                    )
                    .label(l.span, format!("contracts {x}"))
                    .label(r.span, format!("contracts {y}"))
                    .help("if the axes really are the same, rename one with `rename(x, [...])`"),
                );
            }
        }
        shape.extend(tail);
        Type::Tensor(Tensor::new(dtype, shape))
    }

    fn contraction_error(
        &self,
        l: Operand,
        r: Operand,
        li: &Axis,
        ri: &Axis,
        span: Span,
    ) -> Diagnostic {
        let (ls, rs) = (self.show_shape(&l.ty.shape), self.show_shape(&r.ty.shape));
        let (x, y) = (show_axis(li, self), show_axis(ri, self));
        let mut d = Diagnostic::new(
            Code::Contraction,
            span,
            format!("matmul contracts the last axis of {ls} ({x}) with the second-to-last axis of {rs} ({y}), and their sizes differ"),
        )
        .label(l.span, format!("{ls}: contracts {x}"))
        .label(r.span, format!("{rs}: contracts {y}"));
        let rhs_text = r
            .expr
            .map(|e| self.describe(e))
            .unwrap_or_else(|| "b".into());
        let rank = r.ty.shape.len();
        if let Some(ExprKind::Field { receiver, name }) = r.expr.map(|e| &e.kind) {
            if name.name == "T" && rank > 2 {
                d = d.help(format!(
                    "`.T` reverses all {rank} axes; to swap only the last two use `transpose({}, -1, -2)`",
                    self.describe(receiver)
                ));
                return d;
            }
        }
        if let Some(Item::Axis(last)) = r.ty.shape.last() {
            if rank >= 2 && last.size == li.size {
                d = d.help(format!("the last axis of the right operand matches: did you mean `{} @ transpose({rhs_text}, -1, -2)`?", l.expr.map(|e| self.describe(e)).unwrap_or_else(|| "a".into())));
            }
        }
        d
    }
}

/// lhs `[..batch, rows, inner]`; a vector is `[inner]` with no rows. A
/// run in the rows position stands for "whatever leads", as in `[*b, D]`.
fn split_lhs(shape: &Shape, vector: bool) -> (&[Item], Option<&Item>, Option<&Axis>) {
    let n = shape.len();
    if vector || n == 1 {
        return (&[], None, shape[0].axis());
    }
    (&shape[..n - 2], Some(&shape[n - 2]), shape[n - 1].axis())
}

/// rhs `[..batch, inner, cols]`; a vector is `[inner]` with no cols.
fn split_rhs(shape: &Shape, vector: bool) -> (&[Item], Option<&Axis>, Option<&Item>) {
    let n = shape.len();
    if vector || n == 1 {
        return (&[], shape[0].axis(), None);
    }
    (&shape[..n - 2], shape[n - 2].axis(), Some(&shape[n - 1]))
}
