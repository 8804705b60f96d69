"""Expected values for tests/eval_reduce.rs.

Writes reduce_expected.rs beside this script: each case is a tsr program
(its inputs as literals exact in f32) that prints one result, and the
values NumPy computes for it. tsr reduces floats in f64 and rounds once,
so f32 references are the f64 results rounded to f32. An argmax over
several axes counts in row-major order over those axes (NumPy takes one
axis, so the reference moves the kept axes first and flattens the rest).

Run: python3 reduce_expected.py (needs numpy).
"""

import warnings

import numpy as np

from kernel_cases import Cases, f64, lit

cases = Cases()
rng = np.random.default_rng(11)
x = rng.integers(-12, 13, size=(2, 3, 4)) / 4.0
X = f"let x = {f64(x)}"


def logsumexp(a, axis=None, keepdims=False):
    top = np.max(a, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return s if keepdims else np.squeeze(s, axis=axis)


def norm(a, axis=None):
    return np.sqrt(np.sum(a * a, axis=axis))


def arg_over(a, axes, f):
    """argmax/argmin over several axes: the kept axes first, the rest flattened."""
    kept = [i for i in range(a.ndim) if i not in axes]
    moved = np.transpose(a, kept + sorted(axes))
    rows = moved.reshape([a.shape[i] for i in kept] + [-1])
    return f(rows, axis=-1)


REDUCTIONS = [
    ("sum", np.sum), ("prod", np.prod), ("mean", np.mean), ("max", np.max),
    ("min", np.min), ("argmax", np.argmax), ("argmin", np.argmin),
    ("logsumexp", logsumexp), ("norm", norm), ("var", np.var), ("std", np.std),
    ("all", np.all), ("any", np.any),
]
for name, f in REDUCTIONS:
    cases.add(f"{name}_all_axes", X, f"{name}(x)", f(x))
    cases.add(f"{name}_axis_1", X, f"{name}(x, 1)", f(x, axis=1))
cases.add("std_ddof", X, "std(x, ddof=1)", np.std(x, ddof=1))
cases.add("var_axis_list_ddof", X, "var(x, [2, 0], ddof=1)", np.var(x, axis=(0, 2), ddof=1))
cases.add("sum_axis_list", X, "sum(x, [0, 2])", np.sum(x, axis=(0, 2)))
cases.add("mean_negative_axis", X, "mean(x, -1)", np.mean(x, axis=-1))
cases.add("max_axis_list", X, "max(x, [2, 1])", np.max(x, axis=(1, 2)))
cases.add("argmax_axis_list", X, "argmax(x, [0, 2])", arg_over(x, [0, 2], np.argmax))
cases.add("argmin_axis_list", X, "argmin(x, [2, 1])", arg_over(x, [1, 2], np.argmin))
cases.add("sum_keepdims", X, "sum(x, -1, keepdims=true)", np.sum(x, axis=-1, keepdims=True))
cases.add("max_keepdims_all", X, "max(x, keepdims=true)", np.max(x, keepdims=True))
cases.add("logsumexp_keepdims", X, "logsumexp(x, 0, keepdims=true)",
          logsumexp(x, axis=0, keepdims=True))

y = rng.integers(-8, 9, size=(3, 4)).astype(np.float32) / np.float32(8)
Y = f"let y = {lit(y)}"
y64 = y.astype(np.float64)
cases.add("sum_f32", Y, "sum(y, 0)", np.sum(y64, axis=0).astype(np.float32))
cases.add("mean_f32", Y, "mean(y)", np.float32(np.mean(y64)))
cases.add("var_f32", Y, "var(y, 1)", np.var(y64, axis=1).astype(np.float32))
cases.add("norm_f32", Y, "norm(y, 1)", norm(y64, axis=1).astype(np.float32))
cases.add("max_f32", Y, "max(y, 1)", np.max(y, axis=1))

k = np.array([[3, 7, 7, -2], [5, 1, 5, 0], [100000, 100000, 100000, 100000]])
K = f"let k = {lit(k)}"
cases.add("sum_i64", K, "sum(k, 0)", np.sum(k, axis=0))
with np.errstate(over="ignore"):
    cases.add("prod_i64_wraps", K, "prod(k, 1)", np.prod(k, axis=1))
cases.add("max_i64", K, "max(k, 1)", np.max(k, axis=1))
cases.add("argmax_i64_first_of_ties", K, "argmax(k, 1)", np.argmax(k, axis=1))
cases.add("argmin_i64_first_of_ties", K, "argmin(k, 1)", np.argmin(k, axis=1))
cases.add("mean_i64_is_f32", K, "mean(k, 1)", np.mean(k, axis=1).astype(np.float32))

t = np.array([[True, False, True], [True, True, True]])
T = f"let t = {lit(t)}"
cases.add("sum_bool_is_i64", T, "sum(t, 1)", np.sum(t, axis=1))
cases.add("prod_bool_is_i64", T, "prod(t, 1)", np.prod(t, axis=1))
cases.add("max_bool", T, "max(t, 1)", np.max(t, axis=1))
cases.add("min_bool", T, "min(t, 1)", np.min(t, axis=1))
cases.add("argmin_bool", T, "argmin(t, 1)", np.argmin(t, axis=1))
cases.add("all_bool", T, "all(t, 1)", np.all(t, axis=1))
cases.add("any_bool", T, "any(t, 0)", np.any(t, axis=0))

n = np.array([1.0, np.nan, 5.0, np.nan, -0.0])
NAN = f"let n = {f64(n)}"
for name, f in [("max", np.max), ("min", np.min), ("argmax", np.argmax),
                ("argmin", np.argmin), ("all", np.all), ("any", np.any)]:
    cases.add(f"{name}_with_nan", NAN, f"{name}(n)", f(n))
cases.add("any_of_zeros", "", "any(f64([0.0, -0.0]))", np.any(np.array([0.0, -0.0])))

e = np.zeros((0, 3), dtype=np.float32)
E = "let e = zeros([0, 3])"
with np.errstate(invalid="ignore", divide="ignore"):
    cases.add("sum_of_nothing", E, "sum(e)", np.float32(0.0))
    cases.add("mean_of_nothing", E, "mean(e)", np.float32(np.nan))
    cases.add("prod_of_nothing", E, "prod(e)", np.float32(1.0))
    cases.add("norm_of_nothing", E, "norm(e)", np.float32(0.0))
    cases.add("logsumexp_of_nothing", E, "logsumexp(e)", np.float32(-np.inf))
    cases.add("var_of_nothing", E, "var(e)", np.float32(np.nan))
    cases.add("all_of_nothing", E, "all(e)", np.all(e))
    cases.add("any_of_nothing", E, "any(e)", np.any(e))
    cases.add("sum_over_empty_axis", E, "sum(e, 0)", np.sum(e, axis=0))
    cases.add("max_over_full_axis_of_empty", E, "max(e, 1)", np.max(e, axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        cases.add("var_ddof_beyond_count", "", "var(f64([1.0, 2.0]), ddof=3)",
                  np.var(np.array([1.0, 2.0]), ddof=3))


def softmax(a, axis):
    z = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return z / np.sum(z, axis=axis, keepdims=True)


def log_softmax(a, axis):
    s = a - np.max(a, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def normalize(a, axes, eps):
    mu = np.mean(a, axis=axes, keepdims=True)
    return (a - mu) / np.sqrt(np.var(a, axis=axes, keepdims=True) + eps)


cases.add("softmax_axis_1", X, "softmax(x, 1)", softmax(x, 1))
cases.add("log_softmax_last_axis", X, "log_softmax(x, -1)", log_softmax(x, -1))
cases.add("layernorm_default_eps", X, "layernorm(x, 2)", normalize(x, (2,), 1e-5))
cases.add("layernorm_eps", X, "layernorm(x, 1, eps=0.5)", normalize(x, (1,), 0.5))
cases.add("batchnorm_default_eps", X, "batchnorm(x, 1)", normalize(x, (0, 2), 1e-5))
cases.add("batchnorm_eps", X, "batchnorm(x, 0, eps=0.25)", normalize(x, (1, 2), 0.25))
cases.add("softmax_f32", "", "softmax([1.0, 2.0, 3.0], 0)",
          softmax(np.array([1.0, 2.0, 3.0]), 0).astype(np.float32))
cases.add("layernorm_f32", Y, "layernorm(y, -1)", normalize(y64, (1,), 1e-5).astype(np.float32))

big = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]])
BIG = f"let big = {f64(big)}"
cases.add("softmax_of_large_values", BIG, "softmax(big, -1)", softmax(big, -1))
cases.add("log_softmax_of_large_values", BIG, "log_softmax(big, -1)", log_softmax(big, -1))
cases.add("logsumexp_of_large_values", BIG, "logsumexp(big, -1)", logsumexp(big, axis=-1))
cases.add("softmax_with_minus_inf", "", "softmax(f64([-inf, 0.0]), 0)", np.array([0.0, 1.0]))
cases.add("logsumexp_of_minus_infs", "", "logsumexp(f64([-inf, -inf]))", -np.inf)
cases.add("logsumexp_with_inf", "", "logsumexp(f64([inf, 1.0]))", np.inf)

cases.write("reduce_expected.py", "reduce_expected.rs")
