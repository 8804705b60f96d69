"""Expected values for tests/eval_nn.rs and tests/eval_linalg.rs.

Writes nn_expected.rs and linalg_expected.rs beside this script: each case
is a tsr program (its inputs as tensor literals) that prints one value,
the shape line `print` gives it, and the values NumPy computes. Inputs are
multiples of 1/4, exact in f32, so the f32 results are exact too. The
convolutions and pools are reference loops written from PyTorch's
definitions (conv_transpose2d as the adjoint of conv2d, w [C, O/groups,
KH, KW]), independent of the im2col kernels they check.

Run: python3 nn_expected.py (needs numpy).
"""

import itertools
import math
from pathlib import Path

import numpy as np

rng = np.random.default_rng(7)
HERE = Path(__file__).parent


def data(*shape):
    return rng.integers(-4, 5, size=shape) / 4.0


def ints(*shape):
    return rng.integers(-5, 6, size=shape)


def lit(a):
    """A tsr tensor literal."""
    a = np.asarray(a)
    if a.ndim == 0:
        v = a.item()
        return repr(float(v)) if a.dtype.kind == "f" else str(int(v))
    return "[" + ", ".join(lit(x) for x in a) + "]"


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    n_, c_, h, wd = x.shape
    o_, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    og = o_ // groups
    y = np.zeros((n_, o_, oh, ow), dtype=np.result_type(x, w))
    for n, o, i, j in itertools.product(range(n_), range(o_), range(oh), range(ow)):
        g = o // og
        for c, a, e in itertools.product(range(cg), range(kh), range(kw)):
            y[n, o, i, j] += w[o, c, a, e] * xp[n, g * cg + c, i * sh + a * dh, j * sw + e * dw]
    if b is not None:
        y += b[None, :, None, None]
    return y


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    (sh, sw), (ph, pw) = pair(stride), pair(padding)
    (oph, opw), (dh, dw) = pair(output_padding), pair(dilation)
    n_, c_, h, wd = x.shape
    _, og, kh, kw = w.shape
    cg = c_ // groups
    oh = (h - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
    ow = (wd - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
    y = np.zeros((n_, og * groups, oh, ow), dtype=np.result_type(x, w))
    for n, c, i, j in itertools.product(range(n_), range(c_), range(h), range(wd)):
        g = c // cg
        for oo, a, e in itertools.product(range(og), range(kh), range(kw)):
            r, q = i * sh - ph + a * dh, j * sw - pw + e * dw
            if 0 <= r < oh and 0 <= q < ow:
                y[n, g * og + oo, r, q] += x[n, c, i, j] * w[c, oo, a, e]
    if b is not None:
        y += b[None, :, None, None]
    return y


def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    y = conv2d(x[:, :, None, :], w[:, :, None, :], b, (1, stride), (0, padding), (1, dilation), groups)
    return y[:, :, 0, :]


def pool(x, k, stride=None, reduce=np.max):
    kh, kw = pair(k)
    sh, sw = pair(stride) if stride is not None else (kh, kw)
    h, w = x.shape[-2:]
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    y = np.zeros(x.shape[:-2] + (oh, ow), dtype=x.dtype if reduce is np.max else np.float64)
    for i, j in itertools.product(range(oh), range(ow)):
        y[..., i, j] = reduce(x[..., i * sh : i * sh + kh, j * sw : j * sw + kw], axis=(-2, -1))
    return y


def check_adjoint():
    """conv_transpose2d is conv2d's adjoint: <conv2d(x, w), y> = <x, conv_transpose2d(y, w)>."""
    x, w = data(2, 4, 7, 8), data(6, 2, 3, 2)
    settings = dict(stride=(2, 3), padding=(1, 2), dilation=(2, 1), groups=2)
    y = conv2d(x, w, **settings)
    z = data(*y.shape)
    back = conv_transpose2d(z, w, output_padding=(0, 1), **settings)
    assert back.shape == x.shape
    assert math.isclose(float((y * z).sum()), float((x * back).sum()), abs_tol=1e-9)


def shape_line(a):
    a = np.asarray(a)
    if a.ndim == 0:
        return ""
    dtype = {"f": "f32", "i": "i64", "b": "bool"}[a.dtype.kind]
    return "[" + ", ".join(str(s) for s in a.shape) + "] " + dtype


def number(v):
    if math.isnan(v):
        return "f64::NAN"
    if math.isinf(v):
        return "f64::INFINITY" if v > 0 else "f64::NEG_INFINITY"
    return repr(float(v))


def case(name, program, value, dtype=None, shape=None):
    """`dtype="f32"`: integers in, f32 out; `shape`: the shape line, when it names axes."""
    value = np.asarray(value)
    line = shape if shape is not None else shape_line(value)
    if dtype == "f32":
        line = line.replace("i64", "f32")
    values = ", ".join(number(v) for v in value.astype(np.float64).ravel())
    return (
        f"    Case {{\n        name: {name!r},\n".replace("'", '"')
        + f'        program: r#"{program}"#,\n'
        + f'        shape: "{line}",\n'
        + f"        values: &[{values}],\n    }},\n"
    )


def nn_cases():
    out = []
    x, w, b = data(2, 3, 5, 6), data(4, 3, 3, 2), data(4)
    p = f"let x = {lit(x)}\nlet w = {lit(w)}\nlet b = {lit(b)}\n"
    out.append(case("conv2d", p + "print(conv2d(x, w))", conv2d(x, w)))
    out.append(case(
        "conv2d_stride_padding_dilation_bias",
        p + "print(conv2d(x, w, b, stride=[2, 1], padding=[1, 2], dilation=[1, 2]))",
        conv2d(x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
    ))
    out.append(case(
        "conv2d_keywords_as_ints",
        p + "print(conv2d(x, w, b=b, stride=2, padding=1))",
        conv2d(x, w, b, stride=2, padding=1),
    ))
    x, w = data(1, 4, 7, 7), data(6, 2, 3, 3)
    out.append(case(
        "conv2d_groups_same",
        f"let x = {lit(x)}\nlet w = {lit(w)}\nprint(conv2d(x, w, padding=2, dilation=2, groups=2))",
        conv2d(x, w, padding=2, dilation=2, groups=2),
    ))
    x, w = data(2, 3, 5, 4), data(3, 1, 2, 2)
    out.append(case(
        "conv2d_depthwise",
        f"let x = {lit(x)}\nlet w = {lit(w)}\nprint(conv2d(x, w, stride=2, groups=3))",
        conv2d(x, w, stride=2, groups=3),
    ))
    x, w, b = ints(1, 2, 4, 4), ints(3, 2, 2, 2), ints(3)
    out.append(case(
        "conv2d_i64",
        f"let x = {lit(x)}\nlet w = {lit(w)}\nlet b = {lit(b)}\nprint(conv2d(x, w, b, padding=1))",
        conv2d(x, w, b, padding=1),
    ))
    x, w, b = data(2, 3, 10), data(4, 3, 3), data(4)
    p = f"let x = {lit(x)}\nlet w = {lit(w)}\nlet b = {lit(b)}\n"
    out.append(case("conv1d", p + "print(conv1d(x, w))", conv1d(x, w)))
    out.append(case(
        "conv1d_stride_padding_dilation_bias",
        p + "print(conv1d(x, w, b, stride=2, padding=1, dilation=2))",
        conv1d(x, w, b, stride=2, padding=1, dilation=2),
    ))
    x, w = data(1, 6, 8), data(3, 2, 3)
    out.append(case(
        "conv1d_groups",
        f"let x = {lit(x)}\nlet w = {lit(w)}\nprint(conv1d(x, w, padding=[1], groups=3))",
        conv1d(x, w, padding=1, groups=3),
    ))
    x, w, b = data(2, 4, 3, 3), data(4, 3, 3, 3), data(3)
    p = f"let x = {lit(x)}\nlet w = {lit(w)}\nlet b = {lit(b)}\n"
    out.append(case("conv_transpose2d", p + "print(conv_transpose2d(x, w))", conv_transpose2d(x, w)))
    out.append(case(
        "conv_transpose2d_stride_padding_output_padding_bias",
        p + "print(conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1))",
        conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
    ))
    x, w = data(1, 4, 3, 4), data(4, 2, 2, 3)
    out.append(case(
        "conv_transpose2d_groups_dilation",
        f"let x = {lit(x)}\nlet w = {lit(w)}\n"
        "print(conv_transpose2d(x, w, stride=[1, 2], padding=[0, 1], output_padding=[0, 1], dilation=2, groups=2))",
        conv_transpose2d(x, w, stride=(1, 2), padding=(0, 1), output_padding=(0, 1), dilation=2, groups=2),
    ))
    x = data(2, 3, 5, 7)
    p = f"let x = {lit(x)}\n"
    out.append(case("max_pool2d", p + "print(max_pool2d(x, 2))", pool(x, 2)))
    out.append(case(
        "max_pool2d_pair_stride",
        p + "print(max_pool2d(x, [2, 3], stride=[1, 2]))",
        pool(x, (2, 3), (1, 2)),
    ))
    out.append(case("avg_pool2d", p + "print(avg_pool2d(x, 3, stride=2))", pool(x, 3, 2, np.mean)))
    out.append(case("avg_pool2d_pair", p + "print(avg_pool2d(x, [1, 2]))", pool(x, (1, 2), None, np.mean)))
    x = ints(3, 4, 6)
    p = f"let x = {lit(x)}\n"
    out.append(case("max_pool2d_chw_i64", p + "print(max_pool2d(x, 2, stride=[2, 3]))", pool(x, 2, (2, 3))))
    out.append(case("avg_pool2d_chw_i64", p + "print(avg_pool2d(x, 2))", pool(x, 2, None, np.mean), "f32"))
    nan = np.array([[[1.0, np.nan, 2.0, 0.5], [3.0, 4.0, -1.0, 2.5]]])
    out.append(case(
        "max_pool2d_propagates_nan",
        "let x = [[[1.0, nan, 2.0, 0.5], [3.0, 4.0, -1.0, 2.5]]]\nprint(max_pool2d(x, 2))",
        pool(nan, 2),
    ))
    mask = np.triu(np.full((4, 4), -np.inf), 1) + 0.0
    mask[np.tril_indices(4)] = 0.0
    out.append(case("causal_mask", "print(causal_mask(4))", mask))
    out.append(case("causal_mask_dim", "dim T = 3\nprint(causal_mask(T))", mask[:3, :3], shape="[T=3, T=3] f32"))
    x, w, b = data(2, 3, 4), data(4, 5), data(5)
    p = f"let x = {lit(x)}\nlet w = {lit(w)}\nlet b = {lit(b)}\n"
    out.append(case("linear", p + "print(linear(x, w, b))", x @ w + b))
    out.append(case("linear_no_bias", p + "print(linear(x, w))", x @ w))
    out.append(case("linear_vector", p + "print(linear(x[0, 1], w, b))", x[0, 1] @ w + b))
    bb = data(2, 1, 5)
    out.append(case(
        "linear_broadcast_bias",
        p + f"let bb = {lit(bb)}\nprint(linear(x[0], w, bb))",
        x[0] @ w + bb,
    ))
    x, w, b = ints(3, 4), ints(4, 2), ints(2)
    out.append(case(
        "linear_i64",
        f"let x = {lit(x)}\nlet w = {lit(w)}\nlet b = {lit(b)}\nprint(linear(x, w, b))",
        x @ w + b,
    ))
    return out


def linalg_cases():
    out = []
    a, m, v = data(3, 4), data(4, 5), data(4)
    p = f"let a = {lit(a)}\nlet m = {lit(m)}\nlet v = {lit(v)}\n"
    out.append(case("matmul", p + "print(matmul(a, m))", a @ m))
    out.append(case("matmul_vector_matrix", p + "print(matmul(v, m))", v @ m))
    out.append(case("matmul_matrix_vector", p + "print(matmul(a, v))", a @ v))
    out.append(case("matmul_vectors", p + "print(matmul(v, v))", v @ v))
    out.append(case("dot_vectors", p + "print(dot(v, v))", v @ v))
    out.append(case("dot_matrices", p + "print(dot(a, m))", a @ m))
    x, y = data(2, 1, 3, 4), data(3, 4, 2)
    out.append(case(
        "matmul_batch_broadcast",
        f"let x = {lit(x)}\nlet y = {lit(y)}\nprint(matmul(x, y))",
        x @ y,
    ))
    out.append(case(
        "matmul_batch_vector",
        f"let x = {lit(x)}\nlet v = {lit(v)}\nprint(matmul(x, v))",
        x @ v,
    ))
    i, j = ints(2, 3), ints(3, 2)
    out.append(case("matmul_i64_gives_f32", f"print(matmul({lit(i)}, {lit(j)}))", i @ j, "f32"))
    u, w = data(3), data(4)
    out.append(case("outer", f"let u = {lit(u)}\nlet w = {lit(w)}\nprint(outer(u, w))", np.outer(u, w)))
    k, l = ints(2), ints(3)
    out.append(case("outer_i64_gives_f32", f"print(outer({lit(k)}, {lit(l)}))", np.outer(k, l), "f32"))
    s, t = data(3, 3), data(2, 3, 4, 4)
    out.append(case("trace", f"print(trace({lit(s)}))", np.trace(s)))
    out.append(case("trace_batched", f"print(trace({lit(t)}))", np.trace(t, axis1=-2, axis2=-1)))
    q = ints(2, 2)
    out.append(case("trace_i64", f"print(trace({lit(q)}))", float(np.trace(q))))
    out.append(case("diag_vector", f"print(diag({lit(u)}))", np.diag(u)))
    out.append(case("diag_square", f"print(diag({lit(s)}))", np.diag(s)))
    out.append(case("diag_wide", f"print(diag({lit(a)}))", np.diag(a)))
    out.append(case("diag_tall", f"print(diag({lit(m)}))", np.diag(m)))
    out.append(case("diag_i64", f"print(diag({lit(k)}))", np.diag(k), "f32"))
    return out


HEADER = "// Generated by nn_expected.py; do not edit.\n\npub const CASES: &[Case] = &[\n"


def main():
    check_adjoint()
    for name, cases in [("nn", nn_cases()), ("linalg", linalg_cases())]:
        text = HEADER + "".join(cases) + "];\n"
        (HERE / f"{name}_expected.rs").write_text(text)


main()
