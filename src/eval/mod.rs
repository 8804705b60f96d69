//! Evaluation of checked programs on ndarray. The evaluator reads the
//! checker's facts (types, resolved axes and sizes) and never re-derives a
//! shape the checker proved.

pub mod args;
pub(crate) mod autodiff;
mod call;
pub mod cancel;
pub(crate) mod cost;
mod data;
pub mod format;
mod fuse;
pub mod interp;
pub(crate) mod operators;
pub(crate) mod parallel;
pub mod profile;
pub mod random;
mod sizes;
pub mod value;

use std::io::Write;
use std::path::PathBuf;

pub use data::InputFile;
pub use interp::{Globals, Interp};

use crate::check::CheckOptions;
use crate::error::{Diagnostic, Severity};
use crate::source::SourceFile;

#[derive(Clone, Debug)]
pub struct RunOptions {
    pub dims: Vec<(String, i64)>,
    /// `--input NAME=PATH[:KEY]`
    pub inputs: Vec<InputFile>,
    /// `--max-memory`: no single tensor read may be larger.
    pub max_memory: u64,
    /// `--random-inputs`: inputs without data are filled with randn.
    pub random_inputs: bool,
    pub seed: u64,
    /// Where relative paths in `load` and `save` are resolved.
    pub base_dir: PathBuf,
    /// Stop before evaluating when the check has warnings.
    pub deny_warnings: bool,
    /// Time every statement (`--profile`, `--profile-json`).
    pub profile: bool,
}

impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions {
            dims: Vec::new(),
            inputs: Vec::new(),
            max_memory: default_max_memory(),
            random_inputs: false,
            seed: 0,
            base_dir: PathBuf::from("."),
            deny_warnings: false,
            profile: false,
        }
    }
}

/// Half of physical memory (spec section 8), or 4 GiB where it cannot be read.
pub fn default_max_memory() -> u64 {
    const FALLBACK: u64 = 4 << 30;
    let total_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        });
    total_kib.map_or(FALLBACK, |kib| kib.saturating_mul(1024) / 2)
}

/// What a run reports: the checker's diagnostics or the run-time error,
/// and whether the failure was in what the command line gave (exit 2).
#[derive(Debug, Default)]
pub struct RunOutcome {
    pub diagnostics: Vec<Diagnostic>,
    pub usage_error: bool,
    /// Per-statement costs, when `RunOptions::profile` asked for them.
    pub profile: profile::Profile,
}

/// Checks a file and, when it is clean, runs it; `print` writes to `out`.
pub fn run_source(file: &SourceFile, options: &RunOptions, out: &mut dyn Write) -> RunOutcome {
    let parsed = crate::syntax::parse(file);
    if !parsed.diagnostics.is_empty() {
        return RunOutcome {
            diagnostics: parsed.diagnostics,
            ..RunOutcome::default()
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
            ..RunOutcome::default()
        };
    }
    let mut outcome = RunOutcome {
        diagnostics: checked.diagnostics.clone(),
        ..RunOutcome::default()
    };
    let mut interp = Interp::new(&checked, options, out);
    if let Err(failure) = interp.run(&parsed.program) {
        outcome.usage_error = failure.usage;
        outcome.diagnostics.push(failure.diagnostic);
    }
    outcome.profile = interp.take_profile();
    let _ = out.flush();
    outcome
}
