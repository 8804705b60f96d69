//! The channel axes of a convolution: x's channels against w's contracted
//! axis (times the groups), and the bias against the output channels.

use super::{constant, last_slot, layouts};
use crate::check::types::{show_axis, Axis, Item, Tensor};
use crate::check::Checker;
use crate::error::{Code, Diagnostic};
use crate::ops::Bound;

/// Checks x's channels against w's: returns w's contracted axis and the
/// output channel axis. w `[O, C/groups, ..]` contracts its axis 1 (times
/// groups) with x's channels; transposed, w `[C, O/groups, ..]` its axis 0.
pub(super) fn channels(
    cx: &mut Checker,
    b: &Bound,
    (x, xa): (&Tensor, &[Axis]),
    (w, wa): (&Tensor, &[Axis]),
    g: i64,
    transposed: bool,
) -> Option<(Axis, Axis)> {
    let (Some(c), [w0, w1, ..]) = (xa.get(1), wa) else {
        return None;
    };
    let (contracted, out) = if transposed { (w0, w1) } else { (w1, w0) };
    let times_groups = |axis: &Axis| axis.size.mul(&constant(g));
    let (covers, out) = match (transposed, g) {
        (_, 1) => (Ok(contracted.size.clone()), Ok(out.clone())),
        (false, _) => (times_groups(w1), Ok(w0.clone())),
        (true, _) => (Ok(w0.size.clone()), times_groups(w1).map(Axis::anon)),
    };
    let (Ok(covers), Ok(out)) = (covers, out) else {
        cx.report(crate::check::limit_error(b.span, "the channel count"));
        return None;
    };
    let shapes = |cx: &Checker| (cx.show_shape(&x.shape), cx.show_shape(&w.shape));
    if [c, &out]
        .iter()
        .any(|a| a.size.as_const().is_some_and(|v| v % g != 0))
    {
        let span = b.span_of(last_slot(b));
        let ((xs, ws), cs, os) = (shapes(cx), show_axis(c, cx), show_axis(&out, cx));
        let message = format!("`groups={g}` must divide both the input channels ({cs}) and the output channels ({os}): x is {xs}, w is {ws}");
        cx.report(
            Diagnostic::new(Code::Arg, span, message)
                .label(span, format!("groups={g}"))
                .label(b.span_of(0), xs)
                .label(b.span_of(1), ws),
        );
        return None;
    }
    if covers != c.size {
        let (other, shapes) = (if transposed { w1 } else { w0 }, shapes(cx));
        let d = channel_mismatch(cx, b, xa, (contracted, other), shapes, g, transposed);
        cx.report(d);
        return None;
    }
    Some((contracted.clone(), out))
}

/// A channel mismatch, with the layout slip that most likely caused it:
/// w's two channel axes swapped, or x channels-last.
fn channel_mismatch(
    cx: &Checker,
    b: &Bound,
    xa: &[Axis],
    (contracted, other): (&Axis, &Axis),
    (xs, ws): (String, String),
    g: i64,
    transposed: bool,
) -> Diagnostic {
    let (xl, wl) = layouts(xa.len().saturating_sub(2), transposed);
    let c = xa.get(1).map_or_else(String::new, |a| show_axis(a, cx));
    let groups = match (transposed, g) {
        (false, 2..) => format!(" per group, × {g} groups"),
        _ => String::new(),
    };
    let wants = format!(
        "axis {} of w ({}{groups})",
        usize::from(!transposed),
        show_axis(contracted, cx)
    );
    let message = format!(
        "`{}` contracts the channels of x (axis 1, {c}) with {wants}, and they differ: x is {xs}, w is {ws}",
        b.name
    );
    let [x_text, w_text] =
        [0, 1].map(|i| b.get(i).map_or_else(|| "x".to_string(), |e| cx.describe(e)));
    let last = xa.len().saturating_sub(1);
    let size = |i: usize| xa.get(i).map(|a| &a.size);
    let help = if g == 1 && size(1) == Some(&other.size) {
        format!("the other channel axis of w matches: `{}` takes w as {wl}; swap them with `transpose({w_text}, 0, 1)`", b.name)
    } else if g == 1 && size(last) == Some(&contracted.size) {
        let order: Vec<String> = [0, last]
            .into_iter()
            .chain(1..last)
            .map(|i| i.to_string())
            .collect();
        format!(
            "x looks channels-last; `{}` takes x as {xl}: `permute({x_text}, [{}])`",
            b.name,
            order.join(", ")
        )
    } else {
        format!("`{}` takes x as {xl} and w as {wl}", b.name)
    };
    Diagnostic::new(Code::Contraction, b.span, message)
        .label(b.span_of(0), format!("{xs}: {c} channels"))
        .label(b.span_of(1), format!("{ws}: {wants}"))
        .help(help)
}

/// The bias must be one value per output channel: `[O]`. Its name, if
/// the channel axis has none, names it (as broadcasting would).
pub(super) fn bias_axis(
    cx: &mut Checker,
    b: &Bound,
    bias: &Tensor,
    w: &Tensor,
    channels: &Axis,
) -> Option<Axis> {
    let found = match bias.shape.as_slice() {
        [Item::Axis(a)] => Some(a),
        _ => None,
    };
    let clash = match found {
        Some(a) if a.size == channels.size => match (&a.name, &channels.name) {
            (Some(p), Some(q)) if p != q => " (equal sizes, but different names)",
            _ => {
                let name = channels.name.clone().or_else(|| a.name.clone());
                return Some(Axis {
                    size: channels.size.clone(),
                    name,
                });
            }
        },
        _ => "",
    };
    let (bs, ws, o) = (
        cx.show_shape(&bias.shape),
        cx.show_shape(&w.shape),
        show_axis(channels, cx),
    );
    let code = if found.is_some() {
        Code::Broadcast
    } else {
        Code::Arg
    };
    cx.report(
        Diagnostic::new(
            code,
            b.span_of(2),
            format!(
                "the bias of `{}` must be [{o}], one value per output channel, found {bs}{clash}",
                b.name
            ),
        )
        .label(b.span_of(2), bs)
        .label(b.span_of(1), format!("{ws}: {o} output channels"))
        .help(format!("give a 1-D bias of {o} values")),
    );
    None
}
