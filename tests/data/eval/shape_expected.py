"""Expected values for tests/eval_shape.rs: the shape operations
(src/ops/shape.rs) and those that join, split or extend axes
(src/ops/combine.rs).

Writes shape_expected.rs beside this script: each case is a tsr program
(its inputs as literals exact in f32) that prints one result, and the
values NumPy computes for it. `unfold` is PyTorch's Tensor.unfold, built
here from NumPy's sliding_window_view.

Run: python3 shape_expected.py (needs numpy).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kernel_cases import Cases, f64, lit

cases = Cases()
rng = np.random.default_rng(7)
x = rng.integers(-12, 13, size=(2, 3, 4)) / 4.0
y = rng.integers(-12, 13, size=(3, 4)) / 4.0
n = rng.integers(-9, 10, size=(2, 3))
X = f"let x = {f64(x)}"
Y = f"let y = {lit(y.astype(np.float32))}"
N = f"let n = {lit(n)}"


def unfold(a, axis, size, step):
    windows = sliding_window_view(a, size, axis=axis)
    index = [slice(None)] * windows.ndim
    index[axis] = slice(None, None, step)
    return windows[tuple(index)]


# reshape and view
cases.add("reshape", X, "reshape(x, [4, 6])", x.reshape(4, 6))
cases.add("reshape_infers_minus_one", X, "reshape(x, [-1, 2])", x.reshape(-1, 2))
cases.add("reshape_of_a_permuted_view", X, "reshape(permute(x, [2, 0, 1]), [8, 3])",
          np.transpose(x, (2, 0, 1)).reshape(8, 3))
cases.add("reshape_to_a_scalar", "", "reshape(f64([2.5]), [])", np.float64(2.5))
cases.add("view", Y, "view(y, [2, 6])", y.astype(np.float32).reshape(2, 6))

# permutations
cases.add("permute", X, "permute(x, [2, 0, 1])", np.transpose(x, (2, 0, 1)))
cases.add("permute_negative_axes", X, "permute(x, [-1, -3, -2])", np.transpose(x, (2, 0, 1)))
cases.add("transpose", X, "transpose(x, 0, 2)", np.swapaxes(x, 0, 2))
cases.add("transpose_last_two", X, "transpose(x, -1, -2)", np.swapaxes(x, -1, -2))
cases.add("moveaxis_forward", X, "moveaxis(x, 0, 2)", np.moveaxis(x, 0, 2))
cases.add("moveaxis_backward", X, "moveaxis(x, -1, 0)", np.moveaxis(x, -1, 0))
cases.add("field_T", Y, "y.T", y.astype(np.float32).T)

# squeeze, unsqueeze, flatten
u = x.reshape(2, 1, 3, 1, 4)
U = f"let u = {f64(u)}"
cases.add("squeeze_all", U, "squeeze(u)", np.squeeze(u))
cases.add("squeeze_axis", U, "squeeze(u, 3)", np.squeeze(u, 3))
cases.add("squeeze_negative_axis", U, "squeeze(u, -4)", np.squeeze(u, -4))
cases.add("squeeze_a_permuted_view", U, "squeeze(permute(u, [4, 3, 2, 1, 0]))",
          np.squeeze(np.transpose(u)))
cases.add("unsqueeze_front", X, "unsqueeze(x, 0)", np.expand_dims(x, 0))
cases.add("unsqueeze_end", X, "unsqueeze(x, -1)", np.expand_dims(x, -1))
cases.add("unsqueeze_middle", N, "unsqueeze(n, 1)", np.expand_dims(n, 1))
cases.add("flatten_all", X, "flatten(x)", x.reshape(-1))
cases.add("flatten_range", X, "flatten(x, 1, 2)", x.reshape(2, 12))
cases.add("flatten_leading", X, "flatten(x, 0, 1)", x.reshape(6, 4))
cases.add("flatten_a_transpose", X, "flatten(transpose(x, 0, 2))", np.swapaxes(x, 0, 2).reshape(-1))
cases.add("flatten_a_scalar", "", "flatten(f64(1.5))", np.array([1.5]))

# broadcast_to, size
cases.add("broadcast_to", N, "broadcast_to(n[0], [4, 3])", np.broadcast_to(n[0], (4, 3)))
cases.add("broadcast_to_new_and_unit_axes", "let c = f64([[1.5], [-2.0]])",
          "broadcast_to(c, [3, 2, 4])", np.broadcast_to(np.array([[1.5], [-2.0]]), (3, 2, 4)))
cases.add("size", X, "size(x, 1)", np.int64(3))
cases.add("size_negative_axis", X, "size(x, -1)", np.int64(4))

# concat, stack, split
z = rng.integers(-12, 13, size=(2, 2, 4)) / 4.0
Z = f"let z = {f64(z)}"
cases.add("concat_axis_1", X + "\n" + Z, "concat([x, z, x], 1)", np.concatenate([x, z, x], 1))
cases.add("concat_default_axis", X, "concat([x, x])", np.concatenate([x, x], 0))
cases.add("concat_promotes", N, "concat([n, f64(n) / 2.0], -1)",
          np.concatenate([n, n / 2.0], -1))
cases.add("stack_front", X, "stack([x, x * 2.0])", np.stack([x, x * 2.0]))
cases.add("stack_middle", X, "stack([x, -x, x], 2)", np.stack([x, -x, x], 2))
cases.add("stack_end", N, "stack([n, n], -1)", np.stack([n, n], -1))
parts = np.split(x, [1, 3], axis=2)
cases.add("split_first", X + "\nlet (p, q, s) = split(x, [1, 2, 1], 2)", "p", parts[0])
cases.add("split_middle", X + "\nlet (p, q, s) = split(x, [1, 2, 1], 2)", "q", parts[1])
cases.add("split_default_axis", X + "\nlet (p, q) = split(x, [1, 1])", "q", np.split(x, 2)[1])

# pad
cases.add("pad_per_axis", N, "pad(n, [[1, 0], [2, 1]])", np.pad(n, ((1, 0), (2, 1))))
cases.add("pad_one_pair_for_all", X, "pad(x, [[1, 2]], -1.5)",
          np.pad(x, ((1, 2),) * 3, constant_values=-1.5))
cases.add("pad_f32_value", Y, "pad(y, [[0, 1], [1, 0]], 7.0)",
          np.pad(y.astype(np.float32), ((0, 1), (1, 0)), constant_values=7.0))
cases.add("pad_a_vector", "", "pad([true, false], [[2, 1]], 1)",
          np.pad(np.array([True, False]), (2, 1), constant_values=True))

# unfold
v = np.arange(7, dtype=np.float64) / 2
V = f"let v = {f64(v)}"
cases.add("unfold_step_1", V, "unfold(v, 0, 3, 1)", unfold(v, 0, 3, 1))
cases.add("unfold_step_2", V, "unfold(v, 0, 3, 2)", unfold(v, 0, 3, 2))
cases.add("unfold_uneven_tail", V, "unfold(v, 0, 2, 3)", unfold(v, 0, 2, 3))
cases.add("unfold_middle_axis", X, "unfold(x, 1, 2, 1)", unfold(x, 1, 2, 1))
cases.add("unfold_first_axis", X, "unfold(x, 0, 1, 1)", unfold(x, 0, 1, 1))
cases.add("unfold_whole_axis", N, "unfold(n, -1, 3, 5)", unfold(n, 1, 3, 5))

cases.write("shape_expected.py", "shape_expected.rs")
