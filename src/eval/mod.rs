//! Evaluation of checked programs on ndarray. The evaluator reads the
//! checker's facts (types, resolved axes and sizes) and never re-derives a
//! shape the checker proved.

pub mod args;
mod call;
pub mod format;
mod interp;
mod operators;
pub mod random;
mod sizes;
pub mod value;

use std::io::Write;
use std::path::PathBuf;

pub use interp::Interp;

use crate::check::CheckOptions;
use crate::error::{Diagnostic, Severity};
use crate::source::SourceFile;

#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    pub dims: Vec<(String, i64)>,
    /// `--random-inputs`: inputs without data are filled with randn.
    pub random_inputs: bool,
    pub seed: u64,
    /// Where relative paths in `load` and `save` are resolved.
    pub base_dir: PathBuf,
    /// Stop before evaluating when the check has warnings.
    pub deny_warnings: bool,
}

/// What a run reports: the checker's diagnostics or the run-time error,
/// and whether the failure was in what the command line gave (exit 2).
#[derive(Debug, Default)]
pub struct RunOutcome {
    pub diagnostics: Vec<Diagnostic>,
    pub usage_error: bool,
}

/// Checks a file and, when it is clean, runs it; `print` writes to `out`.
pub fn run_source(file: &SourceFile, options: &RunOptions, out: &mut dyn Write) -> RunOutcome {
    let parsed = crate::syntax::parse(file);
    if !parsed.diagnostics.is_empty() {
        return RunOutcome {
            diagnostics: parsed.diagnostics,
            usage_error: false,
        };
    }
    let check_options = CheckOptions {
        dims: options.dims.clone(),
        base_dir: options.base_dir.clone(),
        record_types: false,
        record_facts: true,
    };
    let checked = crate::check::check_program(&parsed.program, &check_options);
    let stops = |d: &Diagnostic| d.severity() == Severity::Error || options.deny_warnings;
    if checked.diagnostics.iter().any(stops) {
        return RunOutcome {
            diagnostics: checked.diagnostics,
            usage_error: false,
        };
    }
    let mut outcome = RunOutcome {
        diagnostics: checked.diagnostics.clone(),
        usage_error: false,
    };
    let mut interp = Interp::new(&checked, options, out);
    if let Err(failure) = interp.run(&parsed.program) {
        outcome.usage_error = failure.usage;
        outcome.diagnostics.push(failure.diagnostic);
    }
    let _ = out.flush();
    outcome
}
