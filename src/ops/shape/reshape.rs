//! Reshape once its target is read: the element counts must agree (or
//! give the `-1`), `view` needs a contiguous tensor, and a reshape that
//! scrambles a named axis is warned about.

use super::element_count;
use crate::check::size::Size;
use crate::check::types::{show_axis, Axis, Item, Shape, Tensor, Type};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::ops::Bound;

pub(super) fn finish_reshape(
    cx: &mut Checker,
    b: &Bound,
    x: Tensor,
    mut shape: Shape,
    inferred: Option<usize>,
) -> Type {
    let (Some(total), Some(known)) = (element_count(&x.shape), element_count(&shape)) else {
        return cx.fail(crate::check::limit_error(b.span, "the element count"));
    };
    let count_error = |cx: &Checker, shape: &Shape, detail: String| {
        let (xs, ts) = (cx.show_shape(&x.shape), target_text(cx, shape, inferred));
        Diagnostic::new(
            Code::Reshape,
            b.span,
            format!("cannot reshape {xs} into {ts}: {detail}"),
        )
        .label(
            b.span_of(0),
            format!("{xs}: {} elements", cx.show_size(&total)),
        )
        .label(b.span_of(1), ts)
    };
    match inferred {
        Some(i) => {
            let size = match total.div_exact(&known) {
                Ok(s) => s,
                Err(crate::check::size::SizeError::NotExact)
                | Err(crate::check::size::SizeError::DivisionByZero) => {
                    let detail = format!(
                        "{} elements do not divide into groups of {}",
                        cx.show_size(&total),
                        cx.show_size(&known)
                    );
                    return cx.fail(count_error(cx, &shape, detail));
                }
                Err(_) => cx.fresh_size(),
            };
            shape[i] = Item::Axis(Axis::anon(size));
        }
        None if total != known => {
            let detail = format!(
                "{} elements vs {}",
                cx.show_size(&total),
                cx.show_size(&known)
            );
            return cx.fail(count_error(cx, &shape, detail));
        }
        None => {}
    }
    if b.name == "view" && !x.contiguous {
        let xs = cx.show_shape(&x.shape);
        let text = b.get(0).map_or_else(|| "x".to_string(), |e| cx.describe(e));
        return cx.fail(
            Diagnostic::new(
                Code::View,
                b.span,
                format!("`view` needs a contiguous tensor, but {xs} is a permuted or strided view"),
            )
            .label(b.span_of(0), format!("{xs}, not contiguous"))
            .help(format!(
                "use `reshape({text}, ...)`, which copies when it must, or `view(contiguous({text}), ...)`"
            )),
        );
    }
    reshape_order_warning(cx, b, &x.shape, &shape);
    Type::Tensor(Tensor::new(x.dtype, shape))
}

/// The requested shape as written, with `-1` where a size is inferred.
fn target_text(cx: &Checker, shape: &Shape, inferred: Option<usize>) -> String {
    let parts: Vec<String> = shape
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            _ if Some(i) == inferred => "-1".to_string(),
            Item::Axis(a) => show_axis(a, cx),
            Item::Run(_) => cx
                .show_shape(&vec![item.clone()])
                .trim_matches(['[', ']'])
                .to_string(),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// Warns when a named axis is scrambled by a reshape (section 5).
fn reshape_order_warning(cx: &mut Checker, b: &Bound, from: &[Item], to: &[Item]) {
    let (Some(from_axes), Some(to_axes)) = (axes_of(from), axes_of(to)) else {
        return;
    };
    let groups_from = groups(&from_axes, &to_axes);
    let Some((gf, gt)) = groups_from else { return };
    for (j, t) in to_axes.iter().enumerate() {
        let Some(name) = &t.name else { continue };
        // The k-th axis named N in the result comes from the k-th one in x.
        let k = to_axes[..j]
            .iter()
            .filter(|a| a.name.as_ref() == Some(name))
            .count();
        let Some(i) = from_axes
            .iter()
            .enumerate()
            .filter(|(_, a)| a.name.as_ref() == Some(name))
            .nth(k)
            .map(|(i, _)| i)
        else {
            continue;
        };
        let crowded = |group: usize, axes: &[&Axis], of: &[usize]| {
            axes.iter()
                .zip(of)
                .filter(|(a, g)| **g == group && !a.is_one())
                .count()
                > 1
        };
        if gf[i] != gt[j] || crowded(gf[i], &from_axes, &gf) || crowded(gt[j], &to_axes, &gt) {
            let perm = bring_into_order(&from_axes, &to_axes);
            let (fs, ts) = (cx.show_shape(&from.to_vec()), cx.show_shape(&to.to_vec()));
            let mut d = Diagnostic::new(
                Code::ReshapeOrder,
                b.span,
                format!("this reshape of {fs} into {ts} scrambles axis {name}: its elements are not where {name} ends up"),
            )
            .label(b.span_of(0), fs)
            .label(b.span_of(1), ts);
            if let Some(perm) = perm {
                let x = b.get(0).map_or_else(|| "x".to_string(), |e| cx.describe(e));
                d = d.help(format!(
                    "permute first: `reshape(permute({x}, [{perm}]), ...)`"
                ));
            }
            cx.report(d);
            return;
        }
    }
}

fn axes_of(shape: &[Item]) -> Option<Vec<&Axis>> {
    shape.iter().map(Item::axis).collect()
}

/// Groups two shapes into the smallest runs whose sizes multiply equal.
fn groups(from: &[&Axis], to: &[&Axis]) -> Option<(Vec<usize>, Vec<usize>)> {
    let prefix = |axes: &[&Axis]| -> Option<Vec<Size>> {
        let mut out = vec![Size::constant(1)];
        for a in axes {
            let next = out.last()?.mul(&a.size).ok()?;
            out.push(next);
        }
        Some(out)
    };
    let (pf, pt) = (prefix(from)?, prefix(to)?);
    let mut gf = vec![0; from.len()];
    let mut gt = vec![0; to.len()];
    let (mut i, mut j, mut group) = (0, 0, 0);
    while i < from.len() || j < to.len() {
        let (ii, jj) = (i..=from.len())
            .flat_map(|ii| (j..=to.len()).map(move |jj| (ii, jj)))
            .find(|&(ii, jj)| {
                (ii > i || i == from.len()) && (jj > j || j == to.len()) && pf[ii] == pt[jj]
            })
            .unwrap_or((from.len(), to.len()));
        gf[i..ii].iter_mut().for_each(|g| *g = group);
        gt[j..jj].iter_mut().for_each(|g| *g = group);
        i = ii;
        j = jj;
        group += 1;
    }
    Some((gf, gt))
}

/// The permutation of `from` that orders its named axes as `to` does.
fn bring_into_order(from: &[&Axis], to: &[&Axis]) -> Option<String> {
    // Axes the result names go in the result's order; the others (merged
    // into a new axis, like H and Dh into D) follow, in their own order.
    let position = |a: &Axis| {
        a.name
            .as_ref()
            .and_then(|n| to.iter().position(|t| t.name.as_ref() == Some(n)))
    };
    let mut order: Vec<usize> = (0..from.len()).collect();
    order.sort_by_key(|&i| (position(from[i]).is_none(), position(from[i]), i));
    let identity = order.iter().enumerate().all(|(i, p)| i == *p);
    (!identity).then(|| {
        let shown: Vec<String> = order.iter().map(|p| p.to_string()).collect();
        shown.join(", ")
    })
}
