//! The checker's state: dims, generics, runs, fns and lexical scopes.

use rustc_hash::FxHashMap as HashMap;

use super::size::{AtomId, Size};
use super::types::{show_shape, show_type, Name, Names, RunId, Shape, Type};
use super::{CheckOptions, CheckOutput};
use crate::error::{Code, Diagnostic};
use crate::source::Span;

#[derive(Clone, Debug)]
pub struct DimInfo {
    pub name: Name,
    /// A constant when known, else an expression over symbolic dims.
    pub size: Size,
}

#[derive(Clone, Debug)]
pub enum ValueKind {
    Let,
    Input,
    Param,
    LoopVar,
}

#[derive(Clone, Debug)]
pub enum Entry {
    Dim(u32),
    Generic(u32),
    Value {
        ty: Type,
        kind: ValueKind,
        span: Span,
    },
    Fn(usize),
}

#[derive(Default)]
pub struct Scope {
    pub names: HashMap<Name, Entry>,
}

pub struct FnCtx {
    /// Index of the fn body's outermost scope; scopes below are global.
    pub first_scope: usize,
    pub returns: Vec<(Type, Span)>,
}

pub struct Checker<'o> {
    pub options: &'o CheckOptions,
    pub diags: Vec<Diagnostic>,
    pub types_out: Vec<(Span, String)>,
    pub dims: Vec<DimInfo>,
    pub generics: Vec<Name>,
    pub runs: Vec<Name>,
    pub fns: Vec<std::rc::Rc<super::fns::FnSig>>,
    pub scopes: Vec<Scope>,
    pub fn_ctx: Option<FnCtx>,
    /// Nesting of loops and branches, where a reassignment may not happen.
    pub control_depth: usize,
    pub fresh_atoms: u32,
    /// The `*runs` of the fn signature being checked.
    pub current_runs: super::annot::RunMap,
    pub facts: super::facts::Facts,
}

impl<'o> Checker<'o> {
    pub fn new(options: &'o CheckOptions) -> Checker<'o> {
        Checker {
            options,
            diags: Vec::new(),
            types_out: Vec::new(),
            dims: Vec::new(),
            generics: Vec::new(),
            runs: Vec::new(),
            fns: Vec::new(),
            scopes: vec![Scope::default()],
            fn_ctx: None,
            control_depth: 0,
            fresh_atoms: 0,
            current_runs: Default::default(),
            facts: Default::default(),
        }
    }

    pub fn finish(self) -> CheckOutput {
        CheckOutput {
            diagnostics: self.diags,
            types: self.types_out,
            facts: self.facts,
            dims: self.dims,
            fns: self.fns,
        }
    }

    pub fn report(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// Reports and returns the unknown type, for `return cx.fail(...)`.
    pub fn fail(&mut self, diagnostic: Diagnostic) -> Type {
        self.report(diagnostic);
        Type::Unknown
    }

    pub fn lookup(&self, name: &str) -> Option<&Entry> {
        self.scopes.iter().rev().find_map(|s| s.names.get(name))
    }

    /// The scope index holding `name`, innermost first.
    pub fn lookup_scope(&self, name: &str) -> Option<usize> {
        (0..self.scopes.len())
            .rev()
            .find(|&i| self.scopes[i].names.contains_key(name))
    }

    pub fn define(&mut self, name: &str, entry: Entry) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.names.insert(Name::from(name), entry);
        }
    }

    /// Makes room for `additional` more globals up front, so that a long
    /// script's global table does not rehash every entry each time it
    /// doubles. Only a hint: if the memory is not there, nothing is reserved.
    pub fn reserve_globals(&mut self, additional: usize) {
        if let Some(globals) = self.scopes.first_mut() {
            let _ = globals.names.try_reserve(additional);
        }
    }

    pub fn push_scope(&mut self) {
        self.scopes.push(Scope::default());
    }

    pub fn pop_scope(&mut self) {
        if self.scopes.len() > 1 {
            self.scopes.pop();
        }
    }

    pub fn fresh_size(&mut self) -> Size {
        self.fresh_atoms += 1;
        Size::atom(AtomId::Fresh(self.fresh_atoms))
    }

    pub fn new_run(&mut self, name: &str) -> RunId {
        self.runs.push(Name::from(name));
        RunId(self.runs.len() as u32 - 1)
    }

    pub fn show(&self, ty: &Type) -> String {
        show_type(ty, self)
    }

    pub fn show_shape(&self, shape: &Shape) -> String {
        show_shape(shape, self)
    }

    pub fn show_size(&self, size: &Size) -> String {
        super::types::show_size(size, self)
    }

    /// Names in scope for "did you mean" suggestions.
    pub fn names_in_scope(&self) -> Vec<Name> {
        let mut names: Vec<Name> = self
            .scopes
            .iter()
            .flat_map(|s| s.names.keys().cloned())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    pub fn internal(&mut self, span: Span, what: &str) -> Type {
        self.fail(Diagnostic::new(
            Code::Internal,
            span,
            format!("internal error in tsr: {what}"),
        ))
    }
}

impl Names for Checker<'_> {
    fn atom(&self, atom: AtomId) -> String {
        match atom {
            AtomId::Dim(i) => self
                .dims
                .get(i as usize)
                .map_or_else(|| format!("dim{i}"), |d| d.name.to_string()),
            AtomId::Generic(i) => self
                .generics
                .get(i as usize)
                .map_or_else(|| format!("g{i}"), |g| g.to_string()),
            AtomId::RunProduct(i) => format!(
                "|{}|",
                self.runs.get(i as usize).map_or("run", |r| r.as_ref())
            ),
            AtomId::Fresh(i) => format!("?{i}"),
        }
    }

    fn alias(&self, size: &Size) -> Option<String> {
        self.dims
            .iter()
            .find(|d| d.size == *size)
            .map(|d| d.name.to_string())
    }

    fn run(&self, run: RunId) -> String {
        self.runs
            .get(run.0 as usize)
            .map_or_else(|| "run".to_string(), |r| r.to_string())
    }
}
