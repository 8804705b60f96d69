// Used by tests/eval_linalg_factor.rs: runs the cases
// linalg_factor_expected.py generates. As scalars_harness.rs, with an
// absolute tolerance too: a factor's entry that is 0 in exact arithmetic
// comes out as rounding noise.

use tsr::error::{Code, Severity};
use tsr::eval::{run_source, RunOptions};
use tsr::source::SourceFile;

/// A program that prints a result whole (`print(r)`), then the line
/// `values`, then each element at full precision; and what NumPy computed.
pub struct Case {
    pub name: &'static str,
    pub program: &'static str,
    /// `print`'s first line for the tensor (`[2, 3] f32`), empty for a scalar.
    pub header: &'static str,
    pub values: &'static [f64],
    pub rtol: f64,
    pub atol: f64,
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

/// A printed scalar: a number as Python's repr writes it, or a bool.
fn scalar(word: &str) -> Result<f64, String> {
    match word {
        "true" => Ok(1.0),
        "false" => Ok(0.0),
        _ => word.parse().map_err(|_| format!("not a number: {word:?}")),
    }
}

fn close(found: f64, expected: f64, case: &Case) -> bool {
    found == expected || (found - expected).abs() <= case.atol + case.rtol * expected.abs()
}

fn check(case: &Case) -> Result<(), String> {
    let out = run(case.program).map_err(|code| format!("stopped with {code:?}"))?;
    let (whole, elements) = out
        .split_once("values\n")
        .ok_or_else(|| format!("no `values` line in {out:?}"))?;
    let header = match whole.split_once('\n') {
        Some((first, _)) if first.starts_with('[') => first,
        _ => "",
    };
    if header != case.header {
        return Err(format!("header {header:?}, expected {:?}", case.header));
    }
    let values = elements
        .split_whitespace()
        .map(scalar)
        .collect::<Result<Vec<f64>, String>>()?;
    let same = values.len() == case.values.len()
        && values
            .iter()
            .zip(case.values)
            .all(|(f, e)| close(*f, *e, case));
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
