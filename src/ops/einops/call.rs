//! How a call binds its pattern: the sizes dims and keyword arguments
//! give, the left side bound to x's axes, and the right side built.

use std::collections::BTreeMap;
use std::ops::Range;

use super::kernels::internal;
use super::{Call, Given, Keyword};
use crate::check::rules::rearrange_pattern::{EinopsOp, GroupMember, PatternItem};
use crate::check::size::{AtomId, Size, SizeError};
use crate::check::suggest::closest;
use crate::check::types::{show_axis, Axis, DType, Item, Shape, Tensor, Type};
use crate::check::{limit_error, Checker, MAX_SIZE};
use crate::error::{Code, Diagnostic};
use crate::ops::einsum::dim_axis;
use crate::source::Span;

/// A member of a group, or an entry of a side seen as one.
enum Member<'p> {
    Axis(&'p str),
    Number(u64),
    Ellipsis,
}

fn members(item: &PatternItem) -> Vec<(Member<'_>, Range<usize>)> {
    match item {
        PatternItem::Axis { name, range } => vec![(Member::Axis(name), range.clone())],
        PatternItem::Number { value, range } => vec![(Member::Number(*value), range.clone())],
        PatternItem::Ellipsis { range } => vec![(Member::Ellipsis, range.clone())],
        PatternItem::Unit { .. } => Vec::new(),
        PatternItem::Group { members, .. } => members
            .iter()
            .filter_map(|m| match m {
                GroupMember::Axis { name, range } => Some((Member::Axis(name), range.clone())),
                GroupMember::Number { value, range } => {
                    Some((Member::Number(*value), range.clone()))
                }
                GroupMember::Ellipsis { range } => Some((Member::Ellipsis, range.clone())),
                GroupMember::Unit { .. } => None,
            })
            .collect(),
    }
}

/// A left-side entry with x's axis it binds, and that axis's position.
type LhsPair<'s> = (usize, &'s PatternItem, &'s Axis);

impl<'a> Call<'a> {
    /// A `tsr::rearrange` pointing at `range` of the pattern and at x.
    fn error(&self, cx: &Checker, range: Range<usize>, detail: String, note: String) -> Diagnostic {
        let span = self.pattern.span(range);
        let (op, shown, pattern) = (self.op, self.shown(cx), self.pattern.shown());
        let message = format!("cannot {op} {shown} with `{pattern}`: {detail}");
        Diagnostic::new(Code::Rearrange, span, message)
            .label(span, note)
            .label(self.x_span, shown)
    }

    /// x's shape as printed, for errors only: a call that checks prints
    /// nothing.
    fn shown(&self, cx: &Checker) -> String {
        cx.show_shape(&self.x.shape)
    }

    /// The sizes dims and keyword arguments give the pattern's axes. A
    /// keyword argument must size an axis of the pattern, and agree with
    /// a dim of the same name.
    pub(super) fn collect_given(
        &mut self,
        cx: &Checker,
        keywords: &[Keyword<'a>],
    ) -> Result<(), Diagnostic> {
        let sides = self.parsed.lhs.iter().chain(&self.parsed.rhs);
        let names: Vec<(&str, Range<usize>)> = sides
            .flat_map(members)
            .filter_map(|(member, range)| match member {
                Member::Axis(name) => Some((name, range)),
                Member::Number(_) | Member::Ellipsis => None,
            })
            .collect();
        if let Some(k) = keywords
            .iter()
            .find(|k| names.iter().all(|(n, _)| *n != k.name))
        {
            let help = match closest(k.name, names.iter().map(|(n, _)| *n)) {
                Some(near) => format!("did you mean `{near}`?"),
                None => "give sizes only for axes the pattern names".to_string(),
            };
            let (op, shown, pattern) = (self.op, self.shown(cx), self.pattern.shown());
            let message = format!(
                "cannot {op} {shown}: `{}` is not an axis of `{pattern}`",
                k.name
            );
            let whole = self.pattern.span(0..self.pattern.text.len());
            return Err(Diagnostic::new(Code::Rearrange, k.span, message)
                .label(k.span, "not in the pattern")
                .label(whole, "the pattern")
                .label(self.x_span, shown)
                .help(help));
        }
        let mut given = BTreeMap::new();
        for (name, range) in names {
            let dim = dim_axis(cx, name);
            let keyword = keywords.iter().find(|k| k.name == name);
            let entry = match (dim, keyword) {
                (Some(dim), Some(k)) if dim.size != k.axis.size => {
                    let (d, s) = (show_axis(&dim, cx), cx.show_size(&k.axis.size));
                    let detail = format!("`{name}` is the dim {d}, but `{name}={s}` is given");
                    return Err(self
                        .error(cx, range, detail, format!("the dim {d}"))
                        .label(k.span, format!("{name}={s}")));
                }
                (Some(dim), _) => Given {
                    source: format!("the dim {}", show_axis(&dim, cx)),
                    axis: dim,
                    keyword: None,
                },
                (None, Some(k)) => Given {
                    source: format!("given as `{name}={}`", cx.show_size(&k.axis.size)),
                    axis: k.axis.clone(),
                    keyword: Some(k.span),
                },
                (None, None) => continue,
            };
            given.insert(name.to_string(), entry);
        }
        self.given = given;
        Ok(())
    }

    /// Binds the left side to x's axes, then builds the right side.
    pub(super) fn output(
        &self,
        cx: &mut Checker,
        reduction: Option<&str>,
    ) -> Result<Type, Diagnostic> {
        let (pairs, ellipsis) = self.split_lhs(cx)?;
        let mut bound: BTreeMap<&str, Axis> = BTreeMap::new();
        for (position, item, axis) in pairs {
            self.bind(cx, position, item, axis, &mut bound)?;
        }
        let mut shape = Shape::with_capacity(self.parsed.rhs.len());
        for item in &self.parsed.rhs {
            match item {
                PatternItem::Ellipsis { .. } => shape.extend(ellipsis.iter().cloned()),
                _ => shape.push(Item::Axis(self.merge(cx, item, ellipsis, &bound)?)),
            }
        }
        let dtype = self.dtype(cx, reduction)?;
        let contiguous = match self.op {
            EinopsOp::Rearrange => self.x.contiguous && self.keeps_order(),
            EinopsOp::Reduce | EinopsOp::Repeat => true,
        };
        Ok(Type::Tensor(Tensor {
            dtype,
            shape,
            contiguous,
            weak: false,
        }))
    }

    /// Pairs the left side's entries with x's axes (and their positions),
    /// and gives the axes `...` stands for.
    fn split_lhs(&self, cx: &Checker) -> Result<(Vec<LhsPair<'_>>, &[Item]), Diagnostic> {
        let (lhs, shape) = (&self.parsed.lhs, &self.x.shape);
        let split = lhs
            .iter()
            .position(|item| matches!(item, PatternItem::Ellipsis { .. }));
        let (before, after) = match split {
            Some(i) => (lhs.get(..i).unwrap_or(&[]), lhs.get(i + 1..).unwrap_or(&[])),
            None => (&lhs[..], &[][..]),
        };
        let named = before.len() + after.len();
        let fixed = shape.iter().all(|item| matches!(item, Item::Axis(_)));
        if named > shape.len() || (split.is_none() && (!fixed || named != shape.len())) {
            return Err(self.rank_error(cx, split.is_some(), named, fixed));
        }
        let (head, rest) = shape.split_at(before.len());
        let (middle, tail) = rest.split_at(rest.len() - after.len());
        let positions = (0..before.len()).chain(shape.len() - after.len()..);
        let entries = before.iter().zip(head).chain(after.iter().zip(tail));
        let mut pairs = Vec::with_capacity(named);
        for (position, (item, shape_item)) in positions.zip(entries) {
            let Item::Axis(axis) = shape_item else {
                let detail = format!("axis {position} of x falls inside a variadic run");
                return Err(self
                    .error(cx, item.range(), detail, "inside a run".to_string())
                    .help("use `...` for the run, and name only the axes outside it"));
            };
            pairs.push((position, item, axis));
        }
        Ok((pairs, middle))
    }

    fn rank_error(
        &self,
        cx: &Checker,
        has_ellipsis: bool,
        named: usize,
        fixed: bool,
    ) -> Diagnostic {
        let rank = self.x.shape.len();
        let range = self.parsed.lhs_range.clone();
        let side = self.pattern.slice(range.clone()).escape_debug().to_string();
        let at_least = if has_ellipsis { "at least " } else { "" };
        let note = format!("{at_least}{named} axes");
        if !fixed {
            let detail = format!("x has a variadic run of axes, which `{side}` does not name");
            let help = format!("write `...` for the run: `... {side}`");
            return self.error(cx, range, detail, note).help(help);
        }
        let help = if rank > named && !has_ellipsis {
            format!("name all {rank} axes, or write `...` for those you do not name: `... {side}`")
        } else if has_ellipsis {
            format!("name at most {rank} axes besides `...`")
        } else {
            format!("write {rank} axes on the left of `->`")
        };
        let detail = format!("the left side `{side}` names {note}, but x has {rank}");
        self.error(cx, range, detail, note).help(help)
    }

    /// Binds one left-side entry to x's axis at `position`: all its
    /// members' sizes but one must be given, and the last one is the
    /// exact quotient. A lone member is the whole axis and keeps its name.
    fn bind<'s>(
        &'s self,
        cx: &mut Checker,
        position: usize,
        item: &'s PatternItem,
        axis: &Axis,
        bound: &mut BTreeMap<&'s str, Axis>,
    ) -> Result<(), Diagnostic> {
        let members = members(item);
        let lone = matches!(members.as_slice(), [(Member::Axis(_), _)]);
        let mut known = Size::constant(1);
        let mut unknown: Vec<(&str, &Range<usize>)> = Vec::new();
        let mut keywords: Vec<Span> = Vec::new();
        for (member, range) in &members {
            let size = match member {
                Member::Axis(name) => {
                    let Some(g) = self.given.get(*name) else {
                        unknown.push((name, range));
                        continue;
                    };
                    keywords.extend(g.keyword);
                    let name_of = match (lone, g.keyword) {
                        (true, Some(_)) => axis.name.clone().or_else(|| g.axis.name.clone()),
                        _ => g.axis.name.clone(),
                    };
                    let size = g.axis.size.clone();
                    bound.insert(
                        name,
                        Axis {
                            size: size.clone(),
                            name: name_of,
                        },
                    );
                    size
                }
                Member::Number(value) => self.number(*value, range)?,
                Member::Ellipsis => {
                    let span = self.pattern.span(range.clone());
                    return Err(internal(span, "`(...)` on the left of an einops pattern"));
                }
            };
            known = self.settle(cx, known.mul(&size), range)?;
        }
        let text = self.pattern.slice(item.range());
        let at = |cx: &Checker| format!("axis {position} of x is {}", show_axis(axis, cx));
        let with_keywords = |d: Diagnostic| {
            keywords
                .iter()
                .fold(d, |d, span| d.label(*span, "given here"))
        };
        let (name, size) = match unknown.as_slice() {
            [] if known == axis.size => return Ok(()),
            [] => {
                let (known, at) = (cx.show_size(&known), at(cx));
                let detail = match members.as_slice() {
                    [] => format!("`{text}` needs an axis of size 1, but {at}"),
                    [(Member::Number(_), _)] => {
                        format!("`{text}` needs an axis of size {known}, but {at}")
                    }
                    [(Member::Axis(name), _)] => match self.given.get(*name) {
                        Some(g) => format!("`{name}` is {}, but {at}", g.source),
                        None => format!("`{name}` is {known}, but {at}"),
                    },
                    _ => format!("the sizes in `{text}` multiply to {known}, but {at}"),
                };
                return Err(with_keywords(self.error(cx, item.range(), detail, known)));
            }
            [(name, range)] => match axis.size.div_exact(&known) {
                Ok(size) => (*name, size),
                Err(SizeError::NotExact | SizeError::DivisionByZero) => {
                    let detail = format!(
                        "{}, which the other sizes in `{text}` ({}) do not divide",
                        at(cx),
                        cx.show_size(&known)
                    );
                    let note = format!("`{name}` cannot be a whole number");
                    return Err(with_keywords(self.error(
                        cx,
                        (*range).clone(),
                        detail,
                        note,
                    )));
                }
                other => (*name, self.settle(cx, other, range)?),
            },
            [(first, _), (second, _), ..] => {
                let detail = format!(
                    "the sizes of `{first}` and `{second}` in `{text}` cannot both be \
                     inferred: {}",
                    at(cx)
                );
                let listed: Vec<String> = unknown
                    .iter()
                    .take(unknown.len() - 1)
                    .map(|(name, _)| format!("{name}=..."))
                    .collect();
                let help = format!(
                    "give all but one of them as keyword arguments, e.g. `{}`",
                    listed.join(", ")
                );
                let note = "sizes unknown".to_string();
                return Err(self.error(cx, item.range(), detail, note).help(help));
            }
        };
        let name_of = if lone { axis.name.clone() } else { None };
        bound.insert(
            name,
            Axis {
                size,
                name: name_of,
            },
        );
        Ok(())
    }

    /// One right-side entry as an axis: the product of its members' sizes,
    /// named only when it is a lone axis.
    fn merge(
        &self,
        cx: &mut Checker,
        item: &PatternItem,
        ellipsis: &[Item],
        bound: &BTreeMap<&str, Axis>,
    ) -> Result<Axis, Diagnostic> {
        let members = members(item);
        let mut size = Size::constant(1);
        let mut name = None;
        for (member, range) in &members {
            let factors = match member {
                Member::Axis(member_name) => {
                    let axis = self.rhs_axis(cx, member_name, range, bound)?;
                    name = axis.name;
                    vec![axis.size]
                }
                Member::Number(value) => vec![self.number(*value, range)?],
                Member::Ellipsis => ellipsis
                    .iter()
                    .map(|item| match item {
                        Item::Axis(axis) => axis.size.clone(),
                        Item::Run(run) => Size::atom(AtomId::RunProduct(run.0)),
                    })
                    .collect(),
            };
            for factor in factors {
                size = self.settle(cx, size.mul(&factor), range)?;
            }
        }
        let lone = matches!(members.as_slice(), [(Member::Axis(_), _)]);
        Ok(Axis {
            size,
            name: name.filter(|_| lone),
        })
    }

    /// The right side's axis `name`: carried from the left, or, for
    /// `repeat`, a new axis of a given size.
    fn rhs_axis(
        &self,
        cx: &Checker,
        name: &str,
        range: &Range<usize>,
        bound: &BTreeMap<&str, Axis>,
    ) -> Result<Axis, Diagnostic> {
        if let Some(axis) = bound.get(name) {
            return Ok(axis.clone());
        }
        if self.op != EinopsOp::Repeat {
            // `check_axes` keeps every right-side axis of these on the left.
            let span = self.pattern.span(range.clone());
            return Err(internal(span, "an einops axis was never bound"));
        }
        match self.given.get(name) {
            Some(g) => Ok(g.axis.clone()),
            None => {
                let detail = format!("the size of the new axis `{name}` is not given");
                Err(self
                    .error(cx, range.clone(), detail, "size unknown".to_string())
                    .help(format!("give its size as a keyword argument: `{name}=...`")))
            }
        }
    }

    /// A number of the pattern as a size.
    fn number(&self, value: u64, range: &Range<usize>) -> Result<Size, Diagnostic> {
        match i64::try_from(value) {
            Ok(v) if v <= MAX_SIZE => Ok(Size::constant(v)),
            _ => Err(limit_error(self.pattern.span(range.clone()), "this size")),
        }
    }

    /// The size of a product or quotient. One the normal form cannot hold
    /// (a division by a sum, or too complex) is accepted statically and
    /// checked at run time, as reshape's `-1` is; an overflow is an error.
    fn settle(
        &self,
        cx: &mut Checker,
        result: Result<Size, SizeError>,
        range: &Range<usize>,
    ) -> Result<Size, Diagnostic> {
        match result {
            Ok(size) => Ok(size),
            Err(SizeError::Overflow) => {
                Err(limit_error(self.pattern.span(range.clone()), "this size"))
            }
            Err(_) => Ok(cx.fresh_size()),
        }
    }

    /// The result's element type: that of the reductions of section 5.
    fn dtype(&self, cx: &Checker, reduction: Option<&str>) -> Result<DType, Diagnostic> {
        let dtype = self.x.dtype;
        Ok(match reduction {
            Some("mean") if dtype == DType::Bool => {
                let shown = cx.show(&Type::Tensor(self.x.clone()));
                let message = "`reduce` with \"mean\" does not take bool tensors";
                return Err(Diagnostic::new(Code::Dtype, self.x_span, message)
                    .label(self.x_span, shown)
                    .help("cast it first, e.g. `f32(x)`"));
            }
            Some("mean") => dtype.to_float(),
            Some("sum" | "prod") if dtype == DType::Bool => DType::I64,
            _ => dtype,
        })
    }

    /// Whether a rearrange keeps x's elementary axes in order, so that it
    /// only reshapes, and a contiguous x stays contiguous.
    fn keeps_order(&self) -> bool {
        axis_order(&self.parsed.lhs) == axis_order(&self.parsed.rhs)
    }
}

/// A side's axis names in order, `None` for `...`.
fn axis_order(items: &[PatternItem]) -> Vec<Option<&str>> {
    items
        .iter()
        .flat_map(members)
        .filter_map(|(member, _)| match member {
            Member::Axis(name) => Some(Some(name)),
            Member::Ellipsis => Some(None),
            Member::Number(_) => None,
        })
        .collect()
}
