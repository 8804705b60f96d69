//! How values print: scalars as Python's `repr`, tensors as NumPy's
//! `array2string` (LANGUAGE.md sections 6 and 10.11).
//!
//! Float tensors print exactly as
//! `np.array2string(x, precision=4, floatmode='fixed', sign=' ',
//! separator=', ', threshold=1000, edgeitems=3)`, integer and bool tensors as
//! `np.array2string(x, separator=', ', threshold=1000, edgeitems=3)`: rows
//! wrap at 75 columns and a tensor of more than 1000 elements shows only
//! three items at each end of every axis longer than six, with `...` between.
//! Only those edge items are read, so summarising a huge broadcast view
//! costs no more than printing a small tensor.
//!
//! Bools are spelled `true`/`false`. NumPy pads `True` to ` True` so that
//! both words are five wide (except in a 0-d array); tsr does the same with
//! ` true` and `false`, so columns line up, rows wrap at the same places as
//! NumPy's, and, as in NumPy, the width never depends on which values occur.

mod float;
mod layout;

use ndarray::ArrayViewD;

pub use float::{scalar_f32, scalar_f64};

/// Python's `repr` of an integer.
pub fn scalar_i64(value: i64) -> String {
    value.to_string()
}

/// tsr spells bools in lowercase everywhere.
pub fn scalar_bool(value: bool) -> String {
    let word = if value { "true" } else { "false" };
    word.to_owned()
}

/// An f32 tensor, with NumPy's float32 rules for choosing exponent notation.
pub fn array_f32(array: &ArrayViewD<f32>) -> String {
    layout::render(array, |values, _| float::array_words(values))
}

/// An f64 tensor.
pub fn array_f64(array: &ArrayViewD<f64>) -> String {
    layout::render(array, |values, _| float::array_words(values))
}

/// An i64 tensor: every item right-aligned to the widest shown, which is
/// the smallest or the largest.
pub fn array_i64(array: &ArrayViewD<i64>) -> String {
    layout::render(array, |values, _| {
        let extremes = [values.iter().min(), values.iter().max()];
        let width = extremes
            .into_iter()
            .flatten()
            .map(|v| v.to_string().len())
            .max()
            .unwrap_or(0);
        values.iter().map(|v| format!("{v:>width$}")).collect()
    })
}

/// A bool tensor: ` true` and `false`, or unpadded in a 0-d tensor.
pub fn array_bool(array: &ArrayViewD<bool>) -> String {
    layout::render(array, |values, zero_dimensional| {
        let true_word = if zero_dimensional { "true" } else { " true" };
        values
            .iter()
            .map(|&v| if v { true_word } else { "false" }.to_owned())
            .collect()
    })
}

/// A 0-d tensor as `print` shows a scalar.
pub fn scalar(t: &super::value::Tensor) -> String {
    use super::value::Tensor;
    match t {
        Tensor::F32(a) => a.iter().next().map_or_else(String::new, |v| scalar_f32(*v)),
        Tensor::F64(a) => a.iter().next().map_or_else(String::new, |v| scalar_f64(*v)),
        Tensor::I64(a) => a.iter().next().map_or_else(String::new, |v| scalar_i64(*v)),
        Tensor::Bool(a) => a
            .iter()
            .next()
            .map_or_else(String::new, |v| scalar_bool(*v)),
    }
}

/// A tensor's values as `print` shows them (section 9).
pub fn tensor(t: &super::value::Tensor) -> String {
    use super::value::Tensor;
    match t {
        Tensor::F32(a) => array_f32(&a.view()),
        Tensor::F64(a) => array_f64(&a.view()),
        Tensor::I64(a) => array_i64(&a.view()),
        Tensor::Bool(a) => array_bool(&a.view()),
    }
}
