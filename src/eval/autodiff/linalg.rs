//! Gradients of `inv`, `det`, `solve`, `eigh`, `svd` and `qr`, batched over
//! leading axes:
//! with Y = A⁻¹, d(A⁻¹) = -Y dA Y, d det A = det A · tr(Y dA), and for
//! X = A⁻¹B, Bᵀ's gradient is A⁻ᵀG and A's is -(A⁻ᵀG)Xᵀ. The inverses come
//! from faer's LU, as the kernels' do.

use faer::linalg::solvers::DenseSolveCore;
use faer::Mat;
use ndarray::{ArrayD, Axis, IxDyn};

use super::rules::{unbroadcast, Grads};
use super::{einsum, floats, Node};
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
        let a = node.input(b, 0)?;
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
                let mut transposed = y;
                transposed.swap_axes(a.shape().len() - 2, a.shape().len() - 1);
                Ok(vec![(a.clone(), transposed * &scale)])
            }
            "svd" => {
                let [u, s, vh] = results(node, span)?;
                let g = [out(0)?, out(1)?, out(2)?];
                Ok(vec![(
                    a.clone(),
                    svd([&u, &s, &vh], &g, (a.shape(), span))?,
                )])
            }
            "qr" => {
                let [q, r] = results(node, span)?;
                let g = [out(0)?, out(1)?];
                Ok(vec![(a.clone(), qr([&floats(a), &q, &r], &g, span)?)])
            }
            "eigh" => {
                let [w, v] = results(node, span)?;
                let (gw, gv) = (out(0)?, out(1)?);
                Ok(vec![(
                    a.clone(),
                    eigh(&w, &v, &gw, &gv, (a.shape(), span))?,
                )])
            }
            _ => {
                let rhs = node.input(b, 1)?;
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

/// A decomposition's results, in f64.
fn results<const N: usize>(node: &Node, span: Span) -> Eval<[ArrayD<f64>; N]> {
    let items: Vec<ArrayD<f64>> = match &node.output {
        crate::eval::value::Value::Tuple(items) => items
            .iter()
            .filter_map(|v| v.tensor())
            .map(floats)
            .collect(),
        _ => Vec::new(),
    };
    items
        .try_into()
        .map_err(|_| internal(span, "a decomposition's results were not recorded"))
}

/// `[..., a, b]` as a stack of matrices.
fn matrices(a: &ArrayD<f64>, span: Span) -> Eval<ndarray::Array3<f64>> {
    let rank = a.ndim();
    let (r, c) = (a.shape()[rank - 2], a.shape()[rank - 1]);
    let count = a.len() / (r * c).max(1);
    a.as_standard_layout()
        .into_owned()
        .into_shape_with_order((count, r, c))
        .map_err(|_| internal(span, "a stack of matrices"))
}

/// The reduced SVD's gradient (PyTorch's formula), with V = Vhᵀ,
/// F_ij = 1/(s_j² − s_i²):
/// U [(F ∘ (UᵀgU − gUᵀU)) S + diag(gS) + S (F ∘ (VᵀgV − gVᵀV))] Vᵀ
/// + (I − UUᵀ) gU S⁻¹ Vᵀ + U S⁻¹ gVᵀ (I − VVᵀ).
///
/// Repeated or zero singular values leave it undefined.
fn svd(
    [u, s, vh]: [&ArrayD<f64>; 3],
    [gu, gs, gvh]: &[ArrayD<f64>; 3],
    (shape, span): (&[usize], Span),
) -> Eval<ArrayD<f64>> {
    let (u, gu) = (matrices(u, span)?, matrices(gu, span)?);
    let (vh, gvh) = (matrices(vh, span)?, matrices(gvh, span)?);
    let k = s.shape().last().copied().unwrap_or(0);
    let s = s
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((u.shape()[0], k));
    let gs = gs
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order((u.shape()[0], k));
    let (Ok(s), Ok(gs)) = (s, gs) else {
        return Err(internal(span, "singular values as a stack"));
    };
    let (m, n) = (u.shape()[1], vh.shape()[2]);
    let mut grad = ndarray::Array3::<f64>::zeros((u.shape()[0], m, n));
    for b in 0..u.shape()[0] {
        let (ub, gub) = (u.index_axis(Axis(0), b), gu.index_axis(Axis(0), b));
        let (v, gv) = (
            vh.index_axis(Axis(0), b).reversed_axes(),
            gvh.index_axis(Axis(0), b).reversed_axes(),
        );
        let (sb, gsb) = (s.row(b), gs.row(b));
        let f = ndarray::Array2::from_shape_fn((k, k), |(i, j)| {
            if i == j {
                0.0
            } else {
                1.0 / (sb[j] * sb[j] - sb[i] * sb[i])
            }
        });
        let utgu = ub.t().dot(&gub);
        let vtgv = v.t().dot(&gv);
        let mut core = (&f * &(&utgu - &utgu.t())) * sb.view().insert_axis(Axis(0));
        core = core + &sb.view().insert_axis(Axis(1)) * &(&f * &(&vtgv - &vtgv.t()));
        for i in 0..k {
            core[[i, i]] += gsb[i];
        }
        let inverse_s = sb.mapv(|x| 1.0 / x);
        let mut total = ub.dot(&core).dot(&v.t());
        let projected_u = &gub - &ub.dot(&ub.t().dot(&gub));
        total = total + (projected_u * inverse_s.view().insert_axis(Axis(0))).dot(&v.t());
        let projected_v = &gv - &v.dot(&v.t().dot(&gv));
        total = total + (&ub * &inverse_s.view().insert_axis(Axis(0))).dot(&projected_v.t());
        grad.index_axis_mut(Axis(0), b).assign(&total);
    }
    if grad.iter().any(|x| !x.is_finite()) {
        return Err(runtime_error(
            span,
            "the gradient of svd is undefined where singular values repeat or vanish",
        ));
    }
    grad.into_dyn()
        .into_shape_with_order(IxDyn(shape))
        .map_err(|_| internal(span, "an svd gradient's shape"))
}

/// The reduced QR's gradient (Liao et al., "Differentiable programming
/// tensor networks"). With k = min(m, n), A = [X | Y] and R = [U | V] split
/// after k columns (V and Y empty when m ≥ n): gQ' = gQ + Y gVᵀ,
/// M = U gUᵀ − gQ'ᵀ Q with its lower triangle mirrored (copyltu),
/// gX = (gQ' + Q copyltu(M)) U⁻ᵀ and gY = Q gV.
fn qr([a, q, r]: [&ArrayD<f64>; 3], [gq, gr]: &[ArrayD<f64>; 2], span: Span) -> Eval<ArrayD<f64>> {
    let shape = a.shape();
    let (m, n) = (shape[shape.len() - 2], shape[shape.len() - 1]);
    let k = m.min(n);
    let (a3, q, gq, r, gr) = (
        matrices(a, span)?,
        matrices(q, span)?,
        matrices(gq, span)?,
        matrices(r, span)?,
        matrices(gr, span)?,
    );
    let square = r.slice(ndarray::s![.., .., ..k]).to_owned().into_dyn();
    let u_inverse = matrices(&inverses(&square, span)?, span)?;
    let mut grad = ndarray::Array3::<f64>::zeros((q.shape()[0], m, n));
    for b in 0..q.shape()[0] {
        let qb = q.index_axis(Axis(0), b);
        let (rb, grb) = (r.index_axis(Axis(0), b), gr.index_axis(Axis(0), b));
        let (u, gu) = (
            rb.slice(ndarray::s![.., ..k]),
            grb.slice(ndarray::s![.., ..k]),
        );
        let gv = grb.slice(ndarray::s![.., k..]);
        let y = a3.index_axis(Axis(0), b);
        let y = y.slice(ndarray::s![.., k..]);
        let gq_full = &gq.index_axis(Axis(0), b) + &y.dot(&gv.t());
        let mut mm = u.dot(&gu.t()) - gq_full.t().dot(&qb);
        for i in 0..k {
            for j in i + 1..k {
                mm[[i, j]] = mm[[j, i]];
            }
        }
        let gx = (&gq_full + &qb.dot(&mm)).dot(&u_inverse.index_axis(Axis(0), b).t());
        let mut out = grad.index_axis_mut(Axis(0), b);
        out.slice_mut(ndarray::s![.., ..k]).assign(&gx);
        out.slice_mut(ndarray::s![.., k..]).assign(&qb.dot(&gv));
    }
    grad.into_dyn()
        .into_shape_with_order(IxDyn(shape))
        .map_err(|_| internal(span, "a qr gradient's shape"))
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
