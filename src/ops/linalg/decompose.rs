//! svd, eigh and qr through faer, batched over leading axes.
//!
//! Signs. A singular vector or an eigenvector is unique only up to its
//! sign (and, for a repeated value, up to a rotation within its space).
//! tsr fixes the sign so that results do not depend on faer's algorithm:
//! each column of svd's U (with the matching row of Vh, so U diag(S) Vh
//! is unchanged) and of eigh's V has its entry of largest magnitude
//! positive (the first such entry on a tie); qr's R has a non-negative
//! diagonal (with Q's columns flipped to match), which makes the reduced
//! QR of a full-rank matrix unique. NumPy (LAPACK) fixes no sign: compare
//! with it through sign-invariant quantities, or after the same flips.

use faer::{Mat, MatRef, Side};

use super::stack::{
    all_finite, factor_parts, finite_input, float, result_dtype, square, Factor, Failure, Float,
    Tails,
};
use crate::error::Diagnostic;
use crate::eval::interp::Interp;
use crate::eval::value::Value;
use crate::ops::Bound;

/// The factorisation kernels return a tuple of the parts.
fn tuple<'a, T: Float>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    factor: Factor<T>,
    tails: Tails,
) -> Result<Value, Diagnostic> {
    let parts = factor_parts(ev, b, factor, tails)?;
    Ok(Value::Tuple(parts.into_iter().map(Value::Tensor).collect()))
}

/// `(U, S, Vh)`: U `[m, k]`, S `[k]` descending, Vh `[k, n]`, k = min(m, n).
pub(super) fn svd_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn tails(m: usize, n: usize) -> Vec<Vec<usize>> {
        let k = m.min(n);
        vec![vec![m, k], vec![k], vec![k, n]]
    }
    fn run<'a, T: Float>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
        tuple(ev, b, svd_one::<T>, tails)
    }
    float!(result_dtype(ev, b), b.span, run(ev, b))
}

/// `(w, V)`: w `[n]` ascending, V `[n, n]` with the eigenvectors as its
/// columns. Only the lower triangle is read, as NumPy's default.
pub(super) fn eigh_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn tails(_: usize, n: usize) -> Vec<Vec<usize>> {
        vec![vec![n], vec![n, n]]
    }
    fn run<'a, T: Float>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
        tuple(ev, b, eigh_one::<T>, tails)
    }
    float!(result_dtype(ev, b), b.span, run(ev, b))
}

/// `(Q, R)`: Q `[m, k]` with orthonormal columns, R `[k, n]` upper
/// triangular.
pub(super) fn qr_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn tails(m: usize, n: usize) -> Vec<Vec<usize>> {
        let k = m.min(n);
        vec![vec![m, k], vec![k, n]]
    }
    fn run<'a, T: Float>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
        tuple(ev, b, qr_one::<T>, tails)
    }
    float!(result_dtype(ev, b), b.span, run(ev, b))
}

fn svd_one<T: Float>(a: MatRef<'_, T>) -> Result<Vec<Mat<T>>, Failure> {
    finite_input(a)?;
    let (m, n) = a.shape();
    let k = m.min(n);
    if k == 0 {
        return Ok(vec![Mat::zeros(m, 0), Mat::zeros(0, 1), Mat::zeros(0, n)]);
    }
    let svd = a.thin_svd().map_err(|_| Failure::NoConvergence)?;
    let mut u = svd.U().to_owned();
    let mut vh = svd.V().transpose().to_owned();
    let s = svd.S().column_vector();
    let s = Mat::from_fn(k, 1, |i, _| s[i]);
    for j in 0..k {
        if points_down(&u, j) {
            negate_col(&mut u, j);
            negate_row(&mut vh, j);
        }
    }
    finite_output(vec![u, s, vh])
}

fn eigh_one<T: Float>(a: MatRef<'_, T>) -> Result<Vec<Mat<T>>, Failure> {
    finite_input(a)?;
    let n = square(a)?;
    if n == 0 {
        return Ok(vec![Mat::zeros(0, 1), Mat::zeros(0, 0)]);
    }
    let evd = a
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| Failure::NoConvergence)?;
    let w = evd.S().column_vector();
    let w = Mat::from_fn(n, 1, |i, _| w[i]);
    let mut v = evd.U().to_owned();
    for j in 0..n {
        if points_down(&v, j) {
            negate_col(&mut v, j);
        }
    }
    finite_output(vec![w, v])
}

fn qr_one<T: Float>(a: MatRef<'_, T>) -> Result<Vec<Mat<T>>, Failure> {
    finite_input(a)?;
    let (m, n) = a.shape();
    let k = m.min(n);
    if k == 0 {
        return Ok(vec![Mat::zeros(m, 0), Mat::zeros(0, n)]);
    }
    let qr = a.qr();
    let mut q = qr.compute_thin_Q();
    let mut r = qr.thin_R().to_owned();
    for j in 0..k {
        if r[(j, j)] < T::zero() {
            negate_col(&mut q, j);
            negate_row(&mut r, j);
        }
    }
    finite_output(vec![q, r])
}

/// Whether column `j`'s entry of largest magnitude (the first on a tie)
/// is negative.
fn points_down<T: Float>(m: &Mat<T>, j: usize) -> bool {
    let mut largest = T::zero();
    for i in 0..m.nrows() {
        let v = m[(i, j)];
        if v.magnitude() > largest.magnitude() {
            largest = v;
        }
    }
    largest < T::zero()
}

fn negate_col<T: Float>(m: &mut Mat<T>, j: usize) {
    for i in 0..m.nrows() {
        m[(i, j)] = T::zero() - m[(i, j)];
    }
}

fn negate_row<T: Float>(m: &mut Mat<T>, i: usize) {
    for j in 0..m.ncols() {
        m[(i, j)] = T::zero() - m[(i, j)];
    }
}

/// The factors of a finite matrix, unless one overflowed.
fn finite_output<T: Float>(parts: Vec<Mat<T>>) -> Result<Vec<Mat<T>>, Failure> {
    if parts.iter().all(|p| all_finite(p.as_ref())) {
        Ok(parts)
    } else {
        Err(Failure::Overflow)
    }
}
