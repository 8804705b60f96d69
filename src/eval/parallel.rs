//! Elementwise work on every core for large tensors. Below
//! `PARALLEL_MIN` elements the work stays on the calling thread, so tiny
//! tensors pay nothing for the thread pool.

use ndarray::{IxDyn, Zip};

use super::value::Array;

/// Elements below which splitting the work costs more than it saves
/// (a rayon task is a few microseconds; this is about 10 µs of work).
pub const PARALLEL_MIN: usize = 1 << 15;

/// `f` applied to every element, in a's memory order.
pub fn map<T, U>(a: &Array<T>, f: impl Fn(T) -> U + Sync + Send) -> Array<U>
where
    T: Copy + Send + Sync,
    U: Clone + Send,
{
    if a.len() < PARALLEL_MIN {
        return a.mapv(f).into_shared();
    }
    Zip::from(a).par_map_collect(|&x| f(x)).into_shared()
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
    C: Clone + Send,
{
    let (a, b) = (a.broadcast(IxDyn(shape))?, b.broadcast(IxDyn(shape))?);
    let zip = Zip::from(&a).and(&b);
    Some(if a.len() < PARALLEL_MIN {
        zip.map_collect(|&x, &y| f(x, y)).into_shared()
    } else {
        zip.par_map_collect(|&x, &y| f(x, y)).into_shared()
    })
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
