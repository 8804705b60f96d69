//! Expressions: literals, names, operators, fields and calls.

use super::env::{Checker, Entry};
use super::rules::broadcast::{broadcast, outer_name, Conflict, ConflictKind};
use super::types::{DType, Item, Tensor, Type};
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, IndexItemKind};

/// An operand of an operation: its type and where it was written.
#[derive(Clone, Copy)]
pub struct Operand<'e> {
    pub ty: &'e Tensor,
    pub span: Span,
    pub expr: Option<&'e Expr>,
}

impl Checker<'_> {
    pub fn expr(&mut self, e: &Expr) -> Type {
        let mut ty = self.expr_kind(e);
        if let Type::Tensor(t) = &ty {
            if let Err(d) = super::check_element_count(&t.shape, e.span) {
                ty = self.fail(d);
            }
        }
        if self.options.record_facts {
            self.facts.types.insert(e.id, ty.clone());
        }
        ty
    }

    fn expr_kind(&mut self, e: &Expr) -> Type {
        match &e.kind {
            ExprKind::Int(Some(_)) => Type::Tensor(Tensor::weak_scalar(DType::I64)),
            ExprKind::Int(None) => self.fail(
                Diagnostic::new(Code::Limit, e.span, "this integer does not fit in 64 bits")
                    .label(e.span, "too large"),
            ),
            ExprKind::Float(_) => Type::Tensor(Tensor::weak_scalar(DType::F32)),
            ExprKind::Bool(_) => Type::Tensor(Tensor::weak_scalar(DType::Bool)),
            ExprKind::Str(_) => Type::Str,
            ExprKind::Name(name) => self.name(name, e.span),
            ExprKind::List(items) => self.tensor_literal(items, e.span),
            ExprKind::Tuple(items) => Type::Tuple(items.iter().map(|i| self.expr(i)).collect()),
            ExprKind::Dict(entries) => {
                for (key, value) in entries {
                    if !matches!(key.kind, ExprKind::Str(_)) {
                        self.report(Diagnostic::new(
                            Code::Arg,
                            key.span,
                            "dict keys must be strings",
                        ));
                    }
                    self.expr(value);
                }
                Type::Dict
            }
            ExprKind::Unary { operand, .. } => match self.expr(operand) {
                Type::Tensor(t) if t.dtype == DType::Bool => self.fail(
                    Diagnostic::new(Code::Dtype, e.span, "cannot negate a bool tensor")
                        .label(operand.span, self.show(&Type::Tensor(t.clone()))),
                ),
                Type::Tensor(t) => Type::Tensor(Tensor {
                    contiguous: true,
                    ..t
                }),
                Type::Unknown => Type::Unknown,
                other => self.not_a_tensor(&other, operand.span),
            },
            ExprKind::Binary { op, lhs, rhs } => {
                let l = self.expr(lhs);
                let r = self.expr(rhs);
                let (Type::Tensor(lt), Type::Tensor(rt)) = (&l, &r) else {
                    return self.non_tensor_operands(&l, lhs.span, &r, rhs.span);
                };
                let left = Operand {
                    ty: lt,
                    span: lhs.span,
                    expr: Some(lhs),
                };
                let right = Operand {
                    ty: rt,
                    span: rhs.span,
                    expr: Some(rhs),
                };
                if *op == BinaryOp::MatMul {
                    self.matmul(left, right, e.span)
                } else {
                    self.binary(*op, left, right, e.span)
                }
            }
            ExprKind::Call { callee, args } => self.call(e.id, callee, None, args, e.span),
            ExprKind::Method {
                receiver,
                name,
                args,
            } => self.call(e.id, name, Some(receiver), args, e.span),
            ExprKind::Field { receiver, name } => {
                let ty = self.expr(receiver);
                self.field(ty, name, receiver, e.span)
            }
            ExprKind::Index { base, items } => {
                let ty = self.expr(base);
                self.index_type(&ty, items, base.span)
            }
        }
    }

    fn name(&mut self, name: &str, span: Span) -> Type {
        match self.lookup(name) {
            Some(Entry::Value { ty, .. }) => ty.clone(),
            Some(Entry::Dim(_)) | Some(Entry::Generic(_)) => {
                Type::Tensor(Tensor::weak_scalar(DType::I64))
            }
            Some(Entry::Fn(_)) => self.fail(
                Diagnostic::new(Code::Arg, span, format!("the fn `{name}` is not a value"))
                    .label(span, "a fn")
                    .help(format!("call it, `{name}(...)`, or pass it to `grad`, `value_and_grad` or `gradcheck`")),
            ),
            None => match name {
                "pi" | "inf" | "nan" => Type::Tensor(Tensor::weak_scalar(DType::F32)),
                _ if crate::ops::is_builtin(name) => self.fail(
                    Diagnostic::new(
                        Code::Arg,
                        span,
                        format!("the builtin `{name}` is not a value"),
                    )
                    .label(span, "call it with arguments"),
                ),
                "None" => self.fail(
                    Diagnostic::new(Code::Arg, span, "`None` is only meaningful inside an index")
                        .help("insert an axis with `x[None]` or `unsqueeze(x, 0)`"),
                ),
                _ => {
                    let d = self.undefined(name, span);
                    self.fail(d)
                }
            },
        }
    }

    pub fn not_a_tensor(&mut self, ty: &Type, span: Span) -> Type {
        if matches!(ty, Type::Unknown) {
            return Type::Unknown;
        }
        let shown = self.show(ty);
        self.fail(
            Diagnostic::new(Code::Arg, span, format!("expected a tensor, found {shown}"))
                .label(span, shown),
        )
    }

    fn non_tensor_operands(&mut self, l: &Type, ls: Span, r: &Type, rs: Span) -> Type {
        if !matches!(l, Type::Tensor(_)) {
            self.not_a_tensor(l, ls)
        } else {
            self.not_a_tensor(r, rs)
        }
    }

    fn tensor_literal(&mut self, items: &[Expr], span: Span) -> Type {
        let mut element: Option<Tensor> = None;
        let mut dtype = DType::Bool;
        let mut all_bool = true;
        let mut any_float = false;
        let mut failed = false;
        for item in items {
            let ty = match self.expr(item) {
                Type::Tensor(t) => t,
                Type::Unknown => {
                    failed = true;
                    continue;
                }
                other => {
                    self.not_a_tensor(&other, item.span);
                    failed = true;
                    continue;
                }
            };
            all_bool &= ty.dtype == DType::Bool;
            any_float |= ty.dtype.is_float();
            dtype = dtype.max(ty.dtype);
            match &element {
                None => element = Some(ty),
                Some(first) if same_sizes(&first.shape, &ty.shape) => {}
                Some(first) => {
                    let (a, b) = (self.show_shape(&first.shape), self.show_shape(&ty.shape));
                    return self.fail(
                        Diagnostic::new(
                            Code::Arg,
                            item.span,
                            format!("a tensor literal is ragged: {a} and {b}"),
                        )
                        .label(items[0].span, a)
                        .label(item.span, b),
                    );
                }
            }
        }
        if failed {
            return Type::Unknown;
        }
        let dtype = if items.is_empty() || any_float {
            dtype.max(DType::F32)
        } else if all_bool {
            DType::Bool
        } else {
            dtype.max(DType::I64)
        };
        let inner = element.map(|t| t.shape).unwrap_or_default();
        let mut shape = vec![Item::Axis(super::types::Axis::anon(
            super::size::Size::constant(items.len() as i64),
        ))];
        shape.extend(inner.into_iter().map(|item| match item {
            Item::Axis(a) => Item::Axis(super::types::Axis::anon(a.size)),
            run => run,
        }));
        let _ = span;
        Type::tensor(dtype, shape)
    }

    /// `+ - * / ** == ...`: broadcasting with element type promotion.
    pub fn binary(&mut self, op: BinaryOp, l: Operand, r: Operand, span: Span) -> Type {
        let dtype = match op {
            BinaryOp::Div => promote(l.ty, r.ty).to_float(),
            _ if op.is_comparison() => DType::Bool,
            _ => {
                let d = promote(l.ty, r.ty);
                if d == DType::Bool {
                    DType::I64
                } else {
                    d
                }
            }
        };
        let Some(shape) = self.broadcast_operands(&[l, r], span, op.symbol()) else {
            return Type::Unknown;
        };
        Type::Tensor(Tensor {
            dtype,
            shape,
            contiguous: true,
            weak: l.ty.weak && r.ty.weak,
        })
    }

    /// Broadcasts operands left to right, reporting one error (or the
    /// broadcast-outer warning) for the whole operation.
    pub fn broadcast_operands(
        &mut self,
        operands: &[Operand],
        span: Span,
        what: &str,
    ) -> Option<super::types::Shape> {
        let full: Vec<&[Item]> = operands.iter().map(|o| o.ty.shape.as_slice()).collect();
        self.broadcast_parts(operands, &full, &[], span, what)
    }

    /// Broadcasts parts of operands (matmul's batch axes): diagnostics show
    /// each operand's `full` shape, and the result with `tail` appended.
    pub fn broadcast_parts(
        &mut self,
        operands: &[Operand],
        full: &[&[Item]],
        tail: &[Item],
        span: Span,
        what: &str,
    ) -> Option<super::types::Shape> {
        let (first, rest) = operands.split_first()?;
        let mut shape = first.ty.shape.clone();
        let mut outer = None;
        for (i, operand) in rest.iter().enumerate() {
            match broadcast(&shape, &operand.ty.shape) {
                Ok(b) => {
                    if let Err(d) = super::check_element_count(&b.shape, span) {
                        self.report(d);
                        return None;
                    }
                    if outer.is_none() {
                        outer = outer_name(&b);
                    }
                    shape = b.shape;
                }
                Err(conflicts) => {
                    let d = self.broadcast_error(
                        &operands[..i + 2],
                        &full[..i + 2],
                        &conflicts,
                        span,
                        what,
                    );
                    self.report(d);
                    return None;
                }
            }
        }
        if let Some(name) = outer {
            let intended = operands.iter().any(|o| o.expr.is_some_and(inserts_axis));
            if !intended {
                let result: Vec<Item> = shape.iter().chain(tail).cloned().collect();
                let shown = self.show_shape(&result);
                let mut d = Diagnostic::new(
                    Code::BroadcastOuter,
                    span,
                    format!(
                        "broadcasting makes an outer product over {name}: the result is {shown}"
                    ),
                );
                for (o, f) in operands.iter().zip(full) {
                    let s = self.show_shape(&f.to_vec());
                    d = d.label(o.span, s);
                }
                d = d.help(format!(
                    "if each {name} should meet only itself, give both operands the same axes (e.g. squeeze the size-1 axis); if the outer product is intended, write the new axis with `None`"
                ));
                self.report(d);
            }
        }
        Some(shape)
    }

    fn broadcast_error(
        &self,
        operands: &[Operand],
        full: &[&[Item]],
        conflicts: &[Conflict],
        span: Span,
        what: &str,
    ) -> Diagnostic {
        let shapes: Vec<String> = full.iter().map(|f| self.show_shape(&f.to_vec())).collect();
        let pairs: Vec<String> = conflicts
            .iter()
            .map(|c| {
                let side = |i: &Option<Item>| match i {
                    Some(Item::Axis(a)) => format!("axis {}", super::types::show_axis(a, self)),
                    Some(Item::Run(r)) => format!("run *{}", super::types::Names::run(self, *r)),
                    None => "no axis".into(),
                };
                format!("{} aligned with {}", side(&c.left), side(&c.right))
            })
            .collect();
        let kind = conflicts[0].kind;
        let why = match kind {
            ConflictKind::Name => " (equal sizes, but different names)",
            ConflictKind::KeptAxis => " (a kept size-1 axis stretches only against its own name)",
            _ => "",
        };
        let mut d = Diagnostic::new(
            Code::Broadcast,
            span,
            format!(
                "cannot broadcast {} for `{what}`: {}{why}",
                shapes.join(" with "),
                pairs.join(", ")
            ),
        );
        for (o, s) in operands.iter().zip(&shapes) {
            d = d.label(o.span, s.clone());
        }
        if let [l, r] = operands {
            if let Some(help) = self.broadcast_help(l, r) {
                d = d.help(help);
            }
        }
        d
    }

    fn broadcast_help(&self, l: &Operand, r: &Operand) -> Option<String> {
        let (la, ra) = (l.ty.axes()?, r.ty.axes()?);
        let names = |axes: &[&super::types::Axis]| -> Option<Vec<super::types::Name>> {
            axes.iter().map(|a| a.name.clone()).collect()
        };
        let (ln, rn) = (names(&la)?, names(&ra)?);
        let (long, short, short_op) = if ln.len() >= rn.len() {
            (&ln, &rn, r)
        } else {
            (&rn, &ln, l)
        };
        let text = short_op
            .expr
            .map(|e| self.describe(e))
            .unwrap_or_else(|| "x".into());
        if long.len() == short.len() {
            let mut order = Vec::new();
            for name in long {
                let found = (0..short.len()).find(|i| short[*i] == *name && !order.contains(i))?;
                order.push(found);
            }
            if order.iter().enumerate().all(|(i, p)| i == *p) {
                return None;
            }
            let order: Vec<String> = order.iter().map(|p| p.to_string()).collect();
            return Some(format!(
                "the axes are the same in another order: `permute({text}, [{}])`",
                order.join(", ")
            ));
        }
        let mut positions = long.iter();
        let mut index = Vec::new();
        for name in short {
            loop {
                let next = positions.next()?;
                if next == name {
                    index.push(":");
                    break;
                }
                index.push("None");
            }
        }
        index.extend(positions.map(|_| "None"));
        Some(format!(
            "insert the missing axes with None: `{text}[{}]`",
            index.join(", ")
        ))
    }

    /// Short source-like text of an expression for help messages.
    pub fn describe(&self, e: &Expr) -> String {
        render(e, 3)
    }

    /// `x[...] = value`: the value must broadcast to the region's shape.
    pub fn broadcast_into(&mut self, value: &Type, region: &Type, value_span: Span, target: Span) {
        let (Type::Tensor(v), Type::Tensor(t)) = (value, region) else {
            return;
        };
        match broadcast(&t.shape, &v.shape) {
            Ok(b) if b.shape.len() == t.shape.len() && same_sizes(&b.shape, &t.shape) => {}
            _ => {
                let (vs, ts) = (self.show_shape(&v.shape), self.show_shape(&t.shape));
                self.report(
                    Diagnostic::new(
                        Code::Broadcast,
                        value_span,
                        format!(
                            "a value of shape {vs} cannot be assigned to a region of shape {ts}"
                        ),
                    )
                    .label(value_span, vs)
                    .label(target, ts),
                );
            }
        }
    }
}

/// Source-like text of an expression, shallow enough for a help line;
/// anything deeper than `depth` becomes `...`.
fn render(e: &Expr, depth: usize) -> String {
    if depth == 0 {
        return "...".into();
    }
    let list = |items: &mut dyn Iterator<Item = String>| items.collect::<Vec<_>>().join(", ");
    let args = |args: &[crate::syntax::ast::Arg]| {
        list(&mut args.iter().map(|a| match &a.name {
            Some(n) => format!("{}={}", n.name, render(&a.value, depth - 1)),
            None => render(&a.value, depth - 1),
        }))
    };
    match &e.kind {
        ExprKind::Name(n) => n.clone(),
        ExprKind::Int(Some(v)) => v.to_string(),
        ExprKind::Float(v) => format!("{v:?}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Field { receiver, name } => format!("{}.{}", render(receiver, depth), name.name),
        ExprKind::Call { callee, args: a } => format!("{}({})", callee.name, args(a)),
        ExprKind::Method {
            receiver,
            name,
            args: a,
        } => {
            format!("{}.{}({})", render(receiver, depth), name.name, args(a))
        }
        ExprKind::List(items) => format!(
            "[{}]",
            list(&mut items.iter().map(|i| render(i, depth - 1)))
        ),
        ExprKind::Unary { operand, .. } => format!("-{}", render(operand, depth - 1)),
        ExprKind::Binary { op, lhs, rhs } => {
            format!(
                "({} {} {})",
                render(lhs, depth - 1),
                op.symbol(),
                render(rhs, depth - 1)
            )
        }
        _ => "...".into(),
    }
}

pub fn same_sizes(a: &[Item], b: &[Item]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Item::Axis(p), Item::Axis(q)) => p.size == q.size,
            (p, q) => p == q,
        })
}

/// Element type of a mixed operation (spec 10.4): weak scalars adapt.
pub fn promote(a: &Tensor, b: &Tensor) -> DType {
    match (a.weak, b.weak) {
        (true, false) => adapt(a.dtype, b.dtype),
        (false, true) => adapt(b.dtype, a.dtype),
        _ => a.dtype.max(b.dtype),
    }
}

fn adapt(weak: DType, strong: DType) -> DType {
    let fits = match weak {
        DType::Bool => true,
        DType::I64 => strong != DType::Bool,
        DType::F32 | DType::F64 => strong.is_float(),
    };
    if fits {
        strong
    } else {
        weak
    }
}

/// An operand written with `None` or `unsqueeze`: an intended outer operation.
fn inserts_axis(e: &Expr) -> bool {
    let mut stack = vec![e];
    while let Some(e) = stack.pop() {
        match &e.kind {
            ExprKind::Index { base, items } => {
                if items.iter().any(|i| matches!(&i.kind, IndexItemKind::Expr(Expr { kind: ExprKind::Name(n), .. }) if n == "None")) {
                    return true;
                }
                stack.push(base);
            }
            ExprKind::Call { callee, args } => {
                if callee.name == "unsqueeze" {
                    return true;
                }
                stack.extend(args.iter().map(|a| &a.value));
            }
            ExprKind::Method {
                receiver,
                name,
                args,
            } => {
                if name.name == "unsqueeze" {
                    return true;
                }
                stack.push(receiver);
                stack.extend(args.iter().map(|a| &a.value));
            }
            ExprKind::Binary { lhs, rhs, .. } => {
                stack.push(lhs);
                stack.push(rhs);
            }
            ExprKind::Unary { operand, .. } => stack.push(operand),
            ExprKind::Field { receiver, .. } => stack.push(receiver),
            _ => {}
        }
    }
    false
}
