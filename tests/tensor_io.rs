//! Reading tensor data: the fixtures in tests/data/tensor_io named `load_*`
//! and `*.npz` were written by NumPy (see make_fixtures.py there); damaged
//! files are built here.

// Shared with tests/headers.rs, which uses the rest of it.
#[allow(dead_code)]
mod header_files;
mod tensor_files;

use std::path::Path;

use header_files::{dict, npy, npz, npz_with_corrupt_tail, safetensors, Scratch};
use tensor_files::{array, fixture, read, NO_LIMIT};
use tsr::data::header::{ElemType, HeaderError};
use tsr::data::tensor::{read_tensor, DataError, TensorData};
use zip::CompressionMethod;

fn error(path: &Path, key: Option<&str>, max_bytes: u64) -> DataError {
    match read_tensor(path, key, max_bytes) {
        Ok(data) => panic!("{}: expected an error, read {data:?}", path.display()),
        Err(error) => error,
    }
}

/// The message for `path`, with the path itself written as `FILE`.
fn message(path: &Path, key: Option<&str>, max_bytes: u64) -> String {
    error(path, key, max_bytes)
        .to_string()
        .replace(&path.display().to_string(), "FILE")
}

fn f32s(shape: &[usize], values: &[f32]) -> TensorData {
    TensorData::F32(array(shape, values.to_vec()))
}

fn f64s(shape: &[usize], values: &[f64]) -> TensorData {
    TensorData::F64(array(shape, values.to_vec()))
}

fn i64s(shape: &[usize], values: &[i64]) -> TensorData {
    TensorData::I64(array(shape, values.to_vec()))
}

fn bools(shape: &[usize], values: &[bool]) -> TensorData {
    TensorData::Bool(array(shape, values.to_vec()))
}

/// The f32 values' bit patterns, so that NaNs and signed zeros compare.
fn f32_bits(data: TensorData) -> (Vec<usize>, Vec<u32>) {
    match data {
        TensorData::F32(array) => (
            array.shape().to_vec(),
            array.iter().map(|value| value.to_bits()).collect(),
        ),
        other => panic!("expected f32 data, read {other:?}"),
    }
}

/// A `.npy` file with header `dict` followed by `data`.
fn npy_with(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = npy(1, dict, 0);
    bytes.extend(data);
    bytes
}

// ---- reading what NumPy writes ----

#[test]
fn reads_every_npy_dtype_and_widens_integers() {
    let cases = [
        (
            "load_bool",
            bools(&[2, 3], &[true, false, true, false, false, true]),
        ),
        ("load_i8", i64s(&[5], &[-128, -1, 0, 1, 127])),
        ("load_u8", i64s(&[4], &[0, 1, 200, 255])),
        ("load_i16", i64s(&[3], &[-32768, -1, 32767])),
        ("load_u16", i64s(&[2], &[0, 65535])),
        ("load_i32", i64s(&[3], &[-(1 << 31), 0, (1 << 31) - 1])),
        ("load_u32", i64s(&[2], &[0, (1 << 32) - 1])),
        ("load_i64", i64s(&[3], &[i64::MIN, 0, i64::MAX])),
        ("load_u64", i64s(&[3], &[0, 1, i64::MAX])),
        (
            "load_f32",
            f32s(&[2, 2], &[1.5, -0.25, f32::from_bits(1), f32::NEG_INFINITY]),
        ),
        ("load_f64", f64s(&[3], &[0.1, -1e300, f64::from_bits(1)])),
    ];
    for (name, expected) in cases {
        assert_eq!(
            read(&fixture(&format!("{name}.npy")), None),
            expected,
            "{name}"
        );
    }
}

/// What make_fixtures.py stores as f16 (and the safetensors file as F16).
const F16_BITS: [u32; 8] = [
    0x3f00_0000, // 0.5
    0xc000_0000, // -2.0
    0x477f_e000, // 65504, the largest f16
    0x3380_0000, // 2^-24, the smallest subnormal f16
    0x7f80_0000, // inf
    0x8000_0000, // -0.0
    0x7fc0_0000, // NumPy's NaN
    0x3eaa_a000, // 1/3 rounded to f16
];

#[test]
fn widens_f16_exactly() {
    assert_eq!(
        f32_bits(read(&fixture("load_f16.npy"), None)),
        (vec![2, 4], F16_BITS.to_vec())
    );
}

/// An f16 value computed in f64 from its definition, rather than by bits.
fn f16_value(bits: u16) -> f64 {
    let sign = if bits & 0x8000 == 0 { 1.0 } else { -1.0 };
    let exponent = i32::from((bits >> 10) & 0x1f);
    let fraction = f64::from(bits & 0x3ff);
    sign * match exponent {
        0 => fraction * 2f64.powi(-24),
        0x1f if fraction == 0.0 => f64::INFINITY,
        0x1f => f64::NAN,
        _ => (1.0 + fraction / 1024.0) * 2f64.powi(exponent - 15),
    }
}

#[test]
fn widens_every_f16_value() {
    let scratch = Scratch::new("every-f16");
    let data: Vec<u8> = (0..=u16::MAX).flat_map(u16::to_le_bytes).collect();
    let path = scratch.write("all.npy", &npy_with(&dict("<f2", "(65536,)"), &data));
    let TensorData::F32(widened) = read(&path, None) else {
        panic!("f16 is not widened to f32");
    };
    for (bits, value) in (0..=u16::MAX).zip(widened.iter()) {
        let expected = f16_value(bits);
        if expected.is_nan() {
            assert!(value.is_nan(), "{bits:#06x}");
        } else {
            assert_eq!(
                f64::from(*value).to_bits(),
                expected.to_bits(),
                "{bits:#06x}"
            );
        }
    }
}

#[test]
fn reads_big_endian_data() {
    let cases = [
        ("load_be_f2", f32s(&[3], &[0.5, -2.0, 65504.0])),
        ("load_be_u2", i64s(&[3], &[1, 256, 65535])),
        ("load_be_i4", i64s(&[3], &[-2, 70000, (1 << 31) - 1])),
        ("load_be_f4", f32s(&[2], &[1.5, -3.0e38])),
        ("load_be_u8", i64s(&[2], &[1, i64::MAX])),
        ("load_be_f8", f64s(&[3], &[1.5, -2.25, 1e300])),
    ];
    for (name, expected) in cases {
        assert_eq!(
            read(&fixture(&format!("{name}.npy")), None),
            expected,
            "{name}"
        );
    }
}

#[test]
fn fortran_order_data_is_returned_in_row_major_layout() {
    let counting: Vec<f32> = (0..24).map(|value| value as f32).collect();
    let cases = [
        ("load_fortran_f4", f32s(&[2, 3, 4], &counting)),
        ("load_fortran_be_i2", i64s(&[2, 3], &[0, 1, 2, 3, 4, 5])),
        (
            "load_fortran_bool",
            bools(&[3, 2], &[false, true, false, false, false, true]),
        ),
    ];
    for (name, expected) in cases {
        let data = read(&fixture(&format!("{name}.npy")), None);
        let standard = match &data {
            TensorData::F32(array) => array.is_standard_layout(),
            TensorData::I64(array) => array.is_standard_layout(),
            TensorData::Bool(array) => array.is_standard_layout(),
            TensorData::F64(array) => array.is_standard_layout(),
        };
        assert!(standard, "{name}");
        assert_eq!(data, expected, "{name}");
    }
}

#[test]
fn reads_scalars_empty_arrays_and_format_versions_2_and_3() {
    let cases = [
        ("load_scalar_f8", f64s(&[], &[2.5])),
        ("load_empty_f4", f32s(&[0, 3], &[])),
        ("load_v2_i4", i64s(&[2], &[7, -7])),
        ("load_v3_f8", f64s(&[1], &[0.5])),
    ];
    for (name, expected) in cases {
        assert_eq!(
            read(&fixture(&format!("{name}.npy")), None),
            expected,
            "{name}"
        );
    }
}

#[test]
fn reads_stored_and_deflated_npz_members() {
    for archive in ["stored.npz", "deflated.npz"] {
        let path = fixture(archive);
        let cases = [
            ("a", f32s(&[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0])),
            ("b", bools(&[2], &[true, false])),
            ("c", f64s(&[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0])),
            ("d", i64s(&[3], &[-1, 0, 1])),
            ("e", i64s(&[], &[9])),
        ];
        for (key, expected) in cases {
            assert_eq!(read(&path, Some(key)), expected, "{archive} {key}");
        }
    }
}

#[test]
fn reads_every_safetensors_dtype() {
    let path = fixture("several.safetensors");
    let cases = [
        ("bool", bools(&[3], &[true, false, true])),
        ("u8", i64s(&[2], &[0, 255])),
        ("i8", i64s(&[2], &[-128, 127])),
        ("u16", i64s(&[1], &[65535])),
        ("i16", i64s(&[1], &[-32768])),
        ("u32", i64s(&[1], &[(1 << 32) - 1])),
        ("i32", i64s(&[2], &[-1, 2])),
        ("u64", i64s(&[1], &[i64::MAX])),
        ("i64", i64s(&[], &[7])),
        ("f32", f32s(&[2, 3], &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0])),
        ("f64", f64s(&[2], &[0.1, -2.0])),
        ("empty", f32s(&[0, 2], &[])),
    ];
    for (key, expected) in cases {
        assert_eq!(read(&path, Some(key)), expected, "{key}");
    }
    assert_eq!(
        f32_bits(read(&path, Some("f16"))),
        (vec![2, 4], F16_BITS.to_vec())
    );
    let bf16 = [
        0x3f80_0000, // 1.0
        0xc020_0000, // -2.5
        0x4049_0000, // 3.140625
        0x7f80_0000, // inf
        0x0001_0000, // 2^-133
        0xff80_0000, // -inf
    ];
    assert_eq!(
        f32_bits(read(&path, Some("bf16"))),
        (vec![2, 3], bf16.to_vec())
    );
}

// ---- reading damaged and hostile files ----

#[test]
fn bool_bytes_other_than_zero_are_true_as_in_numpy() {
    let scratch = Scratch::new("bool-bytes");
    let path = scratch.write("b.npy", &npy_with(&dict("|b1", "(4,)"), &[0, 1, 2, 255]));
    assert_eq!(read(&path, None), bools(&[4], &[false, true, true, true]));
    let json = r#"{"b": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}"#;
    let mut bytes = safetensors(json, 0);
    bytes.extend([7, 0]);
    let path = scratch.write("b.safetensors", &bytes);
    assert_eq!(read(&path, Some("b")), bools(&[2], &[true, false]));
}

#[test]
fn u64_values_above_i64_max_are_refused() {
    let scratch = Scratch::new("u64-range");
    let mut data = 5u64.to_le_bytes().to_vec();
    data.extend((1u64 << 63).to_le_bytes());
    let path = scratch.write("u.npy", &npy_with(&dict("<u8", "(2,)"), &data));
    assert_eq!(
        message(&path, None, NO_LIMIT),
        "FILE: holds the u64 value 9223372036854775808, which does not fit in i64 (load reads unsigned integers as i64)"
    );
    assert!(matches!(
        error(&path, None, NO_LIMIT),
        DataError::OutOfRange {
            item: None,
            value: 9_223_372_036_854_775_808,
            ..
        }
    ));
    let path = scratch.write(
        "be.npy",
        &npy_with(&dict(">u8", "(1,)"), &u64::MAX.to_be_bytes()),
    );
    assert!(matches!(
        error(&path, None, NO_LIMIT),
        DataError::OutOfRange {
            value: u64::MAX,
            ..
        }
    ));
    let json = r#"{"w": {"dtype": "U64", "shape": [], "data_offsets": [0, 8]}}"#;
    let mut bytes = safetensors(json, 0);
    bytes.extend(u64::MAX.to_le_bytes());
    let path = scratch.write("u.safetensors", &bytes);
    assert_eq!(
        message(&path, Some("w"), NO_LIMIT),
        "FILE: tensor `w`: holds the u64 value 18446744073709551615, which does not fit in i64 (load reads unsigned integers as i64)"
    );
}

#[test]
fn arrays_over_the_memory_limit_are_refused() {
    let f32_file = fixture("load_f32.npy");
    assert_eq!(
        message(&f32_file, None, 15),
        "FILE: shape (2, 2) of f32 takes 16 bytes, more than the memory limit of 15 bytes"
    );
    assert!(matches!(
        error(&f32_file, None, 15),
        DataError::TooLarge {
            elem: ElemType::F32,
            bytes: 16,
            limit: 15,
            ..
        }
    ));
    assert_eq!(
        read_tensor(&f32_file, None, 16).unwrap().elem(),
        ElemType::F32
    );
    // The limit is on the widened array, not on the file's bytes.
    let cases = [
        ("load_f16.npy", 32),
        ("load_u8.npy", 32),
        ("load_bool.npy", 6),
    ];
    for (name, bytes) in cases {
        let path = fixture(name);
        assert!(read_tensor(&path, None, bytes).is_ok(), "{name}");
        assert!(
            matches!(error(&path, None, bytes - 1), DataError::TooLarge { .. }),
            "{name}"
        );
    }
    assert_eq!(
        message(&fixture("stored.npz"), Some("c"), 40),
        "FILE: member `c`: shape (2, 3) of f64 takes 48 bytes, more than the memory limit of 40 bytes"
    );
}

#[test]
fn a_member_claiming_gigabytes_is_refused_before_anything_is_allocated() {
    let scratch = Scratch::new("claimed-gigabytes");
    let head = npy(1, &dict("<f8", "(268435456,)"), 0);
    let path = scratch.write("big.npz", &npz_with_corrupt_tail("x.npy", &head, u32::MAX));
    assert_eq!(
        message(&path, Some("x"), 1 << 30),
        "FILE: member `x`: shape (268435456,) of f64 takes 2147483648 bytes, more than the memory limit of 1073741824 bytes"
    );
}

#[test]
fn only_the_declared_data_is_decompressed() {
    // After its 32 bytes of data the member goes on with 256 KiB of zeros,
    // then bytes no inflater accepts, under a wrong checksum and a claimed
    // size of 4 GiB: reading past the data would fail.
    let scratch = Scratch::new("bounded-read");
    let mut head = npy(1, &dict("<f8", "(4,)"), 0);
    for value in [1.0f64, -2.0, 0.5, 8.0] {
        head.extend(value.to_le_bytes());
    }
    let path = scratch.write("bomb.npz", &npz_with_corrupt_tail("x.npy", &head, u32::MAX));
    assert_eq!(read(&path, Some("x")), f64s(&[4], &[1.0, -2.0, 0.5, 8.0]));
}

/// `archive` with the uncompressed size of its only member replaced by
/// `claimed`, in its local header and in the central directory.
fn with_claimed_size(mut archive: Vec<u8>, claimed: u32) -> Vec<u8> {
    let directory = archive
        .windows(4)
        .position(|window| window == b"PK\x01\x02")
        .unwrap();
    archive[22..26].copy_from_slice(&claimed.to_le_bytes());
    archive[directory + 24..directory + 28].copy_from_slice(&claimed.to_le_bytes());
    archive
}

#[test]
fn a_member_that_decompresses_to_less_than_its_size_is_short() {
    let scratch = Scratch::new("short-member");
    let member = npy(1, &dict("<f8", "(1000,)"), 800);
    let archive = npz(&[("x.npy", &member)], CompressionMethod::Deflated);
    let claimed = u32::try_from(128 + 8000).unwrap();
    let path = scratch.write("short.npz", &with_claimed_size(archive, claimed));
    assert_eq!(
        message(&path, Some("x"), NO_LIMIT),
        "FILE: member `x` declares shape (1000,) but holds 800 bytes of data, expected 8000"
    );
    assert!(matches!(
        error(&path, Some("x"), NO_LIMIT),
        DataError::Header(HeaderError::DataTooShort {
            found: 800,
            expected: 8000,
            ..
        })
    ));
}

#[test]
fn a_member_failing_its_checksum_is_refused() {
    let scratch = Scratch::new("checksum");
    let member = npy(1, &dict("<f4", "(4,)"), 16);
    let mut archive = npz(&[("x.npy", &member)], CompressionMethod::Stored);
    // The stored member starts after the 30-byte local header and its name.
    let last_data_byte = 30 + "x.npy".len() + member.len() - 1;
    archive[last_data_byte] ^= 0x40;
    let path = scratch.write("crc.npz", &archive);
    assert_eq!(
        message(&path, Some("x"), NO_LIMIT),
        "FILE: member `x`: cannot be read: Invalid checksum"
    );
}

#[test]
fn truncated_files_and_out_of_bounds_offsets_are_refused() {
    let scratch = Scratch::new("truncated");
    let path = scratch.write("t.npy", &npy(1, &dict("<f4", "(3, 4)"), 40));
    assert_eq!(
        message(&path, None, NO_LIMIT),
        "FILE: header declares shape (3, 4) but the file holds 40 bytes of data, expected 48"
    );
    let json = r#"{"w": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}"#;
    let path = scratch.write("t.safetensors", &safetensors(json, 16));
    assert_eq!(
        message(&path, Some("w"), NO_LIMIT),
        "FILE: tensor `w`: its data_offsets [8, 24] reach past the end of the file (the data section holds 16 bytes)"
    );
    assert!(matches!(
        error(&path, Some("w"), NO_LIMIT),
        DataError::Header(HeaderError::Malformed { .. })
    ));
}

#[test]
fn header_errors_pass_through() {
    assert_eq!(
        message(&fixture("stored.npz"), Some("z"), NO_LIMIT),
        "FILE has no member `z`; members: a, b, c, d, e"
    );
    assert_eq!(
        message(&fixture("load_f32.npy"), Some("a"), NO_LIMIT),
        "FILE: a .npy file holds a single array and takes no key (given `a`): load(path)"
    );
}

#[test]
fn empty_arrays_too_large_to_index_are_refused() {
    let scratch = Scratch::new("unindexable");
    let path = scratch.write(
        "e.npy",
        &npy(1, &dict("<f4", "(0, 9223372036854775808)"), 0),
    );
    assert_eq!(
        message(&path, None, NO_LIMIT),
        "FILE: shape (0, 9223372036854775808) is too large to index on this machine"
    );
}
