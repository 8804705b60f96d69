//! (being written)
use super::Builtin;

pub(super) static BUILTINS: &[Builtin] = &[];
