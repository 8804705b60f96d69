//! Axis arguments: an integer (negative from the end) or a dim name (10.8).

use crate::check::env::{Checker, Entry};
use crate::check::types::{Item, Shape};
use crate::error::{Code, Diagnostic};
use crate::syntax::ast::{Expr, ExprKind};

impl Checker<'_> {
    /// Resolves one axis of `shape` named by `e`.
    pub fn axis_index(&mut self, shape: &Shape, e: &Expr) -> Result<usize, Diagnostic> {
        let index = self.resolve_axis(shape, e)?;
        if self.options.record_facts {
            self.facts.axes.insert(e.id, index);
        }
        Ok(index)
    }

    fn resolve_axis(&mut self, shape: &Shape, e: &Expr) -> Result<usize, Diagnostic> {
        if let ExprKind::Name(name) = &e.kind {
            if matches!(
                self.lookup(name),
                Some(Entry::Dim(_)) | Some(Entry::Generic(_))
            ) {
                return self.axis_by_name(shape, name, e);
            }
        }
        let size = self.static_size(e)?;
        let Some(index) = size.as_const() else {
            return Err(Diagnostic::new(
                Code::Axis,
                e.span,
                "an axis must be an integer or a dim name",
            ));
        };
        self.axis_by_position(shape, index, e)
    }

    pub fn axis_by_position(
        &self,
        shape: &Shape,
        index: i64,
        e: &Expr,
    ) -> Result<usize, Diagnostic> {
        let rank = shape.len() as i64;
        let resolved = if index < 0 { index + rank } else { index };
        if !(0..rank).contains(&resolved) {
            let shown = self.show_shape(shape);
            return Err(Diagnostic::new(
                Code::Axis,
                e.span,
                format!("axis {index} is out of range for {shown}, which has {rank} axes"),
            )
            .label(e.span, format!("axis {index}"))
            .help(format!("axes run from {} to {}", -rank, rank - 1)));
        }
        let first_run = shape.iter().position(|i| matches!(i, Item::Run(_)));
        let last_run = shape.iter().rposition(|i| matches!(i, Item::Run(_)));
        let lands_after_run = first_run.is_some_and(|r| index >= 0 && resolved > r as i64);
        let lands_before_run = last_run.is_some_and(|r| index < 0 && resolved < r as i64);
        if lands_after_run || lands_before_run || matches!(shape[resolved as usize], Item::Run(_)) {
            let shown = self.show_shape(shape);
            return Err(Diagnostic::new(
                Code::Axis,
                e.span,
                format!("axis {index} of {shown} falls inside a variadic run of axes"),
            )
            .help("count from the side without the run, or name the axis"));
        }
        Ok(resolved as usize)
    }

    fn axis_by_name(&self, shape: &Shape, name: &str, e: &Expr) -> Result<usize, Diagnostic> {
        let found: Vec<usize> = shape
            .iter()
            .enumerate()
            .filter(|(_, item)| item.axis().and_then(|a| a.name.as_deref()) == Some(name))
            .map(|(i, _)| i)
            .collect();
        if let [one] = found.as_slice() {
            return Ok(*one);
        }
        let shown = self.show_shape(shape);
        match found.as_slice() {
            [one] => Ok(*one),
            [] => Err(Diagnostic::new(
                Code::Axis,
                e.span,
                format!("{shown} has no axis named {name}"),
            )
            .label(e.span, format!("no axis {name}"))
            .help(format!(
                "the axes are {shown}; name one of them or use an integer"
            ))),
            several => Err(Diagnostic::new(
                Code::Axis,
                e.span,
                format!(
                    "{shown} has {} axes named {name}: the name is ambiguous",
                    several.len()
                ),
            )
            .label(e.span, format!("which {name}?"))
            .help(format!(
                "use an integer axis instead: {}",
                several
                    .iter()
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }
}
