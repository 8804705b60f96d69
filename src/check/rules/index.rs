//! Basic indexing `x[i, a:b:c, None, ...]` (section 5) and `x.T`-style fields.

use crate::check::env::{Checker, Entry};
use crate::check::size::Size;
use crate::check::types::{Axis, DType, Item, Name, Tensor, Type};
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, Ident, IndexItem, IndexItemKind};

/// A bound as the checker sees it: known statically, or only at run time.
enum Bound {
    Static(Size),
    Dynamic,
}

impl Checker<'_> {
    pub fn index_type(&mut self, base: &Type, items: &[IndexItem], base_span: Span) -> Type {
        let t = match base {
            Type::Tensor(t) => t.clone(),
            Type::ShapeValue(shape) => return self.shape_entry(shape, items),
            Type::Unknown => {
                for item in items {
                    self.index_item_exprs(item);
                }
                return Type::Unknown;
            }
            other => return self.not_a_tensor(other, base_span),
        };
        let consuming = items
            .iter()
            .filter(|i| !matches!(i.kind, IndexItemKind::Ellipsis) && !is_none(i))
            .count();
        let ellipses: Vec<&IndexItem> = items
            .iter()
            .filter(|i| matches!(i.kind, IndexItemKind::Ellipsis))
            .collect();
        if ellipses.len() > 1 {
            return self.fail(Diagnostic::new(
                Code::Index,
                ellipses[1].span,
                "an index may hold only one `...`",
            ));
        }
        let rank = t.shape.len();
        if consuming > rank {
            let shown = self.show_shape(&t.shape);
            let span = items.last().map_or(base_span, |i| i.span);
            return self.fail(
                Diagnostic::new(
                    Code::Index,
                    span,
                    format!("too many indices: {consuming} for {shown}, which has {rank} axes"),
                )
                .label(base_span, shown),
            );
        }
        let mut out = Vec::with_capacity(rank + items.len());
        let mut axis = 0;
        let mut contiguous = t.contiguous;
        // Contiguous results: leading integers, one step-1 range, then full slices.
        let mut after_range = false;
        let mut failed = false;
        for item in items {
            match &item.kind {
                IndexItemKind::Ellipsis => {
                    let skip = rank - consuming;
                    for k in 0..skip {
                        out.push(t.shape[axis + k].clone());
                    }
                    after_range |= skip > 0;
                    axis += skip;
                }
                _ if is_none(item) => out.push(Item::Axis(Axis::unit())),
                IndexItemKind::Expr(e) => {
                    let Some(ax) = self.index_axis(&t.shape[axis], item.span, &mut failed) else {
                        axis += 1;
                        continue;
                    };
                    contiguous &= !after_range;
                    if !self.integer_index(e, &ax) {
                        failed = true;
                    }
                    axis += 1;
                }
                IndexItemKind::Slice { start, stop, step } => {
                    let Some(ax) = self.index_axis(&t.shape[axis], item.span, &mut failed) else {
                        axis += 1;
                        continue;
                    };
                    let full = start.is_none() && stop.is_none() && step.is_none();
                    contiguous &= if after_range { full } else { step.is_none() };
                    after_range = true;
                    match self.slice_axis(&ax, start.as_ref(), stop.as_ref(), step.as_ref()) {
                        Some(new_axis) => out.push(Item::Axis(new_axis)),
                        None => failed = true,
                    }
                    axis += 1;
                }
            }
        }
        out.extend(t.shape[axis.min(rank)..].iter().cloned());
        if failed {
            return Type::Unknown;
        }
        Type::Tensor(Tensor {
            shape: out,
            contiguous,
            weak: false,
            dtype: t.dtype,
        })
    }

    /// `x.shape[i]`: an i64 scalar, for an axis that exists.
    fn shape_entry(&mut self, shape: &[Item], items: &[IndexItem]) -> Type {
        if let [IndexItem {
            kind: IndexItemKind::Expr(e),
            ..
        }] = items
        {
            if let Err(d) = self.axis_index(&shape.to_vec(), e) {
                return self.fail(d);
            }
        } else if let Some(item) = items.first() {
            return self.fail(Diagnostic::new(
                Code::Index,
                item.span,
                "`x.shape[i]` takes one integer index",
            ));
        }
        Type::Tensor(Tensor::weak_scalar(DType::I64))
    }

    fn index_item_exprs(&mut self, item: &IndexItem) {
        match &item.kind {
            IndexItemKind::Expr(e) if !is_none(item) => {
                self.expr(e);
            }
            IndexItemKind::Slice { start, stop, step } => {
                for e in [start, stop, step].into_iter().flatten() {
                    self.expr(e);
                }
            }
            _ => {}
        }
    }

    fn index_axis(&mut self, item: &Item, span: Span, failed: &mut bool) -> Option<Axis> {
        match item {
            Item::Axis(a) => Some(a.clone()),
            Item::Run(_) => {
                self.report(Diagnostic::new(
                    Code::Axis,
                    span,
                    "this index falls inside a variadic run of axes",
                ));
                *failed = true;
                None
            }
        }
    }

    /// Checks an integer index against its axis; false if it failed.
    fn integer_index(&mut self, e: &Expr, axis: &Axis) -> bool {
        match self.bound(e) {
            Err(d) => {
                self.report(d);
                false
            }
            Ok(Bound::Dynamic) => true,
            Ok(Bound::Static(i)) => {
                let (Some(i), Some(n)) = (i.as_const(), axis.size.as_const()) else {
                    return true;
                };
                if i < -n || i >= n {
                    // A bare size reads as an axis number ("axis 2"), so an
                    // anonymous axis is described by its size.
                    let axis_shown = match axis.name {
                        Some(_) => format!("axis {}", crate::check::types::show_axis(axis, self)),
                        None => format!("an axis of size {n}"),
                    };
                    self.report(
                        Diagnostic::new(
                            Code::Index,
                            e.span,
                            format!("index {i} is out of range for {axis_shown}"),
                        )
                        .label(e.span, format!("index {i}"))
                        .help(format!(
                            "valid indices run from {} to {}",
                            -n,
                            n - 1
                        )),
                    );
                    return false;
                }
                true
            }
        }
    }

    fn bound(&mut self, e: &Expr) -> Result<Bound, Diagnostic> {
        if let ExprKind::Name(name) = &e.kind {
            if let Some(Entry::Value { ty, .. }) = self.lookup(name) {
                return match ty {
                    Type::Tensor(t) if t.is_scalar() && t.dtype == DType::I64 => Ok(Bound::Dynamic),
                    Type::Unknown => Ok(Bound::Dynamic),
                    other => Err(index_kind_error(e.span, &self.show(other))),
                };
            }
        }
        match self.static_size(e) {
            Ok(size) => Ok(Bound::Static(size)),
            Err(_) => match self.expr(e) {
                Type::Tensor(t) if t.is_scalar() && t.dtype == DType::I64 => Ok(Bound::Dynamic),
                Type::Unknown => Ok(Bound::Dynamic),
                other => Err(index_kind_error(e.span, &self.show(&other))),
            },
        }
    }

    fn slice_axis(
        &mut self,
        axis: &Axis,
        start: Option<&Expr>,
        stop: Option<&Expr>,
        step: Option<&Expr>,
    ) -> Option<Axis> {
        let get = |cx: &mut Self, e: Option<&Expr>| -> Result<Option<Bound>, ()> {
            match e {
                None => Ok(None),
                Some(e) => cx.bound(e).map(Some).map_err(|d| cx.report(d)),
            }
        };
        let (start_b, stop_b, step_b) = (
            get(self, start).ok()?,
            get(self, stop).ok()?,
            get(self, step).ok()?,
        );
        let step_v = match &step_b {
            None => Some(1),
            Some(Bound::Static(s)) => s.as_const(),
            Some(Bound::Dynamic) => None,
        };
        if step_v == Some(0) {
            self.report(Diagnostic::new(
                Code::Index,
                step.map_or(Span::default(), |s| s.span),
                "a slice step cannot be zero",
            ));
            return None;
        }
        if start.is_none() && stop.is_none() && matches!(step_v, Some(1) | Some(-1)) {
            return Some(axis.clone());
        }
        let from_zero = match start {
            None => true,
            Some(e) => matches!(e.kind, ExprKind::Int(Some(0))),
        };
        if from_zero && step.is_none() {
            if let Some(Expr {
                kind: ExprKind::Name(name),
                ..
            }) = stop
            {
                if let Some(Entry::Dim(id)) = self.lookup(name) {
                    let size = self.dims[*id as usize].size.clone();
                    // A slice clamps to its axis: `[:Long]` of 10 elements has 10.
                    let clamped = matches!((size.as_const(), axis.size.as_const()), (Some(s), Some(n)) if s > n);
                    if !clamped {
                        return Some(Axis {
                            size,
                            name: Some(Name::from(name.as_str())),
                        });
                    }
                }
            }
        }
        let static_of = |b: &Option<Bound>| match b {
            None => Some(None),
            Some(Bound::Static(s)) => Some(Some(s.clone())),
            Some(Bound::Dynamic) => None,
        };
        let (Some(start_s), Some(stop_s), Some(step_v)) =
            (static_of(&start_b), static_of(&stop_b), step_v)
        else {
            return Some(Axis::anon(self.fresh_size()));
        };
        let size = match axis.size.as_const() {
            Some(n) => {
                // An absent bound is `Some(None)`; a present symbolic one is `None`.
                let known = |b: &Option<Size>| match b {
                    None => Some(None),
                    Some(s) => s.as_const().map(Some),
                };
                let (Some(a), Some(b)) = (known(&start_s), known(&stop_s)) else {
                    return Some(Axis::anon(self.fresh_size()));
                };
                Size::constant(slice_len(n, a, b, step_v))
            }
            None => match self.symbolic_slice_len(&axis.size, start_s, stop_s, step_v) {
                Some(s) => s,
                None => self.fresh_size(),
            },
        };
        Some(Axis::anon(size))
    }

    fn symbolic_slice_len(
        &self,
        n: &Size,
        start: Option<Size>,
        stop: Option<Size>,
        step: i64,
    ) -> Option<Size> {
        if step != 1 {
            return None;
        }
        let resolve = |b: Size| -> Option<Size> {
            match b.as_const() {
                Some(v) if v < 0 => n.add(&Size::constant(v)).ok(),
                _ => Some(b),
            }
        };
        let a = resolve(start.unwrap_or_else(|| Size::constant(0)))?;
        let b = resolve(stop.unwrap_or_else(|| n.clone()))?;
        b.sub(&a).ok()
    }

    pub fn field(&mut self, ty: Type, name: &Ident, receiver: &Expr, span: Span) -> Type {
        let t = match ty {
            Type::Tensor(t) => t,
            Type::Unknown => return Type::Unknown,
            other => return self.not_a_tensor(&other, receiver.span),
        };
        match name.name.as_str() {
            "shape" => Type::ShapeValue(t.shape),
            "ndim" | "size" | "nbytes" => Type::Tensor(Tensor::scalar(DType::I64)),
            "T" => {
                if t.rank().is_none() {
                    return self.fail(
                        Diagnostic::new(
                            Code::Axis,
                            span,
                            "`.T` cannot reverse a variadic run of axes",
                        )
                        .help("use `transpose(x, -1, -2)`"),
                    );
                }
                let rank = t.shape.len();
                if rank > 2 {
                    let shown = self.show_shape(&t.shape);
                    let text = self.describe(receiver);
                    self.report(
                        Diagnostic::new(
                            Code::TransposeNd,
                            span,
                            format!("`.T` reverses all {rank} axes of {shown}"),
                        )
                        .label(receiver.span, shown)
                        .help(format!(
                            "to swap the last two axes write `transpose({text}, -1, -2)`"
                        )),
                    );
                }
                let mut shape = t.shape;
                shape.reverse();
                Type::Tensor(Tensor {
                    shape,
                    contiguous: t.contiguous && rank <= 1,
                    weak: false,
                    dtype: t.dtype,
                })
            }
            other => {
                let fields = ["shape", "ndim", "size", "nbytes", "T"];
                let mut d = Diagnostic::new(
                    Code::Undefined,
                    name.span,
                    format!("a tensor has no field `{other}`"),
                )
                .label(name.span, "unknown field");
                if let Some(best) = crate::check::suggest::closest(other, fields) {
                    d = d.help(format!("did you mean `{best}`?"));
                } else {
                    d = d.help("fields are .shape .ndim .size .nbytes .T");
                }
                self.fail(d)
            }
        }
    }
}

fn is_none(item: &IndexItem) -> bool {
    matches!(&item.kind, IndexItemKind::Expr(Expr { kind: ExprKind::Name(n), .. }) if n == "None")
}

fn index_kind_error(span: Span, shown: &str) -> Diagnostic {
    Diagnostic::new(
        Code::Index,
        span,
        format!("an index must be an integer, not {shown}"),
    )
    .label(span, shown.to_string())
    .help("integer-array and boolean-mask indexing are not supported: use `where` and masks")
}

/// Python's slice length for a known axis size.
fn slice_len(n: i64, start: Option<i64>, stop: Option<i64>, step: i64) -> i64 {
    let clamp = |v: i64, lo: i64, hi: i64| v.max(lo).min(hi);
    let norm = |v: i64, lo: i64, hi: i64| clamp(if v < 0 { v + n } else { v }, lo, hi);
    if step > 0 {
        let a = start.map_or(0, |v| norm(v, 0, n));
        let b = stop.map_or(n, |v| norm(v, 0, n));
        if b <= a {
            0
        } else {
            (b - a + step - 1) / step
        }
    } else {
        let a = start.map_or(n - 1, |v| norm(v, -1, n - 1));
        let b = stop.map_or(-1, |v| norm(v, -1, n - 1));
        if a <= b {
            0
        } else {
            (a - b + (-step) - 1) / (-step)
        }
    }
}
