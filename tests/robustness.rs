//! The checker's "bad input" guarantees, as tests that fail when one breaks:
//! whatever the text, `tsr::check_source` returns — no panic, no hang, no
//! stack overflow, no quadratic blow-up — and reports the stable code the
//! spec gives for the problem.
//!
//! Every check runs on a spawned thread with the default 2 MiB test-thread
//! stack (set explicitly, so `RUST_MIN_STACK` cannot hide an overflow): the
//! CLI's 256 MiB thread is a safety net, not a licence to recurse. The thread
//! is named after the case, so a stack overflow, which aborts the whole test
//! binary, names the case that caused it.
//!
//! Part (a) is a proptest that mutates real programs — the conformance
//! cases (`$TSR_CONFORMANCE_DIR`, default `/work/shared/conformance/cases`,
//! embedded seeds when that folder is missing), `examples/` and
//! `tests/check/` — and random token soups. `TSR_FUZZ_CASES=N` changes the
//! number of mutants (default 2000; a third as many soups, a twelfth as many
//! random byte strings). Part (b) is explicit
//! extreme inputs: deep nesting, long chains, huge sizes, a 50 MB file.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tsr::source::SourceFile;
use tsr::{check_source, CheckOptions};

/// The default stack of a spawned (and of a libtest) thread.
const STACK: usize = 2 << 20;

/// The bound on one fuzz case, in any build.
const FUZZ_LIMIT: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------- harness

#[derive(Debug)]
struct Outcome {
    codes: Vec<&'static str>,
    elapsed: Duration,
}

impl Outcome {
    fn has(&self, code: &str) -> bool {
        self.codes.contains(&code)
    }
}

/// Checks `text` on a fresh 2 MiB thread named `name`; `Err` says how it
/// went wrong (a panic with its message, or a timeout).
fn run_check(
    name: &str,
    text: String,
    options: CheckOptions,
    limit: Duration,
) -> Result<Outcome, String> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name(name.to_owned())
        .stack_size(STACK)
        .spawn(move || {
            let start = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| {
                let file = SourceFile::new("robustness.tsr", text);
                let output = check_source(&file, &options);
                output
                    .diagnostics
                    .iter()
                    .map(|d| d.code.as_str())
                    .collect::<Vec<_>>()
            }));
            let elapsed = start.elapsed();
            let _ = tx.send(
                result
                    .map(|codes| Outcome { codes, elapsed })
                    .map_err(|payload| panic_message(payload.as_ref())),
            );
        })
        .map_err(|error| format!("cannot spawn a checker thread: {error}"))?;
    match rx.recv_timeout(limit) {
        Ok(Ok(outcome)) => {
            let _ = spawned.join();
            Ok(outcome)
        }
        Ok(Err(message)) => {
            let _ = spawned.join();
            Err(format!("check_source panicked: {message}"))
        }
        // The thread is left running: it cannot be stopped, and joining it
        // would turn the hang into the test's own.
        Err(RecvTimeoutError::Timeout) => Err(format!("check_source took longer than {limit:?}")),
        Err(RecvTimeoutError::Disconnected) => {
            Err("the checker thread died without a result".into())
        }
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_owned()
    }
}

/// `run_check` with default options that must succeed; shows a prefix of
/// the input on failure. `TSR_ROBUSTNESS_VERBOSE=1` prints every case.
fn must_return(name: &str, text: String, limit: Duration) -> Outcome {
    let shown = preview(&text);
    match run_check(name, text, CheckOptions::default(), limit) {
        Ok(outcome) => {
            if std::env::var_os("TSR_ROBUSTNESS_VERBOSE").is_some() {
                eprintln!(
                    "{name}: {:?} in {:?}",
                    dedup(&outcome.codes),
                    outcome.elapsed
                );
            }
            outcome
        }
        Err(problem) => panic!("{name}: {problem}\ninput starts: {shown}"),
    }
}

fn dedup(codes: &[&'static str]) -> Vec<&'static str> {
    let mut seen = Vec::new();
    for code in codes {
        if !seen.contains(code) {
            seen.push(*code);
        }
    }
    seen
}

fn preview(text: &str) -> String {
    let cut: String = text.chars().take(160).collect();
    format!("{cut:?} ({} bytes)", text.len())
}

/// Failures of a table of cases, reported together at its end.
#[derive(Default)]
struct Failures(Vec<String>);

impl Failures {
    /// Records a failure unless `outcome` holds one of `codes`.
    fn expect(&mut self, name: &str, outcome: &Outcome, codes: &[&str]) {
        if !codes.iter().any(|code| outcome.has(code)) {
            self.0.push(format!(
                "{name}: expected one of {codes:?}, got {:?}",
                dedup(&outcome.codes)
            ));
        }
    }

    #[track_caller]
    fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "{} case(s) failed:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// Asserts that `outcome` holds one of `codes`.
#[track_caller]
fn expect_code(name: &str, outcome: &Outcome, codes: &[&str]) {
    let mut failures = Failures::default();
    failures.expect(name, outcome, codes);
    failures.assert_none();
}

/// Debug builds are roughly ten times slower than release ones.
fn scaled(release: Duration) -> Duration {
    if cfg!(debug_assertions) {
        release * 10
    } else {
        release
    }
}

// ------------------------------------------------------------------ seeds

struct Seed {
    text: String,
    /// Where `load` paths are resolved: the case's own folder, so headers
    /// of real `.npy` files are read as well.
    base_dir: PathBuf,
}

const EMBEDDED_SEEDS: &[&str] = &[
    "dim B = 2, T = 3, D = 4\ninput x: [B, T]\ninput y: [B, D]\nlet z = x + y\n",
    "dim B = 4, T = 16, D = 64, H = 4, Dh = D / H\ninput x: [B, T, D]\n\
     let w: [D, D] = randn([D, D]) * 0.02\n\
     fn attention(q: [*b, Tq, Dk], k: [*b, Tk, Dk], v: [*b, Tk, Dv]) -> [*b, Tq, Dv] {\n\
     \x20   let s = q @ transpose(k, -1, -2) / sqrt(Dk)\n    softmax(s, -1) @ v\n}\n\
     let q = permute(reshape(x @ w, [B, T, H, Dh]), [B, H, T, Dh])\n\
     let a = attention(q, q, q)\nlet m = reshape(permute(a, [B, T, H, Dh]), [B, T, D])\n\
     for i in 0..10 { m = m * 0.5 }\nif T > 8 { print(\"long\") } else { print(\"short\") }\n",
    "dim B = 2, H = 3, T = 4, Dh = 5\ninput q: [B, H, T, Dh]\ninput k: [B, H, T, Dh]\n\
     let s = einsum(\"bhid,bhjd->bhij\", q, k)\nlet t = einsum(\"b h i d, b h j d -> b h i j\", q, k)\n\
     let r = rearrange(q, \"b h t d -> b t (h d)\")\nlet u = reduce(q, \"b h t d -> b d\", \"mean\")\n\
     let v = repeat(u, \"b d -> b n d\", n=3)\nlet w = q[:, 0, 1:3, None, ...]\n",
    "dim N\ndim M = 3\ninput a: [N, M]\nlet (u, s, vh) = svd(a)\nlet c = conv1d(zeros([2, M, 9]), ones([4, M, 3]), padding=1)\n\
     let g = grad(f, a)\nsave({\"a\": a}, \"out.npz\")\nlet l: [M, M] = load(\"w.npy\")\n",
];

fn seeds() -> &'static [Seed] {
    static SEEDS: OnceLock<Vec<Seed>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cases = std::env::var_os("TSR_CONFORMANCE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/work/shared/conformance/cases"));
        let mut found = Vec::new();
        let mut programs = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&cases) {
            for entry in entries.flatten() {
                programs.push(entry.path().join("case.tsr"));
            }
        }
        for dir in [
            manifest.join("examples"),
            manifest.join("tests").join("check"),
        ] {
            programs.extend(tsr_files_under(&dir));
        }
        programs.sort();
        for path in programs {
            if let Ok(text) = std::fs::read_to_string(&path) {
                let base_dir = path.parent().unwrap_or(manifest).to_path_buf();
                found.push(Seed { text, base_dir });
            }
        }
        for text in EMBEDDED_SEEDS {
            found.push(Seed {
                text: (*text).to_owned(),
                base_dir: manifest.to_path_buf(),
            });
        }
        found
    })
}

fn tsr_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "tsr") {
                found.push(path);
            }
        }
    }
    found
}

// -------------------------------------------------------------- mutations

/// Tokens of the language and near-misses, spliced in at random.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    "...",
    "..",
    "->",
    "@",
    "**",
    "*",
    "+",
    "-",
    "/",
    "=",
    "==",
    "<=",
    ";",
    ".",
    "\n",
    "\r\n",
    "\t",
    " ",
    "let ",
    "fn ",
    "dim ",
    "input ",
    "for ",
    " in ",
    "if ",
    "else ",
    "return ",
    "None",
    "_",
    "0",
    "-1",
    "1",
    "1e300",
    "1e-300",
    "-0.0",
    "99999999999999999999999",
    "9223372036854775807",
    "281474976710657",
    "\"",
    "\\",
    "#",
    "x",
    "B",
    "T",
    "D",
    "N",
    "*b",
    ".T",
    ".shape",
    "[B, T]",
    "keepdims=true",
    "axis=",
    "dtype=f64",
    "einsum(\"ij,jk->ik\", ",
    "einsum(\"",
    "rearrange(",
    "\"b (h d) -> b h d\"",
    "reduce(",
    "repeat(",
    "reshape(",
    "view(",
    "permute(",
    "sum(",
    "softmax(",
    "conv2d(",
    "split(",
    "pad(",
    "unfold(",
    "load(\"x.npy\")",
    "grad(",
    "zeros([",
    "arange(",
    "\n}\n",
    "{\n",
    "x[",
    "-1]",
    ":, None, ",
];

#[derive(Clone, Debug)]
enum Mutation {
    Delete {
        at: Index,
        len: usize,
    },
    Duplicate {
        from: Index,
        len: usize,
        to: Index,
    },
    Swap {
        a: Index,
        b: Index,
        len: usize,
    },
    Token {
        at: Index,
        token: Index,
    },
    Bytes {
        at: Index,
        bytes: Vec<u8>,
    },
    Unicode {
        at: Index,
        ch: char,
    },
    Truncate {
        at: Index,
    },
    /// Keep the text up to `at`, then another seed from `from` on.
    Splice {
        at: Index,
        other: Index,
        from: Index,
    },
    /// Replace the word (name or number) at `at` with another: keeps the
    /// program parsing, so the checker proper sees the mutant.
    Word {
        at: Index,
        word: Index,
    },
}

/// Names, builtins and numbers a mutant may put in place of a word.
const WORDS: &[&str] = &[
    "x",
    "y",
    "q",
    "k",
    "v",
    "w",
    "B",
    "T",
    "D",
    "N",
    "H",
    "Dh",
    "Dk",
    "E",
    "_",
    "None",
    "true",
    "sum",
    "mean",
    "max",
    "softmax",
    "reshape",
    "permute",
    "transpose",
    "einsum",
    "rearrange",
    "repeat",
    "squeeze",
    "unsqueeze",
    "concat",
    "stack",
    "matmul",
    "zeros",
    "f64",
    "i64",
    "bool",
    "keepdims",
    "axis",
    "grad",
    "load",
    "size",
    "shape",
    "T",
    "0",
    "1",
    "2",
    "3",
    "-1",
    "-2",
    "0.5",
    "1e300",
    "281474976710656",
    "281474976710657",
    "9223372036854775807",
    "99999999999999999999",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => (any::<Index>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        2 => (any::<Index>(), 1usize..200, any::<Index>())
            .prop_map(|(from, len, to)| Mutation::Duplicate { from, len, to }),
        2 => (any::<Index>(), any::<Index>(), 1usize..40).prop_map(|(a, b, len)| Mutation::Swap { a, b, len }),
        6 => (any::<Index>(), any::<Index>()).prop_map(|(at, token)| Mutation::Token { at, token }),
        2 => (any::<Index>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(at, bytes)| Mutation::Bytes { at, bytes }),
        2 => (any::<Index>(), any::<char>()).prop_map(|(at, ch)| Mutation::Unicode { at, ch }),
        1 => any::<Index>().prop_map(|at| Mutation::Truncate { at }),
        2 => (any::<Index>(), any::<Index>(), any::<Index>())
            .prop_map(|(at, other, from)| Mutation::Splice { at, other, from }),
        8 => (any::<Index>(), any::<Index>()).prop_map(|(at, word)| Mutation::Word { at, word }),
    ]
}

fn apply(text: &mut Vec<u8>, mutation: &Mutation) {
    let pos = |i: &Index, len: usize| i.index(len + 1);
    let n = text.len();
    match mutation {
        Mutation::Delete { at, len } => {
            let at = pos(at, n);
            let end = (at + len).min(n);
            text.drain(at..end);
        }
        Mutation::Duplicate { from, len, to } => {
            let from = pos(from, n);
            let end = (from + len).min(n);
            let piece = text[from..end].to_vec();
            let to = pos(to, n);
            text.splice(to..to, piece);
        }
        Mutation::Swap { a, b, len } => {
            let (a, b) = (pos(a, n), pos(b, n));
            let (a, b) = (a.min(b), a.max(b));
            let len = (*len).min(b - a).min(n - b);
            if len > 0 {
                let first = text[a..a + len].to_vec();
                let second = text[b..b + len].to_vec();
                text.splice(b..b + len, first);
                text.splice(a..a + len, second);
            }
        }
        Mutation::Token { at, token } => {
            let at = pos(at, n);
            let token = TOKENS[token.index(TOKENS.len())].as_bytes().to_vec();
            text.splice(at..at, token);
        }
        Mutation::Bytes { at, bytes } => {
            let at = pos(at, n);
            text.splice(at..at, bytes.iter().copied());
        }
        Mutation::Unicode { at, ch } => {
            let at = pos(at, n);
            let mut buf = [0u8; 4];
            text.splice(at..at, ch.encode_utf8(&mut buf).bytes());
        }
        Mutation::Truncate { at } => text.truncate(pos(at, n)),
        Mutation::Splice { at, other, from } => {
            let seeds = seeds();
            let other = seeds[other.index(seeds.len())].text.as_bytes();
            let from = from.index(other.len() + 1);
            text.truncate(pos(at, n));
            text.extend_from_slice(&other[from..]);
        }
        Mutation::Word { at, word } => {
            let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'.';
            let mut start = pos(at, n).min(n.saturating_sub(1));
            // The next word at or after `at`, if any.
            while start < n && !is_word(text[start]) {
                start += 1;
            }
            while start > 0 && is_word(text[start - 1]) {
                start -= 1;
            }
            let mut end = start;
            while end < n && is_word(text[end]) {
                end += 1;
            }
            let word = WORDS[word.index(WORDS.len())].as_bytes().to_vec();
            text.splice(start..end, word);
        }
    }
}

/// `--dim` overrides, extreme values included.
fn dims() -> impl Strategy<Value = Vec<(String, i64)>> {
    let name = prop::sample::select(vec!["B", "T", "D", "N", "H", "Dh", "x", "zz"]);
    let value = prop::sample::select(vec![
        0,
        1,
        -1,
        3,
        7,
        1 << 48,
        (1 << 48) + 1,
        i64::MAX,
        i64::MIN,
    ]);
    prop_oneof![
        3 => Just(Vec::new()),
        1 => proptest::collection::vec((name.prop_map(str::to_owned), value), 1..3),
    ]
}

fn fuzz_cases(default: u32) -> u32 {
    std::env::var("TSR_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn fuzz_config(cases: u32) -> Config {
    Config {
        cases,
        max_shrink_iters: 400,
        failure_persistence: None,
        ..Config::default()
    }
}

/// (a) Mutants of real programs: never a panic, never over 5 s.
#[test]
fn mutated_programs_never_panic_or_hang() {
    let seeds = seeds();
    assert!(!seeds.is_empty());
    let strategy = (
        0..seeds.len(),
        prop_oneof![
            proptest::collection::vec(mutation(), 1..8),
            // Word swaps only: mutants that still parse, for the checker.
            proptest::collection::vec(
                (any::<Index>(), any::<Index>()).prop_map(|(at, word)| Mutation::Word { at, word }),
                1..6,
            ),
        ],
        dims(),
    );
    let mut runner = TestRunner::new(fuzz_config(fuzz_cases(2000)));
    let (total, checked) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let result = runner.run(&strategy, |(seed, mutations, dims)| {
        let seed = &seeds[seed];
        let mut bytes = seed.text.as_bytes().to_vec();
        for m in &mutations {
            apply(&mut bytes, m);
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let options = CheckOptions {
            dims,
            base_dir: seed.base_dir.clone(),
            record_types: false,
            record_facts: false,
        };
        let shown = preview(&text);
        let outcome = run_check("fuzz-mutant", text, options, FUZZ_LIMIT)
            .map_err(|problem| TestCaseError::fail(format!("{problem}; input {shown}")))?;
        total.fetch_add(1, Ordering::Relaxed);
        if !outcome.has("tsr::parse") && !outcome.has("tsr::limit") {
            checked.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let (total, checked) = (total.into_inner(), checked.into_inner());
    if std::env::var_os("TSR_ROBUSTNESS_VERBOSE").is_some() {
        eprintln!("{total} mutants, {checked} of them parsed and reached the checker");
    }
    // Most mutants should get past the parser, or the checker goes unfuzzed.
    assert!(
        checked * 5 >= total,
        "only {checked} of {total} mutants reached the checker"
    );
}

/// (a) Soups of language tokens and identifiers, which reach corners of the
/// grammar that mutants of valid programs rarely do.
#[test]
fn token_soup_never_panics_or_hangs() {
    let piece = prop_oneof![
        4 => prop::sample::select(TOKENS.to_vec()).prop_map(str::to_owned),
        1 => "[a-zA-Z_][a-zA-Z0-9_]{0,3}",
        1 => "[0-9]{1,25}",
        1 => "\"[ a-z.,>()-]{0,12}\"",
    ];
    let strategy = (proptest::collection::vec(piece, 1..120), dims());
    let mut runner = TestRunner::new(fuzz_config(fuzz_cases(2000) / 3));
    let result = runner.run(&strategy, |(pieces, dims)| {
        let text = pieces.join(" ");
        let options = CheckOptions {
            dims,
            base_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")),
            record_types: false,
            record_facts: false,
        };
        let shown = preview(&text);
        run_check("fuzz-soup", text, options, FUZZ_LIMIT)
            .map(drop)
            .map_err(|problem| TestCaseError::fail(format!("{problem}; input {shown}")))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Every seed as it is: the corpus itself must not trip the harness.
#[test]
fn seeds_check_without_panicking() {
    for (i, seed) in seeds().iter().enumerate() {
        let options = CheckOptions {
            dims: Vec::new(),
            base_dir: seed.base_dir.clone(),
            record_types: false,
            record_facts: false,
        };
        if let Err(problem) = run_check("seed", seed.text.clone(), options, FUZZ_LIMIT) {
            panic!("seed {i}: {problem}\ninput {}", preview(&seed.text));
        }
    }
}

// --------------------------------------------------------- explicit cases

const HEADER: &str = "dim B = 2, T = 3, D = 4\ninput x: [B, T, D]\n";
const BIG: usize = 100_000;

fn deep_limit() -> Duration {
    scaled(Duration::from_secs(3))
}

#[test]
fn nested_parens_100k() {
    let text = format!("{HEADER}let a = {}x{}\n", "(".repeat(BIG), ")".repeat(BIG));
    let out = must_return("nested-parens", text, deep_limit());
    expect_code("nested-parens", &out, &["tsr::limit"]);
}

#[test]
fn nested_brackets_100k() {
    let text = format!("{HEADER}let a = {}1{}\n", "[".repeat(BIG), "]".repeat(BIG));
    let out = must_return("nested-brackets", text, deep_limit());
    expect_code("nested-brackets", &out, &["tsr::limit"]);
}

#[test]
fn nested_blocks_100k() {
    let text = format!(
        "{HEADER}{}\n{}\n",
        "if true {\n".repeat(BIG),
        "}\n".repeat(BIG)
    );
    let out = must_return("nested-blocks", text, deep_limit());
    expect_code("nested-blocks", &out, &["tsr::limit"]);
}

#[test]
fn nested_dicts_100k() {
    let text = format!(
        "{HEADER}save({}x{}, \"a.npz\")\n",
        "{\"k\": ".repeat(BIG),
        "}".repeat(BIG)
    );
    let out = must_return("nested-dicts", text, deep_limit());
    expect_code("nested-dicts", &out, &["tsr::limit"]);
}

#[test]
fn unclosed_openers_100k() {
    let mut failures = Failures::default();
    for (name, opener) in [
        ("unclosed-paren", "("),
        ("unclosed-bracket", "["),
        ("unclosed-brace", "{"),
    ] {
        let text = format!("{HEADER}let a = {}\n", opener.repeat(BIG));
        let out = must_return(name, text, deep_limit());
        failures.expect(name, &out, &["tsr::limit", "tsr::parse"]);
        let text = format!("{HEADER}{}\n", opener.repeat(BIG));
        let out = must_return(name, text, deep_limit());
        failures.expect(name, &out, &["tsr::limit", "tsr::parse"]);
    }
    failures.assert_none();
}

#[test]
fn closers_100k() {
    for closer in [")", "]", "}"] {
        let text = format!("{HEADER}let a = x{}\n", closer.repeat(BIG));
        let out = must_return("closers", text, deep_limit());
        expect_code("closers", &out, &["tsr::parse"]);
    }
}

/// Nesting just at and just past the parser's cap (256), with every kind of
/// bracket: the deepest accepted program must check on a 2 MiB stack.
#[test]
fn nesting_at_the_parser_limit() {
    let mut failures = Failures::default();
    for depth in [250, 255, 256, 257, 300] {
        let cases = [
            (
                "parens-at-limit",
                format!("let a = {}x{}", "(".repeat(depth), ")".repeat(depth)),
            ),
            (
                "lists-at-limit",
                format!("let a = {}1.0{}", "[".repeat(depth), "]".repeat(depth)),
            ),
            (
                "calls-at-limit",
                format!("let a = {}x{}", "relu(".repeat(depth), ")".repeat(depth)),
            ),
            (
                "index-at-limit",
                format!("let a = x{}", "[0]".repeat(depth)),
            ),
            ("negate-at-limit", format!("let a = {}x", "-".repeat(depth))),
            ("sum-at-limit", format!("let a = x{}", " + x".repeat(depth))),
            (
                "power-at-limit",
                format!("let a = x{}", " ** x".repeat(depth)),
            ),
            (
                "method-at-limit",
                format!("let a = x{}", ".relu()".repeat(depth)),
            ),
            (
                "fields-at-limit",
                format!("let a = x{}", ".T".repeat(depth)),
            ),
            (
                "blocks-at-limit",
                format!(
                    "{}let q = x + 1.0\n{}",
                    "if true {\n".repeat(depth),
                    "}\n".repeat(depth)
                ),
            ),
            (
                "loops-at-limit",
                format!(
                    "let y = x\n{}y = y * 0.5\n{}",
                    "for i in 0..2 {\n".repeat(depth),
                    "}\n".repeat(depth)
                ),
            ),
            (
                "fn-blocks-at-limit",
                format!(
                    "fn f(t: [*b, E]) -> [*b, E] {{\n{}let u = t\n{}t\n}}\nlet z = f(x)",
                    "if true {\n".repeat(depth),
                    "}\n".repeat(depth)
                ),
            ),
            (
                "axis-expr-at-limit",
                format!("input y: [{}1{}]", "(".repeat(depth), ")".repeat(depth)),
            ),
            (
                "dim-expr-at-limit",
                format!("dim Z = {}2{}", "(".repeat(depth), ")".repeat(depth)),
            ),
            (
                "pattern-at-limit",
                format!("let {}p{} = x", "(".repeat(depth), ")".repeat(depth)),
            ),
            (
                "tuple-type-at-limit",
                format!(
                    "fn g(t: {}[B]{}) {{ t }}",
                    "(".repeat(depth),
                    ")".repeat(depth)
                ),
            ),
            (
                "tuple-at-limit",
                format!("let a = {}x{}", "(x, ".repeat(depth), ")".repeat(depth)),
            ),
        ];
        for (name, body) in cases {
            let text = format!("{HEADER}{body}\n");
            let out = must_return(name, text, deep_limit());
            if depth > 256 {
                failures.expect(name, &out, &["tsr::limit", "tsr::parse"]);
            }
        }
    }
    failures.assert_none();
}

#[test]
fn sum_chain_of_a_million_terms() {
    let mut text = String::from(HEADER);
    text.push_str("let a = x");
    text.push_str(&" + x".repeat(1_000_000));
    text.push('\n');
    let out = must_return("sum-chain", text, scaled(Duration::from_secs(5)));
    expect_code("sum-chain", &out, &["tsr::limit"]);
}

#[test]
fn minus_repeated_100k() {
    let text = format!("{HEADER}let a = {}x\n", "-".repeat(BIG));
    let out = must_return("minus-chain", text, deep_limit());
    expect_code("minus-chain", &out, &["tsr::limit"]);
    // Binary minus too: `x - - - ... x`.
    let text = format!("{HEADER}let a = x {}x\n", "- ".repeat(BIG));
    let out = must_return("minus-chain", text, deep_limit());
    expect_code("minus-chain", &out, &["tsr::limit"]);
}

#[test]
fn other_long_chains_100k() {
    let mut failures = Failures::default();
    let cases = [
        (
            "power-chain",
            format!("let a = x{}", " ** x".repeat(BIG)),
            "tsr::limit",
        ),
        (
            "product-chain",
            format!("let a = x{}", " * x".repeat(BIG)),
            "tsr::limit",
        ),
        (
            "field-chain",
            format!("let a = x{}", ".T".repeat(BIG)),
            "tsr::limit",
        ),
        (
            "method-chain",
            format!("let a = x{}", ".relu()".repeat(BIG)),
            "tsr::limit",
        ),
        (
            "index-chain",
            format!("let a = x{}", "[0]".repeat(BIG)),
            "tsr::limit",
        ),
        (
            "compare-chain",
            format!("let a = x{}", " < x".repeat(BIG)),
            "tsr::parse",
        ),
        (
            "nested-index",
            format!("let a = {}0{}", "x[".repeat(BIG), "]".repeat(BIG)),
            "tsr::limit",
        ),
        (
            "dim-expr-chain",
            format!("dim Z = 1{}", " + 1".repeat(BIG)),
            "tsr::limit",
        ),
        (
            "axis-expr-chain",
            format!("input y: [1{}]", " * 1".repeat(BIG)),
            "tsr::limit",
        ),
    ];
    for (name, body, code) in cases {
        let text = format!("{HEADER}{body}\n");
        let out = must_return(name, text, deep_limit());
        failures.expect(name, &out, &[code]);
    }
    failures.assert_none();
}

#[test]
fn nested_calls_10k_deep() {
    let text = format!(
        "{HEADER}fn f(t: [*b, E]) -> [*b, E] {{ t * 2.0 }}\nlet a = {}x{}\n",
        "f(".repeat(10_000),
        ")".repeat(10_000)
    );
    let out = must_return("nested-calls", text, deep_limit());
    expect_code("nested-calls", &out, &["tsr::limit"]);
}

/// 10 000 fns, each calling the one before: bodies are checked once, at
/// their definition, so this is linear and never recursive.
#[test]
fn fn_chain_10k() {
    let mut text = String::from(
        "dim B = 2, D = 4\ninput x: [B, D]\nfn f0(t: [*b, E]) -> [*b, E] { t * 2.0 }\n",
    );
    for i in 1..10_000 {
        text.push_str(&format!(
            "fn f{i}(t: [*b, E]) -> [*b, E] {{ f{}(t) + 1.0 }}\n",
            i - 1
        ));
    }
    text.push_str("let y: [B, D] = f9999(x)\n");
    let out = must_return("fn-chain", text, scaled(Duration::from_secs(3)));
    assert!(out.codes.is_empty(), "fn-chain: {:?}", dedup(&out.codes));
}

#[test]
fn dim_of_ten_to_the_thirty() {
    let text =
        "dim A = 1000000000000000000000000000000\ninput x: [A]\nlet y = x + 1.0\n".to_owned();
    let out = must_return("dim-1e30", text, deep_limit());
    expect_code("dim-1e30", &out, &["tsr::dim"]);
}

/// `CheckOptions::dims` is public API: out-of-range sizes there are
/// `tsr::dim`, as they are on the command line, never a panic. (A negative
/// size used to reach `-n` in the index rule, overflowing on `i64::MIN`,
/// and `arange(B)` overflowed on `i64::MAX`: the override was reported but
/// still bound.)
#[test]
fn dim_options_out_of_range() {
    let mut failures = Failures::default();
    let text = "dim B = 2\ninput x: [B]\nlet y = x[0]\nlet z = x[-1:]\nlet s = sum(x, B)\n\
                let a = arange(B)\nlet b = arange(-B, B, 3)\nlet c = zeros([B, B])\n";
    for value in [-1, i64::MIN, i64::MIN + 1, (1 << 48) + 1, i64::MAX] {
        let name = format!("dim-option-{value}");
        let options = CheckOptions {
            dims: vec![("B".to_owned(), value)],
            ..CheckOptions::default()
        };
        match run_check(&name, text.to_owned(), options, deep_limit()) {
            Ok(out) => failures.expect(&name, &out, &["tsr::dim"]),
            Err(problem) => failures.0.push(format!("{name}: {problem}")),
        }
    }
    failures.assert_none();
}

#[test]
fn huge_products_of_dims() {
    let mut failures = Failures::default();
    const LIMIT: &[&str] = &["tsr::limit", "tsr::dim"];
    let cases: [(&str, &str, &[&str]); 15] = [
        ("dim-product", "dim A = 1000000, B = A * A * A * A\n", LIMIT),
        ("dim-product-i64", "dim A = 1000000, B = A * A * A\n", LIMIT),
        ("dim-sum", "dim A = 9223372036854775807, B = A + A\n", LIMIT),
        ("dim-negative", "dim A = 1000000, B = 0 - A * A * A * A\n", LIMIT),
        ("zeros-product", "dim A = 1000000\nlet z = zeros([A, A, A, A])\n", LIMIT),
        ("input-product", "dim A = 1000000\ninput z: [A, A, A, A]\nlet s = sum(z)\n", LIMIT),
        ("reshape-product", "dim A = 1000000\ninput z: [A]\nlet r = reshape(z, [A, A, A, -1])\n", &["tsr::limit", "tsr::dim", "tsr::reshape"]),
        ("arange-huge", "let r = arange(99999999999999999999)\n", &["tsr::limit", "tsr::dim", "tsr::arg"]),
        ("eye-huge", "let r = eye(1000000000)\n", LIMIT),
        ("full-huge", "let r = full([281474976710657], 1.0)\n", LIMIT),
        ("loop-huge", "for i in 0..99999999999999999999 { print(i) }\n", &["tsr::limit", "tsr::dim", "tsr::arg"]),
        ("broadcast-huge", "dim A = 1000000\nlet r = broadcast_to(zeros([1]), [A, A, A])\n", LIMIT),
        ("repeat-huge", "dim A = 1000000\nlet r = repeat(zeros([A]), \"a -> a b c\", b=A, c=A)\n", &["tsr::limit", "tsr::dim", "tsr::rearrange"]),
        ("pad-huge", "let r = pad(zeros([2]), [[99999999999999999999, 1]])\n", &["tsr::limit", "tsr::dim", "tsr::arg"]),
        // No particular code: only that the checked arithmetic holds.
        ("conv-huge", "let r = conv1d(zeros([1, 1, 281474976710655]), zeros([1, 1, 3]), dilation=281474976710655)\n", &[]),
    ];
    for (name, text, codes) in cases {
        let out = must_return(name, text.to_owned(), deep_limit());
        if !codes.is_empty() {
            failures.expect(name, &out, codes);
        }
    }
    failures.assert_none();
}

const HUGE_HEADER: &str = "dim A = 1073741824\ninput a: [A, 1]\ninput b: [1, A]\ninput v: [A]\n";

/// Results whose element count passes 2^48 although every input is within
/// it: by broadcasting, matmul, outer products, constructors of derived
/// shape, einsum and repeat.
const HUGE_RESULTS: [(&str, &str); 11] = [
    ("broadcast-result", "let r = a + b"),
    ("broadcast-result-4d", "let r = a[:, :, None, None] + b[None, None, :, :] + a[None, None, :, :] + b[:, :, None, None]"),
    ("matmul-result", "let r = a @ b"),
    ("outer-result", "let r = outer(v, v)"),
    ("einsum-result", "let r = einsum(\"i,j,k->ijk\", v, v, v)"),
    ("repeat-result", "let r = repeat(v, \"a -> a b c\", b=A, c=A)"),
    ("eye-result", "let r = eye(A)"),
    ("causal-mask-result", "let r = causal_mask(A)"),
    ("diag-result", "let r = diag(v)"),
    ("where-result", "let r = where(a > 0.0, a, b)"),
    ("conv-transpose-result", "let r = conv_transpose2d(zeros([1, 1, 2, 2]), zeros([1, 1, 3, 3]), stride=1000000000)"),
];

/// Using such a result must not overflow: the element count of a rank-4
/// result of 2^30-sized axes is 2^120, and `.size`, `flatten` and
/// `reshape(.., [-1])` multiply it out.
#[test]
fn element_counts_past_the_limit_do_not_overflow() {
    for (name, line) in HUGE_RESULTS {
        let uses =
            "let s = r.size\nlet n = r.nbytes\nlet f = flatten(r)\nlet g = reshape(r, [-1])\n\
                    let h = sum(r)\nlet k = r * r\nlet t = transpose(r, 0, -1)\nprint(r.shape)\n";
        must_return(name, format!("{HUGE_HEADER}{line}\n{uses}"), deep_limit());
    }
    // A rank-4 result of 2^30-sized axes: 2^120 elements.
    let text = format!(
        "{HUGE_HEADER}let r = a[:, :, None, None] + b[None, None, :, :] + a[None, None, :, :] + b[:, :, None, None]\n\
         let f = flatten(r)\nlet g = reshape(r, [-1])\n"
    );
    let out = must_return("rank-4-flatten", text, deep_limit());
    expect_code("rank-4-flatten", &out, &["tsr::limit"]);
}

/// Sizes beyond 2^48 that reach an axis anyway (flattening a 2^31 x 2^31
/// outer product gives an axis of 2^62) must not overflow whatever follows:
/// sums, concatenation, padding, convolution arithmetic, size expressions.
#[test]
fn axes_past_the_limit_do_not_overflow() {
    let header = "dim A = 2147483648\ninput v: [A]\nlet f = flatten(outer(v, v))\n\
                  let e = flatten(eye(A))\nlet m = flatten(causal_mask(A))\n";
    let uses = [
        "let c = concat([f, f, f, f], 0)",
        "let c = stack([f, f], 0)",
        "let c = pad(f, [[4611686018427387904, 4611686018427387904]])",
        "let c = pad(f, [[A, A]])",
        "let c = f + f",
        "let c = outer(f, f)",
        "let c = f[None, :] * f[:, None]",
        "let c = reshape(f, [-1, 2])",
        "let c = reshape(f, [2, 2, -1])",
        "let c = unfold(f, 0, 2, 1)",
        "let c = unfold(f, 0, A, 1)",
        "let c = conv1d(f[None, None, :], zeros([1, 1, 3]), padding=4611686018427387904)",
        "let c = conv1d(f[None, None, :], zeros([1, 1, 3]), dilation=4611686018427387904)",
        "let c = conv_transpose2d(reshape(f, [1, 1, 2, -1]), zeros([1, 1, 3, 3]), stride=4)",
        "let c = max_pool2d(reshape(f, [1, 1, 2, -1]), 2)",
        "let c = zeros([size(f, 0), 4])",
        "let c = zeros([f.shape[0] + f.shape[0]])",
        "let c = zeros([f.shape[0] * 2])",
        "let c = arange(f.shape[0] + f.shape[0])",
        "let c = f[1:-1:3]",
        "let c = f[-4611686018427387904]",
        "let c = split(f, [4611686018427387904, 4611686018427387904], 0)",
        "let c = rearrange(f, \"(a b) -> a b\", a=2)",
        "let c = repeat(f, \"a -> a b\", b=4)",
        "let c = einsum(\"i,i->i\", f, e)",
        "let c = f @ m",
        "for i in 0..f.shape[0] + f.shape[0] { print(i) }",
        "dim Z = 4611686018427387904 + 4611686018427387904",
        "dim Y = A * A * 2",
        "let c = f.size + f.size",
        "let c = f.nbytes",
        "let c = e.nbytes * 2",
    ];
    for (i, line) in uses.iter().enumerate() {
        let name = format!("past-limit-{i}");
        must_return(&name, format!("{header}{line}\n"), deep_limit());
    }
}

/// The element-count cap of `zeros([A, A, A, A])` (`tsr::limit`) applies to
/// every result, not only to constructors given a shape: such a tensor could
/// never be allocated at run time.
#[test]
fn results_past_the_limit_are_limit_errors() {
    let mut failures = Failures::default();
    for (name, line) in HUGE_RESULTS {
        let out = must_return(name, format!("{HUGE_HEADER}{line}\n"), deep_limit());
        failures.expect(name, &out, &["tsr::limit"]);
    }
    failures.assert_none();
}

#[test]
fn huge_literals_and_indices() {
    let mut failures = Failures::default();
    let cases = [
        ("index-huge", format!("{HEADER}let a = x[99999999999999999999]"), "tsr::index|tsr::limit"),
        ("index-min", format!("{HEADER}let a = x[-9223372036854775808]"), "tsr::index|tsr::limit"),
        ("slice-huge", format!("{HEADER}let a = x[-99999999999999999999:99999999999999999999:99999999999999999999]"), ""),
        ("axis-huge", format!("{HEADER}let a = sum(x, 9223372036854775807)"), "tsr::axis|tsr::limit"),
        ("axis-min", format!("{HEADER}let a = sum(x, -9223372036854775808)"), "tsr::axis|tsr::limit"),
        ("float-huge", format!("{HEADER}let a = x * 1e999 + 1e-999"), ""),
        ("long-number", format!("{HEADER}let a = x * {}", "9".repeat(BIG)), ""),
        ("long-float", format!("{HEADER}let a = x * 0.{}", "1".repeat(BIG)), ""),
        ("long-string", format!("{HEADER}print(\"{}\")", "\\n".repeat(BIG)), ""),
        ("long-name", format!("{HEADER}let {} = x", "a".repeat(BIG)), ""),
        ("long-undefined", format!("{HEADER}let a = x + {}", "x".repeat(BIG)), "tsr::undefined"),
        ("wide-literal", format!("let a = [{}1]", "1, ".repeat(BIG)), ""),
        ("wide-call", format!("{HEADER}let a = relu({}x)", "x, ".repeat(BIG)), "tsr::arg"),
        ("many-statements", format!("{HEADER}{}", "let a = x + 1.0; ".repeat(BIG)), ""),
        ("many-semicolons", format!("{HEADER}{}", ";".repeat(BIG)), ""),
        ("many-newlines", format!("{HEADER}{}", "\r\n".repeat(BIG)), ""),
    ];
    for (name, text, code) in cases {
        let out = must_return(name, text, deep_limit());
        if !code.is_empty() {
            failures.expect(name, &out, &code.split('|').collect::<Vec<_>>());
        }
    }
    failures.assert_none();
}

#[test]
fn type_with_100k_axes() {
    let ones = vec!["1"; BIG].join(", ");
    let text = format!("input x: [{ones}]\nlet y = x + x\nlet s = sum(x, -1)\nlet r = reshape(x, [1])\nlet t = x.T\n");
    let out = must_return("axes-100k", text, scaled(Duration::from_secs(5)));
    drop(out);
    let bs = vec!["B"; BIG].join(", ");
    let text = format!("dim B = 2\ninput x: [{bs}]\n");
    let out = must_return("axes-100k-named", text, scaled(Duration::from_secs(5)));
    expect_code("axes-100k-named", &out, &["tsr::limit"]);
    let text = format!("dim B = 2\nlet x = zeros([{bs}])\n");
    let out = must_return("axes-100k-zeros", text, scaled(Duration::from_secs(5)));
    expect_code("axes-100k-zeros", &out, &["tsr::limit"]);
    let gens: Vec<String> = (0..BIG).map(|i| format!("G{i}")).collect();
    let text = format!(
        "fn f(t: [{}]) -> [*b] {{ t }}\ninput x: [2, 3]\nlet y = f(x)\n",
        gens.join(", ")
    );
    let out = must_return("axes-100k-generic", text, scaled(Duration::from_secs(5)));
    assert!(
        !out.codes.is_empty(),
        "axes-100k-generic: a 2-D argument to a 100000-axis parameter was accepted"
    );
}

#[test]
fn einsum_and_rearrange_specs_of_100k_chars() {
    let mut failures = Failures::default();
    let letters = "i".repeat(BIG);
    let words = vec!["a"; BIG / 2].join(" ");
    let distinct: String = (0..BIG / 8).map(|i| format!("a{i} ")).collect();
    let cases = [
        (
            "einsum-letters",
            format!("let e = einsum(\"{letters}->i\", x)"),
            "tsr::einsum-spec",
        ),
        (
            "einsum-letters-out",
            format!("let e = einsum(\"ijk->{letters}\", x)"),
            "tsr::einsum-spec",
        ),
        (
            "einsum-words",
            format!("let e = einsum(\"{words} -> a\", x)"),
            "tsr::einsum-spec",
        ),
        (
            "einsum-distinct",
            format!("let e = einsum(\"{distinct}-> a0\", x)"),
            "tsr::einsum-spec",
        ),
        (
            "einsum-dots",
            format!("let e = einsum(\"{}\", x)", ".".repeat(BIG)),
            "tsr::einsum-spec",
        ),
        (
            "einsum-commas",
            format!("let e = einsum(\"{}\", x)", ",".repeat(BIG)),
            "tsr::einsum-spec",
        ),
        (
            "einsum-arrows",
            format!("let e = einsum(\"{}\", x)", "->".repeat(BIG / 2)),
            "tsr::einsum-spec",
        ),
        (
            "einsum-operands",
            format!(
                "let e = einsum(\"{}i\", {}x)",
                "i,".repeat(BIG / 4),
                "x, ".repeat(BIG / 4)
            ),
            "tsr::einsum-spec",
        ),
        (
            "rearrange-words",
            format!("let r = rearrange(x, \"{words} -> a\")"),
            "tsr::rearrange",
        ),
        (
            "rearrange-distinct",
            format!("let r = rearrange(x, \"{distinct}-> a0\")"),
            "tsr::rearrange",
        ),
        (
            "rearrange-nested",
            format!(
                "let r = rearrange(x, \"{}b{} t d -> b t d\")",
                "(".repeat(BIG / 2),
                ")".repeat(BIG / 2)
            ),
            "tsr::rearrange",
        ),
        (
            "rearrange-unclosed",
            format!(
                "let r = rearrange(x, \"{}b t d -> b t d\")",
                "(".repeat(BIG)
            ),
            "tsr::rearrange",
        ),
        (
            "rearrange-group",
            format!("let r = rearrange(x, \"b t d -> b t ({distinct}d)\")"),
            "tsr::rearrange",
        ),
        (
            "rearrange-dots",
            format!(
                "let r = rearrange(x, \"{} -> b t d\")",
                "... ".repeat(BIG / 4)
            ),
            "tsr::rearrange",
        ),
        (
            "rearrange-units",
            format!(
                "let r = rearrange(x, \"b t d -> b t d {}\")",
                "() ".repeat(BIG / 3)
            ),
            "",
        ),
        (
            "reduce-words",
            format!("let r = reduce(x, \"{words} -> a\", \"sum\")"),
            "tsr::rearrange",
        ),
        (
            "repeat-nested",
            format!(
                "let r = repeat(x, \"b t d -> b t d {}n{}\", n=2)",
                "(".repeat(BIG / 2),
                ")".repeat(BIG / 2)
            ),
            "tsr::rearrange",
        ),
    ];
    for (name, body, code) in cases {
        let text = format!("{HEADER}{body}\n");
        let out = must_return(name, text, scaled(Duration::from_secs(3)));
        if !code.is_empty() {
            failures.expect(name, &out, &[code]);
        }
    }
    failures.assert_none();
}

#[test]
fn random_bytes() {
    let mut runner = TestRunner::new(fuzz_config(fuzz_cases(2000) / 12));
    let strategy = proptest::collection::vec(any::<u8>(), 0..4096);
    let result = runner.run(&strategy, |bytes| {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let shown = preview(&text);
        run_check("random-bytes", text, CheckOptions::default(), FUZZ_LIMIT)
            .map(drop)
            .map_err(|problem| TestCaseError::fail(format!("{problem}; input {shown}")))
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    // One big blob, deterministic.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let bytes: Vec<u8> = (0..4 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let out = must_return("random-blob", text, scaled(Duration::from_secs(5)));
    expect_code("random-blob", &out, &["tsr::parse", "tsr::limit"]);
    for special in [
        "\0", "\u{feff}", "\u{202e}", "\r", "\u{2028}", "\u{fffd}", "é", "𝔁",
    ] {
        let text = format!(
            "{HEADER}{special}let a{special} = x{special}\n{}",
            special.repeat(1000)
        );
        must_return("special-chars", text, deep_limit());
    }
}

// ------------------------------------------------------------- big files

/// Realistic, valid lines of a model script, about 85 bytes each with
/// their comments (`n` lines bind about `n` fresh names).
fn realistic_program(bytes: usize) -> String {
    let mut text = String::with_capacity(bytes + 200);
    text.push_str("# a long model script\ndim B = 4, T = 16, D = 64, H = 4, Dh = D / H\n");
    text.push_str("input x: [B, T, D]\ninput w: [D, D]\n");
    let mut i = 0usize;
    while text.len() < bytes {
        use std::fmt::Write as _;
        let _ = match i % 8 {
            0 => writeln!(
                text,
                "let a{i} = relu(x @ w + 1.0)                    # projection: [B, T, D]"
            ),
            1 => writeln!(
                text,
                "let b{i} = sum(x, D) * 0.5                      # pooled over features: [B, T]"
            ),
            2 => writeln!(
                text,
                "let c{i} = reshape(permute(x, [B, T, D]), [B, T * D])   # flattened tokens"
            ),
            3 => writeln!(
                text,
                "# attention scores for head {i}, scaled by sqrt(Dh) so the softmax stays soft"
            ),
            4 => writeln!(
                text,
                "let d{i} = softmax(x @ transpose(x, -1, -2) / sqrt(Dh), -1)   # [B, T, T]"
            ),
            5 => writeln!(
                text,
                "let e{i}: [B, T, D] = where(x > 0.0, x, 0.01 * x)   # leaky relu by hand"
            ),
            6 => writeln!(
                text,
                "fn f{i}(t: [*b, E]) -> [*b, E] {{ t * 2.0 }}   # generic over any batch run"
            ),
            _ => writeln!(
                text,
                "let g{i} = x[:, 1:3, :] - mean(x, T, keepdims=true)   # centred window: [B, 2, D]"
            ),
        };
        i += 1;
    }
    text
}

fn timed_clean_check(name: &str, bytes: usize, limit: Duration) -> Duration {
    let text = realistic_program(bytes);
    let out = must_return(name, text, limit);
    assert!(
        out.codes.is_empty(),
        "{name}: the realistic program has diagnostics {:?}",
        &out.codes[..out.codes.len().min(5)]
    );
    out.elapsed
}

#[test]
fn fifty_megabytes_of_realistic_lines() {
    // Release: about 1.5 s here; debug about 25 s.
    let elapsed = timed_clean_check("50mb", 50 << 20, scaled(Duration::from_secs(12)));
    eprintln!("50 MB checked in {elapsed:?}");
}

#[test]
fn check_time_is_not_quadratic() {
    let time = |bytes: usize| timed_clean_check("linear", bytes, scaled(Duration::from_secs(10)));
    // The smaller of two runs, to tame a shared machine.
    let small = time(1 << 20).min(time(1 << 20));
    let large = time(4 << 20);
    let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
    eprintln!("1 MB: {small:?}, 4 MB: {large:?}, ratio {ratio:.2}");
    assert!(
        ratio < 10.0,
        "4x the input took {ratio:.1}x the time ({small:?} -> {large:?}): superlinear"
    );
}
