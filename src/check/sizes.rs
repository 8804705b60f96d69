//! Static size expressions (spec 10.1) and dim declarations (section 2).

use super::env::{Checker, DimInfo, Entry};
use super::size::{AtomId, Size, SizeError};
use super::suggest::closest;
use super::types::{Name, Type};
use super::MAX_SIZE;
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{BinaryOp, DimDecl, Expr, ExprKind, IndexItemKind, UnaryOp};

impl Checker<'_> {
    /// Evaluates a size expression that must be known before anything runs.
    pub fn static_size(&mut self, e: &Expr) -> Result<Size, Diagnostic> {
        let size = self.resolve_size(e)?;
        if self.options.record_facts {
            self.facts.sizes.insert(e.id, size.clone());
        }
        Ok(size)
    }

    fn resolve_size(&mut self, e: &Expr) -> Result<Size, Diagnostic> {
        match &e.kind {
            ExprKind::Int(Some(v)) if v.abs() > MAX_SIZE => {
                Err(super::limit_error(e.span, "this size"))
            }
            ExprKind::Int(Some(v)) => Ok(Size::constant(*v)),
            ExprKind::Int(None) => Err(super::limit_error(e.span, "this integer")),
            ExprKind::Name(name) => self.name_size(name, e.span),
            ExprKind::Unary {
                op: UnaryOp::Neg,
                operand,
            } => {
                let inner = self.static_size(operand)?;
                size_result(Size::constant(0).sub(&inner), e.span)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.static_size(lhs)?;
                let r = self.static_size(rhs)?;
                let result = match op {
                    BinaryOp::Add => l.add(&r),
                    BinaryOp::Sub => l.sub(&r),
                    BinaryOp::Mul => l.mul(&r),
                    BinaryOp::Div => l.div_exact(&r),
                    _ => return Err(not_static(e.span)),
                };
                let size = size_result(result, e.span).map_err(|d| {
                    if *op == BinaryOp::Div {
                        self.division_help(d, [(lhs, &l), (rhs, &r)])
                    } else {
                        d
                    }
                })?;
                if size.as_const().is_some_and(|v| v.abs() > MAX_SIZE) {
                    return Err(super::limit_error(e.span, "this size"));
                }
                Ok(size)
            }
            ExprKind::Call { callee, args } if callee.name == "size" && args.len() == 2 => {
                let ty = self.expr(&args[0].value);
                self.size_of_axis(&ty, &args[1].value)
            }
            ExprKind::Index { base, items } if items.len() == 1 => {
                let ExprKind::Field { receiver, name } = &base.kind else {
                    return Err(not_static(e.span));
                };
                let IndexItemKind::Expr(index) = &items[0].kind else {
                    return Err(not_static(e.span));
                };
                if name.name != "shape" {
                    return Err(not_static(e.span));
                }
                let ty = self.expr(receiver);
                self.size_of_axis(&ty, index)
            }
            _ => Err(not_static(e.span)),
        }
    }

    fn division_help(&self, d: Diagnostic, operands: [(&Expr, &Size); 2]) -> Diagnostic {
        let [a, b] = operands.map(|(e, size)| {
            let text = self.describe(e);
            let value = self.show_size(size);
            if text == value {
                text
            } else {
                format!("{text} = {value}")
            }
        });
        let message = format!("{a} is not divisible by {b}: sizes must divide exactly");
        Diagnostic { message, ..d }
    }

    fn size_of_axis(&mut self, ty: &Type, axis: &Expr) -> Result<Size, Diagnostic> {
        if matches!(ty, Type::Unknown) {
            // Already reported: any size will do, and raises nothing further.
            return Ok(self.fresh_size());
        }
        let Type::Tensor(t) = ty else {
            return Err(Diagnostic::new(
                Code::Arg,
                axis.span,
                "`size` needs a tensor with a known shape",
            ));
        };
        let index = self.axis_index(&t.shape, axis)?;
        match &t.shape[index] {
            super::types::Item::Axis(a) => Ok(a.size.clone()),
            super::types::Item::Run(_) => Err(Diagnostic::new(
                Code::Axis,
                axis.span,
                "this axis falls inside a variadic run",
            )),
        }
    }

    fn name_size(&mut self, name: &str, span: Span) -> Result<Size, Diagnostic> {
        match self.lookup(name) {
            Some(Entry::Dim(id)) => Ok(self.dims[*id as usize].size.clone()),
            Some(Entry::Generic(g)) => Ok(Size::atom(AtomId::Generic(*g))),
            Some(_) => Err(not_static(span).help(format!(
                "`{name}` is a value; declare sizes with `dim {name} = ...`"
            ))),
            None => Err(self.undefined(name, span)),
        }
    }

    pub fn undefined(&self, name: &str, span: Span) -> Diagnostic {
        let mut d = Diagnostic::new(Code::Undefined, span, format!("`{name}` is not defined"))
            .label(span, "not found in this scope");
        let names = self.names_in_scope();
        let builtins = crate::ops::builtin_names();
        let candidates = names
            .iter()
            .map(|n| n.as_ref())
            .chain(builtins.iter().copied());
        if let Some(best) = closest(name, candidates) {
            d = d.help(format!("did you mean `{best}`?"));
        }
        d
    }

    /// `dim A = e, B, ...`
    pub fn dim_decl(&mut self, decl: &DimDecl) {
        let name = decl.name.name.as_str();
        if self.lookup_scope(name) == Some(0) {
            if let Some(Entry::Dim(_)) = self.lookup(name) {
                self.report(
                    Diagnostic::new(
                        Code::Dim,
                        decl.name.span,
                        format!("dim `{name}` is declared twice"),
                    )
                    .label(decl.name.span, "declared again here"),
                );
                return;
            }
        }
        let overridden = self
            .options
            .dims
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v);
        let id = self.dims.len() as u32;
        let size = match (overridden, &decl.value) {
            (Some(v), _) => Ok(Size::constant(v)),
            (None, None) => Ok(Size::atom(AtomId::Dim(id))),
            (None, Some(value)) => self.static_size(value).map_err(|d| match d.code {
                Code::Limit => Diagnostic {
                    code: Code::Dim,
                    ..d
                },
                _ => d,
            }),
        };
        let size = size.and_then(|size| match size.as_const() {
            Some(v) if !(0..=MAX_SIZE).contains(&v) => {
                let span = decl.value.as_ref().map_or(decl.span, |v| v.span);
                Err(Diagnostic::new(
                    Code::Dim,
                    span,
                    format!("dim `{name}` = {v} is not a size between 0 and 2^48"),
                ))
            }
            _ => Ok(size),
        });
        let size = match size {
            Ok(size) => size,
            Err(d) => {
                self.report(d);
                // Keep the name defined, as a size nothing is known about,
                // so later uses raise nothing further and compute nothing.
                Size::atom(AtomId::Dim(id))
            }
        };
        self.dims.push(DimInfo {
            name: Name::from(name),
            size,
        });
        self.scopes[0]
            .names
            .insert(Name::from(name), Entry::Dim(id));
    }

    /// Reports `--dim` names that no dim of the program declares.
    pub fn unknown_dim_options(&mut self) {
        let unknown: Vec<String> = self
            .options
            .dims
            .iter()
            .filter(|(n, _)| !matches!(self.scopes[0].names.get(n.as_str()), Some(Entry::Dim(_))))
            .map(|(n, _)| n.clone())
            .collect();
        for name in unknown {
            let mut d = Diagnostic::unplaced(
                Code::Dim,
                format!("--dim {name}=...: the program declares no dim `{name}`"),
            );
            let dims: Vec<&str> = self.dims.iter().map(|d| d.name.as_ref()).collect();
            if let Some(best) = closest(&name, dims) {
                d = d.help(format!("did you mean `{best}`?"));
            }
            self.report(d);
        }
    }
}

pub fn not_static(span: Span) -> Diagnostic {
    Diagnostic::new(Code::Arg, span, "this size must be known statically")
        .label(span, "not a static size expression")
        .help("use integers, dims, `size(x, axis)` or `x.shape[i]` with + - * /")
}

pub fn size_result(result: Result<Size, SizeError>, span: Span) -> Result<Size, Diagnostic> {
    result.map_err(|e| match e {
        SizeError::Overflow => super::limit_error(span, "this size"),
        other => Diagnostic::new(Code::Dim, span, other.to_string()).label(span, "here"),
    })
}
