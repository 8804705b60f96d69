//! Symbolic dims at run time: bound by data (also through a product such
//! as `H * Dh`), used by einops patterns, and reported when nothing binds
//! them.

use std::path::PathBuf;

use tsr::data::tensor::{write_npy, TensorView};
use tsr::error::{Code, Severity};
use tsr::eval::{run_source, InputFile, RunOptions};
use tsr::source::SourceFile;

/// A scratch folder holding `x.npy`: 0, 1, 2... in `shape`.
fn folder_with_x(tag: &str, shape: &[usize]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tsr-dims-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let count = shape.iter().product::<usize>();
    let data = ndarray::ArrayD::from_shape_vec(
        ndarray::IxDyn(shape),
        (0..count).map(|i| i as f32).collect(),
    )
    .expect("a shape that fits");
    write_npy(&dir.join("x.npy"), TensorView::F32(data.view())).expect("write a fixture");
    dir
}

/// Runs `src` with input `x` from `x.npy` in `dir`: its output, or the
/// first error's code and message.
fn run_with_x(src: &str, dir: &std::path::Path) -> Result<String, (Code, String)> {
    let options = RunOptions {
        inputs: vec![InputFile {
            name: "x".into(),
            path: dir.join("x.npy"),
            key: None,
        }],
        ..RunOptions::default()
    };
    let mut out = Vec::new();
    let outcome = run_source(&SourceFile::new("t.tsr", src), &options, &mut out);
    match outcome
        .diagnostics
        .into_iter()
        .find(|d| d.severity() == Severity::Error)
    {
        Some(d) => Err((d.code, d.message)),
        None => Ok(String::from_utf8_lossy(&out).into_owned()),
    }
}

const HEADS: &str = "dim B\ndim H\ndim Dh = 4\ninput x: [B, H * Dh]\n";

#[test]
fn a_product_binds_the_one_dim_it_leaves_unknown() {
    let dir = folder_with_x("product", &[2, 12]);
    let src = format!("{HEADS}print(B, H)\nprint(zeros([H, Dh]).shape)");
    assert_eq!(run_with_x(&src, &dir), Ok("2 3\n[H=3, Dh=4]\n".into()));
}

#[test]
fn data_no_dim_value_fits_is_an_io_error_showing_the_declared_size() {
    let dir = folder_with_x("nofit", &[2, 7]);
    let src = format!("{HEADS}print(H)");
    let (code, message) = run_with_x(&src, &dir).expect_err("7 is not a multiple of 4");
    assert_eq!(code, Code::Io);
    assert!(
        message.contains("[2, 7]") && message.contains("no value of H makes 4 * H = 7"),
        "{message}"
    );
}

#[test]
fn einops_labels_use_dims_bound_by_other_data() {
    let dir = folder_with_x("einops", &[2, 8]);
    let src = format!(
        "{HEADS}let y = rearrange(x, \"b (H Dh) -> b H Dh\")\nprint(y.shape)\nprint(y[1, 1])\nprint(reduce(x, \"b (H Dh) -> b H\", \"sum\"))"
    );
    let expected = "[B=2, H=2, Dh=4]\n[Dh=4] f32\n[ 12.0000,  13.0000,  14.0000,  15.0000]\n\
                    [B=2, H=2] f32\n[[  6.0000,  22.0000],\n [ 38.0000,  54.0000]]\n";
    assert_eq!(run_with_x(&src, &dir), Ok(expected.into()));
}

#[test]
fn einops_in_a_fn_splits_by_the_calls_generics() {
    let dir = folder_with_x("generic", &[2, 6]);
    let src = "dim B\ndim D\ninput x: [B, D]\nfn heads(k: [K], t: [N, E]) -> [N, K, E / K] {\n    rearrange(t, \"n (K m) -> n K m\")\n}\nprint(heads(zeros([3]), x).shape)\nprint(heads(zeros([2]), x).shape)";
    assert_eq!(
        run_with_x(src, &dir),
        Ok("[B=2, 3, 2]\n[B=2, 2, 3]\n".into())
    );
}

#[test]
fn a_dim_nothing_binds_is_a_dim_error_naming_it() {
    let dir = folder_with_x("unbound", &[2, 2]);
    for src in ["dim N\nprint(zeros([N]))", "dim N\nlet a = arange(N)"] {
        let (code, message) = run_with_x(src, &dir).expect_err("N has no value");
        assert_eq!(code, Code::Dim, "{src}");
        assert_eq!(message, "the dim `N` has no value yet", "{src}");
    }
}
