//! Run-time values. Tensors share their data (`ArcArray`): a copy is made
//! only when a shared tensor is written to, so bindings keep value semantics.

use std::rc::Rc;

use ndarray::{ArcArray, IxDyn};

use super::parallel::map;
use crate::check::types::DType;

pub type Array<T> = ArcArray<T, IxDyn>;

#[derive(Clone, Debug)]
pub enum Tensor {
    F32(Array<f32>),
    F64(Array<f64>),
    I64(Array<i64>),
    Bool(Array<bool>),
}

/// Applies `$body` to the array inside a tensor, whatever its element type.
#[macro_export]
macro_rules! with_array {
    ($tensor:expr, $a:ident => $body:expr) => {
        match $tensor {
            $crate::eval::value::Tensor::F32($a) => $body,
            $crate::eval::value::Tensor::F64($a) => $body,
            $crate::eval::value::Tensor::I64($a) => $body,
            $crate::eval::value::Tensor::Bool($a) => $body,
        }
    };
}

/// Maps the array inside a tensor to a new array of the same element type.
#[macro_export]
macro_rules! map_tensor {
    ($tensor:expr, $a:ident => $body:expr) => {
        match $tensor {
            $crate::eval::value::Tensor::F32($a) => $crate::eval::value::Tensor::F32($body),
            $crate::eval::value::Tensor::F64($a) => $crate::eval::value::Tensor::F64($body),
            $crate::eval::value::Tensor::I64($a) => $crate::eval::value::Tensor::I64($body),
            $crate::eval::value::Tensor::Bool($a) => $crate::eval::value::Tensor::Bool($body),
        }
    };
}

impl Tensor {
    pub fn dtype(&self) -> DType {
        match self {
            Tensor::F32(_) => DType::F32,
            Tensor::F64(_) => DType::F64,
            Tensor::I64(_) => DType::I64,
            Tensor::Bool(_) => DType::Bool,
        }
    }

    pub fn shape(&self) -> &[usize] {
        with_array!(self, a => a.shape())
    }

    pub fn len(&self) -> usize {
        with_array!(self, a => a.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A 0-d tensor from a number of this element type's kind.
    pub fn scalar_f64(dtype: DType, v: f64) -> Tensor {
        let shape = IxDyn(&[]);
        match dtype {
            DType::F32 => Tensor::F32(Array::from_elem(shape, v as f32)),
            DType::F64 => Tensor::F64(Array::from_elem(shape, v)),
            DType::I64 => Tensor::I64(Array::from_elem(shape, v as i64)),
            DType::Bool => Tensor::Bool(Array::from_elem(shape, v != 0.0)),
        }
    }

    /// The empty 1-D tensor of this element type (`[]` as a literal).
    pub fn reshape_empty(&self) -> Tensor {
        map_tensor!(self, a => Array::from_shape_vec(IxDyn(&[0]), Vec::new()).unwrap_or_else(|_| a.clone()))
    }

    /// Converts to another element type (NumPy's `astype`): floats to
    /// integers truncate toward zero, anything nonzero is `true`.
    pub fn cast(&self, dtype: DType) -> Tensor {
        if self.dtype() == dtype {
            return self.clone();
        }
        match dtype {
            DType::F32 => Tensor::F32(with_array!(self, a => map(a, |v| to_f64(v) as f32))),
            DType::F64 => Tensor::F64(with_array!(self, a => map(a, to_f64))),
            DType::I64 => Tensor::I64(with_array!(self, a => map(a, |v| to_f64(v) as i64))),
            DType::Bool => Tensor::Bool(with_array!(self, a => map(a, |v| to_f64(v) != 0.0))),
        }
    }

    /// The single element of a tensor with one element, as f64.
    pub fn item(&self) -> Option<f64> {
        with_array!(self, a => (a.len() == 1).then(|| a.iter().next().copied().map(to_f64)).flatten())
    }
}

/// Every element type as f64, for casts and scalar reads.
pub trait Element: Copy + Send + Sync {
    /// Whether float reductions of this type give f32 results, which an
    /// uncompensated f64 sum already gets right (`ops::reduce`).
    const F32_RESULTS: bool;
    fn as_f64(self) -> f64;
}

impl Element for f32 {
    const F32_RESULTS: bool = true;
    fn as_f64(self) -> f64 {
        f64::from(self)
    }
}
impl Element for f64 {
    const F32_RESULTS: bool = false;
    fn as_f64(self) -> f64 {
        self
    }
}
impl Element for i64 {
    // The mean of i64 is f32, but its elements are not exact in f64.
    const F32_RESULTS: bool = false;
    fn as_f64(self) -> f64 {
        self as f64
    }
}
impl Element for bool {
    const F32_RESULTS: bool = false;
    fn as_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
}

fn to_f64<T: Element>(v: T) -> f64 {
    v.as_f64()
}

#[derive(Clone, Debug)]
pub enum Value {
    Tensor(Tensor),
    /// A tensor read through zero strides, as NumPy's `broadcast_to` view:
    /// only let-bindings, operators and fused chains hold one;
    /// `Interp::expr` gives every other consumer the elements in memory.
    Broadcast(Broadcast),
    Tuple(Rc<[Value]>),
    Str(Rc<str>),
    /// `x.shape`
    Shape(Rc<[usize]>),
    /// `{"a": x}`, for `save`.
    Dict(Rc<[(String, Value)]>),
    Nothing,
}

impl Value {
    pub fn tensor(&self) -> Option<&Tensor> {
        match self {
            Value::Tensor(t) => Some(t),
            _ => None,
        }
    }

    /// `base` read as `shape`: a [`Broadcast`] unless that is its own shape.
    pub fn broadcast(base: Tensor, shape: &[usize]) -> Value {
        if base.shape() == shape {
            return Value::Tensor(base);
        }
        let rank = base.shape().len();
        let lead = shape.len().saturating_sub(rank);
        // Leading axes of size one make the base's rank the view's, so
        // that permuting the view permutes the base.
        let mut base = base;
        for _ in 0..lead {
            base = map_tensor!(&base, a => a.clone().insert_axis(ndarray::Axis(0)));
        }
        Value::Broadcast(Broadcast {
            base,
            shape: shape.into(),
        })
    }

    /// The data and the shape it is read as, for a tensor or a broadcast.
    pub fn tensor_as(&self) -> Option<(&Tensor, &[usize])> {
        match self {
            Value::Tensor(t) => Some((t, t.shape())),
            Value::Broadcast(b) => Some((&b.base, &b.shape)),
            _ => None,
        }
    }
}

/// `base` (of the same rank) read as `shape`, every axis of `base` either
/// of that size or of size one.
#[derive(Clone, Debug)]
pub struct Broadcast {
    pub base: Tensor,
    pub shape: Rc<[usize]>,
}

impl Broadcast {
    /// The elements in memory (`None` if the shapes do not broadcast,
    /// which `Value::broadcast`'s callers have proved).
    pub fn materialise(&self) -> Option<Tensor> {
        let shape = IxDyn(&self.shape);
        Some(match &self.base {
            Tensor::F32(a) => Tensor::F32(a.broadcast(shape)?.to_owned().into_shared()),
            Tensor::F64(a) => Tensor::F64(a.broadcast(shape)?.to_owned().into_shared()),
            Tensor::I64(a) => Tensor::I64(a.broadcast(shape)?.to_owned().into_shared()),
            Tensor::Bool(a) => Tensor::Bool(a.broadcast(shape)?.to_owned().into_shared()),
        })
    }

    /// The view transposed (`.T`): still no copy.
    pub fn reversed(&self) -> Broadcast {
        let axes: Vec<usize> = (0..self.shape.len()).rev().collect();
        Broadcast {
            base: map_tensor!(&self.base, a => a.clone().permuted_axes(IxDyn(&axes))),
            shape: self.shape.iter().rev().copied().collect(),
        }
    }
}
