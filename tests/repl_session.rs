//! The REPL's backend without a terminal: what each line prints, what it
//! reports, and that a failing line changes nothing.

use std::time::Duration;

use tsr::diagnostics::{render, Format};
use tsr::eval::RunOptions;
use tsr::repl::session::{NameKind, Reply, Session};

/// Runs a line; its output, and its diagnostics as rendered without colour.
fn line(session: &mut Session, code: &str) -> (String, String) {
    let mut out = Vec::new();
    let reply = session.eval(code, &mut out);
    (String::from_utf8_lossy(&out).into_owned(), rendered(&reply))
}

fn rendered(reply: &Reply) -> String {
    render(&reply.reports, Format::Human { color: false })
}

fn ok(session: &mut Session, code: &str) -> String {
    let (out, errors) = line(session, code);
    assert_eq!(errors, "", "`{code}` failed");
    out
}

fn fails(session: &mut Session, code: &str, code_name: &str) -> String {
    let (out, errors) = line(session, code);
    assert!(errors.contains(code_name), "`{code}`: {errors}");
    out
}

fn session() -> Session {
    Session::new(RunOptions::default())
}

#[test]
fn expressions_show_their_value_and_let_its_type() {
    let mut s = session();
    assert_eq!(ok(&mut s, "dim B = 2, D = 3"), "");
    assert_eq!(ok(&mut s, "let x = ones([B, D])"), "x: [B=2, D=3] f32\n");
    assert_eq!(
        ok(&mut s, "x * 2"),
        "[B=2, D=3] f32\n[[ 2.0000,  2.0000,  2.0000],\n [ 2.0000,  2.0000,  2.0000]]\n"
    );
    assert_eq!(ok(&mut s, "6 * 7"), "42\n");
    assert_eq!(
        ok(&mut s, "let (a, b) = (x, 1.5)"),
        "a: [B=2, D=3] f32\nb: [] f32\n"
    );
    assert_eq!(ok(&mut s, "print(\"hi\"); sum(x)"), "hi\n6.0\n");
}

#[test]
fn a_failing_line_changes_nothing() {
    let mut s = session();
    ok(&mut s, "dim N = 3");
    ok(&mut s, "let x = arange(N)");
    fails(&mut s, "let x = 1 +", "tsr::parse");
    fails(&mut s, "let x = zeros([4]) + x", "tsr::broadcast");
    // Runs halfway, then fails: the indexed write and the new binding vanish.
    let out = fails(
        &mut s,
        "x[0] = 100; let y = 1; print(x); assert(false, \"stop\")",
        "tsr::runtime",
    );
    assert_eq!(out, "y: [] i64\n[N=3] i64\n[100,   1,   2]\n");
    assert_eq!(ok(&mut s, "x"), "[N=3] i64\n[0, 1, 2]\n");
    fails(&mut s, "y", "tsr::undefined");
    assert_eq!(ok(&mut s, "x + 1"), "[N=3] i64\n[1, 2, 3]\n");
}

#[test]
fn diagnostics_point_into_the_line_that_caused_them() {
    let mut s = session();
    ok(&mut s, "fn half(v: [N]) -> [N] {\n  v / 2\n}");
    let (_, errors) = line(&mut s, "half(ones([2, 2]))");
    assert!(errors.contains("╭─[In[2]:1:6]"), "{errors}");
    // The parameter lives on an earlier line: named in the help.
    assert!(errors.contains("In[1]:1:12: parameter `v`"), "{errors}");
    ok(
        &mut s,
        "fn check(v: [N]) -> [N] {\n  assert(all(v > 0), \"positive\")\n  v\n}",
    );
    let (_, errors) = line(&mut s, "check(zeros([3]))");
    assert!(errors.contains("positive"), "{errors}");
    assert!(errors.contains("╭─[In[3]:2:10]"), "{errors}");
}

#[test]
fn fns_and_random_streams_persist_between_lines() {
    let mut s = session();
    ok(&mut s, "fn double(v: [*b]) -> [*b] { v * 2 }");
    assert_eq!(ok(&mut s, "double(3.0)"), "6.0\n");
    ok(&mut s, "seed(1)");
    let first = ok(&mut s, "randn([2])");
    let mut t = session();
    let both = ok(&mut t, "seed(1); randn([2]); randn([2])");
    assert!(both.starts_with(&first), "{both} vs {first}");
    let second = ok(&mut s, "randn([2])");
    assert_eq!(format!("{first}{second}"), both);
}

#[test]
fn a_dim_is_redeclared_only_while_nothing_uses_it() {
    let mut s = session();
    ok(&mut s, "dim B = 2");
    ok(&mut s, "dim B = 4");
    assert_eq!(ok(&mut s, "let x = zeros([B])"), "x: [B=4] f32\n");
    let (_, errors) = line(&mut s, "dim B = 8");
    assert!(errors.contains("`x` still uses it"), "{errors}");
    ok(&mut s, "let x = 0");
    ok(&mut s, "dim B = 8");
    assert_eq!(ok(&mut s, "zeros([B]).shape"), "[B=8]\n");
    ok(&mut s, "fn f(v: [B]) -> [B] { v }");
    let (_, errors) = line(&mut s, "dim B = 1");
    assert!(errors.contains("fn `f` still uses it"), "{errors}");
}

#[test]
fn shapes_are_inferred_without_running() {
    let mut s = session();
    ok(&mut s, "dim B = 4, H = 8, T = 64, Dk = 16");
    ok(&mut s, "let q = zeros([B, H, T, Dk])");
    let err = s.infer("q @ transpose(q, -1, -2)");
    assert_eq!(
        err.ok().flatten().as_deref(),
        Some("[B=4, H=8, T=64, T=64] f32")
    );
    assert_eq!(
        s.hint("zeros([1000000, 1000000])").as_deref(),
        Some("[1000000, 1000000] f32")
    );
    assert_eq!(
        s.hint("let y = q"),
        Some("y: [B=4, H=8, T=64, Dk=16] f32".to_owned())
    );
    assert_eq!(s.hint("q +"), None);
    assert_eq!(s.hint("q + ones([3])"), None);
    assert_eq!(s.kind_of("T"), Some(NameKind::Dim));
    assert_eq!(s.kind_of("q"), Some(NameKind::Binding));
    fails(&mut s, "input x: [B]", "tsr::io");
    assert_eq!(s.kind_of("x"), None, "an input with no data is not bound");
}

#[test]
fn vars_and_dims_list_the_session() {
    let mut s = session();
    ok(&mut s, "dim N, M = 3; let w = zeros([M, 4]); let k = 2");
    let vars: Vec<(String, String, Option<u64>)> = s
        .vars()
        .into_iter()
        .map(|v| (v.name, v.ty, v.bytes))
        .collect();
    assert_eq!(
        vars,
        [
            ("k".to_owned(), "[] i64".to_owned(), Some(8)),
            ("w".to_owned(), "[M=3, 4] f32".to_owned(), Some(48)),
        ]
    );
    let dims: Vec<(String, String)> = s.dims().into_iter().map(|d| (d.name, d.size)).collect();
    assert_eq!(
        dims,
        [
            ("N".to_owned(), "symbolic (no value yet)".to_owned()),
            ("M".to_owned(), "3".to_owned()),
        ]
    );
}

#[test]
fn time_and_explain_leave_the_session_as_it_was() {
    let mut s = session();
    ok(&mut s, "dim B = 2, I = 3, J = 4, K = 5");
    ok(&mut s, "let a = randn([B, I, J]); let b = randn([B, J, K])");
    let before = ok(&mut s, "a");
    let timing = s.time("randn([B]) + sum(a)", Duration::from_millis(20));
    assert!(timing
        .as_ref()
        .is_ok_and(|t| t.runs >= 1 && t.min <= t.mean));
    let lines = s
        .explain("einsum(\"bij,bjk->bik\", a, b)")
        .unwrap_or_default();
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert!(lines[1].contains("bij,bjk->bik"), "{lines:?}");
    assert!(lines[1].contains("2.400e2") && lines[1].trim_end().ends_with("120"));
    assert_eq!(lines[2], "largest intermediate 30 elements");
    let not_einsum = s.explain("a + 1").err().unwrap_or_default();
    assert!(render(&not_einsum, Format::Json).contains("tsr::arg"));
    assert_eq!(ok(&mut s, "a"), before);
    let after = ok(&mut s, "randn([1])");
    let mut t = session();
    ok(&mut t, "dim B = 2, I = 3, J = 4, K = 5");
    ok(&mut t, "let a = randn([B, I, J]); let b = randn([B, J, K])");
    assert_eq!(ok(&mut t, "randn([1])"), after);
}

#[test]
fn bad_input_is_reported_and_the_session_goes_on() {
    let mut s = session();
    // Ten thousand lines at once.
    let pasted: String = (0..10_000).map(|i| format!("let v{i} = {i}\n")).collect();
    assert_eq!(ok(&mut s, &pasted).lines().count(), 10_000);
    assert_eq!(ok(&mut s, "v9999 + 1"), "10000\n");
    // An enormous tensor prints summarised.
    let out = ok(&mut s, "zeros([2000, 3000])");
    assert!(out.len() < 2_000 && out.contains("..."), "{out}");
    // More than --max-memory allows.
    fails(&mut s, "zeros([1000000, 1000000])", "tsr::limit");
    fails(&mut s, "let t = \u{0}\u{1}", "tsr::parse");
    assert_eq!(ok(&mut s, "v1"), "1\n");
}

#[test]
fn a_reset_forgets_everything() {
    let mut s = session();
    ok(&mut s, "dim B = 2; let x = 1; fn f(v: [B]) -> [B] { v }");
    s.reset();
    assert!(s.names().is_empty());
    ok(&mut s, "dim B = 3; fn f(v: [B]) -> [B] { v }");
    assert_eq!(ok(&mut s, "f(ones([B])).shape"), "[B=3]\n");
}
