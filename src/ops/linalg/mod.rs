//! Linear algebra: matmul dot outer trace diag inv det solve svd eigh qr.
//!
//! Every op but `outer` and `diag` is batched over leading axes (spec
//! 10.13): the matrix axes are the last two. Output axes keep the input
//! axis they correspond to; a new rank axis (svd's and qr's `min(m, n)`,
//! eigh's eigenpair index) is anonymous. Bool is refused and integers give
//! f32 (spec 10.4), so every result is a float.

mod decompose;
mod gemm;
mod kernels;
mod solve;
mod stack;

pub use kernels::matmul_tensors;
pub(super) use kernels::{
    allocatable, arg_array, matmul_arrays, matmul_flops, matrix_product, numeric, Elem, KERNELS,
};

use super::args::{name_mismatch, operand, tensor_args};
use super::{Bound, Builtin, Param};
use crate::check::expr::promote;
use crate::check::size::Size;
use crate::check::types::{is_fixed, show_axis, Axis, DType, Item, Shape, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};

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
