//! Autodiff: every gradient rule against central finite differences
//! (`gradcheck`, which computes the fn in f64), on random inputs of several
//! shapes, broadcast operands and non-contiguous views; and the failure
//! paths. NumPy-computed gradients of the seed examples are in
//! tests/eval_grad_numpy.rs.

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
        .iter()
        .find(|d| d.severity() == Severity::Error)
    {
        Some(d) => Err((d.code, d.message.clone())),
        None => Ok(String::from_utf8(out).expect("output is UTF-8")),
    }
}

/// `body` is a fn `f` of the arguments declared in `params` (name, shape),
/// filled with seeded f64 randn; gradcheck must accept its gradient.
fn passes(params: &[(&str, &str)], body: &str) -> Result<(), String> {
    let mut src = String::from("seed(3)\n");
    for (name, shape) in params {
        src += &format!("let {name}0 = randn({shape}, dtype=f64)\n");
    }
    let signature: Vec<String> = params.iter().map(|(n, s)| format!("{n}: f64{s}")).collect();
    src += &format!("fn f({}) -> [] {{\n{body}\n}}\n", signature.join(", "));
    let args: Vec<String> = params.iter().map(|(n, _)| format!("{n}0")).collect();
    src += &format!("print(gradcheck(f, {}))\n", args.join(", "));
    match run(&src) {
        Ok(out) if out == "true\n" => Ok(()),
        Ok(out) => Err(format!("{body}: {out}")),
        Err((code, message)) => Err(format!("{body}: {code:?} {message}")),
    }
}

fn all_pass(cases: &[(&[(&str, &str)], &str)]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(params, body)| passes(params, body).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const X34: &[(&str, &str)] = &[("x", "[3, 4]")];
const XY: &[(&str, &str)] = &[("x", "[3, 4]"), ("y", "[3, 4]")];
const XB: &[(&str, &str)] = &[("x", "[3, 4]"), ("b", "[4]")];
const XC: &[(&str, &str)] = &[("x", "[3, 4]"), ("c", "[3, 1]")];
const X234: &[(&str, &str)] = &[("x", "[2, 3, 4]")];

#[test]
fn operators_and_broadcasting() {
    all_pass(&[
        (XY, "sum(x + y * x - y / (x * x + 1.0))"),
        (XB, "sum((x + b) ** 2) + sum(x * b)"),
        (XC, "sum(x / (c * c + 2.0) - c)"),
        (X34, "sum(-x * 3.0 + 2.0 ** x)"),
        (XY, "sum(abs(x) ** y)"),
        (XB, "sum(x.T * x.T) + sum(b * 0.5)"),
        (&[("s", "[]"), ("x", "[3, 4]")], "sum(x * s + s * s)"),
    ]);
}

#[test]
fn float_functions() {
    all_pass(&[
        (X34, "sum(exp(x) + sin(x) * cos(x) + tanh(x) + sigmoid(x))"),
        (X34, "sum(log(x * x + 1.0) + sqrt(x * x + 0.5))"),
        (X34, "sum(relu(x) * x + gelu(x) + abs(x))"),
        (X34, "sum(sign(x) * x + floor(x) * 0.0)"),
        (
            XY,
            "sum(maximum(x, y) + minimum(x, 0.5 * y) + pow(x * x + 1.0, y))",
        ),
        (XY, "sum(where(x > y, x * y, y - x))"),
        (X34, "sum(f64(f32(x)) * 2.0)"),
    ]);
}

#[test]
fn reductions() {
    all_pass(&[
        (X234, "sum(sum(x, axis=1) ** 2) + mean(x)"),
        (X234, "sum(mean(x, axis=[0, 2], keepdims=true) * 3.0)"),
        (X234, "sum(max(x, axis=-1)) + min(x)"),
        (X234, "sum(prod(x, axis=1))"),
        (
            X234,
            "sum(var(x, axis=2)) + std(x) + sum(std(x, axis=0, ddof=1))",
        ),
        (X234, "norm(x) + sum(logsumexp(x, axis=1))"),
    ]);
}

#[test]
fn normalisations() {
    all_pass(&[
        (X234, "sum(softmax(x, -1) * x)"),
        (X234, "sum(log_softmax(x, 1) * x)"),
        (X234, "sum(layernorm(x, -1) * x)"),
        (X234, "sum(batchnorm(x, 1) * x)"),
    ]);
}

#[test]
fn contractions() {
    all_pass(&[
        (&[("a", "[3, 4]"), ("b", "[4, 5]")], "sum((a @ b) ** 2)"),
        (&[("a", "[2, 3, 4]"), ("b", "[4, 5]")], "sum(sin(a @ b))"),
        (
            &[("a", "[2, 1, 3, 4]"), ("b", "[3, 4, 2]")],
            "sum(sin(matmul(a, b)))",
        ),
        (&[("a", "[4]"), ("b", "[2, 4, 5]")], "sum(sin(a @ b))"),
        (
            &[("a", "[3, 4]"), ("b", "[4]")],
            "sum(sin(a @ b)) + dot(b, b)",
        ),
        (&[("a", "[3]"), ("b", "[4]")], "sum(sin(outer(a, b)))"),
        (&[("a", "[2, 3, 3]")], "sum(trace(a) ** 2)"),
        (
            &[("x", "[2, 3, 4]"), ("w", "[4, 5]"), ("b", "[5]")],
            "sum(sin(linear(x, w, b)))",
        ),
        (&[("a", "[3, 4]"), ("b", "[4, 5]")], "sum(sin(a.T.T @ b))"),
    ]);
}

#[test]
fn einsums() {
    all_pass(&[
        (
            &[("a", "[3, 4]"), ("b", "[4, 5]")],
            r#"sum(sin(einsum("ij,jk->ik", a, b)))"#,
        ),
        (
            &[("q", "[2, 2, 3, 4]"), ("k", "[2, 2, 5, 4]")],
            r#"sum(sin(einsum("bhid,bhjd->bhij", q, k)))"#,
        ),
        (&[("a", "[3, 3]")], r#"sum(sin(einsum("ii->i", a)))"#),
        (
            &[("a", "[3, 4]")],
            r#"sum(sin(einsum("ij->", a)) + einsum("ij->j", a) ** 2)"#,
        ),
        (
            &[("a", "[2, 3, 4]"), ("b", "[4, 2]")],
            r#"sum(sin(einsum("...ij,jk->...ik", a, b)))"#,
        ),
        (
            &[("a", "[1, 3, 4]"), ("b", "[2, 4, 2]")],
            r#"sum(sin(einsum("...ij,...jk->...ik", a, b)))"#,
        ),
        (
            &[("a", "[3]"), ("b", "[3]"), ("c", "[3, 2]")],
            r#"sum(sin(einsum("i,i,ij->j", a, b, c)))"#,
        ),
        (&[("a", "[3, 4]")], r#"sum(sin(einsum("ij,ij->i", a, a)))"#),
        (
            &[("a", "[3, 4]"), ("b", "[5]")],
            r#"sum(sin(einsum("ij,k->ijk", a, b)))"#,
        ),
    ]);
}

#[test]
fn gathers() {
    all_pass(&[
        (X234, "sum(sin(reshape(x, [6, 4])) * reshape(x, [4, 6]).T)"),
        (X234, "sum(sin(permute(x, [2, 0, 1])) * arange(3))"),
        (
            X234,
            "sum(sin(transpose(x, 0, 2))) + sum(moveaxis(x, 0, -1) ** 2)",
        ),
        (
            X234,
            "sum(sin(flatten(x))) + sum(unsqueeze(x, 1) ** 2) + sum(squeeze(x[0:1]) ** 3)",
        ),
        (
            &[("b", "[4]")],
            "sum(sin(broadcast_to(b, [3, 4])) * arange(12).reshape([3, 4]))",
        ),
        (
            X234,
            r#"sum(sin(rearrange(x, "a b c -> c (a b)")) * arange(6))"#,
        ),
        (
            X34,
            r#"sum(sin(repeat(x, "a b -> a b r", r=2)) * arange(2))"#,
        ),
        (
            XY,
            "sum(sin(concat([x, y * 2.0], 0)) * arange(4)) + sum(stack([x, y], 1) ** 3)",
        ),
        (
            X34,
            "let (p, q) = split(x, [1, 3], 1)\nsum(sin(p)) + sum(q ** 2)",
        ),
        (X34, "sum(sin(pad(x, [[1, 0], [2, 1]])) * 2.0)"),
        (
            &[("x", "[2, 3, 8]")],
            "sum(sin(unfold(x, -1, 3, 2)) * arange(3))",
        ),
        (
            &[("x", "[4, 4]"), ("v", "[3]")],
            "sum(sin(diag(x))) + sum(diag(v) ** 2) + sum(triu(x, 1) ** 2 + tril(x) * 3.0)",
        ),
        (
            X234,
            "sum(sin(x[1, 1:3, ::2])) + sum(x[:, ::-1, None, 0] ** 2)",
        ),
        (X34, "let i = argmax(x[0], 0)\nsum(x[1:, i] ** 2)"),
        (XY, "sum(sin([x[0], y[1], x[2]]))"),
    ]);
}

#[test]
fn convolutions_and_pools() {
    all_pass(&[
        (
            &[("x", "[2, 3, 5, 6]"), ("w", "[4, 3, 3, 2]"), ("b", "[4]")],
            "sum(sin(conv2d(x, w, b)))",
        ),
        (
            &[("x", "[1, 4, 6, 5]"), ("w", "[4, 2, 3, 3]")],
            "sum(sin(conv2d(x, w, stride=2, padding=1, dilation=[1, 2], groups=2)))",
        ),
        (
            &[("x", "[2, 2, 7]"), ("w", "[3, 2, 3]"), ("b", "[3]")],
            "sum(sin(conv1d(x, w, b, stride=2, padding=2, dilation=2)))",
        ),
        (
            &[("x", "[1, 4, 3, 4]"), ("w", "[4, 1, 3, 2]"), ("b", "[2]")],
            "sum(sin(conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)))",
        ),
        (
            &[("x", "[2, 2, 3, 3]"), ("w", "[2, 3, 2, 2]")],
            "sum(sin(conv_transpose2d(x, w, dilation=2)))",
        ),
        (
            &[("x", "[2, 3, 6, 6]")],
            "sum(sin(max_pool2d(x, 2))) + sum(avg_pool2d(x, 3, stride=2) ** 2)",
        ),
        (
            &[("x", "[3, 5, 7]")],
            "sum(sin(max_pool2d(x, [2, 3], stride=1)))",
        ),
    ]);
}

#[test]
fn linear_algebra() {
    all_pass(&[
        (
            &[("a", "[3, 3]")],
            "sum(sin(inv(a + 4.0 * eye(3, dtype=f64))))",
        ),
        (
            &[("a", "[2, 3, 3]")],
            "sum(det(a + 4.0 * eye(3, dtype=f64)) ** 2)",
        ),
        (
            &[("a", "[3, 3]"), ("b", "[3]")],
            "sum(sin(solve(a + 4.0 * eye(3, dtype=f64), b)))",
        ),
        (
            &[("a", "[2, 3, 3]"), ("b", "[3, 2]")],
            "sum(sin(solve(a + 4.0 * eye(3, dtype=f64), b)))",
        ),
    ]);
}

#[test]
fn statements() {
    all_pass(&[
        (
            X34,
            "let h = x\nfor i in 0..3 { h = tanh(h) * 1.5 + x }\nsum(h)",
        ),
        (
            XY,
            "let z = x * 1.0\nz[1, 1:3] = y[0, 0:2] * y[2, 1:3]\nz[0] = 2.0\nsum(sin(z) * x)",
        ),
        (
            XB,
            "let z = zeros([3, 4], dtype=f64)\nz[:, 1] = b[2]\nsum(sin(z + x))",
        ),
        (
            X34,
            "if sum(x) > 100.0 { return sum(x) }\nlet y = x\nsum(y * y)",
        ),
    ]);
}

#[test]
fn gradients_flow_through_calls_of_other_fns() {
    let src = "fn g(a: [2]) -> [2] { a * a }\nfn f(a: [2]) -> [] { sum(g(a) * g(a + 1.0)) }\nprint(grad(f, [1.0, 2.0]))";
    // d/da a²(a+1)² = 2a(a+1)² + 2a²(a+1)
    assert_eq!(run(src).expect("runs"), "[2] f32\n[ 12.0000,  60.0000]\n");
}

#[test]
fn two_arguments_given_the_same_tensor_get_their_own_gradients() {
    let src = "fn f(a: [2], b: [2]) -> [] { sum(a * b * b) }\nlet w = [1.0, 2.0]\nlet (ga, gb) = grad(f, w, w)\nprint(ga, gb)";
    let out = run(src).expect("runs");
    assert_eq!(
        out,
        "[2] f32\n[ 1.0000,  4.0000] [2] f32\n[ 2.0000,  8.0000]\n"
    );
}

#[test]
fn a_global_read_inside_the_fn_is_a_constant() {
    let src = "let w = [1.0, 2.0]\nfn f(a: [2]) -> [] { sum(a * w) }\nprint(grad(f, w))";
    assert_eq!(run(src).expect("runs"), "[2] f32\n[ 1.0000,  2.0000]\n");
}

#[test]
fn value_and_grad_returns_the_value_first() {
    let src = "fn f(a: [2]) -> [] { sum(a * a) }\nlet (v, g) = value_and_grad(f, [1.0, 3.0])\nprint(v, g)";
    assert_eq!(
        run(src).expect("runs"),
        "10.0 [2] f32\n[ 2.0000,  6.0000]\n"
    );
}

#[test]
fn a_fn_that_ignores_its_argument_has_a_zero_gradient() {
    let src = "fn f(a: [2]) -> [] { sum(ones([3])) }\nprint(grad(f, [1.0, 3.0]))";
    assert_eq!(run(src).expect("runs"), "[2] f32\n[ 0.0000,  0.0000]\n");
}

#[test]
fn max_splits_the_gradient_between_ties() {
    let src = "fn f(a: [3]) -> [] { max(a) }\nprint(grad(f, [2.0, 1.0, 2.0]))";
    assert_eq!(
        run(src).expect("runs"),
        "[3] f32\n[ 0.5000,  0.0000,  0.5000]\n"
    );
}

#[test]
fn gradcheck_says_false_and_why_for_a_wrong_gradient() {
    // floor's gradient is zero, but at a step finite differences jump.
    let src =
        "fn f(a: f64[2]) -> [] { sum(floor(a * 100.0)) }\nprint(gradcheck(f, f64([0.01, 0.5])))";
    let out = run(src).expect("runs");
    assert!(out.starts_with("gradcheck: argument 1 at [0]"), "{out}");
    assert!(out.ends_with("false\n"), "{out}");
}

#[test]
fn gradcheck_tolerances_are_keywords() {
    let src = "fn f(a: f64[2]) -> [] { sum(floor(a * 100.0)) }\nprint(gradcheck(f, f64([0.01, 0.5]), eps=1e-9, atol=1e12))";
    assert_eq!(run(src).expect("runs"), "true\n");
}

#[test]
fn second_derivatives_are_a_grad_error() {
    let src = "fn g(a: [2]) -> [] { sum(a * a * a) }\nfn f(a: [2]) -> [] { sum(grad(g, a)) }\nprint(grad(f, [1.0, 2.0]))";
    let (code, message) = run(src).expect_err("no rule");
    assert_eq!(code, Code::Grad);
    assert!(message.contains("`grad`"), "{message}");
}
