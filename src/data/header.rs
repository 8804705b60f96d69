//! The header, and only the header, of a tensor file.
//!
//! The checker types `load("w.npy")` from the file's header, so this module
//! reads the few bytes that say the element type and shape and never the
//! data. Everything in a header is untrusted: lengths are checked against
//! the file before anything is allocated, every size is computed with
//! checked arithmetic, and what the header says the data takes is checked
//! against the file's length (from its metadata, without reading the data).
//! The data layer reads the data through `read_with_data`, which hands it
//! the same checked header with the data's reader.

mod error;
mod npy;
mod npz;
mod pydict;
mod safetensors;

use std::fmt;
use std::fs::{self, File};
use std::io::Read;
use std::path::Path;

pub(in crate::data) use error::{io_message, shape_text};
pub use error::{HeaderError, Item, ItemKind};
pub(in crate::data) use npy::MAGIC as NPY_MAGIC;

/// tsr's element types. Files hold more types than these; `load` widens
/// f16 and bf16 to f32 and every other integer type to i64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ElemType {
    Bool,
    I64,
    F32,
    F64,
}

impl fmt::Display for ElemType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ElemType::Bool => "bool",
            ElemType::I64 => "i64",
            ElemType::F32 => "f32",
            ElemType::F64 => "f64",
        })
    }
}

/// The element types tensor files store that `load` reads, before widening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoredDtype {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F16,
    BF16,
    F32,
    F64,
}

impl StoredDtype {
    /// How many bytes one element takes in the file.
    pub fn size(self) -> u64 {
        match self {
            StoredDtype::Bool | StoredDtype::I8 | StoredDtype::U8 => 1,
            StoredDtype::I16 | StoredDtype::U16 | StoredDtype::F16 | StoredDtype::BF16 => 2,
            StoredDtype::I32 | StoredDtype::U32 | StoredDtype::F32 => 4,
            StoredDtype::I64 | StoredDtype::U64 | StoredDtype::F64 => 8,
        }
    }

    /// The element type `load` widens it to.
    pub fn elem(self) -> ElemType {
        match self {
            StoredDtype::Bool => ElemType::Bool,
            StoredDtype::F16 | StoredDtype::BF16 | StoredDtype::F32 => ElemType::F32,
            StoredDtype::F64 => ElemType::F64,
            StoredDtype::I8
            | StoredDtype::I16
            | StoredDtype::I32
            | StoredDtype::I64
            | StoredDtype::U8
            | StoredDtype::U16
            | StoredDtype::U32
            | StoredDtype::U64 => ElemType::I64,
        }
    }
}

/// What a tensor file's header says about one array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorHeader {
    /// The element type tsr gives the array once loaded (after widening):
    /// always `dtype.elem()`.
    pub elem: ElemType,
    /// The element type as stored.
    pub dtype: StoredDtype,
    /// The file's own name for its element type (`<f2`, `|b1`, `BF16`), for messages.
    pub stored: String,
    pub shape: Vec<u64>,
    /// The data is in column-major order (only `.npy` data can be).
    pub fortran_order: bool,
    /// The elements are stored most significant byte first. Always false
    /// for one-byte elements and for `.safetensors`, which is little-endian.
    pub big_endian: bool,
    /// Where the data starts: for `.npy`, in the file; for a `.npz` member,
    /// in the member's uncompressed bytes; for `.safetensors`, in the file
    /// (the tensor's own offset, not the start of the data section).
    pub data_offset: u64,
}

/// The file formats `load` reads, told apart by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Npy,
    Npz,
    Safetensors,
}

impl FileFormat {
    /// The format a path's extension names, ignoring case.
    pub fn of(path: &Path) -> Option<FileFormat> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "npy" => Some(FileFormat::Npy),
            "npz" => Some(FileFormat::Npz),
            "safetensors" => Some(FileFormat::Safetensors),
            _ => None,
        }
    }

    /// The extension, with its dot.
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Npy => ".npy",
            FileFormat::Npz => ".npz",
            FileFormat::Safetensors => ".safetensors",
        }
    }

    /// What a key names in this format, for the formats that take one.
    pub fn item_kind(self) -> Option<ItemKind> {
        match self {
            FileFormat::Npy => None,
            FileFormat::Npz => Some(ItemKind::Member),
            FileFormat::Safetensors => Some(ItemKind::Tensor),
        }
    }
}

/// Reads the header of the array `load(path)` or `load(path, key)` would
/// load. A `.npz` or `.safetensors` file needs the key (a member or tensor
/// name); a `.npy` file holds one array and takes none.
pub fn read_header(path: &Path, key: Option<&str>) -> Result<TensorHeader, HeaderError> {
    read_with_data(path, key, |header, _| Ok(header))
}

/// Reads and checks the header as `read_header` does, then hands it to
/// `read` with a reader at the first byte of the array's data. The reader
/// may go on past the data (into other tensors, or to the end of a member);
/// reading only the bytes the header declares is `read`'s business.
pub(in crate::data) fn read_with_data<T, E: From<HeaderError>>(
    path: &Path,
    key: Option<&str>,
    read: impl FnOnce(TensorHeader, &mut dyn Read) -> Result<T, E>,
) -> Result<T, E> {
    let file = path.display().to_string();
    let format =
        FileFormat::of(path).ok_or_else(|| HeaderError::UnknownFormat { file: file.clone() })?;
    match (format, key) {
        (FileFormat::Npy, None) => npy::read_file(path, file, read),
        (FileFormat::Npy, Some(key)) => Err(HeaderError::UnexpectedKey {
            file,
            key: key.to_string(),
        }
        .into()),
        (FileFormat::Npz, Some(key)) => npz::read_member(path, file, key, read),
        (FileFormat::Safetensors, Some(key)) => safetensors::read_tensor(path, file, key, read),
        (FileFormat::Npz | FileFormat::Safetensors, None) => {
            Err(HeaderError::MissingKey { file, format }.into())
        }
    }
}

/// The keys `load(path, key)` accepts: a `.npz` file's members (without
/// `.npy`, in archive order) or a `.safetensors` file's tensor names (sorted).
/// A `.npy` file has none, and is not opened.
pub fn list_keys(path: &Path) -> Result<Vec<String>, HeaderError> {
    let file = path.display().to_string();
    match FileFormat::of(path) {
        Some(FileFormat::Npy) => Ok(Vec::new()),
        Some(FileFormat::Npz) => npz::member_keys(path, file),
        Some(FileFormat::Safetensors) => safetensors::tensor_names(path, file),
        None => Err(HeaderError::UnknownFormat { file }),
    }
}

/// Opens a regular file and returns it with its length. Anything else is
/// refused before it is opened: opening a FIFO blocks until a writer comes,
/// and a device's length says nothing about what reading it yields.
fn open_regular(path: &Path, file: &str) -> Result<(File, u64), HeaderError> {
    let io_error = |source| HeaderError::Io {
        file: file.to_string(),
        source,
    };
    let kind = fs::metadata(path).map_err(io_error)?.file_type();
    if !kind.is_file() {
        return Err(HeaderError::NotAFile {
            file: file.to_string(),
            is_dir: kind.is_dir(),
        });
    }
    let opened = File::open(path).map_err(io_error)?;
    let len = opened.metadata().map_err(io_error)?.len();
    Ok((opened, len))
}

/// The number of bytes `shape` takes at `item_size` bytes an element, or
/// `None` when it does not fit in 64 bits. An empty array takes none,
/// however large its other axes.
fn data_len(shape: &[u64], item_size: u64) -> Option<u64> {
    if shape.contains(&0) {
        return Some(0);
    }
    shape
        .iter()
        .try_fold(item_size, |total, &dim| total.checked_mul(dim))
}

/// How much of a header's text a message quotes.
const QUOTED_CHARS: usize = 60;

/// Header text for a message, cut short: a header may be megabytes long.
fn quoted(text: &str) -> String {
    let mut chars = text.chars();
    let mut shown: String = chars.by_ref().take(QUOTED_CHARS).collect();
    if chars.next().is_some() {
        shown.push_str("...");
    }
    shown
}
