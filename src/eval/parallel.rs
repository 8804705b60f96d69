//! Elementwise work on every core for large tensors. Below
//! `PARALLEL_MIN` elements the work stays on the calling thread, so tiny
//! tensors pay nothing for the thread pool.

use ndarray::{IxDyn, Zip};
use rayon::prelude::*;

use super::value::Array;

/// Elements below which splitting the work costs more than it saves
/// (a rayon task is a few microseconds; this is about 10 µs of work).
pub const PARALLEL_MIN: usize = 1 << 15;

/// Elements per task of the contiguous paths: large enough to amortise a
/// task, small enough to balance two cores.
const TASK: usize = 1 << 14;

/// `f` applied to every element, in a's memory order.
pub fn map<T, U>(a: &Array<T>, f: impl Fn(T) -> U + Sync + Send) -> Array<U>
where
    T: Copy + Send + Sync,
    U: Copy + Default + Send + Sync,
{
    if a.len() < PARALLEL_MIN {
        return a.mapv(f).into_shared();
    }
    match a.as_slice() {
        Some(data) => contiguous(a.shape(), data.len(), |at, out| {
            for (o, &x) in out.iter_mut().zip(&data[at..]) {
                *o = f(x);
            }
        }),
        None => Zip::from(a).par_map_collect(|&x| f(x)).into_shared(),
    }
}

/// Both operands broadcast to `shape`, combined elementwise.
pub fn zip2<A, B, C>(
    a: &Array<A>,
    b: &Array<B>,
    shape: &[usize],
    f: impl Fn(A, B) -> C + Sync + Send,
) -> Option<Array<C>>
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
    C: Copy + Default + Send + Sync,
{
    let (x, y) = (a.broadcast(IxDyn(shape))?, b.broadcast(IxDyn(shape))?);
    let zip = Zip::from(&x).and(&y);
    if x.len() < PARALLEL_MIN {
        return Some(zip.map_collect(|&x, &y| f(x, y)).into_shared());
    }
    let n = x.len();
    let (a_data, b_data) = (a.as_slice().unwrap_or(&[]), b.as_slice().unwrap_or(&[]));
    let a_whole = (a_data.len() == n).then_some(a_data);
    Some(
        match (a_whole, b_data.len() == n, single(a_data), single(b_data)) {
            (Some(p), true, ..) => contiguous(shape, n, |at, out| {
                for ((o, &x), &y) in out.iter_mut().zip(&p[at..]).zip(&b_data[at..]) {
                    *o = f(x, y);
                }
            }),
            (Some(p), _, _, Some(y)) => contiguous(shape, n, |at, out| {
                for (o, &x) in out.iter_mut().zip(&p[at..]) {
                    *o = f(x, y);
                }
            }),
            (_, true, Some(x), _) => contiguous(shape, n, |at, out| {
                for (o, &y) in out.iter_mut().zip(&b_data[at..]) {
                    *o = f(x, y);
                }
            }),
            _ => zip.par_map_collect(|&x, &y| f(x, y)).into_shared(),
        },
    )
}

/// The element of a one-element slice.
fn single<T: Copy>(t: &[T]) -> Option<T> {
    match t {
        [v] => Some(*v),
        _ => None,
    }
}

/// A row-major result of `shape` (`len` elements), filled task by task in
/// parallel by `fill(start, out)`, each task compiled wide (`wide`).
fn contiguous<U>(shape: &[usize], len: usize, fill: impl Fn(usize, &mut [U]) + Sync) -> Array<U>
where
    U: Copy + Default + Send,
{
    let mut out = vec![U::default(); len];
    out.par_chunks_mut(TASK).enumerate().for_each(|(t, part)| {
        // A cancelled run's result is discarded, so its tasks can stop.
        if crate::eval::cancel::requested() {
            return;
        }
        wide(
            #[inline(always)]
            || fill(t * TASK, part),
        )
    });
    Array::from_shape_vec(IxDyn(shape), out)
        .unwrap_or_else(|_| Array::from_elem(IxDyn(&[0]), U::default()))
}

/// Three operands broadcast to `shape`, combined elementwise.
pub fn zip3<A, B, C, D>(
    a: &Array<A>,
    b: &Array<B>,
    c: &Array<C>,
    shape: &[usize],
    f: impl Fn(A, B, C) -> D + Sync + Send,
) -> Option<Array<D>>
where
    A: Copy + Send + Sync,
    B: Copy + Send + Sync,
    C: Copy + Send + Sync,
    D: Clone + Send,
{
    let a = a.broadcast(IxDyn(shape))?;
    let (b, c) = (b.broadcast(IxDyn(shape))?, c.broadcast(IxDyn(shape))?);
    let zip = Zip::from(&a).and(&b).and(&c);
    Some(if a.len() < PARALLEL_MIN {
        zip.map_collect(|&x, &y, &z| f(x, y, z)).into_shared()
    } else {
        zip.par_map_collect(|&x, &y, &z| f(x, y, z)).into_shared()
    })
}

/// Runs `f` compiled for AVX2 when the processor has it, so that the
/// loops inlined into it work on four f64 at a time rather than SSE2's
/// two. The results are the same: AVX2 only widens the same IEEE
/// operations (no FMA contraction happens without an explicit `mul_add`).
#[allow(unsafe_code)]
#[inline(always)]
pub fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the only requirement of a `target_feature` function
            // is that the processor supports the feature, checked here.
            return unsafe { avx2(f) };
        }
    }
    f()
}
