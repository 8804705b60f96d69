//! Matrix products of f32 and f64 through faer's GEMM (SIMD kernels,
//! threads from the rayon pool), reading ndarray data in place.

use faer::linalg::matmul::matmul;
use faer::traits::RealField;
use faer::{Accum, MatMut, MatRef, Par};
use ndarray::{ArrayView2, ArrayView3, Axis};
use rayon::prelude::*;

/// Below this many multiply-adds a product (or a whole batch of them) runs
/// on the calling thread: waking another costs more than it saves.
const SMALL: usize = 1 << 16;

/// From this many multiply-adds a product is worth splitting between
/// threads by itself (256³); smaller products of a batch are dealt out
/// whole.
const LARGE: usize = 1 << 24;

/// With this many products per thread, handing whole products to threads
/// balances well even when each is large.
const PER_THREAD: usize = 4;

/// faer's view of an ndarray matrix: the same data, nothing copied. faer
/// takes any strides (negative for a reversed axis, 0 for a broadcast one);
/// it packs operands into its own buffers where its kernels need that.
#[allow(unsafe_code)]
pub(super) fn faer_ref<'a, T>(v: ArrayView2<'a, T>) -> MatRef<'a, T> {
    let (rows, cols) = v.dim();
    let (row_stride, col_stride) = (v.strides()[0], v.strides()[1]);
    // SAFETY: `from_raw_parts` needs every element reachable through the
    // pointer, shape and strides to lie in one allocation, aligned and
    // initialised, and not to be written while the MatRef lives. An
    // ArrayView2<'a> guarantees exactly that for its own pointer, shape and
    // strides (counted in elements, as faer counts them) for 'a, and the
    // MatRef borrows the data for that same 'a. ndarray's pointer is never
    // null, even for an empty view.
    unsafe { MatRef::from_raw_parts(v.as_ptr(), rows, cols, row_stride, col_stride) }
}

/// `out[i] = lhs[i] @ rhs[i]` for stacks of `count` matrices `m × k` and
/// `k × n`, `out` holding `count` row-major `m × n` results.
///
/// Every core works on every shape worth it: many small products are
/// dealt out whole, one per thread at a time, each computed sequentially;
/// a few large ones run one after the other, each cut into one
/// independent product per thread. Independent pieces beat faer's own
/// threading (which synchronises its threads inside a product) on a
/// shared machine: measured at 1024³, about 1.5× the median throughput.
pub(super) fn product_stack<T>(lhs: ArrayView3<'_, T>, rhs: ArrayView3<'_, T>, out: &mut [T])
where
    T: RealField + Copy + Send + Sync,
{
    let (count, m, k) = lhs.dim();
    let n = rhs.dim().2;
    let Some(size) = m.checked_mul(n).filter(|&size| size > 0) else {
        return;
    };
    let work = m.saturating_mul(k).saturating_mul(n);
    let product = |i: usize, dst: &mut [T], par: Par| {
        matmul(
            MatMut::from_row_major_slice_mut(dst, m, n),
            Accum::Replace,
            faer_ref(lhs.index_axis(Axis(0), i)),
            faer_ref(rhs.index_axis(Axis(0), i)),
            T::one(),
            par,
        );
    };
    let threads = rayon::current_num_threads();
    let shared = count > 1 && work.saturating_mul(count) >= SMALL;
    if shared && (work < LARGE || count >= PER_THREAD * threads) {
        out.par_chunks_mut(size).enumerate().for_each(|(i, dst)| {
            // A cancelled run's result is discarded: skip what is left.
            if !crate::eval::cancel::requested() {
                product(i, dst, Par::Seq)
            }
        });
    } else {
        let pieces = if work < SMALL { 1 } else { threads };
        for (i, dst) in out.chunks_mut(size).enumerate() {
            if crate::eval::cancel::requested() {
                break;
            }
            split(
                MatMut::from_row_major_slice_mut(dst, m, n),
                faer_ref(lhs.index_axis(Axis(0), i)),
                faer_ref(rhs.index_axis(Axis(0), i)),
                pieces,
            );
        }
    }
}

/// `dst = lhs @ rhs` on the calling thread, `dst` a row-major `m × n`
/// matrix whose rows start `row_stride` elements apart in `out` (a block
/// of columns of a wider matrix, such as a convolution's output tile).
/// The caller checks the sizes: faer panics on a `dst` shorter than that.
pub(super) fn product_into<T>(
    lhs: ArrayView2<'_, T>,
    rhs: ArrayView2<'_, T>,
    out: &mut [T],
    row_stride: usize,
) where
    T: RealField + Copy,
{
    // Built as the transpose of a column-major view: faer 0.24's
    // `from_row_major_slice_with_stride_mut` lays the strides out
    // column-major and writes past the rows it checked.
    let (m, n) = (lhs.nrows(), rhs.ncols());
    let dst =
        MatMut::from_column_major_slice_with_stride_mut(out, n, m, row_stride).transpose_mut();
    matmul(
        dst,
        Accum::Replace,
        faer_ref(lhs),
        faer_ref(rhs),
        T::one(),
        Par::Seq,
    );
}

/// `dst = lhs @ rhs` cut into `pieces` independent products along the
/// result's longer side, one per thread.
fn split<T>(dst: MatMut<'_, T>, lhs: MatRef<'_, T>, rhs: MatRef<'_, T>, pieces: usize)
where
    T: RealField + Copy + Send + Sync,
{
    if pieces <= 1 {
        matmul(dst, Accum::Replace, lhs, rhs, T::one(), Par::Seq);
        return;
    }
    let half = pieces / 2;
    if dst.nrows() >= dst.ncols() {
        let cut = dst.nrows() * half / pieces;
        let (top, bottom) = dst.split_at_row_mut(cut);
        let (lt, lb) = lhs.split_at_row(cut);
        rayon::join(
            || split(top, lt, rhs, half),
            || split(bottom, lb, rhs, pieces - half),
        );
    } else {
        let cut = dst.ncols() * half / pieces;
        let (left, right) = dst.split_at_col_mut(cut);
        let (rl, rr) = rhs.split_at_col(cut);
        rayon::join(
            || split(left, lhs, rl, half),
            || split(right, lhs, rr, pieces - half),
        );
    }
}
