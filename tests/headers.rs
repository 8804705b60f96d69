//! Header reading for `load`: the fixtures in tests/data/headers were written
//! by NumPy (see make_fixtures.py there); the malformed files are built here.

mod header_files;

use std::fs;
use std::path::Path;

use header_files::{
    dict, error, fixture, header, message, npy, npy_message, npy_raw, npz, npz_with_corrupt_tail,
    safetensors, safetensors_message, Scratch,
};
use tsr::data::header::{
    list_keys, ElemType, FileFormat, HeaderError, Item, ItemKind, StoredDtype, TensorHeader,
};
use zip::CompressionMethod;

// ---- .npy written by NumPy ----

#[test]
fn npy_reads_every_dtype_and_widens() {
    let cases = [
        ("bool", ElemType::Bool, StoredDtype::Bool, "|b1", 1),
        ("int8", ElemType::I64, StoredDtype::I8, "|i1", 1),
        ("int16", ElemType::I64, StoredDtype::I16, "<i2", 2),
        ("int32", ElemType::I64, StoredDtype::I32, "<i4", 4),
        ("int64", ElemType::I64, StoredDtype::I64, "<i8", 8),
        ("uint8", ElemType::I64, StoredDtype::U8, "|u1", 1),
        ("uint16", ElemType::I64, StoredDtype::U16, "<u2", 2),
        ("uint32", ElemType::I64, StoredDtype::U32, "<u4", 4),
        ("uint64", ElemType::I64, StoredDtype::U64, "<u8", 8),
        ("float16", ElemType::F32, StoredDtype::F16, "<f2", 2),
        ("float32", ElemType::F32, StoredDtype::F32, "<f4", 4),
        ("float64", ElemType::F64, StoredDtype::F64, "<f8", 8),
    ];
    for (name, elem, dtype, stored, item_size) in cases {
        let path = fixture(&format!("{name}.npy"));
        let header = header(&path, None);
        let file_len = fs::metadata(&path).unwrap().len();
        assert_eq!(dtype.size(), item_size, "{name}");
        assert_eq!(
            header,
            TensorHeader {
                elem,
                dtype,
                stored: stored.to_string(),
                shape: vec![2, 3],
                fortran_order: false,
                big_endian: false,
                data_offset: file_len - 6 * item_size,
            },
            "{name}"
        );
    }
}

#[test]
fn npy_notes_big_endian_data() {
    let double = header(&fixture("big_endian_f8.npy"), None);
    assert_eq!(
        (double.elem, double.stored.as_str()),
        (ElemType::F64, ">f8")
    );
    assert!(double.big_endian);
    let int = header(&fixture("big_endian_i4.npy"), None);
    assert_eq!((int.elem, int.shape), (ElemType::I64, vec![4]));
    assert!(int.big_endian);
}

#[test]
fn npy_reads_fortran_order_scalars_and_empty_arrays() {
    let fortran = header(&fixture("fortran_f4.npy"), None);
    assert!(fortran.fortran_order);
    assert_eq!(fortran.shape, [2, 3, 4]);
    assert_eq!(
        header(&fixture("scalar_f8.npy"), None).shape,
        Vec::<u64>::new()
    );
    let empty = header(&fixture("empty_i8.npy"), None);
    assert_eq!((empty.elem, empty.shape), (ElemType::I64, vec![0, 3]));
}

#[test]
fn npy_reads_format_versions_2_and_3() {
    let v2 = header(&fixture("v2_f4.npy"), None);
    assert_eq!(
        (v2.elem, v2.shape, v2.data_offset),
        (ElemType::F32, vec![5, 2], 128)
    );
    let v3 = header(&fixture("v3_f4.npy"), None);
    assert_eq!(
        (v3.elem, v3.shape, v3.data_offset),
        (ElemType::F32, vec![7], 128)
    );
}

#[test]
fn npy_rejects_types_tsr_cannot_load() {
    let cases = [
        ("complex64", "<c8"),
        ("unicode", "<U2"),
        ("object", "|O"),
        ("datetime", "<M8[ns]"),
        ("structured", "[('a', '<f4'), ('b', '<i8')]"),
    ];
    for (name, stored) in cases {
        let path = fixture(&format!("{name}.npy"));
        assert_eq!(
            message(&path, None),
            format!("FILE: the array has dtype {stored}, which tsr cannot load")
        );
        assert!(matches!(
            error(&path, None),
            HeaderError::UnsupportedDtype { item: None, .. }
        ));
    }
}

// ---- .npy built here ----

#[test]
fn npy_accepts_what_numpy_and_python_accept() {
    let scratch = Scratch::new("npy-accepts");
    let read =
        |dict: &str, data_len| header(&scratch.write("a.npy", &npy(1, dict, data_len)), None);
    assert_eq!(read(&dict("<f4", "(3L, 4L)"), 48).shape, [3, 4]);
    assert_eq!(read(&dict("<f4", "(-0,)"), 0).shape, [0]);
    let double_quotes = "{\"descr\": \"<i8\", \"shape\": (2,), \"fortran_order\": True}";
    let fortran = read(double_quotes, 16);
    assert_eq!((fortran.elem, fortran.fortran_order), (ElemType::I64, true));
    assert_eq!(
        read(&dict("<f4", "(3,)"), 100).shape,
        [3],
        "data after the array is allowed"
    );
    let v2 = header(
        &scratch.write("b.npy", &npy(2, &dict(">u2", "()"), 2)),
        None,
    );
    assert_eq!((v2.elem, v2.big_endian), (ElemType::I64, true));
}

#[test]
fn npy_rejects_a_file_too_short_for_its_data() {
    let scratch = Scratch::new("npy-short");
    let path = scratch.write("w.npy", &npy(1, &dict("<f4", "(3, 4)"), 40));
    assert_eq!(
        message(&path, None),
        "FILE: header declares shape (3, 4) but the file holds 40 bytes of data, expected 48"
    );
    assert!(matches!(
        error(&path, None),
        HeaderError::DataTooShort {
            found: 40,
            expected: 48,
            item: None,
            ..
        }
    ));
}

#[test]
fn npy_rejects_bad_preambles() {
    let scratch = Scratch::new("npy-preamble");
    let message_of = |bytes: &[u8]| message(&scratch.write("w.npy", bytes), None);
    assert_eq!(message_of(b""), "FILE: not a .npy file (it is empty)");
    assert_eq!(
        message_of(b"PK\x03\x04 a zip file"),
        "FILE: not a .npy file (bad magic)"
    );
    assert_eq!(message_of(b"\x93NUM"), "FILE: not a .npy file (bad magic)");
    assert_eq!(
        message_of(b"\x93NUMPY\x01"),
        "FILE: truncated header: the file ends inside the format version"
    );
    assert_eq!(
        message_of(b"\x93NUMPY\x04\x00\x10\x00"),
        "FILE: unsupported .npy format version 4.0 (tsr reads 1.0, 2.0 and 3.0)"
    );
    assert_eq!(
        message_of(b"\x93NUMPY\x02\x00\x10\x00"),
        "FILE: truncated header: the file ends inside the header length"
    );
    assert_eq!(
        message_of(b"\x93NUMPY\x01\x00\xff\xff{'descr': '<f4'"),
        "FILE: truncated header: it is 65535 bytes long but only 15 follow"
    );
    assert_eq!(
        message_of(b"\x93NUMPY\x02\x00\xff\xff\xff\xff{}"),
        "FILE: header length 4294967295 exceeds the limit of 1048576 bytes"
    );
}

#[test]
fn npy_rejects_malformed_dicts() {
    let scratch = Scratch::new("npy-dicts");
    let deep = format!(
        "{{'descr': {}3{}, }}",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let cases = [
        ("'descr': '<f4'".to_string(), "malformed header: expected `{` at byte 0, found `'`"),
        (
            "{'descr': '<f4', 'fortran_order': False}".to_string(),
            "malformed header: missing key 'shape'",
        ),
        (
            "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'x': 1}".to_string(),
            "malformed header: unexpected key 'x' (a .npy header has 'descr', 'fortran_order' and 'shape')",
        ),
        (
            "{'descr': '<f4', 'descr': '<f8'}".to_string(),
            "malformed header: key 'descr' appears twice",
        ),
        (
            "{'descr': '<f4', 'fortran_order': 0, 'shape': ()}".to_string(),
            "malformed header: 'fortran_order' must be True or False, not 0",
        ),
        (dict("<f4", "[3, 4]"), "malformed header: 'shape' must be a tuple of integers, not [3, 4]"),
        (dict("<f4", "(3)"), "malformed header: 'shape' must be a tuple of integers, not (3)"),
        (dict("<f4", "(3, -4)"), "malformed header: negative dimension -4 in 'shape'"),
        (dict("<f4", "(3.5,)"), "malformed header: expected an integer at byte 52, found `.`"),
        (dict("<f4", "(x,)"), "malformed header: `x` is not a literal (expected True, False or None)"),
        (
            dict("<f4", "(18446744073709551616,)"),
            "header declares dimension 18446744073709551616, which does not fit in 64 bits",
        ),
        (
            dict("<f4", "(1099511627776, 1099511627776)"),
            "shape (1099511627776, 1099511627776) of 4-byte elements takes more than 2^64 bytes",
        ),
        ("{'descr: '<f4'}".to_string(), "malformed header: expected `:` at byte 10, found `<`"),
        ("{'descr': '<f4".to_string(), "malformed header: unterminated string"),
        (format!("{} extra", dict("<f4", "()")), "malformed header: expected the end of the header at byte 56, found `e`"),
        (deep, "malformed header: values nested more than 16 deep"),
    ];
    for (text, expected) in cases {
        assert_eq!(
            npy_message(&scratch, &text, 0),
            format!("FILE: {expected}"),
            "{text:.80}"
        );
    }
}

#[test]
fn npy_header_is_latin1_before_version_3_and_utf8_from_it() {
    let scratch = Scratch::new("npy-encoding");
    let rejected = "FILE: the array has dtype \u{e9}, which tsr cannot load";
    let latin1 = b"{'descr': '\xe9', 'fortran_order': False, 'shape': ()}";
    let path = scratch.write("latin1.npy", &npy_raw(1, latin1, 0));
    assert_eq!(message(&path, None), rejected);
    let utf8 = "{'descr': '\u{e9}', 'fortran_order': False, 'shape': ()}";
    let path = scratch.write("utf8.npy", &npy(3, utf8, 0));
    assert_eq!(message(&path, None), rejected);
    let path = scratch.write("invalid.npy", &npy_raw(3, latin1, 0));
    assert_eq!(
        message(&path, None),
        "FILE: malformed header: a string is not valid UTF-8"
    );
}

// ---- paths, extensions and keys ----

#[test]
fn missing_files_and_directories_are_named() {
    let scratch = Scratch::new("paths");
    let missing = scratch.path("x.npy");
    assert_eq!(
        message(&missing, None),
        "cannot read `FILE`: No such file or directory"
    );
    assert!(matches!(error(&missing, None), HeaderError::Io { .. }));
    let folder = scratch.path("folder.npz");
    fs::create_dir(&folder).unwrap();
    assert_eq!(
        message(&folder, Some("x")),
        "cannot read `FILE`: it is a directory"
    );
    assert_eq!(
        list_keys(&folder).unwrap_err().to_string(),
        format!("cannot read `{}`: it is a directory", folder.display())
    );
}

#[cfg(unix)]
#[test]
fn devices_are_refused_unread() {
    let scratch = Scratch::new("devices");
    let endless = scratch.path("zero.npy");
    std::os::unix::fs::symlink("/dev/zero", &endless).unwrap();
    assert_eq!(
        message(&endless, None),
        "cannot read `FILE`: it is not a regular file"
    );
}

#[test]
fn keys_are_required_exactly_where_a_file_holds_several_arrays() {
    let npz_path = fixture("stored.npz");
    assert_eq!(
        message(&npz_path, None),
        "FILE: missing key: a .npz file needs a member name: load(path, key)"
    );
    let st_path = fixture("tensors.safetensors");
    assert_eq!(
        message(&st_path, None),
        "FILE: missing key: a .safetensors file needs a tensor name: load(path, key)"
    );
    assert!(matches!(
        error(&st_path, None),
        HeaderError::MissingKey {
            format: FileFormat::Safetensors,
            ..
        }
    ));
    assert_eq!(
        message(&fixture("float32.npy"), Some("w")),
        "FILE: a .npy file holds a single array and takes no key (given `w`): load(path)"
    );
    assert_eq!(
        list_keys(&fixture("float32.npy")).unwrap(),
        Vec::<String>::new()
    );
}

#[test]
fn extensions_choose_the_format() {
    assert_eq!(FileFormat::of(Path::new("W.NPY")), Some(FileFormat::Npy));
    assert_eq!(FileFormat::of(Path::new("a.b.npz")), Some(FileFormat::Npz));
    assert_eq!(
        FileFormat::of(Path::new("m.SafeTensors")),
        Some(FileFormat::Safetensors)
    );
    assert_eq!(FileFormat::of(Path::new("npy")), None);
    assert_eq!(
        message(Path::new("data.csv"), None),
        "cannot load `FILE`: unknown file type (load reads .npy, .npz and .safetensors files)"
    );
    assert!(matches!(
        list_keys(Path::new("data")),
        Err(HeaderError::UnknownFormat { .. })
    ));
}

// ---- .npz ----

#[test]
fn npz_reads_stored_and_deflated_members() {
    let x = header(&fixture("stored.npz"), Some("x"));
    assert_eq!(
        (x.elem, x.shape.as_slice(), x.data_offset),
        (ElemType::F32, &[3, 4][..], 128)
    );
    let y = header(&fixture("stored.npz"), Some("y.npy"));
    assert_eq!(
        (y.elem, y.stored.as_str(), y.shape),
        (ElemType::Bool, "|b1", vec![2])
    );
    let a = header(&fixture("deflated.npz"), Some("a"));
    assert_eq!((a.elem, a.shape), (ElemType::F64, vec![4, 5]));
    let b = header(&fixture("deflated.npz"), Some("b"));
    assert_eq!(
        (b.elem, b.stored.as_str(), b.shape),
        (ElemType::I64, "<i8", vec![3])
    );
}

#[test]
fn npz_keys_are_npy_members_in_archive_order() {
    assert_eq!(list_keys(&fixture("stored.npz")).unwrap(), ["x", "y"]);
    assert_eq!(list_keys(&fixture("deflated.npz")).unwrap(), ["a", "b"]);
    let scratch = Scratch::new("npz-keys");
    let member = npy(1, &dict("<f4", "()"), 4);
    let archive = npz(
        &[("z.npy", &member), ("notes.txt", b"hi"), ("b.npy", &member)],
        CompressionMethod::Stored,
    );
    assert_eq!(
        list_keys(&scratch.write("a.npz", &archive)).unwrap(),
        ["z", "b"]
    );
}

#[test]
fn npz_names_the_members_it_has() {
    let path = fixture("stored.npz");
    assert_eq!(
        message(&path, Some("k")),
        "FILE has no member `k`; members: x, y"
    );
    match error(&path, Some("k")) {
        HeaderError::NoSuchKey {
            kind, available, ..
        } => {
            assert_eq!(kind, ItemKind::Member);
            assert_eq!(available, ["x", "y"]);
        }
        other => panic!("{other:?}"),
    }
    let scratch = Scratch::new("npz-empty");
    let empty = scratch.write("e.npz", &npz(&[], CompressionMethod::Stored));
    assert_eq!(
        message(&empty, Some("k")),
        "FILE has no member `k`; it has no members"
    );
}

#[test]
fn npz_rejects_damaged_members() {
    let scratch = Scratch::new("npz-damaged");
    for method in [CompressionMethod::Stored, CompressionMethod::Deflated] {
        let short = npy(1, &dict("<f4", "(3, 4)"), 40);
        let bad_magic = b"not an array".to_vec();
        let archive = npz(&[("x.npy", &short), ("y.npy", &bad_magic)], method);
        let path = scratch.write("a.npz", &archive);
        assert_eq!(
            message(&path, Some("x")),
            "FILE: member `x` declares shape (3, 4) but holds 40 bytes of data, expected 48"
        );
        let item = Some(Item {
            kind: ItemKind::Member,
            name: "y".to_string(),
        });
        assert!(
            matches!(error(&path, Some("y")), HeaderError::Malformed { item: found, .. } if found == item)
        );
        assert_eq!(
            message(&path, Some("y")),
            "FILE: member `y`: not a .npy file (bad magic)"
        );
    }
}

#[test]
fn npz_rejects_files_that_are_not_zip_archives() {
    let scratch = Scratch::new("npz-not-zip");
    let path = scratch.write("a.npz", &npy(1, &dict("<f4", "()"), 4));
    let text = message(&path, Some("x"));
    assert!(
        text.starts_with("FILE: not a valid .npz file (a zip archive): "),
        "{text}"
    );
    let archive = npz(
        &[("x.npy", &npy(1, &dict("<f4", "()"), 4))],
        CompressionMethod::Stored,
    );
    let path = scratch.write("b.npz", &archive[..100]);
    let text = list_keys(&path).unwrap_err().to_string();
    let expected = format!(
        "{}: not a valid .npz file (a zip archive): ",
        path.display()
    );
    assert!(text.starts_with(&expected), "{text}");
}

#[test]
fn npz_decompresses_only_the_header() {
    let scratch = Scratch::new("npz-bomb");
    let head = npy(1, &dict("<f4", "(1000000000,)"), 0);
    let claimed = u32::try_from(head.len()).unwrap() + 4_000_000_000;
    let path = scratch.write("bomb.npz", &npz_with_corrupt_tail("x.npy", &head, claimed));
    let header = header(&path, Some("x"));
    assert_eq!(
        (header.shape, header.data_offset),
        (vec![1_000_000_000], 128)
    );
    let short = scratch.write("short.npz", &npz_with_corrupt_tail("x.npy", &head, 4096));
    assert_eq!(
        message(&short, Some("x")),
        "FILE: member `x` declares shape (1000000000,) but holds 3968 bytes of data, expected 4000000000"
    );
}

// ---- .safetensors ----

#[test]
fn safetensors_reads_every_dtype_and_widens() {
    let path = fixture("tensors.safetensors");
    let bytes = fs::read(&path).unwrap();
    let data_start = 8 + u64::from_le_bytes(bytes[..8].try_into().unwrap());
    let cases = [
        ("bool", ElemType::Bool, StoredDtype::Bool, "BOOL", 0),
        ("u8", ElemType::I64, StoredDtype::U8, "U8", 6),
        ("i8", ElemType::I64, StoredDtype::I8, "I8", 12),
        ("i16", ElemType::I64, StoredDtype::I16, "I16", 18),
        ("u16", ElemType::I64, StoredDtype::U16, "U16", 30),
        ("i32", ElemType::I64, StoredDtype::I32, "I32", 42),
        ("u32", ElemType::I64, StoredDtype::U32, "U32", 66),
        ("i64", ElemType::I64, StoredDtype::I64, "I64", 90),
        ("u64", ElemType::I64, StoredDtype::U64, "U64", 138),
        ("f16", ElemType::F32, StoredDtype::F16, "F16", 186),
        ("f32", ElemType::F32, StoredDtype::F32, "F32", 198),
        ("f64", ElemType::F64, StoredDtype::F64, "F64", 222),
    ];
    for (name, elem, dtype, stored, offset) in cases {
        assert_eq!(
            header(&path, Some(name)),
            TensorHeader {
                elem,
                dtype,
                stored: stored.to_string(),
                shape: vec![2, 3],
                fortran_order: false,
                big_endian: false,
                data_offset: data_start + offset,
            },
            "{name}"
        );
    }
    let bf16 = header(&path, Some("bf16"));
    assert_eq!(
        (bf16.elem, bf16.dtype, bf16.stored.as_str(), bf16.shape),
        (ElemType::F32, StoredDtype::BF16, "BF16", vec![4])
    );
    assert_eq!(header(&path, Some("scalar")).shape, Vec::<u64>::new());
}

#[test]
fn safetensors_rejects_types_tsr_cannot_load() {
    let path = fixture("tensors.safetensors");
    assert_eq!(
        message(&path, Some("c64")),
        "FILE: tensor `c64` has dtype C64, which tsr cannot load"
    );
    assert_eq!(
        message(&path, Some("f8")),
        "FILE: tensor `f8` has dtype F8_E4M3, which tsr cannot load"
    );
}

#[test]
fn safetensors_keys_leave_out_the_metadata() {
    let path = fixture("tensors.safetensors");
    let keys = list_keys(&path).unwrap();
    let expected = [
        "bf16", "bool", "c64", "f16", "f32", "f64", "f8", "i16", "i32", "i64", "i8", "scalar",
        "u16", "u32", "u64", "u8",
    ];
    assert_eq!(keys, expected);
    assert_eq!(
        message(&path, Some("__metadata__")),
        format!(
            "FILE has no tensor `__metadata__`; tensors: {}",
            expected.join(", ")
        )
    );
}

#[test]
fn safetensors_lists_at_most_twenty_names() {
    let scratch = Scratch::new("st-many");
    let entries: Vec<String> = (0..25)
        .map(|index| format!("\"t{index:02}\": {{\"dtype\": \"U8\", \"shape\": [], \"data_offsets\": [{index}, {}]}}", index + 1))
        .collect();
    let path = scratch.write(
        "m.safetensors",
        &safetensors(&format!("{{{}}}", entries.join(", ")), 25),
    );
    let names: Vec<String> = (0..20).map(|index| format!("t{index:02}")).collect();
    assert_eq!(
        message(&path, Some("x")),
        format!(
            "FILE has no tensor `x`; tensors: {} and 5 more",
            names.join(", ")
        )
    );
}

#[test]
fn safetensors_rejects_lying_lengths() {
    let scratch = Scratch::new("st-lengths");
    let message_of = |bytes: &[u8]| message(&scratch.write("m.safetensors", bytes), Some("w"));
    assert_eq!(
        message_of(b"\x02\0\0\0"),
        "FILE: not a .safetensors file: it is 4 bytes long, too short for the 8-byte header length"
    );
    let mut huge = (1u64 << 63).to_le_bytes().to_vec();
    huge.extend(b"{}");
    assert_eq!(
        message_of(&huge),
        "FILE: header length 9223372036854775808 exceeds the limit of 100000000 bytes"
    );
    let mut beyond = 1000u64.to_le_bytes().to_vec();
    beyond.extend(b"{}");
    assert_eq!(
        message_of(&beyond),
        "FILE: truncated header: it is 1000 bytes long but only 2 follow"
    );
}

#[test]
fn safetensors_rejects_malformed_headers() {
    let scratch = Scratch::new("st-headers");
    let entry = |dtype: &str, shape: &str, offsets: &str| {
        format!("{{\"w\": {{\"dtype\": \"{dtype}\", \"shape\": {shape}, \"data_offsets\": {offsets}}}}}")
    };
    let cases = [
        ("{\"w\": ".to_string(), 0, "header is not valid JSON: EOF while parsing a value at line 1 column 6"),
        ("[1, 2]".to_string(), 0, "header is not a JSON object"),
        ("{\"w\": 3}".to_string(), 0, "tensor `w`: its header entry is not a JSON object"),
        (
            "{\"w\": {\"shape\": [], \"data_offsets\": [0, 4]}}".to_string(),
            4,
            "tensor `w`: its header entry has no string `dtype`",
        ),
        (entry("F32", "[-2]", "[0, 8]"), 8, "tensor `w`: its `shape` is not a list of non-negative integers"),
        (entry("F32", "[2.5]", "[0, 8]"), 8, "tensor `w`: its `shape` is not a list of non-negative integers"),
        (entry("F32", "[2]", "[0, 4, 8]"), 8, "tensor `w`: its `data_offsets` is not a pair of non-negative integers"),
        (
            entry("F32", "[3, 4]", "[0, 40]"),
            48,
            "tensor `w`: shape (3, 4) of F32 takes 48 bytes, but its data_offsets [0, 40] hold 40",
        ),
        (entry("F32", "[2]", "[8, 0]"), 8, "tensor `w`: its data_offsets [8, 0] end before they begin"),
        (
            entry("F64", "[3]", "[0, 24]"),
            16,
            "tensor `w`: its data_offsets [0, 24] reach past the end of the file (the data section holds 16 bytes)",
        ),
        (
            entry("F32", "[4294967296, 4294967296]", "[0, 0]"),
            0,
            "tensor `w`: shape (4294967296, 4294967296) of F32 takes more than 2^64 bytes",
        ),
    ];
    for (json, data_len, expected) in cases {
        assert_eq!(
            safetensors_message(&scratch, &json, data_len),
            format!("FILE: {expected}"),
            "{json}"
        );
    }
}

#[test]
fn safetensors_checks_only_the_tensor_asked_for() {
    let scratch = Scratch::new("st-others");
    let json = "{\"__metadata__\": {\"format\": \"pt\"}, \"bad\": {\"dtype\": \"C64\", \"shape\": [1], \"data_offsets\": [0, 8]}, \"w\": {\"dtype\": \"F16\", \"shape\": [2, 2], \"data_offsets\": [8, 16]}}   ";
    let path = scratch.write("m.safetensors", &safetensors(json, 16));
    let header = header(&path, Some("w"));
    let data_start = 8 + u64::try_from(json.len()).unwrap();
    assert_eq!(
        (header.elem, header.shape, header.data_offset),
        (ElemType::F32, vec![2, 2], data_start + 8)
    );
}

#[test]
fn elem_types_print_as_tsr_writes_them() {
    let names: Vec<String> = [ElemType::Bool, ElemType::I64, ElemType::F32, ElemType::F64]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(names, ["bool", "i64", "f32", "f64"]);
}
