//! The REPL's backend, free of any terminal (LANGUAGE.md section 9).
//!
//! A session keeps what the checker and the interpreter know between lines.
//! Every accepted line is appended to one session text and parsed from
//! where it starts, so its spans are offsets into that text and its
//! expression ids follow the earlier lines' ones: the trees of all accepted
//! lines stay alive side by side, their facts merge into one map, and a fn
//! defined on one line runs, and reports errors, from another.
//!
//! A line is staged first (parsed, then checked on a copy of the checker's
//! state), then run on a copy of the interpreter's globals; only when both
//! succeed does the session take the new state. A line that fails, at any
//! stage, changes nothing: not even an indexed assignment that stopped
//! halfway, since tensors are copied on write and the session's own copy
//! still shares the old data.

mod dims;
mod inspect;
mod report;

use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;

use rustc_hash::FxHashMap;

use crate::check::env::{Entry, Scope};
use crate::check::facts::Facts;
use crate::check::types::Name;
use crate::check::{CheckOptions, CheckOutput, Checker};
use crate::diagnostics::FileReport;
use crate::error::{Code, Diagnostic, Severity};
use crate::eval::{cancel, Globals, Interp, RunOptions};
use crate::syntax::ast::{Pattern, Program, Stmt, StmtKind};

pub use inspect::{DimRow, Timing, VarRow};

/// What a line (or `:load`) left to report: its diagnostics, each against
/// the text it points into, and whether it failed.
#[derive(Debug, Default)]
pub struct Reply {
    pub reports: Vec<FileReport>,
    pub failed: bool,
}

impl Reply {
    pub fn failure(reports: Vec<FileReport>) -> Reply {
        Reply {
            reports,
            failed: true,
        }
    }
}

/// The checker's state between lines, besides dims and fns (which the
/// interpreter reads too, and so live in the session's [`CheckOutput`]).
#[derive(Clone, Default)]
struct Typing {
    names: FxHashMap<Name, Entry>,
    generics: Vec<Name>,
    runs: Vec<Name>,
    fresh_atoms: u32,
}

/// A piece of the session text: one line as typed, or a loaded file.
struct Chunk {
    name: String,
    start: usize,
}

/// A chunk parsed and checked, not yet run.
struct Staged {
    name: String,
    start: usize,
    next_id: u32,
    program: Program,
    typing: Typing,
    checked: CheckOutput,
    /// For each statement, the `name: type` lines a `let` prints.
    shown: Vec<Vec<String>>,
    /// The type of the last statement, when it is an expression.
    last_type: Option<String>,
}

pub struct Session {
    options: RunOptions,
    /// Checking for a run records facts; checking for a hint need not.
    run_check: CheckOptions,
    infer_check: CheckOptions,
    text: String,
    chunks: Vec<Chunk>,
    /// The statements of every accepted chunk, one program per chunk.
    programs: Vec<Program>,
    next_id: u32,
    typing: Typing,
    checked: CheckOutput,
    globals: Globals,
    /// Inputs submitted so far, to name each `In[n]`.
    inputs: usize,
}

impl Session {
    pub fn new(options: RunOptions) -> Session {
        let run_check = CheckOptions {
            dims: options.dims.clone(),
            base_dir: options.base_dir.clone(),
            record_types: false,
            record_facts: true,
        };
        let infer_check = CheckOptions {
            record_facts: false,
            ..run_check.clone()
        };
        let globals = Globals::new(options.seed);
        Session {
            options,
            run_check,
            infer_check,
            text: String::new(),
            chunks: Vec::new(),
            programs: Vec::new(),
            next_id: 0,
            typing: Typing::default(),
            checked: CheckOutput::default(),
            globals,
            inputs: 0,
        }
    }

    /// Forgets everything but the options (`:reset`).
    pub fn reset(&mut self) {
        *self = Session::new(self.options.clone());
    }

    /// Runs a line typed at the prompt: expression statements print their
    /// value to `out`, and `let` the new binding's type.
    pub fn eval(&mut self, code: &str, out: &mut dyn Write) -> Reply {
        self.inputs += 1;
        let name = format!("In[{}]", self.inputs);
        self.eval_named(name, code, out)
    }

    /// Runs a chunk of code whose diagnostics name it `name` (a loaded file).
    pub fn eval_named(&mut self, name: String, code: &str, out: &mut dyn Write) -> Reply {
        match self.stage_guarded(name, code, true) {
            Ok(Some(staged)) => self.run(staged, out),
            Ok(None) => Reply::default(),
            Err(reports) => Reply::failure(reports),
        }
    }

    /// [`Session::stage`], with a crash of the checker reported as
    /// `tsr::internal` and the session left as it was.
    fn stage_guarded(
        &mut self,
        name: String,
        code: &str,
        record_facts: bool,
    ) -> Result<Option<Staged>, Vec<FileReport>> {
        let start = self.text.len();
        let staged = catch_unwind(AssertUnwindSafe(|| {
            self.stage(name.clone(), code, record_facts)
        }));
        staged.unwrap_or_else(|payload| Err(self.fail(vec![crash(payload.as_ref())], &name, start)))
    }

    /// Parses and checks a chunk against the session's state; its text is
    /// left appended to the session text unless this fails. `Ok(None)` for
    /// a chunk with no statement.
    fn stage(
        &mut self,
        name: String,
        code: &str,
        record_facts: bool,
    ) -> Result<Option<Staged>, Vec<FileReport>> {
        let start = self.text.len();
        self.text.push_str(code);
        if !code.ends_with('\n') {
            self.text.push('\n');
        }
        let (parsed, next_id) = crate::syntax::parse_tail(&self.text, start, self.next_id);
        if !parsed.diagnostics.is_empty() {
            return Err(self.fail(parsed.diagnostics, &name, start));
        }
        if parsed.program.stmts.is_empty() {
            self.text.truncate(start);
            return Ok(None);
        }
        let options = if record_facts {
            &self.run_check
        } else {
            &self.infer_check
        };
        let mut checker = self.checker(options);
        let mut shown = Vec::with_capacity(parsed.program.stmts.len());
        let mut last_type = None;
        for stmt in &parsed.program.stmts {
            if let StmtKind::Dim(decls) = &stmt.kind {
                if let Err(d) = dims::release(&mut checker, decls, &self.programs, &self.text) {
                    checker.report(d);
                    shown.push(Vec::new());
                    continue;
                }
            }
            last_type = checker.stmt(stmt).map(|ty| checker.show(&ty));
            shown.push(bound_types(&checker, stmt));
        }
        let typing = Typing {
            names: checker
                .scopes
                .drain(..)
                .next()
                .map(|scope| scope.names)
                .unwrap_or_default(),
            generics: std::mem::take(&mut checker.generics),
            runs: std::mem::take(&mut checker.runs),
            fresh_atoms: checker.fresh_atoms,
        };
        let checked = checker.finish();
        if checked
            .diagnostics
            .iter()
            .any(|d| d.severity() == Severity::Error)
        {
            return Err(self.fail(checked.diagnostics, &name, start));
        }
        Ok(Some(Staged {
            name,
            start,
            next_id,
            program: parsed.program,
            typing,
            checked,
            shown,
            last_type,
        }))
    }

    /// A checker that continues from the session's state.
    fn checker<'o>(&self, options: &'o CheckOptions) -> Checker<'o> {
        let mut checker = Checker::new(options);
        checker.dims = self.checked.dims.clone();
        checker.fns = self.checked.fns.clone();
        checker.generics = self.typing.generics.clone();
        checker.runs = self.typing.runs.clone();
        checker.fresh_atoms = self.typing.fresh_atoms;
        checker.scopes = vec![Scope {
            names: self.typing.names.clone(),
        }];
        checker
    }

    /// Reports `diagnostics` of the chunk starting at `start`, then drops
    /// its text.
    fn fail(&mut self, diagnostics: Vec<Diagnostic>, name: &str, start: usize) -> Vec<FileReport> {
        let reports = self.reports(diagnostics, Some((name, start)));
        self.text.truncate(start);
        reports
    }

    /// Runs a staged chunk; the session takes its new state only if every
    /// statement succeeds.
    fn run(&mut self, staged: Staged, out: &mut dyn Write) -> Reply {
        let Staged {
            name,
            start,
            next_id,
            program,
            typing,
            checked,
            shown,
            ..
        } = staged;
        let warnings = checked.diagnostics;
        let saved = self.install(checked.dims, checked.fns, checked.facts, program);
        match self.execute(out, |interp, program| {
            run_statements(interp, program, &shown)
        }) {
            Ok(((), globals)) => {
                self.globals = globals;
                self.typing = typing;
                self.next_id = next_id;
                self.chunks.push(Chunk { name, start });
                Reply {
                    reports: self.reports(warnings, None),
                    failed: false,
                }
            }
            Err(diagnostic) => {
                self.uninstall(saved, start);
                let mut diagnostics = warnings;
                diagnostics.push(diagnostic);
                Reply::failure(self.fail(diagnostics, &name, start))
            }
        }
    }

    /// Puts a staged chunk's statements, dims, fns and facts where the
    /// interpreter reads them; returns what [`Session::uninstall`] restores.
    fn install(
        &mut self,
        dims: Vec<crate::check::env::DimInfo>,
        fns: Vec<Rc<crate::check::fns::FnSig>>,
        facts: Facts,
        program: Program,
    ) -> Saved {
        let saved = Saved {
            dims: std::mem::replace(&mut self.checked.dims, dims),
            fns: std::mem::replace(&mut self.checked.fns, fns),
        };
        let merged = &mut self.checked.facts;
        merged.types.extend(facts.types);
        merged.axes.extend(facts.axes);
        merged.sizes.extend(facts.sizes);
        merged.declared.extend(facts.declared);
        self.programs.push(program);
        saved
    }

    /// Undoes [`Session::install`] of the chunk at `start`, whose ids all
    /// come after the session's `next_id`.
    fn uninstall(&mut self, saved: Saved, start: usize) {
        self.checked.dims = saved.dims;
        self.checked.fns = saved.fns;
        self.programs.pop();
        let first = self.next_id;
        let facts = &mut self.checked.facts;
        facts.types.retain(|id, _| id.0 < first);
        facts.axes.retain(|id, _| id.0 < first);
        facts.sizes.retain(|id, _| id.0 < first);
        facts
            .declared
            .retain(|span, _| (span.start as usize) < start);
    }

    /// Runs `body` on the last installed program, with an interpreter that
    /// continues from a copy of the globals; returns what `body` gave and
    /// the globals it left. A panic becomes `tsr::internal`.
    fn execute<T>(
        &self,
        out: &mut dyn Write,
        body: impl for<'a> FnOnce(&mut Interp<'a>, &'a Program) -> Result<T, Diagnostic>,
    ) -> Result<(T, Globals), Diagnostic> {
        cancel::clear();
        let attempt = catch_unwind(AssertUnwindSafe(|| {
            let (program, earlier) = self
                .programs
                .split_last()
                .ok_or_else(|| Diagnostic::unplaced(Code::Internal, "no line to run"))?;
            let mut interp = Interp::new(&self.checked, &self.options, out);
            interp.resume(self.globals.clone(), fn_defs(earlier));
            let value = body(&mut interp, program)?;
            Ok((value, interp.into_globals()))
        }));
        attempt.unwrap_or_else(|payload| Err(crash(payload.as_ref())))
    }

    /// Every name the session defines, with what it names.
    pub fn names(&self) -> Vec<(String, NameKind)> {
        let mut names: Vec<(String, NameKind)> = self
            .typing
            .names
            .iter()
            .map(|(name, entry)| (name.to_string(), kind(entry)))
            .collect();
        names.sort();
        names
    }

    /// What `name` stands for in the session, if anything.
    pub fn kind_of(&self, name: &str) -> Option<NameKind> {
        self.typing.names.get(name).map(kind)
    }
}

fn kind(entry: &Entry) -> NameKind {
    match entry {
        Entry::Dim(_) | Entry::Generic(_) => NameKind::Dim,
        Entry::Fn(_) => NameKind::Fn,
        Entry::Value { .. } => NameKind::Binding,
    }
}

/// What a name in the session stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum NameKind {
    Binding,
    Dim,
    Fn,
}

/// Runs a line's statements: expression statements print their value, and
/// `let` its bindings' types (`shown`).
fn run_statements<'a>(
    interp: &mut Interp<'a>,
    program: &'a Program,
    shown: &[Vec<String>],
) -> Result<(), Diagnostic> {
    for (stmt, lines) in program.stmts.iter().zip(shown) {
        if let StmtKind::Expr(e) = &stmt.kind {
            cancel::check(stmt.span)?;
            let value = interp.expr(e)?;
            let shown = crate::ops::show_value(interp, e, &value);
            if !shown.is_empty() {
                write_line(interp, stmt, &shown)?;
            }
        } else {
            interp
                .run_statement(stmt)
                .map_err(|failure| failure.diagnostic)?;
        }
        for line in lines {
            write_line(interp, stmt, line)?;
        }
    }
    Ok(())
}

/// A crash of tsr itself, reported without ending the session.
fn crash(payload: &(dyn std::any::Any + Send)) -> Diagnostic {
    Diagnostic::unplaced(
        Code::Internal,
        format!(
            "tsr crashed on this input: {}",
            crate::cli::panic_message(payload)
        ),
    )
    .help("this is a bug in tsr, not in the program; the session is unchanged")
}

/// What installing a chunk replaced.
struct Saved {
    dims: Vec<crate::check::env::DimInfo>,
    fns: Vec<Rc<crate::check::fns::FnSig>>,
}

/// The fn definitions of `programs`, in definition order.
fn fn_defs(programs: &[Program]) -> impl Iterator<Item = &crate::syntax::ast::FnDef> {
    programs
        .iter()
        .flat_map(|p| &p.stmts)
        .filter_map(|stmt| match &stmt.kind {
            StmtKind::Fn(def) => Some(def),
            _ => None,
        })
}

fn write_line(interp: &mut Interp, stmt: &Stmt, text: &str) -> Result<(), Diagnostic> {
    writeln!(interp.out, "{text}").map_err(|error| {
        Diagnostic::new(
            Code::Io,
            stmt.span,
            format!("cannot write the output: {error}"),
        )
    })
}

/// `name: type` for each name a `let` statement bound, as the checker
/// typed it.
fn bound_types(checker: &Checker, stmt: &Stmt) -> Vec<String> {
    let StmtKind::Let { pattern, .. } = &stmt.kind else {
        return Vec::new();
    };
    let mut names = Vec::new();
    pattern_names(pattern, &mut names);
    names
        .into_iter()
        .filter_map(|name| match checker.lookup(name) {
            Some(Entry::Value { ty, .. }) => Some(format!("{name}: {}", checker.show(ty))),
            _ => None,
        })
        .collect()
}

fn pattern_names<'p>(pattern: &'p Pattern, names: &mut Vec<&'p str>) {
    match pattern {
        Pattern::Name(ident) => names.push(&ident.name),
        Pattern::Wildcard(_) => {}
        Pattern::Tuple(items, _) => items.iter().for_each(|p| pattern_names(p, names)),
    }
}

/// Whether `code` ends inside an open bracket, block or string, so the
/// prompt should read another line before running it.
pub fn is_incomplete(code: &str) -> bool {
    crate::syntax::parse_tail(code, 0, 0).0.incomplete
}
