"""Regenerate the data fixtures read by tests/tensor_io.rs.

Run from anywhere with NumPy installed:

    python3 tests/data/tensor_io/make_fixtures.py

The files named `load_*` and `*.npz` are written by NumPy itself, so the
tests check the reader against the real writer; `several.safetensors` is
written by hand (8-byte little-endian header length, JSON header, data), as
the safetensors package may be missing, and so are its bf16 values, as NumPy
has no bfloat16. The files named `save_*` are what `np.save` writes for
arrays the tests build too: tsr's writer must produce the same bytes.
"""

import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def save_npy(name, array, version=None):
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, array, version=version)


F16_VALUES = [[0.5, -2.0, 65504.0, 2.0**-24], [np.inf, -0.0, np.nan, 1 / 3]]
# 1.0, -2.5, 3.140625, inf, 2^-133 (the smallest subnormal), -inf
BF16_BITS = [0x3F80, 0xC020, 0x4049, 0x7F80, 0x0001, 0xFF80]


def write_load_fixtures():
    save_npy("load_bool.npy", np.array([[True, False, True], [False, False, True]]))
    save_npy("load_i8.npy", np.array([-128, -1, 0, 1, 127], dtype="i1"))
    save_npy("load_u8.npy", np.array([0, 1, 200, 255], dtype="u1"))
    save_npy("load_i16.npy", np.array([-32768, -1, 32767], dtype="<i2"))
    save_npy("load_u16.npy", np.array([0, 65535], dtype="<u2"))
    save_npy("load_i32.npy", np.array([-(2**31), 0, 2**31 - 1], dtype="<i4"))
    save_npy("load_u32.npy", np.array([0, 2**32 - 1], dtype="<u4"))
    save_npy("load_i64.npy", np.array([-(2**63), 0, 2**63 - 1], dtype="<i8"))
    save_npy("load_u64.npy", np.array([0, 1, 2**63 - 1], dtype="<u8"))
    save_npy("load_f16.npy", np.array(F16_VALUES, dtype="<f2"))
    save_npy("load_f32.npy", np.array([[1.5, -0.25], [2.0**-149, -np.inf]], dtype="<f4"))
    save_npy("load_f64.npy", np.array([0.1, -1e300, 5e-324], dtype="<f8"))

    save_npy("load_be_f2.npy", np.array([0.5, -2.0, 65504.0], dtype=">f2"))
    save_npy("load_be_u2.npy", np.array([1, 256, 65535], dtype=">u2"))
    save_npy("load_be_i4.npy", np.array([-2, 70000, 2**31 - 1], dtype=">i4"))
    save_npy("load_be_f4.npy", np.array([1.5, -3.0e38], dtype=">f4"))
    save_npy("load_be_u8.npy", np.array([1, 2**63 - 1], dtype=">u8"))
    save_npy("load_be_f8.npy", np.array([1.5, -2.25, 1e300], dtype=">f8"))

    save_npy("load_fortran_f4.npy", np.asfortranarray(np.arange(24, dtype="<f4").reshape(2, 3, 4)))
    save_npy("load_fortran_be_i2.npy", np.asfortranarray(np.arange(6, dtype=">i2").reshape(2, 3)))
    save_npy("load_fortran_bool.npy", np.asfortranarray(np.arange(6).reshape(3, 2) % 4 == 1))

    save_npy("load_scalar_f8.npy", np.array(2.5))
    save_npy("load_empty_f4.npy", np.zeros((0, 3), dtype="<f4"))
    save_npy("load_v2_i4.npy", np.array([7, -7], dtype="<i4"), version=(2, 0))
    save_npy("load_v3_f8.npy", np.array([0.5], dtype="<f8"), version=(3, 0))


def npz_members():
    return {
        "a": np.arange(6, dtype="<f4").reshape(2, 3),
        "b": np.array([True, False]),
        "c": np.asfortranarray(np.arange(6, dtype="<f8").reshape(2, 3)),
        "d": np.array([-1, 0, 1], dtype=">i4"),
        "e": np.array(9, dtype="<i8"),
    }


def write_npz_fixtures():
    np.savez(path("stored.npz"), **npz_members())
    np.savez_compressed(path("deflated.npz"), **npz_members())


def write_safetensors():
    tensors = [
        ("bool", "BOOL", [3], np.array([1, 0, 1], dtype="u1").tobytes()),
        ("u8", "U8", [2], np.array([0, 255], dtype="u1").tobytes()),
        ("i8", "I8", [2], np.array([-128, 127], dtype="i1").tobytes()),
        ("u16", "U16", [1], np.array([65535], dtype="<u2").tobytes()),
        ("i16", "I16", [1], np.array([-32768], dtype="<i2").tobytes()),
        ("u32", "U32", [1], np.array([2**32 - 1], dtype="<u4").tobytes()),
        ("i32", "I32", [2], np.array([-1, 2], dtype="<i4").tobytes()),
        ("u64", "U64", [1], np.array([2**63 - 1], dtype="<u8").tobytes()),
        ("i64", "I64", [], np.array(7, dtype="<i8").tobytes()),
        ("f16", "F16", [2, 4], np.array(F16_VALUES, dtype="<f2").tobytes()),
        ("bf16", "BF16", [2, 3], np.array(BF16_BITS, dtype="<u2").tobytes()),
        ("f32", "F32", [2, 3], np.arange(6, dtype="<f4").tobytes()),
        ("f64", "F64", [2], np.array([0.1, -2.0], dtype="<f8").tobytes()),
        ("empty", "F32", [0, 2], b""),
    ]
    header = {"__metadata__": {"format": "pt"}}
    offset = 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path("several.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)


SHAPES = {"scalar": (), "0": (0,), "3": (3,), "2x3": (2, 3), "2x3x4": (2, 3, 4)}


def counting(shape, dtype):
    """0, 1, 2... in row-major order; for bool, true where that is a multiple of 3."""
    values = np.arange(int(np.prod(shape))).reshape(shape)
    return values % 3 == 0 if dtype == "?" else values.astype(dtype)


def write_save_fixtures():
    for name, dtype in [("f32", "<f4"), ("f64", "<f8"), ("i64", "<i8"), ("bool", "?")]:
        for tag, shape in SHAPES.items():
            np.save(path(f"save_{name}_{tag}.npy"), counting(shape, dtype))
    # np.save writes these views as contiguous row-major data, as tsr must.
    np.save(path("save_transposed_f32.npy"), np.arange(6, dtype="<f4").reshape(2, 3).T.copy(order="C"))
    np.save(path("save_broadcast_i64.npy"), np.broadcast_to(np.arange(3, dtype="<i8"), (2, 3)))
    np.save(path("save_stepped_f64.npy"), np.arange(10, dtype="<f8")[::3])
    # A first axis of 11 digits leaves 10 spaces of room to grow.
    np.save(path("save_wide_bool.npy"), np.zeros((12345678901, 0), dtype="?"))
    # This shape makes the header exactly aligned before padding, and NumPy
    # then pads a whole 64 bytes rather than none: 20 spaces of room to grow
    # the first axis, then 64.
    np.save(path("save_aligned_f32.npy"), np.arange(100, dtype="<f4").reshape((1,) * 13 + (100,)))
    with open(path("save_aligned_f32.npy"), "rb") as f:
        assert f.read(192).endswith(b"}" + b" " * 84 + b"\n")

if __name__ == "__main__":
    write_load_fixtures()
    write_npz_fixtures()
    write_safetensors()
    write_save_fixtures()
