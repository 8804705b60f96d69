"""Expected values for tests/eval_einsum.rs: `einsum` (src/ops/einsum.rs)
in letter and word form, with `...`, implicit outputs, diagonals and any
number of operands.

Writes einsum_expected.rs beside this script: each case is a tsr program
(its inputs as literals exact in f32) that prints one result, and the
value numpy.einsum computes for it.

Run: python3 einsum_expected.py (needs numpy).
"""

import numpy as np

from kernel_cases import Cases, f64, lit

cases = Cases()
rng = np.random.default_rng(5)


def data(*shape):
    return rng.integers(-12, 13, size=shape) / 4.0


a, b, c = data(3, 4), data(4, 5), data(5, 2)
sq = data(4, 4)
q, k = data(2, 2, 3, 4), data(2, 2, 5, 4)
t = data(2, 3, 4)
u = data(2, 4, 5)
cube = data(3, 3, 2)
i = rng.integers(-9, 10, size=(3, 4))
j = rng.integers(-9, 10, size=(4, 2))
v, w = data(4), data(4)
SETUP = "\n".join([
    f"let a = {f64(a)}", f"let b = {f64(b)}", f"let c = {f64(c)}",
    f"let sq = {f64(sq)}", f"let q = {f64(q)}", f"let k = {f64(k)}",
    f"let t = {f64(t)}", f"let u = {f64(u)}", f"let cube = {f64(cube)}",
    f"let i = {lit(i)}", f"let j = {lit(j)}",
    f"let v = {f64(v)}", f"let w = {f64(w)}",
    f"let af = {lit(a.astype(np.float32))}", f"let bf = {lit(b.astype(np.float32))}",
])


def letters(spec):
    """A word-form spec in NumPy's letters: each word becomes one letter."""
    if not any(" " in part.strip() for part in spec.replace("->", ",").split(",")):
        return spec
    words = {}
    out = []
    for token in spec.replace(",", " , ").replace("->", " -> ").split():
        if token in (",", "->", "..."):
            out.append(token)
        else:
            out.append(words.setdefault(token, "abcdefghijklmnopqrstuvwxyz"[len(words)]))
    return "".join(out)


def add(name, spec, *operands):
    names, arrays = zip(*operands)
    expr = f'einsum("{spec}", {", ".join(names)})'
    result = np.einsum(letters(spec), *arrays)
    rtol = 1e-6 if result.dtype == np.float32 else None
    cases.add(name, SETUP, expr, result, rtol)


A, B, C, SQ, Q, K = ("a", a), ("b", b), ("c", c), ("sq", sq), ("q", q), ("k", k)
T, U, CUBE, I, J, V, W = ("t", t), ("u", u), ("cube", cube), ("i", i), ("j", j), ("v", v), ("w", w)

add("matmul", "ij,jk->ik", A, B)
add("matmul_transposed_output", "ij,jk->ki", A, B)
add("matvec", "ij,j->i", A, V)
add("dot", "i,i->", V, W)
add("outer", "i,j->ij", V, W)
add("elementwise", "i,i->i", V, W)
add("transpose", "ij->ji", A)
add("sum_all", "ij->", A)
add("sum_rows", "ij->j", A)
add("trace", "ii->", SQ)
add("diagonal", "ii->i", SQ)
add("diagonal_in_a_product", "ii,ij->j", SQ, B)
add("diagonal_of_three_axes", "iij->ji", CUBE)
add("batch_matmul", "bij,bjk->bik", T, U)
add("attention_scores", "bhid,bhjd->bhij", Q, K)
add("word_form", "b h i d, b h j d -> b h i j", Q, K)
add("word_form_long_labels", "batch row col, batch col out -> out batch row", T, U)
add("ellipsis", "...ij,...jk->...ik", T, U)
add("ellipsis_broadcasts", "...ij,...jk->...ik", T, B)
add("ellipsis_implicit", "...ij,...jk", T, U)
add("implicit_matmul", "ij,jk", A, B)
add("implicit_transpose", "ba", A)
add("implicit_sorted_uppercase_first", "aB,Bc", A, B)
add("three_operands", "ij,jk,kl->il", A, B, C)
add("three_operands_implicit", "ij,jk,kl", A, B, C)
add("three_operands_chain_to_scalar", "ij,jk,kl->", A, B, C)
add("shared_by_all_three", "i,i,i->i", V, W, V)
add("label_summed_in_one_operand_only", "ij,jk->k", A, B)
add("label_kept_from_the_first_operand", "ij,kl->ikl", A, B)
add("int64", "ij,jk->ik", I, J)
add("int64_sum_of_a_product", "ij,jk->", I, J)
add("int64_diagonal", "ii->i", ("i[:, :3]", i[:, :3]))
cases.add("f32", SETUP, 'einsum("ij,jk->ik", af, bf)',
          np.einsum("ij,jk->ik", a, b).astype(np.float32), 1e-6)
cases.add("f32_with_f64_promotes", SETUP, 'einsum("ij,jk->ik", af, b)',
          np.einsum("ij,jk->ik", a, b))
cases.add("scalar_operand", SETUP, 'einsum("i,->i", v, f64(2.5))', v * 2.5)
cases.add("of_a_permuted_view", SETUP, 'einsum("ji,jk->ik", permute(a, [1, 0]), b)', a @ b)

cases.write("einsum_expected.py", "einsum_expected.rs")
