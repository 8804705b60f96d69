//! The data of tensor files: `load` reads an array of a `.npy`, `.npz` or
//! `.safetensors` file into memory, and `save` writes `.npy` and `.npz`
//! files the way NumPy's `np.save` and `np.savez` do.
//!
//! Reading goes through the header reader, so the data is only touched once
//! the header has been checked against the file; what the data layer adds is
//! the limit on what it allocates, and checks that the data is really there
//! (a `.npz` member may decompress to less, or more, than its size says).

mod error;
mod read;
mod write;

use ndarray::{ArrayD, ArrayViewD};

pub use error::DataError;
pub use read::read_tensor;
pub use write::{write_npy, write_npz};

use super::header::ElemType;

/// An array in memory, in one of tsr's element types.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    I64(ArrayD<i64>),
    Bool(ArrayD<bool>),
}

/// A borrowed array to write. Any layout will do (transposed, sliced with
/// steps, broadcast): it is written in row-major order.
#[derive(Debug, Clone)]
pub enum TensorView<'a> {
    F32(ArrayViewD<'a, f32>),
    F64(ArrayViewD<'a, f64>),
    I64(ArrayViewD<'a, i64>),
    Bool(ArrayViewD<'a, bool>),
}

impl TensorData {
    pub fn elem(&self) -> ElemType {
        match self {
            TensorData::F32(_) => ElemType::F32,
            TensorData::F64(_) => ElemType::F64,
            TensorData::I64(_) => ElemType::I64,
            TensorData::Bool(_) => ElemType::Bool,
        }
    }

    pub fn view(&self) -> TensorView<'_> {
        match self {
            TensorData::F32(array) => TensorView::F32(array.view()),
            TensorData::F64(array) => TensorView::F64(array.view()),
            TensorData::I64(array) => TensorView::I64(array.view()),
            TensorData::Bool(array) => TensorView::Bool(array.view()),
        }
    }
}
