//! Which rule differentiates each operation, and the elementwise rules:
//! operators, float functions, `maximum`/`minimum`/`pow`, casts. The
//! gradient of a broadcast operand is summed back to its own shape.

use ndarray::{ArrayD, Axis, IxDyn, Zip};

use super::{floats, no_rule, Node, Op};
use crate::eval::interp::{internal, Eval, Interp};
use crate::eval::value::Tensor;
use crate::syntax::ast::{BinaryOp, ExprKind};

/// A gradient for each input a rule reaches.
pub(super) type Grads = Vec<(Tensor, ArrayD<f64>)>;

/// Ops whose outputs are their inputs' elements moved, repeated, dropped
/// or filled around: `gather.rs` differentiates them all by re-running
/// them on element indices.
const GATHERS: &[&str] = &[
    "reshape",
    "view",
    "permute",
    "transpose",
    "moveaxis",
    "squeeze",
    "unsqueeze",
    "flatten",
    "broadcast_to",
    "rename",
    "contiguous",
    "rearrange",
    "repeat",
    "concat",
    "stack",
    "split",
    "pad",
    "unfold",
    "diag",
    "triu",
    "tril",
    "where",
];

/// Ops whose gradient is zero (spec section 6), or that yield no floats.
const CONSTANT: &[&str] = &[
    "sign",
    "floor",
    "isnan",
    "argmax",
    "argmin",
    "all",
    "any",
    "i64",
    "bool",
    "size",
    "is_contiguous",
    "zeros",
    "ones",
    "randn",
    "rand",
    "arange",
    "linspace",
    "eye",
    "causal_mask",
    "seed",
    "print",
    "assert",
    "save",
    "load",
];

impl<'a> Interp<'a> {
    /// The gradients of a node's inputs, read in the fn call it ran in
    /// (static settings may name its generics).
    pub(super) fn vjp(
        &mut self,
        node: &Node<'a>,
        g: &[Option<ArrayD<f64>>],
        wants: &dyn Fn(&Tensor) -> bool,
    ) -> Eval<Grads> {
        if let Some((frame, sig)) = &node.context {
            self.sizes.frames.push(frame.clone());
            self.calls.push(sig.clone());
        }
        let grads = self.node_vjp(node, g, wants);
        if node.context.is_some() {
            self.sizes.frames.pop();
            self.calls.pop();
        }
        grads
    }

    fn node_vjp(
        &mut self,
        node: &Node<'a>,
        g: &[Option<ArrayD<f64>>],
        wants: &dyn Fn(&Tensor) -> bool,
    ) -> Eval<Grads> {
        let e = match &node.op {
            Op::Leaf => return Ok(Vec::new()),
            Op::Assign(_) => return self.gather(node, g, wants),
            Op::Expr(e) => *e,
        };
        let out = output_cotangent(node, g);
        match &e.kind {
            ExprKind::Binary { op, lhs, rhs } => {
                let (Some(l), Some(r)) = (node.child(lhs.id), node.child(rhs.id)) else {
                    return Err(internal(e.span, "an operator's operands were not recorded"));
                };
                let g = out(0)?;
                match op {
                    BinaryOp::MatMul => super::contract::matmul(l, r, &g, wants, e.span),
                    _ => Ok(operator(*op, l, r, &g, wants)),
                }
            }
            ExprKind::Unary { operand, .. } => {
                let x = node
                    .child(operand.id)
                    .ok_or_else(|| internal(e.span, "an operand was not recorded"))?;
                Ok(vec![(x.clone(), -out(0)?)])
            }
            ExprKind::Index { .. } | ExprKind::Field { .. } | ExprKind::List(_) => {
                self.gather(node, g, wants)
            }
            ExprKind::Call { callee, .. } => self.builtin(&callee.name, node, g, wants),
            ExprKind::Method { name, .. } => self.builtin(&name.name, node, g, wants),
            _ => Err(internal(e.span, "a tape node that is not an operation")),
        }
    }

    fn builtin(
        &mut self,
        name: &str,
        node: &Node<'a>,
        g: &[Option<ArrayD<f64>>],
        wants: &dyn Fn(&Tensor) -> bool,
    ) -> Eval<Grads> {
        let Op::Expr(e) = node.op else {
            return Ok(Vec::new());
        };
        if GATHERS.contains(&name) {
            return self.gather(node, g, wants);
        }
        if CONSTANT.contains(&name) {
            return Ok(Vec::new());
        }
        let b = super::bound(e)?;
        let arg = |i: usize| {
            node.arg(&b, i)
                .ok_or_else(|| internal(b.span_of(i), "an argument was not recorded"))
        };
        let g0 = || output_cotangent(node, g)(0);
        match name {
            "f32" | "f64" => Ok(vec![(arg(0)?.clone(), g0()?)]),
            "abs" | "exp" | "log" | "sqrt" | "sin" | "cos" | "tanh" | "sigmoid" | "relu"
            | "gelu" => {
                let (x, y) = (arg(0)?, floats(node.output_tensor(e.span)?));
                Ok(vec![(x.clone(), unary(name, &floats(x), &y, &g0()?))])
            }
            "maximum" | "minimum" => {
                let (l, r) = (arg(0)?, arg(1)?);
                Ok(extremum(name == "maximum", l, r, &g0()?, wants))
            }
            "pow" => Ok(operator(BinaryOp::Pow, arg(0)?, arg(1)?, &g0()?, wants)),
            "full" => {
                let v = arg(1)?;
                Ok(vec![(v.clone(), unbroadcast(g0()?, v.shape()))])
            }
            "sum" | "mean" | "prod" | "max" | "min" | "var" | "std" | "norm" | "logsumexp" => {
                self.reduction(name, &b, node, g0()?)
            }
            "softmax" | "log_softmax" | "layernorm" | "batchnorm" => {
                self.normalisation(name, &b, node, g0()?)
            }
            "matmul" | "dot" | "outer" | "trace" | "linear" | "einsum" => {
                self.contraction(name, &b, node, g0()?, wants)
            }
            "reduce" => self.einops_reduction(&b, node, g0()?),
            "inv" | "det" | "solve" | "eigh" | "svd" | "qr" => {
                self.linear_algebra(name, &b, node, &output_cotangent(node, g), wants)
            }
            "conv1d" => self.convolution(&b, node, g0()?, (1, false), wants),
            "conv2d" => self.convolution(&b, node, g0()?, (2, false), wants),
            "conv_transpose2d" => self.convolution(&b, node, g0()?, (2, true), wants),
            "max_pool2d" | "avg_pool2d" => self.pooling(&b, node, g0()?, name == "max_pool2d"),
            _ => Err(no_rule(e.span, name)),
        }
    }
}

impl Node<'_> {
    pub(super) fn output_tensor(&self, span: crate::source::Span) -> Eval<&Tensor> {
        self.output
            .tensor()
            .ok_or_else(|| internal(span, "an operation without a tensor result"))
    }
}

/// The cotangent of output slot `i`: what reached it, or zeros.
fn output_cotangent<'n>(
    node: &'n Node,
    g: &'n [Option<ArrayD<f64>>],
) -> impl Fn(usize) -> Eval<ArrayD<f64>> + 'n {
    move |i| {
        if let Some(Some(v)) = g.get(i) {
            return Ok(v.clone());
        }
        let shape = match &node.output {
            crate::eval::value::Value::Tensor(t) => t.shape().to_vec(),
            crate::eval::value::Value::Tuple(items) => items
                .get(i)
                .and_then(|v| v.tensor())
                .map(|t| t.shape().to_vec())
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Ok(ArrayD::zeros(IxDyn(&shape)))
    }
}

/// Sums a gradient over the axes broadcasting added or stretched, back to
/// the operand's own shape.
pub(super) fn unbroadcast(mut g: ArrayD<f64>, shape: &[usize]) -> ArrayD<f64> {
    while g.ndim() > shape.len() {
        g = g.sum_axis(Axis(0));
    }
    for (i, &n) in shape.iter().enumerate() {
        if n == 1 && g.shape()[i] != 1 {
            g = g.sum_axis(Axis(i)).insert_axis(Axis(i));
        }
    }
    g
}

/// `f(a, b)` elementwise with both broadcast to `shape`.
pub(super) fn combine(
    a: &ArrayD<f64>,
    b: &ArrayD<f64>,
    shape: &[usize],
    f: impl Fn(f64, f64) -> f64,
) -> ArrayD<f64> {
    match (a.broadcast(IxDyn(shape)), b.broadcast(IxDyn(shape))) {
        (Some(a), Some(b)) => Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y)),
        _ => ArrayD::zeros(IxDyn(shape)),
    }
}

/// `g ⊙ ∂out/∂operand` for each operand a rule is asked for, summed back
/// to the operand's shape.
fn each_operand(
    l: &Tensor,
    r: &Tensor,
    g: &ArrayD<f64>,
    wants: &dyn Fn(&Tensor) -> bool,
    partial: impl Fn(bool, f64, f64) -> f64,
) -> Grads {
    let (x, y) = (floats(l), floats(r));
    let shape = g.shape().to_vec();
    let mut grads = Vec::new();
    for (left, operand) in [(true, l), (false, r)] {
        if wants(operand) {
            let d = combine(&x, &y, &shape, |p, q| partial(left, p, q));
            let full = d * g;
            grads.push((operand.clone(), unbroadcast(full, operand.shape())));
        }
    }
    grads
}

fn operator(
    op: BinaryOp,
    l: &Tensor,
    r: &Tensor,
    g: &ArrayD<f64>,
    wants: &dyn Fn(&Tensor) -> bool,
) -> Grads {
    // Sums and products need no partials computed element by element.
    let (left, right) = (wants(l), wants(r));
    let mut grads = Vec::new();
    let mut push = |t: &Tensor, d: ArrayD<f64>| grads.push((t.clone(), unbroadcast(d, t.shape())));
    match op {
        BinaryOp::Add | BinaryOp::Sub => {
            if left {
                push(l, g.clone());
            }
            if right {
                push(r, if op == BinaryOp::Sub { -g } else { g.clone() });
            }
            grads
        }
        BinaryOp::Mul => {
            if left {
                push(l, scaled(g, r));
            }
            if right {
                push(r, scaled(g, l));
            }
            grads
        }
        // A constant exponent (`x ** 2`) needs no broadcast of its own.
        BinaryOp::Pow if !right && r.len() == 1 => {
            let e = r.item().unwrap_or(f64::NAN);
            let x = floats(l);
            let d = match e {
                0.0 => x.mapv(|_| 0.0),
                2.0 => x * 2.0,
                _ => x.mapv(|v| e * v.powf(e - 1.0)),
            };
            if left {
                push(l, g * &d);
            }
            grads
        }
        _ => each_operand(l, r, g, wants, |left, x, y| match (op, left) {
            (BinaryOp::Div, true) => 1.0 / y,
            (BinaryOp::Div, false) => -x / (y * y),
            (BinaryOp::Pow, true) if y == 0.0 => 0.0,
            (BinaryOp::Pow, true) if y == 2.0 => 2.0 * x,
            (BinaryOp::Pow, true) => y * x.powf(y - 1.0),
            // The exponent's gradient is defined where the base is positive;
            // at a base of 0 the power is flat in the exponent (PyTorch's choice).
            (BinaryOp::Pow, false) if x > 0.0 => x.powf(y) * x.ln(),
            _ => 0.0,
        }),
    }
}

/// `g ⊙ t`, with a one-element `t` read as a number.
fn scaled(g: &ArrayD<f64>, t: &Tensor) -> ArrayD<f64> {
    match t.len() {
        1 => g * t.item().unwrap_or(f64::NAN),
        _ => g * &floats(t),
    }
}

/// `maximum`/`minimum`: the gradient goes to the chosen operand; a tie
/// splits it equally between the two.
fn extremum(
    greatest: bool,
    l: &Tensor,
    r: &Tensor,
    g: &ArrayD<f64>,
    wants: &dyn Fn(&Tensor) -> bool,
) -> Grads {
    each_operand(l, r, g, wants, |left, x, y| {
        let (mine, other) = if left { (x, y) } else { (y, x) };
        if mine == other {
            0.5
        } else if (mine > other) == greatest {
            1.0
        } else {
            0.0
        }
    })
}

/// The derivative of a float function from its input `x` and output `y`.
fn unary(name: &str, x: &ArrayD<f64>, y: &ArrayD<f64>, g: &ArrayD<f64>) -> ArrayD<f64> {
    let derivative = |x: f64, y: f64| match name {
        "abs" => x.signum() * f64::from(u8::from(x != 0.0)),
        "exp" => y,
        "log" => 1.0 / x,
        "sqrt" => 0.5 / y,
        "sin" => x.cos(),
        "cos" => -x.sin(),
        "tanh" => 1.0 - y * y,
        "sigmoid" => y * (1.0 - y),
        "relu" => f64::from(u8::from(x > 0.0)),
        "gelu" => {
            let cdf = 0.5 * (1.0 + crate::ops::erf(x / std::f64::consts::SQRT_2));
            let pdf = (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
            cdf + x * pdf
        }
        _ => 0.0,
    };
    let mut out = g.clone();
    Zip::from(&mut out)
        .and(x)
        .and(y)
        .for_each(|o, &x, &y| *o *= derivative(x, y));
    out
}
