//! The forward convolution: im2col in tiles that stay in cache, each
//! tile multiplied by its group's filters straight into the output.
//!
//! For each image and group the product is `[O/groups, C/groups·KH·KW]`
//! (the filters as they lie in memory, never copied) times the patches
//! `[C/groups·KH·KW, rows·OW]` of a block of output rows, written into
//! those rows of the `[N, O, OH, OW]` result: the output needs no permute
//! afterwards, the input no padded copy (taps outside it read as zero),
//! and a tile of patches (about `TILE` columns) fits in a core's L2.

use ndarray::{Array4, ArrayView2, ArrayView4};
use rayon::prelude::*;

use super::kernels::{extent, Conv};
use crate::error::Diagnostic;
use crate::eval::interp::{internal, runtime_error};
use crate::ops::linalg::{allocatable, Elem};
use crate::source::Span;

/// Output columns (pixels) per tile of patches: with 576 patch rows (64
/// channels, 3×3) a tile of f32 is under 1 MiB.
const TILE: usize = 384;

/// Below this many multiply-adds the whole convolution runs on the
/// calling thread.
const SMALL: usize = 1 << 16;

/// The sizes one tile needs: the image's `[H, W]`, the filters'
/// `[O/groups, C/groups, KH, KW]`, the output's `[OH, OW]`, the groups.
struct Shape {
    h: usize,
    w: usize,
    og: usize,
    cg: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    groups: usize,
}

impl Shape {
    /// Rows of a tile of patches: one per (input channel, kernel offset).
    fn depth(&self) -> usize {
        self.cg * self.kh * self.kw
    }
}

/// x `[N, C, H, W]` with w `[O, C/groups, KH, KW]`; the result is
/// `[N, O, OH, OW]`. Images are dealt to threads whole; a single image
/// runs its tiles on the calling thread.
pub(super) fn conv_forward<T: Elem + Send + Sync>(
    x: ArrayView4<T>,
    w: ArrayView4<T>,
    set: &Conv,
    (oh, ow): (usize, usize),
    span: Span,
) -> Result<Array4<T>, Diagnostic> {
    let (n, c, h, wd) = x.dim();
    let (o, cg, kh, kw) = w.dim();
    let groups = set.groups;
    if o % groups != 0 || c != cg * groups {
        let message = format!("`groups={groups}` must divide the output channels ({o}) and the input channels ({c}), which must be {cg} per group");
        return Err(runtime_error(span, message));
    }
    let ([sh, sw], [ph, pw], [dh, dw]) = (set.stride, set.padding, set.dilation);
    if sh == 0 || sw == 0 || dh == 0 || dw == 0 {
        return Err(internal(span, "a stride or dilation of 0"));
    }
    if extent(kh, dh, oh, sh) > h + 2 * ph || extent(kw, dw, ow, sw) > wd + 2 * pw {
        return Err(internal(
            span,
            "a convolution output larger than its input allows",
        ));
    }
    allocatable(&[n, o, oh, ow], span)?;
    let shape = Shape {
        h,
        w: wd,
        og: o / groups,
        cg,
        kh,
        kw,
        oh,
        ow,
        groups,
    };
    let rows = (TILE / ow.max(1)).clamp(1, oh.max(1));
    allocatable(&[shape.depth(), rows, ow], span)?;
    let (x, w) = (x.as_standard_layout(), w.as_standard_layout());
    let (Some(xs), Some(ws)) = (x.as_slice(), w.as_slice()) else {
        return Err(internal(
            span,
            "a convolution operand not in standard layout",
        ));
    };
    let mut out = Array4::<T>::zeros((n, o, oh, ow));
    let plane = o * oh * ow;
    let Some(data) = out.as_slice_mut().filter(|_| plane > 0) else {
        return Ok(out);
    };
    let fresh = || vec![T::zero(); shape.depth() * rows * ow];
    let image = |patches: &mut Vec<T>, (i, dst): (usize, &mut [T])| -> Result<(), &'static str> {
        let source = xs
            .get(i * c * h * wd..(i + 1) * c * h * wd)
            .ok_or("a convolution input shorter than its shape")?;
        for_image(source, ws, dst, patches, &shape, set, rows)
    };
    let work = plane.saturating_mul(n).saturating_mul(shape.depth().max(1));
    let done: Result<(), &str> = if work < SMALL || n == 1 {
        let mut patches = fresh();
        data.chunks_mut(plane)
            .enumerate()
            .try_for_each(|task| image(&mut patches, task))
    } else {
        data.par_chunks_mut(plane)
            .enumerate()
            .try_for_each_init(fresh, image)
    };
    done.map_err(|what| internal(span, what))?;
    Ok(out)
}

/// One image's output `[O, OH, OW]` (`dst`), tile by tile of `rows`
/// output rows, every group of each tile from one gather.
fn for_image<T: Elem>(
    source: &[T],
    filters: &[T],
    dst: &mut [T],
    patches: &mut [T],
    s: &Shape,
    set: &Conv,
    rows: usize,
) -> Result<(), &'static str> {
    let depth = s.depth();
    let pixels = s.oh * s.ow;
    let mut y0 = 0;
    while y0 < s.oh {
        // A cancelled run's result is discarded: skip what is left.
        if crate::eval::cancel::requested() {
            return Ok(());
        }
        let y1 = (y0 + rows).min(s.oh);
        let cols = (y1 - y0) * s.ow;
        for g in 0..s.groups {
            let tile = patches
                .get_mut(..depth * cols)
                .ok_or("a convolution tile larger than its buffer")?;
            gather(source, tile, s, set, g, y0..y1);
            let filters = filters
                .get(g * s.og * depth..(g + 1) * s.og * depth)
                .ok_or("convolution filters shorter than their shape")?;
            let lhs = ArrayView2::from_shape((s.og, depth), filters)
                .map_err(|_| "convolution filters of another shape")?;
            let rhs = ArrayView2::from_shape((depth, cols), &*tile)
                .map_err(|_| "a convolution tile of another shape")?;
            let first = g * s.og * pixels + y0 * s.ow;
            let out = dst
                .get_mut(first..)
                .ok_or("a convolution output shorter than its shape")?;
            T::product_into(lhs, rhs, out, pixels)
                .map_err(|_| "a convolution product that does not fit its output")?;
        }
        y0 = y1;
    }
    Ok(())
}

/// The patches of group `g` for output rows `ys`: row `(ci, i, j)` of the
/// tile holds, for each output pixel, the input that kernel tap `(i, j)`
/// of channel `ci` reads (zero in the padding).
fn gather<T: Elem>(
    source: &[T],
    tile: &mut [T],
    s: &Shape,
    set: &Conv,
    g: usize,
    ys: std::ops::Range<usize>,
) {
    let ([sh, sw], [ph, pw], [dh, dw]) = (set.stride, set.padding, set.dilation);
    let cols = ys.len() * s.ow;
    let mut rows = tile.chunks_mut(cols.max(1));
    for ci in 0..s.cg {
        let channel = (g * s.cg + ci) * s.h * s.w;
        for i in 0..s.kh {
            for j in 0..s.kw {
                let Some(row) = rows.next() else {
                    return;
                };
                // The output columns whose tap lands inside the input:
                // x·sw + j·dw - pw in 0..w.
                let offset = j * dw;
                let lo = pw.saturating_sub(offset).div_ceil(sw).min(s.ow);
                let hi = (pw + s.w)
                    .checked_sub(offset)
                    .map_or(0, |end| end.div_ceil(sw))
                    .clamp(lo, s.ow);
                for (y, out) in ys.clone().zip(row.chunks_mut(s.ow)) {
                    let sy = (y * sh + i * dh).checked_sub(ph).filter(|&sy| sy < s.h);
                    let line =
                        sy.and_then(|sy| source.get(channel + sy * s.w..channel + (sy + 1) * s.w));
                    let Some(line) = line else {
                        out.fill(T::zero());
                        continue;
                    };
                    let (head, rest) = out.split_at_mut(lo);
                    let (middle, tail) = rest.split_at_mut(hi - lo);
                    head.fill(T::zero());
                    tail.fill(T::zero());
                    // lo·sw + offset ≥ pw whenever lo < hi.
                    let start = (lo * sw + offset).saturating_sub(pw);
                    match line.get(start..start + middle.len()) {
                        Some(taps) if sw == 1 => middle.copy_from_slice(taps),
                        _ => {
                            let taps = line.get(start..).unwrap_or(&[]).iter().step_by(sw);
                            for (v, &u) in middle.iter_mut().zip(taps) {
                                *v = u;
                            }
                        }
                    }
                }
            }
        }
    }
}
