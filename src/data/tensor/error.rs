use std::error::Error;
use std::fmt;
use std::io;

use crate::data::header::{io_message, shape_text, ElemType, HeaderError, Item};

/// Why an array could not be read or written. Every variant names the file
/// as the user wrote it (`file`) and, inside a `.npz` or `.safetensors`
/// file, the array (`item`).
#[derive(Debug)]
pub enum DataError {
    /// The file cannot be read, its header is wrong, or its data is not all
    /// there (`HeaderError::DataTooShort`, also when a `.npz` member
    /// decompresses to less than its header declares).
    Header(HeaderError),
    /// The array would take more memory than the limit allows.
    TooLarge {
        file: String,
        item: Option<Item>,
        shape: Vec<u64>,
        elem: ElemType,
        bytes: u128,
        limit: u64,
    },
    /// The shape cannot be indexed on this machine, however few elements it has.
    Unindexable {
        file: String,
        item: Option<Item>,
        shape: Vec<u64>,
    },
    /// The allocator refused the array's memory.
    OutOfMemory {
        file: String,
        item: Option<Item>,
        shape: Vec<u64>,
        bytes: u128,
    },
    /// An unsigned 64-bit element is too large for i64, which `load` reads it as.
    OutOfRange {
        file: String,
        item: Option<Item>,
        value: u64,
    },
    /// Two arrays given to `write_npz` under the same key.
    DuplicateKey { file: String, key: String },
    /// The file could not be written.
    Write { file: String, source: io::Error },
}

impl From<HeaderError> for DataError {
    fn from(error: HeaderError) -> DataError {
        DataError::Header(error)
    }
}

/// The file, and the array in it, that a message is about.
fn located(f: &mut fmt::Formatter<'_>, file: &str, item: &Option<Item>) -> fmt::Result {
    match item {
        Some(item) => write!(f, "{file}: {item}: "),
        None => write!(f, "{file}: "),
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataError::Header(error) => error.fmt(f),
            DataError::TooLarge {
                file,
                item,
                shape,
                elem,
                bytes,
                limit,
            } => {
                located(f, file, item)?;
                write!(
                    f,
                    "shape {} of {elem} takes {bytes} bytes, more than the memory limit of {limit} bytes",
                    shape_text(shape)
                )
            }
            DataError::Unindexable { file, item, shape } => {
                located(f, file, item)?;
                write!(
                    f,
                    "shape {} is too large to index on this machine",
                    shape_text(shape)
                )
            }
            DataError::OutOfMemory {
                file,
                item,
                shape,
                bytes,
            } => {
                located(f, file, item)?;
                write!(
                    f,
                    "cannot allocate {bytes} bytes for shape {}",
                    shape_text(shape)
                )
            }
            DataError::OutOfRange { file, item, value } => {
                located(f, file, item)?;
                write!(
                    f,
                    "holds the u64 value {value}, which does not fit in i64 (load reads unsigned integers as i64)"
                )
            }
            DataError::DuplicateKey { file, key } => {
                write!(f, "cannot write `{file}`: key `{key}` is given twice")
            }
            DataError::Write { file, source } => {
                write!(f, "cannot write `{file}`: {}", io_message(source))
            }
        }
    }
}

impl Error for DataError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            DataError::Header(error) => error.source(),
            DataError::Write { source, .. } => Some(source),
            _ => None,
        }
    }
}
