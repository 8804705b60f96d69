//! The elementwise, reduction, softmax/layernorm and fused-chain kernels
//! (issue #4), each run through `tsr::eval::run_source` on a 1024 x 1024
//! f32 tensor made with `ones`. `setup` is that program alone: subtract it
//! from the others for the kernel's own time (checking and the `ones`
//! fill are in every row).
//!
//! ```text
//! cargo bench --bench kernels                # all
//! cargo bench --bench kernels -- softmax     # one (divan filter)
//! ```
//!
//! `bench/compare.py` times the same kernels against NumPy (README).

use tsr::eval::{run_source, RunOptions};
use tsr::source::SourceFile;

// As the `tsr` binary (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    divan::main();
}

const SETUP: &str = "let x = ones([1024, 1024], dtype=f32)\n";

fn run(body: &str) {
    let file = SourceFile::new("bench.tsr", format!("{SETUP}{body}\n"));
    let mut out = Vec::new();
    let outcome = run_source(&file, &RunOptions::default(), &mut out);
    assert!(outcome.diagnostics.is_empty(), "{:?}", outcome.diagnostics);
}

#[divan::bench]
fn setup() {
    run("");
}

#[divan::bench(args = ["exp(x) * 2 + 1", "(x - 1) * (x + 1) / 3", "exp(x)", "exp(x.T)", "x * 2.0", "maximum(x, 0.5)"])]
fn elementwise(expr: &str) {
    run(&format!("let y = {expr}"));
}

#[divan::bench(args = ["sum(x, -1)", "sum(x, 0)", "sum(x)", "mean(x, -1)", "max(x, -1)", "min(x, 0)", "var(x, -1)", "logsumexp(x, -1)"])]
fn reduce(expr: &str) {
    run(&format!("let y = {expr}"));
}

#[divan::bench(args = ["softmax(x, -1)", "softmax(reshape(x, [4, 8, 64, 512]), -1)", "softmax(x, 0)", "log_softmax(x, -1)", "layernorm(x, -1)"])]
fn normalise(expr: &str) {
    run(&format!("let y = {expr}"));
}

#[divan::bench]
fn einsum_chain() {
    run("let v = ones([1024], dtype=f32)\nlet y = einsum(\"ab,bc,cd,d->a\", x, x, x, v)");
}

/// 10 000 tiny operations on a [4] tensor: the interpreter's own cost.
#[divan::bench]
fn tiny_ops() {
    run("let t = ones([4], dtype=f32)\nfor i in 0..5000 {\n    t = t * 1.0001 + 0.5\n}");
}
