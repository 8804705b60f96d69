//! Builders for tests/headers.rs: the NumPy-written fixtures, and files laid
//! out by hand (well-formed or not) in a scratch folder.

use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use tsr::data::header::{read_header, HeaderError, TensorHeader};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/headers")
        .join(name)
}

pub fn header(path: &Path, key: Option<&str>) -> TensorHeader {
    read_header(path, key).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

pub fn error(path: &Path, key: Option<&str>) -> HeaderError {
    match read_header(path, key) {
        Ok(header) => panic!("{}: expected an error, read {header:?}", path.display()),
        Err(error) => error,
    }
}

/// The message for `path`, with the path itself written as `FILE`.
pub fn message(path: &Path, key: Option<&str>) -> String {
    error(path, key)
        .to_string()
        .replace(&path.display().to_string(), "FILE")
}

/// A folder of its own under the system's temporary folder, removed on drop.
pub struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    pub fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("tsr-headers-{}-{test}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch { dir }
    }

    /// Where `name` goes in the folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A `.npy` file as NumPy lays it out: `dict` padded so the data starts on
/// a 64-byte boundary, then `data_len` zero bytes.
pub fn npy(version: u8, dict: &str, data_len: usize) -> Vec<u8> {
    npy_raw(version, dict.as_bytes(), data_len)
}

pub fn npy_raw(version: u8, dict: &[u8], data_len: usize) -> Vec<u8> {
    let length_size = if version == 1 { 2 } else { 4 };
    let mut text = dict.to_vec();
    let unpadded = 8 + length_size + text.len() + 1;
    text.resize(text.len() + (64 - unpadded % 64) % 64, b' ');
    text.push(b'\n');
    let mut bytes = b"\x93NUMPY".to_vec();
    bytes.extend([version, 0]);
    if version == 1 {
        bytes.extend(u16::try_from(text.len()).unwrap().to_le_bytes());
    } else {
        bytes.extend(u32::try_from(text.len()).unwrap().to_le_bytes());
    }
    bytes.extend(text);
    bytes.resize(bytes.len() + data_len, 0);
    bytes
}

pub fn dict(descr: &str, shape: &str) -> String {
    format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}")
}

/// The message a `.npy` file with header `dict` and `data_len` bytes of data gives.
pub fn npy_message(scratch: &Scratch, dict: &str, data_len: usize) -> String {
    let path = scratch.write("w.npy", &npy(1, dict, data_len));
    message(&path, None)
}

pub fn safetensors(json: &str, data_len: usize) -> Vec<u8> {
    let mut bytes = u64::try_from(json.len()).unwrap().to_le_bytes().to_vec();
    bytes.extend(json.as_bytes());
    bytes.resize(bytes.len() + data_len, 0);
    bytes
}

/// The message a `.safetensors` file with header `json` and `data_len`
/// bytes of data gives when tensor `w` is loaded.
pub fn safetensors_message(scratch: &Scratch, json: &str, data_len: usize) -> String {
    let path = scratch.write("m.safetensors", &safetensors(json, data_len));
    message(&path, Some("w"))
}

pub fn npz(members: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in members {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A zip archive whose one deflated member, `name`, starts with `head` and
/// 256 KiB of zeros (in stored deflate blocks), then goes on with bytes no
/// inflater accepts, under a wrong CRC and a claimed size of
/// `claimed_size`. Only a reader that stops near the header can read it;
/// the zeros are there because an inflater may run ahead of what is asked
/// of it (miniz_oxide fills its 32 KiB window).
pub fn npz_with_corrupt_tail(name: &str, head: &[u8], claimed_size: u32) -> Vec<u8> {
    let zeros = [0; 65_535];
    let mut stream = Vec::new();
    for block in [head, &zeros, &zeros, &zeros, &zeros] {
        let len = u16::try_from(block.len()).unwrap();
        stream.push(0); // not the last block; stored
        stream.extend(len.to_le_bytes());
        stream.extend((!len).to_le_bytes());
        stream.extend(block);
    }
    stream.extend([0xff; 64]);
    let compressed = u32::try_from(stream.len()).unwrap();
    let name_len = u16::try_from(name.len()).unwrap();
    let common = |bytes: &mut Vec<u8>| {
        bytes.extend(20u16.to_le_bytes()); // version needed
        bytes.extend(0u16.to_le_bytes()); // flags
        bytes.extend(8u16.to_le_bytes()); // deflate
        bytes.extend([0, 0, 0x21, 0]); // 1980-01-01 00:00
        bytes.extend(0xdead_beef_u32.to_le_bytes()); // CRC
        bytes.extend(compressed.to_le_bytes());
        bytes.extend(claimed_size.to_le_bytes());
        bytes.extend(name_len.to_le_bytes());
        bytes.extend(0u16.to_le_bytes()); // extra field length
    };
    let mut bytes = 0x0403_4b50_u32.to_le_bytes().to_vec();
    common(&mut bytes);
    bytes.extend(name.as_bytes());
    bytes.extend(&stream);
    let directory_start = u32::try_from(bytes.len()).unwrap();
    bytes.extend(0x0201_4b50_u32.to_le_bytes());
    bytes.extend(20u16.to_le_bytes()); // version made by
    common(&mut bytes);
    bytes.extend([0; 10]); // comment length, disk, attributes
    bytes.extend(0u32.to_le_bytes()); // local header offset
    bytes.extend(name.as_bytes());
    let directory_len = u32::try_from(bytes.len()).unwrap() - directory_start;
    bytes.extend(0x0605_4b50_u32.to_le_bytes());
    bytes.extend([0, 0, 0, 0, 1, 0, 1, 0]); // disks, entries
    bytes.extend(directory_len.to_le_bytes());
    bytes.extend(directory_start.to_le_bytes());
    bytes.extend(0u16.to_le_bytes()); // comment length
    bytes
}
