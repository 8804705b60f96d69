"""Regenerate cases.json, the expected text of tsr's value printing.

Run from the crate root with NumPy installed (e.g. in a venv:
`python3 -m venv .venv && .venv/bin/pip install numpy`):

    python3 tests/data/format/make_cases.py > tests/data/format/cases.json

The committed file was made with NumPy 2.4.6. Every expected string comes
from NumPy itself:
- float arrays: np.array2string(x, precision=4, floatmode='fixed', sign=' ',
  separator=', ', threshold=1000, edgeitems=3);
- integer and bool arrays: np.array2string(x, separator=', ',
  threshold=1000, edgeitems=3), with NumPy's `True`/`False` respelled
  `true`/`false` (both five wide once NumPy pads ` True`, so alignment and
  wrapping are unchanged);
- f64 scalars: repr(float(x));
- f32 scalars: NumPy's shortest round-trip digits of the float32
  (np.format_float_scientific(unique=True)) laid out as Python's float repr.

Bool data is written as 0 and 1. Float scalars are given by their bit
patterns. Float array data is written as strings (`nan`, `inf` are not
JSON); an f32 value is written with its shortest f32 digits, so reading it
back as f32 is exact.
"""

import json
import struct
import sys

import numpy as np

FLOAT_OPTIONS = dict(precision=4, floatmode="fixed", sign=" ", separator=", ",
                     threshold=1000, edgeitems=3)
PLAIN_OPTIONS = dict(separator=", ", threshold=1000, edgeitems=3)

rng = np.random.default_rng(20261122)


def f32_repr(value):
    """Shortest digits that read back to the same float32, in repr layout."""
    digits = np.format_float_scientific(np.float32(value), unique=True)
    return repr(float(digits))


def encode(dtype, value):
    if dtype == "f32":
        return f32_repr(value)
    if dtype == "f64":
        return repr(float(value))
    return int(value)


NP_DTYPES = {"f32": np.float32, "f64": np.float64, "i64": np.int64, "bool": np.bool_}


def expected_text(array, dtype):
    if dtype in ("f32", "f64"):
        return np.array2string(array, **FLOAT_OPTIONS)
    text = np.array2string(array, **PLAIN_OPTIONS)
    if dtype == "bool":
        text = text.replace("True", "true").replace("False", "false")
    return text


cases = []


def add(name, dtype, values, shape=None):
    array = np.asarray(values, dtype=NP_DTYPES[dtype])
    if shape is not None:
        array = array.reshape(shape)
    cases.append({
        "name": name,
        "dtype": dtype,
        "shape": list(array.shape),
        "data": [encode(dtype, v) for v in array.ravel()],
        "expected": expected_text(array, dtype),
    })


def size_of(shape):
    return int(np.prod(shape, dtype=np.int64))


def short_floats(shape, scale=1.0, decimals=2):
    """Random normals rounded so that large cases stay small in JSON."""
    return np.round(rng.standard_normal(size_of(shape)) * scale, decimals).reshape(shape)


SHAPES = [(), (0,), (3,), (2, 3), (2, 3, 4), (2, 2, 2, 2, 2), (3, 0, 2), (0, 3),
          (1, 1, 1), (1, 30), (2, 25), (5, 1)]
# Summarised shapes, split between the float types to keep the JSON small.
BIG_SHAPES = {"f32": [(1001,), (40, 40), (3, 400)],
              "f64": [(1001,), (11, 11, 11), (2, 7, 3, 25)]}

for dtype in ("f32", "f64"):
    for shape in SHAPES:
        add(f"{dtype} normal {shape}", dtype, short_floats(shape, decimals=6), shape)
    for shape in BIG_SHAPES[dtype]:
        add(f"{dtype} normal {shape}", dtype, short_floats(shape, decimals=1), shape)
    for scale in (1e-6, 1e-3, 0.5, 10.0, 1e3, 1e5, 1e7, 1e9, 1e20, 1e-20):
        add(f"{dtype} scaled {scale}", dtype,
            rng.standard_normal(12) * scale, (3, 4))
    for shape in [(7,), (3, 5), (2, 3, 9)]:
        mags = 10.0 ** rng.integers(-8, 9, size_of(shape))
        add(f"{dtype} mixed magnitudes {shape}", dtype,
            (rng.standard_normal(size_of(shape)) * mags).reshape(shape), shape)
    add(f"{dtype} wide row", dtype, rng.standard_normal(40) * 100, (40,))
    add(f"{dtype} wide exp row", dtype, rng.standard_normal(30) * 1e12, (30,))
    add(f"{dtype} wide rows 3d", dtype, rng.standard_normal(2 * 3 * 17), (2, 3, 17))
    add(f"{dtype} summarised with wide rows", dtype,
        np.round(rng.standard_normal(1200) * 1e3), (3, 400))
    add(f"{dtype} nonnegative", dtype, np.abs(rng.standard_normal(9)), (3, 3))
    add(f"{dtype} integral values", dtype, np.arange(-5, 7), (3, 4))
    add(f"{dtype} tens", dtype, [1.0, 10.0, 100.0, -1000.0])
    ties = [0.03125, 0.09375, 1.03125, -0.15625, 2.5, 0.375]
    add(f"{dtype} ties", dtype, ties)
    add(f"{dtype} exp ties", dtype, ties + [1e-5])
    add(f"{dtype} zeros", dtype, [0.0, 0.0, 0.0])
    add(f"{dtype} zero 0d", dtype, 0.0, ())
    add(f"{dtype} negative zero 0d", dtype, -0.0, ())
    add(f"{dtype} negative 0d", dtype, -2.25, ())
    add(f"{dtype} big 0d", dtype, 3e20, ())
    add(f"{dtype} nan 0d", dtype, np.nan, ())
    add(f"{dtype} -inf 0d", dtype, -np.inf, ())
    add(f"{dtype} negative zero", dtype, [-0.0])
    add(f"{dtype} negative zero and one", dtype, [-0.0, 1.0])
    add(f"{dtype} zero and one", dtype, [0.0, 1.0])
    add(f"{dtype} nan only", dtype, [np.nan])
    add(f"{dtype} nonfinite only", dtype, [np.nan, np.inf])
    add(f"{dtype} all nonfinite", dtype, [np.nan, np.inf, -np.inf])
    add(f"{dtype} nan and one", dtype, [np.nan, 1.0, 2.5])
    add(f"{dtype} inf and big", dtype, [np.inf, -np.inf, 1e20])
    add(f"{dtype} -inf and tiny", dtype, [-np.inf, 1e-9])
    add(f"{dtype} nan in exp", dtype, [np.nan, 1e-7, -3.0])
    add(f"{dtype} nan in positional", dtype, [[np.nan, 1.5], [-2.0, np.inf]])
    add(f"{dtype} inf positive only", dtype, [np.inf, 0.5])
    add(f"{dtype} -inf with wide ints", dtype, [-np.inf, 12345.5])
    add(f"{dtype} 1e20", dtype, [1e20])
    add(f"{dtype} 1e20 and one", dtype, [1e20, 1.0])
    add(f"{dtype} -1e20", dtype, [-1e20, 2.0])
    add(f"{dtype} ratio 1000", dtype, [1.0, 1000.0])
    add(f"{dtype} ratio above 1000", dtype, [1.0, 1000.5])
    add(f"{dtype} small 1e-4", dtype, [1e-4, 0.05])
    add(f"{dtype} below 1e-4", dtype, [9.9e-5, 0.05])
    add(f"{dtype} f32 cutoff", dtype, [999999.0, 1000.0])
    add(f"{dtype} at f32 cutoff", dtype, [1e6, 1000.0])
    add(f"{dtype} f64 cutoff", dtype, [99999999.0, 100000.0])
    add(f"{dtype} at f64 cutoff", dtype, [1e8, 100000.0])
    add(f"{dtype} rounds up to 1e+01", dtype, [9.99999, 1e-5])
    add(f"{dtype} long fraction", dtype, [1.0 / 3.0, 2.0 / 3.0, -1.0 / 7.0])
    add(f"{dtype} extremes", dtype,
        [np.finfo(NP_DTYPES[dtype]).max, np.finfo(NP_DTYPES[dtype]).tiny])
    add(f"{dtype} subnormal", dtype,
        [np.finfo(NP_DTYPES[dtype]).smallest_subnormal, 1.0])
    add(f"{dtype} summarised nan edges", dtype,
        np.concatenate(([np.nan], np.round(rng.standard_normal(1000), 1), [-np.inf])))
    middle = np.round(rng.standard_normal(1001), 1)
    middle[500] = 1e30
    middle[501] = np.nan
    add(f"{dtype} summarised hidden outliers", dtype, middle)

add("f64 wide exponents", "f64", [1e20, 1.0, 1e100])
add("f64 three digit negative exponent", "f64", [1e-300, 1e300, -np.inf])
add("f64 deep", "f64", np.arange(64) / 8.0, (2,) * 6)

for shape in SHAPES + BIG_SHAPES["f32"] + BIG_SHAPES["f64"]:
    n = size_of(shape)
    add(f"i64 random {shape}", "i64", rng.integers(-50, 1000, n), shape)
    add(f"bool random {shape}", "bool", rng.random(n) < 0.5, shape)
for span in (9, 99, 10**5, 10**12, 2**62):
    add(f"i64 span {span}", "i64", rng.integers(-span, span, 24), (4, 6))
add("i64 nonnegative", "i64", rng.integers(0, 100, 10))
add("i64 negative only", "i64", [-3, -100, -7])
add("i64 extremes", "i64", [np.iinfo(np.int64).min, 3, np.iinfo(np.int64).max])
add("i64 min width", "i64", [-5, 10])
add("i64 wide row", "i64", rng.integers(-10**6, 10**6, 60))
add("i64 0d", "i64", -42, ())
add("i64 summarised hidden", "i64",
    np.concatenate((np.arange(6), [10**15], np.arange(994))))
add("i64 deep", "i64", np.arange(128) - 64, (2,) * 7)
add("bool all true", "bool", [True] * 5)
add("bool all false", "bool", [False] * 5)
add("bool 0d true", "bool", True, ())
add("bool 0d false", "bool", False, ())
add("bool wide row", "bool", rng.random(40) < 0.5)
add("bool wide rows 3d", "bool", rng.random(2 * 2 * 20) < 0.5, (2, 2, 20))


def f64_cases():
    values = [0.0, -0.0, 1.0, -1.0, 3.0, 0.1, 0.2, 0.3, 1 / 3, 2 / 3, 1e-8, 1.5e-7,
              1e-4, 1e-5, 0.00012345, 123456789.0, 1e15, 9999999999999998.0,
              1e16, 1.2345e16, 1e20, 1e22, 1e23, 1e100, 1e-100, 1e300, 1e308,
              np.inf, -np.inf, np.nan, 5e-324, 2.2250738585072014e-308,
              1.7976931348623157e308, 2.5, -12.75, 1e-323, 0.5, 100.0,
              4.35, 0.30000000000000004, 9007199254740993.0, 123.456]
    for e in range(-26, 27):
        p = 10.0 ** e
        values += [p, np.nextafter(p, 0.0), np.nextafter(p, np.inf), -p]
    values += list(rng.standard_normal(60) * 10.0 ** rng.integers(-30, 31, 60))
    bits = rng.integers(0, 2**63, 200, dtype=np.uint64)
    values += [struct.unpack("<d", struct.pack("<Q", int(b)))[0] for b in bits]
    values += list(np.round(rng.standard_normal(40) * 1000, 3))
    # Large values with a few fraction bits: often exactly halfway between
    # the two shortest candidates, where repr rounds to even.
    values += [float(m) * 2.0 ** -int(e) for m, e in
               zip(rng.integers(2**52, 2**53, 60), rng.integers(1, 9, 60))]
    return [{"dtype": "f64", "bits": int(np.float64(v).view(np.uint64)),
             "expected": repr(float(v))} for v in values]


def f32_cases():
    values = [0.0, -0.0, 1.0, -1.0, 3.0, 0.1, 0.2, 0.3, 1 / 3, 1e-8, 1.5e-7, 1e-4,
              1e-5, 123456789.0, 16777217.0, 1e15, 1e16, 3e16, 1e20, 1e38,
              3.4028235e38, 1e-45, 1.1754944e-38, np.inf, -np.inf, np.nan,
              2.5, -12.75, 4.35, 100.0, 0.5, 65504.0, 1e7, 1.2345678e-3]
    for e in range(-26, 27):
        p = np.float32(10.0 ** e)
        values += [p, np.nextafter(p, np.float32(0)), np.nextafter(p, np.float32(np.inf))]
    values += list(rng.standard_normal(60) * 10.0 ** rng.integers(-30, 31, 60))
    bits = rng.integers(0, 2**31, 200, dtype=np.uint32)
    values += [np.frombuffer(struct.pack("<I", int(b)), dtype=np.float32)[0] for b in bits]
    values += [float(m) * 2.0 ** -int(e) for m, e in
               zip(rng.integers(2**23, 2**24, 60), rng.integers(1, 6, 60))]
    return [{"dtype": "f32", "bits": int(np.float32(v).view(np.uint32)),
             "expected": f32_repr(v)} for v in values]


def i64_cases():
    values = [0, 1, -1, 42, -42, 10**18, np.iinfo(np.int64).min, np.iinfo(np.int64).max]
    return [{"dtype": "i64", "value": int(v), "expected": repr(int(v))}
            for v in values]


def dump_list(items):
    """One case per line: small enough to diff, without a line per number."""
    return "[\n" + ",\n".join(json.dumps(item, separators=(",", ":")) for item in items) + "\n]"


sys.stdout.write('{"arrays": ' + dump_list(cases) + ',\n"scalars": '
                 + dump_list(f64_cases() + f32_cases() + i64_cases()) + "}\n")
