//! The static checker: resolves names and dims, proves sizes symbolically,
//! and gives every expression a type, reporting each mistake once.
//! It never evaluates and never allocates tensor data.

pub mod annot;
pub mod env;
pub mod expr;
pub mod facts;
pub mod fns;
pub mod rules;
pub mod size;
mod sizes;
mod stmt;
pub mod suggest;
pub mod types;

use std::path::PathBuf;

use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::Program;

pub use env::Checker;

#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// `--dim NAME=SIZE`: binds or overrides a dim.
    pub dims: Vec<(String, i64)>,
    /// Where relative `load` paths are resolved.
    pub base_dir: PathBuf,
    /// Fill [`CheckOutput::types`]: printing every type costs time that
    /// `tsr check` does not need.
    pub record_types: bool,
    /// Fill [`CheckOutput::facts`], which evaluation needs and checking does not.
    pub record_facts: bool,
}

#[derive(Clone, Debug, Default)]
pub struct CheckOutput {
    pub diagnostics: Vec<Diagnostic>,
    /// The printed type of each `let` and expression statement, when
    /// [`CheckOptions::record_types`] asks for them.
    pub types: Vec<(Span, String)>,
    /// What was proved about each expression, when
    /// [`CheckOptions::record_facts`] asks for it.
    pub facts: facts::Facts,
    /// Every dim by id (the `AtomId::Dim` index), with its size.
    pub dims: Vec<env::DimInfo>,
    /// Every fn's signature, in definition order.
    pub fns: Vec<std::rc::Rc<fns::FnSig>>,
}

pub fn check_program(program: &Program, options: &CheckOptions) -> CheckOutput {
    let mut checker = Checker::new(options);
    checker.check_top_level(&program.stmts);
    checker.finish()
}

/// The largest element count or size the checker accepts: beyond it a
/// program could never run, and products of such sizes overflow.
pub const MAX_SIZE: i64 = 1 << 48;

pub(crate) fn limit_error(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::Limit,
        span,
        format!("{what} is larger than tsr's limit of 2^48 ({MAX_SIZE})"),
    )
    .label(span, "too large")
}

/// "1 argument", "2 arguments".
pub(crate) fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Refuses shapes whose element count is beyond [`MAX_SIZE`]: such a tensor
/// could never be allocated, and later products of its sizes would overflow.
pub(crate) fn check_element_count(shape: &[types::Item], span: Span) -> Result<(), Diagnostic> {
    let mut total: i64 = 1;
    for item in shape {
        let Some(n) = item.axis().and_then(|a| a.size.as_const()) else {
            continue;
        };
        total = total
            .checked_mul(n.max(0))
            .filter(|t| *t <= MAX_SIZE)
            .ok_or_else(|| limit_error(span, "the element count of this shape"))?;
    }
    Ok(())
}
