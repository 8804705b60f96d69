//! The syntax of einsum specs (LANGUAGE.md section 5, "einsum", and 10.14).
//!
//! Letter form `"bhid,bhjd->bhij"`: every ASCII letter is a label. Word form
//! `"b h i d, b h j d -> b h i j"`, chosen when some operand still contains
//! whitespace once trimmed: labels are space-separated identifiers. Both
//! allow one `...` per operand and an omitted `->`.
//!
//! This module checks only what the spec says by itself; operand counts,
//! ranks and sizes are the checker's. Every range is a byte range into the
//! spec string, on char boundaries.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

pub use super::spec_error::SpecError;
use super::spec_error::{
    arrows, dot_run, ellipsis_set_apart, is_identifier, is_identifier_char, quote_char, stray_dots,
    trimmed_range,
};
use crate::check::suggest::closest;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EinsumSpec {
    pub operands: Vec<OperandSpec>,
    /// `None` when the spec omits `->`; [`implicit_output`] gives the output
    /// NumPy would use then.
    pub output: Option<OperandSpec>,
    pub word_form: bool,
    pub arrow: Option<Range<usize>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperandSpec {
    pub items: Vec<SpecItem>,
    /// The operand's text without surrounding whitespace; empty (at the
    /// operand's position) for a scalar operand.
    pub range: Range<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecItem {
    Label { name: String, range: Range<usize> },
    Ellipsis { range: Range<usize> },
}

impl SpecItem {
    pub fn range(&self) -> Range<usize> {
        match self {
            SpecItem::Label { range, .. } | SpecItem::Ellipsis { range } => range.clone(),
        }
    }
}

impl OperandSpec {
    /// Where the operand's `...` is, if it has one.
    pub fn ellipsis(&self) -> Option<Range<usize>> {
        self.items.iter().find_map(|item| match item {
            SpecItem::Ellipsis { range } => Some(range.clone()),
            SpecItem::Label { .. } => None,
        })
    }

    /// The operand's labels in order, with their ranges.
    pub fn labels(&self) -> impl Iterator<Item = (&str, Range<usize>)> + '_ {
        self.items.iter().filter_map(|item| match item {
            SpecItem::Label { name, range } => Some((name.as_str(), range.clone())),
            SpecItem::Ellipsis { .. } => None,
        })
    }
}

const WORD_FORM_HELP: &str = "for labels longer than one letter, use the word form and \
     separate the labels with spaces: `\"b h i d, b h j d -> b h i j\"`";

const EMPTY_SPEC_HELP: &str = "write each input's labels separated by `,`, then `->` and \
     the output's labels, e.g. `\"ij,jk->ik\"`";

/// At most this many labels are listed in a help.
const MAX_LISTED_LABELS: usize = 12;

pub fn parse_einsum(spec: &str) -> Result<EinsumSpec, SpecError> {
    if spec.trim().is_empty() {
        return Err(SpecError::new("empty einsum spec", 0..spec.len()).with_help(EMPTY_SPEC_HELP));
    }
    if let Some(second) = arrows(spec).get(1) {
        return Err(
            SpecError::new("an einsum spec has at most one `->`", second.clone())
                .with_help("write the inputs, one `->`, then the single output"),
        );
    }
    let (inputs_text, output_text, arrow) = match spec.split_once("->") {
        Some((inputs, output)) => (inputs, Some(output), Some(inputs.len()..inputs.len() + 2)),
        None => (spec, None, None),
    };

    let mut inputs = Vec::new();
    let mut offset = 0;
    for text in inputs_text.split(',') {
        inputs.push(Segment::new(text, offset));
        offset += text.len() + 1;
    }
    let output = match (output_text, &arrow) {
        (Some(text), Some(arrow)) => {
            if let Some(comma) = text.find(',') {
                let at = arrow.end + comma;
                return Err(SpecError::new(
                    "an einsum spec has one output: unexpected `,`",
                    at..at + 1,
                )
                .with_help("list the output's labels after `->` without commas"));
            }
            Some(Segment::new(text, arrow.end))
        }
        _ => None,
    };

    let word_form = inputs
        .iter()
        .chain(output.iter())
        .any(|segment| segment.text.contains(char::is_whitespace));
    let operands = inputs
        .iter()
        .map(|segment| segment.parse(word_form))
        .collect::<Result<Vec<_>, _>>()?;
    let output = output.map(|segment| segment.parse(word_form)).transpose()?;
    if let Some(output) = &output {
        check_output(&operands, output, word_form)?;
    }
    Ok(EinsumSpec {
        operands,
        output,
        word_form,
        arrow,
    })
}

/// The output NumPy gives a spec without `->`: `...` first if any operand
/// has it, then the labels that appear exactly once across all operands,
/// sorted by code point (uppercase before lowercase; word-form labels by
/// string). Each item's range is its occurrence in the inputs; the
/// operand's range is empty, just after the last input, where an explicit
/// output would be written.
pub fn implicit_output(spec: &EinsumSpec) -> OperandSpec {
    let end = spec.operands.last().map_or(0, |operand| operand.range.end);
    let mut items = Vec::new();
    if let Some(range) = spec.operands.iter().find_map(OperandSpec::ellipsis) {
        items.push(SpecItem::Ellipsis { range });
    }
    let mut occurrences: BTreeMap<&str, (usize, Range<usize>)> = BTreeMap::new();
    for (name, range) in spec.operands.iter().flat_map(OperandSpec::labels) {
        let entry = occurrences.entry(name).or_insert((0, range));
        entry.0 = entry.0.saturating_add(1);
    }
    items.extend(
        occurrences
            .into_iter()
            .filter(|(_, (count, _))| *count == 1)
            .map(|(name, (_, range))| SpecItem::Label {
                name: name.to_string(),
                range,
            }),
    );
    OperandSpec {
        items,
        range: end..end,
    }
}

/// One operand's text, trimmed, and the byte offset where it starts.
struct Segment<'a> {
    text: &'a str,
    start: usize,
}

impl<'a> Segment<'a> {
    fn new(text: &'a str, offset: usize) -> Segment<'a> {
        Segment {
            text: text.trim(),
            start: trimmed_range(text, offset).start,
        }
    }

    fn range(&self) -> Range<usize> {
        self.start..self.start + self.text.len()
    }

    fn parse(&self, word_form: bool) -> Result<OperandSpec, SpecError> {
        let items = if word_form {
            self.parse_words()?
        } else {
            self.parse_letters()?
        };
        Ok(OperandSpec {
            items,
            range: self.range(),
        })
    }

    fn parse_letters(&self) -> Result<Vec<SpecItem>, SpecError> {
        let mut items = Vec::new();
        let mut chars = self.text.char_indices();
        while let Some((index, ch)) = chars.next() {
            let at = self.start + index;
            if ch.is_ascii_alphabetic() {
                items.push(SpecItem::Label {
                    name: ch.to_string(),
                    range: at..at + 1,
                });
            } else if ch == '.' {
                let dots = dot_run(self.text, index);
                if dots < 3 {
                    return Err(stray_dots(at..at + dots));
                }
                chars.nth(1);
                push_ellipsis(&mut items, at..at + 3)?;
            } else {
                return Err(bad_char(ch, at, false));
            }
        }
        Ok(items)
    }

    fn parse_words(&self) -> Result<Vec<SpecItem>, SpecError> {
        let mut items = Vec::new();
        for (index, word) in words(self.text) {
            let range = self.start + index..self.start + index + word.len();
            if word == "..." {
                push_ellipsis(&mut items, range)?;
            } else if is_identifier(&word) {
                items.push(SpecItem::Label { name: word, range });
            } else {
                return Err(bad_word(&word, range));
            }
        }
        Ok(items)
    }
}

/// The whitespace-separated words of `text` with their byte offsets.
fn words(text: &str) -> Vec<(usize, String)> {
    let mut words = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (index, ch) in text.char_indices() {
        if ch.is_whitespace() {
            words.extend(current.take());
        } else {
            current
                .get_or_insert_with(|| (index, String::new()))
                .1
                .push(ch);
        }
    }
    words.extend(current);
    words
}

fn push_ellipsis(items: &mut Vec<SpecItem>, range: Range<usize>) -> Result<(), SpecError> {
    if items
        .iter()
        .any(|item| matches!(item, SpecItem::Ellipsis { .. }))
    {
        return Err(
            SpecError::new("an operand may contain only one `...`", range)
                .with_help("remove the second `...`: one `...` stands for all the broadcast axes"),
        );
    }
    items.push(SpecItem::Ellipsis { range });
    Ok(())
}

fn bad_char(ch: char, at: usize, word_form: bool) -> SpecError {
    let range = at..at + ch.len_utf8();
    let quoted = quote_char(ch);
    if ch == '-' || ch == '>' {
        SpecError::new(format!("stray {quoted} in the einsum spec"), range)
            .with_help("`->` separates the inputs from the output")
    } else if word_form {
        SpecError::new(
            format!("{quoted} cannot appear in an einsum label: labels are identifiers"),
            range,
        )
    } else if is_identifier_char(ch) {
        SpecError::new(
            format!("{quoted} is not an einsum label: each label is one ASCII letter"),
            range,
        )
        .with_help(WORD_FORM_HELP)
    } else {
        SpecError::new(
            format!("{quoted} is not an einsum label: labels are ASCII letters"),
            range,
        )
    }
}

/// The error for a word-form word that is neither `...` nor an identifier.
fn bad_word(word: &str, range: Range<usize>) -> SpecError {
    let start = range.start;
    if let Some((index, ch)) = word
        .char_indices()
        .find(|(_, ch)| !is_identifier_char(*ch) && *ch != '.')
    {
        return bad_char(ch, start + index, true);
    }
    if word.contains("...") {
        let error = SpecError::new(
            format!("`...` must be separated from labels by spaces in `{word}`"),
            range,
        );
        return match ellipsis_set_apart(word) {
            Some(set_apart) => error.with_help(format!("write `{set_apart}`")),
            None => error,
        };
    }
    if let Some(index) = word.find('.') {
        let at = start + index;
        return stray_dots(at..at + dot_run(word, index));
    }
    SpecError::new(
        format!("`{word}` is not an einsum label: labels start with a letter or `_`"),
        range,
    )
}

/// Checks the explicit output against the inputs: `...` only if an input
/// has it, every label from some input, no label twice.
fn check_output(
    operands: &[OperandSpec],
    output: &OperandSpec,
    word_form: bool,
) -> Result<(), SpecError> {
    let inputs_have_ellipsis = operands.iter().any(|operand| operand.ellipsis().is_some());
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut input_labels: Vec<&str> = Vec::new();
    for (name, _) in operands.iter().flat_map(OperandSpec::labels) {
        let count = counts.entry(name).or_insert(0);
        if *count == 0 {
            input_labels.push(name);
        }
        *count = count.saturating_add(1);
    }
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for item in &output.items {
        match item {
            SpecItem::Ellipsis { range } if !inputs_have_ellipsis => {
                return Err(SpecError::new(
                    "`...` in the output, but no input has `...`",
                    range.clone(),
                )
                .with_help("remove `...` from the output, or add it to the inputs it broadcasts"));
            }
            SpecItem::Ellipsis { .. } => {}
            SpecItem::Label { name, range } => {
                if !counts.contains_key(name.as_str()) {
                    let error = SpecError::new(
                        format!("label `{name}` in the output does not appear in any input"),
                        range.clone(),
                    );
                    let help = absent_label_help(name, &input_labels, &counts, output, word_form);
                    return Err(error.with_help(help));
                }
                if !seen.insert(name) {
                    return Err(SpecError::new(
                        format!("label `{name}` appears more than once in the output"),
                        range.clone(),
                    )
                    .with_help(format!("remove the repeated `{name}`")));
                }
            }
        }
    }
    Ok(())
}

/// The most useful help for an output label no input has: a near input
/// label not yet in the output, a word-form label that swallowed it, the
/// one free input label the output lacks, or else the inputs' labels.
fn absent_label_help(
    name: &str,
    input_labels: &[&str],
    counts: &BTreeMap<&str, usize>,
    output: &OperandSpec,
    word_form: bool,
) -> String {
    let output_labels: BTreeSet<&str> = output.labels().map(|(label, _)| label).collect();
    let unused: Vec<&str> = input_labels
        .iter()
        .copied()
        .filter(|label| !output_labels.contains(label))
        .collect();
    if let Some(near) = closest(name, unused.iter().copied()) {
        return format!("did you mean `{near}`?");
    }
    if word_form {
        if let Some(joined) = input_labels
            .iter()
            .filter(|_| name.len() == 1)
            .find(|label| {
                label.len() > 1
                    && label.chars().all(|ch| ch.is_ascii_alphabetic())
                    && label.contains(name)
            })
        {
            return format!(
                "an operand contains a space, so the spec is in word form and `{joined}` is \
                 one label: separate every label with spaces, or remove the spaces"
            );
        }
    }
    let free: Vec<&str> = unused
        .iter()
        .copied()
        .filter(|label| counts.get(label) == Some(&1))
        .collect();
    if let [only] = free.as_slice() {
        return format!("did you mean `{only}`?");
    }
    let mut listed: Vec<String> = input_labels
        .iter()
        .take(MAX_LISTED_LABELS)
        .map(|label| format!("`{label}`"))
        .collect();
    if input_labels.len() > MAX_LISTED_LABELS {
        listed.push("...".to_string());
    }
    if listed.is_empty() {
        "the inputs have no labels: they are scalars".to_string()
    } else {
        format!(
            "every output label must appear in an input; the inputs have {}",
            listed.join(", ")
        )
    }
}

#[cfg(test)]
mod tests;
