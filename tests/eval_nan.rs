//! NaN-producing math. NaN and the infinities flow through arithmetic as
//! in NumPy (the spec's own `assert(all(y == y), "no NaN")` relies on
//! that); where one meets an operation that cannot take it (a cast to
//! i64, a factorisation, an assertion) it is a `tsr::runtime` diagnostic
//! on that call. Nothing panics, whatever the values.

use proptest::prelude::*;
use tsr::error::{Code, Severity};
use tsr::eval::{run_source, RunOptions};
use tsr::source::SourceFile;

fn run(src: &str) -> Result<String, (Code, String)> {
    let mut out = Vec::new();
    let outcome = run_source(
        &SourceFile::new("t.tsr", src),
        &RunOptions::default(),
        &mut out,
    );
    match outcome
        .diagnostics
        .into_iter()
        .find(|d| d.severity() == Severity::Error)
    {
        Some(d) => Err((d.code, d.message)),
        None => Ok(String::from_utf8_lossy(&out).into_owned()),
    }
}

#[test]
fn nan_and_infinities_flow_as_in_numpy() {
    assert_eq!(
        run("print(log(-1.0), sqrt(-4.0), 0.0 / 0.0, 1.0 / 0.0, log(0.0))"),
        Ok("nan nan nan inf -inf\n".into())
    );
    assert_eq!(
        run("print(softmax([nan, 1.0], 0))"),
        Ok("[2] f32\n[ nan,  nan]\n".into())
    );
    assert_eq!(
        run("print(max([1.0, nan, 2.0]), argmax([1.0, nan, 2.0], 0), isnan(log(-1.0)))"),
        Ok("nan 1 true\n".into()),
        "NumPy: max propagates NaN and argmax points at it"
    );
}

#[test]
fn a_nan_cast_to_i64_names_the_element() {
    let (code, message) =
        run("let x = log([[1.0, 2.0], [-1.0, 3.0]])\nprint(i64(x))").expect_err("NaN has no i64");
    assert_eq!(code, Code::Runtime);
    assert_eq!(message, "`i64`: element [1, 0] is NaN, which no i64 holds");
    for src in ["print(i64(1.0 / 0.0))", "print(i64(f64(2) ** 63))"] {
        assert!(matches!(run(src), Err((Code::Runtime, _))), "{src}");
    }
    assert_eq!(
        run("print(i64([-2.7, 2.7]), i64(-f64(2) ** 63))"),
        Ok("[2] i64\n[-2,  2] -9223372036854775808\n".into()),
        "truncation toward zero, and the smallest i64 itself"
    );
}

#[test]
fn factorisations_and_assertions_refuse_nan() {
    let nan_matrix = "let a = [[1.0, 2.0], [3.0, log(-1.0)]]\n";
    for call in [
        "inv(a)",
        "det(a)",
        "svd(a)",
        "eigh(a)",
        "qr(a)",
        "solve(a, [1.0, 2.0])",
    ] {
        let result = run(&format!("{nan_matrix}print({call})"));
        match result {
            Err((Code::Runtime, message)) => assert!(message.contains("NaN"), "{call}: {message}"),
            other => panic!("{call}: expected tsr::runtime, got {other:?}"),
        }
    }
    let (code, message) =
        run("let y = log([1.0, -1.0])\nassert(all(y == y), \"no NaN\")").expect_err("a NaN");
    assert_eq!(
        (code, message.as_str()),
        (Code::Runtime, "assertion failed: no NaN")
    );
}

/// Values that produce NaN, infinities and overflow in most operations.
const VALUES: &str = "[[0.0, -1.0, 1e30], [nan, inf, -inf], [1e-30, -0.0, 3.0]]";

/// One-argument operations on a [3, 3] f32 tensor that keep it [3, 3].
const SAME_SHAPE: &[&str] = &[
    "log(#)",
    "sqrt(#)",
    "exp(#)",
    "tanh(#)",
    "sigmoid(#)",
    "gelu(#)",
    "(# / #)",
    "(# * 1e30)",
    "pow(#, -#)",
    "(# ** 0.5)",
    "softmax(#, -1)",
    "log_softmax(#, 0)",
    "layernorm(#, -1)",
    "batchnorm(#, 0)",
    "(# @ #)",
    "inv(#)",
    "f32(i64(#))",
    "where(isnan(#), 0.0, #)",
    "maximum(#, 0.0)",
    "conv2d(#[None, None], ones([1, 1, 3, 3]), padding=1)[0, 0]",
    "(# - max(#, -1, keepdims=true))",
    "(# / sum(#, 0, keepdims=true))",
    "(var(#, -1, keepdims=true) + #)",
    "(logsumexp(#, 0, keepdims=true) + #)",
];

/// Operations that end a chain.
const FINAL: &[&str] = &[
    "#",
    "sum(#)",
    "mean(#, 0)",
    "norm(#)",
    "argmax(#, -1)",
    "det(#)",
    "svd(#)",
    "eigh(#)",
    "qr(#)",
    "i64(#)",
    "max_pool2d(#[None, None], 2)",
];

fn chain() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(0..SAME_SHAPE.len(), 0..4),
        0..FINAL.len(),
    )
        .prop_map(|(steps, last)| {
            let mut expr = "x".to_string();
            for step in steps {
                expr = SAME_SHAPE[step].replace('#', &expr);
            }
            FINAL[last].replace('#', &expr)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Chains of operations over NaN, infinities, zeros and huge values
    /// either run or stop with `tsr::runtime`: never a panic.
    #[test]
    fn nan_producing_chains_never_panic(expr in chain()) {
        let src = format!("let x = {VALUES}\nprint({expr})");
        let outcome = std::panic::catch_unwind(|| run(&src));
        prop_assert!(outcome.is_ok(), "panicked on {}", src);
        if let Ok(Err((code, message))) = outcome {
            prop_assert_eq!(code, Code::Runtime, "{}: {}", src, message);
        }
    }
}
