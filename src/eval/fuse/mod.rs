//! Fused elementwise chains. An expression tree of float operators and
//! elementwise builtins (`exp(x) * 2 + 1`, `(x - m) / sqrt(v + eps)`) is
//! evaluated chunk by chunk, chunks in parallel, without materialising
//! its intermediate tensors. Every node computes in f64 and rounds to its
//! proved element type (the checker's facts), reading its operands
//! rounded to that type: exactly what the unfused kernels do, so a fused
//! result equals the unfused one bit for bit.
//!
//! `Interp::expr` enters here for operators and calls when
//! `Interp::fusion_enabled`; the plan of each expression is built once.

mod plan;
mod run;

use std::rc::Rc;

use super::interp::{Eval, Interp};
use super::operators::broadcast_shape;
use super::value::{Tensor, Value};
use crate::syntax::ast::{Expr, ExprKind};

pub(crate) use plan::Plan;

/// Whether `e` is of a kind that can root a chain (a cheap test before
/// the plan is looked up).
pub(crate) fn may_fuse(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Binary { .. }
            | ExprKind::Unary { .. }
            | ExprKind::Call { .. }
            | ExprKind::Method { .. }
    )
}

impl<'a> Interp<'a> {
    /// The value of `e` computed as one fused chain, or `None` when `e` is
    /// not the root of a chain of at least two elementwise float operations.
    pub(crate) fn fused(&mut self, e: &'a Expr) -> Eval<Option<Value>> {
        let plan = match self.plans.get(&e.id) {
            Some(plan) => plan.clone(),
            None => {
                let plan = plan::build(self, e).map(Rc::new);
                self.plans.insert(e.id, plan.clone());
                plan
            }
        };
        let Some(plan) = plan else {
            return Ok(None);
        };
        self.check_memory(e)?;
        let leaves = plan
            .leaves
            .iter()
            .map(|&leaf| self.tensor(leaf))
            .collect::<Eval<Vec<Tensor>>>()?;
        let result = run::run(&plan, &leaves, e.span)?;
        // As unfused: each operator counts one FLOP per element of its result.
        for &(first, end) in &plan.operators {
            let shape = leaves
                .get(first..end)
                .unwrap_or(&[])
                .iter()
                .try_fold(Vec::new(), |s, t| broadcast_shape(&s, t.shape()));
            let elements: usize = shape.map_or(0, |s| s.iter().product());
            self.add_flops(elements as f64);
        }
        Ok(Some(Value::Tensor(result)))
    }
}

#[cfg(test)]
mod tests;
