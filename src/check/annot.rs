//! Type annotations: resolving `[B, _, *b, ...]` and matching values against them.

use rustc_hash::FxHashMap as HashMap;

use super::env::{Checker, Entry};
use super::size::{AtomId, Size};
use super::types::{Axis, DType, Item, Name, RunId, Shape, Tensor, Type};
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{AxisExprKind, ExprKind, TypeExpr, TypeExprKind};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum AnnotationUse {
    Input,
    Let,
    /// A fn signature: unknown names become generics, `...` a fresh run.
    Signature,
}

#[derive(Clone, Debug)]
pub enum PatItem {
    Axis(Axis),
    Any,
    Run(RunId),
    Ellipsis,
}

#[derive(Clone, Debug)]
pub enum Annot {
    /// The annotation itself was wrong (already reported): accepts anything.
    Unknown,
    Tensor {
        dtype: Option<DType>,
        items: Vec<PatItem>,
    },
    Tuple(Vec<Annot>),
}

impl Annot {
    /// The type a binding takes from a fully specified annotation.
    pub fn as_type(&self) -> Option<Type> {
        match self {
            Annot::Unknown => None,
            Annot::Tensor { dtype, items } => {
                let shape: Option<Shape> = items
                    .iter()
                    .map(|item| match item {
                        PatItem::Axis(axis) => Some(Item::Axis(axis.clone())),
                        PatItem::Run(run) => Some(Item::Run(*run)),
                        PatItem::Any | PatItem::Ellipsis => None,
                    })
                    .collect();
                Some(Type::tensor(dtype.unwrap_or(DType::F32), shape?))
            }
            Annot::Tuple(parts) => Some(Type::Tuple(
                parts
                    .iter()
                    .map(Annot::as_type)
                    .collect::<Option<Vec<_>>>()?,
            )),
        }
    }
}

impl Checker<'_> {
    /// Resolves a type written in the source. In an `input`, `_` becomes a
    /// size fixed by the data; in a signature, a fresh generic.
    pub fn annotation_type(&mut self, t: &TypeExpr, usage: AnnotationUse) -> Type {
        let annot = self.annotation(t, usage);
        self.annot_to_type(&annot, usage, t.span)
    }

    pub fn annot_to_type(&mut self, annot: &Annot, usage: AnnotationUse, span: Span) -> Type {
        match annot {
            Annot::Unknown => Type::Unknown,
            Annot::Tuple(parts) => Type::Tuple(
                parts
                    .iter()
                    .map(|p| self.annot_to_type(p, usage, span))
                    .collect(),
            ),
            Annot::Tensor { dtype, items } => {
                let mut shape = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        PatItem::Axis(axis) => shape.push(Item::Axis(axis.clone())),
                        PatItem::Run(run) => shape.push(Item::Run(*run)),
                        PatItem::Any if usage == AnnotationUse::Let => return Type::Unknown,
                        PatItem::Any if usage == AnnotationUse::Signature => {
                            // An unnamed generic: each call binds it afresh.
                            self.generics.push(Name::from("_"));
                            let g = self.generics.len() as u32 - 1;
                            shape.push(Item::Axis(Axis::anon(Size::atom(AtomId::Generic(g)))));
                        }
                        PatItem::Any => {
                            let size = self.fresh_size();
                            shape.push(Item::Axis(Axis::anon(size)));
                        }
                        PatItem::Ellipsis if usage == AnnotationUse::Signature => {
                            let run = self.new_run("...");
                            shape.push(Item::Run(run));
                        }
                        PatItem::Ellipsis if usage == AnnotationUse::Let => return Type::Unknown,
                        PatItem::Ellipsis => {
                            return self.fail(Diagnostic::new(
                                Code::Annotation,
                                span,
                                "an input needs a fixed rank: `...` is not allowed here",
                            ));
                        }
                    }
                }
                Type::tensor(dtype.unwrap_or(DType::F32), shape)
            }
        }
    }

    pub fn annotation(&mut self, t: &TypeExpr, usage: AnnotationUse) -> Annot {
        match &t.kind {
            TypeExprKind::Tuple(parts) => {
                Annot::Tuple(parts.iter().map(|p| self.annotation(p, usage)).collect())
            }
            TypeExprKind::Tensor { dtype, axes } => {
                let dtype = match dtype {
                    None => None,
                    Some(ident) => match DType::from_name(&ident.name) {
                        Some(d) => Some(d),
                        None => {
                            self.report(
                                Diagnostic::new(
                                    Code::Annotation,
                                    ident.span,
                                    format!("`{}` is not an element type", ident.name),
                                )
                                .help("element types are bool, i64, f32 and f64"),
                            );
                            return Annot::Unknown;
                        }
                    },
                };
                let mut items = Vec::with_capacity(axes.len());
                let mut variadics = 0;
                for axis in axes {
                    let item = match &axis.kind {
                        AxisExprKind::Any => PatItem::Any,
                        AxisExprKind::Ellipsis => PatItem::Ellipsis,
                        AxisExprKind::Run(ident) => match self.run_named(&ident.name, usage) {
                            Some(run) => PatItem::Run(run),
                            None => {
                                self.report(Diagnostic::new(
                                    Code::Annotation,
                                    ident.span,
                                    format!(
                                        "`*{}` is only meaningful in a fn signature",
                                        ident.name
                                    ),
                                ));
                                return Annot::Unknown;
                            }
                        },
                        AxisExprKind::Size(e) => match self.annotation_axis(e, usage) {
                            Ok(axis) => PatItem::Axis(axis),
                            Err(d) => {
                                self.report(d);
                                return Annot::Unknown;
                            }
                        },
                    };
                    if matches!(item, PatItem::Run(_) | PatItem::Ellipsis) {
                        variadics += 1;
                        if variadics > 1 {
                            self.report(Diagnostic::new(
                                Code::Annotation,
                                axis.span,
                                "a type may hold only one `...` or `*run`",
                            ));
                            return Annot::Unknown;
                        }
                    }
                    items.push(item);
                }
                let axes: Vec<Item> = items
                    .iter()
                    .filter_map(|i| match i {
                        PatItem::Axis(a) => Some(Item::Axis(a.clone())),
                        _ => None,
                    })
                    .collect();
                if let Err(d) = super::check_element_count(&axes, t.span) {
                    self.report(d);
                    return Annot::Unknown;
                }
                Annot::Tensor { dtype, items }
            }
        }
    }

    fn run_named(&mut self, name: &str, usage: AnnotationUse) -> Option<RunId> {
        if let Some(run) = self.current_runs.get(name) {
            return Some(*run);
        }
        if usage != AnnotationUse::Signature {
            return None;
        }
        let run = self.new_run(name);
        self.current_runs.insert(Name::from(name), run);
        Some(run)
    }

    fn annotation_axis(
        &mut self,
        e: &crate::syntax::ast::Expr,
        usage: AnnotationUse,
    ) -> Result<Axis, Diagnostic> {
        if let ExprKind::Name(name) = &e.kind {
            match self.lookup(name) {
                Some(Entry::Dim(id)) => {
                    return Ok(Axis {
                        size: self.dims[*id as usize].size.clone(),
                        name: Some(Name::from(name.as_str())),
                    })
                }
                Some(Entry::Generic(g)) => {
                    return Ok(Axis {
                        size: Size::atom(AtomId::Generic(*g)),
                        name: Some(Name::from(name.as_str())),
                    })
                }
                None if usage == AnnotationUse::Signature => {
                    let g = self.new_generic(name);
                    return Ok(Axis {
                        size: Size::atom(AtomId::Generic(g)),
                        name: Some(Name::from(name.as_str())),
                    });
                }
                _ => {}
            }
        }
        let size = self.static_size(e)?;
        if size.as_const().is_some_and(|v| v < 0) {
            return Err(Diagnostic::new(
                Code::Annotation,
                e.span,
                "a size cannot be negative",
            ));
        }
        Ok(Axis::anon(size))
    }

    pub fn new_generic(&mut self, name: &str) -> u32 {
        self.generics.push(Name::from(name));
        let g = self.generics.len() as u32 - 1;
        self.define(name, Entry::Generic(g));
        g
    }

    /// `let x: A = e`: e's type must match A; anonymous axes take A's names.
    pub fn match_annotation(
        &mut self,
        annot: &Annot,
        inferred: Type,
        value_span: Span,
        annot_span: Span,
    ) -> Type {
        if matches!(inferred, Type::Unknown) {
            return annot.as_type().unwrap_or(Type::Unknown);
        }
        match conform(annot, &inferred) {
            Some(ty) => ty,
            None => {
                let (got, want) = (self.show(&inferred), self.show_annot(annot));
                let mut d = Diagnostic::new(
                    Code::Annotation,
                    value_span,
                    format!("the value has type {got}, but the annotation says {want}"),
                )
                .label(value_span, got)
                .label(annot_span, want);
                if let Some(help) = self.annotation_help(annot, &inferred) {
                    d = d.help(help);
                }
                self.report(d);
                // Which side is wrong is unknown: uses of the binding stay silent.
                Type::Unknown
            }
        }
    }

    /// `x = e`: e must keep x's type exactly (names where both have one).
    pub fn match_reassignment(
        &mut self,
        old: &Type,
        new: Type,
        target: Span,
        value_span: Span,
    ) -> Type {
        if matches!(new, Type::Unknown) || matches!(old, Type::Unknown) {
            return old.clone();
        }
        let annot = annot_of_type(old);
        match conform(&annot, &new) {
            Some(Type::Tensor(t)) if matches!(old, Type::Tensor(o) if o.dtype == t.dtype || t.weak) => {
                Type::Tensor(t)
            }
            Some(ty @ Type::Tuple(_)) => ty,
            _ => {
                let (got, want) = (self.show(&new), self.show(old));
                self.report(
                    Diagnostic::new(
                        Code::Annotation,
                        value_span,
                        format!("a reassignment must keep the type {want}, but the value has type {got}"),
                    )
                    .label(value_span, got)
                    .label(target, want)
                    .help("bind a new name with `let` for a value of another type"),
                );
                old.clone()
            }
        }
    }

    pub fn show_annot(&self, annot: &Annot) -> String {
        match annot {
            Annot::Unknown => "unknown".into(),
            Annot::Tuple(parts) => {
                let inner: Vec<String> = parts.iter().map(|p| self.show_annot(p)).collect();
                format!("({})", inner.join(", "))
            }
            Annot::Tensor { dtype, items } => {
                let shown: Vec<String> = items
                    .iter()
                    .map(|item| match item {
                        PatItem::Axis(axis) => super::types::show_axis(axis, self),
                        PatItem::Any => "_".into(),
                        PatItem::Ellipsis => "...".into(),
                        PatItem::Run(run) => format!("*{}", super::types::Names::run(self, *run)),
                    })
                    .collect();
                match dtype {
                    Some(d) => format!("[{}] {d}", shown.join(", ")),
                    None => format!("[{}]", shown.join(", ")),
                }
            }
        }
    }

    fn annotation_help(&self, annot: &Annot, inferred: &Type) -> Option<String> {
        let (Annot::Tensor { items, .. }, Type::Tensor(t)) = (annot, inferred) else {
            return None;
        };
        let axes = t.axes()?;
        let wanted: Option<Vec<&Axis>> = items
            .iter()
            .map(|i| match i {
                PatItem::Axis(a) => Some(a),
                _ => None,
            })
            .collect();
        let wanted = wanted?;
        if let Annot::Tensor {
            dtype: Some(want), ..
        } = annot
        {
            let same_shape = wanted.len() == axes.len()
                && wanted
                    .iter()
                    .zip(&axes)
                    .all(|(w, a)| w.size == a.size && (w.name == a.name || a.name.is_none()));
            if same_shape && *want != t.dtype {
                return Some(format!(
                    "the shapes agree but the element types differ: cast with `{want}(...)`"
                ));
            }
        }
        if wanted.len() != axes.len() {
            return None;
        }
        let mut used = vec![false; axes.len()];
        let mut order = Vec::new();
        for w in &wanted {
            let found = (0..axes.len()).find(|&i| {
                !used[i]
                    && axes[i].size == w.size
                    && (axes[i].name == w.name || axes[i].name.is_none())
            })?;
            used[found] = true;
            order.push(found.to_string());
        }
        if order.iter().enumerate().all(|(i, p)| *p == i.to_string()) {
            return None;
        }
        Some(format!(
            "the axes match in another order: use `permute(..., [{}])`",
            order.join(", ")
        ))
    }
}

pub fn annot_of_type(ty: &Type) -> Annot {
    match ty {
        Type::Tensor(t) => Annot::Tensor {
            dtype: Some(t.dtype),
            items: t
                .shape
                .iter()
                .map(|i| match i {
                    Item::Axis(a) => PatItem::Axis(a.clone()),
                    Item::Run(r) => PatItem::Run(*r),
                })
                .collect(),
        },
        Type::Tuple(parts) => Annot::Tuple(parts.iter().map(annot_of_type).collect()),
        _ => Annot::Unknown,
    }
}

/// Matches a type against an annotation; the conformed type on success.
pub fn conform(annot: &Annot, ty: &Type) -> Option<Type> {
    match (annot, ty) {
        (Annot::Unknown, _) | (_, Type::Unknown) => Some(ty.clone()),
        (Annot::Tuple(parts), Type::Tuple(items)) if parts.len() == items.len() => {
            Some(Type::Tuple(
                parts
                    .iter()
                    .zip(items)
                    .map(|(p, i)| conform(p, i))
                    .collect::<Option<Vec<_>>>()?,
            ))
        }
        (Annot::Tensor { dtype, items }, Type::Tensor(t)) => {
            if let Some(d) = dtype {
                if *d != t.dtype && !(t.weak && fits_weak(t.dtype, *d)) {
                    return None;
                }
            }
            let shape = conform_shape(items, &t.shape)?;
            Some(Type::Tensor(Tensor {
                shape,
                dtype: dtype.filter(|_| t.weak).unwrap_or(t.dtype),
                ..t.clone()
            }))
        }
        _ => None,
    }
}

fn fits_weak(weak: DType, target: DType) -> bool {
    match weak {
        DType::I64 => target != DType::Bool,
        DType::F32 | DType::F64 => target.is_float(),
        DType::Bool => target == DType::Bool,
    }
}

fn conform_shape(items: &[PatItem], shape: &[Item]) -> Option<Shape> {
    let variadic = items
        .iter()
        .position(|i| matches!(i, PatItem::Run(_) | PatItem::Ellipsis));
    let (prefix, middle, suffix) = match variadic {
        None => {
            if items.len() != shape.len() {
                return None;
            }
            (items, None, &items[items.len()..])
        }
        Some(v) => {
            if shape.len() + 1 < items.len() {
                return None;
            }
            (&items[..v], Some(&items[v]), &items[v + 1..])
        }
    };
    let mut out: Shape = shape.to_vec();
    let tail = shape.len() - suffix.len();
    for (i, p) in prefix.iter().enumerate() {
        out[i] = conform_item(p, &shape[i])?;
    }
    for (j, p) in suffix.iter().enumerate() {
        out[tail + j] = conform_item(p, &shape[tail + j])?;
    }
    if let Some(PatItem::Run(run)) = middle {
        if shape[prefix.len()..tail] != [Item::Run(*run)] {
            return None;
        }
    }
    Some(out)
}

fn conform_item(p: &PatItem, item: &Item) -> Option<Item> {
    let Item::Axis(actual) = item else {
        return None;
    };
    match p {
        PatItem::Any => Some(item.clone()),
        PatItem::Axis(want) => {
            if want.size != actual.size {
                return None;
            }
            match (&want.name, &actual.name) {
                (Some(w), Some(a)) if w != a => None,
                (Some(w), None) => Some(Item::Axis(Axis {
                    size: actual.size.clone(),
                    name: Some(w.clone()),
                })),
                _ => Some(item.clone()),
            }
        }
        PatItem::Run(_) | PatItem::Ellipsis => None,
    }
}

pub type RunMap = HashMap<Name, RunId>;
