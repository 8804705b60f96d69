//! One rule for every op whose output elements are input elements moved,
//! repeated, dropped or surrounded by a fill (reshape, permute, indexing,
//! concat, pad, unfold, `where`, indexed assignment, ...): the op is re-run
//! with each input replaced by its element numbers, which says where every
//! output element came from; the cotangent is then added back along that
//! map. Running it twice, on `+(i+1)` and on `-(i+1)`, tells a copied
//! element from a fill value, which is the same in both runs.

use ndarray::{ArrayD, IxDyn};
use rustc_hash::FxHashMap;

use super::rules::Grads;
use super::{DTypes, Node, Op};
use crate::eval::interp::{internal, Eval, Interp};
use crate::eval::value::{Array, Tensor, Value};
use crate::source::Span;
use crate::syntax::ast::NodeId;

/// The element numbers `sign * (i + 1)` in the shape of `t`.
fn numbering(t: &Tensor, sign: i64) -> Tensor {
    let n = t.len() as i64;
    let values: Vec<i64> = (1..=n).map(|i| sign * i).collect();
    let array = Array::from_shape_vec(IxDyn(t.shape()), values)
        .unwrap_or_else(|_| Array::from_elem(IxDyn(&[]), 0));
    Tensor::I64(array)
}

fn zeros_like(t: &Tensor) -> Tensor {
    Tensor::I64(Array::from_elem(IxDyn(t.shape()), 0))
}

/// The output tensors of a value, flattened out of a tuple.
fn outputs(v: &Value) -> Vec<&Tensor> {
    match v {
        Value::Tensor(t) => vec![t],
        Value::Tuple(items) => items.iter().filter_map(Value::tensor).collect(),
        _ => Vec::new(),
    }
}

impl<'a> Interp<'a> {
    pub(super) fn gather(
        &mut self,
        node: &Node<'a>,
        g: &[Option<ArrayD<f64>>],
        wants: &dyn Fn(&Tensor) -> bool,
    ) -> Eval<Grads> {
        let span = match &node.op {
            Op::Expr(e) => e.span,
            Op::Assign(a) => a.span,
            Op::Leaf => return Ok(Vec::new()),
        };
        // The float inputs: the op's sub-expressions, and for an indexed
        // assignment its target and value.
        let mut inputs: Vec<(Option<NodeId>, Tensor)> = node
            .children
            .iter()
            .filter_map(|(id, v)| v.tensor().map(|t| (Some(*id), t.clone())))
            .filter(|(_, t)| t.dtype().is_float())
            .collect();
        if let Op::Assign(a) = &node.op {
            inputs.retain(|(_, t)| !t.dtype().is_float());
            inputs.push((None, a.target.clone()));
            inputs.push((None, a.value.clone()));
        }
        let mut grads = Vec::new();
        for j in 0..inputs.len() {
            let input = &inputs[j].1;
            if !wants(input) || grads.iter().any(|(t, _): &(Tensor, _)| same(t, input)) {
                continue;
            }
            let runs = [1, -1].map(|sign| {
                let replaced: Vec<Tensor> = inputs
                    .iter()
                    .enumerate()
                    .map(|(i, (_, t))| {
                        if i == j {
                            numbering(t, sign)
                        } else {
                            zeros_like(t)
                        }
                    })
                    .collect();
                self.rerun(node, &inputs, replaced, span)
            });
            let [plus, minus] = runs;
            let grad = scatter(input, &plus?, &minus?, g, span)?;
            grads.push((input.clone(), grad));
        }
        Ok(grads)
    }

    /// Runs the node again with its float inputs replaced, in i64.
    fn rerun(
        &mut self,
        node: &Node<'a>,
        inputs: &[(Option<NodeId>, Tensor)],
        replaced: Vec<Tensor>,
        span: Span,
    ) -> Eval<Value> {
        let mut values: FxHashMap<NodeId, Value> = node.children.iter().cloned().collect();
        let mut pair = Vec::new();
        for ((id, _), t) in inputs.iter().zip(replaced) {
            match id {
                Some(id) => {
                    values.insert(*id, Value::Tensor(t));
                }
                None => pair.push(t),
            }
        }
        match &node.op {
            Op::Expr(e) => self.replay(node, values, DTypes::Indices, |ev| ev.expr_kind(e)),
            Op::Assign(a) => {
                let [target, value] = <[Tensor; 2]>::try_from(pair)
                    .map_err(|_| internal(a.span, "an indexed assignment's operands"))?;
                self.replay(node, values, DTypes::Indices, |ev| {
                    crate::eval::operators::assign_region(ev, target, a.items, &value, a.span)
                        .map(Value::Tensor)
                })
            }
            Op::Leaf => Err(internal(span, "a leaf re-run")),
        }
    }
}

fn same(a: &Tensor, b: &Tensor) -> bool {
    super::key(a) == super::key(b)
}

/// Adds each output element's cotangent to the input element it copies.
fn scatter(
    input: &Tensor,
    plus: &Value,
    minus: &Value,
    g: &[Option<ArrayD<f64>>],
    span: Span,
) -> Eval<ArrayD<f64>> {
    let mut grad = vec![0.0; input.len()];
    let (plus, minus) = (outputs(plus), outputs(minus));
    for (slot, (p, m)) in plus.iter().zip(&minus).enumerate() {
        let Some(Some(cotangent)) = g.get(slot) else {
            continue;
        };
        let (Tensor::I64(p), Tensor::I64(m)) = (p, m) else {
            return Err(internal(
                span,
                "an index re-run that changed the element type",
            ));
        };
        if p.shape() != cotangent.shape() {
            return Err(internal(span, "an index re-run of another shape"));
        }
        for ((&a, &b), &c) in p.iter().zip(m.iter()).zip(cotangent.iter()) {
            if a >= 1 && b == -a {
                if let Some(slot) = grad.get_mut((a - 1) as usize) {
                    *slot += c;
                }
            }
        }
    }
    ArrayD::from_shape_vec(IxDyn(input.shape()), grad)
        .map_err(|_| internal(span, "a gathered gradient's shape"))
}
