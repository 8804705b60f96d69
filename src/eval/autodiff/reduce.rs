//! Gradients of reductions and normalisations. Each works group by group:
//! the reduced axes of x moved last and flattened, one group per row, the
//! same grouping the kernels use.

use ndarray::{Array2, ArrayD, ArrayView1, ArrayViewMut1, Axis, IxDyn};

use super::rules::Grads;
use super::{floats, reshaped, Node};
use crate::eval::interp::{internal, Eval, Interp};
use crate::ops::Bound;
use crate::source::Span;

/// x's elements grouped by `axes`: `rows[i]` is group i.
struct Groups {
    order: Vec<usize>,
    moved_shape: Vec<usize>,
    rows: Array2<f64>,
}

impl Groups {
    fn new(x: &ArrayD<f64>, axes: &[usize], span: Span) -> Eval<Groups> {
        let kept = (0..x.ndim()).filter(|i| !axes.contains(i));
        let order: Vec<usize> = kept.clone().chain(axes.iter().copied()).collect();
        let outer: usize = kept.map(|i| x.len_of(Axis(i))).product();
        let inner: usize = axes.iter().map(|&i| x.len_of(Axis(i))).product();
        let moved = x.view().permuted_axes(IxDyn(&order));
        let moved_shape = moved.shape().to_vec();
        let rows = moved
            .as_standard_layout()
            .into_owned()
            .into_shape_with_order((outer, inner))
            .map_err(|_| internal(span, "the groups of a reduction's gradient"))?;
        Ok(Groups {
            order,
            moved_shape,
            rows,
        })
    }

    /// Rows back in x's layout.
    fn restore(&self, rows: Array2<f64>, span: Span) -> Eval<ArrayD<f64>> {
        let moved = rows
            .into_shape_with_order(IxDyn(&self.moved_shape))
            .map_err(|_| internal(span, "the groups of a reduction's gradient"))?;
        let mut inverse = vec![0; self.order.len()];
        for (i, &o) in self.order.iter().enumerate() {
            inverse[o] = i;
        }
        Ok(moved
            .permuted_axes(IxDyn(&inverse))
            .as_standard_layout()
            .into_owned())
    }

    /// A gradient of x's shape from each group's elements and the matching
    /// row of `other` (a per-group or per-element array grouped the same).
    fn map(
        &self,
        other: &Array2<f64>,
        mut f: impl FnMut(ArrayView1<f64>, ArrayView1<f64>, ArrayViewMut1<f64>),
        span: Span,
    ) -> Eval<ArrayD<f64>> {
        let mut out = Array2::zeros(self.rows.raw_dim());
        for ((x, o), dst) in self
            .rows
            .outer_iter()
            .zip(other.outer_iter())
            .zip(out.outer_iter_mut())
        {
            f(x, o, dst);
        }
        self.restore(out, span)
    }
}

/// A per-group array (the reduction's result or its cotangent) as one
/// column: reduced axes dropped or kept, its elements are in group order.
fn column(a: &ArrayD<f64>, groups: usize, span: Span) -> Eval<Array2<f64>> {
    a.as_standard_layout()
        .into_owned()
        .into_shape_with_order((groups, 1))
        .map_err(|_| internal(span, "a reduction's cotangent unlike its groups"))
}

impl<'a> Interp<'a> {
    pub(super) fn reduction(
        &mut self,
        name: &str,
        b: &Bound<'a>,
        node: &Node<'a>,
        g: ArrayD<f64>,
    ) -> Eval<Grads> {
        let span = b.span;
        let x = node.input(b, 0)?;
        let rank = x.shape().len();
        let mut axes = self.arg_axes(b, 1, rank)?;
        axes.sort_unstable();
        axes.dedup();
        let xs = floats(x);
        let groups = Groups::new(&xs, &axes, span)?;
        let count = groups.rows.nrows();
        let g = column(&g, count, span)?;
        let y = column(&floats(node.output_tensor(span)?), count, span)?;
        let ddof = if matches!(name, "var" | "std") {
            self.arg_int(b, 3, 0)? as f64
        } else {
            0.0
        };
        let grad = group_gradient(name, &groups, (&g, &y), ddof, span)?;
        Ok(vec![(x.clone(), grad)])
    }

    pub(super) fn normalisation(
        &mut self,
        name: &str,
        b: &Bound<'a>,
        node: &Node<'a>,
        g: ArrayD<f64>,
    ) -> Eval<Grads> {
        let span = b.span;
        let x = node.input(b, 0)?;
        let rank = x.shape().len();
        let axis = self.data_axis(b, 1, 0, rank)?;
        // layernorm and the softmaxes work along `axis`; batchnorm over
        // every other axis.
        let axes: Vec<usize> = match name {
            "batchnorm" => (0..rank).filter(|&i| i != axis).collect(),
            _ => vec![axis],
        };
        let eps = match b.get(2).and_then(|e| node.child(e.id)) {
            Some(t) => t.item().unwrap_or(1e-5),
            None => 1e-5,
        };
        let xs = floats(x);
        let groups = Groups::new(&xs, &axes, span)?;
        let g = Groups::new(&g, &axes, span)?.rows;
        let grad = groups.map(
            &g,
            |row, g, mut out| {
                let n = row.len() as f64;
                match name {
                    "softmax" | "log_softmax" => {
                        let top = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
                        let exps: Vec<f64> = row.iter().map(|&v| (v - top).exp()).collect();
                        let total: f64 = exps.iter().sum();
                        let p = exps.iter().map(|e| e / total);
                        if name == "softmax" {
                            let dot: f64 = p.clone().zip(g.iter()).map(|(p, g)| p * g).sum();
                            for ((o, p), &g) in out.iter_mut().zip(p).zip(g.iter()) {
                                *o = p * (g - dot);
                            }
                        } else {
                            let total_g = g.sum();
                            for ((o, p), &g) in out.iter_mut().zip(p).zip(g.iter()) {
                                *o = g - p * total_g;
                            }
                        }
                    }
                    _ => {
                        let mu = row.sum() / n;
                        let var = row.iter().map(|v| (v - mu) * (v - mu)).sum::<f64>() / n;
                        let inv = 1.0 / (var + eps).sqrt();
                        let xhat: Vec<f64> = row.iter().map(|v| (v - mu) * inv).collect();
                        let mean_g = g.sum() / n;
                        let mean_gx =
                            xhat.iter().zip(g.iter()).map(|(x, g)| x * g).sum::<f64>() / n;
                        for ((o, x), &g) in out.iter_mut().zip(&xhat).zip(g.iter()) {
                            *o = inv * (g - mean_g - x * mean_gx);
                        }
                    }
                }
            },
            span,
        )?;
        Ok(vec![(x.clone(), grad)])
    }
}

/// A reduction's gradient from each group's cotangent and result (one
/// column each, in group order).
fn group_gradient(
    name: &str,
    groups: &Groups,
    (g, y): (&Array2<f64>, &Array2<f64>),
    ddof: f64,
    span: Span,
) -> Eval<ArrayD<f64>> {
    let both = ndarray::concatenate(Axis(1), &[g.view(), y.view()])
        .map_err(|_| internal(span, "a reduction's cotangent unlike its groups"))?;
    groups.map(
        &both,
        |row, gy, mut out| {
            let (g, y) = (gy[0], gy[1]);
            let n = row.len() as f64;
            match name {
                "sum" => out.fill(g),
                "mean" => out.fill(g / n),
                "max" | "min" => {
                    let ties = row.iter().filter(|&&v| v == y).count() as f64;
                    out.zip_mut_with(&row, |o, &v| *o = if v == y { g / ties } else { 0.0 });
                }
                "prod" => exclusive_products(row, &mut out, g),
                "var" | "std" => {
                    let mu = row.sum() / n;
                    let scale = if name == "std" { 2.0 * y } else { 1.0 };
                    out.zip_mut_with(&row, |o, &v| *o = g * 2.0 * (v - mu) / ((n - ddof) * scale));
                }
                "norm" => {
                    out.zip_mut_with(&row, |o, &v| *o = if y > 0.0 { g * v / y } else { 0.0 })
                }
                "logsumexp" => out.zip_mut_with(&row, |o, &v| *o = g * (v - y).exp()),
                _ => {}
            }
        },
        span,
    )
}

impl<'a> Interp<'a> {
    /// einops `reduce`: the same per-group rules, over the groups its
    /// pattern makes.
    pub(super) fn einops_reduction(
        &mut self,
        b: &Bound<'a>,
        node: &Node<'a>,
        g: ArrayD<f64>,
    ) -> Eval<Grads> {
        let span = b.span;
        let x = node.input(b, 0)?;
        let how = match b.get(2).map(|e| &e.kind) {
            Some(crate::syntax::ast::ExprKind::Str(how)) => how.clone(),
            _ => return Err(internal(span, "a reduction without its operation")),
        };
        let layout = crate::ops::einops::reduce_groups(self, b, x.shape())?;
        let xs = reshaped(floats(x), &layout.elementary, span)?;
        let groups = Groups::new(&xs, &layout.dropped, span)?;
        let count = groups.rows.nrows();
        let mut inverse = vec![0; layout.order.len()];
        for (i, &k) in layout.order.iter().enumerate() {
            inverse[k] = i;
        }
        let in_group_order = |a: ArrayD<f64>| -> Eval<Array2<f64>> {
            let a = reshaped(a, &layout.kept, span)?.permuted_axes(IxDyn(&inverse));
            column(&a, count, span)
        };
        let g = in_group_order(g)?;
        let y = in_group_order(floats(node.output_tensor(span)?))?;
        let grad = group_gradient(&how, &groups, (&g, &y), 0.0, span)?;
        Ok(vec![(x.clone(), reshaped(grad, x.shape(), span)?)])
    }
}

/// Each element's gradient of a product: `g` times the product of the
/// other elements of its group, exact when some are zero.
fn exclusive_products(row: ArrayView1<f64>, out: &mut ArrayViewMut1<f64>, g: f64) {
    let mut before = 1.0;
    for (o, &v) in out.iter_mut().zip(row.iter()) {
        *o = before;
        before *= v;
    }
    let mut after = 1.0;
    for (o, &v) in out.iter_mut().zip(row.iter()).rev() {
        *o *= after * g;
        after *= v;
    }
}
