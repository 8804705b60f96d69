//! Tensor files on disk: `.npy`, `.npz` and `.safetensors`.

pub mod header;
pub mod tensor;
