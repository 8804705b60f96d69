//! Every example checks as its header says: clean, except the seed lessons'
//! buggy attention, which must be rejected with exactly its diagnostics.

use std::path::Path;

use tsr::error::Code;
use tsr::source::SourceFile;
use tsr::{check_source, CheckOptions};

fn check(name: &str) -> Vec<(Code, usize)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let text = std::fs::read_to_string(dir.join(name)).expect("the example exists");
    let file = SourceFile::new(name, text);
    let options = CheckOptions {
        base_dir: dir,
        ..CheckOptions::default()
    };
    check_source(&file, &options)
        .diagnostics
        .iter()
        .map(|d| (d.code, d.span.map_or(0, |s| file.line_col(s.start).line)))
        .collect()
}

#[test]
fn clean_examples_check_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("examples/ is listable") {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".tsr") && !name.starts_with("buggy_") {
            assert_eq!(check(&name), Vec::new(), "{name}");
            checked += 1;
        }
    }
    assert!(checked > 0, "no clean examples found");
}

#[test]
fn the_buggy_attention_is_rejected_at_the_transpose() {
    let mut got = check("buggy_attention.tsr");
    got.sort();
    assert_eq!(got, vec![(Code::Contraction, 9), (Code::TransposeNd, 9)]);
}

/// Every clean example runs to the end: their `assert`s compare two
/// independent formulations (einsum against the operation it names, conv
/// by hand against conv2d, a manual standardisation against batchnorm).
#[test]
fn clean_examples_run_and_their_asserts_hold() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut ran = 0;
    for entry in std::fs::read_dir(&dir).expect("examples/ is listable") {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if !name.ends_with(".tsr") || name.starts_with("buggy_") {
            continue;
        }
        let text = std::fs::read_to_string(dir.join(&name)).expect("the example exists");
        let options = tsr::eval::RunOptions {
            random_inputs: true,
            seed: 1,
            base_dir: dir.clone(),
            ..tsr::eval::RunOptions::default()
        };
        let mut out = Vec::new();
        let outcome =
            tsr::eval::run_source(&SourceFile::new(name.as_str(), text), &options, &mut out);
        let errors: Vec<String> = outcome
            .diagnostics
            .iter()
            .map(|d| format!("{}: {}", d.code.as_str(), d.message))
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert!(!out.is_empty(), "{name} printed nothing");
        ran += 1;
    }
    assert!(ran >= 6, "only {ran} examples ran");
}
