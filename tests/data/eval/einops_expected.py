"""Expected values for tests/eval_einops.rs: `rearrange`, `reduce` and
`repeat` (src/ops/einops.rs) against the einops library on NumPy arrays.

Writes einops_expected.rs beside this script: each case is a tsr program
(its inputs as literals exact in f32) that prints one result, and the
value einops computes for it. A mean of integers is f32 in tsr.

Run: python3 einops_expected.py (needs numpy and einops).
"""

import einops
import numpy as np

from kernel_cases import Cases, f64, lit

cases = Cases()
rng = np.random.default_rng(3)
x = rng.integers(-12, 13, size=(2, 3, 4)) / 4.0
y = rng.integers(-12, 13, size=(2, 4, 6)) / 4.0
n = rng.integers(-9, 10, size=(2, 3, 4))
m = rng.integers(-9, 10, size=(3, 2)) > 0
s = rng.integers(-12, 13, size=(3, 4)) / 4.0
SETUP = "\n".join([
    f"let x = {f64(x)}", f"let y = {f64(y)}", f"let n = {lit(n)}",
    f"let m = {lit(m)}", f"let s = {f64(s)}", f"let xf = {lit(x.astype(np.float32))}",
])
ARRAYS = {"x": x, "y": y, "n": n, "m": m, "s": s, "xf": x.astype(np.float32)}


def keywords(sizes):
    return "".join(f", {k}={v}" for k, v in sizes.items())


def rearrange(name, operand, pattern, **sizes):
    result = einops.rearrange(ARRAYS[operand], pattern, **sizes)
    cases.add(name, SETUP, f'rearrange({operand}, "{pattern}"{keywords(sizes)})', result)


def reduce(name, operand, pattern, how, **sizes):
    a = ARRAYS[operand]
    if how == "mean" and a.dtype == np.int64:
        # einops refuses this; tsr's mean of integers is f32.
        result = einops.reduce(a.astype(np.float64), pattern, how, **sizes).astype(np.float32)
    else:
        result = np.asarray(einops.reduce(a, pattern, how, **sizes))
    expr = f'reduce({operand}, "{pattern}", "{how}"{keywords(sizes)})'
    cases.add(name, SETUP, expr, result, 1e-6 if result.dtype == np.float32 else None)


def repeat(name, operand, pattern, **sizes):
    result = einops.repeat(ARRAYS[operand], pattern, **sizes)
    cases.add(name, SETUP, f'repeat({operand}, "{pattern}"{keywords(sizes)})', result)


rearrange("rearrange_permutes", "x", "a b c -> c a b")
rearrange("rearrange_identity", "x", "a b c -> a b c")
rearrange("rearrange_splits_heads", "y", "b t (h d) -> b h t d", h=2)
rearrange("rearrange_splits_the_other_size", "y", "b t (h d) -> b h t d", d=2)
rearrange("rearrange_merges", "x", "a b c -> b (c a)")
rearrange("rearrange_flattens", "x", "a b c -> (a b c)")
rearrange("rearrange_regroups", "y", "b t (h d) -> (d b) (t h)", h=3)
rearrange("rearrange_ellipsis_first", "x", "... c -> c ...")
rearrange("rearrange_ellipsis_merged", "x", "a ... -> a (...)")
rearrange("rearrange_ellipsis_of_nothing", "s", "a b ... -> b ... a")
rearrange("rearrange_adds_unit_axes", "x", "a b c -> a 1 b () c")
rearrange("rearrange_groups_with_units", "x", "a b c -> (a 1) (b c) ()")
rearrange("rearrange_integers", "n", "a b c -> c (b a)")
rearrange("rearrange_bools", "m", "a b -> b a")
cases.add("rearrange_drops_unit_axes", SETUP, 'rearrange(unsqueeze(x, 1), "a 1 b c -> a (b c)")',
          einops.rearrange(x[:, None], "a 1 b c -> a (b c)"))
cases.add("rearrange_of_a_permuted_view", SETUP,
          'rearrange(permute(x, [2, 0, 1]), "c a b -> a (b c)")',
          einops.rearrange(np.transpose(x, (2, 0, 1)), "c a b -> a (b c)"))

for how in ["sum", "mean", "max", "min", "prod"]:
    reduce(f"reduce_{how}", "x", "a b c -> a c", how)
    reduce(f"reduce_{how}_of_integers", "n", "a b c -> c a", how)
reduce("reduce_max_pool", "y", "b (h h2) (w w2) -> b h w", "max", h2=2, w2=3)
reduce("reduce_mean_pool_with_anonymous_axes", "y", "b (h 2) (w 3) -> b h w", "mean")
reduce("reduce_to_a_scalar", "x", "a b c ->", "sum")
reduce("reduce_the_ellipsis", "x", "a ... -> a", "min")
reduce("reduce_keeps_unit_axes", "x", "a b c -> a () c 1", "max")
reduce("reduce_nothing", "x", "a b c -> c b a", "sum")
reduce("reduce_merges_kept_axes", "y", "b t w -> (w b)", "prod")
reduce("reduce_f32", "xf", "a b c -> b", "mean")
reduce("reduce_sum_of_bools", "m", "a b -> b", "sum")
reduce("reduce_max_of_bools", "m", "a b -> a", "max")
reduce("reduce_min_of_bools", "m", "a b -> a", "min")

repeat("repeat_new_last_axis", "s", "h w -> h w c", c=3)
repeat("repeat_inside_a_group", "s", "h w -> (h h2) w", h2=2)
repeat("repeat_leading_copy", "s", "h w -> b h w", b=2)
repeat("repeat_inside_the_last_group", "s", "h w -> h (w w2)", w2=3)
repeat("repeat_copy_outer_in_group", "s", "h w -> (r h) w", r=2)
repeat("repeat_anonymous_axis", "s", "h w -> h w 3")
repeat("repeat_permutes_too", "s", "h w -> w r h", r=2)
repeat("repeat_ellipsis", "x", "a ... -> a r ...", r=2)
repeat("repeat_unit_to_new_axis", "s", "h w -> h 1 w")
repeat("repeat_integers", "n", "a b c -> a (b r) c", r=2)
repeat("repeat_bools", "m", "a b -> a b r", r=2)
cases.add("repeat_a_unit_axis", SETUP, 'repeat(unsqueeze(s, 0), "1 h w -> r h w", r=2)',
          einops.repeat(s[None], "1 h w -> r h w", r=2))

cases.write("einops_expected.py", "einops_expected.rs")
