//! Neural-network layers: linear, convolutions, pooling and causal_mask.
//! (softmax, layernorm and batchnorm live with the reductions.)
//!
//! Convolutions contract the channels of x with w's input channels, so a
//! channel mismatch is tsr::contraction. Output sizes are computed with
//! size operations, so symbolic inputs keep their names where the size is
//! provably unchanged (a stride-1 "same" convolution).

use super::args::{name_mismatch, operand, tensor_args};
use super::construct::size_axis;
use super::{Bound, Builtin, Param};
use crate::check::expr::{promote, Operand};
use crate::check::size::{Size, SizeError};
use crate::check::types::{show_axis, Axis, DType, Item, Tensor, Type};
use crate::check::{Checker, MAX_SIZE};
use crate::error::{Code, Diagnostic};
use crate::eval::interp::{internal, runtime_error, Interp};
use crate::eval::value::{Array, Tensor as Data, Value};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind};

use super::linalg::{allocatable, arg_array, matmul_arrays, numeric, Elem};
use ndarray::{
    Array2, Array4, Array6, ArrayView4, Axis as NdAxis, AxisDescription, Ix4, IxDyn, Slice, Zip,
};
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
    let (xs, ws) = (cx.show_shape(&x.shape), cx.show_shape(&w.shape));
    let (xl, wl) = layouts(spatial, transposed);
    let rank = spatial + 2;
    let (Some(xa), Some(wa)) = (axes_of_rank(x, rank), axes_of_rank(w, rank)) else {
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
    let context = format!("x is {xs}, w is {ws}");
    let labels = [(b.span_of(0), xs), (b.span_of(1), ws)];
    let Some(spatial_axes) = output_axes(cx, b, &windows, &context, labels) else {
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

/// Checks x's channels against w's: returns w's contracted axis and the
/// output channel axis. w `[O, C/groups, ..]` contracts its axis 1 (times
/// groups) with x's channels; transposed, w `[C, O/groups, ..]` its axis 0.
fn channels(
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
    let (xs, ws) = (cx.show_shape(&x.shape), cx.show_shape(&w.shape));
    if [c, &out]
        .iter()
        .any(|a| a.size.as_const().is_some_and(|v| v % g != 0))
    {
        let span = b.span_of(last_slot(b));
        let (cs, os) = (show_axis(c, cx), show_axis(&out, cx));
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
        let (other, shapes) = (if transposed { w1 } else { w0 }, (xs, ws));
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
fn bias_axis(
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

/// The output axes of `windows`: x's axis when the size is provably
/// unchanged, else anonymous. A window that does not fit is tsr::arg.
fn output_axes(
    cx: &mut Checker,
    b: &Bound,
    windows: &[Window],
    context: &str,
    labels: [(Span, String); 2],
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
    let xs = cx.show_shape(&x.shape);
    let Some(axes) = axes_of_rank(&x, 4).or_else(|| axes_of_rank(&x, 3)) else {
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
    let window: Vec<String> = k.iter().map(|v| v.to_string()).collect();
    let context = format!("x is {xs}");
    let labels = [
        (b.span_of(0), xs),
        (b.span_of(1), format!("kernel {}", window.join(" × "))),
    ];
    let Some(spatial) = output_axes(cx, b, &windows, &context, labels) else {
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

#[rustfmt::skip]
pub(super) static KERNELS: &[(&str, super::Kernel)] = &[
    ("linear", linear_kernel),
    ("conv1d", |ev, b| conv_kernel(ev, b, 1, false)),
    ("conv2d", |ev, b| conv_kernel(ev, b, 2, false)),
    ("conv_transpose2d", |ev, b| conv_kernel(ev, b, 2, true)),
    ("max_pool2d", |ev, b| pool_kernel(ev, b, true)),
    ("avg_pool2d", |ev, b| pool_kernel(ev, b, false)),
    ("causal_mask", causal_mask_kernel),
];

fn linear_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    fn run<'a, T: Elem>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Data, Diagnostic> {
        let (x, w) = (arg_array::<T>(ev, b, 0)?, arg_array::<T>(ev, b, 1)?);
        let y = matmul_arrays(&x, &w, b.span)?;
        if b.get(2).is_none() {
            return Ok(T::tensor(y));
        }
        let bias = arg_array::<T>(ev, b, 2)?;
        let shape = IxDyn(&ev.out_shape(b)?);
        let (Some(yv), Some(bv)) = (y.broadcast(shape.clone()), bias.broadcast(shape)) else {
            let message = format!(
                "the bias {:?} does not broadcast with x @ w {:?}",
                bias.shape(),
                y.shape()
            );
            return Err(runtime_error(b.span, message));
        };
        let sum = Zip::from(&yv).and(&bv).map_collect(|&p, &q| p + q);
        Ok(T::tensor(sum.into_shared()))
    }
    numeric!(ev.out_dtype(b), b.span, run(ev, b)).map(Value::Tensor)
}

/// A convolution's settings for the two spatial axes (a 1-D convolution
/// runs as a 2-D one over a height of 1).
struct Conv {
    stride: [usize; 2],
    padding: [usize; 2],
    output_padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
}

/// A static per-axis setting as the checker validated it: one integer for
/// every axis, or a list of one each.
fn setting(
    ev: &Interp,
    b: &Bound,
    i: usize,
    n: usize,
    default: &[usize],
) -> Result<Vec<usize>, Diagnostic> {
    let Some(e) = b.get(i) else {
        return Ok(default.to_vec());
    };
    let values = match &e.kind {
        ExprKind::List(items) => items
            .iter()
            .map(|item| ev.static_size(item))
            .collect::<Result<Vec<_>, _>>()?,
        _ => vec![ev.static_size(e)?; n],
    };
    values
        .into_iter()
        .map(|v| usize::try_from(v).map_err(|_| internal(e.span, "a negative setting")))
        .collect()
}

fn conv_settings(
    ev: &Interp,
    b: &Bound,
    spatial: usize,
    transposed: bool,
) -> Result<Conv, Diagnostic> {
    let last = last_slot(b);
    let pair = |v: Vec<usize>, fill: usize| -> Result<[usize; 2], Diagnostic> {
        match v.as_slice() {
            [a] => Ok([fill, *a]),
            [a, c] => Ok([*a, *c]),
            _ => Err(internal(b.span, "a setting with a value per axis")),
        }
    };
    let (ones, zeros) = (vec![1; spatial], vec![0; spatial]);
    let output_padding = match transposed {
        true => setting(ev, b, 5, spatial, &zeros)?,
        false => zeros.clone(),
    };
    let groups = ev.arg_int(b, last, 1)?;
    Ok(Conv {
        stride: pair(setting(ev, b, 3, spatial, &ones)?, 1)?,
        padding: pair(setting(ev, b, 4, spatial, &zeros)?, 0)?,
        output_padding: pair(output_padding, 0)?,
        dilation: pair(setting(ev, b, last.saturating_sub(1), spatial, &ones)?, 1)?,
        groups: usize::try_from(groups)
            .ok()
            .filter(|g| *g > 0)
            .ok_or_else(|| internal(b.span_of(last), "groups below 1"))?,
    })
}

fn conv_kernel<'a>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    spatial: usize,
    transposed: bool,
) -> Result<Value, Diagnostic> {
    let set = conv_settings(ev, b, spatial, transposed)?;
    numeric!(ev.out_dtype(b), b.span, conv_in(ev, b, &set, transposed)).map(Value::Tensor)
}

fn conv_in<'a, T: Elem>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    set: &Conv,
    transposed: bool,
) -> Result<Data, Diagnostic> {
    let (x, w) = (arg_array::<T>(ev, b, 0)?, arg_array::<T>(ev, b, 1)?);
    let bias = match b.get(2) {
        Some(_) => Some(arg_array::<T>(ev, b, 2)?),
        None => None,
    };
    let one_d = x.ndim() == 3;
    let (x4, w4) = (as_2d(&x, b.span_of(0))?, as_2d(&w, b.span_of(1))?);
    let out = conv_output(ev, b, x4.dim(), w4.dim(), set, transposed)?;
    let mut y = match transposed {
        true => conv_transposed(x4, w4, set, out, b.span)?,
        false => conv_forward(x4, w4, set, out, b.span)?,
    };
    if let Some(bias) = bias {
        if bias.shape() != [y.dim().3] {
            return Err(internal(b.span_of(2), "a bias of another size"));
        }
        // y is channels-last here, so the bias broadcasts along its last axis.
        y.zip_mut_with(&bias, |v, &c| *v = *v + c);
    }
    let y = y.permuted_axes([0, 3, 1, 2]).into_dyn();
    let y = match one_d {
        true => y.index_axis_move(NdAxis(2), 0),
        false => y,
    };
    Ok(T::tensor(y.into_shared()))
}

/// A 1-D convolution's operand `[N, C, L]` as `[N, C, 1, L]`.
fn as_2d<T>(a: &Array<T>, span: Span) -> Result<ArrayView4<'_, T>, Diagnostic> {
    let v = match a.ndim() {
        3 => a.view().insert_axis(NdAxis(2)),
        _ => a.view(),
    };
    v.into_dimensionality::<Ix4>()
        .map_err(|_| internal(span, "a convolution operand of another rank"))
}

/// Every position of an axis.
const ALL: Slice = Slice {
    start: 0,
    end: None,
    step: 1,
};

/// Slices each of four axes (ndarray's `s!` needs unsafe code).
fn cut(slices: [Slice; 4]) -> impl Fn(AxisDescription) -> Slice {
    move |d| slices.get(d.axis.index()).copied().unwrap_or(ALL)
}

/// The output's spatial sizes: the checker's, unless only the data can
/// tell (a size the checker left unknown, or a kernel that does not fit
/// sizes bound at run time, which the same formulas then report).
fn conv_output(
    ev: &Interp,
    b: &Bound,
    (_, _, h, w): (usize, usize, usize, usize),
    (_, _, kh, kw): (usize, usize, usize, usize),
    set: &Conv,
    transposed: bool,
) -> Result<(usize, usize), Diagnostic> {
    // A 1-D output's height is the 1 it ran with.
    let proved = match ev.out_shape(b).as_deref() {
        Ok([_, _, l]) => Some((1, *l)),
        Ok([_, _, oh, ow]) => Some((*oh, *ow)),
        _ => None,
    };
    if let Some((oh, ow)) = proved.filter(|(oh, ow)| *oh > 0 && *ow > 0) {
        return Ok((oh, ow));
    }
    // In i128: settings up to the checker's size limit overflow i64 products.
    let size = |i: usize, h: usize, k: usize| -> i128 {
        let (h, k) = (h as i128, k as i128);
        let (s, p) = (set.stride[i] as i128, set.padding[i] as i128);
        let (d, op) = (set.dilation[i] as i128, set.output_padding[i] as i128);
        match transposed {
            true => (h - 1) * s - 2 * p + d * (k - 1) + op + 1,
            false => (h + 2 * p - d * (k - 1) - 1).div_euclid(s) + 1,
        }
    };
    let (oh, ow) = (size(0, h, kh), size(1, w, kw));
    match (usize::try_from(oh), usize::try_from(ow)) {
        (Ok(oh), Ok(ow)) if oh > 0 && ow > 0 => Ok((oh, ow)),
        _ => Err(runtime_error(
            b.span,
            format!(
                "the kernel does not fit: x's spatial sizes {:?} give an output of {:?}",
                [h, w],
                [oh, ow]
            ),
        )),
    }
}

/// The strided positions `start, start + step, ..` of `count` windows.
fn positions(start: usize, count: usize, step: usize) -> Slice {
    let end = start + step * count.saturating_sub(1) + usize::from(count > 0);
    Slice::new(start as isize, Some(end as isize), step as isize)
}

/// The extent `count` windows of size `k` spaced `step` apart cover.
fn extent(k: usize, dilation: usize, count: usize, step: usize) -> usize {
    match (k, count) {
        (0, _) | (_, 0) => 0,
        _ => dilation
            .saturating_mul(k - 1)
            .saturating_add(step.saturating_mul(count - 1))
            .saturating_add(1),
    }
}

/// x `[N, C, H, W]` with w `[O, C/groups, KH, KW]` by im2col: each group's
/// patches are gathered into a matrix `[N·OH·OW, C/groups·KH·KW]`, one
/// strided copy per kernel offset, and multiplied by that group's filters.
/// The result is channels-last, `[N, OH, OW, O]`.
fn conv_forward<T: Elem>(
    x: ArrayView4<T>,
    w: ArrayView4<T>,
    set: &Conv,
    (oh, ow): (usize, usize),
    span: Span,
) -> Result<Array4<T>, Diagnostic> {
    let (n, c, h, wd) = x.dim();
    let (o, cg, kh, kw) = w.dim();
    let g = set.groups;
    if o % g != 0 || c != cg * g {
        let message = format!("`groups={g}` must divide the output channels ({o}) and the input channels ({c}), which must be {cg} per group");
        return Err(runtime_error(span, message));
    }
    let og = o / g;
    let ([sh, sw], [ph, pw], [dh, dw]) = (set.stride, set.padding, set.dilation);
    let (hp, wp) = (h + 2 * ph, wd + 2 * pw);
    if extent(kh, dh, oh, sh) > hp || extent(kw, dw, ow, sw) > wp {
        return Err(internal(
            span,
            "a convolution output larger than its input allows",
        ));
    }
    allocatable(&[n, oh, ow, cg, kh, kw], span)?;
    allocatable(&[n, c, hp, wp], span)?;
    let padded;
    let xp = if ph + pw > 0 {
        let mut p = Array4::<T>::zeros((n, c, hp, wp));
        p.slice_each_axis_mut(cut([ALL, ALL, (ph..ph + h).into(), (pw..pw + wd).into()]))
            .assign(&x);
        padded = p;
        padded.view()
    } else {
        x
    };
    let mut cols = Array6::<T>::zeros((n, oh, ow, cg, kh, kw));
    let mut out = Array4::<T>::zeros((n, oh, ow, o));
    let failed = |_| internal(span, "an im2col reshape");
    for gi in 0..g {
        let channels = Slice::from(gi * cg..(gi + 1) * cg);
        for i in 0..kh {
            for j in 0..kw {
                let rows = positions(i * dh, oh, sh);
                let patch =
                    xp.slice_each_axis(cut([ALL, channels, rows, positions(j * dw, ow, sw)]));
                let mut col = cols.index_axis_mut(NdAxis(5), j);
                col.index_axis_mut(NdAxis(4), i)
                    .assign(&patch.permuted_axes([0, 2, 3, 1]));
            }
        }
        let patches = cols
            .view()
            .into_shape_with_order((n * oh * ow, cg * kh * kw))
            .map_err(failed)?;
        let filters = w.slice_each_axis(cut([(gi * og..(gi + 1) * og).into(), ALL, ALL, ALL]));
        let filters = filters.to_shape((og, cg * kh * kw)).map_err(failed)?;
        let y = patches.dot(&filters.t());
        let y = y.into_shape_with_order((n, oh, ow, og)).map_err(failed)?;
        out.slice_each_axis_mut(cut([ALL, ALL, ALL, (gi * og..(gi + 1) * og).into()]))
            .assign(&y);
    }
    Ok(out)
}

/// x `[N, C, H, W]` with w `[C, O/groups, KH, KW]` (PyTorch's layout), the
/// gradient of a convolution: each group's input pixels times its filters
/// give every pixel's contribution `[N·H·W, O/groups·KH·KW]` in one matrix
/// product; col2im adds them into the strided output positions, and the
/// padding is cropped. The result is channels-last, `[N, OH, OW, O]`.
fn conv_transposed<T: Elem>(
    x: ArrayView4<T>,
    w: ArrayView4<T>,
    set: &Conv,
    (oh, ow): (usize, usize),
    span: Span,
) -> Result<Array4<T>, Diagnostic> {
    let (n, c, h, wd) = x.dim();
    let (cw, og, kh, kw) = w.dim();
    let g = set.groups;
    if c % g != 0 || c != cw {
        let message = format!("`groups={g}` must divide the input channels ({c})");
        return Err(runtime_error(span, message));
    }
    let (cg, o) = (c / g, og * g);
    let ([sh, sw], [ph, pw], [dh, dw]) = (set.stride, set.padding, set.dilation);
    // The output before its padding is cropped.
    let (hf, wf) = (oh + 2 * ph, ow + 2 * pw);
    if extent(kh, dh, h, sh) > hf || extent(kw, dw, wd, sw) > wf {
        return Err(internal(
            span,
            "a transposed convolution output smaller than its input gives",
        ));
    }
    allocatable(&[n, hf, wf, o], span)?;
    allocatable(&[n, h, wd, og, kh, kw], span)?;
    let mut full = Array4::<T>::zeros((n, hf, wf, o));
    let failed = |_| internal(span, "a col2im reshape");
    let pixels = x.permuted_axes([0, 2, 3, 1]);
    for gi in 0..g {
        let xg = pixels.slice_each_axis(cut([ALL, ALL, ALL, (gi * cg..(gi + 1) * cg).into()]));
        let xg = xg.to_shape((n * h * wd, cg)).map_err(failed)?;
        let wg = w.slice_each_axis(cut([(gi * cg..(gi + 1) * cg).into(), ALL, ALL, ALL]));
        let wg = wg.to_shape((cg, og * kh * kw)).map_err(failed)?;
        let cols = xg.dot(&wg);
        let cols = cols
            .into_shape_with_order((n, h, wd, og, kh, kw))
            .map_err(failed)?;
        for i in 0..kh {
            for j in 0..kw {
                let (rows, columns) = (positions(i * dh, h, sh), positions(j * dw, wd, sw));
                let outputs = Slice::from(gi * og..(gi + 1) * og);
                let part = cols.index_axis(NdAxis(5), j);
                full.slice_each_axis_mut(cut([ALL, rows, columns, outputs]))
                    .zip_mut_with(&part.index_axis(NdAxis(4), i), |v, &u| *v = *v + u);
            }
        }
    }
    full.slice_each_axis_inplace(cut([ALL, (ph..ph + oh).into(), (pw..pw + ow).into(), ALL]));
    Ok(full)
}

/// Max or average over windows `k` apart by `stride`, on the last two
/// axes: one strided view per window offset, combined elementwise.
fn pool_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>, max: bool) -> Result<Value, Diagnostic> {
    let k = setting(ev, b, 1, 2, &[])?;
    let stride = setting(ev, b, 2, 2, &k)?;
    let (&[kh, kw], &[sh, sw]) = (k.as_slice(), stride.as_slice()) else {
        return Err(internal(b.span, "a pooling window of another rank"));
    };
    let window = Pool {
        k: [kh, kw],
        stride: [sh, sw],
        max,
    };
    numeric!(ev.out_dtype(b), b.span, pool_in(ev, b, &window)).map(Value::Tensor)
}

struct Pool {
    k: [usize; 2],
    stride: [usize; 2],
    max: bool,
}

fn pool_in<'a, T: Elem>(
    ev: &mut Interp<'a>,
    b: &Bound<'a>,
    pool: &Pool,
) -> Result<Data, Diagnostic> {
    let x = arg_array::<T>(ev, b, 0)?;
    let rank = x.ndim();
    let ([kh, kw], [sh, sw]) = (pool.k, pool.stride);
    let (h, w) = match x.shape() {
        [.., h, w] if rank >= 3 => (*h, *w),
        _ => return Err(internal(b.span, "pooling fewer than three axes")),
    };
    let (oh, ow) = match ev.out_shape(b).ok().as_deref() {
        Some([.., oh, ow]) if *oh > 0 && *ow > 0 => (*oh, *ow),
        // Floor mode, no padding, for sizes only the data tells.
        _ => match (h.checked_sub(kh), w.checked_sub(kw)) {
            (Some(a), Some(c)) => (a / sh + 1, c / sw + 1),
            _ => {
                let message =
                    format!("the {kh} × {kw} window does not fit x's last two sizes {h} × {w}");
                return Err(runtime_error(b.span, message));
            }
        },
    };
    if kh == 0 || kw == 0 || extent(kh, 1, oh, sh) > h || extent(kw, 1, ow, sw) > w {
        return Err(internal(
            b.span,
            "a pooling output larger than its input allows",
        ));
    }
    let window = |i: usize, j: usize| {
        x.slice_each_axis(|a| match a.axis.index() {
            d if d == rank - 2 => positions(i, oh, sh),
            d if d == rank - 1 => positions(j, ow, sw),
            _ => ALL,
        })
    };
    let mut acc = window(0, 0).to_owned();
    for i in 0..kh {
        for j in 0..kw {
            if (i, j) == (0, 0) {
                continue;
            }
            // NaN propagates through max, as in PyTorch.
            match pool.max {
                true => acc.zip_mut_with(&window(i, j), |a, &v| {
                    if v > *a || v.is_nan() {
                        *a = v;
                    }
                }),
                false => acc.zip_mut_with(&window(i, j), |a, &v| *a = *a + v),
            }
        }
    }
    if !pool.max {
        let count = T::count(kh * kw);
        acc.mapv_inplace(|v| v / count);
    }
    Ok(T::tensor(acc.into_shared()))
}

/// `[T, T]`: 0 on and below the diagonal, -inf above.
fn causal_mask_kernel<'a>(ev: &mut Interp<'a>, b: &Bound<'a>) -> Result<Value, Diagnostic> {
    let shape = match ev.out_shape(b) {
        Ok(shape) => shape,
        // A size below zero has no shape: say which.
        Err(d) => match ev.arg_int(b, 0, 0)? {
            t if t < 0 => {
                let message = format!("`causal_mask` needs a size of at least 0, found {t}");
                return Err(runtime_error(b.span_of(0), message));
            }
            _ => return Err(d),
        },
    };
    let &[t, _] = shape.as_slice() else {
        return Err(internal(b.span, "a causal mask that is not square"));
    };
    allocatable(&shape, b.span)?;
    let mask = Array2::from_shape_fn((t, t), |(i, j)| match j > i {
        true => f32::NEG_INFINITY,
        false => 0.0,
    });
    let mask = Data::F32(mask.into_dyn().into_shared()).cast(ev.out_dtype(b));
    Ok(Value::Tensor(mask))
}
