//! What the REPL's commands ask of a session without changing it: types
//! (`:shape` and the hint), bindings and dims, timings and einsum plans.

use std::time::{Duration, Instant};

use super::{Session, Staged};
use crate::check::env::Entry;
use crate::check::size::AtomId;
use crate::check::types::{Item, Type};
use crate::diagnostics::FileReport;
use crate::error::{Code, Diagnostic};
use crate::eval::cancel;
use crate::eval::value::Value;
use crate::syntax::ast::{ExprKind, StmtKind};

/// A binding as `:vars` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarRow {
    pub name: String,
    pub ty: String,
    /// The bytes of its tensors' data, when it has any.
    pub bytes: Option<u64>,
}

/// A dim as `:dims` lists it: its size, or how it is still unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DimRow {
    pub name: String,
    pub size: String,
}

/// What `:time` measured.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub runs: u32,
    pub mean: Duration,
    pub min: Duration,
}

/// `:time` stops repeating after this many runs even when they are fast.
const MAX_TIMED_RUNS: u32 = 100_000;

impl Session {
    /// The type of a line that is one expression or `let`, checked without
    /// running anything; `Ok(None)` for other statements.
    pub fn infer(&mut self, code: &str) -> Result<Option<String>, Vec<FileReport>> {
        let staged = self.stage_guarded("<shape>".to_owned(), code, false)?;
        let Some(staged) = staged else {
            return Ok(None);
        };
        self.text.truncate(staged.start);
        if staged.program.stmts.len() != 1 {
            return Ok(None);
        }
        let bound = staged.shown.first().filter(|lines| !lines.is_empty());
        Ok(staged
            .last_type
            .or_else(|| bound.map(|lines| lines.join(", "))))
    }

    /// The grey hint while typing: the type of the line, if it checks.
    pub fn hint(&mut self, code: &str) -> Option<String> {
        if code.trim().is_empty() || super::is_incomplete(code) {
            return None;
        }
        self.infer(code).ok().flatten()
    }

    /// Bindings with their types and bytes, by name.
    pub fn vars(&self) -> Vec<VarRow> {
        let checker = self.checker(&self.infer_check);
        let mut rows: Vec<VarRow> = self
            .typing
            .names
            .iter()
            .filter_map(|(name, entry)| match entry {
                Entry::Value { ty, .. } => Some(VarRow {
                    name: name.to_string(),
                    ty: checker.show(ty),
                    bytes: self.globals.values.get(name.as_ref()).and_then(bytes),
                }),
                _ => None,
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows
    }

    /// The dims in scope with their sizes, in declaration order.
    pub fn dims(&self) -> Vec<DimRow> {
        let checker = self.checker(&self.infer_check);
        let mut live: Vec<(u32, String)> = self
            .typing
            .names
            .iter()
            .filter_map(|(name, entry)| match entry {
                Entry::Dim(id) => Some((*id, name.to_string())),
                _ => None,
            })
            .collect();
        live.sort();
        live.into_iter()
            .map(|(id, name)| {
                let bound = self.globals.dims.get(id as usize).copied().flatten();
                let declared = self.checked.dims.get(id as usize).map(|d| &d.size);
                let size = match (bound, declared) {
                    (Some(n), _) => n.to_string(),
                    (None, Some(size)) if size.as_atom() == Some(AtomId::Dim(id)) => {
                        "symbolic (no value yet)".to_owned()
                    }
                    (None, Some(size)) => checker.show_size(size),
                    (None, None) => "unknown".to_owned(),
                };
                DimRow { name, size }
            })
            .collect()
    }

    /// Runs an expression again and again, until `budget` has passed (or
    /// many runs have), and reports the mean and fastest run. The session
    /// is left as it was, random stream included.
    pub fn time(&mut self, code: &str, budget: Duration) -> Result<Timing, Vec<FileReport>> {
        let staged = self.expression(code, ":time")?;
        let start = staged.start;
        let saved = self.install(
            staged.checked.dims,
            staged.checked.fns,
            staged.checked.facts,
            staged.program,
        );
        let measured = self.execute(&mut std::io::sink(), |interp, program| {
            let Some(StmtKind::Expr(e)) = program.stmts.first().map(|s| &s.kind) else {
                return Err(Diagnostic::unplaced(
                    Code::Internal,
                    "no expression to time",
                ));
            };
            let (mut runs, mut total, mut min) = (0u32, Duration::ZERO, Duration::MAX);
            while total < budget && runs < MAX_TIMED_RUNS {
                cancel::check(e.span)?;
                let began = Instant::now();
                interp.expr(e)?;
                let took = began.elapsed();
                runs += 1;
                total += took;
                min = min.min(took);
            }
            Ok(Timing {
                runs,
                mean: total / runs.max(1),
                min,
            })
        });
        self.uninstall(saved, start);
        match measured {
            Ok((timing, _)) => {
                self.text.truncate(start);
                Ok(timing)
            }
            Err(d) => Err(self.fail(vec![d], ":time", start)),
        }
    }

    /// The contraction plan of an einsum call: its pairwise products, with
    /// FLOPs and bytes, for the sizes its operands have now.
    pub fn explain(&mut self, code: &str) -> Result<Vec<String>, Vec<FileReport>> {
        let staged = self.expression(code, ":explain")?;
        let start = staged.start;
        let plan = self.plan(&staged);
        match plan {
            Ok(lines) => {
                self.text.truncate(start);
                Ok(lines)
            }
            Err(d) => Err(self.fail(vec![d], ":explain", start)),
        }
    }

    fn plan(&self, staged: &Staged) -> Result<Vec<String>, Diagnostic> {
        let Some(StmtKind::Expr(e)) = staged.program.stmts.first().map(|s| &s.kind) else {
            return Err(Diagnostic::unplaced(Code::Internal, "no expression"));
        };
        let not_einsum = || {
            Diagnostic::new(Code::Arg, e.span, "`:explain` takes an einsum call")
                .label(e.span, "not a call to einsum")
                .help("e.g. `:explain einsum(\"bij,bjk->bik\", a, b)`")
        };
        let ExprKind::Call { callee, args } = &e.kind else {
            return Err(not_einsum());
        };
        let spec = match args.first().map(|a| &a.value.kind) {
            Some(ExprKind::Str(spec)) if callee.name == "einsum" => spec,
            _ => return Err(not_einsum()),
        };
        let facts = &staged.checked.facts;
        let mut shapes = Vec::with_capacity(args.len());
        for arg in &args[1..] {
            let shape = match facts.types.get(&arg.value.id) {
                Some(Type::Tensor(t)) => self.concrete(&t.shape),
                _ => None,
            };
            shapes.push(shape.ok_or_else(|| {
                Diagnostic::new(Code::Dim, arg.span, "this operand's size is not known yet")
                    .label(arg.span, "size unknown")
                    .help("give its dims values first")
            })?);
        }
        let width = match facts.types.get(&e.id) {
            Some(Type::Tensor(t)) => t.dtype.width(),
            _ => 4,
        };
        let shapes: Vec<&[usize]> = shapes.iter().map(Vec::as_slice).collect();
        let plan = crate::ops::einsum::plan::explain(spec, &shapes, width as usize)
            .map_err(|why| not_einsum().help(why))?;
        let mut lines = vec![format!(
            "{:<4} {:<32} {:>12} {:>12}",
            "step", "contraction", "FLOPs", "bytes"
        )];
        for (i, step) in plan.steps.iter().enumerate() {
            let contraction = format!("{},{}->{}", step.operands.0, step.operands.1, step.result);
            lines.push(format!(
                "{:<4} {:<32} {:>12} {:>12}",
                i + 1,
                contraction,
                format!("{:.3e}", step.flops),
                step.bytes
            ));
        }
        if plan.steps.is_empty() {
            lines.push("no pairwise product: one operand, summed or taken as a diagonal".into());
        }
        lines.push(format!(
            "largest intermediate {} elements",
            plan.largest_intermediate
        ));
        let total = plan.flops;
        lines.push(format!("total {total:.3e} FLOPs"));
        Ok(lines)
    }

    /// A line that must be exactly one expression, staged with facts.
    fn expression(&mut self, code: &str, command: &str) -> Result<Staged, Vec<FileReport>> {
        let staged = self.stage_guarded(command.to_owned(), code, true)?;
        match staged {
            Some(staged)
                if staged.program.stmts.len() == 1
                    && matches!(staged.program.stmts[0].kind, StmtKind::Expr(_)) =>
            {
                Ok(staged)
            }
            Some(staged) => {
                let start = staged.start;
                let d =
                    Diagnostic::unplaced(Code::Arg, format!("`{command}` takes one expression"));
                Err(self.fail(vec![d], command, start))
            }
            None => Err(self.reports(
                vec![Diagnostic::unplaced(
                    Code::Arg,
                    format!("`{command}` takes an expression"),
                )],
                None,
            )),
        }
    }

    /// A shape's sizes with the dims bound so far.
    fn concrete(&self, shape: &[Item]) -> Option<Vec<usize>> {
        let mut sizes = Vec::with_capacity(shape.len());
        for item in shape {
            let Item::Axis(axis) = item else {
                return None;
            };
            let n = axis
                .size
                .eval(&mut |atom| match atom {
                    AtomId::Dim(i) => self.globals.dims.get(i as usize).copied().flatten(),
                    _ => None,
                })
                .ok()
                .flatten()?;
            sizes.push(usize::try_from(n).ok()?);
        }
        Some(sizes)
    }
}

fn bytes(value: &Value) -> Option<u64> {
    match value {
        Value::Tensor(t) => Some(t.len() as u64 * t.dtype().width()),
        // A view holds only its base.
        Value::Broadcast(b) => Some(b.base.len() as u64 * b.base.dtype().width()),
        Value::Tuple(items) => items.iter().map(bytes).sum(),
        _ => None,
    }
}
