#!/usr/bin/env python3
"""tsr against NumPy on the workloads of issue #4, in one sitting.

Usage: python3 bench/compare.py [--tsr PATH] [--reps N] [--only NAME ...]

Runs each workload as a tsr script under `tsr run --profile-json` (the
timed statement repeated on REPS lines; the fastest line counts) and as
the same NumPy code (the fastest of REPS calls), then prints one table:
times, tsr's GFLOP/s and share of the machine's peak, and the ratio
NumPy time / tsr time (above 1: tsr is faster) beside the issue's target.

NumPy comes from a virtual environment this script makes for itself
(bench/.venv, git-ignored) the first time: it re-runs itself there.
The script needs only Python 3 and `pip` access to PyPI.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
VENV = HERE / ".venv"


def ensure_numpy():
    """Re-runs this script in bench/.venv, making it first if needed."""
    try:
        import numpy  # noqa: F401

        return
    except ImportError:
        pass
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"setting up NumPy in {VENV} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "numpy"], check=True)
    if os.environ.get("TSR_COMPARE_IN_VENV"):
        sys.exit("bench/.venv has no NumPy: delete it and run again")
    os.environ["TSR_COMPARE_IN_VENV"] = "1"
    os.execv(str(python), [str(python), __file__, *sys.argv[1:]])


ensure_numpy()

import numpy as np  # noqa: E402


class Workload:
    """One row: tsr's setup and timed statement, NumPy's setup and call.

    `flops` is the work of one timed statement (the useful arithmetic: 2
    per multiply-add, 1 per elementwise operation), the same for both.
    """

    def __init__(self, name, target, dtype, flops, setup, stmt, np_setup, np_call):
        self.name, self.target, self.dtype, self.flops = name, target, dtype, flops
        self.setup, self.stmt = setup, stmt
        self.np_setup, self.np_call = np_setup, np_call


def rand(shape, dtype):
    """randn data in a tsr element type's name or NumPy's."""
    dtype = {"f32": np.float32, "f64": np.float64}.get(dtype, dtype)
    return np.random.default_rng(1).standard_normal(shape).astype(dtype)


def np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def np_layernorm(x):
    m = x.mean(-1, keepdims=True)
    v = x.var(-1, keepdims=True)
    return (x - m) / np.sqrt(v + 1e-5)


def np_conv(x, w):
    """3x3 convolution, padding 1, as im2col + einsum (the issue's baseline)."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3))
    return np.einsum("nchwkl,ockl->nohw", cols, w, optimize=True)


def tiny_loop(x):
    for _ in range(100_000):
        x = x * np.float32(1.0001) + np.float32(0.5)
    return x


def workloads():
    n, big = 1024, 4096
    b, h, t, d = 4, 8, 512, 64
    attn_flops = 2 * b * h * t * t * d
    rows = [
        Workload(
            f"matmul {n}^3 {dt}", "1.0", dt, 2 * n**3,
            f"let a = randn([{n}, {n}], dtype={dt})\nlet c = randn([{n}, {n}], dtype={dt})",
            "let y = a @ c",
            lambda dt=dt: (rand((n, n), dt), rand((n, n), dt)),
            lambda a, c: a @ c,
        )
        for dt in ("f32", "f64")
    ]
    qkv = "\n".join(f"let {v} = randn([{b}, {h}, {t}, {d}], dtype=f32)" for v in "qkv")
    np_qkv = lambda: tuple(rand((b, h, t, d), "f4") for _ in range(3))  # noqa: E731
    rows += [
        Workload(
            "attention scores einsum", "2.0", "f32", attn_flops, qkv,
            'let y = einsum("bhid,bhjd->bhij", q, k)', np_qkv,
            lambda q, k, v: np.einsum("bhid,bhjd->bhij", q, k, optimize=True),
        ),
        Workload(
            "attention softmax @ v", "2.0", "f32", 2 * attn_flops + 5 * b * h * t * t, qkv,
            'let y = einsum("bhij,bhjd->bhid", softmax(einsum("bhid,bhjd->bhij", q, k) / 8.0, -1), v)',
            np_qkv,
            lambda q, k, v: np.einsum(
                "bhij,bhjd->bhid",
                np_softmax(np.einsum("bhid,bhjd->bhij", q, k, optimize=True) / np.float32(8.0)),
                v, optimize=True),
        ),
    ]
    m = 2048
    rows.append(Workload(
        "einsum chain ab,bc,cd,d->a", "1.0", "f32", 2 * 3 * m * m,
        "\n".join(f"let {v} = randn([{m}, {m}], dtype=f32)" for v in "xyz")
        + f"\nlet u = randn([{m}], dtype=f32)",
        'let r = einsum("ab,bc,cd,d->a", x, y, z, u)',
        lambda: (rand((m, m), "f4"), rand((m, m), "f4"), rand((m, m), "f4"), rand(m, "f4")),
        lambda x, y, z, u: np.einsum("ab,bc,cd,d->a", x, y, z, u, optimize=True),
    ))
    bb, i, j = 16, 256, 32
    rows.append(Workload(
        "einsum chain bij,bjk,bkl->bil", "1.0", "f32", 2 * 2 * bb * i * j * j,
        f"let x = randn([{bb}, {i}, {j}], dtype=f32)\n"
        f"let y = randn([{bb}, {j}, {i}], dtype=f32)\n"
        f"let z = randn([{bb}, {i}, {j}], dtype=f32)",
        'let r = einsum("bij,bjk,bkl->bil", x, y, z)',
        lambda: (rand((bb, i, j), "f4"), rand((bb, j, i), "f4"), rand((bb, i, j), "f4")),
        lambda x, y, z: np.einsum("bij,bjk,bkl->bil", x, y, z, optimize=True),
    ))
    cn, cc, hw = 8, 64, 56
    rows.append(Workload(
        "conv2d 3x3 [8,64,56,56]", "2.0", "f32", 2 * cn * cc * cc * 9 * hw * hw,
        f"let x = randn([{cn}, {cc}, {hw}, {hw}], dtype=f32)\n"
        f"let w = randn([{cc}, {cc}, 3, 3], dtype=f32)",
        "let y = conv2d(x, w, padding=1)",
        lambda: (rand((cn, cc, hw, hw), "f4"), rand((cc, cc, 3, 3), "f4")),
        np_conv,
    ))
    big_setup = f"let x = randn([{big}, {big}], dtype=f32)"
    np_big = lambda: (rand((big, big), "f4"),)  # noqa: E731
    e = big * big
    rows += [
        Workload("exp(x) * 2 + 1", "2.0", "f32", 3 * e, big_setup, "let y = exp(x) * 2 + 1",
                 np_big, lambda x: np.exp(x) * 2 + 1),
        Workload("(x - 1) * (x + 1) f64", "2.0", "f64", 3 * e,
                 f"let x = randn([{big}, {big}], dtype=f64)", "let y = (x - 1) * (x + 1)",
                 lambda: (rand((big, big), "f8"),), lambda x: (x - 1) * (x + 1)),
        Workload("softmax [4096,4096] -1", "2.0", "f32", 5 * e, big_setup,
                 "let y = softmax(x, -1)", np_big, np_softmax),
        Workload("layernorm [4096,4096] -1", "2.0", "f32", 7 * e, big_setup,
                 "let y = layernorm(x, -1)", np_big, np_layernorm),
        Workload("sum(x, -1)", "2.0", "f32", e, big_setup, "let y = sum(x, -1)",
                 np_big, lambda x: x.sum(-1)),
        Workload("sum(x, 0)", "2.0", "f32", e, big_setup, "let y = sum(x, 0)",
                 np_big, lambda x: x.sum(0)),
        Workload("max(x, -1)", "2.0", "f32", e, big_setup, "let y = max(x, -1)",
                 np_big, lambda x: x.max(-1)),
        Workload("var(x, -1)", "2.0", "f32", 3 * e, big_setup, "let y = var(x, -1)",
                 np_big, lambda x: x.var(-1)),
        Workload("mean(x) (all)", "2.0", "f32", e, big_setup, "let y = mean(x)",
                 np_big, lambda x: x.mean()),
        Workload(
            "tiny: 100k x*1.0001+0.5 on [4]", "1.0", "f32", 2 * 4 * 100_000,
            "let x = randn([4], dtype=f32)",
            "for i in 0..100000 {\n    x = x * 1.0001 + 0.5\n}",
            lambda: (rand(4, "f4"),), tiny_loop,
        ),
    ]
    return rows


def time_tsr(tsr, w, reps):
    """The fastest of `reps` copies of the statement, from the profile."""
    lines = ["seed(1)", *w.setup.split("\n")]
    timed = []
    for _ in range(reps):
        timed.append(len(lines) + 1)
        lines += w.stmt.split("\n")
    with tempfile.TemporaryDirectory() as tmp:
        script, profile = Path(tmp) / "w.tsr", Path(tmp) / "p.json"
        script.write_text("\n".join(lines) + "\n")
        run = subprocess.run([tsr, "run", str(script), "--profile-json", str(profile)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            return None, run.stderr.strip().splitlines()[:3]
        by_line = {r["line"]: r["seconds"] for r in json.loads(profile.read_text())["lines"]}
    return min(by_line[line] for line in timed), None


def time_numpy(w, reps):
    args = w.np_setup()
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        w.np_call(*args)
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tsr", default=str(ROOT / "target" / "release" / "tsr"))
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--peak-f32", type=float, default=200.0, help="GFLOP/s")
    parser.add_argument("--peak-f64", type=float, default=100.0, help="GFLOP/s")
    parser.add_argument("--only", nargs="*", help="workloads whose name contains one of these")
    opts = parser.parse_args()
    if not Path(opts.tsr).exists():
        sys.exit(f"{opts.tsr} not found: run `cargo build --release` first")
    peak = {"f32": opts.peak_f32, "f64": opts.peak_f64}
    header = f"{'workload':<32} {'tsr ms':>9} {'numpy ms':>9} {'GFLOP/s':>8} {'% peak':>7} {'ratio':>6} {'target':>6}"
    print(header)
    print("-" * len(header))
    for w in workloads():
        if opts.only and not any(s in w.name for s in opts.only):
            continue
        tsr_s, error = time_tsr(opts.tsr, w, opts.reps)
        np_s = time_numpy(w, opts.reps)
        if tsr_s is None:
            print(f"{w.name:<32} {'failed':>9} {np_s * 1e3:>9.2f}   {' / '.join(error)}")
            continue
        gflops = w.flops / tsr_s / 1e9
        ratio = np_s / tsr_s
        mark = "" if ratio >= float(w.target) else "  below"
        print(f"{w.name:<32} {tsr_s * 1e3:>9.2f} {np_s * 1e3:>9.2f} {gflops:>8.1f} "
              f"{100 * gflops / peak[w.dtype]:>6.1f}% {ratio:>5.2f}x {w.target:>5}x{mark}",
              flush=True)


if __name__ == "__main__":
    main()
