//! A `.npz` file: a zip archive holding one `.npy` member per array, stored
//! (`np.savez`) or deflated (`np.savez_compressed`). A key is a member's
//! name without `.npy`.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use zip::ZipArchive;

use super::npy::{self, Problem};
use super::{open_regular, HeaderError, Item, ItemKind, TensorHeader};

type Archive = ZipArchive<BufReader<File>>;

/// Reads the header of member `key`, decompressing no more of it than the
/// header takes, checks the member's size (from the archive's directory)
/// against the data the header declares, and hands the header and the rest
/// of the member to `read`.
pub(super) fn read_member<T, E: From<HeaderError>>(
    path: &Path,
    file: String,
    key: &str,
    read: impl FnOnce(TensorHeader, &mut dyn Read) -> Result<T, E>,
) -> Result<T, E> {
    let mut archive = open_archive(path, &file)?;
    let Some(index) = member_index(&archive, key) else {
        return Err(HeaderError::NoSuchKey {
            file,
            kind: ItemKind::Member,
            key: key.to_string(),
            available: keys(&archive),
        }
        .into());
    };
    let item = Some(Item {
        kind: ItemKind::Member,
        name: key.to_string(),
    });
    let mut member = match archive.by_index(index) {
        Ok(member) => member,
        Err(error) => return Err(HeaderError::unreadable(file, item, &error).into()),
    };
    let len = member.size();
    let header = match npy::parse(&mut member, len) {
        Ok(parsed) => npy::check_room(parsed, len, file, item)?,
        Err(Problem::Io(error)) => return Err(HeaderError::unreadable(file, item, &error).into()),
        Err(problem) => return Err(problem.into_error(file, item).into()),
    };
    read(header, &mut member)
}

/// The archive's `.npy` members without `.npy`, in archive order (the order
/// `np.savez` was given them in).
pub(super) fn member_keys(path: &Path, file: String) -> Result<Vec<String>, HeaderError> {
    open_archive(path, &file).map(|archive| keys(&archive))
}

fn open_archive(path: &Path, file: &str) -> Result<Archive, HeaderError> {
    let (opened, _) = open_regular(path, file)?;
    ZipArchive::new(BufReader::new(opened)).map_err(|error| HeaderError::Malformed {
        file: file.to_string(),
        item: None,
        reason: format!("not a valid .npz file (a zip archive): {error}"),
    })
}

/// NumPy's own lookup: `key` names member `key.npy`, and a key that already
/// ends in `.npy` may name the member itself.
fn member_index(archive: &Archive, key: &str) -> Option<usize> {
    archive.index_for_name(&format!("{key}.npy")).or_else(|| {
        key.ends_with(".npy")
            .then(|| archive.index_for_name(key))
            .flatten()
    })
}

fn keys(archive: &Archive) -> Vec<String> {
    archive
        .file_names()
        .filter_map(|name| name.strip_suffix(".npy"))
        .map(str::to_string)
        .collect()
}
