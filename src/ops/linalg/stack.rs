//! What the factorising kernels (svd eigh qr inv det solve) share: faer's
//! element types, running a function on every matrix of a batch in
//! parallel, the failures that stop it, and stacking the results back.

use faer::traits::RealField;
use faer::{Mat, MatRef};
use ndarray::{ArrayViewD, Axis as NdAxis, Ix2, IxDyn};
use rayon::prelude::*;

use super::gemm::faer_ref;
use super::kernels::{arg_array, Elem};
use crate::check::types::{DType, Type};
use crate::error::Diagnostic;
use crate::eval::interp::{internal, runtime_error, Interp};
use crate::eval::value::{self, Array};
use crate::ops::Bound;

/// The element types faer factorises: the results of these ops are always
/// floats (integers give f32, spec 10.4).
pub(super) trait Float: Elem + RealField + Copy + Send + Sync {
    fn finite(self) -> bool;
    fn magnitude(self) -> Self;
}

impl Float for f32 {
    fn finite(self) -> bool {
        self.is_finite()
    }
    fn magnitude(self) -> f32 {
        self.abs()
    }
}

impl Float for f64 {
    fn finite(self) -> bool {
        self.is_finite()
    }
    fn magnitude(self) -> f64 {
        self.abs()
    }
}

/// Calls `f::<T>(args)` with T the float type `dtype` names.
macro_rules! float {
    ($dtype:expr, $span:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $dtype {
            $crate::check::types::DType::F32 => $f::<f32>($($arg),*),
            $crate::check::types::DType::F64 => $f::<f64>($($arg),*),
            _ => Err($crate::eval::interp::internal($span, "a factorisation that is not of floats")),
        }
    };
}
pub(super) use float;

/// The element type of a call's result, a tensor or a tuple of them (all of
/// one type), as the checker proved it.
pub(super) fn result_dtype(ev: &Interp, b: &Bound) -> DType {
    match ev.fact_of_call(b) {
        Some(Type::Tuple(items)) => match items.first() {
            Some(Type::Tensor(t)) => t.dtype,
            _ => DType::F32,
        },
        _ => ev.out_dtype(b),
    }
}

/// Why one matrix of a batch could not be factorised.
#[derive(Clone, Copy)]
pub(super) enum Failure {
    /// A NaN or infinite entry: no factorisation of it means anything.
    NonFinite,
    /// A zero pivot, or a result that overflowed through a pivot near zero.
    Singular,
    /// faer's iteration did not converge.
    NoConvergence,
    /// A finite matrix whose result overflows the element type.
    Overflow,
    /// A batch index past the batch, or a matrix that is not square where
    /// the checker proved it is (a bug in tsr).
    Internal,
}

/// `Err(NonFinite)` unless every entry of `m` is finite.
pub(super) fn finite_input<T: Float>(m: MatRef<'_, T>) -> Result<(), Failure> {
    if all_finite(m) {
        Ok(())
    } else {
        Err(Failure::NonFinite)
    }
}

/// `Err(Internal)` unless `m` is square: the checker proved it, and faer
/// would panic on anything else.
pub(super) fn square<T>(m: MatRef<'_, T>) -> Result<usize, Failure> {
    if m.nrows() == m.ncols() {
        Ok(m.nrows())
    } else {
        Err(Failure::Internal)
    }
}

pub(super) fn all_finite<T: Float>(m: MatRef<'_, T>) -> bool {
    (0..m.ncols()).all(|j| (0..m.nrows()).all(|i| m[(i, j)].finite()))
}

/// The diagnostic for matrix `index` of a batch of `count`.
pub(super) fn failure(b: &Bound, failure: Failure, index: usize, count: usize) -> Diagnostic {
    if let Failure::Internal = failure {
        return internal(b.span, "a matrix of another shape than the checker proved");
    }
    let which = if count > 1 {
        format!("matrix {index} of the batch")
    } else {
        "the matrix".to_string()
    };
    let name = b.name;
    let message = match failure {
        Failure::NonFinite => format!("`{name}`: {which} has NaN or infinite entries"),
        Failure::Singular => format!("`{name}`: {which} is singular (it has no inverse)"),
        Failure::NoConvergence => {
            format!("`{name}`: the factorisation of {which} did not converge")
        }
        Failure::Overflow | Failure::Internal => {
            format!("`{name}`: the result for {which} overflows")
        }
    };
    let d = runtime_error(b.span, message);
    match failure {
        Failure::Singular => {
            d.help("its rows are linearly dependent: `svd` shows its rank (singular values at 0)")
        }
        Failure::NonFinite => {
            d.help("find where the NaN or inf came from with `any(isnan(x))` before this call")
        }
        _ => d,
    }
}

/// A stack of matrices `[..batch, m, n]`, read in place: a broadcast or
/// transposed operand is never copied.
pub(super) struct Stack<'a, T> {
    view: ArrayViewD<'a, T>,
    batch: Vec<usize>,
    rows: usize,
    cols: usize,
}

impl<'a, T> Stack<'a, T> {
    pub(super) fn new(view: ArrayViewD<'a, T>, b: &Bound) -> Result<Stack<'a, T>, Diagnostic> {
        match *view.shape() {
            [ref batch @ .., rows, cols] => Ok(Stack {
                batch: batch.to_vec(),
                rows,
                cols,
                view,
            }),
            _ => Err(internal(b.span, "a matrix stack of fewer than two axes")),
        }
    }

    pub(super) fn view(&self) -> ArrayViewD<'a, T> {
        self.view.clone()
    }

    pub(super) fn batch(&self) -> &[usize] {
        &self.batch
    }

    pub(super) fn count(&self) -> usize {
        self.batch.iter().product()
    }

    pub(super) fn dims(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    /// Matrix `i` of the batch in row-major order.
    pub(super) fn matrix(&self, mut i: usize) -> Result<MatRef<'a, T>, Failure> {
        let mut index = vec![0; self.batch.len()];
        for (slot, &size) in index.iter_mut().zip(&self.batch).rev() {
            *slot = i.checked_rem(size).ok_or(Failure::Internal)?;
            i /= size;
        }
        let mut m = self.view.clone();
        for k in index {
            m = m.index_axis_move(NdAxis(0), k);
        }
        let m = m
            .into_dimensionality::<Ix2>()
            .map_err(|_| Failure::Internal)?;
        Ok(faer_ref(m))
    }
}

/// `f` of every matrix index of a batch of `count`, in parallel (faer may
/// also split one large factorisation between threads); the first
/// failure with its matrix's index.
pub(super) fn each<R, F>(count: usize, f: F) -> Result<Vec<R>, (usize, Failure)>
where
    R: Send,
    F: Fn(usize) -> Result<R, Failure> + Sync,
{
    let results: Vec<Result<R, Failure>> = (0..count).into_par_iter().map(&f).collect();
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.map_err(|e| (i, e)))
        .collect()
}

/// A factorisation of one matrix: its parts, each a matrix, a one-column
/// vector or a 1×1 scalar.
pub(super) type Factor<T> = fn(MatRef<'_, T>) -> Result<Vec<Mat<T>>, Failure>;

/// The shapes of a factorisation's parts for an `m × n` matrix.
pub(super) type Tails = fn(usize, usize) -> Vec<Vec<usize>>;

/// The parts of `factor` of every matrix of argument 0, each stacked with
/// the batch axes in front of its `tails(m, n)`.
pub(super) fn factor_parts<'a, T: Float>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    factor: Factor<T>,
    tails: Tails,
) -> Result<Vec<value::Tensor>, Diagnostic> {
    let x = arg_array::<T>(ev, b, 0)?;
    let stack = Stack::new(x.view(), b)?;
    let count = stack.count();
    let results =
        each(count, |i| factor(stack.matrix(i)?)).map_err(|(i, f)| failure(b, f, i, count))?;
    let (m, n) = stack.dims();
    tails(m, n)
        .iter()
        .enumerate()
        .map(|(p, tail)| stacked(&results, p, stack.batch(), tail, b))
        .collect()
}

/// Stacks part `p` of every matrix's results into one tensor of shape
/// `batch ++ tail`: a matrix part is its `Mat`, a vector part a one-column
/// `Mat`, a scalar part a 1×1 `Mat`.
pub(super) fn stacked<T: Float>(
    results: &[Vec<Mat<T>>],
    p: usize,
    batch: &[usize],
    tail: &[usize],
    b: &Bound,
) -> Result<value::Tensor, Diagnostic> {
    let mut data = Vec::new();
    for parts in results {
        let m = parts
            .get(p)
            .ok_or_else(|| internal(b.span, "a missing factor"))?;
        data.extend((0..m.nrows()).flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)])));
    }
    let shape = [batch, tail].concat();
    Array::from_shape_vec(IxDyn(&shape), data)
        .map(T::tensor)
        .map_err(|_| internal(b.span, "a factor of another shape than its result"))
}
