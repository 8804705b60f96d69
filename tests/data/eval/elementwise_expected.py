"""Expected values for tests/eval_elementwise.rs.

Writes elementwise_expected.rs beside this script: each case is a tsr
program (its inputs as literals exact in f32) that prints one result, and
the values NumPy computes for it. gelu's reference is the exact erf form
through Python's math.erfc (glibc), NumPy having no erf.

Run: python3 elementwise_expected.py (needs numpy).
"""

import math

import numpy as np

from kernel_cases import Cases, f64, lit

cases = Cases()
x = np.array([-10.0, -3.5, -1.0, -0.25, 0.0, 0.5, 2.0, 7.0])
X = f"let x = {f64(x)}"


def sigmoid(v):
    v = np.asarray(v, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(v >= 0, 1 / (1 + np.exp(-v)), np.exp(v) / (1 + np.exp(v)))


def gelu(v):
    v = np.asarray(v, dtype=np.float64)
    return np.array([0.5 * t * math.erfc(-t / math.sqrt(2)) for t in v.ravel()]).reshape(v.shape)


for name, f in [("exp", np.exp), ("sin", np.sin), ("cos", np.cos), ("tanh", np.tanh),
                ("sigmoid", sigmoid), ("gelu", gelu)]:
    cases.add(f"{name}_f64", X, f"{name}(x)", f(x))

p = np.array([-1.0, 0.0, 0.25, 1.0, 2.0, 7.5])
with np.errstate(invalid="ignore", divide="ignore"):
    cases.add("log_f64", f"let p = {f64(p)}", "log(p)", np.log(p))
    cases.add("sqrt_f64", f"let p = {f64(p)}", "sqrt(p)", np.sqrt(p))

y = np.array([-2.5, -0.5, 0.0, 1.5, 3.0], dtype=np.float32)
Y = f"let y = {lit(y)}"
cases.add("exp_f32", Y, "exp(y)", np.exp(y))
cases.add("tanh_f32", Y, "tanh(y)", np.tanh(y))
cases.add("sigmoid_f32", Y, "sigmoid(y)", sigmoid(y).astype(np.float32))
cases.add("gelu_f32", Y, "gelu(y)", gelu(y).astype(np.float32))
cases.add("exp_of_integers_is_f32", "", "exp([1, 2, 3])",
          np.exp(np.array([1, 2, 3], dtype=np.float32)))
z = np.array([-800.0, -40.0, 40.0, 800.0])
cases.add("sigmoid_saturates_without_overflow", f"let z = {f64(z)}", "sigmoid(z)", sigmoid(z))

v = np.array([-2.5, -0.0, 0.0, 1.5, np.nan, -np.inf, 0.75])
V = f"let v = {f64(v)}"
cases.add("abs_f64", V, "abs(v)", np.abs(v))
cases.add("relu_f64", V, "relu(v)", np.maximum(v, 0.0))
cases.add("sign_f64", V, "sign(v)", np.sign(v))
cases.add("floor_f64", V, "floor(v)", np.floor(v))
cases.add("floor_f32", "", "floor([-1.5, 2.5])", np.floor(np.array([-1.5, 2.5], dtype=np.float32)))
n = np.array([-3, 0, 7])
N = f"let n = {lit(n)}"
cases.add("abs_i64", N, "abs(n)", np.abs(n))
cases.add("relu_i64", N, "relu(n)", np.maximum(n, 0))
cases.add("sign_i64", N, "sign(n)", np.sign(n))
cases.add("floor_i64", N, "floor(n)", n)

q = np.array([np.nan, np.inf, -1.0, 0.0])
cases.add("isnan_f64", f"let q = {f64(q)}", "isnan(q)", np.isnan(q))
cases.add("isnan_i64", "", "isnan([1, 2])", np.array([False, False]))

c = np.array([-1.75, 2.5, 3.0, -0.5])
cases.add("i64_truncates", f"let c = {f64(c)}", "i64(c)", c.astype(np.int64))
b = np.array([0.0, -2.0, np.nan, 0.25])
cases.add("bool_of_nan_is_true", f"let b = {f64(b)}", "bool(b)", b.astype(bool))
cases.add("f64_of_i64", "", "f64([1, -2])", np.array([1.0, -2.0]))
cases.add("f32_of_f64", "", "f32(f64([0.25, -8.5]))", np.array([0.25, -8.5], dtype=np.float32))
cases.add("i64_of_bool", "", "i64([true, false])", np.array([1, 0]))
cases.add("bool_of_i64", "", "bool([0, 3])", np.array([False, True]))

a = np.array([[1.0], [np.nan], [-2.0]])
e = np.array([0.5, -3.0])
AE = f"let a = {f64(a)}\nlet e = {f64(e)}"
cases.add("maximum_broadcasts_and_keeps_nan", AE, "maximum(a, e)", np.maximum(a, e))
cases.add("minimum_broadcasts_and_keeps_nan", AE, "minimum(a, e)", np.minimum(a, e))
with np.errstate(invalid="ignore"):
    cases.add("pow_broadcasts", AE, "pow(a, e)", np.power(a, e))
cases.add("pow_by_weak_int", AE, "pow(a, 2)", np.power(a, 2.0))
cases.add("maximum_f32_weak_float", "", "maximum([1.0, 5.0], 2.5)",
          np.maximum(np.array([1.0, 5.0], dtype=np.float32), np.float32(2.5)))
cases.add("maximum_i64_weak_int", "", "maximum([1, 5], 3)", np.maximum(np.array([1, 5]), 3))
cases.add("minimum_i64_weak_float_is_f32", "", "minimum([1, 5], 2.5)",
          np.minimum(np.array([1, 5], dtype=np.float32), np.float32(2.5)))
base, power = np.array([2, 3, -2, 5]), np.array([10, 40, 3, 0])
with np.errstate(over="ignore"):
    cases.add("pow_i64_wraps", "", f"pow({lit(base)}, {lit(power)})", np.power(base, power))
cases.add("maximum_bool", "", "maximum([true, false], [false, false])", np.array([True, False]))

w = np.array([[1.0], [-1.0]])
t = np.array([1.0, 2.0, 3.0])
cases.add("where_three_way_broadcast", f"let w = {f64(w)}\nlet t = {f64(t)}",
          "where(w > 0.0, t, 0.0)", np.where(w > 0, t, 0.0))
cases.add("where_promotes", "", "where([true, false], [1, 2], [0.5, 0.25])",
          np.where([True, False], np.array([1, 2], dtype=np.float32),
                   np.array([0.5, 0.25], dtype=np.float32)))
cases.add("where_scalar_condition", "", "where(true, [1, 2], 0)", np.array([1, 2]))

m = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
cases.add("contiguous_of_transpose", f"let m = {f64(m)}", "contiguous(m.T)", m.T.copy())
cases.add("contiguous_of_strided_slice", f"let m = {f64(m)}", "contiguous(m[:, ::2])",
          m[:, ::2].copy())

cases.write("elementwise_expected.py", "elementwise_expected.rs")
