//! NumPy's array layout (`_formatArray` without the legacy modes): which
//! items show, brackets, hanging indents and line wrapping.

use ndarray::ArrayViewD;

/// More elements than this and the tensor is summarised.
const THRESHOLD: usize = 1000;
/// Items kept at each end of a summarised axis.
const EDGE_ITEMS: usize = 3;
const LINE_WIDTH: usize = 75;
const SEPARATOR: &str = ", ";
const ELLIPSIS: &str = "...";

/// Lays out `array`, whose shown items `words_of` turns into one word each.
///
/// `words_of` gets the shown items in row-major order (all of them, or only
/// the edges when summarising: NumPy also sizes its columns from the edges
/// only) and whether the tensor is 0-d.
pub(super) fn render<T: Copy>(
    array: &ArrayViewD<T>,
    words_of: impl FnOnce(&[T], bool) -> Vec<String>,
) -> String {
    if array.is_empty() {
        return "[]".to_owned();
    }
    let summarise = array.len() > THRESHOLD;
    let shown = shown_items(array, summarise);
    let words = words_of(&shown, array.ndim() == 0);
    nest(array.shape(), summarise, words.into_iter())
}

/// The positions an axis of `len` shows: its items, or its edges and `...`.
#[derive(Clone, Copy)]
struct Slots {
    count: usize,
    ellipsis: Option<usize>,
}

impl Slots {
    fn new(len: usize, summarise: bool) -> Slots {
        if summarise && len > 2 * EDGE_ITEMS {
            Slots {
                count: 2 * EDGE_ITEMS + 1,
                ellipsis: Some(EDGE_ITEMS),
            }
        } else {
            Slots {
                count: len,
                ellipsis: None,
            }
        }
    }
}

/// The indices along an axis of `len` that a summary keeps.
fn shown_indices(len: usize) -> Vec<usize> {
    if len > 2 * EDGE_ITEMS {
        (0..EDGE_ITEMS).chain(len - EDGE_ITEMS..len).collect()
    } else {
        (0..len).collect()
    }
}

/// The items that will print, in row-major order, reading nothing else.
fn shown_items<T: Copy>(array: &ArrayViewD<T>, summarise: bool) -> Vec<T> {
    if !summarise {
        return array.iter().copied().collect();
    }
    let kept: Vec<Vec<usize>> = array
        .shape()
        .iter()
        .map(|&len| shown_indices(len))
        .collect();
    let mut counters = vec![0; kept.len()];
    let mut index = vec![0; kept.len()];
    let mut items = Vec::new();
    loop {
        for ((position, indices), &counter) in index.iter_mut().zip(&kept).zip(&counters) {
            if let Some(&shown) = indices.get(counter) {
                *position = shown;
            }
        }
        if let Some(&item) = array.get(index.as_slice()) {
            items.push(item);
        }
        if !advance(&mut counters, &kept) {
            return items;
        }
    }
}

/// Steps an odometer whose digit `k` counts through `kept[k]`; false once
/// it wraps around.
fn advance(counters: &mut [usize], kept: &[Vec<usize>]) -> bool {
    for (counter, indices) in counters.iter_mut().zip(kept).rev() {
        *counter += 1;
        if *counter < indices.len() {
            return true;
        }
        *counter = 0;
    }
    false
}

/// Brackets, separators and indents around the words of a non-empty tensor.
///
/// NumPy builds this recursively, one level per axis; this walks the levels
/// with an odometer instead so that no rank can exhaust the stack. A block
/// at depth `d` always starts at column `d`, which is what lets it be
/// written in one pass.
fn nest(shape: &[usize], summarise: bool, mut words: impl Iterator<Item = String>) -> String {
    let Some((&row_len, outer)) = shape.split_last() else {
        return words.next().unwrap_or_default();
    };
    let row_depth = outer.len();
    let row_slots = Slots::new(row_len, summarise);
    let mut out = String::new();
    let mut counters = vec![0; outer.len()];
    let mut open_from = 0;
    loop {
        for _ in open_from..=row_depth {
            out.push('[');
        }
        write_row(&mut out, row_depth, row_slots, &mut words);
        let mut next_level = None;
        for (level, (counter, &len)) in counters.iter_mut().zip(outer).enumerate().rev() {
            *counter += 1;
            let slots = Slots::new(len, summarise);
            if *counter < slots.count {
                let separator = block_separator(level, row_depth);
                out.push_str(&separator);
                if slots.ellipsis == Some(*counter) {
                    out.push_str(ELLIPSIS);
                    out.push_str(&separator);
                    *counter += 1;
                }
                next_level = Some(level);
                break;
            }
            *counter = 0;
            out.push(']');
        }
        match next_level {
            Some(level) => open_from = level + 1,
            None => return out,
        }
    }
}

/// What follows a block at `level`: a comma, one newline per level below
/// it (so a blank line between matrices), and the hanging indent.
fn block_separator(level: usize, row_depth: usize) -> String {
    let newlines = "\n".repeat(row_depth - level);
    let indent = " ".repeat(level + 1);
    format!(",{newlines}{indent}")
}

/// One innermost row after its opening bracket, wrapped NumPy's way.
fn write_row(
    out: &mut String,
    depth: usize,
    slots: Slots,
    words: &mut impl Iterator<Item = String>,
) {
    let indent = depth + 1;
    // Each enclosing bracket costs a column, and NumPy keeps one more for
    // the comma or bracket that follows a word.
    let limit = LINE_WIDTH.saturating_sub(depth + 1);
    let mut line_len = indent;
    for slot in 0..slots.count {
        let item;
        let word = if slots.ellipsis == Some(slot) {
            ELLIPSIS
        } else {
            item = words.next().unwrap_or_default();
            item.as_str()
        };
        if line_len + word.len() > limit && line_len > indent {
            out.truncate(out.trim_end_matches(' ').len());
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent));
            line_len = indent;
        }
        out.push_str(word);
        line_len += word.len();
        if slot + 1 < slots.count {
            out.push_str(SEPARATOR);
            line_len += SEPARATOR.len();
        }
    }
    out.push(']');
}
