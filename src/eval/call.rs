//! Calls: user fns (generics and runs bound from the arguments' shapes)
//! and builtins, through the kernel beside each op's shape rule.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::interp::{internal, Eval, Flow, Interp};
use super::sizes::Frame;
use super::value::Value;
use crate::check::fns::FnSig;
use crate::check::size::AtomId;
use crate::check::types::{Item, Type};
use crate::ops::ArgRef;
use crate::syntax::ast::{Expr, StmtKind};

impl<'a> Interp<'a> {
    pub fn call(&mut self, name: &str, args: Vec<ArgRef<'a>>, e: &'a Expr) -> Eval<Value> {
        if let Some((def, sig)) = self.fns.get(name).cloned() {
            return self.call_fn(def, sig, &args, e);
        }
        let kernel = crate::ops::kernel(name).ok_or_else(|| {
            super::interp::runtime_error(
                e.span,
                format!("`{name}` cannot run yet: its kernel is not built (issue #3)"),
            )
        })?;
        let bound = crate::ops::bind_builtin(name, &args, e.span, e.id)
            .ok_or_else(|| internal(e.span, "a call the checker did not bind"))?;
        // NumPy's `broadcast_to` is a view: its size is not allocated.
        if name != "broadcast_to" {
            self.check_memory(e)?;
        }
        let value = kernel(self, &bound)?;
        if self.options.profile {
            self.charge_builtin(name, &bound, &value);
        }
        Ok(value)
    }

    /// Adds the FLOPs of a builtin that does not count its own
    /// (`super::cost`), from the shapes the checker proved for its
    /// arguments: the kernel has consumed the values themselves.
    fn charge_builtin(&mut self, name: &str, bound: &crate::ops::Bound, value: &Value) {
        let proved = |i: usize| bound.get(i).and_then(|a| self.sizes.shape(self.fact(a)?));
        let (input, second) = (proved(0), proved(1));
        let shapes = super::cost::Shapes {
            input: input.as_deref(),
            second: second.as_deref(),
            output: elements(value),
        };
        if let Some(flops) = super::cost::builtin_flops(name, &shapes) {
            self.add_flops(flops);
        }
    }

    fn call_fn(
        &mut self,
        def: &'a crate::syntax::ast::FnDef,
        sig: Rc<FnSig>,
        args: &[ArgRef<'a>],
        e: &Expr,
    ) -> Eval<Value> {
        // The checker accepted this call, so the arguments do fit.
        let order = sig.order_arguments(args, e.span)?;
        // Arguments are evaluated in source order, then put in parameter order.
        let written = args
            .iter()
            .map(|a| self.lazy_expr(a.value))
            .collect::<Eval<Vec<Value>>>()?;
        let values: Vec<Value> = order.iter().map(|&i| written[i].clone()).collect();
        self.invoke(def, sig, values)
    }

    /// Runs a fn body with its parameters bound to `values`, in order.
    pub(super) fn invoke(
        &mut self,
        def: &'a crate::syntax::ast::FnDef,
        sig: Rc<FnSig>,
        values: Vec<Value>,
    ) -> Eval<Value> {
        let frame = bind_frame(&sig, &values);
        let saved_base = self.fn_base;
        self.sizes.frames.push(frame);
        self.calls.push(sig.clone());
        self.scopes.push(FxHashMap::default());
        self.fn_base = self.scopes.len() - 1;
        for ((name, _, _), v) in sig.params.iter().zip(values) {
            self.define(name, v);
        }
        let result = self.body(&def.body.stmts);
        self.scopes.truncate(self.fn_base);
        self.fn_base = saved_base;
        self.calls.pop();
        self.sizes.frames.pop();
        match result {
            Ok(v) | Err(Flow::Return(v)) => Ok(v),
            Err(Flow::Error(d) | Flow::CommandLine(d)) => Err(d),
        }
    }

    /// Runs a fn body; its last expression statement is its value.
    fn body(&mut self, stmts: &'a [crate::syntax::ast::Stmt]) -> Result<Value, Flow> {
        self.scopes.push(FxHashMap::default());
        let mut value = Value::Nothing;
        for (i, stmt) in stmts.iter().enumerate() {
            match (&stmt.kind, i + 1 == stmts.len()) {
                (StmtKind::Expr(e), true) => {
                    value = self.charged(stmt.span, |ev| Ok(ev.expr(e)?))?;
                }
                _ => self.stmt(stmt)?,
            }
        }
        Ok(value)
    }
}

/// Binds a call's generics and runs from its arguments' concrete shapes,
/// aligning each parameter's axes as the checker's unification did.
fn bind_frame(sig: &FnSig, values: &[Value]) -> Frame {
    let mut frame = Frame::default();
    for ((_, ty, _), v) in sig.params.iter().zip(values) {
        let (Type::Tensor(p), Some((_, shape))) = (ty, v.tensor_as()) else {
            continue;
        };
        let run_at = p.shape.iter().position(|i| matches!(i, Item::Run(_)));
        let suffix = run_at.map_or(0, |r| p.shape.len() - r - 1);
        let prefix = run_at.unwrap_or(p.shape.len());
        let tail = shape.len().saturating_sub(suffix);
        let pairs = p.shape[..prefix].iter().zip(shape.iter()).chain(
            p.shape[p.shape.len() - suffix..]
                .iter()
                .zip(shape[tail..].iter()),
        );
        for (item, &n) in pairs {
            if let Item::Axis(a) = item {
                if let Some(atom @ AtomId::Generic(_)) = a.size.as_atom() {
                    frame.atoms.insert(atom, n as i64);
                }
            }
        }
        if let Some(Item::Run(run)) = run_at.map(|r| &p.shape[r]) {
            let axes = shape.get(prefix..tail).unwrap_or(&[]).to_vec();
            let product: usize = axes.iter().product();
            frame
                .atoms
                .insert(AtomId::RunProduct(run.0), product as i64);
            frame.runs.insert(*run, axes);
        }
    }
    frame
}

/// The elements of a value, over every tensor of a tuple.
fn elements(value: &Value) -> usize {
    match value {
        Value::Tensor(t) => t.len(),
        Value::Tuple(items) => items.iter().map(elements).sum(),
        _ => 0,
    }
}
