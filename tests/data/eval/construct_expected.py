"""Expected values for tests/eval_construct.rs.

Writes construct_expected.rs beside this script: each case is a tsr
program that prints one constructed tensor, and the values NumPy gives.
tsr computes float aranges in f64 (`start + i * step`) and rounds once,
so f32 references are the f64 values rounded to f32; integer linspace
floors, as NumPy 2 does.

Run: python3 construct_expected.py (needs numpy).
"""

import numpy as np

from kernel_cases import Cases, f64

cases = Cases()
cases.add("zeros", "", "zeros([2, 3])", np.zeros((2, 3), dtype=np.float32))
cases.add("ones_i64", "", "ones([2], dtype=i64)", np.ones(2, dtype=np.int64))
cases.add("ones_bool", "", "ones([2, 1], dtype=bool)", np.ones((2, 1), dtype=bool))
cases.add("zeros_scalar", "", "zeros([])", np.float32(0.0))
cases.add("full_weak_int_is_f32", "", "full([3], 7)", np.full(3, 7, dtype=np.float32))
cases.add("full_f64", "", "full([2, 2], 2.5, dtype=f64)", np.full((2, 2), 2.5))
cases.add("full_bool", "", "full([2], true)", np.full(2, True))
cases.add("full_i64_of_float", "", "full([2], -2.75, dtype=i64)",
          np.full(2, -2.75).astype(np.int64))
cases.add("full_of_shape_value", "let m = zeros([2, 3])", "full(m.shape, 1.5)",
          np.full((2, 3), 1.5, dtype=np.float32))

for args, kw in [("5", {}), ("2, 11, 3", {}), ("5, 0, -2", {}), ("5, 2", {}),
                 ("-3, 4, 4", {}), ("4, dtype=f64", {"dtype": np.float64})]:
    bounds = [int(v) for v in args.split(", dtype")[0].split(", ")]
    cases.add(f"arange_{args}", "", f"arange({args})",
              np.arange(*bounds, dtype=kw.get("dtype", np.int64)))
for args, bounds in [("0.0, 1.0, 0.3", (0.0, 1.0, 0.3)), ("-1.5, 1", (-1.5, 1.0)),
                     ("2.5", (2.5,)), ("1.0, -1.0, -0.5", (1.0, -1.0, -0.5)),
                     ("0.0, 1.0, -0.5", (0.0, 1.0, -0.5))]:
    cases.add(f"arange_{args}", "", f"arange({args})",
              np.arange(*bounds, dtype=np.float64).astype(np.float32))
cases.add("arange_float_f64", "", "arange(0.0, 1.0, 0.125, dtype=f64)",
          np.arange(0.0, 1.0, 0.125))
# A bound known only at run time: the length comes from the values.
cases.add("arange_runtime_bound", "let top = sqrt(4.0)", "arange(0.0, top, 0.5)",
          np.arange(0.0, 2.0, 0.5, dtype=np.float32))

cases.add("linspace", "", "linspace(0, 1, 5, dtype=f64)", np.linspace(0, 1, 5))
cases.add("linspace_descending", "", "linspace(1, 0, 4, dtype=f64)", np.linspace(1, 0, 4))
cases.add("linspace_f32", "", "linspace(-1.5, 2.0, 8)",
          np.linspace(-1.5, 2.0, 8).astype(np.float32))
cases.add("linspace_one", "", "linspace(2.0, 3.0, 1)", np.linspace(2.0, 3.0, 1, dtype=np.float32))
cases.add("linspace_none", "", "linspace(2.0, 3.0, 0)", np.linspace(2.0, 3.0, 0, dtype=np.float32))
cases.add("linspace_i64_floors", "", "linspace(-2.5, 2.5, 5, dtype=i64)",
          np.linspace(-2.5, 2.5, 5, dtype=np.int64))

cases.add("eye", "", "eye(3)", np.eye(3, dtype=np.float32))
cases.add("eye_i64", "", "eye(2, dtype=i64)", np.eye(2, dtype=np.int64))

m = np.arange(1.0, 25.0).reshape(2, 3, 4)
M = f"let m = {f64(m)}"
for name, f in [("triu", np.triu), ("tril", np.tril)]:
    for k in [0, 1, -1, 3, -5]:
        cases.add(f"{name}_{k}", M, f"{name}(m, {k})" if k else f"{name}(m)", f(m, k))
cases.add("tril_bool", "", "tril([[true, true], [true, true]])",
          np.tril(np.ones((2, 2), dtype=bool)))
cases.add("triu_i64_of_transpose", "", "triu([[1, 2, 3], [4, 5, 6]].T)",
          np.triu(np.array([[1, 2, 3], [4, 5, 6]]).T))

cases.write("construct_expected.py", "construct_expected.rs")
