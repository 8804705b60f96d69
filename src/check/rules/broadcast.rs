//! Named-axis broadcasting (section 5) and the `broadcast-outer` warning.

use crate::check::types::{Axis, Item, Name, Shape};

/// Which operand a result axis takes its name from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Origin {
    Left,
    Right,
    Both,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub enum ConflictKind {
    /// Sizes differ and neither is 1 (or cannot be proven equal).
    Size,
    /// A run of axes faces something other than the same run.
    Run,
    /// A kept (named, size 1) axis against an axis of another name.
    KeptAxis,
    /// Equal sizes, different names.
    Name,
}

/// An offending pair; positions count from the right (0 = last axis).
#[derive(Clone, Debug)]
pub struct Conflict {
    pub kind: ConflictKind,
    pub from_right: usize,
    pub left: Option<Item>,
    pub right: Option<Item>,
}

pub struct Broadcast {
    pub shape: Shape,
    pub origins: Vec<Origin>,
}

/// Broadcasts two shapes. On failure every offending pair is returned,
/// size conflicts first (the one error reports them all).
pub fn broadcast(left: &[Item], right: &[Item]) -> Result<Broadcast, Vec<Conflict>> {
    let n = left.len().max(right.len());
    let mut shape = Vec::with_capacity(n);
    let mut origins = Vec::with_capacity(n);
    let mut conflicts = Vec::new();
    for k in 0..n {
        let l = left.len().checked_sub(k + 1).map(|i| &left[i]);
        let r = right.len().checked_sub(k + 1).map(|i| &right[i]);
        match (l, r) {
            (Some(item), None) => {
                shape.push(item.clone());
                origins.push(Origin::Left);
            }
            (None, Some(item)) => {
                shape.push(item.clone());
                origins.push(Origin::Right);
            }
            (Some(Item::Run(a)), Some(Item::Run(b))) if a == b => {
                shape.push(Item::Run(*a));
                origins.push(Origin::Both);
            }
            (Some(Item::Axis(a)), Some(Item::Axis(b))) => match broadcast_axes(a, b) {
                Ok((axis, origin)) => {
                    shape.push(Item::Axis(axis));
                    origins.push(origin);
                }
                Err(kind) => conflicts.push(Conflict {
                    kind,
                    from_right: k,
                    left: l.cloned(),
                    right: r.cloned(),
                }),
            },
            (l, r) => conflicts.push(Conflict {
                kind: ConflictKind::Run,
                from_right: k,
                left: l.cloned(),
                right: r.cloned(),
            }),
        }
    }
    if !conflicts.is_empty() {
        conflicts.sort_by_key(|c| (c.kind, c.from_right));
        let worst = conflicts[0].kind;
        let severe = |k: ConflictKind| k != ConflictKind::Name;
        if severe(worst) {
            conflicts.retain(|c| severe(c.kind));
        }
        return Err(conflicts);
    }
    shape.reverse();
    origins.reverse();
    Ok(Broadcast { shape, origins })
}

fn broadcast_axes(a: &Axis, b: &Axis) -> Result<(Axis, Origin), ConflictKind> {
    if a.size == b.size {
        return match (&a.name, &b.name) {
            (Some(x), Some(y)) if x != y => {
                if a.is_one() {
                    Err(ConflictKind::KeptAxis)
                } else {
                    Err(ConflictKind::Name)
                }
            }
            (None, Some(_)) => Ok((b.clone(), Origin::Both)),
            _ => Ok((a.clone(), Origin::Both)),
        };
    }
    if a.is_one() {
        return stretch(a, b).map(|axis| (axis, Origin::Right));
    }
    if b.is_one() {
        return stretch(b, a).map(|axis| (axis, Origin::Left));
    }
    Err(ConflictKind::Size)
}

/// `unit` (size 1) stretches to `other` if it is anonymous, or named like it.
fn stretch(unit: &Axis, other: &Axis) -> Result<Axis, ConflictKind> {
    match (&unit.name, &other.name) {
        (Some(u), Some(o)) if u != o => Err(ConflictKind::KeptAxis),
        _ => Ok(other.clone()),
    }
}

/// The name that a broadcast takes from the left on one axis and from the
/// right on another: `[B, 1] + [B]` gives `[B, B]`.
pub fn outer_name(b: &Broadcast) -> Option<Name> {
    let named = |origin: Origin| {
        b.shape
            .iter()
            .zip(&b.origins)
            .filter(move |(_, o)| **o == origin)
            .filter_map(|(item, _)| item.axis().and_then(|a| a.name.clone()))
    };
    named(Origin::Left).find(|l| named(Origin::Right).any(|r| r == *l))
}
