"""Regenerate the header fixtures read by tests/headers.rs.

Run from anywhere with NumPy installed:

    python3 tests/data/headers/make_fixtures.py

The .npy and .npz files are written by NumPy itself, so the tests check the
reader against the real writer. The .safetensors file is written by hand
(8-byte little-endian header length, JSON header padded with spaces to a
multiple of 8, then the data), as the safetensors package may be missing.
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
        np.lib.format.write_array(f, array, version=version, allow_pickle=True)


def write_npy_files():
    for dtype in ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8"]:
        kind = np.dtype(dtype)
        save_npy(f"{kind.name}.npy", np.arange(6).reshape(2, 3).astype(kind))
    save_npy("big_endian_f8.npy", np.arange(3, dtype=">f8"))
    save_npy("big_endian_i4.npy", np.arange(4, dtype=">i4"))
    save_npy("fortran_f4.npy", np.asfortranarray(np.ones((2, 3, 4), dtype="<f4")))
    save_npy("scalar_f8.npy", np.array(2.5))
    save_npy("empty_i8.npy", np.zeros((0, 3), dtype="<i8"))
    save_npy("v2_f4.npy", np.ones((5, 2), dtype="<f4"), version=(2, 0))
    save_npy("v3_f4.npy", np.ones((7,), dtype="<f4"), version=(3, 0))
    save_npy("complex64.npy", np.ones(2, dtype="<c8"))
    save_npy("unicode.npy", np.array(["ab", "c"]))
    save_npy("object.npy", np.array([None, 1], dtype=object))
    save_npy("structured.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8")]))
    save_npy("datetime.npy", np.zeros(2, dtype="<M8[ns]"))


def write_npz_files():
    x = np.arange(12, dtype="<f4").reshape(3, 4)
    y = np.array([True, False])
    np.savez(path("stored.npz"), x=x, y=y)
    np.savez_compressed(path("deflated.npz"), a=np.zeros((4, 5), dtype="<f8"), b=np.arange(3))


SAFETENSORS_DTYPES = {
    "BOOL": "?",
    "U8": "<u1",
    "I8": "<i1",
    "I16": "<i2",
    "U16": "<u2",
    "I32": "<i4",
    "U32": "<u4",
    "I64": "<i8",
    "U64": "<u8",
    "F16": "<f2",
    "F32": "<f4",
    "F64": "<f8",
}


def write_safetensors():
    tensors = []
    for name, numpy_dtype in SAFETENSORS_DTYPES.items():
        data = np.arange(6).reshape(2, 3).astype(numpy_dtype).tobytes()
        tensors.append((name.lower(), name, [2, 3], data))
    # NumPy has no bfloat16; its bytes are the high halves of float32 values.
    halves = np.arange(4, dtype="<f4").view("<u4") >> 16
    tensors.append(("bf16", "BF16", [4], halves.astype("<u2").tobytes()))
    tensors.append(("scalar", "F32", [], np.array(1.5, dtype="<f4").tobytes()))
    tensors.append(("c64", "C64", [2], np.ones(2, dtype="<c8").tobytes()))
    tensors.append(("f8", "F8_E4M3", [3], bytes(3)))

    header = {"__metadata__": {"format": "pt", "note": "tsr header fixture"}}
    offset = 0
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path("tensors.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for _, _, _, data in tensors:
            f.write(data)


if __name__ == "__main__":
    write_npy_files()
    write_npz_files()
    write_safetensors()
