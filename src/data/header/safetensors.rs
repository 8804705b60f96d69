//! A `.safetensors` file: an 8-byte little-endian header length N, N bytes
//! of JSON mapping each tensor's name to its `dtype`, `shape` and
//! `data_offsets` (a byte range counted from the end of the header), and
//! an optional `__metadata__` entry, then the data. The data is always
//! little-endian and row-major.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::error::Category;
use serde_json::value::RawValue;

use super::error::shape_text;
use super::{
    data_len, open_regular, quoted, HeaderError, Item, ItemKind, StoredDtype, TensorHeader,
};

const LENGTH_FIELD: u64 = 8;

/// The reference implementation refuses longer headers too.
const MAX_HEADER_LEN: u64 = 100_000_000;

/// The header entry that describes the file rather than a tensor.
const METADATA_KEY: &str = "__metadata__";

/// JSON objects are split into raw values and only the entry asked for is
/// parsed further, so a header costs little more memory than its own bytes.
type Object<'a> = BTreeMap<String, &'a RawValue>;

struct Header {
    opened: File,
    /// Where the data section starts in the file.
    data_start: u64,
    /// How many bytes the file holds after the header.
    data_section: u64,
    json: Vec<u8>,
}

/// Reads the header entry of tensor `key` and checks it: its dtype, that its
/// `data_offsets` span exactly what its shape and dtype take, and that the
/// file reaches the end of that span. Other tensors' entries are not
/// checked, so a file whose other tensors tsr cannot load still loads.
/// Hands the entry to `read` with the file at the tensor's first byte.
pub(super) fn read_tensor<T, E: From<HeaderError>>(
    path: &Path,
    file: String,
    key: &str,
    read: impl FnOnce(TensorHeader, &mut dyn Read) -> Result<T, E>,
) -> Result<T, E> {
    let mut header = read_header(path, &file)?;
    let tensor = find_tensor(&header, file.clone(), key)?;
    header
        .opened
        .seek(SeekFrom::Start(tensor.data_offset))
        .map_err(|source| HeaderError::Io { file, source })?;
    read(tensor, &mut header.opened)
}

fn find_tensor(header: &Header, file: String, key: &str) -> Result<TensorHeader, HeaderError> {
    let entries = header.entries(&file)?;
    let entry = match entries.get(key) {
        Some(entry) if key != METADATA_KEY => entry,
        _ => {
            return Err(HeaderError::NoSuchKey {
                file,
                kind: ItemKind::Tensor,
                key: key.to_string(),
                available: names(&entries),
            })
        }
    };
    let item = Item {
        kind: ItemKind::Tensor,
        name: key.to_string(),
    };
    let malformed = |reason: &str| HeaderError::Malformed {
        file: file.clone(),
        item: Some(item.clone()),
        reason: reason.to_string(),
    };
    let fields: Object = serde_json::from_str(entry.get())
        .map_err(|_| malformed("its header entry is not a JSON object"))?;
    let field = |name| {
        fields
            .get(name)
            .map(|value| value.get())
            .unwrap_or_default()
    };
    let dtype: String = serde_json::from_str(field("dtype"))
        .map_err(|_| malformed("its header entry has no string `dtype`"))?;
    let shape: Vec<u64> = serde_json::from_str(field("shape"))
        .map_err(|_| malformed("its `shape` is not a list of non-negative integers"))?;
    let [start, end]: [u64; 2] = serde_json::from_str(field("data_offsets"))
        .map_err(|_| malformed("its `data_offsets` is not a pair of non-negative integers"))?;
    let Some(stored) = element_type(&dtype) else {
        return Err(HeaderError::UnsupportedDtype {
            file,
            item: Some(item),
            stored: quoted(&dtype),
        });
    };
    let expected = data_len(&shape, stored.size()).ok_or_else(|| {
        malformed(&format!(
            "shape {} of {dtype} takes more than 2^64 bytes",
            shape_text(&shape)
        ))
    })?;
    let held = end.checked_sub(start).ok_or_else(|| {
        malformed(&format!(
            "its data_offsets [{start}, {end}] end before they begin"
        ))
    })?;
    if held != expected {
        return Err(malformed(&format!(
            "shape {} of {dtype} takes {expected} bytes, but its data_offsets [{start}, {end}] hold {held}",
            shape_text(&shape)
        )));
    }
    if end > header.data_section {
        return Err(malformed(&format!(
            "its data_offsets [{start}, {end}] reach past the end of the file (the data section holds {} bytes)",
            header.data_section
        )));
    }
    Ok(TensorHeader {
        elem: stored.elem(),
        dtype: stored,
        stored: dtype,
        shape,
        fortran_order: false,
        big_endian: false,
        // Cannot overflow: start <= end <= data_section, and data_start +
        // data_section is the file's length.
        data_offset: header.data_start + start,
    })
}

/// The file's tensor names, sorted.
pub(super) fn tensor_names(path: &Path, file: String) -> Result<Vec<String>, HeaderError> {
    let header = read_header(path, &file)?;
    let entries = header.entries(&file)?;
    Ok(names(&entries))
}

fn names(entries: &Object) -> Vec<String> {
    entries
        .keys()
        .filter(|name| *name != METADATA_KEY)
        .cloned()
        .collect()
}

fn read_header(path: &Path, file: &str) -> Result<Header, HeaderError> {
    let (mut opened, file_len) = open_regular(path, file)?;
    let malformed = |reason: String| HeaderError::Malformed {
        file: file.to_string(),
        item: None,
        reason,
    };
    let io_error = |source| HeaderError::Io {
        file: file.to_string(),
        source,
    };
    if file_len < LENGTH_FIELD {
        return Err(malformed(format!(
            "not a .safetensors file: it is {file_len} bytes long, too short for the 8-byte header length"
        )));
    }
    let mut length = [0; 8];
    opened.read_exact(&mut length).map_err(io_error)?;
    let header_len = u64::from_le_bytes(length);
    if header_len > MAX_HEADER_LEN {
        return Err(malformed(format!(
            "header length {header_len} exceeds the limit of {MAX_HEADER_LEN} bytes"
        )));
    }
    let data_start = LENGTH_FIELD + header_len;
    let truncated = || {
        malformed(format!(
            "truncated header: it is {header_len} bytes long but only {} follow",
            file_len - LENGTH_FIELD
        ))
    };
    let data_section = file_len.checked_sub(data_start).ok_or_else(truncated)?;
    let mut json = Vec::new();
    (&mut opened)
        .take(header_len)
        .read_to_end(&mut json)
        .map_err(io_error)?;
    if (json.len() as u64) < header_len {
        return Err(truncated());
    }
    Ok(Header {
        opened,
        data_start,
        data_section,
        json,
    })
}

impl Header {
    fn entries(&self, file: &str) -> Result<Object<'_>, HeaderError> {
        serde_json::from_slice(&self.json).map_err(|error| HeaderError::Malformed {
            file: file.to_string(),
            item: None,
            reason: match error.classify() {
                Category::Data => "header is not a JSON object".to_string(),
                _ => format!("header is not valid JSON: {error}"),
            },
        })
    }
}

/// The stored element type a safetensors dtype names.
fn element_type(dtype: &str) -> Option<StoredDtype> {
    Some(match dtype {
        "BOOL" => StoredDtype::Bool,
        "U8" => StoredDtype::U8,
        "I8" => StoredDtype::I8,
        "U16" => StoredDtype::U16,
        "I16" => StoredDtype::I16,
        "U32" => StoredDtype::U32,
        "I32" => StoredDtype::I32,
        "U64" => StoredDtype::U64,
        "I64" => StoredDtype::I64,
        "F16" => StoredDtype::F16,
        "BF16" => StoredDtype::BF16,
        "F32" => StoredDtype::F32,
        "F64" => StoredDtype::F64,
        _ => return None,
    })
}
