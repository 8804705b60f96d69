//! The interpreter's core: bindings and value semantics, control flow,
//! fns, indexing and printing. Builtin kernels have their own test files.

use tsr::error::Code;
use tsr::eval::{run_source, RunOptions};
use tsr::source::SourceFile;

/// Runs a program; its printed output, or the code of the error it stopped with.
fn run(src: &str) -> Result<String, Code> {
    run_with(src, &RunOptions::default())
}

fn run_with(src: &str, options: &RunOptions) -> Result<String, Code> {
    let mut out = Vec::new();
    let outcome = run_source(&SourceFile::new("t.tsr", src), options, &mut out);
    match outcome
        .diagnostics
        .iter()
        .find(|d| d.severity() == tsr::error::Severity::Error)
    {
        Some(d) => Err(d.code),
        None => Ok(String::from_utf8(out).expect("output is UTF-8")),
    }
}

#[test]
fn arithmetic_follows_the_checked_element_types() {
    assert_eq!(
        run("print(6 * 7, 7 / 2, 2 ** 10, -3 - 4)"),
        Ok("42 3.5 1024 -7\n".into())
    );
    assert_eq!(
        run("print(1 < 2, 2.5 == 2.5, [1, 2] == [1, 3])"),
        Ok("true true [2] bool\n[ true, false]\n".into())
    );
    assert_eq!(
        run("let x = [1, 2, 3]\nprint(x * 0.5)"),
        Ok("[3] f32\n[ 0.5000,  1.0000,  1.5000]\n".into())
    );
}

#[test]
fn broadcasting_stretches_size_one_axes() {
    let out = run("let a = [[1.0], [2.0]]\nlet b = [10.0, 20.0, 30.0]\nprint(a + b)");
    assert_eq!(
        out,
        Ok(
            "[2, 3] f32\n[[ 11.0000,  21.0000,  31.0000],\n [ 12.0000,  22.0000,  32.0000]]\n"
                .into()
        )
    );
}

#[test]
fn matmul_handles_vectors_and_batches() {
    let src = "let m = [[1.0, 2.0], [3.0, 4.0]]\nlet v = [1.0, 1.0]\nprint(m @ v, v @ m, v @ v)\nlet b = [m, m]\nprint((b @ m)[1, 1, 0])";
    assert_eq!(
        run(src),
        Ok("[2] f32\n[ 3.0000,  7.0000] [2] f32\n[ 4.0000,  6.0000] 2.0\n15.0\n".into())
    );
}

#[test]
fn indexed_assignment_never_changes_another_binding() {
    let src = "let a = [[0.0, 0.0], [0.0, 0.0]]\nlet b = a\na[0, 1] = 5.0\na[1] = 7.0\nprint(a[0, 1], a[1, 0], b[0, 1], b[1, 0])";
    assert_eq!(run(src), Ok("5.0 7.0 0.0 0.0\n".into()));
}

#[test]
fn slices_and_new_axes_are_numpy_basic_indexing() {
    let src = "let x = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]\nprint(x[-1, ::-2], x[1:, None, 2].shape, x[..., 1], x[0:99, 3])";
    assert_eq!(
        run(src),
        Ok("[2] i64\n[11,  9] [2, 1] [3] i64\n[1, 5, 9] [3] i64\n[ 3,  7, 11]\n".into())
    );
}

#[test]
fn loops_and_branches_update_outer_bindings() {
    let src = "let acc = 0\nfor i in 0..5 { if i > 2 { acc = acc + i } else { acc = acc - 1 } }\nprint(acc)";
    assert_eq!(run(src), Ok("4\n".into()));
}

#[test]
fn fns_bind_generics_and_runs_per_call() {
    let src = "fn pick(x: [*b, N]) -> [*b] {\n    x[..., N - 1]\n}\nlet a = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]\nprint(pick(a), pick([7.0, 8.0]))";
    assert_eq!(run(src), Ok("[2] f32\n[ 3.0000,  6.0000] 8.0\n".into()));
}

#[test]
fn return_leaves_a_fn_early() {
    let src = "fn f(x: []) -> [] {\n    if x > 0.0 { return x * 2.0 }\n    x\n}\nprint(f([3.0][0]), f([-1.0][0]))";
    assert_eq!(run(src), Ok("6.0 -1.0\n".into()));
}

#[test]
fn dims_are_scalars_and_can_be_set_from_the_command_line() {
    let options = RunOptions {
        dims: vec![("N".into(), 5)],
        ..RunOptions::default()
    };
    assert_eq!(
        run_with("dim N, D = 3\nprint(N * D)", &options),
        Ok("15\n".into())
    );
    assert_eq!(run("dim N\nprint(N)"), Err(Code::Dim));
}

#[test]
fn a_failed_assert_is_a_runtime_error() {
    assert_eq!(run("assert(1 > 2, \"nope\")"), Err(Code::Runtime));
    assert_eq!(run("assert(2 > 1)\nprint(\"ok\")"), Ok("ok\n".into()));
}

#[test]
fn inputs_need_data_or_random_inputs() {
    let src = "dim B = 2\ninput x: [B]\nprint(x.shape)";
    assert_eq!(run(src), Err(Code::Io));
    let random = RunOptions {
        random_inputs: true,
        seed: 9,
        ..RunOptions::default()
    };
    assert_eq!(run_with(src, &random), Ok("[B=2]\n".into()));
    let twice = run_with("dim B = 4\ninput x: [B]\nprint(x)", &random);
    assert_eq!(
        twice,
        run_with("dim B = 4\ninput x: [B]\nprint(x)", &random)
    );
}

#[test]
fn shapes_print_with_their_names() {
    let src = "dim B = 2, T = 3\nlet x = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]\nlet y: [B, T] = x\nprint(y.shape, y.T.shape)";
    assert_eq!(run(src), Ok("[B=2, T=3] [T=3, B=2]\n".into()));
}

/// Writes `.npy` files of f32 zeros with the given shapes into a fresh
/// directory, returning it.
fn npy_files(tag: &str, shapes: &[(&str, &[usize])]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tsr-eval-core-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    for (name, shape) in shapes {
        let data = ndarray::ArrayD::<f32>::zeros(ndarray::IxDyn(shape));
        tsr::data::tensor::write_npy(
            &dir.join(name),
            tsr::data::tensor::TensorView::F32(data.view()),
        )
        .expect("write a fixture");
    }
    dir
}

fn input(name: &str, dir: &std::path::Path, file: &str) -> tsr::eval::InputFile {
    tsr::eval::InputFile {
        name: name.into(),
        path: dir.join(file),
        key: None,
    }
}

#[test]
fn symbolic_dims_are_bound_by_the_first_input_that_fixes_them() {
    let dir = npy_files(
        "bind",
        &[("a.npy", &[3, 2]), ("b.npy", &[3]), ("c.npy", &[4])],
    );
    let src = "dim N, D = 2\ninput a: [N, D]\ninput b: [N]\nprint(N, a.shape, sum(b))";
    let options = RunOptions {
        inputs: vec![input("a", &dir, "a.npy"), input("b", &dir, "b.npy")],
        ..RunOptions::default()
    };
    assert_eq!(run_with(src, &options), Ok("3 [N=3, D=2] 0.0\n".into()));

    let conflicting = RunOptions {
        inputs: vec![input("a", &dir, "a.npy"), input("b", &dir, "c.npy")],
        ..RunOptions::default()
    };
    let mut out = Vec::new();
    let outcome = run_source(&SourceFile::new("t.tsr", src), &conflicting, &mut out);
    let error = outcome.diagnostics.last().expect("a conflict is reported");
    assert_eq!(error.code, Code::Io);
    assert!(
        error.message.contains("N = 4") && error.message.contains("N = 3"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("input `a`"),
        "names the first source: {}",
        error.message
    );

    let wrong_shape = RunOptions {
        inputs: vec![input("a", &dir, "b.npy"), input("b", &dir, "b.npy")],
        ..RunOptions::default()
    };
    assert_eq!(run_with(src, &wrong_shape), Err(Code::Io));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn the_profile_counts_kernel_flops() {
    let src = "let a = ones([4, 5])\nlet m = matmul(a, ones([5, 3]))\nlet y = conv2d(ones([2, 3, 6, 6]), ones([4, 3, 3, 3]))\nlet z = linear(a, ones([5, 2]))\nlet e = einsum(\"bij,bjk->bik\", ones([2, 4, 5]), ones([2, 5, 3]))";
    let file = SourceFile::new("t.tsr", src);
    let options = RunOptions {
        profile: true,
        ..RunOptions::default()
    };
    let outcome = run_source(&file, &options, &mut Vec::new());
    assert!(outcome.diagnostics.is_empty(), "{:?}", outcome.diagnostics);
    let flops = |line: usize| {
        outcome
            .profile
            .lines(&file)
            .into_iter()
            .find(|(l, _)| *l == line)
            .map(|(_, c)| c.flops)
    };
    assert_eq!(flops(2), Some(2.0 * 4.0 * 3.0 * 5.0), "matmul: 2·M·N·K");
    assert_eq!(
        flops(3),
        Some(2.0 * (2 * 4 * 4 * 4) as f64 * 27.0),
        "conv2d: 2·outputs·C·KH·KW"
    );
    assert_eq!(flops(4), Some(2.0 * 4.0 * 2.0 * 5.0), "linear without bias");
    assert_eq!(
        flops(5),
        Some(2.0 * 2.0 * 4.0 * 3.0 * 5.0),
        "einsum: 2·batch·M·N·K"
    );
}

/// Reductions, normalisations and factorisations are charged from the
/// proved shape of their input, also inside a fn where it is generic.
#[test]
fn the_profile_charges_reductions_and_factorisations() {
    let src = "fn total(x: [N, M]) -> [M] {\n    sum(x, 0)\n}\nlet a = ones([6, 4])\nlet s = total(a)\nlet p = softmax(a, -1)\nlet i = inv(eye(5) * 2.0)\nlet (u, v, w) = svd(a)\nlet r = reshape(a, [4, 6])";
    let file = SourceFile::new("t.tsr", src);
    let options = RunOptions {
        profile: true,
        ..RunOptions::default()
    };
    let outcome = run_source(&file, &options, &mut Vec::new());
    assert!(outcome.diagnostics.is_empty(), "{:?}", outcome.diagnostics);
    let flops = |line: usize| {
        outcome
            .profile
            .lines(&file)
            .into_iter()
            .find(|(l, _)| *l == line)
            .map(|(_, c)| c.flops)
    };
    assert_eq!(flops(2), Some(24.0), "sum reads each of the 6·4 elements");
    assert_eq!(
        flops(5),
        Some(0.0),
        "the call's line is charged only its own work"
    );
    assert_eq!(flops(6), Some(5.0 * 24.0), "softmax: five passes");
    assert_eq!(
        flops(7),
        Some(2.0 * 125.0 + 25.0),
        "inv: 2n³, and the scaling"
    );
    assert_eq!(flops(8), Some(6.0 * 6.0 * 16.0 + 11.0 * 64.0), "thin SVD");
    assert_eq!(flops(9), Some(0.0), "moving data is free");
}

/// A gradient's line is charged its reverse pass, estimated at twice the
/// forward's FLOPs; the forward is charged to the fn's own lines.
#[test]
fn the_profile_charges_the_reverse_pass_twice_the_forward() {
    let src = "fn f(w: [N]) -> [] {\n    sum(w * w)\n}\nlet g = grad(f, ones([8]))";
    let file = SourceFile::new("t.tsr", src);
    let options = RunOptions {
        profile: true,
        ..RunOptions::default()
    };
    let outcome = run_source(&file, &options, &mut Vec::new());
    assert!(outcome.diagnostics.is_empty(), "{:?}", outcome.diagnostics);
    let lines = outcome.profile.lines(&file);
    let flops = |line: usize| lines.iter().find(|(l, _)| *l == line).map(|(_, c)| c.flops);
    assert_eq!(flops(2), Some(16.0), "w * w and its sum");
    assert_eq!(flops(4), Some(32.0), "the reverse pass");
}

#[test]
fn integer_literals_stay_exact_beyond_f64_precision() {
    let src = "print(9007199254740993, 9007199254740993 + 1, [9007199254740993][0])";
    assert_eq!(
        run(src),
        Ok("9007199254740993 9007199254740994 9007199254740993\n".into())
    );
}

#[test]
fn integer_powers_match_pow_and_refuse_negative_exponents() {
    assert_eq!(
        run("print(3 ** 5, 3 ** 4294967297 == pow(3, 4294967297))"),
        Ok("243 true\n".into())
    );
    assert_eq!(run("print(2 ** -1)"), Err(Code::Runtime));
}
