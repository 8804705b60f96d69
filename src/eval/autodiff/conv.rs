//! Gradients of convolutions and pooling through their im2col form: the
//! windows of x unfolded to columns `[N, G, C/G, KH, KW, OH, OW]` (a
//! gather, whose adjoint `fold` adds columns back), contracted with the
//! weights as einsums. A 1-D convolution runs as a 2-D one of height 1.

use ndarray::{ArrayD, Axis, IxDyn};

use super::rules::{unbroadcast, Grads};
use super::{einsum, floats, reshaped, Node};
use crate::eval::interp::{internal, Eval, Interp};
use crate::eval::value::Tensor;
use crate::ops::nn::{conv_settings, setting};
use crate::ops::Bound;

/// How windows of a `[.., H, W]` input map to `[OH, OW]` output positions.
#[derive(Clone, Copy)]
struct Windows {
    input: [usize; 2],
    output: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
}

impl Windows {
    /// The input position a kernel tap reads for an output position, if
    /// it is not padding.
    fn source(&self, axis: usize, out: usize, tap: usize) -> Option<usize> {
        let at = out * self.stride[axis] + tap * self.dilation[axis];
        at.checked_sub(self.padding[axis])
            .filter(|&i| i < self.input[axis])
    }

    /// `[B, C, H, W]` → `[B, C, KH, KW, OH, OW]`.
    fn unfold(&self, x: &ArrayD<f64>) -> ArrayD<f64> {
        let (b, c) = (x.shape()[0], x.shape()[1]);
        let [kh, kw] = self.kernel;
        let [oh, ow] = self.output;
        let mut cols = ArrayD::zeros(IxDyn(&[b, c, kh, kw, oh, ow]));
        self.each(|(i, j, p, q), (h, w)| {
            for n in 0..b {
                for ch in 0..c {
                    cols[[n, ch, i, j, p, q].as_slice()] = x[[n, ch, h, w].as_slice()];
                }
            }
        });
        cols
    }

    /// The adjoint of `unfold`: each column element added to its source.
    fn fold(&self, cols: &ArrayD<f64>) -> ArrayD<f64> {
        let (b, c) = (cols.shape()[0], cols.shape()[1]);
        let [h, w] = self.input;
        let mut x = ArrayD::zeros(IxDyn(&[b, c, h, w]));
        self.each(|(i, j, p, q), (h, w)| {
            for n in 0..b {
                for ch in 0..c {
                    x[[n, ch, h, w].as_slice()] += cols[[n, ch, i, j, p, q].as_slice()];
                }
            }
        });
        x
    }

    /// Every (tap, output position) that reads an input position.
    fn each(&self, mut f: impl FnMut((usize, usize, usize, usize), (usize, usize))) {
        let ([kh, kw], [oh, ow]) = (self.kernel, self.output);
        for i in 0..kh {
            for p in 0..oh {
                let Some(h) = self.source(0, p, i) else {
                    continue;
                };
                for j in 0..kw {
                    for q in 0..ow {
                        if let Some(w) = self.source(1, q, j) {
                            f((i, j, p, q), (h, w));
                        }
                    }
                }
            }
        }
    }
}

/// `[N, C, (H,) W]` as `[N, C, H, W]`.
fn four_d(a: ArrayD<f64>, spatial: usize) -> ArrayD<f64> {
    if spatial == 1 {
        a.insert_axis(Axis(2))
    } else {
        a
    }
}

fn back(a: ArrayD<f64>, spatial: usize) -> ArrayD<f64> {
    if spatial == 1 {
        a.index_axis_move(Axis(2), 0)
    } else {
        a
    }
}

impl<'a> Interp<'a> {
    pub(super) fn convolution(
        &mut self,
        b: &Bound<'a>,
        node: &Node<'a>,
        g: ArrayD<f64>,
        (spatial, transposed): (usize, bool),
        wants: &dyn Fn(&Tensor) -> bool,
    ) -> Eval<Grads> {
        let span = b.span;
        let set = conv_settings(self, b, spatial, transposed)?;
        let (x, w) = (node.input(b, 0)?, node.input(b, 1)?);
        let (xs, ws) = (four_d(floats(x), spatial), four_d(floats(w), spatial));
        let gy = four_d(g.clone(), spatial);
        let groups = set.groups;
        let [n, c, h, wd] = [xs.shape()[0], xs.shape()[1], xs.shape()[2], xs.shape()[3]];
        let [ko, ki, kh, kw] = [ws.shape()[0], ws.shape()[1], ws.shape()[2], ws.shape()[3]];
        let [oh, ow] = [gy.shape()[2], gy.shape()[3]];
        let o = gy.shape()[1];
        // The conv2d that maps `a` (channels `from`, size `a_size`) to `y`.
        let windows = |input: [usize; 2], output: [usize; 2]| Windows {
            input,
            output,
            kernel: [kh, kw],
            stride: set.stride,
            padding: set.padding,
            dilation: set.dilation,
        };
        let mut grads = Vec::new();
        if !transposed {
            // y[n,g,o,p,q] = Σ w[g,o,c,k,l] cols(x)[n,g,c,k,l,p,q]
            let win = windows([h, wd], [oh, ow]);
            let gyg = reshaped(gy, &[n, groups, o / groups, oh, ow], span)?;
            let wg = reshaped(ws.clone(), &[groups, ko / groups, ki, kh, kw], span)?;
            if wants(x) {
                let gcols = einsum("ngopq,gockl->ngcklpq", &[&gyg, &wg], span)?;
                let gcols = reshaped(gcols, &[n, c, kh, kw, oh, ow], span)?;
                let gx = back(win.fold(&gcols), spatial);
                grads.push((x.clone(), gx));
            }
            if wants(w) {
                let cols = reshaped(
                    win.unfold(&xs),
                    &[n, groups, c / groups, kh, kw, oh, ow],
                    span,
                )?;
                let gw = einsum("ngopq,ngcklpq->gockl", &[&gyg, &cols], span)?;
                let gw = reshaped(gw, &[ko, ki, kh, kw], span)?;
                grads.push((w.clone(), back(gw, spatial)));
            }
        } else {
            // y = Lᵀx for the conv2d L from y's shape to x's with weight w
            // ([C, O/G, KH, KW]): x's gradient is L(gy), w's the conv2d
            // weight gradient of input gy and output cotangent x.
            let win = windows([oh, ow], [h, wd]);
            let cols = reshaped(
                win.unfold(&gy),
                &[n, groups, o / groups, kh, kw, h, wd],
                span,
            )?;
            if wants(x) {
                let wg = reshaped(ws.clone(), &[groups, ko / groups, ki, kh, kw], span)?;
                let gx = einsum("gcokl,ngoklpq->ngcpq", &[&wg, &cols], span)?;
                grads.push((
                    x.clone(),
                    back(reshaped(gx, &[n, c, h, wd], span)?, spatial),
                ));
            }
            if wants(w) {
                let xg = reshaped(xs.clone(), &[n, groups, c / groups, h, wd], span)?;
                let gw = einsum("ngcpq,ngoklpq->gcokl", &[&xg, &cols], span)?;
                grads.push((
                    w.clone(),
                    back(reshaped(gw, &[ko, ki, kh, kw], span)?, spatial),
                ));
            }
        }
        if b.get(2).is_some() {
            let bias = node.input(b, 2)?;
            if wants(bias) {
                // The bias is added along the channel axis (1).
                let mut sum = g;
                while sum.ndim() > 2 {
                    sum = sum.sum_axis(Axis(sum.ndim() - 1));
                }
                let sum = sum.sum_axis(Axis(0));
                grads.push((bias.clone(), unbroadcast(sum, bias.shape())));
            }
        }
        Ok(grads)
    }

    /// Pooling over the last two axes: avg spreads each cotangent over its
    /// window; max gives it to the window's maximum (split between ties,
    /// as the max reduction does).
    pub(super) fn pooling(
        &mut self,
        b: &Bound<'a>,
        node: &Node<'a>,
        g: ArrayD<f64>,
        max: bool,
    ) -> Eval<Grads> {
        let span = b.span;
        let x = node.input(b, 0)?;
        let k = setting(self, b, 1, 2, &[])?;
        let stride = setting(self, b, 2, 2, &k)?;
        let (&[kh, kw], &[sh, sw]) = (k.as_slice(), stride.as_slice()) else {
            return Err(internal(span, "a pooling window of another rank"));
        };
        let shape = x.shape().to_vec();
        let rank = shape.len();
        let (h, w, oh, ow) = (
            shape[rank - 2],
            shape[rank - 1],
            g.shape()[rank - 2],
            g.shape()[rank - 1],
        );
        let batch: usize = shape[..rank - 2].iter().product();
        let xs = reshaped(floats(x), &[batch, 1, h, w], span)?;
        let gs = reshaped(g, &[batch, oh, ow], span)?;
        let win = Windows {
            input: [h, w],
            output: [oh, ow],
            kernel: [kh, kw],
            stride: [sh, sw],
            padding: [0, 0],
            dilation: [1, 1],
        };
        let cols = win.unfold(&xs);
        let mut gcols = ArrayD::zeros(cols.raw_dim());
        for bi in 0..batch {
            for p in 0..oh {
                for q in 0..ow {
                    let cot = gs[[bi, p, q].as_slice()];
                    let taps = (0..kh).flat_map(|i| (0..kw).map(move |j| (i, j)));
                    let value = |(i, j): (usize, usize)| cols[[bi, 0, i, j, p, q].as_slice()];
                    let top = taps.clone().map(value).fold(f64::NEG_INFINITY, f64::max);
                    let chosen: Vec<(usize, usize)> = match max {
                        true => taps.filter(|&t| value(t) == top).collect(),
                        false => taps.collect(),
                    };
                    let share = cot / chosen.len().max(1) as f64;
                    for (i, j) in chosen {
                        gcols[[bi, 0, i, j, p, q].as_slice()] += share;
                    }
                }
            }
        }
        let gx = reshaped(win.fold(&gcols), &shape, span)?;
        Ok(vec![(x.clone(), gx)])
    }
}
