//! The run-time kernels of the neural-network layers: linear, convolutions
//! by im2col (and col2im when transposed), pooling over strided views, and
//! the causal mask.

use ndarray::{
    Array2, Array4, ArrayView4, Axis as NdAxis, AxisDescription, Ix4, IxDyn, Slice, Zip,
};

use super::conv::conv_forward;
use super::last_slot;
use crate::error::Diagnostic;
use crate::eval::interp::{internal, runtime_error, Interp};
use crate::eval::value::{Array, Tensor as Data, Value};
use crate::ops::linalg::{
    allocatable, arg_array, matmul_arrays, matmul_flops, matrix_product, numeric, Elem,
};
use crate::ops::Bound;
use crate::source::Span;
use crate::syntax::ast::ExprKind;

#[rustfmt::skip]
pub(crate) static KERNELS: &[(&str, crate::ops::Kernel)] = &[
    ("linear", linear_kernel),
    ("conv1d", |ev, b| conv_kernel(ev, b, 1, false)),
    ("conv2d", |ev, b| conv_kernel(ev, b, 2, false)),
    ("conv_transpose2d", |ev, b| conv_kernel(ev, b, 2, true)),
    ("max_pool2d", |ev, b| pool_kernel(ev, b, true)),
    ("avg_pool2d", |ev, b| pool_kernel(ev, b, false)),
    ("causal_mask", causal_mask_kernel),
];

fn linear_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn run<'a, T: Elem>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Data, Diagnostic> {
        let (x, w) = (arg_array::<T>(ev, b, 0)?, arg_array::<T>(ev, b, 1)?);
        let y = matmul_arrays(&x, &w, b.span)?;
        ev.add_flops(matmul_flops(y.len(), x.shape()));
        if b.get(2).is_none() {
            return Ok(T::tensor(y));
        }
        let bias = arg_array::<T>(ev, b, 2)?;
        let shape = IxDyn(&ev.out_shape(b)?);
        let (Some(yv), Some(bv)) = (y.broadcast(shape.clone()), bias.broadcast(shape)) else {
            let message = format!(
                "the bias {:?} does not broadcast with x @ w {:?}",
                bias.shape(),
                y.shape()
            );
            return Err(runtime_error(b.span, message));
        };
        let sum = Zip::from(&yv).and(&bv).map_collect(|&p, &q| p + q);
        Ok(T::tensor(sum.into_shared()))
    }
    numeric!(ev.out_dtype(b), b.span, run(ev, b)).map(Value::Tensor)
}

/// A convolution's settings for the two spatial axes (a 1-D convolution
/// runs as a 2-D one over a height of 1).
pub(crate) struct Conv {
    pub(crate) stride: [usize; 2],
    pub(crate) padding: [usize; 2],
    pub(crate) output_padding: [usize; 2],
    pub(crate) dilation: [usize; 2],
    pub(crate) groups: usize,
}

/// A static per-axis setting as the checker validated it: one integer for
/// every axis, or a list of one each.
pub(crate) fn setting(
    ev: &Interp,
    b: &Bound,
    i: usize,
    n: usize,
    default: &[usize],
) -> Result<Vec<usize>, Diagnostic> {
    let Some(e) = b.get(i) else {
        return Ok(default.to_vec());
    };
    let values = match &e.kind {
        ExprKind::List(items) => items
            .iter()
            .map(|item| ev.static_size(item))
            .collect::<Result<Vec<_>, _>>()?,
        _ => vec![ev.static_size(e)?; n],
    };
    values
        .into_iter()
        .map(|v| usize::try_from(v).map_err(|_| internal(e.span, "a negative setting")))
        .collect()
}

pub(crate) fn conv_settings(
    ev: &Interp,
    b: &Bound,
    spatial: usize,
    transposed: bool,
) -> Result<Conv, Diagnostic> {
    let last = last_slot(b);
    let pair = |v: Vec<usize>, fill: usize| -> Result<[usize; 2], Diagnostic> {
        match v.as_slice() {
            [a] => Ok([fill, *a]),
            [a, c] => Ok([*a, *c]),
            _ => Err(internal(b.span, "a setting with a value per axis")),
        }
    };
    let (ones, zeros) = (vec![1; spatial], vec![0; spatial]);
    let output_padding = match transposed {
        true => setting(ev, b, 5, spatial, &zeros)?,
        false => zeros.clone(),
    };
    let groups = ev.arg_int(b, last, 1)?;
    Ok(Conv {
        stride: pair(setting(ev, b, 3, spatial, &ones)?, 1)?,
        padding: pair(setting(ev, b, 4, spatial, &zeros)?, 0)?,
        output_padding: pair(output_padding, 0)?,
        dilation: pair(setting(ev, b, last.saturating_sub(1), spatial, &ones)?, 1)?,
        groups: usize::try_from(groups)
            .ok()
            .filter(|g| *g > 0)
            .ok_or_else(|| internal(b.span_of(last), "groups below 1"))?,
    })
}

fn conv_kernel<'a>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    spatial: usize,
    transposed: bool,
) -> Result<Value, Diagnostic> {
    let set = conv_settings(ev, b, spatial, transposed)?;
    numeric!(ev.out_dtype(b), b.span, conv_in(ev, b, &set, transposed)).map(Value::Tensor)
}

fn conv_in<'a, T: Elem + Send + Sync>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    set: &Conv,
    transposed: bool,
) -> Result<Data, Diagnostic> {
    let (x, w) = (arg_array::<T>(ev, b, 0)?, arg_array::<T>(ev, b, 1)?);
    let bias = match b.get(2) {
        Some(_) => Some(arg_array::<T>(ev, b, 2)?),
        None => None,
    };
    let one_d = x.ndim() == 3;
    let (x4, w4) = (as_2d(&x, b.span_of(0))?, as_2d(&w, b.span_of(1))?);
    let out = conv_output(ev, b, x4.dim(), w4.dim(), set, transposed)?;
    // Each product term is a multiply and an add: a forward convolution
    // sums C/groups·KH·KW terms per output; a transposed one spreads each
    // input over O/groups·KH·KW outputs.
    let (_, per_group, kh, kw) = w4.dim();
    let terms = (per_group * kh * kw) as f64;
    let mut y = match transposed {
        true => conv_transposed(x4, w4, set, out, b.span)?.permuted_axes([0, 3, 1, 2]),
        false => conv_forward(x4, w4, set, out, b.span)?,
    };
    let sources = if transposed { x.len() } else { y.len() };
    ev.add_flops(2.0 * sources as f64 * terms);
    if let Some(bias) = bias {
        let channels = y.dim().1;
        let per_channel = Some(&bias)
            .filter(|bias| bias.shape() == [channels])
            .and_then(|bias| bias.to_shape((channels, 1, 1)).ok())
            .ok_or_else(|| internal(b.span_of(2), "a bias of another size"))?;
        y.zip_mut_with(&per_channel, |v, &c| *v = *v + c);
    }
    let y = y.into_dyn();
    let y = match one_d {
        true => y.index_axis_move(NdAxis(2), 0),
        false => y,
    };
    Ok(T::tensor(y.into_shared()))
}

/// A 1-D convolution's operand `[N, C, L]` as `[N, C, 1, L]`.
fn as_2d<T>(a: &Array<T>, span: Span) -> Result<ArrayView4<'_, T>, Diagnostic> {
    let v = match a.ndim() {
        3 => a.view().insert_axis(NdAxis(2)),
        _ => a.view(),
    };
    v.into_dimensionality::<Ix4>()
        .map_err(|_| internal(span, "a convolution operand of another rank"))
}

/// Every position of an axis.
const ALL: Slice = Slice {
    start: 0,
    end: None,
    step: 1,
};

/// Slices each of four axes (ndarray's `s!` needs unsafe code).
fn cut(slices: [Slice; 4]) -> impl Fn(AxisDescription) -> Slice {
    move |d| slices.get(d.axis.index()).copied().unwrap_or(ALL)
}

/// The output's spatial sizes: the checker's, unless only the data can
/// tell (a size the checker left unknown, or a kernel that does not fit
/// sizes bound at run time, which the same formulas then report).
fn conv_output(
    ev: &Interp,
    b: &Bound,
    (_, _, h, w): (usize, usize, usize, usize),
    (_, _, kh, kw): (usize, usize, usize, usize),
    set: &Conv,
    transposed: bool,
) -> Result<(usize, usize), Diagnostic> {
    // A 1-D output's height is the 1 it ran with.
    let proved = match ev.out_shape(b).as_deref() {
        Ok([_, _, l]) => Some((1, *l)),
        Ok([_, _, oh, ow]) => Some((*oh, *ow)),
        _ => None,
    };
    if let Some((oh, ow)) = proved.filter(|(oh, ow)| *oh > 0 && *ow > 0) {
        return Ok((oh, ow));
    }
    // In i128: settings up to the checker's size limit overflow i64 products.
    let size = |i: usize, h: usize, k: usize| -> i128 {
        let (h, k) = (h as i128, k as i128);
        let (s, p) = (set.stride[i] as i128, set.padding[i] as i128);
        let (d, op) = (set.dilation[i] as i128, set.output_padding[i] as i128);
        match transposed {
            true => (h - 1) * s - 2 * p + d * (k - 1) + op + 1,
            false => (h + 2 * p - d * (k - 1) - 1).div_euclid(s) + 1,
        }
    };
    let (oh, ow) = (size(0, h, kh), size(1, w, kw));
    match (usize::try_from(oh), usize::try_from(ow)) {
        (Ok(oh), Ok(ow)) if oh > 0 && ow > 0 => Ok((oh, ow)),
        _ => Err(runtime_error(
            b.span,
            format!(
                "the kernel does not fit: x's spatial sizes {:?} give an output of {:?}",
                [h, w],
                [oh, ow]
            ),
        )),
    }
}

/// The strided positions `start, start + step, ..` of `count` windows.
fn positions(start: usize, count: usize, step: usize) -> Slice {
    let end = start + step * count.saturating_sub(1) + usize::from(count > 0);
    Slice::new(start as isize, Some(end as isize), step as isize)
}

/// The extent `count` windows of size `k` spaced `step` apart cover.
pub(super) fn extent(k: usize, dilation: usize, count: usize, step: usize) -> usize {
    match (k, count) {
        (0, _) | (_, 0) => 0,
        _ => dilation
            .saturating_mul(k - 1)
            .saturating_add(step.saturating_mul(count - 1))
            .saturating_add(1),
    }
}

/// x `[N, C, H, W]` with w `[C, O/groups, KH, KW]` (PyTorch's layout), the
/// gradient of a convolution: each group's input pixels times its filters
/// give every pixel's contribution `[N·H·W, O/groups·KH·KW]` in one matrix
/// product; col2im adds them into the strided output positions, and the
/// padding is cropped. The result is channels-last, `[N, OH, OW, O]`.
fn conv_transposed<T: Elem>(
    x: ArrayView4<T>,
    w: ArrayView4<T>,
    set: &Conv,
    (oh, ow): (usize, usize),
    span: Span,
) -> Result<Array4<T>, Diagnostic> {
    let (n, c, h, wd) = x.dim();
    let (cw, og, kh, kw) = w.dim();
    let g = set.groups;
    if c % g != 0 || c != cw {
        let message = format!("`groups={g}` must divide the input channels ({c})");
        return Err(runtime_error(span, message));
    }
    let (cg, o) = (c / g, og * g);
    let ([sh, sw], [ph, pw], [dh, dw]) = (set.stride, set.padding, set.dilation);
    // The output before its padding is cropped.
    let (hf, wf) = (oh + 2 * ph, ow + 2 * pw);
    if extent(kh, dh, h, sh) > hf || extent(kw, dw, wd, sw) > wf {
        return Err(internal(
            span,
            "a transposed convolution output smaller than its input gives",
        ));
    }
    allocatable(&[n, hf, wf, o], span)?;
    allocatable(&[n, h, wd, og, kh, kw], span)?;
    let mut full = Array4::<T>::zeros((n, hf, wf, o));
    let failed = |_| internal(span, "a col2im reshape");
    let pixels = x.permuted_axes([0, 2, 3, 1]);
    for gi in 0..g {
        let xg = pixels.slice_each_axis(cut([ALL, ALL, ALL, (gi * cg..(gi + 1) * cg).into()]));
        let xg = xg.to_shape((n * h * wd, cg)).map_err(failed)?;
        let wg = w.slice_each_axis(cut([(gi * cg..(gi + 1) * cg).into(), ALL, ALL, ALL]));
        let wg = wg.to_shape((cg, og * kh * kw)).map_err(failed)?;
        let cols = matrix_product(xg.view(), wg.view()).map_err(failed)?;
        let cols = cols
            .into_shape_with_order((n, h, wd, og, kh, kw))
            .map_err(failed)?;
        for i in 0..kh {
            for j in 0..kw {
                let (rows, columns) = (positions(i * dh, h, sh), positions(j * dw, wd, sw));
                let outputs = Slice::from(gi * og..(gi + 1) * og);
                let part = cols.index_axis(NdAxis(5), j);
                full.slice_each_axis_mut(cut([ALL, rows, columns, outputs]))
                    .zip_mut_with(&part.index_axis(NdAxis(4), i), |v, &u| *v = *v + u);
            }
        }
    }
    full.slice_each_axis_inplace(cut([ALL, (ph..ph + oh).into(), (pw..pw + ow).into(), ALL]));
    Ok(full)
}

/// Max or average over windows `k` apart by `stride`, on the last two
/// axes: one strided view per window offset, combined elementwise.
fn pool_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>, max: bool) -> Result<Value, Diagnostic> {
    let k = setting(ev, b, 1, 2, &[])?;
    let stride = setting(ev, b, 2, 2, &k)?;
    let (&[kh, kw], &[sh, sw]) = (k.as_slice(), stride.as_slice()) else {
        return Err(internal(b.span, "a pooling window of another rank"));
    };
    let window = Pool {
        k: [kh, kw],
        stride: [sh, sw],
        max,
    };
    numeric!(ev.out_dtype(b), b.span, pool_in(ev, b, &window)).map(Value::Tensor)
}

struct Pool {
    k: [usize; 2],
    stride: [usize; 2],
    max: bool,
}

fn pool_in<'a, T: Elem>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    pool: &Pool,
) -> Result<Data, Diagnostic> {
    let x = arg_array::<T>(ev, b, 0)?;
    let rank = x.ndim();
    let ([kh, kw], [sh, sw]) = (pool.k, pool.stride);
    let (h, w) = match x.shape() {
        [.., h, w] if rank >= 3 => (*h, *w),
        _ => return Err(internal(b.span, "pooling fewer than three axes")),
    };
    let (oh, ow) = match ev.out_shape(b).ok().as_deref() {
        Some([.., oh, ow]) if *oh > 0 && *ow > 0 => (*oh, *ow),
        // Floor mode, no padding, for sizes only the data tells.
        _ => match (h.checked_sub(kh), w.checked_sub(kw)) {
            (Some(a), Some(c)) => (a / sh + 1, c / sw + 1),
            _ => {
                let message =
                    format!("the {kh} × {kw} window does not fit x's last two sizes {h} × {w}");
                return Err(runtime_error(b.span, message));
            }
        },
    };
    if kh == 0 || kw == 0 || extent(kh, 1, oh, sh) > h || extent(kw, 1, ow, sw) > w {
        return Err(internal(
            b.span,
            "a pooling output larger than its input allows",
        ));
    }
    let window = |i: usize, j: usize| {
        x.slice_each_axis(|a| match a.axis.index() {
            d if d == rank - 2 => positions(i, oh, sh),
            d if d == rank - 1 => positions(j, ow, sw),
            _ => ALL,
        })
    };
    let mut acc = window(0, 0).to_owned();
    for i in 0..kh {
        for j in 0..kw {
            if (i, j) == (0, 0) {
                continue;
            }
            // NaN propagates through max, as in PyTorch.
            match pool.max {
                true => acc.zip_mut_with(&window(i, j), |a, &v| {
                    if v > *a || v.is_nan() {
                        *a = v;
                    }
                }),
                false => acc.zip_mut_with(&window(i, j), |a, &v| *a = *a + v),
            }
        }
    }
    if !pool.max {
        let count = T::count(kh * kw);
        acc.mapv_inplace(|v| v / count);
    }
    Ok(T::tensor(acc.into_shared()))
}

/// `[T, T]`: 0 on and below the diagonal, -inf above.
fn causal_mask_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let shape = match ev.out_shape(b) {
        Ok(shape) => shape,
        // A size below zero has no shape: say which.
        Err(d) => match ev.arg_int(b, 0, 0)? {
            t if t < 0 => {
                let message = format!("`causal_mask` needs a size of at least 0, found {t}");
                return Err(runtime_error(b.span_of(0), message));
            }
            _ => return Err(d),
        },
    };
    let &[t, _] = shape.as_slice() else {
        return Err(internal(b.span, "a causal mask that is not square"));
    };
    allocatable(&shape, b.span)?;
    let mask = Array2::from_shape_fn((t, t), |(i, j)| match j > i {
        true => f32::NEG_INFINITY,
        false => 0.0,
    });
    let mask = Data::F32(mask.into_dyn().into_shared()).cast(ev.out_dtype(b));
    Ok(Value::Tensor(mask))
}
