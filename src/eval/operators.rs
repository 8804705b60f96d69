//! Operators: arithmetic and comparisons with broadcasting, `@`, fields
//! and basic indexing. Element types come from the checker's facts.

use ndarray::{Axis as NdAxis, IxDyn, SliceInfo, SliceInfoElem};

use super::interp::{internal, runtime_error, Eval, Interp};
use super::parallel::{self, zip2};
use super::value::{Array, Broadcast, Tensor, Value};
use crate::check::types::{DType, Type};
use crate::ops::math::Binary;
use crate::source::Span;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, IndexItem, IndexItemKind};
use crate::{map_tensor, with_array};

pub fn negate(t: &Tensor) -> Tensor {
    match t {
        Tensor::F32(a) => Tensor::F32(parallel::map(a, |v| -v)),
        Tensor::F64(a) => Tensor::F64(parallel::map(a, |v| -v)),
        Tensor::I64(a) => Tensor::I64(parallel::map(a, i64::wrapping_neg)),
        Tensor::Bool(a) => Tensor::I64(parallel::map(a, |v| -i64::from(v))),
    }
}

/// The shape two shapes broadcast to (the checker proved they do).
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let n = a.len().max(b.len());
    (0..n)
        .map(|k| {
            let x = a.len().checked_sub(n - k).map_or(1, |i| a[i]);
            let y = b.len().checked_sub(n - k).map_or(1, |i| b[i]);
            match (x, y) {
                (x, y) if x == y => Some(x),
                (1, y) => Some(y),
                (x, 1) => Some(x),
                _ => None,
            }
        })
        .collect()
}

/// The element type both operands are computed in.
fn common(op: BinaryOp, out: DType, l: DType, r: DType) -> DType {
    if op.is_comparison() {
        l.max(r)
    } else {
        out
    }
}

pub fn binary(op: BinaryOp, l: &Tensor, r: &Tensor, out: &Type, span: Span) -> Eval<Tensor> {
    if op == BinaryOp::MatMul {
        return matmul(l, r, span);
    }
    let Type::Tensor(out_t) = out else {
        return Err(internal(
            span,
            "an operator whose type the checker did not record",
        ));
    };
    let shape = broadcast_shape(l.shape(), r.shape()).ok_or_else(|| {
        runtime_error(
            span,
            format!(
                "shapes {:?} and {:?} do not broadcast",
                l.shape(),
                r.shape()
            ),
        )
    })?;
    let work = common(op, out_t.dtype, l.dtype(), r.dtype());
    let (l, r) = (l.cast(work), r.cast(work));
    if let (BinaryOp::Pow, Tensor::I64(exponents)) = (op, &r) {
        if exponents.iter().any(|&e| e < 0) {
            return Err(runtime_error(
                span,
                "integers cannot be raised to negative integer powers",
            )
            .help("use a float base, e.g. `2.0 ** -1`"));
        }
    }
    let failed = || internal(span, "broadcasting failed after the checker proved it");
    let result = match (&l, &r) {
        (Tensor::F32(a), Tensor::F32(b)) => float_op(op, a, b, &shape),
        (Tensor::F64(a), Tensor::F64(b)) => float_op(op, a, b, &shape),
        (Tensor::I64(a), Tensor::I64(b)) => int_op(op, a, b, &shape),
        (Tensor::Bool(a), Tensor::Bool(b)) => bool_op(op, a, b, &shape),
        _ => None,
    };
    Ok(result.ok_or_else(failed)?.cast(out_t.dtype))
}

/// An operator's result, in the element type it was computed in.
enum Computed {
    F64(Array<f64>),
    F32(Array<f32>),
    I64(Array<i64>),
    Bool(Array<bool>),
}

impl Computed {
    fn cast(self, dtype: DType) -> Tensor {
        match self {
            Computed::F64(a) => Tensor::F64(a),
            Computed::F32(a) => Tensor::F32(a),
            Computed::I64(a) => Tensor::I64(a),
            Computed::Bool(a) => Tensor::Bool(a),
        }
        .cast(dtype)
    }
}

/// Arithmetic in f64, each result rounded once to T: for `+ - * /` on f32
/// that is exactly f32 arithmetic (f64 has more than twice f32's
/// precision), and `**` matches NumPy's f32 power to within rounding.
fn float_op<T: num_like::Float>(
    op: BinaryOp,
    a: &Array<T>,
    b: &Array<T>,
    shape: &[usize],
) -> Option<Computed> {
    let compare = |test: fn(f64, f64) -> bool| {
        zip2(a, b, shape, move |x, y| test(x.to_f64(), y.to_f64())).map(Computed::Bool)
    };
    let arithmetic = |f: Binary| {
        zip2(a, b, shape, move |x, y| {
            T::from_f64(f.apply(x.to_f64(), y.to_f64()))
        })
        .map(T::wrap)
    };
    match op {
        BinaryOp::Eq => compare(|x, y| x == y),
        BinaryOp::Ne => compare(|x, y| x != y),
        BinaryOp::Lt => compare(|x, y| x < y),
        BinaryOp::Le => compare(|x, y| x <= y),
        BinaryOp::Gt => compare(|x, y| x > y),
        BinaryOp::Ge => compare(|x, y| x >= y),
        _ => arithmetic(arithmetic_op(op)?),
    }
}

/// The float function of an arithmetic operator.
pub(crate) fn arithmetic_op(op: BinaryOp) -> Option<Binary> {
    Some(match op {
        BinaryOp::Add => Binary::Add,
        BinaryOp::Sub => Binary::Sub,
        BinaryOp::Mul => Binary::Mul,
        BinaryOp::Div => Binary::Div,
        BinaryOp::Pow => Binary::Pow,
        _ => return None,
    })
}

fn int_op(op: BinaryOp, a: &Array<i64>, b: &Array<i64>, shape: &[usize]) -> Option<Computed> {
    Some(match op {
        BinaryOp::Eq => Computed::Bool(zip2(a, b, shape, |x, y| x == y)?),
        BinaryOp::Ne => Computed::Bool(zip2(a, b, shape, |x, y| x != y)?),
        BinaryOp::Lt => Computed::Bool(zip2(a, b, shape, |x, y| x < y)?),
        BinaryOp::Le => Computed::Bool(zip2(a, b, shape, |x, y| x <= y)?),
        BinaryOp::Gt => Computed::Bool(zip2(a, b, shape, |x, y| x > y)?),
        BinaryOp::Ge => Computed::Bool(zip2(a, b, shape, |x, y| x >= y)?),
        // Integer arithmetic wraps as NumPy's does, rather than trapping.
        _ => Computed::I64(zip2(a, b, shape, |x, y| match op {
            BinaryOp::Add => x.wrapping_add(y),
            BinaryOp::Sub => x.wrapping_sub(y),
            BinaryOp::Mul => x.wrapping_mul(y),
            _ => wrapping_pow(x, y),
        })?),
    })
}

/// `base ** exponent` for a non-negative exponent, wrapping as NumPy's
/// integer power does (square and multiply, whatever the exponent's size).
pub(crate) fn wrapping_pow(base: i64, exponent: i64) -> i64 {
    let (mut base, mut e, mut power) = (base, exponent, 1i64);
    while e > 0 {
        if e & 1 == 1 {
            power = power.wrapping_mul(base);
        }
        base = base.wrapping_mul(base);
        e >>= 1;
    }
    power
}

fn bool_op(op: BinaryOp, a: &Array<bool>, b: &Array<bool>, shape: &[usize]) -> Option<Computed> {
    Some(match op {
        BinaryOp::Eq => Computed::Bool(zip2(a, b, shape, |x, y| x == y)?),
        BinaryOp::Ne => Computed::Bool(zip2(a, b, shape, |x, y| x != y)?),
        BinaryOp::Lt => Computed::Bool(zip2(a, b, shape, |x, y| !x & y)?),
        BinaryOp::Le => Computed::Bool(zip2(a, b, shape, |x, y| x <= y)?),
        BinaryOp::Gt => Computed::Bool(zip2(a, b, shape, |x, y| x & !y)?),
        BinaryOp::Ge => Computed::Bool(zip2(a, b, shape, |x, y| x >= y)?),
        _ => return None,
    })
}

/// Float element types, read as f64 for the arithmetic.
mod num_like {
    use super::{Array, Computed};

    pub trait Float: Copy + Default + Send + Sync + 'static {
        fn to_f64(self) -> f64;
        fn from_f64(v: f64) -> Self;
        fn wrap(a: Array<Self>) -> Computed;
    }
    impl Float for f32 {
        fn to_f64(self) -> f64 {
            f64::from(self)
        }
        fn from_f64(v: f64) -> f32 {
            v as f32
        }
        fn wrap(a: Array<f32>) -> Computed {
            Computed::F32(a)
        }
    }
    impl Float for f64 {
        fn to_f64(self) -> f64 {
            self
        }
        fn from_f64(v: f64) -> f64 {
            v
        }
        fn wrap(a: Array<f64>) -> Computed {
            Computed::F64(a)
        }
    }
}

/// The floating-point work of an operator: one per result element, and a
/// multiply and an add per term of a matmul's contraction.
pub fn flops(op: BinaryOp, lhs: &Tensor, result: &Tensor) -> f64 {
    let n = result.len() as f64;
    match op {
        BinaryOp::MatMul => 2.0 * n * lhs.shape().last().copied().unwrap_or(1) as f64,
        _ => n,
    }
}

/// numpy.matmul, in the wider of the operands' element types.
pub fn matmul(l: &Tensor, r: &Tensor, span: Span) -> Eval<Tensor> {
    crate::ops::linalg::matmul_tensors(l, r, l.dtype().max(r.dtype()), span)
}

pub fn field(v: &Value, name: &str, span: Span) -> Eval<Value> {
    let (base, shape) = v
        .tensor_as()
        .ok_or_else(|| internal(span, "a field of a non-tensor"))?;
    let len = shape.iter().product::<usize>();
    let count = |v: usize| Value::Tensor(Tensor::I64(Array::from_elem(IxDyn(&[]), v as i64)));
    Ok(match (name, v) {
        ("shape", _) => Value::Shape(shape.into()),
        ("ndim", _) => count(shape.len()),
        ("size", _) => count(len),
        ("nbytes", _) => count(len * base.dtype().width() as usize),
        ("T", Value::Broadcast(b)) => Value::Broadcast(b.reversed()),
        ("T", _) => {
            let axes: Vec<usize> = (0..shape.len()).rev().collect();
            Value::Tensor(map_tensor!(base, a => a.clone().permuted_axes(IxDyn(&axes))))
        }
        _ => return Err(internal(span, "a field the checker did not accept")),
    })
}

/// `x[i, a:b:c, None, ...]` as a view (no copy).
pub fn index<'a>(
    ev: &mut Interp<'a>,
    value: Value,
    items: &'a [IndexItem],
    e: &Expr,
) -> Eval<Value> {
    let t = match value {
        Value::Shape(shape) => {
            let [IndexItem {
                kind: IndexItemKind::Expr(i),
                ..
            }] = items
            else {
                return Err(internal(e.span, "a shape index the checker did not accept"));
            };
            let axis = ev
                .resolved_axis(i)
                .ok_or_else(|| internal(i.span, "a shape index the checker did not resolve"))?;
            let size = shape.get(axis).copied().unwrap_or(0);
            return Ok(Value::Tensor(Tensor::I64(Array::from_elem(
                IxDyn(&[]),
                size as i64,
            ))));
        }
        Value::Tensor(t) => t,
        Value::Broadcast(b) => {
            let info = slice_info(ev, &b.shape, items, e.span)?;
            return broadcast_index(&b, &info, e.span);
        }
        _ => return Err(internal(e.span, "indexing a value that is not a tensor")),
    };
    let info = slice_info(ev, t.shape(), items, e.span)?;
    Ok(Value::Tensor(
        map_tensor!(&t, a => a.clone().slice_move(info.clone())),
    ))
}

type Slicing = SliceInfo<Vec<SliceInfoElem>, IxDyn, IxDyn>;

/// Basic indexing of a broadcast view, as a view of its base: on an axis
/// the base broadcasts, its one element is taken or kept.
fn broadcast_index(b: &Broadcast, info: &Slicing, span: Span) -> Eval<Value> {
    let mut axis = 0;
    let mut on_base = Vec::with_capacity(info.as_ref().len());
    for &elem in info.as_ref() {
        if elem == SliceInfoElem::NewAxis {
            on_base.push(elem);
            continue;
        }
        let broadcast = b.base.shape().get(axis) != b.shape.get(axis);
        axis += 1;
        on_base.push(match elem {
            SliceInfoElem::Index(_) if broadcast => SliceInfoElem::Index(0),
            SliceInfoElem::Slice { .. } if broadcast => SliceInfoElem::Slice {
                start: 0,
                end: None,
                step: 1,
            },
            other => other,
        });
    }
    let failed = || internal(span, "an index ndarray refused");
    let on_base = Slicing::try_from(on_base).map_err(|_| failed())?;
    let shape = with_array!(&b.base, a => a
        .broadcast(IxDyn(&b.shape))
        .map(|view| view.slice(info).shape().to_vec()))
    .ok_or_else(failed)?;
    let base = map_tensor!(&b.base, a => a.clone().slice_move(&on_base));
    Ok(Value::broadcast(base, &shape))
}

/// The ndarray slice of basic indexing `items` on an array of `shape`.
pub fn slice_info<'a>(
    ev: &mut Interp<'a>,
    shape: &[usize],
    items: &'a [IndexItem],
    span: Span,
) -> Eval<Slicing> {
    let consuming = items
        .iter()
        .filter(|i| !matches!(i.kind, IndexItemKind::Ellipsis) && !is_none(i))
        .count();
    let mut elems = Vec::with_capacity(items.len());
    let mut axis = 0;
    for item in items {
        match &item.kind {
            IndexItemKind::Ellipsis => {
                let skip = shape.len().saturating_sub(consuming);
                for _ in 0..skip {
                    elems.push(SliceInfoElem::Slice {
                        start: 0,
                        end: None,
                        step: 1,
                    });
                }
                axis += skip;
            }
            _ if is_none(item) => elems.push(SliceInfoElem::NewAxis),
            IndexItemKind::Expr(i) => {
                let n = shape.get(axis).copied().unwrap_or(0) as i64;
                let v = ev.integer(i)?;
                if v < -n || v >= n {
                    return Err(crate::error::Diagnostic::new(
                        crate::error::Code::Index,
                        i.span,
                        format!("index {v} is out of range for an axis of size {n}"),
                    )
                    .label(i.span, format!("index {v}")));
                }
                elems.push(SliceInfoElem::Index(v as isize));
                axis += 1;
            }
            IndexItemKind::Slice { start, stop, step } => {
                let n = shape.get(axis).copied().unwrap_or(0) as i64;
                let get = |ev: &mut Interp<'a>, b: &'a Option<Expr>| -> Eval<Option<i64>> {
                    b.as_ref().map(|b| ev.integer(b)).transpose()
                };
                let (a, z, s) = (get(ev, start)?, get(ev, stop)?, get(ev, step)?);
                elems.push(python_slice(n, a, z, s.unwrap_or(1)));
                axis += 1;
            }
        }
    }
    // Axes the index does not mention are taken whole, as in NumPy.
    for _ in axis..shape.len() {
        elems.push(SliceInfoElem::Slice {
            start: 0,
            end: None,
            step: 1,
        });
    }
    SliceInfo::<Vec<SliceInfoElem>, IxDyn, IxDyn>::try_from(elems)
        .map_err(|_| internal(span, "an index ndarray refused"))
}

/// `x[items] = value`: writes into x's data, copying it first only if
/// another binding shares it.
pub fn assign_region<'a>(
    ev: &mut Interp<'a>,
    target: Tensor,
    items: &'a [IndexItem],
    value: &Tensor,
    span: Span,
) -> Eval<Tensor> {
    let info = slice_info(ev, target.shape(), items, span)?;
    let value = value.cast(target.dtype());
    let failed = || runtime_error(span, "the value does not fit the region");
    Ok(match (target, value) {
        (Tensor::F32(mut a), Tensor::F32(v)) => {
            write_into(&mut a, &info, &v).ok_or_else(failed)?;
            Tensor::F32(a)
        }
        (Tensor::F64(mut a), Tensor::F64(v)) => {
            write_into(&mut a, &info, &v).ok_or_else(failed)?;
            Tensor::F64(a)
        }
        (Tensor::I64(mut a), Tensor::I64(v)) => {
            write_into(&mut a, &info, &v).ok_or_else(failed)?;
            Tensor::I64(a)
        }
        (Tensor::Bool(mut a), Tensor::Bool(v)) => {
            write_into(&mut a, &info, &v).ok_or_else(failed)?;
            Tensor::Bool(a)
        }
        _ => return Err(internal(span, "a cast that changed the element type")),
    })
}

fn write_into<T: Clone>(
    a: &mut Array<T>,
    info: &SliceInfo<Vec<SliceInfoElem>, IxDyn, IxDyn>,
    v: &Array<T>,
) -> Option<()> {
    let mut region = a.slice_mut(info.as_ref());
    let v = v.broadcast(region.raw_dim())?;
    region.assign(&v);
    Some(())
}

/// Python's clamped slice as ndarray's (which does not clamp).
fn python_slice(n: i64, start: Option<i64>, stop: Option<i64>, step: i64) -> SliceInfoElem {
    let norm = |v: i64, lo: i64, hi: i64| (if v < 0 { v + n } else { v }).clamp(lo, hi);
    if step > 0 {
        let a = start.map_or(0, |v| norm(v, 0, n));
        let z = stop.map_or(n, |v| norm(v, 0, n)).max(a);
        SliceInfoElem::Slice {
            start: a as isize,
            end: Some(z as isize),
            step: step as isize,
        }
    } else {
        // ndarray walks a negative step from the end of [start, end).
        let a = start.map_or(n - 1, |v| norm(v, -1, n - 1));
        let z = stop.map_or(-1, |v| norm(v, -1, n - 1));
        let (lo, hi) = if a <= z { (0, 0) } else { (z + 1, a + 1) };
        SliceInfoElem::Slice {
            start: lo as isize,
            end: Some(hi as isize),
            step: step as isize,
        }
    }
}

fn is_none(item: &IndexItem) -> bool {
    matches!(&item.kind, IndexItemKind::Expr(Expr { kind: ExprKind::Name(n), .. }) if n == "None")
}

impl<'a> Interp<'a> {
    /// The type the checker proved for operator `e`, in the element type
    /// this run computes it in.
    pub(super) fn operator_type(&self, e: &Expr) -> Type {
        match self.fact(e) {
            Some(Type::Tensor(t)) => Type::Tensor(crate::check::types::Tensor {
                dtype: self.dtypes.map(t.dtype),
                ..t.clone()
            }),
            _ => Type::Unknown,
        }
    }

    /// An elementwise operator. A broadcast operand is combined as its
    /// base, and the result read as the full shape: each element of it is
    /// computed from the same elements, only once, and only the base's
    /// result is allocated.
    pub(super) fn elementwise(
        &mut self,
        op: BinaryOp,
        (l, r): (&Value, &Value),
        e: &Expr,
    ) -> Eval<Value> {
        let (Some((l, l_shape)), Some((r, r_shape))) = (l.tensor_as(), r.tensor_as()) else {
            return Err(internal(e.span, "an operator on a non-tensor"));
        };
        let failed = || internal(e.span, "broadcasting failed after the checker proved it");
        let full = broadcast_shape(l_shape, r_shape).ok_or_else(failed)?;
        let computed = broadcast_shape(l.shape(), r.shape()).ok_or_else(failed)?;
        let Type::Tensor(out) = self.operator_type(e) else {
            return Err(internal(
                e.span,
                "an operator whose type the checker did not record",
            ));
        };
        self.fits_in_memory(&computed, out.dtype.width(), e.span)?;
        let result = binary(op, l, r, &self.operator_type(e), e.span)?;
        self.add_flops(flops(op, l, &result));
        Ok(Value::broadcast(result, &full))
    }

    /// An integer index or bound: static, or an i64 scalar at run time.
    pub fn integer(&mut self, e: &'a Expr) -> Eval<i64> {
        if let Ok(v) = self.static_size(e) {
            return Ok(v);
        }
        let t = self.tensor(e)?;
        t.item()
            .map(|v| v as i64)
            .ok_or_else(|| internal(e.span, "an index that is not a scalar"))
    }
}

/// `[a, b, c]`: its items stacked along a new first axis, in the element
/// type the checker gave the literal.
pub fn stack_items(items: &[Tensor], dtype: DType, span: Span) -> Eval<Tensor> {
    fn stack<T: Clone>(arrays: Vec<Array<T>>, span: Span) -> Eval<Array<T>> {
        let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
        ndarray::stack(NdAxis(0), &views)
            .map(|a| a.into_shared())
            .map_err(|_| internal(span, "a ragged tensor literal"))
    }
    if items.is_empty() {
        return Ok(Tensor::scalar_f64(dtype, 0.0).reshape_empty());
    }
    let cast: Vec<Tensor> = items.iter().map(|t| t.cast(dtype)).collect();
    macro_rules! collect {
        ($variant:ident) => {{
            let arrays = cast
                .into_iter()
                .map(|t| match t {
                    Tensor::$variant(a) => Ok(a),
                    _ => Err(internal(span, "a literal item of another type")),
                })
                .collect::<Eval<Vec<_>>>()?;
            Tensor::$variant(stack(arrays, span)?)
        }};
    }
    Ok(match dtype {
        DType::F32 => collect!(F32),
        DType::F64 => collect!(F64),
        DType::I64 => collect!(I64),
        DType::Bool => collect!(Bool),
    })
}

#[cfg(test)]
mod tests {
    use super::python_slice;
    use ndarray::SliceInfoElem;

    fn len(n: i64, a: Option<i64>, z: Option<i64>, s: i64) -> usize {
        let v: Vec<i64> = (0..n).collect();
        let arr = ndarray::Array1::from(v);
        let elem = python_slice(n, a, z, s);
        let info =
            ndarray::SliceInfo::<[SliceInfoElem; 1], ndarray::Ix1, ndarray::Ix1>::try_from([elem])
                .unwrap();
        arr.slice(info).len()
    }

    #[test]
    fn slices_clamp_like_python() {
        assert_eq!(len(5, None, Some(12), 1), 5);
        assert_eq!(len(5, Some(-3), Some(-1), 1), 2);
        assert_eq!(len(5, None, None, -1), 5);
        assert_eq!(len(5, Some(3), Some(1), 1), 0);
        assert_eq!(len(5, None, None, 2), 3);
        assert_eq!(len(5, Some(3), None, -2), 2);
    }
}
