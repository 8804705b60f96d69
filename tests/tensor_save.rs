//! Writing tensor data: the files must be what NumPy's `np.save` writes
//! (the fixtures in tests/data/tensor_io named `save_*`) and read back.

// Shared with tests/headers.rs, which uses the rest of it.
#[allow(dead_code)]
mod header_files;
mod tensor_files;

use std::fs;
use std::io::Read;

use header_files::Scratch;
use ndarray::{ArrayD, IxDyn, ShapeBuilder};
use tensor_files::{array, fixture, read};
use tsr::data::header::{list_keys, ElemType};
use tsr::data::tensor::{write_npy, write_npz, DataError, TensorData, TensorView};
use zip::{CompressionMethod, ZipArchive};

const SHAPES: [(&str, &[usize]); 5] = [
    ("scalar", &[]),
    ("0", &[0]),
    ("3", &[3]),
    ("2x3", &[2, 3]),
    ("2x3x4", &[2, 3, 4]),
];

const ELEMS: [(&str, ElemType); 4] = [
    ("f32", ElemType::F32),
    ("f64", ElemType::F64),
    ("i64", ElemType::I64),
    ("bool", ElemType::Bool),
];

/// 0, 1, 2... in row-major order; for bool, true where that is a multiple
/// of 3 (as make_fixtures.py builds them).
fn counting(elem: ElemType, shape: &[usize]) -> TensorData {
    let count: usize = shape.iter().product();
    match elem {
        ElemType::F32 => TensorData::F32(array(shape, (0..count).map(|n| n as f32).collect())),
        ElemType::F64 => TensorData::F64(array(shape, (0..count).map(|n| n as f64).collect())),
        ElemType::I64 => TensorData::I64(array(shape, (0..count).map(|n| n as i64).collect())),
        ElemType::Bool => TensorData::Bool(array(shape, (0..count).map(|n| n % 3 == 0).collect())),
    }
}

#[test]
fn npy_round_trips_every_dtype_and_shape() {
    let scratch = Scratch::new("npy-round-trip");
    for (elem_name, elem) in ELEMS {
        for (shape_name, shape) in SHAPES {
            let data = counting(elem, shape);
            let path = scratch.path(&format!("{elem_name}_{shape_name}.npy"));
            write_npy(&path, data.view()).unwrap();
            assert_eq!(read(&path, None), data, "{elem_name} {shape_name}");
        }
    }
}

#[test]
fn npz_round_trips_every_dtype_and_shape() {
    let scratch = Scratch::new("npz-round-trip");
    let mut keys = Vec::new();
    let mut arrays = Vec::new();
    for (elem_name, elem) in ELEMS {
        for (shape_name, shape) in SHAPES {
            keys.push(format!("{elem_name}_{shape_name}"));
            arrays.push(counting(elem, shape));
        }
    }
    let entries: Vec<(&str, TensorView)> = keys
        .iter()
        .zip(&arrays)
        .map(|(key, data)| (key.as_str(), data.view()))
        .collect();
    let path = scratch.path("all.npz");
    write_npz(&path, &entries).unwrap();
    assert_eq!(list_keys(&path).unwrap(), keys);
    for (key, data) in keys.iter().zip(&arrays) {
        assert_eq!(&read(&path, Some(key)), data, "{key}");
    }
}

fn written_npy(scratch: &Scratch, view: TensorView) -> Vec<u8> {
    let path = scratch.path("written.npy");
    write_npy(&path, view).unwrap();
    fs::read(path).unwrap()
}

#[test]
fn npy_files_are_byte_for_byte_what_numpy_writes() {
    let scratch = Scratch::new("like-numpy");
    for (elem_name, elem) in ELEMS {
        for (shape_name, shape) in SHAPES {
            let name = format!("save_{elem_name}_{shape_name}.npy");
            let written = written_npy(&scratch, counting(elem, shape).view());
            assert_eq!(written, fs::read(fixture(&name)).unwrap(), "{name}");
        }
    }
    let wide = ArrayD::<bool>::from_shape_vec(IxDyn(&[12_345_678_901, 0]), vec![]).unwrap();
    let aligned = counting(ElemType::F32, &[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 100]);
    let cases = [
        ("save_wide_bool.npy", TensorData::Bool(wide)),
        ("save_aligned_f32.npy", aligned),
    ];
    for (name, data) in cases {
        assert_eq!(
            written_npy(&scratch, data.view()),
            fs::read(fixture(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn views_of_any_layout_are_written_in_row_major_order() {
    let scratch = Scratch::new("views");
    let matrix = array(&[2, 3], (0..6).map(|n| n as f32).collect());
    let transposed = TensorView::F32(matrix.t().into_dyn());
    let row = array(&[3], vec![0i64, 1, 2]);
    let broadcast = TensorView::I64(row.broadcast(IxDyn(&[2, 3])).unwrap());
    let column_major =
        ArrayD::from_shape_vec(IxDyn(&[3, 2]).f(), (0..6).map(|n| n as f32).collect()).unwrap();
    let counting_f64 = array(&[10], (0..10).map(f64::from).collect());
    let stepped = TensorView::F64(counting_f64.slice(ndarray::s![..;3]).into_dyn());
    let cases = [
        ("save_transposed_f32.npy", transposed),
        (
            "save_transposed_f32.npy",
            TensorView::F32(column_major.view()),
        ),
        ("save_broadcast_i64.npy", broadcast),
        ("save_stepped_f64.npy", stepped),
    ];
    for (name, view) in cases {
        assert_eq!(
            written_npy(&scratch, view),
            fs::read(fixture(name)).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn headers_too_long_for_format_1_use_format_2() {
    let scratch = Scratch::new("format-2");
    let shape = vec![1; 30_000];
    let data = TensorData::I64(array(&shape, vec![42]));
    let bytes = written_npy(&scratch, data.view());
    assert_eq!(&bytes[..8], b"\x93NUMPY\x02\x00");
    let header_len = u32::from_le_bytes(bytes[8..12].try_into().unwrap()) as usize;
    assert!(header_len > usize::from(u16::MAX));
    assert_eq!((12 + header_len) % 64, 0);
    assert_eq!(bytes[12 + header_len - 1], b'\n');
    assert_eq!(bytes.len(), 12 + header_len + 8);
    assert_eq!(read(&scratch.path("written.npy"), None), data);
}

#[test]
fn npz_members_are_stored_npy_files_in_the_given_order() {
    let scratch = Scratch::new("npz-layout");
    let weights = counting(ElemType::F32, &[2, 3]);
    let mask = counting(ElemType::Bool, &[4]);
    let path = scratch.path("m.npz");
    write_npz(&path, &[("w", weights.view()), ("mask", mask.view())]).unwrap();
    let mut archive = ZipArchive::new(fs::File::open(&path).unwrap()).unwrap();
    let names: Vec<&str> = archive.file_names().collect();
    assert_eq!(names, ["w.npy", "mask.npy"]);
    for (index, data) in [weights, mask].iter().enumerate() {
        let mut member = archive.by_index(index).unwrap();
        assert_eq!(member.compression(), CompressionMethod::Stored);
        let mut contents = Vec::new();
        member.read_to_end(&mut contents).unwrap();
        assert_eq!(contents, written_npy(&scratch, data.view()));
    }
}

#[test]
fn writes_replace_existing_files_whole() {
    let scratch = Scratch::new("replace");
    let path = scratch.write("x.npy", &[b'x'; 1000]);
    let data = counting(ElemType::I64, &[3]);
    write_npy(&path, data.view()).unwrap();
    assert_eq!(read(&path, None), data);
    let left: Vec<_> = fs::read_dir(scratch.path("")).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file is left behind");
}

#[test]
fn failed_writes_name_the_file_and_leave_nothing_behind() {
    let scratch = Scratch::new("failed-write");
    let data = counting(ElemType::F32, &[2]);
    let missing = scratch.path("no/such/folder/x.npy");
    let message = write_npy(&missing, data.view()).unwrap_err().to_string();
    assert_eq!(
        message.replace(&missing.display().to_string(), "FILE"),
        "cannot write `FILE`: No such file or directory"
    );

    // The rename over a folder fails after the data is written.
    let folder = scratch.path("taken.npz");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("inside"), b"kept").unwrap();
    let error = write_npz(&folder, &[("a", data.view())]).unwrap_err();
    assert!(matches!(error, DataError::Write { .. }), "{error}");
    assert_eq!(fs::read(folder.join("inside")).unwrap(), b"kept");
    let left: Vec<_> = fs::read_dir(scratch.path(""))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(left, ["taken.npz"]);
}

#[test]
fn npz_keys_must_differ() {
    let scratch = Scratch::new("duplicate-keys");
    let data = counting(ElemType::F64, &[2]);
    let path = scratch.path("d.npz");
    let error = write_npz(
        &path,
        &[("a", data.view()), ("b", data.view()), ("a", data.view())],
    );
    let message = error.unwrap_err().to_string();
    assert_eq!(
        message.replace(&path.display().to_string(), "FILE"),
        "cannot write `FILE`: key `a` is given twice"
    );
    assert!(!path.exists());
}
