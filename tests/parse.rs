//! The front end through its public API: `tsr::syntax::parse` and
//! `tsr::syntax::lexer::tokens`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use tsr::error::Code;
use tsr::source::{SourceFile, Span};
use tsr::syntax::ast::{
    AxisExprKind, Expr, ExprKind, IndexItemKind, Pattern, Program, Stmt, StmtKind, TypeExprKind,
};
use tsr::syntax::lexer::{tokens, Token};
use tsr::syntax::{parse, ParseOutput};

fn parse_text(text: &str) -> ParseOutput {
    parse(&SourceFile::new("test.tsr", text))
}

/// The program, asserting it parsed without any diagnostic.
fn program(text: &str) -> Program {
    let output = parse_text(text);
    assert!(
        output.diagnostics.is_empty(),
        "unexpected diagnostics for {text:?}: {:?}",
        output.diagnostics
    );
    assert!(!output.incomplete, "{text:?} parsed as incomplete");
    output.program
}

fn single(text: &str) -> Stmt {
    let mut stmts = program(text).stmts;
    assert_eq!(stmts.len(), 1, "{text:?}");
    stmts.remove(0)
}

/// The expression of a one-statement program `e`.
fn expr(text: &str) -> Expr {
    match single(text).kind {
        StmtKind::Expr(expr) => expr,
        other => panic!("not an expression statement: {other:?}"),
    }
}

/// `(code, line)` of every diagnostic.
fn errors(text: &str) -> Vec<(Code, usize)> {
    let file = SourceFile::new("test.tsr", text);
    parse(&file)
        .diagnostics
        .iter()
        .map(|diagnostic| {
            let span = diagnostic.span.expect("parse errors have a place");
            (diagnostic.code, file.line_col(span.start).line)
        })
        .collect()
}

/// The first diagnostic's message and the text under its span.
fn first_error(text: &str) -> (String, String) {
    let output = parse_text(text);
    let diagnostic = output.diagnostics.first().expect("an error");
    let span = diagnostic.span.expect("a span");
    let under = text.get(span.range()).unwrap_or("").to_owned();
    (diagnostic.message.clone(), under)
}

/// A compact prefix form: `(+ a (* b c))`, `(neg x)`, `(call f a k=v)`.
fn sexp(expr: &Expr) -> String {
    match &expr.kind {
        ExprKind::Int(Some(value)) => value.to_string(),
        ExprKind::Int(None) => "bigint".to_owned(),
        ExprKind::Float(value) => format!("{value:?}"),
        ExprKind::Str(value) => format!("{value:?}"),
        ExprKind::Bool(value) => value.to_string(),
        ExprKind::Name(name) => name.clone(),
        ExprKind::List(items) => format!("[{}]", join(items)),
        ExprKind::Tuple(items) => format!("(tuple {})", join(items)),
        ExprKind::Dict(entries) => {
            let entries: Vec<String> = entries
                .iter()
                .map(|(key, value)| format!("{}:{}", sexp(key), sexp(value)))
                .collect();
            format!("{{{}}}", entries.join(" "))
        }
        ExprKind::Unary { operand, .. } => format!("(neg {})", sexp(operand)),
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", op.symbol(), sexp(lhs), sexp(rhs))
        }
        ExprKind::Call { callee, args } => format!("(call {}{})", callee.name, args_sexp(args)),
        ExprKind::Method {
            receiver,
            name,
            args,
        } => format!("(.{}() {}{})", name.name, sexp(receiver), args_sexp(args)),
        ExprKind::Field { receiver, name } => format!("(.{} {})", name.name, sexp(receiver)),
        ExprKind::Index { base, items } => {
            let mut out = format!("(index {}", sexp(base));
            for item in items {
                out.push(' ');
                out.push_str(&match &item.kind {
                    IndexItemKind::Expr(expr) => sexp(expr),
                    IndexItemKind::Ellipsis => "...".to_owned(),
                    IndexItemKind::Slice { start, stop, step } => {
                        let part =
                            |part: &Option<Expr>| part.as_ref().map(sexp).unwrap_or_default();
                        format!("{}:{}:{}", part(start), part(stop), part(step))
                    }
                });
            }
            out + ")"
        }
    }
}

fn join(items: &[Expr]) -> String {
    items.iter().map(sexp).collect::<Vec<_>>().join(" ")
}

fn args_sexp(args: &[tsr::syntax::ast::Arg]) -> String {
    let mut out = String::new();
    for arg in args {
        match &arg.name {
            Some(name) => write!(out, " {}={}", name.name, sexp(&arg.value)),
            None => write!(out, " {}", sexp(&arg.value)),
        }
        .expect("writing to a String");
    }
    out
}

fn span_text(text: &str, span: Span) -> &str {
    &text[span.range()]
}

#[test]
fn precedence_and_associativity() {
    let cases = [
        ("a + b * c", "(+ a (* b c))"),
        ("a - b - c", "(- (- a b) c)"),
        ("a * b @ c / d", "(/ (@ (* a b) c) d)"),
        ("-x ** 2", "(neg (** x 2))"),
        ("2 ** -1", "(** 2 (neg 1))"),
        ("a ** b ** c", "(** a (** b c))"),
        ("a ** -b ** c", "(** a (neg (** b c)))"),
        ("--a", "(neg (neg a))"),
        ("a - -b", "(- a (neg b))"),
        ("a * -b", "(* a (neg b))"),
        ("a + b < c * d", "(< (+ a b) (* c d))"),
        ("a == b", "(== a b)"),
        ("-a.b", "(neg (.b a))"),
        ("x.T @ w", "(@ (.T x) w)"),
        ("(a + b) * c", "(* (+ a b) c)"),
        (
            "f(a, k=b + 1)[0].sum(1)",
            "(.sum() (index (call f a k=(+ b 1)) 0) 1)",
        ),
        ("x ** 2.5e3", "(** x 2500.0)"),
    ];
    for (text, expected) in cases {
        assert_eq!(sexp(&expr(text)), expected, "{text}");
    }
}

#[test]
fn comparisons_do_not_chain() {
    assert_eq!(errors("a < b < c"), [(Code::Parse, 1)]);
    assert_eq!(first_error("a < b < c").1, "<");
}

#[test]
fn literals_and_collections() {
    let cases = [
        ("[1, 2.5, \"s\", true, false]", "[1 2.5 \"s\" true false]"),
        ("[a, b,]", "[a b]"),
        ("[]", "[]"),
        ("(a, b)", "(tuple a b)"),
        ("(a,)", "(tuple a)"),
        ("()", "(tuple )"),
        ("(a)", "a"),
        (
            "save({\"a\": x, \"b\": [y]})",
            "(call save {\"a\":x \"b\":[y]})",
        ),
        (
            "x[0, 1:, :2, ::3, 1:2:3, :, ..., None]",
            "(index x 0 1:: :2: ::3 1:2:3 :: ... None)",
        ),
        ("x[-1]", "(index x (neg 1))"),
        ("99999999999999999999", "bigint"),
        ("9223372036854775807", "9223372036854775807"),
        ("[1e-8, 3.14, 2.5E3, 42]", "[1e-8 3.14 2500.0 42]"),
        ("_", "_"),
    ];
    for (text, expected) in cases {
        assert_eq!(sexp(&expr(text)), expected, "{text}");
    }
}

#[test]
fn string_escapes_are_decoded() {
    let decoded = sexp(&expr(r#""q\" b\\ n\n t\t""#));
    assert_eq!(decoded, format!("{:?}", "q\" b\\ n\n t\t"));
    assert_eq!(errors("let s = \"a\\qb\""), [(Code::Parse, 1)]);
    assert_eq!(first_error("let s = \"a\\qb\"").1, "\\q");
    assert_eq!(sexp(&expr("\"two\nlines\"")), format!("{:?}", "two\nlines"));
}

#[test]
fn dots_lex_as_ranges_and_ellipses() {
    match single("for i in 0..10 { }").kind {
        StmtKind::For { start, end, .. } => {
            assert_eq!((sexp(&start), sexp(&end)), ("0".into(), "10".into()))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sexp(&expr("x[...]")), "(index x ...)");
}

#[test]
fn spans_cover_what_was_written() {
    let text = "let y = (a + b) * f(c, k=1)[0]";
    let stmt = single(text);
    assert_eq!(span_text(text, stmt.span), text);
    let StmtKind::Let { pattern, value, .. } = stmt.kind else {
        panic!("not a let");
    };
    assert_eq!(span_text(text, pattern.span()), "y");
    assert_eq!(span_text(text, value.span), "(a + b) * f(c, k=1)[0]");
    let ExprKind::Binary { lhs, rhs, .. } = value.kind else {
        panic!("not a binary");
    };
    assert_eq!(span_text(text, lhs.span), "(a + b)");
    assert_eq!(span_text(text, rhs.span), "f(c, k=1)[0]");
    let ExprKind::Index { base, items } = rhs.kind else {
        panic!("not an index");
    };
    assert_eq!(span_text(text, items[0].span), "0");
    let ExprKind::Call { callee, args } = base.kind else {
        panic!("not a call");
    };
    assert_eq!(span_text(text, callee.span), "f");
    assert_eq!(span_text(text, args[1].span), "k=1");
    assert_eq!(span_text(text, args[1].value.span), "1");
}

#[test]
fn dim_and_input() {
    let text = "dim B = 32, N, Dh = D / H\ninput x: f64[B, *b, _, ..., T * D, (D / H)]";
    let stmts = program(text).stmts;
    let StmtKind::Dim(decls) = &stmts[0].kind else {
        panic!("not a dim");
    };
    let names: Vec<&str> = decls.iter().map(|decl| decl.name.name.as_str()).collect();
    assert_eq!(names, ["B", "N", "Dh"]);
    assert!(decls[1].value.is_none());
    assert_eq!(
        decls[2].value.as_ref().map(sexp).as_deref(),
        Some("(/ D H)")
    );
    assert_eq!(span_text(text, decls[2].span), "Dh = D / H");
    let StmtKind::Input { name, ty } = &stmts[1].kind else {
        panic!("not an input");
    };
    assert_eq!(name.name, "x");
    let TypeExprKind::Tensor { dtype, axes } = &ty.kind else {
        panic!("not a tensor type");
    };
    assert_eq!(dtype.as_ref().map(|d| d.name.as_str()), Some("f64"));
    let kinds: Vec<String> = axes
        .iter()
        .map(|axis| match &axis.kind {
            AxisExprKind::Size(size) => sexp(size),
            AxisExprKind::Any => "_".into(),
            AxisExprKind::Run(name) => format!("*{}", name.name),
            AxisExprKind::Ellipsis => "...".into(),
        })
        .collect();
    assert_eq!(kinds, ["B", "*b", "_", "...", "(* T D)", "(/ D H)"]);
    assert_eq!(span_text(text, axes[5].span), "(D / H)");
}

#[test]
fn let_patterns_and_types() {
    let stmt = single("let (a, (b, _)): ([N], ([M], [])) = f()");
    let StmtKind::Let { pattern, ty, .. } = stmt.kind else {
        panic!("not a let");
    };
    let Pattern::Tuple(items, _) = &pattern else {
        panic!("not a tuple pattern");
    };
    assert!(matches!(&items[0], Pattern::Name(name) if name.name == "a"));
    assert!(
        matches!(&items[1], Pattern::Tuple(inner, _) if matches!(inner[1], Pattern::Wildcard(_)))
    );
    let ty = ty.expect("annotated");
    let TypeExprKind::Tuple(types) = &ty.kind else {
        panic!("not a tuple type");
    };
    assert!(matches!(&types[1].kind, TypeExprKind::Tuple(inner) if inner.len() == 2));
    assert!(matches!(
        single("let _ = 1").kind,
        StmtKind::Let {
            pattern: Pattern::Wildcard(_),
            ..
        }
    ));
}

#[test]
fn assignments() {
    match single("x = x + 1").kind {
        StmtKind::Assign {
            target,
            indices,
            value,
        } => {
            assert_eq!(target.name, "x");
            assert!(indices.is_none());
            assert_eq!(sexp(&value), "(+ x 1)");
        }
        other => panic!("{other:?}"),
    }
    match single("x[i, :, a:b] = 0").kind {
        StmtKind::Assign {
            target, indices, ..
        } => {
            assert_eq!(target.name, "x");
            assert_eq!(indices.map(|items| items.len()), Some(3));
        }
        other => panic!("{other:?}"),
    }
    for bad in ["x.y = 1", "f(x) = 1", "x[0][1] = 1", "1 = x", "_ = 1"] {
        assert_eq!(errors(bad), [(Code::Parse, 1)], "{bad}");
    }
}

#[test]
fn functions_loops_and_conditionals() {
    let text = "fn f(q: [*b, T, D], k: [D]) -> [*b, T] {\n    let s = q @ k\n    return s\n}";
    let StmtKind::Fn(def) = single(text).kind else {
        panic!("not a fn");
    };
    assert_eq!(def.name.name, "f");
    assert_eq!(def.params.len(), 2);
    assert!(def.ret.is_some());
    assert_eq!(def.body.stmts.len(), 2);
    assert!(matches!(def.body.stmts[1].kind, StmtKind::Return(_)));
    assert_eq!(
        span_text(text, def.body.span),
        "{\n    let s = q @ k\n    return s\n}"
    );

    let StmtKind::For { var, body, .. } = single("for i in 0..n { y = y * 0.5; z = z }").kind
    else {
        panic!("not a for");
    };
    assert_eq!((var.name.as_str(), body.stmts.len()), ("i", 2));

    let text = "if a { x }\nelse if b { y }\n\nelse {\n z\n}";
    let StmtKind::If { else_block, .. } = single(text).kind else {
        panic!("not an if");
    };
    let else_block = else_block.expect("an else");
    assert_eq!(else_block.stmts.len(), 1);
    let nested = &else_block.stmts[0];
    assert_eq!(span_text(text, nested.span), "if b { y }\n\nelse {\n z\n}");
    let StmtKind::If {
        cond, else_block, ..
    } = &nested.kind
    else {
        panic!("else if is not an if");
    };
    assert_eq!(sexp(cond), "b");
    assert!(else_block.is_some());
}

#[test]
fn newlines_semicolons_and_comments() {
    let text = "# a comment\nlet a = f(\n  1,\n  2\n)   # trailing\n\n;;let b = [1,\n 2]; let c = 3\nfn g()\n{\n}\n";
    assert_eq!(program(text).stmts.len(), 4);
    assert_eq!(errors("let a = 1 +\n 2"), [(Code::Parse, 1)]);
    assert_eq!(program("\u{feff}let a = 1\r\nlet b = 2\r\n").stmts.len(), 2);
}

#[test]
fn misplaced_statements_are_reported_and_dropped() {
    let text = "fn f() {\n  dim A = 3\n  input x: [A]\n  fn g() { }\n  return 1\n}\nreturn 2\nfor i in 0..2 {\n  if i > 0 { return i }\n}";
    let output = parse_text(text);
    let lines: Vec<usize> = errors(text).into_iter().map(|(_, line)| line).collect();
    assert_eq!(lines, [2, 3, 4, 7, 9]);
    let StmtKind::Fn(def) = &output.program.stmts[0].kind else {
        panic!("not a fn");
    };
    assert_eq!(def.body.stmts.len(), 1, "only `return 1` stays in the body");
    assert_eq!(output.program.stmts.len(), 2, "`return 2` is left out");
}

#[test]
fn bad_characters() {
    for (text, character) in [
        ("a $ b", "$"),
        ("a | b", "|"),
        ("a & b", "&"),
        ("!a", "!"),
        ("a % 2", "%"),
        ("a é b", "é"),
    ] {
        let (message, under) = first_error(text);
        assert_eq!(under, character, "{text}");
        assert_eq!(message, format!("unexpected character `{character}`"));
        assert_eq!(errors(text).len(), 1, "{text}");
    }
}

#[test]
fn messages_name_what_was_expected() {
    assert_eq!(
        first_error("print(a b)"),
        (
            "expected one of `)`, `,`, `=` or an operator, found `b`".to_owned(),
            "b".to_owned()
        )
    );
    assert_eq!(
        first_error("let = 2"),
        (
            "expected one of `(`, an identifier or `_`, found `=`".to_owned(),
            "=".to_owned()
        )
    );
    assert_eq!(
        first_error("let x =\n").0,
        "expected an expression, found end of line"
    );
    assert_eq!(
        first_error("let x = ").0,
        "expected an expression, found end of file"
    );
}

#[test]
fn unclosed_and_unmatched_brackets() {
    let output = parse_text("let a = (1 +\n  2");
    assert!(output.incomplete);
    assert_eq!(
        first_error("let a = (1 +\n  2"),
        ("unclosed `(`".to_owned(), "(".to_owned())
    );
    assert_eq!(
        first_error("print(\"abc"),
        ("unclosed string".to_owned(), "\"".to_owned())
    );
    assert!(parse_text("print(\"abc").incomplete);
    assert!(parse_text("fn f() {\n  let a = 1\n").incomplete);
    assert_eq!(errors("fn f() {\n  let a = 1\n"), [(Code::Parse, 1)]);
    assert_eq!(errors("let a = [1, 2)\nlet b = 2\n"), [(Code::Parse, 1)]);
    assert_eq!(
        errors(")\nlet b = 2\n}"),
        [(Code::Parse, 1), (Code::Parse, 3)]
    );
    // A statement keyword inside brackets means a bracket was left open.
    let text = "fn f() {\n  let a = g(1\n  let b = 2\n}\nlet c = 3";
    assert_eq!(errors(text), [(Code::Parse, 2)]);
    assert_eq!(parse_text(text).program.stmts.len(), 2);
    assert!(!parse_text("let a = (1\nlet b = 2").incomplete);
    // In the middle of a line it is only a misplaced token: one error, at it.
    let text = "let g = grad(fn(w) { w }, 1.0)\nlet c = 3";
    assert_eq!(errors(text), [(Code::Parse, 1)]);
    assert_eq!(
        first_error(text),
        (
            "expected one of `)` or an expression, found `fn`".to_owned(),
            "fn".to_owned()
        )
    );
    assert_eq!(parse_text(text).program.stmts.len(), 1);
}

#[test]
fn a_dict_outside_brackets_is_one_error() {
    assert_eq!(errors("let d = {\"a\": 1}\nlet e = 2"), [(Code::Parse, 1)]);
    assert_eq!(
        errors("let d = {\n  let x = 1\n  x\n}\nlet e = 2"),
        [(Code::Parse, 1)]
    );
}

#[test]
fn independent_errors_are_all_reported_once() {
    let text = "dim N = 3\nlet a = ones([N]) $ 2\nlet b = a\nlet = b\nfn f(x: [N]) {\n  let y = x +\n  y\n}\nprint(a, b)";
    assert_eq!(
        errors(text),
        [(Code::Parse, 2), (Code::Parse, 4), (Code::Parse, 6)]
    );
    let output = parse_text(text);
    assert_eq!(
        output.program.stmts.len(),
        4,
        "dim, let b, fn and print survive"
    );
}

#[test]
fn the_earliest_error_of_a_statement_wins() {
    assert_eq!(first_error("let = (1, 2").1, "=");
    assert_eq!(first_error("let a b $").1, "b");
}

#[test]
fn bracket_nesting_is_limited() {
    let ok = format!("let x = {}1{}", "(".repeat(256), ")".repeat(256));
    assert!(parse_text(&ok).diagnostics.is_empty());
    let deep = format!(
        "let x = {}1{}\nlet y = 2",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let output = parse_text(&deep);
    assert_eq!(errors(&deep), [(Code::Limit, 1)]);
    let span = output.diagnostics[0].span.expect("a span");
    assert_eq!(
        span.start as usize,
        "let x = ".len() + 256,
        "at the 257th bracket"
    );
    assert_eq!(output.program.stmts.len(), 1);
    let unclosed = "[".repeat(100_000);
    assert_eq!(errors(&unclosed), [(Code::Limit, 1)]);
    let blocks = format!("fn f() {{{}{}}}", "if a {".repeat(300), "}".repeat(300));
    assert_eq!(errors(&blocks), [(Code::Limit, 1)]);
}

#[test]
fn deep_expressions_are_limited_without_overflow() {
    let chain = |op: &str, terms: usize| vec!["a"; terms].join(op);
    let ok = format!("let x = {}", chain("+", 257));
    assert!(
        parse_text(&ok).diagnostics.is_empty(),
        "256 levels are fine"
    );
    for text in [
        format!("let x = {}\nlet y = 2", chain("+", 1_000_000)),
        format!("let x = {}\nlet y = 2", chain("**", 100_000)),
        format!("let x = {}a\nlet y = 2", "-".repeat(100_000)),
        format!("let x = a{}\nlet y = 2", ".b".repeat(100_000)),
        format!("let x = a{}\nlet y = 2", "[0]".repeat(100_000)),
        format!("if a {{}}{}\nlet y = 2", " else if a {}".repeat(10_000)),
    ] {
        let output = parse_text(&text);
        assert_eq!(errors(&text), [(Code::Limit, 1)], "{}", &text[..40]);
        assert_eq!(output.program.stmts.len(), 1, "the next statement survives");
    }
}

#[test]
fn the_deepest_accepted_trees_drop_safely() {
    let chain = vec!["a"; 256].join("+");
    let links = " else if a {}".repeat(255);
    let text = format!("if a {{}}{links} else {{\n let x = {chain}\n}}");
    drop(single(&text));
    let nested = format!("{}let x = a + a{}", "if a {".repeat(254), "}".repeat(254));
    drop(single(&nested));
}

#[test]
fn a_bare_block_is_one_error() {
    let nested = format!(
        "{}let x = 1\nlet = 2{}\nlet y = 2",
        "{".repeat(200),
        "}".repeat(200)
    );
    assert_eq!(errors(&nested), [(Code::Parse, 1)]);
    assert_eq!(parse_text(&nested).program.stmts.len(), 1);
}

#[test]
fn lexer_tokens_for_the_highlighter() {
    let text = "let x = f(1.5, \"s\") # c\n$";
    let got: Vec<(Token, &str)> = tokens(text)
        .into_iter()
        .map(|(token, span)| (token, span_text(text, span)))
        .collect();
    assert_eq!(
        got,
        [
            (Token::Keyword("let"), "let"),
            (Token::Ident("x"), "x"),
            (Token::Punct("="), "="),
            (Token::Ident("f"), "f"),
            (Token::Punct("("), "("),
            (Token::Number("1.5"), "1.5"),
            (Token::Punct(","), ","),
            (Token::Str("\"s\""), "\"s\""),
            (Token::Punct(")"), ")"),
            (Token::Comment("# c"), "# c"),
            (Token::Newline, "\n"),
            (Token::Error("$"), "$"),
        ]
    );
    assert_eq!(tokens("\"open"), [(Token::Str("\"open"), Span::new(0, 5))]);
    let dots: Vec<Token> = tokens("0..10 ...")
        .into_iter()
        .map(|(token, _)| token)
        .collect();
    assert_eq!(
        dots,
        [
            Token::Number("0"),
            Token::Punct(".."),
            Token::Number("10"),
            Token::Punct("...")
        ]
    );
}

fn conformance_cases() -> Option<PathBuf> {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance/cases");
    [beside, PathBuf::from("/work/shared/conformance/cases")]
        .into_iter()
        .find(|path| path.is_dir())
}

/// The lines of `["tsr::parse", N]` entries in an expect.json.
fn expected_parse_lines(expect: &str) -> Vec<usize> {
    expect
        .match_indices("\"tsr::parse\"")
        .filter_map(|(at, found)| {
            let rest = expect[at + found.len()..]
                .trim_start()
                .strip_prefix(',')?
                .trim_start();
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
        .collect()
}

#[test]
fn conformance_programs_parse() {
    let Some(cases) = conformance_cases() else {
        return;
    };
    let mut seen = 0;
    for entry in std::fs::read_dir(cases).expect("readable cases") {
        let dir = entry.expect("a case").path();
        let Ok(text) = std::fs::read_to_string(dir.join("case.tsr")) else {
            continue;
        };
        let expect = std::fs::read_to_string(dir.join("expect.json")).unwrap_or_default();
        let mut wanted: Vec<(Code, usize)> = expected_parse_lines(&expect)
            .into_iter()
            .map(|line| (Code::Parse, line))
            .collect();
        wanted.sort();
        let mut got = errors(&text);
        got.sort();
        assert_eq!(got, wanted, "{}", dir.display());
        assert!(!parse_text(&text).incomplete, "{}", dir.display());
        seen += 1;
    }
    assert!(seen > 0, "no case.tsr found");
}

/// Words that exercise the statement splitter: brackets, blocks, keywords
/// that start statements, separators and bad characters.
const SOUP: &[&str] = &[
    "dim", "input", "let", "fn", "return", "for", "in", "if", "else", "x", "_", "1", "2.5",
    "\"s\"", "\"", "+", "-", "**", "@", "==", "<", "=", ":", ",", ";", ".", "..", "...", "->", "(",
    ")", "[", "]", "{", "}", "\n", "#", "$", "\\q",
];

const SAMPLE: &str = "dim B = 4, T = 16, D = 64\ninput x: [B, T, D]\nlet w: [D, D] = randn([D, D]) * 0.02\nfn f(q: [*b, T, D]) -> [*b, T, D] {\n    let s = q @ w / sqrt(D)\n    if T > 8 { return s } else { s * 2 }\n}\nfor i in 0..10 { x = x[:, ::2, ...] * 0.5 }\nprint(\"y:\\n\", f(x).shape, {\"k\": (1, 2)})\n";

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let output = parse_text(&text);
        for diagnostic in &output.diagnostics {
            prop_assert!(matches!(diagnostic.code, Code::Parse | Code::Limit));
            let span = diagnostic.span.expect("a span");
            prop_assert!(span.end as usize <= text.len());
        }
    }

    #[test]
    fn token_soup_never_panics(words in proptest::collection::vec(proptest::sample::select(SOUP), 0..200)) {
        let text = words.join(" ");
        let output = parse_text(&text);
        for diagnostic in &output.diagnostics {
            let span = diagnostic.span.expect("a span");
            prop_assert!(span.end as usize <= text.len());
        }
    }

    #[test]
    fn truncated_and_spliced_programs_never_panic(cut in 0..SAMPLE.len(), insert in "[-+*/@(){}\\[\\],:;=.\"\\\\\n a1_]{0,8}") {
        let mut text = SAMPLE.as_bytes()[..cut].to_vec();
        text.extend_from_slice(insert.as_bytes());
        text.extend_from_slice(&SAMPLE.as_bytes()[cut..]);
        let text = String::from_utf8_lossy(&text);
        let output = parse_text(&text);
        let truncated = parse_text(&SAMPLE[..cut]);
        // At most one error per statement, and statements need separators.
        let statements = text.matches(['\n', ';', '{', '}']).count() + 1;
        prop_assert!(output.diagnostics.len() <= statements);
        prop_assert!(truncated.diagnostics.iter().all(|d| d.span.is_some()));
    }
}

#[test]
fn the_sample_parses() {
    assert_eq!(program(SAMPLE).stmts.len(), 6);
}
