use super::*;
use proptest::prelude::*;

/// An operand's items as written: labels by name, `...` as itself.
fn items(operand: &OperandSpec) -> Vec<&str> {
    operand
        .items
        .iter()
        .map(|item| match item {
            SpecItem::Label { name, .. } => name.as_str(),
            SpecItem::Ellipsis { .. } => "...",
        })
        .collect()
}

fn inputs(spec: &EinsumSpec) -> Vec<Vec<&str>> {
    spec.operands.iter().map(items).collect()
}

fn output(spec: &EinsumSpec) -> Option<Vec<&str>> {
    spec.output.as_ref().map(items)
}

fn parse_ok(spec: &str) -> EinsumSpec {
    match parse_einsum(spec) {
        Ok(parsed) => parsed,
        Err(error) => panic!("{spec:?} should parse, got {error:?}"),
    }
}

fn error(spec: &str) -> SpecError {
    match parse_einsum(spec) {
        Ok(parsed) => panic!("{spec:?} should fail, parsed as {parsed:?}"),
        Err(error) => error,
    }
}

/// The implicit output of `spec` (which must have no `->`), as written.
fn implicit(spec: &str) -> Vec<String> {
    let parsed = parse_ok(spec);
    assert_eq!(parsed.output, None);
    items(&implicit_output(&parsed))
        .into_iter()
        .map(str::to_string)
        .collect()
}

fn letters(text: &str) -> Vec<&str> {
    text.split("").filter(|part| !part.is_empty()).collect()
}

#[test]
fn conformance_letter_specs_parse() {
    let cases: &[(&str, &[&str], Option<&str>)] = &[
        ("bhid,bhjd->bhij", &["bhid", "bhjd"], Some("bhij")),
        ("bhij,bhjd->bhid", &["bhij", "bhjd"], Some("bhid")),
        ("bij,bjk->bik", &["bij", "bjk"], Some("bik")),
        ("btd,bsd->bts", &["btd", "bsd"], Some("bts")),
        ("btd,dh->bth", &["btd", "dh"], Some("bth")),
        ("i,i->", &["i", "i"], Some("")),
        ("i,j->ij", &["i", "j"], Some("ij")),
        ("ii->", &["ii"], Some("")),
        ("ii->i", &["ii"], Some("i")),
        ("ij,j->i", &["ij", "j"], Some("i")),
        ("ij,jk->ik", &["ij", "jk"], Some("ik")),
        ("ij->ji", &["ij"], Some("ji")),
        ("ij,jk", &["ij", "jk"], None),
        ("ba", &["ba"], None),
    ];
    for (spec, expected_inputs, expected_output) in cases {
        let parsed = parse_ok(spec);
        assert!(!parsed.word_form, "{spec}");
        let expected: Vec<Vec<&str>> = expected_inputs.iter().map(|op| letters(op)).collect();
        assert_eq!(inputs(&parsed), expected, "{spec}");
        assert_eq!(output(&parsed), expected_output.map(letters), "{spec}");
    }
}

#[test]
fn conformance_ellipsis_specs_parse() {
    let parsed = parse_ok("...ij,...jk->...ik");
    assert_eq!(
        inputs(&parsed),
        [vec!["...", "i", "j"], vec!["...", "j", "k"]]
    );
    assert_eq!(output(&parsed), Some(vec!["...", "i", "k"]));
    assert_eq!(parsed.operands[0].ellipsis(), Some(0..3));
    assert_eq!(parsed.operands[1].ellipsis(), Some(6..9));
    assert_eq!(
        parsed.output.as_ref().and_then(|o| o.ellipsis()),
        Some(13..16)
    );
    let implicit = parse_ok("...ij,...jk");
    assert_eq!(implicit.output, None);
    assert_eq!(inputs(&implicit), inputs(&parsed));
}

#[test]
fn letter_form_ranges_point_at_each_label() {
    let parsed = parse_ok("bhid,bhjd->bhij");
    assert_eq!(parsed.arrow, Some(9..11));
    assert_eq!(parsed.operands[0].range, 0..4);
    assert_eq!(parsed.operands[1].range, 5..9);
    let output = parsed.output.unwrap();
    assert_eq!(output.range, 11..15);
    let ranges: Vec<_> = parsed.operands[1].labels().map(|(_, r)| r).collect();
    assert_eq!(ranges, [5..6, 6..7, 7..8, 8..9]);
    assert_eq!(
        output.items[3],
        SpecItem::Label {
            name: "j".to_string(),
            range: 14..15
        }
    );
}

#[test]
fn word_form_spec_example_parses_with_ranges() {
    let spec = "b h i d, b h j d -> b h i j";
    let parsed = parse_ok(spec);
    assert!(parsed.word_form);
    assert_eq!(
        inputs(&parsed),
        [vec!["b", "h", "i", "d"], vec!["b", "h", "j", "d"]]
    );
    assert_eq!(output(&parsed), Some(vec!["b", "h", "i", "j"]));
    assert_eq!(parsed.operands[0].range, 0..7);
    assert_eq!(parsed.operands[1].range, 9..16);
    assert_eq!(parsed.arrow, Some(17..19));
    let output = parsed.output.unwrap();
    assert_eq!(output.range, 20..27);
    assert_eq!(output.items[3].range(), 26..27);
}

#[test]
fn word_form_takes_multi_letter_labels() {
    let spec = "B H tq Dh, B H tk Dh -> B H tq tk";
    let parsed = parse_ok(spec);
    assert!(parsed.word_form);
    assert_eq!(
        inputs(&parsed),
        [vec!["B", "H", "tq", "Dh"], vec!["B", "H", "tk", "Dh"]]
    );
    assert_eq!(output(&parsed), Some(vec!["B", "H", "tq", "tk"]));
    let (name, range) = parsed.operands[0].labels().nth(2).unwrap();
    assert_eq!((name, &spec[range]), ("tq", "tq"));
}

#[test]
fn word_form_ellipsis_and_tabs() {
    let parsed = parse_ok("... i\tj, ... j k->... i k");
    assert!(parsed.word_form);
    assert_eq!(
        inputs(&parsed),
        [vec!["...", "i", "j"], vec!["...", "j", "k"]]
    );
    assert_eq!(output(&parsed), Some(vec!["...", "i", "k"]));
}

#[test]
fn whitespace_around_separators_keeps_letter_form() {
    let spec = " ij , jk -> ik ";
    let parsed = parse_ok(spec);
    assert!(!parsed.word_form);
    assert_eq!(inputs(&parsed), [vec!["i", "j"], vec!["j", "k"]]);
    assert_eq!(parsed.operands[0].range, 1..3);
    assert_eq!(parsed.operands[1].range, 6..8);
    assert_eq!(parsed.arrow, Some(9..11));
    assert_eq!(parsed.output.unwrap().range, 12..14);
    assert!(!parse_ok("ij, jk -> ik").word_form);
}

#[test]
fn empty_operands_and_outputs_are_scalars() {
    let parsed = parse_ok("i,i->");
    let output = parsed.output.unwrap();
    assert!(output.items.is_empty());
    assert_eq!(output.range, 5..5);
    let parsed = parse_ok("->");
    assert_eq!(parsed.operands.len(), 1);
    assert!(parsed.operands[0].items.is_empty());
    assert_eq!(parsed.operands[0].range, 0..0);
    let parsed = parse_ok("ij, ->ij");
    assert_eq!(parsed.operands[1].range, 4..4);
}

#[test]
fn implicit_output_follows_numpy() {
    assert_eq!(implicit("ij,jk"), ["i", "k"]);
    assert_eq!(implicit("ba"), ["a", "b"]);
    assert_eq!(implicit("...ij,...jk"), ["...", "i", "k"]);
    assert!(implicit("ii").is_empty());
    assert_eq!(implicit("aB"), ["B", "a"]);
    assert_eq!(implicit("ij,...jk"), ["...", "i", "k"]);
    assert_eq!(implicit("i,i"), Vec::<String>::new());
    assert_eq!(implicit("b h i d, b h j d"), ["i", "j"]);
    assert_eq!(implicit("tq B, B tk, Tz"), ["Tz", "tk", "tq"]);
}

#[test]
fn implicit_output_points_at_the_inputs() {
    let parsed = parse_ok("...ij,jk");
    let output = implicit_output(&parsed);
    assert_eq!(output.range, 8..8);
    let ranges: Vec<_> = output.items.iter().map(SpecItem::range).collect();
    assert_eq!(ranges, [0..3, 3..4, 7..8]);
}

fn assert_error(spec: &str, range: Range<usize>, message: &str, help: Option<&str>) {
    let error = error(spec);
    assert_eq!(error.range, range, "{spec}: {error:?}");
    assert_eq!(error.message, message, "{spec}");
    if let Some(help) = help {
        assert_eq!(error.help.as_deref(), Some(help), "{spec}");
    }
}

#[test]
fn empty_spec_is_an_error() {
    assert_error("", 0..0, "empty einsum spec", None);
    assert_error("  ", 0..2, "empty einsum spec", None);
    assert!(error("").help.is_some());
}

#[test]
fn second_arrow_is_an_error() {
    assert_error(
        "ij->jk->k",
        6..8,
        "an einsum spec has at most one `->`",
        None,
    );
}

#[test]
fn bad_characters_are_pointed_at() {
    assert_error(
        "i2,jk",
        1..2,
        "`2` is not an einsum label: each label is one ASCII letter",
        Some(WORD_FORM_HELP),
    );
    assert_error(
        "ij;jk",
        2..3,
        "`;` is not an einsum label: labels are ASCII letters",
        None,
    );
    assert_error(
        "ij,jk-ik",
        5..6,
        "stray `-` in the einsum spec",
        Some("`->` separates the inputs from the output"),
    );
    assert_error("ij>ik", 2..3, "stray `>` in the einsum spec", None);
    assert_error(
        "aé,b",
        1..3,
        "`é` is not an einsum label: labels are ASCII letters",
        None,
    );
    assert_error(
        "ij,jk->ik,k",
        9..10,
        "an einsum spec has one output: unexpected `,`",
        None,
    );
    assert_error("i..j", 1..3, "`.` may only appear as part of `...`", None);
    assert_error("ij->i.", 5..6, "`.` may only appear as part of `...`", None);
}

#[test]
fn bad_words_are_pointed_at() {
    assert_error("b h-1, x y", 3..4, "stray `-` in the einsum spec", None);
    assert_error(
        "b h$ d, x y",
        3..4,
        "`$` cannot appear in an einsum label: labels are identifiers",
        None,
    );
    assert_error(
        "b 2h, x y",
        2..4,
        "`2h` is not an einsum label: labels start with a letter or `_`",
        None,
    );
    assert_error(
        "...b h, x y",
        0..4,
        "`...` must be separated from labels by spaces in `...b`",
        Some("write `... b`"),
    );
    assert_error(
        "a b...c, x y",
        2..7,
        "`...` must be separated from labels by spaces in `b...c`",
        Some("write `b ... c`"),
    );
    assert_eq!(error("a ......, x y").help, None);
    assert_error(
        "a b.c, d e",
        3..4,
        "`.` may only appear as part of `...`",
        None,
    );
}

#[test]
fn two_ellipses_in_one_operand_are_an_error() {
    assert_error(
        "...i...j",
        4..7,
        "an operand may contain only one `...`",
        None,
    );
    assert_error(
        "ij,...j......->ij",
        7..10,
        "an operand may contain only one `...`",
        None,
    );
    assert_error(
        "... i ... j",
        6..9,
        "an operand may contain only one `...`",
        None,
    );
}

#[test]
fn ellipsis_in_output_needs_one_in_an_input() {
    assert_error(
        "ij->...i",
        4..7,
        "`...` in the output, but no input has `...`",
        Some("remove `...` from the output, or add it to the inputs it broadcasts"),
    );
}

#[test]
fn output_label_absent_from_inputs() {
    assert_error(
        "ij,jk->il",
        8..9,
        "label `l` in the output does not appear in any input",
        Some("did you mean `k`?"),
    );
    assert_error(
        "b h i d, b h j d -> b h i k",
        26..27,
        "label `k` in the output does not appear in any input",
        Some("did you mean `j`?"),
    );
    assert_error(
        "ij,jk->iK",
        8..9,
        "label `K` in the output does not appear in any input",
        Some("did you mean `k`?"),
    );
    assert_error(
        "B H tq Dh, B H tk Dh -> B H tq tx",
        31..33,
        "label `tx` in the output does not appear in any input",
        Some("did you mean `tk`?"),
    );
    assert_error(
        "ijk,kl->iz",
        9..10,
        "label `z` in the output does not appear in any input",
        Some("every output label must appear in an input; the inputs have `i`, `j`, `k`, `l`"),
    );
    assert_error(
        ",->z",
        3..4,
        "label `z` in the output does not appear in any input",
        Some("the inputs have no labels: they are scalars"),
    );
}

#[test]
fn absent_label_swallowed_by_word_form_gets_explained() {
    let error = error("ij, jk -> i k");
    assert_eq!(error.range, 10..11);
    let help = error.help.unwrap();
    assert!(help.contains("word form and `ij` is one label"), "{help}");
}

#[test]
fn long_label_lists_are_cut() {
    let spec = "abcdefghijklmnop->z";
    let help = error(spec).help.unwrap();
    assert!(help.ends_with("`k`, `l`, ..."), "{help}");
}

#[test]
fn repeated_output_label_is_an_error() {
    assert_error(
        "ij,jk->ii",
        8..9,
        "label `i` appears more than once in the output",
        Some("remove the repeated `i`"),
    );
    assert_error(
        "b i, i j -> b j b",
        16..17,
        "label `b` appears more than once in the output",
        Some("remove the repeated `b`"),
    );
}

/// Characters that exercise every branch of both forms, multi-byte ones
/// included.
fn spec_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "i", "j", "K", "b", "tq", "_", "2", "0", ".", "...", ",", "->", "-", ">", " ", "\t", "é",
        "…", "😀", "\u{3000}", "(", ")", "\0",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

fn assert_in_bounds(spec: &str, range: &Range<usize>) {
    assert!(range.start <= range.end, "{spec:?}: {range:?}");
    assert!(spec.get(range.clone()).is_some(), "{spec:?}: {range:?}");
}

fn check_any(spec: &str) {
    match parse_einsum(spec) {
        Ok(parsed) => {
            let implicit = implicit_output(&parsed);
            let operands = parsed.operands.iter().chain(parsed.output.iter());
            for operand in operands.chain(std::iter::once(&implicit)) {
                assert_in_bounds(spec, &operand.range);
                for item in &operand.items {
                    let range = item.range();
                    assert_in_bounds(spec, &range);
                    let expected = match item {
                        SpecItem::Label { name, .. } => name.as_str(),
                        SpecItem::Ellipsis { .. } => "...",
                    };
                    assert_eq!(spec.get(range), Some(expected), "{spec:?}");
                }
            }
            if let Some(arrow) = &parsed.arrow {
                assert_eq!(spec.get(arrow.clone()), Some("->"));
            }
        }
        Err(error) => assert_in_bounds(spec, &error.range),
    }
}

proptest! {
    #[test]
    fn structured_specs_never_panic_and_stay_in_bounds(spec in spec_text()) {
        check_any(&spec);
    }

    #[test]
    fn arbitrary_strings_never_panic_and_stay_in_bounds(spec in any::<String>()) {
        check_any(&spec);
    }
}
