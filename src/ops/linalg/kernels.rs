//! The run-time kernels of the linear-algebra ops, and what the numeric
//! kernels of other families share: the element types they compute in
//! ([`Elem`], [`numeric!`]), [`arg_array`], [`allocatable`] and
//! [`matmul_arrays`].

use ndarray::linalg::general_mat_mul;
use ndarray::{
    Array2, Array3, ArrayView2, ArrayView3, ArrayViewMut2, Axis as NdAxis, Ix1, IxDyn,
    LinalgScalar, ShapeBuilder, ShapeError,
};
use std::num::Wrapping;

use crate::check::types::DType;
use crate::error::Diagnostic;
use crate::eval::interp::{internal, runtime_error, Interp};
use crate::eval::value::{self, Array, Value};
use crate::ops::Bound;
use crate::source::Span;

use super::decompose::{eigh_kernel, qr_kernel, svd_kernel};
use super::gemm::{product_into, product_stack};
use super::solve::{det_kernel, inv_kernel, solve_kernel};

#[rustfmt::skip]
pub(crate) static KERNELS: &[(&str, crate::ops::Kernel)] = &[
    ("matmul", matmul_kernel),
    ("dot", matmul_kernel),
    ("outer", outer_kernel),
    ("trace", trace_kernel),
    ("diag", diag_kernel),
    ("inv", inv_kernel),
    ("det", det_kernel),
    ("solve", solve_kernel),
    ("svd", svd_kernel),
    ("eigh", eigh_kernel),
    ("qr", qr_kernel),
];

/// Element types the numeric kernels compute in: floats natively, i64
/// wrapped so that products and sums wrap as NumPy's do instead of
/// panicking on overflow.
pub(crate) trait Elem: LinalgScalar + PartialOrd {
    /// The tensor's data in this element type (cast when it has another).
    fn array(t: &value::Tensor) -> Option<Array<Self>>;
    fn tensor(a: Array<Self>) -> value::Tensor;
    /// `n` in this element type (avg_pool2d's divisor).
    fn count(n: usize) -> Self;
    fn is_nan(self) -> bool;
    /// `lhs[i] @ rhs[i]` for each matrix of two stacks: every matrix
    /// product of the evaluator (`@`, matmul, linear, einsum, the
    /// convolutions) comes here.
    fn product_stack(
        lhs: ArrayView3<'_, Self>,
        rhs: ArrayView3<'_, Self>,
    ) -> Result<Array3<Self>, ShapeError>;
    /// `lhs @ rhs` written in place on the calling thread into the rows of
    /// `out`, `row_stride` elements apart (a convolution's output tile;
    /// the caller runs tiles in parallel).
    fn product_into(
        lhs: ArrayView2<'_, Self>,
        rhs: ArrayView2<'_, Self>,
        out: &mut [Self],
        row_stride: usize,
    ) -> Result<(), ShapeError>;
}

/// The length a row-major `m × n` destination with rows `row_stride`
/// apart needs, checked before a GEMM writes to it (faer panics on less).
fn fits<T>(
    lhs: ArrayView2<'_, T>,
    rhs: ArrayView2<'_, T>,
    out: &[T],
    row_stride: usize,
) -> Result<(), ShapeError> {
    let ((m, k), (rhs_k, n)) = (lhs.dim(), rhs.dim());
    let needed = match m {
        0 => Some(0),
        _ => (m - 1)
            .checked_mul(row_stride)
            .and_then(|p| p.checked_add(n)),
    };
    match needed {
        Some(len) if k == rhs_k && (m == 0 || n == 0 || n <= row_stride) && len <= out.len() => {
            Ok(())
        }
        _ => Err(ShapeError::from_kind(ndarray::ErrorKind::IncompatibleShape)),
    }
}

/// Products of floats go through faer's GEMM.
fn float_product_stack<T>(
    lhs: ArrayView3<'_, T>,
    rhs: ArrayView3<'_, T>,
) -> Result<Array3<T>, ShapeError>
where
    T: faer::traits::RealField + Copy + Send + Sync,
{
    let dims = product_dims(lhs, rhs)?;
    let mut out = vec![T::zero(); result_len(dims)?];
    product_stack(lhs, rhs, &mut out);
    Array3::from_shape_vec(dims, out)
}

/// The `(count, m, n)` of `lhs @ rhs` for stacks `(count, m, k)` and
/// `(count, k, n)`; an error for stacks that do not fit (both GEMMs
/// would panic on them).
fn product_dims<T>(
    lhs: ArrayView3<'_, T>,
    rhs: ArrayView3<'_, T>,
) -> Result<(usize, usize, usize), ShapeError> {
    let ((count, m, k), (rhs_count, rhs_k, n)) = (lhs.dim(), rhs.dim());
    if count == rhs_count && k == rhs_k {
        Ok((count, m, n))
    } else {
        Err(ShapeError::from_kind(ndarray::ErrorKind::IncompatibleShape))
    }
}

/// The element count of a `(count, m, n)` result, refused when it
/// overflows (ndarray's error, which callers report as an internal one:
/// the memory limit refuses such results first).
fn result_len((count, m, n): (usize, usize, usize)) -> Result<usize, ShapeError> {
    count
        .checked_mul(m)
        .and_then(|p| p.checked_mul(n))
        .filter(|&len| isize::try_from(len).is_ok())
        .ok_or_else(|| ShapeError::from_kind(ndarray::ErrorKind::Overflow))
}

impl Elem for f32 {
    fn array(t: &value::Tensor) -> Option<Array<f32>> {
        match t.cast(DType::F32) {
            value::Tensor::F32(a) => Some(a),
            _ => None,
        }
    }
    fn tensor(a: Array<f32>) -> value::Tensor {
        value::Tensor::F32(a)
    }
    fn count(n: usize) -> f32 {
        n as f32
    }
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn product_stack(
        lhs: ArrayView3<'_, f32>,
        rhs: ArrayView3<'_, f32>,
    ) -> Result<Array3<f32>, ShapeError> {
        float_product_stack(lhs, rhs)
    }
    fn product_into(
        lhs: ArrayView2<'_, f32>,
        rhs: ArrayView2<'_, f32>,
        out: &mut [f32],
        row_stride: usize,
    ) -> Result<(), ShapeError> {
        fits(lhs, rhs, out, row_stride)?;
        product_into(lhs, rhs, out, row_stride);
        Ok(())
    }
}

impl Elem for f64 {
    fn array(t: &value::Tensor) -> Option<Array<f64>> {
        match t.cast(DType::F64) {
            value::Tensor::F64(a) => Some(a),
            _ => None,
        }
    }
    fn tensor(a: Array<f64>) -> value::Tensor {
        value::Tensor::F64(a)
    }
    fn count(n: usize) -> f64 {
        n as f64
    }
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn product_stack(
        lhs: ArrayView3<'_, f64>,
        rhs: ArrayView3<'_, f64>,
    ) -> Result<Array3<f64>, ShapeError> {
        float_product_stack(lhs, rhs)
    }
    fn product_into(
        lhs: ArrayView2<'_, f64>,
        rhs: ArrayView2<'_, f64>,
        out: &mut [f64],
        row_stride: usize,
    ) -> Result<(), ShapeError> {
        fits(lhs, rhs, out, row_stride)?;
        product_into(lhs, rhs, out, row_stride);
        Ok(())
    }
}

impl Elem for Wrapping<i64> {
    fn array(t: &value::Tensor) -> Option<Array<Wrapping<i64>>> {
        match t.cast(DType::I64) {
            value::Tensor::I64(a) => Some(a.mapv(Wrapping).into_shared()),
            _ => None,
        }
    }
    fn tensor(a: Array<Wrapping<i64>>) -> value::Tensor {
        value::Tensor::I64(a.mapv(|v| v.0).into_shared())
    }
    fn count(n: usize) -> Wrapping<i64> {
        Wrapping(n as i64)
    }
    fn is_nan(self) -> bool {
        false
    }
    /// faer has no integer GEMM: ndarray's, one product at a time.
    fn product_stack(
        lhs: ArrayView3<'_, Wrapping<i64>>,
        rhs: ArrayView3<'_, Wrapping<i64>>,
    ) -> Result<Array3<Wrapping<i64>>, ShapeError> {
        let dims = product_dims(lhs, rhs)?;
        result_len(dims)?;
        let mut out = Array3::zeros(dims);
        for ((mut o, x), y) in out
            .outer_iter_mut()
            .zip(lhs.outer_iter())
            .zip(rhs.outer_iter())
        {
            general_mat_mul(Wrapping(1), &x, &y, Wrapping(0), &mut o);
        }
        Ok(out)
    }
    fn product_into(
        lhs: ArrayView2<'_, Wrapping<i64>>,
        rhs: ArrayView2<'_, Wrapping<i64>>,
        out: &mut [Wrapping<i64>],
        row_stride: usize,
    ) -> Result<(), ShapeError> {
        fits(lhs, rhs, out, row_stride)?;
        let (m, n) = (lhs.nrows(), rhs.ncols());
        let mut dst = ArrayViewMut2::from_shape((m, n).strides((row_stride, 1)), out)?;
        general_mat_mul(Wrapping(1), &lhs, &rhs, Wrapping(0), &mut dst);
        Ok(())
    }
}

/// Calls the generic kernel `f::<T>(args)` with T the element type `dtype`
/// computes in; bool never reaches a numeric kernel (the checker refuses it).
macro_rules! numeric {
    ($dtype:expr, $span:expr, $f:ident($($arg:expr),* $(,)?)) => {
        match $dtype {
            $crate::check::types::DType::F32 => $f::<f32>($($arg),*),
            $crate::check::types::DType::F64 => $f::<f64>($($arg),*),
            $crate::check::types::DType::I64 => $f::<std::num::Wrapping<i64>>($($arg),*),
            $crate::check::types::DType::Bool => {
                Err($crate::eval::interp::internal($span, "a numeric kernel given bool"))
            }
        }
    };
}
pub(crate) use numeric;

/// Refuses a result too large to index (ndarray would panic on it): a
/// size the checker bounds per axis can still overflow in a product.
pub(crate) fn allocatable(shape: &[usize], span: Span) -> Result<(), Diagnostic> {
    match shape.iter().try_fold(16usize, |p, &n| p.checked_mul(n)) {
        Some(bytes) if isize::try_from(bytes).is_ok() => Ok(()),
        _ => Err(runtime_error(
            span,
            format!("a result of shape {shape:?} is too large"),
        )),
    }
}

/// Argument `i` as an array of T.
pub(crate) fn arg_array<'a, T: Elem>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    i: usize,
) -> Result<Array<T>, Diagnostic> {
    let t = ev.arg_tensor(b, i)?;
    T::array(&t).ok_or_else(|| internal(b.span_of(i), "a cast to the result's element type"))
}

fn matmul_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn run<'a, T: Elem>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<value::Tensor, Diagnostic> {
        let (l, r) = (arg_array::<T>(ev, b, 0)?, arg_array::<T>(ev, b, 1)?);
        let y = matmul_arrays(&l, &r, b.span)?;
        ev.add_flops(matmul_flops(y.len(), l.shape()));
        Ok(T::tensor(y))
    }
    numeric!(ev.out_dtype(b), b.span, run(ev, b)).map(Value::Tensor)
}

/// A multiply and an add per term of each result element's contraction.
pub(crate) fn matmul_flops(results: usize, lhs: &[usize]) -> f64 {
    2.0 * results as f64 * lhs.last().copied().unwrap_or(1) as f64
}

/// numpy.matmul: a 1-D operand is promoted to a matrix and its promoted
/// axis removed from the result; batch axes broadcast. The products are
/// [`Elem::product_stack`]'s.
pub(crate) fn matmul_arrays<T: Elem>(
    a: &Array<T>,
    b: &Array<T>,
    span: Span,
) -> Result<Array<T>, Diagnostic> {
    let a2 = match a.ndim() {
        0 => return Err(internal(span, "matmul of a scalar")),
        1 => a.clone().insert_axis(NdAxis(0)),
        _ => a.clone(),
    };
    let b2 = match b.ndim() {
        0 => return Err(internal(span, "matmul of a scalar")),
        1 => b.clone().insert_axis(NdAxis(1)),
        _ => b.clone(),
    };
    let (an, bn) = (a2.ndim(), b2.ndim());
    let (m, k, n) = (a2.shape()[an - 2], a2.shape()[an - 1], b2.shape()[bn - 1]);
    if b2.shape()[bn - 2] != k {
        return Err(runtime_error(
            span,
            format!(
                "the contracted sizes of this matmul differ: {:?} and {:?}",
                a.shape(),
                b.shape()
            ),
        ));
    }
    let batch =
        crate::eval::operators::broadcast_shape(&a2.shape()[..an - 2], &b2.shape()[..bn - 2])
            .ok_or_else(|| runtime_error(span, "the batch axes of this matmul do not broadcast"))?;
    let count: usize = batch.iter().product();
    let full = |rows: usize, cols: usize| IxDyn(&[batch.as_slice(), &[rows, cols]].concat());
    let failed = || internal(span, "matmul operands as a stack of matrices");
    let (av, bv) = (a2.broadcast(full(m, k)), b2.broadcast(full(k, n)));
    let (av, bv) = (av.ok_or_else(failed)?, bv.ok_or_else(failed)?);
    // Copies only what broadcasting repeated or a layout that is not contiguous.
    let av = av.to_shape((count, m, k)).map_err(|_| failed())?;
    let bv = bv.to_shape((count, k, n)).map_err(|_| failed())?;
    let out = T::product_stack(av.view(), bv.view())
        .map_err(|_| runtime_error(span, "the result of this matmul is too large"))?;
    let mut shape = batch;
    if a.ndim() > 1 {
        shape.push(m);
    }
    if b.ndim() > 1 {
        shape.push(n);
    }
    out.into_shape_with_order(IxDyn(&shape))
        .map(|o| o.into_shared())
        .map_err(|_| internal(span, "matmul result shape"))
}

/// One matrix product `a @ b` through [`Elem::product_stack`] (the
/// convolutions' im2col products).
pub(crate) fn matrix_product<T: Elem>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
) -> Result<Array2<T>, ShapeError> {
    let out = T::product_stack(a.insert_axis(NdAxis(0)), b.insert_axis(NdAxis(0)))?;
    Ok(out.index_axis_move(NdAxis(0), 0))
}

fn outer_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn run<'a, T: Elem>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<value::Tensor, Diagnostic> {
        let (l, r) = (arg_array::<T>(ev, b, 0)?, arg_array::<T>(ev, b, 1)?);
        allocatable(&[l.len(), r.len()], b.span)?;
        let (l, r) = (l.insert_axis(NdAxis(1)), r.insert_axis(NdAxis(0)));
        Ok(T::tensor((&l * &r).into_shared()))
    }
    numeric!(ev.out_dtype(b), b.span, run(ev, b)).map(Value::Tensor)
}

/// The sum of the diagonals of the last two (square) axes: one batch-shaped
/// addition per diagonal element.
fn trace_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn run<'a, T: Elem>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<value::Tensor, Diagnostic> {
        let x = arg_array::<T>(ev, b, 0)?;
        let rank = x.ndim();
        if rank < 2 {
            return Err(internal(b.span, "trace of fewer than two axes"));
        }
        let n = x.shape()[rank - 1].min(x.shape()[rank - 2]);
        let mut sum = ndarray::ArrayD::<T>::zeros(IxDyn(&x.shape()[..rank - 2]));
        for i in 0..n {
            let d = x.index_axis(NdAxis(rank - 1), i);
            sum.zip_mut_with(&d.index_axis(NdAxis(rank - 2), i), |s, &v| *s = *s + v);
        }
        Ok(T::tensor(sum.into_shared()))
    }
    numeric!(ev.out_dtype(b), b.span, run(ev, b)).map(Value::Tensor)
}

/// A vector becomes a diagonal matrix; a matrix gives a view of its main
/// diagonal (as NumPy's does).
fn diag_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn run<'a, T: Elem>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<value::Tensor, Diagnostic> {
        let x = arg_array::<T>(ev, b, 0)?;
        Ok(T::tensor(match x.ndim() {
            1 => {
                let n = x.len();
                allocatable(&[n, n], b.span)?;
                let mut m = ndarray::ArrayD::<T>::zeros(IxDyn(&[n, n]));
                m.diag_mut().assign(
                    &x.into_dimensionality::<Ix1>()
                        .map_err(|_| internal(b.span, "a vector that is not 1-D"))?,
                );
                m.into_shared()
            }
            2 => x.into_diag().into_dyn(),
            _ => return Err(internal(b.span, "diag of neither a vector nor a matrix")),
        }))
    }
    numeric!(ev.out_dtype(b), b.span, run(ev, b)).map(Value::Tensor)
}

/// `l @ r` on tensors, computed in `dtype`: the operator's entry point,
/// public for the GEMM benchmark (`benches/gemm.rs`).
pub fn matmul_tensors(
    l: &value::Tensor,
    r: &value::Tensor,
    dtype: DType,
    span: Span,
) -> Result<value::Tensor, Diagnostic> {
    fn run<T: Elem>(
        l: &value::Tensor,
        r: &value::Tensor,
        span: Span,
    ) -> Result<value::Tensor, Diagnostic> {
        let failed = || internal(span, "a matmul operand of another element type");
        let (a, b) = (
            T::array(l).ok_or_else(failed)?,
            T::array(r).ok_or_else(failed)?,
        );
        matmul_arrays(&a, &b, span).map(T::tensor)
    }
    match dtype {
        DType::F32 => run::<f32>(l, r, span),
        DType::F64 => run::<f64>(l, r, span),
        DType::I64 => run::<Wrapping<i64>>(l, r, span),
        DType::Bool => Err(internal(span, "matmul on bool")),
    }
}
