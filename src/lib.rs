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

/// Top-level statements the parser hands over at once: one channel message
/// per batch keeps the threads' synchronisation off the per-statement path.
const BATCH: usize = 128;

/// Batches the parser may run ahead of the checker; this bounds the memory
/// of statements in flight.
const BATCHES_AHEAD: usize = 16;

/// The parser keeps its trees at most 256 deep and runs on the 2 MiB stack
/// of a default thread (tests/robustness.rs); twice that is a margin.
const PARSER_STACK_BYTES: usize = 4 << 20;

/// Source bytes per global name reserved for up front: a dense script
/// (bench/gen_check_script.py) binds one name per 60 bytes, so this covers
/// it, and a sparser one leaves part of the table untouched.
const BYTES_PER_GLOBAL: usize = 64;

/// Globals reserved for at most: beyond this the table grows as it fills.
const MAX_RESERVED_GLOBALS: usize = 1 << 20;

/// Parses and checks one file. A file with parse errors reports only those.
/// Statements are checked as they are parsed and then dropped, so memory
/// stays bounded by the largest statements, not the file. The parser runs
/// on a second thread, a bounded number of statements ahead of the checker,
/// which takes them in source order on the calling thread.
pub fn check_source(file: &source::SourceFile, options: &CheckOptions) -> CheckOutput {
    let mut checker = check::Checker::new(options);
    checker.reserve_globals((file.text().len() / BYTES_PER_GLOBAL).min(MAX_RESERVED_GLOBALS));
    let parse_errors = parse_alongside(file, &mut |stmt| {
        checker.stmt(stmt);
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

/// Parses `file` on a new thread and hands its top-level statements, in
/// order, to `check` on this one; returns the parse diagnostics. A panic of
/// either thread surfaces on this one. The parser thread takes this one's
/// name, so a panic hook keyed on the name (the CLI's) treats both alike.
///
/// Checked batches go back to the parser thread, which frees them: freeing
/// memory another thread allocated costs the allocator more, and the
/// checker, the slower of the two, is spared the work.
fn parse_alongside(
    file: &source::SourceFile,
    check: &mut dyn FnMut(&syntax::ast::Stmt),
) -> Vec<error::Diagnostic> {
    use std::sync::mpsc::sync_channel;

    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel(BATCHES_AHEAD);
        let (recycle, recycled) = sync_channel::<Vec<syntax::ast::Stmt>>(BATCHES_AHEAD);
        let mut builder = std::thread::Builder::new().stack_size(PARSER_STACK_BYTES);
        if let Some(name) = std::thread::current().name() {
            builder = builder.name(name.to_owned());
        }
        let parser = builder.spawn_scoped(scope, move || {
            let mut batch = Vec::with_capacity(BATCH);
            let (errors, _) = syntax::parse_each(file, &mut |stmt| {
                batch.push(stmt);
                if batch.len() == BATCH {
                    let empty = recycled.try_recv().map_or_else(
                        |_| Vec::with_capacity(BATCH),
                        |mut checked| {
                            checked.clear();
                            checked
                        },
                    );
                    // Only a checker that panicked stops receiving, and
                    // its panic is what gets reported.
                    let _ = sender.send(std::mem::replace(&mut batch, empty));
                }
            });
            let _ = sender.send(batch);
            errors
        });
        let Ok(parser) = parser else {
            // Without a second thread, parse and check in turn.
            return syntax::parse_each(file, &mut |stmt| check(&stmt)).0;
        };
        for batch in receiver {
            for stmt in &batch {
                check(stmt);
            }
            // A batch that cannot go back (the parser is done, or behind
            // on freeing) is freed here, with the error that returns it.
            let _ = recycle.try_send(batch);
        }
        parser
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A program of `statements` lines whose every seventh line is a
    /// broadcast error, ending with `last`: long enough for many batches and
    /// a final partial one.
    fn program(statements: usize, last: &str) -> source::SourceFile {
        let mut text = String::from("dim A = 2, B = 3\ninput x: [A]\ninput y: [B]\n");
        for i in 0..statements {
            let rhs = if i % 7 == 0 { "x + y" } else { "x * 2" };
            text.push_str(&format!("let v{i} = {rhs}\n"));
        }
        text.push_str(last);
        source::SourceFile::new("batches.tsr", text)
    }

    #[test]
    fn every_statement_is_checked_once_and_in_order() {
        let statements = BATCH * BATCHES_AHEAD * 3 + 5;
        let file = program(statements, "let tail = x + y\n");
        let output = check_source(&file, &CheckOptions::default());
        let lines: Vec<usize> = output
            .diagnostics
            .iter()
            .map(|diagnostic| {
                diagnostic
                    .span
                    .map_or(0, |span| file.line_col(span.start).line)
            })
            .collect();
        let mut expected: Vec<usize> = (0..statements).step_by(7).map(|i| i + 4).collect();
        expected.push(statements + 4);
        assert_eq!(lines, expected);
        assert!(output
            .diagnostics
            .iter()
            .all(|diagnostic| diagnostic.code.as_str() == "tsr::broadcast"));
    }

    #[test]
    fn a_parse_error_in_the_last_batch_replaces_the_check_errors() {
        let file = program(BATCH * 2 + 5, "let broken = (x +\n");
        let output = check_source(&file, &CheckOptions::default());
        let codes: Vec<&str> = output.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, ["tsr::parse"]);
    }
}
