//! Writing `.npy` files as `np.save` does and `.npz` files as `np.savez`
//! does. A file is written whole under a temporary name beside it, then
//! renamed over the target, so a failed write leaves no half-written file
//! (and leaves whatever was there before).

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::iter;
use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicU64, Ordering};

use ndarray::ArrayViewD;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::{DataError, TensorView};
use crate::data::header::{shape_text, NPY_MAGIC};

/// How many bytes of encoded elements are handed to the writer at a time.
const CHUNK: usize = 1 << 16;

/// NumPy pads the header so the data starts on a multiple of this.
const ALIGN: usize = 64;

/// NumPy leaves room after the header's dict for the first axis to grow to
/// this many digits, so that appending rows can rewrite the header in place.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;

/// The magic and the format version.
const PREAMBLE_LEN: usize = 8;

/// How many temporary names are tried before giving up: each is new to
/// this process, so only leftovers of an earlier process with the same id
/// can be in the way.
const TEMP_ATTEMPTS: u32 = 16;

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `data` to a `.npy` file at `path` in row-major order, replacing
/// any file there.
pub fn write_npy(path: &Path, data: TensorView) -> Result<(), DataError> {
    let file = path.display().to_string();
    replace(path, &file, |out| write_array(out, &data))
}

/// Writes a `.npz` archive at `path` with one stored (uncompressed) member
/// `key.npy` per entry, in the given order, replacing any file there.
pub fn write_npz(path: &Path, entries: &[(&str, TensorView)]) -> Result<(), DataError> {
    let file = path.display().to_string();
    let mut keys = HashSet::new();
    if let Some((key, _)) = entries.iter().find(|(key, _)| !keys.insert(*key)) {
        return Err(DataError::DuplicateKey {
            file,
            key: key.to_string(),
        });
    }
    replace(path, &file, |out| {
        let mut archive = ZipWriter::new(out);
        for (key, data) in entries {
            let header = npy_header(data)?;
            let data_len = (data.len() as u64).saturating_mul(data.item_size());
            let member_len = (header.len() as u64).saturating_add(data_len);
            let options = SimpleFileOptions::default()
                .compression_method(CompressionMethod::Stored)
                .large_file(member_len >= u64::from(u32::MAX));
            archive.start_file(format!("{key}.npy"), options)?;
            archive.write_all(&header)?;
            write_elements(&mut archive, data)?;
        }
        archive.finish()?;
        Ok(())
    })
}

impl TensorView<'_> {
    fn descr(&self) -> &'static str {
        match self {
            TensorView::F32(_) => "<f4",
            TensorView::F64(_) => "<f8",
            TensorView::I64(_) => "<i8",
            TensorView::Bool(_) => "|b1",
        }
    }

    fn item_size(&self) -> u64 {
        match self {
            TensorView::Bool(_) => 1,
            TensorView::F32(_) => 4,
            TensorView::F64(_) | TensorView::I64(_) => 8,
        }
    }

    fn shape(&self) -> &[usize] {
        match self {
            TensorView::F32(array) => array.shape(),
            TensorView::F64(array) => array.shape(),
            TensorView::I64(array) => array.shape(),
            TensorView::Bool(array) => array.shape(),
        }
    }

    fn len(&self) -> usize {
        match self {
            TensorView::F32(array) => array.len(),
            TensorView::F64(array) => array.len(),
            TensorView::I64(array) => array.len(),
            TensorView::Bool(array) => array.len(),
        }
    }
}

fn write_array(out: &mut impl Write, data: &TensorView) -> io::Result<()> {
    out.write_all(&npy_header(data)?)?;
    write_elements(out, data)
}

/// The header `np.save` writes for `data` once it is C-contiguous: format
/// 1.0 unless the header is too long for its 2-byte length, then 2.0.
fn npy_header(data: &TensorView) -> io::Result<Vec<u8>> {
    let shape = data.shape();
    let mut dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
        data.descr(),
        shape_text(shape)
    );
    if let Some(first) = shape.first() {
        let digits = first.to_string().len();
        dict.extend(iter::repeat_n(
            ' ',
            GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits),
        ));
    }
    let text_len = dict.len() + 1;
    for (major, length_size) in [(1u8, 2), (2, 4)] {
        // Like NumPy, a header that is already aligned still gets a full
        // block of padding.
        let padding = ALIGN - (PREAMBLE_LEN + length_size + text_len) % ALIGN;
        let header_len = text_len + padding;
        let length = match major {
            1 => u16::try_from(header_len).map(|len| len.to_le_bytes().to_vec()),
            _ => u32::try_from(header_len).map(|len| len.to_le_bytes().to_vec()),
        };
        let Ok(length) = length else { continue };
        let mut header = Vec::with_capacity(PREAMBLE_LEN + length_size + header_len);
        header.extend(NPY_MAGIC);
        header.extend([major, 0]);
        header.extend(length);
        header.extend(dict.as_bytes());
        header.extend(iter::repeat_n(b' ', padding));
        header.push(b'\n');
        return Ok(header);
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "an array of {} axes needs a header too long for a .npy file",
            shape.len()
        ),
    ))
}

fn write_elements(out: &mut impl Write, data: &TensorView) -> io::Result<()> {
    match data {
        TensorView::F32(array) => write_encoded(out, array, |value| value.to_le_bytes()),
        TensorView::F64(array) => write_encoded(out, array, |value| value.to_le_bytes()),
        TensorView::I64(array) => write_encoded(out, array, |value| value.to_le_bytes()),
        TensorView::Bool(array) => write_encoded(out, array, |&value| [u8::from(value)]),
    }
}

/// Writes the elements in row-major order, whatever the view's strides.
fn write_encoded<T, const N: usize>(
    out: &mut impl Write,
    array: &ArrayViewD<T>,
    encode: impl Fn(&T) -> [u8; N],
) -> io::Result<()> {
    let mut buffer = Vec::with_capacity(CHUNK);
    for value in array.iter() {
        buffer.extend(encode(value));
        if buffer.len() >= CHUNK {
            out.write_all(&buffer)?;
            buffer.clear();
        }
    }
    out.write_all(&buffer)
}

/// Runs `write` on a new temporary file beside `path`, then renames it to
/// `path`. On failure the temporary file is removed and `path` is untouched.
fn replace(
    path: &Path,
    file: &str,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<(), DataError> {
    let failed = |source| DataError::Write {
        file: file.to_string(),
        source,
    };
    let (temp_path, temp) = create_temp(path).map_err(failed)?;
    match write_and_rename(temp, &temp_path, path, write) {
        Ok(()) => Ok(()),
        Err(error) => {
            // The write's own error is the one worth reporting; a temporary
            // file that cannot be removed either is left for the user.
            let _ = fs::remove_file(&temp_path);
            Err(failed(error))
        }
    }
}

fn write_and_rename(
    temp: File,
    temp_path: &Path,
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::new(temp);
    write(&mut out)?;
    let temp = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    // Without this, a crash soon after the rename can leave an empty file
    // where the old one was.
    temp.sync_all()?;
    drop(temp);
    fs::rename(temp_path, path)
}

/// Creates `.NAME.PID.N.tmp` in the folder of `path`, whose name is NAME:
/// the rename that puts it in place is atomic only within one file system.
fn create_temp(path: &Path) -> io::Result<(PathBuf, File)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path does not name a file")
    })?;
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut last_error = None;
    for _ in 0..TEMP_ATTEMPTS {
        let mut temp_name = OsString::from(".");
        temp_name.push(name);
        let counter = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        temp_name.push(format!(".{}.{counter}.tmp", process::id()));
        let temp_path = folder.join(temp_name);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp_path)
        {
            Ok(temp) => return Ok((temp_path, temp)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last_error = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists)))
}
