//! Fused chains give the unfused result bit for bit: each program runs
//! twice, with fusion on and off, and every binding it ends with must be
//! identical (element type, shape, and every element's bits).

use crate::check::CheckOptions;
use crate::eval::value::{Tensor, Value};
use crate::eval::{Interp, RunOptions};
use crate::source::SourceFile;

/// The tensors a program binds at top level, by name, sorted.
fn run(src: &str, fuse: bool) -> Vec<(String, Tensor)> {
    let file = SourceFile::new("t.tsr", src);
    let parsed = crate::syntax::parse(&file);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    let options = CheckOptions {
        record_facts: true,
        ..CheckOptions::default()
    };
    let checked = crate::check::check_program(&parsed.program, &options);
    assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
    let run_options = RunOptions::default();
    let mut out = Vec::new();
    let mut interp = Interp::new(&checked, &run_options, &mut out);
    interp.fuse = fuse;
    assert!(interp.run(&parsed.program).is_ok(), "{src}");
    let fused_chains = interp.plans.values().filter(|p| p.is_some()).count();
    assert!(
        !fuse || fused_chains >= 13,
        "only {fused_chains} chains fused"
    );
    let mut bound: Vec<(String, Tensor)> = interp.scopes[0]
        .iter()
        .filter_map(|(name, v)| match v {
            Value::Tensor(t) => Some((name.to_string(), t.clone())),
            _ => None,
        })
        .collect();
    bound.sort_by(|a, b| a.0.cmp(&b.0));
    bound
}

fn bits(t: &Tensor) -> Vec<u64> {
    match t {
        Tensor::F32(a) => a.iter().map(|v| u64::from(v.to_bits())).collect(),
        Tensor::F64(a) => a.iter().map(|v| v.to_bits()).collect(),
        Tensor::I64(a) => a.iter().map(|&v| v as u64).collect(),
        Tensor::Bool(a) => a.iter().map(|&v| u64::from(v)).collect(),
    }
}

fn same_fused_and_unfused(src: &str) {
    let (fused, plain) = (run(src, true), run(src, false));
    assert_eq!(fused.len(), plain.len());
    for ((name, f), (_, p)) in fused.iter().zip(&plain) {
        assert_eq!(f.dtype(), p.dtype(), "{name} in {src}");
        assert_eq!(f.shape(), p.shape(), "{name} in {src}");
        assert!(
            bits(f) == bits(p),
            "`{name}` differs fused and unfused in\n{src}"
        );
    }
}

/// Inputs in both element types, with nan, ±inf and ±0 among them, for
/// shapes below and above the parallel threshold.
fn setup(rows: usize, cols: usize) -> String {
    let n = rows * cols;
    format!(
        "let x = reshape(f64(arange({n})) / {n}.0 * 14.0 - 7.0, [{rows}, {cols}])
let y = reshape(f64(arange({n})) * 0.37 - 2.5, [{rows}, {cols}])
let x32 = f32(x)
let y32 = f32(y)
let specials = f64([nan, inf, -inf, 0.0, -0.0, 1.0e300])
let col = reshape(f64(arange({rows})) * 0.25, [{rows}, 1])
let row = f32(f64(arange({cols})) - 3.5)
let xi = reshape(arange({n}), [{rows}, {cols}])
"
    )
}

const CHAINS: &str = "
let a = exp(x32) * 2 + 1
let b = exp(x) * 2 + 1
let c = (x - col) / sqrt(y * y + 1e-5)
let d = (x32 - row) * (y32 + 0.1) / 3
let e = maximum(-x32, 0.5) ** 2 + minimum(y32, 1.0) - pow(abs(x32), 0.5)
let f = sigmoid(x32) * tanh(y32) + gelu(x32) - relu(y32) * sign(x32) + floor(y32)
let g = log(abs(y) + 1) + sin(x) * cos(y)
let h = xi * 0.5 + 1.0
let i = exp(x.T) * 0.5 - y.T
let j = specials * 2 + specials / 0.0 - exp(specials)
let k = exp(f32(specials)) * 3 + 1
let l = x32 * 1e30 * 1e30 + y
let m = -(x32 * 2) + -(y * 3)
let n = (x32 + 16777217) * 2 - 0.1 + -(x32 * 3)
";

#[test]
fn chains_below_the_parallel_threshold_match() {
    same_fused_and_unfused(&(setup(3, 5) + CHAINS));
}

#[test]
fn chains_above_the_parallel_threshold_match() {
    same_fused_and_unfused(&(setup(230, 310) + CHAINS));
}

#[test]
fn empty_chains_match() {
    same_fused_and_unfused(&(setup(0, 4) + CHAINS));
}
