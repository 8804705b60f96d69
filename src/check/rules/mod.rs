//! Shape rules shared by several operations.

pub mod axes;
pub mod broadcast;
pub mod einsum_spec;
pub mod index;
pub mod matmul;
pub mod rearrange_pattern;
pub mod spec_error;
