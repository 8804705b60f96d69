//! Elementwise work on every core for large tensors. Below
//! `PARALLEL_MIN` elements the work stays on the calling thread, so tiny
//! tensors pay nothing for the thread pool.

use std::mem::MaybeUninit;

use ndarray::{IxDyn, Zip};
use rayon::prelude::*;

use super::value::Array;

/// Elements below which splitting the work costs more than it saves
/// (a rayon task is a few microseconds; this is about 10 µs of work).
pub const PARALLEL_MIN: usize = 1 << 15;

/// Elements per task of `filled`: large enough to amortise a task, small
/// enough to balance two cores.
const TASK: usize = 1 << 14;

/// Elements per block of the contiguous paths: a block's buffer stays in L1.
const BLOCK: usize = 2048;

/// `f` applied to every element. The result is row-major; a view in
/// another order is copied to row-major first, so that every input takes
/// the one contiguous, wide loop.
pub fn map<T, U>(a: &Array<T>, f: impl Fn(T) -> U + Sync + Send) -> Array<U>
where
    T: Copy + Send + Sync,
    U: Copy + Default + Send + Sync,
{
    let standard = a.as_standard_layout();
    let data = standard.as_slice().unwrap_or(&[]);
    contiguous(a.shape(), data.len(), |at, out| {
        for (o, &x) in out.iter_mut().zip(&data[at..]) {
            *o = f(x);
        }
    })
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

/// A row-major result of `shape` (`len` elements), filled block by block
/// by `fill(start, out)` (`filled`).
fn contiguous<U>(shape: &[usize], len: usize, fill: impl Fn(usize, &mut [U]) + Sync) -> Array<U>
where
    U: Copy + Default + Send,
{
    let out = filled(
        len,
        BLOCK,
        || (),
        #[inline(always)]
        |_, at, out| fill(at, out),
    );
    Array::from_shape_vec(IxDyn(shape), out)
        .unwrap_or_else(|_| Array::from_elem(IxDyn(&[0]), U::default()))
}

/// `len` elements computed block by block: `fill(state, start, out)` sets
/// elements `start..start + out.len()`, one block of at most `block`
/// elements (a whole block but for the last). Blocks are grouped into
/// tasks of about `TASK` elements, run on every core from `PARALLEL_MIN`
/// elements, each task compiled wide (`wide`) with its own `state` from
/// `init`.
///
/// The result is never zeroed first: each block is computed into a buffer
/// that stays in cache and copied once into the result, which saves a
/// pass over memory as large as the result itself.
#[allow(unsafe_code)]
pub fn filled<U, S>(
    len: usize,
    block: usize,
    init: impl Fn() -> S + Sync,
    fill: impl Fn(&mut S, usize, &mut [U]) + Sync,
) -> Vec<U>
where
    U: Copy + Default + Send,
{
    let block = block.max(1);
    let task = TASK.div_ceil(block) * block;
    let mut out: Vec<U> = Vec::with_capacity(len);
    let run = |(t, part): (usize, &mut [MaybeUninit<U>])| {
        let mut state = init();
        let mut buffer = vec![U::default(); block.min(part.len())];
        wide(
            #[inline(always)]
            || {
                for (b, target) in part.chunks_mut(block).enumerate() {
                    let values = &mut buffer[..target.len()];
                    // A cancelled run's result is discarded: its blocks
                    // are only initialised.
                    if !crate::eval::cancel::requested() {
                        fill(&mut state, t * task + b * block, values);
                    }
                    for (slot, &v) in target.iter_mut().zip(values.iter()) {
                        slot.write(v);
                    }
                }
            },
        )
    };
    // `with_capacity(len)` leaves at least `len` spare slots.
    let spare = &mut out.spare_capacity_mut()[..len];
    if len < PARALLEL_MIN {
        spare.chunks_mut(task).enumerate().for_each(run);
    } else {
        spare.par_chunks_mut(task).enumerate().for_each(run);
    }
    // SAFETY: the tasks' parts partition the first `len` slots, and each
    // task writes every slot of its part: its blocks partition the part,
    // and each block's copy loop writes all of the block (`values` is as
    // long as `target`), whether or not `fill` ran. A panic in `fill`
    // unwinds past this line, leaving the length 0.
    unsafe { out.set_len(len) };
    out
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

/// Runs `f` compiled for AVX-512 or AVX2 (both with FMA) when the
/// processor has them, so that the loops inlined into it work on eight or
/// four f64 at a time rather than SSE2's two. The results are the same on
/// every path: the wider instructions compute the same IEEE operations,
/// no FMA contraction happens without an explicit `mul_add`, and
/// `mul_add` is exactly rounded whether it is one instruction or libm's
/// `fma`.
#[allow(unsafe_code)]
#[inline(always)]
pub fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")]
        unsafe fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2,fma")]
        unsafe fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("avx512vl") && has!("avx512dq") && has!("avx512bw") {
            // SAFETY: the only requirement of a `target_feature` function
            // is that the processor supports the features, checked here
            // (AVX-512 implies AVX2 and FMA).
            return unsafe { avx512(f) };
        }
        if has!("avx2") && has!("fma") {
            // SAFETY: as above, both features checked.
            return unsafe { avx2(f) };
        }
    }
    f()
}
