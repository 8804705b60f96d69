//! The syntax of einops patterns for `rearrange`, `reduce` and `repeat`
//! (LANGUAGE.md section 5, "Shape operations"), following einops' own
//! parser: axes separated by whitespace, one-level groups `(h d)`, `1` and
//! `()` as unit axes, other positive numbers as anonymous axes, one `...`
//! per side (also as `(...)`).
//!
//! Either side may be empty: `"b c -> "` reduces to a scalar, `" -> h w"`
//! repeats one. Axis names are tsr identifiers (einops' ban on a leading or
//! trailing `_` is not kept, so every dim can be a label).
//!
//! [`parse_einops`] checks the syntax; [`check_axes`] the rules of each
//! operation that need only the pattern. Sizes are the checker's. Every
//! range is a byte range into the pattern string, on char boundaries.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

pub use super::spec_error::SpecError;
use super::spec_error::{
    arrows, dot_run, ellipsis_set_apart, is_identifier_char, quote_char, stray_dots, trimmed_range,
};
use crate::check::suggest::closest;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EinopsPattern {
    pub lhs: Vec<PatternItem>,
    pub rhs: Vec<PatternItem>,
    /// Each side's text without surrounding whitespace (empty, at the
    /// side's position, for an empty side).
    pub lhs_range: Range<usize>,
    pub rhs_range: Range<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PatternItem {
    Axis {
        name: String,
        range: Range<usize>,
    },
    /// `(h d)`; `()` is an empty group, a unit axis.
    Group {
        members: Vec<GroupMember>,
        range: Range<usize>,
    },
    /// `1`.
    Unit {
        range: Range<usize>,
    },
    /// A number other than 1: an anonymous axis of that size.
    Number {
        value: u64,
        range: Range<usize>,
    },
    Ellipsis {
        range: Range<usize>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupMember {
    Axis {
        name: String,
        range: Range<usize>,
    },
    /// `1` inside a group, which contributes nothing to the group's size.
    Unit {
        range: Range<usize>,
    },
    Number {
        value: u64,
        range: Range<usize>,
    },
    /// `(...)`: all the axes `...` stands for, merged.
    Ellipsis {
        range: Range<usize>,
    },
}

impl PatternItem {
    pub fn range(&self) -> Range<usize> {
        match self {
            PatternItem::Axis { range, .. }
            | PatternItem::Group { range, .. }
            | PatternItem::Unit { range }
            | PatternItem::Number { range, .. }
            | PatternItem::Ellipsis { range } => range.clone(),
        }
    }
}

impl GroupMember {
    pub fn range(&self) -> Range<usize> {
        match self {
            GroupMember::Axis { range, .. }
            | GroupMember::Unit { range }
            | GroupMember::Number { range, .. }
            | GroupMember::Ellipsis { range } => range.clone(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EinopsOp {
    Rearrange,
    Reduce,
    Repeat,
}

impl fmt::Display for EinopsOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EinopsOp::Rearrange => "rearrange",
            EinopsOp::Reduce => "reduce",
            EinopsOp::Repeat => "repeat",
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Left,
    Right,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Side::Left => "left",
            Side::Right => "right",
        })
    }
}

pub fn parse_einops(pattern: &str) -> Result<EinopsPattern, SpecError> {
    if let Some(second) = arrows(pattern).get(1) {
        return Err(
            SpecError::new("an einops pattern has exactly one `->`", second.clone())
                .with_help("write the input axes, one `->`, then the output axes"),
        );
    }
    let Some((lhs_text, rhs_text)) = pattern.split_once("->") else {
        return Err(
            SpecError::new("an einops pattern needs `->`", 0..pattern.len()).with_help(
                "write the input axes, `->`, then the output axes, e.g. `\"b t d -> b d t\"`",
            ),
        );
    };
    let rhs_start = lhs_text.len() + 2;
    Ok(EinopsPattern {
        lhs: parse_side(lhs_text, 0, Side::Left)?,
        rhs: parse_side(rhs_text, rhs_start, Side::Right)?,
        lhs_range: trimmed_range(lhs_text, 0),
        rhs_range: trimmed_range(rhs_text, rhs_start),
    })
}

/// Checks the rules of `op` that need only the pattern, as einops does:
/// rearrange keeps every axis; reduce may drop axes (and `...`, and
/// anonymous axes on the left) but not create any; repeat may create axes
/// (named or anonymous) but not drop any. `...` on the right needs one on
/// the left, and may not be grouped on the left.
pub fn check_axes(pattern: &EinopsPattern, op: EinopsOp) -> Result<(), SpecError> {
    let left = atoms(&pattern.lhs);
    let right = atoms(&pattern.rhs);
    let left_names = names(&left);
    let right_names = names(&right);
    if op != EinopsOp::Reduce {
        check_names_kept(&left, &right_names, op, Side::Left)?;
    }
    if op != EinopsOp::Repeat {
        check_names_kept(&right, &left_names, op, Side::Right)?;
    }
    check_ellipsis(&left, &right, op)?;
    check_numbers(&left, op, Side::Left)?;
    check_numbers(&right, op, Side::Right)
}

/// One axis-like entry of a side, with groups flattened.
struct Atom<'a> {
    kind: AtomKind<'a>,
    range: Range<usize>,
    grouped: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AtomKind<'a> {
    Axis(&'a str),
    Unit,
    Number(u64),
    Ellipsis,
}

fn atoms(items: &[PatternItem]) -> Vec<Atom<'_>> {
    let mut atoms = Vec::new();
    for item in items {
        let (kind, range) = match item {
            PatternItem::Axis { name, range } => (AtomKind::Axis(name), range),
            PatternItem::Unit { range } => (AtomKind::Unit, range),
            PatternItem::Number { value, range } => (AtomKind::Number(*value), range),
            PatternItem::Ellipsis { range } => (AtomKind::Ellipsis, range),
            PatternItem::Group { members, .. } => {
                atoms.extend(members.iter().map(|member| {
                    let (kind, range) = match member {
                        GroupMember::Axis { name, range } => (AtomKind::Axis(name), range),
                        GroupMember::Unit { range } => (AtomKind::Unit, range),
                        GroupMember::Number { value, range } => (AtomKind::Number(*value), range),
                        GroupMember::Ellipsis { range } => (AtomKind::Ellipsis, range),
                    };
                    Atom {
                        kind,
                        range: range.clone(),
                        grouped: true,
                    }
                }));
                continue;
            }
        };
        atoms.push(Atom {
            kind,
            range: range.clone(),
            grouped: false,
        });
    }
    atoms
}

fn names<'a>(atoms: &[Atom<'a>]) -> BTreeSet<&'a str> {
    atoms
        .iter()
        .filter_map(|atom| match atom.kind {
            AtomKind::Axis(name) => Some(name),
            _ => None,
        })
        .collect()
}

/// Parses one side of the pattern; `text` starts at byte `offset`.
fn parse_side(text: &str, offset: usize, side: Side) -> Result<Vec<PatternItem>, SpecError> {
    let mut items = Vec::new();
    let mut group: Option<(usize, Vec<GroupMember>)> = None;
    let mut word: Option<(usize, String)> = None;
    for (index, ch) in text.char_indices() {
        let at = offset + index;
        if is_identifier_char(ch) || ch == '.' {
            word.get_or_insert_with(|| (at, String::new())).1.push(ch);
            continue;
        }
        if let Some((start, word)) = word.take() {
            place(parse_word(&word, start)?, &mut items, &mut group);
        }
        match ch {
            '(' => {
                if group.is_some() {
                    return Err(SpecError::new(
                        "groups cannot be nested in an einops pattern",
                        at..at + 1,
                    )
                    .with_help("write one flat group of axes, such as `(h w c)`"));
                }
                group = Some((at, Vec::new()));
            }
            ')' => match group.take() {
                Some((open, members)) => items.push(PatternItem::Group {
                    members,
                    range: open..at + 1,
                }),
                None => {
                    return Err(SpecError::new("`)` without a matching `(`", at..at + 1)
                        .with_help("remove the `)` or open the group with `(`"))
                }
            },
            _ if ch.is_whitespace() => {}
            _ => return Err(bad_char(ch, at)),
        }
    }
    if let Some((start, word)) = word.take() {
        place(parse_word(&word, start)?, &mut items, &mut group);
    }
    if let Some((open, _)) = group {
        return Err(
            SpecError::new("unclosed `(` in the einops pattern", open..open + 1)
                .with_help("close the group with `)`"),
        );
    }
    check_repeats(&atoms(&items), side)?;
    Ok(items)
}

fn place(
    (kind, range): (AtomKind<'_>, Range<usize>),
    items: &mut Vec<PatternItem>,
    group: &mut Option<(usize, Vec<GroupMember>)>,
) {
    match group {
        Some((_, members)) => members.push(match kind {
            AtomKind::Axis(name) => GroupMember::Axis {
                name: name.to_string(),
                range,
            },
            AtomKind::Unit => GroupMember::Unit { range },
            AtomKind::Number(value) => GroupMember::Number { value, range },
            AtomKind::Ellipsis => GroupMember::Ellipsis { range },
        }),
        None => items.push(match kind {
            AtomKind::Axis(name) => PatternItem::Axis {
                name: name.to_string(),
                range,
            },
            AtomKind::Unit => PatternItem::Unit { range },
            AtomKind::Number(value) => PatternItem::Number { value, range },
            AtomKind::Ellipsis => PatternItem::Ellipsis { range },
        }),
    }
}

/// Classifies a run of identifier characters and dots, which starts at byte
/// `start` of the pattern.
fn parse_word(word: &str, start: usize) -> Result<(AtomKind<'_>, Range<usize>), SpecError> {
    let range = start..start + word.len();
    if word == "..." {
        return Ok((AtomKind::Ellipsis, range));
    }
    if word.contains("...") {
        let error = SpecError::new(
            format!("`...` must be separated from axis names by spaces in `{word}`"),
            range,
        );
        return Err(match ellipsis_set_apart(word) {
            Some(set_apart) => error.with_help(format!("write `{set_apart}`")),
            None => error,
        });
    }
    if let Some(index) = word.find('.') {
        let at = start + index;
        return Err(stray_dots(at..at + dot_run(word, index)));
    }
    if word.bytes().all(|byte| byte.is_ascii_digit()) {
        return parse_number(word, range);
    }
    if word.starts_with(|ch: char| ch.is_ascii_digit()) {
        return Err(SpecError::new(
            format!("`{word}` is not an axis name: names start with a letter or `_`"),
            range,
        ));
    }
    Ok((AtomKind::Axis(word), range))
}

fn parse_number(
    digits: &str,
    range: Range<usize>,
) -> Result<(AtomKind<'_>, Range<usize>), SpecError> {
    let significant = digits.trim_start_matches('0');
    if digits.len() > 1 && digits.starts_with('0') {
        let error = SpecError::new(format!("number `{digits}` has a leading zero"), range);
        return Err(if significant.is_empty() {
            error
        } else {
            error.with_help(format!("write `{significant}`"))
        });
    }
    match digits.parse::<u64>() {
        Ok(0) => Err(SpecError::new("an axis cannot have size 0", range)
            .with_help("use `1` or `()` for a unit axis")),
        Ok(1) => Ok((AtomKind::Unit, range)),
        Ok(value) => Ok((AtomKind::Number(value), range)),
        Err(_) => Err(SpecError::new(
            format!("number `{digits}` is too large for an axis size"),
            range,
        )),
    }
}

fn bad_char(ch: char, at: usize) -> SpecError {
    let range = at..at + ch.len_utf8();
    let error = SpecError::new(
        format!("{} cannot appear in an einops pattern", quote_char(ch)),
        range,
    );
    match ch {
        '-' | '>' => error.with_help("`->` separates the input axes from the output axes"),
        ',' => error.with_help("separate axes with spaces, not commas"),
        _ if ch.is_alphanumeric() => error.with_help("axis names are ASCII identifiers"),
        _ => error,
    }
}

/// A side names each axis at most once and has at most one `...`.
fn check_repeats(atoms: &[Atom<'_>], side: Side) -> Result<(), SpecError> {
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut ellipsis_seen = false;
    for atom in atoms {
        match atom.kind {
            AtomKind::Axis(name) => {
                if !seen.insert(name) {
                    return Err(SpecError::new(
                        format!("axis `{name}` appears twice on the {side} side"),
                        atom.range.clone(),
                    )
                    .with_help("an axis may appear once per side: give this one another name"));
                }
            }
            AtomKind::Ellipsis => {
                if ellipsis_seen {
                    return Err(SpecError::new(
                        format!("more than one `...` on the {side} side"),
                        atom.range.clone(),
                    )
                    .with_help(
                        "remove the second `...`: one `...` stands for all the other axes",
                    ));
                }
                ellipsis_seen = true;
            }
            AtomKind::Unit | AtomKind::Number(_) => {}
        }
    }
    Ok(())
}

/// Every axis named on `side` (with `atoms`) must also be among `others`,
/// the names of the other side.
fn check_names_kept(
    atoms: &[Atom<'_>],
    others: &BTreeSet<&str>,
    op: EinopsOp,
    side: Side,
) -> Result<(), SpecError> {
    let own = names(atoms);
    let Some((name, range)) = atoms.iter().find_map(|atom| match atom.kind {
        AtomKind::Axis(name) if !others.contains(name) => Some((name, atom.range.clone())),
        _ => None,
    }) else {
        return Ok(());
    };
    let other_side = match side {
        Side::Left => Side::Right,
        Side::Right => Side::Left,
    };
    let reason = match op {
        EinopsOp::Repeat => ": repeat cannot remove axes",
        EinopsOp::Reduce => ": reduce cannot create axes",
        EinopsOp::Rearrange => "",
    };
    let message = format!(
        "axis `{name}` is on the {side} side of the pattern but not on the {other_side}{reason}"
    );
    let unmatched: Vec<&str> = others
        .iter()
        .copied()
        .filter(|other| !own.contains(other))
        .collect();
    let near = closest(name, unmatched.iter().copied()).or(match unmatched.as_slice() {
        [only] => Some(*only),
        _ => None,
    });
    let help = match (near, side) {
        (Some(near), Side::Right) => format!("did you mean `{near}`?"),
        (Some(near), Side::Left) => {
            format!("the right side has `{near}`, which is not on the left: did you mean `{name}`?")
        }
        (None, Side::Left) if op == EinopsOp::Repeat => {
            format!("add `{name}` to the right side, or use `reduce` to remove it")
        }
        (None, Side::Left) => format!(
            "add `{name}` to the right side, or reduce it with `reduce(x, pattern, \"sum\")`"
        ),
        (None, Side::Right) => format!(
            "add `{name}` to the left side, or create it with `repeat(x, pattern, {name}=size)`"
        ),
    };
    Err(SpecError::new(message, range).with_help(help))
}

fn check_ellipsis(left: &[Atom<'_>], right: &[Atom<'_>], op: EinopsOp) -> Result<(), SpecError> {
    let find = |atoms: &[Atom<'_>]| {
        atoms
            .iter()
            .find(|atom| atom.kind == AtomKind::Ellipsis)
            .map(|atom| (atom.range.clone(), atom.grouped))
    };
    match (find(left), find(right)) {
        (None, Some((range, _))) => Err(SpecError::new(
            "`...` is on the right side of the pattern but not on the left",
            range,
        )
        .with_help("add `...` to the left side, or remove it from the right")),
        (Some((range, true)), _) => Err(SpecError::new(
            "`...` cannot be inside parentheses on the left side",
            range,
        )
        .with_help("write `...` without parentheses: `(...)` may only merge axes on the right")),
        (Some((range, false)), None) if op != EinopsOp::Reduce => Err(SpecError::new(
            "`...` is on the left side of the pattern but not on the right",
            range,
        )
        .with_help(if op == EinopsOp::Rearrange {
            "add `...` to the right side, or reduce those axes with `reduce`"
        } else {
            "add `...` to the right side"
        })),
        _ => Ok(()),
    }
}

/// Anonymous axes other than 1 may only be created (repeat's right side)
/// or reduced (reduce's left side).
fn check_numbers(atoms: &[Atom<'_>], op: EinopsOp, side: Side) -> Result<(), SpecError> {
    let allowed = matches!(
        (op, side),
        (EinopsOp::Reduce, Side::Left) | (EinopsOp::Repeat, Side::Right)
    );
    if allowed {
        return Ok(());
    }
    let Some((value, range)) = atoms.iter().find_map(|atom| match atom.kind {
        AtomKind::Number(value) => Some((value, atom.range.clone())),
        _ => None,
    }) else {
        return Ok(());
    };
    let help = match side {
        Side::Left => format!(
            "name the axis and give its size as a keyword argument, e.g. `a` with `a={value}`"
        ),
        Side::Right => format!("only `repeat` can create a new axis such as `{value}`"),
    };
    Err(SpecError::new(
        format!("anonymous axis `{value}` on the {side} side of a {op} pattern"),
        range,
    )
    .with_help(help))
}

#[cfg(test)]
mod tests;
