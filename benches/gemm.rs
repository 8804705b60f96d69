//! Throughput of the matrix product behind `@`, matmul, linear, einsum and
//! the convolutions (`tsr::ops::linalg::matmul_tensors`, faer's GEMM on
//! the rayon pool). Items are floating-point operations (a multiply and an
//! add per term), so divan's items/s is FLOP/s.
//!
//! ```text
//! cargo bench --bench gemm                  # all cases
//! cargo bench --bench gemm -- square        # the 1024³ products only
//! ```
//!
//! On the 2-core development machine NumPy (OpenBLAS) reaches 167–185
//! GFLOP/s in f32 and 78–84 in f64 at 1024³ when the machine is idle. The
//! machine is shared, so compare runs made in the same window: the
//! fastest sample says what the code can do, the median what a busy
//! machine leaves it.

use divan::counter::ItemsCount;
use divan::Bencher;
use ndarray::{ArcArray, IxDyn};
use tsr::check::types::DType;
use tsr::eval::random::Rng;
use tsr::eval::value::Tensor;
use tsr::ops::linalg::matmul_tensors;
use tsr::source::Span;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

fn randn(shape: &[usize], dtype: DType, rng: &mut Rng) -> Tensor {
    let count = shape.iter().product();
    let data: Vec<f64> = (0..count).map(|_| rng.normal()).collect();
    let array = ArcArray::from_shape_vec(IxDyn(shape), data).expect("the shape fits the data");
    Tensor::F64(array).cast(dtype)
}

/// Times `a @ b` for a of `lhs` and b of `rhs` (batch axes in front).
fn product(bencher: Bencher, lhs: &[usize], rhs: &[usize], dtype: DType) {
    let mut rng = Rng::new(1);
    let (a, b) = (randn(lhs, dtype, &mut rng), randn(rhs, dtype, &mut rng));
    let terms: usize = lhs.iter().product::<usize>() * rhs[rhs.len() - 1];
    bencher
        .counter(ItemsCount::new(2 * terms))
        .bench(|| matmul_tensors(&a, &b, dtype, Span::new(0, 0)).expect("the product runs"));
}

#[divan::bench(sample_count = 20)]
fn square_1024_f32(bencher: Bencher) {
    product(bencher, &[1024, 1024], &[1024, 1024], DType::F32);
}

#[divan::bench(sample_count = 20)]
fn square_1024_f64(bencher: Bencher) {
    product(bencher, &[1024, 1024], &[1024, 1024], DType::F64);
}

/// Attention scores: 32 heads × (512 × 64 · 64 × 512).
#[divan::bench(sample_count = 20)]
fn batched_32x512x64x512_f32(bencher: Bencher) {
    product(bencher, &[32, 512, 64], &[32, 64, 512], DType::F32);
}

#[divan::bench(sample_count = 20)]
fn batched_32x512x64x512_f64(bencher: Bencher) {
    product(bencher, &[32, 512, 64], &[32, 64, 512], DType::F64);
}

/// The same scores with the keys transposed in place (`q @ k.T`-style
/// strides): faer reads them without a copy.
#[divan::bench(sample_count = 20)]
fn batched_transposed_rhs_f32(bencher: Bencher) {
    let mut rng = Rng::new(1);
    let q = randn(&[32, 512, 64], DType::F32, &mut rng);
    let k = match randn(&[32, 512, 64], DType::F32, &mut rng) {
        Tensor::F32(k) => Tensor::F32(k.permuted_axes(IxDyn(&[0, 2, 1]))),
        other => other,
    };
    bencher
        .counter(ItemsCount::new(2usize * 32 * 512 * 64 * 512))
        .bench(|| matmul_tensors(&q, &k, DType::F32, Span::new(0, 0)).expect("the product runs"));
}

/// Attention's `softmax(scores) @ v`: 32 heads × (512 × 512 · 512 × 64).
#[divan::bench(sample_count = 20)]
fn batched_32x512x512x64_f32(bencher: Bencher) {
    product(bencher, &[32, 512, 512], &[32, 512, 64], DType::F32);
}

/// One step of the chain `ab,bc,cd,d->a`: a matrix-vector product, memory
/// bound, split by rows over the cores.
#[divan::bench(sample_count = 20)]
fn matrix_vector_2048_f32(bencher: Bencher) {
    product(bencher, &[2048, 2048], &[2048], DType::F32);
}
