//! Neural-network layers: linear, convolutions, pooling and causal_mask.
//! (softmax, layernorm and batchnorm live with the reductions.)
//!
//! Convolutions contract the channels of x with w's input channels, so a
//! channel mismatch is tsr::contraction. Output sizes are computed with
//! size operations, so symbolic inputs keep their names where the size is
//! provably unchanged (a stride-1 "same" convolution).

mod channels;
mod conv;
mod kernels;

pub(super) use kernels::KERNELS;
pub(crate) use kernels::{conv_settings, setting};

use super::args::{name_mismatch, operand, tensor_args};
use super::construct::size_axis;
use super::{Bound, Builtin, Param};
use crate::check::expr::{promote, Operand};
use crate::check::size::{Size, SizeError};
use crate::check::types::{show_axis, Axis, DType, Item, Tensor, Type};
use crate::check::{Checker, MAX_SIZE};
use crate::error::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};
use channels::{bias_axis, channels};

use Param::{Optional, Required};

#[rustfmt::skip]
const CONV: &[Param] = &[
    Required("x"), Required("w"), Optional("b"),
    Optional("stride"), Optional("padding"), Optional("dilation"), Optional("groups"),
];
#[rustfmt::skip]
const CONV_T: &[Param] = &[
    Required("x"), Required("w"), Optional("b"), Optional("stride"), Optional("padding"),
    Optional("output_padding"), Optional("dilation"), Optional("groups"),
];
const POOL: &[Param] = &[Required("x"), Required("k"), Optional("stride")];

#[rustfmt::skip]
pub(super) static BUILTINS: &[Builtin] = &[
    Builtin { name: "linear", params: &[Required("x"), Required("w"), Optional("b")], rule: linear },
    Builtin { name: "conv1d", params: CONV, rule: |cx, b| conv(cx, b, 1, false) },
    Builtin { name: "conv2d", params: CONV, rule: |cx, b| conv(cx, b, 2, false) },
    Builtin { name: "conv_transpose2d", params: CONV_T, rule: |cx, b| conv(cx, b, 2, true) },
    Builtin { name: "max_pool2d", params: POOL, rule: pool },
    Builtin { name: "avg_pool2d", params: POOL, rule: pool },
    Builtin { name: "causal_mask", params: &[Required("n")], rule: causal_mask },
];

/// `x @ w + b`, with w `[in, out]` and the bias broadcast like `+`.
fn linear(cx: &mut Checker, b: &Bound) -> Type {
    let Some(ts) = tensor_args(cx, b, &[0, 1, 2]) else {
        return Type::Unknown;
    };
    let [Some(x), Some(w), bias] = ts.as_slice() else {
        return Type::Unknown;
    };
    let y = match cx.matmul(operand(b, 0, x), operand(b, 1, w), b.span) {
        Type::Tensor(y) => y,
        other => return other,
    };
    let Some(bias) = bias else {
        return Type::Tensor(y);
    };
    let product = Operand {
        span: b.span_of(0).to(b.span_of(1)),
        expr: None,
        ..operand(b, 0, &y)
    };
    let operands = [product, operand(b, 2, bias)];
    match cx.broadcast_operands(&operands, b.span, "+ (the bias of `linear`)") {
        Some(shape) => Type::tensor(promote(&y, bias), shape),
        None => Type::Unknown,
    }
}

/// The static integer arguments of a convolution, one per spatial axis.
struct Settings {
    stride: Vec<i64>,
    padding: Vec<i64>,
    output_padding: Vec<i64>,
    dilation: Vec<i64>,
    groups: i64,
}

/// `groups` is a convolution's last parameter, `dilation` the one before.
fn last_slot(b: &Bound) -> usize {
    b.slots.len().saturating_sub(1)
}

fn settings(cx: &mut Checker, b: &Bound, n: usize, transposed: bool) -> Option<Settings> {
    let groups_slot = last_slot(b);
    let (ones, zeros) = (vec![1; n], vec![0; n]);
    let stride = per_axis(cx, b.get(3), n, &ones, 1, "stride");
    let padding = per_axis(cx, b.get(4), n, &zeros, 0, "padding");
    let output_padding = match transposed {
        true => per_axis(cx, b.get(5), n, &zeros, 0, "output_padding"),
        false => Some(zeros),
    };
    let dilation = per_axis(
        cx,
        b.get(groups_slot.saturating_sub(1)),
        n,
        &ones,
        1,
        "dilation",
    );
    let groups = cx.int_arg(b.get(groups_slot), 1);
    let set = Settings {
        stride: stride?,
        padding: padding?,
        output_padding: output_padding?,
        dilation: dilation?,
        groups: groups?,
    };
    // As in PyTorch: a larger output_padding would add positions no input reaches.
    let padded_past_stride = set
        .output_padding
        .iter()
        .zip(set.stride.iter().zip(&set.dilation))
        .any(|(o, (s, d))| o >= s.max(d));
    let (slot, message, help) = if set.groups < 1 {
        let message = format!("`groups` must be at least 1, found {}", set.groups);
        (
            groups_slot,
            message,
            "use groups=1 for an ordinary convolution",
        )
    } else if padded_past_stride {
        let message = "`output_padding` must be smaller than the stride or the dilation";
        (5, message.to_string(), "output_padding only picks among the output sizes a stride allows: keep it below the stride")
    } else {
        return Some(set);
    };
    let span = b.span_of(slot);
    cx.report(
        Diagnostic::new(Code::Arg, span, message)
            .label(span, "here")
            .help(help),
    );
    None
}

/// A static integer for each spatial axis: one for all (`2`) or one each
/// (`[2, 1]`), at least `least` (spec 10.1: known before anything runs).
fn per_axis(
    cx: &mut Checker,
    e: Option<&Expr>,
    n: usize,
    default: &[i64],
    least: i64,
    what: &str,
) -> Option<Vec<i64>> {
    let Some(e) = e else {
        return Some(default.to_vec());
    };
    let values = match &e.kind {
        ExprKind::List(items) if items.len() == n => items
            .iter()
            .map(|i| cx.int_arg(Some(i), 0))
            .collect::<Option<Vec<_>>>()?,
        ExprKind::List(items) | ExprKind::Tuple(items) => {
            let kind = match e.kind {
                ExprKind::List(_) => "list",
                _ => "tuple",
            };
            let message = format!(
                "`{what}` takes one integer or a list of {n}, found a {kind} of {}",
                items.len()
            );
            cx.report(
                Diagnostic::new(Code::Arg, e.span, message)
                    .label(e.span, format!("{} values", items.len()))
                    .help(format!(
                        "write one integer, or one per axis in brackets: `{what}=[{}]`",
                        vec!["2"; n].join(", ")
                    )),
            );
            return None;
        }
        _ => vec![cx.int_arg(Some(e), 0)?; n],
    };
    let Some(bad) = values.iter().find(|v| **v < least) else {
        return Some(values);
    };
    let message = format!("`{what}` must be at least {least}, found {bad}");
    cx.report(Diagnostic::new(Code::Arg, e.span, message).label(e.span, bad.to_string()));
    None
}

/// The expected layouts of x and w, for messages.
fn layouts(spatial: usize, transposed: bool) -> (&'static str, &'static str) {
    match (spatial, transposed) {
        (1, _) => ("[N, C, L]", "[O, C/groups, K]"),
        (_, false) => ("[N, C, H, W]", "[O, C/groups, KH, KW]"),
        (_, true) => ("[N, C, H, W]", "[C, O/groups, KH, KW]"),
    }
}

/// The axes of a tensor of a known rank.
fn axes_of_rank(t: &Tensor, rank: usize) -> Option<Vec<Axis>> {
    let axes = t.axes()?;
    (axes.len() == rank).then(|| axes.into_iter().cloned().collect())
}

fn conv(cx: &mut Checker, b: &Bound, spatial: usize, transposed: bool) -> Type {
    let ts = tensor_args(cx, b, &[0, 1, 2]);
    let set = settings(cx, b, spatial, transposed);
    let (Some(ts), Some(set)) = (ts, set) else {
        return Type::Unknown;
    };
    let [Some(x), Some(w), bias] = ts.as_slice() else {
        return Type::Unknown;
    };
    let shapes = |cx: &Checker| (cx.show_shape(&x.shape), cx.show_shape(&w.shape));
    let (xl, wl) = layouts(spatial, transposed);
    let rank = spatial + 2;
    let (Some(xa), Some(wa)) = (axes_of_rank(x, rank), axes_of_rank(w, rank)) else {
        let (xs, ws) = shapes(cx);
        let message = format!(
            "`{}` takes x as {xl} and w as {wl}, found {xs} and {ws}",
            b.name
        );
        let mut d = Diagnostic::new(Code::Arg, b.span, message)
            .label(b.span_of(0), xs)
            .label(b.span_of(1), ws);
        // Both of the other convolution's layouts: the wrong op was called.
        let (other, other_rank) = if spatial == 1 {
            ("conv2d", 4)
        } else {
            ("conv1d", 3)
        };
        if !transposed && x.rank() == Some(other_rank) && w.rank() == Some(other_rank) {
            d = d.help(format!("x and w have the layouts of `{other}`"));
        } else if x.rank() == Some(rank - 1) && w.rank() == Some(rank) {
            d = d.help("x has no batch axis: add one with `unsqueeze(x, 0)`");
        }
        return cx.fail(d);
    };
    let ([n_axis, c_axis, xh @ ..], [_, _, wk @ ..]) = (xa.as_slice(), wa.as_slice()) else {
        return Type::Unknown;
    };
    let g = set.groups;
    let Some((contracted, out_channels)) = channels(cx, b, (x, &xa), (w, &wa), g, transposed)
    else {
        return Type::Unknown;
    };
    let out_channels = match bias {
        Some(bias) => match bias_axis(cx, b, bias, w, &out_channels) {
            Some(axis) => axis,
            None => return Type::Unknown,
        },
        None => out_channels,
    };
    let windows: Vec<Window> = xh
        .iter()
        .zip(wk)
        .enumerate()
        .map(|(i, (h, k))| {
            let at = |v: &[i64]| v.get(i).copied().unwrap_or(0);
            Window {
                index: i + 2,
                h,
                k: k.size.clone(),
                stride: at(&set.stride),
                padding: at(&set.padding),
                output_padding: at(&set.output_padding),
                dilation: at(&set.dilation),
                transposed,
            }
        })
        .collect();
    let describe = |cx: &Checker| {
        let (xs, ws) = shapes(cx);
        let context = format!("x is {xs}, w is {ws}");
        (context, [(b.span_of(0), xs), (b.span_of(1), ws)])
    };
    let Some(spatial_axes) = output_axes(cx, b, &windows, &describe) else {
        return Type::Unknown;
    };
    // With groups, w holds a slice of the channels: no name to compare.
    if g == 1 {
        name_mismatch(cx, b, [(0, c_axis), (1, &contracted)]);
    }
    let mut shape = vec![Item::Axis(n_axis.clone()), Item::Axis(out_channels)];
    shape.extend(spatial_axes);
    let dtype = match bias {
        Some(bias) => promote(x, w).max(bias.dtype),
        None => promote(x, w),
    };
    Type::tensor(dtype, shape)
}

fn constant(v: i64) -> Size {
    Size::constant(v)
}

/// One spatial axis of x under a kernel (or pooling window) of size `k`.
struct Window<'a> {
    /// The axis's position in x, for messages.
    index: usize,
    h: &'a Axis,
    k: Size,
    stride: i64,
    padding: i64,
    output_padding: i64,
    dilation: i64,
    transposed: bool,
}

impl Window<'_> {
    /// `floor((h + 2p - d(k - 1) - 1) / s) + 1`, or transposed
    /// `(h - 1)s - 2p + d(k - 1) + output_padding + 1`.
    fn size(&self) -> Result<Size, SizeError> {
        let (h, p) = (&self.h.size, constant(2 * self.padding));
        let reach = self.k.sub(&constant(1))?.mul(&constant(self.dilation))?;
        if self.transposed {
            let spread = h.sub(&constant(1))?.mul(&constant(self.stride))?;
            return spread
                .sub(&p)?
                .add(&reach)?
                .add(&constant(self.output_padding + 1));
        }
        let last_start = h.add(&p)?.sub(&reach)?.sub(&constant(1))?;
        last_start
            .floor_div(&constant(self.stride))?
            .add(&constant(1))
    }

    /// Why the axis has no output position, for the message.
    fn misfit(&self, cx: &Checker, size: i64) -> String {
        let (axis, p) = (
            format!("axis {} of x ({})", self.index, show_axis(self.h, cx)),
            self.padding,
        );
        if self.transposed {
            return format!(
                "{axis} has an output size of {size} once padding {p} is removed from each side"
            );
        }
        let show = |size: Result<Size, SizeError>| {
            size.map_or_else(|e| e.to_string(), |s| cx.show_size(&s))
        };
        let padded = show(self.h.size.add(&constant(2 * p)));
        let extent = show(
            self.k
                .sub(&constant(1))
                .and_then(|r| r.mul(&constant(self.dilation)))
                .and_then(|r| r.add(&constant(1))),
        );
        format!("{axis} padded by {p} on each side has {padded} positions, fewer than the kernel's extent {extent}")
    }
}

/// What a window error says about the operands: the message's context
/// and the labels on x and on w (or the kernel). Printed only on an error.
type Operands = (String, [(Span, String); 2]);

/// The output axes of `windows`: x's axis when the size is provably
/// unchanged, else anonymous. A window that does not fit is tsr::arg.
fn output_axes(
    cx: &mut Checker,
    b: &Bound,
    windows: &[Window],
    describe: &dyn Fn(&Checker) -> Operands,
) -> Option<Vec<Item>> {
    let mut axes = Vec::with_capacity(windows.len());
    let mut misfits = Vec::new();
    for window in windows {
        let size = match window.size() {
            Ok(s) if s.as_const().is_none_or(|v| v <= MAX_SIZE) => s,
            Ok(_) | Err(SizeError::Overflow) => {
                cx.report(crate::check::limit_error(b.span, "an output size"));
                return None;
            }
            // A size the normal form cannot express stays unknown (checked at run time).
            Err(_) => cx.fresh_size(),
        };
        if let Some(v) = size.as_const().filter(|v| *v <= 0) {
            misfits.push(window.misfit(cx, v));
        }
        axes.push(Item::Axis(match size == window.h.size {
            true => window.h.clone(),
            false => Axis::anon(size),
        }));
    }
    if misfits.is_empty() {
        return Some(axes);
    }
    let (context, labels) = describe(cx);
    let message = format!(
        "the kernel does not fit: {} ({context})",
        misfits.join("; ")
    );
    let help = match b.name {
        "max_pool2d" | "avg_pool2d" => "use a smaller window or a larger input",
        "conv_transpose2d" => "use less padding, or a larger stride or input",
        _ => "use a smaller kernel or dilation, more padding, or a larger input",
    };
    let mut d = Diagnostic::new(Code::Arg, b.span, message).help(help);
    for (span, label) in labels {
        d = d.label(span, label);
    }
    cx.report(d);
    None
}

/// `max_pool2d(x, k, stride=k)` / `avg_pool2d`: no padding, floor mode, on
/// `[N, C, H, W]` or `[C, H, W]`.
fn pool(cx: &mut Checker, b: &Bound) -> Type {
    let x = tensor_args(cx, b, &[0]);
    let k = per_axis(cx, b.get(1), 2, &[], 1, "k");
    let stride = match &k {
        Some(k) => per_axis(cx, b.get(2), 2, k, 1, "stride"),
        None => None,
    };
    let (Some(x), Some(k), Some(stride)) = (x.and_then(|mut ts| ts.pop().flatten()), k, stride)
    else {
        return Type::Unknown;
    };
    let Some(axes) = axes_of_rank(&x, 4).or_else(|| axes_of_rank(&x, 3)) else {
        let xs = cx.show_shape(&x.shape);
        let message = format!(
            "`{}` takes x as [N, C, H, W] or [C, H, W], found {xs}",
            b.name
        );
        return cx.fail(Diagnostic::new(Code::Arg, b.span, message).label(b.span_of(0), xs));
    };
    let lead = axes.len().saturating_sub(2);
    let windows: Vec<Window> = axes
        .iter()
        .skip(lead)
        .zip(k.iter().zip(&stride))
        .enumerate()
        .map(|(i, (h, (&k, &stride)))| Window {
            index: lead + i,
            h,
            k: constant(k),
            stride,
            padding: 0,
            output_padding: 0,
            dilation: 1,
            transposed: false,
        })
        .collect();
    let describe = |cx: &Checker| {
        let xs = cx.show_shape(&x.shape);
        let window: Vec<String> = k.iter().map(|v| v.to_string()).collect();
        let context = format!("x is {xs}");
        let labels = [
            (b.span_of(0), xs),
            (b.span_of(1), format!("kernel {}", window.join(" × "))),
        ];
        (context, labels)
    };
    let Some(spatial) = output_axes(cx, b, &windows, &describe) else {
        return Type::Unknown;
    };
    let mut shape: Vec<Item> = axes.into_iter().take(lead).map(Item::Axis).collect();
    shape.extend(spatial);
    let dtype = match b.name {
        "avg_pool2d" => x.dtype.to_float(),
        _ => x.dtype,
    };
    Type::tensor(dtype, shape)
}

/// `[T, T]`: 0 on and below the diagonal, -inf above; a bare dim names both axes.
fn causal_mask(cx: &mut Checker, b: &Bound) -> Type {
    let Some(n) = b.get(0) else {
        return Type::Unknown;
    };
    match size_axis(cx, n) {
        Ok(axis) => Type::tensor(DType::F32, vec![Item::Axis(axis.clone()), Item::Axis(axis)]),
        Err(d) => cx.fail(d),
    }
}
