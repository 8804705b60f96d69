//! Reading an array's data once its header has been checked.

use std::io::{self, Read};
use std::mem;
use std::path::Path;

use ndarray::{ArrayD, IxDyn, ShapeBuilder};

use super::{DataError, TensorData};
use crate::data::header::{
    read_with_data, FileFormat, HeaderError, Item, StoredDtype, TensorHeader,
};

/// How many bytes of data are decoded at a time: a multiple of every
/// element size, small enough that the raw bytes never cost much memory
/// next to the array they become.
const CHUNK: usize = 1 << 16;

/// Reads the array `load(path)` or `load(path, key)` loads, widened to
/// tsr's element types (f16 and bf16 to f32, every other integer type to
/// i64), in row-major order whatever the file's. Nothing is allocated for
/// the data when the array would take more than `max_bytes`.
pub fn read_tensor(
    path: &Path,
    key: Option<&str>,
    max_bytes: u64,
) -> Result<TensorData, DataError> {
    read_with_data(path, key, |header, reader| {
        let format = FileFormat::of(path);
        let item = format
            .and_then(FileFormat::item_kind)
            .zip(key)
            .map(|(kind, name)| Item {
                kind,
                name: name.to_string(),
            });
        let data = Data {
            file: path.display().to_string(),
            item,
            in_archive: format == Some(FileFormat::Npz),
            header,
            max_bytes,
            reader,
        };
        data.decode()
    })
}

/// One array's data, with what messages about it need.
struct Data<'a> {
    file: String,
    item: Option<Item>,
    /// A `.npz` member, whose read errors are a damaged archive's rather
    /// than the file system's.
    in_archive: bool,
    header: TensorHeader,
    max_bytes: u64,
    reader: &'a mut dyn Read,
}

impl Data<'_> {
    fn decode(mut self) -> Result<TensorData, DataError> {
        Ok(match self.header.dtype {
            StoredDtype::Bool => TensorData::Bool(self.elements(|[byte]: [u8; 1]| Ok(byte != 0))?),
            StoredDtype::I8 => {
                TensorData::I64(self.elements(|word| Ok(i8::from_le_bytes(word).into()))?)
            }
            StoredDtype::U8 => {
                TensorData::I64(self.elements(|word| Ok(u8::from_le_bytes(word).into()))?)
            }
            StoredDtype::I16 => {
                TensorData::I64(self.elements(|word| Ok(i16::from_le_bytes(word).into()))?)
            }
            StoredDtype::U16 => {
                TensorData::I64(self.elements(|word| Ok(u16::from_le_bytes(word).into()))?)
            }
            StoredDtype::I32 => {
                TensorData::I64(self.elements(|word| Ok(i32::from_le_bytes(word).into()))?)
            }
            StoredDtype::U32 => {
                TensorData::I64(self.elements(|word| Ok(u32::from_le_bytes(word).into()))?)
            }
            StoredDtype::I64 => {
                TensorData::I64(self.elements(|word| Ok(i64::from_le_bytes(word)))?)
            }
            StoredDtype::U64 => TensorData::I64(self.elements(|word| {
                let value = u64::from_le_bytes(word);
                i64::try_from(value).map_err(|_| value)
            })?),
            StoredDtype::F16 => {
                TensorData::F32(self.elements(|word| Ok(f16_to_f32(u16::from_le_bytes(word))))?)
            }
            StoredDtype::BF16 => {
                TensorData::F32(self.elements(|word| {
                    Ok(f32::from_bits(u32::from(u16::from_le_bytes(word)) << 16))
                })?)
            }
            StoredDtype::F32 => {
                TensorData::F32(self.elements(|word| Ok(f32::from_le_bytes(word)))?)
            }
            StoredDtype::F64 => {
                TensorData::F64(self.elements(|word| Ok(f64::from_le_bytes(word)))?)
            }
        })
    }

    /// Reads the data as elements of `N` bytes, each given to `convert` in
    /// little-endian order; `convert` fails with the stored value when it
    /// does not fit in `T`.
    fn elements<T: Copy, const N: usize>(
        &mut self,
        convert: impl Fn([u8; N]) -> Result<T, u64>,
    ) -> Result<ArrayD<T>, DataError> {
        let size = self.size::<T, N>()?;
        let values = self.read_values(&size, convert)?;
        // A `.npz` member's checksum is checked when it is read to its end,
        // which is usually where the data ends: one more byte reaches it.
        (&mut *self.reader)
            .take(1)
            .read_to_end(&mut Vec::new())
            .map_err(|error| self.read_error(error))?;
        self.arrange(&size, values)
    }

    /// The array's size, once it is known to be within the memory limit.
    fn size<T, const N: usize>(&self) -> Result<Size, DataError> {
        let shape = &self.header.shape;
        // The header has checked that the data's bytes fit in 64 bits, so
        // neither product overflows; the checks only keep that promise local.
        let count = if shape.contains(&0) {
            0
        } else {
            shape
                .iter()
                .try_fold(1u64, |count, &dim| count.checked_mul(dim))
                .ok_or_else(|| self.unindexable())?
        };
        let stored_bytes = count
            .checked_mul(N as u64)
            .ok_or_else(|| self.unindexable())?;
        let bytes = u128::from(count) * mem::size_of::<T>() as u128;
        if bytes > u128::from(self.max_bytes) {
            return Err(DataError::TooLarge {
                file: self.file.clone(),
                item: self.item.clone(),
                shape: shape.clone(),
                elem: self.header.elem,
                bytes,
                limit: self.max_bytes,
            });
        }
        let count = usize::try_from(count).map_err(|_| self.unindexable())?;
        let dims = shape
            .iter()
            .map(|&dim| usize::try_from(dim))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| self.unindexable())?;
        Ok(Size {
            count,
            dims,
            stored_bytes,
            bytes,
        })
    }

    /// Reads `size.count` elements in the file's order, a chunk at a time.
    fn read_values<T, const N: usize>(
        &mut self,
        size: &Size,
        convert: impl Fn([u8; N]) -> Result<T, u64>,
    ) -> Result<Vec<T>, DataError> {
        let mut values = self.allocate(size)?;
        let mut chunk = Vec::with_capacity(CHUNK.min(size.count.saturating_mul(N)));
        let mut remaining = size.count;
        let mut done: u64 = 0;
        while remaining > 0 {
            let now = remaining.min(CHUNK / N);
            let wanted = now * N;
            chunk.clear();
            (&mut *self.reader)
                .take(wanted as u64)
                .read_to_end(&mut chunk)
                .map_err(|error| self.read_error(error))?;
            if chunk.len() < wanted {
                return Err(HeaderError::DataTooShort {
                    file: self.file.clone(),
                    item: self.item.clone(),
                    shape: self.header.shape.clone(),
                    found: done + chunk.len() as u64,
                    expected: size.stored_bytes,
                }
                .into());
            }
            for stored in chunk.chunks_exact(N) {
                let value = convert(little_endian(stored, self.header.big_endian))
                    .map_err(|value| self.out_of_range(value))?;
                values.push(value);
            }
            remaining -= now;
            done += wanted as u64;
        }
        Ok(values)
    }

    /// The array from its values in the file's order. Column-major data is
    /// copied into row-major order, so it briefly takes twice the memory.
    fn arrange<T: Copy>(&self, size: &Size, values: Vec<T>) -> Result<ArrayD<T>, DataError> {
        let shape = IxDyn(&size.dims).set_f(self.header.fortran_order);
        let array = ArrayD::from_shape_vec(shape, values).map_err(|_| self.unindexable())?;
        if array.is_standard_layout() {
            return Ok(array);
        }
        let mut row_major = self.allocate(size)?;
        row_major.extend(array.iter().copied());
        ArrayD::from_shape_vec(IxDyn(&size.dims), row_major).map_err(|_| self.unindexable())
    }

    /// Room for the array's elements, or an error rather than an abort when
    /// the allocator refuses.
    fn allocate<T>(&self, size: &Size) -> Result<Vec<T>, DataError> {
        let mut values = Vec::new();
        values
            .try_reserve_exact(size.count)
            .map_err(|_| DataError::OutOfMemory {
                file: self.file.clone(),
                item: self.item.clone(),
                shape: self.header.shape.clone(),
                bytes: size.bytes,
            })?;
        Ok(values)
    }

    fn unindexable(&self) -> DataError {
        DataError::Unindexable {
            file: self.file.clone(),
            item: self.item.clone(),
            shape: self.header.shape.clone(),
        }
    }

    fn out_of_range(&self, value: u64) -> DataError {
        DataError::OutOfRange {
            file: self.file.clone(),
            item: self.item.clone(),
            value,
        }
    }

    fn read_error(&self, error: io::Error) -> DataError {
        let file = self.file.clone();
        if self.in_archive {
            HeaderError::unreadable(file, self.item.clone(), &error).into()
        } else {
            HeaderError::Io {
                file,
                source: error,
            }
            .into()
        }
    }
}

/// How large an array is, in elements and bytes.
struct Size {
    count: usize,
    dims: Vec<usize>,
    /// What the data takes in the file.
    stored_bytes: u64,
    /// What the array takes in memory.
    bytes: u128,
}

/// The `N` bytes of `stored`, least significant first.
fn little_endian<const N: usize>(stored: &[u8], big_endian: bool) -> [u8; N] {
    let mut word = [0; N];
    for (slot, byte) in word.iter_mut().zip(stored) {
        *slot = *byte;
    }
    if big_endian {
        word.reverse();
    }
    word
}

/// An IEEE half-precision number, exactly: every f16 value is an f32 value.
fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits & 0x8000) << 16;
    let exponent = u32::from((bits >> 10) & 0x1f);
    let fraction = u32::from(bits & 0x3ff);
    let magnitude = match exponent {
        // Zero and subnormals: fraction * 2^-24, exact in f32.
        0 => (f32::from(bits & 0x3ff) * f32::from_bits(0x3380_0000)).to_bits(),
        // Infinities and NaNs, payload kept.
        0x1f => 0x7f80_0000 | (fraction << 13),
        // Rebias the exponent from 15 to 127.
        _ => ((exponent + 112) << 23) | (fraction << 13),
    };
    f32::from_bits(sign | magnitude)
}
