// Shared by tests/eval_nn.rs and tests/eval_linalg.rs (included, so each
// test crate gets its own copy): runs the generated cases.

use tsr::error::{Code, Severity};
use tsr::eval::{run_source, RunOptions};
use tsr::source::SourceFile;

/// A program that prints one value, and what NumPy computed for it.
pub struct Case {
    pub name: &'static str,
    pub program: &'static str,
    /// `print`'s first line for a tensor (`[2, 3] f32`), empty for a scalar.
    pub shape: &'static str,
    pub values: &'static [f64],
}

/// Runs a program; its printed output, or the code of the error it stopped with.
fn run(src: &str) -> Result<String, Code> {
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
        Some(d) => Err(d.code),
        None => Ok(String::from_utf8(out).expect("output is UTF-8")),
    }
}

/// A printed value's shape line (empty for a scalar) and its numbers.
fn parse(out: &str) -> (&str, Vec<f64>) {
    let (shape, body) = match out.split_once('\n') {
        Some((first, rest)) if first.starts_with('[') => (first, rest),
        _ => ("", out),
    };
    let numbers = body
        .split(|c: char| c == '[' || c == ']' || c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .map(|t| t.parse().unwrap_or_else(|_| panic!("not a number: {t:?}")))
        .collect();
    (shape, numbers)
}

/// Equal to the 4 decimals `print` shows (or its 4 significant digits in
/// scientific notation); NaN matches NaN.
fn close(found: f64, expected: f64) -> bool {
    (found.is_nan() && expected.is_nan())
        || found == expected
        || (found - expected).abs() <= 1e-4 * expected.abs().max(1.0)
}

fn check(case: &Case) -> Result<(), String> {
    let out = run(case.program).map_err(|code| format!("stopped with {code:?}"))?;
    let (shape, values) = parse(&out);
    if shape != case.shape {
        return Err(format!("shape {shape:?}, expected {:?}", case.shape));
    }
    let same = values.len() == case.values.len()
        && values.iter().zip(case.values).all(|(f, e)| close(*f, *e));
    if !same {
        return Err(format!("values {values:?}, expected {:?}", case.values));
    }
    Ok(())
}

fn check_all(cases: &[Case]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| check(c).err().map(|e| format!("{}: {e}", c.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
