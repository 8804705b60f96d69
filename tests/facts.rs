//! The facts the checker records for the evaluator: every expression's
//! type, and what axis and size arguments resolved to.

use tsr::check::size::Size;
use tsr::check::{check_program, CheckOptions};
use tsr::source::SourceFile;
use tsr::syntax::ast::{Expr, ExprKind, StmtKind};
use tsr::syntax::parse;

const PROGRAM: &str = "dim B = 2, T = 3
input x: [B, T]
let s = sum(x, T)
let r = reshape(x, [B, -1])
let bad = x + zeros([B])
";

fn options() -> CheckOptions {
    CheckOptions {
        record_facts: true,
        ..CheckOptions::default()
    }
}

/// The value of the `let` on 1-based `line`.
fn let_value(program: &tsr::syntax::ast::Program, line: usize) -> &Expr {
    match &program.stmts[line - 1].kind {
        StmtKind::Let { value, .. } => value,
        other => panic!("line {line} is not a let: {other:?}"),
    }
}

fn call_args(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Call { args, .. } => args.iter().map(|a| &a.value).collect(),
        other => panic!("not a call: {other:?}"),
    }
}

#[test]
fn every_checked_expression_has_its_type() {
    let parsed = parse(&SourceFile::new("a.tsr", PROGRAM));
    let output = check_program(&parsed.program, &options());
    let facts = &output.facts;
    let sum = let_value(&parsed.program, 3);
    let shown = |e: &Expr| format!("{:?}", facts.types.get(&e.id));
    assert!(shown(sum).contains("F32"), "{}", shown(sum));
    let args = call_args(sum);
    assert!(
        facts.types.contains_key(&args[0].id),
        "the operand x has a type"
    );
    let bad = let_value(&parsed.program, 5);
    assert_eq!(
        facts.types.get(&bad.id),
        Some(&tsr::check::types::Type::Unknown)
    );
}

#[test]
fn axis_arguments_record_their_resolved_index() {
    let parsed = parse(&SourceFile::new("a.tsr", PROGRAM));
    let output = check_program(&parsed.program, &options());
    let args = call_args(let_value(&parsed.program, 3));
    assert_eq!(
        output.facts.axes.get(&args[1].id),
        Some(&1),
        "T is axis 1 of [B, T]"
    );
}

#[test]
fn size_arguments_record_their_size() {
    let parsed = parse(&SourceFile::new("a.tsr", PROGRAM));
    let output = check_program(&parsed.program, &options());
    let args = call_args(let_value(&parsed.program, 4));
    let ExprKind::List(items) = &args[1].kind else {
        panic!("the shape is a list");
    };
    assert_eq!(
        output.facts.sizes.get(&items[0].id),
        Some(&Size::constant(2))
    );
}

#[test]
fn nothing_is_recorded_unless_asked() {
    let parsed = parse(&SourceFile::new("a.tsr", PROGRAM));
    let output = check_program(&parsed.program, &CheckOptions::default());
    assert!(output.facts.types.is_empty() && output.facts.axes.is_empty());
}
