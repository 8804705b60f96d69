//! The `.npy` header (NumPy's NEP 1, `numpy.lib.format`): the magic
//! `\x93NUMPY`, a format version, a little-endian header length (2 bytes in
//! version 1.0, 4 in 2.0 and 3.0), then a Python dict literal with `descr`,
//! `fortran_order` and `shape`, padded with spaces and ended by a newline.

use std::io::{self, Read};
use std::path::Path;

use super::error::shape_text;
use super::pydict::{self, Encoding, Entry, Value};
use super::{data_len, open_regular, quoted, HeaderError, Item, StoredDtype, TensorHeader};

pub(in crate::data) const MAGIC: &[u8] = b"\x93NUMPY";

/// The magic and the two version bytes.
const PREAMBLE_LEN: u64 = 8;

/// NumPy itself refuses headers over 10 000 bytes unless told to trust the
/// file, and a header for a dtype tsr loads stays under 2 KB even at 64
/// axes; this limit is generous and still keeps a lying length from making
/// us read much.
const MAX_HEADER_LEN: u64 = 1 << 20;

/// A `.npy` header, before the bytes after it are checked against the data
/// it declares.
pub(super) struct Parsed {
    pub header: TensorHeader,
    /// How many bytes the data takes.
    pub data_len: u64,
}

/// What is wrong with a `.npy` stream, before the caller says where it was.
pub(super) enum Problem {
    Io(io::Error),
    Malformed(String),
    Unsupported(String),
}

impl Problem {
    pub(super) fn into_error(self, file: String, item: Option<Item>) -> HeaderError {
        match self {
            Problem::Io(source) => HeaderError::Io { file, source },
            Problem::Malformed(reason) => HeaderError::Malformed { file, item, reason },
            Problem::Unsupported(stored) => HeaderError::UnsupportedDtype { file, item, stored },
        }
    }
}

fn malformed(reason: impl Into<String>) -> Problem {
    Problem::Malformed(reason.into())
}

/// Reads the header of a `.npy` file, checks the file holds its data, and
/// hands both to `read`.
pub(super) fn read_file<T, E: From<HeaderError>>(
    path: &Path,
    file: String,
    read: impl FnOnce(TensorHeader, &mut dyn Read) -> Result<T, E>,
) -> Result<T, E> {
    let (mut opened, len) = open_regular(path, &file)?;
    let header = match parse(&mut opened, len) {
        Ok(parsed) => check_room(parsed, len, file, None)?,
        Err(problem) => return Err(problem.into_error(file, None).into()),
    };
    read(header, &mut opened)
}

/// Checks that a stream of `len` bytes holds the data its header declares.
/// Bytes after the data are allowed, as NumPy allows them.
pub(super) fn check_room(
    parsed: Parsed,
    len: u64,
    file: String,
    item: Option<Item>,
) -> Result<TensorHeader, HeaderError> {
    let found = len.saturating_sub(parsed.header.data_offset);
    if found < parsed.data_len {
        return Err(HeaderError::DataTooShort {
            file,
            item,
            shape: parsed.header.shape,
            found,
            expected: parsed.data_len,
        });
    }
    Ok(parsed.header)
}

/// Reads a `.npy` header from the start of `reader`, a stream of `len`
/// bytes, reading no further than the header's end.
pub(super) fn parse(reader: &mut impl Read, len: u64) -> Result<Parsed, Problem> {
    let preamble = read_up_to(reader, PREAMBLE_LEN)?;
    if !preamble.starts_with(MAGIC) {
        return Err(malformed(if preamble.is_empty() {
            "not a .npy file (it is empty)"
        } else {
            "not a .npy file (bad magic)"
        }));
    }
    let Some(&[major, minor]) = preamble.get(MAGIC.len()..) else {
        return Err(malformed(
            "truncated header: the file ends inside the format version",
        ));
    };
    let (length_size, encoding) = match (major, minor) {
        (1, 0) => (2, Encoding::Latin1),
        (2, 0) => (4, Encoding::Latin1),
        (3, 0) => (4, Encoding::Utf8),
        _ => {
            return Err(malformed(format!(
                "unsupported .npy format version {major}.{minor} (tsr reads 1.0, 2.0 and 3.0)"
            )))
        }
    };
    let header_len = match (length_size, read_up_to(reader, length_size)?.as_slice()) {
        (2, &[low, high]) => u64::from(u16::from_le_bytes([low, high])),
        (4, &[b0, b1, b2, b3]) => u64::from(u32::from_le_bytes([b0, b1, b2, b3])),
        _ => {
            return Err(malformed(
                "truncated header: the file ends inside the header length",
            ))
        }
    };
    if header_len > MAX_HEADER_LEN {
        return Err(malformed(format!(
            "header length {header_len} exceeds the limit of {MAX_HEADER_LEN} bytes"
        )));
    }
    let header_start = PREAMBLE_LEN + length_size;
    let truncated = || {
        malformed(format!(
            "truncated header: it is {header_len} bytes long but only {} follow",
            len.saturating_sub(header_start)
        ))
    };
    let data_offset = header_start + header_len;
    if data_offset > len {
        return Err(truncated());
    }
    let text = read_up_to(reader, header_len)?;
    if (text.len() as u64) < header_len {
        return Err(truncated());
    }
    let entries = pydict::parse_dict(&text, encoding).map_err(Problem::Malformed)?;
    let Fields {
        descr,
        fortran_order,
        shape,
    } = fields(entries)?;
    let (dtype, big_endian) =
        element_type(&descr).ok_or_else(|| Problem::Unsupported(quoted(&descr)))?;
    let data_len = data_len(&shape, dtype.size()).ok_or_else(|| {
        malformed(format!(
            "shape {} of {}-byte elements takes more than 2^64 bytes",
            shape_text(&shape),
            dtype.size()
        ))
    })?;
    Ok(Parsed {
        header: TensorHeader {
            elem: dtype.elem(),
            dtype,
            stored: descr,
            shape,
            fortran_order,
            big_endian,
            data_offset,
        },
        data_len,
    })
}

fn read_up_to(reader: &mut impl Read, limit: u64) -> Result<Vec<u8>, Problem> {
    let mut bytes = Vec::new();
    reader
        .take(limit)
        .read_to_end(&mut bytes)
        .map_err(Problem::Io)?;
    Ok(bytes)
}

struct Fields {
    descr: String,
    fortran_order: bool,
    shape: Vec<u64>,
}

/// The three keys NumPy writes, and no others (NumPy refuses others too).
fn fields(entries: Vec<Entry>) -> Result<Fields, Problem> {
    let (mut descr, mut fortran_order, mut shape) = (None, None, None);
    for entry in entries {
        let slot = match entry.key.as_str() {
            "descr" => &mut descr,
            "fortran_order" => &mut fortran_order,
            "shape" => &mut shape,
            other => {
                return Err(malformed(format!(
                    "malformed header: unexpected key '{other}' (a .npy header has 'descr', 'fortran_order' and 'shape')"
                )))
            }
        };
        if slot.is_some() {
            return Err(malformed(format!(
                "malformed header: key '{}' appears twice",
                entry.key
            )));
        }
        *slot = Some(entry);
    }
    let missing = |key| malformed(format!("malformed header: missing key '{key}'"));
    let descr = descr.ok_or_else(|| missing("descr"))?;
    let fortran_order = fortran_order.ok_or_else(|| missing("fortran_order"))?;
    let shape = shape.ok_or_else(|| missing("shape"))?;

    let descr = match descr.value {
        Value::Str(descr) => descr,
        _ => return Err(Problem::Unsupported(quoted(&descr.text))),
    };
    let fortran_order = match fortran_order.value {
        Value::Bool(fortran_order) => fortran_order,
        _ => {
            return Err(malformed(format!(
                "malformed header: 'fortran_order' must be True or False, not {}",
                quoted(&fortran_order.text)
            )))
        }
    };
    let not_a_shape = || {
        malformed(format!(
            "malformed header: 'shape' must be a tuple of integers, not {}",
            quoted(&shape.text)
        ))
    };
    let Value::Tuple(dims) = &shape.value else {
        return Err(not_a_shape());
    };
    let shape = dims
        .iter()
        .map(|dim| match dim {
            Value::Int(written) => dimension(written),
            _ => Err(not_a_shape()),
        })
        .collect::<Result<Vec<u64>, Problem>>()?;
    Ok(Fields {
        descr,
        fortran_order,
        shape,
    })
}

fn dimension(written: &str) -> Result<u64, Problem> {
    let unsigned = written.strip_prefix('+').unwrap_or(written);
    if let Some(magnitude) = unsigned.strip_prefix('-') {
        if magnitude.bytes().all(|digit| digit == b'0') {
            return Ok(0);
        }
        return Err(malformed(format!(
            "malformed header: negative dimension {written} in 'shape'"
        )));
    }
    unsigned.parse().map_err(|_| {
        malformed(format!(
            "header declares dimension {written}, which does not fit in 64 bits"
        ))
    })
}

/// The stored element type a `descr` names and whether it is big-endian;
/// `None` for types tsr does not load. NumPy writes `descr` as a byte order
/// (`<`, `>`, or `|` where order does not apply) then a kind and a size;
/// `=` and no order at all mean the writer's own.
fn element_type(descr: &str) -> Option<(StoredDtype, bool)> {
    let (order, code) = match descr.chars().next() {
        Some(order @ ('<' | '>' | '|' | '=')) => (Some(order), descr.get(1..)?),
        _ => (None, descr),
    };
    let dtype = match code {
        "b1" | "?" => StoredDtype::Bool,
        "i1" => StoredDtype::I8,
        "u1" => StoredDtype::U8,
        "i2" => StoredDtype::I16,
        "u2" => StoredDtype::U16,
        "i4" => StoredDtype::I32,
        "u4" => StoredDtype::U32,
        "i8" => StoredDtype::I64,
        "u8" => StoredDtype::U64,
        "f2" => StoredDtype::F16,
        "f4" => StoredDtype::F32,
        "f8" => StoredDtype::F64,
        _ => return None,
    };
    let big_endian = dtype.size() > 1
        && match order {
            Some('>') => true,
            Some('<') => false,
            _ => cfg!(target_endian = "big"),
        };
    Some((dtype, big_endian))
}
