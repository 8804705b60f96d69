//! Neural-network layers: linear, convolutions, pooling and causal_mask.
//! (softmax, layernorm and batchnorm live with the reductions.)
//!
//! Convolutions contract the channels of x with w's input channels, so a
//! channel mismatch is tsr::contraction. Output sizes are computed with
//! size operations, so symbolic inputs keep their names where the size is
//! provably unchanged (a stride-1 "same" convolution).

use super::construct::size_axis;
use super::{Bound, Builtin, Param};
use crate::check::expr::{promote, Operand};
use crate::check::size::{Size, SizeError};
use crate::check::types::{show_axis, Axis, DType, Item, Tensor, Type};
use crate::check::{Checker, MAX_SIZE};
use crate::error::{Code, Diagnostic};
use crate::syntax::ast::{Expr, ExprKind};

use Param::{Optional, Required};

const CONV: &[Param] = &[
    Required("x"),
    Required("w"),
    Optional("b"),
    Optional("stride"),
    Optional("padding"),
    Optional("dilation"),
    Optional("groups"),
];
const CONV_T: &[Param] = &[
    Required("x"),
    Required("w"),
    Optional("b"),
    Optional("stride"),
    Optional("padding"),
    Optional("output_padding"),
    Optional("dilation"),
    Optional("groups"),
];
const POOL: &[Param] = &[Required("x"), Required("k"), Optional("stride")];

pub(super) static BUILTINS: &[Builtin] = &[
    Builtin {
        name: "linear",
        params: &[Required("x"), Required("w"), Optional("b")],
        rule: linear,
    },
    Builtin {
        name: "conv1d",
        params: CONV,
        rule: conv1d,
    },
    Builtin {
        name: "conv2d",
        params: CONV,
        rule: conv2d,
    },
    Builtin {
        name: "conv_transpose2d",
        params: CONV_T,
        rule: conv_transpose2d,
    },
    Builtin {
        name: "max_pool2d",
        params: POOL,
        rule: pool,
    },
    Builtin {
        name: "avg_pool2d",
        params: POOL,
        rule: pool,
    },
    Builtin {
        name: "causal_mask",
        params: &[Required("n")],
        rule: causal_mask,
    },
];

/// Evaluates the tensor arguments in `slots` (an absent optional one is
/// `None`) so each reports its own errors, then refuses bool ones in one
/// diagnostic that labels each of them.
fn tensor_args(cx: &mut Checker, b: &Bound, slots: &[usize]) -> Option<Vec<Option<Tensor>>> {
    let mut out = Vec::with_capacity(slots.len());
    let mut failed = false;
    for &i in slots {
        match b.get(i).map(|e| cx.tensor_arg(e)) {
            None => out.push(None),
            Some(Some(t)) => out.push(Some(t)),
            Some(None) => failed = true,
        }
    }
    if failed {
        return None;
    }
    let mut d = Diagnostic::new(
        Code::Dtype,
        b.span,
        format!("`{}` does not take bool tensors", b.name),
    )
    .help("cast it first, e.g. `f32(x)`");
    let mut any = false;
    for (&i, t) in slots.iter().zip(&out) {
        if let Some(t) = t.as_ref().filter(|t| t.dtype == DType::Bool) {
            d = d.label(b.span_of(i), cx.show(&Type::Tensor(t.clone())));
            any = true;
        }
    }
    if any {
        cx.report(d);
        return None;
    }
    Some(out)
}

/// `x @ w + b`, with w `[in, out]` and the bias broadcast like `+`.
fn linear(cx: &mut Checker, b: &Bound) -> Type {
    let Some(ts) = tensor_args(cx, b, &[0, 1, 2]) else {
        return Type::Unknown;
    };
    let [Some(x), Some(w), bias] = ts.as_slice() else {
        return Type::Unknown;
    };
    let left = Operand {
        ty: x,
        span: b.span_of(0),
        expr: b.get(0),
    };
    let right = Operand {
        ty: w,
        span: b.span_of(1),
        expr: b.get(1),
    };
    let y = match cx.matmul(left, right, b.span) {
        Type::Tensor(y) => y,
        other => return other,
    };
    let Some(bias) = bias else {
        return Type::Tensor(y);
    };
    let product = Operand {
        ty: &y,
        span: b.span_of(0).to(b.span_of(1)),
        expr: None,
    };
    let added = Operand {
        ty: bias,
        span: b.span_of(2),
        expr: b.get(2),
    };
    match cx.broadcast_operands(&[product, added], b.span, "+ (the bias of `linear`)") {
        Some(shape) => Type::tensor(promote(&y, bias), shape),
        None => Type::Unknown,
    }
}

fn conv1d(cx: &mut Checker, b: &Bound) -> Type {
    conv(cx, b, 1, false)
}

fn conv2d(cx: &mut Checker, b: &Bound) -> Type {
    conv(cx, b, 2, false)
}

fn conv_transpose2d(cx: &mut Checker, b: &Bound) -> Type {
    conv(cx, b, 2, true)
}

/// The static integer arguments of a convolution, one per spatial axis.
struct Settings {
    stride: Vec<i64>,
    padding: Vec<i64>,
    output_padding: Vec<i64>,
    dilation: Vec<i64>,
    groups: i64,
}

fn settings(cx: &mut Checker, b: &Bound, n: usize, transposed: bool) -> Option<Settings> {
    let (dilation_slot, groups_slot) = if transposed { (6, 7) } else { (5, 6) };
    let stride = per_axis(cx, b.get(3), n, &vec![1; n], 1, "stride");
    let padding = per_axis(cx, b.get(4), n, &vec![0; n], 0, "padding");
    let output_padding = if transposed {
        per_axis(cx, b.get(5), n, &vec![0; n], 0, "output_padding")
    } else {
        Some(vec![0; n])
    };
    let dilation = per_axis(cx, b.get(dilation_slot), n, &vec![1; n], 1, "dilation");
    let groups = cx.int_arg(b.get(groups_slot), 1);
    let (stride, padding, output_padding, dilation, groups) =
        (stride?, padding?, output_padding?, dilation?, groups?);
    if groups < 1 {
        let span = b.span_of(groups_slot);
        cx.report(
            Diagnostic::new(
                Code::Arg,
                span,
                format!("`groups` must be at least 1, found {groups}"),
            )
            .label(span, "groups"),
        );
        return None;
    }
    // As in PyTorch: a larger output_padding would add positions no input reaches.
    let too_big = output_padding
        .iter()
        .zip(stride.iter().zip(&dilation))
        .any(|(o, (s, d))| o >= s.max(d));
    if too_big {
        let span = b.span_of(5);
        cx.report(
            Diagnostic::new(
                Code::Arg,
                span,
                "`output_padding` must be smaller than the stride or the dilation",
            )
            .label(span, "too large"),
        );
        return None;
    }
    Some(Settings {
        stride,
        padding,
        output_padding,
        dilation,
        groups,
    })
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
        ExprKind::List(items) => {
            let help = match n {
                1 => format!("give one integer, e.g. `{what}=2`"),
                _ => format!("give one integer or one per axis, e.g. `{what}=[2, 2]`"),
            };
            cx.report(
                Diagnostic::new(
                    Code::Arg,
                    e.span,
                    format!(
                        "`{what}` takes one integer or a list of {n}, found a list of {}",
                        items.len()
                    ),
                )
                .label(e.span, format!("{} values", items.len()))
                .help(help),
            );
            return None;
        }
        ExprKind::Tuple(_) => {
            cx.report(
                Diagnostic::new(
                    Code::Arg,
                    e.span,
                    format!("`{what}` takes one integer or a list, not a tuple"),
                )
                .label(e.span, "a tuple")
                .help("write a pair in brackets, e.g. `[2, 2]`"),
            );
            return None;
        }
        _ => vec![cx.int_arg(Some(e), 0)?; n],
    };
    if let Some(v) = values.iter().find(|v| **v < least) {
        cx.report(
            Diagnostic::new(
                Code::Arg,
                e.span,
                format!("`{what}` must be at least {least}, found {v}"),
            )
            .label(e.span, format!("{v}")),
        );
        return None;
    }
    Some(values)
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
    let (Some(xa), Some(wa)) = (axes_of_rank(x, spatial + 2), axes_of_rank(w, spatial + 2)) else {
        let mut d = Diagnostic::new(
            Code::Arg,
            b.span,
            format!(
                "`{}` takes x as {xl} and w as {wl}, found {xs} and {ws}",
                b.name
            ),
        )
        .label(b.span_of(0), xs)
        .label(b.span_of(1), ws);
        if x.rank() == Some(spatial + 1) {
            d = d.help("x has no batch axis: add one with `unsqueeze(x, 0)`");
        }
        return cx.fail(d);
    };
    let [n_axis, c_axis, ..] = xa.as_slice() else {
        return Type::Unknown;
    };
    let [w0, w1, ..] = wa.as_slice() else {
        return Type::Unknown;
    };
    let g = set.groups;
    // Output channels: w's first axis, or (transposed) its second times groups.
    let out_channels = if !transposed {
        w0.clone()
    } else if g == 1 {
        w1.clone()
    } else {
        match w1.size.mul(&Size::constant(g)) {
            Ok(size) => Axis::anon(size),
            Err(_) => {
                return cx.fail(crate::check::limit_error(
                    b.span,
                    "the output channel count",
                ))
            }
        }
    };
    let divides = |size: &Size| size.as_const().map_or(true, |v| v % g == 0);
    for (axis, whose) in [
        (c_axis, "input channels of x"),
        (&out_channels, "output channels"),
    ] {
        if !divides(&axis.size) {
            let span = b
                .get(if transposed { 7 } else { 6 })
                .map_or(b.span, |e| e.span);
            let shown = show_axis(axis, cx);
            return cx.fail(
                Diagnostic::new(
                    Code::Arg,
                    span,
                    format!("`groups={g}` must divide the {whose} ({shown}): x is {xs}, w is {ws}"),
                )
                .label(span, format!("groups={g}"))
                .label(b.span_of(0), xs.clone())
                .label(b.span_of(1), ws.clone()),
            );
        }
    }
    // The axis of w contracted with x's channels, and how many channels it covers.
    let (contracted, covers) = if transposed {
        (w0, Ok(w0.size.clone()))
    } else {
        (w1, w1.size.mul(&Size::constant(g)))
    };
    let covers = match covers {
        Ok(size) => size,
        Err(_) => return cx.fail(crate::check::limit_error(b.span, "the channel count")),
    };
    if covers != c_axis.size {
        let d = channel_mismatch(cx, b, (x, &xa), (w, &wa), g, transposed);
        return cx.fail(d);
    }
    let out_channels = match bias {
        Some(bias) => match bias_axis(cx, b, bias, w, &out_channels) {
            Some(axis) => axis,
            None => return Type::Unknown,
        },
        None => out_channels,
    };
    let mut shape = vec![Item::Axis(n_axis.clone()), Item::Axis(out_channels)];
    let mut misfits = Vec::new();
    for i in 0..spatial {
        let (Some(h), Some(k)) = (xa.get(i + 2), wa.get(i + 2)) else {
            return Type::Unknown;
        };
        let [s, p, op, d] = [
            &set.stride,
            &set.padding,
            &set.output_padding,
            &set.dilation,
        ]
        .map(|v| v.get(i).copied().unwrap_or(0));
        let out = if transposed {
            transposed_size(&h.size, &k.size, s, p, op, d)
        } else {
            window_size(&h.size, &k.size, s, p, d)
        };
        let Some(out) = settle(cx, out, b) else {
            return Type::Unknown;
        };
        if out.as_const().is_some_and(|v| v <= 0) {
            misfits.push(misfit(cx, h, &k.size, p, d, transposed));
        }
        shape.push(Item::Axis(keep_if_unchanged(h, out)));
    }
    if !misfits.is_empty() {
        let d = Diagnostic::new(
            Code::Arg,
            b.span,
            format!(
                "the kernel does not fit: {} (x is {xs}, w is {ws})",
                misfits.join("; ")
            ),
        )
        .label(b.span_of(0), xs)
        .label(b.span_of(1), ws)
        .help("use a smaller kernel or dilation, more padding, or a larger input");
        return cx.fail(d);
    }
    if g == 1 {
        name_mismatch(cx, b, c_axis, contracted);
    }
    let mut dtype = promote(x, w);
    if let Some(bias) = bias {
        dtype = dtype.max(bias.dtype);
    }
    Type::tensor(dtype, shape)
}

/// A channel mismatch, with the layout slip that most likely caused it.
fn channel_mismatch(
    cx: &Checker,
    b: &Bound,
    (x, xa): (&Tensor, &[Axis]),
    (w, wa): (&Tensor, &[Axis]),
    g: i64,
    transposed: bool,
) -> Diagnostic {
    let (xs, ws) = (cx.show_shape(&x.shape), cx.show_shape(&w.shape));
    let (xl, wl) = layouts(xa.len().saturating_sub(2), transposed);
    let size = |i: usize, axes: &[Axis]| axes.get(i).map(|a| a.size.clone());
    let shown =
        |i: usize, axes: &[Axis]| axes.get(i).map_or_else(String::new, |a| show_axis(a, cx));
    let channels = shown(1, xa);
    let (wants, other) = match (transposed, g) {
        (true, _) => (format!("axis 0 of w ({})", shown(0, wa)), 1),
        (false, 1) => (format!("axis 1 of w ({})", shown(1, wa)), 0),
        (false, _) => (
            format!("axis 1 of w ({} per group, × {g} groups)", shown(1, wa)),
            0,
        ),
    };
    let mut d = Diagnostic::new(
        Code::Contraction,
        b.span,
        format!(
            "`{}` contracts the channels of x (axis 1, {channels}) with {wants}, and they differ: x is {xs}, w is {ws}",
            b.name
        ),
    )
    .label(b.span_of(0), format!("{xs}: {channels} channels"))
    .label(b.span_of(1), format!("{ws}: {wants}"));
    let w_text = b.get(1).map_or_else(|| "w".to_string(), |e| cx.describe(e));
    let x_text = b.get(0).map_or_else(|| "x".to_string(), |e| cx.describe(e));
    let last = xa.len().saturating_sub(1);
    let expected = if transposed { size(0, wa) } else { size(1, wa) };
    if g == 1 && size(other, wa) == size(1, xa) {
        d = d.help(format!(
            "the other channel axis of w matches: `{}` takes w as {wl}; swap them with `transpose({w_text}, 0, 1)`",
            b.name
        ));
    } else if g == 1 && expected == size(last, xa) {
        let order: Vec<String> = std::iter::once(0)
            .chain(std::iter::once(last))
            .chain(1..last)
            .map(|i| i.to_string())
            .collect();
        d = d.help(format!(
            "x looks channels-last; `{}` takes x as {xl}: `permute({x_text}, [{}])`",
            b.name,
            order.join(", ")
        ));
    } else {
        d = d.help(format!("`{}` takes x as {xl} and w as {wl}", b.name));
    }
    d
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

/// Contracting channel axes with different names is suspicious, as in `@`.
fn name_mismatch(cx: &mut Checker, b: &Bound, x: &Axis, w: &Axis) {
    let (Some(p), Some(q)) = (&x.name, &w.name) else {
        return;
    };
    if p == q {
        return;
    }
    let (xs, ws) = (show_axis(x, cx), show_axis(w, cx));
    cx.report(
        Diagnostic::new(
            Code::NameMismatch,
            b.span,
            format!(
                "`{}` contracts channel axis {xs} of x with axis {ws} of w",
                b.name
            ),
        )
        .label(b.span_of(0), format!("contracts {xs}"))
        .label(b.span_of(1), format!("contracts {ws}"))
        .help("if the axes really are the same, rename one with `rename(x, [...])`"),
    );
}

fn constant(v: i64) -> Size {
    Size::constant(v)
}

/// `floor((h + 2p - d(k - 1) - 1) / s) + 1`: convolution and pooling.
fn window_size(h: &Size, k: &Size, s: i64, p: i64, d: i64) -> Result<Size, SizeError> {
    let reach = k.sub(&constant(1))?.mul(&constant(d))?;
    h.add(&constant(2 * p))?
        .sub(&reach)?
        .sub(&constant(1))?
        .floor_div(&constant(s))?
        .add(&constant(1))
}

/// `(h - 1)s - 2p + d(k - 1) + output_padding + 1`.
fn transposed_size(h: &Size, k: &Size, s: i64, p: i64, op: i64, d: i64) -> Result<Size, SizeError> {
    let reach = k.sub(&constant(1))?.mul(&constant(d))?;
    h.sub(&constant(1))?
        .mul(&constant(s))?
        .sub(&constant(2 * p))?
        .add(&reach)?
        .add(&constant(op + 1))
}

/// An output size, or `None` once one beyond tsr's limit is reported.
fn settle(cx: &mut Checker, size: Result<Size, SizeError>, b: &Bound) -> Option<Size> {
    match size {
        Ok(s) if s.as_const().map_or(true, |v| v <= MAX_SIZE) => Some(s),
        Ok(_) | Err(SizeError::Overflow) => {
            cx.report(crate::check::limit_error(b.span, "an output size"));
            None
        }
        // A size the normal form cannot express stays unknown (checked at run time).
        Err(_) => Some(cx.fresh_size()),
    }
}

/// The input axis when the output size provably equals it, else anonymous.
fn keep_if_unchanged(input: &Axis, out: Size) -> Axis {
    if out == input.size {
        input.clone()
    } else {
        Axis::anon(out)
    }
}

/// Why one spatial axis has no output position, for the message.
fn misfit(cx: &Checker, h: &Axis, k: &Size, p: i64, d: i64, transposed: bool) -> String {
    let axis = show_axis(h, cx);
    if transposed {
        return format!("padding {p} on each side removes every output position of axis {axis}");
    }
    let padded = h
        .size
        .add(&constant(2 * p))
        .map_or_else(|_| format!("{axis} + {}", 2 * p), |s| cx.show_size(&s));
    let extent = k
        .sub(&constant(1))
        .and_then(|r| r.mul(&constant(d)))
        .and_then(|r| r.add(&constant(1)))
        .map_or_else(
            |_| format!("{d}·({} - 1) + 1", cx.show_size(k)),
            |s| cx.show_size(&s),
        );
    format!("axis {axis} padded by {p} on each side has {padded} positions, fewer than the kernel's extent {extent}")
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
        return cx.fail(
            Diagnostic::new(
                Code::Arg,
                b.span,
                format!(
                    "`{}` takes x as [N, C, H, W] or [C, H, W], found {xs}",
                    b.name
                ),
            )
            .label(b.span_of(0), xs),
        );
    };
    let lead = axes.len().saturating_sub(2);
    let mut shape: Vec<Item> = axes.iter().take(lead).cloned().map(Item::Axis).collect();
    let mut misfits = Vec::new();
    for (i, h) in axes.iter().skip(lead).enumerate() {
        let (Some(&ki), Some(&si)) = (k.get(i), stride.get(i)) else {
            return Type::Unknown;
        };
        let Some(out) = settle(cx, window_size(&h.size, &constant(ki), si, 0, 1), b) else {
            return Type::Unknown;
        };
        if out.as_const().is_some_and(|v| v <= 0) {
            misfits.push(misfit(cx, h, &constant(ki), 0, 1, false));
        }
        shape.push(Item::Axis(keep_if_unchanged(h, out)));
    }
    if !misfits.is_empty() {
        let window: Vec<String> = k.iter().map(|v| v.to_string()).collect();
        return cx.fail(
            Diagnostic::new(
                Code::Arg,
                b.span,
                format!(
                    "the kernel does not fit: {} (x is {xs})",
                    misfits.join("; ")
                ),
            )
            .label(b.span_of(0), xs)
            .label(b.span_of(1), format!("kernel {}", window.join(" × ")))
            .help("use a smaller window or a larger input"),
        );
    }
    let dtype = if b.name == "avg_pool2d" {
        x.dtype.to_float()
    } else {
        x.dtype
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
