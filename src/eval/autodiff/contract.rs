//! Gradients of contractions: the VJP of an einsum is an einsum of the
//! cotangent with the other operands. matmul, dot, outer and linear are
//! written as labelled einsums (matmul's batch axes broadcast like `...`).

use ndarray::{ArrayD, Axis, IxDyn};

use super::rules::{unbroadcast, Grads};
use super::{einsum, floats, Node};
use crate::check::rules::einsum_spec::{implicit_output, parse_einsum, SpecItem};
use crate::eval::interp::{internal, Eval, Interp};
use crate::eval::value::Tensor;
use crate::ops::Bound;
use crate::source::Span;
use crate::syntax::ast::ExprKind;

/// Letters the derived specs use: one per distinct axis label.
const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// An einsum over label numbers: each operand's labels, and the output's.
struct Labelled {
    inputs: Vec<Vec<usize>>,
    output: Vec<usize>,
}

impl Labelled {
    /// numpy.matmul's labels: batch axes right-aligned, a 1-D operand
    /// promoted and its axis dropped from the result.
    fn matmul(a: &[usize], b: &[usize]) -> Labelled {
        let (ra, rb) = (a.len().saturating_sub(2), b.len().saturating_sub(2));
        let batch = ra.max(rb);
        let (m, k, n) = (batch, batch + 1, batch + 2);
        let mut left: Vec<usize> = (batch - ra..batch).collect();
        let mut right: Vec<usize> = (batch - rb..batch).collect();
        let mut output: Vec<usize> = (0..batch).collect();
        if a.len() >= 2 {
            left.push(m);
            output.push(m);
        }
        left.push(k);
        right.push(k);
        if b.len() >= 2 {
            right.push(n);
            output.push(n);
        }
        Labelled {
            inputs: vec![left, right],
            output,
        }
    }

    /// The labels of an einsum spec applied to operands of these ranks.
    fn einsum(text: &str, ranks: &[usize]) -> Option<Labelled> {
        let spec = parse_einsum(text).ok()?;
        let mut names: Vec<&str> = Vec::new();
        let batch_rank = spec
            .operands
            .iter()
            .zip(ranks)
            .filter(|(o, _)| o.ellipsis().is_some())
            .map(|(o, &r)| r.saturating_sub(o.labels().count()))
            .max()
            .unwrap_or(0);
        let mut inputs = Vec::new();
        for (operand, &rank) in spec.operands.iter().zip(ranks) {
            let batch = rank.checked_sub(operand.labels().count())?;
            let mut labels = Vec::new();
            for item in &operand.items {
                match item {
                    SpecItem::Label { name, .. } => {
                        let i = names.iter().position(|n| n == name).unwrap_or_else(|| {
                            names.push(name);
                            names.len() - 1
                        });
                        labels.push(batch_rank + i);
                    }
                    SpecItem::Ellipsis { .. } => labels.extend(batch_rank - batch..batch_rank),
                }
            }
            inputs.push(labels);
        }
        let written = spec
            .output
            .clone()
            .unwrap_or_else(|| implicit_output(&spec));
        let mut output = Vec::new();
        for item in &written.items {
            match item {
                SpecItem::Label { name, .. } => {
                    output.push(batch_rank + names.iter().position(|n| n == name)?)
                }
                SpecItem::Ellipsis { .. } => output.extend(0..batch_rank),
            }
        }
        Some(Labelled { inputs, output })
    }

    /// The gradient of operand `j`: the cotangent contracted with the other
    /// operands onto j's labels; a label only j has is broadcast back, an
    /// axis j broadcast is summed, and a repeated label fills a diagonal.
    fn vjp(
        &self,
        operands: &[ArrayD<f64>],
        g: &ArrayD<f64>,
        j: usize,
        span: Span,
    ) -> Eval<ArrayD<f64>> {
        let mut size = vec![1usize; LETTERS.len()];
        let all = self.inputs.iter().zip(operands.iter().map(|o| o.shape()));
        for (labels, shape) in all.chain([(&self.output, g.shape())]) {
            for (&l, &n) in labels.iter().zip(shape) {
                if l >= size.len() {
                    return Err(internal(span, "an einsum with more than 52 labels"));
                }
                size[l] = size[l].max(n);
            }
        }
        let own = &self.inputs[j];
        let mut unique: Vec<usize> = Vec::new();
        for &l in own {
            if !unique.contains(&l) {
                unique.push(l);
            }
        }
        let elsewhere = |l: usize| {
            self.output.contains(&l)
                || self
                    .inputs
                    .iter()
                    .enumerate()
                    .any(|(i, labels)| i != j && labels.contains(&l))
        };
        let present: Vec<usize> = unique.iter().copied().filter(|&l| elsewhere(l)).collect();
        let letters =
            |labels: &[usize]| -> String { labels.iter().map(|&l| LETTERS[l] as char).collect() };
        let mut terms = vec![letters(&self.output)];
        let mut values = vec![g];
        for (i, labels) in self.inputs.iter().enumerate() {
            if i != j {
                terms.push(letters(labels));
                values.push(&operands[i]);
            }
        }
        let spec = format!("{}->{}", terms.join(","), letters(&present));
        let mut grad = einsum(&spec, &values, span)?;
        // j's own size of each unique label (equal for a repeated one).
        let own_size = |l: usize| {
            own.iter()
                .position(|&o| o == l)
                .map_or(1, |p| operands[j].shape()[p])
        };
        for (axis, &l) in unique.iter().enumerate() {
            if !present.contains(&l) {
                grad = grad.insert_axis(Axis(axis));
                let mut shape = grad.shape().to_vec();
                shape[axis] = own_size(l);
                grad = grad
                    .broadcast(IxDyn(&shape))
                    .ok_or_else(|| internal(span, "an einsum gradient's broadcast"))?
                    .to_owned();
            } else if own_size(l) == 1 && size[l] != 1 {
                grad = grad.sum_axis(Axis(axis)).insert_axis(Axis(axis));
            }
        }
        if unique.len() == own.len() {
            return Ok(grad);
        }
        Ok(onto_diagonal(&grad, &unique, own, operands[j].shape()))
    }
}

/// Places `grad` (over `unique` labels) into an array over `own` labels,
/// which repeat some: zero off the diagonals.
fn onto_diagonal(
    grad: &ArrayD<f64>,
    unique: &[usize],
    own: &[usize],
    shape: &[usize],
) -> ArrayD<f64> {
    let mut out = ArrayD::zeros(IxDyn(shape));
    let mut at = vec![0usize; own.len()];
    for (index, &v) in grad.indexed_iter() {
        for (k, l) in own.iter().enumerate() {
            let u = unique.iter().position(|x| x == l).unwrap_or(0);
            at[k] = index[u];
        }
        out[IxDyn(&at)] += v;
    }
    out
}

/// The gradients of the operands a rule is asked for.
fn labelled_grads(
    labels: &Labelled,
    operands: &[&Tensor],
    g: &ArrayD<f64>,
    wants: &dyn Fn(&Tensor) -> bool,
    span: Span,
) -> Eval<Grads> {
    let values: Vec<ArrayD<f64>> = operands.iter().map(|t| floats(t)).collect();
    let mut grads = Vec::new();
    for (j, operand) in operands.iter().enumerate() {
        if wants(operand) {
            grads.push(((*operand).clone(), labels.vjp(&values, g, j, span)?));
        }
    }
    Ok(grads)
}

pub(super) fn matmul(
    l: &Tensor,
    r: &Tensor,
    g: &ArrayD<f64>,
    wants: &dyn Fn(&Tensor) -> bool,
    span: Span,
) -> Eval<Grads> {
    if let Some(grads) = matrix_product_grads(l, r, g, wants) {
        return Ok(grads);
    }
    let labels = Labelled::matmul(l.shape(), r.shape());
    labelled_grads(&labels, &[l, r], g, wants, span)
}

/// The common case of two matrices, G Bᵀ and Aᵀ G directly; `None` for
/// any other ranks.
fn matrix_product_grads(
    l: &Tensor,
    r: &Tensor,
    g: &ArrayD<f64>,
    wants: &dyn Fn(&Tensor) -> bool,
) -> Option<Grads> {
    if l.shape().len() != 2 || r.shape().len() != 2 {
        return None;
    }
    let as_matrix = |a: ArrayD<f64>| a.into_dimensionality::<ndarray::Ix2>().ok();
    let (a, b, g) = (
        as_matrix(floats(l))?,
        as_matrix(floats(r))?,
        as_matrix(g.clone())?,
    );
    let mut grads = Vec::new();
    if wants(l) {
        grads.push((l.clone(), g.dot(&b.t()).into_dyn()));
    }
    if wants(r) {
        grads.push((r.clone(), a.t().dot(&g).into_dyn()));
    }
    Some(grads)
}

impl<'a> Interp<'a> {
    pub(super) fn contraction(
        &mut self,
        name: &str,
        b: &Bound<'a>,
        node: &Node<'a>,
        g: ArrayD<f64>,
        wants: &dyn Fn(&Tensor) -> bool,
    ) -> Eval<Grads> {
        let span = b.span;
        let arg = |i: usize| node.input(b, i);
        match name {
            "matmul" | "dot" => matmul(arg(0)?, arg(1)?, &g, wants, span),
            "outer" => {
                let labels = Labelled {
                    inputs: vec![vec![0], vec![1]],
                    output: vec![0, 1],
                };
                labelled_grads(&labels, &[arg(0)?, arg(1)?], &g, wants, span)
            }
            "linear" => {
                let (x, w) = (arg(0)?, arg(1)?);
                let mut grads = matmul(x, w, &g, wants, span)?;
                if b.get(2).is_some() {
                    let bias = arg(2)?;
                    if wants(bias) {
                        grads.push((bias.clone(), unbroadcast(g, bias.shape())));
                    }
                }
                Ok(grads)
            }
            "trace" => {
                let x = arg(0)?;
                Ok(vec![(x.clone(), trace(x.shape(), &g))])
            }
            _ => {
                let text = match b.get(0).map(|e| &e.kind) {
                    Some(ExprKind::Str(text)) => text.as_str(),
                    _ => return Err(internal(span, "an einsum spec that is not a literal")),
                };
                let operands = (0..b.rest(1).len())
                    .map(|i| {
                        let e = b.rest(1)[i].value;
                        node.child(e.id)
                            .ok_or_else(|| internal(e.span, "an operand was not recorded"))
                    })
                    .collect::<Eval<Vec<&Tensor>>>()?;
                let ranks: Vec<usize> = operands.iter().map(|t| t.shape().len()).collect();
                let labels = Labelled::einsum(text, &ranks)
                    .ok_or_else(|| internal(span, "an einsum spec that does not fit"))?;
                labelled_grads(&labels, &operands, &g, wants, span)
            }
        }
    }
}

/// `trace` sums the first min(rows, columns) diagonal elements of the last
/// two axes: each receives the cotangent of its batch element.
fn trace(shape: &[usize], g: &ArrayD<f64>) -> ArrayD<f64> {
    let mut out = ArrayD::zeros(IxDyn(shape));
    let rank = shape.len();
    let n = shape[rank - 1].min(shape[rank - 2]);
    for i in 0..n {
        let mut column = out.index_axis_mut(Axis(rank - 1), i);
        let mut diagonal = column.index_axis_mut(Axis(rank - 2), i);
        diagonal += g;
    }
    out
}
