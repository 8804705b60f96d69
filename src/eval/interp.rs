//! The interpreter: statements, names, fn calls and control flow. Builtins
//! run through their kernels in `crate::ops`.

use std::io::Write;
use std::rc::Rc;

use ndarray::IxDyn;
use rustc_hash::FxHashMap;

use super::random::Rng;
use super::sizes::SizeEnv;
use super::value::{Array, Tensor, Value};
use super::RunOptions;
use crate::check::facts::Facts;
use crate::check::fns::FnSig;
use crate::check::size::{AtomId, Size};
use crate::check::types::{DType, Type};
use crate::check::CheckOutput;
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{
    Block, DimDecl, Expr, ExprKind, FnDef, Ident, IndexItem, NodeId, Pattern, Program, Stmt,
    StmtKind, UnaryOp,
};

/// Why evaluation stopped early: a `return`, an error of the program, or
/// a fault in what the command line gave it (exit 2).
pub enum Flow {
    Return(Value),
    Error(Diagnostic),
    CommandLine(Diagnostic),
}

impl From<Diagnostic> for Flow {
    fn from(d: Diagnostic) -> Flow {
        Flow::Error(d)
    }
}

pub type Eval<T> = Result<T, Diagnostic>;

/// A run that stopped: its diagnostic, and whether the command line was
/// at fault (an input given no data or a file it cannot read), which
/// exits 2.
pub struct Failure {
    pub diagnostic: Diagnostic,
    pub usage: bool,
}

pub fn runtime_error(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::Runtime, span, message).label(span, "failed here")
}

/// What outlives one run in a session: global bindings, dim sizes, where
/// data bound each dim, and the random stream. Cloning it is cheap (tensors
/// share their data), so the REPL keeps a clone to undo a failed line; a
/// write copies only the tensors it touches.
#[derive(Clone)]
pub struct Globals {
    pub values: FxHashMap<Rc<str>, Value>,
    pub dims: Vec<Option<i64>>,
    pub dim_sources: FxHashMap<u32, String>,
    pub rng: Rng,
}

impl Globals {
    pub fn new(seed: u64) -> Globals {
        Globals {
            values: FxHashMap::default(),
            dims: Vec::new(),
            dim_sources: FxHashMap::default(),
            rng: Rng::new(seed),
        }
    }
}

pub struct Interp<'a> {
    facts: &'a Facts,
    pub(super) sigs: &'a [Rc<FnSig>],
    pub(crate) sizes: SizeEnv,
    dim_ids: FxHashMap<&'a str, u32>,
    dim_sizes: Vec<Size>,
    pub(super) scopes: Vec<FxHashMap<Rc<str>, Value>>,
    pub(super) fns: FxHashMap<Rc<str>, (&'a FnDef, Rc<FnSig>)>,
    /// Index of the first scope of the fn being called; globals are scope 0.
    pub(super) fn_base: usize,
    profile: super::profile::Profile,
    /// FLOPs counted so far, for `--profile`.
    flops: f64,
    /// Seconds and FLOPs of the statements nested in the one being
    /// profiled, which it is not charged for.
    nested_cost: (f64, f64),
    /// Which input or file bound each symbolic dim, for conflict messages.
    pub(super) dim_sources: FxHashMap<u32, String>,
    /// The signatures of the fn calls in progress, innermost last.
    pub(super) calls: Vec<Rc<FnSig>>,
    pub(crate) rng: Rng,
    /// The tape of a grad-family call in progress (`autodiff`).
    pub(crate) trace: Option<Box<super::autodiff::Trace<'a>>>,
    /// How element types are chosen (`gradcheck` and gradients vary it).
    pub(crate) dtypes: super::autodiff::DTypes,
    pub(crate) out: &'a mut dyn Write,
    pub(crate) options: &'a RunOptions,
    /// Whether elementwise chains run fused (`super::fuse`); off while
    /// something must see every intermediate, such as an autodiff tape.
    pub(crate) fuse: bool,
    /// The fused plan of each expression evaluated so far (`None`: it
    /// does not fuse).
    pub(super) plans: FxHashMap<NodeId, Option<Rc<super::fuse::Plan<'a>>>>,
}

impl<'a> Interp<'a> {
    pub fn new(
        checked: &'a CheckOutput,
        options: &'a RunOptions,
        out: &'a mut dyn Write,
    ) -> Interp<'a> {
        let dim_ids = checked
            .dims
            .iter()
            .enumerate()
            .map(|(i, d)| (d.name.as_ref(), i as u32))
            .collect();
        Interp {
            facts: &checked.facts,
            sigs: &checked.fns,
            sizes: SizeEnv {
                dims: vec![None; checked.dims.len()],
                frames: Vec::new(),
            },
            dim_ids,
            dim_sizes: checked.dims.iter().map(|d| d.size.clone()).collect(),
            scopes: vec![FxHashMap::default()],
            fns: FxHashMap::default(),
            fn_base: 0,
            calls: Vec::new(),
            dim_sources: FxHashMap::default(),
            profile: Default::default(),
            flops: 0.0,
            nested_cost: (0.0, 0.0),
            rng: Rng::new(options.seed),
            trace: None,
            dtypes: Default::default(),
            out,
            options,
            fuse: true,
            plans: FxHashMap::default(),
        }
    }

    /// Fusion computes in the checker's element types, so it is off while
    /// gradients or `gradcheck` choose them otherwise.
    pub(crate) fn fusion_enabled(&self) -> bool {
        self.fuse && self.dtypes == super::autodiff::DTypes::Proved
    }

    pub fn run(&mut self, program: &'a Program) -> Result<(), Failure> {
        program
            .stmts
            .iter()
            .try_for_each(|stmt| self.run_statement(stmt))
    }

    /// Runs one top-level statement.
    pub fn run_statement(&mut self, stmt: &'a Stmt) -> Result<(), Failure> {
        match self.stmt(stmt) {
            Ok(()) => Ok(()),
            Err(Flow::Error(d)) => Err(Failure {
                diagnostic: d,
                usage: false,
            }),
            Err(Flow::CommandLine(d)) => Err(Failure {
                diagnostic: d,
                usage: true,
            }),
            Err(Flow::Return(_)) => Err(Failure {
                diagnostic: runtime_error(stmt.span, "`return` outside a fn"),
                usage: false,
            }),
        }
    }

    /// Continues a session (the REPL) where an earlier interpreter over the
    /// same checked statements stopped: its globals, and the fns defined so
    /// far, in definition order.
    pub fn resume(&mut self, globals: Globals, fns: impl IntoIterator<Item = &'a FnDef>) {
        let Globals {
            values,
            mut dims,
            dim_sources,
            rng,
        } = globals;
        dims.resize(self.sizes.dims.len(), None);
        self.sizes.dims = dims;
        self.scopes = vec![values];
        self.dim_sources = dim_sources;
        self.rng = rng;
        for (def, sig) in fns.into_iter().zip(self.sigs) {
            self.fns
                .insert(Rc::from(def.name.name.as_str()), (def, sig.clone()));
        }
    }

    /// What a later [`Interp::resume`] continues from.
    pub fn into_globals(mut self) -> Globals {
        Globals {
            values: self.scopes.swap_remove(0),
            dims: std::mem::take(&mut self.sizes.dims),
            dim_sources: std::mem::take(&mut self.dim_sources),
            rng: self.rng.clone(),
        }
    }

    /// The type the checker proved for an expression.
    pub fn fact(&self, e: &Expr) -> Option<&'a Type> {
        self.facts.types.get(&e.id)
    }

    pub(super) fn facts_types(
        &self,
    ) -> &'a rustc_hash::FxHashMap<crate::syntax::ast::NodeId, Type> {
        &self.facts.types
    }

    pub(super) fn facts_pattern_dims(
        &self,
    ) -> &'a FxHashMap<NodeId, Vec<(crate::check::types::Name, Size)>> {
        &self.facts.pattern_dims
    }

    pub fn resolved_axis(&self, e: &Expr) -> Option<usize> {
        self.facts.axes.get(&e.id).copied()
    }

    /// A static size argument's value, evaluated with the dims bound now.
    pub fn static_size(&self, e: &Expr) -> Eval<i64> {
        let size = self
            .facts
            .sizes
            .get(&e.id)
            .ok_or_else(|| internal(e.span, "a static size the checker did not record"))?;
        self.sizes
            .eval(size)
            .ok_or_else(|| self.unbound(e.span, size))
    }

    pub(super) fn unbound(&self, span: Span, size: &Size) -> Diagnostic {
        let names: Vec<String> = self
            .unbound_dims(size)
            .iter()
            .map(|name| format!("`{name}`"))
            .collect();
        let message = match names.as_slice() {
            [] => "a size used here has no value yet".to_string(),
            [one] => format!("the dim {one} has no value yet"),
            many => format!("the dims {} have no value yet", many.join(", ")),
        };
        Diagnostic::new(Code::Dim, span, message)
            .label(span, "needs a value")
            .help("bind symbolic dims with `--dim N=...`, or through an input's data")
    }

    /// Why a proved shape cannot be made concrete: a dim with no value
    /// (`dim N` with neither `--dim` nor data), or else a checker fault.
    pub(super) fn unknown_shape(&self, ty: &Type, span: Span) -> Diagnostic {
        let Type::Tensor(t) = ty else {
            return internal(span, "a result that is not a tensor");
        };
        t.shape
            .iter()
            .find_map(|item| match item {
                crate::check::types::Item::Axis(axis)
                    if !self.unbound_dims(&axis.size).is_empty() =>
                {
                    Some(self.unbound(span, &axis.size))
                }
                _ => None,
            })
            .unwrap_or_else(|| internal(span, "a result shape with a size not known yet"))
    }

    /// The dims `size` depends on that are not bound yet, by name.
    pub(super) fn unbound_dims(&self, size: &Size) -> Vec<&'a str> {
        size.atoms()
            .into_iter()
            .filter_map(|atom| match atom {
                AtomId::Dim(id) if self.sizes.dims.get(id as usize)?.is_none() => self.dim_name(id),
                _ => None,
            })
            .collect()
    }

    pub(super) fn dim_name(&self, id: u32) -> Option<&'a str> {
        self.dim_ids
            .iter()
            .find_map(|(&name, &i)| (i == id).then_some(name))
    }

    fn block(&mut self, block: &'a Block) -> Result<(), Flow> {
        self.scopes.push(FxHashMap::default());
        let result = block.stmts.iter().try_for_each(|s| self.stmt(s));
        self.scopes.pop();
        result
    }

    pub(super) fn stmt(&mut self, stmt: &'a Stmt) -> Result<(), Flow> {
        super::cancel::check(stmt.span)?;
        if self.begin_statement() {
            let result = self.stmt_kind(stmt);
            self.end_statement();
            return result;
        }
        self.charged(stmt.span, |ev| ev.stmt_kind(stmt))
    }

    /// Runs `work` for the statement at `span`, which `--profile` charges.
    /// Each line is charged its own work only: what nested statements
    /// (a loop's body, a called fn's lines) cost is charged to them, so
    /// a one-line loop is not counted twice and the column sums to the run.
    pub(super) fn charged<T>(
        &mut self,
        span: Span,
        work: impl FnOnce(&mut Self) -> Result<T, Flow>,
    ) -> Result<T, Flow> {
        if !self.options.profile {
            return work(self);
        }
        let outer = std::mem::take(&mut self.nested_cost);
        let (start, flops) = (std::time::Instant::now(), self.flops);
        let result = work(self);
        let (seconds, flops) = (start.elapsed().as_secs_f64(), self.flops - flops);
        let nested = std::mem::replace(&mut self.nested_cost, outer);
        self.nested_cost.0 += seconds;
        self.nested_cost.1 += flops;
        let cost = self.profile.by_offset.entry(span.start).or_default();
        cost.calls += 1;
        cost.seconds += (seconds - nested.0).max(0.0);
        cost.flops += flops - nested.1;
        result
    }

    pub fn take_profile(&mut self) -> super::profile::Profile {
        std::mem::take(&mut self.profile)
    }

    /// `--max-memory`: refuses an expression whose result, as the checker
    /// proved its shape, would be larger, before anything is allocated.
    pub fn check_memory(&self, e: &Expr) -> Eval<()> {
        let Some(ty @ Type::Tensor(t)) = self.fact(e) else {
            return Ok(());
        };
        match self.sizes.shape(ty) {
            Some(shape) => self.fits_in_memory(&shape, t.dtype.width(), e.span),
            None => Ok(()),
        }
    }

    /// Refuses (`tsr::limit`) a buffer of `shape` elements of `element_bytes`
    /// each that would be larger than `--max-memory`.
    pub fn fits_in_memory(&self, shape: &[usize], element_bytes: u64, span: Span) -> Eval<()> {
        let limit = self.options.max_memory;
        let bytes = shape
            .iter()
            .try_fold(element_bytes, |n, &size| n.checked_mul(size as u64));
        if bytes.is_some_and(|n| n <= limit) {
            return Ok(());
        }
        let message = format!(
            "a tensor of shape {shape:?} is larger than the {limit} bytes `--max-memory` allows"
        );
        Err(Diagnostic::new(Code::Limit, span, message)
            .label(span, "too large")
            .help("make it smaller, or raise the limit with `--max-memory BYTES`"))
    }

    /// Counts floating-point work for `--profile`.
    pub fn add_flops(&mut self, flops: f64) {
        self.flops += flops;
    }

    /// The FLOPs counted since the run began.
    pub(crate) fn flops_counted(&self) -> f64 {
        self.flops
    }

    fn stmt_kind(&mut self, stmt: &'a Stmt) -> Result<(), Flow> {
        match &stmt.kind {
            StmtKind::Dim(decls) => decls.iter().try_for_each(|d| self.dim(d))?,
            StmtKind::Input { name, .. } => {
                let value = self.input(name)?;
                self.define(&name.name, value);
            }
            StmtKind::Let { pattern, value, .. } => {
                let v = self.lazy_expr(value)?;
                self.bind(pattern, v);
            }
            StmtKind::Assign {
                target,
                indices,
                value,
            } => match indices {
                None => {
                    let v = self.lazy_expr(value)?;
                    self.assign(target, v);
                }
                Some(items) => {
                    let v = self.expr(value)?;
                    self.assign_region(target, items, v, stmt.span)?;
                }
            },
            StmtKind::Fn(def) => {
                let index = self.fns.len();
                let sig =
                    self.sigs.get(index).cloned().ok_or_else(|| {
                        internal(def.name.span, "a fn the checker did not record")
                    })?;
                self.fns
                    .insert(Rc::from(def.name.name.as_str()), (def, sig));
            }
            StmtKind::For {
                var,
                start,
                end,
                body,
            } => {
                let (a, b) = (self.static_size(start)?, self.static_size(end)?);
                for i in a..b {
                    super::cancel::check(stmt.span)?;
                    self.scopes.push(FxHashMap::default());
                    self.define(
                        &var.name,
                        scalar(Tensor::I64(Array::from_elem(IxDyn(&[]), i))),
                    );
                    let result = self.block(body);
                    self.scopes.pop();
                    result?;
                }
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                if self.truth(cond)? {
                    self.block(then_block)?;
                } else if let Some(block) = else_block {
                    self.block(block)?;
                }
            }
            StmtKind::Return(value) => return Err(Flow::Return(self.expr(value)?)),
            StmtKind::Expr(e) => {
                self.lazy_expr(e)?;
            }
        }
        Ok(())
    }

    /// A bool scalar condition (`if`, `assert`).
    pub fn truth(&mut self, e: &'a Expr) -> Eval<bool> {
        let value = self.expr(e)?;
        value
            .tensor()
            .and_then(Tensor::item)
            .map(|v| v != 0.0)
            .ok_or_else(|| internal(e.span, "a condition that is not a scalar"))
    }

    fn dim(&mut self, decl: &DimDecl) -> Eval<()> {
        let Some(&id) = self.dim_ids.get(decl.name.name.as_str()) else {
            return Err(internal(decl.span, "a dim the checker did not record"));
        };
        let size = &self.dim_sizes[id as usize];
        if size.as_atom() == Some(AtomId::Dim(id)) {
            return Ok(()); // symbolic: bound later by data
        }
        let value = self.sizes.eval(size);
        if let Some(v) = value {
            if v < 0 {
                return Err(Diagnostic::new(
                    Code::Dim,
                    decl.span,
                    format!("dim `{}` = {v} is negative", decl.name.name),
                ));
            }
        }
        self.sizes.dims[id as usize] = value;
        Ok(())
    }

    /// An input's value: data that disagrees with the declared type is the
    /// program's error; no data, or a file that cannot be read, is the
    /// command line's (10.10).
    fn input(&mut self, name: &Ident) -> Result<Value, Flow> {
        let ty =
            self.facts.declared.get(&name.span).ok_or_else(|| {
                internal(name.span, "an input whose type the checker did not record")
            })?;
        if let Some(t) = self.input_data(&name.name, ty, name.span)? {
            return Ok(scalar(t));
        }
        if !self.options.random_inputs {
            return Err(Flow::CommandLine(
                Diagnostic::new(
                    Code::Io,
                    name.span,
                    format!("no data for input `{}`", name.name),
                )
                .label(name.span, "no data")
                .help(format!(
                    "give it with `--input {}=file.npy`, or run with `--random-inputs`",
                    name.name
                )),
            ));
        }
        let (shape, dtype) = match (self.sizes.shape(ty), ty) {
            (Some(shape), Type::Tensor(t)) => (shape, t.dtype),
            _ => {
                return Err(Diagnostic::new(
                    Code::Dim,
                    name.span,
                    format!("input `{}` has a size no dim gives a value to", name.name),
                )
                .help("bind its dims with `--dim N=...`")
                .into())
            }
        };
        Ok(scalar(self.random(&shape, dtype, true)))
    }

    /// `seed(n)`: the random numbers that follow depend only on `n`.
    pub fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }

    /// Fills a tensor with randn (`normal`) or rand.
    pub fn random(&mut self, shape: &[usize], dtype: DType, normal: bool) -> Tensor {
        let n: usize = shape.iter().product();
        let mut values = Vec::with_capacity(n);
        for _ in 0..n {
            values.push(if normal {
                self.rng.normal()
            } else {
                self.rng.uniform()
            });
        }
        let array = Array::from_shape_vec(IxDyn(shape), values)
            .unwrap_or_else(|_| Array::from_elem(IxDyn(&[0]), 0.0));
        Tensor::F64(array).cast(dtype)
    }

    pub(super) fn define(&mut self, name: &str, value: Value) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(Rc::from(name), value);
        }
    }

    fn bind(&mut self, pattern: &Pattern, value: Value) {
        match (pattern, value) {
            (Pattern::Name(ident), value) => self.define(&ident.name, value),
            (Pattern::Wildcard(_), _) => {}
            (Pattern::Tuple(items, _), Value::Tuple(values)) => {
                for (item, v) in items.iter().zip(values.iter()) {
                    self.bind(item, v.clone());
                }
            }
            (Pattern::Tuple(..), _) => {}
        }
    }

    fn assign(&mut self, target: &Ident, value: Value) {
        let base = self.fn_base;
        if let Some(scope) = self.scopes[base..]
            .iter_mut()
            .rev()
            .find(|s| s.contains_key(target.name.as_str()))
        {
            if let Some(slot) = scope.get_mut(target.name.as_str()) {
                *slot = value;
            }
        }
    }

    fn assign_region(
        &mut self,
        target: &Ident,
        items: &'a [IndexItem],
        value: Value,
        span: Span,
    ) -> Eval<()> {
        let current = self
            .lookup(&target.name)
            .cloned()
            .ok_or_else(|| internal(target.span, "an indexed assignment to a missing name"))?;
        let current = self
            .dense(current, span)?
            .tensor()
            .cloned()
            .ok_or_else(|| internal(target.span, "an indexed assignment to a non-tensor"))?;
        let value = value
            .tensor()
            .cloned()
            .ok_or_else(|| internal(span, "a non-tensor assigned into a tensor"))?;
        // Take the binding's own handle out first, so the write copies the
        // data only when another binding still shares it.
        self.assign(target, Value::Nothing);
        let updated = super::operators::assign_region(self, current.clone(), items, &value, span);
        match updated {
            Ok(t) => {
                if self.trace.is_some() {
                    self.record_assign(items, span, (&current, &value), &t);
                }
                self.assign(target, scalar(t));
                Ok(())
            }
            Err(d) => Err(d),
        }
    }

    /// A fn body sees its own scopes, innermost first, then the globals
    /// (scope 0) — not the scopes of the code that called it.
    pub fn lookup(&self, name: &str) -> Option<&Value> {
        let own = self.scopes[self.fn_base..].iter().rev();
        let globals = if self.fn_base > 0 {
            &self.scopes[..1]
        } else {
            &[]
        };
        own.chain(globals).find_map(|s| s.get(name))
    }

    /// The value of `e`, its elements in memory.
    pub fn expr(&mut self, e: &'a Expr) -> Eval<Value> {
        let value = self.lazy_expr(e)?;
        self.dense(value, e.span)
    }

    /// `value` with a broadcast's elements in memory, if `--max-memory`
    /// allows them.
    pub fn dense(&self, value: Value, span: Span) -> Eval<Value> {
        let Value::Broadcast(b) = value else {
            return Ok(value);
        };
        self.fits_in_memory(&b.shape, b.base.dtype().width(), span)?;
        b.materialise()
            .map(Value::Tensor)
            .ok_or_else(|| internal(span, "a broadcast whose shapes do not broadcast"))
    }

    /// The value of `e`, which may be a [`Value::Broadcast`]: for consumers
    /// that read one without copying it.
    pub fn lazy_expr(&mut self, e: &'a Expr) -> Eval<Value> {
        if self.trace.is_some() {
            return self.traced_expr(e);
        }
        if self.fusion_enabled() && super::fuse::may_fuse(e) {
            if let Some(v) = self.fused(e)? {
                super::cancel::check(e.span)?;
                return Ok(v);
            }
        }
        let value = self.expr_kind(e)?;
        // Kernels skip their remaining chunks once Ctrl-C asks them to;
        // what they return then is not a result.
        super::cancel::check(e.span)?;
        Ok(value)
    }

    pub(super) fn expr_kind(&mut self, e: &'a Expr) -> Eval<Value> {
        match &e.kind {
            ExprKind::Int(Some(v)) => Ok(self.integer_literal(e, *v)),
            ExprKind::Float(v) => Ok(self.literal(e, *v)),
            ExprKind::Bool(b) => Ok(scalar(Tensor::Bool(Array::from_elem(IxDyn(&[]), *b)))),
            ExprKind::Str(s) => Ok(Value::Str(Rc::from(s.as_str()))),
            ExprKind::Name(name) => self.name(name, e),
            ExprKind::Tuple(items) => {
                let values = items
                    .iter()
                    .map(|i| self.expr(i))
                    .collect::<Eval<Vec<_>>>()?;
                Ok(Value::Tuple(values.into()))
            }
            ExprKind::Dict(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let ExprKind::Str(k) = &key.kind else {
                        return Err(internal(key.span, "a dict key that is not a string"));
                    };
                    out.push((k.clone(), self.expr(value)?));
                }
                Ok(Value::Dict(out.into()))
            }
            ExprKind::List(items) => self.tensor_literal(e, items),
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => {
                let v = self.lazy_expr(operand)?;
                let (base, shape) = v
                    .tensor_as()
                    .ok_or_else(|| internal(e.span, "a tensor was expected"))?;
                Ok(Value::broadcast(super::operators::negate(base), shape))
            }
            ExprKind::Binary { op, lhs, rhs } if *op != crate::syntax::ast::BinaryOp::MatMul => {
                let (l, r) = (self.lazy_expr(lhs)?, self.lazy_expr(rhs)?);
                self.elementwise(*op, (&l, &r), e)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (l, r) = (self.tensor(lhs)?, self.tensor(rhs)?);
                self.check_memory(e)?;
                let out = self.operator_type(e);
                let result = super::operators::binary(*op, &l, &r, &out, e.span)?;
                self.flops += super::operators::flops(*op, &l, &result);
                Ok(scalar(result))
            }
            ExprKind::Call { .. } | ExprKind::Method { .. } => {
                let (name, refs) =
                    call_args(e).ok_or_else(|| internal(e.span, "a call without a callee"))?;
                self.call(name, refs, e)
            }
            ExprKind::Field { receiver, name } => {
                let v = self.lazy_expr(receiver)?;
                super::operators::field(&v, &name.name, e.span)
            }
            ExprKind::Index { base, items } => {
                let value = self.lazy_expr(base)?;
                super::operators::index(self, value, items, e)
            }
            ExprKind::Int(None) => Err(internal(e.span, "an integer literal out of range")),
        }
    }

    /// A number literal takes the element type the checker gave it.
    /// A number literal or dim. A weak scalar keeps full precision (f64, or
    /// i64) until an operation casts it to the type the checker chose, as
    /// NumPy keeps a Python float exact in `f64_array * 0.1`.
    fn literal(&self, e: &Expr, v: f64) -> Value {
        let dtype = match self.fact(e) {
            Some(Type::Tensor(t)) if t.weak && t.dtype.is_float() => DType::F64,
            Some(Type::Tensor(t)) => t.dtype,
            _ => DType::F64,
        };
        let dtype = self.dtypes.map(dtype);
        scalar(Tensor::scalar_f64(dtype, v))
    }

    /// An integer literal stays exact in i64 (f64 holds only 53 bits) unless
    /// the checker gave it a float type.
    fn integer_literal(&self, e: &Expr, v: i64) -> Value {
        match self.fact(e) {
            Some(Type::Tensor(t)) if t.dtype.is_float() || t.dtype == DType::Bool => {
                self.literal(e, v as f64)
            }
            _ => scalar(Tensor::I64(Array::from_elem(IxDyn(&[]), v))),
        }
    }

    fn tensor_literal(&mut self, e: &'a Expr, items: &'a [Expr]) -> Eval<Value> {
        let values = items
            .iter()
            .map(|i| self.tensor(i))
            .collect::<Eval<Vec<_>>>()?;
        let dtype = match self.fact(e) {
            Some(Type::Tensor(t)) => self.dtypes.map(t.dtype),
            _ => DType::F32,
        };
        super::operators::stack_items(&values, dtype, e.span).map(scalar)
    }

    pub fn tensor(&mut self, e: &'a Expr) -> Eval<Tensor> {
        match self.expr(e)? {
            Value::Tensor(t) => Ok(t),
            _ => Err(internal(e.span, "a tensor was expected")),
        }
    }

    fn name(&mut self, name: &str, e: &Expr) -> Eval<Value> {
        if let Some(v) = self.lookup(name) {
            // While a tape records, every value is one tensor it can follow.
            let v = v.clone();
            return match self.trace {
                Some(_) => self.dense(v, e.span),
                None => Ok(v),
            };
        }
        if let Some(&id) = self.dim_ids.get(name) {
            let size = &self.dim_sizes[id as usize];
            let v = self
                .sizes
                .eval(size)
                .ok_or_else(|| self.unbound(e.span, size))?;
            return Ok(self.literal(e, v as f64));
        }
        if let Some(frame) = self.sizes.frames.last() {
            if let Some((_, sig)) = self.current_generic(name) {
                if let Some(v) = frame.atoms.get(&AtomId::Generic(sig)) {
                    return Ok(self.literal(e, *v as f64));
                }
            }
        }
        let v = match name {
            "pi" => std::f64::consts::PI,
            "inf" => f64::INFINITY,
            "nan" => f64::NAN,
            _ => return Err(internal(e.span, "a name the checker did not resolve")),
        };
        Ok(self.literal(e, v))
    }

    /// The generic named `name` of the fn being called, if any.
    fn current_generic(&self, name: &str) -> Option<(Rc<str>, u32)> {
        self.calls
            .last()
            .and_then(|sig| sig.generics.iter().find(|(n, _)| n.as_ref() == name))
            .map(|(n, g)| (n.clone(), *g))
    }
}

/// A call's builtin or fn name and its arguments as written (a method's
/// receiver first).
pub fn call_args(e: &Expr) -> Option<(&str, Vec<crate::ops::ArgRef<'_>>)> {
    match &e.kind {
        ExprKind::Call { callee, args } => Some((callee.name.as_str(), written(args))),
        ExprKind::Method {
            receiver,
            name,
            args,
        } => {
            let mut refs = vec![crate::ops::ArgRef {
                name: None,
                value: receiver,
                span: receiver.span,
            }];
            refs.extend(written(args));
            Some((name.name.as_str(), refs))
        }
        _ => None,
    }
}

fn written(args: &[crate::syntax::ast::Arg]) -> Vec<crate::ops::ArgRef<'_>> {
    args.iter()
        .map(|a| crate::ops::ArgRef {
            name: a.name.as_ref().map(|n| n.name.as_str()),
            value: &a.value,
            span: a.span,
        })
        .collect()
}

pub fn scalar(t: Tensor) -> Value {
    Value::Tensor(t)
}

pub fn internal(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::Internal,
        span,
        format!("internal error in tsr: {what}"),
    )
}
