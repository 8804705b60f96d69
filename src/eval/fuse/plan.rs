//! Which expressions fuse, and the steps that compute them.

use super::super::interp::Interp;
use super::super::operators::arithmetic_op;
use crate::check::types::{DType, Type};
use crate::ops::math::{Binary, Unary};
use crate::ops::ArgRef;
use crate::syntax::ast::{Expr, ExprKind, UnaryOp};

/// A fused chain: its leaves (the subexpressions evaluated as usual, in
/// source order) and its steps in postfix order, the root last. Step `i`
/// writes register `i`.
pub(crate) struct Plan<'a> {
    pub leaves: Vec<&'a Expr>,
    pub steps: Vec<Step>,
    /// For each arithmetic operator, the range of leaves below it: its
    /// result has their broadcast shape, which `--profile` counts.
    pub operators: Vec<(usize, usize)>,
    pub dtype: DType,
}

/// One node. `f32` marks a node whose proved element type is f32: it reads
/// its operands rounded to f32 and rounds its result to f32.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Step {
    Leaf(usize),
    Neg {
        arg: usize,
        f32: bool,
    },
    Unary {
        op: Unary,
        arg: usize,
        f32: bool,
    },
    Binary {
        op: Binary,
        lhs: usize,
        rhs: usize,
        f32: bool,
    },
}

/// The plan of `e`, when it is a chain of at least two fusable nodes.
pub(super) fn build<'a>(ev: &Interp<'a>, e: &'a Expr) -> Option<Plan<'a>> {
    let mut builder = Builder {
        ev,
        leaves: Vec::new(),
        steps: Vec::new(),
        operators: Vec::new(),
    };
    builder.node(e)?;
    let nodes = builder
        .steps
        .iter()
        .filter(|s| !matches!(s, Step::Leaf(_)))
        .count();
    let dtype = float_type(ev, e)?;
    (nodes >= 2).then_some(Plan {
        leaves: builder.leaves,
        steps: builder.steps,
        operators: builder.operators,
        dtype,
    })
}

struct Builder<'i, 'a> {
    ev: &'i Interp<'a>,
    leaves: Vec<&'a Expr>,
    steps: Vec<Step>,
    operators: Vec<(usize, usize)>,
}

impl<'a> Builder<'_, 'a> {
    fn push(&mut self, step: Step) -> usize {
        self.steps.push(step);
        self.steps.len() - 1
    }

    /// `e` as a fused node, or `None` (having pushed nothing) when it does
    /// not fuse.
    fn node(&mut self, e: &'a Expr) -> Option<usize> {
        let f32 = float_type(self.ev, e)? == DType::F32;
        match &e.kind {
            ExprKind::Binary { op, lhs, rhs } => {
                let op = arithmetic_op(*op)?;
                let first = self.leaves.len();
                let (lhs, rhs) = (self.operand(lhs), self.operand(rhs));
                self.operators.push((first, self.leaves.len()));
                Some(self.push(Step::Binary { op, lhs, rhs, f32 }))
            }
            // A negated leaf keeps the leaf's own element type, which only
            // its value tells: only a fused operand's type is known here.
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => {
                let arg = self.node(operand)?;
                Some(self.push(Step::Neg { arg, f32 }))
            }
            ExprKind::Call { callee, args } => {
                let refs = args.iter().map(|a| ArgRef {
                    name: a.name.as_ref().map(|n| n.name.as_str()),
                    value: &a.value,
                    span: a.span,
                });
                self.call(&callee.name, refs.collect(), e, f32)
            }
            ExprKind::Method {
                receiver,
                name,
                args,
            } => {
                let mut refs = vec![ArgRef {
                    name: None,
                    value: receiver,
                    span: receiver.span,
                }];
                refs.extend(args.iter().map(|a| ArgRef {
                    name: a.name.as_ref().map(|n| n.name.as_str()),
                    value: &a.value,
                    span: a.span,
                }));
                self.call(&name.name, refs, e, f32)
            }
            _ => None,
        }
    }

    fn call(&mut self, name: &str, args: Vec<ArgRef<'a>>, e: &'a Expr, f32: bool) -> Option<usize> {
        if self.ev.fns.contains_key(name) {
            return None;
        }
        let binary = match name {
            "maximum" => Some(Binary::Maximum),
            "minimum" => Some(Binary::Minimum),
            "pow" => Some(Binary::Pow),
            _ => None,
        };
        let unary = Unary::from_name(name);
        if binary.is_none() && unary.is_none() {
            return None;
        }
        let bound = crate::ops::bind_builtin(name, &args, e.span, e.id)?;
        match (unary, binary) {
            (Some(op), _) => {
                let arg = self.operand(bound.get(0)?);
                Some(self.push(Step::Unary { op, arg, f32 }))
            }
            (_, Some(op)) => {
                let (l, r) = (bound.get(0)?, bound.get(1)?);
                let (lhs, rhs) = (self.operand(l), self.operand(r));
                Some(self.push(Step::Binary { op, lhs, rhs, f32 }))
            }
            _ => None,
        }
    }

    /// An operand: a fused node, or else a leaf.
    fn operand(&mut self, e: &'a Expr) -> usize {
        if let Some(step) = self.node(e) {
            return step;
        }
        self.leaves.push(e);
        self.push(Step::Leaf(self.leaves.len() - 1))
    }
}

/// The proved float element type of `e`, if it has one.
fn float_type(ev: &Interp, e: &Expr) -> Option<DType> {
    match ev.fact(e) {
        Some(Type::Tensor(t)) if t.dtype.is_float() => Some(t.dtype),
        _ => None,
    }
}
