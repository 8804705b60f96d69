//! Tensor files at run time: `load`, `save` and `--input`, and binding
//! symbolic dims from the data (a conflict names both sources).

use std::path::{Path, PathBuf};

use super::interp::{internal, Eval, Flow, Interp};
use super::value::{Array, Tensor};
use crate::check::size::{AtomId, Size};
use crate::check::types::{Item, Type};
use crate::data::tensor::{read_tensor, write_npy, write_npz, DataError, TensorData, TensorView};
use crate::error::{Code, Diagnostic};
use crate::source::Span;

/// `--input NAME=PATH[:KEY]`
#[derive(Clone, Debug)]
pub struct InputFile {
    pub name: String,
    pub path: PathBuf,
    pub key: Option<String>,
}

fn shared<T: Clone>(a: ndarray::ArrayD<T>) -> Array<T> {
    a.into_shared()
}

pub fn from_data(data: TensorData) -> Tensor {
    match data {
        TensorData::F32(a) => Tensor::F32(shared(a)),
        TensorData::F64(a) => Tensor::F64(shared(a)),
        TensorData::I64(a) => Tensor::I64(shared(a)),
        TensorData::Bool(a) => Tensor::Bool(shared(a)),
    }
}

pub fn view(t: &Tensor) -> TensorView<'_> {
    match t {
        Tensor::F32(a) => TensorView::F32(a.view()),
        Tensor::F64(a) => TensorView::F64(a.view()),
        Tensor::I64(a) => TensorView::I64(a.view()),
        Tensor::Bool(a) => TensorView::Bool(a.view()),
    }
}

/// A file that could not be read is `tsr::io`; one whose array would not
/// fit in memory is `tsr::limit`, which no command line could mend.
fn read_failure(error: &DataError, what: &str, span: Span) -> Diagnostic {
    let code = match error {
        DataError::TooLarge { .. }
        | DataError::Unindexable { .. }
        | DataError::OutOfMemory { .. } => Code::Limit,
        _ => Code::Io,
    };
    Diagnostic::new(code, span, error.to_string()).label(span, what.to_string())
}

impl<'a> Interp<'a> {
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        let path = Path::new(path);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.options.base_dir.join(path)
        }
    }

    /// Reads a tensor file and checks it against the type the checker
    /// gave it, binding the symbolic dims its data fixes. `unreadable`
    /// says whose fault a file that cannot be read is.
    pub fn read_declared<E: From<Diagnostic>>(
        &mut self,
        path: &Path,
        key: Option<&str>,
        declared: &Type,
        what: &str,
        span: Span,
        unreadable: impl FnOnce(Diagnostic) -> E,
    ) -> Result<Tensor, E> {
        let data = read_tensor(path, key, self.options.max_memory)
            .map_err(|e| unreadable(read_failure(&e, what, span)))?;
        let tensor = from_data(data);
        self.bind_data(&tensor, declared, what, span)?;
        Ok(tensor)
    }

    /// Data against its declared type: rank, element type and every size;
    /// an unbound symbolic dim takes the data's size.
    fn bind_data(&mut self, t: &Tensor, declared: &Type, what: &str, span: Span) -> Eval<()> {
        let Type::Tensor(ty) = declared else {
            return Err(internal(
                span,
                "data declared with a type that is not a tensor's",
            ));
        };
        let shape = t.shape().to_vec();
        let mismatch = |detail: String| {
            Diagnostic::new(
                Code::Io,
                span,
                format!(
                    "{what} holds {:?} {}, but its declared type is {detail}",
                    shape,
                    t.dtype()
                ),
            )
            .label(span, "this data")
        };
        if t.dtype() != ty.dtype {
            return Err(mismatch(format!(
                "{} {}: the element types differ",
                self.show_declared(ty),
                ty.dtype
            )));
        }
        if shape.len() != ty.shape.len() || ty.shape.iter().any(|i| matches!(i, Item::Run(_))) {
            return Err(mismatch(format!(
                "{} {}: {} axes, not {}",
                self.show_declared(ty),
                ty.dtype,
                ty.shape.len(),
                shape.len()
            )));
        }
        for (item, &n) in ty.shape.iter().zip(&shape) {
            let Item::Axis(axis) = item else { continue };
            if let Some(AtomId::Dim(id)) = axis.size.as_atom() {
                let slot = self
                    .sizes
                    .dims
                    .get_mut(id as usize)
                    .ok_or_else(|| internal(span, "a dim id out of range"))?;
                match *slot {
                    None => {
                        *slot = Some(n as i64);
                        self.dim_sources.insert(id, what.to_string());
                        continue;
                    }
                    Some(v) if v == n as i64 => continue,
                    Some(v) => {
                        let name = axis.name.as_deref().unwrap_or("?");
                        let source = self
                            .dim_sources
                            .get(&id)
                            .cloned()
                            .unwrap_or_else(|| "--dim".to_string());
                        return Err(Diagnostic::new(
                            Code::Io,
                            span,
                            format!(
                                "{what} says {name} = {n}, but {source} already set {name} = {v}"
                            ),
                        )
                        .label(span, format!("{name} = {n} here")));
                    }
                }
            }
        }
        // A size such as `H * Dh` binds the one dim it leaves unknown; one
        // found may make another axis's size solvable.
        let mut progress = true;
        while progress {
            progress = false;
            for (item, &n) in ty.shape.iter().zip(&shape) {
                let Item::Axis(axis) = item else { continue };
                if let Some((id, v)) = self.solve_for_dim(&axis.size, n as i64) {
                    self.sizes.dims[id as usize] = Some(v);
                    self.dim_sources.insert(id, what.to_string());
                    progress = true;
                }
            }
        }
        for (item, &n) in ty.shape.iter().zip(&shape) {
            let Item::Axis(axis) = item else { continue };
            match self.sizes.eval(&axis.size) {
                Some(v) if v == n as i64 => {}
                Some(_) => {
                    let shown = self.show_declared(ty);
                    let detail = match self.sizes.shape(declared) {
                        Some(sizes) if format!("{sizes:?}") != shown => {
                            format!("{shown} = {sizes:?}")
                        }
                        _ => shown,
                    };
                    return Err(mismatch(format!("{detail} {}", ty.dtype)));
                }
                None => {
                    let names = |atom| match atom {
                        AtomId::Dim(id) => self.dim_name(id).unwrap_or("?").to_string(),
                        _ => "?".to_string(),
                    };
                    let unbound = self.unbound_dims(&axis.size).join(", ");
                    let size = axis.size.display(&names);
                    return Err(mismatch(format!(
                        "{} {}: no value of {unbound} makes {size} = {n}",
                        self.show_declared(ty),
                        ty.dtype
                    )));
                }
            }
        }
        Ok(())
    }

    /// A declared shape with its sizes as written: `[B, H * Dh]`.
    fn show_declared(&self, ty: &crate::check::types::Tensor) -> String {
        let names = |atom| match atom {
            AtomId::Dim(id) => self.dim_name(id).unwrap_or("?").to_string(),
            _ => "?".to_string(),
        };
        let items: Vec<String> = ty
            .shape
            .iter()
            .map(|item| match item {
                Item::Axis(axis) => axis.size.display(&names).to_string(),
                Item::Run(_) => "...".to_string(),
            })
            .collect();
        format!("[{}]", items.join(", "))
    }

    /// The value of the only unbound dim in `size` that makes it `n`, when
    /// `size` grows linearly in that dim (checked by evaluating it back).
    fn solve_for_dim(&self, size: &Size, n: i64) -> Option<(u32, i64)> {
        let unbound: Vec<u32> = size
            .atoms()
            .into_iter()
            .filter_map(|atom| match atom {
                AtomId::Dim(id) if self.sizes.dims.get(id as usize)?.is_none() => Some(id),
                _ => None,
            })
            .collect();
        let [id] = unbound[..] else { return None };
        let at = |v: i64| {
            let mut value = |atom| match atom {
                AtomId::Dim(i) if i == id => Some(v),
                AtomId::Dim(i) => self.sizes.dims.get(i as usize).copied().flatten(),
                _ => None,
            };
            size.eval(&mut value).ok().flatten()
        };
        let (one, two) = (at(1)?, at(2)?);
        let slope = two.checked_sub(one).filter(|&s| s > 0)?;
        let rest = n.checked_sub(one.checked_sub(slope)?)?;
        let v = (rest % slope == 0).then_some(rest / slope)?;
        (v >= 0 && at(v) == Some(n)).then_some((id, v))
    }

    /// The data `--input` gives an input, if any: a file that cannot be
    /// read is the command line's fault, data of another type the program's.
    pub fn input_data(
        &mut self,
        name: &str,
        declared: &Type,
        span: Span,
    ) -> Result<Option<Tensor>, Flow> {
        let Some(file) = self.options.inputs.iter().find(|i| i.name == name).cloned() else {
            return Ok(None);
        };
        let what = format!("input `{name}` ({})", file.path.display());
        let unreadable = |d: Diagnostic| match d.code {
            Code::Io => Flow::CommandLine(d),
            _ => Flow::Error(d),
        };
        let key = file.key.as_deref();
        self.read_declared(&file.path, key, declared, &what, span, unreadable)
            .map(Some)
    }

    pub fn save(&self, value: &super::value::Value, path: &str, span: Span) -> Eval<()> {
        let full = self.resolve_path(path);
        let fail = |e: crate::data::tensor::DataError| {
            Diagnostic::new(Code::Io, span, e.to_string()).label(span, "not saved")
        };
        match value {
            super::value::Value::Tensor(t) => write_npy(&full, view(t)).map_err(fail),
            super::value::Value::Dict(entries) => {
                let tensors: Vec<(&str, TensorView)> = entries
                    .iter()
                    .filter_map(|(k, v)| v.tensor().map(|t| (k.as_str(), view(t))))
                    .collect();
                write_npz(&full, &tensors).map_err(fail)
            }
            _ => Err(internal(span, "saving a value that is not a tensor")),
        }
    }
}
