//! Reading a builtin's arguments at run time, for kernels: tensors, the
//! axes and sizes the checker resolved, flags, and the result's proved type.

use ndarray::IxDyn;

use super::interp::{internal, Eval, Interp};
use super::value::{Array, Tensor, Value};
use crate::check::types::{DType, Item, Type};
use crate::ops::Bound;
use crate::syntax::ast::{Expr, ExprKind};

impl<'a> Interp<'a> {
    pub fn arg_tensor(&mut self, b: &Bound<'a>, i: usize) -> Eval<Tensor> {
        let e = b
            .get(i)
            .ok_or_else(|| internal(b.span, "a missing argument"))?;
        self.tensor(e)
    }

    pub fn arg_value(&mut self, b: &Bound<'a>, i: usize) -> Eval<Value> {
        let e = b
            .get(i)
            .ok_or_else(|| internal(b.span, "a missing argument"))?;
        self.expr(e)
    }

    /// The result's shape, as the checker proved it.
    pub fn out_shape(&self, b: &Bound) -> Eval<Vec<usize>> {
        let ty = self
            .fact_of_call(b)
            .ok_or_else(|| internal(b.span, "a call whose type the checker did not record"))?;
        self.sizes
            .shape(ty)
            .ok_or_else(|| self.unknown_shape(ty, b.span))
    }

    pub fn out_dtype(&self, b: &Bound) -> DType {
        match self.fact_of_call(b) {
            Some(Type::Tensor(t)) => self.dtypes.map(t.dtype),
            _ => DType::F32,
        }
    }

    /// The dims and generics an einops call's pattern labels name.
    pub fn pattern_dims(
        &self,
        b: &Bound,
    ) -> &'a [(crate::check::types::Name, crate::check::size::Size)] {
        self.facts_pattern_dims()
            .get(&b.id)
            .map_or(&[], Vec::as_slice)
    }

    /// The type the checker proved for a builtin call.
    pub fn fact_of_call(&self, b: &Bound) -> Option<&'a Type> {
        self.facts_types().get(&b.id)
    }

    /// The position in its tensor's checked type that axis argument `i`
    /// resolved to; kernels want `data_axis`, which maps it past runs.
    fn arg_axis(&self, b: &Bound, i: usize) -> Eval<usize> {
        let e = b.get(i).ok_or_else(|| internal(b.span, "a missing axis"))?;
        self.resolved_axis(e)
            .ok_or_else(|| internal(e.span, "an axis the checker did not resolve"))
    }

    /// The data axes of tensor argument 0 that a reduction's axis argument
    /// names: one, a list, or every axis when absent.
    pub fn arg_axes(&self, b: &Bound, i: usize, rank: usize) -> Eval<Vec<usize>> {
        let Some(e) = b.get(i) else {
            return Ok((0..rank).collect());
        };
        let exprs: Vec<&Expr> = match &e.kind {
            ExprKind::List(items) => items.iter().collect(),
            _ => vec![e],
        };
        exprs
            .into_iter()
            .map(|e| {
                let position = self
                    .resolved_axis(e)
                    .ok_or_else(|| internal(e.span, "an axis the checker did not resolve"))?;
                self.data_axis_at(b, 0, position, rank)
            })
            .collect()
    }

    /// Where position `at` of tensor argument `x`'s checked type falls in
    /// its data of `rank` axes: a variadic run (`*b`) is one item of the
    /// type but any number of axes of the data, so positions after it move.
    pub fn data_position(&self, x: &Expr, at: usize, rank: usize) -> Option<usize> {
        let Some(Type::Tensor(t)) = self.fact(x) else {
            return Some(at);
        };
        if t.shape.iter().take(at).any(|i| matches!(i, Item::Run(_))) {
            (at + rank).checked_sub(t.shape.len())
        } else {
            Some(at)
        }
    }

    /// The data axis that axis argument `i` names in tensor argument `x`.
    pub fn data_axis(&self, b: &Bound, i: usize, x: usize, rank: usize) -> Eval<usize> {
        let position = self.arg_axis(b, i)?;
        self.data_axis_at(b, x, position, rank)
    }

    /// The data axis of a position (from the checker) in tensor argument `x`.
    pub fn data_axis_at(&self, b: &Bound, x: usize, position: usize, rank: usize) -> Eval<usize> {
        b.get(x)
            .and_then(|x| self.data_position(x, position, rank))
            .filter(|&axis| axis < rank)
            .ok_or_else(|| internal(b.span, "an axis out of range after checking"))
    }

    pub fn arg_int(&self, b: &Bound, i: usize, default: i64) -> Eval<i64> {
        match b.get(i) {
            Some(e) => self.static_size(e),
            None => Ok(default),
        }
    }

    /// A scalar argument (`eps=1e-5`, `full`'s value) as f64.
    pub fn arg_number(&mut self, b: &Bound<'a>, i: usize, default: f64) -> Eval<f64> {
        match b.get(i) {
            Some(e) => self
                .tensor(e)?
                .item()
                .ok_or_else(|| internal(e.span, "a scalar argument that is not a scalar")),
            None => Ok(default),
        }
    }
}

/// A tensor of `shape` filled with `v`, in `dtype`.
pub fn filled(shape: &[usize], dtype: DType, v: f64) -> Tensor {
    Tensor::F64(Array::from_elem(IxDyn(shape), v)).cast(dtype)
}
