//! inv, det and solve through faer's LU with partial pivoting, batched
//! over leading axes.
//!
//! A matrix is singular when a pivot is exactly zero, or when the inverse
//! or solution overflows (a pivot near zero): either stops the run with
//! `tsr::runtime` rather than leaving inf or NaN behind. A nearly singular
//! matrix otherwise gives large values, as NumPy's does. `det` of a
//! singular matrix is 0, not an error.

use faer::linalg::solvers::{DenseSolveCore, PartialPivLu, Solve};
use faer::{Mat, MatRef};
use ndarray::{Axis as NdAxis, IxDyn};

use super::kernels::arg_array;
use super::stack::{
    all_finite, each, factor_parts, failure, finite_input, float, result_dtype, square, stacked,
    Factor, Failure, Float, Stack, Tails,
};
use crate::error::Diagnostic;
use crate::eval::interp::{internal, Interp};
use crate::eval::operators::broadcast_shape;
use crate::eval::value::Value;
use crate::ops::Bound;

/// The single part of a kernel whose factor has one.
fn single<'a, T: Float>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    factor: Factor<T>,
    tails: Tails,
) -> Result<Value, Diagnostic> {
    factor_parts(ev, b, factor, tails)?
        .pop()
        .map(Value::Tensor)
        .ok_or_else(|| internal(b.span, "a factorisation without a result"))
}

pub(super) fn inv_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn tails(m: usize, n: usize) -> Vec<Vec<usize>> {
        vec![vec![n, m]]
    }
    fn run<'a, T: Float>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
        single(ev, b, inv_one::<T>, tails)
    }
    float!(result_dtype(ev, b), b.span, run(ev, b))
}

pub(super) fn det_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn tails(_: usize, _: usize) -> Vec<Vec<usize>> {
        vec![Vec::new()]
    }
    fn run<'a, T: Float>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
        single(ev, b, det_one::<T>, tails)
    }
    float!(result_dtype(ev, b), b.span, run(ev, b))
}

/// `solve(a, b)`: b is a stack of vectors when it is 1-D or exactly a's
/// shape without its last axis (the checker's rule), else of matrices;
/// the batch axes of a and b broadcast.
pub(super) fn solve_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn run<'a, T: Float>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
        let (a, rhs) = (arg_array::<T>(ev, b, 0)?, arg_array::<T>(ev, b, 1)?);
        let lead = a.shape().split_last().map_or(&[][..], |(_, lead)| lead);
        let vectors = rhs.ndim() == 1 || rhs.shape() == lead;
        let rhs = if vectors {
            rhs.view().insert_axis(NdAxis(rhs.ndim()))
        } else {
            rhs.view()
        };
        let failed = || internal(b.span, "solve's operands after checking");
        let (a, rhs) = (Stack::new(a.view(), b)?, Stack::new(rhs, b)?);
        let ((n, _), (rows, k)) = (a.dims(), rhs.dims());
        if rows != n {
            return Err(failed());
        }
        let batch = broadcast_shape(a.batch(), rhs.batch()).ok_or_else(failed)?;
        let full = |dims: [usize; 2]| IxDyn(&[batch.as_slice(), &dims].concat());
        let (a, rhs) = (a.view(), rhs.view());
        let av = a.broadcast(full([n, n])).ok_or_else(failed)?;
        let rv = rhs.broadcast(full([n, k])).ok_or_else(failed)?;
        let (a, rhs) = (Stack::new(av, b)?, Stack::new(rv, b)?);
        let count = a.count();
        let results = each(count, |i| solve_one(a.matrix(i)?, rhs.matrix(i)?))
            .map_err(|(i, f)| failure(b, f, i, count))?;
        let tail = if vectors { vec![n] } else { vec![n, k] };
        stacked(&results, 0, &batch, &tail, b).map(Value::Tensor)
    }
    float!(result_dtype(ev, b), b.span, run(ev, b))
}

/// The LU factors of a finite square matrix with no zero pivot.
fn lu<T: Float>(a: MatRef<'_, T>) -> Result<PartialPivLu<T>, Failure> {
    finite_input(a)?;
    square(a)?;
    let lu = a.partial_piv_lu();
    let u = lu.U();
    if (0..u.nrows()).any(|i| u[(i, i)] == T::zero()) {
        return Err(Failure::Singular);
    }
    Ok(lu)
}

/// A result of a non-singular matrix, unless a pivot near zero made it
/// overflow.
fn nonsingular<T: Float>(x: Mat<T>) -> Result<Vec<Mat<T>>, Failure> {
    if all_finite(x.as_ref()) {
        Ok(vec![x])
    } else {
        Err(Failure::Singular)
    }
}

fn inv_one<T: Float>(a: MatRef<'_, T>) -> Result<Vec<Mat<T>>, Failure> {
    if square(a)? == 0 {
        return Ok(vec![Mat::zeros(0, 0)]);
    }
    nonsingular(lu(a)?.inverse())
}

fn solve_one<T: Float>(a: MatRef<'_, T>, rhs: MatRef<'_, T>) -> Result<Vec<Mat<T>>, Failure> {
    finite_input(rhs)?;
    if square(a)? == 0 {
        return Ok(vec![Mat::zeros(0, rhs.ncols())]);
    }
    nonsingular(lu(a)?.solve(rhs))
}

/// The empty product is 1, as NumPy's `det` of a 0 × 0 matrix.
fn det_one<T: Float>(a: MatRef<'_, T>) -> Result<Vec<Mat<T>>, Failure> {
    finite_input(a)?;
    let det = if square(a)? == 0 {
        T::one()
    } else {
        a.determinant()
    };
    if det.finite() {
        Ok(vec![Mat::from_fn(1, 1, |_, _| det)])
    } else {
        Err(Failure::Overflow)
    }
}
