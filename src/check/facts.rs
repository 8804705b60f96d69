//! What the checker proved about each expression, kept for the evaluator
//! (spec: the evaluator never re-derives a shape the checker proved).

use rustc_hash::FxHashMap;

use super::size::Size;
use super::types::{Name, Type};
use crate::source::Span;
use crate::syntax::ast::NodeId;

/// Facts by expression: its type, and for an argument in an axis or size
/// slot, the axis index or the size it resolved to. A fn body's facts are
/// symbolic in the fn's generics; a call binds them.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    pub types: FxHashMap<NodeId, Type>,
    pub axes: FxHashMap<NodeId, usize>,
    pub sizes: FxHashMap<NodeId, Size>,
    /// For an einops call, the labels of its pattern that name a dim or
    /// generic in scope, with their sizes: the kernel splits groups with
    /// them as it does with keyword sizes.
    pub pattern_dims: FxHashMap<NodeId, Vec<(Name, Size)>>,
    /// The declared type of each `input`, by the span of its name.
    pub declared: FxHashMap<Span, Type>,
}
