//! The run-time kernels of rearrange, reduce and repeat, computed as
//! einops does: x reshaped to the left side's elementary axes, permuted
//! (reduced, or broadcast for repeat's new axes), then reshaped to the
//! right side's entries.

use std::collections::BTreeMap;

use ndarray::{ArrayView1, Axis as NdAxis, IxDyn};

use crate::check::rules::rearrange_pattern::{
    parse_einops, EinopsOp, EinopsPattern, GroupMember, PatternItem,
};
use crate::check::types::DType;
use crate::error::{Code, Diagnostic};
use crate::eval::interp::runtime_error;
use crate::eval::value::{self as rt, Array, Value};
use crate::eval::Interp;
use crate::map_tensor;
use crate::ops::shape::{permuted, reshaped, standard};
use crate::ops::Bound;
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};

pub(super) fn internal(span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::Internal,
        span,
        format!("internal error in tsr: {what}"),
    )
}

pub(crate) static KERNELS: &[(&str, crate::ops::Kernel)] = &[
    ("rearrange", rearrange_kernel),
    ("reduce", reduce_kernel),
    ("repeat", repeat_kernel),
];

fn rearrange_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    einops_kernel(ev, b, EinopsOp::Rearrange)
}

fn reduce_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    einops_kernel(ev, b, EinopsOp::Reduce)
}

fn repeat_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    einops_kernel(ev, b, EinopsOp::Repeat)
}

/// An elementary axis of a pattern: what an entry `(h w)` splits into.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Elementary<'p> {
    Named(&'p str),
    /// A number of the pattern, each occurrence its own axis.
    Anonymous(usize),
    /// The i-th axis `...` stands for.
    Batch(usize),
}

/// The sizes of a pattern's elementary axes, as the data, the keyword
/// arguments and the result's proved shape tell them.
#[derive(Default)]
struct Sizes<'p> {
    known: BTreeMap<Elementary<'p>, usize>,
    numbers: usize,
}

type Entry<'p> = Vec<Elementary<'p>>;

impl<'p> Sizes<'p> {
    /// Each entry of a side as the elementary axes it merges; a unit merges
    /// none, and a bare `...` is one entry per axis it stands for.
    fn entries(
        &mut self,
        items: &'p [PatternItem],
        batch: usize,
    ) -> Result<Vec<Entry<'p>>, String> {
        let mut entries = Vec::with_capacity(items.len());
        for item in items {
            match item {
                PatternItem::Axis { name, .. } => entries.push(vec![Elementary::Named(name)]),
                PatternItem::Unit { .. } => entries.push(Vec::new()),
                PatternItem::Number { value, .. } => entries.push(vec![self.number(*value)?]),
                PatternItem::Ellipsis { .. } => {
                    entries.extend((0..batch).map(|i| vec![Elementary::Batch(i)]));
                }
                PatternItem::Group { members, .. } => {
                    let mut group = Vec::with_capacity(members.len());
                    for member in members {
                        match member {
                            GroupMember::Axis { name, .. } => group.push(Elementary::Named(name)),
                            GroupMember::Unit { .. } => {}
                            GroupMember::Number { value, .. } => group.push(self.number(*value)?),
                            GroupMember::Ellipsis { .. } => {
                                group.extend((0..batch).map(Elementary::Batch));
                            }
                        }
                    }
                    entries.push(group);
                }
            }
        }
        Ok(entries)
    }

    fn number(&mut self, value: u64) -> Result<Elementary<'p>, String> {
        let size = usize::try_from(value).map_err(|_| format!("{value} is too large a size"))?;
        let axis = Elementary::Anonymous(self.numbers);
        self.numbers += 1;
        self.known.insert(axis, size);
        Ok(axis)
    }

    fn product(&self, entry: &[Elementary<'p>]) -> Option<usize> {
        entry
            .iter()
            .try_fold(1usize, |p, e| p.checked_mul(*self.known.get(e)?))
    }

    /// Finds every size an entry of known total leaves as its one unknown
    /// member, until none is left to find.
    fn solve(&mut self, constraints: &[(&Entry<'p>, usize)]) -> Result<(), String> {
        let mut progress = true;
        while progress {
            progress = false;
            for &(entry, total) in constraints {
                let unknown: Vec<Elementary> = entry
                    .iter()
                    .filter(|e| !self.known.contains_key(e))
                    .copied()
                    .collect();
                let [only] = unknown.as_slice() else { continue };
                let others = entry.iter().filter(|e| *e != only);
                let known = others
                    .map(|e| self.known.get(e).copied().unwrap_or(1))
                    .try_fold(1usize, usize::checked_mul)
                    .ok_or("the sizes multiply past the largest size")?;
                // With a zero beside it, any size fits: it stays unknown.
                if known == 0 {
                    continue;
                }
                if total % known != 0 {
                    return Err(format!(
                        "an axis of size {total} does not split into parts of {known}"
                    ));
                }
                self.known.insert(*only, total / known);
                progress = true;
            }
        }
        Ok(())
    }

    /// Every entry's size, which must match its total.
    fn check(&self, constraints: &[(&Entry<'p>, usize)]) -> Result<(), String> {
        for &(entry, total) in constraints {
            if let Some(axis) = entry.iter().find(|e| !self.known.contains_key(e)) {
                return Err(match axis {
                    Elementary::Named(name) => format!(
                        "the size of `{name}` cannot be told from the data: give it as `{name}=...`"
                    ),
                    _ => "an axis size cannot be told from the data".to_string(),
                });
            }
            let product = self.product(entry);
            if product != Some(total) {
                let shown =
                    product.map_or("more than the largest size".to_string(), |p| p.to_string());
                return Err(format!(
                    "the sizes of an entry multiply to {shown}, not to its axis's {total}"
                ));
            }
        }
        Ok(())
    }
}

/// rearrange, reduce and repeat as einops computes them: x reshaped to
/// the left side's elementary axes, permuted (reduced, or broadcast for
/// repeat's new axes), then reshaped to the right side's entries.
/// A pattern laid out on a tensor's shape: each side's entries as
/// elementary axes, their sizes, and the result's shape.
struct Laid<'p> {
    lhs: Entry<'p>,
    rhs: Entry<'p>,
    sizes: Sizes<'p>,
    target: Vec<usize>,
}

impl Laid<'_> {
    fn size_of(&self, e: &Elementary) -> usize {
        self.sizes.known.get(e).copied().unwrap_or(1)
    }

    /// The sizes of x split into the left side's elementary axes.
    fn elementary(&self) -> Vec<usize> {
        self.lhs.iter().map(|e| self.size_of(e)).collect()
    }
}

fn pattern_of<'a>(b: &Bound<'a>) -> Result<(&'a str, EinopsPattern), Diagnostic> {
    let text = b
        .get(1)
        .and_then(literal)
        .ok_or_else(|| internal(b.span, "an einops pattern that is not a literal"))?;
    let pattern = parse_einops(text)
        .map_err(|_| internal(b.span, "an einops pattern the checker did not accept"))?;
    Ok((text, pattern))
}

fn lay_out<'p>(
    ev: &Interp,
    b: &Bound<'p>,
    (op, text, pattern): (EinopsOp, &str, &'p EinopsPattern),
    shape: &[usize],
) -> Result<Laid<'p>, Diagnostic> {
    let mut sizes = Sizes::default();
    for arg in b.rest(b.slots.len().saturating_sub(1)) {
        let Some(name) = arg.name else { continue };
        let size = ev.static_size(arg.value)?;
        let size = usize::try_from(size)
            .map_err(|_| runtime_error(arg.span, format!("the size of `{name}` is {size}")))?;
        sizes.known.insert(Elementary::Named(name), size);
    }
    // A dim bound only by other data (not by this call's result) still
    // sizes its label, like a keyword.
    let dims: Vec<(&str, usize)> = ev
        .pattern_dims(b)
        .iter()
        .filter_map(|(name, size)| {
            Some((name.as_ref(), usize::try_from(ev.sizes.eval(size)?).ok()?))
        })
        .collect();
    let out_shape = ev.out_shape(b).ok();
    let fail = |detail: String| {
        runtime_error(
            b.span,
            format!(
                "cannot {op} {shape:?} with `{}`: {detail}",
                text.escape_debug()
            ),
        )
    };
    let (lhs, rhs) =
        layout(pattern, shape, (out_shape.as_deref(), &dims), &mut sizes).map_err(fail)?;
    let target = match out_shape {
        Some(shape) => shape,
        None => rhs
            .iter()
            .map(|entry| sizes.product(entry))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| fail("the result is too large".to_string()))?,
    };
    Ok(Laid {
        lhs: lhs.concat(),
        rhs: rhs.concat(),
        sizes,
        target,
    })
}

/// How `reduce` groups x's elements, for its gradient: x split into
/// `elementary` axes, the `dropped` ones reduced, and the kept ones (in
/// x's order) moved by `order` into the result's.
pub(crate) struct ReduceGroups {
    pub(crate) elementary: Vec<usize>,
    pub(crate) dropped: Vec<usize>,
    /// For each kept elementary axis of the result, its position among
    /// the kept axes in x's order.
    pub(crate) order: Vec<usize>,
    /// The kept axes' sizes in the result's order.
    pub(crate) kept: Vec<usize>,
}

pub(crate) fn reduce_groups(
    ev: &Interp,
    b: &Bound,
    shape: &[usize],
) -> Result<ReduceGroups, Diagnostic> {
    let (text, pattern) = pattern_of(b)?;
    let laid = lay_out(ev, b, (EinopsOp::Reduce, text, &pattern), shape)?;
    let dropped: Vec<usize> = (0..laid.lhs.len())
        .filter(|&i| !laid.rhs.contains(&laid.lhs[i]))
        .collect();
    let kept: Entry = laid
        .lhs
        .iter()
        .filter(|e| laid.rhs.contains(e))
        .copied()
        .collect();
    Ok(ReduceGroups {
        elementary: laid.elementary(),
        dropped,
        order: order(&kept, &laid.rhs, b.span)?,
        kept: laid.rhs.iter().map(|e| laid.size_of(e)).collect(),
    })
}

fn einops_kernel<'a>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    op: EinopsOp,
) -> Result<Value, Diagnostic> {
    let x = ev.arg_tensor(b, 0)?;
    let (text, pattern) = pattern_of(b)?;
    let laid = lay_out(ev, b, (op, text, &pattern), x.shape())?;
    let (lhs, rhs) = (&laid.lhs, &laid.rhs);
    let split = reshaped(&x, &laid.elementary(), b.span)?;
    let result = match op {
        EinopsOp::Rearrange => permuted(&split, &order(lhs, rhs, b.span)?, b.span)?,
        EinopsOp::Reduce => {
            let how = match b.get(2).map(|e| &e.kind) {
                Some(ExprKind::Str(how)) => how.as_str(),
                _ => return Err(internal(b.span, "a reduction the checker did not accept")),
            };
            let dropped: Vec<usize> = (0..lhs.len()).filter(|&i| !rhs.contains(&lhs[i])).collect();
            let folded = reduced(&split, &dropped, how, ev.out_dtype(b)).map_err(|detail| {
                runtime_error(
                    b.span,
                    format!(
                        "cannot {op} {:?} with `{}`: {detail}",
                        x.shape(),
                        text.escape_debug()
                    ),
                )
            })?;
            let kept: Entry = lhs.iter().filter(|e| rhs.contains(e)).copied().collect();
            standard(permuted(&folded, &order(&kept, rhs, b.span)?, b.span)?)
        }
        EinopsOp::Repeat => {
            let full: Vec<usize> = rhs.iter().map(|e| laid.size_of(e)).collect();
            repeated(&split, lhs, rhs, &full, b.span)?
        }
    };
    reshaped(&result, &laid.target, b.span).map(Value::Tensor)
}

/// Where each axis of `to` is in `from`.
fn order(from: &[Elementary], to: &[Elementary], span: Span) -> Result<Vec<usize>, Diagnostic> {
    to.iter()
        .map(|e| from.iter().position(|f| f == e))
        .collect::<Option<Vec<usize>>>()
        .ok_or_else(|| internal(span, "an einops axis on one side only"))
}

/// `t`, whose axes are `lhs`, with the axes `rhs` of sizes `full`: its
/// own axes permuted into place, the new ones broadcast (a copy).
fn repeated(
    t: &rt::Tensor,
    lhs: &[Elementary],
    rhs: &[Elementary],
    full: &[usize],
    span: Span,
) -> Result<rt::Tensor, Diagnostic> {
    let kept: Entry = rhs.iter().filter(|e| lhs.contains(e)).copied().collect();
    let mut t = permuted(t, &order(lhs, &kept, span)?, span)?;
    for (j, e) in rhs.iter().enumerate() {
        if !lhs.contains(e) {
            t = map_tensor!(&t, a => a.clone().insert_axis(NdAxis(j)));
        }
    }
    let failed = || internal(span, "a repeat that does not broadcast");
    Ok(map_tensor!(&t, a => a
        .broadcast(IxDyn(full))
        .ok_or_else(failed)?
        .to_owned()
        .into_shared()))
}

fn literal(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Str(text) => Some(text),
        _ => None,
    }
}

/// Both sides' entries, with every elementary size found: from x's
/// shape on the left, and the proved result shape on the right.
fn layout<'p>(
    pattern: &'p EinopsPattern,
    shape: &[usize],
    (out_shape, dims): (Option<&[usize]>, &[(&str, usize)]),
    sizes: &mut Sizes<'p>,
) -> Result<(Vec<Entry<'p>>, Vec<Entry<'p>>), String> {
    let has_ellipsis = |items: &[PatternItem]| {
        items
            .iter()
            .any(|item| matches!(item, PatternItem::Ellipsis { .. }))
    };
    let batch = if has_ellipsis(&pattern.lhs) {
        shape.len().checked_sub(pattern.lhs.len() - 1)
    } else {
        Some(0)
    };
    let lhs = sizes.entries(&pattern.lhs, batch.unwrap_or(0))?;
    if batch.is_none() || lhs.len() != shape.len() {
        return Err(format!(
            "the left side does not name x's {} axes",
            shape.len()
        ));
    }
    let rhs = sizes.entries(&pattern.rhs, batch.unwrap_or(0))?;
    for axis in lhs.iter().chain(&rhs).flatten() {
        let Elementary::Named(name) = axis else {
            continue;
        };
        if let Some(&(_, size)) = dims.iter().find(|(dim, _)| dim == name) {
            sizes.known.entry(*axis).or_insert(size);
        }
    }
    let mut constraints: Vec<(&Entry, usize)> = lhs.iter().zip(shape.iter().copied()).collect();
    if let Some(out) = out_shape.filter(|out| out.len() == rhs.len()) {
        constraints.extend(rhs.iter().zip(out.iter().copied()));
    }
    sizes.solve(&constraints)?;
    sizes.check(&constraints)?;
    if let Some(axis) = rhs.iter().flatten().find(|e| !sizes.known.contains_key(e)) {
        let name = match axis {
            Elementary::Named(name) => *name,
            _ => "?",
        };
        return Err(format!("the size of the new axis `{name}` is not given"));
    }
    Ok((lhs, rhs))
}

/// `t` in `dtype`, reduced over the axes `dropped` with einops' `how`.
fn reduced(
    t: &rt::Tensor,
    dropped: &[usize],
    how: &str,
    dtype: DType,
) -> Result<rt::Tensor, &'static str> {
    const EMPTY: &str = "max and min of no elements are undefined";
    // A mean of integers is computed in f64, as NumPy's, then rounded.
    let work = if how == "mean" { DType::F64 } else { dtype };
    let t = t.cast(work);
    let result = match &t {
        rt::Tensor::F32(a) => {
            let lanes = fold_lanes(a, dropped, |lane| float_reduce(lane, how).map(|v| v as f32))?;
            rt::Tensor::F32(defined(lanes).ok_or(EMPTY)?)
        }
        rt::Tensor::F64(a) => rt::Tensor::F64(
            defined(fold_lanes(a, dropped, |lane| float_reduce(lane, how))?).ok_or(EMPTY)?,
        ),
        rt::Tensor::I64(a) => rt::Tensor::I64(
            defined(fold_lanes(a, dropped, |lane| int_reduce(lane, how))?).ok_or(EMPTY)?,
        ),
        rt::Tensor::Bool(a) => {
            let lanes = fold_lanes(a, dropped, |lane| match how {
                "max" => lane.iter().copied().reduce(|x, y| x | y),
                _ => lane.iter().copied().reduce(|x, y| x & y),
            })?;
            rt::Tensor::Bool(defined(lanes).ok_or(EMPTY)?)
        }
    };
    Ok(result.cast(dtype))
}

/// Applies `f` to every lane along the axes `dropped` (together), which
/// leaves the other axes in their order.
fn fold_lanes<T: Clone, R: Clone>(
    a: &Array<T>,
    dropped: &[usize],
    f: impl Fn(ArrayView1<T>) -> R,
) -> Result<Array<R>, &'static str> {
    let kept: Vec<usize> = (0..a.ndim()).filter(|i| !dropped.contains(i)).collect();
    let mut order = kept.clone();
    order.extend(dropped);
    let view = a.view().permuted_axes(IxDyn(&order));
    let mut shape: Vec<usize> = view.shape().get(..kept.len()).unwrap_or(&[]).to_vec();
    let lane = view
        .shape()
        .get(kept.len()..)
        .unwrap_or(&[])
        .iter()
        .product();
    shape.push(lane);
    let lanes = view
        .to_shape(IxDyn(&shape))
        .map_err(|_| "reduced lanes ndarray refused")?;
    Ok(lanes.map_axis(NdAxis(kept.len()), f).into_shared())
}

/// The lanes' results, if every one is defined.
fn defined<T: Clone>(lanes: Array<Option<T>>) -> Option<Array<T>> {
    let values: Vec<T> = lanes.iter().cloned().collect::<Option<_>>()?;
    Array::from_shape_vec(lanes.raw_dim(), values).ok()
}

/// A float reduction, computed in f64; max and min propagate NaN as
/// NumPy's do, and have no value on an empty lane.
fn float_reduce<T: Copy + Into<f64>>(lane: ArrayView1<T>, how: &str) -> Option<f64> {
    let values = lane.iter().map(|&v| v.into());
    let extreme = |pick: fn(f64, f64) -> f64| {
        values.clone().reduce(|x, y| {
            if x.is_nan() || y.is_nan() {
                f64::NAN
            } else {
                pick(x, y)
            }
        })
    };
    // From +0.0, as NumPy's sum starts (Rust's `Sum` starts from -0.0).
    let sum = || values.clone().fold(0.0, |s, v| s + v);
    match how {
        "sum" => Some(sum()),
        "mean" => Some(sum() / lane.len() as f64),
        "prod" => Some(values.clone().product()),
        "max" => extreme(f64::max),
        _ => extreme(f64::min),
    }
}

/// An integer reduction; sums and products wrap, as NumPy's do.
fn int_reduce(lane: ArrayView1<i64>, how: &str) -> Option<i64> {
    let values = lane.iter().copied();
    match how {
        "sum" => Some(values.fold(0, i64::wrapping_add)),
        "prod" => Some(values.fold(1, i64::wrapping_mul)),
        "max" => values.max(),
        _ => values.min(),
    }
}
