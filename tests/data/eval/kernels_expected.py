"""Expected values for tests/eval_kernels.rs: the fast paths of issue #4.

Writes kernels_expected.rs beside this script. Each case is a tsr program
that prints one result and the values NumPy computes for it. Large inputs
(above the 32768-element threshold where work is split over the cores)
are built in the program from `arange`, exactly as here; their results
are checked at sampled positions and through a whole sum. Each path is
covered contiguous, transposed, broadcast, in f32 and f64, tiny and
empty. tsr computes f32 results in f64 and rounds once, so f32
references are the f64 results rounded to f32.

Run: python3 kernels_expected.py (needs numpy).
"""

import math

import numpy as np

from kernel_cases import Cases, lit as literal

cases = Cases()
R, C = 230, 310
N = R * C


def inputs(rows, cols):
    n = rows * cols
    x = (np.arange(n, dtype=np.float64) / n * 14.0 - 7.0).reshape(rows, cols)
    y = (np.arange(n, dtype=np.float64) * 0.37 - 2.5).reshape(rows, cols)
    col = (np.arange(rows, dtype=np.float64) * 0.25).reshape(rows, 1)
    row = np.arange(cols, dtype=np.float64) - 3.5
    return x, y, col, row


def setup(rows, cols):
    n = rows * cols
    return (
        f"let x = reshape(f64(arange({n})) / {n}.0 * 14.0 - 7.0, [{rows}, {cols}])\n"
        f"let y = reshape(f64(arange({n})) * 0.37 - 2.5, [{rows}, {cols}])\n"
        "let x32 = f32(x)\n"
        "let y32 = f32(y)\n"
        f"let col = reshape(f64(arange({rows})) * 0.25, [{rows}, 1])\n"
        f"let row = f32(f64(arange({cols})) - 3.5)\n"
    )


x, y, col, row = inputs(R, C)
SETUP = setup(R, C)
# Positions spread over the rows and columns, both ends included.
SAMPLES = [(0, 0), (0, C - 1), (1, 2), (R // 2, C // 3), (R - 1, 0), (R - 1, C - 1), (117, 203)]


def f32(a):
    return np.asarray(a, dtype=np.float64).astype(np.float32)


def sampled(name, expr, result, rtol=None):
    """Checks `expr` (a [R, C] result) at SAMPLES and through its sum."""
    picks = ", ".join(f"t[{i}, {j}]" for i, j in SAMPLES)
    dtype = result.dtype
    cases.add(f"{name}_samples", SETUP + f"let t = {expr}", f"[{picks}]",
              np.array([result[i, j] for i, j in SAMPLES], dtype=dtype), rtol)
    total = math.fsum(np.abs(result.astype(np.float64)).ravel())
    cases.add(f"{name}_sum", SETUP + f"let t = {expr}", "sum(abs(t))",
              np.array(total, dtype=dtype), rtol)


def reduced(name, expr, result, rtol=None):
    """A 1-D result checked at a few positions and through its sum."""
    n = result.shape[0]
    idx = sorted({0, 1, n // 2, n - 1})
    picks = ", ".join(f"t[{i}]" for i in idx)
    cases.add(f"{name}_samples", SETUP + f"let t = {expr}", f"[{picks}]",
              np.array([result[i] for i in idx], dtype=result.dtype), rtol)


def fsum(a, axis):
    """Exactly rounded sums along `axis` (NumPy's pairwise sums are not)."""
    return np.apply_along_axis(math.fsum, axis, np.asarray(a, dtype=np.float64))


def sigmoid(v):
    return np.where(v >= 0, 1 / (1 + np.exp(-np.abs(v))), np.exp(-np.abs(v)) / (1 + np.exp(-np.abs(v))))


# Fused elementwise chains.
sampled("exp_chain_f32", "exp(x32) * 2 + 1", f32(np.exp(f32(x).astype(np.float64)) * 2 + 1))
sampled("exp_chain_f64", "exp(x) * 2 + 1", np.exp(x) * 2 + 1)
sampled("normalised_with_a_column", "(x - col) / sqrt(y * y + 1e-5)",
        (x - col) / np.sqrt(y * y + 1e-5))
sampled("f32_with_a_row_vector", "(x32 - row) * (y32 + 0.1) / 3",
        f32((f32(x).astype(np.float64) - row) * (f32(y).astype(np.float64) + f32(0.1)) / 3),
        rtol=2e-6)
sampled("exp_chain_f32_with_a_row_vector", "exp(x32 - row) * 2 + 1",
        f32(f32(np.exp(f32(f32(x).astype(np.float64) - f32(row)).astype(np.float64))).astype(np.float64)
            * 2 + 1))
sampled("exp_of_transposed_f32", "exp(x32.T).T", f32(np.exp(f32(x).astype(np.float64).T)).T)
sampled("transposed_operands", "(exp(x.T) * 0.5 - y.T).T", (np.exp(x.T) * 0.5 - y.T).T)
sampled("maximum_pow_minimum", "maximum(-x, 0.5) ** 2 + minimum(y, 1.0)",
        np.maximum(-x, 0.5) ** 2 + np.minimum(y, 1.0))
sampled("sigmoid_tanh", "sigmoid(x) * tanh(y) + abs(x)", sigmoid(x) * np.tanh(y) + np.abs(x))
cases.add("tiny_chain", "let v = [0.5, -1.0, 2.0]", "exp(v) * 2 + 1",
          f32(np.exp(np.array([0.5, -1.0, 2.0])) * 2 + 1))
cases.add("empty_chain", "let v = zeros([0, 3])", "exp(v) * 2 + 1",
          np.zeros((0, 3), dtype=np.float32))

# Reductions.
reduced("sum_last_axis_f32", "sum(x32, -1)", f32(fsum(f32(x), -1)))
reduced("sum_first_axis_f64", "sum(x, 0)", fsum(x, 0))
reduced("sum_first_axis_transposed", "sum(y.T, 0)", fsum(y.T, 0))
reduced("mean_last_axis", "mean(y, 1)", fsum(y, 1) / C)
reduced("max_last_axis_f32", "max(x32, -1)", f32(np.max(f32(x), -1)))
reduced("min_first_axis", "min(y, 0)", np.min(y, 0))
reduced("var_first_axis", "var(x, 0)", np.var(x, 0))
reduced("std_last_axis_f32", "std(y32, -1)", f32(np.std(f32(y).astype(np.float64), -1)))
reduced("logsumexp_last_axis", "logsumexp(x, -1)",
        np.log(np.sum(np.exp(x - x.max(-1, keepdims=True)), -1)) + x.max(-1))
reduced("sum_first_axis_f32", "sum(x32, 0)", f32(fsum(f32(x), 0)))
reduced("max_transposed_f32", "max(x32.T, -1)", f32(np.max(f32(x).T, -1)))
reduced("min_last_axis_f32", "min(y32, -1)", f32(np.min(f32(y), -1)))
# nan anywhere in a row (within the 32 lanes or after them) gives nan.
NANS = np.arange(3 * 70, dtype=np.float32).reshape(3, 70) - 100
NANS[1, 3] = np.nan
NANS[2, 66] = np.nan
cases.add("max_with_nan_rows_f32", f"let v = {literal(NANS)}", "max(v, -1)", np.max(NANS, -1))
cases.add("min_with_nan_rows_f32", f"let v = {literal(NANS)}", "min(v, -1)", np.min(NANS, -1))
cases.add("sum_all_f32", SETUP, "sum(x32)", f32(math.fsum(f32(x).astype(np.float64).ravel())))
cases.add("mean_all", SETUP, "mean(y)", np.array(math.fsum(y.ravel()) / N))
cases.add("max_all", SETUP, "max(y)", np.max(y))
cases.add("sum_of_empty_rows", "let e = zeros([0, 5])", "sum(e, 0)", np.zeros(5, dtype=np.float32))
cases.add("mean_of_empty_columns", "let e = f64(zeros([3, 0]))", "sum(e, -1)", np.zeros(3))


def softmax(a, axis):
    z = np.exp(a - a.max(axis, keepdims=True))
    return z / z.sum(axis, keepdims=True)


def log_softmax(a, axis):
    s = a - a.max(axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis, keepdims=True))


def layernorm(a, axis):
    return (a - a.mean(axis, keepdims=True)) / np.sqrt(a.var(axis, keepdims=True) + 1e-5)


sampled("softmax_last_axis_f32", "softmax(x32, -1)", f32(softmax(f32(x).astype(np.float64), -1)))
sampled("softmax_first_axis", "softmax(x, 0)", softmax(x, 0))
sampled("log_softmax_last_axis", "log_softmax(y, -1)", log_softmax(y, -1))
sampled("layernorm_last_axis_f32", "layernorm(y32, -1)",
        f32(layernorm(f32(y).astype(np.float64), -1)), rtol=2e-6)
sampled("layernorm_first_axis", "layernorm(x, 0)", layernorm(x, 0))
sampled("softmax_of_transposed", "softmax(y.T, -1).T", softmax(y.T, -1).T)
# The last-axis softmax of a 4-D tensor (the attention shape), as rows.
sampled("softmax_4d_last_axis_f32", "reshape(softmax(reshape(x32, [2, 5, 23, 310]), -1), [230, 310])",
        f32(softmax(f32(x).astype(np.float64), -1)))
sampled("log_softmax_last_axis_f32", "log_softmax(x32, -1)",
        f32(log_softmax(f32(x).astype(np.float64), -1)))
# (No subnormal results: printed at f32 precision they would not compare in f64.)
SPECIAL = np.array([[1.0, np.nan, 2.0, 0.5], [np.inf, 1.0, 2.0, 0.5], [-np.inf, 0.0, 1.0, -60.0],
                    [-np.inf, -np.inf, -np.inf, -np.inf], [80.0, -80.0, 3.0, 88.0]], dtype=np.float32)
with np.errstate(invalid="ignore", over="ignore"):
    cases.add("softmax_of_nan_and_inf_f32", f"let v = {literal(SPECIAL)}", "softmax(v, -1)",
              f32(softmax(SPECIAL.astype(np.float64), -1)))
    cases.add("exp_chain_of_nan_and_inf_f32", f"let v = {literal(SPECIAL)}", "exp(v) * 2 + 1",
              f32(f32(np.exp(SPECIAL.astype(np.float64))).astype(np.float64) * 2 + 1))
    cases.add("exp_of_nan_and_inf_f32", f"let v = {literal(SPECIAL)}", "exp(v)",
              f32(np.exp(SPECIAL.astype(np.float64))))
cases.add("softmax_tiny_f32", "let v = [0.5, -1.0, 2.0]", "softmax(v, -1)",
          f32(softmax(np.array([0.5, -1.0, 2.0]), -1)))
cases.add("softmax_empty", "let e = zeros([0, 4])", "softmax(e, -1)",
          np.zeros((0, 4), dtype=np.float32))

# einsum contraction orders (the result does not depend on the order).
rng = np.random.default_rng(4)
a, b, c, d = (rng.integers(-3, 4, size=s).astype(np.float64) for s in [(4, 5), (5, 6), (6, 3), (3,)])
lit = lambda m: "f64(" + repr(m.tolist()) + ")"  # noqa: E731
EIN = f"let a = {lit(a)}\nlet b = {lit(b)}\nlet c = {lit(c)}\nlet d = {lit(d)}"
cases.add("einsum_chain_ending_in_a_vector", EIN, 'einsum("ab,bc,cd,d->a", a, b, c, d)',
          np.einsum("ab,bc,cd,d->a", a, b, c, d))
cases.add("einsum_six_operands_greedy", EIN,
          'einsum("a,ab,bc,cd,d,d->", a[:, 0], a, b, c, d, d)',
          np.einsum("a,ab,bc,cd,d,d->", a[:, 0], a, b, c, d, d))
cases.add("einsum_batched_chain", EIN,
          'einsum("bij,bjk,bkl->bil", stack([a, a]), stack([b, b]), stack([c, c]))',
          np.einsum("bij,bjk,bkl->bil", np.stack([a, a]), np.stack([b, b]), np.stack([c, c])))
cases.add("einsum_outer_then_trace", EIN, 'einsum("ii,j,j->", b[:5, :5], d, d)',
          np.einsum("ii,j,j->", b[:5, :5], d, d))

cases.write("kernels_expected.py", "kernels_expected.rs")
