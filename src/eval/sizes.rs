//! Concrete sizes at run time: the checker's symbolic sizes evaluated with
//! the dims bound so far and the generics and runs of the call in progress.

use rustc_hash::FxHashMap;

use crate::check::size::{AtomId, Size};
use crate::check::types::{Item, RunId, Type};

/// What one fn call bound: its generics (and run products) and its runs.
#[derive(Clone, Default)]
pub struct Frame {
    pub atoms: FxHashMap<AtomId, i64>,
    pub runs: FxHashMap<RunId, Vec<usize>>,
}

#[derive(Default)]
pub struct SizeEnv {
    /// By dim id: bound by `--dim`, by data, or derived.
    pub dims: Vec<Option<i64>>,
    pub frames: Vec<Frame>,
}

impl SizeEnv {
    pub fn eval(&self, size: &Size) -> Option<i64> {
        size.eval(&mut |atom| match atom {
            AtomId::Dim(i) => self.dims.get(i as usize).copied().flatten(),
            other => self
                .frames
                .last()
                .and_then(|f| f.atoms.get(&other).copied()),
        })
        .ok()
        .flatten()
    }

    /// The concrete shape of a tensor type, or `None` when some axis has a
    /// size only the data can tell (a run-time slice bound, a fresh size).
    pub fn shape(&self, ty: &Type) -> Option<Vec<usize>> {
        let Type::Tensor(t) = ty else {
            return None;
        };
        let mut shape = Vec::with_capacity(t.shape.len());
        for item in &t.shape {
            match item {
                Item::Axis(a) => shape.push(usize::try_from(self.eval(&a.size)?).ok()?),
                Item::Run(r) => shape.extend(self.frames.last()?.runs.get(r)?),
            }
        }
        Some(shape)
    }
}
