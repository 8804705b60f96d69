//! Value printing against NumPy's and Python's own output.
//!
//! `tests/data/format/cases.json` is written by `make_cases.py` beside it
//! (see its docstring for the command); every case there is checked exactly.

use std::time::{Duration, Instant};

use ndarray::{s, ArrayD, IxDyn};
use serde_json::Value;
use tsr::eval::format::{
    array_bool, array_f32, array_f64, array_i64, scalar_bool, scalar_f32, scalar_f64, scalar_i64,
};

fn cases(kind: &str) -> Vec<Value> {
    let all: Value = serde_json::from_str(include_str!("data/format/cases.json"))
        .expect("cases.json is valid JSON");
    all[kind].as_array().expect("a list of cases").clone()
}

fn text(value: &Value) -> &str {
    value.as_str().expect("a string")
}

fn shape(case: &Value) -> Vec<usize> {
    let axes = case["shape"].as_array().expect("a shape");
    axes.iter()
        .map(|len| len.as_u64().expect("an axis length") as usize)
        .collect()
}

fn array<T>(case: &Value, item: impl Fn(&Value) -> T) -> ArrayD<T> {
    let data = case["data"].as_array().expect("a data list");
    ArrayD::from_shape_vec(IxDyn(&shape(case)), data.iter().map(item).collect())
        .expect("data fills the shape")
}

fn render_array(case: &Value) -> String {
    match text(&case["dtype"]) {
        "f32" => array_f32(&array(case, |v| text(v).parse::<f32>().expect("an f32")).view()),
        "f64" => array_f64(&array(case, |v| text(v).parse::<f64>().expect("an f64")).view()),
        "i64" => array_i64(&array(case, |v| v.as_i64().expect("an i64")).view()),
        "bool" => array_bool(&array(case, |v| v.as_i64().expect("0 or 1") == 1).view()),
        other => panic!("unknown dtype {other}"),
    }
}

fn render_scalar(case: &Value) -> String {
    match text(&case["dtype"]) {
        "f32" => {
            let bits = case["bits"].as_u64().expect("f32 bits");
            scalar_f32(f32::from_bits(u32::try_from(bits).expect("32 bits")))
        }
        "f64" => scalar_f64(f64::from_bits(case["bits"].as_u64().expect("f64 bits"))),
        "i64" => scalar_i64(case["value"].as_i64().expect("an i64")),
        other => panic!("unknown dtype {other}"),
    }
}

/// Checks every case and reports all mismatches at once.
fn check_all(kind: &str, render: fn(&Value) -> String) {
    let cases = cases(kind);
    assert!(cases.len() > 100, "too few {kind} cases: {}", cases.len());
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let actual = render(case);
            let expected = text(&case["expected"]);
            (actual != expected).then(|| {
                let label = ["name", "bits", "value"]
                    .iter()
                    .find_map(|key| case.get(key))
                    .map_or_else(String::new, Value::to_string);
                format!("{label}\nexpected:\n{expected}\nactual:\n{actual}")
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} {kind} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

#[test]
fn arrays_print_as_numpy_does() {
    check_all("arrays", render_array);
}

#[test]
fn scalars_print_as_python_repr() {
    check_all("scalars", render_scalar);
}

#[test]
fn bool_scalars_are_lowercase() {
    assert_eq!(scalar_bool(true), "true");
    assert_eq!(scalar_bool(false), "false");
}

#[test]
fn f32_scalars_use_their_own_shortest_digits() {
    assert_eq!(scalar_f32(0.1), "0.1");
    assert_eq!(scalar_f32(16_777_216.0), "16777216.0");
    assert_eq!(scalar_f32(1e16), "1e+16");
    assert_eq!(scalar_f64(f64::from(0.1f32)), "0.10000000149011612");
}

#[test]
fn strided_views_print_in_logical_order() {
    let values: Vec<f64> = (0..1200).map(|i| f64::from(i) * 0.25 - 40.0).collect();
    let matrix = ArrayD::from_shape_vec(IxDyn(&[30, 40]), values).expect("30 x 40");
    let transposed = matrix.t();
    assert_eq!(
        array_f64(&transposed),
        array_f64(&transposed.as_standard_layout().view())
    );
    let reversed = matrix.slice(s![..;-1, ..;-2]).into_dyn();
    assert_eq!(
        array_f64(&reversed),
        array_f64(&reversed.as_standard_layout().view())
    );
    assert!(array_f64(&transposed).starts_with("[[-40.0000, -30.0000, -20.0000, ...,"));
}

/// Asserts that `render` finishes fast enough that it cannot have read
/// every element of its huge view.
fn timed(render: impl FnOnce() -> String) -> String {
    let start = Instant::now();
    let text = render();
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(1), "took {elapsed:?}");
    text
}

#[test]
fn summarising_a_huge_broadcast_view_reads_only_its_edges() {
    let one = ArrayD::<f32>::from_elem(IxDyn(&[1]), -2.5);
    let view = one
        .broadcast(IxDyn(&[100_000, 100_000]))
        .expect("broadcastable");
    let row = " [-2.5000, -2.5000, -2.5000, ..., -2.5000, -2.5000, -2.5000]";
    let rows = [row; 6].map(str::to_owned);
    let expected = format!(
        "[{},\n{},\n{},\n ...,\n{},\n{},\n{}]",
        &rows[0][1..],
        rows[1],
        rows[2],
        rows[3],
        rows[4],
        rows[5]
    );
    assert_eq!(timed(|| array_f32(&view)), expected);
}

#[test]
fn summarising_a_3d_broadcast_view_keeps_edge_blocks() {
    let column = ArrayD::from_shape_fn(IxDyn(&[1000, 1, 1]), |index| index[0] as i64 * -7);
    let view = column
        .broadcast(IxDyn(&[1000, 1000, 1000]))
        .expect("broadcastable");
    let text = timed(|| array_i64(&view));
    let lines: Vec<&str> = text.lines().collect();
    // Six 7-line blocks, the `...` line, and a blank line after each block
    // but the last.
    assert_eq!(lines.len(), 6 * 7 + 1 + 6);
    assert_eq!(
        lines[0],
        "[[[    0,     0,     0, ...,     0,     0,     0],"
    );
    assert_eq!(lines[24], " ...,");
    assert_eq!(
        lines[48],
        "  [-6993, -6993, -6993, ..., -6993, -6993, -6993]]]"
    );
}

#[test]
fn very_high_rank_prints_without_recursion() {
    let rank = 100_000;
    let single = ArrayD::from_elem(IxDyn(&vec![1; rank]), 7_i64);
    let text = array_i64(&single.view());
    assert_eq!(text, format!("{}7{}", "[".repeat(rank), "]".repeat(rank)));
}
