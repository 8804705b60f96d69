//! Reverse-mode autodiff over the interpreter (`grad`, `value_and_grad`,
//! `gradcheck`).
//!
//! Ordinary evaluation pays nothing: a tape exists only while a grad-family
//! call runs its fn. While it does, every expression records the values of
//! the sub-expressions it evaluated directly, and an operation whose inputs
//! depend on a differentiated argument becomes a tape node. Tensors are
//! followed by identity (data pointer, shape, strides): the tape keeps each
//! one alive, so an identity is never reused while recording, and an
//! operation that returns an identical view of its input is the identity
//! function, whose gradient flows through unchanged.
//!
//! The backward pass works in f64 and walks the nodes in reverse; each
//! node's rule (`rules`, `reduce`, `contract`) returns one gradient per
//! input, checked to have exactly that input's shape.

mod check;
mod contract;
mod conv;
mod gather;
mod linalg;
mod reduce;
mod rules;

use std::rc::Rc;

use ndarray::{ArrayD, IxDyn};
use rustc_hash::FxHashMap;

use super::interp::{internal, Eval, Interp};
use super::sizes::Frame;
use super::value::{Tensor, Value};
use crate::check::fns::FnSig;
use crate::check::types::DType;
use crate::error::{Code, Diagnostic};
use crate::ops::Bound;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, FnDef, IndexItem, NodeId};

pub(crate) use check::gradcheck_kernel;

/// What the interpreter does besides evaluating, while a grad-family call
/// is in progress.
pub(crate) enum Trace<'a> {
    /// Recording the fn being differentiated.
    Record(Tape<'a>),
    /// Re-running one recorded operation with some of its sub-expressions'
    /// values replaced (the gather rule of `gather.rs`).
    Replay(FxHashMap<NodeId, Value>),
}

/// How the interpreter picks element types: as the checker proved them, or
/// (for `gradcheck`'s finite differences) with f32 computed in f64, or (for
/// the gather rule) with floats carried as i64 element indices.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum DTypes {
    #[default]
    Proved,
    Widened,
    Indices,
}

impl DTypes {
    pub(crate) fn map(self, dtype: DType) -> DType {
        match (self, dtype) {
            (DTypes::Widened, DType::F32) => DType::F64,
            (DTypes::Indices, DType::F32 | DType::F64) => DType::I64,
            _ => dtype,
        }
    }
}

/// A tensor's identity while recording: its data pointer, and its view
/// (shape and strides) hashed, which keeps the key free of allocation on
/// the hot path. Two views of one buffer whose layouts' 64-bit hashes
/// collide are the only confusion possible.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    dtype: DType,
    data: usize,
    view: u64,
}

fn key(t: &Tensor) -> Key {
    use std::hash::{Hash, Hasher};
    let mut view = rustc_hash::FxHasher::default();
    crate::with_array!(t, a => {
        a.shape().hash(&mut view);
        a.strides().hash(&mut view);
        Key {
            dtype: t.dtype(),
            data: a.as_ptr() as usize,
            view: view.finish(),
        }
    })
}

/// What a node computed.
pub(crate) enum Op<'a> {
    /// An argument being differentiated.
    Leaf,
    /// An operator, builtin call, index or `.T`.
    Expr(&'a Expr),
    /// `target[items] = value`.
    Assign(Box<Assignment<'a>>),
}

pub(crate) struct Assignment<'a> {
    items: &'a [IndexItem],
    span: Span,
    target: Tensor,
    value: Tensor,
}

pub(crate) struct Node<'a> {
    op: Op<'a>,
    /// The values of the sub-expressions the operation evaluated itself,
    /// by node id, in evaluation order.
    children: Vec<(NodeId, Value)>,
    output: Value,
    /// The generics of the fn call in progress, for re-running the node.
    context: Option<(Frame, Rc<FnSig>)>,
}

impl<'a> Node<'a> {
    /// The value of argument `i` of a bound call, as it was evaluated.
    fn arg(&self, b: &Bound, i: usize) -> Option<&Tensor> {
        let id = b.get(i)?.id;
        self.child(id)
    }

    /// Argument `i`, which the call must have evaluated.
    fn input(&self, b: &Bound, i: usize) -> Eval<&Tensor> {
        self.arg(b, i)
            .ok_or_else(|| internal(b.span_of(i), "an argument was not recorded"))
    }

    fn child(&self, id: NodeId) -> Option<&Tensor> {
        self.children
            .iter()
            .find(|(c, _)| *c == id)
            .and_then(|(_, v)| v.tensor())
    }
}

/// Where a recorded tensor came from: a node and its output slot (tuple
/// element).
type Slot = (usize, usize);

pub(crate) struct Tape<'a> {
    nodes: Vec<Node<'a>>,
    ids: FxHashMap<Key, Slot>,
    /// For each expression being evaluated, its direct sub-expressions'
    /// values so far.
    frames: Vec<Vec<(NodeId, Value)>>,
}

impl<'a> Tape<'a> {
    fn tracks(&self, t: &Tensor) -> bool {
        t.dtype().is_float() && self.ids.contains_key(&key(t))
    }

    fn tracked(&self, v: &Value) -> bool {
        match v {
            Value::Tensor(t) => self.tracks(t),
            Value::Tuple(items) => items.iter().any(|i| self.tracked(i)),
            _ => false,
        }
    }

    fn push(&mut self, node: Node<'a>) {
        let index = self.nodes.len();
        let outputs: Vec<&Tensor> = match &node.output {
            Value::Tensor(t) => vec![t],
            Value::Tuple(items) => items.iter().filter_map(Value::tensor).collect(),
            _ => Vec::new(),
        };
        for (slot, t) in outputs.into_iter().enumerate() {
            if t.dtype().is_float() {
                // An identical view already recorded has the same values.
                self.ids.entry(key(t)).or_insert((index, slot));
            }
        }
        self.nodes.push(node);
    }
}

/// Whether an expression is an operation with a gradient rule, as opposed
/// to a name, literal or user fn call (through which tensors flow by
/// identity).
fn is_operation(ev: &Interp, e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Binary { .. } | ExprKind::Unary { .. } | ExprKind::Index { .. } => true,
        ExprKind::List(_) => true,
        ExprKind::Field { name, .. } => name.name == "T",
        ExprKind::Call { callee, .. } => !ev.fns.contains_key(callee.name.as_str()),
        ExprKind::Method { name, .. } => !ev.fns.contains_key(name.name.as_str()),
        _ => false,
    }
}

impl<'a> Interp<'a> {
    /// `expr` while a trace is active.
    pub(super) fn traced_expr(&mut self, e: &'a Expr) -> Eval<Value> {
        match self.trace.as_deref_mut() {
            Some(Trace::Replay(values)) => {
                if let Some(v) = values.get(&e.id) {
                    return Ok(v.clone());
                }
                return self.expr_kind(e);
            }
            Some(Trace::Record(tape)) => tape.frames.push(Vec::new()),
            None => return self.expr_kind(e),
        }
        let result = self.expr_kind(e);
        let Some(Trace::Record(tape)) = self.trace.as_deref_mut() else {
            return result;
        };
        let children = tape.frames.pop().unwrap_or_default();
        let value = result?;
        let record = children.iter().any(|(_, v)| tape.tracked(v));
        // The call's frame is copied only for a node that keeps it.
        let context = if record && is_operation(self, e) {
            Some(self.context())
        } else {
            None
        };
        let Some(Trace::Record(tape)) = self.trace.as_deref_mut() else {
            return Ok(value);
        };
        if let Some(context) = context {
            tape.push(Node {
                op: Op::Expr(e),
                children,
                output: value.clone(),
                context,
            });
        }
        if let Some(parent) = tape.frames.last_mut() {
            parent.push((e.id, value.clone()));
        }
        Ok(value)
    }

    /// The fn call in progress, for re-running a node later.
    fn context(&self) -> Option<(Frame, Rc<FnSig>)> {
        let frame = self.sizes.frames.last()?.clone();
        Some((frame, self.calls.last()?.clone()))
    }

    /// Statements start a fresh frame, so that a loop inside a recorded fn
    /// does not keep every iteration's values in its caller's frame.
    pub(super) fn begin_statement(&mut self) -> bool {
        match self.trace.as_deref_mut() {
            Some(Trace::Record(tape)) => {
                tape.frames.push(Vec::new());
                true
            }
            _ => false,
        }
    }

    pub(super) fn end_statement(&mut self) {
        if let Some(Trace::Record(tape)) = self.trace.as_deref_mut() {
            tape.frames.pop();
        }
    }

    /// Records `target[items] = value` when either side is being followed.
    pub(super) fn record_assign(
        &mut self,
        items: &'a [IndexItem],
        span: Span,
        (target, value): (&Tensor, &Tensor),
        result: &Tensor,
    ) {
        let context = self.context();
        let Some(Trace::Record(tape)) = self.trace.as_deref_mut() else {
            return;
        };
        if !tape.tracks(target) && !tape.tracks(value) {
            return;
        }
        let children = tape.frames.last().cloned().unwrap_or_default();
        tape.push(Node {
            op: Op::Assign(Box::new(Assignment {
                items,
                span,
                target: target.clone(),
                value: value.clone(),
            })),
            children,
            output: Value::Tensor(result.clone()),
            context,
        });
    }

    /// Runs `f` at `args` recording a tape, then returns its value and the
    /// gradient with respect to each argument (in the argument's type).
    pub(crate) fn value_and_grad(
        &mut self,
        (def, sig): Function<'a>,
        args: &[Tensor],
        span: Span,
    ) -> Eval<(Value, Vec<Tensor>)> {
        let mut tape = Tape {
            nodes: Vec::new(),
            ids: FxHashMap::default(),
            frames: vec![Vec::new()],
        };
        // Fresh copies: two arguments given the same tensor, or a global
        // the fn also reads, are still separate inputs.
        let params: Vec<Tensor> = args
            .iter()
            .map(|t| crate::map_tensor!(t, a => a.to_owned().into_shared()))
            .collect();
        for p in &params {
            tape.push(Node {
                op: Op::Leaf,
                children: Vec::new(),
                output: Value::Tensor(p.clone()),
                context: None,
            });
        }
        let outer = self.trace.replace(Box::new(Trace::Record(tape)));
        let values = params.iter().cloned().map(Value::Tensor).collect();
        let before = self.flops_counted();
        let result = self.invoke(def, sig, values);
        let forward = self.flops_counted() - before;
        let recorded = std::mem::replace(&mut self.trace, outer);
        let value = result?;
        let Some(Trace::Record(tape)) = recorded.map(|b| *b) else {
            return Err(internal(span, "a tape lost while recording"));
        };
        let output = value
            .tensor()
            .ok_or_else(|| internal(span, "a differentiated fn that returned no tensor"))?;
        let grads = self.backward(&tape, output, span)?;
        // The usual estimate: each product's gradient is two products of
        // its size, and elementwise rules cost about twice their op.
        self.add_flops(2.0 * forward);
        let grads = grads
            .into_iter()
            .zip(args)
            .map(|(g, a)| Tensor::F64(g.into_shared()).cast(a.dtype()))
            .collect();
        Ok((value, grads))
    }

    /// The reverse pass: the cotangent of `output` is 1; each node hands
    /// its cotangents to its inputs through its rule.
    fn backward(&mut self, tape: &Tape<'a>, output: &Tensor, span: Span) -> Eval<Vec<ArrayD<f64>>> {
        let mut cotangents: Vec<Vec<Option<ArrayD<f64>>>> =
            tape.nodes.iter().map(|_| Vec::new()).collect();
        if let Some(&(node, slot)) = tape.ids.get(&key(output)) {
            add(
                &mut cotangents[node],
                slot,
                ArrayD::from_elem(IxDyn(output.shape()), 1.0),
            );
        }
        for index in (0..tape.nodes.len()).rev() {
            let node = &tape.nodes[index];
            if matches!(node.op, Op::Leaf) || cotangents[index].iter().all(Option::is_none) {
                continue;
            }
            let g = std::mem::take(&mut cotangents[index]);
            let wants = |t: &Tensor| tape.tracks(t);
            let grads = self.vjp(node, &g, &wants)?;
            for (input, grad) in grads {
                if grad.shape() != input.shape() {
                    debug_assert!(false, "a gradient unlike its input's shape");
                    return Err(internal(span, "a gradient unlike its input's shape"));
                }
                if let Some(&(node, slot)) = tape.ids.get(&key(&input)) {
                    add(&mut cotangents[node], slot, grad);
                }
            }
        }
        let leaves = tape.nodes.iter().take_while(|n| matches!(n.op, Op::Leaf));
        Ok(leaves
            .zip(cotangents)
            .map(|(leaf, mut g)| {
                let shape = leaf.output.tensor().map_or(&[][..], Tensor::shape);
                g.get_mut(0)
                    .and_then(Option::take)
                    .unwrap_or_else(|| ArrayD::zeros(IxDyn(shape)))
            })
            .collect())
    }

    /// Re-runs a recorded operation with some sub-expressions' values
    /// replaced, element types chosen by `dtypes`, in the fn call it ran in.
    fn replay(
        &mut self,
        node: &Node<'a>,
        values: FxHashMap<NodeId, Value>,
        dtypes: DTypes,
        run: impl FnOnce(&mut Interp<'a>) -> Eval<Value>,
    ) -> Eval<Value> {
        let outer = self.trace.replace(Box::new(Trace::Replay(values)));
        let saved = std::mem::replace(&mut self.dtypes, dtypes);
        if let Some((frame, sig)) = &node.context {
            self.sizes.frames.push(frame.clone());
            self.calls.push(sig.clone());
        }
        let result = run(self);
        if node.context.is_some() {
            self.sizes.frames.pop();
            self.calls.pop();
        }
        self.dtypes = saved;
        self.trace = outer;
        result
    }
}

fn add(slots: &mut Vec<Option<ArrayD<f64>>>, slot: usize, g: ArrayD<f64>) {
    if slots.len() <= slot {
        slots.resize(slot + 1, None);
    }
    match &mut slots[slot] {
        Some(sum) => *sum += &g,
        empty => *empty = Some(g),
    }
}

/// einsum of f64 arrays, for rules written as contractions.
fn einsum(spec: &str, operands: &[&ArrayD<f64>], span: Span) -> Eval<ArrayD<f64>> {
    let values: Vec<Tensor> = operands
        .iter()
        .map(|a| Tensor::F64((*a).clone().into_shared()))
        .collect();
    crate::ops::einsum_values(spec, &values, DType::F64)
        .map(|t| floats(&t))
        .map_err(|what| internal(span, what))
}

/// `a`'s elements, row-major, in another shape.
fn reshaped(a: ArrayD<f64>, shape: &[usize], span: Span) -> Eval<ArrayD<f64>> {
    a.as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(shape))
        .map_err(|_| internal(span, "a gradient of another size"))
}

/// A tensor's values in f64, for the backward pass.
pub(crate) fn floats(t: &Tensor) -> ArrayD<f64> {
    match t.cast(DType::F64) {
        Tensor::F64(a) => a.into_owned(),
        _ => ArrayD::zeros(IxDyn(t.shape())),
    }
}

/// `grad` and `value_and_grad`.
pub(crate) fn grad_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Eval<Value> {
    let (function, args) = differentiated(ev, b)?;
    let (value, grads) = ev.value_and_grad(function, &args, b.span)?;
    let mut grads: Vec<Value> = grads.into_iter().map(Value::Tensor).collect();
    Ok(match b.name {
        "value_and_grad" => {
            grads.insert(0, value);
            Value::Tuple(grads.into())
        }
        _ if grads.len() == 1 => grads.pop().unwrap_or(Value::Nothing),
        _ => Value::Tuple(grads.into()),
    })
}

/// A user fn: its definition and checked signature.
type Function<'a> = (&'a FnDef, Rc<FnSig>);

/// The fn a grad-family call differentiates, and its argument values.
fn differentiated<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Eval<(Function<'a>, Vec<Tensor>)> {
    let function = match b.get(0).map(|f| &f.kind) {
        Some(ExprKind::Name(name)) => ev.fns.get(name.as_str()).cloned(),
        _ => None,
    };
    let function = function.ok_or_else(|| internal(b.span, "a grad-family call without its fn"))?;
    let args = b
        .rest(1)
        .iter()
        .map(|a| ev.tensor(a.value))
        .collect::<Eval<Vec<Tensor>>>()?;
    Ok((function, args))
}

/// A recorded builtin call bound to its parameters again.
fn bound(e: &Expr) -> Eval<Bound<'_>> {
    let (name, args) =
        crate::eval::interp::call_args(e).ok_or_else(|| internal(e.span, "a call node"))?;
    crate::ops::bind_builtin(name, &args, e.span, e.id)
        .ok_or_else(|| internal(e.span, "a recorded call that does not bind"))
}

/// The error for an operation without a gradient rule yet.
fn no_rule(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::Grad,
        span,
        format!("tsr cannot differentiate through `{what}` yet"),
    )
    .label(span, "no gradient rule")
    .help(
        "compute this part outside the differentiated fn, or write it with ops that have gradients",
    )
}
