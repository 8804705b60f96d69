//! Statements: bindings, assignment, loops, branches, declarations.

use super::annot::AnnotationUse;
use super::env::{Checker, Entry, ValueKind};
use super::types::{DType, Tensor, Type};
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Block, Expr, Ident, IndexItem, Pattern, Stmt, StmtKind};

impl Checker<'_> {
    pub fn check_top_level(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            self.stmt(stmt);
        }
        self.finish_top_level();
    }

    /// What can only be said once every statement has been seen.
    pub fn finish_top_level(&mut self) {
        self.unknown_dim_options();
    }

    /// Checks a block in its own scope; the type of its last expression
    /// statement is the block's value (a fn body's result).
    pub fn block(&mut self, block: &Block) -> Option<(Type, Span)> {
        self.push_scope();
        let mut last = None;
        for (i, stmt) in block.stmts.iter().enumerate() {
            let ty = self.stmt(stmt);
            if i + 1 == block.stmts.len() {
                last = ty.map(|t| (t, stmt.span));
            }
        }
        self.pop_scope();
        last
    }

    /// Returns the type of an expression statement.
    pub fn stmt(&mut self, stmt: &Stmt) -> Option<Type> {
        match &stmt.kind {
            StmtKind::Dim(decls) => {
                for decl in decls {
                    self.dim_decl(decl);
                }
            }
            StmtKind::Input { name, ty } => {
                let declared = self.annotation_type(ty, AnnotationUse::Input);
                if self.options.record_facts {
                    self.facts.declared.insert(name.span, declared.clone());
                }
                self.bind_name(name, declared, ValueKind::Input);
            }
            StmtKind::Let { pattern, ty, value } => self.let_stmt(pattern, ty.as_ref(), value),
            StmtKind::Assign {
                target,
                indices,
                value,
            } => match indices {
                Some(items) => self.indexed_assign(target, items, value),
                None => self.assign(target, value),
            },
            StmtKind::Fn(def) => self.fn_def(def),
            StmtKind::For {
                var,
                start,
                end,
                body,
            } => {
                for bound in [start, end] {
                    if let Err(d) = self.static_size(bound) {
                        self.report(d);
                    }
                }
                self.control_depth += 1;
                self.push_scope();
                self.bind_name(
                    var,
                    Type::Tensor(Tensor::scalar(DType::I64)),
                    ValueKind::LoopVar,
                );
                self.block(body);
                self.pop_scope();
                self.control_depth -= 1;
            }
            StmtKind::If {
                cond,
                then_block,
                else_block,
            } => {
                let ty = self.expr(cond);
                self.condition(&ty, cond.span, "an `if` condition");
                self.control_depth += 1;
                self.block(then_block);
                if let Some(block) = else_block {
                    self.block(block);
                }
                self.control_depth -= 1;
            }
            StmtKind::Return(value) => {
                let ty = self.expr(value);
                if let Some(ctx) = self.fn_ctx.as_mut() {
                    ctx.returns.push((ty, value.span));
                }
            }
            StmtKind::Expr(e) => {
                let ty = self.expr(e);
                self.record_type(stmt.span, &ty);
                return Some(ty);
            }
        }
        None
    }

    fn record_type(&mut self, span: Span, ty: &Type) {
        if self.options.record_types && !matches!(ty, Type::Nothing) {
            let shown = self.show(ty);
            self.types_out.push((span, shown));
        }
    }

    /// Conditions of `if` and `assert`: a bool scalar.
    pub fn condition(&mut self, ty: &Type, span: Span, what: &str) {
        let Type::Tensor(t) = ty else {
            if !matches!(ty, Type::Unknown) {
                self.report(Diagnostic::new(
                    Code::Arg,
                    span,
                    format!("{what} must be a bool scalar"),
                ));
            }
            return;
        };
        if !t.is_scalar() {
            let shape = self.show_shape(&t.shape);
            self.report(
                Diagnostic::new(
                    Code::Arg,
                    span,
                    format!("{what} must be a scalar, not {shape}"),
                )
                .label(span, shape)
                .help("reduce it first, e.g. with `all(...)` or `any(...)`"),
            );
        } else if t.dtype != DType::Bool {
            self.report(
                Diagnostic::new(
                    Code::Dtype,
                    span,
                    format!("{what} must be bool, not {}", t.dtype),
                )
                .label(span, t.dtype.as_str())
                .help("compare it, e.g. `x > 0`"),
            );
        }
    }

    fn let_stmt(
        &mut self,
        pattern: &Pattern,
        ty: Option<&crate::syntax::ast::TypeExpr>,
        value: &Expr,
    ) {
        let declared = ty.map(|t| (self.annotation(t, AnnotationUse::Let), t.span));
        let inferred = match (&declared, load_call(value)) {
            (Some((declared, _)), true) => self.load_with_type(value, declared),
            _ => self.expr(value),
        };
        let ty = match declared {
            Some((declared, span)) => self.match_annotation(&declared, inferred, value.span, span),
            None => inferred,
        };
        self.bind_pattern(pattern, ty, value.span);
    }

    fn bind_pattern(&mut self, pattern: &Pattern, ty: Type, value_span: Span) {
        match pattern {
            Pattern::Name(ident) => {
                self.record_type(ident.span.to(value_span), &ty);
                self.bind_name(ident, ty, ValueKind::Let);
            }
            Pattern::Wildcard(_) => {}
            Pattern::Tuple(items, span) => {
                let parts = match ty {
                    Type::Tuple(parts) if parts.len() == items.len() => parts,
                    Type::Unknown => vec![Type::Unknown; items.len()],
                    other => {
                        let shown = self.show(&other);
                        self.report(
                            Diagnostic::new(
                                Code::Annotation,
                                *span,
                                format!(
                                    "this pattern takes {} values, but the value is {shown}",
                                    items.len()
                                ),
                            )
                            .label(*span, format!("{} names", items.len()))
                            .label(value_span, shown),
                        );
                        vec![Type::Unknown; items.len()]
                    }
                };
                for (item, part) in items.iter().zip(parts) {
                    self.bind_pattern(item, part, value_span);
                }
            }
        }
    }

    pub fn bind_name(&mut self, ident: &Ident, ty: Type, kind: ValueKind) {
        // `let` may shadow any name (10.7); an input or parameter declared
        // twice is a mistake, not a shadowing.
        let twice = matches!(kind, ValueKind::Input | ValueKind::Param)
            && self.lookup_scope(&ident.name) == Some(self.scopes.len() - 1)
            && matches!(
                self.lookup(&ident.name),
                Some(Entry::Value {
                    kind: ValueKind::Input | ValueKind::Param,
                    ..
                })
            );
        if twice {
            self.report(
                Diagnostic::new(
                    Code::Assign,
                    ident.span,
                    format!("`{}` is declared twice", ident.name),
                )
                .label(ident.span, "declared again here"),
            );
            return;
        }
        self.define(
            &ident.name,
            Entry::Value {
                ty,
                kind,
                span: ident.span,
            },
        );
    }

    /// Finds the binding `x = e` may assign, or reports why it may not.
    fn assignable(&mut self, target: &Ident) -> Option<(usize, Type)> {
        let name = target.name.as_str();
        let Some(scope) = self.lookup_scope(name) else {
            self.report(
                Diagnostic::new(
                    Code::Assign,
                    target.span,
                    format!("cannot assign to `{name}`: it was never declared"),
                )
                .label(target.span, "assigned here")
                .help(format!("declare it first: `let {name} = ...`")),
            );
            return None;
        };
        let entry = self.scopes[scope].names.get(name).cloned();
        let reason = match entry {
            Some(Entry::Value {
                ty,
                kind: ValueKind::Let,
                ..
            }) => {
                let global_from_fn = self.fn_ctx.as_ref().is_some_and(|c| scope < c.first_scope);
                if !global_from_fn {
                    return Some((scope, ty));
                }
                "a global, which a fn may read but not assign"
            }
            Some(Entry::Value {
                kind: ValueKind::Input,
                ..
            }) => "an input",
            Some(Entry::Value {
                kind: ValueKind::Param,
                ..
            }) => "a parameter",
            Some(Entry::Value {
                kind: ValueKind::LoopVar,
                ..
            }) => "a loop variable",
            Some(Entry::Dim(_)) | Some(Entry::Generic(_)) => "a dim",
            Some(Entry::Fn(_)) => "a fn",
            None => "not a binding",
        };
        self.report(
            Diagnostic::new(
                Code::Assign,
                target.span,
                format!("cannot assign to `{name}`: it is {reason}"),
            )
            .label(target.span, "assigned here")
            .help(format!("bind a new name instead: `let {name}2 = ...`")),
        );
        None
    }

    fn assign(&mut self, target: &Ident, value: &Expr) {
        let ty = self.expr(value);
        let Some((scope, old)) = self.assignable(target) else {
            return;
        };
        let merged = self.match_reassignment(&old, ty, target.span, value.span);
        let straight_line = self.control_depth == 0 || scope + 1 == self.scopes.len();
        let new_ty = match (old, merged) {
            (Type::Tensor(mut o), Type::Tensor(n)) => {
                o.contiguous = if straight_line {
                    n.contiguous
                } else {
                    o.contiguous && n.contiguous
                };
                Type::Tensor(o)
            }
            (old, _) => old,
        };
        if let Some(Entry::Value { ty, .. }) =
            self.scopes[scope].names.get_mut(target.name.as_str())
        {
            *ty = new_ty;
        }
    }

    fn indexed_assign(&mut self, target: &Ident, items: &[IndexItem], value: &Expr) {
        let value_ty = self.expr(value);
        let Some((_, old)) = self.assignable(target) else {
            return;
        };
        let region = self.index_type(&old, items, target.span);
        self.broadcast_into(&value_ty, &region, value.span, target.span);
    }
}

fn load_call(e: &Expr) -> bool {
    match &e.kind {
        crate::syntax::ast::ExprKind::Call { callee, .. } => callee.name == "load",
        _ => false,
    }
}
