//! `gradcheck(f, x1..xn, eps=1e-6, atol=1e-5, rtol=1e-3)`: each element of
//! each argument's gradient against central finite differences, with the fn
//! computed in f64 (f32 widened) so that the differences mean something.

use ndarray::{Dimension, IxDyn};

use super::{differentiated, DTypes};
use crate::check::types::DType;
use crate::error::{Code, Diagnostic};
use crate::eval::interp::{internal, Eval, Interp};
use crate::eval::value::{Array, Tensor, Value};
use crate::ops::Bound;

/// The element where the analytic and numeric gradients differ most,
/// relative to the tolerance.
struct Worst {
    argument: usize,
    index: Vec<usize>,
    analytic: f64,
    numeric: f64,
    excess: f64,
}

pub(crate) fn gradcheck_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Eval<Value> {
    let (function, args) = differentiated(ev, b)?;
    let eps = ev.arg_number(b, 2, 1e-6)?;
    let atol = ev.arg_number(b, 3, 1e-5)?;
    let rtol = ev.arg_number(b, 4, 1e-3)?;
    let (_, analytic) = ev.value_and_grad(function.clone(), &args, b.span)?;
    // Differentiated arguments are floats (the checker proved it).
    let widened: Vec<Tensor> = args.iter().map(|t| t.cast(DType::F64)).collect();
    let mut worst: Option<Worst> = None;
    for (argument, grad) in analytic.iter().enumerate() {
        let Tensor::F64(base) = &widened[argument] else {
            return Err(internal(b.span, "a widened argument that is not f64"));
        };
        let grad = super::floats(grad);
        for (index, &a) in grad.indexed_iter() {
            let mut at = |delta: f64| -> Eval<f64> {
                let mut shifted = base.to_owned();
                if let Some(v) = shifted.get_mut(index.clone()) {
                    *v += delta;
                }
                let mut inputs = widened.clone();
                inputs[argument] = Tensor::F64(shifted.into_shared());
                ev.evaluate_widened(function.clone(), inputs, b)
            };
            let numeric = (at(eps)? - at(-eps)?) / (2.0 * eps);
            let excess = (a - numeric).abs() - (atol + rtol * numeric.abs());
            let fails = excess > 0.0 || a.is_nan() != numeric.is_nan();
            if fails && worst.as_ref().is_none_or(|w| excess > w.excess) {
                worst = Some(Worst {
                    argument,
                    index: index.slice().to_vec(),
                    analytic: a,
                    numeric,
                    excess: if excess.is_nan() {
                        f64::INFINITY
                    } else {
                        excess
                    },
                });
            }
        }
    }
    // gradcheck answers with a bool; why it said false goes to the
    // program's output, beside what the program prints.
    if let Some(w) = &worst {
        let line = format!(
            "gradcheck: argument {} at {:?}: the gradient is {} but finite differences give {} (atol {atol}, rtol {rtol})",
            w.argument + 1,
            w.index,
            w.analytic,
            w.numeric
        );
        writeln!(ev.out, "{line}").map_err(|e| {
            Diagnostic::new(Code::Io, b.span, format!("cannot write the output: {e}"))
        })?;
    }
    Ok(Value::Tensor(Tensor::Bool(Array::from_elem(
        IxDyn(&[]),
        worst.is_none(),
    ))))
}

impl<'a> Interp<'a> {
    /// The fn's scalar value with f32 computed as f64.
    fn evaluate_widened(
        &mut self,
        (def, sig): (
            &'a crate::syntax::ast::FnDef,
            std::rc::Rc<crate::check::fns::FnSig>,
        ),
        inputs: Vec<Tensor>,
        b: &Bound<'a>,
    ) -> Eval<f64> {
        let saved = std::mem::replace(&mut self.dtypes, DTypes::Widened);
        let result = self.invoke(def, sig, inputs.into_iter().map(Value::Tensor).collect());
        self.dtypes = saved;
        result?
            .tensor()
            .and_then(Tensor::item)
            .ok_or_else(|| internal(b.span, "a differentiated fn without a scalar value"))
    }
}
