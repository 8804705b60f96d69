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

use super::interp::{internal, Eval, Interp};
use super::operators::broadcast_shape;
use super::value::Value;
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
        // A broadcast leaf is read as its base; the result is then read
        // as the full shape (`Interp::elementwise`).
        let values = plan
            .leaves
            .iter()
            .map(|&leaf| self.lazy_expr(leaf))
            .collect::<Eval<Vec<Value>>>()?;
        let mut leaves = Vec::with_capacity(values.len());
        let (mut full, mut computed) = (Some(Vec::new()), Some(Vec::new()));
        for v in &values {
            let (base, shape) = v
                .tensor_as()
                .ok_or_else(|| internal(e.span, "a fused leaf that is not a tensor"))?;
            leaves.push(base.clone());
            full = full.and_then(|s| broadcast_shape(&s, shape));
            computed = computed.and_then(|s| broadcast_shape(&s, base.shape()));
        }
        let failed = || internal(e.span, "broadcasting failed after the checker proved it");
        let (full, computed) = (full.ok_or_else(failed)?, computed.ok_or_else(failed)?);
        self.fits_in_memory(&computed, plan.dtype.width(), e.span)?;
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
        Ok(Some(Value::broadcast(result, &full)))
    }
}

#[cfg(test)]
mod tests;
