//! tsr: a small tensor language whose shape bugs are caught before anything runs.
//!
//! ```
//! use tsr::{check_source, CheckOptions};
//! use tsr::source::SourceFile;
//!
//! let file = SourceFile::new("a.tsr", "dim B = 2, T = 3, D = 4\ninput x: [B, T]\ninput y: [B, D]\nlet z = x + y\n");
//! let output = check_source(&file, &CheckOptions::default());
//! assert_eq!(output.diagnostics[0].code.as_str(), "tsr::broadcast");
//! ```
// `deny`, not `forbid`: ndarray's `s!` macro allows unsafe code in its expansion.
#![deny(unsafe_code)]
// Only the front ends print, through explicit writers (STYLE habit 6).
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod check;
pub mod cli;
pub mod data;
pub mod diagnostics;
pub mod error;
pub mod eval;
pub mod ops;
pub mod repl;
pub mod source;
pub mod syntax;

pub use check::{CheckOptions, CheckOutput};

/// Parses and checks one file. A file with parse errors reports only those.
/// Statements are checked as they are parsed and then dropped, so memory
/// stays bounded by the largest statement, not the file.
pub fn check_source(file: &source::SourceFile, options: &CheckOptions) -> CheckOutput {
    let mut checker = check::Checker::new(options);
    let (parse_errors, _) = syntax::parse_each(file, &mut |stmt| {
        checker.stmt(&stmt);
    });
    if !parse_errors.is_empty() {
        return CheckOutput {
            diagnostics: parse_errors,
            ..CheckOutput::default()
        };
    }
    checker.finish_top_level();
    checker.finish()
}
