//! Gradients of `inv`, `det`, `solve` and `eigh`, batched over leading axes:
//! with Y = A⁻¹, d(A⁻¹) = -Y dA Y, d det A = det A · tr(Y dA), and for
//! X = A⁻¹B, Bᵀ's gradient is A⁻ᵀG and A's is -(A⁻ᵀG)Xᵀ. The inverses come
//! from faer's LU, as the kernels' do.

use faer::linalg::solvers::DenseSolveCore;
use faer::Mat;
use ndarray::{ArrayD, Axis, IxDyn};

use super::rules::{unbroadcast, Grads};
use super::{floats, Node};
use crate::check::types::DType;
use crate::eval::interp::{internal, runtime_error, Eval, Interp};
use crate::eval::value::Tensor;
use crate::ops::Bound;
use crate::source::Span;

/// The inverse of every matrix of a `[..., n, n]` stack.
fn inverses(a: &ArrayD<f64>, span: Span) -> Eval<ArrayD<f64>> {
    let rank = a.ndim();
    if rank < 2 {
        return Err(internal(span, "an inverse of fewer than two axes"));
    }
    let n = a.shape()[rank - 1];
    let mut out = a.as_standard_layout().into_owned();
    let stack = out
        .view_mut()
        .into_shape_with_order(IxDyn(&[a.len() / (n * n).max(1), n, n]))
        .map_err(|_| internal(span, "a stack of matrices"))?;
    let mut stack = stack
        .into_dimensionality::<ndarray::Ix3>()
        .map_err(|_| internal(span, "a stack of matrices"))?;
    for mut m in stack.outer_iter_mut() {
        let y = Mat::<f64>::from_fn(n, n, |i, j| m[[i, j]])
            .partial_piv_lu()
            .inverse();
        let finite = (0..n).all(|i| (0..n).all(|j| y[(i, j)].is_finite()));
        if !finite {
            return Err(runtime_error(
                span,
                "the gradient needs the inverse of a singular matrix",
            ));
        }
        m.indexed_iter_mut().for_each(|((i, j), v)| *v = y[(i, j)]);
    }
    Ok(out)
}

fn einsum(spec: &str, operands: &[&ArrayD<f64>], span: Span) -> Eval<ArrayD<f64>> {
    let values: Vec<Tensor> = operands
        .iter()
        .map(|a| Tensor::F64((*a).clone().into_shared()))
        .collect();
    crate::ops::einsum_values(spec, &values, DType::F64)
        .map(|t| floats(&t))
        .map_err(|what| internal(span, what))
}

impl<'a> Interp<'a> {
    pub(super) fn linear_algebra(
        &mut self,
        name: &str,
        b: &Bound<'a>,
        node: &Node<'a>,
        out: &dyn Fn(usize) -> Eval<ArrayD<f64>>,
        wants: &dyn Fn(&Tensor) -> bool,
    ) -> Eval<Grads> {
        let span = b.span;
        let g = out(0)?;
        let arg = |i: usize| {
            node.arg(b, i)
                .ok_or_else(|| internal(b.span_of(i), "an argument was not recorded"))
        };
        let a = arg(0)?;
        match name {
            "inv" => {
                let y = floats(node.output_tensor(span)?);
                let grad = einsum("...ji,...jk,...lk->...il", &[&y, &g, &y], span)?;
                Ok(vec![(a.clone(), -grad)])
            }
            "det" => {
                let y = inverses(&floats(a), span)?;
                let det = floats(node.output_tensor(span)?);
                let scale = (&g * &det)
                    .insert_axis(Axis(det.ndim()))
                    .insert_axis(Axis(det.ndim() + 1));
                let transposed = y.reversed_last_two();
                Ok(vec![(a.clone(), transposed * &scale)])
            }
            "eigh" => {
                let (w, v) = match &node.output {
                    crate::eval::value::Value::Tuple(items) => {
                        match (items.first(), items.get(1)) {
                            (Some(w), Some(v)) => (w.tensor(), v.tensor()),
                            _ => (None, None),
                        }
                    }
                    _ => (None, None),
                };
                let (Some(w), Some(v)) = (w, v) else {
                    return Err(internal(span, "eigh's results were not recorded"));
                };
                let (gw, gv) = (out(0)?, out(1)?);
                Ok(vec![(
                    a.clone(),
                    eigh(&floats(w), &floats(v), &gw, &gv, (a.shape(), span))?,
                )])
            }
            _ => {
                let rhs = arg(1)?;
                let y = inverses(&floats(a), span)?;
                let x = floats(node.output_tensor(span)?);
                let vector = rhs.shape().len() == 1;
                let (gb, ga) = if vector {
                    let gb = einsum("...ji,...j->...i", &[&y, &g], span)?;
                    let ga = -einsum("...i,...j->...ij", &[&gb, &x], span)?;
                    (gb, ga)
                } else {
                    let gb = einsum("...ji,...jk->...ik", &[&y, &g], span)?;
                    let ga = -einsum("...ik,...jk->...ij", &[&gb, &x], span)?;
                    (gb, ga)
                };
                let mut grads = Vec::new();
                if wants(a) {
                    grads.push((a.clone(), unbroadcast(ga, a.shape())));
                }
                if wants(rhs) {
                    grads.push((rhs.clone(), unbroadcast(gb, rhs.shape())));
                }
                Ok(grads)
            }
        }
    }
}

/// eigh reads A's lower triangle: with S = V (diag(gw) + F ∘ VᵀgV) Vᵀ,
/// F_ij = 1/(w_j - w_i), an element below the diagonal moves both of the
/// symmetric matrix's entries (S_ij + S_ji), one on it moves one, and one
/// above moves nothing. Repeated eigenvalues leave the gradient undefined.
fn eigh(
    w: &ArrayD<f64>,
    v: &ArrayD<f64>,
    gw: &ArrayD<f64>,
    gv: &ArrayD<f64>,
    (shape, span): (&[usize], Span),
) -> Eval<ArrayD<f64>> {
    let n = w.shape().last().copied().unwrap_or(0);
    let count = w.len() / n.max(1);
    let stack = |a: &ArrayD<f64>, shape: &[usize]| {
        a.as_standard_layout()
            .into_owned()
            .into_shape_with_order(IxDyn(shape))
            .and_then(|a| a.into_dimensionality::<ndarray::Ix3>())
            .map_err(|_| internal(span, "a stack of eigen-decompositions"))
    };
    let (w, gw) = (stack(w, &[count, 1, n])?, stack(gw, &[count, 1, n])?);
    let (v, gv) = (stack(v, &[count, n, n])?, stack(gv, &[count, n, n])?);
    let mut grad = ndarray::Array3::<f64>::zeros((count, n, n));
    for k in 0..count {
        let (values, vk) = (w.index_axis(Axis(0), k), v.index_axis(Axis(0), k));
        let mut inner = vk.t().dot(&gv.index_axis(Axis(0), k));
        for ((i, j), x) in inner.indexed_iter_mut() {
            *x = if i == j {
                gw[[k, 0, i]]
            } else {
                *x / (values[[0, j]] - values[[0, i]])
            };
        }
        let s = vk.dot(&inner).dot(&vk.t());
        let mut out = grad.index_axis_mut(Axis(0), k);
        for ((i, j), x) in out.indexed_iter_mut() {
            *x = match i.cmp(&j) {
                std::cmp::Ordering::Greater => s[[i, j]] + s[[j, i]],
                std::cmp::Ordering::Equal => s[[i, i]],
                std::cmp::Ordering::Less => 0.0,
            };
        }
    }
    if grad.iter().any(|x| !x.is_finite()) {
        return Err(runtime_error(
            span,
            "the gradient of eigh is undefined where eigenvalues repeat",
        ));
    }
    grad.into_dyn()
        .into_shape_with_order(IxDyn(shape))
        .map_err(|_| internal(span, "an eigh gradient's shape"))
}

/// Matrices transposed in a `[..., n, n]` stack.
trait LastTwo {
    fn reversed_last_two(self) -> ArrayD<f64>;
}

impl LastTwo for ArrayD<f64> {
    fn reversed_last_two(mut self) -> ArrayD<f64> {
        let rank = self.ndim();
        self.swap_axes(rank - 2, rank - 1);
        self
    }
}
