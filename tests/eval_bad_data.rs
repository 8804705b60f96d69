//! Bad tensor files at run time: missing, truncated, lying, of another type
//! or shape, or randomly damaged. Each is a `tsr::io` diagnostic naming the
//! file (`tsr::limit` when the data would not fit); nothing panics.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tsr::data::tensor::{write_npy, TensorView};
use tsr::error::Code;
use tsr::eval::{run_source, InputFile, RunOptions};
use tsr::source::SourceFile;

const PROGRAM: &str =
    "dim N = 3, D = 2\ninput x: [N, D]\nlet w: [N, D] = load(\"w.npy\")\nprint(sum(x + w))";

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tsr-bad-data-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

fn good_npy(path: &Path, shape: &[usize]) {
    let data = ndarray::ArrayD::<f32>::ones(ndarray::IxDyn(shape));
    write_npy(path, TensorView::F32(data.view())).expect("write a fixture");
}

/// Runs PROGRAM in `dir` with `x` from `x_file`; the error code and message.
fn run_in(dir: &Path, x_file: &str) -> Result<String, (Code, String)> {
    let outcome = run_outcome(dir, x_file);
    match outcome
        .diagnostics
        .into_iter()
        .find(|d| d.severity() == tsr::error::Severity::Error)
    {
        Some(d) => Err((d.code, d.message)),
        None => Ok(String::from_utf8_lossy(&outcome.output).into_owned()),
    }
}

struct Outcome {
    diagnostics: Vec<tsr::error::Diagnostic>,
    usage_error: bool,
    output: Vec<u8>,
}

fn run_outcome(dir: &Path, x_file: &str) -> Outcome {
    let options = RunOptions {
        inputs: vec![InputFile {
            name: "x".into(),
            path: dir.join(x_file),
            key: None,
        }],
        base_dir: dir.to_path_buf(),
        ..RunOptions::default()
    };
    let mut output = Vec::new();
    let outcome = run_source(&SourceFile::new("t.tsr", PROGRAM), &options, &mut output);
    Outcome {
        diagnostics: outcome.diagnostics,
        usage_error: outcome.usage_error,
        output,
    }
}

#[test]
fn good_files_run() {
    let dir = scratch("good");
    good_npy(&dir.join("x.npy"), &[3, 2]);
    good_npy(&dir.join("w.npy"), &[3, 2]);
    assert_eq!(run_in(&dir, "x.npy"), Ok("12.0\n".into()));
}

/// A scratch directory with a good `w.npy` and one bad file for `x` of
/// each kind.
fn bad_files(tag: &str) -> PathBuf {
    let dir = scratch(tag);
    good_npy(&dir.join("w.npy"), &[3, 2]);
    good_npy(&dir.join("wrong_shape.npy"), &[2, 3]);
    good_npy(&dir.join("wrong_rank.npy"), &[6]);
    let i64_data = ndarray::ArrayD::<i64>::zeros(ndarray::IxDyn(&[3, 2]));
    write_npy(
        &dir.join("wrong_type.npy"),
        TensorView::I64(i64_data.view()),
    )
    .expect("write");
    good_npy(&dir.join("whole.npy"), &[3, 2]);
    let bytes = std::fs::read(dir.join("whole.npy")).expect("read back");
    std::fs::write(dir.join("truncated.npy"), &bytes[..bytes.len() - 5]).expect("write");
    std::fs::write(
        dir.join("garbage.npy"),
        b"\x93NUMPY\x01\x00\xff\xffnot a header at all",
    )
    .expect("write");
    std::fs::write(dir.join("empty.npy"), b"").expect("write");
    dir
}

#[test]
fn each_bad_file_is_an_io_error_naming_it() {
    let dir = bad_files("bad");
    for file in [
        "missing.npy",
        "wrong_shape.npy",
        "wrong_rank.npy",
        "wrong_type.npy",
        "truncated.npy",
        "garbage.npy",
        "empty.npy",
    ] {
        match run_in(&dir, file) {
            Err((Code::Io, message)) => assert!(message.contains(file), "{file}: {message}"),
            other => panic!("{file}: expected tsr::io, got {other:?}"),
        }
    }
}

/// Section 8: exit 2 is for the command line itself (a file `--input`
/// names that cannot be read); data that disagrees with the declared type
/// is the program's error (exit 1), like a `load` whose header disagrees.
#[test]
fn unreadable_inputs_exit_2_and_disagreeing_data_exits_1() {
    let dir = bad_files("exit");
    for (file, usage, declared) in [
        ("missing.npy", true, None),
        ("garbage.npy", true, None),
        (
            "wrong_shape.npy",
            false,
            Some("holds [2, 3] f32, but its declared type is [3, 2] f32"),
        ),
        ("wrong_rank.npy", false, Some("[3, 2] f32: 2 axes, not 1")),
        (
            "wrong_type.npy",
            false,
            Some("[3, 2] f32: the element types differ"),
        ),
    ] {
        let outcome = run_outcome(&dir, file);
        assert_eq!(outcome.usage_error, usage, "{file}");
        let [d] = outcome.diagnostics.as_slice() else {
            panic!("{file}: {:?}", outcome.diagnostics);
        };
        assert_eq!(d.code, Code::Io, "{file}");
        let at = PROGRAM.find("x:").expect("the input");
        assert_eq!(d.span.map(|s| s.start as usize), Some(at), "{file}");
        if let Some(declared) = declared {
            assert!(d.message.contains(declared), "{file}: {}", d.message);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Damaged copies of a good file: flipped bytes, cuts and appended junk.
    #[test]
    fn damaged_files_never_panic(flips in proptest::collection::vec((0usize..200, any::<u8>()), 0..6), cut in 0usize..200, junk in proptest::collection::vec(any::<u8>(), 0..16)) {
        let dir = scratch("fuzz");
        good_npy(&dir.join("w.npy"), &[3, 2]);
        good_npy(&dir.join("x.npy"), &[3, 2]);
        let mut bytes = std::fs::read(dir.join("x.npy")).expect("read back");
        for (at, byte) in flips {
            if let Some(b) = bytes.get_mut(at) {
                *b = byte;
            }
        }
        bytes.truncate(bytes.len().saturating_sub(cut % 8 * (cut % 3)));
        bytes.extend(junk);
        std::fs::write(dir.join("x.npy"), &bytes).expect("write");
        let outcome = std::panic::catch_unwind(|| run_in(&dir, "x.npy"));
        prop_assert!(outcome.is_ok(), "a damaged file made tsr panic");
        if let Ok(Err((code, _))) = outcome {
            prop_assert!(matches!(code, Code::Io | Code::Limit), "unexpected code {:?}", code);
        }
    }
}
