use super::*;
use proptest::prelude::*;

fn render_member(member: &GroupMember) -> String {
    match member {
        GroupMember::Axis { name, .. } => name.clone(),
        GroupMember::Unit { .. } => "1".to_string(),
        GroupMember::Number { value, .. } => value.to_string(),
        GroupMember::Ellipsis { .. } => "...".to_string(),
    }
}

fn render_side(items: &[PatternItem]) -> String {
    let words: Vec<String> = items
        .iter()
        .map(|item| match item {
            PatternItem::Axis { name, .. } => name.clone(),
            PatternItem::Group { members, .. } => {
                let members: Vec<String> = members.iter().map(render_member).collect();
                format!("({})", members.join(" "))
            }
            PatternItem::Unit { .. } => "1".to_string(),
            PatternItem::Number { value, .. } => value.to_string(),
            PatternItem::Ellipsis { .. } => "...".to_string(),
        })
        .collect();
    words.join(" ")
}

/// The pattern as the parser understood it, in canonical spacing.
fn render(pattern: &EinopsPattern) -> String {
    format!(
        "{} -> {}",
        render_side(&pattern.lhs),
        render_side(&pattern.rhs)
    )
}

fn parsed(pattern: &str) -> EinopsPattern {
    match parse_einops(pattern) {
        Ok(parsed) => parsed,
        Err(error) => panic!("{pattern:?} should parse, got {error:?}"),
    }
}

fn assert_parse_error(pattern: &str, range: Range<usize>, message: &str, help: Option<&str>) {
    let error = match parse_einops(pattern) {
        Ok(parsed) => panic!("{pattern:?} should fail, parsed as {parsed:?}"),
        Err(error) => error,
    };
    assert_eq!(error.range, range, "{pattern}: {error:?}");
    assert_eq!(error.message, message, "{pattern}");
    if let Some(help) = help {
        assert_eq!(error.help.as_deref(), Some(help), "{pattern}");
    }
}

fn axes_error(pattern: &str, op: EinopsOp) -> SpecError {
    match check_axes(&parsed(pattern), op) {
        Ok(()) => panic!("{pattern:?} should fail for {op}"),
        Err(error) => error,
    }
}

fn assert_axes_error(
    pattern: &str,
    op: EinopsOp,
    range: Range<usize>,
    message: &str,
    help: Option<&str>,
) {
    let error = axes_error(pattern, op);
    assert_eq!(error.range, range, "{pattern} ({op}): {error:?}");
    assert_eq!(error.message, message, "{pattern} ({op})");
    if let Some(help) = help {
        assert_eq!(error.help.as_deref(), Some(help), "{pattern} ({op})");
    }
}

fn assert_axes_ok(pattern: &str, op: EinopsOp) {
    if let Err(error) = check_axes(&parsed(pattern), op) {
        panic!("{pattern:?} should pass for {op}, got {error:?}");
    }
}

const ALL_OPS: [EinopsOp; 3] = [EinopsOp::Rearrange, EinopsOp::Reduce, EinopsOp::Repeat];

#[test]
fn conformance_patterns_parse_and_pass() {
    let cases = [
        ("b h t d -> b t (h d)", EinopsOp::Rearrange),
        ("B T (H Dh) -> B H T Dh", EinopsOp::Rearrange),
        ("b t (h d) -> b h t d", EinopsOp::Rearrange),
        ("b t d -> b d t", EinopsOp::Rearrange),
        ("b (h d) -> b h d", EinopsOp::Rearrange),
        ("b c (h h2) (w w2) -> b c h w", EinopsOp::Reduce),
        ("b c h w -> b 1 h w", EinopsOp::Reduce),
        ("b c h w -> b c () ()", EinopsOp::Reduce),
        ("b c h w -> b c", EinopsOp::Reduce),
        ("h w -> (h h2) w", EinopsOp::Repeat),
        ("h w -> b h w", EinopsOp::Repeat),
        ("h w -> h (w w2)", EinopsOp::Repeat),
        ("h w -> h w c", EinopsOp::Repeat),
    ];
    for (pattern, op) in cases {
        assert_eq!(render(&parsed(pattern)), pattern);
        assert_axes_ok(pattern, op);
    }
}

#[test]
fn conformance_missing_axis_is_pointed_at() {
    assert_axes_error(
        "b t d -> b d",
        EinopsOp::Rearrange,
        2..3,
        "axis `t` is on the left side of the pattern but not on the right",
        Some("add `t` to the right side, or reduce it with `reduce(x, pattern, \"sum\")`"),
    );
}

#[test]
fn ranges_point_at_axes_groups_and_sides() {
    let pattern = parsed("b t (h d) -> b h t d");
    assert_eq!(pattern.lhs_range, 0..9);
    assert_eq!(pattern.rhs_range, 13..20);
    assert_eq!(
        pattern.lhs[2],
        PatternItem::Group {
            members: vec![
                GroupMember::Axis {
                    name: "h".to_string(),
                    range: 5..6
                },
                GroupMember::Axis {
                    name: "d".to_string(),
                    range: 7..8
                },
            ],
            range: 4..9,
        }
    );
    assert_eq!(pattern.rhs[3].range(), 19..20);
}

#[test]
fn units_numbers_and_ellipses_parse() {
    let pattern = parsed("  ... 1 (h 1) () -> (...) 12 (h 3)  ");
    assert_eq!(render(&pattern), "... 1 (h 1) () -> (...) 12 (h 3)");
    assert_eq!(pattern.lhs_range, 2..16);
    assert_eq!(pattern.rhs_range, 20..34);
    assert_eq!(pattern.lhs[1], PatternItem::Unit { range: 6..7 });
    assert_eq!(
        pattern.lhs[3],
        PatternItem::Group {
            members: vec![],
            range: 14..16
        }
    );
    assert_eq!(
        pattern.rhs[1],
        PatternItem::Number {
            value: 12,
            range: 26..28
        }
    );
    assert_eq!(
        parsed("a\t(b\nc)->a b c").lhs[1].range(),
        2..7,
        "any whitespace separates axes"
    );
    assert_eq!(render(&parsed("a(b c)d->a b c d")), "a (b c) d -> a b c d");
}

#[test]
fn empty_sides_are_allowed() {
    let pattern = parsed("b c -> ");
    assert!(pattern.rhs.is_empty());
    assert_eq!(pattern.rhs_range, 7..7);
    assert_axes_ok("b c -> ", EinopsOp::Reduce);
    assert_axes_ok("... -> ", EinopsOp::Reduce);
    assert_axes_ok(" -> h w", EinopsOp::Repeat);
    for op in ALL_OPS {
        assert_axes_ok("->", op);
    }
    assert_axes_error(
        "b c -> ",
        EinopsOp::Rearrange,
        0..1,
        "axis `b` is on the left side of the pattern but not on the right",
        None,
    );
}

#[test]
fn arrow_count_errors() {
    assert_parse_error("b c", 0..3, "an einops pattern needs `->`", None);
    assert_parse_error("", 0..0, "an einops pattern needs `->`", None);
    assert_parse_error(
        "a -> b -> c",
        7..9,
        "an einops pattern has exactly one `->`",
        None,
    );
}

#[test]
fn parenthesis_errors() {
    assert_parse_error(
        "((a b)) -> a b",
        1..2,
        "groups cannot be nested in an einops pattern",
        None,
    );
    assert_parse_error("a) -> a", 1..2, "`)` without a matching `(`", None);
    assert_parse_error(
        "(a b -> a b",
        0..1,
        "unclosed `(` in the einops pattern",
        None,
    );
    assert_parse_error(
        "a b -> (a b",
        7..8,
        "unclosed `(` in the einops pattern",
        None,
    );
}

#[test]
fn repeated_names_and_ellipses_are_errors() {
    assert_parse_error(
        "h h -> h",
        2..3,
        "axis `h` appears twice on the left side",
        None,
    );
    assert_parse_error(
        "(h w) h -> h w",
        6..7,
        "axis `h` appears twice on the left side",
        None,
    );
    assert_parse_error(
        "h w -> h (w h)",
        12..13,
        "axis `h` appears twice on the right side",
        None,
    );
    assert_parse_error(
        "... a ... -> a",
        6..9,
        "more than one `...` on the left side",
        None,
    );
    assert_parse_error(
        "... -> ... (...)",
        12..15,
        "more than one `...` on the right side",
        None,
    );
}

#[test]
fn bad_characters_and_words_are_errors() {
    assert_parse_error(
        "b, c -> b c",
        1..2,
        "`,` cannot appear in an einops pattern",
        Some("separate axes with spaces, not commas"),
    );
    assert_parse_error(
        "b-c -> b",
        1..2,
        "`-` cannot appear in an einops pattern",
        Some("`->` separates the input axes from the output axes"),
    );
    assert_parse_error(
        "é -> é",
        0..2,
        "`é` cannot appear in an einops pattern",
        Some("axis names are ASCII identifiers"),
    );
    assert_parse_error(
        "b 2b -> b",
        2..4,
        "`2b` is not an axis name: names start with a letter or `_`",
        None,
    );
    assert_parse_error(
        "...b -> b",
        0..4,
        "`...` must be separated from axis names by spaces in `...b`",
        Some("write `... b`"),
    );
    assert_parse_error(
        "a.b -> a",
        1..2,
        "`.` may only appear as part of `...`",
        None,
    );
    assert_parse_error(
        "a -> a ..",
        7..9,
        "`.` may only appear as part of `...`",
        None,
    );
}

#[test]
fn number_errors() {
    assert_parse_error(
        "b 02 -> b",
        2..4,
        "number `02` has a leading zero",
        Some("write `2`"),
    );
    let error = parse_einops("b 00 -> b").unwrap_err();
    assert_eq!((error.range, error.help), (2..4, None));
    assert_parse_error("b 0 -> b", 2..3, "an axis cannot have size 0", None);
    assert_parse_error(
        "b -> b 99999999999999999999",
        7..27,
        "number `99999999999999999999` is too large for an axis size",
        None,
    );
    assert_eq!(
        parsed("b -> b 18446744073709551615").rhs[1],
        PatternItem::Number {
            value: u64::MAX,
            range: 7..27
        }
    );
}

#[test]
fn rearrange_needs_the_same_axes_on_both_sides() {
    assert_axes_error(
        "b t (h d) -> b h t e",
        EinopsOp::Rearrange,
        7..8,
        "axis `d` is on the left side of the pattern but not on the right",
        Some("the right side has `e`, which is not on the left: did you mean `d`?"),
    );
    assert_axes_error(
        "b d -> b d c",
        EinopsOp::Rearrange,
        11..12,
        "axis `c` is on the right side of the pattern but not on the left",
        Some("add `c` to the left side, or create it with `repeat(x, pattern, c=size)`"),
    );
    assert_axes_error(
        "heads d -> d head",
        EinopsOp::Rearrange,
        0..5,
        "axis `heads` is on the left side of the pattern but not on the right",
        Some("the right side has `head`, which is not on the left: did you mean `heads`?"),
    );
    assert_axes_ok("b 1 (h w) -> b h w ()", EinopsOp::Rearrange);
}

#[test]
fn reduce_may_drop_axes_but_not_create_them() {
    assert_axes_error(
        "b c -> b c k",
        EinopsOp::Reduce,
        11..12,
        "axis `k` is on the right side of the pattern but not on the left: reduce cannot \
         create axes",
        Some("add `k` to the left side, or create it with `repeat(x, pattern, k=size)`"),
    );
    assert_axes_error(
        "b c h -> b C",
        EinopsOp::Reduce,
        11..12,
        "axis `C` is on the right side of the pattern but not on the left: reduce cannot \
         create axes",
        Some("did you mean `c`?"),
    );
    assert_axes_ok("b ... -> b", EinopsOp::Reduce);
    assert_axes_ok("b (t 2) -> b t", EinopsOp::Reduce);
}

#[test]
fn repeat_may_create_axes_but_not_drop_them() {
    assert_axes_error(
        "h w x -> h",
        EinopsOp::Repeat,
        2..3,
        "axis `w` is on the left side of the pattern but not on the right: repeat cannot \
         remove axes",
        Some("add `w` to the right side, or use `reduce` to remove it"),
    );
    assert_axes_error(
        "h w -> h c",
        EinopsOp::Repeat,
        2..3,
        "axis `w` is on the left side of the pattern but not on the right: repeat cannot \
         remove axes",
        Some("the right side has `c`, which is not on the left: did you mean `w`?"),
    );
    assert_axes_ok("h w -> 2 h (w 3) c", EinopsOp::Repeat);
}

#[test]
fn ellipsis_rules() {
    for op in ALL_OPS {
        assert_axes_error(
            "b -> ... b",
            op,
            5..8,
            "`...` is on the right side of the pattern but not on the left",
            None,
        );
        assert_axes_error(
            "(...) c -> ... c",
            op,
            1..4,
            "`...` cannot be inside parentheses on the left side",
            None,
        );
        assert_axes_ok("... c -> (...) c", op);
        assert_axes_ok("... c -> c ...", op);
    }
    assert_axes_error(
        "... c -> c",
        EinopsOp::Rearrange,
        0..3,
        "`...` is on the left side of the pattern but not on the right",
        Some("add `...` to the right side, or reduce those axes with `reduce`"),
    );
    assert_axes_error(
        "... c -> c",
        EinopsOp::Repeat,
        0..3,
        "`...` is on the left side of the pattern but not on the right",
        Some("add `...` to the right side"),
    );
    assert_axes_ok("... c -> c", EinopsOp::Reduce);
}

#[test]
fn anonymous_axes_only_where_einops_takes_them() {
    assert_axes_error(
        "b 2 -> b",
        EinopsOp::Rearrange,
        2..3,
        "anonymous axis `2` on the left side of a rearrange pattern",
        Some("name the axis and give its size as a keyword argument, e.g. `a` with `a=2`"),
    );
    assert_axes_error(
        "b c -> b (c 3)",
        EinopsOp::Rearrange,
        12..13,
        "anonymous axis `3` on the right side of a rearrange pattern",
        Some("only `repeat` can create a new axis such as `3`"),
    );
    assert_axes_error(
        "b -> b 3",
        EinopsOp::Reduce,
        7..8,
        "anonymous axis `3` on the right side of a reduce pattern",
        None,
    );
    assert_axes_error(
        "b 2 -> b",
        EinopsOp::Repeat,
        2..3,
        "anonymous axis `2` on the left side of a repeat pattern",
        None,
    );
    for op in ALL_OPS {
        assert_axes_ok("b 1 () -> b 1 ()", op);
    }
}

/// Pieces that exercise every branch of the parser, multi-byte characters
/// included.
fn pattern_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "b",
        "h",
        "h2",
        "_",
        "1",
        "0",
        "07",
        "3",
        "99999999999999999999",
        ".",
        "...",
        "(",
        ")",
        "()",
        "->",
        "-",
        ">",
        " ",
        "\t",
        ",",
        "é",
        "…",
        "😀",
        "\u{3000}",
        "\0",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

fn assert_in_bounds(pattern: &str, range: &Range<usize>) {
    assert!(range.start <= range.end, "{pattern:?}: {range:?}");
    assert!(
        pattern.get(range.clone()).is_some(),
        "{pattern:?}: {range:?}"
    );
}

fn check_any(pattern: &str) {
    match parse_einops(pattern) {
        Ok(parsed) => {
            assert_in_bounds(pattern, &parsed.lhs_range);
            assert_in_bounds(pattern, &parsed.rhs_range);
            for item in parsed.lhs.iter().chain(&parsed.rhs) {
                assert_in_bounds(pattern, &item.range());
                if let PatternItem::Axis { name, range } = item {
                    assert_eq!(pattern.get(range.clone()), Some(name.as_str()));
                }
                if let PatternItem::Group { members, range } = item {
                    assert_eq!(pattern.get(range.start..range.start + 1), Some("("));
                    for member in members {
                        assert_in_bounds(pattern, &member.range());
                    }
                }
            }
            for op in ALL_OPS {
                if let Err(error) = check_axes(&parsed, op) {
                    assert_in_bounds(pattern, &error.range);
                }
            }
        }
        Err(error) => assert_in_bounds(pattern, &error.range),
    }
}

proptest! {
    #[test]
    fn structured_patterns_never_panic_and_stay_in_bounds(pattern in pattern_text()) {
        check_any(&pattern);
    }

    #[test]
    fn arbitrary_strings_never_panic_and_stay_in_bounds(pattern in any::<String>()) {
        check_any(&pattern);
    }
}
