use std::error::Error;
use std::fmt;
use std::io;

use super::FileFormat;

/// What a key names inside a file that holds several arrays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// A `.npy` member of a `.npz` archive.
    Member,
    /// A tensor of a `.safetensors` file.
    Tensor,
}

impl ItemKind {
    fn noun(self) -> &'static str {
        match self {
            ItemKind::Member => "member",
            ItemKind::Tensor => "tensor",
        }
    }
}

/// One array inside a `.npz` or `.safetensors` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub kind: ItemKind,
    pub name: String,
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind.noun(), self.name)
    }
}

/// Why a header could not be read. Every variant names the file as the
/// user wrote it (`file`) and, inside a `.npz` or `.safetensors` file, the
/// array (`item`).
#[derive(Debug)]
pub enum HeaderError {
    /// The file could not be opened or read.
    Io { file: String, source: io::Error },
    /// The path names a directory, or something else that is not a regular file.
    NotAFile { file: String, is_dir: bool },
    /// The extension is none of `.npy`, `.npz`, `.safetensors`.
    UnknownFormat { file: String },
    /// A `.npz` or `.safetensors` file was given without a key.
    MissingKey { file: String, format: FileFormat },
    /// A `.npy` file was given a key.
    UnexpectedKey { file: String, key: String },
    /// The file has no array under the key; `available` lists the keys it has.
    NoSuchKey {
        file: String,
        kind: ItemKind,
        key: String,
        available: Vec<String>,
    },
    /// The file is not what its extension says, or its header is damaged.
    Malformed {
        file: String,
        item: Option<Item>,
        reason: String,
    },
    /// The array's element type is one tsr does not load (complex, strings,
    /// objects, records, dates, 8-bit floats...).
    UnsupportedDtype {
        file: String,
        item: Option<Item>,
        stored: String,
    },
    /// The file (or `.npz` member) is too short for the data its header declares.
    DataTooShort {
        file: String,
        item: Option<Item>,
        shape: Vec<u64>,
        found: u64,
        expected: u64,
    },
}

impl HeaderError {
    /// A `.npz` member that fails to decompress or fails its checksum.
    pub(in crate::data) fn unreadable(
        file: String,
        item: Option<Item>,
        error: &dyn fmt::Display,
    ) -> HeaderError {
        HeaderError::Malformed {
            file,
            item,
            reason: format!("cannot be read: {error}"),
        }
    }
}

/// How many keys a "no such key" message lists before it gives a count.
const KEYS_LISTED: usize = 20;

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::Io { file, source } => {
                write!(f, "cannot read `{file}`: {}", io_message(source))
            }
            HeaderError::NotAFile { file, is_dir: true } => {
                write!(f, "cannot read `{file}`: it is a directory")
            }
            HeaderError::NotAFile { file, is_dir: false } => {
                write!(f, "cannot read `{file}`: it is not a regular file")
            }
            HeaderError::UnknownFormat { file } => write!(
                f,
                "cannot load `{file}`: unknown file type (load reads .npy, .npz and .safetensors files)"
            ),
            HeaderError::MissingKey { file, format } => {
                let noun = format.item_kind().map_or("key", |kind| match kind {
                    ItemKind::Member => "member name",
                    ItemKind::Tensor => "tensor name",
                });
                write!(
                    f,
                    "{file}: missing key: a {} file needs a {noun}: load(path, key)",
                    format.extension()
                )
            }
            HeaderError::UnexpectedKey { file, key } => write!(
                f,
                "{file}: a .npy file holds a single array and takes no key (given `{key}`): load(path)"
            ),
            HeaderError::NoSuchKey {
                file,
                kind,
                key,
                available,
            } => {
                write!(f, "{file} has no {} `{key}`; ", kind.noun())?;
                if available.is_empty() {
                    return write!(f, "it has no {}s", kind.noun());
                }
                write!(f, "{}s: ", kind.noun())?;
                let listed = available.iter().take(KEYS_LISTED);
                for (index, name) in listed.enumerate() {
                    let separator = if index == 0 { "" } else { ", " };
                    write!(f, "{separator}{name}")?;
                }
                match available.len().checked_sub(KEYS_LISTED) {
                    Some(more) if more > 0 => write!(f, " and {more} more"),
                    _ => Ok(()),
                }
            }
            HeaderError::Malformed { file, item, reason } => match item {
                Some(item) => write!(f, "{file}: {item}: {reason}"),
                None => write!(f, "{file}: {reason}"),
            },
            HeaderError::UnsupportedDtype { file, item, stored } => {
                match item {
                    Some(item) => write!(f, "{file}: {item} has dtype {stored}")?,
                    None => write!(f, "{file}: the array has dtype {stored}")?,
                }
                f.write_str(", which tsr cannot load")
            }
            HeaderError::DataTooShort {
                file,
                item,
                shape,
                found,
                expected,
            } => {
                let shape = shape_text(shape);
                match item {
                    Some(item) => write!(f, "{file}: {item} declares shape {shape} but holds")?,
                    None => write!(f, "{file}: header declares shape {shape} but the file holds")?,
                }
                write!(f, " {found} bytes of data, expected {expected}")
            }
        }
    }
}

impl Error for HeaderError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            HeaderError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A shape as a Python tuple, the way `.npy` headers and NumPy write it.
pub(in crate::data) fn shape_text<Dim: fmt::Display>(shape: &[Dim]) -> String {
    match shape {
        [] => "()".to_string(),
        [only] => format!("({only},)"),
        [first, rest @ ..] => {
            let rest: String = rest.iter().map(|dim| format!(", {dim}")).collect();
            format!("({first}{rest})")
        }
    }
}

/// The operating system's message without its " (os error 2)" suffix,
/// which means nothing to a user.
pub(in crate::data) fn io_message(error: &io::Error) -> String {
    let text = error.to_string();
    match (error.raw_os_error(), text.rfind(" (os error ")) {
        (Some(_), Some(suffix)) => text.get(..suffix).unwrap_or(&text).to_string(),
        _ => text,
    }
}
