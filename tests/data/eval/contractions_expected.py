"""Expected values for tests/eval_contractions.rs: einsum's strided GEMM
operands (src/ops/einsum/kernels.rs) and conv2d's im2col tiles
(src/ops/nn/conv.rs), on inputs large enough to be split over the cores
and on tiny, empty and oddly laid-out ones.

Writes contractions_expected.rs beside this script. Inputs are small
integers built in each program from `arange` exactly as here, so every
product and sum is exact in f32 as well as f64: results are compared at
sampled positions and through `sum(abs(t))`. The convolution reference
is written tap by tap from PyTorch's definition, independent of im2col.

Run: python3 contractions_expected.py (needs numpy).
"""

import itertools
import math

import numpy as np

from kernel_cases import Cases

cases = Cases()
pick = np.random.default_rng(11)


def ints(shape, mult, mod, dtype="f32"):
    """((i·mult) mod `mod`) - mod//2 over the elements in order, and its tsr expression."""
    n = math.prod(shape)
    v = (np.arange(n, dtype=np.float64) * mult) % mod - mod // 2
    ty = {"f32": np.float32, "f64": np.float64, "i64": np.int64}[dtype]
    i = f"f64(arange({n}))"
    code = f"{dtype}(reshape({i} * {mult}.0 - floor({i} * {mult}.0 / {mod}.0) * {mod}.0 - {mod // 2}.0, {list(shape)}))"
    return v.reshape(shape).astype(ty), code


def check(name, setup, expr, result):
    """`expr` at a few positions (corners and random) and through sum(abs)."""
    result = np.asarray(result)
    if result.size == 0 or result.ndim == 0:
        cases.add(name, setup, expr, result)
        return
    idx = {tuple(0 for _ in result.shape), tuple(n - 1 for n in result.shape)}
    idx |= {tuple(int(pick.integers(0, n)) for n in result.shape) for _ in range(5)}
    idx = sorted(idx)
    picks = ", ".join("t[" + ", ".join(map(str, i)) + "]" for i in idx)
    cases.add(f"{name}_samples", setup + f"\nlet t = {expr}", f"[{picks}]",
              np.array([result[i] for i in idx], dtype=result.dtype))
    if result.dtype.kind == "f":
        total = math.fsum(np.abs(result.astype(np.float64)).ravel())
        cases.add(f"{name}_sum", setup + f"\nlet t = {expr}", "sum(abs(t))",
                  np.array(total, dtype=result.dtype))


def operands_of(operands, dtype):
    """operands: (name, shape, mult, mod): the tsr lets and the NumPy arrays."""
    lines, arrays = [], []
    for var, shape, mult, mod in operands:
        a, code = ints(shape, mult, mod, dtype)
        lines.append(f"let {var} = {code}")
        arrays.append(a)
    return "\n".join(lines), arrays


def ein(name, spec, operands, call_args=None, np_args=None, dtype="f32"):
    setup, arrays = operands_of(operands, dtype)
    args = call_args or ", ".join(op[0] for op in operands)
    values = np_args(*arrays) if np_args else arrays
    check(name, setup, f'einsum("{spec}", {args})', np.einsum(spec, *values))


# Attention-shaped batches (8 products, dealt to both cores), f32 and f64.
for dt in ("f32", "f64"):
    ein(f"attention_scores_{dt}", "bhid,bhjd->bhij",
        [("q", (2, 4, 64, 16), 5, 7), ("k", (2, 4, 64, 16), 3, 5)], dtype=dt)
ein("attention_times_v", "bhij,bhjd->bhid",
    [("s", (2, 4, 64, 64), 7, 5), ("v", (2, 4, 64, 16), 3, 7)])
# k stored transposed, [b, h, d, j]: its transpose is a strided view.
ein("attention_scores_of_a_permuted_k", "bhid,bhjd->bhij",
    [("q", (2, 4, 64, 16), 5, 7), ("kt", (2, 4, 16, 64), 3, 5)],
    call_args="q, permute(kt, [0, 1, 3, 2])",
    np_args=lambda q, kt: (q, kt.transpose(0, 1, 3, 2)))
# Reversed and stepped rows and columns: negative and non-unit strides.
ein("reversed_and_stepped_operand", "ij,jk->ik",
    [("a", (90, 160), 5, 7), ("b", (80, 70), 3, 5)],
    call_args="a[::-1, ::2], b", np_args=lambda a, b: (a[::-1, ::2], b))
ein("sliced_columns", "ij,jk->ik",
    [("a", (90, 81), 5, 7), ("b", (80, 70), 3, 5)],
    call_args="a[:, 1:], b", np_args=lambda a, b: (a[:, 1:], b))
ein("output_transposed", "ij,jk->ki", [("a", (90, 80), 5, 7), ("b", (80, 70), 3, 5)])
# Matrix-vector chains, each product split by rows over the cores.
for dt in ("f32", "f64"):
    ein(f"matrix_vector_chain_{dt}", "ab,bc,cd,d->a",
        [("x", (300, 310), 5, 7), ("y", (310, 320), 3, 5), ("z", (320, 330), 7, 3),
         ("u", (330,), 2, 5)], dtype=dt)
ein("vector_matrix_chain", "d,dc,cb->b",
    [("u", (330,), 2, 5), ("z", (330, 320), 7, 3), ("y", (320, 310), 3, 5)])
# `...` of size 1 against 6: a batch axis of stride 0.
ein("ellipsis_broadcast_batch", "...ij,...jk->...ik",
    [("t", (1, 40, 30), 5, 7), ("u", (6, 30, 20), 3, 5)])
# b and c are summed, stored in the other order in the first operand:
# the group does not merge into one stride, so it is copied.
ein("summed_axes_that_do_not_merge", "acb,bcd->ad",
    [("p", (20, 6, 5), 5, 7), ("r", (5, 6, 30), 3, 5)])
ein("diagonal_then_product", "ii,ij->j", [("sq", (60, 60), 5, 7), ("m", (60, 50), 3, 5)])
ein("tiny", "ij,j->i", [("a", (2, 2), 5, 7), ("v", (2,), 3, 5)])
ein("int64_batched", "bij,bjk->bik",
    [("x", (3, 20, 10), 5, 7), ("y", (3, 10, 15), 3, 5)], dtype="i64")
cases.add("empty_batch", "let x = zeros([0, 3, 4])\nlet y = zeros([0, 4, 5])",
          'einsum("bij,bjk->bik", x, y)', np.zeros((0, 3, 5), dtype=np.float32))
cases.add("empty_sum", "let x = zeros([2, 3, 0])\nlet y = zeros([2, 0, 5])",
          'einsum("bij,bjk->bik", x, y)', np.zeros((2, 3, 5), dtype=np.float32))


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    og = o // groups
    y = np.zeros((n, o, oh, ow))
    for g, i, j in itertools.product(range(groups), range(kh), range(kw)):
        taps = xp[:, g * cg:(g + 1) * cg,
                  i * dh:i * dh + sh * (oh - 1) + 1:sh, j * dw:j * dw + sw * (ow - 1) + 1:sw]
        y[:, g * og:(g + 1) * og] += np.einsum("oc,nchw->nohw", w[g * og:(g + 1) * og, :, i, j], taps)
    if b is not None:
        y += b[None, :, None, None]
    return y.astype(x.dtype)


def conv(name, xs, ws, settings="", kwargs=None, bias=None, dtype="f32", x_expr="x", x_of=None):
    x, xc = ints(xs, 5, 7, dtype)
    w, wc = ints(ws, 3, 5, dtype)
    setup = f"let x = {xc}\nlet w = {wc}"
    args = f"{x_expr}, w"
    b = None
    if bias:
        b, bc = ints((ws[0],), 2, 9, dtype)
        setup += f"\nlet b = {bc}"
        args += ", b"
    xv = x_of(x) if x_of else x
    check(name, setup, f"conv2d({args}{settings})", conv2d(xv, w, b, **(kwargs or {})))


# Several images on both cores, two tiles of rows each.
conv("conv_padded_images", (3, 16, 20, 20), (24, 16, 3, 3), ", padding=1", dict(padding=1))
conv("conv_padded_images_f64", (3, 16, 20, 20), (24, 16, 3, 3), ", padding=1", dict(padding=1),
     dtype="f64")
# A wide image: one output row per tile.
conv("conv_wide_rows", (2, 3, 5, 500), (4, 3, 3, 3), ", padding=1", dict(padding=1))
conv("conv_one_image", (1, 8, 40, 40), (8, 8, 3, 3), ", padding=1", dict(padding=1))
conv("conv_stride_padding_dilation", (2, 6, 17, 19), (4, 6, 3, 2),
     ", stride=[2, 3], padding=[2, 1], dilation=[2, 3]",
     dict(stride=(2, 3), padding=(2, 1), dilation=(2, 3)), dtype="f64")
conv("conv_groups_bias", (2, 6, 12, 13), (9, 2, 3, 3), ", padding=1, groups=3",
     dict(padding=1, groups=3), bias=True)
conv("conv_depthwise", (2, 8, 30, 30), (8, 1, 3, 3), ", padding=1, groups=8",
     dict(padding=1, groups=8))
# Padding wider than the taps reach: whole output columns read only zeros.
conv("conv_padding_past_the_taps", (2, 3, 7, 8), (4, 3, 2, 2), ", stride=3, padding=3",
     dict(stride=3, padding=3))
conv("conv_of_a_transposed_input", (2, 4, 21, 18), (5, 4, 3, 3), ", padding=1",
     dict(padding=1), x_expr="permute(x, [0, 1, 3, 2])", x_of=lambda x: x.transpose(0, 1, 3, 2))
conv("conv_int64", (2, 4, 15, 16), (6, 4, 3, 3), ", padding=1", dict(padding=1), dtype="i64")
conv("conv_tiny", (1, 1, 3, 3), (1, 1, 2, 2))
cases.add("conv_no_images", "let x = zeros([0, 3, 5, 5])\nlet w = zeros([4, 3, 3, 3])",
          "conv2d(x, w, padding=1)", np.zeros((0, 4, 5, 5), dtype=np.float32))
cases.add("conv_no_input_channels_gives_the_bias",
          "let x = zeros([1, 0, 2, 2])\nlet w = zeros([2, 0, 1, 1])\nlet b = [1.5, -2.0]",
          "conv2d(x, w, b)", np.broadcast_to(np.array([1.5, -2.0], dtype=np.float32)[None, :, None, None], (1, 2, 2, 2)))

cases.write("contractions_expected.py", "contractions_expected.rs")
