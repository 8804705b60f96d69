//! Linear algebra: matmul dot outer trace diag inv det solve svd eigh qr.
//!
//! Every op but `outer` and `diag` is batched over leading axes (spec
//! 10.13): the matrix axes are the last two. Output axes keep the input
//! axis they correspond to; a new rank axis (svd's and qr's `min(m, n)`,
//! eigh's eigenpair index) is anonymous. Bool is refused and integers give
//! f32 (spec 10.4), so every result is a float.

use super::args::{name_mismatch, operand, tensor_args};
use super::{Bound, Builtin, Param};
use crate::check::expr::promote;
use crate::check::size::Size;
use crate::check::types::{is_fixed, show_axis, Axis, DType, Item, Shape, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::eval::interp::{internal, runtime_error, Interp};
use crate::eval::value::{self, Array, Value};
use crate::source::Span;

use ndarray::{Array3, Axis as NdAxis, Ix1, IxDyn, LinalgScalar};
use std::num::Wrapping;
use Param::Required;

const X: &[Param] = &[Required("x")];
const AB: &[Param] = &[Required("a"), Required("b")];

#[rustfmt::skip]
pub(super) static BUILTINS: &[Builtin] = &[
    // `dot` of two vectors is their scalar product, which is also what
    // matmul gives, so both follow `@` everywhere.
    Builtin { name: "matmul", params: AB, rule: matmul },
    Builtin { name: "dot", params: AB, rule: matmul },
    Builtin { name: "outer", params: AB, rule: outer },
    Builtin { name: "trace", params: X, rule: trace },
    Builtin { name: "diag", params: X, rule: diag },
    Builtin { name: "inv", params: X, rule: inv },
    Builtin { name: "det", params: X, rule: det },
    Builtin { name: "solve", params: AB, rule: solve },
    Builtin { name: "svd", params: X, rule: svd },
    Builtin { name: "eigh", params: X, rule: eigh },
    Builtin { name: "qr", params: X, rule: qr },
];

/// A stack of matrices `[..batch, rows, cols]`.
struct Matrix {
    batch: Shape,
    rows: Axis,
    cols: Axis,
}

impl Matrix {
    fn shape(&self, tail: impl IntoIterator<Item = Axis>) -> Shape {
        let mut shape = self.batch.clone();
        shape.extend(tail.into_iter().map(Item::Axis));
        shape
    }
}

/// The first `count` arguments, all required tensors.
fn operands(cx: &mut Checker, b: &Bound, count: usize) -> Option<Vec<Tensor>> {
    let slots: Vec<usize> = (0..count).collect();
    tensor_args(cx, b, &slots)?.into_iter().collect()
}

/// The one tensor argument of a unary op.
fn single(cx: &mut Checker, b: &Bound) -> Option<Tensor> {
    operands(cx, b, 1)?.into_iter().next()
}

/// Splits argument `i` into its batch and its last two axes.
fn matrix(cx: &mut Checker, b: &Bound, i: usize, x: &Tensor) -> Option<Matrix> {
    if let [batch @ .., Item::Axis(rows), Item::Axis(cols)] = x.shape.as_slice() {
        return Some(Matrix {
            batch: batch.to_vec(),
            rows: rows.clone(),
            cols: cols.clone(),
        });
    }
    let shown = cx.show_shape(&x.shape);
    let span = b.span_of(i);
    let d = if is_fixed(&x.shape) {
        Diagnostic::new(
            Code::Arg,
            span,
            format!(
                "`{}` needs a matrix (at least 2 axes), found {shown}",
                b.name
            ),
        )
        .label(span, shown)
        .help("the matrix axes are the last two; add one with `unsqueeze` if x is a vector")
    } else {
        Diagnostic::new(
            Code::Axis,
            span,
            format!("the matrix axes of {shown} fall inside a variadic run"),
        )
        .label(span, shown)
        .help("end the type with the two matrix axes, e.g. `[*b, N, N]`")
    };
    cx.report(d);
    None
}

/// Square-matrix ops need the last two sizes provably equal (tsr::axis:
/// the fault is in one operand's axes, not between operands).
fn square(cx: &mut Checker, b: &Bound, x: &Tensor) -> Option<Matrix> {
    let m = matrix(cx, b, 0, x)?;
    if m.rows.size == m.cols.size {
        return Some(m);
    }
    let shown = cx.show_shape(&x.shape);
    let (r, c) = (show_axis(&m.rows, cx), show_axis(&m.cols, cx));
    let known = m.rows.size.is_const() && m.cols.size.is_const();
    let why = if known {
        "their sizes differ"
    } else {
        "their sizes cannot be proven equal"
    };
    let text = b.get(0).map_or_else(|| "x".to_string(), |e| cx.describe(e));
    let help = if !known {
        format!("if {r} and {c} are always equal, declare one dim and use it for both axes")
    } else {
        let fix = match b.name {
            "trace" if x.shape.len() == 2 => {
                format!("to sum the diagonal of a non-square matrix, use `sum(diag({text}))`")
            }
            "inv" => format!(
                "a non-square matrix has no inverse; for least squares invert the square `transpose({text}, -1, -2) @ {text}`"
            ),
            "solve" => {
                let rhs = b.get(1).map_or_else(|| "b".to_string(), |e| cx.describe(e));
                let at = format!("transpose({text}, -1, -2)");
                format!("a non-square system has no unique solution; for least squares use `solve({at} @ {text}, {at} @ {rhs})`")
            }
            "eigh" => format!("a non-square matrix has no eigenvalues; `svd({text})` gives its singular values"),
            "det" => "only square matrices have a determinant".to_string(),
            _ => "only square matrices have a trace".to_string(),
        };
        if x.shape.len() > 2 {
            format!(
                "{fix}; if the square axes are not the last two, move them there with `permute`"
            )
        } else {
            fix
        }
    };
    cx.report(
        Diagnostic::new(
            Code::Axis,
            b.span,
            format!(
                "`{}` needs square matrices, but the last two axes of {shown} are {r} and {c}: {why}",
                b.name
            ),
        )
        .label(b.span_of(0), format!("{shown}: {r} × {c}"))
        .help(help),
    );
    None
}

/// `min(m, n)`: the rank axis of svd and qr.
fn rank_size(cx: &mut Checker, m: &Matrix) -> Size {
    if m.rows.size == m.cols.size {
        return m.rows.size.clone();
    }
    // A size the normal form cannot express stays unknown (checked at run time).
    m.rows
        .size
        .min(&m.cols.size)
        .unwrap_or_else(|_| cx.fresh_size())
}

fn float(dtype: DType, shape: Shape) -> Type {
    Type::tensor(dtype.to_float(), shape)
}

fn matmul(cx: &mut Checker, b: &Bound) -> Type {
    let Some(ts) = operands(cx, b, 2) else {
        return Type::Unknown;
    };
    let [l, r] = ts.as_slice() else {
        return Type::Unknown;
    };
    match cx.matmul(operand(b, 0, l), operand(b, 1, r), b.span) {
        Type::Tensor(t) => float(t.dtype, t.shape),
        other => other,
    }
}

fn outer(cx: &mut Checker, b: &Bound) -> Type {
    let Some(ts) = operands(cx, b, 2) else {
        return Type::Unknown;
    };
    let [l, r] = ts.as_slice() else {
        return Type::Unknown;
    };
    if let ([Item::Axis(n)], [Item::Axis(m)]) = (l.shape.as_slice(), r.shape.as_slice()) {
        return float(
            promote(l, r),
            vec![Item::Axis(n.clone()), Item::Axis(m.clone())],
        );
    }
    let (ls, rs) = (cx.show_shape(&l.shape), cx.show_shape(&r.shape));
    cx.fail(
        Diagnostic::new(
            Code::Arg,
            b.span,
            format!("`outer` takes two 1-D tensors, found {ls} and {rs}"),
        )
        .label(b.span_of(0), ls)
        .label(b.span_of(1), rs)
        .help("flatten them first: `outer(flatten(a), flatten(b))`"),
    )
}

fn trace(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = single(cx, b) else {
        return Type::Unknown;
    };
    let Some(m) = square(cx, b, &x) else {
        return Type::Unknown;
    };
    // Summing the diagonal pairs the two axes, as einsum "ii->" does: two
    // different names there are the same suspicious pairing (spec 5).
    name_mismatch(cx, b, [(0, &m.rows), (0, &m.cols)]);
    float(x.dtype, m.batch)
}

/// NumPy's `diag`: a vector becomes a diagonal matrix, a matrix gives its
/// main diagonal (of `min(m, n)` elements).
fn diag(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = single(cx, b) else {
        return Type::Unknown;
    };
    match x.shape.as_slice() {
        [Item::Axis(n)] => float(x.dtype, vec![Item::Axis(n.clone()), Item::Axis(n.clone())]),
        [Item::Axis(r), Item::Axis(c)] if r.size == c.size => {
            // As in broadcasting, equal sizes are named if either side is.
            let name = r.name.clone().or_else(|| c.name.clone());
            let axis = Axis {
                size: r.size.clone(),
                name,
            };
            float(x.dtype, vec![Item::Axis(axis)])
        }
        [Item::Axis(r), Item::Axis(c)] => {
            let m = Matrix {
                batch: Vec::new(),
                rows: r.clone(),
                cols: c.clone(),
            };
            let k = rank_size(cx, &m);
            float(x.dtype, vec![Item::Axis(Axis::anon(k))])
        }
        _ => {
            let shown = cx.show_shape(&x.shape);
            cx.fail(
                Diagnostic::new(
                    Code::Arg,
                    b.span,
                    format!("`diag` takes a 1-D or 2-D tensor, found {shown}"),
                )
                .label(b.span_of(0), shown)
                .help("for the diagonals of a stack of matrices use `einsum(\"...ii->...i\", x)`"),
            )
        }
    }
}

/// The inverse maps x's column space back to its rows, so its axes are
/// x's last two swapped: `inv(x) @ x` contracts like with like.
fn inv(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = single(cx, b) else {
        return Type::Unknown;
    };
    match square(cx, b, &x) {
        Some(m) => float(x.dtype, m.shape([m.cols.clone(), m.rows.clone()])),
        None => Type::Unknown,
    }
}

fn det(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = single(cx, b) else {
        return Type::Unknown;
    };
    match square(cx, b, &x) {
        Some(m) => float(x.dtype, m.batch),
        None => Type::Unknown,
    }
}

fn svd(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = single(cx, b) else {
        return Type::Unknown;
    };
    let Some(m) = matrix(cx, b, 0, &x) else {
        return Type::Unknown;
    };
    let k = Axis::anon(rank_size(cx, &m));
    Type::Tuple(vec![
        float(x.dtype, m.shape([m.rows.clone(), k.clone()])),
        float(x.dtype, m.shape([k.clone()])),
        float(x.dtype, m.shape([k, m.cols.clone()])),
    ])
}

fn qr(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = single(cx, b) else {
        return Type::Unknown;
    };
    let Some(m) = matrix(cx, b, 0, &x) else {
        return Type::Unknown;
    };
    let k = Axis::anon(rank_size(cx, &m));
    Type::Tuple(vec![
        float(x.dtype, m.shape([m.rows.clone(), k.clone()])),
        float(x.dtype, m.shape([k, m.cols.clone()])),
    ])
}

/// `(w, V)`: V's rows are x's rows; its columns, like w, index the
/// eigenpairs, a new axis.
fn eigh(cx: &mut Checker, b: &Bound) -> Type {
    let Some(x) = single(cx, b) else {
        return Type::Unknown;
    };
    let Some(m) = square(cx, b, &x) else {
        return Type::Unknown;
    };
    let k = Axis::anon(m.rows.size.clone());
    Type::Tuple(vec![
        float(x.dtype, m.shape([k.clone()])),
        float(x.dtype, m.shape([m.rows.clone(), k])),
    ])
}

/// The right-hand side of `solve`: `[..batch, n]` vectors or `[..batch, n, k]`.
struct Rhs {
    batch: Shape,
    n: Axis,
    k: Option<Axis>,
}

/// As torch.linalg.solve: b is a stack of vectors when it is 1-D or is
/// exactly a's shape without its last axis; otherwise a stack of matrices.
fn rhs(cx: &mut Checker, b: &Bound, a: &Tensor, rhs: &Tensor) -> Option<Rhs> {
    let vectors = match (rhs.shape.as_slice(), a.shape.split_last()) {
        ([_], _) => true,
        (shape, Some((_, lead))) => crate::check::expr::same_sizes(shape, lead),
        _ => false,
    };
    match rhs.shape.as_slice() {
        [batch @ .., Item::Axis(n)] if vectors => Some(Rhs {
            batch: batch.to_vec(),
            n: n.clone(),
            k: None,
        }),
        [batch @ .., Item::Axis(n), Item::Axis(k)] => Some(Rhs {
            batch: batch.to_vec(),
            n: n.clone(),
            k: Some(k.clone()),
        }),
        _ => {
            let shown = cx.show_shape(&rhs.shape);
            cx.report(
                Diagnostic::new(
                    Code::Arg,
                    b.span_of(1),
                    format!("`solve` needs b as [..., n] or [..., n, k], found {shown}"),
                )
                .label(b.span_of(1), shown),
            );
            None
        }
    }
}

/// `solve(a, b)` is `inv(a) @ b`: it contracts a's rows with b's `n`, and
/// the result's rows are a's columns.
fn solve(cx: &mut Checker, b: &Bound) -> Type {
    let Some(ts) = operands(cx, b, 2) else {
        return Type::Unknown;
    };
    let [a, v] = ts.as_slice() else {
        return Type::Unknown;
    };
    let Some(m) = square(cx, b, a) else {
        return Type::Unknown;
    };
    let Some(r) = rhs(cx, b, a, v) else {
        return Type::Unknown;
    };
    if m.rows.size != r.n.size {
        let d = solve_mismatch(cx, b, a, v, &m, &r);
        return cx.fail(d);
    }
    let dtype = promote(a, v);
    let (ab, vb) = (
        Tensor::new(dtype, m.batch.clone()),
        Tensor::new(dtype, r.batch.clone()),
    );
    let batch = cx.broadcast_operands(
        &[operand(b, 0, &ab), operand(b, 1, &vb)],
        b.span,
        "solve (batch axes)",
    );
    let Some(mut shape) = batch else {
        return Type::Unknown;
    };
    name_mismatch(cx, b, [(0, &m.rows), (1, &r.n)]);
    shape.push(Item::Axis(m.cols));
    shape.extend(r.k.map(Item::Axis));
    float(dtype, shape)
}

fn solve_mismatch(
    cx: &Checker,
    b: &Bound,
    a: &Tensor,
    v: &Tensor,
    m: &Matrix,
    r: &Rhs,
) -> Diagnostic {
    let (as_, vs) = (cx.show_shape(&a.shape), cx.show_shape(&v.shape));
    let (x, y) = (show_axis(&m.rows, cx), show_axis(&r.n, cx));
    let which = if r.k.is_some() {
        "second-to-last"
    } else {
        "last"
    };
    let mut d = Diagnostic::new(
        Code::Contraction,
        b.span,
        format!("`solve(a, b)` needs b's {which} axis to match a's rows: a is {as_} (rows {x}), b is {vs} ({y})"),
    )
    .label(b.span_of(0), format!("{as_}: rows {x}"))
    .label(b.span_of(1), format!("{vs}: {y}"));
    if r.k.as_ref().is_some_and(|k| k.size == m.rows.size) {
        let [a_text, b_text] =
            [0, 1].map(|i| b.get(i).map_or_else(|| "x".to_string(), |e| cx.describe(e)));
        d = d.help(format!(
            "b's last axis matches: did you mean `solve({a_text}, transpose({b_text}, -1, -2))`?"
        ));
    }
    d
}

// Kernels. inv det solve svd eigh qr wait for a linear-algebra library.

#[rustfmt::skip]
pub(super) static KERNELS: &[(&str, super::Kernel)] = &[
    ("matmul", matmul_kernel),
    ("dot", matmul_kernel),
    ("outer", outer_kernel),
    ("trace", trace_kernel),
    ("diag", diag_kernel),
];

/// Element types the numeric kernels compute in: floats natively, i64
/// wrapped so that products and sums wrap as NumPy's do instead of
/// panicking on overflow.
pub(super) trait Elem: LinalgScalar + PartialOrd {
    /// The tensor's data in this element type (cast when it has another).
    fn array(t: &value::Tensor) -> Option<Array<Self>>;
    fn tensor(a: Array<Self>) -> value::Tensor;
    /// `n` in this element type (avg_pool2d's divisor).
    fn count(n: usize) -> Self;
    fn is_nan(self) -> bool;
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
pub(super) use numeric;

/// Refuses a result too large to index (ndarray would panic on it): a
/// size the checker bounds per axis can still overflow in a product.
pub(super) fn allocatable(shape: &[usize], span: Span) -> Result<(), Diagnostic> {
    match shape.iter().try_fold(16usize, |p, &n| p.checked_mul(n)) {
        Some(bytes) if isize::try_from(bytes).is_ok() => Ok(()),
        _ => Err(runtime_error(
            span,
            format!("a result of shape {shape:?} is too large"),
        )),
    }
}

/// Argument `i` as an array of T.
pub(super) fn arg_array<'a, T: Elem>(
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
        matmul_arrays(&l, &r, b.span).map(T::tensor)
    }
    numeric!(ev.out_dtype(b), b.span, run(ev, b)).map(Value::Tensor)
}

/// numpy.matmul: a 1-D operand is promoted to a matrix and its promoted
/// axis removed from the result; batch axes broadcast. The products are
/// ndarray's `dot` on 2-D views.
pub(super) fn matmul_arrays<T: Elem>(
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
    let mut out = Array3::<T>::zeros((count, m, n));
    for ((mut o, x), y) in out
        .outer_iter_mut()
        .zip(av.outer_iter())
        .zip(bv.outer_iter())
    {
        o.assign(&x.dot(&y));
    }
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

/// `l @ r` on tensors, computed in `dtype` (the operator's entry point).
pub(crate) fn matmul_tensors(
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
