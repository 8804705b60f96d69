//! Helpers for tests/tensor_io.rs and tests/tensor_save.rs: the fixtures
//! NumPy wrote, and reading without a memory limit.

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use tsr::data::tensor::{read_tensor, TensorData};

pub const NO_LIMIT: u64 = u64::MAX;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tensor_io")
        .join(name)
}

pub fn read(path: &Path, key: Option<&str>) -> TensorData {
    read_tensor(path, key, NO_LIMIT).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

pub fn array<T>(shape: &[usize], values: Vec<T>) -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(shape), values).unwrap()
}
