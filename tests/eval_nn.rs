//! Neural-network kernels (linear, convolutions, pooling, causal_mask)
//! against NumPy reference loops: the cases and their values are generated
//! by tests/data/eval/nn_expected.py.

include!("data/eval/harness.rs");
include!("data/eval/nn_expected.rs");

#[test]
fn kernels_match_numpy() {
    check_all(CASES);
}

#[test]
fn i64_convolutions_wrap_on_overflow() {
    let big = i64::MAX;
    let src = format!("print(conv1d([[[{big}, {big}]]], [[[2, 2]]]), linear([[{big}]], [[3]]))");
    assert_eq!(
        run(&src),
        Ok("[1, 1, 1] i64\n[[[-4]]] [1, 1] i64\n[[9223372036854775805]]\n".into())
    );
}

/// A slice bound known only at run time leaves the length to the data.
const SLICED: &str = "let x = [[[1.0, 2.0, 3.0, 4.0, 5.0]]]\nlet w = [[[1.0, 0.0, -1.0]]]\n";

#[test]
fn sizes_only_the_data_tells_are_computed() {
    let src = format!("{SLICED}let n = 4\nprint(conv1d(x[:, :, 0:n], w))");
    assert_eq!(
        run(&src),
        Ok("[1, 1, 2] f32\n[[[-2.0000, -2.0000]]]\n".into())
    );
    let src = format!("{SLICED}let n = 4\nprint(max_pool2d(x[:, :, 0:n], [1, 2]))");
    assert_eq!(
        run(&src),
        Ok("[1, 1, 2] f32\n[[[ 2.0000,  4.0000]]]\n".into())
    );
}

#[test]
fn a_kernel_that_does_not_fit_the_data_is_a_runtime_error() {
    let src = format!("{SLICED}let n = 2\nprint(conv1d(x[:, :, 0:n], w))");
    assert_eq!(run(&src), Err(Code::Runtime));
    let src = format!("{SLICED}let n = 1\nprint(max_pool2d(x[:, :, 0:n], [1, 2]))");
    assert_eq!(run(&src), Err(Code::Runtime));
}

#[test]
fn a_result_too_large_for_memory_is_refused_before_allocating() {
    // The output passes the checker's element limit, but neither it nor its
    // im2col matrix (one row of 4096 weights per output position) fits in
    // --max-memory: the run stops before the kernel allocates.
    let w = vec!["1.0"; 4096].join(", ");
    let src = format!(
        "let x = [[[[1.0]]]]\nlet w = [[[[{w}]]]]\nprint(conv2d(x, w, padding=[0, 140737488355328]))"
    );
    assert_eq!(run(&src), Err(Code::Limit));
}
