//! User fns: bodies checked once at definition, calls unified with the signature.

use rustc_hash::FxHashMap as HashMap;

use super::annot::{conform, Annot, AnnotationUse};
use super::env::{Checker, Entry, FnCtx, ValueKind};
use super::size::{AtomId, Size};
use super::types::{Axis, Item, Name, RunId, Tensor, Type};
use crate::error::{Code, Diagnostic};
use crate::ops::ArgRef;
use crate::source::Span;
use crate::syntax::ast::{Arg, AxisExprKind, Expr, FnDef, Ident, NodeId, TypeExpr, TypeExprKind};

#[derive(Clone, Debug)]
pub struct FnSig {
    pub name: String,
    pub params: Vec<(String, Type, Span)>,
    pub ret: Type,
    pub span: Span,
    /// The generics of the signature by name: inside the body they are
    /// scalars, which a call binds.
    pub generics: Vec<(Name, u32)>,
}

impl FnSig {
    /// For each parameter, the index of its argument: positional ones in
    /// order, then keywords by parameter name.
    pub fn order_arguments(&self, args: &[ArgRef], span: Span) -> Result<Vec<usize>, Diagnostic> {
        let mut slots: Vec<Option<usize>> = vec![None; self.params.len()];
        let mut next = 0;
        for (i, arg) in args.iter().enumerate() {
            let slot = match arg.name {
                None => {
                    next += 1;
                    next - 1
                }
                Some(key) => self
                    .params
                    .iter()
                    .position(|(name, _, _)| name == key)
                    .ok_or_else(|| {
                        let names: Vec<&str> =
                            self.params.iter().map(|(n, _, _)| n.as_str()).collect();
                        Diagnostic::new(
                            Code::Arg,
                            arg.span,
                            format!("`{}` has no parameter `{key}`", self.name),
                        )
                        .label(arg.span, "unknown parameter")
                        .label(self.span, format!("parameters: {}", names.join(", ")))
                    })?,
            };
            match slots.get_mut(slot) {
                Some(entry @ None) => *entry = Some(i),
                Some(Some(_)) => {
                    return Err(Diagnostic::new(
                        Code::Arg,
                        arg.span,
                        format!("parameter `{}` is given twice", self.params[slot].0),
                    ))
                }
                None => break,
            }
        }
        match slots.iter().copied().collect::<Option<Vec<usize>>>() {
            Some(order) if args.len() == self.params.len() => Ok(order),
            _ => Err(Diagnostic::new(
                Code::Arg,
                span,
                format!(
                    "`{}` takes {}, but {} given",
                    self.name,
                    super::plural(self.params.len(), "argument"),
                    if args.len() == 1 {
                        "1 was".to_string()
                    } else {
                        format!("{} were", args.len())
                    }
                ),
            )
            .label(span, super::plural(args.len(), "argument"))
            .label(self.span, "defined here")),
        }
    }
}

/// What a call bound each generic and run to.
#[derive(Default)]
struct Bindings {
    /// Each generic's axis, and the index of the argument that bound it.
    generics: HashMap<u32, (Axis, usize)>,
    runs: HashMap<RunId, (Vec<Item>, usize)>,
}

/// Why an argument does not fit its parameter.
enum Mismatch {
    /// Not a tensor, a rank or element type that cannot fit.
    Kind,
    /// A generic already bound to another axis by an earlier argument.
    Generic {
        generic: u32,
        bound: Axis,
        from: usize,
        found: Axis,
    },
    /// A run already bound to other axes by an earlier argument.
    Run {
        run: RunId,
        bound: Vec<Item>,
        from: usize,
        found: Vec<Item>,
    },
    /// Fits no better once every generic is known: the expected type says why.
    Shape(Type),
}

impl Checker<'_> {
    pub fn fn_def(&mut self, def: &FnDef) {
        if let Some(scope) = self.lookup_scope(&def.name.name) {
            if scope == self.scopes.len() - 1
                && matches!(self.lookup(&def.name.name), Some(Entry::Fn(_)))
            {
                self.report(
                    Diagnostic::new(
                        Code::Assign,
                        def.name.span,
                        format!("fn `{}` is defined twice", def.name.name),
                    )
                    .label(def.name.span, "redefined here"),
                );
                return;
            }
        }
        self.push_scope();
        let saved_runs = std::mem::take(&mut self.current_runs);
        let mut params = Vec::new();
        for p in &def.params {
            let ty = self.annotation_type(&p.ty, AnnotationUse::Signature);
            params.push((p.name.name.clone(), ty, p.ty.span));
        }
        let broken_ret = def.ret.as_ref().and_then(ellipsis_in);
        if let Some(span) = broken_ret {
            self.report(
                Diagnostic::new(Code::Annotation, span, "`...` may not appear in a return type")
                    .label(span, "a fresh run nothing binds")
                    .help("name the run in the parameters and the result, e.g. `x: [*b, D]` and `-> [*b, D]`"),
            );
        }
        let declared_ret = def
            .ret
            .as_ref()
            .map(|r| (self.annotation(r, AnnotationUse::Signature), r.span));
        for (p, (_, ty, _)) in def.params.iter().zip(&params) {
            self.bind_name(&p.name, ty.clone(), ValueKind::Param);
        }
        let saved_ctx = self.fn_ctx.replace(FnCtx {
            first_scope: self.scopes.len() - 1,
            returns: Vec::new(),
        });
        let last = self.block(&def.body);
        let ctx = std::mem::replace(&mut self.fn_ctx, saved_ctx);
        let mut results: Vec<(Type, Span)> = ctx.map(|c| c.returns).unwrap_or_default();
        match last {
            Some(value) => results.push(value),
            None if results.is_empty() => results.push((Type::Nothing, def.body.span)),
            None => {}
        }
        let ret = match declared_ret {
            Some((annot, span)) => {
                let mut declared = self.annot_to_type(&annot, AnnotationUse::Signature, span);
                // A return type checks the shape; without an element type
                // written, the result keeps the body's (10.4).
                if let (
                    Annot::Tensor { dtype: None, .. },
                    Type::Tensor(d),
                    Some((Type::Tensor(body), _)),
                ) = (&annot, &mut declared, results.first())
                {
                    d.dtype = body.dtype;
                }
                for (ty, at) in results {
                    self.match_annotation(&annot, ty, at, span);
                }
                declared
            }
            None => results.into_iter().next().map_or(Type::Nothing, |(t, _)| t),
        };
        // A return type that failed must not leak a meaningless run to callers.
        let ret = if broken_ret.is_some() {
            Type::Unknown
        } else {
            ret
        };
        self.current_runs = saved_runs;
        let generics = self.scopes.last().map_or_else(Vec::new, |scope| {
            scope
                .names
                .iter()
                .filter_map(|(name, entry)| match entry {
                    Entry::Generic(g) => Some((name.clone(), *g)),
                    _ => None,
                })
                .collect()
        });
        self.pop_scope();
        self.fns.push(std::rc::Rc::new(FnSig {
            name: def.name.name.clone(),
            params,
            ret,
            span: def.name.span,
            generics,
        }));
        let id = self.fns.len() - 1;
        self.define(&def.name.name, Entry::Fn(id));
    }

    pub fn call(
        &mut self,
        id: NodeId,
        callee: &Ident,
        receiver: Option<&Expr>,
        args: &[Arg],
        span: Span,
    ) -> Type {
        let mut refs: Vec<ArgRef> = Vec::with_capacity(args.len() + 1);
        if let Some(r) = receiver {
            refs.push(ArgRef {
                name: None,
                value: r,
                span: r.span,
            });
        }
        refs.extend(args.iter().map(|a| ArgRef {
            name: a.name.as_ref().map(|n| n.name.as_str()),
            value: &a.value,
            span: a.span,
        }));
        match self.lookup(&callee.name) {
            Some(Entry::Fn(id)) => {
                let id = *id;
                return self.call_fn(id, &refs, span);
            }
            Some(Entry::Value { .. }) | Some(Entry::Dim(_)) | Some(Entry::Generic(_)) => {
                return self.fail(
                    Diagnostic::new(
                        Code::Arg,
                        callee.span,
                        format!("`{}` is not a fn", callee.name),
                    )
                    .label(callee.span, "not callable"),
                );
            }
            None => {}
        }
        match crate::ops::check_builtin(self, &callee.name, &refs, span, id) {
            Some(ty) => ty,
            None => {
                for a in &refs {
                    self.expr(a.value);
                }
                let d = self.undefined(&callee.name, callee.span);
                self.fail(d)
            }
        }
    }

    pub fn call_fn(&mut self, id: usize, args: &[ArgRef], span: Span) -> Type {
        let types: Vec<Type> = args.iter().map(|a| self.expr(a.value)).collect();
        self.call_fn_with(id, args, &types, span)
    }

    /// A call whose argument types are already known.
    pub fn call_fn_with(&mut self, id: usize, args: &[ArgRef], types: &[Type], span: Span) -> Type {
        let sig = std::rc::Rc::clone(&self.fns[id]);
        let order = match sig.order_arguments(args, span) {
            Ok(order) => order,
            Err(d) => return self.fail(d),
        };
        let args: Vec<ArgRef> = order.iter().map(|&i| args[i]).collect();
        let types: Vec<Type> = order.iter().map(|&i| types[i].clone()).collect();
        let (args, types) = (args.as_slice(), types.as_slice());
        if types.iter().any(|t| matches!(t, Type::Unknown)) {
            return Type::Unknown;
        }
        match self.unify_call(&sig, types) {
            Ok(bindings) => self.instantiate(&sig.ret, &bindings),
            Err((i, mismatch)) => {
                let (name, declared, pspan) = &sig.params[i];
                let (got, want) = (self.show(&types[i]), self.show(declared));
                let mut d = Diagnostic::new(
                    Code::Call,
                    span,
                    format!(
                        "argument `{name}` of `{}` does not match its parameter: {got} vs {want}",
                        sig.name
                    ),
                )
                .label(args[i].span, got)
                .label(*pspan, format!("parameter `{name}`: {want}"));
                if let Some(why) = self.explain(&sig, i, &mismatch) {
                    d = d.help(why);
                }
                self.fail(d)
            }
        }
    }

    /// Unifies arguments with the signature; the first argument that fails, and why.
    fn unify_call(&self, sig: &FnSig, types: &[Type]) -> Result<Bindings, (usize, Mismatch)> {
        let mut b = Bindings::default();
        for (i, ((_, param, _), arg)) in sig.params.iter().zip(types).enumerate() {
            unify(param, arg, &mut b, i).map_err(|m| (i, m))?;
        }
        for (i, ((_, param, _), arg)) in sig.params.iter().zip(types).enumerate() {
            let expected = self.instantiate(param, &b);
            if conform(&super::annot::annot_of_type(&expected), arg).is_none()
                && !weak_fits(&expected, arg)
            {
                return Err((i, Mismatch::Shape(expected)));
            }
        }
        Ok(b)
    }

    /// Says why argument `i` does not fit, naming what earlier ones bound.
    fn explain(&self, sig: &FnSig, i: usize, mismatch: &Mismatch) -> Option<String> {
        let param = |j: usize| sig.params.get(j).map_or("?", |p| p.0.as_str());
        match mismatch {
            Mismatch::Kind => None,
            Mismatch::Generic {
                generic,
                bound,
                from,
                found,
            } => Some(format!(
                "`{}` is {} from argument `{}`, but argument `{}` gives {}",
                self.generics
                    .get(*generic as usize)
                    .map_or("_", |g| g.as_ref()),
                super::types::show_axis(bound, self),
                param(*from),
                param(i),
                super::types::show_axis(found, self),
            )),
            Mismatch::Run {
                run,
                bound,
                from,
                found,
            } => Some(format!(
                "`*{}` is {} from argument `{}`, but argument `{}` gives {}",
                super::types::Names::run(self, *run),
                self.show_shape(bound),
                param(*from),
                param(i),
                self.show_shape(found),
            )),
            Mismatch::Shape(expected) => Some(format!(
                "with what the other arguments bind, `{}` must be {}",
                param(i),
                self.show(expected)
            )),
        }
    }

    /// Replaces generics and runs by what a call bound them to.
    fn instantiate(&self, ty: &Type, b: &Bindings) -> Type {
        match ty {
            Type::Tensor(t) => {
                let mut shape = Vec::with_capacity(t.shape.len());
                for item in &t.shape {
                    match item {
                        Item::Run(r) => match b.runs.get(r) {
                            Some((items, _)) => shape.extend(items.iter().cloned()),
                            None => shape.push(item.clone()),
                        },
                        Item::Axis(a) => shape.push(Item::Axis(instantiate_axis(a, b))),
                    }
                }
                Type::Tensor(Tensor { shape, ..t.clone() })
            }
            Type::Tuple(parts) => {
                Type::Tuple(parts.iter().map(|p| self.instantiate(p, b)).collect())
            }
            other => other.clone(),
        }
    }
}

fn instantiate_axis(a: &Axis, b: &Bindings) -> Axis {
    if let Some(AtomId::Generic(g)) = a.size.as_atom() {
        if let Some((bound, _)) = b.generics.get(&g) {
            return bound.clone();
        }
    }
    let size = a
        .size
        .substitute(&mut |atom| match atom {
            AtomId::Generic(g) => b.generics.get(&g).map(|(ax, _)| ax.size.clone()),
            AtomId::RunProduct(r) => b
                .runs
                .get(&RunId(r))
                .and_then(|(items, _)| run_product(items)),
            _ => None,
        })
        .unwrap_or_else(|_| a.size.clone());
    Axis {
        size,
        name: a.name.clone(),
    }
}

fn run_product(items: &[Item]) -> Option<Size> {
    items.iter().try_fold(Size::constant(1), |acc, item| {
        acc.mul(&item.axis()?.size).ok()
    })
}

fn weak_fits(expected: &Type, arg: &Type) -> bool {
    matches!((expected, arg), (Type::Tensor(e), Type::Tensor(a)) if a.weak && e.is_scalar() && a.is_scalar())
}

/// First pass: bind plain generics and runs from argument `index`.
fn unify(param: &Type, arg: &Type, b: &mut Bindings, index: usize) -> Result<(), Mismatch> {
    match (param, arg) {
        (Type::Unknown, _) | (_, Type::Unknown) => Ok(()),
        (Type::Tuple(ps), Type::Tuple(items)) if ps.len() == items.len() => ps
            .iter()
            .zip(items)
            .try_for_each(|(p, a)| unify(p, a, b, index)),
        (Type::Tensor(p), Type::Tensor(a)) => {
            if p.dtype != a.dtype && !(a.weak && a.is_scalar()) {
                return Err(Mismatch::Kind);
            }
            let run_at = p.shape.iter().position(|i| matches!(i, Item::Run(_)));
            let fixed = p.shape.len() - usize::from(run_at.is_some());
            if a.shape.len() < fixed || (run_at.is_none() && a.shape.len() != fixed) {
                return Err(Mismatch::Kind);
            }
            let (prefix, suffix) = match run_at {
                Some(r) => (r, p.shape.len() - r - 1),
                None => (p.shape.len(), 0),
            };
            let tail = a.shape.len() - suffix;
            let pairs = p.shape[..prefix].iter().zip(&a.shape[..prefix]).chain(
                p.shape[p.shape.len() - suffix..]
                    .iter()
                    .zip(&a.shape[tail..]),
            );
            for (pi, ai) in pairs {
                bind_axis(pi, ai, b, index)?;
            }
            if let Some(r) = run_at {
                let Item::Run(run) = p.shape[r] else {
                    return Err(Mismatch::Kind);
                };
                let items = a.shape[prefix..tail].to_vec();
                match b.runs.get(&run) {
                    Some((bound, from)) if !same_run(bound, &items) => {
                        return Err(Mismatch::Run {
                            run,
                            bound: bound.clone(),
                            from: *from,
                            found: items,
                        });
                    }
                    Some(_) => {}
                    None => {
                        b.runs.insert(run, (items, index));
                    }
                }
            }
            Ok(())
        }
        _ if std::mem::discriminant(param) == std::mem::discriminant(arg) => Ok(()),
        _ => Err(Mismatch::Kind),
    }
}

fn bind_axis(p: &Item, a: &Item, b: &mut Bindings, index: usize) -> Result<(), Mismatch> {
    let (Item::Axis(p), Item::Axis(a)) = (p, a) else {
        return if p == a { Ok(()) } else { Err(Mismatch::Kind) };
    };
    let Some(AtomId::Generic(g)) = p.size.as_atom() else {
        return Ok(()); // checked after every generic is bound
    };
    match b.generics.get(&g) {
        None => {
            b.generics.insert(g, (a.clone(), index));
            Ok(())
        }
        Some((bound, from)) => {
            let names_agree = match (&bound.name, &a.name) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            };
            if bound.size == a.size && names_agree {
                Ok(())
            } else {
                Err(Mismatch::Generic {
                    generic: g,
                    bound: bound.clone(),
                    from: *from,
                    found: a.clone(),
                })
            }
        }
    }
}

fn same_run(a: &[Item], b: &[Item]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Item::Axis(p), Item::Axis(q)) => {
                p.size == q.size && (p.name.is_none() || q.name.is_none() || p.name == q.name)
            }
            _ => x == y,
        })
}

/// The span of a `...` anywhere in a type.
fn ellipsis_in(t: &TypeExpr) -> Option<Span> {
    match &t.kind {
        TypeExprKind::Tuple(parts) => parts.iter().find_map(ellipsis_in),
        TypeExprKind::Tensor { axes, .. } => axes
            .iter()
            .find(|a| matches!(a.kind, AxisExprKind::Ellipsis))
            .map(|a| a.span),
    }
}
